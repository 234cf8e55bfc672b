//! Checks the local AWS harness itself (tests/moto), without the CLI: if these fail, every
//! moto-backed CLI test is suspect.
//!
//! `SimulatePrincipalPolicy` here is the scripted stand-in of tests/moto/server.py, whose
//! decisions come from its own simple rule, not from AWS.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::{Moto, decision_of, evaluation_results, xml_all, xml_first};

const CODEBUILD_ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn simulate(
    moto: &Moto,
    role_arn: &str,
    actions: &[&str],
    extra: &[(&str, &str)],
) -> support::HttpResponse {
    let names: Vec<String> = (1..=actions.len())
        .map(|i| format!("ActionNames.member.{i}"))
        .collect();
    let mut params = vec![
        ("Action", "SimulatePrincipalPolicy"),
        ("Version", "2010-05-08"),
        ("PolicySourceArn", role_arn),
    ];
    params.extend(
        names
            .iter()
            .map(String::as_str)
            .zip(actions.iter().copied()),
    );
    params.extend_from_slice(extra);
    moto.aws_query("iam", &params)
}

#[test]
fn simulate_principal_policy_decides_from_the_seeded_policies() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let role = seeded["roles"]["codebuild"]
        .as_str()
        .expect("codebuild role ARN");
    assert!(role.ends_with(&format!(":role/{CODEBUILD_ROLE}")), "{role}");
    assert_ne!(seeded["member_account_id"], seeded["management_account_id"]);

    let resp = simulate(
        &moto,
        role,
        &[
            "s3:PutObject",
            "ec2:CreateNetworkInterface",
            "ssm:GetParameter",
            "kms:Decrypt",
        ],
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(
        resp.header("x-iamdoctor-simulator")
            .is_some_and(|h| h.contains("not by AWS"))
    );
    assert!(resp.body.starts_with(
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
    ));
    let xml = &resp.body;
    assert_eq!(decision_of(xml, "s3:PutObject").as_deref(), Some("allowed"));
    assert_eq!(
        decision_of(xml, "ec2:CreateNetworkInterface").as_deref(),
        Some("implicitDeny")
    );
    assert_eq!(
        decision_of(xml, "ssm:GetParameter").as_deref(),
        Some("allowed")
    );
    assert_eq!(
        decision_of(xml, "kms:Decrypt").as_deref(),
        Some("implicitDeny")
    );

    let results = evaluation_results(xml);
    let put = &results[0];
    assert_eq!(
        xml_all(put, "SourcePolicyId"),
        [format!("role_{CODEBUILD_ROLE}_DefaultPolicy")]
    );
    assert_eq!(
        xml_first(put, "SourcePolicyType").as_deref(),
        Some("IAM Policy")
    );
    assert_eq!(
        xml_first(put, "AllowedByOrganizations").as_deref(),
        Some("true")
    );
    let eni = &results[1];
    assert_eq!(
        xml_first(eni, "AllowedByOrganizations").as_deref(),
        Some("false")
    );
    assert_eq!(
        xml_first(eni, "MatchedStatements").as_deref(),
        Some(""),
        "SCPs are never listed"
    );
    assert_eq!(
        xml_all(&results[2], "SourcePolicyId"),
        ["AmazonSSMReadOnlyAccess"]
    );
    assert_eq!(
        xml_first(&resp.body, "IsTruncated").as_deref(),
        Some("false")
    );

    // The region restriction SCP at Workloads denies outright once the region is known.
    let resp = simulate(
        &moto,
        role,
        &["s3:PutObject"],
        &[
            (
                "ContextEntries.member.1.ContextKeyName",
                "aws:RequestedRegion",
            ),
            (
                "ContextEntries.member.1.ContextKeyValues.member.1",
                "eu-west-1",
            ),
            ("ContextEntries.member.1.ContextKeyType", "string"),
        ],
    );
    assert_eq!(
        decision_of(&resp.body, "s3:PutObject").as_deref(),
        Some("explicitDeny")
    );
}

#[test]
fn simulate_reports_boundaries_groups_and_missing_context() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let bounded = seeded["roles"]["bounded"]
        .as_str()
        .expect("bounded role ARN");
    let resp = simulate(
        &moto,
        bounded,
        &["s3:GetObject", "s3:DeleteBucket", "dynamodb:PutItem"],
        &[],
    );
    let results = evaluation_results(&resp.body);
    let boundary: Vec<_> = results
        .iter()
        .map(|r| xml_first(r, "AllowedByPermissionsBoundary"))
        .collect();
    assert_eq!(
        boundary,
        [
            Some("true".into()),
            Some("false".into()),
            Some("false".into())
        ]
    );
    assert_eq!(
        decision_of(&resp.body, "s3:DeleteBucket").as_deref(),
        Some("explicitDeny")
    );
    assert_eq!(
        decision_of(&resp.body, "dynamodb:PutItem").as_deref(),
        Some("implicitDeny")
    );

    // The role path is part of the identity: without it the role is not found.
    let account = seeded["member_account_id"]
        .as_str()
        .expect("member account");
    let pathless = format!("arn:aws:iam::{account}:role/demo-dev-BoundedRole");
    let resp = simulate(&moto, &pathless, &["s3:GetObject"], &[]);
    assert_eq!(resp.status, 404, "{}", resp.body);
    assert_eq!(
        xml_first(&resp.body, "Code").as_deref(),
        Some("NoSuchEntity")
    );
    // An STS session ARN is not an entity ARN.
    let session = seeded["caller_arns"]["bounded"]
        .as_str()
        .expect("session ARN");
    let resp = simulate(&moto, session, &["s3:GetObject"], &[]);
    assert_eq!(resp.status, 400);
    assert_eq!(
        xml_first(&resp.body, "Code").as_deref(),
        Some("InvalidInput")
    );

    let alice = seeded["users"]["alice"].as_str().expect("alice");
    let resp = simulate(
        &moto,
        alice,
        &[
            "s3:GetObject",
            "cloudformation:DescribeStacks",
            "iam:CreateRole",
        ],
        &[],
    );
    let results = evaluation_results(&resp.body);
    assert_eq!(
        xml_first(&results[0], "EvalDecision").as_deref(),
        Some("implicitDeny")
    );
    assert_eq!(
        xml_all(&results[0], "MissingContextValues"),
        ["aws:RequestedRegion"]
    );
    assert_eq!(
        xml_all(&results[1], "SourcePolicyId"),
        ["group_developers_DevelopersAccess"]
    );
    assert_eq!(
        xml_all(&results[2], "SourcePolicyId"),
        ["user_alice_NoIamWrites"]
    );
    assert_eq!(
        xml_first(&results[2], "EvalDecision").as_deref(),
        Some("explicitDeny")
    );
}

#[test]
fn fault_rule_throttles_once_then_succeeds() {
    let moto = Moto::start();
    let seeded = moto.seed("no-org");
    let role = seeded["roles"]["codebuild"]
        .as_str()
        .expect("codebuild role ARN");
    moto.reset_stats();
    moto.faults(json!({"rules": [{"target": "SimulatePrincipalPolicy", "error": "Throttling", "count": 1}]}));

    let first = simulate(&moto, role, &["s3:PutObject"], &[]);
    assert_eq!(first.status, 400, "{}", first.body);
    assert!(first.body.starts_with("<ErrorResponse"), "{}", first.body);
    assert_eq!(xml_first(&first.body, "Type").as_deref(), Some("Sender"));
    assert_eq!(
        xml_first(&first.body, "Code").as_deref(),
        Some("Throttling")
    );
    assert_eq!(
        xml_first(&first.body, "Message").as_deref(),
        Some("Rate exceeded")
    );
    assert!(xml_first(&first.body, "RequestId").is_some());

    let second = simulate(&moto, role, &["s3:PutObject"], &[]);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        decision_of(&second.body, "s3:PutObject").as_deref(),
        Some("allowed")
    );
    // Outside an organization there is no Organizations detail.
    assert_eq!(xml_first(&second.body, "AllowedByOrganizations"), None);

    let stats = moto.stats();
    assert_eq!(stats["calls"]["iam:SimulatePrincipalPolicy"], 2);
    assert_eq!(stats["faults_fired"], 1);
}

#[test]
fn organizations_faults_use_the_json_error_shape() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let member = seeded["member_account_id"]
        .as_str()
        .expect("member account");
    let target = "AWSOrganizationsV20161128.ListParents";
    let ok = moto.aws_json("organizations", target, &json!({"ChildId": member}));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["Parents"][0]["Id"], seeded["ou_ids"]["Prod"]);

    moto.faults(json!({"rules": [{"target": "organizations:ListParents", "error": "AccessDeniedException"}]}));
    for _ in 0..2 {
        let denied = moto.aws_json("organizations", target, &json!({"ChildId": member}));
        assert_eq!(denied.status, 400);
        assert_eq!(denied.json()["__type"], "AccessDeniedException");
        assert!(denied.json()["Message"].is_string());
    }
    moto.clear_faults();
    let ok = moto.aws_json("organizations", target, &json!({"ChildId": member}));
    assert_eq!(ok.status, 200);
}

#[test]
fn caller_identity_follows_the_chosen_caller() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let session = seeded["caller_arns"]["codebuild"]
        .as_str()
        .expect("session ARN");
    let default = moto.aws_query(
        "sts",
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    );
    assert_eq!(
        xml_first(&default.body, "Account").as_deref(),
        Some("123456789012")
    );

    moto.set_caller(session);
    let who = moto.aws_query(
        "sts",
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    );
    assert_eq!(who.status, 200, "{}", who.body);
    assert_eq!(xml_first(&who.body, "Arn").as_deref(), Some(session));
    assert_eq!(
        xml_first(&who.body, "Account"),
        seeded["member_account_id"].as_str().map(String::from)
    );
    assert!(
        xml_first(&who.body, "UserId")
            .is_some_and(|id| id.starts_with("AROA") && id.ends_with(":iam-doctor"))
    );
    // IAM calls now run in the member account, where the role lives.
    let role = moto.aws_query(
        "iam",
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", CODEBUILD_ROLE),
        ],
    );
    assert_eq!(role.status, 200, "{}", role.body);

    moto.clear_caller();
    let role = moto.aws_query(
        "iam",
        &[
            ("Action", "GetRole"),
            ("Version", "2010-05-08"),
            ("RoleName", CODEBUILD_ROLE),
        ],
    );
    assert_eq!(
        role.status, 404,
        "the role is not in the management account"
    );
}

#[test]
fn latency_makes_concurrency_visible() {
    let moto = Moto::start();
    moto.latency(300);
    moto.reset_stats();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                moto.aws_query(
                    "sts",
                    &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                )
            });
        }
    });
    let stats = moto.stats();
    assert_eq!(stats["calls"]["sts:GetCallerIdentity"], 4);
    assert!(stats["max_in_flight"].as_u64().unwrap_or(0) >= 2, "{stats}");
    assert_eq!(stats["in_flight"], 0);
}

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

/// The Rust SDK must read the stand-in's XML as it reads IAM's: pages, decisions, the
/// `IAM Policy` source type (not in the SDK's enum) and the retry on `Throttling`.
#[tokio::test]
async fn rust_sdk_reads_the_simulated_responses() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let role = seeded["roles"]["codebuild"]
        .as_str()
        .expect("codebuild role ARN")
        .to_string();
    let client = iam_client(&moto);
    moto.faults(json!({"rules": [{"target": "SimulatePrincipalPolicy", "error": "Throttling", "count": 2}]}));
    moto.reset_stats();

    let actions = [
        "s3:PutObject",
        "s3:GetObject",
        "ec2:CreateNetworkInterface",
        "lambda:InvokeFunction",
        "kms:Decrypt",
    ];
    let mut results = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let out = client
            .simulate_principal_policy()
            .policy_source_arn(&role)
            .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
            .max_items(2)
            .set_marker(marker.take())
            .send()
            .await
            .expect("simulate through the SDK");
        pages += 1;
        results.extend(out.evaluation_results().iter().cloned());
        if !out.is_truncated() {
            break;
        }
        marker = out.marker().map(String::from);
        assert!(marker.is_some(), "a truncated page carries a marker");
    }
    assert_eq!(pages, 3);
    let decisions: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r.eval_action_name(), r.eval_decision().as_str()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:PutObject", "allowed"),
            ("s3:GetObject", "allowed"),
            ("ec2:CreateNetworkInterface", "implicitDeny"),
            ("lambda:InvokeFunction", "allowed"),
            ("kms:Decrypt", "implicitDeny"),
        ]
    );
    let statement = &results[0].matched_statements()[0];
    assert_eq!(
        statement.source_policy_type().map(|t| t.as_str()),
        Some("IAM Policy")
    );
    assert_eq!(
        statement.source_policy_id(),
        Some(format!("role_{CODEBUILD_ROLE}_DefaultPolicy").as_str())
    );
    assert!(
        statement
            .start_position()
            .is_some_and(|p| p.line() >= 1 && p.column() >= 1)
    );
    let orgs = results[2]
        .organizations_decision_detail()
        .expect("in an organization");
    assert!(!orgs.allowed_by_organizations());
    assert_eq!(
        moto.calls("iam:SimulatePrincipalPolicy"),
        3 + 2,
        "three pages plus two throttled tries"
    );
}

/// moto answers Organizations' RCP filter itself; the SDK reads its pages and errors.
#[tokio::test]
async fn rust_sdk_reads_organizations_policies_and_errors() {
    use aws_sdk_organizations::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_organizations::types::PolicyType;
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    let config = aws_sdk_organizations::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    let org = aws_sdk_organizations::Client::from_conf(config);
    let workloads = seeded["ou_ids"]["Workloads"]
        .as_str()
        .expect("Workloads OU");

    let names = |out: &aws_sdk_organizations::operation::list_policies_for_target::ListPoliciesForTargetOutput| {
        let mut n: Vec<String> = out.policies().iter().filter_map(|p| p.name().map(String::from)).collect();
        n.sort();
        n
    };
    let scps = org
        .list_policies_for_target()
        .target_id(workloads)
        .filter(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("SCPs of Workloads");
    assert_eq!(names(&scps), ["FullAWSAccess", "RegionRestriction"]);
    let rcps = org
        .list_policies_for_target()
        .target_id(workloads)
        .filter(PolicyType::ResourceControlPolicy)
        .send()
        .await
        .expect("RCPs of Workloads");
    assert_eq!(names(&rcps), ["EnforceSecureTransport", "RCPFullAWSAccess"]);

    moto.faults(
        json!({"rules": [{"target": "ListParents", "error": "AWSOrganizationsNotInUseException"}]}),
    );
    let err = org
        .list_parents()
        .child_id(workloads)
        .send()
        .await
        .expect_err("fault injected");
    let service_err = err.into_service_error();
    assert!(
        service_err.is_aws_organizations_not_in_use_exception(),
        "{service_err:?}"
    );
}
