//! An oslo.policy `Enforcer`: the registered defaults of a service, overridden by policy files, with the
//! deprecated rules OR-ed in while `enforce_new_defaults` is off, and the registered scope types checked
//! against the token's scope before the rule is evaluated.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::eval::{self, Raised, Rules, Trace};
use super::file::PolicyFile;
use super::parse::{self, Check};

/// A rule a service registers in code (oslo.policy's `RuleDefault` / `DocumentedRuleDefault`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RuleDefault {
    pub name: String,
    pub check_str: String,
    /// `project`, `domain`, `system`; empty: any scope.
    #[serde(default)]
    pub scope_types: Vec<String>,
    /// The API calls the rule guards.
    #[serde(default)]
    pub operations: Vec<Operation>,
    #[serde(default)]
    pub deprecated_rule: Option<DeprecatedRule>,
}

impl RuleDefault {
    /// A registered rule with no scope types, operations or deprecated rule.
    pub fn new(name: &str, check_str: &str) -> RuleDefault {
        RuleDefault {
            name: name.to_owned(),
            check_str: check_str.to_owned(),
            scope_types: Vec::new(),
            operations: Vec::new(),
            deprecated_rule: None,
        }
    }
}

/// One API call a rule guards.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

/// The rule a registered default replaces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct DeprecatedRule {
    pub name: String,
    pub check_str: String,
    #[serde(default)]
    pub deprecated_since: Option<String>,
}

/// Enforcer options (oslo.policy's `[oslo_policy]` section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `enforce_new_defaults` (default true since oslo.policy 4.0): when false, each default with a
    /// deprecated rule is OR-ed with it.
    pub enforce_new_defaults: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            enforce_new_defaults: true,
        }
    }
}

/// Where a rule in force comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// A registered default, as registered.
    Default,
    /// A registered default OR-ed with the rule it deprecates (`enforce_new_defaults` off).
    DefaultOrDeprecated { deprecated: String },
    /// A registered default replaced by the policy file's override of its deprecated name.
    DeprecatedOverride { deprecated: String, file: String },
    /// A policy file.
    File { file: String },
}

/// A rule in force: its tree and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub check: Check,
    pub origin: Origin,
}

/// The rules in force, ready to answer.
#[derive(Debug, Clone)]
pub struct Enforcer {
    rules: IndexMap<String, Effective>,
    registered: IndexMap<String, RuleDefault>,
    default_rule: String,
}

impl Rules for Enforcer {
    fn get(&self, name: &str) -> Option<&Check> {
        self.rules.get(name).map(|e| &e.check)
    }
    fn default_rule(&self) -> Option<&str> {
        Some(&self.default_rule)
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// One sentence: why.
    pub reason: String,
    /// The rule evaluated (after the `default` fallback), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The scope of the token (`project`, `domain`, `system`), as oslo.policy reads it.
    pub token_scope: &'static str,
    /// The scope types the registered rule accepts (empty: any).
    pub scope_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// The evaluated tree (absent when the scope check or a missing rule decided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

impl Enforcer {
    /// Register `defaults` (a later one replaces an earlier one of the same name), then apply `files` in
    /// order (a later file's rule replaces an earlier one), as `Enforcer.load_rules` does.
    pub fn new(defaults: Vec<RuleDefault>, files: &[PolicyFile], options: Options) -> Enforcer {
        let mut registered: IndexMap<String, RuleDefault> = IndexMap::new();
        for d in defaults {
            registered.insert(d.name.clone(), d);
        }
        let mut rules: IndexMap<String, Effective> = IndexMap::new();
        // name -> (check, file) of every rule the files set
        let mut file_rules: IndexMap<String, (Check, String)> = IndexMap::new();
        for f in files {
            for r in &f.rules {
                let origin = Origin::File {
                    file: f.name.clone(),
                };
                rules.insert(
                    r.name.clone(),
                    Effective {
                        check: r.parsed.check.clone(),
                        origin,
                    },
                );
                file_rules.insert(r.name.clone(), (r.parsed.check.clone(), f.name.clone()));
            }
        }
        for d in registered.values() {
            if rules.contains_key(&d.name) {
                continue;
            }
            let check = parse::parse(&d.check_str).check;
            let effective = match &d.deprecated_rule {
                None => Effective {
                    check,
                    origin: Origin::Default,
                },
                Some(dep) => handle_deprecated(d, dep, check, &file_rules, options),
            };
            rules.insert(d.name.clone(), effective);
        }
        Enforcer {
            rules,
            registered,
            default_rule: "default".to_owned(),
        }
    }

    /// The rules in force, by name.
    pub fn rules(&self) -> &IndexMap<String, Effective> {
        &self.rules
    }

    /// The registered defaults, by name.
    pub fn registered(&self) -> &IndexMap<String, RuleDefault> {
        &self.registered
    }

    /// `Enforcer.enforce(rule, target, creds)`: the answer, with the trace of the rule tree.
    pub fn enforce(
        &self,
        rule: &str,
        target: &Map<String, Value>,
        creds: &Map<String, Value>,
    ) -> Result<Decision, Raised> {
        let mut creds = creds.clone();
        if eval::truthy(creds.get("system_scope")) {
            let scope = creds.get("system_scope").cloned().unwrap_or(Value::Null);
            creds.insert("system".into(), scope);
        }
        let token_scope = token_scope(&creds);
        let mut decision = Decision {
            allowed: false,
            reason: String::new(),
            rule: None,
            token_scope,
            scope_types: Vec::new(),
            origin: None,
            trace: None,
        };
        if self.rules.is_empty() {
            decision.reason = "no rules are loaded: oslo.policy denies everything".into();
            return Ok(decision);
        }
        let (check, used) = match self.rules.get(rule) {
            Some(e) => (e, rule),
            None => match self.rules.get(&self.default_rule) {
                Some(e) => (e, self.default_rule.as_str()),
                None => {
                    decision.reason = format!(
                        "no rule `{rule}` and no `{}` rule to fall back on: denied",
                        self.default_rule
                    );
                    return Ok(decision);
                }
            },
        };
        decision.rule = Some(used.to_owned());
        decision.origin = Some(check.origin.clone());
        // The scope check uses the registered rule of the name asked, whatever overrides its check.
        if let Some(reg) = self.registered.get(rule) {
            decision.scope_types = reg.scope_types.clone();
            if !reg.scope_types.is_empty() && !reg.scope_types.iter().any(|s| s == token_scope) {
                decision.reason = format!(
                    "`{rule}` accepts {} scoped tokens; this token is {token_scope}-scoped: denied before the rule is evaluated",
                    reg.scope_types.join(" or ")
                );
                return Ok(decision);
            }
        }
        let trace = eval::evaluate(&check.check, self, target, &creds)?;
        decision.allowed = trace.value == Some(true);
        let fallback = if used == rule {
            String::new()
        } else {
            format!("no rule `{rule}`, so the `{used}` rule decides: ")
        };
        decision.reason = format!(
            "{fallback}`{used}` = `{}` is {}{}",
            check.check,
            if decision.allowed {
                "true: allowed"
            } else {
                "false: denied"
            },
            decisive_leaves(&trace, decision.allowed)
        );
        decision.trace = Some(trace);
        Ok(decision)
    }
}

/// The scope oslo.policy's `_enforce_scope` sees: `system` if set, else `domain` if `domain_id` is set,
/// else `project`.
pub fn token_scope(creds: &Map<String, Value>) -> &'static str {
    if eval::truthy(creds.get("system")) {
        "system"
    } else if eval::truthy(creds.get("domain_id")) {
        "domain"
    } else {
        "project"
    }
}

/// ` (role:reader true, project_id:... true)`: the leaves on the deciding path.
fn decisive_leaves(trace: &Trace, _allowed: bool) -> String {
    let mut out = Vec::new();
    collect(trace, &mut out);
    if out.is_empty() {
        return String::new();
    }
    out.truncate(6);
    format!(" (decided by {})", out.join(", "))
}

fn collect(t: &Trace, out: &mut Vec<String>) {
    if !t.decisive || t.value.is_none() {
        return;
    }
    if t.children.is_empty() {
        let v = if t.value == Some(true) {
            "true"
        } else {
            "false"
        };
        out.push(format!("`{}` {v}", t.check));
    } else {
        for c in &t.children {
            collect(c, out);
        }
    }
}

/// `Enforcer._handle_deprecated_rule`.
fn handle_deprecated(
    d: &RuleDefault,
    dep: &DeprecatedRule,
    check: Check,
    file_rules: &IndexMap<String, (Check, String)>,
    options: Options,
) -> Effective {
    let dep_check = parse::parse(&dep.check_str).check;
    if dep.name != d.name {
        if let Some((file_check, file)) = file_rules.get(&dep.name) {
            if *file_check != dep_check
                && file_check.to_string() != format!("rule:{}", d.name)
                && !file_rules.contains_key(&d.name)
            {
                return Effective {
                    check: file_check.clone(),
                    origin: Origin::DeprecatedOverride {
                        deprecated: dep.name.clone(),
                        file: file.clone(),
                    },
                };
            }
        }
    }
    if !options.enforce_new_defaults
        && dep.check_str != d.check_str
        && !file_rules.contains_key(&d.name)
    {
        return Effective {
            check: Check::Or(vec![check, dep_check]),
            origin: Origin::DefaultOrDeprecated {
                deprecated: dep.name.clone(),
            },
        };
    }
    Effective {
        check,
        origin: Origin::Default,
    }
}
