//! Raw serde shapes: they mirror the clouds' JSON exactly (field names, nullability) and carry no
//! semantics. `validate` turns them into the model.
//!
//! They serialise back to the same JSON (absent fields stay absent), so a loaded set can be written out and
//! read again. Duplicate keys never reach these shapes: `load` refuses them first (see `scan`), even inside
//! the `Value` fields kept as written.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// What kind of JSON value `v` is, with its article (`an array`), for messages saying what was found.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------- OVHcloud

/// Any object `GET /v2/iam/policy`, `GET /v2/iam/permissionsGroup`, `GET /v2/iam/resourceGroup` or
/// `GET /v2/iam/resource` returns. Which one it is follows from its `urn` (policies have none; a resource's
/// contains `:resource:`). Its strings borrow from the file's text
/// ([`Text`]): reading ten thousand policies allocates little more than their lists.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OvhObject<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub urn: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<Text<'a>>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<OvhResource<'a>>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<OvhPermissions<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub permissions_groups: Option<Vec<OvhUrnRef<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<OvhCondition>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Text<'a>>,
    /// A resource's (`GET /v2/iam/resource`) display name.
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Text<'a>>,
    /// A resource's type (`vps`, `dnsZone`, ...).
    #[serde(borrow, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text<'a>>,
    /// A resource's tags (`{"env": "prod"}`), the values of `resource.Tag(...)` conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

/// `resources[]` of a policy (`{urn}`; `group` or `resource` details come with `?details=true`) or of a
/// resource group (`{id}` alone without `?details=true`; `{id, urn, name, displayName, type, owner, tags}`
/// with it).
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OvhResource<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub urn: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Text<'a>>,
    #[serde(borrow, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text<'a>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct OvhUrnRef<'a> {
    #[serde(borrow)]
    pub urn: Text<'a>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct OvhPermissions<'a> {
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<OvhAction<'a>>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<OvhAction<'a>>>,
    #[serde(borrow, skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<OvhAction<'a>>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct OvhAction<'a> {
    #[serde(borrow)]
    pub action: Text<'a>,
}

/// A JSON string of a raw shape: borrowed from the text when it has no escape, else unescaped into its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub std::borrow::Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct OvhCondition {
    pub operator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<UniqueMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<OvhCondition>>,
}

/// The OVHcloud account file: local users and their groups (`GET /me/identity/user/{login}` objects).
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct OvhAccount {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub users: Vec<OvhUser>,
    /// User groups as `GET /me/identity/group/{group}` returns them: groups known to exist even when no
    /// listed user belongs to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<OvhGroup>,
    /// Service accounts as `GET /me/api/oauth2/client/{clientId}` returns them.
    #[serde(
        default,
        rename = "oauth2Clients",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub oauth2_clients: Vec<OvhClient>,
}

/// A user group (`auth.Group`); only `name` (and `urn`, when given) matter, the other fields are accepted.
#[derive(Debug, Deserialize, Serialize)]
pub struct OvhGroup {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
}

/// A service account (`oauth2.client`); only `clientId` and `identity` matter, the other fields are accepted.
#[derive(Debug, Deserialize, Serialize)]
pub struct OvhClient {
    #[serde(rename = "clientId")]
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// A local user as the API returns it; only `login` and `group` matter, the other fields are accepted.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
pub struct OvhUser {
    pub login: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
}

// ---------------------------------------------------------------- OUTSCALE EIM

/// A policy document.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimDocument {
    #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "Statement")]
    pub statement: OneOrMany<EimStatement>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimStatement {
    #[serde(rename = "Sid", skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(
        rename = "Effect",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub effect: Option<String>,
    #[serde(
        rename = "Action",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub action: Option<OneOrMany<String>>,
    #[serde(
        rename = "NotAction",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(
        rename = "Resource",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource: Option<OneOrMany<String>>,
    #[serde(
        rename = "NotResource",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_resource: Option<OneOrMany<String>>,
    #[serde(
        rename = "Condition",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub condition: Option<Value>,
}

/// The EIM account file (SEMANTICS.md "Account files"): the OUTSCALE API's own field names, so pieces of
/// `ReadUsers`, `ReadUserGroup`, `ReadPolicy`, `ReadPolicyVersion` output paste in.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[serde(remote = "Self")]
pub struct EimAccount {
    #[serde(rename = "AccountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(rename = "Users", skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<EimUser>>,
    #[serde(rename = "UserGroups", skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Vec<EimGroup>>,
    #[serde(rename = "Policies", skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<EimManaged>>,
    #[serde(rename = "ResponseContext", skip_serializing_if = "Option::is_none")]
    pub response_context: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimUser {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "UserGroups", skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Vec<String>>,
    #[serde(rename = "LinkedPolicies", skip_serializing_if = "Option::is_none")]
    pub linked_policies: Option<Vec<Value>>,
    #[serde(rename = "InlinePolicies", skip_serializing_if = "Option::is_none")]
    pub inline_policies: Option<Vec<EimInline>>,
    #[serde(rename = "UserId", skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(rename = "Path", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(rename = "UserEmail", skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    /// `ReadUsers`: whether the user may log in to Cockpit (no bearing on EIM policies).
    #[serde(
        rename = "OutscaleLoginAllowed",
        skip_serializing_if = "Option::is_none"
    )]
    pub outscale_login_allowed: Option<bool>,
    #[serde(rename = "CreationDate", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(
        rename = "LastModificationDate",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modification_date: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimGroup {
    #[serde(rename = "UserGroupName", alias = "Name")]
    pub name: String,
    #[serde(rename = "Users", skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<Value>>,
    #[serde(rename = "LinkedPolicies", skip_serializing_if = "Option::is_none")]
    pub linked_policies: Option<Vec<Value>>,
    #[serde(rename = "InlinePolicies", skip_serializing_if = "Option::is_none")]
    pub inline_policies: Option<Vec<EimInline>>,
    #[serde(rename = "UserGroupId", skip_serializing_if = "Option::is_none")]
    pub user_group_id: Option<String>,
    #[serde(rename = "Orn", skip_serializing_if = "Option::is_none")]
    pub orn: Option<String>,
    #[serde(rename = "Path", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(rename = "CreationDate", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(
        rename = "LastModificationDate",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modification_date: Option<String>,
}

/// An inline policy: `ReadUserPolicy` gives `PolicyName` + `PolicyDocument`, `ReadUserGroupPolicies`
/// gives `Name` + `Body`; both spellings are accepted. The document is a JSON string or an object.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimInline {
    #[serde(rename = "PolicyName", alias = "Name")]
    pub name: String,
    #[serde(rename = "PolicyDocument", alias = "Body", alias = "Document")]
    pub document: Value,
    #[serde(rename = "UserName", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(rename = "UserGroupName", skip_serializing_if = "Option::is_none")]
    pub user_group_name: Option<String>,
}

/// A managed policy (`ReadPolicy`'s `Policy`), with its document(s).
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimManaged {
    #[serde(rename = "PolicyName")]
    pub name: String,
    #[serde(rename = "Orn", skip_serializing_if = "Option::is_none")]
    pub orn: Option<String>,
    #[serde(
        rename = "PolicyDefaultVersionId",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_version_id: Option<String>,
    #[serde(
        rename = "Document",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub document: Option<Value>,
    #[serde(rename = "Versions", skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<EimVersion>>,
    #[serde(rename = "PolicyId", skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(rename = "Path", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "IsLinkable", skip_serializing_if = "Option::is_none")]
    pub is_linkable: Option<bool>,
    #[serde(rename = "ResourcesCount", skip_serializing_if = "Option::is_none")]
    pub resources_count: Option<u64>,
    #[serde(rename = "CreationDate", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(
        rename = "LastModificationDate",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modification_date: Option<String>,
}

/// `ReadPolicyVersion`'s `PolicyVersion`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimVersion {
    #[serde(rename = "VersionId")]
    pub version_id: String,
    #[serde(rename = "DefaultVersion", skip_serializing_if = "Option::is_none")]
    pub default_version: Option<bool>,
    #[serde(rename = "Body")]
    pub body: Value,
    #[serde(rename = "CreationDate", skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
}

/// `ReadPolicyVersion` output (`PolicyVersion`) or `ReadUserPolicy` / `ReadUserGroupPolicy` output
/// (`PolicyName` + `PolicyDocument`), passed as a policy file.
#[derive(Debug, Deserialize, Serialize)]
#[serde(remote = "Self")]
#[serde(deny_unknown_fields)]
pub struct EimWrapped {
    #[serde(rename = "PolicyVersion", skip_serializing_if = "Option::is_none")]
    pub version: Option<EimVersion>,
    #[serde(rename = "PolicyDocument", skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    #[serde(rename = "PolicyName", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "UserName", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(rename = "UserGroupName", skip_serializing_if = "Option::is_none")]
    pub user_group_name: Option<String>,
    #[serde(rename = "ResponseContext", skip_serializing_if = "Option::is_none")]
    pub response_context: Option<Value>,
}

// ---------------------------------------------------------------- shipped data

/// `policies/openstack-role-matrix.json`.
#[derive(Debug, Deserialize, Serialize)]
pub struct MatrixFile {
    pub source: String,
    pub permissions: Vec<crate::model::matrix::Permission>,
    pub roles: Vec<MatrixRole>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixRole {
    pub action: String,
    pub permissions: Vec<String>,
}

// ---------------------------------------------------------------- helpers

/// The raw objects are JSON objects only. serde's derive also reads a struct from an array, field by field
/// in order, so `"permissions": [[{"action": "*"}]]` would silently become an `allow`: each struct is
/// derived with `remote = "Self"` and its `Deserialize` accepts a JSON object and nothing else, naming what
/// was expected.
macro_rules! objects_only {
    ($($t:ident: $what:literal,)*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$t, A::Error> {
                        $t::deserialize(de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(V)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $t::serialize(self, s)
            }
        }
    )*};
}

/// [`objects_only!`] for the shapes that borrow from the text.
macro_rules! borrowed_objects_only {
    ($($t:ident: $what:literal,)*) => {$(
        impl<'de: 'a, 'a> Deserialize<'de> for $t<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                    type Value = $t<'a>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$t<'a>, A::Error> {
                        $t::deserialize(de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(V(std::marker::PhantomData))
            }
        }

        impl Serialize for $t<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $t::serialize(self, s)
            }
        }
    )*};
}

borrowed_objects_only! {
    OvhObject: "an OVHcloud policy, permission group or resource group object",
    OvhResource: "a resource object `{\"urn\": ...}`",
    OvhUrnRef: "an object `{\"urn\": ...}`",
    OvhPermissions: "an object `{\"allow\"?, \"except\"?, \"deny\"?}`",
    OvhAction: "an action object `{\"action\": ...}`",
}

objects_only! {
    OvhCondition: "a condition object `{\"operator\", \"values\" | \"conditions\"}`",
    OvhAccount: "an OVHcloud account object `{\"account\", \"region\"?, \"users\"}`",
    OvhUser: "a user object `{\"login\", \"group\"?}`",
    EimDocument: "a policy document object `{\"Version\"?, \"Statement\"}`",
    EimStatement: "a statement object `{\"Effect\", \"Action\", \"Resource\"}`",
    EimUser: "a user object `{\"UserName\", ...}`",
    EimGroup: "a group object `{\"UserGroupName\", ...}`",
    EimInline: "an inline policy object `{\"PolicyName\", \"PolicyDocument\"}`",
    EimManaged: "a managed policy object `{\"PolicyName\", \"Document\" | \"Versions\"}`",
    EimVersion: "a policy version object `{\"VersionId\", \"Body\"}`",
    EimAccount: "an OUTSCALE account object `{\"AccountId\"?, \"Users\"?, \"UserGroups\"?, \"Policies\"?}`",
    EimWrapped: "the output of ReadPolicyVersion or ReadUserPolicy",
}

/// A field given `null` is `Some(Value::Null)`-like: present, so `validate` says it is wrong, instead of
/// reading it as absent (an EIM `"Condition": null` read as "no condition" would grant).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// What one item of a [`OneOrMany`] is, for error messages.
pub trait Described {
    /// "a string or an array of strings".
    const ONE_OR_MANY: &'static str;
}

impl Described for String {
    const ONE_OR_MANY: &'static str = "a string or an array of strings";
}

impl Described for EimStatement {
    const ONE_OR_MANY: &'static str = "a statement object or an array of statement objects";
}

/// A value EIM accepts as a single item or an array (`"Action": "*"` or `"Action": ["*"]`).
#[derive(Debug)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de> + Described> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Described> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(T::ONE_OR_MANY)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// A JSON object of strings whose keys must be unique: a duplicate key is an error, not a silent overwrite.
#[derive(Debug, Default)]
pub struct UniqueMap(pub IndexMap<String, String>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = IndexMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if out.contains_key(&k) {
                        return Err(de::Error::custom(format_args!("duplicate key `{k}`")));
                    }
                    out.insert(k, v);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for UniqueMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The top-level keys of an object, values skipped: enough to tell what a file is before parsing it typed.
pub struct TopKeys(pub Vec<String>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object or array")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(TopKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}
