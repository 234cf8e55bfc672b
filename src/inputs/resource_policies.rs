//! `resource-policies.json`: the resource-based policies of the resources a deploy touches.
//!
//! Layout (written by `iam-doctor snapshot`, readable and writable by hand):
//!
//! ```json
//! {"resources": [
//!   {"arn": "arn:aws:s3:::demo-dev-s3bucket-1x2y3z", "policy": "{\"Version\":\"2012-10-17\",...}"},
//!   {"arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-...", "policy_name": "default", "policy": "{...}"},
//!   {"arn": "arn:aws:ecr:us-east-1:111122223333:repository/demo", "policy": null},
//!   {"arn": "arn:aws:s3:::other-bucket", "unreadable": "AccessDenied: ..."}]}
//! ```
//!
//! `policy` is the document as the service returns it (`GetBucketPolicy`'s `Policy`,
//! `GetKeyPolicy`'s `Policy`, `GetRepositoryPolicy`'s `policyText`): JSON text, or a JSON
//! object when written by hand. `null` records that the resource has no policy, which is not
//! the same as leaving it out: a resource that is not listed was never looked at (and a KMS
//! key's policy must allow, so an unlisted key is never assumed to). `unreadable` records that
//! the policy could not be read, and why.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::core::facts::{ResourcePolicies, ResourcePolicyFact};
use crate::core::policy::Policy;
use crate::core::resources::ResourceKind;

/// The file's name in an offline folder.
pub const FILE_NAME: &str = "resource-policies.json";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourcePoliciesError {
    #[error("cannot read `{path}`: {detail}")]
    Read { path: String, detail: String },
    #[error("`{path}` is not JSON: {detail}")]
    NotJson { path: String, detail: String },
    #[error("`{path}`: `{field}` {detail}")]
    Field {
        path: String,
        field: String,
        detail: String,
    },
}

/// Reads a resource policies file.
pub fn load(path: &Path) -> Result<ResourcePolicies, ResourcePoliciesError> {
    let shown = path.display().to_string();
    let text =
        super::file::read_regular_to_string(path).map_err(|e| ResourcePoliciesError::Read {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
    parse(&shown, &text)
}

/// Parses a resource policies file; `source` names it in errors. Every document is parsed
/// as a policy here, so a malformed one is reported with the file and the entry.
pub fn parse(source: &str, text: &str) -> Result<ResourcePolicies, ResourcePoliciesError> {
    let field = |field: String, detail: &str| ResourcePoliciesError::Field {
        path: source.to_string(),
        field,
        detail: detail.to_string(),
    };
    let value: Value = serde_json::from_str(text).map_err(|e| ResourcePoliciesError::NotJson {
        path: source.to_string(),
        detail: e.to_string(),
    })?;
    let Some(top) = value.as_object() else {
        return Err(field(
            "(top level)".into(),
            "must be an object with `resources`",
        ));
    };
    if let Some(unknown) = top.keys().find(|k| *k != "resources") {
        return Err(field(
            unknown.clone(),
            "is not a known field (only `resources`)",
        ));
    }
    let Some(entries) = top.get("resources").and_then(Value::as_array) else {
        return Err(field("resources".into(), "must be a list of entries"));
    };
    let mut out = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = |name: &str| format!("resources[{i}].{name}");
        let Some(entry) = entry.as_object() else {
            return Err(field(format!("resources[{i}]"), "must be an object"));
        };
        if let Some(unknown) = entry
            .keys()
            .find(|k| !["arn", "policy", "policy_name", "unreadable"].contains(&k.as_str()))
        {
            return Err(field(
                at(unknown),
                "is not a known field (`arn`, `policy`, `policy_name`, `unreadable`)",
            ));
        }
        let arn = match entry.get("arn") {
            Some(Value::String(arn)) if arn.starts_with("arn:") => arn.clone(),
            Some(Value::String(_)) => return Err(field(at("arn"), "must be an ARN (`arn:...`)")),
            _ => return Err(field(at("arn"), "is missing or not a string")),
        };
        let fact = entry_fact(entry, &arn).map_err(|(name, detail)| field(at(name), &detail))?;
        if out.insert(arn.clone(), fact).is_some() {
            return Err(field(
                at("arn"),
                &format!("repeats `{arn}`: give each resource once"),
            ));
        }
    }
    Ok(out)
}

/// One entry's fact, or the field that is wrong and why.
fn entry_fact(
    entry: &Map<String, Value>,
    arn: &str,
) -> Result<ResourcePolicyFact, (&'static str, String)> {
    let name = match entry.get("policy_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if !n.is_empty() => Some(n.clone()),
        Some(_) => return Err(("policy_name", "must be a non-empty string".into())),
    };
    match (entry.get("policy"), entry.get("unreadable")) {
        (Some(_), Some(_)) => Err((
            "unreadable",
            "cannot be given with `policy`: a policy was either read or not".into(),
        )),
        (None, None) => Err((
            "policy",
            "is missing: give the document, `null` when the resource has no policy, or `unreadable` with the reason".into(),
        )),
        (None, Some(Value::String(reason))) if !reason.trim().is_empty() => {
            Ok(ResourcePolicyFact::Unreadable {
                reason: reason.clone(),
            })
        }
        (None, Some(_)) => Err(("unreadable", "must be the reason, as a non-empty string".into())),
        (Some(Value::Null), None) => Ok(ResourcePolicyFact::NoPolicy),
        (Some(doc), None) => {
            let document = match doc {
                Value::String(s) => s.clone(),
                Value::Object(_) => doc.to_string(),
                _ => return Err(("policy", "must be the document (text or object) or null".into())),
            };
            let name = name.unwrap_or_else(|| default_name(arn));
            Policy::parse(&name, &document).map_err(|e| ("policy", e.to_string()))?;
            Ok(ResourcePolicyFact::Policy { name, document })
        }
    }
}

/// The name a policy goes by when the file gives none: what the service calls it.
pub fn default_name(arn: &str) -> String {
    ResourceKind::of(arn)
        .map_or("resource policy", ResourceKind::policy_label)
        .to_string()
}

/// The file's JSON for `policies`, in ARN order.
pub fn to_json(policies: &ResourcePolicies) -> Value {
    let resources: Vec<Value> = policies
        .iter()
        .map(|(arn, fact)| match fact {
            ResourcePolicyFact::NoPolicy => json!({"arn": arn, "policy": null}),
            ResourcePolicyFact::Policy { name, document } if *name == default_name(arn) => {
                json!({"arn": arn, "policy": document})
            }
            ResourcePolicyFact::Policy { name, document } => {
                json!({"arn": arn, "policy_name": name, "policy": document})
            }
            ResourcePolicyFact::Unreadable { reason } => json!({"arn": arn, "unreadable": reason}),
        })
        .collect();
    json!({ "resources": resources })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "arn:aws:s3:::demo-dev-s3bucket-1x2y3z";
    const DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::demo-dev-s3bucket-1x2y3z/*"}]}"#;

    #[test]
    fn every_state_round_trips_through_the_file() {
        let policies = ResourcePolicies::from([
            (
                BUCKET.to_string(),
                ResourcePolicyFact::Policy {
                    name: "bucket policy".into(),
                    document: DENY.into(),
                },
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:key/k-1".to_string(),
                ResourcePolicyFact::Policy {
                    name: "default".into(),
                    document: DENY.replace("s3:DeleteObject", "kms:Decrypt"),
                },
            ),
            (
                "arn:aws:ecr:us-east-1:111122223333:repository/demo".to_string(),
                ResourcePolicyFact::NoPolicy,
            ),
            (
                "arn:aws:s3:::other".to_string(),
                ResourcePolicyFact::Unreadable {
                    reason: "AccessDenied: not allowed".into(),
                },
            ),
        ]);
        let text = to_json(&policies).to_string();
        assert_eq!(parse("f", &text), Ok(policies));
        assert!(text.contains(r#""policy":null"#), "{text}");
        assert!(text.contains(r#""policy_name":"default""#), "{text}");
    }

    #[test]
    fn a_hand_written_object_document_is_accepted() {
        let text = format!(r#"{{"resources": [{{"arn": "{BUCKET}", "policy": {DENY}}}]}}"#);
        let parsed = parse("f", &text).expect("valid");
        assert!(matches!(
            &parsed[BUCKET],
            ResourcePolicyFact::Policy { name, .. } if name == "bucket policy"
        ));
    }

    /// Each malformed input names the file and the field at fault.
    #[test]
    fn malformed_entries_name_the_field() {
        let cases = [
            ("[]", "(top level)"),
            (r#"{"resource": []}"#, "`resource`"),
            (r#"{"resources": {}}"#, "`resources`"),
            (r#"{"resources": [1]}"#, "`resources[0]`"),
            (r#"{"resources": [{"policy": null}]}"#, "`resources[0].arn`"),
            (
                r#"{"resources": [{"arn": "bucket", "policy": null}]}"#,
                "`resources[0].arn`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b"}]}"#,
                "`resources[0].policy`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "policy": null, "unreadable": "x"}]}"#,
                "`resources[0].unreadable`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "unreadable": ""}]}"#,
                "`resources[0].unreadable`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "policy": 3}]}"#,
                "`resources[0].policy`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "policy": "{\"Statement\": [{\"Effect\": \"Perhaps\"}]}"}]}"#,
                "`resources[0].policy`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "policy": null, "Policy": null}]}"#,
                "`resources[0].Policy`",
            ),
            (
                r#"{"resources": [{"arn": "arn:aws:s3:::b", "policy": null}, {"arn": "arn:aws:s3:::b", "policy": null}]}"#,
                "`resources[1].arn`",
            ),
        ];
        for (text, field) in cases {
            let e = parse("dir/resource-policies.json", text).expect_err(text);
            let message = e.to_string();
            assert!(
                message.starts_with("`dir/resource-policies.json`") && message.contains(field),
                "{text}: {message}"
            );
        }
        assert!(matches!(
            parse("f", "{"),
            Err(ResourcePoliciesError::NotJson { .. })
        ));
    }
}
