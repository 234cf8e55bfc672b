//! `iam-doctor explain` on EC2's `UnauthorizedOperation` with an encoded authorization message,
//! against the local AWS (tests/moto): the message is decoded with
//! `sts:DecodeAuthorizationMessage` and the decoded request is reproduced exactly.
//!
//! SCRIPTED: moto cannot decode (AWS encrypts the request behind the message), so each test
//! registers what its encoded message stands for, in the shape of the AWS CLI's example
//! (`tests/fixtures/decoded-authorization`), with the values of the `jets-demo` scenario. The
//! policies, the organization and the decisions are real moto state and iam-doctor's engine
//! (IAM's simulator is the harness stand-in, see `tests/moto/server.py`).

use crate::support;

use serde_json::{Value, json};
use support::schema::assert_explain_report;
use support::{Moto, Run, run_cmd};

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn demo() -> (Moto, Value) {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller ARN"));
    (moto, s)
}

/// The AWS CLI's words for EC2's denial of the Lambda function's network interface: no
/// principal, no resource, no policy type; only the encoded message holds the request.
fn paste(encoded: &str) -> String {
    format!(
        "An error occurred (UnauthorizedOperation) when calling the CreateNetworkInterface operation: You are not authorized to perform this operation. Encoded authorization failure message: {encoded}\n"
    )
}

fn items(entries: &[(&str, &str)]) -> Value {
    json!({"items": entries.iter().map(|(k, v)| json!({
        "key": k, "values": {"items": [{"value": v}]}
    })).collect::<Vec<_>>()})
}

/// What AWS's decoded message says of a `CreateNetworkInterface` by the Jets role's build in
/// `region` (the documented `DecodedMessage` shape; values of the seeded scenario).
fn decoded(s: &Value, region: &str, explicit_deny: bool) -> Value {
    let account = s["member_account_id"].as_str().expect("member account");
    let session = s["caller_arns"]["codebuild"].as_str().expect("caller ARN");
    let matched = if explicit_deny {
        json!({"items": [{"statementId": "DenyOutsideApprovedRegions", "effect": "DENY",
            "principals": {"items": []}, "principalGroups": {"items": []},
            "actions": {"items": [{"value": "ec2:CreateNetworkInterface"}]},
            "resources": {"items": [{"value": "*"}]}, "conditions": {"items": []}}]})
    } else {
        json!({"items": []})
    };
    json!({
        "allowed": false,
        "explicitDeny": explicit_deny,
        "matchedStatements": matched,
        "failures": {"items": []},
        "context": {
            "principal": {"id": "AROAEXAMPLE0000000001:iam-doctor", "arn": session},
            "action": "CreateNetworkInterface",
            "resource": format!("arn:aws:ec2:{region}:{account}:network-interface/*"),
            "conditions": items(&[
                ("ec2:Vpc", &format!("arn:aws:ec2:{region}:{account}:vpc/vpc-0a1b2c3d4e5f60718")),
                ("ec2:Subnet", &format!("arn:aws:ec2:{region}:{account}:subnet/subnet-0a1b2c3d4e5f60718")),
                ("aws:Account", account),
                ("aws:Region", region),
                ("aws:Service", "ec2"),
                ("aws:Type", "network-interface"),
            ]),
        }
    })
}

fn explain(moto: &Moto, paste: &str, extra: &[&str]) -> Run {
    run_cmd(
        moto.cmd()
            .args(["explain", "-"])
            .args(extra)
            .write_stdin(paste),
    )
}

/// Each cause as `POLICY verdict`, or `LEVEL verdict` for a level where nothing allows.
fn statements(x: &Value) -> Vec<String> {
    x["decided_by"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|b| {
                    let who = b["policy"].as_str().or(b["target_name"].as_str());
                    format!(
                        "{} {}",
                        who.unwrap_or("?"),
                        b["verdict"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The decoded request decides: its action, resource and principal replace the text's (which
/// has none of them), and its region (`aws:Region`, given as the request context as
/// `--context` would) decides whether the region SCP's Deny applies. The same paste and
/// command line, two decoded requests, two different causes.
#[test]
fn an_encoded_message_is_decoded_and_its_context_decides() {
    let (moto, s) = demo();
    moto.authorization_messages(json!({
        "EncodedInEuWest1": decoded(&s, "eu-west-1", true),
        "EncodedInUsEast1": decoded(&s, "us-east-1", false),
    }));
    let account = s["member_account_id"].as_str().expect("member account");

    let out = explain(&moto, &paste("EncodedInEuWest1"), &["--format", "json"]);
    assert_eq!(
        out.code,
        Some(1),
        "reproduced: {}\n{}",
        out.stdout,
        out.stderr
    );
    let v = out.json();
    assert_explain_report(&v, &["paste"], "a decoded message");
    let x = &v["explanations"][0];
    let d = &x["denial"];
    assert_eq!(d["action"], "ec2:CreateNetworkInterface");
    assert_eq!(
        d["resource"],
        format!("arn:aws:ec2:eu-west-1:{account}:network-interface/*")
    );
    assert_eq!(d["principal"], s["caller_arns"]["codebuild"]);
    assert_eq!(d["region"], "eu-west-1");
    assert_eq!(d["encoded"]["status"], "decoded");
    assert_eq!(d["encoded"]["explicit_deny"], true);
    assert_eq!(d["encoded"]["context"].as_array().map(Vec::len), Some(6));
    assert_eq!(d["blamed"], "unspecified_explicit_deny");
    assert!(
        x["verdict"]
            .as_str()
            .is_some_and(|v| v.starts_with("reproduced")),
        "{x}"
    );
    let causes = statements(x);
    assert!(
        causes.contains(&"RegionRestriction denies".to_string()),
        "{causes:?}"
    );
    assert!(
        causes.contains(&"Prod fails_to_allow".to_string()),
        "{causes:?}"
    );
    assert_eq!(moto.calls("sts:DecodeAuthorizationMessage"), 1);

    let out = explain(&moto, &paste("EncodedInUsEast1"), &["--format", "json"]);
    assert_eq!(
        out.code,
        Some(1),
        "reproduced: {}\n{}",
        out.stdout,
        out.stderr
    );
    let v = out.json();
    assert_explain_report(
        &v,
        &["paste"],
        "a decoded message without a named policy type",
    );
    let x = &v["explanations"][0];
    assert_eq!(x["denial"]["region"], "us-east-1");
    assert_eq!(x["denial"]["blamed"], "unspecified");
    let causes = statements(x);
    assert!(
        !causes.iter().any(|c| c.contains("RegionRestriction")),
        "in an approved region the region SCP does not apply: {causes:?}"
    );
    assert!(
        causes.contains(&"Prod fails_to_allow".to_string()),
        "{causes:?}"
    );

    // The table shows the decoded request and its context.
    let out = explain(&moto, &paste("EncodedInEuWest1"), &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout.contains("decoded:   the request AWS evaluated"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("aws:Region=eu-west-1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("matched:   DENY DenyOutsideApprovedRegions on ec2:CreateNetworkInterface"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("`DenyOutsideApprovedRegions`"),
        "{}",
        out.stdout
    );
}

/// Decoding denied (`AccessDenied` on `sts:DecodeAuthorizationMessage`, injected as AWS words
/// it): the explanation says so and explains the message from its text, with `--role` for the
/// principal the text does not name.
#[test]
fn decoding_denied_is_said_and_the_text_is_explained() {
    let (moto, s) = demo();
    moto.authorization_messages(json!({"EncodedInEuWest1": decoded(&s, "eu-west-1", true)}));
    moto.faults(
        json!({"rules": [{"target": "DecodeAuthorizationMessage", "error": "AccessDenied"}]}),
    );

    let out = explain(
        &moto,
        &paste("EncodedInEuWest1"),
        &["--role", ROLE, "--region", "us-east-1"],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert!(
        text.contains("encoded:   not decoded: `sts:DecodeAuthorizationMessage` was denied"),
        "{text}"
    );
    assert!(text.contains("explained from the message text"), "{text}");
    assert!(text.contains("ec2:CreateNetworkInterface on *"), "{text}");
    assert!(text.contains("no service control policy at Prod"), "{text}");

    let out = explain(
        &moto,
        &paste("EncodedInEuWest1"),
        &["--role", ROLE, "--region", "us-east-1", "--format", "json"],
    );
    let v = out.json();
    assert_explain_report(&v, &["paste"], "a message that could not be decoded");
    let d = &v["explanations"][0]["denial"];
    assert_eq!(d["encoded"]["status"], "not_decoded");
    assert!(d["region"].is_null(), "{d}");
    assert!(d["principal"].is_null(), "the text names none: {d}");
}

/// A message AWS cannot decode (`InvalidAuthorizationMessageException`, the STS API
/// reference's error for an invalid or expired message) is said, not fatal.
#[test]
fn a_message_aws_cannot_decode_is_said() {
    let (moto, _) = demo();
    let out = explain(
        &moto,
        &paste("ExpiredOrTruncated"),
        &["--role", ROLE, "--region", "us-east-1"],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("not decoded")
            && out.stdout.contains("InvalidAuthorizationMessageException"),
        "{}",
        out.stdout
    );
}
