//! The binary, offline: the bundled demo decided down to the policy, level and statement, the
//! `required` formats, `simulate`, and every kind of bad input ending in one readable line.
//!
//! These pin the facts the README promises about the demo account, so a change to the evaluator,
//! the profiles or the readers that moves a decision shows up here as the exact fact that moved.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use iam_doctor::core::policy::Policy;

use crate::support;
use support::offline::{DEMO, bin, demo_copy, json_stdout, run, stderr};

const PROJECT: &str = "policies/examples/demo/project";
const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";
const CI_ROLE: &str = "demo-dev-ci-CodebuildRole-9Z8Y7X6W5V4U";
const WORKLOADS_OU: &str = "ou-dm12-wrkld001";
const SANDBOX_OU: &str = "ou-dm12-sbx00002";

fn demo_check(region: &str) -> Output {
    run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        PROJECT,
        "--role",
        ROLE,
        "--region",
        region,
        "--format",
        "json",
    ])
}

/// The result for one action; there must be exactly one.
fn result<'a>(report: &'a Value, action: &str) -> &'a Value {
    let found: Vec<&Value> = report["results"]
        .as_array()
        .expect("`results` is an array")
        .iter()
        .filter(|r| r["action"] == action)
        .collect();
    assert_eq!(found.len(), 1, "results for `{action}`: {found:?}");
    found[0]
}

/// The one reason for a decision, checked against the expected fields (others are free).
fn assert_decided(report: &Value, action: &str, decision: &str, blame: &Value) {
    let r = result(report, action);
    let by = r["decided_by"]
        .as_array()
        .expect("`decided_by` is an array");
    assert_eq!(by.len(), 1, "{action}: {r:#}");
    assert_first_reason(report, action, decision, blame);
}

/// The first reason for a decision (an explicit deny comes first; places that also fail to
/// allow follow it), checked against the expected fields.
fn assert_first_reason(report: &Value, action: &str, decision: &str, blame: &Value) {
    let r = result(report, action);
    assert_eq!(r["decision"], decision, "{action}: {r:#}");
    assert_eq!(r["engine"], "local", "{action}: {r:#}");
    let by = r["decided_by"]
        .as_array()
        .expect("`decided_by` is an array");
    for (k, v) in blame.as_object().expect("an object") {
        assert_eq!(&by[0][k], v, "{action}: decided_by.{k} in {r:#}");
    }
    assert!(
        by[0]["explanation"].as_str().is_some_and(|s| !s.is_empty()),
        "{action}: no explanation in {r:#}"
    );
}

/// `summary` counts what `results` holds, every result was decided locally, and the exit code
/// follows the denials.
fn assert_consistent(report: &Value, out: &Output) {
    let results = report["results"].as_array().expect("`results` is an array");
    let allowed = results
        .iter()
        .filter(|r| r["decision"] == "allowed")
        .count();
    let denied = results.len() - allowed;
    assert_eq!(report["summary"]["allowed"], json!(allowed));
    assert_eq!(report["summary"]["denied"], json!(denied));
    assert!(results.iter().all(|r| r["engine"] == "local"));
    assert!(results.iter().all(|r| matches!(
        r["decision"].as_str(),
        Some("allowed" | "implicit_deny" | "explicit_deny")
    )));
    assert_eq!(report["incomplete"], json!(false));
    let expected = if denied > 0 { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(expected), "{}", stderr(out));
}

/// Bad input: exit 2, one error line and one help line, no panic.
fn assert_input_error(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "a panic: {err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        !lines.is_empty() && lines[0].starts_with("iam-doctor: error: "),
        "stderr: {err:?}"
    );
    assert!(
        lines.len() == 2 && lines[1].starts_with("  help: ") && lines[1].len() > "  help: ".len(),
        "not one error line and one help line: {err:?}"
    );
    for n in needles {
        assert!(lines[0].contains(n), "`{n}` not in {:?}", lines[0]);
    }
    assert!(out.stdout.is_empty(), "stdout on error: {:?}", out.stdout);
    err
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

// ---------------------------------------------------------------------------------------------
// check --offline on the demo

#[test]
fn demo_in_eu_west_1_blames_the_exact_policy_level_and_statement() {
    let out = demo_check("eu-west-1");
    let report = json_stdout(&out);
    assert_consistent(&report, &out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        report["principal"],
        format!("arn:aws:iam::111122223333:role/{ROLE}")
    );
    assert_eq!(report["profile"], "jets-remote");
    assert_eq!(report["region"], "eu-west-1");

    // Route 53 is global but missing from the region lock's exemptions.
    assert_decided(
        &report,
        "route53:ChangeResourceRecordSets",
        "explicit_deny",
        &json!({"kind": "scp", "verdict": "denies", "policy": "RegionLock", "policy_id": "p-3k9z2r7q",
                "target": WORKLOADS_OU, "target_name": "Workloads", "statement": "DenyOutsideEurope"}),
    );
    // The VPC config in deploy.rb requires EC2; the Sandbox allow-list omits it.
    assert_decided(
        &report,
        "ec2:CreateNetworkInterface",
        "implicit_deny",
        &json!({"kind": "scp", "verdict": "fails_to_allow", "policy": null, "target": SANDBOX_OU,
                "target_name": "Sandbox", "statement": null}),
    );
    // bootstrap.rb grants Kinesis, but the role was never bootstrapped with it.
    assert_decided(
        &report,
        "kinesis:PutRecord",
        "implicit_deny",
        &json!({"kind": "identity", "verdict": "fails_to_allow", "policy": null, "target": null}),
    );
    assert_decided(
        &report,
        "lambda:CreateFunction",
        "allowed",
        &json!({"kind": "identity", "verdict": "allows", "policy": "DefaultPolicy", "statement": "#0", "target": null}),
    );
    let kinesis = result(&report, "kinesis:PutRecord");
    assert_eq!(kinesis["policy"], "CustomPolicy");
    let ec2 = result(&report, "ec2:CreateNetworkInterface");
    assert_eq!(ec2["policy"], "VpcPolicy");
}

#[test]
fn demo_in_eu_central_1_decides_like_eu_west_1() {
    let west = json_stdout(&demo_check("eu-west-1"));
    let out = demo_check("eu-central-1");
    let central = json_stdout(&out);
    assert_consistent(&central, &out);
    assert_eq!(central["region"], "eu-central-1");
    assert_decided(
        &central,
        "route53:ChangeResourceRecordSets",
        "explicit_deny",
        &json!({"kind": "scp", "policy": "RegionLock", "target": WORKLOADS_OU, "statement": "DenyOutsideEurope"}),
    );
    assert_decided(
        &central,
        "lambda:CreateFunction",
        "allowed",
        &json!({"kind": "identity", "policy": "DefaultPolicy"}),
    );
    // Both regions are inside the lock: every action decides the same way.
    let decisions = |r: &Value| -> Vec<(String, String)> {
        r["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|x| (x["action"].to_string(), x["decision"].to_string()))
            .collect()
    };
    assert_eq!(decisions(&west), decisions(&central));
}

#[test]
fn demo_in_us_east_1_is_locked_out_by_the_region_lock() {
    let out = demo_check("us-east-1");
    let report = json_stdout(&out);
    assert_consistent(&report, &out);
    for action in [
        "lambda:CreateFunction",
        "route53:ChangeResourceRecordSets",
        "ec2:CreateNetworkInterface",
        "kinesis:PutRecord",
    ] {
        assert_first_reason(
            &report,
            action,
            "explicit_deny",
            &json!({"kind": "scp", "verdict": "denies", "policy": "RegionLock", "target": WORKLOADS_OU, "statement": "DenyOutsideEurope"}),
        );
    }
    // Lifting the region lock alone would not be enough for these: the other places that
    // fail to allow are reported after the deny.
    let also = |action: &str| -> Vec<(String, String)> {
        result(&report, action)["decided_by"]
            .as_array()
            .expect("array")
            .iter()
            .skip(1)
            .map(|b| {
                (
                    b["kind"].as_str().unwrap_or("").to_string(),
                    b["verdict"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(also("lambda:CreateFunction"), vec![]);
    assert_eq!(
        also("ec2:CreateNetworkInterface"),
        vec![("scp".to_string(), "fails_to_allow".to_string())]
    );
    assert_eq!(
        result(&report, "ec2:CreateNetworkInterface")["decided_by"][1]["target"],
        "ou-dm12-sbx00002"
    );
    assert_eq!(
        also("kinesis:PutRecord"),
        vec![("identity".to_string(), "fails_to_allow".to_string())]
    );
    // IAM is exempt from the lock and granted by DefaultPolicy.
    assert_decided(
        &report,
        "iam:PassRole",
        "allowed",
        &json!({"kind": "identity", "policy": "DefaultPolicy"}),
    );
    let west = json_stdout(&demo_check("eu-west-1"));
    assert!(
        report["summary"]["denied"].as_u64() > west["summary"]["denied"].as_u64(),
        "us-east-1 denies more than eu-west-1"
    );
}

#[test]
fn demo_ci_role_with_the_ci_profile_is_allowed() {
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--role",
        CI_ROLE,
        "--profile",
        "jets-ci",
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    assert_consistent(&report, &out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(report["profile"], "jets-ci");
    assert_eq!(report["summary"]["denied"], json!(0));
    assert_eq!(
        report["principal"],
        format!("arn:aws:iam::111122223333:role/{CI_ROLE}")
    );
    assert_decided(
        &report,
        "cloudformation:CreateChangeSet",
        "allowed",
        &json!({"kind": "identity", "verdict": "allows", "policy": "DefaultPolicy"}),
    );
    assert_decided(
        &report,
        "lambda:GetFunction",
        "allowed",
        &json!({"kind": "identity", "policy": "AWSLambda_ReadOnlyAccess"}),
    );
    // No config dir: the CI profile's defaults, nothing from the Jets remote runner.
    let actions: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(!actions.contains(&"kinesis:PutRecord"), "{actions:?}");
    assert!(
        !actions.contains(&"ec2:CreateNetworkInterface"),
        "{actions:?}"
    );
}

#[test]
fn demo_ci_role_outside_europe_is_denied_by_the_region_lock() {
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--role",
        CI_ROLE,
        "--profile",
        "jets-ci",
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    let report = json_stdout(&out);
    assert_consistent(&report, &out);
    assert_decided(
        &report,
        "cloudformation:CreateChangeSet",
        "explicit_deny",
        &json!({"kind": "scp", "policy": "RegionLock", "target": WORKLOADS_OU}),
    );
}

#[test]
fn demo_role_by_arn_decides_like_by_name() {
    let arn = format!("arn:aws:iam::111122223333:role/{ROLE}");
    let by_arn = run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        PROJECT,
        "--role",
        &arn,
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ]);
    let by_name = demo_check("eu-west-1");
    assert_eq!(by_arn.status.code(), Some(1));
    assert_eq!(json_stdout(&by_arn), json_stdout(&by_name));
}

// ---------------------------------------------------------------------------------------------
// required

#[test]
fn required_json_has_the_documented_keys() {
    let out = run(&["required", "--profile", "jets-remote", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_stdout(&out);
    let mut keys: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "actions",
            "incomplete",
            "managed_policy_arns",
            "policies",
            "profile",
            "unchecked",
            "vpc",
            "warnings"
        ]
    );
    assert_eq!(v["incomplete"], json!(false));
    assert_eq!(v["profile"], "jets-remote");
    assert_eq!(v["vpc"], json!(false));
    let actions = v["actions"].as_array().expect("actions");
    assert!(!actions.is_empty());
    for a in actions {
        for k in ["action", "grant", "policy", "reason"] {
            assert!(a[k].as_str().is_some_and(|s| !s.is_empty()), "`{k}` in {a}");
        }
        assert!(a["action"].as_str().is_some_and(|s| s.contains(':')), "{a}");
    }
    let policy_names: Vec<&str> = v["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    // Jets 6 generates VpcPolicy without a VPC config too; its actions are not required.
    assert_eq!(policy_names, ["DefaultPolicy", "VpcPolicy"]);
    assert!(!actions.iter().any(|a| a["policy"] == "VpcPolicy"));
    assert!(
        v["managed_policy_arns"]
            .as_array()
            .expect("arns")
            .iter()
            .all(|a| a.as_str().is_some_and(|s| s.starts_with("arn:aws:iam::")))
    );
    assert!(v["warnings"].is_array());
    // JSON output carries its warnings in the document, not on stderr.
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn required_vpc_adds_the_vpc_policy() {
    let out = run(&[
        "required",
        "--profile",
        "jets-remote",
        "--vpc",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_stdout(&out);
    assert_eq!(v["vpc"], json!(true));
    let names: Vec<&str> = v["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"VpcPolicy"), "{names:?}");
    assert!(
        v["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["action"] == "ec2:CreateNetworkInterface" && a["policy"] == "VpcPolicy"),
        "ec2:CreateNetworkInterface from VpcPolicy"
    );
}

#[test]
fn required_policy_format_is_a_valid_iam_policy_granting_every_action() {
    let out = run(&["required", "--profile", "jets-remote", "--format", "policy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let policy = Policy::parse("required", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(policy.version.as_deref(), Some("2012-10-17"));
    assert!(!policy.statements.is_empty());
    let listed = json_stdout(&run(&[
        "required",
        "--profile",
        "jets-remote",
        "--format",
        "json",
    ]));
    let granted: Vec<String> = policy
        .statements
        .iter()
        .flat_map(|s| match &s.action {
            iam_doctor::core::policy::ActionClause::Action(a) => a.clone(),
            iam_doctor::core::policy::ActionClause::NotAction(_) => {
                panic!("a least-privilege policy has no NotAction")
            }
        })
        .collect();
    for a in listed["actions"].as_array().expect("actions") {
        let action = a["action"].as_str().expect("action");
        assert!(
            granted.iter().any(|g| g.eq_ignore_ascii_case(action)),
            "`{action}` is required but not in the policy"
        );
    }
}

#[test]
fn required_cloudformation_format_has_policies_and_managed_arns() {
    let out = run(&[
        "required",
        "--profile",
        "jets-remote",
        "--format",
        "cloudformation",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let v: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let policies = v["Policies"].as_array().expect("`Policies` is a list");
    assert!(policies.iter().any(|p| p["PolicyName"] == "DefaultPolicy"));
    for p in policies {
        let doc = &p["PolicyDocument"];
        Policy::from_value("cfn", doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
    }
    let arns = v["ManagedPolicyArns"]
        .as_array()
        .expect("`ManagedPolicyArns` is a list");
    assert!(arns.contains(&json!("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")));
}

// ---------------------------------------------------------------------------------------------
// simulate

const SIMULATE_INPUT: &str = r#"{
  "principal": "arn:aws:iam::111122223333:role/deployer",
  "action": "lambda:CreateFunction",
  "context": {"aws:RequestedRegion": "us-east-1"},
  "identity_policies": [{"name": "Deploy", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}}],
  "scps": [
    {"id": "r-ab12", "name": "Root", "policies": [{"name": "FullAWSAccess", "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]},
    {"id": "ou-ab12-11111111", "name": "Workloads", "policies": [
      {"name": "FullAWSAccess", "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
      {"name": "RegionLock", "id": "p-lock", "document": {"Statement": [{"Sid": "DenyOutsideEurope", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}}]}
  ]
}"#;

fn simulate_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("input.json");
    std::fs::write(&path, text).expect("write");
    let shown = path_str(&path).to_string();
    (dir, shown)
}

#[test]
fn simulate_json_names_the_denying_scp() {
    let (_dir, path) = simulate_file(SIMULATE_INPUT);
    let out = run(&["simulate", "--input", &path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_stdout(&out);
    assert_eq!(v["decision"], "explicit_deny");
    let by = v["decided_by"].as_array().expect("decided_by");
    assert_eq!(by.len(), 1, "{v:#}");
    assert_eq!(by[0]["kind"], "scp");
    assert_eq!(by[0]["policy"], "RegionLock");
    assert_eq!(by[0]["policy_id"], "p-lock");
    assert_eq!(by[0]["target"], "ou-ab12-11111111");
    assert_eq!(by[0]["target_name"], "Workloads");
    assert_eq!(by[0]["statement"], "DenyOutsideEurope");
    assert_eq!(v["missing_context"], json!([]));
}

#[test]
fn simulate_table_says_the_same_for_people() {
    let (_dir, path) = simulate_file(SIMULATE_INPUT);
    let out = run(&["simulate", "--input", &path, "--format", "table"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "lambda:CreateFunction",
        "RegionLock",
        "DenyOutsideEurope",
        "ou-ab12-11111111",
    ] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
    assert!(
        !text.contains('\u{1b}'),
        "colour with NO_COLOR set:\n{text}"
    );
}

#[test]
fn simulate_allows_inside_the_region_and_exits_0() {
    let input = SIMULATE_INPUT.replace(
        r#""aws:RequestedRegion": "us-east-1""#,
        r#""aws:RequestedRegion": "eu-west-1""#,
    );
    let (_dir, path) = simulate_file(&input);
    let out = run(&["simulate", "--input", &path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_stdout(&out);
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["decided_by"][0]["policy"], "Deploy");
}

#[test]
fn simulate_reads_stdin() {
    let out = bin()
        .args(["simulate", "--input", "-", "--format", "json"])
        .write_stdin(SIMULATE_INPUT)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json_stdout(&out)["decision"], "explicit_deny");
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2, one line

#[test]
fn unknown_role_suggests_the_closest_name() {
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--role",
        "demo-dev-CodebuildRole-1A2B3C4D5E6G",
    ]);
    assert_input_error(
        &out,
        &[
            "`demo-dev-CodebuildRole-1A2B3C4D5E6G`",
            "did you mean `demo-dev-CodebuildRole-1A2B3C4D5E6F`",
        ],
    );
}

#[test]
fn unknown_user_is_an_input_error() {
    let out = run(&["check", "--offline", DEMO, "--user", "alice"]);
    assert_input_error(&out, &["`alice`"]);
}

#[test]
fn unknown_profile_suggests_the_closest_profile() {
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--role",
        ROLE,
        "--profile",
        "jets-remot",
    ]);
    let err = assert_input_error(&out, &["`jets-remot`", "did you mean `jets-remote`"]);
    assert!(err.contains("  help: "), "{err}");
    let out = run(&["required", "--profile", "nope"]);
    assert_input_error(&out, &["`nope`"]);
}

#[test]
fn missing_offline_folder_is_an_input_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("no-such-folder");
    let out = run(&["check", "--offline", path_str(&missing), "--role", ROLE]);
    assert_input_error(&out, &["no-such-folder"]);
}

#[test]
fn offline_folder_without_authorization_details_is_an_input_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["authorization-details.json"]);
}

#[test]
fn malformed_authorization_details_is_an_input_error() {
    let dir = demo_copy();
    let file = dir.path().join("authorization-details.json");
    std::fs::write(&file, r#"{"RoleDetailList": [{"RoleName": "x",}"#).expect("write");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["authorization-details.json", "not valid JSON"]);
}

#[test]
fn authorization_details_of_another_shape_is_an_input_error() {
    let dir = demo_copy();
    std::fs::write(
        dir.path().join("authorization-details.json"),
        r#"{"Roles": []}"#,
    )
    .expect("write");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["RoleDetailList"]);
}

#[test]
fn malformed_scp_names_the_policy_and_the_json_path() {
    let dir = demo_copy();
    let file = dir.path().join("organization.json");
    let text = std::fs::read_to_string(&file).expect("read");
    let broken = text.replacen(
        r#"\"Sid\": \"DenyOutsideEurope\", \"Effect\": \"Deny\""#,
        r#"\"Sid\": \"DenyOutsideEurope\", \"Effect\": \"Denny\""#,
        1,
    );
    assert_ne!(broken, text, "the demo's RegionLock was found");
    std::fs::write(&file, broken).expect("write");
    let out = run(&[
        "check",
        "--offline",
        path_str(dir.path()),
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
    ]);
    assert_input_error(&out, &["`RegionLock`", "$.Statement[0].Effect"]);
}

#[test]
fn scp_content_that_is_not_json_names_the_policy() {
    let dir = demo_copy();
    let file = dir.path().join("organization.json");
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    org["ancestors"][2]["scps"][0]["Content"] = json!("{\"Statement\": [");
    std::fs::write(&file, org.to_string()).expect("write");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["`AllowedServices`", "$"]);
}

#[test]
fn organization_json_for_another_account_is_an_input_error() {
    let dir = demo_copy();
    let file = dir.path().join("organization.json");
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("111122223333", "444455556666");
    std::fs::write(&file, text).expect("write");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["444455556666", "111122223333"]);
}

#[test]
fn organization_json_in_the_wrong_order_is_an_input_error() {
    let dir = demo_copy();
    let file = dir.path().join("organization.json");
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
    org["ancestors"]
        .as_array_mut()
        .expect("ancestors")
        .reverse();
    std::fs::write(&file, org.to_string()).expect("write");
    let out = run(&["check", "--offline", path_str(dir.path()), "--role", ROLE]);
    assert_input_error(&out, &["organization.json", "root"]);
}

#[test]
fn config_dir_that_cannot_be_read_is_an_input_error() {
    // A file where Jets expects `deploy.rb`'s text: reading it fails even for root.
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("config/jets/deploy.rb")).expect("mkdir");
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        path_str(dir.path()),
        "--role",
        ROLE,
    ]);
    assert_input_error(&out, &["deploy.rb"]);

    // A config dir that is a file.
    let out = run(&[
        "required",
        "--config-dir",
        "policies/examples/demo/README.md",
    ]);
    assert_input_error(&out, &["README.md", "not a directory"]);

    // A config dir that does not exist.
    let missing = dir.path().join("nowhere");
    let out = run(&["required", "--config-dir", path_str(&missing)]);
    assert_input_error(&out, &["nowhere"]);
}

#[cfg(unix)]
#[test]
fn config_dir_without_read_permission_is_an_input_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jets = dir.path().join("config/jets");
    std::fs::create_dir_all(&jets).expect("mkdir");
    std::fs::write(
        jets.join("bootstrap.rb"),
        "Jets.bootstrap.configure do\nend\n",
    )
    .expect("write");
    std::fs::set_permissions(
        jets.join("bootstrap.rb"),
        std::fs::Permissions::from_mode(0o000),
    )
    .expect("chmod");
    // Root reads anything; the case only exists for other users.
    let unreadable = std::fs::read(jets.join("bootstrap.rb")).is_err();
    let out = run(&["required", "--config-dir", path_str(dir.path())]);
    if unreadable {
        assert_input_error(&out, &["bootstrap.rb"]);
    } else {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

#[test]
fn ruby_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jets = dir.path().join("config/jets");
    std::fs::create_dir_all(&jets).expect("mkdir");
    std::fs::write(
        jets.join("bootstrap.rb"),
        "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"kinesis:PutRecord\"\nend\n",
    )
    .expect("write");
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        path_str(dir.path()),
        "--role",
        ROLE,
    ]);
    let err = assert_input_error(&out, &["bootstrap.rb:", "not valid ruby"]);
    assert!(err.contains("  help: "), "{err}");
}

#[test]
fn simulate_with_bad_json_is_an_input_error() {
    let (_dir, path) = simulate_file(r#"{"principal": "p", "action": "s3:GetObject",,}"#);
    let out = run(&["simulate", "--input", &path]);
    assert_input_error(&out, &["simulate input"]);
}

#[test]
fn simulate_with_a_malformed_policy_names_it() {
    let input = SIMULATE_INPUT.replace(
        r#""Effect": "Allow", "Action": "lambda:*""#,
        r#""Effect": "Allow", "Action": "lambda""#,
    );
    let (_dir, path) = simulate_file(&input);
    let out = run(&["simulate", "--input", &path]);
    assert_input_error(&out, &["`Deploy`", "$.Statement[0].Action[0]"]);
}

#[test]
fn simulate_with_a_missing_file_is_an_input_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("absent.json");
    let out = run(&["simulate", "--input", path_str(&missing)]);
    assert_input_error(&out, &["absent.json"]);
}

#[test]
fn offline_check_needs_a_role_or_user() {
    let out = run(&["check", "--offline", DEMO]);
    assert_input_error(&out, &["--role", "--user"]);
    let out = run(&["check", "--offline", DEMO, "--stack", "demo-dev"]);
    assert_input_error(&out, &["--role"]);
}

/// Error messages quote user input; a line break in that input must not split the one-line
/// message (Cedar's rule the project follows: no line breaks in messages).
#[test]
fn user_input_with_a_line_break_keeps_the_error_on_one_line() {
    let (_dir, path) = simulate_file(r#"{"principal": "p", "action": "s3\nGetObject"}"#);
    let out = run(&["simulate", "--input", &path]);
    assert_input_error(&out, &["not an action"]);

    let (_dir, path) = simulate_file(
        r#"{"principal": "p", "action": "s3:GetObject", "identity_policies": [{"name": "P", "document": {"Statement": [], "Bad\nKey": 1}}]}"#,
    );
    let out = run(&["simulate", "--input", &path]);
    assert_input_error(&out, &["`P`", "unknown top-level element"]);
}
