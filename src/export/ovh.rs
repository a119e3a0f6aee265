//! The OVHcloud export: v2 IAM lists (cursor pagination followed to the end), then `/me` and its
//! identity lists, one call per user, group and OAuth2 client.

use serde_json::{json, Value};

use crate::load::raw::kind_of;

use super::creds::{OvhAuth, OvhTarget, Secret};
use super::http::{Http, Progress, Reply, Request};
use super::{
    encode, file_name, parse, snippet, ExportError, Options, Snapshot, Summary, ACCOUNT_FILE,
};

/// The v2 lists, their file in the snapshot, the kind counted in `snapshot.json`.
const V2_LISTS: &[(&str, &str, &str)] = &[
    ("/v2/iam/policy", "ovhcloud/v2/iam/policy.json", "policies"),
    (
        "/v2/iam/permissionsGroup",
        "ovhcloud/v2/iam/permissionsGroup.json",
        "permissionsGroups",
    ),
    (
        "/v2/iam/resourceGroup?details=true",
        "ovhcloud/v2/iam/resourceGroup.json",
        "resourceGroups",
    ),
    (
        "/v2/iam/resource",
        "ovhcloud/v2/iam/resource.json",
        "resources",
    ),
];

/// The v1 lists of identifiers, each followed by one call per identifier.
const V1_LISTS: &[(&str, &str)] = &[
    ("/1.0/me/identity/user", "users"),
    ("/1.0/me/identity/group", "groups"),
    ("/1.0/me/api/oauth2/client", "oauth2Clients"),
];

/// The IAM action each call needs, from the API schema's `x-iam-actions`. `/v2/iam/resource` names none.
pub fn action_for(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let table: &[(&str, &str)] = &[
        ("/v2/iam/policy", "account:apiovh:iam/policy/get"),
        (
            "/v2/iam/permissionsGroup",
            "account:apiovh:iam/permissionsGroup/get",
        ),
        (
            "/v2/iam/resourceGroup",
            "account:apiovh:iam/resourceGroup/get",
        ),
        (
            "/1.0/me/identity/user",
            "account:apiovh:me/identity/user/get",
        ),
        (
            "/1.0/me/identity/group",
            "account:apiovh:me/identity/group/get",
        ),
        (
            "/1.0/me/api/oauth2/client",
            "account:apiovh:me/api/oauth2/client/get",
        ),
        ("/1.0/me", "account:apiovh:me/get"),
    ];
    table
        .iter()
        .find(|(p, _)| path == *p || path.starts_with(&format!("{p}/")))
        .map(|(_, a)| *a)
}

/// The headers of a `GET url` signed with an application key at server time `timestamp` (what the python
/// `ovh` client's `raw_call` sends).
pub fn app_key_headers(
    url: &str,
    application_key: &str,
    application_secret: &Secret,
    consumer_key: &Secret,
    timestamp: i64,
) -> Vec<(&'static str, String)> {
    vec![
        ("X-Ovh-Application", application_key.to_owned()),
        ("X-Ovh-Consumer", consumer_key.expose().to_owned()),
        ("X-Ovh-Timestamp", timestamp.to_string()),
        (
            "X-Ovh-Signature",
            super::sign::ovh_signature(
                application_secret.expose(),
                consumer_key.expose(),
                "GET",
                url,
                "",
                timestamp,
            ),
        ),
    ]
}

/// The URL of an API path (`/v2/iam/policy`, `/1.0/me`) under an API root.
pub fn url(root: &str, path: &str) -> String {
    format!("{root}{path}")
}

/// A signed-in session: the bearer token, or the offset to the server's clock for signatures.
struct Session<'a> {
    http: &'a Http,
    target: &'a OvhTarget,
    bearer: Option<Secret>,
    time_delta: i64,
    calls: usize,
}

impl<'a> Session<'a> {
    fn start(
        http: &'a Http,
        target: &'a OvhTarget,
        progress: Progress<'_>,
    ) -> Result<Self, ExportError> {
        let mut s = Self {
            http,
            target,
            bearer: None,
            time_delta: 0,
            calls: 0,
        };
        match &target.auth {
            OvhAuth::Token(t) => s.bearer = Some(t.clone()),
            OvhAuth::OAuth2 { .. } => s.bearer = Some(s.token(progress)?),
            OvhAuth::AppKey { .. } => {
                let call = "GET /1.0/auth/time";
                progress(call);
                let url = format!("{}/1.0/auth/time", target.root);
                s.calls += 1;
                let reply = http.send(call, progress, || {
                    Ok(Request {
                        method: "GET",
                        url: url.clone(),
                        headers: vec![("Accept", String::from("application/json"))],
                        body: None,
                    })
                })?;
                let reply = ok(call, reply, None)?;
                let server: i64 = reply
                    .body
                    .trim()
                    .parse()
                    .map_err(|_| ExportError::Response {
                        call: call.to_owned(),
                        what: format!(
                            "expected the time in seconds, found `{}`",
                            snippet(&reply.body)
                        ),
                    })?;
                s.time_delta = server - jiff::Timestamp::now().as_second();
            }
        }
        Ok(s)
    }

    /// An OAuth2 access token (client credentials grant, `scope=all`).
    fn token(&mut self, progress: Progress<'_>) -> Result<Secret, ExportError> {
        let OvhAuth::OAuth2 {
            client_id,
            client_secret,
            token_url,
        } = &self.target.auth
        else {
            return Err(ExportError::Usage(String::from(
                "no OAuth2 client configured",
            )));
        };
        let call = format!("POST {token_url}");
        progress(&call);
        self.calls += 1;
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=all",
            encode(client_id),
            encode(client_secret.expose())
        );
        let reply = self.http.send(&call, progress, || {
            Ok(Request {
                method: "POST",
                url: token_url.clone(),
                headers: vec![
                    (
                        "Content-Type",
                        String::from("application/x-www-form-urlencoded"),
                    ),
                    ("Accept", String::from("application/json")),
                ],
                body: Some(body.clone().into_bytes()),
            })
        })?;
        if reply.status == 400 || reply.status == 401 || reply.status == 403 {
            let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
            let detail = ["error_description", "error", "message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .map_or_else(|| snippet(&reply.body), str::to_owned)
                // A server that echoes the request must not make the message show the secret.
                .replace(client_secret.expose(), "***");
            return Err(ExportError::Refused {
                call,
                status: reply.status,
                detail,
                help: format!(
                    "the OAuth2 client `{client_id}` was refused: check OVH_CLIENT_ID and OVH_CLIENT_SECRET, and that the service account belongs to this endpoint (`{}`)",
                    self.target.endpoint
                ),
            });
        }
        let reply = ok(&call, reply, None)?;
        let v = parse(&call, &reply.body)?;
        match v.get("access_token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => Ok(Secret::new(t)),
            _ => Err(ExportError::Response {
                call,
                what: String::from("no `access_token` in the answer"),
            }),
        }
    }

    /// `GET {root}{path}`, authenticated, with the v2 pagination headers when given.
    fn get(
        &mut self,
        path: &str,
        cursor: Option<&str>,
        page_size: Option<u32>,
        progress: Progress<'_>,
    ) -> Result<Reply, ExportError> {
        let call = format!("GET {path}");
        progress(&call);
        let url = url(&self.target.root, path);
        let mut refreshed = false;
        loop {
            self.calls += 1;
            let reply = {
                let (target, bearer, delta) = (self.target, &self.bearer, self.time_delta);
                self.http.send(&call, progress, || {
                    let mut headers = vec![("Accept", String::from("application/json"))];
                    match (&target.auth, bearer) {
                        (
                            OvhAuth::AppKey {
                                application_key,
                                application_secret,
                                consumer_key,
                            },
                            _,
                        ) => {
                            let now = jiff::Timestamp::now().as_second() + delta;
                            headers.extend(app_key_headers(
                                &url,
                                application_key,
                                application_secret,
                                consumer_key,
                                now,
                            ));
                        }
                        (_, Some(token)) => {
                            headers.push(("Authorization", format!("Bearer {}", token.expose())))
                        }
                        (_, None) => {}
                    }
                    if let Some(c) = cursor {
                        headers.push(("X-Pagination-Cursor", c.to_owned()));
                    }
                    if let Some(n) = page_size {
                        headers.push(("X-Pagination-Size", n.to_string()));
                    }
                    Ok(Request {
                        method: "GET",
                        url: url.clone(),
                        headers,
                        body: None,
                    })
                })?
            };
            // An OAuth2 token can expire during a long export: fetch a new one, once per call.
            if reply.status == 401
                && !refreshed
                && matches!(self.target.auth, OvhAuth::OAuth2 { .. })
            {
                refreshed = true;
                self.bearer = Some(self.token(progress)?);
                continue;
            }
            return ok(&call, reply, action_for(path));
        }
    }

    /// A v2 list, every page: `X-Pagination-Cursor-Next` followed until absent.
    fn list_v2(
        &mut self,
        path: &str,
        opts: &Options,
        progress: Progress<'_>,
    ) -> Result<(Vec<Value>, usize), ExportError> {
        let call = format!("GET {path}");
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            if pages >= opts.max_pages {
                return Err(ExportError::Response {
                    call,
                    what: format!("more than {} pages; the list never ended", opts.max_pages),
                });
            }
            pages += 1;
            let reply = self.get(path, cursor.as_deref(), opts.page_size, progress)?;
            match parse(&call, &reply.body)? {
                Value::Array(page) => items.extend(page),
                other => {
                    return Err(ExportError::Response {
                        call,
                        what: format!("expected a JSON array, found {}", kind_of(&other)),
                    })
                }
            }
            match reply.header("X-Pagination-Cursor-Next").map(str::trim) {
                Some(next) if !next.is_empty() => {
                    if cursor.as_deref() == Some(next) {
                        return Err(ExportError::Response {
                            call,
                            what: String::from("the next-page cursor repeats the one sent"),
                        });
                    }
                    cursor = Some(next.to_owned());
                }
                _ => break,
            }
        }
        Ok((items, pages))
    }
}

/// A success, or the error the status means (401/403 name the call and the IAM action it needs).
fn ok(call: &str, reply: Reply, action: Option<&str>) -> Result<Reply, ExportError> {
    if (200..300).contains(&reply.status) {
        return Ok(reply);
    }
    let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| snippet(&reply.body), str::to_owned);
    if reply.status == 401 || reply.status == 403 {
        // OVHcloud's 403 says which actions were missing: `details.unauthorizedActionsByIAM`.
        let details = v.get("details");
        let missing: Vec<&str> = [
            "unauthorizedActionsByIAM",
            "unauthorizedActionsByAuthentication",
        ]
        .iter()
        .filter_map(|k| details.and_then(|d| d.get(*k)).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect();
        let detail = if missing.is_empty() {
            message
        } else {
            format!(
                "{message} (missing IAM permissions: {})",
                missing.join(", ")
            )
        };
        let help = if reply.status == 401 {
            String::from(
                "the credentials were refused: check them, and that they belong to this endpoint",
            )
        } else {
            let wanted = if missing.is_empty() {
                action.map_or_else(
                    || String::from("the right to make this call (the API schema names no IAM action for it)"),
                    |a| format!("`{a}`"),
                )
            } else {
                missing
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "the exporting identity lacks {wanted} on the account (`urn:v1:<region>:resource:account:<nic>`); the README's \"policy-sim export\" section gives the minimal exporter policy"
            )
        };
        return Err(ExportError::Refused {
            call: call.to_owned(),
            status: reply.status,
            detail,
            help,
        });
    }
    Err(ExportError::Status {
        call: call.to_owned(),
        status: reply.status,
        detail: message,
    })
}

/// The plate of the first `urn:v1:<plate>:` found in these values.
fn plate_of<'v>(values: impl IntoIterator<Item = &'v Value>) -> Option<String> {
    values.into_iter().find_map(|v| {
        let urn = v.get("urn").or_else(|| v.get("identity"))?.as_str()?;
        let rest = urn.strip_prefix("urn:v1:")?;
        Some(rest.split(':').next()?.to_owned())
    })
}

/// Export the OVHcloud account `target` signs in to into `opts.out`.
pub fn export(
    target: &OvhTarget,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<Summary, ExportError> {
    super::check_out(&opts.out)?;
    let http = Http::new(opts.timeout, opts.retry);
    let mut session = Session::start(&http, target, progress)?;
    let mut snap = Snapshot::new("ovhcloud", &target.root);
    // How the export signed in (the method only, never a key).
    snap.extra
        .insert(String::from("auth"), json!(target.auth.method()));
    let mut lists: Vec<Vec<Value>> = Vec::new();
    for (path, file, kind_name) in V2_LISTS {
        let (items, pages) = session.list_v2(path, opts, progress)?;
        snap.count(kind_name, items.len());
        snap.add(
            (*file).to_owned(),
            &format!("GET {path}"),
            Some(pages),
            Value::Array(items.clone()),
        );
        lists.push(items);
    }

    let me = parse(
        "GET /1.0/me",
        &session.get("/1.0/me", None, None, progress)?.body,
    )?;
    let Some(nic) = me
        .get("nichandle")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(ExportError::Response {
            call: String::from("GET /1.0/me"),
            what: String::from("no `nichandle`"),
        });
    };
    // `/me` also holds the account holder's personal data (address, phone, ...): only what names the
    // account is kept.
    let kept = json!({"nichandle": nic, "ovhSubsidiary": me.get("ovhSubsidiary")});
    snap.add(
        String::from("ovhcloud/1.0/me.json"),
        "GET /1.0/me",
        None,
        kept,
    );
    snap.extra.insert(
        String::from("omitted"),
        json!({"ovhcloud/1.0/me.json": "the account holder's personal data: only `nichandle` and `ovhSubsidiary` are kept"}),
    );
    snap.account = Some(nic.clone());

    let mut details: Vec<Vec<Value>> = Vec::new();
    for (path, kind_name) in V1_LISTS {
        let call = format!("GET {path}");
        let ids = match parse(&call, &session.get(path, None, None, progress)?.body)? {
            Value::Array(ids) => ids,
            other => {
                return Err(ExportError::Response {
                    call,
                    what: format!(
                        "expected an array of identifiers, found {}",
                        kind_of(&other)
                    ),
                })
            }
        };
        let dir = format!("ovhcloud{path}");
        snap.add(
            format!("{dir}.json"),
            &call,
            None,
            Value::Array(ids.clone()),
        );
        let mut names: Vec<String> = Vec::new();
        for id in &ids {
            match id {
                Value::String(s) => names.push(s.clone()),
                other => {
                    return Err(ExportError::Response {
                        call,
                        what: format!("expected identifiers as strings, found {}", kind_of(other)),
                    })
                }
            }
        }
        names.sort();
        let mut objects = Vec::new();
        for name in &names {
            let item_path = format!("{path}/{}", encode(name));
            let value = parse(
                &format!("GET {item_path}"),
                &session.get(&item_path, None, None, progress)?.body,
            )?;
            snap.add(
                format!("{dir}/{}", file_name(name)),
                &format!("GET {item_path}"),
                None,
                value.clone(),
            );
            objects.push(value);
        }
        snap.count(kind_name, objects.len());
        details.push(objects);
    }

    let users = details.first().cloned().unwrap_or_default();
    let plate = target
        .plate
        .clone()
        .or_else(|| plate_of(details.iter().flatten().chain(lists.iter().flatten())));
    let mut account = json!({"account": nic, "users": users});
    if let (Some(p), Some(obj)) = (plate, account.as_object_mut()) {
        obj.insert(String::from("region"), Value::String(p));
    }
    snap.add(
        String::from(ACCOUNT_FILE),
        "(built from GET /1.0/me and GET /1.0/me/identity/user/{login})",
        None,
        account,
    );
    snap.calls = session.calls;
    snap.write(&opts.out, jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_per_call() {
        assert_eq!(
            action_for("/v2/iam/resourceGroup?details=true"),
            Some("account:apiovh:iam/resourceGroup/get")
        );
        assert_eq!(
            action_for("/1.0/me/identity/user/bob"),
            Some("account:apiovh:me/identity/user/get")
        );
        assert_eq!(action_for("/1.0/me"), Some("account:apiovh:me/get"));
        assert_eq!(action_for("/v2/iam/resource"), None);
    }

    #[test]
    fn refusal_names_the_missing_action() {
        let reply = Reply {
            status: 403,
            headers: vec![],
            body: r#"{"class": "Client::Forbidden", "message": "User not granted for this request", "details": {"unauthorizedActionsByAuthentication": "", "unauthorizedActionsByIAM": "account:apiovh:iam/policy/get"}}"#.into(),
        };
        let e = ok("GET /v2/iam/policy", reply, action_for("/v2/iam/policy")).map(|_| ());
        match e {
            Err(e @ ExportError::Refused { .. }) => {
                assert_eq!(e.to_string(), "`GET /v2/iam/policy` was refused with HTTP 403: User not granted for this request (missing IAM permissions: account:apiovh:iam/policy/get)");
                assert!(e
                    .help()
                    .unwrap_or_default()
                    .contains("lacks `account:apiovh:iam/policy/get`"));
            }
            other => assert!(
                matches!(other, Err(ExportError::Refused { .. })),
                "{other:?}"
            ),
        }
    }
}
