//! The policy evaluator: AWS's documented evaluation logic, with the reason for every decision.
//!
//! Order (reference_policies_evaluation-logic): an explicit `Deny` in any applicable policy wins;
//! then every RCP level and every SCP level (root → OUs → account) must hold an `Allow`; then an
//! identity policy must allow; then the permissions boundary, when there is one, must allow.
//! AWS's own simulator says *that* an organization policy denied, never *which*: here each
//! decision carries the policy, the organization level and the statement that decided it.

use serde::Serialize;

use super::condition;
use super::context::Context;
use super::facts::TargetType;
use super::pattern::{Case, action_matches};
use super::policy::{
    ActionClause, Effect, Policy, PrincipalClause, Principals, ResourceClause, Statement,
};
use super::variables;

/// The three outcomes IAM knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit_deny",
            Decision::ExplicitDeny => "explicit_deny",
        }
    }

    /// For people: `implicit deny` rather than `implicit_deny`.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit deny",
            Decision::ExplicitDeny => "explicit deny",
        }
    }
}

/// The kind of policy a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Identity,
    Boundary,
    Scp,
    Rcp,
}

impl PolicyKind {
    pub fn describe(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
        }
    }
}

/// A policy with the names a person knows it by.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    /// ARN or policy id, when it has one.
    pub id: Option<String>,
    pub policy: Policy,
}

/// The SCPs or RCPs attached directly to one node of the organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevelPolicies {
    pub target_id: String,
    pub target_name: String,
    pub target_type: TargetType,
    pub policies: Vec<NamedPolicy>,
}

/// Every policy that applies to one principal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
    /// Root first, account last. Empty when no SCPs apply (no organization, the management
    /// account, or a service-linked role).
    pub scps: Vec<OrgLevelPolicies>,
    /// Root first, account last. Empty when no RCPs apply.
    pub rcps: Vec<OrgLevelPolicies>,
}

/// One request to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The principal's IAM ARN, for `Principal` elements of RCPs.
    pub principal: String,
    pub action: String,
    /// An ARN, or `*` when the resource is not known (as IAM's simulator does).
    pub resource: String,
    pub context: Context,
}

/// Why a policy took part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A `Deny` statement matched.
    Denies,
    /// An `Allow` statement matched.
    Allows,
    /// Nothing at this place allows the action.
    FailsToAllow,
}

/// One reason for a decision: which policy, where it is attached, and which statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct Blame {
    pub kind: PolicyKind,
    pub verdict: Verdict,
    /// The policy name; `None` for a level with no allowing policy at all.
    pub policy: Option<String>,
    pub policy_id: Option<String>,
    /// The organization node (root, OU, account id) for SCPs and RCPs.
    pub target: Option<String>,
    pub target_name: Option<String>,
    /// The statement's Sid, or `#index` when it has none.
    pub statement: Option<String>,
}

impl Blame {
    /// A one-line account of this reason, for people.
    pub fn describe(&self) -> String {
        let place = match (&self.target_name, &self.target) {
            (Some(n), Some(t)) if n != t => format!(" attached to {n} ({t})"),
            (_, Some(t)) => format!(" attached to {t}"),
            _ => String::new(),
        };
        let policy = self.policy.as_deref().unwrap_or("");
        let stmt = self
            .statement
            .as_deref()
            .map(|s| format!(" statement `{s}`"))
            .unwrap_or_default();
        match self.verdict {
            Verdict::Denies | Verdict::FailsToAllow
                if matches!(self.kind, PolicyKind::Scp | PolicyKind::Rcp)
                    && self.policy.is_none()
                    && self.target.is_none() =>
            {
                format!(
                    "an organization {} {} it; which one could not be read",
                    self.kind.describe(),
                    if self.verdict == Verdict::Denies {
                        "denies"
                    } else {
                        "does not allow"
                    }
                )
            }
            Verdict::Denies => {
                format!("{} `{policy}`{place}{stmt} denies it", self.kind.describe())
            }
            Verdict::Allows => {
                format!("{} `{policy}`{place}{stmt} allows it", self.kind.describe())
            }
            Verdict::FailsToAllow => match (&self.kind, self.policy.is_some()) {
                (PolicyKind::Scp | PolicyKind::Rcp, _) => format!(
                    "no {} at {} allows it",
                    self.kind.describe(),
                    place.trim_start_matches(" attached to ")
                ),
                (PolicyKind::Boundary, _) => {
                    format!("permissions boundary `{policy}` does not allow it")
                }
                (PolicyKind::Identity, _) => "no identity policy allows it".to_string(),
            },
        }
    }
}

/// A decision and everything that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// For a deny: every matching `Deny` statement, or every place that failed to allow.
    /// For an allow: the statements that allowed it.
    pub decided_by: Vec<Blame>,
    /// Condition keys that were absent from the request and could have changed the outcome.
    pub missing_context: Vec<String>,
}

/// The services whose resources RCPs can govern. RCPs are ignored for any other service.
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-identity",
    "dynamodb",
    "logs",
];

/// Decides one request against a policy set.
pub fn evaluate(set: &PolicySet, request: &Request) -> Evaluation {
    let mut missing = Vec::new();
    let service = request.action.split(':').next().unwrap_or("");
    let rcps_apply = RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service));
    let rcp_levels: &[OrgLevelPolicies] = if rcps_apply { &set.rcps } else { &[] };

    // 1. Explicit denies anywhere.
    let mut denies = Vec::new();
    for level in rcp_levels {
        collect_level(
            level,
            PolicyKind::Rcp,
            Effect::Deny,
            request,
            &mut denies,
            &mut missing,
        );
    }
    for level in &set.scps {
        collect_level(
            level,
            PolicyKind::Scp,
            Effect::Deny,
            request,
            &mut denies,
            &mut missing,
        );
    }
    for p in &set.identity {
        collect_policy(
            p,
            PolicyKind::Identity,
            None,
            Effect::Deny,
            request,
            &mut denies,
            &mut missing,
        );
    }
    if let Some(b) = &set.boundary {
        collect_policy(
            b,
            PolicyKind::Boundary,
            None,
            Effect::Deny,
            request,
            &mut denies,
            &mut missing,
        );
    }
    // 2. Gates that must each allow. Every failing gate is reported, not just the first, so
    // one run shows everything that has to change; with an explicit deny too, since lifting
    // the deny alone would still leave the action blocked.
    let mut failures = Vec::new();
    let mut allows = Vec::new();
    for (levels, kind) in [
        (rcp_levels, PolicyKind::Rcp),
        (&set.scps[..], PolicyKind::Scp),
    ] {
        for level in levels {
            let mut level_allows = Vec::new();
            collect_level(
                level,
                kind,
                Effect::Allow,
                request,
                &mut level_allows,
                &mut missing,
            );
            if level_allows.is_empty() {
                failures.push(Blame {
                    kind,
                    verdict: Verdict::FailsToAllow,
                    policy: None,
                    policy_id: None,
                    target: Some(level.target_id.clone()),
                    target_name: Some(level.target_name.clone()),
                    statement: None,
                });
            }
        }
    }
    let mut identity_allows = Vec::new();
    for p in &set.identity {
        collect_policy(
            p,
            PolicyKind::Identity,
            None,
            Effect::Allow,
            request,
            &mut identity_allows,
            &mut missing,
        );
    }
    if identity_allows.is_empty() {
        failures.push(Blame {
            kind: PolicyKind::Identity,
            verdict: Verdict::FailsToAllow,
            policy: None,
            policy_id: None,
            target: None,
            target_name: None,
            statement: None,
        });
    }
    allows.extend(identity_allows);
    if let Some(b) = &set.boundary {
        let mut boundary_allows = Vec::new();
        collect_policy(
            b,
            PolicyKind::Boundary,
            None,
            Effect::Allow,
            request,
            &mut boundary_allows,
            &mut missing,
        );
        if boundary_allows.is_empty() {
            failures.push(Blame {
                kind: PolicyKind::Boundary,
                verdict: Verdict::FailsToAllow,
                policy: Some(b.name.clone()),
                policy_id: b.id.clone(),
                target: None,
                target_name: None,
                statement: None,
            });
        }
    }
    if !denies.is_empty() {
        denies.extend(failures);
        finish(Decision::ExplicitDeny, denies, missing)
    } else if failures.is_empty() {
        finish(Decision::Allowed, allows, missing)
    } else {
        finish(Decision::ImplicitDeny, failures, missing)
    }
}

fn finish(decision: Decision, decided_by: Vec<Blame>, mut missing: Vec<String>) -> Evaluation {
    missing.sort_by_key(|k| k.to_ascii_lowercase());
    missing.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    Evaluation {
        decision,
        decided_by,
        missing_context: missing,
    }
}

fn collect_level(
    level: &OrgLevelPolicies,
    kind: PolicyKind,
    effect: Effect,
    request: &Request,
    out: &mut Vec<Blame>,
    missing: &mut Vec<String>,
) {
    for p in &level.policies {
        collect_policy(p, kind, Some(level), effect, request, out, missing);
    }
}

fn collect_policy(
    p: &NamedPolicy,
    kind: PolicyKind,
    level: Option<&OrgLevelPolicies>,
    effect: Effect,
    request: &Request,
    out: &mut Vec<Blame>,
    missing: &mut Vec<String>,
) {
    for st in p.policy.statements.iter().filter(|s| s.effect == effect) {
        if statement_applies(st, kind, request, missing) {
            out.push(Blame {
                kind,
                verdict: if effect == Effect::Deny {
                    Verdict::Denies
                } else {
                    Verdict::Allows
                },
                policy: Some(p.name.clone()),
                policy_id: p.id.clone(),
                target: level.map(|l| l.target_id.clone()),
                target_name: level.map(|l| l.target_name.clone()),
                statement: Some(st.label()),
            });
        }
    }
}

/// Does this statement apply to the request? Missing condition keys that decided a
/// statement which otherwise matched are recorded in `missing`.
pub fn statement_applies(
    st: &Statement,
    kind: PolicyKind,
    request: &Request,
    missing: &mut Vec<String>,
) -> bool {
    let action_hit = match &st.action {
        ActionClause::Action(list) => list.iter().any(|p| action_matches(p, &request.action)),
        ActionClause::NotAction(list) => !list.iter().any(|p| action_matches(p, &request.action)),
    };
    if !action_hit {
        return false;
    }
    let resource_hit = match &st.resource {
        None => true,
        Some(ResourceClause::Resource(list)) => list
            .iter()
            .any(|p| resource_pattern_matches(p, &request.resource, &request.context, missing)),
        Some(ResourceClause::NotResource(list)) => !list
            .iter()
            .any(|p| resource_pattern_matches(p, &request.resource, &request.context, missing)),
    };
    if !resource_hit {
        return false;
    }
    // Principal elements only mean something in resource-side policies (RCPs here).
    if kind == PolicyKind::Rcp {
        let principal_hit = match &st.principal {
            None => true,
            Some(PrincipalClause::Principal(p)) => principal_matches(p, &request.principal),
            Some(PrincipalClause::NotPrincipal(p)) => !principal_matches(p, &request.principal),
        };
        if !principal_hit {
            return false;
        }
    }
    if st.conditions.is_empty() {
        return true;
    }
    let outcome = condition::evaluate_all(&st.conditions, &request.context);
    missing.extend(outcome.missing_keys);
    outcome.matched
}

/// A resource pattern matches when its variables resolve and the glob matches. An unresolved
/// variable never matches, as in IAM, and its key is recorded as missing context: supplying
/// it could change the decision.
fn resource_pattern_matches(
    pattern: &str,
    resource: &str,
    ctx: &Context,
    missing: &mut Vec<String>,
) -> bool {
    if pattern == "*" {
        return true;
    }
    match variables::matches_with_variables(pattern, resource, Case::Sensitive, ctx) {
        Some(hit) => hit,
        None => {
            if let variables::Substituted::Unresolved(keys) = variables::substitute(pattern, ctx) {
                missing.extend(keys);
            }
            false
        }
    }
}

fn principal_matches(p: &Principals, principal_arn: &str) -> bool {
    match p {
        Principals::Any => true,
        Principals::ByType(types) => types.iter().any(|(t, values)| {
            t == "AWS"
                && values.iter().any(|v| {
                    v == "*"
                        || v == principal_arn
                        || account_of(principal_arn).is_some_and(|acct| {
                            v == acct || *v == format!("arn:aws:iam::{acct}:root")
                        })
                })
        }),
    }
}

fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests;
