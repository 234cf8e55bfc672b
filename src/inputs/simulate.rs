//! The what-if input of `iam-doctor simulate`: one request and every policy that applies.
//!
//! Admins ask "what would this SCP change break?" before touching the organization; this input
//! lets them state the policies as they would be and get the decision with its explanation.

use serde::Deserialize;
use serde_json::Value;

use crate::core::context::Context;
use crate::core::eval::{NamedPolicy, OrgLevelPolicies, PolicySet, Request};
use crate::core::facts::TargetType;
use crate::core::policy::{Policy, PolicyError, scalar};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateInputError {
    #[error("the simulate input is not valid: {0}")]
    Shape(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("context key `{key}` must be a string, number, boolean or an array of them")]
    ContextValue { key: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    principal: String,
    action: String,
    #[serde(default = "star")]
    resource: String,
    #[serde(default)]
    context: serde_json::Map<String, Value>,
    #[serde(default)]
    identity_policies: Vec<InputPolicy>,
    #[serde(default)]
    permissions_boundary: Option<InputPolicy>,
    #[serde(default)]
    scps: Vec<InputLevel>,
    #[serde(default)]
    rcps: Vec<InputLevel>,
}

fn star() -> String {
    "*".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputPolicy {
    name: String,
    #[serde(default)]
    id: Option<String>,
    document: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputLevel {
    id: String,
    #[serde(default)]
    name: Option<String>,
    policies: Vec<InputPolicy>,
}

/// Parses the input into a policy set and a request.
pub fn parse(text: &str) -> Result<(PolicySet, Request), SimulateInputError> {
    let input: Input =
        serde_json::from_str(text).map_err(|e| SimulateInputError::Shape(e.to_string()))?;
    if !input.action.contains(':') {
        return Err(SimulateInputError::Shape(format!(
            "`{}` is not an action (expected `service:Action`)",
            input.action
        )));
    }
    let named = |p: InputPolicy| -> Result<NamedPolicy, PolicyError> {
        Ok(NamedPolicy {
            policy: Policy::from_value(&p.name, &p.document)?,
            name: p.name,
            id: p.id,
        })
    };
    let levels = |ls: Vec<InputLevel>| -> Result<Vec<OrgLevelPolicies>, PolicyError> {
        ls.into_iter()
            .map(|l| {
                Ok(OrgLevelPolicies {
                    target_type: target_type_of(&l.id),
                    target_name: l.name.unwrap_or_else(|| l.id.clone()),
                    target_id: l.id,
                    policies: l
                        .policies
                        .into_iter()
                        .map(named)
                        .collect::<Result<Vec<_>, _>>()?,
                })
            })
            .collect()
    };
    let mut context = Context::new();
    for (key, v) in input.context {
        match v {
            Value::Array(items) => {
                let values = items
                    .iter()
                    .map(|i| {
                        scalar(i)
                            .ok_or_else(|| SimulateInputError::ContextValue { key: key.clone() })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                context.set_multi(key, values);
            }
            other => {
                let value = scalar(&other)
                    .ok_or_else(|| SimulateInputError::ContextValue { key: key.clone() })?;
                context.set(key, value);
            }
        }
    }
    let set = PolicySet {
        identity: input
            .identity_policies
            .into_iter()
            .map(named)
            .collect::<Result<Vec<_>, _>>()?,
        boundary: input.permissions_boundary.map(named).transpose()?,
        scps: levels(input.scps)?,
        rcps: levels(input.rcps)?,
    };
    Ok((
        set,
        Request {
            principal: input.principal,
            action: input.action,
            resource: input.resource,
            context,
        },
    ))
}

/// Organization ids say what they are: `r-` roots, `ou-` OUs, 12 digits accounts.
pub fn target_type_of(id: &str) -> TargetType {
    if id.starts_with("r-") {
        TargetType::Root
    } else if id.starts_with("ou-") {
        TargetType::OrganizationalUnit
    } else {
        TargetType::Account
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::eval::{Decision, PolicyKind, evaluate};

    #[test]
    fn parses_and_decides() {
        let input = r#"{"principal":"arn:aws:iam::111122223333:role/x","action":"s3:GetObject","resource":"arn:aws:s3:::b/k",
          "context":{"aws:RequestedRegion":"us-east-1","aws:TagKeys":["a","b"],"aws:MultiFactorAuthPresent":true},
          "identity_policies":[{"name":"p1","document":{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}}],
          "permissions_boundary":null,
          "scps":[{"id":"r-ab12","policies":[{"name":"FullAWSAccess","document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}]},
                  {"id":"ou-ab12-1","policies":[{"name":"OnlyEc2","document":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ec2:*\",\"Resource\":\"*\"}]}"}]}],
          "rcps":[]}"#;
        let (set, req) = parse(input).expect("valid");
        assert_eq!(
            req.context.get("aws:TagKeys").map(|e| e.values.len()),
            Some(2)
        );
        assert_eq!(
            req.context
                .get("aws:MultiFactorAuthPresent")
                .map(|e| e.values[0].as_str()),
            Some("true")
        );
        let e = evaluate(&set, &req);
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert_eq!(e.decided_by[0].kind, PolicyKind::Scp);
        assert_eq!(e.decided_by[0].target.as_deref(), Some("ou-ab12-1"));
    }

    #[test]
    fn errors_are_specific() {
        assert!(matches!(parse("{}"), Err(SimulateInputError::Shape(_))));
        assert!(matches!(
            parse(r#"{"principal":"p","action":"GetObject"}"#),
            Err(SimulateInputError::Shape(_))
        ));
        let bad_policy = r#"{"principal":"p","action":"s3:GetObject","identity_policies":[{"name":"broken","document":{"Statement":[{"Effect":"Allow"}]}}]}"#;
        match parse(bad_policy) {
            Err(SimulateInputError::Policy(e)) => assert_eq!(e.policy, "broken"),
            other => panic!("unexpected {other:?}"),
        }
        let bad_ctx = r#"{"principal":"p","action":"s3:GetObject","context":{"k":{"a":1}}}"#;
        assert!(matches!(
            parse(bad_ctx),
            Err(SimulateInputError::ContextValue { .. })
        ));
    }
}
