//! The JSON reports of `check`, `required`, `explain` and `scps` are public interfaces: pipelines
//! parse them. Their schemas are in `tests/fixtures/schema/` (JSON Schema 2020-12, closed: no
//! field may be added, renamed or dropped without changing them; definitions the reports share,
//! such as a cause or a step, are written once in `check-report.json` and referenced), and their
//! properties are listed in the order the reports write them. Every report here, offline and live
//! (against the local AWS of tests/moto, whose simulator verdicts are scripted), must validate
//! and follow that order (`support::schema`). The live `explain` reports, whose sightings only
//! AWS sources give, are validated where they are produced: `live_explain_sources`,
//! `live_cloudtrail` and `live_decoded_messages`.

use crate::support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::Moto;
use support::schema::{CHECK, EXPLAIN, REQUIRED, SCPS, assert_matches_schema, validate};

const DEMO: &str = "policies/examples/demo";
const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

/// The JSON `iam-doctor ARGS` writes, run without AWS from the repository root, with `stdin`.
fn offline_json(args: &[&str], stdin: &[u8]) -> Value {
    let out = Command::cargo_bin("iam-doctor")
        .expect("the binary is built")
        .env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_PROFILE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("the binary runs");
    json_stdout(&out)
}

/// What a run wrote on stdout, as JSON.
fn json_stdout(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn offline_check(args: &[&str]) -> Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    offline_json(&all, b"")
}

fn demo_report(region: &str) -> Value {
    offline_check(&[
        "--offline",
        DEMO,
        "--config-dir",
        &format!("{DEMO}/project"),
        "--role",
        ROLE,
        "--region",
        region,
        "--vpc",
    ])
}

#[test]
fn offline_demo_reports_match_the_schema_in_field_order() {
    for region in ["eu-west-1", "us-east-1"] {
        let report = demo_report(region);
        // The report is representative: denials by SCPs and identity policies, each with its
        // causes and a remediation with both kinds of change.
        assert!(report["summary"]["denied"].as_u64().is_some_and(|n| n > 0));
        assert!(report["remediation"]["add_to_role"].is_object(), "{region}");
        assert!(
            report["remediation"]["steps"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{region}"
        );
        assert_matches_schema(&report, CHECK, &format!("demo in {region}"));
    }
}

const ACCOUNT: &str = "111122223333";
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An offline folder: the role `deployer`, allowed everything, with `extra` inline policies,
/// under an organization root whose FullAWSAccess is joined by `root_scps`.
fn snapshot(extra: &[(&str, &str)], root_scps: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let doc = |text: &str| serde_json::from_str::<Value>(text).expect("a JSON policy");
    let mut inline = vec![json!({"PolicyName": "Admin", "PolicyDocument": doc(ALLOW_ALL)})];
    inline.extend(
        extra
            .iter()
            .map(|(name, text)| json!({"PolicyName": name, "PolicyDocument": doc(text)})),
    );
    let details = json!({
        "UserDetailList": [], "GroupDetailList": [], "Policies": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": "deployer", "RoleId": "AROAEXAMPLE000000001",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": []
        }]
    });
    let scp = |name: &str, content: &str| json!({"PolicySummary": {"Id": format!("p-{name}"), "Name": name, "AwsManaged": false}, "Content": content});
    let mut root = vec![scp("FullAWSAccess", ALLOW_ALL)];
    root.extend(root_scps.iter().map(|(n, c)| scp(n, c)));
    let org = json!({
        "account_id": ACCOUNT, "organization_id": "o-test1", "management_account_id": "999988887777",
        "ancestors": [
            {"id": "r-test", "type": "ROOT", "name": "Root", "scps": root, "rcps": []},
            {"id": ACCOUNT, "type": "ACCOUNT", "name": "dev", "scps": [scp("FullAWSAccess", ALLOW_ALL)], "rcps": []}
        ]
    });
    for (name, value) in [
        ("authorization-details.json", details),
        ("organization.json", org),
    ] {
        std::fs::write(dir.path().join(name), value.to_string()).expect("fixture written");
    }
    dir
}

/// Decisions the demo does not have: ones that depend on a key of unknown value (with the
/// keys they depend on), and a deny by a statement without a Sid.
#[test]
fn reports_with_unknown_decisions_match_the_schema() {
    let deny_ips = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllIPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#;
    let no_lambda = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*"}]}"#;
    for (what, dir) in [
        (
            "identity deny on aws:SourceIp",
            snapshot(&[("DenyAllIPs", deny_ips)], &[]),
        ),
        (
            "SCP without a Sid",
            snapshot(&[], &[("NoLambda", no_lambda)]),
        ),
    ] {
        let path = dir.path().to_string_lossy().into_owned();
        let report = offline_check(&[
            "--offline",
            &path,
            "--role",
            "deployer",
            "--region",
            "eu-west-1",
        ]);
        let denied_or_unknown = report["summary"]["denied"].as_u64().unwrap_or(0)
            + report["summary"]["unknown"].as_u64().unwrap_or(0);
        assert!(denied_or_unknown > 0, "{what}: {report:#}");
        assert_matches_schema(&report, CHECK, what);
        if what.contains("SourceIp") {
            assert!(
                report["depends_on"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "aws:SourceIp")),
                "{report:#}"
            );
        }
    }
}

#[test]
fn a_renamed_or_added_field_does_not_validate() {
    let report = demo_report("eu-west-1");
    let mut renamed = report.clone();
    let principal = renamed["principal"].take();
    let map = renamed.as_object_mut().expect("an object");
    map.remove("principal");
    map.insert("principle".into(), principal);
    assert!(
        validate(&renamed, CHECK).is_err(),
        "a renamed field validated"
    );

    let mut added = report.clone();
    added["results"][0]["extra"] = Value::Bool(true);
    assert!(
        validate(&added, CHECK).is_err(),
        "an added result field validated"
    );

    let mut dropped = report;
    dropped["results"][0]["decided_by"][0]
        .as_object_mut()
        .expect("a cause")
        .remove("explanation");
    assert!(
        validate(&dropped, CHECK).is_err(),
        "a dropped cause field validated"
    );
}

/// A live report carries IAM's verdict (`aws`) and the statements it matched (`matched`).
#[test]
fn live_report_matches_the_schema() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller"));
    let out = moto
        .cmd()
        .args(["check", "--format", "json", "--region", "eu-west-1"])
        .output()
        .expect("runs");
    let report = json_stdout(&out);
    let results = report["results"].as_array().expect("results");
    assert!(results.iter().all(|r| r["aws"].is_object()), "{report:#}");
    assert!(
        results.iter().any(|r| r["matched"].is_array()),
        "{report:#}"
    );
    assert_matches_schema(&report, CHECK, "live check");
}

#[test]
fn required_reports_match_the_schema_in_field_order() {
    let project = format!("{DEMO}/project");
    let reports: Vec<(String, Value)> = [
        vec!["--profile", "jets-remote"],
        vec!["--profile", "jets-ci"],
        vec!["--config-dir", &project, "--vpc", "--exhaustive"],
        // A template resource of a type no data covers: the report is incomplete.
        vec!["--template", "tests/fixtures/templates/misc.yml"],
    ]
    .into_iter()
    .map(|args| {
        let mut all = vec!["required", "--format", "json"];
        all.extend_from_slice(&args);
        (args.join(" "), offline_json(&all, b""))
    })
    .collect();
    for (what, report) in &reports {
        assert!(
            report["actions"].as_array().is_some_and(|a| !a.is_empty()),
            "{what}: {report:#}"
        );
        assert_matches_schema(report, REQUIRED, what);
    }
    // Representative: a report that is incomplete and one with warnings.
    assert!(reports.iter().any(|(_, r)| r["incomplete"] == true));
    assert!(
        reports
            .iter()
            .any(|(_, r)| r["warnings"].as_array().is_some_and(|w| !w.is_empty()))
    );
}

/// `explain --format json` of the messages in file `log`, against the demo account.
fn explain(log: &str) -> Value {
    let text = std::fs::read(log).expect("the fixture");
    let args = [
        "explain",
        "-",
        "--offline",
        DEMO,
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ];
    offline_json(&args, &text)
}

#[test]
fn explain_reports_match_the_schema_in_field_order() {
    for log in [
        "tests/fixtures/explain/codebuild-deploy.log",
        // Messages with `perform: null`: denials with notes on what the paste left out.
        "tests/fixtures/access-denied/cli-wrapped-action-and-null.txt",
    ] {
        let report = explain(log);
        assert!(
            report["explanations"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{log}: {report:#}"
        );
        assert_matches_schema(&report, EXPLAIN, log);
    }
    // Representative: reproduced denials with causes and a fix, and one not checked.
    let report = explain("tests/fixtures/explain/codebuild-deploy.log");
    let explanations = report["explanations"].as_array().expect("explanations");
    assert!(explanations.iter().any(|e| {
        e["decided_by"].is_array()
            && e["remediation"]["steps"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
    }));
    assert!(explanations.iter().any(|e| e["decision"].is_null()));
}

/// The audit of every account of the local AWS's organization: SCPs that deny and levels that
/// fail to allow.
#[test]
fn scps_report_matches_the_schema_in_field_order() {
    let moto = Moto::start();
    moto.seed("jets-demo");
    let out = moto
        .cmd()
        .args([
            "scps",
            "--all-accounts",
            "--vpc",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let report = json_stdout(&out);
    let accounts = report["accounts"].as_array().expect("accounts");
    assert!(
        accounts
            .iter()
            .any(|a| a["blocked"].as_array().is_some_and(|b| !b.is_empty())),
        "{report:#}"
    );
    assert_matches_schema(&report, SCPS, "scps --all-accounts");
}

#[test]
fn a_field_added_to_required_explain_or_scps_reports_does_not_validate() {
    let required = offline_json(&["required", "--format", "json"], b"");
    let mut added = required.clone();
    added["actions"][0]["extra"] = Value::Bool(true);
    assert!(
        validate(&added, REQUIRED).is_err(),
        "an added action field validated"
    );
    let mut dropped = required;
    dropped
        .as_object_mut()
        .expect("an object")
        .remove("incomplete");
    assert!(
        validate(&dropped, REQUIRED).is_err(),
        "a dropped field validated"
    );

    let mut explained = explain("tests/fixtures/explain/codebuild-deploy.log");
    explained["explanations"][0]["denial"]["extra"] = json!("x");
    assert!(
        validate(&explained, EXPLAIN).is_err(),
        "an added denial field validated"
    );

    let scps = json!({
        "profile": "jets-remote", "region": "eu-west-1", "identity": "…", "unchecked": [],
        "accounts": [{"account_id": "111122223333", "levels": [], "blocked": [],
                      "required_actions": 0, "extra": 1}]
    });
    assert!(
        validate(&scps, SCPS).is_err(),
        "an added account field validated"
    );
    let mut fixed = scps;
    fixed["accounts"][0]
        .as_object_mut()
        .expect("an account")
        .remove("extra");
    assert_eq!(validate(&fixed, SCPS), Ok(()));
}
