//! Machine-readable output for pipelines: each report serialized as its model derives it, with
//! no intermediate value, so the derived fields are the public schema
//! (`tests/fixtures/schema/`).

use serde::Serialize;

use crate::core::audit::OrganizationAudit;
use crate::core::check::explained_blames;
use crate::core::eval::{Blame, Decision, Evaluation};
use crate::core::explain::Explanation;
use crate::core::findings::Findings;
use crate::core::jets::GeneratedPolicy;
use crate::core::profile::{RequiredAction, RequiredPermissions};

/// `value` as indented JSON.
fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The required permissions, and whether some requirement could not be turned into them.
pub fn required(r: &RequiredPermissions) -> String {
    #[derive(Serialize)]
    struct RequiredJson<'a> {
        profile: &'a str,
        vpc: bool,
        policies: &'a [GeneratedPolicy],
        managed_policy_arns: &'a [String],
        actions: &'a [RequiredAction],
        warnings: &'a [String],
        /// Some requirement could not be turned into permissions (`unchecked`).
        incomplete: bool,
        unchecked: &'a [String],
    }
    pretty(&RequiredJson {
        profile: &r.profile,
        vpc: r.vpc,
        policies: &r.policies,
        managed_policy_arns: &r.managed_policy_arns,
        actions: &r.actions,
        warnings: &r.warnings,
        incomplete: !r.unchecked.is_empty(),
        unchecked: &r.unchecked,
    })
}

/// The check report, as its model serializes, written to `out` as it is produced: a large
/// report (an exhaustive check has thousands of results) is never held whole in memory.
pub fn write_check(out: impl std::io::Write, findings: &Findings) -> std::io::Result<()> {
    serde_json::to_writer_pretty(out, findings).map_err(std::io::Error::from)
}

/// One evaluation of `simulate`: the decision and its causes, explained.
pub fn evaluation(e: &Evaluation) -> String {
    #[derive(Serialize)]
    struct EvaluationJson<'a> {
        decision: Decision,
        #[serde(serialize_with = "explained_blames")]
        decided_by: &'a [Blame],
        missing_context: &'a [String],
        depends_on: &'a [String],
    }
    pretty(&EvaluationJson {
        decision: e.decision,
        decided_by: &e.decided_by,
        missing_context: &e.missing_context,
        depends_on: &e.depends_on,
    })
}

/// Every explained denial, under `explanations`.
pub fn explain(explained: &[Explanation]) -> String {
    #[derive(Serialize)]
    struct ExplainJson<'a> {
        explanations: &'a [Explanation],
    }
    pretty(&ExplainJson {
        explanations: explained,
    })
}

/// `explain` with sources read from AWS: the explanations, what was read, and what could not be.
pub fn explain_evidence(explained: &[Explanation], read: &[String], problems: &[String]) -> String {
    #[derive(Serialize)]
    struct ExplainJson<'a> {
        explanations: &'a [Explanation],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        read: &'a [String],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        problems: &'a [String],
    }
    pretty(&ExplainJson {
        explanations: explained,
        read,
        problems,
    })
}

/// The organization audit, as its model serializes.
pub fn organization_audit(audit: &OrganizationAudit) -> String {
    pretty(audit)
}
