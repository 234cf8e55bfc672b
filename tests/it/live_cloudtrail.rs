//! `iam-doctor explain --cloudtrail` against the local AWS (tests/moto): the denied calls of
//! CloudTrail's event history, each explained with the policy that caused it.
//!
//! SCRIPTED: moto holds no event history, so each test records CloudTrail records (in the
//! shape of the CloudTrail record contents and `userIdentity` references) through the
//! harness, and the scripted `LookupEvents` of `tests/moto/server.py` answers them as the API
//! reference describes, rate limit included. The policies, the organization and the decisions
//! are real moto state and iam-doctor's engine (IAM's simulator is the harness stand-in).

use crate::support;

use serde_json::{Value, json};
use support::schema::assert_explain_report;
use support::{Moto, Run, run_cmd};

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";
const BUILD_SESSION: &str = "AWSCodeBuild-6d2c0f1e-8a1b-4c52-9d3e-0f1e2d3c4b5a";

fn demo() -> (Moto, Value) {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller ARN"));
    (moto, s)
}

fn member(s: &Value) -> &str {
    s["member_account_id"].as_str().expect("member account")
}

/// `minutes` ago, as CloudTrail writes `eventTime`.
fn ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A CloudTrail record of a call by `role`'s build session.
#[allow(clippy::too_many_arguments)]
fn record(
    account: &str,
    role: &str,
    minutes_ago: i64,
    region: &str,
    source: &str,
    name: &str,
    error: Option<(&str, &str)>,
    id: usize,
) -> Value {
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLE000000000{id}:{BUILD_SESSION}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{BUILD_SESSION}"),
            "accountId": account,
            "sessionContext": {"sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE0000000000",
                "arn": format!("arn:aws:iam::{account}:role/{role}"),
                "accountId": account,
                "userName": role}}
        },
        "eventTime": ago(minutes_ago),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "codebuild.amazonaws.com",
        "eventID": format!("00000000-0000-4000-8000-{id:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": account
    });
    if let Some((code, message)) = error {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(message);
    }
    r
}

fn lambda_denied_message(account: &str) -> String {
    format!(
        "User: arn:aws:sts::{account}:assumed-role/{ROLE}/{BUILD_SESSION} is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:{account}:function:demo-dev-controller with an explicit deny in a service control policy"
    )
}

/// A failed deploy's hour in eu-west-1: 117 calls that went through, Lambda's
/// `CreateFunction` denied by the region SCP (Lambda records the operation with its API
/// version), EC2's `CreateNetworkInterface` denied, and a denied call by another role; plus
/// a denied call of the role in us-east-1, which is not in eu-west-1's history. 120 events in
/// eu-west-1: three pages of at most 50.
fn failed_deploy(s: &Value) -> Value {
    let account = member(s);
    let mut events = Vec::new();
    for i in 0..117 {
        events.push(record(
            account,
            ROLE,
            i64::try_from(i / 3).expect("small"),
            "eu-west-1",
            "s3.amazonaws.com",
            "PutObject",
            None,
            i,
        ));
    }
    let lambda_message = lambda_denied_message(account);
    events.push(record(
        account,
        ROLE,
        20,
        "eu-west-1",
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        Some(("AccessDenied", &lambda_message)),
        200,
    ));
    events.push(record(
        account,
        ROLE,
        21,
        "eu-west-1",
        "ec2.amazonaws.com",
        "CreateNetworkInterface",
        Some((
            "Client.UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        )),
        201,
    ));
    events.push(record(
        account,
        "demo-dev-BoundedRole",
        22,
        "eu-west-1",
        "s3.amazonaws.com",
        "DeleteBucket",
        Some(("AccessDenied", "Access Denied")),
        202,
    ));
    events.push(record(
        account,
        ROLE,
        23,
        "us-east-1",
        "sqs.amazonaws.com",
        "CreateQueue",
        Some(("AccessDenied", "Access to the resource is denied.")),
        203,
    ));
    Value::Array(events)
}

fn explain(moto: &Moto, args: &[&str]) -> Run {
    run_cmd(moto.cmd().args(["explain"]).args(args))
}

/// The role's denied calls, read over three pages within CloudTrail's rate limit, are each
/// explained with the SCP that caused them; the run says how far back it read.
#[test]
fn cloudtrail_denials_are_explained_with_the_scp_that_caused_them() {
    let (moto, s) = demo();
    moto.cloudtrail_events(failed_deploy(&s));
    moto.reset_stats();
    let out = explain(
        &moto,
        &[
            "--cloudtrail",
            "--role",
            ROLE,
            "--since",
            "2h",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert!(
        text.contains("lambda:CreateFunction on arn:aws:lambda:eu-west-1:"),
        "{text}"
    );
    assert!(text.contains("`DenyOutsideApprovedRegions`"), "{text}");
    assert!(text.contains("ec2:CreateNetworkInterface"), "{text}");
    assert!(
        !text.contains("DeleteBucket"),
        "another role's call: {text}"
    );
    assert!(
        !text.contains("sqs:CreateQueue"),
        "another region's call: {text}"
    );
    assert!(
        out.stderr
            .contains("CloudTrail event history in eu-west-1: 120 event(s) in 3 page(s), back to "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("2 call(s) denied on authorization made by role"),
        "{}",
        out.stderr
    );
    assert_eq!(moto.calls("cloudtrail:LookupEvents"), 3);
    assert_eq!(
        moto.stats()["lookup_throttled"],
        0,
        "paced within two requests a second"
    );

    let out = explain(
        &moto,
        &[
            "--cloudtrail",
            "--role",
            ROLE,
            "--since",
            "2h",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_explain_report(&v, &["cloud_trail_event"], "CloudTrail's denials");
    let items = v["explanations"].as_array().expect("explanations");
    assert_eq!(items.len(), 2, "{v}");
    let lambda = items
        .iter()
        .find(|x| x["denial"]["action"] == "lambda:CreateFunction")
        .expect("the Lambda denial");
    assert_eq!(lambda["denial"]["region"], "eu-west-1");
    assert_eq!(lambda["denial"]["blamed"], "scp_explicit_deny");
    assert!(
        lambda["verdict"]
            .as_str()
            .is_some_and(|t| t.starts_with("reproduced")),
        "{lambda}"
    );
    assert_eq!(lambda["decided_by"][0]["policy"], "RegionRestriction");
    assert_eq!(
        lambda["decided_by"][0]["statement"],
        "DenyOutsideApprovedRegions"
    );
    let ec2 = items
        .iter()
        .find(|x| x["denial"]["action"] == "ec2:CreateNetworkInterface")
        .expect("the EC2 denial");
    assert_eq!(ec2["denial"]["error_code"], "Client.UnauthorizedOperation");
    assert!(
        ec2["verdict"]
            .as_str()
            .is_some_and(|t| t.starts_with("reproduced")),
        "{ec2}"
    );
}

/// The same denial in the pasted build log and in CloudTrail is explained once, with both
/// places it was seen.
#[test]
fn a_denial_in_the_log_and_in_cloudtrail_is_explained_once() {
    let (moto, s) = demo();
    moto.cloudtrail_events(failed_deploy(&s));
    let paste = format!(
        "Resource handler returned message: \"{} (Service: Lambda, Status Code: 403, Request ID: 3c1f2a4b)\"\n",
        lambda_denied_message(member(&s))
    );
    let out = run_cmd(
        moto.cmd()
            .args([
                "explain",
                "-",
                "--cloudtrail",
                "--role",
                ROLE,
                "--since",
                "2h",
                "--region",
                "eu-west-1",
                "--format",
                "json",
            ])
            .write_stdin(paste),
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    assert_explain_report(
        &v,
        &["paste", "cloud_trail_event"],
        "a paste and CloudTrail",
    );
    let lambda: Vec<&Value> = v["explanations"]
        .as_array()
        .expect("explanations")
        .iter()
        .filter(|x| x["denial"]["action"] == "lambda:CreateFunction")
        .collect();
    assert_eq!(lambda.len(), 1, "explained once: {v}");
    let kinds: Vec<&str> = lambda[0]["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["paste", "cloud_trail_event"], "{}", lambda[0]);
}

/// No denied call in the window: exit 0, saying what was read.
#[test]
fn nothing_denied_in_cloudtrail_is_exit_0_and_says_what_was_read() {
    let (moto, s) = demo();
    let account = member(&s);
    let events: Vec<Value> = (0..7)
        .map(|i| {
            record(
                account,
                ROLE,
                i,
                "eu-west-1",
                "s3.amazonaws.com",
                "PutObject",
                None,
                usize::try_from(i).expect("small"),
            )
        })
        .collect();
    moto.cloudtrail_events(Value::Array(events));
    let out = explain(
        &moto,
        &[
            "--cloudtrail",
            "--role",
            ROLE,
            "--since",
            "30m",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("no denial found"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("CloudTrail event history in eu-west-1: 7 event(s) in 1 page(s), back to "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("0 call(s) denied"), "{}", out.stdout);
}

/// CloudTrail unreadable (LookupEvents denied to the caller): exit 3, naming it.
#[test]
fn cloudtrail_unreadable_is_exit_3_naming_it() {
    let (moto, _) = demo();
    moto.faults(json!({"rules": [{"target": "LookupEvents", "error": "AccessDeniedException"}]}));
    let out = explain(
        &moto,
        &["--cloudtrail", "--since", "1h", "--region", "eu-west-1"],
    );
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("CloudTrail"), "{}", out.stderr);
    assert!(
        out.stderr.contains("cloudtrail:LookupEvents"),
        "{}",
        out.stderr
    );
}

/// CloudTrail throttles a third request within a second (scripted as the API reference states
/// the limit): a throttled page is retried after a pause and the read completes.
#[test]
fn a_throttled_page_is_retried_and_the_read_completes() {
    let (moto, s) = demo();
    moto.cloudtrail_events(failed_deploy(&s));
    moto.faults(json!({"rules": [{"target": "LookupEvents", "error": "ThrottlingException", "count": 9, "retry_after_ms": 10}]}));
    let out = explain(
        &moto,
        &[
            "--cloudtrail",
            "--role",
            ROLE,
            "--since",
            "2h",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("120 event(s) in 3 page(s)"),
        "{}",
        out.stderr
    );
}
