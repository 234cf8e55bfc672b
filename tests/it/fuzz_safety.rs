//! Every reader of user input survives arbitrary input: it returns a value or an error, never
//! panics, and what it returns still obeys the reader's own promises.
//!
//! People paste logs, hand-edit policies and point the tool at whatever file is lying around, so
//! a panic on odd input is a crash in front of exactly the user who is already stuck. Inputs come
//! from proptest strategies run from fixed seeds (a failure replays exactly and is shrunk to the
//! smallest failing input): random bytes, JSON-ish token soups, and mutations of valid documents,
//! both character-level (which mostly test the syntax layer) and value-level (which reach the
//! semantic checks behind it).
//! Every generator first asserts that its seeds are valid, so the mutations start from documents
//! the reader accepts.

use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestRunner};
use serde_json::{Value, json};

use iam_doctor::core::check::policy_set;
use iam_doctor::core::condition;
use iam_doctor::core::context::Context;
use iam_doctor::core::eval::{
    Decision, NamedPolicy, OrgLevelPolicies, PolicyKind, PolicySet, Request, ResourcePolicy,
    evaluate_with_resource_policy,
};
use iam_doctor::core::facts::PrincipalKind;
use iam_doctor::core::facts::TargetType;
use iam_doctor::core::pattern::{Case, glob_match};
use iam_doctor::core::policy::{Effect, Policy};
use iam_doctor::core::principal_ref::{NamedPrincipal, PrincipalRef};
use iam_doctor::core::request_keys;
use iam_doctor::inputs::auth_details::AuthorizationDetails;
use iam_doctor::inputs::template::{self, TemplateContext};
use iam_doctor::inputs::{
    access_denied, jets_config, organization, resource_policies, ruby, simulate,
};

/// Inputs per generator and reader. Enough to reach the odd paths, small enough for a debug run.
const CASES: usize = 1_500;

// ---------------------------------------------------------------------------------------------
// Generators

/// A runner for `cases` inputs from the fixed `seed`: every run tries the same inputs, so a
/// failure replays exactly, and shrinking reports the smallest failing input. A failure found
/// once is written to `tests/it/fuzz_safety.proptest-regressions` (commit it) and tried first on
/// every later run.
fn runner(seed: u64, cases: usize) -> TestRunner {
    TestRunner::new(Config {
        cases: u32::try_from(cases).expect("case count fits u32"),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    })
}

/// Runs `check` on `cases` values of `strategy`; panics with the smallest failing value.
fn check_all<S: Strategy>(
    what: &str,
    seed: u64,
    cases: usize,
    strategy: S,
    check: impl Fn(S::Value),
) where
    S::Value: Debug,
{
    let result = runner(seed, cases).run(&strategy, |value| {
        check(value);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
}

/// Bytes from the whole range, read as text the way the CLI reads files (lossy UTF-8).
fn random_text(max_len: usize) -> impl Strategy<Value = String> {
    // Half the bytes are ASCII punctuation, so some soups look almost structured.
    let byte = prop_oneof![select(b"{}[]\":,\\ \n\t*?$%01aZ".to_vec()), any::<u8>()];
    vec(byte, 0..=max_len).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// Tokens every JSON reader here might trip over: structure, IAM vocabulary, odd scalars.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"Version\"",
    "\"2012-10-17\"",
    "\"Statement\"",
    "\"Sid\"",
    "\"Effect\"",
    "\"Allow\"",
    "\"Deny\"",
    "\"Action\"",
    "\"NotAction\"",
    "\"Resource\"",
    "\"NotResource\"",
    "\"Principal\"",
    "\"NotPrincipal\"",
    "\"AWS\"",
    "\"Condition\"",
    "\"StringEquals\"",
    "\"StringLikeIfExists\"",
    "\"ForAllValues:StringLike\"",
    "\"ForAnyValue:IpAddress\"",
    "\"NumericLessThan\"",
    "\"DateGreaterThan\"",
    "\"Null\"",
    "\"Bool\"",
    "\"aws:RequestedRegion\"",
    "\"aws:TagKeys\"",
    "\"aws:SourceIp\"",
    "\"${aws:username}\"",
    "\"${aws:PrincipalTag/team, 'x'}\"",
    "\"${\"",
    "\"*\"",
    "\"?\"",
    "\"s3:*\"",
    "\"s3:Get*\"",
    "\"arn:aws:s3:::b/*\"",
    "\"10.0.0.0/8\"",
    "\"::1/129\"",
    "\"10.0.0.0/99\"",
    "\"yesterday\"",
    "\"abc\"",
    "\"2008-10-17\"",
    "\"${aws:SecureTransport}\"",
    "\"${aws:SourceIp}\"",
    "\"aws:CurrentTime\"",
    "\"IpAddressIfExists\"",
    "\"%7B\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\n\"",
    "\"\"",
    "0",
    "-1",
    "1e400",
    "18446744073709551616",
    "3.5",
    "true",
    "false",
    "null",
    "\"RoleDetailList\"",
    "\"RoleName\"",
    "\"Arn\"",
    "\"RolePolicyList\"",
    "\"PolicyName\"",
    "\"PolicyDocument\"",
    "\"AttachedManagedPolicies\"",
    "\"PolicyArn\"",
    "\"Policies\"",
    "\"PolicyVersionList\"",
    "\"IsDefaultVersion\"",
    "\"Document\"",
    "\"PermissionsBoundary\"",
    "\"account_id\"",
    "\"ancestors\"",
    "\"type\"",
    "\"ROOT\"",
    "\"ACCOUNT\"",
    "\"ORGANIZATIONAL_UNIT\"",
    "\"scps\"",
    "\"rcps\"",
    "\"PolicySummary\"",
    "\"Content\"",
    "\"principal\"",
    "\"action\"",
    "\"context\"",
    "\"identity_policies\"",
    "\"permissions_boundary\"",
    "\"document\"",
    "\"policies\"",
    "\"id\"",
    "\"name\"",
    "\"Resources\"",
    "\"Type\"",
    "\"Properties\"",
    "\"AWS::Lambda::Function\"",
    "\"Fn::Sub\"",
    "\"Ref\"",
    "\"Fn::If\"",
    "\"Fn::Join\"",
    "\"Parameters\"",
    "\"Default\"",
];

fn token_soup(tokens: &'static [&'static str], max_tokens: usize) -> impl Strategy<Value = String> {
    vec(
        (select(tokens), proptest::bool::weighted(0.2)),
        1..=max_tokens,
    )
    .prop_map(|picked| {
        let mut out = String::new();
        for (token, space) in picked {
            out.push_str(token);
            if space {
                out.push(' ');
            }
        }
        out
    })
}

/// One character-level edit: delete, duplicate, swap, insert a token, duplicate a span,
/// delete a span, or truncate.
#[derive(Debug, Clone)]
struct CharEdit {
    kind: u8,
    at: Index,
    other: Index,
    token: &'static str,
    span: usize,
}

fn char_edit(tokens: &'static [&'static str]) -> impl Strategy<Value = CharEdit> {
    (
        0..7u8,
        any::<Index>(),
        any::<Index>(),
        select(tokens),
        0..40usize,
    )
        .prop_map(|(kind, at, other, token, span)| CharEdit {
            kind,
            at,
            other,
            token,
            span,
        })
}

/// 1 to 4 character edits of one of `seeds`.
fn mutate_chars(
    seeds: Vec<String>,
    tokens: &'static [&'static str],
) -> impl Strategy<Value = String> {
    (select(seeds), vec(char_edit(tokens), 1..=4)).prop_map(|(seed, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        for edit in edits {
            if chars.is_empty() {
                break;
            }
            let i = edit.at.index(chars.len());
            match edit.kind {
                0 => {
                    chars.remove(i);
                }
                1 => {
                    let c = chars[i];
                    chars.insert(i, c);
                }
                2 => {
                    let j = edit.other.index(chars.len());
                    chars.swap(i, j);
                }
                3 => {
                    chars.splice(i..i, edit.token.chars());
                }
                4 => {
                    let end = (i + 1 + edit.span).min(chars.len());
                    let span: Vec<char> = chars[i..end].to_vec();
                    chars.splice(i..i, span);
                }
                5 => {
                    let end = (i + 1 + edit.span).min(chars.len());
                    chars.drain(i..end);
                }
                _ => chars.truncate(i),
            }
        }
        chars.into_iter().collect()
    })
}

/// A value of another shape, built from the reader's vocabulary.
fn replacement(tokens: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let word = move || select(tokens).prop_map(|t| t.trim_matches('"').to_string());
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(-0.5)),
        Just(json!([])),
        Just(json!({})),
        word().prop_map(|w| json!([w])),
        (word(), word()).prop_map(|(k, v)| json!({ k: v })),
        word().prop_map(Value::String),
    ]
}

/// One value-level edit: a walk down the document (at each level: stop here with 25 %
/// chance; else pick a key or element, and remove that key or duplicate that element with 10 %
/// chance, or go down into it) that replaces the node where it stops.
#[derive(Debug, Clone)]
struct ValueEdit {
    walk: Vec<(u8, Index, u8)>,
    replacement: Value,
}

fn value_edit(tokens: &'static [&'static str]) -> impl Strategy<Value = ValueEdit> {
    (
        vec((0..100u8, any::<Index>(), 0..100u8), 0..12),
        replacement(tokens),
    )
        .prop_map(|(walk, replacement)| ValueEdit { walk, replacement })
}

fn apply_value_edit(v: &mut Value, walk: &[(u8, Index, u8)], replacement: &Value) {
    if let Some(((stop, pick, act), rest)) = walk.split_first()
        && *stop >= 25
    {
        match v {
            Value::Object(map) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(pick.index(map.len()))
                    .cloned()
                    .unwrap_or_default();
                if *act < 10 {
                    map.remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    apply_value_edit(child, rest, replacement);
                }
                return;
            }
            Value::Array(items) if !items.is_empty() => {
                let i = pick.index(items.len());
                if *act < 10 {
                    let copy = items[i].clone();
                    items.push(copy);
                } else {
                    apply_value_edit(&mut items[i], rest, replacement);
                }
                return;
            }
            _ => {}
        }
    }
    *v = replacement.clone();
}

/// 1 to 3 value-level edits of one of `seeds`: the document stays JSON, so the reader's
/// semantic checks are what is exercised.
fn mutate_value(
    seeds: Vec<Value>,
    tokens: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    (select(seeds), vec(value_edit(tokens), 1..=3)).prop_map(|(mut v, edits)| {
        for edit in &edits {
            apply_value_edit(&mut v, &edit.walk, &edit.replacement);
        }
        v
    })
}

/// The inputs for one reader, in equal parts: random text, token soups, character-level
/// mutations of its seeds, and value-level mutations (character-level again when the seeds are
/// not JSON).
fn inputs(
    seeds: &[String],
    tokens: &'static [&'static str],
    max_len: usize,
) -> BoxedStrategy<String> {
    let json_seeds: Vec<Value> = seeds
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    let structured = if json_seeds.is_empty() {
        mutate_chars(seeds.to_vec(), tokens).boxed()
    } else {
        mutate_value(json_seeds, tokens)
            .prop_map(|v| v.to_string())
            .boxed()
    };
    prop_oneof![
        random_text(max_len),
        token_soup(tokens, 60),
        mutate_chars(seeds.to_vec(), tokens),
        structured,
    ]
    .boxed()
}

/// Runs `f` on `cases` inputs from `strategy` (a panic is a failure that shows the smallest
/// input found), checks what it returns, and returns how many calls succeeded.
fn survive<T: Debug, E: std::fmt::Display>(
    what: &str,
    seed: u64,
    strategy: impl Strategy<Value = String>,
    f: impl Fn(&str) -> Result<T, E>,
    check_ok: impl Fn(&str, &T),
) -> usize {
    let ok = Cell::new(0);
    check_all(what, seed, CASES * 4, strategy, |input| match f(&input) {
        Ok(value) => {
            check_ok(&input, &value);
            ok.set(ok.get() + 1);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                !message.trim().is_empty(),
                "{what}: empty error message for input {input:?}"
            );
        }
    });
    ok.get()
}

// ---------------------------------------------------------------------------------------------
// Seeds

const POLICY_SEEDS: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","lambda:*"],"Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}}"#,
    r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"NumericLessThan":{"s3:max-keys":[10,"20"]},"Bool":{"aws:SecureTransport":true}}}]}"#,
    r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":"ec2:*","NotResource":"arn:aws:ec2:*:*:instance/i-1","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["team","env-*"]},"StringEqualsIfExists":{"aws:PrincipalTag/team":"${aws:PrincipalTag/team, 'none'}"},"Null":{"aws:TokenIssueTime":"false"}}}]}"#,
    r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"]},"Action":"sqs:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t-*"},"ForAnyValue:StringEqualsIgnoreCase":{"aws:CalledVia":["CloudFormation.amazonaws.com"]}}},{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"k":"QUJD"}}}]}"#,
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D",
];

const SIMULATE_SEED: &str = r#"{"principal":"arn:aws:iam::111122223333:role/alice","action":"s3:PutObject","resource":"arn:aws:s3:::home/alice/x",
  "context":{"aws:RequestedRegion":"eu-west-1","aws:username":"alice","aws:TagKeys":["team","env"],"aws:MultiFactorAuthPresent":true,"s3:max-keys":5},
  "identity_policies":[{"name":"Home","document":{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}]}},
                       {"name":"Encoded","id":"arn:aws:iam::111122223333:policy/Encoded","document":"{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}]}"}],
  "permissions_boundary":{"name":"Boundary","document":{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}},
  "scps":[{"id":"r-ab12","name":"Root","policies":[{"name":"FullAWSAccess","document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}]},
          {"id":"ou-ab12-11111111","policies":[{"name":"RegionLock","document":{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}},{"name":"Allow","document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}]}],
  "rcps":[{"id":"r-ab12","policies":[{"name":"RCPFullAWSAccess","document":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}},{"name":"Tls","document":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}}]}],
  "resource_policy":{"name":"BucketPolicy","document":{"Statement":[{"Sid":"Deployer","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/alice","111122223333"]},"Action":"s3:*","Resource":"arn:aws:s3:::home/*"},
                                                        {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:DeleteBucket","Resource":"*"},
                                                        {"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}]}},
  "session_policies":[{"name":"Session","document":{"Statement":[{"Effect":"Allow","Action":["s3:*","kms:Decrypt"],"Resource":"*"}]}}]}"#;

const RUBY_SEEDS: &[&str] = &[
    "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"kinesis:PutRecord\", {Action: [\"s3:*\"], Effect: \"Allow\", Resource: \"*\"}]\n  config.codebuild.iam.managed_policy << \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\nend\n",
    "Jets.deploy.configure do |c|\n  c.lambda.function.vpc_config = {SecurityGroupIds: %w[sg-1], SubnetIds: [\"subnet-1\"]}\n  c.ci.iam.policy += [\"ssm:GetParameter\"] if ENV[\"CI\"]\n  self.name = \"app-#{Jets.env}\"\nend\n",
    "Jets.project.configure do\n  config.name = 'demo'\n  config.codebuild.iam.default_policy ||= []\n  case ENV['X']\n  when 'a' then config.codebuild.iam.policy.push(:sym, 1, 2.5, nil, true)\n  end\nend\n",
];

fn demo_file(rel: &str) -> String {
    std::fs::read_to_string(format!("policies/examples/demo/{rel}"))
        .unwrap_or_else(|e| panic!("the bundled demo has `{rel}`: {e}"))
}

const TEMPLATE_JSON: &str = r#"{"AWSTemplateFormatVersion":"2010-09-09","Parameters":{"Env":{"Type":"String","Default":"dev"}},
 "Resources":{"Role":{"Type":"AWS::IAM::Role","Properties":{"RoleName":{"Fn::Sub":"app-${Env}-role"},"AssumeRolePolicyDocument":{}}},
  "Fn":{"Type":"AWS::Lambda::Function","Properties":{"Role":{"Fn::GetAtt":["Role","Arn"]},"VpcConfig":{"SubnetIds":["s"]}}},
  "Bucket":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":{"Fn::Join":["-",[{"Ref":"Env"},"b"]]}}},
  "Custom":{"Type":"Custom::Thing","Properties":{"ServiceToken":{"Fn::GetAtt":["Fn","Arn"]}}},
  "Choice":{"Type":"AWS::SNS::Topic","Condition":"IsProd","Properties":{"TopicName":{"Fn::If":["IsProd","a",{"Ref":"AWS::NoValue"}]}}}},
 "Conditions":{"IsProd":{"Fn::Equals":[{"Ref":"Env"},"prod"]}}}"#;

const TEMPLATE_YAML: &str = "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Stage:\n    Type: String\n    Default: dev\nResources:\n  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: !GetAtt ExecRole.Arn\n      FunctionName: !Sub '${AWS::StackName}-${Stage}-api'\n      VpcConfig:\n        SubnetIds: !Split [',', 'a,b']\n  ExecRole:\n    Type: AWS::IAM::Role\n    Properties:\n      Path: /app/\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Join ['-', [!Ref Stage, q]]\n  Nested:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://s3.amazonaws.com/b/child.yml\n      Parameters: {Role: !GetAtt ExecRole.Arn}\n";

const YAML_TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "!Ref ",
    "!GetAtt ",
    "!Sub ",
    "!If ",
    "!Join ",
    "!Select ",
    "!Base64 ",
    "!Bogus ",
    "&a ",
    "*a ",
    "<<: ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "#",
    "---\n",
    "Resources",
    "Type",
    "Properties",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "Role",
    "RoleName",
    "VpcConfig",
    "${AWS::StackName}",
    "${",
    "~",
    "null",
    "1e9",
    "|\n",
    ">\n",
];

const RUBY_TOKENS: &[&str] = &[
    "\n",
    " ",
    "config.",
    "c.",
    "self.",
    "Jets.",
    "bootstrap",
    "deploy",
    "project",
    ".configure",
    " do",
    " do |c|",
    "\nend",
    "end",
    "=",
    " = ",
    "<<",
    "+=",
    "||=",
    "codebuild.iam.policy",
    "ci.iam.policy",
    "lambda.function.vpc_config",
    "name",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "\"",
    "'",
    "#{",
    "}",
    "%w[",
    "%i(",
    "<<~EOS\n",
    "EOS\n",
    "ENV[\"X\"]",
    "if ",
    "unless ",
    "case ",
    "when ",
    "nil",
    "true",
    "1",
    "2.5",
    ":sym",
    "->(x) {",
    "def m",
    "rescue",
    "\\",
    "__END__\n",
    "=begin\n",
    "=end\n",
    "?a",
    "/re/",
    "`cmd`",
];

const DENIAL_SEEDS: &[&str] = &[
    "An error occurred (AccessDenied) when calling the CreateRole operation: User: arn:aws:sts::111122223333:assumed-role/deployer/s is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111122223333:role/x with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-1",
    "\u{1b}[31mResource handler returned message: \"User: arn:aws:sts::111122223333:assumed-role/r/s is not authorized to perform: ec2:CreateNetworkInterface on resource: arn:aws:ec2:eu-west-1:111122223333:network-interface/* because no identity-based policy allows the ec2:CreateNetworkInterface action (Service: Ec2, Status Code: 403, Request ID: 1)\" (RequestToken: t, HandlerErrorCode: AccessDenied)\u{1b}[0m",
    "{\"ResourceStatusReason\": \"API: s3:CreateBucket Access Denied\", \"message\": \"User: arn:aws:iam::111122223333:user/bob is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:111122223333:function:f because no permissions boundary allows the lambda:CreateFunction action\"}",
    "operation error S3: PutObject, https response error StatusCode: 403, api error AccessDenied: Access Denied\nAn error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: AbC-dEf_123",
];

const DENIAL_TOKENS: &[&str] = &[
    "User: ",
    "arn:aws:sts::111122223333:assumed-role/r/s",
    " is not authorized to perform: ",
    "s3:PutObject",
    " on resource: ",
    "arn:aws:s3:::b/*",
    " because no identity-based policy allows the ",
    " with an explicit deny in a ",
    "service control policy",
    "resource control policy",
    "permissions boundary",
    "session policy",
    ": arn:aws:organizations::1:policy/o-1/service_control_policy/p-1",
    " action",
    "(Service: Lambda, Status Code: 403)",
    "An error occurred (AccessDenied) when calling the ",
    " operation: ",
    "Encoded authorization failure message: ",
    "\\\"",
    "\\n",
    "\\u001b[31m",
    "\u{1b}[0m",
    "[31m",
    "\n",
    "│ ",
    "\"",
    "{",
    "}",
    "Access Denied",
    "UnauthorizedOperation",
];

// ---------------------------------------------------------------------------------------------
// Checks on what the readers return

/// A decision can only be an explicit deny when some policy has a `Deny` (or a service rule
/// denies), and only an allow when an identity policy or the resource policy has an `Allow` (or
/// a service rule needs no permission); a resource policy that could not be read never allows;
/// and the same request decides the same way twice.
fn check_decision(input: &str, set: &PolicySet, request: &Request, resource: ResourcePolicy<'_>) {
    let e = evaluate_with_resource_policy(set, request, resource);
    assert_eq!(
        e,
        evaluate_with_resource_policy(set, request, resource),
        "evaluation is not deterministic for {input:?}"
    );
    let resource_policy = match resource {
        ResourcePolicy::Policy(p) => Some(p),
        _ => None,
    };
    let all_policies = set
        .identity
        .iter()
        .chain(set.boundary.iter())
        .chain(set.session.iter())
        .chain(resource_policy)
        .chain(set.scps.iter().flat_map(|l| l.policies.iter()))
        .chain(set.rcps.iter().flat_map(|l| l.policies.iter()));
    let by_rule = e
        .decided_by
        .iter()
        .any(|b| b.kind == PolicyKind::ServiceRule);
    if resource == ResourcePolicy::Unreadable {
        assert!(
            !e.decision.is_allowed() || by_rule,
            "allowed with an unreadable resource policy for {input:?}"
        );
    }
    match e.decision {
        Decision::ExplicitDeny => assert!(
            by_rule || has_effect(Effect::Deny, all_policies),
            "explicit deny without a Deny statement for {input:?}"
        ),
        Decision::Allowed => assert!(
            by_rule || has_effect(Effect::Allow, set.identity.iter().chain(resource_policy)),
            "allowed without an identity or resource policy Allow for {input:?}"
        ),
        Decision::ImplicitDeny => {}
        Decision::Unknown => assert!(
            request.context.unknown_keys().next().is_some() && !e.depends_on.is_empty(),
            "unknown without a key of unknown value for {input:?}: {e:?}"
        ),
    }
    assert!(
        !e.decided_by.is_empty(),
        "a decision without a reason for {input:?}: {e:?}"
    );
}

fn has_effect<'a>(effect: Effect, mut policies: impl Iterator<Item = &'a NamedPolicy>) -> bool {
    policies.any(|p| p.policy.statements.iter().any(|s| s.effect == effect))
}

fn single_line(what: &str, input: &str, message: &str) {
    assert!(
        !message.contains('\n'),
        "{what}: the error message spans lines (input {input:?}): {message:?}"
    );
}

/// The probe request with the keys only a real request has marked unknown, as a check does,
/// and `aws:SourceIp` among them.
fn probe_request_with_unknown_keys(action: &str) -> Request {
    let mut request = probe_request(action);
    request.context.remove("aws:SourceIp");
    request_keys::mark_unknown(&mut request.context);
    request
}

fn probe_request(action: &str) -> Request {
    let mut context = Context::new();
    context
        .set("aws:RequestedRegion", "us-east-1")
        .set("aws:username", "alice")
        .set("aws:SourceIp", "10.1.2.3")
        .set("s3:max-keys", "15")
        .set_multi("aws:TagKeys", vec!["team".into()]);
    Request {
        principal: "arn:aws:iam::111122223333:role/alice".into(),
        action: action.into(),
        resource: "arn:aws:s3:::home/alice/x".into(),
        context,
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn seeds_are_valid() {
    for s in POLICY_SEEDS {
        Policy::parse("seed", s).unwrap_or_else(|e| panic!("policy seed {s}: {e}"));
    }
    simulate::parse(SIMULATE_SEED).unwrap_or_else(|e| panic!("simulate seed: {e}"));
    let details = AuthorizationDetails::from_str("seed", &demo_file("authorization-details.json"))
        .unwrap_or_else(|e| panic!("authorization details seed: {e}"));
    for name in details.role_names() {
        let p = details
            .principal(PrincipalKind::Role, &NamedPrincipal::bare(name))
            .unwrap_or_else(|e| panic!("role {name}: {e}"));
        policy_set(&p, None).unwrap_or_else(|e| panic!("policies of {name}: {e}"));
    }
    organization::parse("seed", &demo_file("organization.json"))
        .unwrap_or_else(|e| panic!("organization seed: {e}"));
    for s in RUBY_SEEDS {
        let found = ruby::assignments(s).unwrap_or_else(|e| panic!("ruby seed {s}: {e}"));
        assert!(!found.is_empty(), "ruby seed has assignments: {s}");
    }
    template::parse("seed.json", TEMPLATE_JSON).unwrap_or_else(|e| panic!("json template: {e}"));
    template::parse("seed.yml", TEMPLATE_YAML).unwrap_or_else(|e| panic!("yaml template: {e}"));
    for s in DENIAL_SEEDS {
        assert!(
            !access_denied::parse(s).is_empty(),
            "denial seed has a denial: {s}"
        );
    }
}

#[test]
fn policy_parse_never_panics() {
    let seeds: Vec<String> = POLICY_SEEDS.iter().map(|s| s.to_string()).collect();
    let probes = [
        "s3:PutObject",
        "iam:CreateRole",
        "ec2:RunInstances",
        "sqs:SendMessage",
        "kms:Decrypt",
        "sts:GetCallerIdentity",
    ];
    let ok = survive(
        "Policy::parse",
        1,
        inputs(&seeds, JSON_TOKENS, 200),
        |text| {
            Policy::parse("fuzz", text)
                .inspect_err(|e| single_line("Policy::parse", text, &e.to_string()))
        },
        |text, policy| {
            // A parsed policy evaluates (conditions included) in every role a policy can have.
            let named = NamedPolicy {
                name: "fuzz".into(),
                id: None,
                policy: policy.clone(),
            };
            for request in probes
                .iter()
                .flat_map(|a| [probe_request(a), probe_request_with_unknown_keys(a)])
            {
                for st in &policy.statements {
                    let _ = condition::evaluate_all(&st.conditions, &request.context);
                }
                let set = PolicySet {
                    identity: vec![named.clone()],
                    boundary: Some(named.clone()),
                    session: vec![named.clone()],
                    scps: vec![OrgLevelPolicies {
                        target_id: "r-1".into(),
                        target_name: "Root".into(),
                        target_type: TargetType::Root,
                        policies: vec![named.clone()],
                    }],
                    rcps: vec![OrgLevelPolicies {
                        target_id: "r-1".into(),
                        target_name: "Root".into(),
                        target_type: TargetType::Root,
                        policies: vec![named.clone()],
                    }],
                };
                // The same policy as the resource's own, and every state a resource policy can
                // be in, on the probe's resource and on a KMS key (whose key policy must allow).
                for resource in [
                    ResourcePolicy::Policy(&named),
                    ResourcePolicy::NotSupplied,
                    ResourcePolicy::NoPolicy,
                    ResourcePolicy::Unreadable,
                ] {
                    check_decision(text, &set, &request, resource);
                    let key = Request {
                        resource: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd".into(),
                        ..request.clone()
                    };
                    check_decision(text, &set, &key, resource);
                    if !matches!(resource, ResourcePolicy::Policy(_))
                        && request.action.to_ascii_lowercase().starts_with("kms:")
                    {
                        assert!(
                            !evaluate_with_resource_policy(&set, &key, resource)
                                .decision
                                .is_allowed(),
                            "a KMS key without its key policy allowed for {text:?}"
                        );
                    }
                }
            }
        },
    );
    // Random bytes never form a policy, but value-level mutations often keep one valid.
    let all = CASES * 4;
    assert!(ok > CASES / 20, "only {ok} of {all} inputs parsed");
    assert!(ok < all / 2, "{ok} of {all} inputs parsed");
}

#[test]
fn policy_from_value_never_panics() {
    let seeds: Vec<Value> = POLICY_SEEDS
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    // Sometimes as a JSON string holding the document, as DescribePolicy returns it.
    let documents = (
        mutate_value(seeds, JSON_TOKENS),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(v, as_string)| {
            if as_string {
                Value::String(v.to_string())
            } else {
                v
            }
        });
    let ok = Cell::new(0);
    check_all("Policy::from_value", 2, CASES * 2, documents, |v| {
        let shown = v.to_string();
        match Policy::from_value("fuzz", &v) {
            Ok(p) => {
                ok.set(ok.get() + 1);
                assert!(
                    p.statements.iter().all(|s| !s.label().is_empty()),
                    "{shown}"
                );
            }
            Err(e) => {
                assert_eq!(e.policy, "fuzz");
                assert!(e.path.starts_with('$'), "path {:?} for {shown}", e.path);
            }
        }
    });
    let ok = ok.get();
    assert!(ok > 0 && ok < CASES * 2, "{ok} parsed");
}

#[test]
fn simulate_input_never_panics() {
    let ok = survive(
        "simulate::parse",
        3,
        inputs(&[SIMULATE_SEED.to_string()], JSON_TOKENS, 200),
        |text| {
            simulate::parse(text)
                .inspect_err(|e| single_line("simulate::parse", text, &e.to_string()))
        },
        |text, sim| check_decision(text, &sim.set, &sim.request, sim.resource_policy.state()),
    );
    assert!(ok > 0, "no mutation of the seed stayed valid");
}

#[test]
fn authorization_details_never_panic() {
    let seed = demo_file("authorization-details.json");
    let ok = survive(
        "AuthorizationDetails::from_str",
        4,
        inputs(&[seed], JSON_TOKENS, 200),
        |text| {
            AuthorizationDetails::from_str("fuzz.json", text).inspect_err(|e| {
                single_line("AuthorizationDetails::from_str", text, &e.to_string())
            })
        },
        |text, details| {
            let mut selectors: Vec<(PrincipalKind, NamedPrincipal)> = details
                .role_names()
                .into_iter()
                .map(|n| (PrincipalKind::Role, NamedPrincipal::bare(n)))
                .collect();
            selectors.push((
                PrincipalKind::Role,
                NamedPrincipal::bare("demo-dev-CodebuildRole-1A2B3C4D5E6G"),
            ));
            selectors.push((PrincipalKind::User, NamedPrincipal::bare("nobody")));
            let by_arn = "arn:aws:iam::111122223333:role/demo-dev-ci-CodebuildRole-9Z8Y7X6W5V4U";
            if let Some(named) = PrincipalRef::role(by_arn)
                .ok()
                .as_ref()
                .and_then(PrincipalRef::named)
            {
                selectors.push((PrincipalKind::Role, named.clone()));
            }
            for (kind, sel) in &selectors {
                match catch_unwind(AssertUnwindSafe(|| details.principal(*kind, sel))) {
                    Ok(Ok(p)) => match policy_set(&p, None) {
                        Ok((set, _)) => check_decision(
                            text,
                            &set,
                            &probe_request("lambda:CreateFunction"),
                            ResourcePolicy::NotSupplied,
                        ),
                        Err(e) => single_line("policy_set", text, &e.to_string()),
                    },
                    Ok(Err(e)) => single_line("principal", text, &e.to_string()),
                    Err(_) => panic!("principal({sel:?}) panicked on {text:?}"),
                }
            }
        },
    );
    assert!(ok > 0, "no mutation of the seed stayed valid");
}

#[test]
fn organization_never_panics() {
    let seed = demo_file("organization.json");
    let ok = survive(
        "organization::parse",
        5,
        inputs(&[seed], JSON_TOKENS, 200),
        |text| {
            organization::parse("fuzz.json", text)
                .inspect_err(|e| single_line("organization::parse", text, &e.to_string()))
        },
        |text, org| {
            // What `snapshot` writes reads back the same.
            let again = organization::parse("again", &organization::to_json(org).to_string())
                .unwrap_or_else(|e| {
                    panic!("re-reading the written form failed ({e}) for {text:?}")
                });
            assert_eq!(&again, org, "round trip changed {text:?}");
        },
    );
    assert!(ok > 0, "no mutation of the seed stayed valid");
}

const RESOURCE_POLICIES_SEED: &str = r#"{"resources": [
  {"arn": "arn:aws:s3:::demo-dev-s3bucket-1x2y3z", "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ProtectDeployedCode\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/r\"},\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::demo-dev-s3bucket-1x2y3z/*\"}]}"},
  {"arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "policy_name": "default", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}},
  {"arn": "arn:aws:ecr:us-east-1:111122223333:repository/demo", "policy": null},
  {"arn": "arn:aws:s3:::other", "unreadable": "`s3:GetBucketPolicy` was denied"}]}"#;

#[test]
fn resource_policies_never_panic() {
    let ok = survive(
        "resource_policies::parse",
        11,
        inputs(&[RESOURCE_POLICIES_SEED.to_string()], JSON_TOKENS, 200),
        |text| {
            resource_policies::parse("fuzz.json", text)
                .inspect_err(|e| single_line("resource_policies::parse", text, &e.to_string()))
        },
        |text, policies| {
            // What `snapshot` writes reads back the same.
            let written = resource_policies::to_json(policies).to_string();
            let again = resource_policies::parse("again", &written).unwrap_or_else(|e| {
                panic!("re-reading the written form failed ({e}) for {text:?}")
            });
            assert_eq!(&again, policies, "round trip changed {text:?}");
        },
    );
    assert!(ok > 0, "no mutation of the seed stayed valid");
}

#[test]
fn ruby_assignments_never_panic() {
    let mut seeds: Vec<String> = RUBY_SEEDS.iter().map(|s| s.to_string()).collect();
    for f in ["bootstrap.rb", "deploy.rb", "project.rb"] {
        seeds.push(demo_file(&format!("project/config/jets/{f}")));
    }
    let ok = survive(
        "ruby::assignments",
        6,
        inputs(&seeds, RUBY_TOKENS, 120),
        |text| {
            ruby::assignments(text)
                .inspect_err(|e| single_line("ruby::assignments", text, &e.to_string()))
        },
        |text, found| {
            let lines = text.split('\n').count();
            for a in found {
                assert!(!a.key.is_empty(), "empty key from {text:?}");
                assert!(
                    (1..=lines).contains(&a.line),
                    "line {} outside 1..={lines} for {text:?}",
                    a.line
                );
            }
        },
    );
    assert!(ok > 0, "no mutation of the seeds stayed valid ruby");
}

#[test]
fn jets_config_from_sources_never_panics() {
    let mut seeds: Vec<String> = RUBY_SEEDS.iter().map(|s| s.to_string()).collect();
    for f in ["bootstrap.rb", "deploy.rb", "project.rb"] {
        seeds.push(demo_file(&format!("project/config/jets/{f}")));
    }
    let paths = [
        "config/jets/bootstrap.rb",
        "config/jets/deploy/dev.rb",
        "config/jets/vpc.rb",
    ];
    let file_sets = vec(
        (select(paths.to_vec()), inputs(&seeds, RUBY_TOKENS, 120)),
        3,
    )
    .prop_map(|files| -> Vec<(PathBuf, String)> {
        files
            .into_iter()
            .map(|(path, text)| (PathBuf::from(path), text))
            .collect()
    });
    let ok = Cell::new(0);
    // Fewer cases: each one runs the ruby parser on three files.
    check_all(
        "jets_config::from_sources",
        7,
        CASES / 2,
        file_sets,
        |files| match jets_config::from_sources(&files) {
            Ok(settings) => {
                ok.set(ok.get() + 1);
                assert_eq!(settings.files_read.len(), files.len(), "{files:?}");
                for w in &settings.warnings {
                    assert!(w.line >= 1, "warning without a line: {w} in {files:?}");
                }
            }
            Err(e) => single_line(
                "jets_config::from_sources",
                &format!("{files:?}"),
                &e.to_string(),
            ),
        },
    );
    assert!(ok.get() > 0, "no file set was accepted");
}

#[test]
fn templates_never_panic() {
    let json_inputs = || inputs(&[TEMPLATE_JSON.to_string()], JSON_TOKENS, 200);
    let yaml_inputs = || inputs(&[TEMPLATE_YAML.to_string()], YAML_TOKENS, 200);
    let ctx = TemplateContext {
        region: Some("eu-west-1".into()),
        account: Some("111122223333".into()),
        stack_name: Some("demo-dev".into()),
        ..TemplateContext::default()
    };
    let mut ok = 0;
    let derived = Cell::new(0);
    // Without an extension the reader decides by the first character; give it both kinds.
    for (name, seed, all) in [
        ("fuzz.json", 8, json_inputs()),
        ("fuzz.yml", 9, yaml_inputs()),
        (
            "fuzz",
            10,
            prop_oneof![json_inputs(), yaml_inputs()].boxed(),
        ),
    ] {
        ok += survive(
            "template::parse",
            seed,
            all,
            |text| {
                template::parse(name, text)
                    .inspect_err(|e| single_line("template::parse", text, &e.to_string()))
            },
            |text, t| {
                assert!(
                    !t.resources().is_empty(),
                    "a template without resources was accepted: {text:?}"
                );
                // Deriving permissions suggests names for unknown types, which is slow in a
                // debug build: a sample of the accepted templates is enough to find a panic.
                derived.set(derived.get() + 1);
                if derived.get() % 8 != 0 {
                    return;
                }
                let reqs = template::requirements(std::slice::from_ref(t), &ctx);
                for p in &reqs.permissions {
                    assert!(
                        p.action.contains(':'),
                        "action {:?} from {text:?}",
                        p.action
                    );
                    assert!(!p.resource.is_empty(), "empty resource from {text:?}");
                }
            },
        );
    }
    // Raw bytes, as `--template` reads them.
    check_all(
        "template::parse_bytes",
        10,
        CASES,
        vec(any::<u8>(), 0..120),
        |bytes| {
            if let Err(e) = template::parse_bytes("fuzz.yaml", &bytes) {
                single_line(
                    "template::parse_bytes",
                    &format!("{bytes:?}"),
                    &e.to_string(),
                );
            }
        },
    );
    assert!(ok > 0, "no mutation of the seeds stayed a template");
}

#[test]
fn access_denied_never_panics() {
    let seeds: Vec<String> = DENIAL_SEEDS.iter().map(|s| s.to_string()).collect();
    let found = Cell::new(0);
    check_all(
        "access_denied::parse",
        11,
        CASES * 4,
        inputs(&seeds, DENIAL_TOKENS, 300),
        |text| {
            let denials = access_denied::parse(&text);
            let lines = text.split('\n').count();
            for d in &denials {
                found.set(found.get() + 1);
                assert!(
                    !d.action.is_empty() || d.notes.iter().any(|n| n.contains("no operation")),
                    "a denial without an action, and no note saying so, from {text:?}"
                );
                assert!(
                    (1..=lines).contains(&d.line),
                    "line {} outside 1..={lines} for {text:?}",
                    d.line
                );
                assert!(
                    !d.raw.contains('\n'),
                    "raw message spans lines for {text:?}"
                );
            }
        },
    );
    assert!(found.get() > 0, "no denial survived any mutation");
}

#[test]
fn glob_match_never_panics_and_keeps_its_laws() {
    let alphabet: Vec<char> = "ab*?:/-ÄßЖ\u{1F600}*?".chars().collect();
    let word = |max: usize| vec(select(alphabet.clone()), 0..=max).prop_map(String::from_iter);
    check_all(
        "glob_match",
        12,
        CASES * 10,
        (word(12), word(16)),
        |(pattern, text)| {
            for case in [Case::Sensitive, Case::Insensitive] {
                let m = glob_match(&pattern, &text, case);
                // A sensitive match implies an insensitive one.
                if case == Case::Sensitive && m {
                    assert!(
                        glob_match(&pattern, &text, Case::Insensitive),
                        "{pattern:?} {text:?}"
                    );
                }
            }
            assert!(
                glob_match("*", &text, Case::Sensitive),
                "`*` must match {text:?}"
            );
            let literal: String = text.chars().filter(|c| *c != '*' && *c != '?').collect();
            assert!(
                glob_match(&literal, &literal, Case::Sensitive),
                "{literal:?} must match itself"
            );
            let n = text.chars().count();
            assert!(
                glob_match(&"?".repeat(n), &text, Case::Sensitive),
                "{n} `?` must match {text:?}"
            );
            if n > 0 {
                assert!(
                    !glob_match(&"?".repeat(n + 1), &text, Case::Sensitive),
                    "{} `?` must not match {text:?}",
                    n + 1
                );
            }
            let infix: String = pattern.chars().filter(|c| *c != '*' && *c != '?').collect();
            assert_eq!(
                glob_match(&format!("*{infix}*"), &text, Case::Sensitive),
                text.contains(&infix),
                "`*{infix}*` against {text:?}"
            );
        },
    );
    // Hostile backtracking input finishes.
    let pattern = "a*".repeat(2_000) + "b";
    let text = "a".repeat(5_000);
    assert!(!glob_match(&pattern, &text, Case::Sensitive));
}
