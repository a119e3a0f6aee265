//! One blocking HTTP call with retries: 429 and 5xx (and a dropped connection) are tried again after a
//! backoff that honours `Retry-After`, bounded; every other answer goes back to the caller as it came.

use std::time::Duration;

use super::ExportError;

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// The first wait when the server gives no `Retry-After`; doubled at each further attempt.
    pub base: Duration,
    /// The longest wait, `Retry-After` included.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// A request, built afresh for each attempt (a signature holds the time it was made).
#[derive(Debug)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

/// An answer: the status, the headers the exporter reads, the body as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Something worth telling the user while the export runs (the caller decides where it goes).
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// The HTTP client: one agent (connections kept alive), a timeout per call, a retry policy.
pub struct Http {
    agent: ureq::Agent,
    pub retry: RetryPolicy,
    /// The largest response body read, in bytes.
    pub max_body: u64,
}

impl Http {
    pub fn new(timeout: Duration, retry: RetryPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // An API export follows no redirect: a moved API is an error to show, not to chase with keys.
            .max_redirects(0)
            .user_agent(concat!("policy-sim/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            retry,
            max_body: 256 * 1024 * 1024,
        }
    }

    /// Send the request `build` makes, again while the answer is 429, 5xx or no answer, within the policy.
    /// `call` names the call in messages (`GET /v2/iam/policy`).
    pub fn send(
        &self,
        call: &str,
        progress: Progress<'_>,
        mut build: impl FnMut() -> Result<Request, ExportError>,
    ) -> Result<Reply, ExportError> {
        let mut attempt = 1;
        loop {
            let request = build()?;
            let outcome = self.once(&request);
            let wait = match &outcome {
                Ok(reply) if reply.status == 429 || (500..600).contains(&reply.status) => {
                    Some(self.wait(attempt, reply.header("retry-after")))
                }
                Ok(_) => None,
                Err(e) if transient(e) => Some(self.wait(attempt, None)),
                Err(_) => None,
            };
            match (wait, outcome) {
                (Some(wait), outcome) if attempt < self.retry.attempts => {
                    let why = match &outcome {
                        Ok(reply) => format!("HTTP {}", reply.status),
                        Err(e) => e.to_string(),
                    };
                    progress(&format!(
                        "{call}: {why}; trying again in {:.1} s (attempt {} of {})",
                        wait.as_secs_f64(),
                        attempt + 1,
                        self.retry.attempts
                    ));
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                (_, Ok(reply)) => return Ok(reply),
                (_, Err(e)) => {
                    return Err(ExportError::Network {
                        call: call.to_owned(),
                        reason: if attempt > 1 {
                            format!("{e} (after {attempt} attempts)")
                        } else {
                            e.to_string()
                        },
                    })
                }
            }
        }
    }

    /// The wait before attempt `attempt + 1`: `Retry-After` (seconds or an HTTP date) when given, else
    /// the doubling backoff; never more than `max_wait`.
    fn wait(&self, attempt: u32, retry_after: Option<&str>) -> Duration {
        let asked = retry_after.and_then(parse_retry_after);
        let backoff = self
            .retry
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        asked.unwrap_or(backoff).min(self.retry.max_wait)
    }

    fn once(&self, request: &Request) -> Result<Reply, ureq::Error> {
        let mut response = match (request.method, &request.body) {
            ("POST", body) => {
                let mut r = self.agent.post(&request.url);
                for (k, v) in &request.headers {
                    r = r.header(*k, v.as_str());
                }
                match body {
                    Some(b) => r.send(&b[..])?,
                    None => r.send_empty()?,
                }
            }
            _ => {
                let mut r = self.agent.get(&request.url);
                for (k, v) in &request.headers {
                    r = r.header(*k, v.as_str());
                }
                r.call()?
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_string()?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// A failure worth another attempt: the connection, not the request.
fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
    )
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let now = jiff::Timestamp::now();
    let secs = when.as_second().saturating_sub(now.as_second());
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::from_secs(0)));
        // A date in the past: no wait.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::from_secs(0))
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn waits_are_bounded() {
        let http = Http::new(
            Duration::from_secs(1),
            RetryPolicy {
                attempts: 5,
                base: Duration::from_millis(500),
                max_wait: Duration::from_secs(10),
            },
        );
        assert_eq!(http.wait(1, None), Duration::from_millis(500));
        assert_eq!(http.wait(3, None), Duration::from_secs(2));
        assert_eq!(http.wait(30, None), Duration::from_secs(10));
        assert_eq!(http.wait(1, Some("7")), Duration::from_secs(7));
        assert_eq!(http.wait(1, Some("3600")), Duration::from_secs(10));
    }
}
