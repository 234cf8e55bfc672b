//! Markdown that fits a pull-request comment.

use crate::core::findings::Findings;

/// One field: control characters escaped, and `|` so it stays in its table cell.
fn cell(s: &str) -> String {
    super::escape(s).replace('|', "\\|")
}

/// One field inside a code span: control characters escaped, and backticks, which would end it.
fn code(s: &str) -> String {
    super::escape(s).replace('`', "'")
}

pub fn check(report: &Findings) -> String {
    let s = report.summary;
    let mut out = String::new();
    let icon = if report.incomplete || s.unknown > 0 {
        "⚠️"
    } else if s.denied == 0 {
        "✅"
    } else {
        "❌"
    };
    let unknown = if s.unknown > 0 {
        format!(
            "; {}",
            super::unknown_summary(s.unknown, &report.depends_on)
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "### {icon} iam-doctor: {} of {} required actions allowed{}\n\n`{}` · profile `{}` · region `{}`\n\n",
        s.allowed,
        s.allowed + s.denied + s.unknown,
        cell(&unknown),
        code(&report.principal),
        code(&report.profile),
        code(&report.region)
    ));
    let denied: Vec<_> = report.denied().collect();
    if !denied.is_empty() {
        out.push_str("| Action | Decision | Why | Needed for |\n|---|---|---|---|\n");
        for r in &denied {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                cell(&code(&r.action)),
                r.decision.label(),
                cell(&super::explanation(r)),
                cell(&r.reason)
            ));
        }
        out.push('\n');
        let fix = &report.remediation;
        if !fix.is_empty() {
            out.push_str("#### How to fix\n\n");
            for step in &fix.steps {
                out.push_str(&format!("- {}\n", cell(&step.advice)));
            }
            if let Some(doc) = &fix.add_to_role {
                let json = serde_json::to_string_pretty(doc).unwrap_or_default();
                let lines: Vec<String> = json.lines().map(cell).collect();
                out.push_str(&format!(
                    "- add to the role:\n\n```json\n{}\n```\n",
                    lines.join("\n")
                ));
            }
            out.push('\n');
        }
    }
    for u in &report.unchecked {
        out.push_str(&format!("> **Not checked:** {}\n", cell(u)));
    }
    for n in &report.notes {
        out.push_str(&format!("> **Note:** {}\n", cell(n)));
    }
    for w in &report.warnings {
        out.push_str(&format!("> **Warning:** {}\n", cell(w)));
    }
    out
}
