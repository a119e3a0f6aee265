//! Loading a set aside and swapping it in whole.
//!
//! A set is loaded and compiled on a blocking thread with the loader `check` uses, while the set in force
//! keeps answering; only a set that loaded without error is swapped in, by one atomic pointer store. A
//! request holds the set it started with until it is answered, so none sees half a set and none is
//! dropped. Reloads run one at a time.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::state::{Decider, PolicySet, SourceFile, State};
use super::Inputs;
use crate::error::Error;

/// Load and compile a set from the inputs, as `check` does.
pub fn load(inputs: &Inputs, generation: u64) -> Result<PolicySet, Error> {
    let loaded_at = jiff::Timestamp::now().to_string();
    let mut hasher = Sha256::new();
    let mut sources = Vec::new();
    let mut add = |name: &str, text: &[u8]| {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text);
        sources.push(SourceFile {
            path: name.to_owned(),
            bytes: text.len(),
        });
    };
    let (decider, plan_notes) = if inputs.openstack_policy.is_empty() {
        let (engine, notes) = crate::cli::check::engine_with_plans(&inputs.sources())?;
        // The files as read (not read again): the hash is of what is being served.
        let map = &engine.set.sources;
        for source in (0..).map_while(|i| map.get(crate::source::SourceId(i))) {
            if source.parent.is_none() {
                add(&source.name, source.text.as_bytes());
            }
        }
        (Decider::Iam(Box::new(engine)), notes)
    } else {
        let options = crate::oslo::Options {
            enforce_new_defaults: !inputs.no_enforce_new_defaults,
        };
        let services = crate::oslo::load_services(&inputs.openstack_policy, options)?;
        for spec in &inputs.openstack_policy {
            match std::fs::read(spec) {
                Ok(bytes) => add(spec, &bytes),
                // A shipped service's defaults: named, with the version of policy-sim that ships them.
                Err(_) => add(
                    &format!(
                        "{spec} (defaults shipped with policy-sim {})",
                        env!("CARGO_PKG_VERSION")
                    ),
                    &[],
                ),
            }
        }
        (Decider::Oslo(services), Vec::new())
    };
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(PolicySet {
        decider,
        plan_notes,
        sources,
        loaded_at,
        hash: format!("sha256:{hash}"),
        generation,
    })
}

/// A cheap fingerprint of the inputs for polling: every file's path, size and modification time (a
/// directory walked for `*.json`, as the loader does; a glob expanded). A missing file counts too, so that
/// one coming back is seen.
pub fn fingerprint(inputs: &Inputs) -> u64 {
    let mut h = crate::model::pattern::FxHasher::default();
    let specs = inputs
        .policies
        .iter()
        .chain(&inputs.accounts)
        .chain(&inputs.terraform_plans)
        .chain(&inputs.matrix)
        .chain(&inputs.openstack_policy);
    for spec in specs {
        spec.hash(&mut h);
        let path = Path::new(spec);
        if !path.exists() && spec.contains(['*', '?', '[']) {
            if let Ok(paths) = glob::glob(spec) {
                for p in paths.flatten() {
                    stat(&p, &mut h, 0);
                }
            }
        } else {
            stat(path, &mut h, 0);
        }
    }
    h.finish()
}

/// Hash a file's path, size and modification time, or a directory's `*.json` files, depth-first in name
/// order.
fn stat(path: &Path, h: &mut impl Hasher, depth: usize) {
    path.hash(h);
    let Ok(meta) = std::fs::metadata(path) else {
        "missing".hash(h);
        return;
    };
    if meta.is_dir() {
        // Bounded, against a link loop.
        if depth > 32 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut children: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        children.sort();
        for c in children {
            if c.is_dir() || c.extension().is_some_and(|e| e == "json") {
                stat(&c, h, depth + 1);
            }
        }
        return;
    }
    meta.len().hash(h);
    if let Ok(t) = meta.modified() {
        t.hash(h);
    }
}

/// Why a reload was asked for, for the log.
#[derive(Debug, Clone, Copy)]
pub enum Why {
    Start,
    Signal,
    Request,
    Changed,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Why::Start => "start",
            Why::Signal => "SIGHUP",
            Why::Request => "POST /v1/reload",
            Why::Changed => "the inputs changed",
        }
    }
}

/// Load a new set aside and swap it in; on an error, log it, count it, and keep the set in force. With
/// `only_if_changed`, nothing is done when the inputs' fingerprint is the one last seen.
pub async fn reload(
    state: &Arc<State>,
    why: Why,
    only_if_changed: bool,
) -> Result<Arc<PolicySet>, String> {
    let mut last = state.reloading.lock().await;
    let blocking = Arc::clone(state);
    let fingerprint = tokio::task::spawn_blocking(move || fingerprint(&blocking.inputs))
        .await
        .map_err(|e| format!("internal error: {e}"))?;
    if only_if_changed && last.fingerprint == Some(fingerprint) {
        return state
            .current
            .load_full()
            .ok_or_else(|| String::from("no policy set is loaded yet"));
    }
    last.fingerprint = Some(fingerprint);
    let generation = last.generation + 1;
    let blocking = Arc::clone(state);
    let loaded = tokio::task::spawn_blocking(move || load(&blocking.inputs, generation))
        .await
        .map_err(|e| format!("internal error: the load stopped: {e}"))
        .and_then(|r| r.map_err(|e| e.to_string()));
    match loaded {
        Ok(set) => {
            let set = Arc::new(set);
            state.current.store(Some(Arc::clone(&set)));
            last.generation = generation;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            state.metrics.reloaded(now);
            eprintln!(
                "policy-sim serve: loaded policy set {generation} ({} files, {}) on {}",
                set.sources.len(),
                set.hash,
                why.as_str()
            );
            Ok(set)
        }
        // The first set: the caller stops the service with this error.
        Err(e) if matches!(why, Why::Start) => Err(e),
        Err(e) => {
            state.metrics.reload_failed();
            let serving = state
                .current
                .load()
                .as_ref()
                .map_or_else(|| String::from("none"), |s| s.generation.to_string());
            eprintln!(
                "policy-sim serve: reload on {} failed, policy set {serving} still serving:\n{e}",
                why.as_str()
            );
            Err(e)
        }
    }
}
