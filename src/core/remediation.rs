//! What to change so the deploy is allowed: the minimal identity statements to add, and which
//! organization policy or boundary to change, where it is attached.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::check::CheckReport;
use super::eval::{Blame, PolicyKind, Verdict};
use super::profile::RequiredAction;

/// One change to make outside the role's own policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The policy, level and statement to change.
    #[serde(flatten)]
    pub cause: Blame,
    pub actions: Vec<String>,
    /// What to do, for people.
    pub advice: String,
}

/// Every change needed, grouped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remediation {
    /// A least-privilege policy with the actions no identity policy allows; `None` when the
    /// role's own policies are fine.
    pub add_to_role: Option<Value>,
    pub steps: Vec<Step>,
}

impl Remediation {
    pub fn is_empty(&self) -> bool {
        self.add_to_role.is_none() && self.steps.is_empty()
    }

    /// The changes that concern one action, for reports with a line per action.
    pub fn for_action(&self, action: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .steps
            .iter()
            .filter(|s| s.actions.iter().any(|a| a == action))
            .map(|s| s.advice.clone())
            .collect();
        let in_role_fix = self
            .add_to_role
            .as_ref()
            .and_then(|doc| doc["Statement"].as_array())
            .is_some_and(|sts| {
                sts.iter().any(|st| {
                    st["Action"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(action)))
                })
            });
        if in_role_fix {
            out.push(format!("allow `{action}` in a policy attached to the role"));
        }
        out
    }
}

/// The smallest policy that grants exactly these actions: one statement per service and
/// resource, actions sorted.
pub fn least_privilege<'a>(actions: impl IntoIterator<Item = &'a RequiredAction>) -> Value {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in actions {
        let service = a
            .action
            .split(':')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let list = groups.entry((service, a.resource.clone())).or_default();
        if !list.iter().any(|x| x.eq_ignore_ascii_case(&a.action)) {
            list.push(a.action.clone());
        }
    }
    let statements: Vec<Value> = groups
        .into_iter()
        .map(|((service, resource), mut actions)| {
            actions.sort();
            json!({"Sid": sid_for(&service), "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn sid_for(service: &str) -> String {
    service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Services of a list of actions, as `s3:*`-style patterns, for advice text.
fn services(actions: &[String]) -> Vec<String> {
    let mut s: Vec<String> = actions
        .iter()
        .map(|a| format!("{}:*", a.split(':').next().unwrap_or("")))
        .collect();
    s.sort();
    s.dedup();
    s
}

/// What to do about one cause, for people.
fn advice(cause: &Blame, actions: &[String]) -> String {
    let attached_to = cause.attached_to().unwrap_or_default();
    let svc = services(actions).join("`, `");
    let pol = cause.policy.as_deref().unwrap_or_default();
    let stmt = cause.statement.as_deref().unwrap_or_default();
    let n = actions.len();
    let kind = cause.kind.describe();
    let keys = cause
        .depends_on
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = if attached_to.is_empty() {
        String::new()
    } else {
        format!(" attached to {attached_to}")
    };
    match (cause.kind, cause.verdict) {
        (_, Verdict::MayDeny) => format!(
            "{kind} `{pol}`{at} statement `{stmt}` denies {n} action(s) for some values of {keys}: give the values the deploy's requests carry with `--context KEY=VALUE` to decide, or narrow that statement"
        ),
        (_, Verdict::MayAllow) => format!(
            "{kind} `{pol}`{at} statement `{stmt}` allows {n} action(s) only for some values of {keys}: give the values the deploy's requests carry with `--context KEY=VALUE` to decide, or widen that statement"
        ),
        (PolicyKind::Scp | PolicyKind::Rcp, _)
            if cause.policy.is_none() && cause.target.is_none() =>
        {
            format!(
                "an organization {kind} stops {n} action(s) (`{svc}`) but could not be read: run `iam-doctor scps` from the management account or a delegated administrator to see which, or ask the organization admin"
            )
        }
        (PolicyKind::Scp | PolicyKind::Rcp, Verdict::Denies) => format!(
            "change {kind} `{pol}` attached to {attached_to}: statement `{stmt}` denies {n} action(s); exempt `{svc}` from it (for a NotAction statement, add them to NotAction), or ask the organization admin for an exception"
        ),
        (PolicyKind::Scp | PolicyKind::Rcp, _) => format!(
            "allow `{svc}` in a {kind} attached to {attached_to}: nothing there allows {n} required action(s) (an allow is needed at every level from the root to the account)"
        ),
        (PolicyKind::Boundary, Verdict::Denies) => format!(
            "permissions boundary `{pol}` statement `{stmt}` denies {n} action(s): narrow that statement"
        ),
        (PolicyKind::Boundary, _) => format!(
            "add `{svc}` to the permissions boundary `{pol}`: it does not allow {n} required action(s)"
        ),
        (PolicyKind::Identity, _) => format!(
            "identity policy `{pol}` statement `{stmt}` denies {n} required action(s): remove or narrow that statement"
        ),
        (PolicyKind::Session, Verdict::Denies) => format!(
            "session policy `{pol}` statement `{stmt}` denies {n} action(s): narrow it where the role is assumed"
        ),
        (PolicyKind::Session, _) => format!(
            "allow `{svc}` in the session policies passed where the role is assumed: they do not allow {n} required action(s)"
        ),
        (PolicyKind::ResourcePolicy, Verdict::Denies) => format!(
            "change the resource-based policy `{pol}` of `{attached_to}`: statement `{stmt}` denies {n} action(s)"
        ),
        (PolicyKind::ResourcePolicy, Verdict::Unreadable) => format!(
            "supply the resource-based policy of `{attached_to}` (or the permission to read it) so that {n} action(s) can be decided{}",
            cause
                .page
                .as_deref()
                .map(|p| format!(": it must allow them ({p})"))
                .unwrap_or_default()
        ),
        (PolicyKind::ResourcePolicy, _) => format!(
            "allow the role {n} action(s) (`{svc}`) in the resource-based policy `{pol}` of `{attached_to}`, directly or through the account-root statement that enables IAM policies{}",
            cause
                .page
                .as_deref()
                .map(|p| format!(": it must allow them ({p})"))
                .unwrap_or_default()
        ),
        (PolicyKind::ServiceRule, _) => format!(
            "AWS denies {n} action(s) whatever any policy allows (service rule `{}`, {}): the deploy must not need them",
            cause.rule.as_deref().unwrap_or_default(),
            cause.page.as_deref().unwrap_or_default()
        ),
    }
}

/// Works out the changes for a report.
///
/// Derived from the decisions only, so it never suggests more than what was denied.
pub fn remediate(report: &CheckReport) -> Remediation {
    let mut missing_identity = Vec::new();
    let mut grouped: BTreeMap<&Blame, Vec<String>> = BTreeMap::new();
    for r in report.denied() {
        for b in &r.decided_by {
            if b.kind == PolicyKind::Identity && b.verdict == Verdict::FailsToAllow {
                missing_identity.push(RequiredAction {
                    action: r.action.clone(),
                    resource: r.resource.clone(),
                    grant: r.grant.clone(),
                    policy: r.policy.clone(),
                    reason: r.reason.clone(),
                });
            } else if b.verdict != Verdict::Allows {
                let list = grouped.entry(b).or_default();
                if !list.contains(&r.action) {
                    list.push(r.action.clone());
                }
            }
        }
    }
    let steps = grouped
        .into_iter()
        .map(|(cause, actions)| Step {
            advice: advice(cause, &actions),
            cause: cause.clone(),
            actions,
        })
        .collect();
    Remediation {
        add_to_role: if missing_identity.is_empty() {
            None
        } else {
            Some(least_privilege(&missing_identity))
        },
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::check::{ActionResult, Engine};
    use crate::core::eval::{Blame, Decision};

    fn result(action: &str, decision: Decision, blame: Blame) -> ActionResult {
        ActionResult {
            action: action.into(),
            resource: "*".into(),
            decision,
            engine: Engine::Local,
            decided_by: vec![blame],
            missing_context: vec![],
            depends_on: vec![],
            reason: "r".into(),
            grant: "g".into(),
            policy: "DefaultPolicy".into(),
            aws: None,
            disagreement: None,
            matched: Vec::new(),
            confirmation: None,
        }
    }

    fn blame(
        kind: PolicyKind,
        verdict: Verdict,
        policy: Option<&str>,
        target: Option<&str>,
    ) -> Blame {
        Blame {
            policy: policy.map(str::to_string),
            target: target.map(str::to_string),
            target_name: Some("Workloads".into()),
            statement: Some("Deny1".into()),
            ..Blame::new(kind, verdict)
        }
    }

    #[test]
    fn groups_steps_and_builds_least_privilege() {
        let report = CheckReport {
            principal: "p".into(),
            profile: "jets-remote".into(),
            region: "eu-west-1".into(),
            results: vec![
                result(
                    "route53:GetChange",
                    Decision::ExplicitDeny,
                    blame(
                        PolicyKind::Scp,
                        Verdict::Denies,
                        Some("RegionLock"),
                        Some("ou-1"),
                    ),
                ),
                result(
                    "route53:ListHostedZones",
                    Decision::ExplicitDeny,
                    blame(
                        PolicyKind::Scp,
                        Verdict::Denies,
                        Some("RegionLock"),
                        Some("ou-1"),
                    ),
                ),
                result(
                    "kinesis:PutRecord",
                    Decision::ImplicitDeny,
                    blame(PolicyKind::Identity, Verdict::FailsToAllow, None, None),
                ),
                result(
                    "ec2:DescribeVpcs",
                    Decision::ImplicitDeny,
                    blame(PolicyKind::Scp, Verdict::FailsToAllow, None, Some("ou-2")),
                ),
                result(
                    "s3:GetObject",
                    Decision::Allowed,
                    blame(
                        PolicyKind::Identity,
                        Verdict::Allows,
                        Some("DefaultPolicy"),
                        None,
                    ),
                ),
            ],
            notes: vec![],
            warnings: vec![],
            incomplete: false,
            unchecked: Vec::new(),
        };
        let r = remediate(&report);
        assert_eq!(
            r.add_to_role,
            Some(
                json!({"Version":"2012-10-17","Statement":[{"Sid":"Kinesis","Effect":"Allow","Action":["kinesis:PutRecord"],"Resource":"*"}]})
            )
        );
        assert_eq!(r.steps.len(), 2);
        let deny = r
            .steps
            .iter()
            .find(|s| s.cause.verdict == Verdict::Denies)
            .expect("deny step");
        assert_eq!(
            deny.actions,
            vec!["route53:GetChange", "route53:ListHostedZones"]
        );
        assert!(
            deny.advice.contains("`RegionLock`")
                && deny.advice.contains("Workloads (ou-1)")
                && deny.advice.contains("`route53:*`")
        );
        let gap = r
            .steps
            .iter()
            .find(|s| s.cause.verdict == Verdict::FailsToAllow)
            .expect("gap step");
        assert!(gap.advice.contains("allow `ec2:*`"));
    }

    #[test]
    fn fixes_per_action() {
        let report = CheckReport {
            principal: "p".into(),
            profile: "x".into(),
            region: "r".into(),
            results: vec![
                result(
                    "route53:GetChange",
                    Decision::ExplicitDeny,
                    blame(
                        PolicyKind::Scp,
                        Verdict::Denies,
                        Some("RegionLock"),
                        Some("ou-1"),
                    ),
                ),
                result(
                    "kinesis:PutRecord",
                    Decision::ImplicitDeny,
                    blame(PolicyKind::Identity, Verdict::FailsToAllow, None, None),
                ),
            ],
            notes: vec![],
            warnings: vec![],
            incomplete: false,
            unchecked: Vec::new(),
        };
        let r = remediate(&report);
        let route53 = r.for_action("route53:GetChange");
        assert_eq!(route53.len(), 1);
        assert!(route53[0].contains("`RegionLock`"));
        assert_eq!(
            r.for_action("kinesis:PutRecord"),
            vec!["allow `kinesis:PutRecord` in a policy attached to the role"]
        );
        assert!(r.for_action("s3:GetObject").is_empty());
    }

    #[test]
    fn nothing_to_do_when_all_allowed() {
        let report = CheckReport {
            principal: "p".into(),
            profile: "x".into(),
            region: "r".into(),
            results: vec![],
            notes: vec![],
            warnings: vec![],
            incomplete: false,
            unchecked: Vec::new(),
        };
        assert!(remediate(&report).is_empty());
    }
}
