//! What the user can do about each error.
//!
//! Every usage or input error is shown as one line `iam-doctor: error: …` followed by a
//! `help: …` line. The message says what is wrong and where (file, line, option); the help says
//! what to do. Each error type answers [`Help::help`] with an exhaustive `match`, so a new variant
//! does not compile until it says what the user should do about it.

use crate::aws::network::EndpointUrlError;
use crate::aws::{AwsError, NotFoundKind};
use crate::core::catalog::UnknownName;
use crate::core::jets::FormError;
use crate::core::policy::PolicyError;
use crate::core::principal_ref::PrincipalRefError;
use crate::core::profile::{ProfileError, profile_names};
use crate::core::region::RegionError;
use crate::fact_source::SnapshotError;
use crate::inputs::auth_details::AuthDetailsError;
use crate::inputs::jets_config::ConfigError;
use crate::inputs::organization::OrganizationError;
use crate::inputs::resource_policies::ResourcePoliciesError;
use crate::inputs::ruby::RubySyntaxError;
use crate::inputs::simulate::SimulateInputError;
use crate::inputs::template::TemplateError;

/// An error that can tell the user what to do about it: the text of the `help:` line.
pub trait Help: std::fmt::Display {
    /// One line, never empty.
    fn help(&self) -> String;
}

const AUTH_DETAILS: &str = "save the output of `aws iam get-account-authorization-details` unchanged as `authorization-details.json` (or collect it with `iam-doctor snapshot --out DIR`)";

impl Help for PolicyError {
    fn help(&self) -> String {
        "fix the policy document at that path; IAM's grammar is at https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html".to_owned()
    }
}

impl Help for FormError {
    fn help(&self) -> String {
        match self {
            FormError::InvalidHash { .. } => "write a statement hash with `Action:` (and `Effect:`, `Resource:`), a hash with `Statement:`, or a whole policy with `PolicyDocument:`".to_owned(),
            FormError::InvalidValue { .. } => "use a string (`\"s3\"`), an array of strings, or a policy hash, as Jets accepts".to_owned(),
        }
    }
}

impl Help for ProfileError {
    fn help(&self) -> String {
        match self {
            ProfileError::Unknown { .. } => {
                format!("the profiles are: {}", profile_names().join(", "))
            }
            ProfileError::Broken { .. } => {
                "the embedded profile is part of the binary: reinstall iam-doctor, or report the message".to_owned()
            }
            ProfileError::Form { source, .. } => source.help(),
            ProfileError::JetsFails { failure, .. } => failure.fix(),
        }
    }
}

impl Help for UnknownName {
    fn help(&self) -> String {
        match self {
            UnknownName::Service { .. } | UnknownName::Action { .. } => "check the spelling against the Service Authorization Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html".to_owned(),
            UnknownName::NoMatch { .. } => "check the wildcard pattern: it must match at least one action of the service".to_owned(),
        }
    }
}

impl Help for PrincipalRefError {
    fn help(&self) -> String {
        match self {
            PrincipalRefError::InvalidArn { expected, .. } => format!(
                "pass an ARN of the form `arn:aws:iam::123456789012:{expected}/NAME`, or just the name"
            ),
            PrincipalRefError::NotRoleOrUser { .. } => {
                "pass `--role NAME` or `--user NAME` to check one".to_owned()
            }
        }
    }
}

/// How to make a snapshot folder.
const CREATE_SNAPSHOT: &str = "create it with `iam-doctor snapshot --out DIR`, or save `aws iam get-account-authorization-details` output there as `authorization-details.json`";

impl Help for SnapshotError {
    fn help(&self) -> String {
        match self {
            SnapshotError::NotAFolder { .. } => format!(
                "pass the folder that holds `authorization-details.json` (and optionally `organization.json`); {CREATE_SNAPSHOT}"
            ),
            SnapshotError::Missing { .. } => CREATE_SNAPSHOT.to_owned(),
            SnapshotError::Unreadable { .. } => "check that the folder is readable".to_owned(),
            SnapshotError::Details(e) => e.help(),
            SnapshotError::Organization(e) => e.help(),
            SnapshotError::ResourcePolicies(e) => e.help(),
            SnapshotError::NoNamedPrincipal => {
                "name the principal to check: the snapshot has no caller or stack".to_owned()
            }
            SnapshotError::OtherAccount { .. } => {
                "collect `organization.json` for the principal's account (`iam-doctor snapshot --out DIR`)".to_owned()
            }
        }
    }
}

impl Help for AuthDetailsError {
    fn help(&self) -> String {
        match self {
            AuthDetailsError::Read { .. } => {
                "check that the file exists and is readable".to_owned()
            }
            AuthDetailsError::Json { .. } | AuthDetailsError::Shape { .. } => {
                AUTH_DETAILS.to_owned()
            }
            AuthDetailsError::Field { .. } => format!(
                "the field must be as `aws iam get-account-authorization-details` writes it: {AUTH_DETAILS}"
            ),
            AuthDetailsError::NotFound { kind, .. } => format!(
                "pass a {kind} name or ARN that is in the file (`jq -r '.RoleDetailList[].RoleName'` lists the roles), or collect the details again"
            ),
            AuthDetailsError::MissingPolicy { .. }
            | AuthDetailsError::MissingDefaultVersion { .. } => {
                "collect the authorization details again without `--filter`, or with `iam-doctor snapshot --out DIR`".to_owned()
            }
        }
    }
}

impl Help for OrganizationError {
    fn help(&self) -> String {
        match self {
            OrganizationError::Read { .. } => {
                "check that the file exists and is readable".to_owned()
            }
            OrganizationError::Invalid { .. } | OrganizationError::Order { .. } => "write `organization.json` as the README shows (`account_id`, then `ancestors` from the root to the account), or collect it with `iam-doctor snapshot --out DIR`".to_owned(),
        }
    }
}

impl Help for RubySyntaxError {
    fn help(&self) -> String {
        "fix the file (`ruby -c FILE` shows the error); Jets cannot load it either".to_owned()
    }
}

impl Help for ConfigError {
    fn help(&self) -> String {
        ConfigError::help(self)
    }
}

impl Help for SimulateInputError {
    fn help(&self) -> String {
        match self {
            SimulateInputError::Shape(_) => "the input is JSON with `principal`, `action`, optional `resource`, `context`, `identity_policies`, `permissions_boundary`, `scps` and `rcps`: see the README's what-if section".to_owned(),
            SimulateInputError::Policy(e) => e.help(),
            SimulateInputError::ContextValue { .. } => {
                "give the key a string, number or boolean, or an array of them".to_owned()
            }
        }
    }
}

impl Help for ResourcePoliciesError {
    fn help(&self) -> String {
        match self {
            ResourcePoliciesError::Read { .. } => {
                "check the file's permissions, or remove it to check without resource policies"
                    .to_owned()
            }
            ResourcePoliciesError::NotJson { .. } | ResourcePoliciesError::Field { .. } => {
                "the layout is {\"resources\": [{\"arn\": \"...\", \"policy\": \"<document>\" | null}, {\"arn\": \"...\", \"unreadable\": \"why\"}]}; `iam-doctor snapshot` writes it".to_owned()
            }
        }
    }
}

impl Help for TemplateError {
    fn help(&self) -> String {
        match self {
            TemplateError::NotFound { .. } | TemplateError::Read { .. } => {
                "check the path given to `--template` and that the file is readable".to_owned()
            }
            TemplateError::NotUtf8 { .. } => {
                "save the template as UTF-8 text (JSON or YAML)".to_owned()
            }
            TemplateError::InvalidJson { .. } | TemplateError::InvalidYaml { .. } => {
                "fix the template at that line (`aws cloudformation validate-template` reports the same)".to_owned()
            }
            TemplateError::UnsupportedTag { .. } => "write the intrinsic function in its long form (`Fn::Name:`), or use a CloudFormation short-form tag (`!Ref`, `!Sub`, `!GetAtt`, …)".to_owned(),
            TemplateError::NotAMapping { .. }
            | TemplateError::NoResources { .. }
            | TemplateError::ResourcesNotAMapping { .. } => "pass a CloudFormation template: a mapping with a `Resources` mapping of logical ids to resources".to_owned(),
        }
    }
}

impl Help for AwsError {
    fn help(&self) -> String {
        let guidance = match self {
            AwsError::NoCredentials { .. } => {
                "set AWS_PROFILE or pass `--aws-profile NAME`, run `aws sso login`, or check offline with `--offline DIR`"
            }
            AwsError::InvalidCredentials { .. } => {
                "refresh the credentials (`aws sso login`, or new access keys) and run again"
            }
            AwsError::AccessDenied { .. } => {
                "attach the policy `iam-doctor self-policy` prints to the caller, or check offline with `--offline DIR`"
            }
            AwsError::RoleNotFound { .. } | AwsError::UserNotFound { .. } => {
                "check the name (IAM names are case-sensitive) and that the credentials are for the principal's account"
            }
            AwsError::StackNotFound { .. } | AwsError::StackResourceNotFound { .. } => {
                "pass the Jets bootstrap stack's name with `--stack` and its region with `--region`, or name the role with `--role`"
            }
            AwsError::NotFound { kind, .. } => match kind {
                NotFoundKind::Stack => {
                    "check the stack name and pass the stack's region with `--region` (stacks are regional)"
                }
                NotFoundKind::Build => {
                    "give the build id as `aws codebuild list-builds-for-project --project-name NAME` prints it (`PROJECT:ID`), with its region in `--region`"
                }
                NotFoundKind::BuildOfProject => {
                    "the project has never run a build in this region: check `--region`, or pass a build id with `--build`"
                }
                NotFoundKind::Project => {
                    "the Jets remote runner's project is `<stack>-remote`: check the stack name and `--region`"
                }
                NotFoundKind::LogGroup | NotFoundKind::LogStream => {
                    "list the groups and streams with `aws logs describe-log-groups` / `describe-log-streams`, and pass their region with `--region`"
                }
            },
            AwsError::NotInOrganization => {
                "nothing to do: only identity policies and boundaries apply"
            }
            AwsError::OrganizationsAccessDenied { .. } => {
                "run from the management account or a delegated administrator, or pass an organization snapshot with `--offline DIR`"
            }
            AwsError::Throttled { .. } => "wait a minute and run again",
            AwsError::Endpoint { .. }
            | AwsError::ConnectionRefused { .. }
            | AwsError::NoAnswer { .. }
            | AwsError::CredentialsNoAnswer { .. }
            | AwsError::InvalidEndpointUrl { .. }
            | AwsError::ProfileNotFound { .. }
            | AwsError::AwsConfigFile { .. } => {
                if let Some(help) = self.network_help() {
                    return help;
                }
                "check the network, `--endpoint-url` and `--region`"
            }
            AwsError::WrongAccount { .. } => {
                "use credentials of the principal's account (`--aws-profile`)"
            }
            AwsError::UnsupportedCaller { .. } => "pass `--role NAME` or `--user NAME`",
            AwsError::Incomplete { .. } | AwsError::Interrupted => {
                "run again; if it persists, check offline with a snapshot (`iam-doctor snapshot --out DIR`)"
            }
            AwsError::Service { .. } => {
                "run again; if it persists, the AWS error code above says what AWS refused"
            }
        };
        match AwsError::help(self) {
            Some(aws_help) => format!("{guidance} (AWS said: {aws_help})"),
            None => guidance.to_owned(),
        }
    }
}

impl Help for EndpointUrlError {
    fn help(&self) -> String {
        match self {
            EndpointUrlError::NotUrl { .. }
            | EndpointUrlError::Scheme { .. }
            | EndpointUrlError::NoHost { .. }
            | EndpointUrlError::Port { .. } => "give a URL such as `https://iam.amazonaws.com` or `http://localhost:5000`, or leave the endpoint unset to use AWS".to_owned(),
        }
    }
}

impl Help for RegionError {
    fn help(&self) -> String {
        match self {
            RegionError::Empty => {
                "give a region such as `us-east-1`, or leave `--region` and AWS_REGION unset".to_owned()
            }
            RegionError::Malformed { .. } => "give a region such as `us-east-1` or `eu-west-1`; `aws account list-regions` lists your account's regions".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The error contract over every variant of every error type: a one-line message and a
    //! non-empty one-line help. The variant lists are exhaustive `match`es, so adding a variant
    //! fails to compile here until a sample of it is added below.

    use super::*;

    /// Names every variant of `$ty` through an exhaustive match, and lists them all.
    macro_rules! variants {
        ($ty:ident { $($variant:ident),* $(,)? }) => {{
            fn name(e: &$ty) -> &'static str {
                match e {
                    $($ty::$variant { .. } => stringify!($variant),)*
                }
            }
            (name as fn(&$ty) -> &'static str, [$(stringify!($variant)),*])
        }};
    }

    fn assert_contract<E: Help>(samples: &[E], name: fn(&E) -> &'static str, all: &[&str]) {
        for e in samples {
            let message = e.to_string();
            let help = e.help();
            assert!(
                !message.is_empty() && !message.contains(['\n', '\r']),
                "{}: message is not one line: {message:?}",
                name(e)
            );
            assert!(
                !help.trim().is_empty() && !help.contains(['\n', '\r']),
                "{}: help is empty or not one line: {help:?}",
                name(e)
            );
        }
        let covered: Vec<&str> = samples.iter().map(name).collect();
        for v in all {
            assert!(covered.contains(v), "variant `{v}` has no sample here");
        }
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn every_policy_error_has_a_help_line() {
        let e = PolicyError {
            policy: s("p"),
            path: s("$.Statement[0]"),
            message: s("bad"),
        };
        assert!(!e.help().is_empty() && !e.to_string().contains('\n'));
        let r = RubySyntaxError {
            line: 3,
            message: s("unexpected end"),
        };
        assert!(!r.help().is_empty() && !r.to_string().contains('\n'));
    }

    #[test]
    fn every_form_and_profile_error_variant_has_a_help_line() {
        let form = || FormError::InvalidHash { policy: s("p") };
        let (name, all) = variants!(FormError {
            InvalidHash,
            InvalidValue
        });
        assert_contract(
            &[
                form(),
                FormError::InvalidValue {
                    policy: s("p"),
                    found: "a number",
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(ProfileError {
            Unknown,
            Broken,
            JetsFails,
            Form
        });
        assert_contract(
            &[
                ProfileError::Unknown {
                    name: s("x"),
                    suggestion: Some(s("jets-ci")),
                },
                ProfileError::Broken {
                    name: s("x"),
                    message: s("bad yaml"),
                },
                ProfileError::JetsFails {
                    key: s("codebuild.iam.policy"),
                    built_by: s("jets bootstrap"),
                    failure: crate::core::jets::JetsFailure::NotAList { found: "a string" },
                },
                ProfileError::Form {
                    key: s("codebuild.iam.policy"),
                    source: form(),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(UnknownName {
            Service,
            Action,
            NoMatch
        });
        assert_contract(
            &[
                UnknownName::Service {
                    given: s("ec3"),
                    suggestion: Some(s("ec2")),
                },
                UnknownName::Action {
                    given: s("s3:GetObjekt"),
                    suggestion: None,
                },
                UnknownName::NoMatch {
                    pattern: s("s3:Frob*"),
                },
            ],
            name,
            &all,
        );
    }

    #[test]
    fn every_input_file_error_variant_has_a_help_line() {
        let (name, all) = variants!(AuthDetailsError {
            Read,
            Json,
            Shape,
            Field,
            NotFound,
            MissingPolicy,
            MissingDefaultVersion
        });
        assert_contract(
            &[
                AuthDetailsError::Read {
                    path: s("a.json"),
                    detail: s("No such file"),
                },
                AuthDetailsError::Json {
                    path: s("a.json"),
                    detail: s("EOF at line 1"),
                },
                AuthDetailsError::Shape {
                    path: s("a.json"),
                    list: "RoleDetailList",
                },
                AuthDetailsError::Field {
                    path: s("a.json"),
                    field: s("RoleDetailList"),
                    expected: "an array",
                },
                AuthDetailsError::NotFound {
                    kind: "role",
                    name: s("x"),
                    suggestion: None,
                },
                AuthDetailsError::MissingPolicy {
                    arn: s("arn:aws:iam::aws:policy/X"),
                    principal: s("r"),
                },
                AuthDetailsError::MissingDefaultVersion {
                    arn: s("arn:aws:iam::aws:policy/X"),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(OrganizationError {
            Read,
            Invalid,
            Order
        });
        assert_contract(
            &[
                OrganizationError::Read {
                    path: s("o.json"),
                    detail: s("denied"),
                },
                OrganizationError::Invalid {
                    path: s("o.json"),
                    detail: s("missing field"),
                },
                OrganizationError::Order {
                    path: s("o.json"),
                    account: s("111122223333"),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(ConfigError {
            MissingProjectDir,
            NotADirectory,
            Read,
            Syntax
        });
        assert_contract(
            &[
                ConfigError::MissingProjectDir { path: "p".into() },
                ConfigError::NotADirectory { path: "p".into() },
                ConfigError::Read {
                    path: "p".into(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                },
                ConfigError::Syntax {
                    path: "p".into(),
                    line: 2,
                    message: s("unexpected end"),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(SimulateInputError {
            Shape,
            Policy,
            ContextValue
        });
        assert_contract(
            &[
                SimulateInputError::Shape(s("missing field `action`")),
                SimulateInputError::Policy(PolicyError {
                    policy: s("p"),
                    path: s("$"),
                    message: s("bad"),
                }),
                SimulateInputError::ContextValue { key: s("aws:x") },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(ResourcePoliciesError {
            Read,
            NotJson,
            Field
        });
        assert_contract(
            &[
                ResourcePoliciesError::Read {
                    path: s("resource-policies.json"),
                    detail: s("permission denied"),
                },
                ResourcePoliciesError::NotJson {
                    path: s("resource-policies.json"),
                    detail: s("expected value at line 1 column 1"),
                },
                ResourcePoliciesError::Field {
                    path: s("resource-policies.json"),
                    field: s("resources[0].arn"),
                    detail: s("must be a string"),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(TemplateError {
            NotFound,
            Read,
            NotUtf8,
            InvalidJson,
            InvalidYaml,
            UnsupportedTag,
            NotAMapping,
            NoResources,
            ResourcesNotAMapping
        });
        assert_contract(
            &[
                TemplateError::NotFound { path: s("t.yml") },
                TemplateError::Read {
                    path: s("t.yml"),
                    kind: std::io::ErrorKind::PermissionDenied,
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                },
                TemplateError::NotUtf8 { path: s("t.yml") },
                TemplateError::InvalidJson {
                    path: s("t.json"),
                    line: Some(1),
                    column: Some(2),
                    message: s("expected value"),
                },
                TemplateError::InvalidYaml {
                    path: s("t.yml"),
                    line: Some(1),
                    column: None,
                    message: s("bad indentation"),
                },
                TemplateError::UnsupportedTag {
                    path: s("t.yml"),
                    tag: s("!Frob"),
                    at: s("Resources.X"),
                },
                TemplateError::NotAMapping { path: s("t.yml") },
                TemplateError::NoResources { path: s("t.yml") },
                TemplateError::ResourcesNotAMapping { path: s("t.yml") },
            ],
            name,
            &all,
        );
    }

    #[test]
    fn every_snapshot_error_variant_has_a_help_line() {
        let (name, all) = variants!(SnapshotError {
            NotAFolder,
            Missing,
            Unreadable,
            Details,
            Organization,
            ResourcePolicies,
            NoNamedPrincipal,
            OtherAccount
        });
        assert_contract(
            &[
                SnapshotError::NotAFolder {
                    dir: s("snap.json"),
                },
                SnapshotError::Missing { dir: s("snap") },
                SnapshotError::Unreadable {
                    dir: s("snap"),
                    detail: s("permission denied"),
                },
                SnapshotError::Details(AuthDetailsError::Read {
                    path: s("snap/authorization-details.json"),
                    detail: s("not found"),
                }),
                SnapshotError::Organization(OrganizationError::Read {
                    path: s("snap/organization.json"),
                    detail: s("denied"),
                }),
                SnapshotError::ResourcePolicies(ResourcePoliciesError::Read {
                    path: s("snap/resource-policies.json"),
                    detail: s("denied"),
                }),
                SnapshotError::NoNamedPrincipal,
                SnapshotError::OtherAccount {
                    file: s("snap/organization.json"),
                    org_account: s("111122223333"),
                    principal: s("deploy"),
                    principal_account: s("444455556666"),
                },
            ],
            name,
            &all,
        );
    }

    #[test]
    fn every_principal_error_variant_has_a_help_line() {
        let (name, all) = variants!(PrincipalRefError {
            InvalidArn,
            NotRoleOrUser
        });
        assert_contract(
            &[
                PrincipalRefError::InvalidArn {
                    arn: s("arn:aws:iam::1:user/bob"),
                    expected: "role",
                },
                PrincipalRefError::NotRoleOrUser {
                    arn: s("arn:aws:iam::1:root"),
                },
            ],
            name,
            &all,
        );
    }

    #[test]
    fn every_option_value_error_variant_has_a_help_line() {
        let (name, all) = variants!(EndpointUrlError {
            NotUrl,
            Scheme,
            NoHost,
            Port
        });
        assert_contract(
            &[
                EndpointUrlError::NotUrl {
                    shown: s("not a url"),
                },
                EndpointUrlError::Scheme {
                    shown: s("ftp://x"),
                    scheme: s("ftp"),
                },
                EndpointUrlError::NoHost {
                    shown: s("http://"),
                },
                EndpointUrlError::Port {
                    shown: s("http://x:99999"),
                    port: s("99999"),
                },
            ],
            name,
            &all,
        );
        let (name, all) = variants!(RegionError { Empty, Malformed });
        assert_contract(
            &[
                RegionError::Empty,
                RegionError::Malformed {
                    shown: s("US-EAST-1"),
                    suggestion: Some(s("us-east-1")),
                },
            ],
            name,
            &all,
        );
    }

    #[test]
    fn every_aws_error_variant_has_a_help_line() {
        let (name, all) = variants!(AwsError {
            NoCredentials,
            InvalidCredentials,
            AccessDenied,
            RoleNotFound,
            UserNotFound,
            StackNotFound,
            NotFound,
            StackResourceNotFound,
            NotInOrganization,
            OrganizationsAccessDenied,
            Throttled,
            Endpoint,
            ConnectionRefused,
            NoAnswer,
            CredentialsNoAnswer,
            InvalidEndpointUrl,
            ProfileNotFound,
            AwsConfigFile,
            WrongAccount,
            UnsupportedCaller,
            Incomplete,
            Interrupted,
            Service
        });
        assert_contract(
            &[
                AwsError::NoCredentials { detail: s("") },
                AwsError::InvalidCredentials {
                    code: s("ExpiredToken"),
                    message: s("expired"),
                },
                AwsError::AccessDenied {
                    api: s("iam:GetRole"),
                    principal_hint: None,
                    message: s(""),
                },
                AwsError::RoleNotFound {
                    name: s("r"),
                    suggestion: None,
                },
                AwsError::UserNotFound {
                    name: s("u"),
                    suggestion: Some(s("v")),
                },
                AwsError::StackNotFound { name: s("st") },
                AwsError::NotFound {
                    kind: NotFoundKind::Stack,
                    name: s("demo-dev"),
                    region: s("eu-west-1"),
                },
                AwsError::NotFound {
                    kind: NotFoundKind::Build,
                    name: s("demo-dev-remote:1"),
                    region: s("eu-west-1"),
                },
                AwsError::NotFound {
                    kind: NotFoundKind::BuildOfProject,
                    name: s("demo-dev-remote"),
                    region: s("eu-west-1"),
                },
                AwsError::NotFound {
                    kind: NotFoundKind::Project,
                    name: s("demo-dev-remote"),
                    region: s("eu-west-1"),
                },
                AwsError::NotFound {
                    kind: NotFoundKind::LogGroup,
                    name: s("/aws/codebuild/x"),
                    region: s("eu-west-1"),
                },
                AwsError::NotFound {
                    kind: NotFoundKind::LogStream,
                    name: s("/aws/codebuild/x/y"),
                    region: s("eu-west-1"),
                },
                AwsError::StackResourceNotFound {
                    stack: s("st"),
                    logical_id: s("CodebuildRole"),
                },
                AwsError::NotInOrganization,
                AwsError::OrganizationsAccessDenied {
                    api: s("organizations:ListPolicies"),
                    message: s("denied"),
                },
                AwsError::Throttled {
                    api: s("iam:GetRole"),
                },
                AwsError::Endpoint {
                    url: Some(s("http://localhost:1")),
                    detail: s("connection refused"),
                },
                AwsError::ConnectionRefused {
                    api: s("sts:GetCallerIdentity"),
                    endpoint: s("http://localhost:1"),
                },
                AwsError::NoAnswer {
                    api: s("iam:GetRole"),
                    endpoint: s("http://localhost:1"),
                    seconds: 120,
                    sent: true,
                },
                AwsError::CredentialsNoAnswer { seconds: 120 },
                AwsError::InvalidEndpointUrl {
                    origin: s("`--endpoint-url`"),
                    error: EndpointUrlError::NoHost {
                        shown: s("http://"),
                    },
                },
                AwsError::ProfileNotFound {
                    name: s("nosuchprofile"),
                    config_file: s("~/.aws/config"),
                    credentials_file: s("~/.aws/credentials"),
                    known: vec![],
                },
                AwsError::AwsConfigFile {
                    what: "config",
                    path: s("~/.aws/config"),
                    reason: s("it is a FIFO"),
                },
                AwsError::WrongAccount {
                    arn: s("arn:aws:iam::111122223333:role/r"),
                    account: s("111122223333"),
                    caller_account: s("444455556666"),
                },
                AwsError::UnsupportedCaller {
                    arn: s("arn:aws:iam::111122223333:root"),
                },
                AwsError::Incomplete {
                    api: s("iam:ListRolePolicies"),
                    detail: s("no marker"),
                },
                AwsError::Interrupted,
                AwsError::Service {
                    api: s("iam:GetRole"),
                    code: s("ServiceFailure"),
                    message: s("boom"),
                },
            ],
            name,
            &all,
        );
    }
}
