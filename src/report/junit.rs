//! JUnit XML: one test case per required action, a failure per denial. Any CI shows it.

use crate::core::check::CheckReport;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn check(report: &CheckReport) -> String {
    let fix = crate::core::remediation::remediate(report);
    let s = report.summary();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"iam-doctor\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        s.allowed + s.denied,
        s.denied,
        usize::from(report.incomplete)
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        esc(&report.profile),
        esc(&report.principal),
        s.allowed + s.denied,
        s.denied,
        usize::from(report.incomplete)
    ));
    if report.incomplete {
        out.push_str(&format!(
            "    <testcase classname=\"iam-doctor\" name=\"completeness\"><error message=\"{}\"/></testcase>\n",
            esc(&report.notes.join("; "))
        ));
    }
    for r in &report.results {
        let service = r.action.split(':').next().unwrap_or("");
        let name = if r.resource == "*" {
            r.action.clone()
        } else {
            format!("{} on {}", r.action, r.resource)
        };
        if r.decision.is_allowed() {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                esc(service),
                esc(&name)
            ));
        } else {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">needed for: {}{}</failure>\n    </testcase>\n",
                esc(service),
                esc(&name),
                r.decision.as_str(),
                esc(&super::explanation(r)),
                esc(&r.reason),
                fix.for_action(&r.action)
                    .iter()
                    .map(|f| format!("\nfix: {}", esc(f)))
                    .collect::<String>()
            ));
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
