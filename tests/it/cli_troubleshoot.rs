//! The troubleshooting and CI features through the binary: `explain` on a real-shaped
//! CodeBuild log, `--template`, the CI output formats, completions and the man page. All run
//! offline against the bundled demo account.

use assert_cmd::Command;
use serde_json::Value;

const DEMO: &str = "policies/examples/demo";
const PROJECT: &str = "policies/examples/demo/project";
const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn bin() -> Command {
    let mut c = Command::cargo_bin("iam-doctor").expect("binary is built");
    c.env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("JETS_ENV");
    c
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("stdout is JSON")
}

fn demo_check(format: &str) -> std::process::Output {
    bin()
        .args([
            "check",
            "--offline",
            DEMO,
            "--config-dir",
            PROJECT,
            "--role",
            ROLE,
        ])
        .args(["--region", "eu-west-1", "--format", format])
        .output()
        .expect("runs")
}

#[test]
fn explain_codebuild_log_names_policy_level_and_statement() {
    let out = bin()
        .args([
            "explain",
            "-",
            "--offline",
            DEMO,
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ])
        .write_stdin(
            std::fs::read_to_string("tests/fixtures/explain/codebuild-deploy.log")
                .expect("fixture"),
        )
        .output()
        .expect("runs");
    // One message (Lambda's execution-role error) names no principal: it is listed as not
    // checked, the others are explained, and the run is incomplete (3), not a pass.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    let items = v["explanations"].as_array().expect("array");
    let unchecked: Vec<&Value> = items.iter().filter(|i| i["decision"].is_null()).collect();
    assert_eq!(unchecked.len(), 1, "{items:?}");
    assert!(
        unchecked[0]["verdict"]
            .as_str()
            .is_some_and(|s| s.contains("names no principal"))
    );
    // The repeated Route 53 event is explained once; the Lambda message names no principal
    // or service prefix and is not one of them.
    let actions: Vec<&str> = items
        .iter()
        .filter_map(|i| i["denial"]["action"].as_str())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "route53:ChangeResourceRecordSets")
            .count(),
        1,
        "{actions:?}"
    );
    let r53 = items
        .iter()
        .find(|i| i["denial"]["action"] == "route53:ChangeResourceRecordSets")
        .expect("route53 explained");
    assert_eq!(r53["decision"], "explicit_deny");
    let b = &r53["decided_by"][0];
    assert_eq!(b["kind"], "scp");
    assert_eq!(b["policy"], "RegionLock");
    assert_eq!(b["target"], "ou-dm12-wrkld001");
    assert_eq!(b["statement"], "DenyOutsideEurope");
    let kinesis = items
        .iter()
        .find(|i| i["denial"]["action"] == "kinesis:PutRecord")
        .expect("kinesis explained");
    assert_eq!(kinesis["decision"], "implicit_deny");
    assert_eq!(kinesis["decided_by"][0]["kind"], "identity");
    assert_eq!(
        kinesis["remediation"]["add_to_role"]["Statement"][0]["Action"][0],
        "kinesis:PutRecord"
    );
}

#[test]
fn explain_text_output_reads_as_cause_and_fix() {
    let out = bin()
        .args(["explain", "--offline", DEMO, "--region", "eu-west-1"])
        .arg("User: arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B3C4D5E6F/s is not authorized to perform: ec2:DescribeVpcs with an explicit deny in a service control policy")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "cause:     no service control policy at Sandbox (ou-dm12-sbx00002) allows it"
        ),
        "{text}"
    );
    assert!(
        text.contains("fix:       allow `ec2:*` in a service control policy attached to Sandbox"),
        "{text}"
    );
}

#[test]
fn explain_an_allowed_action_says_it_cannot_reproduce() {
    let out = bin()
        .args(["explain", "--offline", DEMO, "--region", "eu-west-1", "--format", "json"])
        .arg("User: arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B3C4D5E6F/s is not authorized to perform: lambda:CreateFunction because no identity-based policy allows the lambda:CreateFunction action")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(3),
        "not reproduced is incomplete, never a silent pass"
    );
    let v = json_of(&out.stdout);
    assert_eq!(v["explanations"][0]["decision"], "allowed");
    assert!(
        v["explanations"][0]["verdict"]
            .as_str()
            .is_some_and(|s| s.contains("ALLOWS"))
    );
}

#[test]
fn explain_without_a_denial_is_an_input_error() {
    let out = bin()
        .args(["explain", "--offline", DEMO, "all good here"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("iam-doctor: error: no AccessDenied message found"),
        "{err}"
    );
}

#[test]
fn template_turns_vpc_on_and_adds_handler_actions() {
    let out = bin()
        .args(["required", "--profile", "jets-remote", "--format", "json"])
        .args([
            "--template",
            "tests/fixtures/templates/jets-app.yml",
            "--stack-name",
            "demo-dev",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    assert_eq!(v["vpc"], true);
    let actions = v["actions"].as_array().expect("actions");
    assert!(
        actions
            .iter()
            .any(|a| a["action"] == "ec2:CreateNetworkInterface")
    );
    assert!(actions.iter().any(|a| {
        a["action"] == "iam:PassRole"
            && a["grant"]
                .as_str()
                .is_some_and(|g| g.starts_with("template resource"))
    }));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("VpcConfig"), "{err}");
}

#[test]
fn broken_template_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dir.path().join("bad.yml");
    std::fs::write(&t, "Resources:\n  Fn:\n    Type: [unclosed\n").expect("write");
    let out = bin()
        .args(["required", "--template"])
        .arg(&t)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("iam-doctor: error:"), "{err}");
    assert!(err.lines().count() <= 2, "{err}");
}

#[test]
fn junit_has_a_failure_per_denial() {
    let out = demo_check("junit");
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"));
    assert!(
        xml.contains("tests=\"165\" failures=\"17\""),
        "{}",
        &xml[..300.min(xml.len())]
    );
    assert_eq!(xml.matches("<failure ").count(), 17);
    assert!(xml.contains("service control policy `RegionLock` attached to Workloads (ou-dm12-wrkld001) statement `DenyOutsideEurope` denies it"));
    // Every failure carries its fix.
    assert!(xml.matches("\nfix: ").count() >= 17, "{xml}");
    assert!(xml.contains("fix: allow `kinesis:PutRecord` in a policy attached to the role"));
}

#[test]
fn sarif_lists_denials_with_rules_and_locations() {
    let out = demo_check("sarif");
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out.stdout);
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 17);
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "config/jets/bootstrap.rb"
    ));
    assert!(results.iter().any(|r| r["ruleId"] == "explicit-deny"));
    assert!(results.iter().any(|r| r["ruleId"] == "implicit-deny"));
    assert!(
        results.iter().all(|r| r["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains(". Fix: "))),
        "every SARIF result carries its fix"
    );
}

#[test]
fn markdown_fits_a_pull_request_comment() {
    let out = demo_check("markdown");
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("### ❌ iam-doctor: 148 of 165 required actions allowed"),
        "{md}"
    );
    assert!(md.contains("| `route53:ChangeResourceRecordSets` | explicit deny |"));
    assert!(md.contains("#### How to fix"));
    assert!(md.contains("\"kinesis:PutRecord\""));
}

#[test]
fn json_report_carries_remediation() {
    let out = demo_check("json");
    let v = json_of(&out.stdout);
    let steps = v["remediation"]["steps"].as_array().expect("steps");
    assert!(
        steps
            .iter()
            .any(|s| s["policy"] == "RegionLock" && s["target"] == "ou-dm12-wrkld001")
    );
    assert!(
        steps
            .iter()
            .any(|s| s["verdict"] == "fails_to_allow" && s["target"] == "ou-dm12-sbx00002")
    );
}

#[test]
fn completions_and_man_page_are_generated() {
    let out = bin().args(["completions", "bash"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("iam-doctor"));
    let out = bin().arg("man").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(man.contains(".TH iam-doctor") && man.contains("explain"));
}

const CODEBUILD_SESSION: &str =
    "arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B3C4D5E6F/s";

/// `explain` as JSON on the demo snapshot (or another folder), with its exit code.
fn explain_json(offline: &str, paste: &str) -> (Option<i32>, Value, String) {
    let out = bin()
        .args([
            "explain",
            "-",
            "--offline",
            offline,
            "--region",
            "eu-west-1",
        ])
        .args(["--format", "json"])
        .write_stdin(paste)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}); stderr: {stderr}"));
    (out.status.code(), v, stderr)
}

/// The demo account's IAM data without its `organization.json`.
fn demo_without_organization() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::copy(
        format!("{DEMO}/authorization-details.json"),
        dir.path().join("authorization-details.json"),
    )
    .expect("copy the demo IAM data");
    dir
}

/// Regression: AWS said "explicit deny in a service control policy", the snapshot had no
/// organization data, the local decision was an implicit deny from the identity policies, and
/// the verdict still read "reproduced: the same decision".
#[test]
fn explain_scp_blame_without_organization_data_is_not_reproduced() {
    let dir = demo_without_organization();
    let paste = format!(
        "User: {CODEBUILD_SESSION} is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:eu-west-1:111122223333:stream/demo with an explicit deny in a service control policy"
    );
    let (code, v, stderr) = explain_json(dir.path().to_str().expect("utf-8 path"), &paste);
    assert_eq!(code, Some(3), "{stderr}");
    let x = &v["explanations"][0];
    assert_eq!(x["decision"], "implicit_deny", "{x}");
    assert_eq!(x["reproduced"], false, "{x}");
    let verdict = x["verdict"].as_str().expect("verdict");
    assert!(verdict.starts_with("not reproduced"), "{verdict}");
    assert!(verdict.contains("no organization data"), "{verdict}");

    // With the organization the SCPs are evaluated and allow Kinesis in eu-west-1: the cause is
    // still the identity policies, so the SCP blame is still not reproduced, now for that reason.
    let (code, v, _) = explain_json(DEMO, &paste);
    assert_eq!(code, Some(3));
    let x = &v["explanations"][0];
    assert_eq!(x["reproduced"], false, "{x}");
    assert!(
        x["verdict"]
            .as_str()
            .is_some_and(|t| t.contains("but the local decision is an implicit deny")),
        "{x}"
    );
}

/// Regression: AWS named a resource-based policy, which the engine does not evaluate, and the
/// verdict read "reproduced" because the identity policies happened to deny too.
#[test]
fn explain_blame_on_a_policy_type_not_evaluated_is_not_reproduced() {
    let paste = format!(
        "User: {CODEBUILD_SESSION} is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:eu-west-1:111122223333:stream/demo with an explicit deny in a resource-based policy"
    );
    let (code, v, stderr) = explain_json(DEMO, &paste);
    assert_eq!(code, Some(3), "{stderr}");
    let x = &v["explanations"][0];
    assert_eq!(x["reproduced"], false, "{x}");
    let verdict = x["verdict"].as_str().expect("verdict");
    assert!(
        verdict.contains("a resource-based policy, a policy type iam-doctor did not evaluate"),
        "{verdict}"
    );
}

/// The enhanced message names the SCP's ARN: reproduced only when the local cause is that
/// policy.
#[test]
fn explain_scp_policy_arn_must_be_the_local_cause() {
    let message = |policy: &str| {
        format!(
            "User: {CODEBUILD_SESSION} is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-demo12345/service_control_policy/{policy}"
        )
    };
    let (code, v, stderr) = explain_json(DEMO, &message("p-3k9z2r7q"));
    assert_eq!(code, Some(1), "{stderr} {v}");
    let x = &v["explanations"][0];
    assert_eq!(x["reproduced"], true, "{x}");
    assert_eq!(x["decided_by"][0]["policy"], "RegionLock");
    assert!(
        x["verdict"]
            .as_str()
            .is_some_and(|t| t.contains("by the policy AWS names")),
        "{x}"
    );

    let (code, v, _) = explain_json(DEMO, &message("p-0therpol"));
    assert_eq!(code, Some(3));
    let x = &v["explanations"][0];
    assert_eq!(x["reproduced"], false, "{x}");
    assert!(
        x["verdict"].as_str().is_some_and(|t| t
            .contains("AWS names the policy `arn:aws:organizations::999988887777:policy/o-demo12345/service_control_policy/p-0therpol`")),
        "{x}"
    );
}

/// Regression: with `--offline`, one principal missing from the snapshot aborted the whole run
/// (exit 2, naming only the first); the others must be explained and that one marked unchecked.
#[test]
fn explain_principal_missing_from_snapshot_leaves_the_others_explained() {
    let paste = format!(
        "User: arn:aws:iam::111122223333:role/NoSuchRole is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action\n\
         User: arn:aws:iam::[Account Id]:user/pcluster is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::[Account Id]:role/x\n\
         User: {CODEBUILD_SESSION} is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:eu-west-1:111122223333:stream/demo because no identity-based policy allows the kinesis:PutRecord action\n"
    );
    let (code, v, stderr) = explain_json(DEMO, &paste);
    assert_eq!(code, Some(3), "{stderr}");
    let items = v["explanations"].as_array().expect("explanations");
    assert_eq!(items.len(), 3, "{v}");
    assert!(items[0]["decision"].is_null());
    let missing = items[0]["verdict"].as_str().expect("verdict");
    assert!(
        missing.starts_with("not checked:") && missing.contains("NoSuchRole"),
        "{missing}"
    );
    assert!(items[1]["decision"].is_null());
    let placeholder = items[1]["verdict"].as_str().expect("verdict");
    assert!(placeholder.contains("[Account Id]"), "{placeholder}");
    assert_eq!(items[2]["decision"], "implicit_deny");
    assert_eq!(items[2]["reproduced"], true, "{}", items[2]);
}

/// Regression: without credentials (and without `--offline`), `explain` printed nothing and
/// exited 2. It shows what it parsed from each message and says it could not check them.
#[test]
fn explain_without_credentials_shows_what_it_parsed() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let out = bin()
        .args(["explain", "-", "--region", "eu-west-1"])
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .write_stdin(format!(
            "User: {CODEBUILD_SESSION} is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:111122223333:function:demo-dev-controller with an explicit deny in a service control policy\n"
        ))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    for part in [
        "lambda:CreateFunction on arn:aws:lambda:eu-west-1:111122223333:function:demo-dev-controller (line 1)",
        &format!("principal: {CODEBUILD_SESSION}"),
        "AWS said:  a service control policy denies it",
        "verdict:   not checked: no AWS credentials found",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
    assert!(
        stderr.contains("iam-doctor: warning: the messages were not checked against AWS"),
        "{stderr}"
    );
}

/// Regression: a denied KMS call was "reproduced" by a local deny whose only certain part was
/// that the key policy had not been supplied. A key policy must allow and may grant on its own
/// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html), so without it the
/// decision is not made: not reproduced, exit 3, as `check` holds the same result.
#[test]
fn explain_a_kms_denial_without_the_key_policy_is_not_reproduced() {
    let paste = format!(
        "User: {CODEBUILD_SESSION} is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    let (code, v, stderr) = explain_json(DEMO, &paste);
    assert_eq!(code, Some(3), "{stderr} {v}");
    let x = &v["explanations"][0];
    assert_eq!(x["reproduced"], false, "{x}");
    assert_ne!(x["decision"], "allowed", "{x}");
    let verdict = x["verdict"].as_str().expect("verdict");
    assert!(
        verdict.starts_with("not reproduced") && verdict.contains("key policy"),
        "{verdict}"
    );
}
