//! How fast the local evaluator decides, on a policy set shaped like a real organization's.
//!
//! `check --exhaustive` and `explain` decide thousands of actions per run against every policy
//! that applies to a principal, so the figure that matters is decisions per second over many
//! distinct actions and a realistic mix of policies, not one request against one statement. The
//! set here has 40 identity policies (Allow and Deny, wildcards, `NotAction`, string, IP and
//! numeric conditions, policy variables), a permissions boundary, three SCP levels with seven
//! policies (among them a `NotAction` region lock and a service allow-list) and two RCP levels;
//! the actions are an even sample of the embedded catalog, so every service is represented.
//!
//! `cargo bench --bench engine` prints criterion's throughput and, at the end, one line with
//! decisions per second measured the same way outside criterion, for quoting. `scripts/bench-engine`
//! wraps the usual invocation.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use serde_json::{Value, json};

use iam_engine::catalog::catalog;
use iam_engine::context::Context;
use iam_engine::eval::{
    Decision, NamedPolicy, OrgLevelPolicies, PolicySet, Request, TargetType, evaluate,
};
use iam_engine::policy::Policy;

const ACCOUNT: &str = "111122223333";
const IDENTITY_POLICIES: usize = 40;
const MIN_ACTIONS: usize = 10_000;
const MIN_POLICIES: usize = 50;

fn named(name: &str, document: &Value) -> NamedPolicy {
    NamedPolicy {
        name: name.to_string(),
        id: Some(format!("arn:aws:iam::{ACCOUNT}:policy/{name}")),
        policy: Policy::from_value(name, document)
            .unwrap_or_else(|e| panic!("bench policy `{name}` must parse: {e}")),
    }
}

fn level(id: &str, name: &str, kind: TargetType, policies: Vec<NamedPolicy>) -> OrgLevelPolicies {
    OrgLevelPolicies {
        target_id: id.to_string(),
        target_name: name.to_string(),
        target_type: kind,
        policies,
    }
}

/// The service prefixes of the catalog, in catalog order.
fn services(actions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in actions {
        let prefix = a.split(':').next().unwrap_or_default();
        if out.last().is_none_or(|p| p != prefix) {
            out.push(prefix.to_string());
        }
    }
    out.dedup();
    out
}

/// One identity policy over a handful of services; `i` varies the shape.
fn identity_policy(i: usize, svc: &[String]) -> Value {
    let s = |k: usize| svc[(i * 7 + k * 13) % svc.len()].as_str();
    let mut statements = vec![
        json!({
            "Sid": "ReadMostThings",
            "Effect": "Allow",
            "Action": [format!("{}:*", s(0)), format!("{}:Get*", s(1)), format!("{}:List*", s(2)), format!("{}:Describe*", s(3))],
            "Resource": "*"
        }),
        json!({
            "Sid": "WriteInEurope",
            "Effect": "Allow",
            "Action": [format!("{}:Create*", s(4)), format!("{}:Update*", s(4)), format!("{}:Put*", s(5))],
            "Resource": [format!("arn:aws:{}:*:{ACCOUNT}:*", s(4)), format!("arn:aws:{}:eu-*:{ACCOUNT}:*", s(5))],
            "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}
        }),
        json!({
            "Sid": "OpsOnlyOutsideTheseServices",
            "Effect": "Deny",
            "NotAction": [format!("{}:*", s(0)), format!("{}:*", s(6)), "iam:Get*", "sts:*"],
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalTag/team": ["ops-*", "sec-??"]}}
        }),
    ];
    if i.is_multiple_of(3) {
        statements.push(json!({
            "Sid": "SmallPagesOnly",
            "Effect": "Allow",
            "Action": format!("{}:List*", s(7)),
            "Resource": "*",
            "Condition": {"NumericLessThan": {"s3:max-keys": "100"}}
        }));
    }
    if i.is_multiple_of(4) {
        statements.push(json!({
            "Sid": "DeleteFromOfficeOnly",
            "Effect": "Deny",
            "Action": [format!("{}:Delete*", s(8)), format!("{}:Terminate*", s(8))],
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}
        }));
    }
    if i.is_multiple_of(5) {
        statements.push(json!({
            "Sid": "OwnPrefix",
            "Effect": "Allow",
            "Action": [format!("{}:*Object*", s(9))],
            "Resource": [format!("arn:aws:{}:::home-bucket/${{aws:username}}/*", s(9))]
        }));
    }
    if i.is_multiple_of(6) {
        statements.push(json!({
            "Effect": "Allow",
            "Action": format!("{}:Tag*", s(10)),
            "Resource": "*",
            "Condition": {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "cost-center"]},
                "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}
            }
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The policy set: 40 identity policies, a boundary, 7 SCPs on 3 levels and 3 RCPs on 2.
fn policy_set(actions: &[String]) -> PolicySet {
    let svc = services(actions);
    let identity = (0..IDENTITY_POLICIES)
        .map(|i| named(&format!("Team{i:02}Policy"), &identity_policy(i, &svc)))
        .collect();
    let boundary = named(
        "DeveloperBoundary",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EverythingButTheOrg", "Effect": "Allow", "NotAction": ["organizations:*", "account:*", "aws-portal:*"], "Resource": "*"},
            {"Sid": "NoNewUsers", "Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"}
        ]}),
    );
    let full_access = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let allow_list: Vec<String> = svc.iter().step_by(2).map(|s| format!("{s}:*")).collect();
    let scps = vec![
        level(
            "r-ab12",
            "Root",
            TargetType::Root,
            vec![
                named("FullAWSAccess", &full_access),
                named(
                    "DenyLeaveOrganization",
                    &json!({"Statement": [{"Sid": "NoLeaving", "Effect": "Deny", "Action": ["organizations:LeaveOrganization", "account:CloseAccount"], "Resource": "*"}]}),
                ),
                named(
                    "DenyRootUser",
                    &json!({"Statement": [{"Sid": "NoRoot", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}]}),
                ),
            ],
        ),
        level(
            "ou-ab12-wrkld001",
            "Workloads",
            TargetType::OrganizationalUnit,
            vec![
                named("FullAWSAccess", &full_access),
                named(
                    "RegionLock",
                    &json!({"Statement": [{"Sid": "DenyOutsideEurope", "Effect": "Deny",
                        "NotAction": ["a4b:*", "acm:*", "aws-marketplace:*", "budgets:*", "ce:*", "cloudfront:*", "config:*", "globalaccelerator:*", "health:*", "iam:*", "kms:*", "organizations:*", "route53:*", "route53domains:*", "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "shield:*", "sts:*", "support:*", "trustedadvisor:*", "waf:*", "wafv2:*"],
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]}),
                ),
            ],
        ),
        level(
            ACCOUNT,
            "team-dev",
            TargetType::Account,
            vec![
                named(
                    "AllowedServices",
                    &json!({"Statement": [{"Sid": "AllowApproved", "Effect": "Allow", "Action": allow_list, "Resource": "*"}]}),
                ),
                named(
                    "ProtectAuditTrail",
                    &json!({"Statement": [{"Sid": "KeepCloudTrail", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "config:DeleteConfigurationRecorder"], "Resource": "*",
                        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/SecurityAudit*"}}}]}),
                ),
            ],
        ),
    ];
    let rcp_full = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    let rcps = vec![
        level(
            "r-ab12",
            "Root",
            TargetType::Root,
            vec![named("RCPFullAWSAccess", &rcp_full)],
        ),
        level(
            ACCOUNT,
            "team-dev",
            TargetType::Account,
            vec![
                named("RCPFullAWSAccess", &rcp_full),
                named(
                    "EnforceTls",
                    &json!({"Statement": [{"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": ["s3:*", "sqs:*", "kms:*"], "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}]}),
                ),
            ],
        ),
    ];
    PolicySet {
        identity,
        boundary: Some(boundary),
        scps,
        rcps,
        session: Vec::new(),
    }
}

fn policy_count(set: &PolicySet) -> usize {
    set.identity.len()
        + usize::from(set.boundary.is_some())
        + set.scps.iter().map(|l| l.policies.len()).sum::<usize>()
        + set.rcps.iter().map(|l| l.policies.len()).sum::<usize>()
}

/// An even sample of at least [`MIN_ACTIONS`] distinct catalog actions, so every service
/// appears, not just the alphabetically first ones.
fn sample_actions() -> Vec<String> {
    let all = catalog().expand("*");
    assert!(
        all.len() >= MIN_ACTIONS,
        "the catalog has only {} actions",
        all.len()
    );
    let step = (all.len() / MIN_ACTIONS).max(1);
    all.into_iter().step_by(step).collect()
}

fn requests(actions: &[String]) -> Vec<Request> {
    let mut ctx = Context::new();
    ctx.set("aws:RequestedRegion", "eu-west-1")
        .set("aws:SourceIp", "10.20.30.40")
        .set("aws:username", "alice")
        .set("aws:PrincipalTag/team", "payments")
        .set(
            "aws:PrincipalArn",
            format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        )
        .set("aws:SecureTransport", "true")
        .set("s3:max-keys", "50")
        .set_multi("aws:TagKeys", vec!["team".into(), "env".into()]);
    actions
        .iter()
        .enumerate()
        .map(|(i, action)| {
            let service = action.split(':').next().unwrap_or_default();
            let mut context = ctx.clone();
            // A quarter of the requests come from outside Europe, so the region lock and the
            // regional conditions both decide some of them.
            if i % 4 == 3 {
                context.set("aws:RequestedRegion", "us-east-1");
            }
            Request {
                principal: format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
                action: action.clone(),
                resource: if i.is_multiple_of(2) {
                    "*".to_string()
                } else {
                    format!("arn:aws:{service}:eu-west-1:{ACCOUNT}:thing/app-{i}")
                },
                context,
            }
        })
        .collect()
}

/// A large policy document: every statement shape the parser knows, repeated.
fn large_policy_text(statements: usize) -> String {
    let items: Vec<Value> = (0..statements)
        .map(|i| match i % 4 {
            0 => json!({"Sid": format!("S{i}"), "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", format!("ec2:Describe{i}*"), "lambda:*"],
                "Resource": [format!("arn:aws:s3:::bucket-{i}/*"), "arn:aws:lambda:*:111122223333:function:app-*"]}),
            1 => json!({"Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:Describe*"], "NotResource": "arn:aws:iam::*:role/admin-*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}, "Bool": {"aws:MultiFactorAuthPresent": false}}}),
            2 => json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["app-*", "team"]}, "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}, "NumericLessThanEquals": {"s3:max-keys": [10, "100"]}}}),
            _ => json!({"Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]}, "Action": "sqs:*", "Resource": "*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}, "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic-*"}}}),
        })
        .collect();
    json!({"Version": "2012-10-17", "Id": "large", "Statement": items}).to_string()
}

fn bench_evaluate(c: &mut Criterion, set: &PolicySet, reqs: &[Request]) {
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(reqs.len() as u64));
    group.bench_function(
        BenchmarkId::new(
            "decisions",
            format!("{}actions_x_{}policies", reqs.len(), policy_count(set)),
        ),
        |b| {
            b.iter(|| {
                for r in reqs {
                    black_box(evaluate(black_box(set), black_box(r)));
                }
            })
        },
    );
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let text = large_policy_text(400);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(
        BenchmarkId::new("policy", format!("{}KiB_400statements", text.len() / 1024)),
        |b| {
            b.iter(|| {
                black_box(
                    Policy::parse("large", black_box(&text)).expect("the large policy parses"),
                )
            })
        },
    );
    group.finish();
}

/// Decisions per second over the whole request list, timed for about two seconds.
fn decisions_per_second(set: &PolicySet, reqs: &[Request]) -> f64 {
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut decided = 0usize;
    while decided == 0 || start.elapsed() < budget {
        for r in reqs {
            black_box(evaluate(set, r));
        }
        decided += reqs.len();
    }
    decided as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let actions = sample_actions();
    let set = policy_set(&actions);
    let reqs = requests(&actions);
    assert!(policy_count(&set) >= MIN_POLICIES, "too few policies");
    assert!(reqs.len() >= MIN_ACTIONS, "too few actions");
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each bench once, needs no
    // figure, and checks the set on a sample to stay quick in a debug build.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    // The set must decide every way, or the bench measures a shortcut.
    let (mut allowed, mut explicit, mut implicit) = (0usize, 0usize, 0usize);
    for r in reqs.iter().step_by(if bench_mode { 1 } else { 7 }) {
        match evaluate(&set, r).decision {
            Decision::Allowed => allowed += 1,
            Decision::ExplicitDeny => explicit += 1,
            Decision::ImplicitDeny => implicit += 1,
            // The bench's requests carry no key of unknown value.
            Decision::Unknown => {}
        }
    }
    assert!(
        allowed > 0 && explicit > 0 && implicit > 0,
        "the bench set must allow, deny and implicitly deny: {allowed} allowed, {explicit} explicitly denied, {implicit} implicitly denied"
    );

    let mut c = Criterion::default().configure_from_args();
    bench_evaluate(&mut c, &set, &reqs);
    bench_parse(&mut c);
    c.final_summary();

    if bench_mode {
        let rate = decisions_per_second(&set, &reqs);
        println!(
            "engine: {rate:.0} decisions/s ({} distinct actions x {} policies; {allowed} allowed, {explicit} explicitly denied, {implicit} implicitly denied)",
            reqs.len(),
            policy_count(&set),
        );
    }
}
