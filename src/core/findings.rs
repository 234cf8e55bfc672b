//! A finished check as every output format shows it: the decisions, and what is derived from
//! them once (the counts, the keys of unknown value, the changes that fix it).

use serde::Serialize;

use super::check::{ActionResult, CheckReport, Summary};
use super::remediation::{Remediation, remediate};

/// The check's report model. Its `Serialize` is the JSON report: pipelines parse it, so field
/// names and order are a public interface (`tests/fixtures/schema/check-report.json`).
///
/// Renderers format it and decide nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    pub principal: String,
    pub profile: String,
    pub region: String,
    pub results: Vec<ActionResult>,
    pub summary: Summary,
    /// The keys of unknown value the results depend on, in order of first appearance.
    pub depends_on: Vec<String>,
    /// What to change so every required action is allowed.
    pub remediation: Remediation,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub incomplete: bool,
    pub unchecked: Vec<String>,
}

impl Findings {
    /// Derives the counts and the remediation of a check whose results are final.
    pub fn new(report: CheckReport) -> Self {
        let summary = report.summary();
        let depends_on = report.depends_on();
        let remediation = remediate(&report);
        Findings {
            principal: report.principal,
            profile: report.profile,
            region: report.region,
            results: report.results,
            summary,
            depends_on,
            remediation,
            notes: report.notes,
            warnings: report.warnings,
            incomplete: report.incomplete,
            unchecked: report.unchecked,
        }
    }

    /// The results that are not allowed, in order.
    pub fn denied(&self) -> impl Iterator<Item = &ActionResult> {
        self.results.iter().filter(|r| !r.decision.is_allowed())
    }
}
