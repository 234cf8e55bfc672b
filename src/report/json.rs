//! Machine-readable output for pipelines.

use serde::Serialize;
use serde_json::{Value, json};

use crate::core::audit::OrganizationAudit;
use crate::core::check::explained_blames;
use crate::core::eval::{Blame, Decision, Evaluation};
use crate::core::explain::Explanation;
use crate::core::findings::Findings;
use crate::core::profile::RequiredPermissions;

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

/// The check report, as its model serializes.
pub fn check(findings: &Findings) -> Value {
    serde_json::to_value(findings).unwrap_or_default()
}

/// One evaluation of `simulate`: the decision and its causes, explained.
pub fn evaluation(e: &Evaluation) -> Value {
    #[derive(Serialize)]
    struct EvaluationJson<'a> {
        decision: Decision,
        #[serde(serialize_with = "explained_blames")]
        decided_by: &'a [Blame],
        missing_context: &'a [String],
        depends_on: &'a [String],
    }
    serde_json::to_value(EvaluationJson {
        decision: e.decision,
        decided_by: &e.decided_by,
        missing_context: &e.missing_context,
        depends_on: &e.depends_on,
    })
    .unwrap_or_default()
}

/// Every explained denial, under `explanations`.
pub fn explain(explained: &[Explanation]) -> Value {
    #[derive(Serialize)]
    struct ExplainJson<'a> {
        explanations: &'a [Explanation],
    }
    serde_json::to_value(ExplainJson {
        explanations: explained,
    })
    .unwrap_or_default()
}

/// The organization audit, as its model serializes.
pub fn organization_audit(audit: &OrganizationAudit) -> Value {
    serde_json::to_value(audit).unwrap_or_default()
}
