//! Raw serde shapes: they mirror the clouds' JSON exactly (field names, nullability) and carry no
//! semantics. `validate` turns them into the model.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

// ---------------------------------------------------------------- OVHcloud

/// Any object `GET /v2/iam/policy`, `GET /v2/iam/permissionsGroup` or `GET /v2/iam/resourceGroup` returns.
/// Which one it is follows from its `urn` (policies have none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OvhObject {
    pub id: Option<String>,
    pub urn: Option<String>,
    pub owner: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub read_only: Option<bool>,
    pub identities: Option<Vec<String>>,
    pub resources: Option<Vec<OvhResource>>,
    pub permissions: Option<OvhPermissions>,
    pub permissions_groups: Option<Vec<OvhUrnRef>>,
    pub conditions: Option<OvhCondition>,
    pub expired_at: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// `resources[]`; `group` and `resource` come with `?details=true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhResource {
    pub urn: String,
    pub group: Option<Value>,
    pub resource: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhUrnRef {
    pub urn: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhPermissions {
    pub allow: Option<Vec<OvhAction>>,
    pub except: Option<Vec<OvhAction>>,
    pub deny: Option<Vec<OvhAction>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhAction {
    pub action: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhCondition {
    pub operator: String,
    pub values: Option<UniqueMap>,
    pub conditions: Option<Vec<OvhCondition>>,
}

/// The OVHcloud account file: local users and their groups (`GET /me/identity/user/{login}` objects).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OvhAccount {
    pub account: String,
    pub region: Option<String>,
    pub users: Vec<OvhUser>,
}

/// A local user as the API returns it; only `login` and `group` matter, the other fields are accepted.
#[derive(Debug, Deserialize)]
pub struct OvhUser {
    pub login: String,
    pub group: Option<String>,
    pub urn: Option<String>,
}

// ---------------------------------------------------------------- OUTSCALE EIM

/// A policy document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimDocument {
    #[serde(rename = "Version")]
    pub version: Option<String>,
    #[serde(rename = "Statement")]
    pub statement: OneOrMany<EimStatement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimStatement {
    #[serde(rename = "Sid")]
    pub sid: Option<String>,
    #[serde(rename = "Effect")]
    pub effect: Option<String>,
    #[serde(rename = "Action")]
    pub action: Option<OneOrMany<String>>,
    #[serde(rename = "NotAction")]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource")]
    pub resource: Option<OneOrMany<String>>,
    #[serde(rename = "NotResource")]
    pub not_resource: Option<OneOrMany<String>>,
    #[serde(rename = "Condition")]
    pub condition: Option<Value>,
}

/// The EIM account file (README "Account files"): the OUTSCALE API's own field names, so pieces of
/// `ReadUsers`, `ReadUserGroup`, `ReadPolicy`, `ReadPolicyVersion` output paste in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimAccount {
    #[serde(rename = "AccountId")]
    pub account_id: Option<String>,
    #[serde(rename = "Users")]
    pub users: Option<Vec<EimUser>>,
    #[serde(rename = "UserGroups")]
    pub user_groups: Option<Vec<EimGroup>>,
    #[serde(rename = "Policies")]
    pub policies: Option<Vec<EimManaged>>,
    #[serde(rename = "ResponseContext")]
    pub response_context: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimUser {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "UserGroups")]
    pub user_groups: Option<Vec<String>>,
    #[serde(rename = "LinkedPolicies")]
    pub linked_policies: Option<Vec<Value>>,
    #[serde(rename = "InlinePolicies")]
    pub inline_policies: Option<Vec<EimInline>>,
    #[serde(rename = "UserId")]
    pub user_id: Option<String>,
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "UserEmail")]
    pub user_email: Option<String>,
    #[serde(rename = "CreationDate")]
    pub creation_date: Option<String>,
    #[serde(rename = "LastModificationDate")]
    pub last_modification_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimGroup {
    #[serde(rename = "UserGroupName", alias = "Name")]
    pub name: String,
    #[serde(rename = "Users")]
    pub users: Option<Vec<Value>>,
    #[serde(rename = "LinkedPolicies")]
    pub linked_policies: Option<Vec<Value>>,
    #[serde(rename = "InlinePolicies")]
    pub inline_policies: Option<Vec<EimInline>>,
    #[serde(rename = "UserGroupId")]
    pub user_group_id: Option<String>,
    #[serde(rename = "Orn")]
    pub orn: Option<String>,
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "CreationDate")]
    pub creation_date: Option<String>,
    #[serde(rename = "LastModificationDate")]
    pub last_modification_date: Option<String>,
}

/// An inline policy: `ReadUserPolicy` gives `PolicyName` + `PolicyDocument`, `ReadUserGroupPolicies`
/// gives `Name` + `Body`; both spellings are accepted. The document is a JSON string or an object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimInline {
    #[serde(rename = "PolicyName", alias = "Name")]
    pub name: String,
    #[serde(rename = "PolicyDocument", alias = "Body", alias = "Document")]
    pub document: Value,
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "UserGroupName")]
    pub user_group_name: Option<String>,
}

/// A managed policy (`ReadPolicy`'s `Policy`), with its document(s).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimManaged {
    #[serde(rename = "PolicyName")]
    pub name: String,
    #[serde(rename = "Orn")]
    pub orn: Option<String>,
    #[serde(rename = "PolicyDefaultVersionId")]
    pub default_version_id: Option<String>,
    #[serde(rename = "Document")]
    pub document: Option<Value>,
    #[serde(rename = "Versions")]
    pub versions: Option<Vec<EimVersion>>,
    #[serde(rename = "PolicyId")]
    pub policy_id: Option<String>,
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "IsLinkable")]
    pub is_linkable: Option<bool>,
    #[serde(rename = "ResourcesCount")]
    pub resources_count: Option<u64>,
    #[serde(rename = "CreationDate")]
    pub creation_date: Option<String>,
    #[serde(rename = "LastModificationDate")]
    pub last_modification_date: Option<String>,
}

/// `ReadPolicyVersion`'s `PolicyVersion`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EimVersion {
    #[serde(rename = "VersionId")]
    pub version_id: String,
    #[serde(rename = "DefaultVersion")]
    pub default_version: Option<bool>,
    #[serde(rename = "Body")]
    pub body: Value,
    #[serde(rename = "CreationDate")]
    pub creation_date: Option<String>,
}

// ---------------------------------------------------------------- shipped data

/// `policies/openstack-role-matrix.json`.
#[derive(Debug, Deserialize)]
pub struct MatrixFile {
    pub source: String,
    pub permissions: Vec<crate::model::matrix::Permission>,
    pub roles: Vec<MatrixRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixRole {
    pub action: String,
    pub permissions: Vec<String>,
}

// ---------------------------------------------------------------- helpers

/// A value EIM accepts as a single item or an array (`"Action": "*"` or `"Action": ["*"]`).
#[derive(Debug)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a single value or an array")
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
