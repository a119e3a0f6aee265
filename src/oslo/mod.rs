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

/// Build an enforcer from `--openstack-policy` arguments: each is a policy file, or the name of a shipped
/// service (`nova`, `glance`, `cinder`, `neutron`, `keystone`) whose defaults are registered. Files override
/// the registered defaults; among files, and among services, a later one replaces an earlier rule.
pub fn load(specs: &[String], options: Options) -> Result<Enforcer, Error> {
    let mut registered = Vec::new();
    let mut files = Vec::new();
    for spec in specs {
        let path = std::path::Path::new(spec);
        if spec != crate::load::STDIN && !path.exists() {
            if let Some(service) = defaults::service(spec).map_err(Error::Usage)? {
                registered.extend(service.rules);
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
    Ok(Enforcer::new(registered, &files, options))
}
