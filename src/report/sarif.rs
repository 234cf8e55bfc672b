//! SARIF 2.1.0 for code-scanning uploads. Each denial is a result on the config file that
//! defines the role, with the blamed policy as a logical location.

use serde_json::{Value, json};

use crate::core::eval::Decision;
use crate::core::findings::Findings;

pub fn check(report: &Findings, config_file: &str) -> Value {
    let fix = &report.remediation;
    let rule = |d: Decision| match d {
        Decision::ExplicitDeny => "explicit-deny",
        Decision::Unknown => "depends-on-unknown-context",
        _ => "implicit-deny",
    };
    let results: Vec<Value> = report
        .results
        .iter()
        .filter(|r| !r.decision.is_allowed())
        .map(|r| {
            let logical: Vec<Value> = r
                .decided_by
                .iter()
                .filter_map(|b| {
                    b.policy.as_ref().or(b.target.as_ref()).map(|name| {
                        json!({"name": name, "kind": b.kind.describe(), "fullyQualifiedName": b.describe()})
                    })
                })
                .collect();
            json!({
                "ruleId": rule(r.decision),
                "level": "error",
                "message": {"text": super::escape(&format!(
                    "{} is {} for {}: {} (needed for: {}){}",
                    r.action,
                    if r.decision == Decision::Unknown { "not known to be allowed" } else { "denied" },
                    report.principal,
                    super::explanation(r),
                    r.reason,
                    fix.for_action(&r.action).iter().map(|f| format!(". Fix: {f}")).collect::<String>()
                ))},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": config_file}, "region": {"startLine": 1}},
                    "logicalLocations": logical,
                }],
                "partialFingerprints": {"action": format!("{}|{}|{}", report.principal, r.action, r.resource)},
            })
        })
        .collect();
    let unchecked = report.unchecked.iter().map(|u| {
        json!({
            "ruleId": "unchecked-input",
            "level": "error",
            "message": {"text": format!("not checked, so the result is incomplete: {u}")},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": config_file}, "region": {"startLine": 1}},
            }],
            "partialFingerprints": {"unchecked": format!("{}|{u}", report.principal)},
        })
    });
    let results: Vec<Value> = unchecked.chain(results).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iam-doctor",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [
                    {"id": "explicit-deny", "shortDescription": {"text": "A required action is explicitly denied"}},
                    {"id": "implicit-deny", "shortDescription": {"text": "A required action is not allowed"}},
                    {"id": "depends-on-unknown-context", "shortDescription": {"text": "Whether a required action is allowed depends on request values the check cannot know"}},
                    {"id": "unchecked-input", "shortDescription": {"text": "A required input could not be turned into permissions, so the check is incomplete"}}
                ]
            }},
            "results": results,
        }]
    })
}
