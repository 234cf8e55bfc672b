//! The binary, offline, on keys a real request carries but a pre-flight cannot know.
//!
//! AWS's global condition keys page
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
//! says `aws:SourceIp` "is included in the request context, except when the requester uses a
//! VPC endpoint". A Deny on it therefore stops real requests, and a check that leaves the key out
//! must not report the deploy as allowed: the result depends on the key (exit 3) until
//! `--context` gives its value.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::support;
use support::offline::{stderr, stdout, wide_bin as bin};

const ROLE: &str = "deployer";
const ACCOUNT: &str = "111122223333";

const DENY_ALL_IPS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllIPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#;
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An offline folder: one role allowed everything by an inline policy, plus `role_policies`
/// inline, and an organization whose root carries FullAWSAccess plus `root_scps`.
fn account(role_policies: &[(&str, &str)], root_scps: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut inline = vec![
        json!({"PolicyName": "Admin", "PolicyDocument": serde_json::from_str::<Value>(ALLOW_ALL).expect("json")}),
    ];
    for (name, doc) in role_policies {
        inline.push(json!({"PolicyName": name, "PolicyDocument": serde_json::from_str::<Value>(doc).expect("json")}));
    }
    let details = json!({
        "UserDetailList": [], "GroupDetailList": [], "Policies": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": ROLE, "RoleId": "AROAEXAMPLE000000001",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": []
        }]
    });
    write(dir.path(), "authorization-details.json", &details);
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
    write(dir.path(), "organization.json", &org);
    dir
}

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), v.to_string()).expect("fixture written");
}

fn check(dir: &tempfile::TempDir, extra: &[&str]) -> Output {
    let path = dir.path().to_string_lossy().into_owned();
    let mut args = vec![
        "check",
        "--offline",
        &path,
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
    ];
    args.extend_from_slice(extra);
    bin()
        .current_dir(dir.path())
        .args(&args)
        .output()
        .expect("the binary runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)))
}

#[test]
fn regression_role_deny_on_every_source_ip_gave_exit_0() {
    let dir = account(&[("DenyAllIPs", DENY_ALL_IPS)], &[]);
    let out = check(&dir, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("depends on `aws:SourceIp`: identity policy `DenyAllIPs` statement `DenyAllIPs` denies it for some values"),
        "{text}"
    );
    assert!(text.contains("0 of "), "{text}");
    assert!(text.contains("--context KEY=VALUE"), "{text}");
}

#[test]
fn regression_scp_deny_on_every_source_ip_gave_exit_0() {
    let dir = account(&[], &[("DenyAllIPs", DENY_ALL_IPS)]);
    let out = check(&dir, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let v = json_of(&out);
    let results = v["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        assert_eq!(r["decision"], "unknown", "{r}");
        assert_eq!(r["depends_on"], json!(["aws:SourceIp"]), "{r}");
        let blame = &r["decided_by"][0];
        assert_eq!(blame["kind"], "scp");
        assert_eq!(blame["verdict"], "may_deny");
        assert_eq!(blame["target"], "r-test");
    }
    assert_eq!(v["summary"]["allowed"], 0);
    assert_eq!(v["summary"]["unknown"], results.len());
    assert_eq!(v["depends_on"], json!(["aws:SourceIp"]));
}

#[test]
fn context_supplies_the_value_and_decides() {
    let dir = account(&[("DenyAllIPs", DENY_ALL_IPS)], &[]);
    let out = check(&dir, &["--context", "aws:SourceIp=203.0.113.7"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("explicit deny"), "{}", stdout(&out));
    // 0.0.0.0/0 holds no IPv6 address: the Deny does not apply.
    let out = check(&dir, &["--context", "aws:SourceIp=2001:db8::1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn without_conditions_on_unknown_keys_nothing_changes() {
    let dir = account(&[], &[]);
    let out = check(&dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn every_format_shows_the_unknown_outcome() {
    let dir = account(&[("DenyAllIPs", DENY_ALL_IPS)], &[]);
    let md = stdout(&check(&dir, &["--format", "markdown"]));
    assert!(md.contains("⚠️"), "{md}");
    assert!(md.contains("| unknown |"), "{md}");
    assert!(md.contains("depends on `aws:SourceIp`"), "{md}");
    let junit = stdout(&check(&dir, &["--format", "junit"]));
    assert!(junit.contains("<error type=\"unknown\""), "{junit}");
    assert!(junit.contains("failures=\"0\""), "{junit}");
    let sarif = check(&dir, &["--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(3));
    let v = json_of(&sarif);
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"] == "depends-on-unknown-context")
    );
}

#[test]
fn the_profile_states_secure_transport_for_the_codebuild_role() {
    // The jets profiles state aws:SecureTransport=true with their reason: a Deny on plain HTTP
    // does not apply, and one on HTTPS does.
    let deny_http = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoHttp","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    let dir = account(&[("NoHttp", deny_http)], &[]);
    assert_eq!(check(&dir, &[]).status.code(), Some(0));
    let out = check(&dir, &["--context", "aws:SecureTransport=false"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn a_malformed_context_is_one_line_and_exit_2() {
    let dir = account(&[], &[]);
    for (arg, says) in [
        ("aws:SourceIp", "has no value"),
        ("SourceIp=1.2.3.4", "is not a condition key"),
        (
            "aws:SourceIp=10.0.0.0/99",
            "is not a valid value for `aws:SourceIp`",
        ),
        (
            "aws:CurrentTime=yesterday",
            "is not a valid value for `aws:CurrentTime`",
        ),
        ("aws:SecureTransport=yes", "is not a valid value"),
    ] {
        let out = check(&dir, &["--context", arg]);
        assert_eq!(out.status.code(), Some(2), "{arg}: {}", stderr(&out));
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert!(lines[0].starts_with("iam-doctor: error: "), "{err}");
        assert!(lines[0].contains(says), "{arg}: {err}");
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with("help: ")),
            "{err}"
        );
    }
}

#[test]
fn explain_takes_context_too() {
    let dir = account(&[("DenyAllIPs", DENY_ALL_IPS)], &[]);
    let path = dir.path().to_string_lossy().into_owned();
    let message = format!(
        "An error occurred (AccessDenied) when calling the CreateRole operation: User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/s is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::{ACCOUNT}:role/x with an explicit deny in an identity-based policy"
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["explain", message.as_str(), "--offline", &path];
        args.extend_from_slice(extra);
        bin().args(&args).output().expect("the binary runs")
    };
    let unknown = stdout(&run(&[]));
    assert!(unknown.contains("depends on `aws:SourceIp`"), "{unknown}");
    let decided = stdout(&run(&["--context", "aws:SourceIp=203.0.113.7"]));
    assert!(
        decided.contains("identity policy `DenyAllIPs` statement `DenyAllIPs` denies it"),
        "{decided}"
    );
    let bad = run(&["--context", "nokey"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn scps_rejects_a_malformed_context_before_calling_aws() {
    let out = bin()
        .args(["scps", "--context", "aws:EpochTime=soon"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("`aws:EpochTime` takes a number"));
}

/// A Deny on every action outside the account (a data perimeter) and a Deny on resources tagged
/// `env=prod`.
const DENY_OUTSIDE_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOwnAccount","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":"111122223333"}}}]}"#;
const DENY_PROD_TAGGED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NotProd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}"#;

/// Regression: a Deny on `aws:ResourceAccount` or `aws:ResourceTag/env`, in a role policy or in
/// an SCP, was skipped because the keys were absent from the check's context, and the deploy
/// read as allowed (exit 0). The global condition keys page
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
/// says `aws:ResourceAccount` "is always included in the request context for most service
/// actions" and `aws:ResourceTag/tag-key` "is included in the request context when the requested
/// resource already has attached tags": the check cannot know either for a resource it cannot
/// name, so the result depends on them (exit 3) until `--context` gives the value, which then
/// decides exactly.
#[test]
fn regression_deny_on_resource_account_or_resource_tag_gave_exit_0() {
    // (policy, key, a value the Deny matches, a value it does not)
    let rows = [
        (
            DENY_OUTSIDE_ACCOUNT,
            "aws:ResourceAccount",
            "444455556666",
            "111122223333",
        ),
        (DENY_PROD_TAGGED, "aws:ResourceTag/env", "prod", "dev"),
    ];
    for (policy, key, denied, allowed) in rows {
        for (place, dir) in [
            ("role policy", account(&[("Deny", policy)], &[])),
            ("SCP", account(&[], &[("Deny", policy)])),
        ] {
            let out = check(&dir, &["--format", "json"]);
            assert_eq!(
                out.status.code(),
                Some(3),
                "{place} {key}: {}",
                stdout(&out)
            );
            let v = json_of(&out);
            let unknown: Vec<&Value> = v["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter(|r| r["decision"] == "unknown")
                .collect();
            assert!(!unknown.is_empty(), "{place} {key}: {v}");
            for r in &unknown {
                assert_eq!(r["depends_on"], json!([key]), "{place}: {r}");
                assert_eq!(r["decided_by"][0]["verdict"], "may_deny", "{place}: {r}");
            }

            let given = |value: &str| check(&dir, &["--context", &format!("{key}={value}")]);
            let out = given(denied);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{place} {key}={denied}: {}",
                stdout(&out)
            );
            assert!(stdout(&out).contains("explicit deny"), "{}", stdout(&out));
            let out = given(allowed);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{place} {key}={allowed}: {}",
                stdout(&out)
            );
        }
    }
}
