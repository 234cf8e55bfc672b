//! Structured denials from pasted AWS error text.
//!
//! People arrive with whatever their tool printed: a CodeBuild log full of colour codes, a
//! CloudFormation event copied from the console or from `describe-stack-events` JSON, an AWS CLI
//! or SDK exception, a Terraform diagnostic. Buried in it is usually the only first-hand account
//! of the failure AWS will ever give: who was denied, which action, on which resource and, since
//! 2021, which *type* of policy said no (and, more recently, for requests within one account or
//! organization, which policy). Everything the tool explains afterwards starts from those facts,
//! so this reader recovers them as faithfully as the paste allows and never guesses beyond it:
//!
//! - the policy type is taken only from AWS's own wording (see [`Blamed`]); a message without
//!   one is [`Blamed::Unspecified`], not an assumed identity-policy gap;
//! - when only an API operation is known, the action is qualified with a service only when the
//!   paste names the service (see [`Denial::action`]);
//! - a message that names neither an action nor an operation (a bare `Access Denied`) is not
//!   reported, because there is nothing to check it against.
//!
//! Pastes are hostile input: arbitrary size, binary junk, half-escaped JSON. All matching uses the
//! `regex` crate, whose matching time is linear in the input, and nothing here panics.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;

/// One denial AWS reported, as recovered from the paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// The denied principal as AWS printed it: usually an ARN
    /// (`arn:aws:sts::123456789012:assumed-role/Name/Session`), sometimes a bare name or
    /// `anonymous`. `None` when the message does not say.
    pub principal: Option<String>,
    /// The denied action. `service:Action` when the paste names the service, either in the
    /// message itself or in the SDK's wrapping (`operation error S3: PutObject`,
    /// `(Service: Lambda, …)`, or the EC2-only error code `UnauthorizedOperation`). Otherwise
    /// the bare API operation name with no colon (`CreateBucket`), which [`Denial::service`]
    /// reports as `None`: the service is unknown, not guessed.
    pub action: String,
    /// The resource as AWS printed it: an ARN, `*`, or IAM's older `role name` form.
    pub resource: Option<String>,
    /// Which policy type AWS says denied the request.
    pub blamed: Blamed,
    /// The denying policy's ARN, which AWS appends to explicit denies for same-account and
    /// same-organization requests (`…in a service control policy: arn:aws:organizations::…`).
    pub policy_arn: Option<String>,
    /// The error code AWS returned (`AccessDenied`, `AccessDeniedException`,
    /// `UnauthorizedOperation`, …). From CloudFormation, its handler error code when the
    /// service's own code is not quoted.
    pub error_code: Option<String>,
    /// The blob after `Encoded authorization failure message:`, for
    /// `aws sts decode-authorization-message`.
    pub encoded_message: Option<String>,
    /// The 1-based line of the paste where the message starts.
    pub line: usize,
    /// The message as printed, colour codes and JSON escaping removed and whitespace collapsed.
    pub raw: String,
}

impl Denial {
    /// The IAM service prefix of [`Denial::action`], `None` when only the operation is known.
    pub fn service(&self) -> Option<&str> {
        self.action.split_once(':').map(|(service, _)| service)
    }
}

/// The policy type AWS blames, one variant per wording AWS prints.
///
/// AWS names only one policy type even when several deny, and reports an SCP's implicit deny
/// with the explicit-deny wording; the variant records what was said, not the whole truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blamed {
    /// "with an explicit deny in a service control policy" (also printed for an SCP that
    /// merely fails to allow).
    ScpExplicitDeny,
    /// "with an explicit deny in a resource control policy".
    RcpExplicitDeny,
    /// "with an explicit deny in an identity-based policy".
    IdentityExplicitDeny,
    /// "with an explicit deny in a resource-based policy".
    ResourceExplicitDeny,
    /// "with an explicit deny in a permissions boundary".
    BoundaryExplicitDeny,
    /// "with an explicit deny in a session policy" (the IAM User Guide also shows "sessions
    /// policy").
    SessionExplicitDeny,
    /// "with an explicit deny in a VPC endpoint policy".
    VpcEndpointExplicitDeny,
    /// "with an explicit deny in a VPC endpoint policy transitively through a service control
    /// policy": an SCP of the endpoint owner's organization, reached through the endpoint.
    VpcEndpointScpExplicitDeny,
    /// "with an explicit deny in the role trust policy".
    TrustPolicyExplicitDeny,
    /// "with an explicit deny" with no policy type (the wording before 2021), or a type this
    /// reader does not know.
    UnspecifiedExplicitDeny,
    /// "because no identity-based policy allows the … action".
    NoIdentityPolicy,
    /// "because no resource-based policy allows the … action".
    NoResourcePolicy,
    /// "because no permissions boundary allows the … action".
    BoundaryImplicitDeny,
    /// "because no session policy allows the … action".
    NoSessionPolicy,
    /// "because no VPC endpoint policy allows the … action".
    NoVpcEndpointPolicy,
    /// "because no role trust policy allows the … action".
    NoTrustPolicy,
    /// No policy type given: the older wording without a reason, EC2's "You are not authorized
    /// to perform this operation", CloudFormation's "API: s3:CreateBucket Access Denied", or an
    /// implicit-deny type this reader does not know.
    Unspecified,
}

impl Blamed {
    /// True when AWS says a `Deny` statement matched, so adding an `Allow` cannot help.
    pub fn is_explicit(self) -> bool {
        matches!(
            self,
            Self::ScpExplicitDeny
                | Self::RcpExplicitDeny
                | Self::IdentityExplicitDeny
                | Self::ResourceExplicitDeny
                | Self::BoundaryExplicitDeny
                | Self::SessionExplicitDeny
                | Self::VpcEndpointExplicitDeny
                | Self::VpcEndpointScpExplicitDeny
                | Self::TrustPolicyExplicitDeny
                | Self::UnspecifiedExplicitDeny
        )
    }

    fn explicit(policy_type: Option<&str>) -> Self {
        let Some(kind) = policy_type.map(words) else {
            return Self::UnspecifiedExplicitDeny;
        };
        if kind.contains("transitively") {
            return Self::VpcEndpointScpExplicitDeny;
        }
        match kind.as_str() {
            "service control policy" => Self::ScpExplicitDeny,
            "resource control policy" => Self::RcpExplicitDeny,
            "identity-based policy" => Self::IdentityExplicitDeny,
            "resource-based policy" => Self::ResourceExplicitDeny,
            "permissions boundary" | "permissions boundary policy" | "permission boundary" => {
                Self::BoundaryExplicitDeny
            }
            "session policy" | "sessions policy" => Self::SessionExplicitDeny,
            "vpc endpoint policy" => Self::VpcEndpointExplicitDeny,
            "role trust policy" | "trust policy" => Self::TrustPolicyExplicitDeny,
            _ => Self::UnspecifiedExplicitDeny,
        }
    }

    fn implicit(policy_type: &str) -> Self {
        match words(policy_type).as_str() {
            "identity-based policy" | "identity-based policies" => Self::NoIdentityPolicy,
            "resource-based policy" => Self::NoResourcePolicy,
            "permissions boundary" | "permission boundary" => Self::BoundaryImplicitDeny,
            "session policy" => Self::NoSessionPolicy,
            "vpc endpoint policy" => Self::NoVpcEndpointPolicy,
            "role trust policy" | "trust policy" => Self::NoTrustPolicy,
            _ => Self::Unspecified,
        }
    }
}

/// Every distinct denial in `text`, in the order first seen.
///
/// Denials with the same principal, action, resource and policy type are reported once (the
/// same message is often printed by a tool and again in its summary); details only a later copy
/// carries (error code, encoded message, policy ARN) are kept.
#[must_use]
pub fn parse(text: &str) -> Vec<Denial> {
    let norm = normalize(text);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(norm.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset).max(1);

    let mut found = Vec::new();
    let mut current: Option<Message> = None;
    let mut consumed = 0;
    for (start, end, event) in events(&norm) {
        if start < consumed {
            continue;
        }
        consumed = end;
        let attachable = current
            .as_ref()
            .is_some_and(|m| adjacent(&norm, m.end, start));
        match event {
            Event::Header(header) => {
                found.extend(current.take().and_then(|m| m.finish(&norm, line_of)));
                current = Some(Message::new(start, end, Some(header), None));
            }
            Event::Body(body) => match current.as_mut() {
                Some(m) if attachable && m.body.is_none() && !m.complete => {
                    m.body = Some(body);
                    m.end = end;
                }
                _ => {
                    found.extend(current.take().and_then(|m| m.finish(&norm, line_of)));
                    current = Some(Message::new(start, end, None, Some(body)));
                }
            },
            Event::DeniedText { complete } => match current.as_mut() {
                Some(m) if attachable && m.body.is_none() && !m.complete => {
                    m.denied = true;
                    m.complete = complete;
                    m.end = end;
                }
                _ => {
                    found.extend(current.take().and_then(|m| m.finish(&norm, line_of)));
                    let mut m = Message::new(start, end, None, None);
                    m.denied = true;
                    m.complete = complete;
                    current = Some(m);
                }
            },
            Event::Encoded(blob) => {
                if let Some(m) = current.as_mut().filter(|_| attachable) {
                    m.encoded.get_or_insert(blob);
                    m.end = end;
                }
            }
            Event::Trailer { service, code } => {
                if let Some(m) = current.as_mut().filter(|_| attachable) {
                    if m.trailer_service.is_none() {
                        m.trailer_service = Some(service);
                    }
                    if m.trailer_code.is_none() {
                        m.trailer_code = code;
                    }
                    m.end = end;
                }
            }
            Event::HandlerCode(code) => {
                if let Some(m) = current.as_mut().filter(|_| attachable) {
                    m.handler_code.get_or_insert(code);
                    m.end = end;
                }
            }
        }
    }
    found.extend(current.take().and_then(|m| m.finish(&norm, line_of)));
    dedup(found)
}

/// The parts of the paste that carry meaning, each found independently and then assembled into
/// messages by position.
enum Event {
    /// What the SDK or tool says around the message: error code, operation, service.
    Header(Header),
    /// The message proper: "… is not authorized to perform: …", or Lambda's wording for its
    /// execution role.
    Body(Body),
    /// "You are not authorized to perform this operation" (EC2, which may go on to name the
    /// principal), or, with `complete`, "Access Denied" and "Forbidden", which end the message.
    DeniedText {
        complete: bool,
    },
    Encoded(String),
    /// `(Service: X, Status Code: 403, …)` as appended by the Java SDKs and CloudFormation.
    Trailer {
        service: String,
        code: Option<String>,
    },
    /// CloudFormation's `(RequestToken: …, HandlerErrorCode: X)`.
    HandlerCode(String),
}

#[derive(Default)]
struct Header {
    code: Option<String>,
    operation: Option<String>,
    service: Option<String>,
    action: Option<String>,
}

struct Body {
    principal: Option<String>,
    action: String,
    resource: Option<String>,
    blamed: Blamed,
    policy_arn: Option<String>,
}

/// The pieces of one message gathered so far, spanning `start..end` of the normalized paste.
struct Message {
    start: usize,
    end: usize,
    header: Header,
    body: Option<Body>,
    /// AWS's text says the request was denied, even if no code does.
    denied: bool,
    /// The message text has ended ("Access Denied"); only trailers may follow.
    complete: bool,
    encoded: Option<String>,
    trailer_service: Option<String>,
    trailer_code: Option<String>,
    handler_code: Option<String>,
}

impl Message {
    fn new(start: usize, end: usize, header: Option<Header>, body: Option<Body>) -> Self {
        Self {
            start,
            end,
            header: header.unwrap_or_default(),
            body,
            denied: false,
            complete: false,
            encoded: None,
            trailer_service: None,
            trailer_code: None,
            handler_code: None,
        }
    }

    fn finish(self, norm: &str, line_of: impl Fn(usize) -> usize) -> Option<Denial> {
        let error_code = self
            .header
            .code
            .clone()
            .or_else(|| self.trailer_code.clone())
            .or_else(|| self.handler_code.clone());
        let says_denied = self.denied || self.header.code.as_deref().is_some_and(is_denial_code);
        let body = match self.body {
            Some(body) => body,
            None => {
                let action = if let Some(action) = self.header.action {
                    action
                } else {
                    let operation = self.header.operation?;
                    let ec2_only = error_code
                        .as_deref()
                        .is_some_and(|c| c.ends_with("UnauthorizedOperation"));
                    let prefix = if ec2_only {
                        Some("ec2")
                    } else {
                        self.header
                            .service
                            .as_deref()
                            .or(self.trailer_service.as_deref())
                            .and_then(iam_prefix)
                    };
                    match prefix {
                        Some(prefix) => {
                            format!("{prefix}:{}", action_for_operation(prefix, &operation))
                        }
                        None => operation,
                    }
                };
                if !says_denied {
                    return None;
                }
                Body {
                    principal: None,
                    action,
                    resource: None,
                    blamed: Blamed::Unspecified,
                    policy_arn: None,
                }
            }
        };
        Some(Denial {
            principal: body.principal,
            action: body.action,
            resource: body.resource,
            blamed: body.blamed,
            policy_arn: body.policy_arn,
            error_code,
            encoded_message: self.encoded,
            line: line_of(self.start),
            raw: words_preserving_case(norm.get(self.start..self.end).unwrap_or_default()),
        })
    }
}

/// True when only whitespace and punctuation separate two parts, so they belong to one message.
/// A line break is allowed because tools wrap long messages; other words are not, so messages on
/// neighbouring lines stay apart.
fn adjacent(norm: &str, from: usize, to: usize) -> bool {
    to >= from
        && to - from <= 64
        && norm.get(from..to).is_some_and(|gap| {
            gap.chars()
                .all(|c| c.is_whitespace() || "\"'.,;:".contains(c))
        })
}

fn dedup(found: Vec<Denial>) -> Vec<Denial> {
    type Key = (Option<String>, String, Option<String>, Blamed);
    let mut seen: HashMap<Key, usize> = HashMap::new();
    let mut out: Vec<Denial> = Vec::new();
    for denial in found {
        let key = (
            denial.principal.clone(),
            denial.action.clone(),
            denial.resource.clone(),
            denial.blamed,
        );
        if let Some(first) = seen.get(&key).and_then(|&i| out.get_mut(i)) {
            if first.policy_arn.is_none() {
                first.policy_arn = denial.policy_arn;
            }
            if first.error_code.is_none() {
                first.error_code = denial.error_code;
            }
            if first.encoded_message.is_none() {
                first.encoded_message = denial.encoded_message;
            }
        } else {
            seen.insert(key, out.len());
            out.push(denial);
        }
    }
    out
}

/// Error codes that mean "not permitted" (as opposed to "not authenticated", such as
/// `ExpiredToken` or `InvalidClientTokenId`, which no policy change fixes).
fn is_denial_code(code: &str) -> bool {
    let code = code.strip_prefix("Client.").unwrap_or(code);
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "AuthorizationErrorException"
            | "UnauthorizedAccess"
            | "UnauthorizedAccessException"
            | "403"
            | "Forbidden"
    )
}

/// The IAM service prefix for a service as SDKs name it: Go v2 service IDs (`S3`, `IAM`,
/// `Lambda`), Java v1 client names (`AmazonS3`, `AWSStepFunctions`), Java v2 and CloudFormation
/// names (`Ec2`, `Lambda`). Only unambiguous names are listed; anything else stays unknown.
fn iam_prefix(service: &str) -> Option<&'static str> {
    let key: String = service
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let key = key
        .strip_prefix("amazon")
        .or_else(|| key.strip_prefix("aws"))
        .unwrap_or(&key);
    Some(match key {
        "s3" => "s3",
        "ec2" => "ec2",
        "iam" | "identitymanagement" => "iam",
        "sts" | "securitytokenservice" => "sts",
        "lambda" => "lambda",
        "cloudformation" => "cloudformation",
        "dynamodb" | "dynamodbv2" => "dynamodb",
        "sqs" => "sqs",
        "sns" => "sns",
        "kms" => "kms",
        "cloudwatchlogs" | "logs" => "logs",
        "cloudwatch" => "cloudwatch",
        "apigateway" | "apigatewayv2" => "apigateway",
        "ecr" => "ecr",
        "ecs" => "ecs",
        "eks" => "eks",
        "secretsmanager" => "secretsmanager",
        "ssm" | "simplesystemsmanagement" => "ssm",
        "eventbridge" | "cloudwatchevents" | "events" => "events",
        "sfn" | "stepfunctions" => "states",
        "elasticloadbalancing" | "elasticloadbalancingv2" => "elasticloadbalancing",
        "codebuild" => "codebuild",
        "codepipeline" => "codepipeline",
        "route53" => "route53",
        "cloudfront" => "cloudfront",
        "acm" | "certificatemanager" => "acm",
        "cognitoidentityprovider" => "cognito-idp",
        "kinesis" => "kinesis",
        "firehose" => "firehose",
        "rds" => "rds",
        "organizations" => "organizations",
        "elasticache" => "elasticache",
        "efs" => "elasticfilesystem",
        _ => return None,
    })
}

/// The IAM action an operation is authorized against. They share a name except for a few
/// operations whose permission is named differently; the well-known ones are mapped so that
/// `ListObjectsV2` is checked as `s3:ListBucket` rather than as an action that does not exist.
fn action_for_operation<'a>(prefix: &str, operation: &'a str) -> &'a str {
    match (prefix, operation) {
        ("s3", "ListObjectsV2" | "ListObjects" | "HeadBucket") => "ListBucket",
        ("s3", "ListObjectVersions") => "ListBucketVersions",
        ("s3", "HeadObject") => "GetObject",
        ("s3", "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload") => "PutObject",
        ("lambda", "Invoke" | "InvokeWithResponseStream") => "InvokeFunction",
        _ => operation,
    }
}

/// A regex from a literal pattern; `None` only if the literal were invalid, which the tests rule
/// out. Matching then finds nothing instead of panicking.
fn regex(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// Characters that end an unquoted ARN or resource in running text.
const TOKEN: &str = r#"[^\s"'`<>{}\[\](),;]+"#;
/// `service:Action`, e.g. `s3:PutObject`, `waf-regional:GetWebACL`, `SNS:Publish`.
const ACTION: &str = r"[a-z][a-z0-9-]*:[a-z0-9*?_-]+";

/// "User: P is not authorized to perform: A [on resource: R] [reason[: policy ARN]]".
static NOT_AUTHORIZED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(&format!(
        r#"(?xi)
        (?: (?: \bUser: \s* (?P<principal>[^\s"'`]+) | \b(?P<arn_principal>arn:[^\s"'`]+) ) \s+ )?
        is \s+ not \s+ authorized \s+ to \s+ perform :? \s* (?P<action>{ACTION})
        (?: \s+ on \s+ resource :? \s*
            (?: "(?P<quoted>[^"\n]*)"
              | (?P<resource>(?: (?:role|user|group|instance-profile|policy) \s+ )? {TOKEN} ) ) )?
        (?: \s+
            (?: (?P<explicit> with \s+ an \s+ explicit \s+ deny )
                (?: \s+ in \s+ (?:an?|the) \s+ (?P<explicit_type>
                      vpc \s+ endpoint \s+ policy \s+ transitively \s+ through \s+ an? \s+
                          service \s+ control \s+ policy
                    | (?: [a-z-]+ \s+ ){{0,4}}? (?: policy | boundary (?: \s+ policy )? ) ) )?
              | because \s+ no \s+ (?P<implicit_type>
                    (?: [a-z-]+ \s+ ){{0,4}}? (?: polic(?:y|ies) | boundary | boundaries ) )
                \s+ allows? (?: \s+ the \s+ {ACTION} \s+ action )? )
            (?: \s* : \s* (?P<policy_arn> arn:{TOKEN} ) )? )?
        "#
    ))
});

/// AWS CLI and boto3: "An error occurred (Code) when calling the Op operation:".
static CLI_HEADER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"An\s+error\s+occurred\s+\((?P<code>[^()\s]{1,64})\)\s+when\s+calling\s+the\s+(?P<op>[A-Za-z0-9]+)\s+operation(?:\s+\(reached\s+max\s+retries:\s*\d+\))?:?",
    )
});

/// Go SDK v2 (Terraform, Karpenter, eksctl): "operation error S3: PutObject, https response
/// error StatusCode: 403, RequestID: …, api error AccessDenied:".
static GO_HEADER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"operation\s+error\s+(?P<svc>[A-Za-z0-9][A-Za-z0-9 .-]{0,40}?):\s*(?P<op>[A-Za-z0-9]+),[^\n]*?\bapi\s+error\s+(?P<code>[A-Za-z0-9.]+):",
    )
});

/// A bare error code as JavaScript, Go v1 and log lines print it: "AccessDeniedException: …".
static CODE_HEADER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"\b(?P<code>(?:Client\.)?(?:AccessDenied(?:Exception)?|UnauthorizedOperation|AuthorizationError(?:Exception)?|UnauthorizedAccess(?:Exception)?)):",
    )
});

/// CloudFormation's older status reason: "API: s3:CreateBucket Access Denied".
static CFN_API: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"\bAPI:\s+(?P<action>[A-Za-z][A-Za-z0-9-]*:[A-Za-z0-9]+)"));

static DENIED_TEXT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"(?i)(?P<operation>\bYou\s+are\s+not\s+authorized\s+to\s+perform\s+this\s+operation\b\.?)|\bAccess\s+Denied\b\.?|\bForbidden\b\.?",
    )
});

static ENCODED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(r"Encoded\s+authorization\s+failure\s+message:\s*(?P<blob>[A-Za-z0-9_\-+/=]+)")
});

static SERVICE_TRAILER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"\(Service:\s*(?P<svc>[^;,()\n]{1,60}?)\s*[;,]\s*Status\s+Code:\s*\d{3}(?:\s*[;,]\s*Error\s+Code:\s*(?P<code>[A-Za-z0-9.]+))?[^()\n]{0,400}\)",
    )
});

static HANDLER_TRAILER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(r"\(RequestToken:\s*[^,()\n]{0,100},\s*HandlerErrorCode:\s*(?P<code>[A-Za-z0-9]+)\)")
});

/// Lambda checks its execution role's EC2 permissions when a function is placed in a VPC and
/// reports a denial in words of its own.
static LAMBDA_VPC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(concat!(
        r"The\s+provided\s+execution\s+role\s+does\s+not\s+have\s+permissions?\s+to\s+call\s+",
        r"(?P<op>[A-Za-z0-9]+)\s+on\s+EC2",
        r"|Your\s+access\s+has\s+been\s+denied\s+by\s+EC2,\s+please\s+make\s+sure\s+your\s+",
        r"function\s+execution\s+role\s+have\s+permission\s+to\s+(?P<op2>[A-Za-z0-9]+)",
    ))
});

/// Every event in the normalized paste, ordered by position (longest first at equal starts).
fn events(norm: &str) -> Vec<(usize, usize, Event)> {
    let mut out = Vec::new();
    let mut scan = |re: &LazyLock<Option<Regex>>, make: &dyn Fn(&Captures) -> Option<Event>| {
        if let Some(re) = re.as_ref() {
            for caps in re.captures_iter(norm) {
                if let (Some(whole), Some(event)) = (caps.get(0), make(&caps)) {
                    out.push((whole.start(), whole.end(), event));
                }
            }
        }
    };
    let text = |caps: &Captures, name: &str| caps.name(name).map(|m| m.as_str().to_owned());

    scan(&NOT_AUTHORIZED, &|caps| {
        let policy_type = caps.name("explicit_type").map(|m| m.as_str());
        let blamed = if caps.name("explicit").is_some() {
            Blamed::explicit(policy_type)
        } else if let Some(kind) = caps.name("implicit_type") {
            Blamed::implicit(kind.as_str())
        } else {
            Blamed::Unspecified
        };
        let resource = caps
            .name("quoted")
            .map(|m| m.as_str().trim().to_owned())
            .or_else(|| {
                caps.name("resource")
                    .map(|m| trim_token(&words_preserving_case(m.as_str())))
            })
            .filter(|r| !r.is_empty());
        Some(Event::Body(Body {
            principal: text(caps, "principal").or_else(|| text(caps, "arn_principal")),
            action: text(caps, "action")?,
            resource,
            blamed,
            policy_arn: caps.name("policy_arn").map(|m| trim_token(m.as_str())),
        }))
    });
    scan(&LAMBDA_VPC, &|caps| {
        let op = caps.name("op").or_else(|| caps.name("op2"))?;
        Some(Event::Body(Body {
            principal: None,
            action: format!("ec2:{}", op.as_str()),
            resource: None,
            blamed: Blamed::Unspecified,
            policy_arn: None,
        }))
    });
    scan(&CLI_HEADER, &|caps| {
        Some(Event::Header(Header {
            code: text(caps, "code"),
            operation: text(caps, "op"),
            ..Header::default()
        }))
    });
    scan(&GO_HEADER, &|caps| {
        Some(Event::Header(Header {
            code: text(caps, "code"),
            operation: text(caps, "op"),
            service: text(caps, "svc"),
            action: None,
        }))
    });
    scan(&CODE_HEADER, &|caps| {
        Some(Event::Header(Header {
            code: text(caps, "code"),
            ..Header::default()
        }))
    });
    scan(&CFN_API, &|caps| {
        Some(Event::Header(Header {
            action: text(caps, "action"),
            ..Header::default()
        }))
    });
    scan(&DENIED_TEXT, &|caps| {
        Some(Event::DeniedText {
            complete: caps.name("operation").is_none(),
        })
    });
    scan(&ENCODED, &|caps| text(caps, "blob").map(Event::Encoded));
    scan(&SERVICE_TRAILER, &|caps| {
        Some(Event::Trailer {
            service: text(caps, "svc")?,
            code: text(caps, "code"),
        })
    });
    scan(&HANDLER_TRAILER, &|caps| {
        text(caps, "code").map(Event::HandlerCode)
    });
    out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    out
}

/// Sentence punctuation that follows a token in prose but is not part of it.
fn trim_token(token: &str) -> String {
    token.trim_end_matches(['.', ',', ';', ':']).to_owned()
}

/// Lower-cased, single-spaced words, for comparing policy-type phrases that may be wrapped.
fn words(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn words_preserving_case(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The paste with terminal colour codes, JSON string escaping, Terraform's box-drawing margin
/// and control characters removed, line for line, so that offsets still map to the user's lines.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let mut line = Cow::Borrowed(line);
        // JSON inside JSON (a log event holding an SDK error) escapes twice; a few passes undo it.
        for _ in 0..4 {
            if !line.contains("\\\"") {
                break;
            }
            line = Cow::Owned(json_unescape(&line));
        }
        let line = match ANSI.as_ref() {
            Some(re) => re.replace_all(&line, ""),
            None => Cow::Borrowed(line.as_ref()),
        };
        let line = line.trim_start();
        let line = line.strip_prefix('│').unwrap_or(line);
        out.extend(line.chars().map(|c| if c.is_control() { ' ' } else { c }));
    }
    out
}

/// Colour and cursor sequences, raw (`ESC[31m`), JSON- or C-escaped (`\u001b[31m`, `\x1b[31m`),
/// or with the escape character already lost (`[31m`), as log viewers and copy-paste leave them.
static ANSI: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\\(?:u001[bB]|x1[bB]|033|e)\[[0-?]*[ -/]*[@-~]|\[\d{1,3}(?:;\d{1,3})*m",
    )
});

/// Undoes JSON string escaping. Escaped line breaks become spaces so the paste keeps its lines.
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('n' | 'r' | 't' | 'b' | 'f') => out.push(' '),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some('\x1b') => out.push('\x1b'),
                    Some(decoded) if !decoded.is_control() => out.push(decoded),
                    Some(_) => out.push(' '),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODEBUILD_ROLE: &str =
        "arn:aws:sts::123456789012:assumed-role/demo-dev-CodebuildRole-ABC/AWSCodeBuild-xyz";

    fn one(text: &str) -> Denial {
        let mut found = parse(text);
        assert_eq!(
            found.len(),
            1,
            "expected one denial in {text:?}, got {found:#?}"
        );
        found.remove(0)
    }

    #[test]
    fn every_pattern_compiles() {
        for re in [
            &NOT_AUTHORIZED,
            &CLI_HEADER,
            &GO_HEADER,
            &CODE_HEADER,
            &CFN_API,
            &DENIED_TEXT,
            &ENCODED,
            &SERVICE_TRAILER,
            &HANDLER_TRAILER,
            &LAMBDA_VPC,
            &ANSI,
        ] {
            assert!(re.is_some());
        }
    }

    #[test]
    fn scp_explicit_deny_names_principal_action_and_resource() {
        let d = one(&format!(
            "User: {CODEBUILD_ROLE} is not authorized to perform: ec2:CreateNetworkInterface on resource: arn:aws:ec2:us-east-1:123456789012:network-interface/* with an explicit deny in a service control policy"
        ));
        assert_eq!(d.principal.as_deref(), Some(CODEBUILD_ROLE));
        assert_eq!(d.action, "ec2:CreateNetworkInterface");
        assert_eq!(d.service(), Some("ec2"));
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:ec2:us-east-1:123456789012:network-interface/*")
        );
        assert_eq!(d.blamed, Blamed::ScpExplicitDeny);
        assert!(d.blamed.is_explicit());
        assert_eq!(d.policy_arn, None);
        assert_eq!(d.line, 1);
    }

    #[test]
    fn each_policy_type_wording_maps_to_its_variant() {
        let cases = [
            (
                "with an explicit deny in a service control policy",
                Blamed::ScpExplicitDeny,
            ),
            (
                "with an explicit deny in a Service Control Policy",
                Blamed::ScpExplicitDeny,
            ),
            (
                "with an explicit deny in a resource control policy",
                Blamed::RcpExplicitDeny,
            ),
            (
                "with an explicit deny in an identity-based policy",
                Blamed::IdentityExplicitDeny,
            ),
            (
                "with an explicit deny in a resource-based policy",
                Blamed::ResourceExplicitDeny,
            ),
            (
                "with an explicit deny in a permissions boundary",
                Blamed::BoundaryExplicitDeny,
            ),
            (
                "with an explicit deny in a session policy",
                Blamed::SessionExplicitDeny,
            ),
            (
                "with an explicit deny in a sessions policy",
                Blamed::SessionExplicitDeny,
            ),
            (
                "with an explicit deny in a VPC endpoint policy",
                Blamed::VpcEndpointExplicitDeny,
            ),
            (
                "with an explicit deny in a VPC endpoint policy transitively through a service control policy",
                Blamed::VpcEndpointScpExplicitDeny,
            ),
            (
                "with an explicit deny in the role trust policy",
                Blamed::TrustPolicyExplicitDeny,
            ),
            ("with an explicit deny", Blamed::UnspecifiedExplicitDeny),
            (
                "with an explicit deny in a brand-new policy",
                Blamed::UnspecifiedExplicitDeny,
            ),
            (
                "because no identity-based policy allows the s3:PutObject action",
                Blamed::NoIdentityPolicy,
            ),
            (
                "because no resource-based policy allows the s3:PutObject action",
                Blamed::NoResourcePolicy,
            ),
            (
                "because no permissions boundary allows the s3:PutObject action",
                Blamed::BoundaryImplicitDeny,
            ),
            (
                "because no session policy allows the s3:PutObject action",
                Blamed::NoSessionPolicy,
            ),
            (
                "because no VPC endpoint policy allows the s3:PutObject action",
                Blamed::NoVpcEndpointPolicy,
            ),
            (
                "because no role trust policy allows the s3:PutObject action",
                Blamed::NoTrustPolicy,
            ),
            (
                "because no shiny policy allows the s3:PutObject action",
                Blamed::Unspecified,
            ),
            ("", Blamed::Unspecified),
        ];
        for (reason, blamed) in cases {
            let d = one(&format!(
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::bucket/key {reason}"
            ));
            assert_eq!(d.blamed, blamed, "{reason}");
            assert_eq!(
                d.resource.as_deref(),
                Some("arn:aws:s3:::bucket/key"),
                "{reason}"
            );
            assert_eq!(
                d.blamed.is_explicit(),
                reason.starts_with("with"),
                "{reason}"
            );
        }
    }

    #[test]
    fn policy_arn_after_the_policy_type_is_captured() {
        let d = one(
            "An error occurred (AccessDenied) when calling the ListRoles operation: User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd",
        );
        assert_eq!(d.blamed, Blamed::ScpExplicitDeny);
        assert_eq!(
            d.policy_arn.as_deref(),
            Some(
                "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
            )
        );
        assert_eq!(d.error_code.as_deref(), Some("AccessDenied"));
        assert!(
            d.raw
                .starts_with("An error occurred (AccessDenied) when calling the ListRoles")
        );
        assert!(d.raw.ends_with("p-2kgnabcd"));
    }

    #[test]
    fn unauthorized_operation_is_ec2_and_keeps_the_encoded_message() {
        let d = one(
            "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: Qx8_abc-DEF123",
        );
        assert_eq!(d.action, "ec2:RunInstances");
        assert_eq!(d.error_code.as_deref(), Some("UnauthorizedOperation"));
        assert_eq!(d.encoded_message.as_deref(), Some("Qx8_abc-DEF123"));
        assert_eq!(d.blamed, Blamed::Unspecified);
        assert_eq!(d.principal, None);
    }

    #[test]
    fn newer_ec2_wording_combines_code_reason_and_blob() {
        let d = one(&format!(
            "UnauthorizedOperation: You are not authorized to perform this operation. User: {CODEBUILD_ROLE} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* with an explicit deny in a service control policy. Encoded authorization failure message: g4oZPBqZ4Bni8dE5"
        ));
        assert_eq!(d.action, "ec2:RunInstances");
        assert_eq!(d.blamed, Blamed::ScpExplicitDeny);
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:ec2:us-east-1:123456789012:instance/*")
        );
        assert_eq!(d.error_code.as_deref(), Some("UnauthorizedOperation"));
        assert_eq!(d.encoded_message.as_deref(), Some("g4oZPBqZ4Bni8dE5"));
    }

    #[test]
    fn operation_without_a_named_service_stays_bare() {
        let d = one(
            "An error occurred (AccessDenied) when calling the CreateBucket operation: Access Denied",
        );
        assert_eq!(d.action, "CreateBucket");
        assert_eq!(d.service(), None);
        assert_eq!(
            d.raw,
            "An error occurred (AccessDenied) when calling the CreateBucket operation: Access Denied"
        );
    }

    #[test]
    fn go_sdk_service_id_qualifies_the_operation() {
        let d = one(
            "operation error S3: ListObjectsV2, https response error StatusCode: 403, RequestID: 1, HostID: x, api error AccessDenied: Access Denied",
        );
        assert_eq!(d.action, "s3:ListBucket");
        assert_eq!(d.error_code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn non_denial_errors_are_not_reported() {
        for text in [
            "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired",
            "An error occurred (ThrottlingException) when calling the SimulatePrincipalPolicy operation (reached max retries: 4): Rate exceeded",
            "API: s3:CreateBucket my-bucket already exists",
            "AccessDeniedException: \n\tstatus code: 403, request id: d7aac889",
            "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 25B458BA4187FD7E)",
            "",
        ] {
            assert_eq!(parse(text), vec![], "{text}");
        }
    }

    #[test]
    fn cloudformation_legacy_api_reason() {
        let d = one("appbucket  CREATE_FAILED  API: s3:CreateBucket Access Denied");
        assert_eq!(d.action, "s3:CreateBucket");
        assert_eq!(d.raw, "API: s3:CreateBucket Access Denied");
        assert_eq!(d.error_code, None);
    }

    #[test]
    fn cloudformation_handler_message_takes_codes_from_its_trailers() {
        let d = one(
            r#"Resource handler returned message: "User: arn:aws:sts::773544361988:assumed-role/Full-access/amplifyadmin is not authorized to perform: states:CreateStateMachine on resource: arn:aws:states:us-east-1:773544361988:stateMachine:SM because no identity-based policy allows the states:CreateStateMachine action (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException; Request ID: a7e0; Proxy: null)" (RequestToken: 10ed, HandlerErrorCode: AccessDenied)"#,
        );
        assert_eq!(d.action, "states:CreateStateMachine");
        assert_eq!(d.blamed, Blamed::NoIdentityPolicy);
        assert_eq!(d.error_code.as_deref(), Some("AccessDeniedException"));
        assert!(d.raw.ends_with("HandlerErrorCode: AccessDenied)"));

        let d = one(
            r#"Resource handler returned message: "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:1:function:f because no identity-based policy allows the lambda:CreateFunction action (Service: Lambda, Status Code: 403, Request ID: 9)" (RequestToken: 2, HandlerErrorCode: AccessDenied)"#,
        );
        assert_eq!(d.error_code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn json_escaped_and_coloured_text_is_read_through() {
        let d = one(
            r#"    "ResourceStatusReason": "Resource handler returned message: \"User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:GetObject on resource: \\\"arn:aws:s3:::b/k\\\" because no resource-based policy allows the s3:GetObject action\" (RequestToken: 2, HandlerErrorCode: AccessDenied)","#,
        );
        assert_eq!(d.resource.as_deref(), Some("arn:aws:s3:::b/k"));
        assert_eq!(d.blamed, Blamed::NoResourcePolicy);

        let d = one(
            "\x1b[31m\x1b[1mUser: arn:aws:iam::1:user/u\x1b[0m is not authorized to perform: \x1b[33miam:CreateRole\x1b[0m on resource: arn:aws:iam::1:role/x with an explicit deny in a permissions boundary\x1b[39m",
        );
        assert_eq!(d.principal.as_deref(), Some("arn:aws:iam::1:user/u"));
        assert_eq!(d.action, "iam:CreateRole");
        assert_eq!(d.blamed, Blamed::BoundaryExplicitDeny);

        let d = one(
            "[0;31mUser: arn:aws:iam::1:user/u is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:1:q[0m",
        );
        assert_eq!(d.resource.as_deref(), Some("arn:aws:sqs:us-east-1:1:q"));
    }

    #[test]
    fn wrapped_messages_are_joined_and_located_at_their_first_line() {
        let found = parse(
            "some noise\nUser: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action\n│ operation error IAM: ListRolePolicies, https response error StatusCode: 403, RequestID: 5, api error AccessDenied: User:\n│ arn:aws:iam::1:user/deploy is not authorized to perform: iam:ListRolePolicies on resource: role\n│ lambda_execution_role because no identity-based policy allows the iam:ListRolePolicies action\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].action, "codecommit:ListRepositories");
        assert_eq!(found[0].blamed, Blamed::NoVpcEndpointPolicy);
        assert_eq!(found[1].line, 4);
        assert_eq!(
            found[1].principal.as_deref(),
            Some("arn:aws:iam::1:user/deploy")
        );
        assert_eq!(
            found[1].resource.as_deref(),
            Some("role lambda_execution_role")
        );
        assert_eq!(found[1].error_code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn messages_on_neighbouring_lines_stay_apart() {
        let found = parse(
            "An error occurred (AccessDenied) when calling the CreateBucket operation: Access Denied\nUser: arn:aws:iam::1:user/u is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:1:t\nEncoded authorization failure message: abc",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].action, "CreateBucket");
        assert_eq!(found[0].encoded_message, None);
        assert_eq!(found[1].action, "sns:Publish");
        assert_eq!(found[1].error_code, None);
        assert_eq!(found[1].line, 2);
        assert_eq!(found[1].encoded_message.as_deref(), Some("abc"));
    }

    #[test]
    fn repeated_messages_are_reported_once_with_the_details_of_every_copy() {
        let message = "User: arn:aws:iam::1:user/u is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/k because no session policy allows the kms:Decrypt action";
        let found = parse(&format!(
            "{message}\n{message}\nAccessDeniedException: {message}\nUser: arn:aws:iam::1:user/u is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:1:key/k because no session policy allows the kms:Encrypt action\n{message}"
        ));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].action, "kms:Decrypt");
        assert_eq!(found[0].line, 1);
        assert_eq!(
            found[0].error_code.as_deref(),
            Some("AccessDeniedException")
        );
        assert_eq!(found[1].action, "kms:Encrypt");
    }

    #[test]
    fn lambda_vpc_execution_role_wording() {
        let d = one(
            "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
        );
        assert_eq!(d.action, "ec2:CreateNetworkInterface");
        assert_eq!(
            d.error_code.as_deref(),
            Some("InvalidParameterValueException")
        );
    }

    /// A small deterministic generator so failures reproduce without a `rand` dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn check_invariants(text: &str) {
        let lines = text.split('\n').count();
        for d in parse(text) {
            assert!(d.line >= 1 && d.line <= lines, "line {} of {lines}", d.line);
            assert!(!d.action.is_empty());
            assert!(!d.raw.is_empty());
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2_000 {
            let len = rng.below(2_048);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            check_invariants(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn shuffled_message_fragments_never_panic() {
        const PIECES: &[&str] = &[
            "User: ",
            "arn:aws:sts::1:assumed-role/r/s",
            " is not authorized to perform: ",
            "s3:PutObject",
            " on resource: ",
            "\"",
            "\\\"",
            "\\\\\\\"",
            "\\u001b[31m",
            "\\u",
            "\\",
            "\x1b[",
            "\x1b]",
            " with an explicit deny in a ",
            "service control policy",
            ": arn:aws:organizations::1:policy/p",
            " because no ",
            "permissions boundary allows the ",
            " action",
            "An error occurred (AccessDenied) when calling the ",
            "RunInstances operation: ",
            "You are not authorized to perform this operation. ",
            "Encoded authorization failure message: ",
            "operation error S3: PutObject, ",
            "api error AccessDenied: ",
            "API: s3:CreateBucket ",
            "Access Denied",
            " (Service: Lambda, Status Code: 403, Request ID: 1)",
            " (RequestToken: 1, HandlerErrorCode: AccessDenied)",
            "│ ",
            "\n",
            "\r\n",
            "\r",
            " ",
            "é",
            "🦀",
            ".",
            ":",
        ];
        let mut rng = XorShift(42);
        for _ in 0..3_000 {
            let n = rng.below(40);
            let text: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
            check_invariants(&text);
        }
    }

    #[test]
    fn long_garbage_is_handled_in_linear_time() {
        let started = std::time::Instant::now();
        let mut text = "User: ".repeat(50_000);
        text.push_str(&"is not authorized to perform: a:b on resource: ".repeat(20_000));
        text.push_str(&"\\\"".repeat(50_000));
        text.push_str(&"x".repeat(500_000));
        text.push_str(&"An error occurred (".repeat(20_000));
        text.push_str(&"operation error S3: ".repeat(20_000));
        check_invariants(&text);
        let one_line_of_messages = format!(
            "{} ",
            "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an explicit deny"
        )
        .repeat(10_000);
        assert_eq!(parse(&one_line_of_messages).len(), 1);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    /// Every `tests/fixtures/access-denied/<name>.txt` must parse to `<name>.expected.json`.
    /// Set `IAM_DOCTOR_BLESS=1` to write the expectations from the current output instead (and
    /// review the diff).
    #[test]
    fn fixtures() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/access-denied");
        let bless = std::env::var_os("IAM_DOCTOR_BLESS").is_some();
        let mut pastes: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixture directory")
            .map(|entry| entry.expect("fixture entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
            .collect();
        pastes.sort();
        assert!(pastes.len() >= 10, "only {} fixtures", pastes.len());
        let mut failures = Vec::new();
        for paste in pastes {
            let text = std::fs::read_to_string(&paste).expect("fixture text");
            let actual = serde_json::to_value(parse(&text)).expect("serializable");
            let expected_path = paste.with_extension("expected.json");
            if bless {
                let pretty = serde_json::to_string_pretty(&actual).expect("serializable");
                std::fs::write(&expected_path, pretty + "\n").expect("write expectation");
                continue;
            }
            let expected: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(&expected_path)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
            )
            .expect("expectation is JSON");
            if actual != expected {
                failures.push(format!(
                    "{}:\n{}",
                    paste.display(),
                    serde_json::to_string_pretty(&actual).expect("serializable")
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "fixtures differ; actual output:\n{}",
            failures.join("\n")
        );
    }
}
