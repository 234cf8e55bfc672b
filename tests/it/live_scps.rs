//! `iam-doctor scps`, the admin audit, against the local AWS (tests/moto) and the `jets-demo`
//! organization: Root → Workloads (RegionRestriction SCP, EnforceSecureTransport RCP) → Prod
//! (ProdServiceAllowList instead of FullAWSAccess, no `ec2`) → the member account.
//!
//! The cross-check against the live `check` uses the harness's scripted stand-in for IAM's
//! simulator (a simple rule in tests/moto/server.py, not AWS): its `AllowedByOrganizations`
//! is an independent reading of the same SCPs.

use crate::support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::Moto;

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn run_json(moto: &Moto, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = moto.cmd().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code(), v, stderr)
}

fn level<'a>(account: &'a Value, id: &str) -> &'a Value {
    account["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .find(|l| l["id"] == id)
        .unwrap_or_else(|| panic!("no level {id} in {account}"))
}

fn policy<'a>(level: &'a Value, list: &str, name: &str) -> &'a Value {
    level[list]
        .as_array()
        .expect("policies")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {level}"))
}

fn blocked_actions(policy: &Value) -> BTreeSet<String> {
    policy["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["action"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn each_policy_is_named_with_its_level_statement_and_blocked_actions() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    let member = s["member_account_id"].as_str().expect("member");
    let (code, v, stderr) = run_json(
        &moto,
        &[
            "scps",
            "--account",
            member,
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        v["identity"]
            .as_str()
            .is_some_and(|i| i.contains("allow-all identity policy")),
        "{v}"
    );
    let accounts = v["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1);
    let a = &accounts[0];
    assert_eq!(a["account_id"], member);
    assert_eq!(a["name"], "workloads-prod");

    // The path, root first, with types and names.
    let path: Vec<(&str, &str, &str)> = a["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap_or_default(),
                l["type"].as_str().unwrap_or_default(),
                l["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let workloads = s["ou_ids"]["Workloads"].as_str().expect("ou");
    let prod = s["ou_ids"]["Prod"].as_str().expect("ou");
    let root = s["root_id"].as_str().expect("root");
    assert_eq!(
        path,
        [
            (root, "ROOT", "Root"),
            (workloads, "ORGANIZATIONAL_UNIT", "Workloads"),
            (prod, "ORGANIZATIONAL_UNIT", "Prod"),
            (member, "ACCOUNT", "workloads-prod"),
        ]
    );

    // RegionRestriction at Workloads denies regional services by its statement, not the
    // global ones it exempts.
    let region = policy(level(a, workloads), "scps", "RegionRestriction");
    assert_eq!(region["id"], s["scp_ids"]["RegionRestriction"]);
    let blocks = region["blocks"].as_array().expect("blocks");
    assert!(
        blocks
            .iter()
            .all(|b| b["verdict"] == "denies" && b["statement"] == "DenyOutsideApprovedRegions")
    );
    let denied = blocked_actions(region);
    assert!(denied.contains("lambda:CreateFunction"), "{denied:?}");
    assert!(denied.contains("ec2:CreateNetworkInterface"), "{denied:?}");
    assert!(!denied.iter().any(|a| a.starts_with("iam:")), "{denied:?}");

    // Prod's allow-list fails to allow EC2, even though RegionRestriction denies it first:
    // each is reported, so one run shows everything to change.
    let allow_list = policy(level(a, prod), "scps", "ProdServiceAllowList");
    let not_allowed = blocked_actions(allow_list);
    assert!(
        not_allowed.contains("ec2:CreateNetworkInterface"),
        "{not_allowed:?}"
    );
    assert!(
        not_allowed.iter().all(|a| a.starts_with("ec2:")),
        "{not_allowed:?}"
    );
    assert!(
        allow_list["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .all(|b| b["verdict"] == "fails_to_allow" && b["statement"].is_null())
    );

    // Everything else blocks nothing: FullAWSAccess, and the RCPs (TLS is on for deploys).
    for l in a["levels"].as_array().expect("levels") {
        for list in ["scps", "rcps"] {
            for p in l[list].as_array().expect("policies") {
                if p["name"] != "RegionRestriction" && p["name"] != "ProdServiceAllowList" {
                    assert_eq!(p["blocks"], json!([]), "{p}");
                }
            }
        }
    }
    let workloads_rcps: Vec<&str> = level(a, workloads)["rcps"]
        .as_array()
        .expect("rcps")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(workloads_rcps.contains(&"EnforceSecureTransport"));

    // `blocked` is exactly what some policy blocks.
    let blocked: BTreeSet<String> = a["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .collect();
    let union: BTreeSet<String> = denied.union(&not_allowed).cloned().collect();
    assert_eq!(blocked, union);

    // Cross-check with the live check of the deploy role, whose identity policies grant every
    // service: the simulator stand-in's AllowedByOrganizations says the same per action.
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller"));
    let (_, check, stderr) = run_json(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    let mut compared = 0;
    for r in check["results"].as_array().expect("results") {
        let Some(by_org) = r["aws"]["allowed_by_organizations"].as_bool() else {
            continue;
        };
        let action = r["action"].as_str().expect("action");
        assert_eq!(
            !by_org,
            blocked.contains(action),
            "{action}: simulator says allowed by organizations = {by_org}; {stderr}"
        );
        compared += 1;
    }
    assert!(compared > 100, "{compared}");
}

#[test]
fn nothing_blocked_exits_0_and_the_table_says_how_it_was_decided() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    let member = s["member_account_id"].as_str().expect("member");
    // us-east-1 is an approved region, and without a VPC no EC2 action is required.
    let out = moto
        .cmd()
        .args(["scps", "--account", member, "--region", "us-east-1"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("RegionRestriction"), "{stdout}");
    assert!(stdout.contains("allow-all identity policy"), "{stdout}");
    assert!(stdout.contains("block none of"), "{stdout}");

    // And the table names the statement when something is blocked.
    let out = moto
        .cmd()
        .args(["scps", "--account", member, "--region", "eu-west-1"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("`DenyOutsideApprovedRegions`"), "{stdout}");
}

#[test]
fn all_accounts_one_section_each_and_each_policy_fetched_once() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.reset_stats();
    let (code, v, stderr) = run_json(
        &moto,
        &[
            "scps",
            "--all-accounts",
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let accounts = v["accounts"].as_array().expect("accounts");
    let ids: BTreeSet<&str> = accounts
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    let expected: BTreeSet<&str> = [
        s["member_account_id"].as_str().expect("member"),
        s["management_account_id"].as_str().expect("management"),
    ]
    .into();
    assert_eq!(ids, expected);
    let management = accounts
        .iter()
        .find(|a| a["account_id"] == s["management_account_id"])
        .expect("management account");
    assert_eq!(management["blocked"], json!([]));
    assert!(
        management["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("management account")),
        "{management}"
    );
    let member = accounts
        .iter()
        .find(|a| a["account_id"] == s["member_account_id"])
        .expect("member account");
    assert!(!member["blocked"].as_array().expect("blocked").is_empty());

    let stats = moto.stats();
    // The organization is read top-down once: no walk up from each account.
    for per_account in [
        "organizations:ListAccounts",
        "organizations:ListParents",
        "organizations:DescribeAccount",
        "organizations:ListPoliciesForTarget",
    ] {
        assert!(stats["calls"].get(per_account).is_none(), "{stats}");
    }
    // FullAWSAccess, RCPFullAWSAccess, RegionRestriction, ProdServiceAllowList,
    // EnforceSecureTransport: shared by both paths, each described once.
    assert_eq!(stats["calls"]["organizations:DescribePolicy"], 5, "{stats}");
    assert!(
        stats["max_in_flight"]
            .as_u64()
            .is_some_and(|n| n <= iam_doctor::aws::MAX_IN_FLIGHT as u64),
        "{stats}"
    );
}

#[test]
fn no_access_to_organizations_is_exit_3_with_one_error_line() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller"));
    moto.quirks(json!({"member_org_access": "denied"}));
    for args in [
        &["scps"][..],
        &["scps", "--all-accounts", "--format", "json"][..],
    ] {
        let out = moto.cmd().args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("iam-doctor: error: "), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn outside_an_organization_nothing_applies() {
    let moto = Moto::start();
    moto.seed("no-org");
    let (code, v, stderr) = run_json(&moto, &["scps", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let a = &v["accounts"][0];
    assert_eq!(a["levels"], json!([]));
    assert!(
        a["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("not in an organization")),
        "{v}"
    );
}

#[test]
fn html_report_shows_the_tree_with_each_policy_where_attached_and_what_blocks_each_account() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    let member = s["member_account_id"].as_str().expect("member");
    let management = s["management_account_id"].as_str().expect("management");
    let out = moto
        .cmd()
        .args([
            "scps",
            "--all-accounts",
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "html",
        ])
        .output()
        .expect("runs");
    let page = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    // The tree: Root → Workloads → Prod → the member account, the management account under
    // the root; one node per OU although two accounts' paths cross the root.
    let tree = &page[page.find("<h2>Organization</h2>").expect("the tree")..];
    let at = |needle: &str| {
        tree.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in the tree:\n{page}"))
    };
    assert_eq!(tree.matches("<b>Workloads</b>").count(), 1, "{page}");
    let (root, workloads, prod) = (at("<b>Root</b>"), at("<b>Workloads</b>"), at("<b>Prod</b>"));
    let member_at = at(&format!("<code>{member}</code>"));
    assert!(root < workloads && workloads < prod && prod < member_at);
    assert!(root < at(&format!("<code>{management}</code>")));
    // Each policy at its attachment point: RegionRestriction on Workloads, blocking in the
    // member account; ProdServiceAllowList on Prod.
    let region_lock = at("SCP <b>RegionRestriction</b>");
    assert!(workloads < region_lock && region_lock < prod, "{page}");
    let allow_list = at("SCP <b>ProdServiceAllowList</b>");
    assert!(prod < allow_list && allow_list < member_at, "{page}");
    // The summary names the blocking policies with where they are attached.
    assert!(
        page.contains("<tr><td>SCP <b>RegionRestriction</b>"),
        "{page}"
    );
    // The member account says which policy, at which level and by which statement.
    assert!(
        page.contains("<td>SCP <b>RegionRestriction</b>")
            && page.contains("denied by statement <code>DenyOutsideApprovedRegions</code>"),
        "{page}"
    );
    assert!(
        page.contains("<td>SCP <b>ProdServiceAllowList</b>")
            && page.contains("allows none at this level"),
        "{page}"
    );
}

#[test]
fn markdown_report_draws_the_account_path_as_a_mermaid_flowchart() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    let member = s["member_account_id"].as_str().expect("member");
    let out = moto
        .cmd()
        .args([
            "scps",
            "--account",
            member,
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "markdown",
        ])
        .output()
        .expect("runs");
    let md = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diagram = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("no Mermaid block in:\n{md}"));
    let lines: Vec<&str> = diagram.lines().collect();
    assert_eq!(lines[0], "flowchart TD");
    // root → Workloads → Prod → the account, in that order, linked one to the next.
    let nodes: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("[\""))
        .copied()
        .collect();
    assert_eq!(nodes.len(), 4, "{diagram}");
    assert!(nodes[0].starts_with("  n0[\"root Root #40;r-"), "{diagram}");
    assert!(nodes[1].contains("OU Workloads #40;ou-"), "{diagram}");
    assert!(
        nodes[1].contains("<br/>⛔ SCP RegionRestriction: blocks "),
        "{diagram}"
    );
    assert!(
        nodes[1].contains("<br/>RCP EnforceSecureTransport"),
        "{diagram}"
    );
    assert!(nodes[2].contains("OU Prod #40;ou-"), "{diagram}");
    assert!(
        nodes[2].contains("<br/>⛔ SCP ProdServiceAllowList: blocks "),
        "{diagram}"
    );
    assert!(nodes[3].contains(member), "{diagram}");
    for edge in ["  n0 --> n1", "  n1 --> n2", "  n2 --> n3"] {
        assert!(lines.contains(&edge), "{edge} not in:\n{diagram}");
    }
    assert!(lines.contains(&"  class n1,n2 blocks"), "{diagram}");
    // The table below the diagram names the statement.
    assert!(
        md.contains(
            "| SCP `RegionRestriction` | denied by statement `DenyOutsideApprovedRegions`: "
        ),
        "{md}"
    );
}
