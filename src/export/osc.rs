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

/// The fields of a `ReadLinkedPolicies` / `ReadManagedPoliciesLinkedToUserGroup` item the account file keeps.
const LINK_FIELDS: &[&str] = &[
    "PolicyName",
    "Orn",
    "PolicyId",
    "CreationDate",
    "LastModificationDate",
];

/// An export under way: the session, the snapshot being filled, the managed policies linked so far.
struct Export<'a, 'p> {
    s: Session<'a>,
    snap: Snapshot,
    opts: &'a Options,
    progress: Progress<'p>,
    /// Every linked managed policy's ORN, sorted: each is read once, after the users and groups.
    linked: BTreeSet<String>,
    inline_users: usize,
    inline_groups: usize,
}

impl Export<'_, '_> {
    /// One call kept in the snapshot at `path`.
    fn call(&mut self, op: &str, req: &Value, path: String) -> Result<Value, ExportError> {
        let v = self.s.call(op, req, self.progress)?;
        self.snap.add(path, &describe(op, req), None, v.clone());
        Ok(v)
    }

    /// One paged list kept in the snapshot at `path`, its pages merged.
    fn paged(
        &mut self,
        op: &str,
        req: Value,
        key: &str,
        path: String,
    ) -> Result<Value, ExportError> {
        let label = describe(op, &req);
        let (v, pages) = self.s.paged(op, req, key, self.opts, self.progress)?;
        self.snap.add(path, &label, Some(pages), v.clone());
        Ok(v)
    }

    /// The linked policies of a `Policies` answer, for the account file; their ORNs are remembered.
    fn links(&mut self, answer: &Value) -> Value {
        let items = array(answer, "Policies");
        self.linked.extend(
            items
                .iter()
                .filter_map(|p| str_of(p, "Orn"))
                .map(str::to_owned),
        );
        Value::Array(
            items
                .iter()
                .map(|p| Value::Object(pick(p, LINK_FIELDS)))
                .collect(),
        )
    }

    /// A user of `ReadUsers`: its groups, linked policies and inline policies, as the account file has it.
    fn user(&mut self, u: &Value) -> Result<Value, ExportError> {
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
        let groups = self.call(
            "ReadUserGroupsPerUser",
            &req,
            format!("outscale/ReadUserGroupsPerUser/{f}"),
        )?;
        let req = json!({"UserName": name});
        let linked = self.paged(
            "ReadLinkedPolicies",
            req.clone(),
            "Policies",
            format!("outscale/ReadLinkedPolicies/{f}"),
        )?;
        let names = self.call(
            "ReadUserPolicies",
            &req,
            format!("outscale/ReadUserPolicies/{f}"),
        )?;
        let mut policy_names: Vec<&str> = array(&names, "PolicyNames")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        policy_names.sort_unstable();
        let mut inline = Vec::new();
        for p in policy_names {
            let req = json!({"UserName": name, "PolicyName": p});
            let dir = f.trim_end_matches(".json");
            let doc = self.call(
                "ReadUserPolicy",
                &req,
                format!("outscale/ReadUserPolicy/{dir}/{}", file_name(p)),
            )?;
            inline.push(Value::Object(pick(&doc, &["PolicyName", "PolicyDocument"])));
        }
        self.inline_users += inline.len();
        let mut out = pick(
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
        let group_names = array(&groups, "UserGroups")
            .iter()
            .filter_map(|g| str_of(g, "Name"))
            .map(|n| json!(n));
        out.insert(
            String::from("UserGroups"),
            Value::Array(group_names.collect()),
        );
        out.insert(String::from("LinkedPolicies"), self.links(&linked));
        out.insert(String::from("InlinePolicies"), Value::Array(inline));
        Ok(Value::Object(out))
    }

    /// A group of `ReadUserGroups`: its linked and inline policies, as the account file has it (members are
    /// given on the users' side).
    fn group(&mut self, g: &Value) -> Result<Value, ExportError> {
        let Some(name) = str_of(g, "Name") else {
            return Err(ExportError::Response {
                call: String::from("ReadUserGroups"),
                what: String::from("a user group without `Name`"),
            });
        };
        let f = file_name(name);
        let req = json!({"UserGroupName": name});
        let linked = self.paged(
            "ReadManagedPoliciesLinkedToUserGroup",
            req,
            "Policies",
            format!("outscale/ReadManagedPoliciesLinkedToUserGroup/{f}"),
        )?;
        let mut req = json!({"UserGroupName": name});
        if let (Some(path), Some(obj)) = (str_of(g, "Path"), req.as_object_mut()) {
            obj.insert(String::from("UserGroupPath"), json!(path));
        }
        let inline = self.paged(
            "ReadUserGroupPolicies",
            req,
            "Policies",
            format!("outscale/ReadUserGroupPolicies/{f}"),
        )?;
        let inline: Vec<Value> = array(&inline, "Policies")
            .iter()
            .map(|p| Value::Object(pick(p, &["Name", "Body"])))
            .collect();
        self.inline_groups += inline.len();
        let mut out = Map::new();
        out.insert(String::from("UserGroupName"), json!(name));
        out.extend(pick(
            g,
            &[
                "UserGroupId",
                "Orn",
                "Path",
                "CreationDate",
                "LastModificationDate",
            ],
        ));
        out.insert(String::from("LinkedPolicies"), self.links(&linked));
        out.insert(String::from("InlinePolicies"), Value::Array(inline));
        Ok(Value::Object(out))
    }

    /// A linked managed policy and its default version (the only one that applies).
    fn policy(&mut self, orn: &str) -> Result<Value, ExportError> {
        let stem = file_name(&policy_stem(orn));
        let req = json!({"PolicyOrn": orn});
        let answer = self.call("ReadPolicy", &req, format!("outscale/ReadPolicy/{stem}"))?;
        let policy = answer.get("Policy").cloned().unwrap_or(Value::Null);
        let Some(version) = str_of(&policy, "PolicyDefaultVersionId") else {
            return Err(ExportError::Response {
                call: describe("ReadPolicy", &req),
                what: String::from("no `Policy.PolicyDefaultVersionId`"),
            });
        };
        let req = json!({"PolicyOrn": orn, "VersionId": version});
        let v = self.call(
            "ReadPolicyVersion",
            &req,
            format!("outscale/ReadPolicyVersion/{stem}"),
        )?;
        let mut out = pick(
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
        out.insert(String::from("Versions"), json!([version]));
        Ok(Value::Object(out))
    }
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
    let mut snap = Snapshot::new("outscale", &target.api);
    snap.extra
        .insert(String::from("region"), json!(target.region));
    let mut e = Export {
        s: Session {
            http: &http,
            target,
            host,
            base_path,
            calls: 0,
        },
        snap,
        opts,
        progress,
        linked: BTreeSet::new(),
        inline_users: 0,
        inline_groups: 0,
    };
    let users = e.paged(
        "ReadUsers",
        json!({}),
        "Users",
        String::from("outscale/ReadUsers.json"),
    )?;
    let groups = e.paged(
        "ReadUserGroups",
        json!({}),
        "UserGroups",
        String::from("outscale/ReadUserGroups.json"),
    )?;
    let mut users: Vec<Value> = array(&users, "Users").to_vec();
    users.sort_by(|a, b| str_of(a, "UserName").cmp(&str_of(b, "UserName")));
    let mut groups: Vec<Value> = array(&groups, "UserGroups").to_vec();
    groups.sort_by(|a, b| str_of(a, "Name").cmp(&str_of(b, "Name")));

    let account_users = users
        .iter()
        .map(|u| e.user(u))
        .collect::<Result<Vec<_>, _>>()?;
    let account_groups = groups
        .iter()
        .map(|g| e.group(g))
        .collect::<Result<Vec<_>, _>>()?;
    let orns: Vec<String> = e.linked.iter().cloned().collect();
    let policies = orns
        .iter()
        .map(|orn| e.policy(orn))
        .collect::<Result<Vec<_>, _>>()?;

    let account_id = groups
        .iter()
        .filter_map(|g| str_of(g, "Orn"))
        .chain(orns.iter().map(String::as_str))
        .find_map(account_of);
    let mut snap = e.snap;
    snap.account = account_id.clone();
    snap.count("users", account_users.len());
    snap.count("userGroups", account_groups.len());
    snap.count("managedPolicies", policies.len());
    snap.count("userInlinePolicies", e.inline_users);
    snap.count("userGroupInlinePolicies", e.inline_groups);
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
    snap.calls = e.s.calls;
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
