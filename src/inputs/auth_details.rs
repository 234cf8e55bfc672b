//! `aws iam get-account-authorization-details` output → the facts of one principal.
//!
//! The file is taken unchanged, as the AWS CLI prints it (documents decoded into JSON
//! objects) or as the raw API returns it (URL-encoded strings). A managed policy that is
//! attached to the principal but absent from the file is an error, not an omission: it could
//! hold a `Deny`, and leaving it out could turn a deny into a wrong "allowed".

use std::path::Path;

use serde_json::Value;

use crate::core::arn::Arn;
use crate::core::facts::{PolicyOrigin, PolicySource, PrincipalFacts, PrincipalKind};
use crate::core::fuzzy;
use crate::core::principal_ref::NamedPrincipal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthDetailsError {
    #[error("cannot read `{path}`: {detail}")]
    Read { path: String, detail: String },
    #[error(
        "`{path}` is not valid JSON ({detail}): save the output of `aws iam get-account-authorization-details` unchanged"
    )]
    Json { path: String, detail: String },
    #[error(
        "`{path}` has no `{list}`: is it the output of `aws iam get-account-authorization-details`?"
    )]
    Shape { path: String, list: &'static str },
    /// A field of the file holds the wrong kind of value (`"RoleDetailList": "x"`).
    #[error("`{path}`: `{field}` must be {expected}")]
    Field {
        path: String,
        field: String,
        expected: &'static str,
    },
    #[error("{kind} `{name}` is not in the authorization details{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    NotFound {
        kind: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    #[error(
        "managed policy `{arn}` is attached to `{principal}` but its document is not in the authorization details: collect them again without `--filter` (or with `iam-doctor snapshot`)"
    )]
    MissingPolicy { arn: String, principal: String },
    #[error("managed policy `{arn}` has no default version document in the authorization details")]
    MissingDefaultVersion { arn: String },
}

/// The lists `get-account-authorization-details` writes at the top level.
const TOP_LEVEL_LISTS: [&str; 4] = [
    "RoleDetailList",
    "UserDetailList",
    "GroupDetailList",
    "Policies",
];

/// A field that is present must be an array of objects, as AWS writes it; a wrong shape is
/// reported by its name, never read as an empty list.
fn check_array(
    source: &str,
    parent: &Value,
    key: &str,
    shown: &str,
) -> Result<(), AuthDetailsError> {
    let Some(value) = parent.get(key) else {
        return Ok(());
    };
    let field = |expected| AuthDetailsError::Field {
        path: source.to_string(),
        field: shown.to_string(),
        expected,
    };
    let items = value.as_array().ok_or_else(|| field("an array"))?;
    let want_strings = key == "GroupList";
    if items.iter().all(|i| {
        if want_strings {
            i.is_string()
        } else {
            i.is_object()
        }
    }) {
        Ok(())
    } else if want_strings {
        Err(field("an array of group names"))
    } else {
        Err(field("an array of objects"))
    }
}

/// A parsed authorization details file.
#[derive(Debug, Clone)]
pub struct AuthorizationDetails {
    source: String,
    root: Value,
}

impl AuthorizationDetails {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Self, AuthDetailsError> {
        let shown = path.display().to_string();
        let text =
            super::file::read_regular_to_string(path).map_err(|e| AuthDetailsError::Read {
                path: shown.clone(),
                detail: e.to_string(),
            })?;
        Self::from_str(&shown, &text)
    }

    /// Parses the text; `source` names it in errors.
    pub fn from_str(source: &str, text: &str) -> Result<Self, AuthDetailsError> {
        let root: Value = serde_json::from_str(text).map_err(|e| AuthDetailsError::Json {
            path: source.to_string(),
            detail: e.to_string(),
        })?;
        if !root.is_object()
            || (root.get("RoleDetailList").is_none() && root.get("UserDetailList").is_none())
        {
            return Err(AuthDetailsError::Shape {
                path: source.to_string(),
                list: "RoleDetailList",
            });
        }
        for list in TOP_LEVEL_LISTS {
            check_array(source, &root, list, list)?;
        }
        Ok(Self {
            source: source.to_string(),
            root,
        })
    }

    fn list(&self, key: &str) -> &[Value] {
        self.root
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The role names in the file, for suggestions and listings.
    pub fn role_names(&self) -> Vec<&str> {
        self.list("RoleDetailList")
            .iter()
            .filter_map(|r| r.get("RoleName").and_then(Value::as_str))
            .collect()
    }

    /// The facts of one role or user: found by its ARN when one was given (the path must
    /// match), else by its name.
    pub fn principal(
        &self,
        kind: PrincipalKind,
        wanted: &NamedPrincipal,
    ) -> Result<PrincipalFacts, AuthDetailsError> {
        let (list, name_key, kind_name) = match kind {
            PrincipalKind::Role => ("RoleDetailList", "RoleName", "role"),
            PrincipalKind::User => ("UserDetailList", "UserName", "user"),
        };
        let entries = self.list(list);
        let found = entries.iter().enumerate().find(|(_, e)| match &wanted.arn {
            Some(arn) => e.get("Arn").and_then(Value::as_str) == Some(arn.as_str()),
            None => e.get(name_key).and_then(Value::as_str) == Some(wanted.name.as_str()),
        });
        let Some((index, entry)) = found else {
            let names = entries
                .iter()
                .filter_map(|e| e.get(name_key).and_then(Value::as_str));
            return Err(AuthDetailsError::NotFound {
                kind: kind_name,
                name: wanted.given.clone(),
                suggestion: fuzzy::closest(&wanted.name, names).map(str::to_string),
            });
        };
        for key in [
            "RolePolicyList",
            "UserPolicyList",
            "AttachedManagedPolicies",
            "GroupList",
        ] {
            check_array(&self.source, entry, key, &format!("{list}[{index}].{key}"))?;
        }
        let text = |k: &str| {
            entry
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let arn = text("Arn");
        let name = text(name_key);
        let path = entry
            .get("Path")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_string();
        let account_id = Arn::parse(&arn).map_or("", |a| a.account).to_string();

        let inline_key = match kind {
            PrincipalKind::Role => "RolePolicyList",
            PrincipalKind::User => "UserPolicyList",
        };
        let mut identity_policies: Vec<PolicySource> = items_of(entry, inline_key)
            .map(|p| inline_policy(p, PolicyOrigin::Inline, None))
            .collect();
        for m in items_of(entry, "AttachedManagedPolicies") {
            identity_policies.push(self.managed(m, &arn, None)?);
        }
        if kind == PrincipalKind::User {
            for group in items_of(entry, "GroupList") {
                let Some(gname) = group.as_str() else {
                    continue;
                };
                let Some(g) = self
                    .list("GroupDetailList")
                    .iter()
                    .find(|g| g.get("GroupName").and_then(Value::as_str) == Some(gname))
                else {
                    return Err(AuthDetailsError::NotFound {
                        kind: "group",
                        name: gname.to_string(),
                        suggestion: None,
                    });
                };
                identity_policies.extend(
                    items_of(g, "GroupPolicyList")
                        .map(|p| inline_policy(p, PolicyOrigin::GroupInline, Some(gname))),
                );
                for m in items_of(g, "AttachedManagedPolicies") {
                    identity_policies.push(self.managed(m, &arn, Some(gname))?);
                }
            }
        }
        let permissions_boundary = match entry
            .get("PermissionsBoundary")
            .and_then(|b| b.get("PermissionsBoundaryArn"))
            .and_then(Value::as_str)
        {
            Some(b) => Some(self.managed(&serde_json::json!({"PolicyArn": b}), &arn, None)?),
            None => None,
        };
        let tags = entry
            .get("Tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t.get("Key")?.as_str()?.to_string(),
                    t.get("Value")?.as_str()?.to_string(),
                ))
            })
            .collect();
        Ok(PrincipalFacts {
            kind,
            name,
            service_linked: path.starts_with("/aws-service-role/"),
            arn,
            path,
            account_id,
            identity_policies,
            permissions_boundary,
            tags,
        })
    }

    fn managed(
        &self,
        attached: &Value,
        principal: &str,
        group: Option<&str>,
    ) -> Result<PolicySource, AuthDetailsError> {
        let arn = attached
            .get("PolicyArn")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let policy = self
            .list("Policies")
            .iter()
            .find(|p| p.get("Arn").and_then(Value::as_str) == Some(arn.as_str()))
            .ok_or_else(|| AuthDetailsError::MissingPolicy {
                arn: arn.clone(),
                principal: principal.to_string(),
            })?;
        let default_id = policy.get("DefaultVersionId").and_then(Value::as_str);
        let versions = policy.get("PolicyVersionList").and_then(Value::as_array);
        let version = versions.into_iter().flatten().find(|v| {
            v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true)
                || (default_id.is_some()
                    && v.get("VersionId").and_then(Value::as_str) == default_id)
        });
        let document = version
            .and_then(|v| v.get("Document"))
            .ok_or_else(|| AuthDetailsError::MissingDefaultVersion { arn: arn.clone() })?;
        let name = policy
            .get("PolicyName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(&arn).to_string());
        let origin = match (
            Arn::parse(&arn).is_some_and(|a| {
                a.service == "iam" && a.account == "aws" && a.resource.starts_with("policy/")
            }),
            group,
        ) {
            (_, Some(_)) => PolicyOrigin::GroupManaged,
            (true, None) => PolicyOrigin::AwsManaged,
            (false, None) => PolicyOrigin::CustomerManaged,
        };
        Ok(PolicySource {
            name,
            arn: Some(arn),
            origin,
            group: group.map(str::to_string),
            document: document_text(Some(document)),
        })
    }

    /// Where this came from, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// A document as text: objects are serialised, strings (URL-encoded or JSON) kept.
/// The items of the array `key` of `entry`; none when it is missing or not an array.
fn items_of<'a>(entry: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    entry
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An inline policy entry (`PolicyName`, `PolicyDocument`) of a role, user or group.
fn inline_policy(p: &Value, origin: PolicyOrigin, group: Option<&str>) -> PolicySource {
    PolicySource {
        name: p
            .get("PolicyName")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        arn: None,
        origin,
        group: group.map(str::to_string),
        document: document_text(p.get("PolicyDocument")),
    }
}

fn document_text(doc: Option<&Value>) -> String {
    match doc {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::principal_ref::PrincipalRef;

    fn named(text: String) -> NamedPrincipal {
        let parsed = PrincipalRef::role(&text).or_else(|_| PrincipalRef::user(&text));
        match parsed.as_ref().map(PrincipalRef::named) {
            Ok(Some(named)) => named.clone(),
            _ => panic!("`{text}` names no role or user"),
        }
    }

    const DETAILS: &str = r#"{
      "UserDetailList": [{"Path":"/","UserName":"alice","Arn":"arn:aws:iam::111122223333:user/alice",
        "UserPolicyList":[{"PolicyName":"own","PolicyDocument":{"Version":"2012-10-17","Statement":[]}}],
        "GroupList":["devs"],"AttachedManagedPolicies":[]}],
      "GroupDetailList": [{"GroupName":"devs","Arn":"arn:aws:iam::111122223333:group/devs",
        "GroupPolicyList":[{"PolicyName":"g","PolicyDocument":"%7B%22Statement%22%3A%5B%5D%7D"}],
        "AttachedManagedPolicies":[{"PolicyName":"ReadOnlyAccess","PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}]}],
      "RoleDetailList": [{"Path":"/","RoleName":"demo-dev-CodebuildRole-1A2B","Arn":"arn:aws:iam::111122223333:role/demo-dev-CodebuildRole-1A2B",
        "RolePolicyList":[{"PolicyName":"DefaultPolicy","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}}],
        "AttachedManagedPolicies":[{"PolicyName":"AmazonSSMReadOnlyAccess","PolicyArn":"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"}],
        "PermissionsBoundary":{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/Boundary"},
        "Tags":[{"Key":"team","Value":"platform"}]},
        {"Path":"/aws-service-role/","RoleName":"AWSServiceRoleForX","Arn":"arn:aws:iam::111122223333:role/aws-service-role/AWSServiceRoleForX","RolePolicyList":[],"AttachedManagedPolicies":[]}],
      "Policies": [
        {"PolicyName":"AmazonSSMReadOnlyAccess","Arn":"arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess","DefaultVersionId":"v3",
         "PolicyVersionList":[{"Document":{"Statement":[{"Effect":"Allow","Action":["ssm:Get*"],"Resource":"*"}]},"VersionId":"v3","IsDefaultVersion":true},
                              {"Document":{"Statement":[]},"VersionId":"v2","IsDefaultVersion":false}]},
        {"PolicyName":"Boundary","Arn":"arn:aws:iam::111122223333:policy/Boundary","DefaultVersionId":"v1",
         "PolicyVersionList":[{"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]},"VersionId":"v1","IsDefaultVersion":true}]},
        {"PolicyName":"ReadOnlyAccess","Arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","DefaultVersionId":"v1",
         "PolicyVersionList":[{"Document":{"Statement":[]},"VersionId":"v1","IsDefaultVersion":true}]}
      ]}"#;

    fn details() -> AuthorizationDetails {
        AuthorizationDetails::from_str("t.json", DETAILS).expect("valid")
    }

    #[test]
    fn role_by_name_and_arn() {
        let d = details();
        let by_name = d
            .principal(
                PrincipalKind::Role,
                &named("demo-dev-CodebuildRole-1A2B".into()),
            )
            .expect("role");
        let by_arn = d
            .principal(
                PrincipalKind::Role,
                &named("arn:aws:iam::111122223333:role/demo-dev-CodebuildRole-1A2B".into()),
            )
            .expect("role");
        assert_eq!(by_name, by_arn);
        assert_eq!(by_name.account_id, "111122223333");
        assert_eq!(by_name.identity_policies.len(), 2);
        assert_eq!(
            by_name.identity_policies[1].origin,
            PolicyOrigin::AwsManaged
        );
        assert!(
            by_name.identity_policies[1].document.contains("ssm:Get*"),
            "default version chosen"
        );
        assert_eq!(
            by_name
                .permissions_boundary
                .as_ref()
                .map(|b| b.name.as_str()),
            Some("Boundary")
        );
        assert_eq!(
            by_name.tags,
            vec![("team".to_string(), "platform".to_string())]
        );
        assert!(!by_name.service_linked);
    }

    #[test]
    fn user_gets_group_policies() {
        let u = details()
            .principal(PrincipalKind::User, &named("alice".into()))
            .expect("user");
        let origins: Vec<PolicyOrigin> = u.identity_policies.iter().map(|p| p.origin).collect();
        assert_eq!(
            origins,
            vec![
                PolicyOrigin::Inline,
                PolicyOrigin::GroupInline,
                PolicyOrigin::GroupManaged
            ]
        );
        assert_eq!(
            u.identity_policies[1].document,
            "%7B%22Statement%22%3A%5B%5D%7D"
        );
    }

    #[test]
    fn missing_role_suggests() {
        let e = details()
            .principal(
                PrincipalKind::Role,
                &named("demo-dev-CodebuildRole-1A2C".into()),
            )
            .expect_err("missing");
        assert_eq!(
            e.to_string(),
            "role `demo-dev-CodebuildRole-1A2C` is not in the authorization details (did you mean `demo-dev-CodebuildRole-1A2B`?)"
        );
    }

    #[test]
    fn missing_managed_policy_is_an_error() {
        let text = DETAILS.replace(
            "\"PolicyName\":\"Boundary\",\"Arn\":\"arn:aws:iam::111122223333:policy/Boundary\"",
            "\"PolicyName\":\"Other\",\"Arn\":\"arn:aws:iam::111122223333:policy/Other\"",
        );
        let d = AuthorizationDetails::from_str("t.json", &text).expect("valid");
        let e = d
            .principal(
                PrincipalKind::Role,
                &named("demo-dev-CodebuildRole-1A2B".into()),
            )
            .expect_err("missing");
        assert!(matches!(e, AuthDetailsError::MissingPolicy { .. }));
    }

    #[test]
    fn service_linked_role_is_flagged() {
        let r = details()
            .principal(PrincipalKind::Role, &named("AWSServiceRoleForX".into()))
            .expect("role");
        assert!(r.service_linked);
    }

    #[test]
    fn wrong_files_are_explained() {
        assert!(matches!(
            AuthorizationDetails::from_str("x", "{"),
            Err(AuthDetailsError::Json { .. })
        ));
        assert!(matches!(
            AuthorizationDetails::from_str("x", "{\"a\":1}"),
            Err(AuthDetailsError::Shape { .. })
        ));
        assert!(matches!(
            AuthorizationDetails::from_str("x", "[]"),
            Err(AuthDetailsError::Shape { .. })
        ));
    }
}
