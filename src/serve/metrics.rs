//! The service's counters, lock-free (relaxed atomics: each value is read on its own), and their rendering
//! in Prometheus' text exposition format (version 0.0.4) for `GET /metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// The HTTP statuses the service answers with, counted apart; any other is counted as `other`.
const STATUSES: [u16; 9] = [200, 400, 404, 405, 408, 413, 422, 500, 503];

#[derive(Default)]
pub struct Metrics {
    allow: AtomicU64,
    deny: AtomicU64,
    /// Requests that could not be decided (a malformed identity, an unknown rule...).
    error: AtomicU64,
    /// Per bucket of [`BUCKETS`], then +Inf: requests of `/v1/check` and `/v1/check/batch` that took
    /// at most that long (not cumulative here; summed when rendered).
    latency: [AtomicU64; 13],
    /// Total latency, in nanoseconds.
    latency_sum_ns: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    /// When the set in force was loaded, in Unix seconds.
    loaded_at: AtomicU64,
    connections: AtomicU64,
    statuses: [AtomicU64; 10],
}

/// A decision's outcome.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Allow,
    Deny,
    Error,
}

impl Metrics {
    pub fn decision(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Allow => &self.allow,
            Outcome::Deny => &self.deny,
            Outcome::Error => &self.error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn latency(&self, took: Duration) {
        let s = took.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&b| s <= b)
            .unwrap_or(BUCKETS.len());
        if let Some(c) = self.latency.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub fn reloaded(&self, at_unix: u64) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
        self.loaded_at.store(at_unix, Ordering::Relaxed);
    }

    pub fn reload_failed(&self) {
        self.reload_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn status(&self, code: u16) {
        let i = STATUSES
            .iter()
            .position(|&c| c == code)
            .unwrap_or(STATUSES.len());
        if let Some(c) = self.statuses.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// The text of `GET /metrics`.
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP policy_sim_decisions_total Requests answered, by outcome (error: the request could not be decided).\n# TYPE policy_sim_decisions_total counter\n");
        for (name, c) in [
            ("allow", &self.allow),
            ("deny", &self.deny),
            ("error", &self.error),
        ] {
            let _ = writeln!(
                out,
                "policy_sim_decisions_total{{outcome=\"{name}\"}} {}",
                get(c)
            );
        }
        out.push_str("# HELP policy_sim_request_duration_seconds Time to answer POST /v1/check and /v1/check/batch, body read included.\n# TYPE policy_sim_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, c) in self.latency.iter().enumerate() {
            cumulative += get(c);
            match BUCKETS.get(i) {
                Some(b) => {
                    let _ = writeln!(
                        out,
                        "policy_sim_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "policy_sim_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
                    );
                }
            }
        }
        let sum = get(&self.latency_sum_ns) as f64 / 1e9;
        let _ = writeln!(out, "policy_sim_request_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "policy_sim_request_duration_seconds_count {cumulative}"
        );
        let _ = writeln!(out, "# HELP policy_sim_reloads_total Policy sets loaded and swapped in, the first one included.\n# TYPE policy_sim_reloads_total counter\npolicy_sim_reloads_total {}", get(&self.reloads));
        let _ = writeln!(out, "# HELP policy_sim_reload_failures_total Policy sets that failed to load; the set in force kept serving.\n# TYPE policy_sim_reload_failures_total counter\npolicy_sim_reload_failures_total {}", get(&self.reload_failures));
        let _ = writeln!(out, "# HELP policy_sim_policy_set_loaded_timestamp_seconds When the set in force was loaded (Unix time).\n# TYPE policy_sim_policy_set_loaded_timestamp_seconds gauge\npolicy_sim_policy_set_loaded_timestamp_seconds {}", get(&self.loaded_at));
        let _ = writeln!(out, "# HELP policy_sim_connections Connections open.\n# TYPE policy_sim_connections gauge\npolicy_sim_connections {}", get(&self.connections));
        out.push_str("# HELP policy_sim_http_responses_total HTTP responses, by status.\n# TYPE policy_sim_http_responses_total counter\n");
        for (i, c) in self.statuses.iter().enumerate() {
            let code = STATUSES
                .get(i)
                .map_or_else(|| String::from("other"), u16::to_string);
            let _ = writeln!(
                out,
                "policy_sim_http_responses_total{{code=\"{code}\"}} {}",
                get(c)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.latency(Duration::from_micros(50));
        m.latency(Duration::from_micros(700));
        m.latency(Duration::from_secs(3));
        m.decision(Outcome::Deny);
        m.reload_failed();
        m.status(413);
        m.status(299);
        let text = m.render();
        for line in [
            "policy_sim_request_duration_seconds_bucket{le=\"0.0001\"} 1",
            "policy_sim_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "policy_sim_request_duration_seconds_bucket{le=\"0.001\"} 2",
            "policy_sim_request_duration_seconds_bucket{le=\"1\"} 2",
            "policy_sim_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "policy_sim_request_duration_seconds_count 3",
            "policy_sim_decisions_total{outcome=\"deny\"} 1",
            "policy_sim_decisions_total{outcome=\"allow\"} 0",
            "policy_sim_reload_failures_total 1",
            "policy_sim_http_responses_total{code=\"413\"} 1",
            "policy_sim_http_responses_total{code=\"other\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
