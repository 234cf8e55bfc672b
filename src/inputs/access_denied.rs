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

pub use crate::core::denial::{Blamed, Denial};

/// The blamed policy type of an explicit deny, from AWS's words for it.
fn explicit_blame(policy_type: Option<&str>) -> Blamed {
    let Some(kind) = policy_type.map(words) else {
        return Blamed::UnspecifiedExplicitDeny;
    };
    if kind.contains("transitively") {
        return Blamed::VpcEndpointScpExplicitDeny;
    }
    match kind.as_str() {
        "service control policy" => Blamed::ScpExplicitDeny,
        "resource control policy" => Blamed::RcpExplicitDeny,
        "identity-based policy" => Blamed::IdentityExplicitDeny,
        "resource-based policy" => Blamed::ResourceExplicitDeny,
        "permissions boundary" | "permissions boundary policy" | "permission boundary" => {
            Blamed::BoundaryExplicitDeny
        }
        "session policy" | "sessions policy" => Blamed::SessionExplicitDeny,
        "vpc endpoint policy" => Blamed::VpcEndpointExplicitDeny,
        "role trust policy" | "trust policy" => Blamed::TrustPolicyExplicitDeny,
        _ => Blamed::UnspecifiedExplicitDeny,
    }
}

/// The blamed policy type of an implicit deny, from AWS's words for it.
fn implicit_blame(policy_type: &str) -> Blamed {
    match words(policy_type).as_str() {
        "identity-based policy" | "identity-based policies" => Blamed::NoIdentityPolicy,
        "resource-based policy" => Blamed::NoResourcePolicy,
        "permissions boundary" | "permission boundary" => Blamed::BoundaryImplicitDeny,
        "session policy" => Blamed::NoSessionPolicy,
        "vpc endpoint policy" => Blamed::NoVpcEndpointPolicy,
        "role trust policy" | "trust policy" => Blamed::NoTrustPolicy,
        _ => Blamed::Unspecified,
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
    /// `None` when AWS printed the action as `null`.
    action: Option<String>,
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
        let mut notes = Vec::new();
        let printed_null = self.body.as_ref().is_some_and(|b| b.action.is_none());
        let body = match self.body {
            Some(body) => body,
            None if says_denied
                && (self.header.action.is_some() || self.header.operation.is_some()) =>
            {
                Body {
                    principal: None,
                    action: None,
                    resource: None,
                    blamed: Blamed::Unspecified,
                    policy_arn: None,
                }
            }
            None => return None,
        };
        let action = match body.action {
            Some(action) => action,
            None => {
                let from_header = if let Some(action) = self.header.action.clone() {
                    Some(action)
                } else if let Some(operation) = self.header.operation.clone() {
                    let ec2_only = error_code
                        .as_deref()
                        .is_some_and(|c| c.ends_with("UnauthorizedOperation"));
                    let named = if ec2_only {
                        Some("ec2")
                    } else {
                        self.header
                            .service
                            .as_deref()
                            .or(self.trailer_service.as_deref())
                            .and_then(iam_prefix)
                    };
                    let prefix = named.or_else(|| {
                        let (prefix, evidence) = service_from_context(norm, &operation)?;
                        notes.push(format!(
                            "the service `{prefix}` comes from `{evidence}` elsewhere in the paste"
                        ));
                        Some(prefix)
                    });
                    if printed_null {
                        notes.push(format!(
                            "AWS printed the action as `null`; the operation `{operation}` comes from \"when calling the {operation} operation\""
                        ));
                    }
                    Some(match prefix {
                        Some(prefix) => {
                            format!("{prefix}:{}", action_for_operation(prefix, &operation))
                        }
                        None => {
                            notes.push(format!(
                                "the paste names the operation `{operation}` but not its service"
                            ));
                            operation
                        }
                    })
                } else {
                    None
                };
                from_header.unwrap_or_else(|| {
                    notes.push(
                        "AWS printed the action as `null` and the paste names no operation: the action is unknown"
                            .to_string(),
                    );
                    String::new()
                })
            }
        };
        Some(Denial {
            principal: body.principal,
            action,
            resource: body.resource,
            blamed: body.blamed,
            policy_arn: body.policy_arn,
            error_code,
            encoded_message: self.encoded,
            encoded: None,
            region: None,
            notes,
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
        "s3api" | "s3control" => "s3",
        "greengrass" | "greengrassv2" => "greengrass",
        "elbv2" | "elb" => "elasticloadbalancing",
        "cognitoidp" => "cognito-idp",
        "ecrpublic" => "ecr-public",
        "cloudtrail" => "cloudtrail",
        "route53domains" => "route53domains",
        _ => return None,
    })
}

/// The service of `operation`, from a part of the paste that names both: the AWS CLI command
/// that made the call (`aws greengrassv2 create-component-version`) or a botocore debug event
/// (`before-call.greengrassv2.CreateComponentVersion`). Returns the IAM prefix and the text it
/// was read from. Only a pairing with the same operation counts, so an unrelated command in the
/// same log does not lend its service.
fn service_from_context(norm: &str, operation: &str) -> Option<(&'static str, String)> {
    if let Some(re) = CLI_COMMAND.as_ref() {
        for caps in re.captures_iter(norm) {
            let (Some(whole), Some(svc), Some(cmd)) =
                (caps.get(0), caps.name("svc"), caps.name("cmd"))
            else {
                continue;
            };
            if kebab_to_camel(cmd.as_str()) == operation
                && let Some(prefix) = iam_prefix(svc.as_str())
            {
                return Some((prefix, whole.as_str().to_owned()));
            }
        }
    }
    if let Some(re) = BOTOCORE_EVENT.as_ref() {
        for caps in re.captures_iter(norm) {
            let (Some(whole), Some(svc), Some(op)) =
                (caps.get(0), caps.name("svc"), caps.name("op"))
            else {
                continue;
            };
            if op.as_str() == operation
                && let Some(prefix) = iam_prefix(svc.as_str())
            {
                return Some((prefix, whole.as_str().to_owned()));
            }
        }
    }
    None
}

/// `create-component-version` → `CreateComponentVersion`, as the AWS CLI names operations.
fn kebab_to_camel(command: &str) -> String {
    command
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// `aws <service> <command>` as typed or echoed in a CI log.
static CLI_COMMAND: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(r"\baws\s+(?P<svc>[a-z][a-z0-9-]{1,40})\s+(?P<cmd>[a-z][a-z0-9-]{1,80})\b")
});

/// botocore's event names, `<event>.<service>.<Operation>`, printed by `--debug`.
static BOTOCORE_EVENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r"\b(?:before|after|choose|needs|request|response|provide|service)[a-z-]*\.(?P<svc>[a-z][a-z0-9-]{1,40})\.(?P<op>[A-Z][A-Za-z0-9]{1,80})\b",
    )
});

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

/// "User: P is not authorized to perform: A", the head of IAM's message; what follows (the
/// resource, the reason, the policy ARN) is read by [`message_tail`].
///
/// The principal is everything between `User:` and `is not authorized` on one line, so names
/// with spaces or placeholders (`arn:aws:iam::[Account Id]:user/x`, `<user-arn>`) are kept, and
/// a principal glued to "is" (`…/i-0123is not authorized`, as CloudTrail sometimes prints it) is
/// still separated: the lazy match prefers the spaced reading when there is one. The service
/// prefix of the action may be wrapped onto the next line (`cloudforma` / `tion:DescribeStacks`);
/// the colon after it makes the join unambiguous. `null` is AWS's own placeholder for an action
/// it did not name.
static NOT_AUTHORIZED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r#"(?xi)
        (?: (?: \bUser: \s* (?P<principal>[^"'`\n]+?)
              | \b(?P<arn_principal>arn:[^\s"'`]+?) ) \s* )?
        is \s+ not \s+ authorized \s+ to \s+ perform :? \s*
        (?P<action> [a-z][a-z0-9-]* (?: \n [\ \t│]* [a-z0-9-]+ )? : [a-z0-9*?_-]+ | null\b )
        "#,
    )
});

/// ` on resource: `, then the resource (see [`message_tail`]).
static ON_RESOURCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"(?i)^\s+on\s+resource\s*:?\s*"));

/// The reason clause and the policy ARN AWS may append to it, anchored where the resource (or
/// the action) ends.
static REASON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(&format!(
        r"(?xi)
        ^\s+
        (?: (?P<explicit> with \s+ an \s+ explicit \s+ deny )
            (?: \s+ in \s+ (?:an?|the) \s+ (?P<explicit_type>
                  vpc \s+ endpoint \s+ policy \s+ transitively \s+ through \s+ an? \s+
                      service \s+ control \s+ policy
                | (?: [a-z-]+ \s+ ){{0,4}}? (?: policy | boundary (?: \s+ policy )? ) ) )?
          | because \s+ no \s+ (?P<implicit_type>
                (?: [a-z-]+ \s+ ){{0,4}}? (?: polic(?:y|ies) | boundary | boundaries ) )
            \s+ allows? (?: \s+ the \s+ {ACTION} \s+ action )? )
        (?: \s* : \s* (?P<policy_arn> arn:{TOKEN} ) )?
        "
    ))
});

/// Where a reason clause begins, searched for after the resource.
static REASON_START: LazyLock<Option<Regex>> =
    LazyLock::new(|| regex(r"(?i)\s+(?:with\s+an\s+explicit\s+deny|because\s+no\s)"));

/// What ends an unquoted resource when no reason clause follows it on its line, and what a
/// resource never contains: a quote (the message was quoted), an SDK's parenthesised trailer,
/// the end of a sentence, `; ` or `, ` separators, or the start of another message.
static RESOURCE_END: LazyLock<Option<Regex>> = LazyLock::new(|| {
    regex(
        r#"(?i)["`]|'(?:[\s,;})\]]|$)|\s\(|\.(?:\s|$)|[;,]\s|\bis\s+not\s+authorized\b|\bUser:|\bEncoded\s+authorization\b|\bstatus\s+code:|\n\s*\n"#,
    )
});

/// Longer "principals" are run-on text before "is not authorized", not a name AWS printed.
const MAX_PRINCIPAL: usize = 512;
/// How far after the action the resource and reason are looked for.
const TAIL_WINDOW: usize = 1_500;
/// Line breaks a resource may span when a reason clause follows it (tools wrap long lines).
const RESOURCE_LINE_BREAKS: usize = 2;

/// The resource, reason and policy ARN after "… perform: A", and where they end.
///
/// A resource is what AWS printed between "on resource:" and the reason clause, whatever it
/// contains: placeholders (`{account-id}`, `${CLUSTER_NAME}`, `<<table name>>`, `[ID]`), names
/// with spaces, IAM's `role NAME` and `policy path /` forms. Without a reason clause it runs to
/// the end of the sentence or of the line.
fn message_tail(norm: &str, from: usize) -> (Option<String>, Option<Captures<'_>>, usize) {
    let mut limit = (from + TAIL_WINDOW).min(norm.len());
    while !norm.is_char_boundary(limit) {
        limit -= 1;
    }
    let Some(window) = norm.get(from..limit) else {
        return (None, None, from);
    };
    let reason_at = |offset: usize| {
        let rest = window.get(offset..)?;
        REASON.as_ref()?.captures(rest)
    };
    let Some(on) = ON_RESOURCE.as_ref().and_then(|re| re.find(window)) else {
        let reason = reason_at(0);
        let end = reason
            .as_ref()
            .and_then(|c| c.get(0))
            .map_or(0, |m| m.end());
        return (None, reason, from + end);
    };
    let rest = &window[on.end()..];
    let (resource, resource_end) = if let Some(quoted) = rest.strip_prefix('"') {
        match quoted.find(['"', '\n']) {
            Some(close) if quoted[close..].starts_with('"') => {
                (quoted[..close].trim().to_owned(), on.end() + close + 2)
            }
            _ => (String::new(), on.end()),
        }
    } else {
        // Nothing past the last line break a resource may span is looked at.
        let span = rest
            .match_indices('\n')
            .nth(RESOURCE_LINE_BREAKS)
            .map_or(rest.len(), |(at, _)| at);
        let hard_end = RESOURCE_END
            .as_ref()
            .and_then(|re| re.find(&rest[..span]))
            .map_or(span, |m| m.start());
        // The reason clause must begin before anything that ends the resource.
        let mut reason_limit = (hard_end + 80).min(span);
        while !rest.is_char_boundary(reason_limit) {
            reason_limit -= 1;
        }
        let reason_start = REASON_START
            .as_ref()
            .and_then(|re| re.find(&rest[..reason_limit]))
            .map(|m| m.start())
            .filter(|&at| at <= hard_end);
        let end =
            reason_start.unwrap_or_else(|| hard_end.min(rest.find('\n').unwrap_or(rest.len())));
        let text = trim_token(&words_preserving_case(&rest[..end]));
        (text, on.end() + end)
    };
    let reason = reason_at(resource_end);
    let end = resource_end
        + reason
            .as_ref()
            .and_then(|c| c.get(0))
            .map_or(0, |m| m.end());
    let resource = Some(resource).filter(|r| !r.is_empty());
    (resource, reason, from + end)
}

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
    if let Some(re) = NOT_AUTHORIZED.as_ref() {
        for caps in re.captures_iter(norm) {
            let (Some(whole), Some(action)) = (caps.get(0), caps.name("action")) else {
                continue;
            };
            let (resource, reason, end) = message_tail(norm, whole.end());
            let reason_text = |name: &str| reason.as_ref().and_then(|c| c.name(name));
            let blamed = if reason_text("explicit").is_some() {
                explicit_blame(reason_text("explicit_type").map(|m| m.as_str()))
            } else if let Some(kind) = reason_text("implicit_type") {
                implicit_blame(kind.as_str())
            } else {
                Blamed::Unspecified
            };
            let action: String = action.as_str().split_whitespace().collect::<String>();
            let action = action.replace('│', "");
            let principal = caps
                .name("principal")
                .or_else(|| caps.name("arn_principal"))
                .map(|m| words_preserving_case(m.as_str()))
                .filter(|p| !p.is_empty() && p.len() <= MAX_PRINCIPAL);
            out.push((
                whole.start(),
                end,
                Event::Body(Body {
                    principal,
                    action: (!action.eq_ignore_ascii_case("null")).then_some(action),
                    resource,
                    blamed,
                    policy_arn: reason_text("policy_arn").map(|m| trim_token(m.as_str())),
                }),
            ));
        }
    }
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

    scan(&LAMBDA_VPC, &|caps| {
        let op = caps.name("op").or_else(|| caps.name("op2"))?;
        Some(Event::Body(Body {
            principal: None,
            action: Some(format!("ec2:{}", op.as_str())),
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
/// and control characters removed, and table cells that wrap over several lines joined, line
/// for line, so that offsets still map to the user's lines.
fn normalize(text: &str) -> String {
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let mut line = Cow::Borrowed(line);
            // JSON inside JSON (a log event holding an SDK error) escapes twice; a few passes
            // undo it.
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
            line.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        })
        .collect();
    unwrap_table_cells(&mut lines);
    let mut out = String::with_capacity(text.len());
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let line = line.trim_start();
        out.push_str(line.strip_prefix('│').unwrap_or(line));
    }
    out
}

/// How far a line must be indented to continue a table cell rather than start a row.
const CELL_INDENT: usize = 12;

/// Text between runs of two or more spaces, with the column it starts at.
struct Segment {
    col: usize,
    text: String,
}

/// The segments of a table line. A `,` in the first column counts as a space: some tools (the
/// AWS Toolkit's output panel) print each line of SAM's table as an array element, prefixed by
/// the comma that joined it to the previous one.
fn segments(line: &str) -> Vec<Segment> {
    let chars: Vec<char> = line.chars().collect();
    let blank = |i: usize| {
        chars
            .get(i)
            .is_none_or(|&c| c == ' ' || (i == 0 && c == ','))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if blank(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(blank(i) && blank(i + 1)) {
            i += 1;
        }
        out.push(Segment {
            col: start,
            text: chars[start..i]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_owned(),
        });
    }
    out
}

/// Joins table cells that a fixed-width table (SAM's and `aws cloudformation deploy`'s event
/// tables) wrapped inside their column: a row starting in the first column, followed by lines
/// indented to the row's later columns. The joined row replaces the row's line and the
/// continuation lines are left empty, so line numbers stay the user's.
fn unwrap_table_cells(lines: &mut [String]) {
    let mut i = 0;
    while i < lines.len() {
        let row = segments(&lines[i]);
        if row.len() < 2 || row[0].col > 1 {
            i += 1;
            continue;
        }
        let mut cells: Vec<Vec<String>> = row.iter().map(|s| vec![s.text.clone()]).collect();
        let mut next = i + 1;
        while let Some(line) = lines.get(next) {
            let parts = segments(line);
            if parts.first().is_none_or(|s| s.col < CELL_INDENT) {
                break;
            }
            let columns: Option<Vec<usize>> = parts
                .iter()
                .map(|part| {
                    row.iter()
                        .enumerate()
                        .skip(1)
                        .find(|(_, cell)| cell.col.abs_diff(part.col) <= 1)
                        .map(|(column, _)| column)
                })
                .collect();
            let Some(columns) = columns else { break };
            for (column, part) in columns.into_iter().zip(parts) {
                if let Some(cell) = cells.get_mut(column) {
                    cell.push(part.text);
                }
            }
            next += 1;
        }
        if next > i + 1 {
            let joined: Vec<String> = cells.iter().map(|pieces| join_wrapped(pieces)).collect();
            lines[i] = joined.join("  ");
            for line in &mut lines[i + 1..next] {
                line.clear();
            }
        }
        i = next;
    }
}

/// One cell's lines as one text. Wrapping breaks lines at spaces, except inside a word longer
/// than the column (ARNs) and after a hyphen; those pieces are joined without a space. A word
/// that would have fitted on the previous line must be such a piece, and so must a word that
/// continues a full line into more than a line's width, unless the full line ended in a word of
/// prose and its punctuation (`perform:`), where a break at the space is the reading.
fn join_wrapped(pieces: &[String]) -> String {
    let width = pieces.iter().map(|p| p.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    let mut previous: Option<&str> = None;
    for piece in pieces {
        if let Some(prev) = previous {
            let first = piece.split(' ').next().unwrap_or("").chars().count();
            let last = prev.rsplit(' ').next().unwrap_or("").chars().count();
            let len = prev.chars().count();
            let last_word = prev.rsplit(' ').next().unwrap_or("");
            let prose = last_word.len() > 1
                && last_word.ends_with([':', ',', '.', ';'])
                && last_word[..last_word.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic());
            let glued = prev.ends_with('-')
                || len + 1 + first <= width
                || (len >= width && last + first > width && !prose);
            if !glued {
                out.push(' ');
            }
        }
        out.push_str(piece);
        previous = Some(piece);
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

    /// Regression: the resource was cut at `{`, `$`, `[`, `<<`, a space or ` /`, and the reason
    /// clause after it was then lost, so the policy type read as unspecified.
    #[test]
    fn resource_with_placeholders_or_spaces_runs_to_the_reason_clause() {
        for resource in [
            "arn:aws:iam::{account-id}:role/deployer",
            "arn:aws:eks:us-east-1:123456789012:cluster/${CLUSTER_NAME}",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/<<table name>>",
            "arn:aws:ec2:us-east-1:123456789012:instance/[ID]",
            "arn:aws:s3:::My Reports 2024/q1 summary.pdf",
            "policy path /",
            "role lambda_execution_role",
            "[Resource Id]",
        ] {
            let d = one(&format!(
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: s3:GetObject on resource: {resource} with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-abcd/service_control_policy/p-abcd"
            ));
            assert_eq!(d.resource.as_deref(), Some(resource));
            assert_eq!(d.blamed, Blamed::ScpExplicitDeny, "{resource}");
            assert_eq!(
                d.policy_arn.as_deref(),
                Some(
                    "arn:aws:organizations::111111111111:policy/o-abcd/service_control_policy/p-abcd"
                ),
                "{resource}"
            );
            let d = one(&format!(
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: s3:GetObject on resource: {resource} because no permissions boundary allows the s3:GetObject action"
            ));
            assert_eq!(d.resource.as_deref(), Some(resource));
            assert_eq!(d.blamed, Blamed::BoundaryImplicitDeny, "{resource}");
        }
    }

    #[test]
    fn resource_without_a_reason_ends_with_its_sentence_or_line() {
        let cases = [
            (
                "User: arn:aws:iam::1:user/u is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:1:topic (Service: AmazonSNS; Status Code: 403; Error Code: AuthorizationError; Request ID: 1)",
                "arn:aws:sns:us-east-1:1:topic",
            ),
            (
                "UnauthorizedOperation: User: arn:aws:iam::1:user/u is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:1:instance/*. Encoded authorization failure message: abc",
                "arn:aws:ec2:us-east-1:1:instance/*",
            ),
            (
                "  message: 'User: arn:aws:iam::1:user/u is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::1:role/x',\n  code: 'AccessDenied',",
                "arn:aws:iam::1:role/x",
            ),
            (
                "AccessDenied: User: arn:aws:iam::1:user/u is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::1:user/t\n\tstatus code: 403, request id: 0e2e",
                "arn:aws:iam::1:user/t",
            ),
            (
                "{\"errorMessage\": \"User: arn:aws:iam::1:user/u is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::my bucket\", \"errorType\": \"AccessDenied\"}",
                "arn:aws:s3:::my bucket",
            ),
        ];
        for (text, resource) in cases {
            let found = parse(text);
            let d = found
                .iter()
                .find(|d| d.principal.is_some())
                .unwrap_or_else(|| panic!("{text}: {found:#?}"));
            assert_eq!(d.resource.as_deref(), Some(resource), "{text}");
            assert_eq!(d.blamed, Blamed::Unspecified, "{text}");
        }
        // A reason clause on a later message is not borrowed across it.
        let found = parse(
            "User: arn:aws:iam::1:user/a is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k\nUser: arn:aws:iam::1:user/b is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].resource.as_deref(), Some("arn:aws:s3:::b/k"));
        assert_eq!(found[0].blamed, Blamed::Unspecified);
        assert_eq!(found[1].blamed, Blamed::NoIdentityPolicy);
    }

    /// Regression: a principal with spaces or placeholders, or glued to "is", was dropped.
    #[test]
    fn principal_with_spaces_placeholders_or_glued_to_is_is_kept() {
        for (principal, glue) in [
            (
                "arn:aws:sts::{account id }:assumed-role/{random_id}-gateway-role/{random uuid}",
                " ",
            ),
            ("arn:aws:iam::[Account Id]:user/pcluster", " "),
            ("[IAM Role]", " "),
            ("arn:aws:sts::<redacted>:assumed-role/<redacted>", " "),
            ("deploy-pl-prod", " "),
            ("arn:aws:iam::123456789012:user/chris", " "),
            (
                "arn:aws:sts::111111111111:assumed-role/EC2Role-zZiIW90X0coi/i-11111wasdasdasfasdfa",
                "",
            ),
        ] {
            let d = one(&format!(
                "User: {principal}{glue}is not authorized to perform: iam:UpdateAssumeRolePolicy on resource: role cdk-role because no identity-based policy allows the iam:UpdateAssumeRolePolicy action"
            ));
            assert_eq!(d.principal.as_deref(), Some(principal));
            assert_eq!(d.resource.as_deref(), Some("role cdk-role"));
            assert_eq!(d.blamed, Blamed::NoIdentityPolicy);
        }
        let d =
            one("arn:aws:sts::1:assumed-role/r/i-0123is not authorized to perform: s3:GetObject");
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:sts::1:assumed-role/r/i-0123")
        );
    }

    /// Regression: an action whose service prefix wrapped onto the next line lost its service.
    #[test]
    fn service_prefix_wrapped_across_lines_is_joined() {
        let d = one(
            "ClientError: An error occurred (AccessDenied) when calling the DescribeStacks operation: User: arn:aws:iam::<ID>:user/<NAME> is not authorized to perform: cloudforma\ntion:DescribeStacks",
        );
        assert_eq!(d.action, "cloudformation:DescribeStacks");
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:iam::<ID>:user/<NAME>")
        );
        assert_eq!(d.line, 1);
        let d = one(
            "│ api error AccessDenied: User: arn:aws:iam::1:user/u is not authorized to perform: elasticloadbal\n│ ancing:DescribeLoadBalancers with an explicit deny in an identity-based policy",
        );
        assert_eq!(d.action, "elasticloadbalancing:DescribeLoadBalancers");
        assert_eq!(d.blamed, Blamed::IdentityExplicitDeny);
    }

    /// Regression: AWS's literal `perform: null` lost the action.
    #[test]
    fn perform_null_takes_the_operation_and_says_what_is_missing() {
        let null = "An error occurred (AccessDeniedException) when calling the CreateComponentVersion operation: User: arn:aws:iam::456012345600:user/Administrator is not authorized to perform: null";
        let d = one(null);
        assert_eq!(d.action, "CreateComponentVersion");
        assert_eq!(d.service(), None);
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:iam::456012345600:user/Administrator")
        );
        assert!(
            d.notes.iter().any(|n| n.contains("`null`")),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes.iter().any(|n| n.contains("not its service")),
            "{:?}",
            d.notes
        );

        // The service is taken from the command line that made the same call ...
        let d = one(&format!(
            "$ aws greengrassv2 create-component-version --inline-recipe fileb://r.yaml\n{null}"
        ));
        assert_eq!(d.action, "greengrass:CreateComponentVersion");
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("aws greengrassv2 create-component-version"))
        );
        // ... or from botocore's debug events for it, but never from another operation's.
        let d = one(&format!(
            "DEBUG - Event before-call.greengrassv2.CreateComponentVersion: calling handler\n{null}"
        ));
        assert_eq!(d.action, "greengrass:CreateComponentVersion");
        let d = one(&format!("$ aws greengrassv2 list-components\n{null}"));
        assert_eq!(d.action, "CreateComponentVersion");

        // With no operation either, the denial is still reported, saying the action is unknown.
        let d = one("User: arn:aws:iam::1:user/u is not authorized to perform: null");
        assert_eq!(d.action, "");
        assert!(
            d.notes.iter().any(|n| n.contains("no operation")),
            "{:?}",
            d.notes
        );
    }

    /// Regression: SAM's event table, which wraps the message inside a narrow column (and, in
    /// the AWS Toolkit's panel, prefixes some lines with `,`), yielded nothing.
    #[test]
    fn events_table_wrapped_in_a_narrow_column_is_read() {
        let text = concat!(
            ",CREATE_FAILED            AWS::IAM::Role           HelloWorldFunctionRole   API: iam:CreateRole    \n",
            ",                                                                           User: arn:aws:iam::833 \n",
            "                                                                           914180760:user/netocod \n",
            "                                                                           er is not authorized   \n",
            ",                                                                           to perform:            \n",
            ",                                                                           iam:CreateRole on      \n",
            ",                                                                           resource: arn:aws:iam: \n",
            "                                                                           :833914180760:role/Hel \n",
            "                                                                           loRole because no      \n",
            "                                                                           identity-based policy  \n",
            "                                                                           allows the             \n",
            "                                                                           iam:CreateRole action  \n",
            "ROLLBACK_IN_PROGRESS     AWS::CloudFormation::S   sam-app                  The following          \n",
            "                         tack                                              resource(s) failed to  \n",
        );
        let d = one(text);
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:iam::833914180760:user/netocoder")
        );
        assert_eq!(d.action, "iam:CreateRole");
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:iam::833914180760:role/HelloRole")
        );
        assert_eq!(d.blamed, Blamed::NoIdentityPolicy);
        assert_eq!(d.line, 1);

        // A wide column wraps at spaces only.
        let d = one(concat!(
            "CREATE_FAILED                                       AWS::IAM::Role                                      CodeDeployServiceRole                               API: iam:CreateRole User:\n",
            "                                                                                                                                                            arn:aws:sts::123456789012:assumed-role/a200-deploy/ci is not authorized to perform:\n",
            "                                                                                                                                                            iam:CreateRole on resource: arn:aws:iam::123456789012:role/CodeDeployServiceRole\n",
        ));
        assert_eq!(
            d.principal.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/a200-deploy/ci")
        );
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:iam::123456789012:role/CodeDeployServiceRole")
        );
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

    fn check_invariants(text: &str) {
        let lines = text.split('\n').count();
        for d in parse(text) {
            assert!(d.line >= 1 && d.line <= lines, "line {} of {lines}", d.line);
            assert!(
                !d.action.is_empty() || d.notes.iter().any(|n| n.contains("no operation")),
                "an empty action is explained: {d:?}"
            );
            assert!(!d.raw.is_empty());
        }
    }

    /// Message fragments, escapes and line breaks that the matchers and joiners look for.
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

    proptest::proptest! {
        // Fixed seed and case counts: a run replays exactly; a failure found once is kept in
        // `proptest-regressions/` and replayed first.
        #![proptest_config(crate::inputs::test_support::proptest_config(2_000))]

        #[test]
        fn random_bytes_keep_the_invariants(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2_048)
        ) {
            check_invariants(&String::from_utf8_lossy(&bytes));
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::inputs::test_support::proptest_config(3_000))]

        #[test]
        fn shuffled_message_fragments_keep_the_invariants(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40)
        ) {
            check_invariants(&pieces.concat());
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

    /// Every `tests/fixtures/access-denied/<name>.txt` parses to the JSON in its snapshot,
    /// `<name>.snap` beside it (`INSTA_UPDATE=always` rewrites them; review the diff).
    #[test]
    fn fixtures() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/access-denied");
        let mut pastes: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixture directory")
            .map(|entry| entry.expect("fixture entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
            .collect();
        pastes.sort();
        assert!(pastes.len() >= 10, "only {} fixtures", pastes.len());
        for paste in pastes {
            let text = std::fs::read_to_string(&paste).expect("fixture text");
            let actual = serde_json::to_string_pretty(&parse(&text)).expect("serializable");
            let name = paste
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 name");
            insta::with_settings!({
                snapshot_path => &dir,
                prepend_module_to_snapshot => false,
                input_file => &paste,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name, actual);
            });
        }
    }
}
