//! Profile tests: defaults, every Jets override form, the VPC condition, catalog validation.

use super::*;
use crate::core::catalog::catalog;

fn s(x: &str) -> Literal {
    Literal::Str(x.to_string())
}

fn build(name: &str, inputs: ProfileInputs) -> RequiredPermissions {
    profile(name)
        .expect("bundled")
        .build(&inputs)
        .expect("builds")
}

fn has(req: &RequiredPermissions, action: &str) -> bool {
    req.actions.iter().any(|a| a.action == action)
}

#[test]
fn bundled_profiles_parse_and_every_call_is_a_real_action() {
    for name in profile_names() {
        let p = profile(name).expect("parses");
        for (service, calls) in &p.calls {
            for action in calls.keys() {
                let full = format!("{service}:{action}");
                assert!(
                    catalog().canonical(&full).is_some(),
                    "{name}: `{full}` is not in the catalog"
                );
            }
        }
        for calls in p.managed_calls.values() {
            for action in calls.keys() {
                assert!(
                    catalog().canonical(action).is_some(),
                    "{name}: `{action}` is not in the catalog"
                );
            }
        }
    }
}

#[test]
fn unknown_profile_suggests() {
    let e = profile("jets-remot").expect_err("unknown");
    assert_eq!(
        e.to_string(),
        "unknown profile `jets-remot` (did you mean `jets-remote`?)"
    );
}

#[test]
fn remote_defaults_without_vpc() {
    let r = build("jets-remote", ProfileInputs::default());
    // Jets 6 generates VpcPolicy whatever the VPC config; its grants are not required.
    assert_eq!(
        r.policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["DefaultPolicy", "VpcPolicy"]
    );
    assert_eq!(r.policies[0].name, "DefaultPolicy");
    let actions = r.policies[0].document["Statement"][0]["Action"].clone();
    assert_eq!(actions.as_array().map(Vec::len), Some(18));
    assert_eq!(actions[17], "wafv2:*");
    assert!(
        actions
            .as_array()
            .expect("array")
            .iter()
            .any(|a| a == "sts:GetServiceBearerToken")
    );
    assert_eq!(
        r.managed_policy_arns,
        vec![
            "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
            "arn:aws:iam::aws:policy/AWSCertificateManagerReadOnly"
        ]
    );
    assert!(has(&r, "lambda:CreateFunction"));
    assert!(has(&r, "ssm:GetParameters"));
    assert!(!has(&r, "ec2:CreateNetworkInterface"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("VpcPolicy") && w.contains("default_vpc_policy = []"))
    );
    let a = r
        .actions
        .iter()
        .find(|a| a.action == "sts:GetServiceBearerToken")
        .expect("sts");
    assert_eq!(
        (a.grant.as_str(), a.policy.as_str()),
        ("sts:GetServiceBearerToken", "DefaultPolicy")
    );
}

#[test]
fn vpc_adds_ec2_policy() {
    let r = build(
        "jets-remote",
        ProfileInputs {
            vpc: true,
            ..ProfileInputs::default()
        },
    );
    assert_eq!(
        r.policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["DefaultPolicy", "VpcPolicy"]
    );
    let eni = r
        .actions
        .iter()
        .find(|a| a.action == "ec2:CreateNetworkInterface")
        .expect("ec2");
    assert_eq!(
        (eni.grant.as_str(), eni.policy.as_str()),
        ("ec2:*", "VpcPolicy")
    );
    assert!(!r.warnings.iter().any(|w| w.contains("VpcPolicy")));
}

#[test]
fn empty_default_vpc_policy_silences_the_warning() {
    let mut overrides = BTreeMap::new();
    overrides.insert("default_vpc_policy".to_string(), Literal::Array(vec![]));
    let r = build(
        "jets-remote",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(!r.warnings.iter().any(|w| w.contains("VpcPolicy")));
}

#[test]
fn custom_policy_and_managed_additions() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "policy".to_string(),
        Literal::Array(vec![s("kinesis:PutRecord"), s("s3:GetObject")]),
    );
    overrides.insert(
        "managed_policy".to_string(),
        Literal::Array(vec![s("AmazonS3FullAccess")]),
    );
    let r = build(
        "jets-ci",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert_eq!(r.policies[1].name, "CustomPolicy");
    let k = r
        .actions
        .iter()
        .find(|a| a.action == "kinesis:PutRecord")
        .expect("custom");
    assert_eq!(k.policy, "CustomPolicy");
    assert!(k.reason.contains("explicitly"));
    assert_eq!(
        r.managed_policy_arns.last().map(String::as_str),
        Some("arn:aws:iam::aws:policy/AmazonS3FullAccess")
    );
    // s3:GetObject is also a known call of DefaultPolicy's s3:*; listed once.
    assert_eq!(
        r.actions
            .iter()
            .filter(|a| a.action == "s3:GetObject")
            .count(),
        1
    );
}

#[test]
fn default_policy_override_replaces_and_warns_about_dropped_services() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "default_policy".to_string(),
        Literal::Array(vec![s("cloudformation"), s("s3"), s("iam")]),
    );
    let r = build(
        "jets-ci",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(!has(&r, "codebuild:StartBuild"));
    assert!(has(&r, "cloudformation:CreateStack"));
    let w = r
        .warnings
        .iter()
        .find(|w| w.contains("drops"))
        .expect("warning");
    assert!(w.contains("`codebuild`") && w.contains("`logs`"), "{w}");
}

#[test]
fn unknown_services_and_actions_are_reported_with_suggestions() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "policy".to_string(),
        Literal::Array(vec![s("ec3"), s("s3:GetObjekt")]),
    );
    let r = build(
        "jets-remote",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("`ec3`") && w.contains("`ec2`")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("`s3:GetObjekt`") && w.contains("`s3:GetObject`")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn service_without_known_calls_is_expanded_from_the_catalog() {
    let mut overrides = BTreeMap::new();
    overrides.insert("policy".to_string(), Literal::Array(vec![s("kinesis")]));
    let r = build(
        "jets-remote",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(has(&r, "kinesis:PutRecord"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("no known deploy calls for `kinesis`"))
    );
}

#[test]
fn exhaustive_expands_every_service() {
    let known = build("jets-remote", ProfileInputs::default());
    let all = build(
        "jets-remote",
        ProfileInputs {
            expansion: Expansion::Exhaustive,
            ..ProfileInputs::default()
        },
    );
    assert!(
        all.actions.len() > 1000 && all.actions.len() > 5 * known.actions.len(),
        "{} vs {}",
        all.actions.len(),
        known.actions.len()
    );
    assert!(has(&all, "s3:GetObjectVersion"));
    // Known reasons are kept where there is one.
    let put = all
        .actions
        .iter()
        .find(|a| a.action == "s3:PutObject")
        .expect("s3");
    assert!(put.reason.contains("upload"));
}

#[test]
fn hash_forms_flow_through() {
    let stmt = Literal::Hash(vec![
        (
            Literal::Sym("Action".into()),
            Literal::Array(vec![s("sqs:SendMessage")]),
        ),
        (Literal::Sym("Effect".into()), s("Allow")),
        (
            Literal::Sym("Resource".into()),
            s("arn:aws:sqs:us-east-1:111122223333:jobs"),
        ),
    ]);
    let mut overrides = BTreeMap::new();
    overrides.insert("policy".to_string(), Literal::Array(vec![s("sns"), stmt]));
    let r = build(
        "jets-remote",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    let q = r
        .actions
        .iter()
        .find(|a| a.action == "sqs:SendMessage")
        .expect("sqs");
    assert_eq!(q.resource, "arn:aws:sqs:us-east-1:111122223333:jobs");
}

#[test]
fn invalid_hash_is_an_error_naming_the_key() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "policy".to_string(),
        Literal::Hash(vec![(Literal::Sym("Effect".into()), s("Allow"))]),
    );
    let e = profile("jets-remote")
        .expect("bundled")
        .build(&ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        });
    let msg = e.expect_err("invalid").to_string();
    assert_eq!(
        msg,
        "`config.codebuild.iam.policy` is a hash not wrapped in an array: Jets flattens it into its keys and values (`[:Effect, \"Allow\"]`) before reading it and raises NoMethodError on them, so `jets bootstrap` will fail on it"
    );
}

/// The CI role's code is not public: the documented forms are followed there, a policy hash
/// inside the array merged with a warning.
#[test]
fn ci_profile_follows_the_documented_forms() {
    let doc = Literal::Hash(vec![
        (Literal::Sym("Version".into()), s("2012-10-17")),
        (
            Literal::Sym("Statement".into()),
            Literal::Array(vec![Literal::Hash(vec![
                (Literal::Sym("Action".into()), s("s3:GetObject")),
                (Literal::Sym("Effect".into()), s("Allow")),
                (Literal::Sym("Resource".into()), s("*")),
            ])]),
        ),
    ]);
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "policy".to_string(),
        Literal::Array(vec![Literal::Hash(vec![
            (Literal::Sym("PolicyName".into()), s("MyPolicy")),
            (Literal::Sym("PolicyDocument".into()), doc),
        ])]),
    );
    let r = build(
        "jets-ci",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("MyPolicy")),
        "{:?}",
        r.warnings
    );
    assert!(has(&r, "s3:GetObject"));
}

#[test]
fn unknown_config_key_is_reported() {
    let mut overrides = BTreeMap::new();
    overrides.insert("polcy".to_string(), Literal::Array(vec![s("s3")]));
    let r = build(
        "jets-remote",
        ProfileInputs {
            overrides,
            ..ProfileInputs::default()
        },
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("did you mean `config.codebuild.iam.policy`")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn global_services_request_us_east_1() {
    assert_eq!(requested_region("iam:CreateRole", "eu-west-1"), "us-east-1");
    assert_eq!(
        requested_region("lambda:CreateFunction", "eu-west-1"),
        "eu-west-1"
    );
}

/// Of the actions pushed, each action (compared ignoring case) on each resource stays once, as
/// first pushed, and the order of first pushes is kept.
#[test]
fn unique_actions_keep_the_first_of_each_action_on_each_resource() {
    let action = |action: &str, resource: &str, policy: &str| RequiredAction {
        action: action.to_string(),
        resource: resource.to_string(),
        grant: format!("{action}*"),
        policy: policy.to_string(),
        reason: String::new(),
    };
    let mut unique = UniqueActions::default();
    for a in [
        action("s3:PutObject", "*", "First"),
        action("s3:GetObject", "*", "First"),
        action("S3:getobject", "*", "Second"),
        action("s3:GetObject", "arn:aws:s3:::b/*", "Second"),
        action("ec2:CreateTags", "*", "Second"),
        action("s3:PutObject", "*", "Third"),
        action("s3:GETOBJECT", "*", "Third"),
    ] {
        unique.push(a);
    }
    let kept: Vec<(String, String, String)> = unique
        .into_unique()
        .into_iter()
        .map(|a| (a.action, a.resource, a.policy))
        .collect();
    let expected = [
        ("s3:PutObject", "*", "First"),
        ("s3:GetObject", "*", "First"),
        ("s3:GetObject", "arn:aws:s3:::b/*", "Second"),
        ("ec2:CreateTags", "*", "Second"),
    ]
    .map(|(a, r, p)| (a.to_string(), r.to_string(), p.to_string()));
    assert_eq!(kept, expected);
}
