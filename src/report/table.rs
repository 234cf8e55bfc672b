//! Tables for people at a terminal. Denials come first and in full; allowed actions are
//! listed only when asked for, since a deploy role has hundreds of them.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use crate::core::audit::{Block, LevelAudit, OrganizationAudit};
use crate::core::denial::EncodedMessage;
use crate::core::eval::Evaluation;
use crate::core::eval::Verdict;
use crate::core::explain::Explanation;
use crate::core::facts::TargetType;
use crate::core::findings::Findings;
use crate::core::profile::RequiredPermissions;

use super::escape;

/// Actions named per table cell before the rest is counted.
const SHOWN_ACTIONS: usize = 6;

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

pub fn check(report: &Findings, show_allowed: bool, width: Option<u16>) -> String {
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
    let fix = &report.remediation;
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
    let s = report.summary;
    let unknown = if s.unknown > 0 {
        format!(
            ", {}",
            super::unknown_summary(s.unknown, &report.depends_on)
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

/// Where a policy is attached, for a table cell: the level's name and id, and its kind.
fn attached_to(level: &LevelAudit) -> String {
    let kind = match level.target_type {
        TargetType::Root => "root",
        TargetType::OrganizationalUnit => "OU",
        TargetType::Account => "account",
    };
    if level.name.is_empty() || level.name == level.id {
        format!("{} ({kind})", escape(&level.id))
    } else {
        format!("{}\n{} ({kind})", escape(&level.name), escape(&level.id))
    }
}

fn some_actions(actions: &[&str]) -> String {
    let mut shown: Vec<&str> = actions.iter().take(SHOWN_ACTIONS).copied().collect();
    let more = actions.len().saturating_sub(SHOWN_ACTIONS);
    let more = (more > 0).then(|| format!("… (+{more} more)"));
    if let Some(m) = &more {
        shown.push(m);
    }
    shown.join(", ")
}

/// What one policy blocks, grouped by statement, for a table cell.
fn describe_blocks(blocks: &[Block]) -> String {
    if blocks.is_empty() {
        return "nothing".to_string();
    }
    let mut groups: Vec<(Verdict, Option<&str>, Vec<&str>)> = Vec::new();
    for b in blocks {
        let key = (b.verdict, b.statement.as_deref());
        match groups.iter_mut().find(|(v, s, _)| (*v, *s) == key) {
            Some((_, _, list)) => list.push(&b.action),
            None => groups.push((b.verdict, b.statement.as_deref(), vec![&b.action])),
        }
    }
    groups
        .iter()
        .map(|(verdict, statement, actions)| {
            let head = match (verdict, statement) {
                (Verdict::FailsToAllow, _) => format!(
                    "allows none of {} required action(s) at this level",
                    actions.len()
                ),
                (Verdict::MayDeny, Some(s)) => format!(
                    "may deny {} action(s) by statement `{}`, depending on request values the audit cannot know",
                    actions.len(),
                    escape(s)
                ),
                (_, Some(s)) => {
                    format!(
                        "denies {} action(s) by statement `{}`",
                        actions.len(),
                        escape(s)
                    )
                }
                (_, None) => format!("denies {} action(s)", actions.len()),
            };
            format!("{head}: {}", escape(&some_actions(actions)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One section per account, one row per attached policy, then how the accounts were evaluated.
pub fn organization_audit(audit: &OrganizationAudit, width: Option<u16>) -> String {
    let (profile, region) = (escape(&audit.profile), escape(&audit.region));
    let mut out = String::new();
    for a in &audit.accounts {
        let title = match &a.name {
            Some(n) => format!("account {} ({})", escape(&a.account_id), escape(n)),
            None => format!("account {}", escape(&a.account_id)),
        };
        let path: Vec<std::borrow::Cow<'_, str>> = a
            .levels
            .iter()
            .map(|l| if l.name.is_empty() { &l.id } else { &l.name })
            .map(|n| escape(n))
            .collect();
        if path.is_empty() {
            out.push_str(&format!("{title}\n"));
        } else {
            out.push_str(&format!("{title}: {}\n", path.join(" → ")));
        }
        if let Some(e) = &a.error {
            out.push_str(&format!("  not audited: {}\n\n", escape(e)));
            continue;
        }
        for n in &a.notes {
            out.push_str(&format!("  note: {}\n", escape(n)));
        }
        if !a.levels.is_empty() {
            let mut t = table(&["Attached to", "Policy", "Blocks"], width);
            for level in &a.levels {
                let mut first_row = true;
                for (kind, policies) in [("SCP", &level.scps), ("RCP", &level.rcps)] {
                    for p in policies {
                        let attached = if first_row {
                            attached_to(level)
                        } else {
                            String::new()
                        };
                        first_row = false;
                        t.add_row(vec![
                            attached,
                            format!("{kind} `{}`\n{}", escape(&p.name), escape(&p.id)),
                            describe_blocks(&p.blocks),
                        ]);
                    }
                }
            }
            out.push_str(&format!("{t}\n"));
        }
        if !a.missing_context.is_empty() {
            out.push_str(&format!(
                "  conditions on keys the request does not carry were read as absent: {}\n",
                escape(&a.missing_context.join(", "))
            ));
        }
        if !a.undecided.is_empty() {
            let undecided: Vec<&str> = a.undecided.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "  {}: {}\n",
                escape(&super::unknown_summary(undecided.len(), &a.depends_on)),
                escape(&some_actions(&undecided))
            ));
        }
        let blocked: Vec<&str> = a.blocked.iter().map(String::as_str).collect();
        if blocked.is_empty() {
            out.push_str(&format!(
                "account {}: organization policies block none of {} required actions (profile {profile}, region {region})\n\n",
                escape(&a.account_id), a.required_actions
            ));
        } else {
            out.push_str(&format!(
                "account {}: organization policies block {} of {} required actions (profile {profile}, region {region}): {}\n\n",
                escape(&a.account_id),
                blocked.len(),
                a.required_actions,
                escape(&some_actions(&blocked))
            ));
        }
    }
    out.push_str(&format!("note: {}\n", escape(&audit.identity)));
    out
}

/// One numbered block per denial: what AWS said, the verdict, the cause and the fix.
pub fn explain(explained: &[Explanation]) -> String {
    let mut out = String::new();
    for (i, x) in explained.iter().enumerate() {
        let d = &x.denial;
        // Where it was seen: the line of the input, or the first source (the others follow).
        let (first, more) = match x.sources.split_first() {
            Some((first, more)) => (first.describe(), more),
            None => (format!("line {}", d.line), &[][..]),
        };
        out.push_str(&format!(
            "{}. {} on {} ({})\n",
            i + 1,
            escape(if d.action.is_empty() {
                "(action not named)"
            } else {
                d.action.as_str()
            }),
            escape(d.resource.as_deref().unwrap_or("*")),
            escape(&first),
        ));
        for s in more {
            out.push_str(&format!("   also in:   {}\n", escape(&s.describe())));
        }
        out.push_str(&format!(
            "   principal: {}\n   AWS said:  {}\n   verdict:   {}\n",
            escape(d.principal.as_deref().unwrap_or("(not in the message)")),
            x.aws_blames,
            escape(&x.verdict)
        ));
        for n in &d.notes {
            out.push_str(&format!("   parsed:    {}\n", escape(n)));
        }
        for b in x.decided_by.iter().flatten() {
            out.push_str(&format!("   cause:     {}\n", escape(&b.describe())));
        }
        if !x.missing_context.is_empty() {
            out.push_str(&format!(
                "   missing context: {}\n",
                escape(&x.missing_context.join(", "))
            ));
        }
        if let Some(fix) = &x.remediation {
            for s in &fix.steps {
                out.push_str(&format!("   fix:       {}\n", escape(&s.advice)));
            }
            if let Some(doc) = &fix.add_to_role {
                out.push_str(&format!(
                    "   fix:       add to the role: {}\n",
                    escape(&doc.to_string())
                ));
            }
        }
        for n in &x.notes {
            out.push_str(&format!("   note:      {}\n", escape(n)));
        }
        match (&d.encoded, &d.encoded_message) {
            (
                Some(EncodedMessage::Decoded {
                    explicit_deny,
                    context,
                    matched_statements,
                }),
                _,
            ) => {
                out.push_str(&format!(
                    "   decoded:   the request AWS evaluated (sts:DecodeAuthorizationMessage): {}; its {} context key(s) were given to the evaluation\n",
                    if *explicit_deny {
                        "a Deny statement matched"
                    } else {
                        "no statement allowed it"
                    },
                    context.len()
                ));
                let keys: Vec<String> = context
                    .iter()
                    .map(|c| format!("{}={}", c.key, c.values.join(",")))
                    .collect();
                if !keys.is_empty() {
                    out.push_str(&format!("   context:   {}\n", escape(&keys.join(" "))));
                }
                for m in matched_statements {
                    out.push_str(&format!("   matched:   {}\n", escape(m)));
                }
            }
            (Some(EncodedMessage::NotDecoded { reason }), _) => {
                out.push_str(&format!(
                    "   encoded:   not decoded: {}; explained from the message text\n",
                    escape(reason)
                ));
            }
            (None, Some(enc)) => {
                let short: String = escape(enc).chars().take(24).collect();
                out.push_str(&format!(
                    "   encoded:   decode the full message with `aws sts decode-authorization-message --encoded-message {short}…` (needs sts:DecodeAuthorizationMessage)\n"
                ));
            }
            (None, None) => {}
        }
        out.push('\n');
    }
    out
}

/// `explain` when the sources hold no denial: what was read.
pub fn explain_nothing_found(read: &[String]) -> String {
    let mut out = String::from("no denial found in what was read:\n");
    for r in read {
        out.push_str(&format!("  - {}\n", escape(r)));
    }
    out
}

/// A policy's statements, one row each with its actions and what it is for (`purposes`, by
/// Sid), then the count of actions.
pub fn self_policy(doc: &Value, purposes: &[(&str, &str)], width: Option<u16>) -> String {
    let mut t = table(&["Statement", "Actions", "Needed for"], width);
    let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
    let mut count = 0;
    for st in &statements {
        let sid = st["Sid"].as_str().unwrap_or("");
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        count += actions.len();
        let purpose = purposes
            .iter()
            .find(|(s, _)| *s == sid)
            .map(|(_, p)| *p)
            .unwrap_or("");
        t.add_row(vec![
            sid.to_string(),
            actions.join("\n"),
            purpose.to_string(),
        ]);
    }
    format!(
        "{t}\n{count} read-only actions on `*` in {} statements; `iam-doctor self-policy --format json` prints the policy to attach\n",
        statements.len()
    )
}
