//! Errors from the live AWS adapter, worded for the person running the command.
//!
//! SDK errors are classified by their AWS error code (`ProvideErrorMetadata`), never by their
//! debug text, because codes are a stable contract and messages are not. Each variant reads as
//! one actionable line; AWS's own message, when it adds something, is kept for [`AwsError::help`]
//! so the command layer can print it on a separate help line.

use std::error::Error as StdError;
use std::fmt::Write as _;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::api::Api;
use super::network::MAX_ATTEMPTS;

/// Why a live AWS lookup could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The credential chain (environment, profiles, SSO, `credential_process`, IMDS/ECS) found
    /// nothing usable. `detail` is the provider's own explanation.
    #[error("no AWS credentials found: set AWS_PROFILE or run `aws sso login`, or use --offline")]
    NoCredentials { detail: String },

    /// AWS rejected the credentials that were found (expired, revoked, wrong partition).
    #[error(
        "AWS rejected the credentials (`{code}`): refresh them, for example with `aws sso login`"
    )]
    InvalidCredentials { code: String, message: String },

    /// The caller lacks an IAM permission this tool needs.
    #[error(
        "`{api}` was denied for {}: grant it (see `iam-doctor self-policy`)",
        caller_phrase(.principal_hint.as_deref())
    )]
    AccessDenied {
        api: String,
        principal_hint: Option<String>,
        message: String,
    },

    #[error("role `{name}` not found{}", did_you_mean(.suggestion.as_deref()))]
    RoleNotFound {
        name: String,
        suggestion: Option<String>,
    },

    #[error("user `{name}` not found{}", did_you_mean(.suggestion.as_deref()))]
    UserNotFound {
        name: String,
        suggestion: Option<String>,
    },

    #[error("stack `{name}` not found in this account and region: check the stack name and region")]
    StackNotFound { name: String },

    /// A stack, build, CodeBuild project or log group named as evidence of a failed deploy that
    /// does not exist in the region searched.
    #[error("{kind} `{name}` not found in region `{region}`")]
    NotFound {
        kind: NotFoundKind,
        name: String,
        region: String,
    },

    #[error("stack `{stack}` has no resource `{logical_id}` with a physical id")]
    StackResourceNotFound { stack: String, logical_id: String },

    /// `AWSOrganizationsNotInUseException`: no SCPs or RCPs can apply.
    #[error("the account is not in an AWS organization, so no SCPs or RCPs apply")]
    NotInOrganization,

    /// A member account without delegated administration cannot read SCPs.
    #[error(
        "SCPs cannot be read: `{api}` needs the management account or a delegated administrator; use an organization snapshot instead"
    )]
    OrganizationsAccessDenied { api: String, message: String },

    /// Still throttled after every retry.
    #[error("`{api}` was still throttled after {MAX_ATTEMPTS} attempts: retry later")]
    Throttled { api: String },

    /// DNS failure, TLS failure or another connection error.
    #[error("cannot reach {}: {detail}", endpoint_phrase(.url.as_deref()))]
    Endpoint { url: Option<String>, detail: String },

    /// The endpoint's host is up and nothing listens on its port.
    #[error("`{api}` could not connect: `{endpoint}` refused the connection")]
    ConnectionRefused { api: String, endpoint: String },

    /// The run's time limit (`--timeout`) passed while a request was waiting for an answer
    /// (`sent`), or before it could be sent because the requests ahead of it did not answer.
    #[error(
        "{} within {seconds} s (the run's time limit, `--timeout`)",
        no_answer_phrase(.api, .endpoint, *.sent)
    )]
    NoAnswer {
        api: String,
        endpoint: String,
        seconds: u64,
        sent: bool,
    },

    /// The credential chain (a `credential_process`, SSO, the instance metadata service) did
    /// not produce credentials within the run's time limit.
    #[error(
        "the AWS credential provider did not answer within {seconds} s (the run's time limit, `--timeout`)"
    )]
    CredentialsNoAnswer { seconds: u64 },

    /// An endpoint URL from `--endpoint-url`, `AWS_ENDPOINT_URL` or the profile is malformed.
    #[error("{origin}: {error}")]
    InvalidEndpointUrl {
        origin: String,
        error: super::network::EndpointUrlError,
    },

    /// `--aws-profile` (or `AWS_PROFILE`) names a profile neither shared file defines.
    #[error(
        "AWS profile `{name}` does not exist: it is in neither `{config_file}` nor `{credentials_file}`"
    )]
    ProfileNotFound {
        name: String,
        config_file: String,
        credentials_file: String,
        known: Vec<String>,
    },

    /// A shared AWS config or credentials file that cannot be read without blocking or failing.
    #[error("cannot read the AWS {what} file `{path}`: {reason}")]
    AwsConfigFile {
        what: &'static str,
        path: String,
        reason: String,
    },

    /// The principal named by ARN lives in another account than the credentials.
    #[error(
        "`{arn}` belongs to account `{account}` but the credentials are for account `{caller_account}`: use a profile for `{account}`"
    )]
    WrongAccount {
        arn: String,
        account: String,
        caller_account: String,
    },

    /// The caller is the root user or a federated user, which carry no IAM policies to check.
    #[error("the caller `{arn}` is not an IAM role or user: name a role or user to check")]
    UnsupportedCaller { arn: String },

    /// A response lacked something it must contain (a truncated page without a marker, a
    /// policy without a document). Results would be incomplete, so the lookup stops.
    #[error("`{api}` returned an incomplete response: {detail}")]
    Incomplete { api: String, detail: String },

    /// The request limiter was shut down while requests were queued.
    #[error("AWS requests were cancelled before they were sent")]
    Interrupted,

    /// Any other AWS error, with its code.
    #[error("`{api}` failed with `{code}`: {message}")]
    Service {
        api: String,
        code: String,
        message: String,
    },
}

impl AwsError {
    /// The AWS error code behind this error, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } | Self::InvalidCredentials { code, .. } => Some(code),
            Self::AccessDenied { .. } | Self::OrganizationsAccessDenied { .. } => {
                Some("AccessDenied")
            }
            Self::NotInOrganization => Some("AWSOrganizationsNotInUseException"),
            Self::Throttled { .. } => Some("Throttling"),
            _ => None,
        }
    }

    /// What to do about a connection problem, for the help line.
    pub fn network_help(&self) -> Option<String> {
        Some(match self {
            Self::ConnectionRefused { .. } => "check `--endpoint-url` / `AWS_ENDPOINT_URL` (is the emulator or proxy running on that port?), or use --offline".to_string(),
            Self::NoAnswer { .. } => "the endpoint accepted the connection but sent no answer: check the network path (proxy, firewall, VPC endpoint) and `--endpoint-url`, or raise `--timeout SECONDS`".to_string(),
            Self::CredentialsNoAnswer { .. } => "check the profile's `credential_process`, run `aws sso login`, or check the instance metadata service; or raise `--timeout SECONDS`".to_string(),
            Self::Endpoint { .. } => "check the network, `--endpoint-url` / `AWS_ENDPOINT_URL` and `--region`, or use --offline".to_string(),
            Self::InvalidEndpointUrl { .. } => "give a URL such as `https://iam.amazonaws.com` or `http://localhost:5000`, or leave the endpoint unset to use AWS".to_string(),
            Self::ProfileNotFound { known, .. } if known.is_empty() => "no profile is defined there: create one with `aws configure --profile NAME`, or set AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE".to_string(),
            Self::ProfileNotFound { known, .. } => format!("profiles defined there: {}", known.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")),
            Self::AwsConfigFile { .. } => "point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a regular file".to_string(),
            _ => return None,
        })
    }

    /// Detail for a separate help line: AWS's own message or the provider's explanation.
    pub fn help(&self) -> Option<&str> {
        let text = match self {
            Self::NoCredentials { detail } => detail,
            Self::InvalidCredentials { message, .. }
            | Self::AccessDenied { message, .. }
            | Self::OrganizationsAccessDenied { message, .. } => message,
            _ => return None,
        };
        (!text.is_empty()).then_some(text.as_str())
    }

    pub(crate) fn incomplete(api: Api, detail: impl Into<String>) -> Self {
        Self::Incomplete {
            api: api.action().to_string(),
            detail: detail.into(),
        }
    }
}

/// What was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFoundKind {
    Stack,
    Build,
    /// A project without any build.
    BuildOfProject,
    Project,
    LogGroup,
    LogStream,
}

impl std::fmt::Display for NotFoundKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stack => "stack",
            Self::Build => "build",
            Self::BuildOfProject => "a build of the project",
            Self::Project => "CodeBuild project",
            Self::LogGroup => "log group",
            Self::LogStream => "log stream",
        })
    }
}

fn caller_phrase(hint: Option<&str>) -> String {
    hint.map_or_else(|| "the caller".to_string(), |p| format!("`{p}`"))
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(", did you mean `{s}`?"))
}

fn no_answer_phrase(api: &str, endpoint: &str, sent: bool) -> String {
    if sent {
        format!("`{api}` got no answer from `{endpoint}`")
    } else {
        format!("`{api}` was not sent: the requests ahead of it got no answer from `{endpoint}`")
    }
}

fn endpoint_phrase(url: Option<&str>) -> String {
    url.map_or_else(|| "AWS".to_string(), |u| format!("`{u}`"))
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// The same list the SDK's retry classifier treats as throttling, so "still throttled" means
/// the retries were really spent on throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
];

const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidAccessKeyId",
];

/// What the mapping needs to know about the session to word an error.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ErrorContext<'a> {
    /// The endpoint override, if any, to name in connection errors.
    pub endpoint: Option<&'a str>,
    /// The caller's ARN, once known, to name in access-denied errors.
    pub caller: Option<&'a str>,
    /// The run's time limit, to word an SDK timeout as the run's.
    pub run_limit: Option<std::time::Duration>,
}

/// Classifies an SDK error by its AWS error code.
pub(crate) fn from_sdk<E>(
    api: Api,
    err: &SdkError<E, HttpResponse>,
    ctx: ErrorContext<'_>,
) -> AwsError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            from_code(
                api,
                service.err().code(),
                service.err().message(),
                status,
                ctx,
            )
        }
        SdkError::ResponseError(response) => AwsError::Service {
            api: api.action().to_string(),
            code: format!("HTTP {}", response.raw().status().as_u16()),
            message: "the response could not be read".to_string(),
        },
        SdkError::DispatchFailure(failure)
            if failure
                .as_connector_error()
                .is_some_and(super::network::is_refused) =>
        {
            AwsError::ConnectionRefused {
                api: api.action().to_string(),
                endpoint: ctx.endpoint.unwrap_or("the AWS endpoint").to_string(),
            }
        }
        SdkError::DispatchFailure(failure) if failure.is_timeout() => no_answer(api, ctx),
        SdkError::DispatchFailure(failure) if failure.is_io() => AwsError::Endpoint {
            url: ctx.endpoint.map(str::to_string),
            detail: innermost(err),
        },
        SdkError::TimeoutError(_) => no_answer(api, ctx),
        _ => AwsError::Service {
            api: api.action().to_string(),
            code: "RequestFailed".to_string(),
            message: chain(err),
        },
    }
}

/// An SDK timeout (connect, attempt or operation) after the retries the run allowed.
fn no_answer(api: Api, ctx: ErrorContext<'_>) -> AwsError {
    AwsError::NoAnswer {
        api: api.action().to_string(),
        endpoint: ctx.endpoint.unwrap_or("the AWS endpoint").to_string(),
        seconds: ctx.run_limit.map_or(0, |d| d.as_secs()),
        sent: true,
    }
}

pub(crate) fn from_code(
    api: Api,
    code: Option<&str>,
    message: Option<&str>,
    status: u16,
    ctx: ErrorContext<'_>,
) -> AwsError {
    let message = message.map(tidy).unwrap_or_default();
    let api_name = api.action().to_string();
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        return AwsError::Service {
            api: api_name,
            code: format!("HTTP {status}"),
            message: if message.is_empty() {
                format!(
                    "the endpoint answered HTTP {status} without an AWS error code; it may not implement this API"
                )
            } else {
                message
            },
        };
    };
    if ACCESS_DENIED.contains(&code) {
        if api.is_organizations() {
            return AwsError::OrganizationsAccessDenied {
                api: api_name,
                message,
            };
        }
        return AwsError::AccessDenied {
            api: api_name,
            principal_hint: ctx.caller.map(str::to_string),
            message,
        };
    }
    if code == "AWSOrganizationsNotInUseException" {
        return AwsError::NotInOrganization;
    }
    if THROTTLING.contains(&code) {
        return AwsError::Throttled { api: api_name };
    }
    if BAD_CREDENTIALS.contains(&code) {
        return AwsError::InvalidCredentials {
            code: code.to_string(),
            message,
        };
    }
    AwsError::Service {
        api: api_name,
        code: code.to_string(),
        message,
    }
}

/// AWS messages end with a period and sometimes span lines; error lines do neither.
fn tidy(message: &str) -> String {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.trim_end_matches('.').to_string()
}

/// An error and its sources on one line, secrets redacted (see
/// [`redact_secrets`](super::network::redact_secrets)).
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.contains(&text) {
            let _ = write!(out, ": {text}");
        }
        source = inner.source();
    }
    super::network::redact_secrets(&tidy(&out))
}

/// The deepest cause, which for connection failures names the real problem
/// ("Connection refused", "failed to lookup address").
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut last: &(dyn StdError + 'static) = err;
    while let Some(inner) = last.source() {
        last = inner;
    }
    super::network::redact_secrets(&tidy(&last.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_api_and_self_policy() {
        let e = from_code(
            Api::SimulatePrincipalPolicy,
            Some("AccessDenied"),
            Some("User: x is not authorized."),
            403,
            ErrorContext::default(),
        );
        assert_eq!(
            e.to_string(),
            "`iam:SimulatePrincipalPolicy` was denied for the caller: grant it (see `iam-doctor self-policy`)"
        );
        assert_eq!(e.help(), Some("User: x is not authorized"));
    }

    #[test]
    fn organizations_access_denied_is_its_own_case() {
        let e = from_code(
            Api::ListParents,
            Some("AccessDeniedException"),
            None,
            400,
            ErrorContext::default(),
        );
        assert!(matches!(e, AwsError::OrganizationsAccessDenied { .. }));
    }

    #[test]
    fn throttling_and_not_in_org_codes() {
        let ctx = ErrorContext::default();
        let e = from_code(
            Api::DescribePolicy,
            Some("TooManyRequestsException"),
            None,
            400,
            ctx,
        );
        assert_eq!(
            e,
            AwsError::Throttled {
                api: "organizations:DescribePolicy".into()
            }
        );
        let e = from_code(
            Api::DescribeOrganization,
            Some("AWSOrganizationsNotInUseException"),
            None,
            400,
            ctx,
        );
        assert_eq!(e, AwsError::NotInOrganization);
    }

    #[test]
    fn missing_code_falls_back_to_status() {
        let e = from_code(
            Api::SimulatePrincipalPolicy,
            None,
            None,
            500,
            ErrorContext::default(),
        );
        assert_eq!(e.code(), Some("HTTP 500"));
    }

    #[test]
    fn suggestions_read_as_one_line() {
        let e = AwsError::RoleNotFound {
            name: "deploy-rol".into(),
            suggestion: Some("deploy-role".into()),
        };
        assert_eq!(
            e.to_string(),
            "role `deploy-rol` not found, did you mean `deploy-role`?"
        );
    }
}
