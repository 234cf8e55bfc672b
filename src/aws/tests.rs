//! The adapter against scripted AWS responses (`aws-smithy-mocks`).
//!
//! Every response below is written out by hand in the test ("scripted response"): nothing is
//! computed from the request, so each test pins how the adapter reacts to one shape of answer
//! AWS is known to give (pagination, throttling, denials, empty pages with a token).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_iam::error::ErrorMetadata;
use aws_sdk_iam::operation::get_policy::GetPolicyOutput;
use aws_sdk_iam::operation::get_policy_version::GetPolicyVersionOutput;
use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
use aws_sdk_iam::operation::list_roles::ListRolesOutput;
use aws_sdk_iam::operation::simulate_principal_policy::{
    SimulatePrincipalPolicyError, SimulatePrincipalPolicyOutput,
};
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, EvaluationResult,
    PermissionsBoundaryAttachmentType, PolicyEvaluationDecisionType, Role,
};
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;
use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput;
use aws_sdk_organizations::operation::describe_organizational_unit::DescribeOrganizationalUnitOutput;
use aws_sdk_organizations::operation::describe_policy::DescribePolicyOutput;
use aws_sdk_organizations::operation::list_parents::ListParentsOutput;
use aws_sdk_organizations::operation::list_policies_for_target::{
    ListPoliciesForTargetError, ListPoliciesForTargetOutput,
};
use aws_sdk_organizations::operation::list_roots::ListRootsOutput;
use aws_sdk_organizations::types::{
    Organization, OrganizationalUnit, Parent, ParentType, Policy, PolicySummary, PolicyType,
    PolicyTypeStatus, PolicyTypeSummary, Root,
};
use aws_smithy_mocks::{
    MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock, mock_client,
};
use aws_smithy_types::DateTime;

use super::*;
use crate::core::facts::{PolicyOrigin, SimulatedDecision, SimulationRequest, TargetType};
use crate::core::principal_ref::{NamedPrincipal, PrincipalRef};

/// A role as `--role` names it.
fn role_named(text: &str) -> NamedPrincipal {
    match PrincipalRef::role(text) {
        Ok(PrincipalRef::Role(role)) => role,
        other => panic!("`{text}` is not a role: {other:?}"),
    }
}

/// The session's retry policy with millisecond backoff, so retry tests run quickly while
/// keeping the same attempt budget.
fn fast_retries() -> aws_smithy_types::retry::RetryConfig {
    retry_config()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2))
}

/// A client of any SDK crate wired to scripted responses (for crates built without
/// `test-util`, which `mock_client!` needs).
macro_rules! scripted_client {
    ($krate:ident, $mode:expr, [$($rule:expr),* $(,)?]) => {{
        let interceptor = MockResponseInterceptor::new().rule_mode($mode)$(.with_rule($rule))*;
        $krate::Client::from_conf(
            $krate::Config::builder()
                .behavior_version($krate::config::BehaviorVersion::latest())
                .region($krate::config::Region::new("us-east-1"))
                .credentials_provider($krate::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .retry_config(fast_retries())
                .build(),
        )
    }};
}

fn iam_with(client: aws_sdk_iam::Client) -> (SdkIam, Arc<CallGate>) {
    let gate = Arc::new(CallGate::new(MAX_IN_FLIGHT, None));
    let sts = scripted_client!(aws_sdk_sts, RuleMode::MatchAny, []);
    (SdkIam::new(client, sts, Arc::clone(&gate)), gate)
}

fn iam_client(mode: RuleMode, rules: &[&Rule]) -> aws_sdk_iam::Client {
    mock_client!(aws_sdk_iam, mode, rules, |config| config
        .retry_config(fast_retries()))
}

fn result(action: &str, decision: PolicyEvaluationDecisionType) -> EvaluationResult {
    EvaluationResult::builder()
        .eval_action_name(action)
        .eval_resource_name("*")
        .eval_decision(decision)
        .build()
        .expect("all required fields are set")
}

fn req(action: &str) -> SimulationRequest {
    SimulationRequest {
        action: action.to_string(),
        resource: "*".to_string(),
    }
}

fn role(name: &str, arn: &str) -> Role {
    Role::builder()
        .path("/deploy/")
        .role_name(name)
        .role_id("AROAEXAMPLE")
        .arn(arn)
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
        .expect("all required fields are set")
}

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/deploy/Deploy";

#[tokio::test]
async fn simulation_follows_markers_across_three_pages() {
    let first = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.marker().is_none())
        // scripted response: page 1 of 3
        .then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "s3:GetObject",
                    PolicyEvaluationDecisionType::Allowed,
                ))
                .is_truncated(true)
                .marker("m1")
                .build()
        });
    let second = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.marker() == Some("m1"))
        // scripted response: page 2 of 3
        .then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "s3:PutObject",
                    PolicyEvaluationDecisionType::ImplicitDeny,
                ))
                .is_truncated(true)
                .marker("m2")
                .build()
        });
    let third = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.marker() == Some("m2"))
        // scripted response: page 3 of 3, the last
        .then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "s3:DeleteObject",
                    PolicyEvaluationDecisionType::ExplicitDeny,
                ))
                .is_truncated(false)
                .build()
        });
    let (iam, gate) = iam_with(iam_client(RuleMode::MatchAny, &[&first, &second, &third]));
    let requests = [
        req("s3:GetObject"),
        req("s3:PutObject"),
        req("s3:DeleteObject"),
    ];
    let outcomes = iam
        .simulate(ROLE_ARN, &requests, &[])
        .await
        .expect("all pages succeed");
    let decisions: Vec<_> = outcomes
        .iter()
        .map(|o| (o.action.as_str(), o.decision))
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("s3:GetObject", SimulatedDecision::Allowed),
            ("s3:PutObject", SimulatedDecision::ImplicitDeny),
            ("s3:DeleteObject", SimulatedDecision::ExplicitDeny),
        ]
    );
    assert_eq!(
        (first.num_calls(), second.num_calls(), third.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(gate.calls().get("iam:SimulatePrincipalPolicy"), Some(&3));
}

#[tokio::test]
async fn throttling_is_retried_until_it_passes() {
    let rule = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .sequence()
        // scripted response: IAM's throttling error, five times in a row
        .error(|| {
            SimulatePrincipalPolicyError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .times(5)
        // scripted response: then an answer
        .output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "s3:GetObject",
                    PolicyEvaluationDecisionType::Allowed,
                ))
                .build()
        })
        .build();
    let (iam, gate) = iam_with(iam_client(RuleMode::Sequential, &[&rule]));
    let outcomes = iam
        .simulate(ROLE_ARN, &[req("s3:GetObject")], &[])
        .await
        .expect("retries absorb the throttling");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(rule.num_calls(), 6);
    // Retries of one request count as one call.
    assert_eq!(gate.calls().get("iam:SimulatePrincipalPolicy"), Some(&1));
}

#[tokio::test]
async fn throttling_past_the_budget_is_an_error_naming_the_api() {
    let rule = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .sequence()
        // scripted response: throttled on every attempt
        .error(|| {
            SimulatePrincipalPolicyError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let (iam, _) = iam_with(iam_client(RuleMode::Sequential, &[&rule]));
    let err = iam
        .simulate(ROLE_ARN, &[req("s3:GetObject")], &[])
        .await
        .expect_err("the budget runs out");
    assert_eq!(
        err,
        AwsError::Throttled {
            api: "iam:SimulatePrincipalPolicy".into()
        }
    );
    assert_eq!(rule.num_calls(), MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn access_denied_becomes_an_actionable_line() {
    let rule = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        // scripted response: the caller may not simulate
        .then_error(|| {
            SimulatePrincipalPolicyError::generic(
                ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:SimulatePrincipalPolicy.")
                    .build(),
            )
        });
    let (iam, _) = iam_with(iam_client(RuleMode::MatchAny, &[&rule]));
    let err = iam
        .simulate(ROLE_ARN, &[req("s3:GetObject")], &[])
        .await
        .expect_err("denied");
    assert!(
        matches!(&err, AwsError::AccessDenied { api, .. } if api == "iam:SimulatePrincipalPolicy")
    );
    assert_eq!(
        err.to_string(),
        "`iam:SimulatePrincipalPolicy` was denied for the caller: grant it (see `iam-doctor self-policy`)"
    );
    assert!(
        err.help()
            .is_some_and(|h| h.ends_with("iam:SimulatePrincipalPolicy"))
    );
}

#[tokio::test]
async fn one_failed_batch_fails_the_whole_simulation() {
    let ok = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.action_names().iter().any(|a| a == "s3:A0"))
        // scripted response: the first batch is answered
        .then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result("s3:A0", PolicyEvaluationDecisionType::Allowed))
                .build()
        });
    let failing = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.action_names().iter().any(|a| a == "s3:A750"))
        // scripted response: the second batch fails with a non-retryable error
        .then_error(|| {
            SimulatePrincipalPolicyError::generic(
                ErrorMetadata::builder()
                    .code("InvalidInput")
                    .message("bad")
                    .build(),
            )
        });
    let (iam, _) = iam_with(iam_client(RuleMode::MatchAny, &[&ok, &failing]));
    // Two batches of ACTIONS_PER_CALL (500) actions.
    let requests: Vec<_> = (0..1000).map(|i| req(&format!("s3:A{i}"))).collect();
    let err = iam.simulate(ROLE_ARN, &requests, &[]).await;
    assert!(matches!(err, Err(AwsError::Service { ref code, .. }) if code == "InvalidInput"));
    assert_eq!((ok.num_calls(), failing.num_calls()), (1, 1));
}

#[tokio::test]
async fn session_arns_are_simulated_as_the_role_with_its_path() {
    let get_role = mock!(aws_sdk_iam::Client::get_role)
        .match_requests(|r| r.role_name() == Some("Deploy"))
        // scripted response: the role, whose path the session ARN does not carry
        .then_output(|| {
            GetRoleOutput::builder()
                .role(role("Deploy", ROLE_ARN))
                .build()
        });
    let simulate = mock!(aws_sdk_iam::Client::simulate_principal_policy)
        .match_requests(|r| r.policy_source_arn() == Some(ROLE_ARN))
        // scripted response: an answer for the role ARN
        .then_output(|| {
            SimulatePrincipalPolicyOutput::builder()
                .evaluation_results(result(
                    "s3:GetObject",
                    PolicyEvaluationDecisionType::Allowed,
                ))
                .build()
        });
    let (iam, _) = iam_with(iam_client(RuleMode::MatchAny, &[&get_role, &simulate]));
    let outcomes = iam
        .simulate(
            "arn:aws:sts::111122223333:assumed-role/Deploy/ci-session",
            &[req("s3:GetObject")],
            &[],
        )
        .await
        .expect("the session ARN is converted");
    assert_eq!(outcomes.len(), 1);
    assert_eq!((get_role.num_calls(), simulate.num_calls()), (1, 1));
}

#[tokio::test]
async fn missing_role_suggests_the_closest_name() {
    let get_role = mock!(aws_sdk_iam::Client::get_role)
        // scripted response: no such role
        .then_error(|| {
            GetRoleError::generic(ErrorMetadata::builder().code("NoSuchEntity").build())
        });
    let list_roles = mock!(aws_sdk_iam::Client::list_roles)
        // scripted response: the account's roles
        .then_output(|| {
            ListRolesOutput::builder()
                .roles(role(
                    "deploy-role",
                    "arn:aws:iam::111122223333:role/deploy-role",
                ))
                .roles(role("admin", "arn:aws:iam::111122223333:role/admin"))
                .build()
                .expect("roles are set")
        });
    let (iam, _) = iam_with(iam_client(RuleMode::MatchAny, &[&get_role, &list_roles]));
    let err = iam
        .role(&role_named("deploy-rol"))
        .await
        .expect_err("not found");
    assert_eq!(
        err,
        AwsError::RoleNotFound {
            name: "deploy-rol".into(),
            suggestion: Some("deploy-role".into())
        }
    );
}

#[tokio::test]
async fn role_facts_gather_inline_managed_and_boundary_policies() {
    const POLICY: &str = "arn:aws:iam::111122223333:policy/DeployBoundary";
    let get_role = mock!(aws_sdk_iam::Client::get_role)
        // scripted response: a role whose boundary is also attached as a policy
        .then_output(|| {
            let mut r = role("Deploy", ROLE_ARN);
            r.permissions_boundary = Some(
                AttachedPermissionsBoundary::builder()
                    .permissions_boundary_type(PermissionsBoundaryAttachmentType::Policy)
                    .permissions_boundary_arn(POLICY)
                    .build(),
            );
            GetRoleOutput::builder().role(r).build()
        });
    let list_inline = mock!(aws_sdk_iam::Client::list_role_policies)
        // scripted response: one inline policy
        .then_output(|| {
            ListRolePoliciesOutput::builder()
                .policy_names("inline-deploy")
                .build()
                .expect("names are set")
        });
    let get_inline = mock!(aws_sdk_iam::Client::get_role_policy)
        // scripted response: its URL-encoded document
        .then_output(|| {
            GetRolePolicyOutput::builder()
                .role_name("Deploy")
                .policy_name("inline-deploy")
                .policy_document("%7B%7D")
                .build()
                .expect("fields are set")
        });
    let list_attached = mock!(aws_sdk_iam::Client::list_attached_role_policies)
        // scripted response: two attached managed policies
        .then_output(|| {
            ListAttachedRolePoliciesOutput::builder()
                .attached_policies(
                    AttachedPolicy::builder()
                        .policy_name("ReadOnlyAccess")
                        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
                        .build(),
                )
                .attached_policies(
                    AttachedPolicy::builder()
                        .policy_name("DeployBoundary")
                        .policy_arn(POLICY)
                        .build(),
                )
                .build()
        });
    let get_aws_policy = mock!(aws_sdk_iam::Client::get_policy)
        .match_requests(|r| r.policy_arn() == Some("arn:aws:iam::aws:policy/ReadOnlyAccess"))
        // scripted response: the AWS managed policy's default version
        .then_output(|| {
            GetPolicyOutput::builder()
                .policy(
                    aws_sdk_iam::types::Policy::builder()
                        .policy_name("ReadOnlyAccess")
                        .default_version_id("v1")
                        .build(),
                )
                .build()
        });
    let get_boundary_policy = mock!(aws_sdk_iam::Client::get_policy)
        .match_requests(|r| r.policy_arn() == Some(POLICY))
        // scripted response: the customer managed policy's default version
        .then_output(|| {
            GetPolicyOutput::builder()
                .policy(
                    aws_sdk_iam::types::Policy::builder()
                        .policy_name("DeployBoundary")
                        .default_version_id("v1")
                        .build(),
                )
                .build()
        });
    let get_version = mock!(aws_sdk_iam::Client::get_policy_version)
        // scripted response: a document
        .then_output(|| {
            GetPolicyVersionOutput::builder()
                .policy_version(
                    aws_sdk_iam::types::PolicyVersion::builder()
                        .document("%7B%22Version%22%3A%222012-10-17%22%7D")
                        .version_id("v1")
                        .build(),
                )
                .build()
        });
    let (iam, _) = iam_with(iam_client(
        RuleMode::MatchAny,
        &[
            &get_role,
            &list_inline,
            &get_inline,
            &list_attached,
            &get_aws_policy,
            &get_boundary_policy,
            &get_version,
        ],
    ));
    let facts = iam.role(&role_named(ROLE_ARN)).await.expect("role facts");
    assert_eq!(facts.arn, ROLE_ARN);
    assert_eq!(facts.path, "/deploy/");
    assert_eq!(facts.account_id, "111122223333");
    let origins: Vec<_> = facts
        .identity_policies
        .iter()
        .map(|p| (p.name.as_str(), p.origin))
        .collect();
    assert_eq!(
        origins,
        vec![
            ("inline-deploy", PolicyOrigin::Inline),
            ("ReadOnlyAccess", PolicyOrigin::AwsManaged),
            ("DeployBoundary", PolicyOrigin::CustomerManaged),
        ]
    );
    assert_eq!(facts.identity_policies[0].document, "%7B%7D");
    assert_eq!(
        facts.permissions_boundary.as_ref().map(|b| b.name.as_str()),
        Some("DeployBoundary")
    );
    // The boundary is also attached: its versions are read once.
    assert_eq!(
        (get_aws_policy.num_calls(), get_boundary_policy.num_calls()),
        (1, 1)
    );
    assert_eq!(get_version.num_calls(), 2);
}

#[tokio::test]
async fn role_arn_from_another_account_is_refused() {
    let get_role = mock!(aws_sdk_iam::Client::get_role)
        // scripted response: a same-named role in the caller's account
        .then_output(|| {
            GetRoleOutput::builder()
                .role(role("Deploy", ROLE_ARN))
                .build()
        });
    let list_inline = mock!(aws_sdk_iam::Client::list_role_policies)
        // scripted response: no inline policies
        .then_output(|| {
            ListRolePoliciesOutput::builder()
                .set_policy_names(Some(vec![]))
                .build()
                .expect("set")
        });
    let list_attached = mock!(aws_sdk_iam::Client::list_attached_role_policies)
        // scripted response: no attached policies
        .then_output(|| ListAttachedRolePoliciesOutput::builder().build());
    let (iam, _) = iam_with(iam_client(
        RuleMode::MatchAny,
        &[&get_role, &list_inline, &list_attached],
    ));
    let err = iam
        .role(&role_named("arn:aws:iam::999999999999:role/Deploy"))
        .await
        .expect_err("wrong account");
    assert!(matches!(err, AwsError::WrongAccount { ref account, .. } if account == "999999999999"));
}

// ---- Organizations -------------------------------------------------------------------------

const ACCOUNT: &str = "222233334444";
const OU: &str = "ou-abcd-11111111";
const ROOT: &str = "r-abcd";

fn summary(id: &str, name: &str) -> PolicySummary {
    PolicySummary::builder()
        .id(id)
        .name(name)
        .arn(format!(
            "arn:aws:organizations::aws:policy/service_control_policy/{id}"
        ))
        .aws_managed(id == "p-FullAWSAccess")
        .build()
}

/// Rules describing a root → OU → account organization with `FullAWSAccess` at every level
/// and a deny SCP on the OU.
fn org_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_organizations::Client::describe_organization)
            // scripted response: the organization
            .then_output(|| {
                DescribeOrganizationOutput::builder()
                    .organization(
                        Organization::builder()
                            .id("o-abcd")
                            .master_account_id("111111111111")
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_roots)
            // scripted response: one root with SCPs enabled
            .then_output(|| {
                ListRootsOutput::builder()
                    .roots(
                        Root::builder()
                            .id(ROOT)
                            .name("Root")
                            .policy_types(
                                PolicyTypeSummary::builder()
                                    .r#type(PolicyType::ServiceControlPolicy)
                                    .status(PolicyTypeStatus::Enabled)
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_parents)
            .match_requests(|r| r.child_id() == Some(ACCOUNT))
            // scripted response: the account sits in the OU
            .then_output(|| {
                ListParentsOutput::builder()
                    .parents(
                        Parent::builder()
                            .id(OU)
                            .r#type(ParentType::OrganizationalUnit)
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_parents)
            .match_requests(|r| r.child_id() == Some(OU))
            // scripted response: the OU sits under the root
            .then_output(|| {
                ListParentsOutput::builder()
                    .parents(Parent::builder().id(ROOT).r#type(ParentType::Root).build())
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::describe_organizational_unit)
            // scripted response: the OU's name
            .then_output(|| {
                DescribeOrganizationalUnitOutput::builder()
                    .organizational_unit(
                        OrganizationalUnit::builder()
                            .id(OU)
                            .name("Workloads")
                            .build(),
                    )
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::describe_account)
            // scripted response: a member account may not read account names
            .then_error(|| {
                DescribeAccountError::generic(
                    ErrorMetadata::builder()
                        .code("AccessDeniedException")
                        .build(),
                )
            }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.filter() == Some(&PolicyType::ResourceControlPolicy))
            // scripted response: an endpoint that does not know the RCP filter
            .then_error(|| {
                ListPoliciesForTargetError::generic(
                    ErrorMetadata::builder()
                        .code("InvalidInputException")
                        .build(),
                )
            }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.target_id() == Some(ROOT) && r.next_token().is_none())
            // scripted response: an empty first page that still carries a token
            .then_output(|| {
                ListPoliciesForTargetOutput::builder()
                    .set_policies(Some(vec![]))
                    .next_token("root-page-2")
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| {
                r.target_id() == Some(ROOT) && r.next_token() == Some("root-page-2")
            })
            // scripted response: the root's SCP on the second page
            .then_output(|| {
                ListPoliciesForTargetOutput::builder()
                    .policies(summary("p-FullAWSAccess", "FullAWSAccess"))
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.target_id() == Some(OU))
            // scripted response: the OU's SCPs
            .then_output(|| {
                ListPoliciesForTargetOutput::builder()
                    .policies(summary("p-FullAWSAccess", "FullAWSAccess"))
                    .policies(summary("p-denyregions", "DenyRegions"))
                    .build()
            }),
        mock!(aws_sdk_organizations::Client::list_policies_for_target)
            .match_requests(|r| r.target_id() == Some(ACCOUNT))
            // scripted response: the account's SCP
            .then_output(|| {
                ListPoliciesForTargetOutput::builder()
                    .policies(summary("p-FullAWSAccess", "FullAWSAccess"))
                    .build()
            }),
    ]
}

fn describe_policy_rule(id: &'static str, name: &'static str) -> Rule {
    mock!(aws_sdk_organizations::Client::describe_policy)
        .match_requests(move |r| r.policy_id() == Some(id))
        // scripted response: the policy's content
        .then_output(move || {
            DescribePolicyOutput::builder()
                .policy(
                    Policy::builder()
                        .policy_summary(summary(id, name))
                        .content(format!(
                            "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"{name}\"}}]}}"
                        ))
                        .build(),
                )
                .build()
        })
}

fn organizations(rules: &[Rule], extra: &[&Rule]) -> (SdkOrganizations, Arc<CallGate>) {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules.iter().chain(extra.iter().copied()) {
        interceptor = interceptor.with_rule(rule);
    }
    let client = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::Config::builder()
            .behavior_version(aws_sdk_organizations::config::BehaviorVersion::latest())
            .region(aws_sdk_organizations::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_organizations::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(fast_retries())
            .build(),
    );
    let gate = Arc::new(CallGate::new(MAX_IN_FLIGHT, None));
    (SdkOrganizations::new(client, Arc::clone(&gate)), gate)
}

#[tokio::test]
async fn org_listing_continues_past_an_empty_page_with_a_token() {
    let full = describe_policy_rule("p-FullAWSAccess", "FullAWSAccess");
    let deny = describe_policy_rule("p-denyregions", "DenyRegions");
    let rules = org_rules();
    let (org, gate) = organizations(&rules, &[&full, &deny]);
    let facts = org.org_facts(ACCOUNT).await.expect("org facts");
    let root = &facts.levels[0];
    assert_eq!(root.target_type, TargetType::Root);
    assert_eq!(
        root.scps
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["FullAWSAccess"]
    );
    // Root page 1 (empty), root page 2, OU, account; plus three rejected RCP listings.
    assert_eq!(
        gate.calls().get("organizations:ListPoliciesForTarget"),
        Some(&7)
    );
}

#[tokio::test]
async fn org_path_and_each_policy_described_once() {
    let full = describe_policy_rule("p-FullAWSAccess", "FullAWSAccess");
    let deny = describe_policy_rule("p-denyregions", "DenyRegions");
    let rules = org_rules();
    let (org, _) = organizations(&rules, &[&full, &deny]);
    let facts = org.org_facts(ACCOUNT).await.expect("org facts");
    let levels: Vec<_> = facts
        .levels
        .iter()
        .map(|l| (l.target_type, l.name.as_str(), l.scps.len(), l.rcps.len()))
        .collect();
    assert_eq!(
        levels,
        vec![
            (TargetType::Root, "Root", 1, 0),
            (TargetType::OrganizationalUnit, "Workloads", 2, 0),
            // The account name could not be read: its id stands in.
            (TargetType::Account, ACCOUNT, 1, 0),
        ]
    );
    assert_eq!(facts.organization_id.as_deref(), Some("o-abcd"));
    assert_eq!(facts.scps_enabled, Some(true));
    assert_eq!(facts.rcps_enabled, Some(false));
    assert!(!facts.is_management_account());
    // FullAWSAccess is attached at three levels but described once …
    assert_eq!((full.num_calls(), deny.num_calls()), (1, 1));
    // … and stays cached for the next account of the run.
    org.org_facts(ACCOUNT).await.expect("org facts again");
    assert_eq!((full.num_calls(), deny.num_calls()), (1, 1));
}

#[tokio::test]
async fn member_account_without_delegation_cannot_read_scps() {
    let denied = mock!(aws_sdk_organizations::Client::list_roots)
        // scripted response: member accounts may not list roots
        .then_error(|| {
            aws_sdk_organizations::operation::list_roots::ListRootsError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .build(),
            )
        });
    let described = mock!(aws_sdk_organizations::Client::describe_organization)
        // scripted response: but may describe their organization
        .then_output(|| {
            DescribeOrganizationOutput::builder()
                .organization(Organization::builder().id("o-abcd").build())
                .build()
        });
    let (org, _) = organizations(&[], &[&described, &denied]);
    let err = org.org_facts(ACCOUNT).await.expect_err("denied");
    assert!(
        matches!(err, AwsError::OrganizationsAccessDenied { ref api, .. } if api == "organizations:ListRoots")
    );
}

#[tokio::test]
async fn account_outside_any_organization() {
    let rule = mock!(aws_sdk_organizations::Client::describe_organization)
        // scripted response: the account is not in an organization
        .then_error(|| {
            aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError::generic(
                ErrorMetadata::builder().code("AWSOrganizationsNotInUseException").build(),
            )
        });
    let (org, _) = organizations(&[], &[&rule]);
    assert_eq!(
        org.org_facts(ACCOUNT).await,
        Err(AwsError::NotInOrganization)
    );
}

// ---- CloudFormation ------------------------------------------------------------------------

#[tokio::test]
async fn stack_role_reads_the_physical_id_and_tells_missing_stacks_apart() {
    use aws_sdk_cloudformation::operation::describe_stack_resource::{
        DescribeStackResourceError, DescribeStackResourceOutput,
    };
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksError;
    let found = mock!(aws_sdk_cloudformation::Client::describe_stack_resource)
        .match_requests(|r| r.stack_name() == Some("demo-dev"))
        // scripted response: the CodeBuild role resource
        .then_output(|| {
            DescribeStackResourceOutput::builder()
                .stack_resource_detail(
                    aws_sdk_cloudformation::types::StackResourceDetail::builder()
                        .logical_resource_id("CodebuildRole")
                        .physical_resource_id("demo-dev-CodebuildRole-1ABC")
                        .build(),
                )
                .build()
        });
    let missing = mock!(aws_sdk_cloudformation::Client::describe_stack_resource)
        .match_requests(|r| r.stack_name() == Some("nope"))
        // scripted response: CloudFormation's answer for a missing stack
        .then_error(|| {
            DescribeStackResourceError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message("Stack 'nope' does not exist")
                    .build(),
            )
        });
    let stacks = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        // scripted response: the same for DescribeStacks
        .then_error(|| {
            DescribeStacksError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message("Stack with id nope does not exist")
                    .build(),
            )
        });
    let client = scripted_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&found, &missing, &stacks]
    );
    let cfn = SdkCloudFormation::new(client, Arc::new(CallGate::new(MAX_IN_FLIGHT, None)));
    assert_eq!(
        cfn.stack_role("demo-dev", "CodebuildRole").await,
        Ok("demo-dev-CodebuildRole-1ABC".to_string())
    );
    assert_eq!(
        cfn.stack_role("nope", "CodebuildRole").await,
        Err(AwsError::StackNotFound {
            name: "nope".into()
        })
    );
}
