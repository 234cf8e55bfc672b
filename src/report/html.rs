//! The organization audit as one self-contained HTML page: the tree root → OUs → accounts, each
//! SCP and RCP at its attachment point, and for each account what is blocked, by which policy,
//! at which level and by which statement.
//!
//! The page loads nothing: its style and its one small script are inline, and its
//! `Content-Security-Policy` forbids every other source, so it can be mailed, archived or opened
//! from a CI artifact without reaching the network. It is built to stay usable with thousands of
//! accounts: account details are collapsed `<details>` (which need no script), a long list of
//! blocked actions is written once and linked from every account it applies to, and the search
//! filters by toggling one class per account.
//!
//! Every name and text that came from AWS is escaped twice over: control characters as in every
//! human format ([`super::escape`]), then HTML's own metacharacters.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::core::audit::{AccountAudit, LevelAudit, OrganizationAudit, PolicyAudit};
use crate::core::facts::TargetType;

use super::{BlockGroup, block_groups};

/// Actions named inline per block before the rest is linked to its full list.
const SHOWN_ACTIONS: usize = 6;

/// Text for HTML content or a double-quoted attribute value.
pub fn html_text(text: &str) -> String {
    let text = super::escape(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--bad:#b3261e;--bad-bg:#fdecea;--ok:#1b6e3a;--ok-bg:#e6f4ea;--unk:#8a5a00;--unk-bg:#fff4dc;--err:#555;--err-bg:#eee;--line:#d0d4da}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
header{position:sticky;top:0;z-index:2;background:#f6f8fa;border-bottom:1px solid var(--line);padding:10px 18px}
h1{font-size:18px;margin:0 0 4px}
h2{font-size:16px;margin:22px 0 8px}
main{padding:4px 18px 40px}
code{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f2f4;padding:0 3px;border-radius:3px}
.meta{color:#57606a;font-size:13px}
.stats span{display:inline-block;margin-right:12px}
.stats .bad b{color:var(--bad)}.stats .ok b{color:var(--ok)}.stats .unk b{color:var(--unk)}
.tools{margin-top:6px}
#q{width:min(420px,60vw);padding:5px 8px;font-size:14px;border:1px solid #8c959f;border-radius:5px}
#count{margin-left:10px;color:#57606a}
.warn{background:var(--unk-bg);border-left:4px solid var(--unk);padding:4px 10px;margin:6px 0}
details.node{margin:2px 0 2px 0}
details.node>.kids{margin-left:18px;border-left:1px dashed var(--line);padding-left:10px}
summary{cursor:pointer}
.node>summary{padding:3px 0}
.kind{display:inline-block;min-width:44px;font-size:11px;font-weight:600;text-transform:uppercase;color:#57606a}
.pols{margin:2px 0 4px 18px;padding:0;list-style:none}
.pols li{margin:1px 0}
.pol{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;background:#fafbfc}
.pol.blocks{border-color:var(--bad);background:var(--bad-bg)}
.tally{color:#57606a;font-size:12px}
.acct{margin:1px 0;content-visibility:auto;contain-intrinsic-size:auto 1.6em}
.acct>summary{padding:1px 4px;border-radius:4px}
.acct.bad>summary{background:var(--bad-bg)}
.acct.unk>summary{background:var(--unk-bg)}
.acct.err>summary{background:var(--err-bg)}
.st{display:inline-block;min-width:82px;font-size:11px;font-weight:700;text-transform:uppercase}
.bad .st{color:var(--bad)}.ok .st{color:var(--ok)}.unk .st{color:var(--unk)}.err .st{color:var(--err)}
.detail{margin:4px 0 8px 22px}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
.x{display:none}
.list{margin:6px 0;padding:6px 10px;border:1px solid var(--line);border-radius:4px}
.list:target{outline:2px solid #0969da}
"#;

/// Filters the accounts on what is typed (id, name, or any OU or root on the path) and on
/// "blocked only", hiding the tree's nodes that keep no visible account. One class per element
/// is toggled, once per animation frame, so typing stays responsive with thousands of accounts.
const SCRIPT: &str = r#"(function(){
var q=document.getElementById('q'),only=document.getElementById('only'),count=document.getElementById('count');
var accts=document.querySelectorAll('.acct'),keys=[],i;
for(i=0;i<accts.length;i++)keys.push(accts[i].getAttribute('data-k'));
var nodes=document.querySelectorAll('.node'),pending=false;
function apply(){
pending=false;
var s=q.value.trim().toLowerCase(),b=only.checked,filtering=s!==''||b,shown=0,i,a,p,m;
for(i=0;i<nodes.length;i++)nodes[i].classList.toggle('x',filtering);
for(i=0;i<accts.length;i++){
a=accts[i];
m=(s===''||keys[i].indexOf(s)>=0)&&(!b||a.classList.contains('bad'));
a.classList.toggle('x',!m);
if(!m)continue;
shown++;
p=a.parentElement.closest('.node');
while(p&&p.classList.contains('x')){p.classList.remove('x');p.open=true;p=p.parentElement.closest('.node');}
}
count.textContent=filtering?shown+' of '+accts.length+' accounts match':accts.length+' accounts';
}
function later(){if(!pending){pending=true;requestAnimationFrame(apply);}}
q.addEventListener('input',later);
only.addEventListener('change',later);
})();"#;

/// The page's Content-Security-Policy: nothing may be loaded or sent anywhere; the inline style
/// applies and only the page's own script (by its hash) runs.
fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; img-src 'none'; connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'"
    )
}

/// An organization node rebuilt from the accounts' paths.
struct Node<'a> {
    level: &'a LevelAudit,
    /// The SCPs and RCPs attached here, as (kind, policy), each once.
    policies: Vec<(&'static str, &'a PolicyAudit)>,
    children: Vec<usize>,
    accounts: Vec<usize>,
    /// Accounts at or below this node, and those of them something blocks.
    total: usize,
    blocked: usize,
    /// Per attached policy (kind, id): how many accounts below it blocks something in.
    blocking: HashMap<(&'static str, &'a str), usize>,
}

/// The tree root → OUs → accounts, from each account's path (root first, the account last).
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    roots: Vec<usize>,
    /// Accounts with no path: not audited, or outside the organization.
    pathless: Vec<usize>,
}

fn policies_of(level: &LevelAudit) -> impl Iterator<Item = (&'static str, &PolicyAudit)> {
    let scps = level.scps.iter().map(|p| ("SCP", p));
    let rcps = level.rcps.iter().map(|p| ("RCP", p));
    scps.chain(rcps)
}

impl<'a> Tree<'a> {
    fn build(accounts: &'a [AccountAudit]) -> Self {
        let mut tree = Tree {
            nodes: Vec::new(),
            roots: Vec::new(),
            pathless: Vec::new(),
        };
        let mut index: HashMap<&'a str, usize> = HashMap::new();
        for (ai, a) in accounts.iter().enumerate() {
            let path = match a.levels.last() {
                Some(last) if last.target_type == TargetType::Account => {
                    &a.levels[..a.levels.len() - 1]
                }
                _ => &a.levels[..],
            };
            if path.is_empty() {
                tree.pathless.push(ai);
                continue;
            }
            let mut parent: Option<usize> = None;
            for level in path {
                let ni = match index.get(level.id.as_str()) {
                    Some(&ni) => ni,
                    None => {
                        let ni = tree.nodes.len();
                        tree.nodes.push(Node {
                            level,
                            policies: Vec::new(),
                            children: Vec::new(),
                            accounts: Vec::new(),
                            total: 0,
                            blocked: 0,
                            blocking: HashMap::new(),
                        });
                        index.insert(&level.id, ni);
                        match parent {
                            Some(p) => tree.nodes[p].children.push(ni),
                            None => tree.roots.push(ni),
                        }
                        ni
                    }
                };
                let node = &mut tree.nodes[ni];
                for (kind, p) in policies_of(level) {
                    if !node
                        .policies
                        .iter()
                        .any(|(k, q)| *k == kind && q.id == p.id)
                    {
                        node.policies.push((kind, p));
                    }
                    if !p.blocks.is_empty() {
                        *node.blocking.entry((kind, p.id.as_str())).or_default() += 1;
                    }
                }
                node.total += 1;
                if !a.blocked.is_empty() {
                    node.blocked += 1;
                }
                parent = Some(ni);
            }
            if let Some(p) = parent {
                tree.nodes[p].accounts.push(ai);
            }
        }
        // OUs and accounts in name order, so a person finds them.
        let names: Vec<String> = tree
            .nodes
            .iter()
            .map(|n| display_name(n.level).to_lowercase())
            .collect();
        for n in &mut tree.nodes {
            n.children.sort_by(|a, b| names[*a].cmp(&names[*b]));
            n.accounts.sort_by_key(|&ai| {
                let a = &accounts[ai];
                (
                    a.name.as_deref().unwrap_or("").to_lowercase(),
                    &a.account_id,
                )
            });
        }
        tree
    }
}

fn display_name(level: &LevelAudit) -> &str {
    if level.name.is_empty() {
        &level.id
    } else {
        &level.name
    }
}

fn kind_label(t: TargetType) -> &'static str {
    match t {
        TargetType::Root => "root",
        TargetType::OrganizationalUnit => "OU",
        TargetType::Account => "account",
    }
}

/// Long action lists, each written once at the end of the page and linked from every block
/// that names it.
#[derive(Default)]
struct ActionLists {
    ids: HashMap<Vec<String>, usize>,
    order: Vec<Vec<String>>,
}

impl ActionLists {
    fn id(&mut self, actions: &[&str]) -> usize {
        let key: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = self.order.len();
        self.order.push(key.clone());
        self.ids.insert(key, id);
        id
    }
}

/// Accounts' status: its CSS class and its word.
fn status(a: &AccountAudit) -> (&'static str, &'static str) {
    if a.error.is_some() {
        ("err", "not audited")
    } else if !a.blocked.is_empty() {
        ("bad", "blocked")
    } else if !a.undecided.is_empty() {
        ("unk", "undecided")
    } else {
        ("ok", "clear")
    }
}

/// The whole page.
pub fn organization_audit(audit: &OrganizationAudit) -> String {
    let tree = Tree::build(&audit.accounts);
    let mut lists = ActionLists::default();
    let mut out = String::with_capacity(4096 + audit.accounts.len() * 600);
    let accounts = audit.accounts.len();
    let blocked = audit
        .accounts
        .iter()
        .filter(|a| !a.blocked.is_empty())
        .count();
    let undecided = audit
        .accounts
        .iter()
        .filter(|a| a.error.is_none() && a.blocked.is_empty() && !a.undecided.is_empty())
        .count();
    let errors = audit.accounts.iter().filter(|a| a.error.is_some()).count();
    let clear = accounts - blocked - undecided - errors;

    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>iam-doctor: organization audit ({} accounts)</title>\n<style>{STYLE}</style></head><body>\n",
        content_security_policy(),
        accounts
    );
    let _ = write!(
        out,
        "<header><h1>iam-doctor: organization policies against the <code>{}</code> deploy</h1>\n<div class=\"meta\">region <code>{}</code> · {}</div>\n<div class=\"stats\"><span class=\"bad\"><b>{blocked}</b> blocked</span><span class=\"ok\"><b>{clear}</b> clear</span><span class=\"unk\"><b>{undecided}</b> undecided</span><span class=\"err\"><b>{errors}</b> not audited</span><span>of <b>{accounts}</b> accounts</span></div>\n<div class=\"tools\"><input id=\"q\" type=\"search\" placeholder=\"Filter by account id, name or OU\" aria-label=\"Filter by account id, name or OU\" autocomplete=\"off\"> <label><input id=\"only\" type=\"checkbox\"> blocked only</label><span id=\"count\">{accounts} accounts</span></div></header>\n<main>\n",
        html_text(&audit.profile),
        html_text(&audit.region),
        html_text(&audit.identity),
    );
    for u in &audit.unchecked {
        let _ = writeln!(
            out,
            "<p class=\"warn\"><b>Not checked:</b> {}</p>",
            html_text(u)
        );
    }

    blocking_policies(&mut out, &tree, &audit.accounts);

    out.push_str("<h2>Organization</h2>\n");
    for &r in &tree.roots {
        node(&mut out, &tree, r, audit, &mut lists);
    }
    if !tree.pathless.is_empty() {
        out.push_str("<h2>Accounts without an organization path</h2>\n<div>\n");
        for &ai in &tree.pathless {
            account(&mut out, &audit.accounts[ai], &[], &mut lists);
        }
        out.push_str("</div>\n");
    }
    if !lists.order.is_empty() {
        out.push_str("<h2>Blocked action lists</h2>\n");
        for (id, list) in lists.order.iter().enumerate() {
            let items: Vec<String> = list.iter().map(|a| html_text(a)).collect();
            let _ = writeln!(
                out,
                "<div class=\"list\" id=\"l{id}\"><b>{} actions</b>: {}</div>",
                list.len(),
                items.join(", ")
            );
        }
    }
    let _ = write!(out, "</main>\n<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

/// The policies that block something somewhere, where each is attached and in how many of the
/// accounts below it (a policy attached to an account: that one).
fn blocking_policies(out: &mut String, tree: &Tree<'_>, accounts: &[AccountAudit]) {
    let mut rows: Vec<(usize, usize, &LevelAudit, &str, &PolicyAudit)> = Vec::new();
    for n in &tree.nodes {
        for (kind, p) in &n.policies {
            if let Some(&count) = n.blocking.get(&(*kind, p.id.as_str())) {
                rows.push((count, n.total, n.level, kind, p));
            }
        }
    }
    for own in accounts
        .iter()
        .filter_map(|a| a.levels.last())
        .filter(|l| l.target_type == TargetType::Account)
    {
        for (kind, p) in policies_of(own).filter(|(_, p)| !p.blocks.is_empty()) {
            rows.push((1, 1, own, kind, p));
        }
    }
    if rows.is_empty() {
        return;
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    out.push_str("<h2>Policies that block the deploy</h2>\n<table><tr><th>Policy</th><th>Attached to</th><th>Blocks in</th></tr>\n");
    for (count, total, level, kind, p) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{kind} <b>{}</b> <code>{}</code></td><td>{} <code>{}</code> ({})</td><td>{count} of {total} account(s)</td></tr>",
            html_text(&p.name),
            html_text(&p.id),
            html_text(display_name(level)),
            html_text(&level.id),
            kind_label(level.target_type),
        );
    }
    out.push_str("</table>\n");
}

fn node(
    out: &mut String,
    tree: &Tree<'_>,
    ni: usize,
    audit: &OrganizationAudit,
    lists: &mut ActionLists,
) {
    let n = &tree.nodes[ni];
    let level = n.level;
    let _ = writeln!(
        out,
        "<details class=\"node\" open><summary><span class=\"kind\">{}</span> <b>{}</b> <code>{}</code> <span class=\"tally\">{} account(s), {} blocked</span></summary>",
        kind_label(level.target_type),
        html_text(display_name(level)),
        html_text(&level.id),
        n.total,
        n.blocked
    );
    if !n.policies.is_empty() {
        out.push_str("<ul class=\"pols\">");
        for (kind, p) in &n.policies {
            let blocking = n.blocking.get(&(*kind, p.id.as_str())).copied();
            let (class, tally) = match blocking {
                Some(c) => (
                    "pol blocks",
                    format!(
                        " <span class=\"tally\">blocks in {c} of {} account(s)</span>",
                        n.total
                    ),
                ),
                None => ("pol", String::new()),
            };
            let _ = write!(
                out,
                "<li><span class=\"{class}\">{kind} <b>{}</b> <code>{}</code></span>{tally}</li>",
                html_text(&p.name),
                html_text(&p.id)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<div class=\"kids\">\n");
    for &c in &n.children {
        node(out, tree, c, audit, lists);
    }
    for &ai in &n.accounts {
        let a = &audit.accounts[ai];
        account(out, a, &a.levels, lists);
    }
    out.push_str("</div></details>\n");
}

/// One account: a collapsed line with its status, and inside it which policy, at which level,
/// blocks what.
fn account(out: &mut String, a: &AccountAudit, levels: &[LevelAudit], lists: &mut ActionLists) {
    let (class, word) = status(a);
    let mut key = a.account_id.to_lowercase();
    if let Some(n) = &a.name {
        key.push(' ');
        key.push_str(&n.to_lowercase());
    }
    for l in levels
        .iter()
        .filter(|l| l.target_type != TargetType::Account)
    {
        key.push(' ');
        key.push_str(&l.id.to_lowercase());
        if !l.name.is_empty() && l.name != l.id {
            key.push(' ');
            key.push_str(&l.name.to_lowercase());
        }
    }
    let name = a
        .name
        .as_deref()
        .map(|n| format!(" {}", html_text(n)))
        .unwrap_or_default();
    let tally = if a.error.is_some() {
        String::new()
    } else if !a.blocked.is_empty() {
        format!(
            " — blocks {} of {} required actions",
            a.blocked.len(),
            a.required_actions
        )
    } else if !a.undecided.is_empty() {
        format!(
            " — {} of {} required actions depend on request values",
            a.undecided.len(),
            a.required_actions
        )
    } else {
        format!(" — blocks none of {} required actions", a.required_actions)
    };
    let _ = write!(
        out,
        "<details class=\"acct {class}\" data-k=\"{}\"><summary><span class=\"st\">{word}</span> <code>{}</code>{name}<span class=\"tally\">{tally}</span></summary><div class=\"detail\">",
        html_text(&key),
        html_text(&a.account_id),
    );
    if let Some(e) = &a.error {
        let _ = write!(out, "<p>Not audited: {}</p>", html_text(e));
    }
    for n in &a.notes {
        let _ = write!(out, "<p class=\"meta\">Note: {}</p>", html_text(n));
    }
    if !levels.is_empty() {
        let path: Vec<String> = levels.iter().map(|l| html_text(display_name(l))).collect();
        let _ = write!(out, "<p class=\"meta\">{}</p>", path.join(" → "));
    }
    if let Some(own) = levels
        .last()
        .filter(|l| l.target_type == TargetType::Account)
    {
        let attached: Vec<String> = policies_of(own)
            .map(|(kind, p)| {
                format!(
                    "{kind} <b>{}</b> <code>{}</code>",
                    html_text(&p.name),
                    html_text(&p.id)
                )
            })
            .collect();
        if !attached.is_empty() {
            let _ = write!(
                out,
                "<p>Attached to this account: {}</p>",
                attached.join(", ")
            );
        }
    }
    let mut rows = String::new();
    for level in levels {
        for (kind, p) in policies_of(level) {
            for g in block_groups(&p.blocks) {
                let _ = write!(
                    rows,
                    "<tr><td>{} <code>{}</code></td><td>{kind} <b>{}</b> <code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    html_text(display_name(level)),
                    html_text(&level.id),
                    html_text(&p.name),
                    html_text(&p.id),
                    statement_cell(&g),
                    actions_cell(&g.actions, lists)
                );
            }
        }
    }
    if !rows.is_empty() {
        let _ = write!(
            out,
            "<table><tr><th>Level</th><th>Policy</th><th>How</th><th>Blocked actions</th></tr>{rows}</table>"
        );
    }
    if !a.undecided.is_empty() {
        let undecided: Vec<&str> = a.undecided.iter().map(String::as_str).collect();
        let _ = write!(
            out,
            "<p>{}: {}</p>",
            html_text(&super::unknown_summary(undecided.len(), &a.depends_on)),
            actions_cell(&undecided, lists)
        );
    }
    if !a.missing_context.is_empty() {
        let _ = write!(
            out,
            "<p class=\"meta\">Conditions on keys the request does not carry were read as absent: {}</p>",
            html_text(&a.missing_context.join(", "))
        );
    }
    out.push_str("</div></details>\n");
}

fn statement_cell(g: &BlockGroup<'_>) -> String {
    let statement = g
        .statement
        .map(|s| format!(" <code>{}</code>", html_text(s)))
        .unwrap_or_default();
    format!("{}{statement}", g.how())
}

/// The first actions inline; a longer list is linked to where it is written in full.
fn actions_cell(actions: &[&str], lists: &mut ActionLists) -> String {
    let shown: Vec<String> = actions
        .iter()
        .take(SHOWN_ACTIONS)
        .map(|a| format!("<code>{}</code>", html_text(a)))
        .collect();
    if actions.len() <= SHOWN_ACTIONS {
        return shown.join(", ");
    }
    let id = lists.id(actions);
    format!(
        "{}, … <a href=\"#l{id}\">all {}</a>",
        shown.join(", "),
        actions.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audit::Block;
    use crate::core::eval::Verdict;

    /// How many action lists the page writes out in full.
    fn shared_list_count(page: &str) -> usize {
        page.matches("<div class=\"list\" id=\"l").count()
    }

    fn level(id: &str, t: TargetType, name: &str, scps: Vec<PolicyAudit>) -> LevelAudit {
        LevelAudit {
            id: id.into(),
            target_type: t,
            name: name.into(),
            scps,
            rcps: Vec::new(),
        }
    }

    fn policy(id: &str, name: &str, blocks: &[(&str, Verdict, Option<&str>)]) -> PolicyAudit {
        PolicyAudit {
            id: id.into(),
            name: name.into(),
            blocks: blocks
                .iter()
                .map(|(a, v, s)| Block {
                    action: a.to_string(),
                    verdict: *v,
                    statement: s.map(str::to_string),
                })
                .collect(),
        }
    }

    fn account(id: &str, name: &str, ou: (&str, &str), blocks: &[&str]) -> AccountAudit {
        let mut a = AccountAudit::outside_organization(id, Some(name.into()));
        a.notes.clear();
        a.required_actions = 10;
        a.blocked = blocks.iter().map(|b| b.to_string()).collect();
        let region: Vec<(&str, Verdict, Option<&str>)> = blocks
            .iter()
            .map(|b| (*b, Verdict::Denies, Some("DenyOutside")))
            .collect();
        a.levels = vec![
            level(
                "r-1",
                TargetType::Root,
                "Root",
                vec![policy("p-full", "FullAWSAccess", &[])],
            ),
            level(
                ou.0,
                TargetType::OrganizationalUnit,
                ou.1,
                vec![policy("p-region", "RegionLock", &region)],
            ),
            level(id, TargetType::Account, name, Vec::new()),
        ];
        a
    }

    fn audit(accounts: Vec<AccountAudit>) -> OrganizationAudit {
        OrganizationAudit::new("jets-remote", "eu-west-1", "deployer", accounts, Vec::new())
    }

    #[test]
    fn the_tree_is_rebuilt_root_first_with_each_policy_at_its_attachment_point() {
        let page = organization_audit(&audit(vec![
            account(
                "111111111111",
                "dev",
                ("ou-1", "Workloads"),
                &["ec2:RunInstances"],
            ),
            account("222222222222", "prod", ("ou-1", "Workloads"), &[]),
            account("333333333333", "sbx", ("ou-2", "Sandbox"), &[]),
        ]));
        // One root node, holding both OUs (Sandbox before Workloads: name order), each
        // account under its own OU.
        assert_eq!(page.matches("<span class=\"kind\">root</span>").count(), 1);
        let root = page.find("<b>Root</b>").expect("root");
        let sandbox = page.find("<b>Sandbox</b>").expect("Sandbox");
        let workloads = page.find("<b>Workloads</b>").expect("Workloads");
        let dev = page.find("<code>111111111111</code>").expect("dev");
        let sbx = page.find("<code>333333333333</code>").expect("sbx");
        assert!(root < sandbox && sandbox < sbx && sbx < workloads && workloads < dev);
        // RegionLock is shown at Workloads as blocking in 1 of its 2 accounts, FullAWSAccess at
        // the root as blocking nothing.
        assert!(
            page.contains("<span class=\"pol blocks\">SCP <b>RegionLock</b> <code>p-region</code></span> <span class=\"tally\">blocks in 1 of 2 account(s)</span>"),
            "{page}"
        );
        assert!(page.contains(
            "<span class=\"pol\">SCP <b>FullAWSAccess</b> <code>p-full</code></span></li>"
        ));
        // The account says which policy at which level blocks what, by which statement.
        assert!(
            page.contains("<tr><td>Workloads <code>ou-1</code></td><td>SCP <b>RegionLock</b> <code>p-region</code></td><td>denied by statement <code>DenyOutside</code></td><td><code>ec2:RunInstances</code></td></tr>"),
            "{page}"
        );
        assert!(page.contains(
            "<details class=\"acct bad\" data-k=\"111111111111 dev r-1 root ou-1 workloads\">"
        ));
    }

    #[test]
    fn a_policy_attached_to_an_account_is_shown_there_and_in_the_blocking_summary() {
        let mut a = account("111111111111", "dev", ("ou-1", "Workloads"), &[]);
        a.blocked = vec!["lambda:CreateFunction".into()];
        a.levels[2].scps.push(policy(
            "p-own",
            "NoLambda",
            &[(
                "lambda:CreateFunction",
                Verdict::Denies,
                Some("NoFunctions"),
            )],
        ));
        let page = organization_audit(&audit(vec![a]));
        assert!(
            page.contains(
                "<p>Attached to this account: SCP <b>NoLambda</b> <code>p-own</code></p>"
            ),
            "{page}"
        );
        assert!(
            page.contains("<tr><td>SCP <b>NoLambda</b> <code>p-own</code></td><td>dev <code>111111111111</code> (account)</td><td>1 of 1 account(s)</td></tr>"),
            "{page}"
        );
        assert!(page.contains("<td>denied by statement <code>NoFunctions</code></td><td><code>lambda:CreateFunction</code></td>"));
    }

    #[test]
    fn a_long_action_list_is_written_once_and_linked_from_each_account() {
        let many: Vec<String> = (0..20).map(|i| format!("s3:Action{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let accounts = (0..50)
            .map(|i| account(&format!("{i:012}"), "a", ("ou-1", "Workloads"), &many))
            .collect();
        let page = organization_audit(&audit(accounts));
        assert_eq!(shared_list_count(&page), 1);
        assert_eq!(page.matches("<a href=\"#l0\">all 20</a>").count(), 50);
        assert_eq!(page.matches("s3:Action19").count(), 1, "written once");
    }

    #[test]
    fn the_page_may_load_nothing_and_runs_only_its_own_script() {
        let page = organization_audit(&audit(vec![account(
            "111111111111",
            "dev",
            ("ou-1", "W"),
            &[],
        )]));
        let csp = content_security_policy();
        assert!(page.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
        )));
        assert!(csp.starts_with("default-src 'none';"));
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src "))
            .expect("a script-src directive");
        assert!(
            script_src.starts_with("script-src 'sha256-") && !script_src.contains("unsafe"),
            "{script_src}"
        );
        // No URL to load anything from, and one script: the inline one.
        assert!(!page.contains("src=") && !page.contains("http://") && !page.contains("https://"));
        assert_eq!(page.matches("<script").count(), 1);
    }

    #[test]
    fn html_metacharacters_and_controls_in_names_are_inert() {
        assert_eq!(
            html_text("<img src=x onerror=alert(1)>&\"'\u{1b}[2J"),
            "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;\\u{1b}[2J"
        );
    }
}
