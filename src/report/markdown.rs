//! Markdown that fits a pull-request comment.

use crate::core::audit::{AccountAudit, OrganizationAudit};
use crate::core::facts::TargetType;
use crate::core::findings::Findings;

/// One field in a table cell, inside a code span: control characters escaped, and `|` so it stays
/// in its cell.
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
        prose(&unknown),
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
                prose(&super::explanation(r)),
                prose(&r.reason)
            ));
        }
        out.push('\n');
        let fix = &report.remediation;
        if !fix.is_empty() {
            out.push_str("#### How to fix\n\n");
            for step in &fix.steps {
                out.push_str(&format!("- {}\n", prose(&step.advice)));
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
        out.push_str(&format!("> **Not checked:** {}\n", prose(u)));
    }
    for n in &report.notes {
        out.push_str(&format!("> **Note:** {}\n", prose(n)));
    }
    for w in &report.warnings {
        out.push_str(&format!("> **Warning:** {}\n", prose(w)));
    }
    out
}

/// The check's own sentences, in running text or a table cell, with names from AWS inside: control
/// characters escaped, `<`, `>` and `&` as HTML entities (GitHub renders raw HTML in a comment) and
/// `|`. Backticks stay: the sentences set names in code spans, where no markup is rendered.
fn prose(s: &str) -> String {
    let mut out = String::new();
    for c in super::escape(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    out
}

/// A name in running text or a table cell, where GitHub would render HTML and backticks: as
/// [`prose`], and backticks as HTML entities too.
fn inline(s: &str) -> String {
    prose(s).replace('`', "&#96;")
}

/// Text for a quoted Mermaid label. Mermaid reads `#NUMBER;` as the character of that code
/// ("Entity codes to escape characters",
/// https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters), so every
/// character that could end the label, open markup or end the code fence (`"`, brackets, `<`,
/// `&`, `#`, backticks …) is written that way; letters, digits and plain punctuation stay.
pub fn mermaid_text(s: &str) -> String {
    let mut out = String::new();
    for c in super::escape(s).chars() {
        if c.is_alphanumeric() || " -_.:/,@+=*!?".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("#{};", u32::from(c)));
        }
    }
    out
}

/// The account's path as a Mermaid flowchart: root → OUs → account, each node with its name, id
/// and the SCPs and RCPs attached there; a node whose policies block something is marked.
fn mermaid_path(a: &AccountAudit) -> String {
    let mut out = String::from("```mermaid\nflowchart TD\n");
    let mut marked = Vec::new();
    for (i, level) in a.levels.iter().enumerate() {
        let name = if level.name.is_empty() {
            &level.id
        } else {
            &level.name
        };
        let kind = match level.target_type {
            TargetType::Root => "root",
            TargetType::OrganizationalUnit => "OU",
            TargetType::Account => "account",
        };
        let mut label = if name == &level.id {
            format!("{kind} {}", mermaid_text(name))
        } else {
            format!(
                "{kind} {} #40;{}#41;",
                mermaid_text(name),
                mermaid_text(&level.id)
            )
        };
        let mut blocks = false;
        for (policy_kind, p) in level
            .scps
            .iter()
            .map(|p| ("SCP", p))
            .chain(level.rcps.iter().map(|p| ("RCP", p)))
        {
            if p.blocks.is_empty() {
                label.push_str(&format!("<br/>{policy_kind} {}", mermaid_text(&p.name)));
            } else {
                blocks = true;
                label.push_str(&format!(
                    "<br/>⛔ {policy_kind} {}: blocks {}",
                    mermaid_text(&p.name),
                    p.blocks
                        .iter()
                        .map(|b| b.action.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len()
                ));
            }
        }
        out.push_str(&format!("  n{i}[\"{label}\"]\n"));
        if i > 0 {
            out.push_str(&format!("  n{} --> n{i}\n", i - 1));
        }
        if blocks {
            marked.push(format!("n{i}"));
        }
    }
    if !marked.is_empty() {
        out.push_str("  classDef blocks fill:#fdecea,stroke:#b3261e,color:#1f2328\n");
        out.push_str(&format!("  class {} blocks\n", marked.join(",")));
    }
    out.push_str("```\n\n");
    out
}

/// The organization audit for a pull request or a step summary: per account, its path as a
/// Mermaid diagram and which attached policy blocks what, by which statement.
pub fn organization_audit(audit: &OrganizationAudit) -> String {
    let blocked = audit
        .accounts
        .iter()
        .filter(|a| !a.blocked.is_empty())
        .count();
    let icon = if audit.is_incomplete() {
        "⚠️"
    } else if blocked > 0 {
        "❌"
    } else {
        "✅"
    };
    let mut out = format!(
        "### {icon} iam-doctor scps: organization policies block required actions in {blocked} of {} account(s)\n\nprofile `{}` · region `{}` · {}\n\n",
        audit.accounts.len(),
        code(&audit.profile),
        code(&audit.region),
        inline(&audit.identity)
    );
    for u in &audit.unchecked {
        out.push_str(&format!("> **Not checked:** {}\n\n", inline(u)));
    }
    for a in &audit.accounts {
        let name = a
            .name
            .as_deref()
            .map(|n| format!(" ({})", inline(n)))
            .unwrap_or_default();
        let (icon, tally) = if a.error.is_some() {
            ("⚠️", "not audited".to_string())
        } else if !a.blocked.is_empty() {
            (
                "❌",
                format!(
                    "blocks {} of {} required actions",
                    a.blocked.len(),
                    a.required_actions
                ),
            )
        } else if !a.undecided.is_empty() {
            (
                "⚠️",
                format!(
                    "{} of {} required actions depend on request values",
                    a.undecided.len(),
                    a.required_actions
                ),
            )
        } else {
            (
                "✅",
                format!("blocks none of {} required actions", a.required_actions),
            )
        };
        out.push_str(&format!(
            "#### {icon} Account `{}`{name}: {tally}\n\n",
            code(&a.account_id)
        ));
        if let Some(e) = &a.error {
            out.push_str(&format!("> **Not audited:** {}\n\n", inline(e)));
            continue;
        }
        for n in &a.notes {
            out.push_str(&format!("> **Note:** {}\n\n", inline(n)));
        }
        if a.levels.is_empty() {
            continue;
        }
        out.push_str(&mermaid_path(a));
        out.push_str("| Attached to | Policy | Blocks |\n|---|---|---|\n");
        for level in &a.levels {
            let at = if level.name.is_empty() || level.name == level.id {
                format!("`{}`", cell(&code(&level.id)))
            } else {
                format!("{} (`{}`)", inline(&level.name), cell(&code(&level.id)))
            };
            for (kind, p) in level
                .scps
                .iter()
                .map(|p| ("SCP", p))
                .chain(level.rcps.iter().map(|p| ("RCP", p)))
            {
                let groups = super::block_groups(&p.blocks);
                let blocks = if groups.is_empty() {
                    "nothing".to_string()
                } else {
                    groups
                        .iter()
                        .map(|g| {
                            let statement = g
                                .statement
                                .map(|s| format!(" `{}`", cell(&code(s))))
                                .unwrap_or_default();
                            format!("{}{statement}: {}", g.how(), some_actions(&g.actions))
                        })
                        .collect::<Vec<_>>()
                        .join("<br>")
                };
                out.push_str(&format!(
                    "| {at} | {kind} `{}` | {blocks} |\n",
                    cell(&code(&p.name))
                ));
            }
        }
        out.push('\n');
        if !a.undecided.is_empty() {
            let undecided: Vec<&str> = a.undecided.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "> {}: {}\n\n",
                inline(&super::unknown_summary(undecided.len(), &a.depends_on)),
                some_actions(&undecided)
            ));
        }
        if !a.missing_context.is_empty() {
            out.push_str(&format!(
                "> Conditions on keys the request does not carry were read as absent: {}\n\n",
                inline(&a.missing_context.join(", "))
            ));
        }
    }
    out
}

/// Actions for a table cell, each in a code span, the first few named and the rest counted.
fn some_actions(actions: &[&str]) -> String {
    const SHOWN: usize = 6;
    let mut shown: Vec<String> = actions
        .iter()
        .take(SHOWN)
        .map(|a| format!("`{}`", cell(&code(a))))
        .collect();
    if actions.len() > SHOWN {
        shown.push(format!("… (+{} more)", actions.len() - SHOWN));
    }
    shown.join(", ")
}
