//! JUnit XML: one test case per required action, a failure per denial. Any CI shows it.

use crate::core::eval::Decision;
use crate::core::findings::Findings;

/// XML attribute or text: control characters first shown escaped (XML 1.0 cannot carry most of
/// them at all, not even as character references), then the XML specials.
fn esc(s: &str) -> String {
    super::escape(s)
        .replace('\u{FFFE}', "\\u{fffe}")
        .replace('\u{FFFF}', "\\u{ffff}")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn check(report: &Findings) -> String {
    let fix = &report.remediation;
    let s = report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // A decision that depends on keys of unknown value is an error (not decided), not a
    // failure (denied); so is an incomplete report.
    let errors = usize::from(report.incomplete) + s.unknown;
    out.push_str(&format!(
        "<testsuites name=\"iam-doctor\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\">\n",
        s.allowed + s.denied + s.unknown + usize::from(report.incomplete),
        s.denied,
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" errors=\"{errors}\">\n",
        esc(&report.profile),
        esc(&report.principal),
        s.allowed + s.denied + s.unknown + usize::from(report.incomplete),
        s.denied,
    ));
    if report.incomplete {
        out.push_str(&format!(
            "    <testcase classname=\"iam-doctor\" name=\"completeness\"><error message=\"{}\"/></testcase>\n",
            esc(&report
                .unchecked
                .iter()
                .map(|u| format!("not checked: {u}"))
                .chain(report.notes.iter().cloned())
                .collect::<Vec<_>>()
                .join("; "))
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
        } else if r.decision == Decision::Unknown {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <error type=\"unknown\" message=\"{}\">needed for: {}\ngive the values with --context KEY=VALUE: {}</error>\n    </testcase>\n",
                esc(service),
                esc(&name),
                esc(&super::explanation(r)),
                esc(&r.reason),
                esc(&r.depends_on.join(", "))
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
