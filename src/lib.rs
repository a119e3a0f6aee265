//! # policy-sim
//!
//! An offline IAM policy simulator for **OVHcloud IAM** and **OUTSCALE EIM**: may identity X do action Y on
//! resource Z — and why?
//!
//! The data flows one way, and the modules show it:
//!
//! 1. [`load`]: bytes → raw serde shapes that mirror the clouds' JSON (files, directories, globs); the
//!    OVHcloud objects of a dump are only located, and read one at a time by `validate`.
//! 2. [`validate`]: raw shapes → the checked [`model`], collecting every problem with its location.
//! 3. [`compile`]: the model → an immutable, shareable index ([`Engine`]).
//! 4. [`eval`]: [`Engine::decide`] (fast) and [`Engine::explain`] (with a trace), plus a plain
//!    [`eval::reference`] evaluator kept as the oracle.
//! 5. [`report`]: text and JSON renderings of a [`Response`].
//!
//! ```
//! use policy_sim::{Loaded, Role, Request};
//! let mut loaded = Loaded::new();
//! loaded.add_text("seed000.json", r#"{"name": "Demo-service-account",
//!   "identities": ["urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f"],
//!   "resources": [{"urn": "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"}],
//!   "permissions": {"allow": [{"action": "publicCloudProject:openstack:infrastructureSupervisor"}]}}"#.into(), Role::Policies);
//! let engine = policy_sim::build(loaded, None).unwrap();
//! let req = Request::new(Some("urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f"),
//!     "objectstore_all", Some("urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"));
//! let answer = engine.explain(&engine.prepare(&req).unwrap());
//! assert_eq!(answer.reason, policy_sim::Reason::ImplicitDeny); // `openstack container list`: HTTP 403
//! ```

pub mod audit;
pub mod batch;
pub mod cli;
pub mod compile;
pub mod error;
pub mod eval;
pub mod export;
pub mod lint;
pub mod load;
pub mod model;
pub mod openstack;
pub mod oslo;
pub mod parallel;
pub mod report;
pub mod scan;
pub mod serve;
pub mod source;
pub mod suggest;
pub mod validate;

use std::sync::Arc;

pub use compile::Engine;
pub use error::{Diagnostic, Error};
pub use eval::{Decision, Prepared, Reason, Response, Verdict};
pub use load::{Loaded, Role};
pub use model::matrix::Matrix;
pub use model::request::Request;

/// Validate and compile what was loaded, with the built-in role matrix unless one is given.
pub fn build(loaded: Loaded, matrix: Option<Matrix>) -> Result<Engine, Error> {
    let matrix = match matrix {
        Some(m) => m,
        None => validate::builtin_matrix()?,
    };
    let set = validate::validate(loaded, Arc::new(matrix))?;
    Ok(Engine::compile(set))
}
