//! The harness's `SimulateCustomPolicy` (tests/moto/server.py), driven by the Rust SDK that
//! iam-doctor uses, so the wire shape is exactly the one `check --confirm` sends.
//!
//! Every decision asserted here is the SCRIPTED STAND-IN's (the simple rule in server.py), not
//! AWS's: these tests pin down what that rule answers for supplied documents, so the `--confirm`
//! tests in live_check.rs rest on a known behaviour.

use crate::support;

use std::time::Duration;

use aws_sdk_iam::types::{
    ContextEntry, ContextKeyTypeEnum, EvaluationResult, OrderedOrganizationPolicyType,
};
use serde_json::json;
use support::Moto;

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const IDENTITY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Deploy", "Effect": "Allow", "Action": ["ec2:*", "s3:*", "iam:*"], "Resource": "*"}
  ]
}"#;
const REGION_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutside","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}"#;
const ACCOUNT_ALLOW_LIST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","iam:*"],"Resource":"*"}]}"#;
const BOUNDARY_S3: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

fn iam_client(moto: &Moto) -> aws_sdk_iam::Client {
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

fn level(docs: &[&str]) -> OrderedOrganizationPolicyType {
    OrderedOrganizationPolicyType::builder()
        .set_service_control_policy_input_list(Some(docs.iter().map(|d| d.to_string()).collect()))
        .build()
}

fn region(r: &str) -> ContextEntry {
    ContextEntry::builder()
        .context_key_name("aws:RequestedRegion")
        .context_key_values(r)
        .context_key_type(ContextKeyTypeEnum::String)
        .build()
}

fn decisions(results: &[EvaluationResult]) -> Vec<(String, String, Option<bool>)> {
    results
        .iter()
        .map(|r| {
            (
                r.eval_action_name().to_string(),
                r.eval_decision().as_str().to_string(),
                r.organizations_decision_detail()
                    .map(|d| d.allowed_by_organizations()),
            )
        })
        .collect()
}

fn row(action: &str, decision: &str, orgs: Option<bool>) -> (String, String, Option<bool>) {
    (action.to_string(), decision.to_string(), orgs)
}

const ACTIONS: [&str; 3] = ["ec2:RunInstances", "s3:GetObject", "iam:GetRole"];

#[tokio::test]
async fn scp_levels_go_root_first_each_must_allow_and_a_deny_wins() {
    let moto = Moto::start();
    let client = iam_client(&moto);
    let levels = vec![
        level(&[ALLOW_ALL]),
        level(&[ALLOW_ALL, REGION_DENY]),
        level(&[ACCOUNT_ALLOW_LIST]),
    ];
    let simulate = |region_name: &'static str,
                    levels: Option<Vec<OrderedOrganizationPolicyType>>| {
        client
            .simulate_custom_policy()
            .policy_input_list(IDENTITY)
            .set_ordered_organization_policy_input_list(levels)
            .set_action_names(Some(ACTIONS.iter().map(|a| a.to_string()).collect()))
            .context_entries(region(region_name))
            .caller_arn("arn:aws:iam::111122223333:role/deployer")
            .send()
    };

    // eu-west-1: the OU's region SCP denies everything but IAM; the account level does not
    // allow S3.
    let out = simulate("eu-west-1", Some(levels.clone()))
        .await
        .expect("simulated");
    assert_eq!(
        decisions(out.evaluation_results()),
        [
            row("ec2:RunInstances", "explicitDeny", Some(false)),
            row("s3:GetObject", "explicitDeny", Some(false)),
            row("iam:GetRole", "allowed", Some(true)),
        ]
    );
    let allowed = &out.evaluation_results()[2];
    let st = &allowed.matched_statements()[0];
    assert_eq!(st.source_policy_id(), Some("PolicyInputList.1"));
    assert_eq!(
        st.source_policy_type().map(|t| t.as_str()),
        Some("IAM Policy")
    );
    assert_eq!(
        st.start_position().map(|p| (p.line(), p.column())),
        Some((4, 5))
    );
    // SCP statements are never listed.
    assert!(out.evaluation_results()[0].matched_statements().is_empty());

    // us-east-1: no deny; S3 still lacks an Allow at the account level.
    let out = simulate("us-east-1", Some(levels.clone()))
        .await
        .expect("simulated");
    assert_eq!(
        decisions(out.evaluation_results()),
        [
            row("ec2:RunInstances", "allowed", Some(true)),
            row("s3:GetObject", "implicitDeny", Some(false)),
            row("iam:GetRole", "allowed", Some(true)),
        ]
    );

    // A level with no SCP at all (sent as the bare `...ServiceControlPolicyInputList=`)
    // allows nothing below it.
    let mut empty_ou = levels.clone();
    empty_ou[1] = level(&[]);
    let out = simulate("us-east-1", Some(empty_ou))
        .await
        .expect("simulated");
    assert!(
        decisions(out.evaluation_results())
            .iter()
            .all(|(_, d, o)| d == "implicitDeny" && *o == Some(false))
    );

    // Without levels no SCP is simulated and there is no OrganizationsDecisionDetail.
    let out = simulate("eu-west-1", None).await.expect("simulated");
    assert_eq!(
        decisions(out.evaluation_results()),
        [
            row("ec2:RunInstances", "allowed", None),
            row("s3:GetObject", "allowed", None),
            row("iam:GetRole", "allowed", None),
        ]
    );
}

#[tokio::test]
async fn boundary_paging_and_validation() {
    let moto = Moto::start();
    let client = iam_client(&moto);

    // The boundary must allow too.
    let out = client
        .simulate_custom_policy()
        .policy_input_list(IDENTITY)
        .permissions_boundary_policy_input_list(BOUNDARY_S3)
        .set_action_names(Some(ACTIONS.iter().map(|a| a.to_string()).collect()))
        .send()
        .await
        .expect("simulated");
    let by_boundary: Vec<(&str, &str, Option<bool>)> = out
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_action_name(),
                r.eval_decision().as_str(),
                r.permissions_boundary_decision_detail()
                    .map(|d| d.allowed_by_permissions_boundary()),
            )
        })
        .collect();
    assert_eq!(
        by_boundary,
        [
            ("ec2:RunInstances", "implicitDeny", Some(false)),
            ("s3:GetObject", "allowed", Some(true)),
            ("iam:GetRole", "implicitDeny", Some(false)),
        ]
    );

    // Pages follow MaxItems and the Marker, with resources given one result per pair.
    let mut marker = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let out = client
            .simulate_custom_policy()
            .policy_input_list(IDENTITY)
            .set_action_names(Some(ACTIONS.iter().map(|a| a.to_string()).collect()))
            .resource_arns("arn:aws:s3:::a")
            .resource_arns("arn:aws:s3:::b")
            .max_items(4)
            .set_marker(marker.take())
            .send()
            .await
            .expect("simulated");
        pages += 1;
        for r in out.evaluation_results() {
            seen.push((
                r.eval_action_name().to_string(),
                r.eval_resource_name().unwrap_or_default().to_string(),
            ));
            assert_eq!(r.resource_specific_results().len(), 1);
        }
        if !out.is_truncated() {
            break;
        }
        marker = out.marker().map(str::to_string);
        assert!(marker.is_some());
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 6);

    // Documented constraints the stand-in enforces.
    let invalid = [
        client
            .simulate_custom_policy()
            .policy_input_list(IDENTITY)
            .action_names("s3:GetObject")
            .caller_arn("arn:aws:sts::111122223333:assumed-role/deployer/session")
            .send()
            .await
            .err(),
        client
            .simulate_custom_policy()
            .policy_input_list(IDENTITY)
            .permissions_boundary_policy_input_list(BOUNDARY_S3)
            .permissions_boundary_policy_input_list(BOUNDARY_S3)
            .action_names("s3:GetObject")
            .send()
            .await
            .err(),
        client
            .simulate_custom_policy()
            .policy_input_list(IDENTITY)
            .resource_policy(ALLOW_ALL)
            .action_names("s3:GetObject")
            .send()
            .await
            .err(),
    ];
    for err in invalid {
        let err = err.expect("rejected").into_service_error();
        assert!(err.is_invalid_input_exception(), "{err:?}");
    }
    let malformed = client
        .simulate_custom_policy()
        .policy_input_list("{not json")
        .action_names("s3:GetObject")
        .send()
        .await
        .expect_err("rejected");
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&malformed.into_service_error()),
        Some("MalformedPolicyDocument")
    );
}

#[test]
fn answers_are_labelled_and_faults_apply() {
    let moto = Moto::start();
    let params = [
        ("Action", "SimulateCustomPolicy"),
        ("Version", "2010-05-08"),
        ("PolicyInputList.member.1", IDENTITY),
        ("ActionNames.member.1", "ec2:RunInstances"),
        (
            "OrderedOrganizationPolicyInputList.member.1.ServiceControlPolicyInputList.member.1",
            ALLOW_ALL,
        ),
    ];
    let resp = moto.aws_query("iam", &params);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(
        resp.header("x-iamdoctor-simulator")
            .is_some_and(|h| h.contains("stand-in")),
        "every simulated answer is labelled"
    );
    assert_eq!(
        support::decision_of(&resp.body, "ec2:RunInstances").as_deref(),
        Some("allowed")
    );

    // A field of a level that the SDK does not send is refused rather than ignored.
    let mut wrong = params.to_vec();
    wrong.push((
        "OrderedOrganizationPolicyInputList.member.2.Policies.member.1",
        ALLOW_ALL,
    ));
    let resp = moto.aws_query("iam", &wrong);
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert!(resp.body.contains("InvalidInput"), "{}", resp.body);

    // Fault rules match the operation like any other.
    moto.faults(json!({"rules": [
        {"target": "iam:SimulateCustomPolicy", "error": "Throttling", "count": 1}
    ]}));
    let resp = moto.aws_query("iam", &params);
    assert_eq!(resp.status, 400);
    assert!(
        resp.body.contains("<Code>Throttling</Code>"),
        "{}",
        resp.body
    );
    assert_eq!(moto.aws_query("iam", &params).status, 200);
}
