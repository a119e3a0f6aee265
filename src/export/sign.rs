//! Request signing, with the vendors' own recipes (RustCrypto primitives, nothing hand-written).
//!
//! - OVHcloud application keys: `X-Ovh-Signature: $1$` + hex SHA-1 of
//!   `AS+CK+METHOD+URL+BODY+TIMESTAMP` (the python `ovh` client's `raw_call`; OVHcloud's "First steps with the
//!   API" guide gives the test vector pinned below).
//! - OUTSCALE: `OSC4-HMAC-SHA256`, AWS Signature Version 4 with `OSC4` for `AWS4` and the signed headers
//!   `content-type;host;x-osc-date` (osc-sdk-python's `authentication.py`; OUTSCALE's "About Signatures of API
//!   Requests").
//!
//! Both are checked header for header against the official Python clients by `tests/export_signing.rs`.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The `X-Ovh-Signature` header value of a request signed with an application key.
///
/// `url` is the full URL with its query string, `body` the exact bytes sent (empty for GET), `timestamp` the
/// server's time in seconds (`GET /1.0/auth/time`, corrected by the local clock since).
pub fn ovh_signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    url: &str,
    body: &str,
    timestamp: i64,
) -> String {
    let mut h = Sha1::new();
    h.update(application_secret.as_bytes());
    h.update(b"+");
    h.update(consumer_key.as_bytes());
    h.update(b"+");
    h.update(method.to_ascii_uppercase().as_bytes());
    h.update(b"+");
    h.update(url.as_bytes());
    h.update(b"+");
    h.update(body.as_bytes());
    h.update(b"+");
    h.update(timestamp.to_string().as_bytes());
    format!("$1${}", hex(&h.finalize()))
}

/// The headers of a signed OUTSCALE API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscHeaders {
    pub content_type: &'static str,
    /// `YYYYMMDDTHHMMSSZ`, UTC.
    pub x_osc_date: String,
    pub authorization: String,
}

/// The content type every OUTSCALE call is sent (and signed) with.
pub const OSC_CONTENT_TYPE: &str = "application/json; charset=utf-8";

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Sign an OUTSCALE call: `POST` of `body` to `path` (`/api/v1/ReadUsers`) on `host` (without the port, as
/// osc-sdk-python signs it), at `when` (UTC).
pub fn osc_sign(
    access_key: &str,
    secret_key: &str,
    region: &str,
    host: &str,
    path: &str,
    body: &str,
    when: jiff::Timestamp,
) -> OscHeaders {
    // A timestamp formats in UTC.
    let date_iso = when.strftime("%Y%m%dT%H%M%SZ").to_string();
    let date = when.strftime("%Y%m%d").to_string();
    let scope = format!("{date}/{region}/api/osc4_request");
    let signed_headers = "content-type;host;x-osc-date";
    let canonical = format!(
        "POST\n{path}\n\ncontent-type:{OSC_CONTENT_TYPE}\nhost:{host}\nx-osc-date:{date_iso}\n\n{signed_headers}\n{}",
        hex(&Sha256::digest(body.as_bytes()))
    );
    let to_sign = format!(
        "OSC4-HMAC-SHA256\n{date_iso}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac_sha256(format!("OSC4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, b"api");
    let k_signing = hmac_sha256(&k_service, b"osc4_request");
    let signature = hex(&hmac_sha256(&k_signing, to_sign.as_bytes()));
    OscHeaders {
        content_type: OSC_CONTENT_TYPE,
        x_osc_date: date_iso,
        authorization: format!(
            "OSC4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ovh_first_steps_vector() {
        // OVHcloud's "First steps with the OVHcloud APIs" guide: the example keys, URL and time.
        let s = ovh_signature(
            "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
            "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
            "get",
            "https://eu.api.ovh.com/1.0/domains/",
            "",
            1366560945,
        );
        assert_eq!(s, "$1$d3705e8afb27a0d2970a322b96550abfc67bb798");
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn osc_header_shape() {
        let when: jiff::Timestamp = "2026-06-01T12:34:56Z".parse().unwrap_or_default();
        let h = osc_sign(
            "AK",
            "SK",
            "eu-west-2",
            "api.eu-west-2.outscale.com",
            "/api/v1/ReadUsers",
            "{}",
            when,
        );
        assert_eq!(h.x_osc_date, "20260601T123456Z");
        assert!(h.authorization.starts_with(
            "OSC4-HMAC-SHA256 Credential=AK/20260601/eu-west-2/api/osc4_request, SignedHeaders=content-type;host;x-osc-date, Signature="
        ));
        assert_eq!(
            h.authorization.len(),
            h.authorization.rfind('=').unwrap_or(0) + 1 + 64
        );
    }
}
