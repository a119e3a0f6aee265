//! A local HTTP/1.1 server for the export tests: bound to 127.0.0.1 on a port the system picks, one request
//! per connection, stopped by its `Drop` (and in any case after 60 s or 2,000 connections).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }
    pub fn with(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

pub struct Server {
    pub url: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serve with `handler` until dropped.
    pub fn start(mut handler: impl FnMut(&Seen) -> Answer + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut served = 0;
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline && served < 2000 {
                match listener.accept() {
                    Ok((stream, _)) => {
                        served += 1;
                        if let Some(req) = read_request(&stream) {
                            seen2.lock().expect("log").push(req.clone());
                            let answer = handler(&req);
                            write_answer(stream, &answer);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            url,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn write_answer(mut stream: TcpStream, a: &Answer) {
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", a.status);
    for (k, v) in &a.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        a.body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(a.body.as_bytes());
    let _ = stream.flush();
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file's text.
pub fn fixture(rel: &str) -> Option<String> {
    std::fs::read_to_string(repo().join("fixtures/export").join(rel)).ok()
}

/// A fresh, empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("policy-sim-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// The OVHcloud API from `fixtures/export/ovhcloud/`: v2 lists in pages of `page` (cursors `c1`, `c2`,
/// ...), `/1.0/...` from the file of that path, the OAuth2 token endpoint, `/1.0/auth/time`.
pub fn ovh_answer(req: &Seen, page: usize) -> Answer {
    let path = req.path();
    if path == "/auth/oauth2/token" {
        return Answer::json(
            200,
            r#"{"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3599, "scope": "all"}"#,
        );
    }
    if path == "/1.0/auth/time" {
        return Answer::json(200, "1780000000");
    }
    let Some(text) = fixture(&format!("ovhcloud{path}.json")) else {
        return Answer::json(
            404,
            r#"{"class": "Client::NotFound", "message": "not found"}"#,
        );
    };
    if !path.starts_with("/v2/") {
        return Answer::json(200, text);
    }
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("fixture array");
    let start: usize = req
        .header("x-pagination-cursor")
        .and_then(|c| c.strip_prefix('c'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let size = req
        .header("x-pagination-size")
        .and_then(|n| n.parse().ok())
        .unwrap_or(page);
    let end = (start + size).min(all.len());
    let body = serde_json::to_string(&all.get(start..end).unwrap_or(&[])).expect("page");
    let mut a = Answer::json(200, body);
    if end < all.len() {
        a = a.with("X-Pagination-Cursor-Next", &format!("c{end}"));
    }
    a
}

/// The OUTSCALE API from `fixtures/export/outscale/`: `POST /api/v1/{Operation}`, the answer read from
/// `{Operation}.json` or `{Operation}/{name}.json` (user, group or policy named in the request); paged
/// operations cut into pages of `ResultsPerPage` (default `page`) counted from `FirstItem`, **from 1** as
/// the API's examples do.
pub fn osc_answer(req: &Seen, page: usize) -> Answer {
    let op = req.path().rsplit('/').next().unwrap_or("").to_owned();
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
    let s = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let rel = match (
        s("UserName"),
        s("UserGroupName"),
        s("PolicyOrn"),
        s("PolicyName"),
    ) {
        (Some(u), _, _, Some(p)) => format!("{op}/{u}/{p}.json"),
        (Some(u), ..) => format!("{op}/{u}.json"),
        (_, Some(g), ..) => format!("{op}/{g}.json"),
        (_, _, Some(orn), _) => format!(
            "{op}/{}.json",
            orn.split_once(":policy/")
                .map_or(orn.as_str(), |x| x.1)
                .replace('/', "%2F")
        ),
        _ => format!("{op}.json"),
    };
    let Some(text) = fixture(&format!("outscale/{rel}")) else {
        return Answer::json(
            400,
            r#"{"Errors": [{"Type": "InvalidResource", "Code": "5071", "Details": "not found"}], "ResponseContext": {"RequestId": "x"}}"#,
        );
    };
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("fixture");
    let key = ["Users", "UserGroups", "Policies"]
        .into_iter()
        .find(|k| v.get(*k).is_some_and(|x| x.is_array()));
    let paged = matches!(
        op.as_str(),
        "ReadUsers"
            | "ReadUserGroups"
            | "ReadLinkedPolicies"
            | "ReadManagedPoliciesLinkedToUserGroup"
            | "ReadUserGroupPolicies"
    );
    if let (true, Some(key)) = (paged, key) {
        let all = v
            .get(key)
            .and_then(|x| x.as_array())
            .cloned()
            .unwrap_or_default();
        let first = body
            .get("FirstItem")
            .and_then(|x| x.as_u64())
            .unwrap_or(1)
            .max(1) as usize;
        let size = body
            .get("ResultsPerPage")
            .and_then(|x| x.as_u64())
            .map_or(page, |n| n as usize);
        let start = (first - 1).min(all.len());
        let end = (start + size).min(all.len());
        v[key] = serde_json::Value::Array(all.get(start..end).unwrap_or(&[]).to_vec());
        v["HasMoreItems"] = serde_json::Value::Bool(end < all.len());
        v["MaxResultsLimit"] = serde_json::json!(size);
        v["MaxResultsTruncated"] = serde_json::Value::Bool(false);
    }
    Answer::json(200, v.to_string())
}
