//! `policies/self-policy.json`, the policy `iam-doctor self-policy` prints, held to the calls
//! the AWS adapter can make (`iam_doctor::aws::Api::ALL`, each named by the IAM action that
//! authorizes it): every one is allowed, nothing else is granted, and nothing writes.

use std::collections::BTreeSet;

use assert_cmd::Command;
use serde_json::Value;

use iam_doctor::aws::Api;
use iam_doctor::core::catalog::{AccessLevel, catalog};
use iam_doctor::core::context::Context;
use iam_doctor::core::eval::{Decision, NamedPolicy, PolicySet, Request, evaluate};
use iam_doctor::core::policy::{ActionClause, Effect, Policy};

const POLICY: &str = include_str!("../../policies/self-policy.json");

fn parsed() -> Policy {
    Policy::parse("self-policy", POLICY).expect("the self-policy is a valid IAM policy")
}

fn granted() -> Vec<String> {
    parsed()
        .statements
        .iter()
        .flat_map(|s| match &s.action {
            ActionClause::Action(list) => list.clone(),
            ActionClause::NotAction(_) => panic!("statement {} uses NotAction", s.label()),
        })
        .collect()
}

fn decide(action: &str) -> Decision {
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "self-policy".into(),
            id: None,
            policy: parsed(),
        }],
        ..PolicySet::default()
    };
    let request = Request {
        principal: "arn:aws:iam::111122223333:role/iam-doctor".into(),
        action: action.into(),
        resource: "*".into(),
        context: Context::new().with("aws:RequestedRegion", "eu-west-1"),
    };
    evaluate(&set, &request).decision
}

#[test]
fn every_call_the_adapter_can_make_is_allowed() {
    assert!(Api::ALL.len() >= 25, "{}", Api::ALL.len());
    let denied: Vec<&str> = Api::ALL
        .iter()
        .map(|api| api.action())
        .filter(|action| decide(action) != Decision::Allowed)
        .collect();
    assert!(
        denied.is_empty(),
        "add to policies/self-policy.json: {denied:?}"
    );
}

#[test]
fn it_grants_nothing_beyond_those_calls() {
    let needed: BTreeSet<String> = Api::ALL
        .iter()
        .map(|api| api.action().to_ascii_lowercase())
        .collect();
    let granted = granted();
    let extra: Vec<&String> = granted
        .iter()
        .filter(|a| !needed.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(
        extra.is_empty(),
        "granted but never called (wildcards included): {extra:?}"
    );
    let unique: BTreeSet<String> = granted.iter().map(|a| a.to_ascii_lowercase()).collect();
    assert_eq!(unique.len(), granted.len(), "an action is listed twice");
    // Allow statements only, and a call the adapter does not make stays denied.
    assert!(
        parsed()
            .statements
            .iter()
            .all(|s| s.effect == Effect::Allow)
    );
    for outside in [
        "iam:CreateRole",
        "iam:PassRole",
        "organizations:ListHandshakesForAccount",
    ] {
        assert_eq!(decide(outside), Decision::ImplicitDeny, "{outside}");
    }
}

/// Actions the Service Authorization Reference lists at the Write access level that change
/// nothing. `sts:DecodeAuthorizationMessage` ("Grants permission to decode additional
/// information about the authorization status of a request from an encoded message returned
/// in response to an AWS request", Write, in
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html)
/// only returns the request behind an error the caller already received.
const WRITE_LEVEL_READS: &[&str] = &["sts:DecodeAuthorizationMessage"];

#[test]
fn it_is_read_only() {
    for action in granted() {
        let canonical = catalog()
            .canonical(&action)
            .unwrap_or_else(|| panic!("`{action}` is not in the action catalog"));
        assert_eq!(canonical, action, "spell it as AWS does");
        // The simulation APIs are Read: they evaluate policies and change nothing.
        let level = catalog().access_level(&action);
        assert!(
            matches!(level, Some(AccessLevel::Read | AccessLevel::List))
                || WRITE_LEVEL_READS.contains(&action.as_str()),
            "`{action}` is {level:?}"
        );
    }
}

#[test]
fn statements_are_grouped_by_purpose() {
    let sids: Vec<String> = parsed().statements.iter().map(|s| s.label()).collect();
    assert_eq!(
        sids,
        [
            "Simulation",
            "PrincipalLookup",
            "Snapshot",
            "Organizations",
            "CloudFormation",
            "ResourcePolicies",
            "DecodeMessages",
            "CloudTrail",
            "FailedDeployEvidence"
        ]
    );
    let statement_of = |action: &str| {
        parsed()
            .statements
            .iter()
            .find(|s| matches!(&s.action, ActionClause::Action(l) if l.iter().any(|a| a == action)))
            .map(|s| s.label())
    };
    assert_eq!(
        statement_of("iam:SimulatePrincipalPolicy").as_deref(),
        Some("Simulation")
    );
    for action in [
        "s3:GetBucketPolicy",
        "kms:GetKeyPolicy",
        "ecr:GetRepositoryPolicy",
        "sns:GetTopicAttributes",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "lambda:GetPolicy",
    ] {
        assert_eq!(
            statement_of(action).as_deref(),
            Some("ResourcePolicies"),
            "{action}"
        );
    }
    assert_eq!(
        statement_of("iam:GetAccountAuthorizationDetails").as_deref(),
        Some("Snapshot")
    );
    for action in [
        "cloudformation:DescribeStackEvents",
        "codebuild:BatchGetBuilds",
        "codebuild:ListBuildsForProject",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
    ] {
        assert_eq!(
            statement_of(action).as_deref(),
            Some("FailedDeployEvidence"),
            "{action}"
        );
    }
    for api in Api::ALL.iter().filter(|a| a.is_organizations()) {
        assert_eq!(
            statement_of(api.action()).as_deref(),
            Some("Organizations"),
            "{api:?}"
        );
    }
}

#[test]
fn the_command_prints_the_policy() {
    let out = Command::cargo_bin("iam-doctor")
        .expect("binary")
        .args(["self-policy"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let file: Value = serde_json::from_str(POLICY).expect("JSON");
    assert_eq!(printed, file);

    let out = Command::cargo_bin("iam-doctor")
        .expect("binary")
        .env("NO_COLOR", "1")
        .args(["self-policy", "--format", "table"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    for sid in [
        "Simulation",
        "PrincipalLookup",
        "Snapshot",
        "Organizations",
        "CloudFormation",
    ] {
        assert!(table.contains(sid), "{table}");
    }
    assert!(
        table.contains("iam:GetAccountAuthorizationDetails"),
        "{table}"
    );
}
