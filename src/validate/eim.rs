//! OUTSCALE EIM raw documents and account files → documents, users, groups, managed policies.

use serde_json::Value;

use super::problem;
use crate::error::Problem;
use crate::load::raw::kind_of;
use crate::load::{raw, Loaded};
use crate::model::eim::{Account, Clause, Document, Effect, Group, ManagedPolicy, Statement, User};
use crate::model::pattern::{Pattern, Syntax};
use crate::model::{Reading, Spec};
use crate::source::Loc;

pub struct Eim {
    pub documents: Vec<Document>,
    pub account: Account,
    pub unlinked: Vec<usize>,
    /// Managed policies defined in an account file, valid or not: a link to one that failed validation
    /// is not reported again as a link to nothing.
    defined: std::collections::HashSet<String>,
}

impl Eim {
    pub fn validate(
        loaded: &mut Loaded,
        docs: Vec<(raw::EimDocument, Loc, String)>,
        accounts: Vec<(raw::EimAccount, Loc)>,
        problems: &mut Vec<Problem>,
    ) -> Eim {
        let mut out = Eim {
            documents: Vec::new(),
            account: Account::default(),
            unlinked: Vec::new(),
            defined: std::collections::HashSet::new(),
        };
        for (doc, loc, name) in docs {
            if let Some(d) = document(doc, loc, &name, problems) {
                out.unlinked.push(out.documents.len());
                out.documents.push(d);
            }
        }
        for (account, loc) in accounts {
            out.account_file(loaded, account, &loc, problems);
        }
        out
    }

    fn push(&mut self, d: Document) -> usize {
        self.documents.push(d);
        self.documents.len() - 1
    }

    /// A document given inline in an account file (string or object).
    fn embedded(
        &mut self,
        loaded: &mut Loaded,
        value: Value,
        at: Loc,
        name: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<usize> {
        let (doc, loc) = loaded.embedded_document(value, at)?;
        document(doc, loc, name, problems).map(|d| self.push(d))
    }

    fn account_file(
        &mut self,
        loaded: &mut Loaded,
        raw: raw::EimAccount,
        loc: &Loc,
        problems: &mut Vec<Problem>,
    ) {
        if let Some(id) = &raw.account_id {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(problem(
                    &loc.key("AccountId"),
                    format!("`AccountId` is `{id}`; an OUTSCALE account id has 12 digits"),
                ));
            }
            match &self.account.account_id {
                Some(prev) if **prev != **id => problems.push(problem(
                    &loc.key("AccountId"),
                    format!("account files for two accounts (`{prev}` and `{id}`)"),
                )),
                _ => self.account.account_id = Some(id.as_str().into()),
            }
        }
        // Managed policies.
        for (i, p) in raw.policies.into_iter().flatten().enumerate() {
            let at = loc.key("Policies").index(i);
            if self.account.policies.contains_key(p.name.as_str()) {
                problems.push(problem(
                    &at.key("PolicyName"),
                    format!("managed policy `{}` is defined twice", p.name),
                ));
                continue;
            }
            self.defined.insert(p.name.clone());
            if let Some(m) = self.managed(loaded, p, &at, problems) {
                self.account.policies.insert(m.name.clone(), m);
            }
        }
        // Groups, then users (a group's `Users` may create users).
        for (i, g) in raw.user_groups.into_iter().flatten().enumerate() {
            let at = loc.key("UserGroups").index(i);
            if self.account.groups.contains_key(g.name.as_str()) {
                problems.push(problem(
                    &at.key("UserGroupName"),
                    format!("group `{}` is defined twice", g.name),
                ));
                continue;
            }
            let linked = links(
                g.linked_policies.as_deref().unwrap_or_default(),
                &at.key("LinkedPolicies"),
                problems,
            );
            let inline = self.inlines(
                loaded,
                g.inline_policies.unwrap_or_default(),
                &at.key("InlinePolicies"),
                problems,
            );
            for (j, member) in g.users.iter().flatten().enumerate() {
                let mat = at.key("Users").index(j);
                let name = match member {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => {
                        o.get("UserName").and_then(Value::as_str).map(str::to_owned)
                    }
                    _ => None,
                };
                match name {
                    Some(n) => {
                        let user =
                            self.account
                                .users
                                .entry(n.as_str().into())
                                .or_insert_with(|| User {
                                    name: n.as_str().into(),
                                    loc: mat,
                                    groups: Vec::new(),
                                    linked: Vec::new(),
                                    inline: Vec::new(),
                                });
                        if !user.groups.iter().any(|x| **x == *g.name) {
                            user.groups.push(g.name.as_str().into());
                        }
                    }
                    None => problems.push(problem(
                        &mat,
                        "expected a user name or an object with `UserName`",
                    )),
                }
            }
            self.account.groups.insert(
                g.name.as_str().into(),
                Group {
                    name: g.name.as_str().into(),
                    loc: at,
                    linked,
                    inline,
                },
            );
        }
        for (i, u) in raw.users.into_iter().flatten().enumerate() {
            let at = loc.key("Users").index(i);
            let linked = links(
                u.linked_policies.as_deref().unwrap_or_default(),
                &at.key("LinkedPolicies"),
                problems,
            );
            let inline = self.inlines(
                loaded,
                u.inline_policies.unwrap_or_default(),
                &at.key("InlinePolicies"),
                problems,
            );
            let user = self
                .account
                .users
                .entry(u.user_name.as_str().into())
                .or_insert_with(|| User {
                    name: u.user_name.as_str().into(),
                    loc: at,
                    groups: Vec::new(),
                    linked: Vec::new(),
                    inline: Vec::new(),
                });
            if !user.linked.is_empty() || !user.inline.is_empty() {
                problems.push(problem(
                    &at.key("UserName"),
                    format!("user `{}` is defined twice", u.user_name),
                ));
                continue;
            }
            user.loc = at;
            user.linked = linked;
            user.inline = inline;
            for (j, g) in u.user_groups.iter().flatten().enumerate() {
                if !user.groups.iter().any(|x| **x == **g) {
                    user.groups.push(g.as_str().into());
                }
                if !self.account.groups.contains_key(g.as_str()) {
                    problems.push(problem(&at.key("UserGroups").index(j), format!("user `{}` is in group `{g}`, which the account file does not define", u.user_name)).help("add the group under `UserGroups` with its policies (an empty `{\"UserGroupName\": ...}` if it has none)"));
                }
            }
        }
        // Every link must name a managed policy the file defines.
        let defined = &self.defined;
        let check = |linked: &[(Box<str>, Loc)],
                     policies: &indexmap::IndexMap<Box<str>, ManagedPolicy>,
                     problems: &mut Vec<Problem>| {
            for (name, at) in linked {
                // A policy defined with errors was reported where it is wrong.
                if !policies.contains_key(name) && !defined.contains(&**name) {
                    let known: Vec<&str> = policies.keys().map(|k| &**k).collect();
                    let mut p = problem(
                        at,
                        format!("linked policy `{name}` is not defined under `Policies`"),
                    );
                    p.help = Some(match crate::load::closest(name, &known) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => String::from("add it under `Policies` with its document"),
                    });
                    problems.push(p);
                }
            }
        };
        for u in self.account.users.values() {
            check(&u.linked, &self.account.policies, problems);
        }
        for g in self.account.groups.values() {
            check(&g.linked, &self.account.policies, problems);
        }
    }

    fn inlines(
        &mut self,
        loaded: &mut Loaded,
        list: Vec<raw::EimInline>,
        at: &Loc,
        problems: &mut Vec<Problem>,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, p) in list.into_iter().enumerate() {
            let key = at.index(i).key("PolicyDocument");
            if let Some(d) = self.embedded(loaded, p.document, key, &p.name, problems) {
                out.push(d);
            }
        }
        out
    }

    fn managed(
        &mut self,
        loaded: &mut Loaded,
        p: raw::EimManaged,
        at: &Loc,
        problems: &mut Vec<Problem>,
    ) -> Option<ManagedPolicy> {
        let name = p.name.clone();
        let (document, version) = match (p.document, p.versions) {
            (Some(_), Some(_)) => {
                problems.push(problem(
                    at,
                    format!("managed policy `{name}` has both `Document` and `Versions`; give one"),
                ));
                return None;
            }
            (None, None) => {
                problems.push(problem(at, format!("managed policy `{name}` has no document")).help("add `Document` (its default version) or `Versions` as ReadPolicyVersion returns them"));
                return None;
            }
            (Some(doc), None) => {
                if let Some(v) = p.default_version_id.as_deref().filter(|v| *v != "v1") {
                    problems.push(problem(&at.key("PolicyDefaultVersionId"), format!("`PolicyDefaultVersionId` is `{v}` but only `Document` (version v1) is given")));
                    return None;
                }
                (
                    self.embedded(loaded, doc, at.key("Document"), &name, problems)?,
                    String::from("v1"),
                )
            }
            (None, Some(versions)) => {
                let flagged: Vec<&str> = versions
                    .iter()
                    .filter(|v| v.default_version == Some(true))
                    .map(|v| v.version_id.as_str())
                    .collect();
                let default = match (&p.default_version_id, flagged.as_slice()) {
                    (Some(id), []) => id.clone(),
                    (Some(id), [one]) if id == one => id.clone(),
                    (Some(id), _) => {
                        problems.push(problem(&at.key("PolicyDefaultVersionId"), format!("`PolicyDefaultVersionId` is `{id}` but the versions flagged `DefaultVersion` are {flagged:?}")));
                        return None;
                    }
                    (None, [one]) => (*one).to_owned(),
                    (None, []) => {
                        problems.push(problem(&at.key("Versions"), format!("managed policy `{name}`: no version is the default")).help("set `PolicyDefaultVersionId` or `\"DefaultVersion\": true` on one version"));
                        return None;
                    }
                    (None, _) => {
                        problems.push(problem(&at.key("Versions"), format!("managed policy `{name}`: several versions are flagged default: {flagged:?}")));
                        return None;
                    }
                };
                if versions.len() > 5 {
                    problems.push(problem(
                        &at.key("Versions"),
                        format!(
                            "managed policy `{name}` has {} versions; EIM keeps at most five",
                            versions.len()
                        ),
                    ));
                }
                let mut chosen = None;
                let mut default_given = false;
                for (i, v) in versions.into_iter().enumerate() {
                    let vat = at.key("Versions").index(i);
                    // Every version is checked; only the default one is evaluated.
                    let is_default = v.version_id == default;
                    default_given |= is_default;
                    if let Some(d) = self.embedded(loaded, v.body, vat.key("Body"), &name, problems)
                    {
                        if is_default {
                            chosen = Some(d);
                        }
                    }
                }
                match chosen {
                    Some(d) => (d, default),
                    None => {
                        // A default version whose document is bad was reported where it is bad.
                        if !default_given {
                            problems.push(problem(&at.key("PolicyDefaultVersionId"), format!("default version `{default}` of `{name}` is not among its `Versions`")));
                        }
                        return None;
                    }
                }
            }
        };
        Some(ManagedPolicy {
            name: name.as_str().into(),
            orn: p.orn.map(Into::into),
            default_version: version.into(),
            document,
            loc: *at,
        })
    }
}

/// `LinkedPolicies`: names, ORNs (`orn:ows:idauth::{account}:policy/{path}{name}`) or objects with
/// `PolicyName` / `Orn` / `PolicyOrn`, resolved to policy names.
fn links(list: &[Value], at: &Loc, problems: &mut Vec<Problem>) -> Vec<(Box<str>, Loc)> {
    const EXPECTED: &str =
        "expected a policy name, a policy ORN, or an object with `PolicyName` or `Orn`";
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let loc = at.index(i);
        // Every way the item names a policy; they must agree.
        let mut names: Vec<(String, &str, Loc)> = Vec::new();
        match v {
            Value::String(s) => names.push((s.clone(), "", loc)),
            Value::Object(o) => {
                for k in ["PolicyName", "Orn", "PolicyOrn"] {
                    match o.get(k) {
                        Some(Value::String(s)) => names.push((s.clone(), k, loc.key(k))),
                        Some(other) => problems.push(problem(
                            &loc.key(k),
                            format!("`{k}` is {}; expected a string", kind_of(other)),
                        )),
                        None => {}
                    }
                }
                if names.is_empty() {
                    problems.push(problem(
                        &loc,
                        format!("found an object without `PolicyName` or `Orn`; {EXPECTED}"),
                    ));
                    continue;
                }
            }
            other => {
                problems.push(problem(
                    &loc,
                    format!("found {}; {EXPECTED}", kind_of(other)),
                ));
                continue;
            }
        }
        let mut resolved: Vec<(String, &str)> = Vec::new();
        for (text, key, at) in &names {
            if text.starts_with("orn:") {
                match text.split_once(":policy/") {
                    Some((_, path)) if !path.is_empty() && !path.ends_with('/') => resolved.push((
                        path.rsplit('/').next().unwrap_or(path).to_owned(),
                        key,
                    )),
                    _ => problems.push(problem(at, format!("malformed policy ORN `{text}`; expected `orn:ows:idauth::{{account}}:policy/{{name}}`"))),
                }
            } else if text.is_empty() {
                problems.push(problem(at, format!("the policy name is empty; {EXPECTED}")));
            } else {
                resolved.push((text.clone(), key));
            }
        }
        match resolved.as_slice() {
            [] => {}
            [(first, first_key), rest @ ..] => {
                if let Some((other, key)) = rest.iter().find(|(n, _)| n != first) {
                    problems.push(problem(
                        &loc,
                        format!("`{first_key}` names policy `{first}` but `{key}` names `{other}`; expected one policy"),
                    ));
                } else if resolved.len() == names.len() {
                    out.push((first.as_str().into(), loc));
                }
            }
        }
    }
    out
}

/// A raw document → checked statements.
fn document(
    doc: raw::EimDocument,
    loc: Loc,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Document> {
    let start = problems.len();
    let mut statements = Vec::new();
    for (i, st) in doc.statement.0.into_iter().enumerate() {
        let at = loc.key("Statement").index(i);
        if let Some(s) = statement(st, i, at, problems) {
            statements.push(s);
        }
    }
    (problems.len() == start).then(|| Document {
        name: name.into(),
        loc,
        statements,
    })
}

fn statement(
    st: raw::EimStatement,
    index: usize,
    at: Loc,
    problems: &mut Vec<Problem>,
) -> Option<Statement> {
    let start = problems.len();
    let effect = match st.effect.as_deref() {
        Some("Allow") => Some(Effect::Allow),
        Some("Deny") => Some(Effect::Deny),
        Some(other) => {
            let help = if other.eq_ignore_ascii_case("allow") || other.eq_ignore_ascii_case("deny")
            {
                String::from("EIM policies are case sensitive: write `Allow` or `Deny`")
            } else {
                String::from("an EIM statement's `Effect` is `Allow` or `Deny`")
            };
            problems.push(
                problem(
                    &at.key("Effect"),
                    format!("unknown `Effect` `{other}`; expected `Allow` or `Deny`"),
                )
                .help(help),
            );
            None
        }
        None => {
            problems.push(problem(
                &at,
                "statement has no `Effect`; expected `Allow` or `Deny`",
            ));
            None
        }
    };
    let effect = effect.unwrap_or(Effect::Deny);
    let actions = clause(
        st.action,
        st.not_action,
        "Action",
        &at,
        effect,
        true,
        problems,
    );
    let resources = clause(
        st.resource,
        st.not_resource,
        "Resource",
        &at,
        effect,
        false,
        problems,
    );
    let condition = st.condition.map(|c| {
        let cat = at.key("Condition");
        condition_shape(&c, &cat, problems);
        cat
    });
    let (Some(actions), Some(resources)) = (actions, resources) else {
        return None;
    };
    (problems.len() == start).then(|| Statement {
        index,
        sid: st.sid.map(Into::into),
        effect,
        actions,
        resources,
        condition,
        loc: at,
    })
}

/// A `Condition` block is never evaluated (the domain notes §2.1), but it must be one: an object of condition
/// operators, each an object of condition keys (`{"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}`). A `null`
/// or a string is not read as "no condition": it is an error.
fn condition_shape(value: &Value, at: &Loc, problems: &mut Vec<Problem>) {
    const HELP: &str =
        "a condition looks like `{\"IpAddress\": {\"aws:SourceIp\": \"192.0.2.0/24\"}}`";
    match value {
        Value::Object(operators) => {
            for (op, keys) in operators {
                if !keys.is_object() {
                    problems.push(
                        problem(
                            &at.key(op),
                            format!(
                                "condition operator `{op}` is followed by {}; expected an object of condition keys",
                                kind_of(keys)
                            ),
                        )
                        .help(HELP),
                    );
                }
            }
        }
        other => problems.push(
            problem(
                at,
                format!(
                    "`Condition` is {}; expected an object of condition operators",
                    kind_of(other)
                ),
            )
            .help(HELP),
        ),
    }
}

/// `Action` / `NotAction` (or `Resource` / `NotResource`): exactly one, non-empty.
fn clause(
    plain: Option<raw::OneOrMany<String>>,
    not: Option<raw::OneOrMany<String>>,
    key: &str,
    at: &Loc,
    effect: Effect,
    is_action: bool,
    problems: &mut Vec<Problem>,
) -> Option<Clause> {
    let not_key = format!("Not{key}");
    let (list, negated, k) = match (plain, not) {
        (Some(_), Some(_)) => {
            problems.push(problem(
                at,
                format!("statement has both `{key}` and `{not_key}`; give one"),
            ));
            return None;
        }
        (None, None) => {
            problems.push(
                problem(at, format!("statement has no `{key}` (or `{not_key}`)")).help(
                    if is_action {
                        "add `\"Action\": [\"api:ReadVms\"]`"
                    } else {
                        "add `\"Resource\": [\"*\"]`: EIM has no resource-level permissions"
                    },
                ),
            );
            return None;
        }
        (Some(l), None) => (l.0, false, key.to_owned()),
        (None, Some(l)) => (l.0, true, not_key),
    };
    let loc = at.key(&k);
    if list.is_empty() {
        problems.push(problem(
            &loc,
            format!("`{k}` is empty; EIM rejects it (InvalidParameterValue)"),
        ));
        return None;
    }
    let mut patterns = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let ploc = loc.index(i);
        if is_action {
            if let Some(why) = action_shape(raw) {
                problems.push(problem(&ploc, format!("malformed action `{raw}`: {why}")).help("EIM actions are `service:Operation` (`api:ReadVms`, `ec2:DescribeInstances`) with `*` anywhere (`api:Read*`, `*:Describe*`, `*`)"));
                continue;
            }
        } else if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            problems.push(problem(
                &ploc,
                format!("malformed resource `{raw}`: empty or contains white space"),
            ));
            continue;
        }
        // Unknowns on the safe side: where a match restricts access (a Deny's `Action`, an Allow's
        // `NotAction`), `?` is a one-character wildcard and case is ignored; where a match grants (an
        // Allow's `Action`, a Deny's `NotAction`), `?` is literal and case matters.
        let broad = (effect == Effect::Deny) != negated;
        let syntax = Syntax {
            question: broad,
            fold_case: broad && is_action,
        };
        let reading = if raw.contains('?') {
            if broad {
                Reading::WildcardUnsupported
            } else {
                Reading::LiteralUnsupported
            }
        } else {
            Reading::Documented
        };
        patterns.push(Spec {
            pattern: std::sync::Arc::new(Pattern::wildcard(raw, syntax)),
            reading,
            literal_when_granting: false,
            loc: ploc,
        });
    }
    (patterns.len() == list.len()).then_some(Clause {
        negated,
        patterns,
        loc,
    })
}

fn action_shape(raw: &str) -> Option<String> {
    if raw.is_empty() {
        return Some(String::from("it is empty"));
    }
    if let Some(c) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "it contains white space or a control character ({c:?})"
        ));
    }
    if let Some(c) = raw.chars().find(|c| !c.is_ascii()) {
        return Some(format!(
            "it contains the non-ASCII character `{c}` (U+{:04X}); EIM actions are ASCII",
            c as u32
        ));
    }
    if raw.contains("**") {
        return Some(String::from(
            "it contains `**`; one `*` already matches any run of characters",
        ));
    }
    if raw.bytes().all(|b| b == b'*') {
        return None;
    }
    match raw.split_once(':') {
        None if raw.contains('*') => None,
        None => Some(String::from(
            "it has no `:` between the service and the operation",
        )),
        Some((service, op)) => {
            if service.is_empty() || op.is_empty() {
                Some(String::from("the service or the operation is empty"))
            } else if op.contains(':') {
                Some(String::from("it has more than one `:`"))
            } else {
                None
            }
        }
    }
}
