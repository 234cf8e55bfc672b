//! Every reader of user input survives arbitrary input: it returns a value or an error, never
//! panics, and what it returns still obeys the reader's own promises.
//!
//! People paste logs, hand-edit policies and point the tool at whatever file is lying around, so
//! a panic on odd input is a crash in front of exactly the user who is already stuck. Inputs come
//! from a fixed xorshift generator (no new dependencies, and a failure replays exactly): random
//! bytes, JSON-ish token soups, and mutations of valid documents, both character-level (which
//! mostly test the syntax layer) and value-level (which reach the semantic checks behind it).
//! Every generator first asserts that its seeds are valid, so the mutations start from documents
//! the reader accepts.

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

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

/// Marsaglia's xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes from the whole range, read as text the way the CLI reads files (lossy UTF-8).
fn random_text(rng: &mut Rng, max_len: usize) -> String {
    let len = rng.below(max_len + 1);
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            // Bias towards ASCII punctuation so some soups look almost structured.
            if rng.chance(50) {
                *rng.pick(b"{}[]\":,\\ \n\t*?$%01aZ")
            } else {
                rng.next() as u8
            }
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
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

fn token_soup(rng: &mut Rng, tokens: &[&str], max_tokens: usize) -> String {
    let n = 1 + rng.below(max_tokens);
    let mut out = String::new();
    for _ in 0..n {
        let token: &&str = rng.pick(tokens);
        out.push_str(token);
        if rng.chance(20) {
            out.push(' ');
        }
    }
    out
}

/// Deletes, duplicates, swaps or inserts characters (1 to 4 edits), or truncates.
fn mutate_chars(rng: &mut Rng, seed: &str, tokens: &[&str]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(4) {
        if chars.is_empty() {
            break;
        }
        let i = rng.below(chars.len());
        match rng.below(7) {
            0 => {
                chars.remove(i);
            }
            1 => {
                let c = chars[i];
                chars.insert(i, c);
            }
            2 => {
                let j = rng.below(chars.len());
                chars.swap(i, j);
            }
            3 => {
                let t: Vec<char> = rng.pick(tokens).chars().collect();
                chars.splice(i..i, t);
            }
            4 => {
                let end = (i + 1 + rng.below(40)).min(chars.len());
                let span: Vec<char> = chars[i..end].to_vec();
                chars.splice(i..i, span);
            }
            5 => {
                let end = (i + 1 + rng.below(40)).min(chars.len());
                chars.drain(i..end);
            }
            _ => chars.truncate(i),
        }
    }
    chars.into_iter().collect()
}

/// Replaces a random node of a JSON document with a value of another shape, duplicates an
/// array element, or removes an object key: the document stays JSON, so the reader's semantic
/// checks are what is exercised.
fn mutate_value(rng: &mut Rng, v: &mut Value, tokens: &[&str]) {
    let depth_stop = rng.chance(25);
    match v {
        Value::Object(map) if !map.is_empty() && !depth_stop => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            if rng.chance(10) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                mutate_value(rng, child, tokens);
            }
            return;
        }
        Value::Array(items) if !items.is_empty() && !depth_stop => {
            let i = rng.below(items.len());
            if rng.chance(10) {
                let copy = items[i].clone();
                items.push(copy);
            } else {
                mutate_value(rng, &mut items[i], tokens);
            }
            return;
        }
        _ => {}
    }
    *v = match rng.below(9) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!(-0.5),
        4 => json!([]),
        5 => json!({}),
        6 => json!([rng.pick(tokens).trim_matches('"')]),
        7 => json!({rng.pick(tokens).trim_matches('"'): rng.pick(tokens).trim_matches('"')}),
        _ => Value::String(rng.pick(tokens).trim_matches('"').to_string()),
    };
}

/// The inputs for one reader: random text, soups, and both kinds of mutation of its seeds.
fn inputs(seed: u64, seeds: &[String], tokens: &[&str], max_len: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let json_seeds: Vec<Value> = seeds
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    let mut out = Vec::with_capacity(CASES * 4);
    for _ in 0..CASES {
        out.push(random_text(&mut rng, max_len));
        out.push(token_soup(&mut rng, tokens, 60));
        let s = rng.pick(seeds).clone();
        out.push(mutate_chars(&mut rng, &s, tokens));
        if json_seeds.is_empty() {
            let s = rng.pick(seeds).clone();
            out.push(mutate_chars(&mut rng, &s, tokens));
        } else {
            let mut v = rng.pick(&json_seeds).clone();
            for _ in 0..1 + rng.below(3) {
                mutate_value(&mut rng, &mut v, tokens);
            }
            out.push(v.to_string());
        }
    }
    out
}

/// Runs `f` on every input, turning a panic into a test failure that shows the input, and
/// returns how many calls succeeded.
fn survive<T: Debug, E: std::fmt::Display>(
    what: &str,
    all: &[String],
    mut f: impl FnMut(&str) -> Result<T, E>,
    mut check_ok: impl FnMut(&str, &T),
) -> usize {
    let mut ok = 0;
    for input in all {
        match catch_unwind(AssertUnwindSafe(|| f(input))) {
            Ok(Ok(value)) => {
                check_ok(input, &value);
                ok += 1;
            }
            Ok(Err(e)) => {
                let message = e.to_string();
                assert!(
                    !message.trim().is_empty(),
                    "{what}: empty error message for input {input:?}"
                );
            }
            Err(_) => panic!("{what} panicked on input {input:?}"),
        }
    }
    ok
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
    let all = inputs(1, &seeds, JSON_TOKENS, 200);
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
        &all,
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
    assert!(ok > CASES / 20, "only {ok} of {} inputs parsed", all.len());
    assert!(ok < all.len() / 2, "{ok} of {} inputs parsed", all.len());
}

#[test]
fn policy_from_value_never_panics() {
    let mut rng = Rng::new(2);
    let seeds: Vec<Value> = POLICY_SEEDS
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    let mut ok = 0;
    for _ in 0..CASES * 2 {
        let mut v = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(3) {
            mutate_value(&mut rng, &mut v, JSON_TOKENS);
        }
        // Sometimes as a JSON string holding the document, as DescribePolicy returns it.
        if rng.chance(20) {
            v = Value::String(v.to_string());
        }
        let shown = v.to_string();
        match catch_unwind(|| Policy::from_value("fuzz", &v)) {
            Ok(Ok(p)) => {
                ok += 1;
                assert!(
                    p.statements.iter().all(|s| !s.label().is_empty()),
                    "{shown}"
                );
            }
            Ok(Err(e)) => {
                assert_eq!(e.policy, "fuzz");
                assert!(e.path.starts_with('$'), "path {:?} for {shown}", e.path);
            }
            Err(_) => panic!("Policy::from_value panicked on {shown}"),
        }
    }
    assert!(ok > 0 && ok < CASES * 2, "{ok} parsed");
}

#[test]
fn simulate_input_never_panics() {
    let all = inputs(3, &[SIMULATE_SEED.to_string()], JSON_TOKENS, 200);
    let ok = survive(
        "simulate::parse",
        &all,
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
    let all = inputs(4, &[seed], JSON_TOKENS, 200);
    let ok = survive(
        "AuthorizationDetails::from_str",
        &all,
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
    let all = inputs(5, &[seed], JSON_TOKENS, 200);
    let ok = survive(
        "organization::parse",
        &all,
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
    let all = inputs(11, &[RESOURCE_POLICIES_SEED.to_string()], JSON_TOKENS, 200);
    let ok = survive(
        "resource_policies::parse",
        &all,
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
    let all = inputs(6, &seeds, RUBY_TOKENS, 120);
    let ok = survive(
        "ruby::assignments",
        &all,
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
    // Fewer cases: each one runs the ruby parser on three files.
    let all = inputs(7, &seeds, RUBY_TOKENS, 120);
    let paths = [
        "config/jets/bootstrap.rb",
        "config/jets/deploy/dev.rb",
        "config/jets/vpc.rb",
    ];
    let mut rng = Rng::new(77);
    let mut ok = 0;
    for chunk in all.chunks(3).take(CASES / 2) {
        let files: Vec<(PathBuf, String)> = chunk
            .iter()
            .map(|text| (PathBuf::from(rng.pick(&paths)), text.clone()))
            .collect();
        match catch_unwind(|| jets_config::from_sources(&files)) {
            Ok(Ok(settings)) => {
                ok += 1;
                assert_eq!(settings.files_read.len(), files.len(), "{files:?}");
                for w in &settings.warnings {
                    assert!(w.line >= 1, "warning without a line: {w} in {files:?}");
                }
            }
            Ok(Err(e)) => single_line(
                "jets_config::from_sources",
                &format!("{files:?}"),
                &e.to_string(),
            ),
            Err(_) => panic!("jets_config::from_sources panicked on {files:?}"),
        }
    }
    assert!(ok > 0, "no file set was accepted");
}

#[test]
fn templates_never_panic() {
    let json_all = inputs(8, &[TEMPLATE_JSON.to_string()], JSON_TOKENS, 200);
    let yaml_all = inputs(9, &[TEMPLATE_YAML.to_string()], YAML_TOKENS, 200);
    let ctx = TemplateContext {
        region: Some("eu-west-1".into()),
        account: Some("111122223333".into()),
        stack_name: Some("demo-dev".into()),
        ..TemplateContext::default()
    };
    // Without an extension the reader decides by the first character; give it both kinds.
    let mixed: Vec<String> = json_all
        .iter()
        .step_by(2)
        .chain(yaml_all.iter().step_by(2))
        .cloned()
        .collect();
    let mut ok = 0;
    let mut derived = 0;
    for (name, all) in [
        ("fuzz.json", &json_all),
        ("fuzz.yml", &yaml_all),
        ("fuzz", &mixed),
    ] {
        ok += survive(
            "template::parse",
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
                derived += 1;
                if derived % 8 != 0 {
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
    let mut rng = Rng::new(10);
    for _ in 0..CASES {
        let bytes: Vec<u8> = (0..rng.below(120)).map(|_| rng.next() as u8).collect();
        if catch_unwind(|| template::parse_bytes("fuzz.yaml", &bytes)).is_err() {
            panic!("template::parse_bytes panicked on {bytes:?}");
        }
    }
    assert!(ok > 0, "no mutation of the seeds stayed a template");
}

#[test]
fn access_denied_never_panics() {
    let seeds: Vec<String> = DENIAL_SEEDS.iter().map(|s| s.to_string()).collect();
    let all = inputs(11, &seeds, DENIAL_TOKENS, 300);
    let mut found = 0;
    for text in &all {
        let denials = catch_unwind(|| access_denied::parse(text))
            .unwrap_or_else(|_| panic!("access_denied::parse panicked on {text:?}"));
        let lines = text.split('\n').count();
        for d in &denials {
            found += 1;
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
    }
    assert!(found > 0, "no denial survived any mutation");
}

#[test]
fn glob_match_never_panics_and_keeps_its_laws() {
    let mut rng = Rng::new(12);
    let alphabet: Vec<char> = "ab*?:/-ÄßЖ\u{1F600}*?".chars().collect();
    let word = |rng: &mut Rng, max: usize| -> String {
        (0..rng.below(max + 1))
            .map(|_| *rng.pick(&alphabet))
            .collect()
    };
    for _ in 0..CASES * 10 {
        let pattern = word(&mut rng, 12);
        let text = word(&mut rng, 16);
        for case in [Case::Sensitive, Case::Insensitive] {
            let m = catch_unwind(|| glob_match(&pattern, &text, case))
                .unwrap_or_else(|_| panic!("glob_match panicked on {pattern:?} {text:?}"));
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
    }
    // Hostile backtracking input finishes.
    let pattern = "a*".repeat(2_000) + "b";
    let text = "a".repeat(5_000);
    assert!(!glob_match(&pattern, &text, Case::Sensitive));
}
