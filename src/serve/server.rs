//! The accept loop, the routes and the bounds.
//!
//! Routes: `POST /v1/check`, `POST /v1/check/batch` (`?trace=full` for the full trace), `GET /health`,
//! `GET /v1/policies`, `POST /v1/reload`, `GET /metrics`. Every answer is JSON and ends with a line end,
//! except `/metrics` (Prometheus' text format).
//!
//! Bounds: at most `max_connections` connections (the next ones wait in the listen queue), the request
//! head within `timeout`, the body within `max_body` bytes (413), a batch within `max_batch` requests
//! (413), the whole request answered within `timeout` (408 while its body is read, 503 once a batch runs
//! past it). On `SIGTERM` or `SIGINT` the listener closes and open requests are answered before exit.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{watch, Semaphore};

use super::metrics::Outcome;
use super::reload::{reload, Why};
use super::state::{
    engine_answer, oslo_answer, Answer, Decider, OsloRequest, PolicySet, State, Trace,
};
use super::{Inputs, Listen, Options};
use crate::error::Error;
use crate::load::Limits;

/// How long open connections get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(30);

/// A body over the limit is still read (and dropped) up to this many times the limit, so that the client,
/// still sending, reads the 413 instead of a reset connection.
const DRAIN_FACTOR: usize = 4;

enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

impl Listener {
    async fn bind(listen: &Listen) -> Result<(Listener, String), Error> {
        match listen {
            Listen::Tcp(addr) => {
                let l = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))?;
                let local = l
                    .local_addr()
                    .map_or_else(|_| addr.to_string(), |a| a.to_string());
                Ok((Listener::Tcp(l), format!("http://{local}")))
            }
            Listen::Unix(path) => {
                use std::os::unix::fs::FileTypeExt;
                // A socket left by a server that is gone is replaced; any other file is not touched.
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    if !meta.file_type().is_socket() {
                        return Err(Error::Usage(format!(
                            "cannot listen on `{}`: it exists and is not a socket",
                            path.display()
                        )));
                    }
                    let _ = std::fs::remove_file(path);
                }
                let l = tokio::net::UnixListener::bind(path).map_err(|e| {
                    Error::Usage(format!("cannot listen on `{}`: {e}", path.display()))
                })?;
                Ok((
                    Listener::Unix(l, path.clone()),
                    format!("unix:{}", path.display()),
                ))
            }
        }
    }
}

/// Bind, load the first set, serve until `SIGTERM` or `SIGINT`.
pub async fn serve(inputs: Inputs, options: Options) -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let signal_error = |e: std::io::Error| Error::Usage(format!("cannot watch signals: {e}"));
    let mut term = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let mut hup = signal(SignalKind::hangup()).map_err(signal_error)?;
    let state = Arc::new(State::new(inputs));
    let options = Arc::new(options);
    let (listener, address) = Listener::bind(&options.listen).await?;
    eprintln!("policy-sim serve: listening on {address}");
    let (stop, stopped) = watch::channel(false);
    let accepting = tokio::spawn(accept_loop(
        listener,
        Arc::clone(&state),
        Arc::clone(&options),
        stopped,
    ));
    // `/health` says 503 until the first set is in; a first set that does not load ends the service.
    if let Err(e) = reload(&state, Why::Start, false).await {
        let _ = stop.send(true);
        let _ = accepting.await;
        return Err(Error::Usage(e));
    }
    let hup_state = Arc::clone(&state);
    let on_hup = tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let _ = reload(&hup_state, Why::Signal, false).await;
        }
    });
    let poller = options.reload_interval.map(|every| {
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let _ = reload(&state, Why::Changed, true).await;
            }
        })
    });
    tokio::select! {
        _ = term.recv() => eprintln!("policy-sim serve: SIGTERM, finishing open requests"),
        _ = int.recv() => eprintln!("policy-sim serve: SIGINT, finishing open requests"),
    }
    on_hup.abort();
    if let Some(p) = poller {
        p.abort();
    }
    let _ = stop.send(true);
    let _ = accepting.await;
    eprintln!("policy-sim serve: stopped");
    Ok(())
}

async fn accept_loop(
    listener: Listener,
    state: Arc<State>,
    options: Arc<Options>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            a = accept(&listener) => a,
            _ = stop.changed() => break,
        };
        match accepted {
            Ok(Accepted::Tcp(s)) => {
                // Answers are small and written at once: do not hold them back (Nagle).
                let _ = s.set_nodelay(true);
                connection(s, &state, &options, permit, &graceful);
            }
            Ok(Accepted::Unix(s)) => connection(s, &state, &options, permit, &graceful),
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                eprintln!("policy-sim serve: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    if let Listener::Unix(_, path) = &listener {
        let _ = std::fs::remove_file(path);
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {
            eprintln!("policy-sim serve: connections still open after {}s, closing them", GRACE.as_secs());
        }
    }
}

enum Accepted {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, _)| Accepted::Tcp(s)),
        Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    }
}

/// Serve one connection on its own task; its permit is given back when it closes.
fn connection<I>(
    io: I,
    state: &Arc<State>,
    options: &Arc<Options>,
    permit: tokio::sync::OwnedSemaphorePermit,
    graceful: &GracefulShutdown,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (svc_state, svc_options) = (Arc::clone(state), Arc::clone(options));
    let service = hyper::service::service_fn(move |req| {
        let (state, options) = (Arc::clone(&svc_state), Arc::clone(&svc_options));
        async move { Ok::<_, Infallible>(handle(&state, &options, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.timeout)
        .keep_alive(true);
    let conn = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
    let state = Arc::clone(state);
    state.metrics.connection_opened();
    tokio::spawn(async move {
        let _ = conn.await;
        state.metrics.connection_closed();
        drop(permit);
    });
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json(status: StatusCode, body: String) -> Reply {
    reply(status, "application/json", body)
}

/// An error answer: `{"error": ...}` and what else locates it.
fn error(status: StatusCode, message: &str, extra: &[(&str, serde_json::Value)]) -> Reply {
    let mut o = serde_json::Map::new();
    o.insert("error".into(), message.into());
    for (k, v) in extra {
        o.insert((*k).into(), v.clone());
    }
    json(status, serde_json::Value::Object(o).to_string() + "\n")
}

async fn handle(state: &Arc<State>, options: &Options, req: Request<Incoming>) -> Reply {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let timed = path.starts_with("/v1/check");
    let r = match (method, path.as_str()) {
        (Method::GET, "/health") => match state.current.load().as_ref() {
            Some(set) => json(
                StatusCode::OK,
                format!("{{\"status\":\"ready\",\"generation\":{}}}\n", set.generation),
            ),
            None => json(
                StatusCode::SERVICE_UNAVAILABLE,
                String::from("{\"status\":\"loading\"}\n"),
            ),
        },
        (Method::GET, "/v1/policies") => match state.current.load().as_ref() {
            Some(set) => json(StatusCode::OK, set.describe().to_string() + "\n"),
            None => not_loaded(),
        },
        (Method::GET, "/metrics") => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            state.metrics.render(),
        ),
        (Method::POST, "/v1/reload") => match reload(state, Why::Request, false).await {
            Ok(set) => json(StatusCode::OK, set.describe().to_string() + "\n"),
            Err(e) => {
                let serving = state
                    .current
                    .load()
                    .as_ref()
                    .map_or(serde_json::Value::Null, |s| s.describe());
                error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("the new policy set did not load; the one in force goes on serving: {e}"),
                    &[("serving", serving)],
                )
            }
        },
        (Method::POST, "/v1/check") => check(state, options, req, false).await,
        (Method::POST, "/v1/check/batch") => check(state, options, req, true).await,
        (_, "/health" | "/v1/policies" | "/metrics") => not_allowed("GET"),
        (_, "/v1/reload" | "/v1/check" | "/v1/check/batch") => not_allowed("POST"),
        (_, other) => error(
            StatusCode::NOT_FOUND,
            &format!("no route `{other}`; the routes are POST /v1/check, POST /v1/check/batch, POST /v1/reload, GET /v1/policies, GET /health, GET /metrics"),
            &[],
        ),
    };
    state.metrics.status(r.status().as_u16());
    if timed {
        state.metrics.latency(started.elapsed());
    }
    r
}

fn not_loaded() -> Reply {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no policy set is loaded yet",
        &[],
    )
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("this route takes {allow}"),
        &[],
    );
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

/// `?trace=brief|full`; nothing else is taken.
fn trace(query: Option<&str>) -> Result<Trace, String> {
    let mut trace = Trace::Brief;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair {
            "trace=brief" => trace = Trace::Brief,
            "trace=full" => trace = Trace::Full,
            _ => {
                return Err(format!(
                    "unknown query `{pair}`; the one query taken is `trace=brief` (the default) or `trace=full`"
                ))
            }
        }
    }
    Ok(trace)
}

/// `POST /v1/check` and `/v1/check/batch`, within the request timeout.
async fn check(
    state: &Arc<State>,
    options: &Options,
    req: Request<Incoming>,
    batch: bool,
) -> Reply {
    let trace = match trace(req.uri().query()) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e, &[]),
    };
    let deadline = Instant::now() + options.timeout;
    let body = match tokio::time::timeout(options.timeout, read_body(req, options.max_body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(r)) => return r,
        Err(_) => {
            let mut r = error(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body was not received within {} (--timeout)",
                    seconds(options.timeout)
                ),
                &[],
            );
            r.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not UTF-8 text", &[]);
    };
    // The set in force when the body is in: this request is answered by it to the end.
    let Some(set) = state.current.load_full() else {
        return not_loaded();
    };
    if batch {
        answer_batch(state, options, &set, text, trace, deadline)
    } else {
        answer_one(state, &set, text, trace)
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Read the body, up to `max` bytes; a longer one is answered 413 (after reading a few times the limit
/// more, dropped, so that a client still sending reads the answer).
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Vec<u8>, Reply> {
    let too_long = |got: Option<u64>| {
        let said = got.map_or_else(String::new, |n| format!(" of {n} bytes"));
        let mut r = error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body{said} is over the limit of {max} bytes (--max-body)"),
            &[("limit", max.into())],
        );
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        r
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max_u64 = u64::try_from(max).unwrap_or(u64::MAX);
    let drain = max_u64.saturating_mul(DRAIN_FACTOR as u64);
    if declared.is_some_and(|n| n > drain) {
        return Err(too_long(declared));
    }
    let mut body = req.into_body();
    let mut out = Vec::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {e}"),
                &[],
            )
        })?;
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > drain {
                return Err(too_long(declared));
            }
            if seen <= max_u64 {
                out.extend_from_slice(&data);
            }
        }
    }
    if seen > max_u64 {
        return Err(too_long(Some(seen)));
    }
    Ok(out)
}

/// The located answer to a body that is not JSON: `{"error", "line", "column"}`.
fn not_json(e: &serde_json::Error) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        &format!("the body is not JSON: {e}"),
        &[("line", e.line().into()), ("column", e.column().into())],
    )
}

/// A body's syntax, checked before its shape, so that a syntax error is located by line and column: the
/// 400 to answer, if it is not JSON.
fn syntax(text: &str) -> Option<Reply> {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(e) if e.is_syntax() || e.is_eof() => Some(not_json(&e)),
        _ => None,
    }
}

/// One request of a body: its answer, or why it could not be answered (a 400's message).
fn decide(set: &PolicySet, text: &str, trace: Trace) -> Result<Answer, String> {
    match &set.decider {
        Decider::Iam(engine) => {
            let req = crate::load::request_line(text, &Limits::default())?;
            engine_answer(engine, &req, trace, &set.plan_notes).map_err(|e| e.to_string())
        }
        Decider::Oslo(services) => {
            let req: OsloRequest = serde_json::from_str(text).map_err(|e| {
                format!("{e}; expected an oslo.policy request `{{\"credentials\", \"rule\", \"target\"?}}`")
            })?;
            oslo_answer(services, &req)
        }
    }
}

fn count(state: &State, answer: &Result<Answer, String>) {
    state.metrics.decision(match answer {
        Ok(a) if a.allowed => Outcome::Allow,
        Ok(_) => Outcome::Deny,
        Err(_) => Outcome::Error,
    });
}

fn answer_one(state: &State, set: &PolicySet, text: &str, trace: Trace) -> Reply {
    if let Some(r) = syntax(text) {
        state.metrics.decision(Outcome::Error);
        return r;
    }
    let answer = decide(set, text, trace);
    count(state, &answer);
    match answer {
        Ok(a) => json(StatusCode::OK, a.text),
        Err(e) => error(StatusCode::BAD_REQUEST, &e, &[]),
    }
}

/// A batch: a JSON array of requests; the answers in a JSON array, in order, each as `/v1/check` gives
/// it, a request that cannot be answered getting `{"index", "error"}` in its place.
fn answer_batch(
    state: &State,
    options: &Options,
    set: &PolicySet,
    text: &str,
    trace: Trace,
    deadline: Instant,
) -> Reply {
    if let Some(r) = syntax(text) {
        return r;
    }
    let items: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected a JSON array of requests: {e}"),
                &[("line", e.line().into()), ("column", e.column().into())],
            )
        }
    };
    if items.len() > options.max_batch {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "a batch of {} requests is over the limit of {} (--max-batch)",
                items.len(),
                options.max_batch
            ),
            &[("limit", options.max_batch.into())],
        );
    }
    let mut out = String::with_capacity(items.len() * 400 + 4);
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        // Work done on this thread cannot be interrupted: the deadline is checked between requests.
        if Instant::now() > deadline {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!(
                    "the batch was not answered within {} (--timeout): {i} of {} requests answered",
                    seconds(options.timeout),
                    items.len()
                ),
                &[],
            );
        }
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let answer = decide(set, item.get(), trace);
        count(state, &answer);
        match answer {
            Ok(a) => out.push_str(a.text.trim_end_matches('\n')),
            Err(e) => out.push_str(&serde_json::json!({"index": i, "error": e}).to_string()),
        }
    }
    out.push_str(if items.is_empty() { "]\n" } else { "\n]\n" });
    json(StatusCode::OK, out)
}
