//! Requirements derived from whole templates, intrinsics resolved.

use super::*;
use std::collections::HashSet;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates")
}

fn fixture(name: &str) -> Template {
    load(&fixtures().join(name)).expect("fixture parses")
}

fn ctx() -> TemplateContext {
    TemplateContext {
        region: Some("us-east-1".into()),
        account: Some("111122223333".into()),
        stack_name: Some("demo-dev".into()),
        ..TemplateContext::default()
    }
}

fn has(req: &TemplateRequirements, action: &str, resource: &str) -> bool {
    req.permissions
        .iter()
        .any(|p| p.action == action && p.resource == resource)
}

#[test]
fn jets_app_requires_lambda_and_pass_role_scoped_to_the_stack_role() {
    let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
    let req = requirements(&templates, &ctx());
    assert!(has(&req, "lambda:CreateFunction", "*"));
    assert!(has(&req, "iam:CreateRole", "*"));
    assert!(has(&req, "apigateway:POST", "*"));
    assert!(has(&req, "events:PutRule", "*"));
    assert!(has(&req, "logs:CreateLogGroup", "*"));
    assert!(has(&req, "s3:CreateBucket", "*"));
    let role = "arn:aws:iam::111122223333:role/demo-dev-IamRole-*";
    assert!(has(&req, "iam:PassRole", role), "{:#?}", req.permissions);
    assert!(
        !has(&req, "iam:PassRole", "*"),
        "handler PassRole on * replaced by the known role"
    );
    assert_eq!(req.passed_roles, vec![role.to_string()]);
    let create = req
        .permissions
        .iter()
        .find(|p| p.action == "lambda:CreateFunction")
        .expect("create function");
    assert_eq!(
        create.reason,
        "create AWS::Lambda::Function `JetsPreheatJob`"
    );
    assert_eq!(create.logical_id, "JetsPreheatJob");
    let pass = req
        .permissions
        .iter()
        .find(|p| p.action == "iam:PassRole")
        .expect("pass role");
    assert_eq!(
        pass.reason,
        "pass role to AWS::Lambda::Function `JetsPreheatJob` (`Role`)"
    );
    assert!(req.vpc);
    assert!(req.unknown_types.is_empty(), "{:?}", req.unknown_types);
    assert!(
        !req.warnings
            .iter()
            .any(|w| w.contains("`ControllersStack`")),
        "nested stack given as a file is followed: {:?}",
        req.warnings
    );
    assert!(
        req.warnings
            .iter()
            .any(|w| w.contains("nested stack `JetsPreheatStack`")),
        "{:?}",
        req.warnings
    );
}

#[test]
fn permissions_are_deduplicated_keeping_the_first_reason() {
    let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
    let req = requirements(&templates, &ctx());
    let mut seen = HashSet::new();
    for p in &req.permissions {
        assert!(
            seen.insert((&p.action, &p.resource)),
            "duplicate {} {}",
            p.action,
            p.resource
        );
    }
    let get_function = req
        .permissions
        .iter()
        .find(|p| p.action == "lambda:GetFunction")
        .expect("get");
    assert_eq!(
        get_function.reason,
        "create AWS::Lambda::Function `JetsPreheatJob`"
    );
}

#[test]
fn stack_operations_use_the_stack_arn_when_known() {
    let t = [fixture("jets-controllers.json")];
    let req = requirements(&t, &ctx());
    let arn = "arn:aws:cloudformation:us-east-1:111122223333:stack/demo-dev/*";
    for action in [
        "cloudformation:CreateStack",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:DescribeStackEvents",
    ] {
        assert!(has(&req, action, arn), "{action}");
    }
    assert!(has(&req, "cloudformation:ValidateTemplate", "*"));
    let req = requirements(&t, &TemplateContext::default());
    assert!(has(&req, "cloudformation:CreateStack", "*"));
    let partial = TemplateContext {
        stack_name: Some("s".into()),
        partition: "aws-cn".into(),
        ..TemplateContext::default()
    };
    let req = requirements(&t, &partial);
    assert!(has(
        &req,
        "cloudformation:UpdateStack",
        "arn:aws-cn:cloudformation:*:*:stack/s/*"
    ));
}

#[test]
fn vpc_detection_on_and_off() {
    let req = requirements(&[fixture("jets-controllers.json")], &ctx());
    assert!(!req.vpc);
    let req = requirements(&[fixture("jets-app.yml")], &ctx());
    assert!(req.vpc);
    let no_value = parse(
        "t.yml",
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      VpcConfig: !Ref AWS::NoValue\n",
    )
    .expect("parses");
    assert!(!requirements(&[no_value], &ctx()).vpc);
    let sam = parse(
        "t.yml",
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    VpcConfig:\n      SubnetIds: [subnet-1]\nResources:\n  F:\n    Type: AWS::Serverless::Function\n",
    )
    .expect("parses");
    let req = requirements(&[sam], &ctx());
    assert!(req.vpc);
    assert!(has(
        &req,
        "cloudformation:CreateChangeSet",
        "arn:aws:cloudformation:us-east-1:aws:transform/Serverless-2016-10-31"
    ));
    assert!(has(&req, "lambda:CreateFunction", "*"));
}

#[test]
fn pass_role_resources_follow_how_the_role_is_named() {
    let req = requirements(&[fixture("misc.yml")], &ctx());
    assert!(
        has(
            &req,
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/ci/demo-dev-codebuild"
        ),
        "{:#?}",
        req.passed_roles
    );
    assert!(has(
        &req,
        "iam:PassRole",
        "arn:aws:iam::111122223333:role/external-scheduler"
    ));
    assert!(has(
        &req,
        "iam:PassRole",
        "arn:aws:iam::111122223333:role/demo-dev-states"
    ));
    assert!(
        has(&req, "iam:PassRole", "*"),
        "imported role is unknowable"
    );
    assert!(
        req.warnings.iter().any(|w| w.contains("`Imported`")),
        "{:?}",
        req.warnings
    );

    let no_stack = TemplateContext {
        account: Some("111122223333".into()),
        ..TemplateContext::default()
    };
    let req = requirements(&[fixture("jets-app.yml")], &no_stack);
    assert!(
        has(&req, "iam:PassRole", "*"),
        "CloudFormation-named role without a stack name"
    );
    assert!(req.passed_roles.is_empty());

    let long = TemplateContext {
        stack_name: Some("x".repeat(50)),
        ..ctx()
    };
    let req = requirements(&[fixture("jets-app.yml")], &long);
    assert!(
        has(&req, "iam:PassRole", "*"),
        "generated name may be truncated"
    );
}

#[test]
fn nested_template_parameters_resolve_through_the_parent() {
    let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
    let req = requirements(&templates, &ctx());
    let pass = req
        .permissions
        .iter()
        .filter(|p| p.action == "iam:PassRole" && p.logical_id == "PostsControllerIndex")
        .count();
    assert_eq!(pass, 0, "same role as the parent's, deduplicated");
    let alone = requirements(&[fixture("jets-controllers.json")], &ctx());
    assert!(
        has(&alone, "iam:PassRole", "*"),
        "parameter without parent or default"
    );
}

#[test]
fn unknown_and_custom_types() {
    let req = requirements(&[fixture("misc.yml")], &ctx());
    assert_eq!(req.unknown_types, vec!["AWS::Lamda::Function".to_string()]);
    assert_eq!(req.unchecked.len(), 1);
    assert!(
        req.unchecked[0].starts_with("1 resource type(s) of 1 resource(s) are not CloudFormation types this tool knows, so what deploying them needs is not checked: `AWS::Lamda::Function` (`Typo` in `")
            && req.unchecked[0].ends_with("misc.yml`; did you mean `AWS::Lambda::Function`?)"),
        "{:?}",
        req.unchecked
    );
    assert!(has(
        &req,
        "lambda:InvokeFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:demo-dev-seed"
    ));
    assert!(has(
        &req,
        "sns:Publish",
        "arn:aws:sns:us-east-1:111122223333:provisioner"
    ));
    assert!(
        req.warnings
            .iter()
            .any(|w| w.contains("AWS::CodeBuild::Project")),
        "{:?}",
        req.warnings
    );
    assert!(!req.vpc);
}

/// One damage to a fixture's bytes: overwrite a byte with YAML/JSON punctuation, remove a byte,
/// or cut the rest.
#[derive(Debug, Clone)]
enum Damage {
    Punctuation(proptest::sample::Index),
    Remove(proptest::sample::Index),
    Truncate(proptest::sample::Index),
}

fn damage() -> impl proptest::strategy::Strategy<Value = Damage> {
    use proptest::prelude::*;
    prop_oneof![
        any::<proptest::sample::Index>().prop_map(Damage::Punctuation),
        any::<proptest::sample::Index>().prop_map(Damage::Remove),
        any::<proptest::sample::Index>().prop_map(Damage::Truncate),
    ]
}

/// A damaged copy of the YAML or the JSON fixture (1 to 8 damages), or up to 200 random bytes.
fn damaged_template() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let base = std::fs::read(fixtures().join("jets-app.yml")).expect("fixture");
    let json = std::fs::read(fixtures().join("jets-controllers.json")).expect("fixture");
    let damaged = (
        proptest::sample::select(vec![base, json]),
        proptest::collection::vec(damage(), 1..=8),
    )
        .prop_map(|(mut bytes, damages)| {
            for d in damages {
                if bytes.is_empty() {
                    break;
                }
                match d {
                    Damage::Punctuation(i) => {
                        let i = i.index(bytes.len());
                        bytes[i] = b"{}[]:!-,'\"\n #&*|>"[i % 17];
                    }
                    Damage::Remove(i) => {
                        bytes.remove(i.index(bytes.len()));
                    }
                    Damage::Truncate(i) => bytes.truncate(i.index(bytes.len())),
                }
            }
            bytes
        });
    prop_oneof![
        4 => damaged,
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest::proptest! {
    #![proptest_config(crate::inputs::test_support::proptest_config(400))]

    /// Whatever the bytes, reading them is a template or an error, and the permissions derived
    /// from a template (given twice, as a parent and a child) are well formed.
    #[test]
    fn damaged_templates_give_an_error_or_well_formed_permissions(bytes in damaged_template()) {
        if let Ok(t) = parse_bytes("fuzz.yml", &bytes) {
            let req = requirements(&[t.clone(), t], &ctx());
            for p in &req.permissions {
                proptest::prop_assert!(p.action.contains(':'), "action {:?}", p.action);
                proptest::prop_assert!(!p.resource.is_empty(), "empty resource for {}", p.action);
            }
        }
    }
}

#[test]
fn self_referencing_parameters_and_cycles_terminate() {
    let t = parse(
        "a.yml",
        "Parameters:\n  P: {Type: String, Default: !Ref P}\nResources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://x/a.yml\n      Parameters: {P: !Ref P}\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !Sub '${P}'\n",
    )
    .expect("parses");
    let b = Template {
        name: "dir/a.yml".into(),
        body: t.body.clone(),
    };
    let req = requirements(&[t, b], &ctx());
    assert!(has(&req, "iam:PassRole", "*"));
}

#[test]
fn fan_out_references_end_quickly() {
    let parts = ["!Ref P"; 12].join(", ");
    let yaml = format!(
        "Parameters:\n  P: {{Type: String, Default: !Join ['', [{parts}]]}}\nResources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !Ref P\n"
    );
    let t = parse("fan.yml", &yaml).expect("parses");
    let start = std::time::Instant::now();
    let req = requirements(&[t], &ctx());
    assert!(has(&req, "iam:PassRole", "*"));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// A custom resource's `ServiceToken` is read as an ARN: an SNS topic is published to, a Lambda
/// function invoked; a function ARN whose name is `*`, or a token that is not an ARN, names no
/// particular function, so the call is checked on `*`.
#[test]
fn custom_resource_targets_are_read_as_arns() {
    let template = |token: &str| {
        let text = format!(
            "Resources:\n  Seed:\n    Type: Custom::Seed\n    Properties:\n      ServiceToken: '{token}'\n"
        );
        parse("custom.yml", &text).expect("the template parses")
    };
    for (token, action, resource) in [
        (
            "arn:aws:sns:us-east-1:111122223333:provisioner",
            "sns:Publish",
            "arn:aws:sns:us-east-1:111122223333:provisioner",
        ),
        (
            "arn:aws:lambda:us-east-1:111122223333:function:seed:live",
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:seed:live",
        ),
        (
            "arn:aws:lambda:us-east-1:111122223333:function:*",
            "lambda:InvokeFunction",
            "*",
        ),
        ("seed-function", "lambda:InvokeFunction", "*"),
    ] {
        let req = requirements(&[template(token)], &ctx());
        assert!(
            has(&req, action, resource),
            "{token}: {:#?}",
            req.permissions
        );
        assert_eq!(
            req.warnings
                .iter()
                .any(|w| w.contains("cannot tell what custom resource `Seed` calls")),
            resource == "*",
            "{token}: {:?}",
            req.warnings
        );
    }
}
