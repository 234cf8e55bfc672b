//! Evaluation-order tests: one per rule of AWS's documented logic.

use super::*;
use crate::policy::Policy;

fn pol(name: &str, json: &str) -> NamedPolicy {
    NamedPolicy {
        name: name.to_string(),
        id: None,
        policy: Policy::parse(name, json).expect("test policy parses"),
    }
}

fn level(id: &str, name: &str, t: TargetType, policies: Vec<NamedPolicy>) -> OrgLevelPolicies {
    OrgLevelPolicies {
        target_id: id.to_string(),
        target_name: name.to_string(),
        target_type: t,
        policies,
    }
}

fn full_access() -> NamedPolicy {
    pol(
        "FullAWSAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
}

fn req(action: &str, resource: &str) -> Request {
    Request {
        principal: "arn:aws:iam::111122223333:role/deployer".into(),
        action: action.into(),
        resource: resource.into(),
        context: Context::new().with("aws:RequestedRegion", "us-east-1"),
    }
}

fn allow_all_identity() -> PolicySet {
    PolicySet {
        identity: vec![pol(
            "Admin",
            r#"{"Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )],
        ..PolicySet::default()
    }
}

#[test]
fn no_policy_is_implicit_deny() {
    let e = evaluate(&PolicySet::default(), &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by.len(), 1);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Identity);
    assert_eq!(e.decided_by[0].verdict, Verdict::FailsToAllow);
}

#[test]
fn identity_allow_names_statement() {
    let e = evaluate(&allow_all_identity(), &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.decided_by[0].policy.as_deref(), Some("Admin"));
    assert_eq!(e.decided_by[0].statement.as_deref(), Some("All"));
}

#[test]
fn explicit_deny_beats_allow() {
    let mut set = allow_all_identity();
    set.identity.push(pol(
        "NoS3",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#,
    ));
    let e = evaluate(&set, &req("s3:DeleteObject", "*"));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.decided_by.len(), 1);
    assert_eq!(e.decided_by[0].statement.as_deref(), Some("#1"));
    assert_eq!(
        evaluate(&set, &req("s3:GetObject", "*")).decision,
        Decision::Allowed
    );
}

#[test]
fn action_matching_is_case_insensitive_resource_is_not() {
    let set = PolicySet {
        identity: vec![pol(
            "p",
            r#"{"Statement":{"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::Bucket/*"}}"#,
        )],
        ..PolicySet::default()
    };
    assert!(
        evaluate(&set, &req("s3:GetObject", "arn:aws:s3:::Bucket/k"))
            .decision
            .is_allowed()
    );
    assert!(
        !evaluate(&set, &req("s3:GetObject", "arn:aws:s3:::bucket/k"))
            .decision
            .is_allowed()
    );
    // An unknown resource (`*`) does not match a scoped statement, as in IAM's simulator.
    assert!(
        !evaluate(&set, &req("s3:GetObject", "*"))
            .decision
            .is_allowed()
    );
}

#[test]
fn not_action_and_not_resource() {
    let set = PolicySet {
        identity: vec![pol(
            "p",
            r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}]}"#,
        )],
        ..PolicySet::default()
    };
    assert!(
        evaluate(&set, &req("s3:GetObject", "arn:aws:s3:::public/k"))
            .decision
            .is_allowed()
    );
    assert!(
        !evaluate(&set, &req("s3:GetObject", "arn:aws:s3:::secret/k"))
            .decision
            .is_allowed()
    );
    assert!(
        !evaluate(&set, &req("iam:CreateRole", "*"))
            .decision
            .is_allowed()
    );
}

#[test]
fn scp_needs_allow_at_every_level() {
    let mut set = allow_all_identity();
    set.scps = vec![
        level("r-ab12", "Root", TargetType::Root, vec![full_access()]),
        level(
            "ou-ab12-11111111",
            "Workloads",
            TargetType::OrganizationalUnit,
            vec![pol(
                "AllowList",
                r#"{"Statement":[{"Sid":"Allowed","Effect":"Allow","Action":["s3:*","lambda:*"],"Resource":"*"}]}"#,
            )],
        ),
        level(
            "111122223333",
            "dev",
            TargetType::Account,
            vec![full_access()],
        ),
    ];
    assert!(
        evaluate(&set, &req("lambda:CreateFunction", "*"))
            .decision
            .is_allowed()
    );
    let e = evaluate(&set, &req("ec2:CreateNetworkInterface", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by.len(), 1);
    let b = &e.decided_by[0];
    assert_eq!(
        (b.kind, b.verdict),
        (PolicyKind::Scp, Verdict::FailsToAllow)
    );
    assert_eq!(b.target.as_deref(), Some("ou-ab12-11111111"));
    assert!(b.describe().contains("Workloads"));
}

#[test]
fn scp_level_with_no_policies_blocks_everything() {
    let mut set = allow_all_identity();
    set.scps = vec![
        level("r-ab12", "Root", TargetType::Root, vec![full_access()]),
        level("ou-x", "Empty", TargetType::OrganizationalUnit, vec![]),
    ];
    let e = evaluate(&set, &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].target.as_deref(), Some("ou-x"));
}

#[test]
fn scp_allow_does_not_grant_without_identity() {
    let set = PolicySet {
        scps: vec![level("r-1", "Root", TargetType::Root, vec![full_access()])],
        ..PolicySet::default()
    };
    let e = evaluate(&set, &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Identity);
}

#[test]
fn scp_region_deny_with_not_action() {
    let mut set = allow_all_identity();
    set.scps = vec![
        level("r-1", "Root", TargetType::Root, vec![full_access()]),
        level(
            "ou-1",
            "Workloads",
            TargetType::OrganizationalUnit,
            vec![
                full_access(),
                pol(
                    "RegionLock",
                    r#"{"Statement":[{"Sid":"DenyOutsideRegions","Effect":"Deny","NotAction":["iam:*","sts:*","cloudfront:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}}]}"#,
                ),
            ],
        ),
    ];
    assert!(
        evaluate(&set, &req("lambda:CreateFunction", "*"))
            .decision
            .is_allowed()
    );
    let mut r = req("lambda:CreateFunction", "*");
    r.context = Context::new().with("aws:RequestedRegion", "eu-west-1");
    let e = evaluate(&set, &r);
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.decided_by[0].policy.as_deref(), Some("RegionLock"));
    assert_eq!(
        e.decided_by[0].statement.as_deref(),
        Some("DenyOutsideRegions")
    );
    assert_eq!(e.decided_by[0].target.as_deref(), Some("ou-1"));
    // Global services are exempted by NotAction.
    assert!(
        evaluate(&set, &{
            let mut r = req("iam:CreateRole", "*");
            r.context = Context::new().with("aws:RequestedRegion", "eu-west-1");
            r
        })
        .decision
        .is_allowed()
    );
}

#[test]
fn missing_context_on_negated_condition_denies_and_is_reported() {
    // StringNotEquals on an absent key is true, so the Deny applies.
    let mut set = allow_all_identity();
    set.identity.push(pol(
        "Lock",
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"platform"}}}]}"#,
    ));
    let e = evaluate(&set, &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert!(
        e.missing_context
            .iter()
            .any(|k| k.eq_ignore_ascii_case("aws:PrincipalTag/team"))
    );
}

#[test]
fn boundary_must_allow() {
    let mut set = allow_all_identity();
    set.boundary = Some(pol(
        "Boundary",
        r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","logs:*"],"Resource":"*"}]}"#,
    ));
    assert!(
        evaluate(&set, &req("s3:GetObject", "*"))
            .decision
            .is_allowed()
    );
    let e = evaluate(&set, &req("ec2:RunInstances", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Boundary);
    assert_eq!(e.decided_by[0].policy.as_deref(), Some("Boundary"));
}

#[test]
fn boundary_allow_alone_grants_nothing() {
    let set = PolicySet {
        boundary: Some(full_access()),
        ..PolicySet::default()
    };
    let e = evaluate(&set, &req("s3:GetObject", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Identity);
}

#[test]
fn every_failing_gate_is_reported() {
    let set = PolicySet {
        boundary: Some(pol(
            "B",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        )),
        scps: vec![level("r-1", "Root", TargetType::Root, vec![])],
        ..PolicySet::default()
    };
    let e = evaluate(&set, &req("ec2:RunInstances", "*"));
    let kinds: Vec<PolicyKind> = e.decided_by.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        vec![PolicyKind::Scp, PolicyKind::Identity, PolicyKind::Boundary]
    );
}

#[test]
fn rcp_applies_only_to_covered_services() {
    let mut set = allow_all_identity();
    set.rcps = vec![level(
        "r-1",
        "Root",
        TargetType::Root,
        vec![
            pol(
                "RCPFullAWSAccess",
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ),
            pol(
                "NoExternal",
                r#"{"Statement":[{"Sid":"DenyOutside","Effect":"Deny","Principal":"*","Action":["s3:*","lambda:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}}]}"#,
            ),
        ],
    )];
    let mut r = req("s3:GetObject", "arn:aws:s3:::b/k");
    r.context.set("aws:PrincipalAccount", "111122223333");
    let e = evaluate(&set, &r);
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Rcp);
    // Lambda is not an RCP service: the RCP does not apply.
    let mut r = req("lambda:CreateFunction", "*");
    r.context.set("aws:PrincipalAccount", "111122223333");
    assert!(evaluate(&set, &r).decision.is_allowed());
}

#[test]
fn rcp_principal_element_is_matched() {
    let mut set = allow_all_identity();
    set.rcps = vec![level(
        "r-1",
        "Root",
        TargetType::Root,
        vec![
            pol(
                "RCPFullAWSAccess",
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ),
            pol(
                "DenyOther",
                r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/other"},"Action":"s3:*","Resource":"*"}]}"#,
            ),
        ],
    )];
    assert!(
        evaluate(&set, &req("s3:GetObject", "*"))
            .decision
            .is_allowed()
    );
}

#[test]
fn scp_without_resource_element_matches_all_resources() {
    let mut set = allow_all_identity();
    set.scps = vec![level(
        "r-1",
        "Root",
        TargetType::Root,
        vec![pol(
            "NoRes",
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
        )],
    )];
    assert!(
        evaluate(&set, &req("s3:GetObject", "arn:aws:s3:::b/k"))
            .decision
            .is_allowed()
    );
}

#[test]
fn resource_variables_resolve_from_context() {
    let set = PolicySet {
        identity: vec![pol(
            "home",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#,
        )],
        ..PolicySet::default()
    };
    let mut r = req("s3:GetObject", "arn:aws:s3:::home/alice/notes");
    assert!(
        !evaluate(&set, &r).decision.is_allowed(),
        "unresolved variable never matches"
    );
    r.context.set("aws:username", "alice");
    assert!(evaluate(&set, &r).decision.is_allowed());
    r.context.set("aws:username", "bob");
    assert!(!evaluate(&set, &r).decision.is_allowed());
}

#[test]
fn an_old_version_policy_matches_variables_as_text() {
    // reference_policies_elements_version: before 2012-10-17, `${aws:username}` is literal.
    let set = PolicySet {
        identity: vec![pol(
            "home",
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#,
        )],
        ..PolicySet::default()
    };
    let mut r = req("s3:GetObject", "arn:aws:s3:::home/alice/notes");
    r.context.set("aws:username", "alice");
    assert!(!evaluate(&set, &r).decision.is_allowed());
    r.resource = "arn:aws:s3:::home/${aws:username}/notes".into();
    assert!(evaluate(&set, &r).decision.is_allowed());
}

#[test]
fn describe_reads_well() {
    let b = Blame {
        kind: PolicyKind::Scp,
        verdict: Verdict::Denies,
        policy: Some("RegionLock".into()),
        policy_id: Some("p-123".into()),
        target: Some("ou-1".into()),
        target_name: Some("Workloads".into()),
        statement: Some("DenyOutsideRegions".into()),
        depends_on: Vec::new(),
        rule: None,
        page: None,
    };
    assert_eq!(
        b.describe(),
        "service control policy `RegionLock` attached to Workloads (ou-1) statement `DenyOutsideRegions` denies it"
    );
}

// ---- keys the check cannot know ----
//
// AWS's global condition keys page
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
// says `aws:SourceIp` "is included in the request context, except when the requester uses a VPC
// endpoint" and `aws:CurrentTime` "is always included in the request context": a real request
// carries them, so a pre-flight that leaves them out must not read a condition on them as false.
// The evaluation-logic page
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
// says an explicit deny in any policy overrides any allow: a Deny that may match can stop the
// request, so the decision is unknown, never allowed.

fn deny_all_ips() -> NamedPolicy {
    pol(
        "P",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllIPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#,
    )
}

fn with_unknown_source_ip(mut r: Request) -> Request {
    r.context.set_unknown("aws:SourceIp", true);
    r
}

#[test]
fn regression_deny_on_source_ip_absent_from_the_check_was_skipped_and_allowed() {
    let mut set = allow_all_identity();
    set.identity.push(deny_all_ips());
    let e = evaluate(&set, &with_unknown_source_ip(req("s3:GetObject", "*")));
    assert_eq!(e.decision, Decision::Unknown);
    assert!(!e.decision.is_allowed());
    assert_eq!(e.depends_on, vec!["aws:SourceIp".to_string()]);
    assert_eq!(e.decided_by.len(), 1);
    assert_eq!(e.decided_by[0].verdict, Verdict::MayDeny);
    assert_eq!(
        e.decided_by[0].describe(),
        "depends on `aws:SourceIp`: identity policy `P` statement `DenyAllIPs` denies it for some values"
    );
    assert!(
        e.missing_context.is_empty(),
        "an unknown key is not an absent one"
    );
}

#[test]
fn regression_scp_deny_on_source_ip_absent_from_the_check_was_skipped_and_allowed() {
    let mut set = allow_all_identity();
    set.scps = vec![level(
        "r-1",
        "Root",
        TargetType::Root,
        vec![full_access(), deny_all_ips()],
    )];
    let e = evaluate(
        &set,
        &with_unknown_source_ip(req("lambda:CreateFunction", "*")),
    );
    assert_eq!(e.decision, Decision::Unknown);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Scp);
    assert_eq!(e.decided_by[0].target.as_deref(), Some("r-1"));
    assert_eq!(e.depends_on, vec!["aws:SourceIp".to_string()]);
}

#[test]
fn a_supplied_value_decides_what_an_unknown_one_cannot() {
    let mut set = allow_all_identity();
    set.identity.push(deny_all_ips());
    let mut r = with_unknown_source_ip(req("s3:GetObject", "*"));
    r.context.set("aws:SourceIp", "203.0.113.9");
    assert_eq!(evaluate(&set, &r).decision, Decision::ExplicitDeny);
    r.context.set("aws:SourceIp", "2001:db8::1");
    assert_eq!(evaluate(&set, &r).decision, Decision::Allowed);
}

#[test]
fn a_certain_deny_or_missing_allow_decides_despite_unknown_keys() {
    // Certain explicit deny: the uncertain one is listed after it.
    let mut set = allow_all_identity();
    set.identity.push(deny_all_ips());
    set.identity.push(pol(
        "NoS3",
        r#"{"Statement":[{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
    ));
    let e = evaluate(&set, &with_unknown_source_ip(req("s3:GetObject", "*")));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    let verdicts: Vec<Verdict> = e.decided_by.iter().map(|b| b.verdict).collect();
    assert_eq!(verdicts, vec![Verdict::Denies, Verdict::MayDeny]);
    assert!(e.depends_on.is_empty());
    // Nothing allows: an implicit deny whatever the address.
    let set = PolicySet {
        identity: vec![deny_all_ips()],
        ..PolicySet::default()
    };
    let e = evaluate(&set, &with_unknown_source_ip(req("s3:GetObject", "*")));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].verdict, Verdict::FailsToAllow);
}

#[test]
fn an_allow_that_may_not_match_is_unknown_unless_another_allows() {
    let set = PolicySet {
        identity: vec![pol(
            "Window",
            r#"{"Statement":[{"Sid":"Until2030","Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
        )],
        ..PolicySet::default()
    };
    let mut r = req("s3:GetObject", "*");
    r.context.set_unknown("aws:CurrentTime", false);
    let e = evaluate(&set, &r);
    assert_eq!(e.decision, Decision::Unknown);
    assert_eq!(e.decided_by[0].verdict, Verdict::MayAllow);
    assert_eq!(e.depends_on, vec!["aws:CurrentTime".to_string()]);
    assert!(
        e.decided_by[0]
            .describe()
            .contains("allows it only for some values")
    );

    let mut set = set;
    set.identity.push(pol(
        "Admin",
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ));
    let e = evaluate(&set, &r);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.decided_by[0].policy.as_deref(), Some("Admin"));
}

#[test]
fn null_on_an_always_present_key_is_decided() {
    // `aws:CurrentTime` is always in the request: `Null: true` never holds for it.
    let mut set = allow_all_identity();
    set.identity.push(pol(
        "NoClock",
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:CurrentTime":"true"}}}]}"#,
    ));
    let mut r = req("s3:GetObject", "*");
    r.context.set_unknown("aws:CurrentTime", false);
    assert_eq!(evaluate(&set, &r).decision, Decision::Allowed);
    // `aws:SourceIp` may be absent (requests through a VPC endpoint): unknown.
    set.identity[1] = pol(
        "NoIp",
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:SourceIp":"true"}}}]}"#,
    );
    let e = evaluate(&set, &with_unknown_source_ip(req("s3:GetObject", "*")));
    assert_eq!(e.decision, Decision::Unknown);
}

#[test]
fn a_false_clause_decides_a_statement_with_an_unknown_one() {
    // Clauses are ANDed: a Deny limited to eu-west-1 does not apply to us-east-1 whatever the
    // address.
    let mut set = allow_all_identity();
    set.identity.push(pol(
        "EuIps",
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"},"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
    ));
    let e = evaluate(&set, &with_unknown_source_ip(req("s3:GetObject", "*")));
    assert_eq!(e.decision, Decision::Allowed);
}

#[test]
fn a_resource_variable_on_an_unknown_key_is_unknown() {
    let mut set = allow_all_identity();
    set.identity.push(pol(
        "Odd",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"ByAgent","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::logs/${aws:UserAgent}"}]}"#,
    ));
    let mut r = req("s3:GetObject", "arn:aws:s3:::logs/x");
    r.context.set_unknown("aws:UserAgent", false);
    let e = evaluate(&set, &r);
    assert_eq!(e.decision, Decision::Unknown);
    assert_eq!(e.depends_on, vec!["aws:UserAgent".to_string()]);
}

// --- Service rules, resource-based policies and session policies ------------------------------

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/deployer/build-1";
const BUCKET_OBJECT: &str = "arn:aws:s3:::deploy-bucket/app.zip";
const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn with_principal(mut r: Request, principal: &str) -> Request {
    r.principal = principal.to_string();
    r
}

fn resource_pol(principal_json: &str, effect: &str, action: &str) -> NamedPolicy {
    pol(
        "ResourcePolicy",
        &format!(
            r#"{{"Statement":[{{"Sid":"S","Effect":"{effect}","Principal":{principal_json},"Action":"{action}","Resource":"*"}}]}}"#
        ),
    )
}

fn lambda_only_boundary() -> NamedPolicy {
    pol(
        "LambdaOnly",
        r#"{"Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"}]}"#,
    )
}

/// reference_policies_evaluation-logic (policy-eval-denyallow) and access_policies_boundaries
/// ("Resource-based policies"): within one account an Allow in the resource policy grants on
/// its own, and how it names the caller decides whether the boundary still limits it.
#[test]
fn resource_policy_grants_by_how_it_names_the_caller() {
    let role_arn = r#"{"AWS":"arn:aws:iam::111122223333:role/deployer"}"#;
    let session_arn = format!(r#"{{"AWS":"{SESSION}"}}"#);
    let account = r#"{"AWS":"arn:aws:iam::111122223333:root"}"#;
    let no_boundary = PolicySet::default();
    let boundary = PolicySet {
        boundary: Some(lambda_only_boundary()),
        ..PolicySet::default()
    };
    // (principal element, caller, set, decision)
    let cases: Vec<(&str, &str, &PolicySet, Decision)> = vec![
        (role_arn, SESSION, &no_boundary, Decision::Allowed),
        (role_arn, SESSION, &boundary, Decision::ImplicitDeny),
        (&session_arn, SESSION, &boundary, Decision::Allowed),
        (r#""*""#, SESSION, &boundary, Decision::Allowed),
        (account, SESSION, &no_boundary, Decision::ImplicitDeny),
        (
            r#"{"Service":"s3.amazonaws.com"}"#,
            SESSION,
            &no_boundary,
            Decision::ImplicitDeny,
        ),
        // The check's caller: the role, whose session name is not known.
        (
            role_arn,
            "arn:aws:iam::111122223333:role/deployer",
            &no_boundary,
            Decision::Allowed,
        ),
        (
            &session_arn,
            "arn:aws:iam::111122223333:role/deployer",
            &no_boundary,
            Decision::ImplicitDeny,
        ),
    ];
    for (principal, caller, set, expected) in cases {
        let rp = resource_pol(principal, "Allow", "s3:GetObject");
        let r = with_principal(req("s3:GetObject", BUCKET_OBJECT), caller);
        let e = evaluate_with_resource_policy(set, &r, ResourcePolicy::Policy(&rp));
        assert_eq!(e.decision, expected, "{principal} for {caller}: {e:?}");
        if expected.is_allowed() {
            assert!(
                e.decided_by
                    .iter()
                    .any(|b| b.kind == PolicyKind::ResourcePolicy && b.verdict == Verdict::Allows),
                "{e:?}"
            );
        }
    }
}

/// reference_policies_evaluation-logic: an explicit deny in any policy wins, the resource
/// policy's included, and SCPs still apply to what a resource policy grants.
#[test]
fn resource_policy_deny_wins_and_scps_still_apply() {
    let deny = resource_pol(r#""*""#, "Deny", "s3:*");
    let e = evaluate_with_resource_policy(
        &allow_all_identity(),
        &req("s3:PutObject", BUCKET_OBJECT),
        ResourcePolicy::Policy(&deny),
    );
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::ResourcePolicy);
    assert_eq!(e.decided_by[0].target.as_deref(), Some(BUCKET_OBJECT));
    let grant = resource_pol(r#""*""#, "Allow", "s3:*");
    let set = PolicySet {
        scps: vec![level(
            "r-1",
            "Root",
            TargetType::Root,
            vec![lambda_only_boundary()],
        )],
        ..PolicySet::default()
    };
    let e = evaluate_with_resource_policy(
        &set,
        &req("s3:PutObject", BUCKET_OBJECT),
        ResourcePolicy::Policy(&grant),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Scp);
}

/// KMS key-policies page: unless the key policy allows it, IAM policies cannot; the
/// account-root statement enables IAM policies, which must then allow too. A key policy that
/// was not supplied or could not be read is never allowed.
#[test]
fn kms_key_policy_must_allow() {
    let r = req("kms:Decrypt", KEY);
    let other = resource_pol(
        r#"{"AWS":"arn:aws:iam::111122223333:role/admin"}"#,
        "Allow",
        "kms:*",
    );
    let root = resource_pol(r#"{"AWS":"111122223333"}"#, "Allow", "kms:*");
    let admin = allow_all_identity();
    let e = evaluate_with_resource_policy(&admin, &r, ResourcePolicy::Policy(&other));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    let b = &e.decided_by[0];
    assert_eq!(
        (b.kind, b.verdict),
        (PolicyKind::ResourcePolicy, Verdict::FailsToAllow)
    );
    assert_eq!(b.rule.as_deref(), Some("kms-key-policy-must-allow"));
    assert!(
        b.describe().contains("does not allow it, and it must"),
        "{}",
        b.describe()
    );
    assert!(
        evaluate_with_resource_policy(&admin, &r, ResourcePolicy::Policy(&root))
            .decision
            .is_allowed()
    );
    assert_eq!(
        evaluate_with_resource_policy(&PolicySet::default(), &r, ResourcePolicy::Policy(&root))
            .decision,
        Decision::ImplicitDeny
    );
    for unknown in [ResourcePolicy::NotSupplied, ResourcePolicy::Unreadable] {
        let e = evaluate_with_resource_policy(&admin, &r, unknown);
        assert_eq!(e.decision, Decision::ImplicitDeny, "{unknown:?}");
        assert!(
            e.decided_by
                .iter()
                .any(|b| b.verdict == Verdict::Unreadable)
        );
    }
    // A key policy that is not there cannot allow either.
    assert!(
        !evaluate_with_resource_policy(&admin, &r, ResourcePolicy::NoPolicy)
            .decision
            .is_allowed()
    );
    // Actions that name no key are decided by the identity policies alone.
    assert!(
        evaluate(&admin, &req("kms:CreateKey", "*"))
            .decision
            .is_allowed()
    );
}

/// An unreadable resource policy may deny: the request is never allowed.
#[test]
fn unreadable_resource_policy_is_never_allowed() {
    let e = evaluate_with_resource_policy(
        &allow_all_identity(),
        &req("s3:GetObject", BUCKET_OBJECT),
        ResourcePolicy::Unreadable,
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].verdict, Verdict::Unreadable);
    assert!(e.decided_by[0].describe().contains("could not be read"));
}

/// A role's resource policy is its trust policy: it must allow assuming the role
/// (reference_policies_evaluation-logic) and takes no part in other actions on the role.
#[test]
fn trust_policy_governs_assuming_the_role_only() {
    let role = "arn:aws:iam::111122223333:role/cfn-exec";
    let trust = resource_pol(
        r#"{"Service":"cloudformation.amazonaws.com"}"#,
        "Allow",
        "sts:AssumeRole",
    );
    let admin = allow_all_identity();
    let e = evaluate_with_resource_policy(
        &admin,
        &req("sts:AssumeRole", role),
        ResourcePolicy::Policy(&trust),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(
        e.decided_by[0].rule.as_deref(),
        Some("role-trust-policy-must-allow")
    );
    let e = evaluate_with_resource_policy(
        &admin,
        &req("iam:PassRole", role),
        ResourcePolicy::Unreadable,
    );
    assert!(e.decision.is_allowed(), "{e:?}");
}

/// reference_policies_evaluation-logic, session policies: when a session policy is present it
/// must allow; a resource policy grant to the session itself is not limited by it.
#[test]
fn session_policies_must_allow_unless_the_session_is_granted_directly() {
    let set = PolicySet {
        session: vec![lambda_only_boundary()],
        ..allow_all_identity()
    };
    let e = evaluate(&set, &req("s3:GetObject", BUCKET_OBJECT));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.decided_by[0].kind, PolicyKind::Session);
    assert!(
        evaluate(&set, &req("lambda:InvokeFunction", "*"))
            .decision
            .is_allowed()
    );
    let to_session = resource_pol(
        &format!(r#"{{"AWS":"{SESSION}"}}"#),
        "Allow",
        "s3:GetObject",
    );
    let r = with_principal(req("s3:GetObject", BUCKET_OBJECT), SESSION);
    assert!(
        evaluate_with_resource_policy(&set, &r, ResourcePolicy::Policy(&to_session))
            .decision
            .is_allowed()
    );
    let deny_session = pol(
        "NoS3",
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
    );
    let set = PolicySet {
        session: vec![deny_session],
        ..allow_all_identity()
    };
    assert_eq!(
        evaluate(&set, &req("s3:GetObject", BUCKET_OBJECT)).decision,
        Decision::ExplicitDeny
    );
}

/// Each service rule decides as its page says, and is reported as itself.
#[test]
fn service_rules_decide_and_are_their_own_cause() {
    let deny_all = PolicySet {
        identity: vec![pol(
            "DenyAll",
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
        )],
        ..PolicySet::default()
    };
    // STS API reference, GetCallerIdentity.
    let e = evaluate(&deny_all, &req("sts:GetCallerIdentity", "*"));
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.decided_by[0].kind, PolicyKind::ServiceRule);
    assert!(
        e.decided_by[0]
            .page
            .as_deref()
            .is_some_and(|p| p.contains("API_GetCallerIdentity"))
    );
    assert!(
        e.decided_by[0]
            .describe()
            .starts_with("it needs no permission")
    );
    // IAM user guide (AWS managed policies), IAM Identity Center, KMS aliases.
    for (action, resource) in [
        (
            "iam:SetDefaultPolicyVersion",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        (
            "iam:DeleteRole",
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_1",
        ),
        (
            "kms:DeleteAlias",
            "arn:aws:kms:eu-west-1:111122223333:alias/aws/lambda",
        ),
    ] {
        let e = evaluate(&allow_all_identity(), &req(action, resource));
        assert_eq!(e.decision, Decision::ExplicitDeny, "{action}");
        assert_eq!(e.decided_by[0].kind, PolicyKind::ServiceRule, "{action}");
        assert!(
            e.decided_by[0]
                .describe()
                .starts_with("AWS denies it whatever")
        );
    }
}
