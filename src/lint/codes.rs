//! The registry: every lint code, its default severity, and its documentation (what it does, why it
//! matters, the fix), which is also the `--explain` text. A code is never reused.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "info" => Some(Level::Info),
            "warning" | "warn" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
}

/// One rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    /// One line: why it matters (the README table).
    pub why: &'static str,
    /// What it checks and how to fix it (`--explain`).
    pub explain: &'static str,
}

macro_rules! rules {
    ($($code:literal $name:literal $level:ident $why:literal $explain:literal;)*) => {
        /// Every rule, in code order.
        pub const RULES: &[Rule] = &[$(Rule { code: $code, name: $name, level: Level::$level, why: $why, explain: $explain }),*];
    };
}

rules! {
    "OSLO001" "oslo-syntax" Error
        "oslo.policy reads a rule it cannot parse as `!`: the operation is refused to everyone, with only a log line"
        "An oslo.policy rule (`lint --openstack-policy FILE`) does not parse: an unclosed `(`, a stray `)`, a dangling `and`/`or`, a check without `:`. oslo.policy does not fail: it logs the error and reads the rule (or the piece it could not parse) as `!`, never true, so the service refuses the operation to everyone. The position shown is where parsing went wrong (line:column in the file). Fix the rule; the language is documented at https://docs.openstack.org/oslo.policy/latest/admin/policy-yaml-file.html.";
    "OSLO002" "oslo-undefined-rule" Error
        "`rule:NAME` where nothing defines NAME silently falls back to the `default` rule, or to false"
        "A `rule:NAME` check names a rule that neither the file nor the registered defaults of the service it belongs to define. oslo.policy then evaluates the file's `default` rule instead, or, without one, the check is false (https://docs.openstack.org/oslo.policy/latest/admin/policy-yaml-file.html). Usually a typo (`rule:project_member_api` for `rule:project_member_or_admin`): the help line names the closest defined rule.";
    "OSLO003" "oslo-broader-override" Warning
        "an override that admits a token the service's default refuses widens access, often by accident"
        "A rule of the file overrides a registered default of nova, glance, cinder, neutron or keystone with something broader: `@`, a role dropped (`role:reader` where the default wants `member`), a project check removed. Broader is decided by evaluating both for the usual tokens: `reader`, `member`, `manager`, `admin` (with Keystone's default implied roles) in project, domain and system scope, on their own project and on another one; the message names one token the override admits and the default refuses. Keep the default's roles, or say in a comment why the wider access is meant.";
    "OSLO004" "oslo-unknown-rule" Warning
        "a rule name no service registers is never asked for: the override it meant to make does nothing"
        "The file defines a rule that no shipped service (nova, glance, cinder, neutron, keystone) registers and that no rule of the file references: the service never asks for it, so the intended override has no effect (`os_compute_api:servers:idnex`). The help line names the closest registered rule and its service. A service of your own (`myservice:thing:list`) has its own names: this warning is expected there, and `--allow OSLO004` silences it.";
    "PS001" "json-syntax" Error
        "the file is not JSON: the cloud would reject it, and nothing in it can be checked"
        "The file does not parse as JSON (RFC 8259): a missing comma or bracket, a trailing comma, a comment, a BOM, invalid UTF-8, or nesting deeper than 128 levels. Fix the JSON at the position shown.";
    "PS002" "unknown-field" Error
        "a misspelt field is silently ignored by hand-written tooling but changes what a policy means"
        "An object has a field its schema does not define (`permision`, lowercase `effect`). OVHcloud accepts exactly the fields `GET /v2/iam/policy` returns; EIM element names start with an upper-case letter. The help line names the closest known field.";
    "PS003" "missing-field" Error
        "a policy without identities, resources, permissions or an Effect cannot be created or evaluated"
        "A required field is absent: OVHcloud `name`, `identities`, `resources`, `permissions`; EIM `Effect`, `Action`/`NotAction`, `Resource`/`NotResource`. Add it.";
    "PS004" "wrong-type" Error
        "a value of the wrong JSON type is rejected by the cloud's API"
        "A value has the wrong JSON type (a number where a string is expected, an object where an array is). The JSON path of the value is shown.";
    "PS005" "malformed-urn" Error
        "a malformed URN or ORN names nothing, so the policy silently applies to no one or nothing"
        "An OVHcloud URN (`urn:v1:{eu|ca|us}:identity:...`, `urn:v1:{region}:resource:{type}:{id}`) or OUTSCALE ORN does not have the documented shape: wrong region, unknown kind, empty id, white space, or a Unicode look-alike character.";
    "PS006" "invalid-value" Error
        "a value the cloud rejects (an Effect of `Permit`, an empty Action list, a date that is not a date)"
        "A value is outside what the cloud accepts: an EIM `Effect` other than `Allow`/`Deny`, an empty `Action` array, a malformed action (`**`, `::`), an `expiredAt` that is not RFC 3339, an unknown condition operator or key, an unknown permission group or resource group.";
    "PS007" "incomplete-input" Warning
        "a group the input does not define is read the safe way: its allows grant nothing, so answers may deny what the cloud allows"
        "A policy names a resource group that no input defines (a policy dump without the `GET /v2/iam/resourceGroup?details=true` dump; every account's managed `ovh-default` policy names one), or a resource group lists its members by `id` only (dumped without `?details=true`); or a dumped OVHcloud-managed permission group differs from the shipped copy (the dump is used). Answers stay safe (no allow on a guess) but may be denies the cloud would not give: pass the missing dump.";
    "PS101" "unknown-action" Warning
        "an action no API operation needs grants or denies nothing: usually a typo or an invented name"
        "The action is not in the shipped catalogue (policies/ovh-actions.tsv, built from the OVHcloud API schemas' `x-iam-actions`; policies/outscale-actions.tsv for EIM). `vps:apiovh:createSnapshot` is not an action: `POST /vps/{serviceName}/createSnapshot` needs `vps:apiovh:snapshot/create`. The help line names the closest real actions. EIM accepts unknown names at creation and they grant nothing (OSC-QA T4609/T4610).";
    "PS102" "unknown-service" Warning
        "EIM matches service codes exactly, so `fcu:*` or `eim:*` grants nothing"
        "The EIM service code is not one EIM knows (`api`, `ec2`, `elasticloadbalancing`, `iam`, `directconnect`, or `*`). FCU is `ec2`, LBU `elasticloadbalancing`, EIM `iam`. `api:*` does not cover `ec2:` actions either: deny both APIs when you mean to deny an operation (OSC-GEN).";
    "PS103" "bare-permission" Warning
        "an OpenStack permission name is not an IAM action: allowing `compute_read` grants nothing"
        "OpenStack permissions (`compute_read`, `objectstore_all`, ...) are carried by role actions (`publicCloudProject:openstack:infrastructureSupervisor`); a policy must allow the role. The help line names the roles that carry the permission (`policy-sim roles`).";
    "PS104" "role-deny-trap" Warning
        "denying a role does not take away a permission another allowed role still carries"
        "A `deny` or `except` names an OpenStack role (`publicCloudProject:openstack:objectstoreOperator`) while the same identity is allowed another role carrying the same permissions (`administrator` carries `objectstore_all`): the permission stays granted through the other role (the role matrix: a permission is granted when any allowed role carries it). Deny or remove the other role too.";
    "PS110" "broad-wildcard" Warning
        "`*`, a whole-service wildcard or an all-powerful permission group grants far more than a task needs"
        "An allow grants every action (`*`) or a whole service (`vps:*`, `vps:apiovh:*`, `api:*`, `ec2:*`), or an OVHcloud policy attaches a permission group that does (the managed `globalAdmin` grants every action, `globalReadWrite` every action but identity and IP-restriction management). The message says when the policy's resources are every resource (`urn:v1:eu:resource:*`). Name the actions the task needs, or a narrower permission group.";
    "PS111" "allow-not" Warning
        "Allow with NotAction or NotResource grants almost everything"
        "An EIM `Allow` statement uses `NotAction` (every action but the listed ones) or `NotResource`. Use `Action` with the actions meant, or turn it into a `Deny`.";
    "PS112" "dead-allow" Warning
        "an allow that a deny always overrides has no effect and misleads readers"
        "Every request this allow could grant is denied by a `deny` (or EIM `Deny`) for the same identities and resources, so it never grants anything. Remove the allow, or narrow the deny.";
    "PS113" "useless-except" Warning
        "an except that matches none of its policy's allows removes nothing"
        "`except` only removes actions from the same policy's `allow`; this one matches none of them — maybe it was meant as a `deny`, or the allow pattern is misspelt.";
    "PS114" "duplicate" Warning
        "duplicates hide intent and make diffs noisy"
        "The same action appears twice in one list, the same identity twice in one policy, or two files define a policy with the same name (OVHcloud names are unique in an account).";
    "PS115" "expired" Warning
        "an expired policy neither allows nor denies: it is dead weight"
        "The policy's `expiredAt` is before the evaluation time (`--at`, default now): OVHcloud no longer applies it. Delete it or extend it.";
    "PS116" "grants-nothing" Warning
        "a policy with no allow, no permission group and no deny does nothing"
        "The policy's `permissions` lists are all empty and it has no `permissionsGroups`.";
    "PS117" "cross-region" Warning
        "an identity and a resource of different regions never match each other"
        "The policy mixes URNs of different regions (`urn:v1:eu:...` identities with `urn:v1:ca:...` resources): URNs match exactly, region included.";
    "PS118" "eim-version" Warning
        "an unknown policy language version may not be read as expected"
        "The EIM document's `Version` is not `2012-10-17`, the only one OUTSCALE's examples use.";
    "PS120" "resource-leading-wildcard" Error
        "OVHcloud resource URNs take a `*` at the end only"
        "A resource URN has a leading or inner `*` (`*`, `urn:v1:eu:resource:*:x`). OVHcloud documents a trailing `*` only (ovh/docs PR #5666); what the cloud does with another is unknown. policy-sim reads it literally in an allow (grants nothing) and as a wildcard in a deny.";
    "PS121" "identity-wildcard" Error
        "identities take no wildcards: `*` in an identity matches only itself"
        "An identity URN contains `*`. OVHcloud identities are exact URNs (ovh/docs PR #8510); the policy applies to no one. List the identities, or use a user group.";
    "PS122" "action-inner-wildcard" Error
        "a `*` inside an OVHcloud action is undocumented; the Control Panel rejects it"
        "An OVHcloud action has a `*` that is neither at its start nor at its end (`vps:*:reboot`). Only leading and trailing wildcards are documented, and the Control Panel accepts only those. policy-sim reads it literally in an allow and as a wildcard in a deny or except.";
    "PS130" "privilege-escalation" Warning
        "a user who may manage policies can grant itself anything"
        "EIM: the user (or the caller of a bare document) is allowed to create or edit policies or policy versions, link policies or put inline policies: it could write a policy bypassing its permissions and attach it to itself (OSC-GEN). OVHcloud: a policy whose resources include the account (`urn:v1:eu:resource:account:{nic}`, `urn:v1:eu:resource:*`) allows, directly or through a permission group (`globalAdmin`, `globalReadWrite`), an action that creates or edits IAM policies, permission groups, resource groups, local users or groups, the identity provider, service accounts or API credentials, or deletes a policy: `account:apiovh:iam/policy/create`, `account:apiovh:me/identity/user/edit`, `account:apiovh:me/api/oauth2/client/create`, and wildcards covering them (`account:apiovh:iam/*`, `account:apiovh:*`, `*`). These actions are read from the shipped catalogue: every action an API write under `/iam/policy`, `/iam/permissionsGroup`, `/iam/resourceGroup`, `/me/identity/user`, `/me/identity/group`, `/me/identity/provider`, `/me/api/oauth2/client` or `/me/api/credential` needs. An `except` or `deny` in the same policy (or its permission group) that removes them is taken into account; a deny in another policy is not. Keep access management with administrators.";
    "PS131" "eim-condition" Warning
        "EIM documents no Condition element; policy-sim never treats one as satisfied"
        "The statement has a `Condition`. No EIM document describes conditions (IP limits are account-level API access rules), so policy-sim never lets a conditional Allow grant and always lets a conditional Deny apply.";
    "PS132" "eim-document-size" Warning
        "EIM rejects documents over 5,120 non-white-space characters"
        "The policy document has more than 5,120 characters once white space is removed (OSC-API).";
}

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted() {
        for w in RULES.windows(2) {
            if let [a, b] = w {
                assert!(a.code < b.code, "{} then {}", a.code, b.code);
                assert_ne!(a.name, b.name);
            }
        }
    }
}
