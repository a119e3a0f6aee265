//! `policy-sim export`: pull an account's IAM state from the OVHcloud or OUTSCALE API into a snapshot
//! directory. The work is in `crate::export`; this maps the arguments and shows progress on stderr.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::{Exit, Failure};
use crate::error::{Diagnostic, Error};
use crate::export::{self, creds, ExportError, Options};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 once the snapshot is written, 2 on a usage error or when the export stopped (nothing is written then).\n\n\
The snapshot holds the API's answers (one file per call, pages merged), an account file in the shape --account reads \
(account.json) and snapshot.json (when, from where, which account, with which version, how many of each kind). \
Secrets are never printed nor written. Progress goes to stderr when it is a terminal."
)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub cloud: Cloud,
}

#[derive(Debug, Subcommand)]
pub enum Cloud {
    /// OVHcloud IAM: policies, permission and resource groups, resources, local users, groups and service accounts.
    #[command(
        after_help = "Credentials, the environment first, then ovh.conf (./ovh.conf, ~/.ovh.conf, /etc/ovh.conf; the section named after the endpoint), as the official clients read them:\n  \
OVH_CLIENT_ID + OVH_CLIENT_SECRET          a service account (OAuth2 client credentials)\n  \
OVH_APPLICATION_KEY + OVH_APPLICATION_SECRET + OVH_CONSUMER_KEY   an application key (signed requests)\n  \
OVH_ACCESS_TOKEN                           a ready OAuth2 access token\n\n\
Example:\n  OVH_CLIENT_ID=... OVH_CLIENT_SECRET=... policy-sim export ovhcloud --endpoint ovh-eu --out snap\n  \
policy-sim check --policies snap/ovhcloud/v2/iam --account snap/account.json --identity URN --action ACTION --resource URN"
    )]
    Ovhcloud(OvhArgs),
    /// OUTSCALE EIM: users, groups, memberships, linked managed policies (default versions) and inline policies.
    #[command(
        after_help = "Credentials, the environment first, then the profile (OSC_PROFILE, default `default`) of OSC_CONFIG_FILE (default ~/.osc/config.json):\n  \
OSC_ACCESS_KEY + OSC_SECRET_KEY, OSC_REGION (default eu-west-2), OSC_ENDPOINT_API\n\n\
Example:\n  OSC_ACCESS_KEY=... OSC_SECRET_KEY=... policy-sim export outscale --region eu-west-2 --out snap\n  \
policy-sim check --policies snap/outscale/ReadPolicyVersion --account snap/account.json --identity watcher_1 --action api:ReadVms"
    )]
    Outscale(OscArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    /// The snapshot directory to create (it must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: String,
    /// The longest one API call may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Attempts per call on HTTP 429, 5xx or a dropped connection (with backoff, honouring Retry-After).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,
    /// Items asked per page (X-Pagination-Size, ResultsPerPage); default: the API's own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: Option<u32>,
}

#[derive(Debug, Args)]
pub struct OvhArgs {
    /// `ovh-eu`, `ovh-ca`, `ovh-us`, or the API's root URL (`https://eu.api.ovh.com`: v1 under /1.0, v2 under /v2). Default: OVH_ENDPOINT, ovh.conf, ovh-eu.
    #[arg(long, value_name = "ENDPOINT")]
    pub endpoint: Option<String>,
    /// The OAuth2 token URL (default: the endpoint's; for a URL endpoint, URL/auth/oauth2/token).
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct OscArgs {
    /// The region (`eu-west-2`, `cloudgouv-eu-west-1`, `us-east-2`, `us-west-1`, `ap-northeast-1`). Default: OSC_REGION, the profile's, eu-west-2.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The API's URL (`https://api.eu-west-2.outscale.com/api/v1`). Default: OSC_ENDPOINT_API, the profile's, the region's.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

fn options(c: &Common) -> Options {
    let mut o = Options::new(&c.out);
    o.timeout = Duration::from_secs(c.timeout.max(1));
    o.retry.attempts = c.attempts;
    o.page_size = c.page_size;
    o
}

pub fn run(args: &ExportArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let sources = creds::Sources::from_process();
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |line: &str| {
        if terminal {
            eprintln!("  {line}");
        }
    };
    let result = match &args.cloud {
        Cloud::Ovhcloud(a) => {
            creds::ovh_target(&sources, a.endpoint.as_deref(), a.token_url.as_deref())
                .and_then(|t| export::ovh::export(&t, &options(&a.common), &mut progress))
        }
        Cloud::Outscale(a) => {
            creds::osc_target(&sources, a.region.as_deref(), a.endpoint.as_deref())
                .and_then(|t| export::osc::export(&t, &options(&a.common), &mut progress))
        }
    };
    match result {
        Ok(summary) => {
            writeln!(out, "{summary}")?;
            Ok(Exit::Ok)
        }
        Err(e) => Err(Failure::Error(Error::Input(vec![diagnostic(&e)]))),
    }
}

fn diagnostic(e: &ExportError) -> Diagnostic {
    let nothing = match e {
        ExportError::Usage(_) => "",
        _ => "; nothing was written",
    };
    Diagnostic {
        help: e.help(),
        ..Diagnostic::error(format!("export stopped: {e}{nothing}"))
    }
}
