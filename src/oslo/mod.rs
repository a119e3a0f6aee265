//! oslo.policy, the authorization engine of OpenStack services (nova, glance, cinder, neutron, keystone and
//! any service built on it), evaluated exactly as the library does it (oslo.policy 6.0.1):
//!
//! - [`parse`]: the rule language — `role:`, `rule:`, `KIND:%(target_key)s`, literals (`'admin':%(x)s`,
//!   `True:%(x)s`), `@`, `!`, `and` / `or` / `not` (any case), parentheses — into the same tree oslo.policy
//!   builds, including its quirks: a rule it cannot parse becomes `!`, an empty rule is `@`.
//! - [`file`]: policy files (YAML or JSON), with the location of each rule.
//! - [`enforcer`]: registered defaults, overridden by files, deprecated rules OR-ed in while
//!   `enforce_new_defaults` is off, scope types checked against the token, the `default` rule for a name
//!   nothing defines.
//! - [`eval`]: the checks themselves, with a trace of every node.
//! - [`creds`]: a Keystone token body → the credentials; the default target.
//! - [`defaults`]: the shipped defaults of nova, glance, cinder, neutron and keystone.
//!
//! A service's own rules (the `myservice` of a Keystone-protected web service) are checked the same way:
//!
//! ```
//! use policy_sim::oslo::{creds, file, Enforcer, Options};
//! let policy = file::read("policy.yaml",
//!     r#""myservice:thing:list": "role:reader and project_id:%(project_id)s""#).unwrap();
//! let enforcer = Enforcer::new(Vec::new(), &[policy], Options::default());
//! let token = serde_json::json!({"token": {
//!     "user": {"id": "u1", "domain": {"id": "default"}},
//!     "project": {"id": "dafe2c2a6d6e4bfc9146ea975b2897e0", "domain": {"id": "default"}},
//!     "roles": [{"id": "r1", "name": "Reader"}]}});
//! let credentials = creds::from_token(&token).unwrap();
//! // Without a target, the target is the token's own user and project, as oslopolicy-checker does.
//! let target = creds::default_target(&credentials);
//! let answer = enforcer.enforce("myservice:thing:list", &target, &credentials).unwrap();
//! assert!(answer.allowed); // role names compare case-insensitively: `Reader` holds `role:reader`
//!
//! let mut other = target.clone();
//! other.insert("project_id".into(), "another-project".into());
//! assert!(!enforcer.enforce("myservice:thing:list", &other, &credentials).unwrap().allowed);
//! ```

pub mod creds;
pub mod defaults;
pub mod enforcer;
pub mod eval;
pub mod file;
pub mod lint;
pub mod parse;

pub use enforcer::{Decision, Enforcer, Options, RuleDefault};
pub use file::PolicyFile;
pub use parse::{parse, Check};

use crate::error::Error;

/// The rules of each loaded service, apart: a service holds only its own rules, and two services may
/// register one name differently (neutron's `owner` compares projects, keystone's users; glance's `default`
/// allows, neutron's does not), so one merged set would answer wrongly.
#[derive(Debug, Clone)]
pub struct Services {
    /// (service name, its enforcer), in the order given; policy files no shipped service owns form one more
    /// set, named after them.
    pub list: Vec<(String, Enforcer)>,
}

impl Services {
    /// The rules of a shipped service, if loaded.
    pub fn service(&self, name: &str) -> Option<&Enforcer> {
        self.list.iter().find(|(s, _)| s == name).map(|(_, e)| e)
    }

    /// The set that defines `rule` (registered or in a file); with one set loaded, that one (its `default`
    /// rule answers for names it lacks, as oslo.policy does).
    pub fn for_rule(&self, rule: &str) -> Option<&Enforcer> {
        match self.list.as_slice() {
            [(_, only)] => Some(only),
            list => list
                .iter()
                .find(|(_, e)| e.rules().contains_key(rule))
                .map(|(_, e)| e),
        }
    }

    /// The names of the loaded sets.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|(s, _)| s.as_str()).collect()
    }
}

/// Load `--openstack-policy` arguments: each is a policy file (YAML or JSON), or the name of a shipped service
/// (`nova`, `glance`, `cinder`, `neutron`, `keystone`) whose defaults are registered; each service apart: a policy file overrides the services that register one of its names (an
/// operator's `/etc/nova/policy.yaml` is nova's); the files no loaded service owns (a service of its own,
/// seed 004's `myservice`) form one more set.
pub fn load_services(specs: &[String], options: Options) -> Result<Services, Error> {
    let mut services: Vec<(String, Vec<RuleDefault>)> = Vec::new();
    let mut files = Vec::new();
    for spec in specs {
        let path = std::path::Path::new(spec);
        if spec != crate::load::STDIN && !path.exists() {
            if let Some(service) = defaults::service(spec).map_err(Error::Usage)? {
                services.retain(|(s, _)| s != spec);
                services.push((spec.clone(), service.rules));
                continue;
            }
            return Err(Error::Usage(format!(
                "--openstack-policy `{spec}` is neither a file nor a shipped service ({})",
                defaults::SERVICES.join(", ")
            )));
        }
        let text = crate::load::read_text(spec)
            .map_err(|e| Error::Usage(format!("cannot read the policy file `{spec}`: {e}")))?;
        let spec = crate::load::display_name(spec);
        let file = file::read(spec, &text).map_err(|e| match e.at {
            Some((l, c)) => Error::Usage(format!("{spec}:{l}:{c}: {}", e.message)),
            None => Error::Usage(format!("{spec}: {}", e.message)),
        })?;
        files.push(file);
    }
    let owns = |rules: &[RuleDefault], f: &PolicyFile| {
        f.rules
            .iter()
            .any(|r| rules.iter().any(|d| d.name == r.name))
    };
    let mut list = Vec::new();
    for (name, rules) in &services {
        let own: Vec<PolicyFile> = files.iter().filter(|f| owns(rules, f)).cloned().collect();
        list.push((name.clone(), Enforcer::new(rules.clone(), &own, options)));
    }
    let orphans: Vec<PolicyFile> = files
        .into_iter()
        .filter(|f| !services.iter().any(|(_, rules)| owns(rules, f)))
        .collect();
    if !orphans.is_empty() {
        let name = orphans
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        list.push((name, Enforcer::new(Vec::new(), &orphans, options)));
    }
    Ok(Services { list })
}
