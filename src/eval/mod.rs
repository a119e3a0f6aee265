//! Evaluate: `decide(&Prepared) -> Decision` (fast, no trace) and `explain(&Prepared) -> Response` (with the
//! trace). Both run the *same* code (`ovh.rs`, `eim.rs`) with the trace recorder switched off or on, so
//! they cannot disagree; `reference.rs` is a separate, plain evaluator kept as the oracle for tests.
//! Evaluation never fails: a request that cannot be checked is refused earlier, by [`Engine::prepare`].

mod eim;
mod hints;
mod ovh;
pub mod reference;
pub mod response;

use std::sync::Arc;

use indexmap::IndexMap;

use crate::compile::Engine;
use crate::error::Error;
use crate::model::pattern::FxHashMap;
use crate::model::request::RequestRef;
use crate::model::urn::{IdentityUrn, ResourceUrn};
pub use hints::request_warnings;
pub use response::{
    Check, Decision, Echo, Entry, Kind, Outcome, Part, Reason, Response, RoleRow, Status, Verdict,
};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An OVHcloud identity (shared: a [`Scratch`] hands out the same one to every request naming it).
    Ovh(Arc<IdentityUrn>),
    /// An EIM user of the account file.
    EimUser(Box<str>),
    /// The OUTSCALE account's root user: never restricted.
    EimRoot,
    /// No identity: the EIM documents passed as policies, as the caller's own.
    Caller,
}

/// A checked request, ready to evaluate (any number of times). The default is an empty request of the
/// caller, only meant to be filled by [`Engine::prepare_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub principal: Principal,
    pub action: String,
    pub resource: Option<String>,
    pub context: IndexMap<String, String>,
    pub at: jiff::Timestamp,
}

impl Default for Prepared {
    fn default() -> Self {
        Prepared {
            principal: Principal::Caller,
            action: String::new(),
            resource: None,
            context: IndexMap::new(),
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }
}

impl Prepared {
    /// OVHcloud: the resource type from the URN (for `resource.Type` conditions).
    pub fn resource_type(&self) -> Option<&str> {
        match self.principal {
            Principal::Ovh(_) => self
                .resource
                .as_deref()
                .and_then(|r| ResourceUrn::type_of(r).ok()),
            _ => None,
        }
    }

    pub fn cloud(&self) -> &'static str {
        match self.principal {
            Principal::Ovh(_) => "ovhcloud",
            _ => "outscale",
        }
    }

    /// The identity as a response echoes it: the URN, the EIM user's name, `root`, or none for the caller.
    pub fn identity_echo(&self) -> Option<&str> {
        match &self.principal {
            Principal::Ovh(u) => Some(&*u.raw),
            Principal::EimUser(u) => Some(&**u),
            Principal::EimRoot => Some("root"),
            Principal::Caller => None,
        }
    }

    fn echo(&self) -> Echo {
        Echo {
            cloud: self.cloud(),
            identity: self.identity_echo().map(str::to_owned),
            action: self.action.clone(),
            resource: self.resource.clone(),
            context: self.context.clone(),
            at: self.at.to_string(),
        }
    }
}

/// What a caller keeps from one request to the next, so that a batch answering line after line neither
/// parses the same identity URN and time again nor allocates its trace buffers again: pass it to
/// [`Engine::prepare_with`] and [`Engine::explain_with`], and give each [`Explanation`] back with
/// [`Scratch::recycle`]. What parsing gave is remembered, errors included; the identities are forgotten
/// when they reach [`Scratch::MAX`]. (A resource URN is only checked, without building anything: that
/// costs less than looking it up.)
#[derive(Debug, Default)]
pub struct Scratch {
    identities: FxHashMap<Box<str>, Result<Arc<IdentityUrn>, String>>,
    /// The last `at` read, and its time.
    at: Option<(Box<str>, jiff::Timestamp)>,
    /// The trace's buffer, kept from one explanation to the next.
    entries: Vec<Entry>,
    visits: Visits,
}

impl Scratch {
    pub const MAX: usize = 1 << 16;

    fn identity(&mut self, raw: &str) -> Result<Arc<IdentityUrn>, String> {
        if let Some(known) = self.identities.get(raw) {
            return known.clone();
        }
        let parsed = IdentityUrn::parse(raw).map(Arc::new);
        if self.identities.len() >= Self::MAX {
            self.identities.clear();
        }
        self.identities.insert(raw.into(), parsed.clone());
        parsed
    }

    /// Keep an explanation's buffers for the next request (its entries are dropped).
    pub fn recycle(&mut self, explanation: Explanation) {
        let mut entries = explanation.trace;
        entries.clear();
        if entries.capacity() > self.entries.capacity() {
            self.entries = entries;
        }
    }
}

/// How much [`Engine::explain_with`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every policy or statement considered, with its checks, location and matrix row, and the notes.
    Full,
    /// OVHcloud: only the entries that can decide, without their checks (but the excepts), locations,
    /// matrix rows or notes: enough for [`crate::report::summary`], which names the decisive entries, and
    /// several times cheaper than `Full` on large sets. Its decision and decisive entries are `Full`'s; its
    /// trace is not meant to be printed. (EIM explains in full.)
    Brief,
}

/// What [`Engine::explain_with`] answers: a [`Response`] without the echo of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub decision: Decision,
    pub missing_context: Vec<String>,
    pub trace: Vec<Entry>,
    pub notes: Vec<String>,
}

impl Explanation {
    /// The full answer to `req`, the request explained.
    pub fn into_response(self, req: &Prepared) -> Response {
        Response {
            decision: self.decision.decision,
            reason: self.decision.reason,
            request: req.echo(),
            missing_context: self.missing_context,
            trace: self.trace,
            notes: self.notes,
        }
    }
}

/// Records the trace when explaining; does nothing when deciding.
pub(crate) struct Tracer {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
    /// Record only what a one-line summary needs ([`Detail::Brief`]).
    pub brief: bool,
    /// Brief: the buffers of the candidates' visiting order, kept from one action to the next.
    pub visits: Visits,
}

/// Buffers the brief evaluation of one action fills and empties again.
#[derive(Debug, Default)]
pub(crate) struct Visits {
    /// (policy, 0 = direct or 1 = through the group).
    pub order: Vec<(u32, u8)>,
    /// Policies naming a group of the account, when the user's group is unknown.
    pub maybe: Vec<u32>,
}

impl Tracer {
    fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

impl Engine {
    /// Check a request (a [`Request`], or a `--requests` line read in place as a [`RequestRef`]) against
    /// what is loaded: which cloud it is for, whether its identity and resource are well-formed and known.
    /// Errors are usage errors (exit 2).
    pub fn prepare<'r>(&self, req: impl Into<RequestRef<'r>>) -> Result<Prepared, Error> {
        let req = req.into();
        let mut out = Prepared::default();
        self.prepare_in(&req, None, &mut out)?;
        Ok(out)
    }

    /// [`Engine::prepare`] into `out`, whose strings and map keep their buffers from one request to the
    /// next, remembering in `scratch` the URNs and time parsed (`check --requests` answers line after
    /// line). On an error, `out` is left as it was.
    pub fn prepare_with(
        &self,
        req: &RequestRef<'_>,
        scratch: &mut Scratch,
        out: &mut Prepared,
    ) -> Result<(), Error> {
        self.prepare_in(req, Some(scratch), out)
    }

    fn prepare_in(
        &self,
        req: &RequestRef<'_>,
        scratch: Option<&mut Scratch>,
        out: &mut Prepared,
    ) -> Result<(), Error> {
        let (principal, at) = self.check_request(req, scratch)?;
        out.principal = principal;
        out.action.clear();
        out.action.push_str(req.action);
        match (req.resource, &mut out.resource) {
            (Some(r), Some(kept)) => {
                kept.clear();
                kept.push_str(r);
            }
            (r, kept) => *kept = r.map(str::to_owned),
        }
        out.context.clear();
        out.context.extend(
            req.context
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned())),
        );
        self.add_dumped_tags(req.resource, &mut out.context);
        out.at = at;
        Ok(())
    }

    /// The resource's tags from a `GET /v2/iam/resource` dump, as `resource.Tag(name)` context values
    /// (a value given on the command line wins).
    fn add_dumped_tags(&self, resource: Option<&str>, context: &mut IndexMap<String, String>) {
        if self.set.resources.is_empty() {
            return;
        }
        let Some(info) = resource.and_then(|r| self.set.resources.get(r)) else {
            return;
        };
        for (k, v) in &info.tags {
            context
                .entry(format!("resource.Tag({k})"))
                .or_insert_with(|| v.clone());
        }
    }

    /// Everything [`Engine::prepare`] checks: who asks, and when.
    fn check_request(
        &self,
        req: &RequestRef<'_>,
        mut cache: Option<&mut Scratch>,
    ) -> Result<(Principal, jiff::Timestamp), Error> {
        let bad = |m: String| Err(Error::Usage(m));
        // Printable ASCII without a space (nearly every action) is checked without decoding characters.
        let printable = req
            .action
            .bytes()
            .fold(true, |ok, b| ok & b.is_ascii_graphic());
        if req.action.is_empty()
            || (!printable
                && req
                    .action
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()))
        {
            return bad(format!(
                "the action `{}` is empty or contains white space",
                req.action
            ));
        }
        if req.action.contains('*') {
            return bad(format!("the action `{}` contains `*`; a request names one concrete action (use `policy-sim audit` for patterns)", req.action));
        }
        let at = match (req.at, cache.as_deref_mut()) {
            (
                Some(s),
                Some(Scratch {
                    at: Some((last, t)),
                    ..
                }),
            ) if **last == *s => *t,
            (Some(s), c) => {
                let t = s.parse::<jiff::Timestamp>().map_err(|_| {
                    Error::Usage(format!(
                        "`{s}` is not an RFC 3339 date-time; write it like `2026-06-01T12:00:00Z`"
                    ))
                })?;
                if let Some(c) = c {
                    c.at = Some((s.into(), t));
                }
                t
            }
            (None, _) => self.default_at,
        };
        for &(k, v) in &req.context {
            if k.starts_with("request.IP") && v.parse::<std::net::IpAddr>().is_err() {
                return bad(format!("context `{k}={v}`: `{v}` is not an IP address"));
            }
        }
        let set = &self.set;
        let principal = match req.identity {
            Some(id) if id.starts_with("urn:") => Principal::Ovh(
                match cache {
                    Some(c) => c.identity(id),
                    None => IdentityUrn::parse(id).map(Arc::new),
                }
                .map_err(Error::Usage)?,
            ),
            Some(id) if id.starts_with("orn:") => self.eim_identity_from_orn(id)?,
            Some(id) => {
                if set.eim_account.users.contains_key(id) {
                    Principal::EimUser(id.into())
                } else if id == "root" {
                    Principal::EimRoot
                } else {
                    let known: Vec<&str> = set.eim_account.users.keys().map(|k| &**k).collect();
                    let mut m = format!("unknown identity `{id}`: not an OVHcloud URN (`urn:v1:...`), an OUTSCALE ORN (`orn:ows:idauth::...`), nor a user of the account file");
                    if known.is_empty() {
                        m.push_str(" (no --account file defines users)");
                    } else if let Some(c) = crate::suggest::closest(id, &known) {
                        m.push_str(&format!("; did you mean `{c}`?"));
                    } else {
                        m.push_str(&format!("; the account file defines: {}", known.join(", ")));
                    }
                    return bad(m);
                }
            }
            None => {
                if !set.eim_unlinked.is_empty() {
                    Principal::Caller
                } else if !set.ovh_policies.is_empty() {
                    return bad(String::from("--identity is required for OVHcloud policies (a URN such as `urn:v1:eu:identity:user:xx1111-ovh/user1`)"));
                } else {
                    return bad(String::from("--identity is required: no bare EIM policy document was passed to evaluate as the caller's own"));
                }
            }
        };
        // A request for one cloud over policies of the other answers nothing useful: say so.
        let eim_loaded = !set.eim_documents.is_empty() || !set.eim_account.users.is_empty();
        match &principal {
            Principal::Ovh(id) if set.ovh_policies.is_empty() && eim_loaded => {
                return bad(format!("the request is for OVHcloud (identity `{id}`), but the loaded policies are OUTSCALE EIM ones: pass OVHcloud policies (`GET /v2/iam/policy`) or an OUTSCALE identity (a user name or `orn:ows:idauth::...`)"));
            }
            Principal::EimUser(_) | Principal::EimRoot | Principal::Caller
                if !eim_loaded && !set.ovh_policies.is_empty() =>
            {
                return bad(format!("the request is for OUTSCALE EIM (identity `{}`), but the loaded policies are OVHcloud ones: pass EIM policy documents or an account file, or an OVHcloud identity URN (`urn:v1:eu:identity:...`)", req.identity.unwrap_or("the caller")));
            }
            _ => {}
        }
        match (&principal, req.resource) {
            (Principal::Ovh(_), None) => return bad(String::from("--resource is required for OVHcloud policies (a URN such as `urn:v1:eu:resource:vps:vps-1.vps.ovh.net`)")),
            (Principal::Ovh(_), Some(r)) => {
                ResourceUrn::type_of(r).map_err(Error::Usage)?;
            }
            (_, _) => {
                if !req.action.contains(':') {
                    return bad(format!("the action `{}` is not `service:Operation` (EIM actions look like `api:ReadVms`)", req.action));
                }
            }
        }
        Ok((principal, at))
    }

    fn eim_identity_from_orn(&self, orn: &str) -> Result<Principal, Error> {
        let form = "expected `orn:ows:idauth::{account}:user/{name}` or `orn:ows:idauth::{account}:account`";
        let [Some("orn"), Some("ows"), Some("idauth" | "iam"), Some(""), Some(account), Some(rest)] =
            crate::model::urn::fields(orn)
        else {
            return Err(Error::Usage(format!("malformed ORN `{orn}`; {form}")));
        };
        if let Some(known) = &self.set.eim_account.account_id {
            if **known != *account {
                return Err(Error::Usage(format!(
                    "ORN `{orn}` is for account `{account}`, but the account file is for `{known}`"
                )));
            }
        }
        if rest == "account" || rest == "root" {
            return Ok(Principal::EimRoot);
        }
        let Some(path) = rest.strip_prefix("user/") else {
            return Err(Error::Usage(format!("ORN `{orn}` names no user; {form}")));
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        if self.set.eim_account.users.contains_key(name) {
            Ok(Principal::EimUser(name.into()))
        } else {
            Err(Error::Usage(format!(
                "unknown EIM user `{name}` (from `{orn}`): the account file does not define it"
            )))
        }
    }

    /// Decide, fast: no trace is built.
    pub fn decide(&self, req: &Prepared) -> Decision {
        match &req.principal {
            Principal::Ovh(id) => self.ovh_decide(req, id, None).0,
            _ => self.eim_decide(req, None),
        }
    }

    /// Decide and explain in full.
    pub fn explain(&self, req: &Prepared) -> Response {
        self.explain_with(req, Detail::Full, &mut Scratch::default())
            .into_response(req)
    }

    /// Decide and explain, in `detail`, with the buffers of `scratch` (see [`Scratch::recycle`]).
    pub fn explain_with(
        &self,
        req: &Prepared,
        detail: Detail,
        scratch: &mut Scratch,
    ) -> Explanation {
        let mut tracer = Tracer {
            entries: std::mem::take(&mut scratch.entries),
            notes: Vec::new(),
            brief: detail == Detail::Brief,
            visits: std::mem::take(&mut scratch.visits),
        };
        let (decision, missing_context) = match &req.principal {
            Principal::Ovh(id) => self.ovh_decide(req, id, Some(&mut tracer)),
            _ => {
                tracer.brief = false;
                (self.eim_decide(req, Some(&mut tracer)), Vec::new())
            }
        };
        scratch.visits = tracer.visits;
        Explanation {
            decision,
            missing_context,
            trace: tracer.entries,
            notes: tracer.notes,
        }
    }

    /// Where an entry's location is: file, line, pointer.
    pub(crate) fn locate(
        &self,
        loc: &crate::source::Loc,
    ) -> (Option<String>, Option<usize>, Option<String>) {
        let pos = self.set.sources.position(loc);
        let line = pos.inside.as_ref().and_then(|o| o.line).or(pos.line);
        (Some(pos.file), line, Some(loc.pointer()))
    }
}
