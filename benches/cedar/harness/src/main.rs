//! Decides a batch of Cedar requests in one process, the way an application embedding the `cedar-policy`
//! crate would: parse the policy set and the entity store once, then one `Authorizer::is_authorized` per
//! request, on `--threads` threads (default: every core, as `policy-sim check --requests` uses), answers
//! written in input order, one JSON line each: the decision and the determining policies (Cedar's
//! `reason`), plus the number of erroring policies when there are any.
//!
//! With `--slice`, the set is first split per principal of the entity store (the policies whose scope
//! names the principal or one of its ancestors, plus those with no principal constraint), and each request
//! is decided against its principal's slice only: the index an application would build, since Cedar's
//! authorizer evaluates every policy it is given. The decisions are the same (every policy left out has a
//! scope that cannot match the principal); the slicing is timed with the parse.
//!
//! `cedar-harness POLICIES.cedar ENTITIES.json REQUESTS.jsonl [--threads N] [--slice]`; each request line holds
//! `principal`, `action`, `resource` (entity UIDs as Cedar writes them) and `context` (a JSON object).
//! Phase times go to stderr.

use std::io::Write;
use std::str::FromStr;
use std::time::Instant;

use std::collections::HashMap;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, PrincipalConstraint, Request,
};

fn request(line: &str) -> Request {
    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON request line");
    let uid = |k: &str| {
        let s = v[k]
            .as_str()
            .unwrap_or_else(|| panic!("`{k}` is not a string"));
        EntityUid::from_str(s).unwrap_or_else(|e| panic!("`{k}` {s}: {e}"))
    };
    let context = Context::from_json_value(v["context"].clone(), None).expect("a context object");
    Request::new(
        uid("principal"),
        uid("action"),
        uid("resource"),
        context,
        None,
    )
    .expect("a valid request")
}

fn answer(
    auth: &Authorizer,
    slices: Option<&HashMap<EntityUid, PolicySet>>,
    policies: &PolicySet,
    entities: &Entities,
    line: &str,
    out: &mut Vec<u8>,
) {
    let req = request(line);
    let policies = match slices {
        Some(map) => req.principal().and_then(|p| map.get(p)).unwrap_or(policies),
        None => policies,
    };
    let r = auth.is_authorized(&req, policies, entities);
    let reasons: Vec<String> = r.diagnostics().reason().map(|p| p.to_string()).collect();
    let errors = r.diagnostics().errors().count();
    let decision = match r.decision() {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    };
    let mut v = serde_json::json!({"decision": decision, "reasons": reasons});
    if errors > 0 {
        v["errors"] = serde_json::Value::from(errors);
    }
    serde_json::to_writer(&mut *out, &v).expect("JSON");
    out.push(b'\n');
}

/// Per principal of the entity store, the policies that can apply to it.
fn slice(policies: &PolicySet, entities: &Entities) -> HashMap<EntityUid, PolicySet> {
    let mut by_scope: HashMap<EntityUid, Vec<&cedar_policy::Policy>> = HashMap::new();
    let mut unscoped = Vec::new();
    for p in policies.policies() {
        match p.principal_constraint() {
            PrincipalConstraint::In(e) | PrincipalConstraint::Eq(e) => {
                by_scope.entry(e).or_default().push(p)
            }
            _ => unscoped.push(p),
        }
    }
    let mut out = HashMap::new();
    for e in entities.iter() {
        let uid = e.uid();
        let mut set = PolicySet::new();
        let mut add = |ps: &[&cedar_policy::Policy]| {
            for p in ps {
                set.add((*p).clone()).expect("a policy added once");
            }
        };
        add(&unscoped);
        add(by_scope.get(&uid).map_or(&[][..], Vec::as_slice));
        for a in entities.ancestors(&uid).into_iter().flatten() {
            add(by_scope.get(a).map_or(&[][..], Vec::as_slice));
        }
        out.insert(uid, set);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: cedar-harness POLICIES.cedar ENTITIES.json REQUESTS.jsonl [--threads N] [--slice]");
        std::process::exit(2);
    }
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let t0 = Instant::now();
    let text = std::fs::read_to_string(&args[1]).expect("the policy file");
    let policies = PolicySet::from_str(&text).expect("a Cedar policy set");
    let t1 = Instant::now();
    let entities = Entities::from_json_str(
        &std::fs::read_to_string(&args[2]).expect("the entity file"),
        None,
    )
    .expect("a Cedar entity store");
    let slices = args
        .iter()
        .any(|a| a == "--slice")
        .then(|| slice(&policies, &entities));
    let t2 = Instant::now();
    let requests = std::fs::read_to_string(&args[3]).expect("the request file");
    let lines: Vec<&str> = requests.lines().filter(|l| !l.trim().is_empty()).collect();
    let auth = Authorizer::new();
    let chunk = lines.len().div_ceil(threads.max(1)).max(1);
    let outputs: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                let (auth, policies, entities) = (&auth, &policies, &entities);
                let slices = slices.as_ref();
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * 64);
                    for line in part {
                        answer(auth, slices, policies, entities, line, &mut out);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread"))
            .collect()
    });
    let t3 = Instant::now();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for o in &outputs {
        stdout.write_all(o).expect("stdout");
    }
    stdout.flush().expect("stdout");
    eprintln!(
        "cedar-harness: {} policies parsed in {:.3} s, {} entities read{} in {:.3} s, {} requests decided in {:.3} s on {threads} thread(s) ({:.1} µs each per thread)",
        policies.policies().count(),
        (t1 - t0).as_secs_f64(),
        entities.iter().count(),
        if slices.is_some() { " and the set sliced per principal" } else { "" },
        (t2 - t1).as_secs_f64(),
        lines.len(),
        (t3 - t2).as_secs_f64(),
        (t3 - t2).as_secs_f64() * 1e6 * threads as f64 / lines.len().max(1) as f64,
    );
}
