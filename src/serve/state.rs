//! What the service answers from: one loaded set, swapped whole, and the adapter through which every
//! answer is made.

use arc_swap::ArcSwapOption;
use serde_json::{Map, Value};

use super::metrics::Metrics;
use super::Inputs;
use crate::error::Error;
use crate::model::request::Request;
use crate::oslo::Services;
use crate::{Engine, Verdict};

/// What a loaded set decides with.
pub enum Decider {
    /// OVHcloud IAM and OUTSCALE EIM (`--policies`, `--account`, `--terraform-plan`).
    Iam(Box<Engine>),
    /// oslo.policy (`--openstack-policy`).
    Oslo(Services),
}

/// Which kind of requests a set answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Iam,
    Oslo,
}

/// One input file of a set, as `GET /v1/policies` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceFile {
    pub path: String,
    pub bytes: usize,
}

/// A loaded, compiled set and what `GET /v1/policies` says of it. Immutable once built.
pub struct PolicySet {
    pub decider: Decider,
    /// What the reading of Terraform plans assumes: in every full answer's notes, as `check` puts them.
    pub plan_notes: Vec<String>,
    pub sources: Vec<SourceFile>,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
    /// `sha256:` of the files' names and contents, in load order.
    pub hash: String,
    /// The set's number, 1 for the first one loaded.
    pub generation: u64,
}

impl PolicySet {
    pub fn kind(&self) -> Kind {
        match self.decider {
            Decider::Iam(_) => Kind::Iam,
            Decider::Oslo(_) => Kind::Oslo,
        }
    }

    /// `GET /v1/policies`.
    pub fn describe(&self) -> Value {
        serde_json::json!({
            "kind": match self.kind() { Kind::Iam => "iam", Kind::Oslo => "oslo.policy" },
            "generation": self.generation,
            "loaded_at": self.loaded_at,
            "hash": self.hash,
            "sources": self.sources,
        })
    }
}

/// Everything the handlers share.
pub struct State {
    /// The set in force; `None` until the first one is loaded.
    pub current: ArcSwapOption<PolicySet>,
    pub inputs: Inputs,
    pub metrics: Metrics,
    /// One reload at a time.
    pub reloading: tokio::sync::Mutex<Last>,
}

/// What the last load saw, for the poller and the next set's number.
#[derive(Debug, Default)]
pub struct Last {
    /// The inputs' fingerprint when last loaded, or tried: a failed set is not tried again until its
    /// files change.
    pub fingerprint: Option<u64>,
    /// The number of the last set loaded.
    pub generation: u64,
}

impl State {
    pub fn new(inputs: Inputs) -> Self {
        State {
            current: ArcSwapOption::empty(),
            inputs,
            metrics: Metrics::default(),
            reloading: tokio::sync::Mutex::new(Last::default()),
        }
    }
}

/// One oslo.policy request: the caller's credentials (the body of Keystone's `GET /v3/auth/tokens`), the
/// rule, and the target (default: the token's own `user_id` and `project_id`, as oslopolicy-checker does).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsloRequest {
    pub credentials: Value,
    pub rule: String,
    #[serde(default)]
    pub target: Option<Map<String, Value>>,
}

/// An answer: the JSON text `check --format json` prints (with its line end), and whether it allows.
pub struct Answer {
    pub text: String,
    pub allowed: bool,
}

/// How much of the trace an IAM answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    /// `check --format json --trace brief`.
    Brief,
    /// `check --format json`.
    Full,
}

/// The one place the service calls the IAM engine: the answer `check --format json` prints for `req`,
/// through the CLI's own answer code ([`crate::cli::check::answer`] and friends), so that both stay one.
pub fn engine_answer(
    engine: &Engine,
    req: &Request,
    trace: Trace,
    plan_notes: &[String],
) -> Result<Answer, Error> {
    use crate::cli::check;
    let (text, verdict) = match trace {
        Trace::Brief => check::brief_json(engine, req)?,
        Trace::Full => {
            let (resp, _warnings) = check::answer(engine, req, plan_notes.to_vec())?;
            (check::full_json(&resp), resp.decision)
        }
    };
    Ok(Answer {
        text: text + "\n",
        allowed: verdict == Verdict::Allow,
    })
}

/// The answer `check --openstack-policy ... --credentials TOKEN --action RULE --format json` prints.
pub fn oslo_answer(services: &Services, req: &OsloRequest) -> Result<Answer, String> {
    let Some(enforcer) = services.for_rule(&req.rule) else {
        return Err(format!(
            "`{}` is a rule of none of the loaded sets ({}): load the service that asks for it",
            req.rule,
            services.names().join(", ")
        ));
    };
    let creds = crate::oslo::creds::from_token(&req.credentials)
        .map_err(|e| format!("credentials: {e}"))?;
    let target = match &req.target {
        Some(t) => t.clone(),
        None => crate::oslo::creds::default_target(&creds),
    };
    let decision = enforcer.enforce(&req.rule, &target, &creds).map_err(|e| {
        format!(
            "cannot decide `{}`: {e}; the service would fail the request (HTTP 500)",
            req.rule
        )
    })?;
    let text = serde_json::to_string_pretty(&crate::report::oslo::json(&req.rule, &decision))
        .unwrap_or_default();
    Ok(Answer {
        text: text + "\n",
        allowed: decision.allowed,
    })
}
