//! The default rules policy-sim ships for nova, glance, cinder, neutron and keystone, as each service
//! registers them (generated into `policies/openstack-policy-defaults.json` by `policies/gen/oslo_defaults.py`
//! from the services' own packages).

use indexmap::IndexMap;
use serde::Deserialize;

use super::enforcer::RuleDefault;

const JSON: &str = include_str!("../../policies/openstack-policy-defaults.json");

/// The services whose defaults are shipped.
pub const SERVICES: &[&str] = &["nova", "glance", "cinder", "neutron", "keystone"];

#[derive(Debug, Clone, Deserialize)]
struct Shipped {
    #[serde(rename = "oslo.policy")]
    oslo_policy: String,
    services: IndexMap<String, Service>,
}

/// One service's registered defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    /// The version of the service's package the defaults come from.
    pub package_version: String,
    pub rules: Vec<RuleDefault>,
}

fn shipped() -> Result<Shipped, String> {
    serde_json::from_str(JSON)
        .map_err(|e| format!("the shipped oslo.policy defaults are corrupt: {e}"))
}

/// A shipped service's defaults, by name (`nova`, ...); `Ok(None)` for a name that is not shipped.
pub fn service(name: &str) -> Result<Option<Service>, String> {
    Ok(shipped()?.services.get(name).cloned())
}

/// The oslo.policy version the shipped defaults were extracted with.
pub fn oslo_policy_version() -> Result<String, String> {
    Ok(shipped()?.oslo_policy.clone())
}

/// Every shipped rule name, with its service, for "did you mean" suggestions.
pub fn all_names() -> Result<Vec<(String, String)>, String> {
    Ok(shipped()?
        .services
        .iter()
        .flat_map(|(s, svc)| svc.rules.iter().map(move |r| (s.clone(), r.name.clone())))
        .collect())
}
