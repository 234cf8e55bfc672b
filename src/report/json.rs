//! Machine-readable output for pipelines.

use serde_json::{Value, json};

use crate::core::audit::OrganizationAudit;
use crate::core::check::CheckReport;
use crate::core::eval::{Blame, Evaluation};
use crate::core::profile::RequiredPermissions;

/// `decided_by` entries as documented: kind, policy, target, statement (plus the verdict), and
/// for a service rule (or a resource policy one makes necessary) the rule and its AWS page.
pub fn blame(b: &Blame) -> Value {
    let mut v = json!({
        "kind": b.kind,
        "verdict": b.verdict,
        "policy": b.policy,
        "policy_id": b.policy_id,
        "target": b.target,
        "target_name": b.target_name,
        "statement": b.statement,
        "depends_on": b.depends_on,
        "explanation": b.describe(),
    });
    if let (Some(rule), Some(page)) = (&b.rule, &b.page) {
        v["rule"] = json!(rule);
        v["page"] = json!(page);
    }
    v
}

pub fn required(r: &RequiredPermissions) -> Value {
    json!({
        "profile": r.profile,
        "vpc": r.vpc,
        "policies": r.policies,
        "managed_policy_arns": r.managed_policy_arns,
        "actions": r.actions,
        "warnings": r.warnings,
        "incomplete": !r.unchecked.is_empty(),
        "unchecked": r.unchecked,
    })
}

pub fn check(report: &CheckReport) -> Value {
    let s = report.summary();
    json!({
        "principal": report.principal,
        "profile": report.profile,
        "region": report.region,
        "results": report.results.iter().map(|r| {
            let mut v = json!({
                "action": r.action,
                "resource": r.resource,
                "decision": r.decision,
                "engine": r.engine,
                "decided_by": r.decided_by.iter().map(blame).collect::<Vec<_>>(),
                "reason": r.reason,
                "grant": r.grant,
                "policy": r.policy,
            });
            if !r.missing_context.is_empty() {
                v["missing_context"] = json!(r.missing_context);
            }
            if !r.depends_on.is_empty() {
                v["depends_on"] = json!(r.depends_on);
            }
            if let Some(aws) = &r.aws {
                v["aws"] = json!(aws);
            }
            if let Some(d) = &r.disagreement {
                v["disagreement"] = json!(d);
            }
            if !r.matched.is_empty() {
                v["matched"] = json!(r.matched);
            }
            if let Some(c) = &r.confirmation {
                v["confirmation"] = json!(c);
            }
            v
        }).collect::<Vec<_>>(),
        "summary": {"allowed": s.allowed, "denied": s.denied, "unknown": s.unknown},
        "depends_on": report.depends_on(),
        "remediation": crate::core::remediation::remediate(report),
        "notes": report.notes,
        "warnings": report.warnings,
        "incomplete": report.incomplete,
        "unchecked": report.unchecked,
    })
}

pub fn evaluation(e: &Evaluation) -> Value {
    json!({
        "decision": e.decision,
        "decided_by": e.decided_by.iter().map(blame).collect::<Vec<_>>(),
        "missing_context": e.missing_context,
        "depends_on": e.depends_on,
    })
}

/// The organization audit, as its model serializes.
pub fn organization_audit(audit: &OrganizationAudit) -> Value {
    serde_json::to_value(audit).unwrap_or_default()
}
