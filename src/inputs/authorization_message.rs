//! The decoded form of an encoded authorization failure message: the `DecodedMessage` that
//! `sts:DecodeAuthorizationMessage` returns for the blob after `Encoded authorization failure
//! message:` (EC2's `UnauthorizedOperation`, among others).
//!
//! Unlike the message text, the decoded form is the request AWS evaluated: the action, the
//! resource, the principal and the value of every condition key AWS had in the request
//! context, plus whether a `Deny` matched and which statements did. That is enough for an exact
//! reproduction: the same action on the same resource with the same context.
//!
//! Its shape, as the AWS CLI's own example shows it (aws-cli
//! `awscli/examples/sts/decode-authorization-message.rst`, reproduced in the IAM User Guide page
//! `sts_example_sts_DecodeAuthorizationMessage_section.html`): lists are wrapped as
//! `{"items": [...]}` and values as `{"value": "..."}`; `context.action` is the bare operation
//! (`RunInstances`) and the service is the `aws:Service` condition key; the statements in
//! `matchedStatements` carry the full action (`ec2:RunInstances`).

use serde_json::Value;

use crate::core::denial::{Blamed, ContextValue, Denial, EncodedMessage};
use crate::core::request_keys::Supplied;

/// The request AWS denied, as decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedAuthorization {
    pub allowed: bool,
    /// A `Deny` statement matched (otherwise no statement allowed).
    pub explicit_deny: bool,
    pub matched_statements: Vec<MatchedStatement>,
    /// `context.principal.arn`; `None` when AWS left it out.
    pub principal_arn: Option<String>,
    /// `service:Action`, qualified from `aws:Service` when AWS gives the bare operation; the
    /// bare operation when nothing names the service.
    pub action: String,
    pub resource: Option<String>,
    /// Every `context.conditions` entry, in AWS's order: the request context.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// One statement AWS says matched the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub statement_id: Option<String>,
    /// `ALLOW` or `DENY`, as AWS writes it.
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// Why a `DecodedMessage` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodedMessageError {
    #[error("the decoded message is not JSON: {0}")]
    NotJson(String),
    #[error("the decoded message has no `context.{0}`")]
    Missing(&'static str),
}

/// The `value`s of an `{"items": [{"value": ...}]}` list (plain arrays and strings are taken
/// as they are, in case AWS ever drops the wrapping).
fn values(v: &Value) -> Vec<String> {
    let items = match v {
        Value::Object(o) => o.get("items").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match items {
        Value::Array(list) => list
            .iter()
            .filter_map(|item| match item {
                Value::Object(o) => o.get("value").and_then(scalar),
                other => scalar(other),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => scalar(&other).into_iter().collect(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn items(v: &Value) -> Vec<&Value> {
    match v.get("items").unwrap_or(v) {
        Value::Array(list) => list.iter().collect(),
        _ => Vec::new(),
    }
}

/// Reads a `DecodedMessage`.
pub fn parse(text: &str) -> Result<DecodedAuthorization, DecodedMessageError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| DecodedMessageError::NotJson(e.to_string()))?;
    let context = doc
        .get("context")
        .filter(|c| c.is_object())
        .ok_or(DecodedMessageError::Missing("action"))?;
    let conditions: Vec<(String, Vec<String>)> = items(&context["conditions"])
        .into_iter()
        .filter_map(|entry| {
            let key = entry.get("key")?.as_str()?.to_string();
            Some((key, values(&entry["values"])))
        })
        .collect();
    let matched_statements: Vec<MatchedStatement> = items(&doc["matchedStatements"])
        .into_iter()
        .map(|s| MatchedStatement {
            statement_id: s
                .get("statementId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_string),
            effect: s
                .get("effect")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            actions: values(&s["actions"]),
            resources: values(&s["resources"]),
        })
        .collect();
    let operation = context
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .ok_or(DecodedMessageError::Missing("action"))?;
    let action = qualified_action(operation, &conditions, &matched_statements);
    Ok(DecodedAuthorization {
        allowed: doc.get("allowed").and_then(Value::as_bool).unwrap_or(false),
        explicit_deny: doc
            .get("explicitDeny")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        matched_statements,
        principal_arn: context
            .pointer("/principal/arn")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        action,
        resource: context
            .get("resource")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        conditions,
    })
}

/// `service:Action`: as given when it has a service; else qualified with `aws:Service`, or
/// with the service of a matched statement's action of the same name.
fn qualified_action(
    operation: &str,
    conditions: &[(String, Vec<String>)],
    matched: &[MatchedStatement],
) -> String {
    if operation.contains(':') {
        return operation.to_string();
    }
    let service = conditions
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("aws:Service"))
        .and_then(|(_, v)| v.first().cloned())
        .or_else(|| {
            matched.iter().flat_map(|s| &s.actions).find_map(|a| {
                a.split_once(':')
                    .filter(|(_, name)| name.eq_ignore_ascii_case(operation))
                    .map(|(service, _)| service.to_string())
            })
        });
    match service {
        Some(s) if !s.is_empty() => format!("{s}:{operation}"),
        _ => operation.to_string(),
    }
}

impl DecodedAuthorization {
    /// The value of a condition key in the request context.
    pub fn value_of(&self, key: &str) -> Option<&str> {
        self.conditions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// The region the request was made in: `aws:RequestedRegion`, else `aws:Region` (which
    /// decoded messages carry), else the service's own region key (`ec2:Region`).
    pub fn region(&self) -> Option<&str> {
        let service = self.action.split_once(':').map(|(s, _)| s);
        self.value_of("aws:RequestedRegion")
            .or_else(|| self.value_of("aws:Region"))
            .or_else(|| service.and_then(|s| self.value_of(&format!("{s}:Region"))))
            .filter(|r| !r.is_empty())
    }

    /// The request context, as `--context KEY=VALUE` gives it: every condition entry with its
    /// values, and `aws:RequestedRegion` from [`Self::region`] when AWS listed it otherwise.
    pub fn supplied(&self) -> Supplied {
        let mut supplied = Supplied::default();
        for (key, values) in &self.conditions {
            supplied.state(key, Some(values.clone()));
        }
        if let Some(region) = self.region()
            && !supplied.states("aws:RequestedRegion")
        {
            supplied.state("aws:RequestedRegion", Some(vec![region.to_string()]));
        }
        supplied
    }

    /// The denial as AWS decoded it: the decoded action, resource and principal replace what
    /// the text said, and an explicit deny is recorded when the text named no policy type.
    pub fn apply_to(&self, denial: &mut Denial) {
        if self.action.contains(':') || denial.action.is_empty() {
            denial.action = self.action.clone();
        }
        if let Some(resource) = &self.resource {
            denial.resource = Some(resource.clone());
        }
        if let Some(principal) = &self.principal_arn {
            denial.principal = Some(principal.clone());
        }
        if let Some(region) = self.region() {
            denial.region = Some(region.to_string());
        }
        if self.explicit_deny && denial.blamed == Blamed::Unspecified {
            denial.blamed = Blamed::UnspecifiedExplicitDeny;
        }
        denial.encoded = Some(EncodedMessage::Decoded {
            explicit_deny: self.explicit_deny,
            context: self
                .conditions
                .iter()
                .map(|(key, values)| ContextValue {
                    key: key.clone(),
                    values: values.clone(),
                })
                .collect(),
            matched_statements: self
                .matched_statements
                .iter()
                .map(|s| {
                    format!(
                        "{} {}{}",
                        s.effect,
                        s.statement_id.as_deref().unwrap_or("(no Sid)"),
                        if s.actions.is_empty() {
                            String::new()
                        } else {
                            format!(" on {}", s.actions.join(", "))
                        }
                    )
                })
                .collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `DecodedMessage` of the AWS CLI's example (aws-cli
    /// `awscli/examples/sts/decode-authorization-message.rst`; the same in the IAM User Guide,
    /// `sts_example_sts_DecodeAuthorizationMessage_section.html`), kept as a fixture.
    const CLI_EXAMPLE: &str =
        include_str!("../../tests/fixtures/decoded-authorization/cli-example-run-instances.json");

    #[test]
    fn the_cli_example_decodes_to_the_full_request() {
        let d = parse(CLI_EXAMPLE).expect("the documented example parses");
        assert!(!d.allowed);
        assert!(d.explicit_deny);
        assert_eq!(d.action, "ec2:RunInstances", "qualified from aws:Service");
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:ec2:us-east-1:111122223333:instance/*")
        );
        assert_eq!(
            d.principal_arn.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/Developer/Ana")
        );
        assert_eq!(d.conditions.len(), 18);
        assert_eq!(d.value_of("ec2:InstanceType"), Some("t2.micro"));
        assert_eq!(d.region(), Some("us-east-1"));
        assert_eq!(
            d.matched_statements,
            vec![MatchedStatement {
                statement_id: Some("VisualEditor0".into()),
                effect: "DENY".into(),
                actions: vec!["ec2:RunInstances".into()],
                resources: vec!["*".into()],
            }]
        );
        let supplied = d.supplied();
        assert!(supplied.states("ec2:MetadataHttpTokens"));
        assert!(supplied.states("aws:RequestedRegion"));
    }

    #[test]
    fn decoding_replaces_the_text_and_marks_the_explicit_deny() {
        let d = parse(CLI_EXAMPLE).expect("parses");
        let mut denial = crate::inputs::access_denied::parse(
            "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: Qx8_abc",
        )
        .remove(0);
        assert_eq!(denial.principal, None);
        d.apply_to(&mut denial);
        assert_eq!(denial.action, "ec2:RunInstances");
        assert_eq!(
            denial.principal.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/Developer/Ana")
        );
        assert_eq!(denial.blamed, Blamed::UnspecifiedExplicitDeny);
        assert!(matches!(
            denial.encoded,
            Some(EncodedMessage::Decoded { explicit_deny: true, ref context, .. }) if context.len() == 18
        ));
    }

    #[test]
    fn a_qualified_action_and_plain_lists_are_taken_as_they_are() {
        let d = parse(
            r#"{"allowed":false,"explicitDeny":false,"context":{"action":"ec2:CreateNetworkInterface","resource":"arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1","conditions":{"items":[{"key":"ec2:Vpc","values":["arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1"]}]}}}"#,
        )
        .expect("parses");
        assert_eq!(d.action, "ec2:CreateNetworkInterface");
        assert_eq!(
            d.value_of("ec2:Vpc"),
            Some("arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1")
        );
        assert_eq!(d.region(), None);
        assert!(d.matched_statements.is_empty());
    }

    #[test]
    fn not_json_or_without_an_action_is_an_error() {
        assert!(matches!(
            parse("<xml/>"),
            Err(DecodedMessageError::NotJson(_))
        ));
        assert_eq!(
            parse(r#"{"allowed":false,"context":{"resource":"*"}}"#),
            Err(DecodedMessageError::Missing("action"))
        );
    }
}
