//! Tables for people at a terminal. Denials come first and in full; allowed actions are
//! listed only when asked for, since a deploy role has hundreds of them.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::core::check::CheckReport;
use crate::core::eval::Evaluation;
use crate::core::profile::RequiredPermissions;

use super::escape;

/// A table cell: one field, escaped, so a name cannot add a row or drive the terminal.
fn cell(text: &str) -> String {
    escape(text).into_owned()
}

fn table(header: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if let Some(w) = width {
        t.set_width(w);
    }
    t
}

pub fn required(r: &RequiredPermissions, width: Option<u16>) -> String {
    let mut t = table(&["Action", "Resource", "Granted by", "Needed for"], width);
    for a in &r.actions {
        t.add_row(vec![
            cell(&a.action),
            cell(&a.resource),
            cell(&format!("{} ({})", a.grant, a.policy)),
            cell(&a.reason),
        ]);
    }
    let policies: Vec<String> = r.policies.iter().map(|p| cell(&p.name)).collect();
    format!(
        "{t}\nprofile {}: {} actions, policies {}{}, managed {}, VPC {}\n",
        cell(&r.profile),
        r.actions.len(),
        if policies.is_empty() {
            "none".to_string()
        } else {
            policies.join(", ")
        },
        "",
        if r.managed_policy_arns.is_empty() {
            "none".to_string()
        } else {
            r.managed_policy_arns
                .iter()
                .map(|a| cell(a.rsplit('/').next().unwrap_or(a)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        if r.vpc { "on" } else { "off" },
    ) + &r
        .unchecked
        .iter()
        .map(|u| format!("INCOMPLETE: {u}\n"))
        .collect::<String>()
}

pub fn check(report: &CheckReport, show_allowed: bool, width: Option<u16>) -> String {
    let mut out = String::new();
    let denied: Vec<_> = report.denied().collect();
    if !denied.is_empty() {
        let mut t = table(&["Action", "Decision", "Why", "Needed for"], width);
        for r in &denied {
            t.add_row(vec![
                if r.resource == "*" {
                    cell(&r.action)
                } else {
                    format!("{}\non {}", cell(&r.action), cell(&r.resource))
                },
                r.decision.label().to_string(),
                cell(&super::explanation(r)),
                cell(&r.reason),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if show_allowed {
        let mut t = table(&["Action", "Decision", "Allowed by"], width);
        for r in report.results.iter().filter(|r| r.decision.is_allowed()) {
            t.add_row(vec![
                cell(&r.action),
                "allowed".to_string(),
                cell(&super::explanation(r)),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    let fix = crate::core::remediation::remediate(report);
    if !fix.is_empty() {
        out.push_str("How to fix:\n");
        for step in &fix.steps {
            out.push_str(&format!("  - {}\n", cell(&step.advice)));
        }
        if let Some(doc) = &fix.add_to_role {
            out.push_str("  - add this policy to the role, or re-run `jets bootstrap` if your config already grants it (least privilege, only what is denied):\n");
            for line in serde_json::to_string_pretty(doc)
                .unwrap_or_default()
                .lines()
            {
                out.push_str(&format!("      {}\n", cell(line)));
            }
        }
    }
    let s = report.summary();
    let unknown = if s.unknown > 0 {
        format!(
            ", {}",
            super::unknown_summary(s.unknown, &report.depends_on())
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "{}: {} of {} required actions allowed, {} denied{} (profile {}, region {}){}\n",
        cell(&report.principal),
        s.allowed,
        s.allowed + s.denied + s.unknown,
        s.denied,
        cell(&unknown),
        cell(&report.profile),
        cell(&report.region),
        if report.incomplete {
            " — INCOMPLETE, see notes"
        } else {
            ""
        },
    ));
    for u in &report.unchecked {
        out.push_str(&format!("INCOMPLETE: {u}\n"));
    }
    out
}

pub fn evaluation(action: &str, resource: &str, e: &Evaluation) -> String {
    let mut out = format!(
        "{} on {}: {}\n",
        cell(action),
        cell(resource),
        e.decision.label()
    );
    for b in &e.decided_by {
        out.push_str(&format!("  - {}\n", cell(&b.describe())));
    }
    if !e.missing_context.is_empty() {
        out.push_str(&format!(
            "  missing context: {}\n",
            cell(&e.missing_context.join(", "))
        ));
    }
    if !e.depends_on.is_empty() {
        out.push_str(&format!(
            "  depends on keys of unknown value: {}\n",
            cell(&e.depends_on.join(", "))
        ));
    }
    out
}
