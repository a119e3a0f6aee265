//! The OUTSCALE export: users and groups, who belongs where, the managed policies linked to each and their
//! default versions, and the inline policies. Every call is a signed `POST {api}/{Operation}`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::creds::OscTarget;
use super::http::{Http, Progress, Request};
use super::sign::{osc_sign, OSC_CONTENT_TYPE};
use super::{file_name, parse, snippet, ExportError, Options, Snapshot, Summary, ACCOUNT_FILE};

struct Session<'a> {
    http: &'a Http,
    target: &'a OscTarget,
    /// The host as signed (no port, as osc-sdk-python signs it).
    host: String,
    /// The path of the API base (`/api/v1`).
    base_path: String,
    calls: usize,
}

/// Split `scheme://host[:port]/path` into the host (without port) and the path.
pub fn host_and_path(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(rest), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    (
        host.to_ascii_lowercase(),
        path.trim_end_matches('/').to_owned(),
    )
}

impl Session<'_> {
    /// One call: its JSON answer, or the error its status means.
    fn call(
        &mut self,
        op: &str,
        body: &Value,
        progress: Progress<'_>,
    ) -> Result<Value, ExportError> {
        let label = describe(op, body);
        progress(&label);
        self.calls += 1;
        let text = body.to_string();
        let url = format!("{}/{op}", self.target.api);
        let path = format!("{}/{op}", self.base_path);
        let reply = self.http.send(&label, progress, || {
            let h = osc_sign(
                &self.target.access_key,
                self.target.secret_key.expose(),
                &self.target.region,
                &self.host,
                &path,
                &text,
                jiff::Timestamp::now(),
            );
            Ok(Request {
                method: "POST",
                url: url.clone(),
                headers: vec![
                    ("Content-Type", String::from(OSC_CONTENT_TYPE)),
                    ("X-Osc-Date", h.x_osc_date),
                    ("Authorization", h.authorization),
                    ("Accept", String::from("application/json")),
                ],
                body: Some(text.clone().into_bytes()),
            })
        })?;
        if (200..300).contains(&reply.status) {
            return parse(&label, &reply.body);
        }
        // Errors are `{"Errors": [{"Code", "Type", "Details"}], "ResponseContext"}`.
        let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let detail = v
            .get("Errors")
            .and_then(Value::as_array)
            .map(|errs| {
                errs.iter()
                    .map(|e| {
                        ["Type", "Code", "Details"]
                            .iter()
                            .filter_map(|k| e.get(*k).and_then(Value::as_str))
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| snippet(&reply.body));
        if reply.status == 401 || reply.status == 403 {
            return Err(ExportError::Refused {
                call: label,
                status: reply.status,
                detail,
                help: if reply.status == 401 {
                    String::from("the access key was refused: check OSC_ACCESS_KEY and OSC_SECRET_KEY, the region, and the machine's clock (a signature is valid five minutes)")
                } else {
                    format!("the exporting EIM user lacks `api:{op}`; the README's \"policy-sim export\" section gives the minimal exporter policy")
                },
            });
        }
        Err(ExportError::Status {
            call: label,
            status: reply.status,
            detail,
        })
    }

    /// A paged list (`FirstItem` / `ResultsPerPage` / `HasMoreItems`), every page, merged into one answer.
    ///
    /// Whether `FirstItem` counts from 0 or 1 is not documented (the API's examples send 1). The first page
    /// is asked without it; each next one from the number of items received, counted from 0: if the API
    /// counts from 1, that page starts with the last item already received, which is recognised and
    /// dropped, so no item is lost either way.
    fn paged(
        &mut self,
        op: &str,
        body: Value,
        key: &str,
        opts: &Options,
        progress: Progress<'_>,
    ) -> Result<(Value, usize), ExportError> {
        let mut items: Vec<Value> = Vec::new();
        // Items received so far, as their JSON text: a page that repeats one is recognised in O(1).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut first: Option<Value> = None;
        let mut pages = 0;
        loop {
            if pages >= opts.max_pages {
                return Err(ExportError::Response {
                    call: describe(op, &body),
                    what: format!("more than {} pages; the list never ended", opts.max_pages),
                });
            }
            let mut req = body.clone();
            if let Some(obj) = req.as_object_mut() {
                if let Some(n) = opts.page_size {
                    obj.insert(String::from("ResultsPerPage"), json!(n));
                }
                if pages > 0 {
                    obj.insert(String::from("FirstItem"), json!(items.len()));
                }
            }
            let answer = self.call(op, &req, progress)?;
            pages += 1;
            let page = match answer.get(key) {
                Some(Value::Array(a)) => a.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(ExportError::Response {
                        call: describe(op, &req),
                        what: format!("`{key}` is not an array"),
                    })
                }
            };
            let mut new = 0;
            for item in page {
                if seen.insert(item.to_string()) {
                    items.push(item);
                    new += 1;
                }
            }
            let more = answer.get("HasMoreItems").and_then(Value::as_bool) == Some(true);
            if first.is_none() {
                first = Some(answer);
            }
            if !more {
                break;
            }
            if new == 0 {
                return Err(ExportError::Response {
                    call: describe(op, &req),
                    what: String::from("`HasMoreItems` is true but the page brought no new item"),
                });
            }
        }
        // The merged answer: the first page's fields, every item, and no paging fields (it is complete).
        let mut merged = match first {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for k in [
            "HasMoreItems",
            "MaxResultsLimit",
            "MaxResultsTruncated",
            "NextPageToken",
        ] {
            merged.remove(k);
        }
        merged.insert(key.to_owned(), Value::Array(items));
        Ok((Value::Object(merged), pages))
    }
}

/// `ReadUserPolicy {UserName: "bob", PolicyName: "x"}`, for messages and `snapshot.json`.
fn describe(op: &str, body: &Value) -> String {
    let args: Vec<String> = body
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "ResultsPerPage")
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        })
        .unwrap_or_default();
    if args.is_empty() {
        op.to_owned()
    } else {
        format!("{op} {{{}}}", args.join(", "))
    }
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The 12-digit account id of an ORN (`orn:ows:idauth::012345678910:policy/...`).
fn account_of(orn: &str) -> Option<String> {
    let id = orn.split(':').nth(4)?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_owned())
}

/// The file stem of a managed policy: its path and name from the ORN (`example/name`), else its name.
fn policy_stem(orn: &str) -> String {
    orn.split_once(":policy/")
        .map_or(orn, |(_, p)| p)
        .to_owned()
}

/// Keep only these keys of an object, in this order (the account file's loader knows these).
fn pick(v: &Value, keys: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            if !x.is_null() {
                m.insert((*k).to_owned(), x.clone());
            }
        }
    }
    m
}

/// Export the OUTSCALE account `target` signs in to into `opts.out`.
pub fn export(
    target: &OscTarget,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<Summary, ExportError> {
    super::check_out(&opts.out)?;
    let http = Http::new(opts.timeout, opts.retry);
    let (host, base_path) = host_and_path(&target.api);
    let mut s = Session {
        http: &http,
        target,
        host,
        base_path,
        calls: 0,
    };
    let mut snap = Snapshot::new("outscale", &target.api);
    snap.extra
        .insert(String::from("region"), json!(target.region));

    let (users, pages) = s.paged("ReadUsers", json!({}), "Users", opts, progress)?;
    snap.add(
        String::from("outscale/ReadUsers.json"),
        "ReadUsers",
        Some(pages),
        users.clone(),
    );
    let (groups, pages) = s.paged("ReadUserGroups", json!({}), "UserGroups", opts, progress)?;
    snap.add(
        String::from("outscale/ReadUserGroups.json"),
        "ReadUserGroups",
        Some(pages),
        groups.clone(),
    );

    let mut users: Vec<Value> = array(&users, "Users").to_vec();
    users.sort_by(|a, b| str_of(a, "UserName").cmp(&str_of(b, "UserName")));
    let mut groups: Vec<Value> = array(&groups, "UserGroups").to_vec();
    groups.sort_by(|a, b| str_of(a, "Name").cmp(&str_of(b, "Name")));

    let mut linked: BTreeSet<String> = BTreeSet::new();
    let mut orns: Vec<String> = Vec::new();
    let mut account_users = Vec::new();
    let mut user_inline = 0;
    for u in &users {
        let Some(name) = str_of(u, "UserName") else {
            return Err(ExportError::Response {
                call: String::from("ReadUsers"),
                what: String::from("a user without `UserName`"),
            });
        };
        let f = file_name(name);
        let mut req = json!({"UserName": name});
        if let (Some(path), Some(obj)) = (str_of(u, "Path"), req.as_object_mut()) {
            obj.insert(String::from("UserPath"), json!(path));
        }
        let per_user = s.call("ReadUserGroupsPerUser", &req, progress)?;
        snap.add(
            format!("outscale/ReadUserGroupsPerUser/{f}"),
            &describe("ReadUserGroupsPerUser", &req),
            None,
            per_user.clone(),
        );
        let (lp, pages) = s.paged(
            "ReadLinkedPolicies",
            json!({"UserName": name}),
            "Policies",
            opts,
            progress,
        )?;
        snap.add(
            format!("outscale/ReadLinkedPolicies/{f}"),
            &describe("ReadLinkedPolicies", &json!({"UserName": name})),
            Some(pages),
            lp.clone(),
        );
        let req = json!({"UserName": name});
        let names = s.call("ReadUserPolicies", &req, progress)?;
        snap.add(
            format!("outscale/ReadUserPolicies/{f}"),
            &describe("ReadUserPolicies", &req),
            None,
            names.clone(),
        );
        let mut inline = Vec::new();
        let mut policy_names: Vec<&str> = array(&names, "PolicyNames")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        policy_names.sort_unstable();
        for p in policy_names {
            let req = json!({"UserName": name, "PolicyName": p});
            let doc = s.call("ReadUserPolicy", &req, progress)?;
            snap.add(
                format!(
                    "outscale/ReadUserPolicy/{}/{}",
                    f.trim_end_matches(".json"),
                    file_name(p)
                ),
                &describe("ReadUserPolicy", &req),
                None,
                doc.clone(),
            );
            inline.push(Value::Object(pick(&doc, &["PolicyName", "PolicyDocument"])));
        }
        user_inline += inline.len();
        let links: Vec<Value> = array(&lp, "Policies")
            .iter()
            .map(|p| {
                Value::Object(pick(
                    p,
                    &[
                        "PolicyName",
                        "Orn",
                        "PolicyId",
                        "CreationDate",
                        "LastModificationDate",
                    ],
                ))
            })
            .collect();
        for p in array(&lp, "Policies") {
            if let Some(orn) = str_of(p, "Orn") {
                if linked.insert(orn.to_owned()) {
                    orns.push(orn.to_owned());
                }
            }
        }
        let mut au = pick(
            u,
            &[
                "UserName",
                "UserId",
                "Path",
                "UserEmail",
                "CreationDate",
                "LastModificationDate",
            ],
        );
        let group_names: Vec<Value> = array(&per_user, "UserGroups")
            .iter()
            .filter_map(|g| str_of(g, "Name"))
            .map(|n| json!(n))
            .collect();
        au.insert(String::from("UserGroups"), Value::Array(group_names));
        au.insert(String::from("LinkedPolicies"), Value::Array(links));
        au.insert(String::from("InlinePolicies"), Value::Array(inline));
        account_users.push(Value::Object(au));
    }

    let mut account_groups = Vec::new();
    let mut group_inline = 0;
    for g in &groups {
        let Some(name) = str_of(g, "Name") else {
            return Err(ExportError::Response {
                call: String::from("ReadUserGroups"),
                what: String::from("a user group without `Name`"),
            });
        };
        let f = file_name(name);
        let req = json!({"UserGroupName": name});
        let (lp, pages) = s.paged(
            "ReadManagedPoliciesLinkedToUserGroup",
            req.clone(),
            "Policies",
            opts,
            progress,
        )?;
        snap.add(
            format!("outscale/ReadManagedPoliciesLinkedToUserGroup/{f}"),
            &describe("ReadManagedPoliciesLinkedToUserGroup", &req),
            Some(pages),
            lp.clone(),
        );
        let mut req = json!({"UserGroupName": name});
        if let (Some(path), Some(obj)) = (str_of(g, "Path"), req.as_object_mut()) {
            obj.insert(String::from("UserGroupPath"), json!(path));
        }
        let (ip, pages) = s.paged(
            "ReadUserGroupPolicies",
            req.clone(),
            "Policies",
            opts,
            progress,
        )?;
        snap.add(
            format!("outscale/ReadUserGroupPolicies/{f}"),
            &describe("ReadUserGroupPolicies", &req),
            Some(pages),
            ip.clone(),
        );
        for p in array(&lp, "Policies") {
            if let Some(orn) = str_of(p, "Orn") {
                if linked.insert(orn.to_owned()) {
                    orns.push(orn.to_owned());
                }
            }
        }
        let inline: Vec<Value> = array(&ip, "Policies")
            .iter()
            .map(|p| Value::Object(pick(p, &["Name", "Body"])))
            .collect();
        group_inline += inline.len();
        let mut ag = Map::new();
        ag.insert(String::from("UserGroupName"), json!(name));
        ag.extend(pick(
            g,
            &[
                "UserGroupId",
                "Orn",
                "Path",
                "CreationDate",
                "LastModificationDate",
            ],
        ));
        ag.insert(
            String::from("LinkedPolicies"),
            Value::Array(
                array(&lp, "Policies")
                    .iter()
                    .map(|p| {
                        Value::Object(pick(
                            p,
                            &[
                                "PolicyName",
                                "Orn",
                                "PolicyId",
                                "CreationDate",
                                "LastModificationDate",
                            ],
                        ))
                    })
                    .collect(),
            ),
        );
        ag.insert(String::from("InlinePolicies"), Value::Array(inline));
        account_groups.push(Value::Object(ag));
    }

    orns.sort();
    let mut policies = Vec::new();
    for orn in &orns {
        let stem = file_name(&policy_stem(orn));
        let req = json!({"PolicyOrn": orn});
        let p = s.call("ReadPolicy", &req, progress)?;
        snap.add(
            format!("outscale/ReadPolicy/{stem}"),
            &describe("ReadPolicy", &req),
            None,
            p.clone(),
        );
        let policy = p.get("Policy").cloned().unwrap_or(Value::Null);
        let Some(version) = str_of(&policy, "PolicyDefaultVersionId") else {
            return Err(ExportError::Response {
                call: describe("ReadPolicy", &req),
                what: String::from("no `Policy.PolicyDefaultVersionId`"),
            });
        };
        let req = json!({"PolicyOrn": orn, "VersionId": version});
        let v = s.call("ReadPolicyVersion", &req, progress)?;
        snap.add(
            format!("outscale/ReadPolicyVersion/{stem}"),
            &describe("ReadPolicyVersion", &req),
            None,
            v.clone(),
        );
        let mut ap = pick(
            &policy,
            &[
                "PolicyName",
                "Orn",
                "PolicyId",
                "Path",
                "Description",
                "IsLinkable",
                "ResourcesCount",
                "CreationDate",
                "LastModificationDate",
                "PolicyDefaultVersionId",
            ],
        );
        let version = v
            .get("PolicyVersion")
            .map(|x| pick(x, &["VersionId", "DefaultVersion", "Body", "CreationDate"]))
            .unwrap_or_default();
        ap.insert(String::from("Versions"), json!([version]));
        policies.push(Value::Object(ap));
    }

    let account_id = groups
        .iter()
        .filter_map(|g| str_of(g, "Orn"))
        .chain(orns.iter().map(String::as_str))
        .find_map(account_of);
    snap.account = account_id.clone();
    snap.count("users", account_users.len());
    snap.count("userGroups", account_groups.len());
    snap.count("managedPolicies", policies.len());
    snap.count("userInlinePolicies", user_inline);
    snap.count("userGroupInlinePolicies", group_inline);
    let mut account = Map::new();
    if let Some(id) = account_id {
        account.insert(String::from("AccountId"), json!(id));
    }
    account.insert(String::from("Users"), Value::Array(account_users));
    account.insert(String::from("UserGroups"), Value::Array(account_groups));
    account.insert(String::from("Policies"), Value::Array(policies));
    snap.add(
        String::from(ACCOUNT_FILE),
        "(built from the calls below)",
        None,
        Value::Object(account),
    );
    snap.calls = s.calls;
    snap.write(&opts.out, jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_signed_without_port() {
        assert_eq!(
            host_and_path("https://api.eu-west-2.outscale.com/api/v1"),
            ("api.eu-west-2.outscale.com".into(), "/api/v1".into())
        );
        assert_eq!(
            host_and_path("http://127.0.0.1:8080/api/v1/"),
            ("127.0.0.1".into(), "/api/v1".into())
        );
    }

    #[test]
    fn account_ids_from_orns() {
        assert_eq!(
            account_of("orn:ows:idauth::012345678910:policy/example/p"),
            Some("012345678910".into())
        );
        assert_eq!(account_of("orn:ows:idauth::ows:policy/x"), None);
        assert_eq!(
            policy_stem("orn:ows:idauth::012345678910:policy/example/p"),
            "example/p"
        );
    }
}
