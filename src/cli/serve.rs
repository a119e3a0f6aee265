//! `policy-sim serve`: the arguments, then `crate::serve`.

use std::io::Write;

use clap::Args;

use super::{Exit, Failure};
use crate::serve::{Inputs, Listen, Options};

#[derive(Debug, Args)]
#[command(after_help = "Routes:\n  \
POST /v1/check          one request, as a `check --requests` line: {\"identity\", \"action\", \"resource\", \"context\"?, \"at\"?}\n                          (with --openstack-policy: {\"credentials\", \"rule\", \"target\"?}); the answer is what\n                          `check --format json --trace brief` prints; `?trace=full` for `check --format json`\n  \
POST /v1/check/batch    a JSON array of requests; a JSON array of answers, in order, a bad request getting {\"index\", \"error\"}\n  \
POST /v1/reload         load the inputs again now (also on SIGHUP, and when --reload-interval polling sees a change)\n  \
GET  /v1/policies       what is loaded: files, sizes, load time, content hash\n  \
GET  /health            200 once a policy set is loaded, 503 before\n  \
GET  /metrics           Prometheus text format: decisions, latency histogram, reloads, reload failures\n\n\
A new set is loaded aside and swapped in whole; one that fails to load is logged and counted, and the old one \
goes on serving. SIGTERM or SIGINT: stop accepting, finish open requests, exit 0.\n\n\
No authentication: it listens on loopback by default; see SECURITY.md before listening elsewhere.\n\n\
Example:\n  \
policy-sim serve --policies policies/examples/ovh &\n  \
curl -s localhost:8181/v1/check -d '{\"identity\": \"urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f\", \"action\": \"objectstore_all\", \"resource\": \"urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\"}'\n\n\
Exit status: 0 after a clean shutdown, 2 if it cannot listen or the first policy set does not load.")]
pub struct ServeArgs {
    /// Policy files, directories (walked for *.json) or globs, as `check --policies` reads them.
    #[arg(long, short = 'p', value_name = "PATH", num_args = 1.., required_unless_present_any = ["account", "openstack_policy", "terraform_plan"])]
    pub policies: Vec<String>,
    /// An account file, as `check --account` reads it.
    #[arg(long, value_name = "FILE")]
    pub account: Vec<String>,
    /// A Terraform/OpenTofu plan (`terraform show -json`), as `check --terraform-plan` reads it.
    #[arg(long, value_name = "PLAN.json")]
    pub terraform_plan: Vec<String>,
    /// A role-matrix file instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<String>,
    /// Evaluation time (RFC 3339) of requests that give no `at`; default: the time of each request.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Largest policy file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Serve oslo.policy decisions instead: policy files (YAML or JSON) or shipped services' defaults (nova, glance, cinder, neutron, keystone), as `check --openstack-policy` reads them; requests are {"credentials": <Keystone token body>, "rule", "target"?}.
    #[arg(long, value_name = "FILE|SERVICE", num_args = 1.., conflicts_with_all = ["policies", "account", "terraform_plan"])]
    pub openstack_policy: Vec<String>,
    /// With --openstack-policy: OR each default with the rule it deprecates (`enforce_new_defaults = False`).
    #[arg(long, requires = "openstack_policy")]
    pub no_enforce_new_defaults: bool,
    /// Where to listen: ADDRESS:PORT, or `unix:/path/to.sock` for a Unix socket. Port 0 picks a free port (the address is printed on stderr).
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8181")]
    pub listen: Listen,
    /// How often the input files are checked for a change (size, modification time), reloading when one is seen: `5s`, `500ms`, `1m`; `off` for never.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = every)]
    pub reload_interval: Every,
    /// Largest request body, in bytes; a longer one is answered 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: usize,
    /// Most requests in one batch; a longer one is answered 413.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_batch: usize,
    /// Longest a request may take, its body read and its answer made (408 or 503 past it): `10s`, `500ms`.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: std::time::Duration,
    /// Most connections open at once; the next ones wait until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
}

/// A polling interval, or none (`off`).
#[derive(Debug, Clone, Copy)]
pub struct Every(Option<std::time::Duration>);

fn every(s: &str) -> Result<Every, String> {
    crate::serve::parse_interval(s).map(Every)
}

fn timeout(s: &str) -> Result<std::time::Duration, String> {
    crate::serve::parse_interval(s)?.ok_or_else(|| format!("--timeout `{s}` must be longer than 0"))
}

pub fn run(args: &ServeArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let inputs = Inputs {
        policies: args.policies.clone(),
        accounts: args.account.clone(),
        terraform_plans: args.terraform_plan.clone(),
        matrix: args.matrix.clone(),
        max_file_size: args.max_file_size,
        at: args.at.clone(),
        openstack_policy: args.openstack_policy.clone(),
        no_enforce_new_defaults: args.no_enforce_new_defaults,
    };
    let options = Options {
        listen: args.listen.clone(),
        reload_interval: args.reload_interval.0,
        max_body: args.max_body,
        max_batch: args.max_batch,
        timeout: args.timeout,
        max_connections: args.max_connections,
    };
    out.flush()?;
    crate::serve::run(inputs, options)?;
    Ok(Exit::Ok)
}
