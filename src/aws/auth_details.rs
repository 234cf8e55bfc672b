//! `GetAccountAuthorizationDetails`, rendered as `aws iam get-account-authorization-details`
//! prints it.
//!
//! A live snapshot and a file someone exported with the AWS CLI then go through the same
//! offline reader, and a snapshot saved by this tool can be diffed against one made with the
//! CLI. The CLI decodes policy documents into JSON objects and prints timestamps in Python's
//! ISO format, so this does too.

use std::borrow::Cow;

use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, InstanceProfile, ManagedPolicyDetail,
    PolicyDetail, PolicyVersion, Role, RoleDetail, RoleLastUsed, Tag, UserDetail,
};
use aws_smithy_types::DateTime;
use serde_json::{Map, Value, json};

use crate::core::policy::document_text;

/// A policy document as the AWS CLI shows it: URL-decoded and parsed into JSON. Text that is
/// not JSON either way is kept as a string, as the CLI does.
pub fn decode_policy_document(text: &str) -> Value {
    document_text(text)
        .and_then(|decoded| serde_json::from_str(&decoded).ok())
        .or_else(|| serde_json::from_str(text).ok())
        .unwrap_or_else(|| Value::String(text.to_string()))
}

/// Decoded policy text for APIs that want plain JSON (`SimulateCustomPolicy`).
pub(crate) fn decoded_text(text: &str) -> String {
    document_text(text).map_or_else(|| text.to_string(), Cow::into_owned)
}

/// The pages of one listing merged into the CLI's single document.
pub(crate) fn render(pages: &[GetAccountAuthorizationDetailsOutput]) -> Value {
    let users: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.user_detail_list())
        .map(user)
        .collect();
    let groups: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.group_detail_list())
        .map(group)
        .collect();
    let roles: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.role_detail_list())
        .map(role_detail)
        .collect();
    let policies: Vec<Value> = pages
        .iter()
        .flat_map(|p| p.policies())
        .map(managed_policy)
        .collect();
    json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    })
}

/// Builds a JSON object, leaving out absent fields as the CLI does.
#[derive(Default)]
struct JsonObject(Map<String, Value>);

impl JsonObject {
    fn put(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    fn opt<T: Into<Value>>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }

    fn list<T>(self, key: &str, items: Option<&[T]>, f: impl Fn(&T) -> Value) -> Self {
        match items {
            Some(items) => self.put(key, items.iter().map(f).collect::<Vec<_>>()),
            None => self,
        }
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn s(value: Option<&str>) -> Option<String> {
    value.map(str::to_string)
}

/// Python's `datetime.isoformat()`: `2019-08-26T14:15:37+00:00`, microseconds when present.
fn date(value: &DateTime) -> Value {
    let Some(time) = chrono::DateTime::from_timestamp(value.secs(), value.subsec_nanos()) else {
        return Value::String(value.to_string());
    };
    let text = if time.timestamp_subsec_micros() == 0 {
        time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    };
    Value::String(text)
}

fn doc(value: Option<&str>) -> Option<Value> {
    value.map(decode_policy_document)
}

fn inline_policy(p: &PolicyDetail) -> Value {
    JsonObject::default()
        .opt("PolicyName", s(p.policy_name()))
        .opt("PolicyDocument", doc(p.policy_document()))
        .done()
}

fn attached(p: &AttachedPolicy) -> Value {
    JsonObject::default()
        .opt("PolicyName", s(p.policy_name()))
        .opt("PolicyArn", s(p.policy_arn()))
        .done()
}

fn boundary(b: &AttachedPermissionsBoundary) -> Value {
    JsonObject::default()
        .opt(
            "PermissionsBoundaryType",
            b.permissions_boundary_type()
                .map(|t| t.as_str().to_string()),
        )
        .opt("PermissionsBoundaryArn", s(b.permissions_boundary_arn()))
        .done()
}

fn tag(t: &Tag) -> Value {
    json!({ "Key": t.key(), "Value": t.value() })
}

fn last_used(r: &RoleLastUsed) -> Value {
    JsonObject::default()
        .opt("LastUsedDate", r.last_used_date().map(date))
        .opt("Region", s(r.region()))
        .done()
}

fn user(u: &UserDetail) -> Value {
    JsonObject::default()
        .opt("Path", s(u.path()))
        .opt("UserName", s(u.user_name()))
        .opt("UserId", s(u.user_id()))
        .opt("Arn", s(u.arn()))
        .opt("CreateDate", u.create_date().map(date))
        .list(
            "UserPolicyList",
            u.user_policy_list.as_deref(),
            inline_policy,
        )
        .list("GroupList", u.group_list.as_deref(), |g| {
            Value::String(g.clone())
        })
        .list(
            "AttachedManagedPolicies",
            u.attached_managed_policies.as_deref(),
            attached,
        )
        .opt(
            "PermissionsBoundary",
            u.permissions_boundary().map(boundary),
        )
        .list("Tags", u.tags.as_deref(), tag)
        .done()
}

fn group(g: &GroupDetail) -> Value {
    JsonObject::default()
        .opt("Path", s(g.path()))
        .opt("GroupName", s(g.group_name()))
        .opt("GroupId", s(g.group_id()))
        .opt("Arn", s(g.arn()))
        .opt("CreateDate", g.create_date().map(date))
        .list(
            "GroupPolicyList",
            g.group_policy_list.as_deref(),
            inline_policy,
        )
        .list(
            "AttachedManagedPolicies",
            g.attached_managed_policies.as_deref(),
            attached,
        )
        .done()
}

fn plain_role(r: &Role) -> Value {
    JsonObject::default()
        .put("Path", r.path())
        .put("RoleName", r.role_name())
        .put("RoleId", r.role_id())
        .put("Arn", r.arn())
        .put("CreateDate", date(r.create_date()))
        .opt(
            "AssumeRolePolicyDocument",
            doc(r.assume_role_policy_document()),
        )
        .opt("Description", s(r.description()))
        .opt("MaxSessionDuration", r.max_session_duration())
        .opt(
            "PermissionsBoundary",
            r.permissions_boundary().map(boundary),
        )
        .list("Tags", r.tags.as_deref(), tag)
        .opt("RoleLastUsed", r.role_last_used().map(last_used))
        .done()
}

fn instance_profile(p: &InstanceProfile) -> Value {
    JsonObject::default()
        .put("Path", p.path())
        .put("InstanceProfileName", p.instance_profile_name())
        .put("InstanceProfileId", p.instance_profile_id())
        .put("Arn", p.arn())
        .put("CreateDate", date(p.create_date()))
        .put(
            "Roles",
            p.roles().iter().map(plain_role).collect::<Vec<_>>(),
        )
        .list("Tags", p.tags.as_deref(), tag)
        .done()
}

fn role_detail(r: &RoleDetail) -> Value {
    JsonObject::default()
        .opt("Path", s(r.path()))
        .opt("RoleName", s(r.role_name()))
        .opt("RoleId", s(r.role_id()))
        .opt("Arn", s(r.arn()))
        .opt("CreateDate", r.create_date().map(date))
        .opt(
            "AssumeRolePolicyDocument",
            doc(r.assume_role_policy_document()),
        )
        .list(
            "InstanceProfileList",
            r.instance_profile_list.as_deref(),
            instance_profile,
        )
        .list(
            "RolePolicyList",
            r.role_policy_list.as_deref(),
            inline_policy,
        )
        .list(
            "AttachedManagedPolicies",
            r.attached_managed_policies.as_deref(),
            attached,
        )
        .opt(
            "PermissionsBoundary",
            r.permissions_boundary().map(boundary),
        )
        .list("Tags", r.tags.as_deref(), tag)
        .opt("RoleLastUsed", r.role_last_used().map(last_used))
        .done()
}

fn version(v: &PolicyVersion) -> Value {
    JsonObject::default()
        .opt("Document", doc(v.document()))
        .opt("VersionId", s(v.version_id()))
        .put("IsDefaultVersion", v.is_default_version())
        .opt("CreateDate", v.create_date().map(date))
        .done()
}

fn managed_policy(p: &ManagedPolicyDetail) -> Value {
    JsonObject::default()
        .opt("PolicyName", s(p.policy_name()))
        .opt("PolicyId", s(p.policy_id()))
        .opt("Arn", s(p.arn()))
        .opt("Path", s(p.path()))
        .opt("DefaultVersionId", s(p.default_version_id()))
        .opt("AttachmentCount", p.attachment_count())
        .opt(
            "PermissionsBoundaryUsageCount",
            p.permissions_boundary_usage_count(),
        )
        .put("IsAttachable", p.is_attachable())
        .opt("Description", s(p.description()))
        .opt("CreateDate", p.create_date().map(date))
        .opt("UpdateDate", p.update_date().map(date))
        .list(
            "PolicyVersionList",
            p.policy_version_list.as_deref(),
            version,
        )
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_decoded_like_the_cli() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(
            decode_policy_document(encoded),
            json!({"Version": "2012-10-17"})
        );
        assert_eq!(decode_policy_document("{\"a\":1}"), json!({"a": 1}));
        assert_eq!(decode_policy_document("not json"), json!("not json"));
        assert_eq!(decoded_text(encoded), "{\"Version\":\"2012-10-17\"}");
        // IAM encodes per RFC 3986 (API_GetRolePolicy): `%20` is a space and `+` stays a plus.
        let plus = "%7B%22a%22%3A%22x+y%20z%22%7D";
        assert_eq!(decode_policy_document(plus), json!({"a": "x+y z"}));
        assert_eq!(decoded_text(plus), r#"{"a":"x+y z"}"#);
    }

    #[test]
    fn dates_print_as_python_isoformat() {
        assert_eq!(
            date(&DateTime::from_secs(1_566_828_937)),
            json!("2019-08-26T14:15:37+00:00")
        );
        assert_eq!(
            date(&DateTime::from_secs_and_nanos(1_566_828_937, 123_000_000)),
            json!("2019-08-26T14:15:37.123000+00:00")
        );
    }

    #[test]
    fn pages_merge_into_one_document() {
        let page = |name: &str| {
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(
                    RoleDetail::builder()
                        .role_name(name)
                        .path("/")
                        .role_policy_list(
                            PolicyDetail::builder()
                                .policy_name("inline")
                                .policy_document("%7B%7D")
                                .build(),
                        )
                        .build(),
                )
                .build()
        };
        let value = render(&[page("a"), page("b")]);
        assert_eq!(value["RoleDetailList"][1]["RoleName"], json!("b"));
        assert_eq!(
            value["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"],
            json!({})
        );
        assert_eq!(value["UserDetailList"], json!([]));
        assert!(value["RoleDetailList"][0].get("Tags").is_none());
    }
}
