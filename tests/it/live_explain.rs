//! `iam-doctor explain` against the local AWS (tests/moto), without `--offline`: pasted
//! AccessDenied messages naming the Jets role's CodeBuild session in the `jets-demo` member
//! account, looked up live (STS, IAM, Organizations) and decided by iam-doctor's engine.
//!
//! The policies and the organization are real moto state from `tests/moto/seed.py`. The pasted
//! messages are written here in the shapes CloudFormation and the AWS CLI print; nothing in
//! this file calls IAM's simulator (explain decides locally), so no answer is scripted except
//! the caller identity the wrapper reports for STS.

use crate::support;

use serde_json::Value;
use support::{Moto, Run, run_cmd};

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";
const CODEBUILD_SESSION: &str = "AWSCodeBuild-6d2c0f1e-8a1b-4c52-9d3e-0f1e2d3c4b5a";

fn explain(moto: &Moto, paste: &str, extra: &[&str]) -> Run {
    run_cmd(
        moto.cmd()
            .args(["explain", "-"])
            .args(extra)
            .write_stdin(paste),
    )
}

fn demo() -> (Moto, Value) {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(
        s["caller_arns"]["codebuild"]
            .as_str()
            .expect("caller ARN in the seed summary"),
    );
    (moto, s)
}

fn member(s: &Value) -> &str {
    s["member_account_id"].as_str().expect("member account")
}

/// CloudFormation's stack events as `jets deploy` prints them from CodeBuild: a Lambda
/// function the region SCP stops in eu-west-1.
fn cloudformation_paste(account: &str) -> String {
    format!(
        "Phase complete: BUILD State: FAILED\n\
         2026-11-23 10:12:44 UTC  demo-dev  UPDATE_ROLLBACK_IN_PROGRESS  The following resource(s) failed to create: [Controller].\n\
         2026-11-23 10:12:43 UTC  Controller  AWS::Lambda::Function  CREATE_FAILED  Resource handler returned message: \
         \"User: arn:aws:sts::{account}:assumed-role/{ROLE}/{CODEBUILD_SESSION} is not authorized to perform: \
         lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:{account}:function:demo-dev-controller \
         with an explicit deny in a service control policy (Service: Lambda, Status Code: 403, \
         Request ID: 3c1f2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b)\" (RequestToken: 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d, \
         HandlerErrorCode: AccessDenied)\n"
    )
}

#[test]
fn a_cloudformation_failure_is_reproduced_down_to_the_scp_statement() {
    let (moto, s) = demo();
    let workloads = s["ou_ids"]["Workloads"].as_str().expect("OU id");
    let out = explain(
        &moto,
        &cloudformation_paste(member(&s)),
        &["--region", "eu-west-1"],
    );
    assert_eq!(out.code, Some(1), "reproduced denial: {}", out.stderr);
    let text = &out.stdout;
    assert!(text.contains("lambda:CreateFunction"), "{text}");
    assert!(text.contains("reproduced"), "{text}");
    assert!(text.contains("`RegionRestriction`"), "{text}");
    assert!(text.contains(&format!("Workloads ({workloads})")), "{text}");
    assert!(text.contains("`DenyOutsideApprovedRegions`"), "{text}");
    assert!(text.contains("fix:"), "{text}");

    let out = explain(
        &moto,
        &cloudformation_paste(member(&s)),
        &["--region", "eu-west-1", "--format", "json"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    let items = v["explanations"].as_array().expect("explanations");
    assert_eq!(items.len(), 1, "one failed call in the paste: {v}");
    let x = &items[0];
    assert_eq!(x["denial"]["action"], "lambda:CreateFunction");
    assert_eq!(x["denial"]["blamed"], "scp_explicit_deny");
    assert_eq!(x["denial"]["line"], 3);
    assert!(
        x["denial"]["principal"]
            .as_str()
            .is_some_and(|p| p.ends_with(&format!("assumed-role/{ROLE}/{CODEBUILD_SESSION}")))
    );
    assert_eq!(x["decision"], "explicit_deny");
    // Live: IAM's simulator (the harness stand-in) decided, and agreed with the explanation.
    assert_eq!(x["engine"], "aws", "{x}");
    assert!(x["disagreement"].is_null(), "{x}");
    assert!(
        x["verdict"]
            .as_str()
            .is_some_and(|t| t.starts_with("reproduced"))
    );
    let b = &x["decided_by"][0];
    assert_eq!(b["kind"], "scp");
    assert_eq!(b["verdict"], "denies");
    assert_eq!(b["policy"], "RegionRestriction");
    assert_eq!(b["policy_id"], s["scp_ids"]["RegionRestriction"]);
    assert_eq!(b["target"], workloads);
    assert_eq!(b["target_name"], "Workloads");
    assert_eq!(b["statement"], "DenyOutsideApprovedRegions");
    let step = &x["remediation"]["steps"][0];
    assert_eq!(step["policy"], "RegionRestriction");
    assert!(
        step["advice"]
            .as_str()
            .is_some_and(|a| a.contains("lambda:*")),
        "{step}"
    );
}

#[test]
fn an_allowed_action_is_not_reproduced() {
    let (moto, s) = demo();
    let account = member(&s);
    // iam:CreateRole is global (checked in us-east-1, exempt from the region SCP) and
    // DefaultPolicy grants iam:*: with the policies iam-doctor can see it is allowed.
    let paste = format!(
        "An error occurred (AccessDenied) when calling the CreateRole operation: User: \
         arn:aws:sts::{account}:assumed-role/{ROLE}/{CODEBUILD_SESSION} is not authorized to perform: \
         iam:CreateRole on resource: arn:aws:iam::{account}:role/demo-dev-controller-role because no \
         identity-based policy allows the iam:CreateRole action\n"
    );
    let out = explain(&moto, &paste, &["--region", "eu-west-1"]);
    assert_eq!(out.code, Some(3), "not reproduced: {}", out.stderr);
    assert!(out.stdout.contains("iam:CreateRole"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("verdict:   reproduced"),
        "{}",
        out.stdout
    );

    let out = explain(
        &moto,
        &paste,
        &["--region", "eu-west-1", "--format", "json"],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let v = out.json();
    let x = &v["explanations"][0];
    assert_eq!(x["decision"], "allowed");
    assert_eq!(x["denial"]["blamed"], "no_identity_policy");
    let verdict = x["verdict"].as_str().expect("verdict");
    assert!(!verdict.starts_with("reproduced"), "{verdict}");
    assert!(verdict.contains("ALLOWS"), "{verdict}");
    assert_eq!(x["decided_by"][0]["policy"], "DefaultPolicy");
    // PRODUCT BUG (src/cli/explain.rs explain_one): the not-reproduced verdict always says
    // "the snapshot may be older than the failure", also when the policies were just read
    // live from AWS and there is no snapshot.
    assert!(
        !verdict.contains("snapshot"),
        "live run, no snapshot: {verdict}"
    );
}

#[test]
fn several_messages_are_each_explained_once() {
    let (moto, s) = demo();
    let account = member(&s);
    // The same Lambda failure twice (CloudFormation repeats it) and an S3 denial.
    let paste = format!(
        "{}{}User: arn:aws:sts::{account}:assumed-role/{ROLE}/{CODEBUILD_SESSION} is not authorized to perform: \
         s3:PutObject on resource: arn:aws:s3:::demo-dev-assets/app.zip with an explicit deny in a \
         service control policy\n",
        cloudformation_paste(account),
        cloudformation_paste(account),
    );
    let out = explain(
        &moto,
        &paste,
        &["--region", "eu-west-1", "--format", "json"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    let actions: Vec<&str> = v["explanations"]
        .as_array()
        .expect("explanations")
        .iter()
        .map(|x| x["denial"]["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["lambda:CreateFunction", "s3:PutObject"], "{v}");
    for x in v["explanations"].as_array().expect("explanations") {
        assert_eq!(x["decided_by"][0]["policy"], "RegionRestriction", "{x}");
    }
}
