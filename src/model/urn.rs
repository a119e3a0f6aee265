//! OVHcloud URNs (the domain notes §1.4): `urn:v1:{eu|ca|us}:{identity|resource|resourceGroup|permissionsGroup}:...`,
//! parsed into their parts. A malformed URN is an error naming the value and the expected form.

use std::fmt;

/// The region "plate" of a URN.
pub const REGIONS: [&str; 3] = ["eu", "ca", "us"];

/// The kind of an identity URN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// `account:{nic}`: the account's root login (not its local users).
    Account,
    /// `user:{nic}/{login}`: a local user.
    User,
    /// `group:{nic}/{group}`: a user group.
    Group,
    /// `credential:{nic}/oauth2-{clientId}`: a service account.
    Credential,
}

impl IdentityKind {
    pub fn name(self) -> &'static str {
        match self {
            IdentityKind::Account => "account",
            IdentityKind::User => "user",
            IdentityKind::Group => "group",
            IdentityKind::Credential => "credential",
        }
    }
}

/// A parsed identity URN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdentityUrn {
    pub raw: Box<str>,
    pub region: Box<str>,
    pub kind: IdentityKind,
    /// The account (nic) the identity belongs to.
    pub account: Box<str>,
    /// The login, group name or `oauth2-{clientId}`; empty for an account.
    pub name: Box<str>,
}

impl fmt::Display for IdentityUrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A parsed resource URN (`urn:v1:eu:resource:{type}:{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceUrn {
    pub raw: Box<str>,
    pub region: Box<str>,
    pub resource_type: Box<str>,
    pub id: Box<str>,
}

const IDENTITY_FORM: &str =
    "`urn:v1:{eu|ca|us}:identity:{account|user|group|credential}:{nic}[/{name}]`";
const RESOURCE_FORM: &str = "`urn:v1:{eu|ca|us}:resource:{resourceType}:{id}`";

/// Characters a URN may hold: printable ASCII, no white space. Unicode look-alikes (`ｕｒｎ`, a Cyrillic `е`)
/// and spaces are refused with the offending character named.
fn check_chars(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(String::from("it is empty"));
    }
    // Printable ASCII, without a space: what nearly every URN is, checked without branches.
    if s.bytes().fold(true, |ok, b| ok & b.is_ascii_graphic()) {
        return Ok(());
    }
    for (i, c) in s.char_indices() {
        if c.is_whitespace() || c.is_control() {
            return Err(format!(
                "it contains white space or a control character ({c:?}) at byte {i}"
            ));
        }
        if !c.is_ascii() {
            return Err(format!(
                "it contains the non-ASCII character `{c}` (U+{:04X}) at byte {i}; URNs are ASCII",
                c as u32
            ));
        }
    }
    Ok(())
}

fn region_ok(region: &str) -> Result<(), String> {
    if REGIONS.contains(&region) {
        Ok(())
    } else {
        Err(format!(
            "the region is `{region}`, expected one of `eu`, `ca`, `us`"
        ))
    }
}

/// Check `urn:v1:{region}:{category}:` and return the region and what follows.
fn head<'a>(raw: &'a str, category: &str) -> Result<(&'a str, &'a str), String> {
    // A well-formed head, matched in place (a request's resource URN is checked on every line of a batch);
    // anything else goes through the splitting below, which words the error.
    let well_formed = raw.strip_prefix("urn:v1:").and_then(|r| {
        let region = r.get(..2).filter(|g| REGIONS.contains(g))?;
        let rest = r.get(2..)?.strip_prefix(':')?.strip_prefix(category)?;
        Some((region, rest.strip_prefix(':')?))
    });
    if let Some(found) = well_formed {
        return Ok(found);
    }
    let [Some("urn"), Some(version), Some(region), Some(cat), Some(rest)] = fields(raw) else {
        return Err(String::from(
            "it does not start with `urn:v1:{region}:{category}:`",
        ));
    };
    if version != "v1" {
        return Err(format!("the version is `{version}`, expected `v1`"));
    }
    region_ok(region)?;
    if cat != category {
        return Err(format!("the category is `{cat}`, expected `{category}`"));
    }
    Ok((region, rest))
}

impl IdentityUrn {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let fail = |why: String| {
            format!("malformed identity URN `{raw}`: {why}; expected {IDENTITY_FORM}")
        };
        check_chars(raw).map_err(fail)?;
        let (region, rest) = head(raw, "identity").map_err(fail)?;
        let (kind, body) = rest
            .split_once(':')
            .ok_or_else(|| fail(String::from("the identity kind is missing")))?;
        let kind = match kind {
            "account" => IdentityKind::Account,
            "user" => IdentityKind::User,
            "group" => IdentityKind::Group,
            "credential" => IdentityKind::Credential,
            other => return Err(fail(format!("the identity kind is `{other}`, expected `account`, `user`, `group` or `credential`"))),
        };
        let (account, name) = match kind {
            IdentityKind::Account => {
                if body.contains('/') {
                    return Err(fail(String::from(
                        "an account URN names only the account: `...:account:{nic}`",
                    )));
                }
                (body, "")
            }
            _ => body
                .split_once('/')
                .ok_or_else(|| fail(format!("a {} URN needs `{{nic}}/{{name}}`", kind.name())))?,
        };
        if account.is_empty() {
            return Err(fail(String::from("the account (nic) is empty")));
        }
        if kind != IdentityKind::Account && name.is_empty() {
            return Err(fail(format!("the {} name after `/` is empty", kind.name())));
        }
        if kind == IdentityKind::Credential && !name.starts_with("oauth2-") {
            return Err(fail(format!(
                "a service-account name is `oauth2-{{clientId}}`, found `{name}`"
            )));
        }
        Ok(IdentityUrn {
            raw: raw.into(),
            region: region.into(),
            kind,
            account: account.into(),
            name: name.into(),
        })
    }

    /// The URN of the group a local user of the same account belongs to.
    pub fn group_urn(&self, group: &str) -> String {
        format!(
            "urn:v1:{}:identity:group:{}/{}",
            self.region, self.account, group
        )
    }
}

impl ResourceUrn {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (region, resource_type, id) = Self::parts(raw)?;
        Ok(ResourceUrn {
            raw: raw.into(),
            region: region.into(),
            resource_type: resource_type.into(),
            id: id.into(),
        })
    }

    /// Check a request's resource URN as [`ResourceUrn::parse`] does, without building it: its type.
    pub fn type_of(raw: &str) -> Result<&str, String> {
        Self::parts(raw).map(|(_, resource_type, _)| resource_type)
    }

    /// A resource URN's region, type and id, checked.
    fn parts(raw: &str) -> Result<(&str, &str, &str), String> {
        let fail = |why: String| {
            format!("malformed resource URN `{raw}`: {why}; expected {RESOURCE_FORM}")
        };
        check_chars(raw).map_err(fail)?;
        if raw.contains('*') {
            return Err(fail(String::from(
                "a request names one concrete resource, without `*`",
            )));
        }
        let (region, rest) = head(raw, "resource").map_err(fail)?;
        let (rtype, id) = rest.split_once(':').ok_or_else(|| {
            fail(String::from(
                "it has no `{resourceType}:{id}` after `resource:`",
            ))
        })?;
        if rtype.is_empty() || !rtype.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(fail(format!(
                "the resource type `{rtype}` is not a word like `vps` or `publicCloudProject`"
            )));
        }
        if id.is_empty() {
            return Err(fail(String::from("the resource id is empty")));
        }
        Ok((region, rtype, id))
    }
}

/// What a resource pattern in a policy (`resources[].urn`) refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// A resource URN, possibly with a wildcard.
    Pattern,
    /// `urn:v1:{region}:resourceGroup:{id}`: the resources of a group.
    Group,
}

/// Check a resource pattern from a policy: a resource URN, a resource-group URN, or a prefix of a resource
/// URN followed by `*`. Returns what it refers to, and whether it has an unsupported `*` (leading or
/// inner, the domain notes §1.3) — which is accepted here and read by the evaluator on the safe side.
pub fn check_resource_pattern(raw: &str) -> Result<(ResourceRef, bool), String> {
    let fail = |why: String| {
        format!("malformed resource URN `{raw}`: {why}; expected {RESOURCE_FORM}, a prefix of one ending with `*`, or `urn:v1:{{region}}:resourceGroup:{{id}}`")
    };
    check_chars(raw).map_err(fail)?;
    let body = raw.strip_suffix('*').unwrap_or(raw);
    // A lone `*` is a leading `*` as much as a trailing one: unsupported, like any leading `*`.
    let unsupported = body.contains('*') || body.is_empty();
    if unsupported {
        // Leading or inner `*`: its shape cannot be checked piece by piece; the evaluator reads it literally
        // in an allow and as a wildcard in a deny.
        return Ok((ResourceRef::Pattern, true));
    }
    let trailing = body.len() != raw.len();
    let fields: Vec<&str> = body.split(':').collect();
    // Each complete field is checked; with a trailing `*` the last one may be partial.
    // A field matches one of its allowed values, or (the partial last field before `*`) a prefix of one.
    let one_of = |f: &str, partial: bool, allowed: &[&str]| {
        allowed
            .iter()
            .any(|a| if partial { a.starts_with(f) } else { *a == f })
    };
    let expect = |i: usize, f: &str, partial: bool| match i {
        0 => one_of(f, partial, &["urn"]),
        1 => one_of(f, partial, &["v1"]),
        2 => one_of(f, partial, &REGIONS),
        3 => one_of(f, partial, &["resource", "resourceGroup"]),
        // A resource type is a word; a resource group's id (field 4 too) is a UUID.
        4 if fields.get(3) == Some(&"resourceGroup") => true,
        4 => f.bytes().all(|b| b.is_ascii_alphanumeric()),
        _ => true,
    };
    for (i, field) in fields.iter().enumerate() {
        let partial = trailing && i + 1 == fields.len();
        if i < 5 && (!expect(i, field, partial) || (!partial && field.is_empty())) {
            let what = [
                "`urn`",
                "`v1`",
                "a region `eu`, `ca` or `us`",
                "`resource` or `resourceGroup`",
                "a resource type",
            ];
            return Err(fail(format!(
                "part {} is `{field}`, expected {}",
                i + 1,
                what.get(i).copied().unwrap_or("?")
            )));
        }
    }
    let category = fields.get(3).copied().unwrap_or("");
    if category == "resourceGroup" {
        if trailing {
            return Err(fail(String::from("a resource-group URN takes no `*`")));
        }
        if fields.len() != 5 || fields.get(4).is_some_and(|f| f.is_empty()) {
            return Err(fail(String::from(
                "a resource-group URN is `urn:v1:{region}:resourceGroup:{id}`",
            )));
        }
        return Ok((ResourceRef::Group, false));
    }
    if !trailing {
        ResourceUrn::parse(raw)?;
    }
    Ok((ResourceRef::Pattern, false))
}

/// The first `N - 1` fields of an identifier (`urn:v1:...`, `orn:ows:...`) split at `:`, then the rest, as
/// `splitn(N, ':')` gives them; `None` for each field the text does not have.
pub fn fields<const N: usize>(raw: &str) -> [Option<&str>; N] {
    let mut parts = raw.splitn(N, ':');
    std::array::from_fn(|_| parts.next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_in_order_and_keep_the_rest() {
        assert_eq!(fields::<3>("a:b:c:d"), [Some("a"), Some("b"), Some("c:d")]);
        assert_eq!(fields::<3>("a"), [Some("a"), None, None]);
    }

    #[test]
    fn identities() {
        let u = IdentityUrn::parse("urn:v1:eu:identity:user:xx1111-ovh/user1").ok();
        assert_eq!(
            u.as_ref().map(|u| (u.kind, &*u.account, &*u.name)),
            Some((IdentityKind::User, "xx1111-ovh", "user1"))
        );
        assert_eq!(
            u.map(|u| u.group_urn("admins")).as_deref(),
            Some("urn:v1:eu:identity:group:xx1111-ovh/admins")
        );
        assert!(IdentityUrn::parse(
            "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f"
        )
        .is_ok());
        assert!(IdentityUrn::parse("urn:v1:eu:identity:account:xx1111-ovh").is_ok());
        for bad in [
            "urn:v1:fr:identity:user:a/b",
            "urn:v1:eu:identity:robot:a",
            "urn:v1:eu:identity:user:a",
            "urn:v1:eu:identity:user:a/ b",
            "urn:v1:eu:identity:user:a/",
            "urn:v1:eu:identity:credential:a/b",
            "",
        ] {
            assert!(IdentityUrn::parse(bad).is_err(), "{bad}");
        }
        let e = IdentityUrn::parse("urn:v1:eu:identity:user:xx1111-оvh/u")
            .err()
            .unwrap_or_default();
        assert!(e.contains("U+043E"), "{e}");
    }

    /// A request's resource URN: a well-formed head is matched in place, anything else is worded by the
    /// general reading; both must agree on what is accepted.
    #[test]
    fn request_resources_by_their_head() {
        for region in REGIONS {
            let urn = format!("urn:v1:{region}:resource:vps:vps-1.vps.ovh.net");
            assert_eq!(ResourceUrn::type_of(&urn), Ok("vps"), "{urn}");
        }
        for (bad, why) in [
            ("urn:v1:fr:resource:vps:x", "the region is `fr`"),
            ("urn:v1:eux:resource:vps:x", "the region is `eux`"),
            ("urn:v1:e:resource:vps:x", "the region is `e`"),
            ("urn:v2:eu:resource:vps:x", "the version is `v2`"),
            ("urn:v1:eu:resources:vps:x", "the category is `resources`"),
            ("urn:v1:eu:resource", "does not start with"),
            ("urn:v1:euresource:vps:x", "the region is `euresource`"),
            ("urn:v1:eu:resourcevps:x", "the category is `resourcevps`"),
            ("urn:v1:eu:resource:vps", "no `{resourceType}:{id}`"),
        ] {
            let e = ResourceUrn::type_of(bad).err().unwrap_or_default();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn resource_patterns() {
        let ok = |s: &str| check_resource_pattern(s).map(|(_, unsupported)| unsupported);
        assert_eq!(ok("urn:v1:eu:resource:vps:vps-1.vps.ovh.net"), Ok(false));
        assert_eq!(ok("urn:v1:eu:resource:vps:*"), Ok(false));
        assert_eq!(ok("urn:v1:eu:resource:*"), Ok(false));
        assert_eq!(ok("urn:v1:eu:res*"), Ok(false));
        assert_eq!(ok("*"), Ok(true));
        assert_eq!(ok("urn:v1:eu:resource:*:x"), Ok(true));
        assert_eq!(
            check_resource_pattern("urn:v1:eu:resourceGroup:123").map(|r| r.0),
            Ok(ResourceRef::Group)
        );
        assert_eq!(
            check_resource_pattern("urn:v1:eu:resourceGroup:3a1e5b2c-7d4f-4e8a-9b6c-0d1e2f3a4b5c")
                .map(|r| r.0),
            Ok(ResourceRef::Group),
            "resource-group ids are UUIDs"
        );
        for bad in [
            "urn:v1:eu:resource:vps",
            "urn:v2:eu:resource:vps:x",
            "urn:v1:xx:*",
            "urn:v1:eu:identity:vps:x",
            "urn:v1:eu:resource:vps:",
        ] {
            assert!(check_resource_pattern(bad).is_err(), "{bad}");
        }
    }
}
