//! OUTSCALE EIM evaluation (the domain notes §2.2): the root user is never restricted; EIM users can never use
//! OOS, OKS or ICU; otherwise an explicit `Deny` in any of the user's policies wins, then any `Allow`,
//! else the default deny. Resources are not evaluated (no resource-level permissions); a `Condition`
//! cannot be evaluated, so it never makes an Allow apply and always lets a Deny apply.

use super::{Check, Decision, Entry, Kind, Outcome, Part, Prepared, Principal, Status, Tracer};
use crate::compile::Engine;
use crate::model::eim::{Effect, Statement, Via, NEVER_FOR_EIM_USERS};
use crate::model::{Reading, Side};

impl Engine {
    pub(super) fn eim_decide(&self, req: &Prepared, mut tr: Option<&mut Tracer>) -> Decision {
        let action = req.action.as_str();
        let builtin = |tr: Option<&mut Tracer>, outcome: Outcome, detail: String| {
            if let Some(t) = tr {
                t.entries.push(Entry {
                    decisive: true,
                    action: action.to_owned(),
                    checks: vec![Check::new(Part::Rule, Status::Pass, None, detail)],
                    ..Entry::new(Kind::Builtin, outcome)
                });
            }
        };
        let docs: &[(usize, Via)] = match &req.principal {
            Principal::EimRoot => {
                builtin(tr, Outcome::Allows, String::from("the account's root user has unrestricted permissions; EIM policies cannot restrict it (OSC-ABOUT)"));
                return Decision::EXPLICIT_ALLOW;
            }
            Principal::EimUser(name) => self.eim_user_docs.get(name).map_or(&[][..], Vec::as_slice),
            Principal::Caller => &self.eim_caller_docs,
            Principal::Ovh(_) => &[],
        };
        let service = action.split(':').next().unwrap_or("");
        if NEVER_FOR_EIM_USERS.contains(&service) {
            builtin(tr, Outcome::NoEffect, format!("EIM users can never use `{service}` (OOS, OKS and ICU are not covered by EIM), whatever their policies (OSC-GEN, OSC-ABOUT)"));
            return Decision::IMPLICIT_DENY;
        }
        let (mut allowed, mut denied) = (false, false);
        for (d, via) in docs {
            let Some(doc) = self.set.eim_documents.get(*d) else {
                continue;
            };
            for st in &doc.statements {
                let (allows, denies) =
                    self.eim_statement(req, st, &doc.name, via, tr.as_deref_mut());
                allowed |= allows;
                denied |= denies;
            }
        }
        let decision = if denied {
            Decision::EXPLICIT_DENY
        } else if allowed {
            Decision::EXPLICIT_ALLOW
        } else {
            Decision::IMPLICIT_DENY
        };
        if let Some(t) = tr {
            for e in &mut t.entries {
                e.decisive = (denied && e.outcome == Outcome::Denies)
                    || (!denied && allowed && e.outcome == Outcome::Allows);
            }
            if docs.is_empty() {
                t.note(String::from("no policy reaches this identity: no inline policy, no linked managed policy, and none through its groups"));
            }
            if req.resource.is_some() {
                t.note(String::from("EIM has no resource-level permissions: policies apply to all resources, so `--resource` does not change the answer (OSC-GEN)"));
            }
        }
        decision
    }

    /// What one statement does: (allows, denies).
    fn eim_statement(
        &self,
        req: &Prepared,
        st: &Statement,
        policy: &str,
        via: &Via,
        tr: Option<&mut Tracer>,
    ) -> (bool, bool) {
        let action = req.action.as_str();
        let on = tr.is_some();
        let mut checks = Vec::new();
        let hit = st
            .actions
            .patterns
            .iter()
            .find(|s| s.matches(action, Side::Grant));
        let action_matches = hit.is_some() != st.actions.negated;
        let (mut allows, mut denies) = (false, false);
        if on {
            let key = if st.actions.negated {
                "NotAction"
            } else {
                "Action"
            };
            let all: Vec<&str> = st.actions.patterns.iter().map(|s| s.raw()).collect();
            checks.push(match (hit, st.actions.negated) {
                (Some(s), false) => {
                    let c = Check::new(
                        Part::Action,
                        Status::Pass,
                        Some(s.raw()),
                        format!("`Action` `{}` matches `{action}`", s.raw()),
                    );
                    reading_note(c, s.reading)
                }
                (None, false) => Check::new(
                    Part::Action,
                    Status::Fail,
                    None,
                    format!(
                        "no `Action` pattern matches `{action}` ({})",
                        all.join(", ")
                    ),
                ),
                (Some(s), true) => Check::new(
                    Part::Action,
                    Status::Fail,
                    Some(s.raw()),
                    format!("`NotAction` `{}` excludes `{action}`", s.raw()),
                ),
                (None, true) => Check::new(
                    Part::Action,
                    Status::Pass,
                    None,
                    format!("`{key}` ({}) does not exclude `{action}`", all.join(", ")),
                ),
            });
        }
        if action_matches {
            let allow = st.effect == Effect::Allow;
            let mut applies = true;
            if st.resources.negated {
                // NotResource: unknown how EIM reads it; an Allow with it grants nothing, a Deny applies.
                applies = !allow;
                if on {
                    checks.push(
                        Check::new(Part::Resource, if allow { Status::Fail } else { Status::Unknown }, None, if allow { "`NotResource` in an Allow: not documented by EIM, read as granting nothing (the safe reading)" } else { "`NotResource` in a Deny: not documented by EIM, assumed to apply (the safe reading)" })
                            .inferred(),
                    );
                }
            } else if on {
                let pats: Vec<&str> = st.resources.patterns.iter().map(|s| s.raw()).collect();
                checks.push(Check::new(Part::Resource, Status::Skipped, Some(&pats.join(", ")), "not evaluated: EIM has no resource-level permissions, a policy applies to all resources (OSC-GEN)"));
            }
            if applies && st.condition.is_some() {
                applies = !allow;
                if on {
                    checks.push(
                        Check::new(Part::Condition, Status::Unknown, None, if allow { "EIM documents no `Condition`: it cannot be evaluated, so this Allow does not grant (the safe reading)" } else { "EIM documents no `Condition`: it cannot be evaluated, so this Deny is assumed to apply (the safe reading)" })
                            .inferred(),
                    );
                }
            }
            allows = applies && allow;
            denies = applies && !allow;
        }
        if let Some(t) = tr {
            let (file, line, pointer) = self.locate(&st.loc);
            let statement = Some(match &st.sid {
                Some(sid) => format!("#{} (Sid `{sid}`)", st.index),
                None => format!("#{}", st.index),
            });
            let outcome = if denies {
                Outcome::Denies
            } else if allows {
                Outcome::Allows
            } else {
                Outcome::NoEffect
            };
            let effect = if st.effect == Effect::Allow {
                "Allow"
            } else {
                "Deny"
            };
            checks.insert(
                0,
                Check::new(
                    Part::Rule,
                    Status::Pass,
                    Some(effect),
                    format!("`Effect`: `{effect}`"),
                ),
            );
            t.entries.push(Entry {
                policy: Some(policy.to_owned()),
                file,
                line,
                pointer,
                statement,
                via: Some(via.to_string()),
                action: action.to_owned(),
                checks,
                ..Entry::new(Kind::Statement, outcome)
            });
        }
        (allows, denies)
    }
}

fn reading_note(c: Check, reading: Reading) -> Check {
    match reading {
        Reading::Documented => c,
        Reading::LiteralUnsupported => Check {
            detail: format!(
                "{} (`?` is undocumented: read literally here, the safe reading)",
                c.detail
            ),
            ..c
        }
        .inferred(),
        Reading::WildcardUnsupported => Check {
            detail: format!(
                "{} (`?` is undocumented: read as a one-character wildcard here, the safe reading)",
                c.detail
            ),
            ..c
        }
        .inferred(),
    }
}
