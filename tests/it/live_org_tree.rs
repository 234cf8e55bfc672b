//! The organization-scale audit against the local AWS (tests/moto): `scps --all-accounts` reads
//! a generated organization (tests/moto/seed.py `generated-org`) top-down, in calls that follow
//! its OUs and policies rather than its accounts; its result for every account equals the
//! account's own walk up the tree; a part that stays throttled is reported, never skipped; and
//! `snapshot --organization` lets the same audit run offline, where editing an SCP shows what
//! it would change.
//!
//! The throttling responses are scripted by the harness's fault rules (tests/moto/server.py),
//! in the shape of Organizations' `TooManyRequestsException` (AWS JSON 1.1: `__type` and
//! `Message`, header `x-amzn-ErrorType`); everything else is moto's own Organizations.

use crate::support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::Moto;

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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Accounts by id. The order of policies within a level is not defined by AWS (each listing
/// returns its own order), so they are compared sorted by id.
fn by_account(report: &Value) -> BTreeMap<String, Value> {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(levels) = a["levels"].as_array_mut() {
                for l in levels {
                    for list in ["scps", "rcps"] {
                        if let Some(ps) = l[list].as_array_mut() {
                            ps.sort_by(|x, y| x["id"].as_str().cmp(&y["id"].as_str()));
                        }
                    }
                }
            }
            (a["account_id"].as_str().expect("id").to_string(), a)
        })
        .collect()
}

fn calls(stats: &Value) -> BTreeMap<String, u64> {
    stats["calls"]
        .as_object()
        .expect("calls")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect()
}

/// Pages of a listing of `n` items at Organizations' 20 per page (an empty listing is one).
fn pages(n: usize) -> u64 {
    n.div_ceil(20).max(1) as u64
}

#[test]
fn calls_follow_the_organizations_ous_and_policies_not_its_accounts() {
    let moto = Moto::start();
    let (accounts, ous, scps) = (200, 25, 25);
    let s = moto.seed_with(
        "generated-org",
        &[
            "--accounts",
            &accounts.to_string(),
            "--ous",
            &ous.to_string(),
            "--scps",
            &scps.to_string(),
        ],
    );
    let ou_ids = strings(&s["ou_ids"]);
    let account_ids = strings(&s["account_ids"]);
    assert_eq!((ou_ids.len(), account_ids.len()), (ous, accounts));
    // AWS pages a policy's targets by 20; moto answers them in one page unless asked to page.
    moto.quirks(json!({"org_target_page_size": 20}));
    moto.reset_stats();
    let (code, v, stderr) = run_json(&moto, &["scps", "--all-accounts", "--format", "json"]);
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let audited = by_account(&v);
    // Every member and the management account, each audited.
    assert_eq!(audited.len(), accounts + 1, "{stderr}");
    assert!(audited.values().all(|a| a["error"].is_null()), "{stderr}");
    assert!(v.get("unread").is_none(), "{v}");

    // The expected count of each call, from the organization's shape: one listing per parent
    // (the root and each OU, in pages of 20), one targets listing and one description per
    // policy. Accounts only enter through the pages of `ListAccountsForParent`.
    let mut per_parent: BTreeMap<&str, usize> = BTreeMap::new();
    per_parent.insert(s["root_id"].as_str().expect("root"), 1); // the management account
    for ou in &ou_ids {
        per_parent.entry(ou).or_insert(0);
    }
    for (i, _) in account_ids.iter().enumerate() {
        *per_parent.entry(ou_ids[i % ous].as_str()).or_insert(0) += 1;
    }
    let top = ous / 5;
    let mut sub_ous: BTreeMap<&str, usize> = BTreeMap::new();
    sub_ous.insert(s["root_id"].as_str().expect("root"), top);
    for (i, ou) in ou_ids.iter().enumerate() {
        sub_ous.entry(ou).or_insert(0);
        if i >= top {
            *sub_ous.entry(ou_ids[(i - top) % top].as_str()).or_insert(0) += 1;
        }
    }
    // Targets: FullAWSAccess and RCPFullAWSAccess are on the root, every OU and every account
    // (the allow-lists replace FullAWSAccess where they are attached); each generated SCP on
    // one OU (and some on an account too); EnforceSecureTransport on one OU.
    let everywhere = 1 + ous + accounts + 1;
    let generated = s["scp_targets"].as_object().expect("targets");
    let allow_list_targets: usize = generated
        .iter()
        .filter(|(name, _)| name.starts_with("ServiceAllowList"))
        .map(|(_, t)| t.as_array().expect("targets").len())
        .sum();
    let target_pages: u64 = pages(everywhere - allow_list_targets)
        + pages(everywhere)
        + pages(1)
        + generated
            .values()
            .map(|t| pages(t.as_array().expect("targets").len()))
            .sum::<u64>();
    let scp_count = scps + 1; // and FullAWSAccess
    let rcp_count = 2; // RCPFullAWSAccess and EnforceSecureTransport
    let expected: BTreeMap<String, u64> = [
        ("organizations:DescribeOrganization", 1),
        ("organizations:ListRoots", 1),
        (
            "organizations:ListOrganizationalUnitsForParent",
            sub_ous.values().map(|n| pages(*n)).sum(),
        ),
        (
            "organizations:ListAccountsForParent",
            per_parent.values().map(|n| pages(*n)).sum(),
        ),
        (
            "organizations:ListPolicies",
            pages(scp_count) + pages(rcp_count),
        ),
        ("organizations:ListTargetsForPolicy", target_pages),
        (
            "organizations:DescribePolicy",
            (scp_count + rcp_count) as u64,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let made = calls(&moto.stats());
    assert_eq!(made, expected, "{stderr}");
    // 26 parents, 28 policies: about 130 calls where the per-account walk made 16 per account.
    let total: u64 = made.values().sum();
    assert!(
        total < accounts as u64,
        "{total} calls for {accounts} accounts"
    );
}

#[test]
fn every_accounts_audit_equals_its_own_walk_up_the_tree() {
    let moto = Moto::start();
    let s = moto.seed_with(
        "generated-org",
        &["--accounts", "16", "--ous", "10", "--scps", "12"],
    );
    let args = ["--region", "eu-west-1", "--vpc", "--format", "json"];
    let (code, whole, stderr) = run_json(
        &moto,
        &[&["scps", "--all-accounts"][..], &args[..]].concat(),
    );
    assert_eq!(code, Some(1), "the region lock blocks: {stderr}");
    let whole = by_account(&whole);
    let mut ids = strings(&s["account_ids"]);
    ids.push(
        s["management_account_id"]
            .as_str()
            .expect("mgmt")
            .to_string(),
    );
    assert_eq!(whole.len(), ids.len());
    let mut blocked_somewhere = 0;
    for id in &ids {
        let (_, one, stderr) =
            run_json(&moto, &[&["scps", "--account", id][..], &args[..]].concat());
        let one = by_account(&one);
        assert_eq!(one.len(), 1);
        let (walked, from_tree) = (&one[id], &whole[id]);
        assert_eq!(
            from_tree["levels"], walked["levels"],
            "account {id}: {stderr}"
        );
        assert_eq!(walked, from_tree, "account {id}");
        if !walked["blocked"].as_array().expect("blocked").is_empty() {
            blocked_somewhere += 1;
        }
    }
    // Not a vacuous comparison: the generated SCPs block actions in most accounts.
    assert!(blocked_somewhere >= ids.len() / 2, "{blocked_somewhere}");
}

/// The throttled part is scripted: every `ListAccountsForParent` of one OU answers
/// `TooManyRequestsException` (with a 1 ms `x-amz-retry-after` so the retries are quick).
#[test]
fn a_part_still_throttled_after_retries_is_named_and_its_accounts_not_audited() {
    let moto = Moto::start();
    let s = moto.seed_with(
        "generated-org",
        &["--accounts", "20", "--ous", "5", "--scps", "4"],
    );
    let ou_ids = strings(&s["ou_ids"]);
    let account_ids = strings(&s["account_ids"]);
    let throttled_ou = &ou_ids[2];
    moto.faults(json!({"rules": [{
        "target": "ListAccountsForParent",
        "error": "TooManyRequestsException",
        "params": {"ParentId": throttled_ou},
        "retry_after_ms": 1,
    }]}));
    moto.reset_stats();
    let (code, v, stderr) = run_json(&moto, &["scps", "--all-accounts", "--format", "json"]);
    assert_eq!(code, Some(3), "incomplete: {stderr}");
    let unread = v["unread"].as_array().expect("unread parts");
    assert_eq!(unread.len(), 1, "{v}");
    assert_eq!(unread[0]["id"], throttled_ou.as_str());
    assert_eq!(unread[0]["part"], "children");
    assert!(
        unread[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("still throttled after 8 attempts")),
        "{unread:?}"
    );
    let audited = by_account(&v);
    assert_eq!(audited.len(), account_ids.len() + 1, "none is dropped");
    for (i, id) in account_ids.iter().enumerate() {
        let a = &audited[id];
        if ou_ids[i % ou_ids.len()] == *throttled_ou {
            let error = a["error"].as_str().unwrap_or_else(|| panic!("{a}"));
            assert!(error.contains(throttled_ou.as_str()), "{error}");
            assert!(a["levels"].as_array().expect("levels").is_empty());
        } else {
            assert!(a["error"].is_null(), "{a}");
        }
    }
    assert!(
        stderr.contains(&format!(
            "the OUs and accounts in `{throttled_ou}` could not be read"
        )),
        "{stderr}"
    );
    let made = calls(&moto.stats());
    // The SDK retried the throttled listing (8 attempts, counted by the server), and the
    // organization's account list named the accounts the walk could not reach.
    assert_eq!(made["organizations:ListAccountsForParent"], 6 - 1 + 8);
    assert_eq!(made["organizations:ListAccounts"], 1);
}

#[test]
fn throttling_that_passes_loses_nothing() {
    let moto = Moto::start();
    moto.seed_with(
        "generated-org",
        &["--accounts", "20", "--ous", "5", "--scps", "4"],
    );
    let (_, calm, _) = run_json(&moto, &["scps", "--all-accounts", "--format", "json"]);
    moto.faults(json!({"rules": [{
        "target": "organizations:*",
        "error": "TooManyRequestsException",
        "count": 6,
        "retry_after_ms": 1,
    }]}));
    let (code, throttled, stderr) =
        run_json(&moto, &["scps", "--all-accounts", "--format", "json"]);
    assert_eq!(moto.stats()["faults_fired"], 6);
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    assert_eq!(by_account(&throttled), by_account(&calm));
}

#[test]
fn the_offline_audit_equals_the_live_one_and_makes_no_call() {
    let moto = Moto::start();
    let s = moto.seed_with(
        "generated-org",
        &["--accounts", "40", "--ous", "10", "--scps", "12"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8");
    let snap = moto
        .cmd()
        .args(["snapshot", "--organization", "--out", out, "--stats"])
        .output()
        .expect("runs");
    assert_eq!(
        snap.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&snap.stderr)
    );
    let file: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("organization-tree.json")).expect("written"),
    )
    .expect("JSON");
    assert_eq!(file["version"], 1);
    assert_eq!(file["accounts"].as_array().expect("accounts").len(), 41);

    let args = ["--region", "eu-west-1", "--vpc", "--format", "json"];
    let (live_code, live, _) = run_json(
        &moto,
        &[&["scps", "--all-accounts"][..], &args[..]].concat(),
    );
    moto.reset_stats();
    let (offline_code, offline, stderr) = run_json(
        &moto,
        &[&["scps", "--offline", out, "--all-accounts"][..], &args[..]].concat(),
    );
    let (offline_accounts, live_accounts) = (by_account(&offline), by_account(&live));
    assert_eq!(
        offline_accounts.keys().collect::<Vec<_>>(),
        live_accounts.keys().collect::<Vec<_>>()
    );
    for (id, a) in &offline_accounts {
        assert!(a == &live_accounts[id], "account {id} differs: {stderr}");
    }
    // The whole report, order included.
    assert!(
        offline == live,
        "the reports differ in order or header: {stderr}"
    );
    assert_eq!(offline_code, live_code);
    let member = s["account_ids"][3].as_str().expect("member");
    let (_, one_offline, _) = run_json(
        &moto,
        &[
            &["scps", "--offline", out, "--account", member][..],
            &args[..],
        ]
        .concat(),
    );
    assert_eq!(
        calls(&moto.stats()),
        BTreeMap::new(),
        "offline runs call nothing"
    );
    let (_, one_live, _) = run_json(
        &moto,
        &[&["scps", "--account", member][..], &args[..]].concat(),
    );
    assert_eq!(by_account(&one_offline), by_account(&one_live));

    // An account the snapshot does not hold is an input error.
    let unknown = moto
        .cmd()
        .args(["scps", "--offline", out, "--account", "999999999999"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
    let text = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        text.contains(
            "iam-doctor: error: account 999999999999 is not in the organization snapshot"
        ) && text.contains("help:"),
        "{text}"
    );
}

/// What-if: an admin edits an SCP in the snapshot and sees which accounts it would stop
/// blocking (and which it would start blocking), with no AWS call.
#[test]
fn editing_an_scp_in_the_snapshot_changes_which_accounts_are_blocked() {
    let moto = Moto::start();
    let s = moto.seed_with(
        "generated-org",
        &["--accounts", "24", "--ous", "10", "--scps", "8"],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8");
    moto.cmd()
        .args(["snapshot", "--organization", "--out", out])
        .assert()
        .success();
    let args = ["--region", "us-east-1", "--format", "json"];
    let run = || {
        let (_, v, stderr) = run_json(
            &moto,
            &[&["scps", "--offline", out, "--all-accounts"][..], &args[..]].concat(),
        );
        let blocked: BTreeMap<String, Vec<String>> = by_account(&v)
            .into_iter()
            .map(|(id, a)| (id, strings(&a["blocked"])))
            .collect();
        (blocked, stderr)
    };
    let (before, _) = run();
    // `DenyDynamoDB-2` (a deny of dynamodb:*) sits on the second OU.
    let deny_dynamo = s["scp_ids"]["DenyDynamoDB-2"].as_str().expect("policy");
    let dynamo_ou = s["scp_targets"]["DenyDynamoDB-2"][0]
        .as_str()
        .expect("target");
    let path = dir.path().join("organization-tree.json");
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    let policy = file["policies"]
        .as_array_mut()
        .expect("policies")
        .iter_mut()
        .find(|p| p["id"] == deny_dynamo)
        .expect("the policy is in the snapshot");
    // The edit: deny Lambda instead of DynamoDB (written as an object, as an admin would).
    policy["content"] = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoLambda", "Effect": "Deny", "Action": "lambda:*", "Resource": "*"}]});
    std::fs::write(&path, file.to_string()).expect("write");
    let (after, stderr) = run();

    let account_ids = strings(&s["account_ids"]);
    let ou_ids = strings(&s["ou_ids"]);
    // Each account's ancestors below the root: its OU, that OU's parent, and itself.
    let parent_of = |ou: &str| -> String {
        file["organizational_units"]
            .as_array()
            .expect("ous")
            .iter()
            .find(|u| u["id"] == ou)
            .and_then(|u| u["parent_id"].as_str())
            .expect("parent")
            .to_string()
    };
    let ancestors = |i: usize| -> Vec<String> {
        let ou = ou_ids[i % ou_ids.len()].clone();
        vec![parent_of(&ou), ou, account_ids[i].clone()]
    };
    let targets_of = |prefix: &str, except: &str| -> Vec<String> {
        s["scp_targets"]
            .as_object()
            .expect("targets")
            .iter()
            .filter(|(name, _)| name.starts_with(prefix) && *name != except)
            .flat_map(|(_, t)| strings(t))
            .collect()
    };
    let other_dynamo = targets_of("DenyDynamoDB", "DenyDynamoDB-2");
    let mut changed = 0;
    for (i, id) in account_ids.iter().enumerate() {
        let has = |m: &BTreeMap<String, Vec<String>>, service: &str| {
            m[id].iter().any(|a| a.starts_with(service))
        };
        let path = ancestors(i);
        if !path.iter().any(|a| a == dynamo_ou) {
            assert_eq!(before[id], after[id], "{id} is not under the edited SCP");
            continue;
        }
        assert!(has(&before, "dynamodb:"), "{id} before: {:?}", before[id]);
        assert!(!has(&before, "lambda:"), "{id} before: {:?}", before[id]);
        assert!(
            has(&after, "lambda:"),
            "{id} after: {:?} {stderr}",
            after[id]
        );
        // Still denied where another DynamoDB deny sits on the path.
        let still = path.iter().any(|a| other_dynamo.contains(a));
        assert_eq!(
            has(&after, "dynamodb:"),
            still,
            "{id} after: {:?}",
            after[id]
        );
        changed += usize::from(!still);
    }
    assert!(changed > 0, "some account is under the edited SCP alone");
}
