//! The what-if input of `iam-doctor simulate`: one request and every policy that applies.
//!
//! Admins ask "what would this SCP change break?" before touching the organization; this input
//! lets them state the policies as they would be and get the decision with its explanation.

use serde::Deserialize;
use serde_json::Value;

use crate::core::context::Context;
use crate::core::eval::{NamedPolicy, OrgLevelPolicies, PolicySet, Request, ResourcePolicy};
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
    /// Absent: not supplied. `null`: the resource has no resource-based policy.
    #[serde(default, deserialize_with = "present")]
    resource_policy: Option<Option<InputPolicy>>,
    #[serde(default)]
    session_policies: Vec<InputPolicy>,
}

/// Tells a `null` field (`Some(None)`) from an absent one (`None`, by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What the input says of the request's resource's resource-based policy.
#[derive(Debug, Clone, PartialEq)]
pub enum SuppliedResourcePolicy {
    /// The input has no `resource_policy`: the request is decided without one, except where a
    /// resource policy must allow (a KMS key policy), which then cannot allow.
    NotSupplied,
    /// `"resource_policy": null`: the resource has none.
    NoPolicy,
    Policy(NamedPolicy),
}

impl SuppliedResourcePolicy {
    /// The evaluator's view of it.
    pub fn state(&self) -> ResourcePolicy<'_> {
        match self {
            SuppliedResourcePolicy::NotSupplied => ResourcePolicy::NotSupplied,
            SuppliedResourcePolicy::NoPolicy => ResourcePolicy::NoPolicy,
            SuppliedResourcePolicy::Policy(p) => ResourcePolicy::Policy(p),
        }
    }
}

/// A parsed what-if question.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub set: PolicySet,
    pub request: Request,
    pub resource_policy: SuppliedResourcePolicy,
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

/// Parses the input into a policy set, a request and its resource's policy.
pub fn parse(text: &str) -> Result<Simulation, SimulateInputError> {
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
        session: input
            .session_policies
            .into_iter()
            .map(named)
            .collect::<Result<Vec<_>, _>>()?,
    };
    let resource_policy = match input.resource_policy {
        None => SuppliedResourcePolicy::NotSupplied,
        Some(None) => SuppliedResourcePolicy::NoPolicy,
        Some(Some(p)) => SuppliedResourcePolicy::Policy(named(p)?),
    };
    Ok(Simulation {
        set,
        request: Request {
            principal: input.principal,
            action: input.action,
            resource: input.resource,
            context,
        },
        resource_policy,
    })
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
        let Simulation {
            set,
            request: req,
            resource_policy,
        } = parse(input).expect("valid");
        assert_eq!(resource_policy, SuppliedResourcePolicy::NotSupplied);
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
        let bad_resource_policy = r#"{"principal":"p","action":"s3:GetObject","resource_policy":{"name":"bucket","document":{"Statement":[{"Effect":"Allow"}]}}}"#;
        match parse(bad_resource_policy) {
            Err(SimulateInputError::Policy(e)) => assert_eq!(e.policy, "bucket"),
            other => panic!("unexpected {other:?}"),
        }
        let bad_session = r#"{"principal":"p","action":"s3:GetObject","session_policies":[{"name":"s","document":7}]}"#;
        assert!(matches!(
            parse(bad_session),
            Err(SimulateInputError::Policy(_))
        ));
        let bad_ctx = r#"{"principal":"p","action":"s3:GetObject","context":{"k":{"a":1}}}"#;
        assert!(matches!(
            parse(bad_ctx),
            Err(SimulateInputError::ContextValue { .. })
        ));
    }

    #[test]
    fn resource_policy_absent_null_and_given_are_told_apart() {
        let base = r#""principal":"arn:aws:iam::111122223333:role/x","action":"s3:GetObject""#;
        let absent = parse(&format!("{{{base}}}")).expect("valid");
        assert_eq!(absent.resource_policy, SuppliedResourcePolicy::NotSupplied);
        let null = parse(&format!(r#"{{{base},"resource_policy":null}}"#)).expect("valid");
        assert_eq!(null.resource_policy, SuppliedResourcePolicy::NoPolicy);
        let given = parse(&format!(
            r#"{{{base},"resource_policy":{{"name":"BucketPolicy","document":{{"Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}]}}}},
               "session_policies":[{{"name":"Session","document":{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}}}]}}"#
        ))
        .expect("valid");
        assert!(
            matches!(&given.resource_policy, SuppliedResourcePolicy::Policy(p) if p.name == "BucketPolicy")
        );
        assert_eq!(given.set.session.len(), 1);
    }
}
