//! Evidence of a failed deploy: the texts and records AWS kept of it (stack events, build logs,
//! log groups, what the user pasted), where each was read, and the denials in them.
//!
//! `explain` reads every source the user names into [`Evidence`], recovers the denials of each
//! item as a paste is read, and explains each distinct denial once, listing every place it was
//! seen ([`merge`]). A source that yields records rather than text (a CloudTrail event, a
//! decoded authorization message) contributes [`Content::Denial`]s directly.

use serde::Serialize;

use super::denial::{Blamed, Denial};

/// Where a piece of evidence was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// The text given on the command line or on stdin.
    Paste,
    /// A `*_FAILED` event of a CloudFormation stack (the root stack or a nested one).
    StackEvent {
        /// The stack the event belongs to, by name.
        stack: String,
        /// The resource's logical id in its template.
        logical_id: String,
        /// The resource type, e.g. `AWS::Lambda::Function`.
        resource_type: Option<String>,
        /// The event's status, e.g. `CREATE_FAILED`.
        status: String,
    },
    /// The CloudWatch Logs stream of a CodeBuild build.
    BuildLog {
        build: String,
        log_group: String,
        log_stream: String,
    },
    /// An event of a CloudWatch Logs group.
    LogEvent {
        log_group: String,
        log_stream: Option<String>,
    },
    /// A call CloudTrail recorded as denied (`LookupEvents`).
    CloudTrailEvent {
        event_id: Option<String>,
        /// `eventSource` and `eventName`, as CloudTrail records them.
        event_source: String,
        event_name: String,
        region: Option<String>,
    },
}

impl Origin {
    /// The origin in words, e.g. `stack demo-dev: Controller (AWS::Lambda::Function) CREATE_FAILED`.
    pub fn describe(&self) -> String {
        match self {
            Origin::Paste => "the input".to_string(),
            Origin::StackEvent {
                stack,
                logical_id,
                resource_type,
                status,
            } => match resource_type {
                Some(t) => format!("stack {stack}: {logical_id} ({t}) {status}"),
                None => format!("stack {stack}: {logical_id} {status}"),
            },
            Origin::BuildLog {
                build,
                log_group,
                log_stream,
            } => format!("build {build} log {log_group}/{log_stream}"),
            Origin::LogEvent {
                log_group,
                log_stream: Some(stream),
            } => format!("log group {log_group} stream {stream}"),
            Origin::LogEvent {
                log_group,
                log_stream: None,
            } => format!("log group {log_group}"),
            Origin::CloudTrailEvent {
                event_id,
                event_source,
                event_name,
                region,
            } => format!(
                "CloudTrail event {event_source} {event_name}{}{}",
                region
                    .as_deref()
                    .map(|r| format!(" in {r}"))
                    .unwrap_or_default(),
                event_id
                    .as_deref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default(),
            ),
        }
    }
}

/// What an item of evidence holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text as AWS or a tool printed it, read as a paste is. `line_times` gives the time of the
    /// lines that begin a record (a log event), in line order: `(1-based line, RFC 3339 time)`.
    Text {
        text: String,
        line_times: Vec<(usize, String)>,
    },
    /// A denial already in structured form (a CloudTrail event, a decoded message).
    Denial(Box<Denial>),
}

/// One item of evidence: what it holds and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub origin: Origin,
    /// When the item was recorded (RFC 3339), when it has one time (a stack event).
    pub timestamp: Option<String>,
    pub content: Content,
}

impl Evidence {
    /// A text with one time, or none.
    pub fn text(origin: Origin, timestamp: Option<String>, text: String) -> Self {
        Evidence {
            origin,
            timestamp,
            content: Content::Text {
                text,
                line_times: Vec::new(),
            },
        }
    }

    /// The time of a line of a [`Content::Text`]: the time of the record it is part of, else
    /// the item's own.
    pub fn time_of_line(&self, line: usize) -> Option<String> {
        if let Content::Text { line_times, .. } = &self.content {
            let at = line_times.partition_point(|(start, _)| *start <= line);
            if let Some((_, time)) = at.checked_sub(1).and_then(|i| line_times.get(i)) {
                return Some(time.clone());
            }
        }
        self.timestamp.clone()
    }
}

/// One place a denial was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sighting {
    #[serde(flatten)]
    pub origin: Origin,
    /// The 1-based line of the item's text where the message starts.
    pub line: usize,
    /// When it was recorded (RFC 3339), when the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl Sighting {
    /// Where, in words: `line 3` for the input, the origin and time otherwise.
    pub fn describe(&self) -> String {
        let mut out = match &self.origin {
            Origin::Paste => format!("line {}", self.line),
            Origin::BuildLog { .. } => format!("{} line {}", self.origin.describe(), self.line),
            other => other.describe(),
        };
        if let Some(time) = &self.timestamp {
            out.push_str(&format!(" at {time}"));
        }
        out
    }
}

/// A distinct denial and every place it was seen, first sighting first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub denial: Denial,
    pub sightings: Vec<Sighting>,
}

/// True when AWS named a policy type for the denial (an explicit deny of no named type counts
/// as not named).
fn names_type(b: Blamed) -> bool {
    !matches!(b, Blamed::Unspecified | Blamed::UnspecifiedExplicitDeny)
}

/// The distinct denials among `found`, each with all its sightings, in the order first seen.
///
/// Denials of the same principal, action and resource are one denial: the same failed call
/// printed by CloudFormation, by the build log around it and recorded by CloudTrail. Details
/// one copy lacks are taken from another (the policy type AWS named, the policy ARN, the error
/// code, the encoded message). Two copies that name different policy types are different
/// claims by AWS and stay apart.
pub fn merge(found: Vec<(Denial, Sighting)>) -> Vec<Seen> {
    let mut seen: Vec<Seen> = Vec::new();
    for (denial, sighting) in found {
        let same = seen.iter_mut().find(|s| {
            s.denial.principal == denial.principal
                && s.denial.action == denial.action
                && s.denial.resource == denial.resource
                && (s.denial.blamed == denial.blamed
                    || !names_type(s.denial.blamed)
                    || !names_type(denial.blamed))
        });
        match same {
            Some(s) => {
                let kept = &mut s.denial;
                if !names_type(kept.blamed) && names_type(denial.blamed)
                    || kept.blamed == Blamed::Unspecified && denial.blamed.is_explicit()
                {
                    kept.blamed = denial.blamed;
                }
                if kept.policy_arn.is_none() {
                    kept.policy_arn = denial.policy_arn;
                }
                if kept.error_code.is_none() {
                    kept.error_code = denial.error_code;
                }
                if kept.encoded_message.is_none() {
                    kept.encoded_message = denial.encoded_message;
                }
                if kept.encoded.is_none() {
                    kept.encoded = denial.encoded;
                }
                if kept.region.is_none() {
                    kept.region = denial.region;
                }
                if !s.sightings.contains(&sighting) {
                    s.sightings.push(sighting);
                }
            }
            None => seen.push(Seen {
                denial,
                sightings: vec![sighting],
            }),
        }
    }
    seen
}

/// Phrases that mark an authorization failure in the words AWS and its SDKs print: IAM's
/// "is not authorized to perform", EC2's "You are not authorized to perform this operation",
/// the error codes, CloudFormation's "API: s3:CreateBucket Access Denied" and Lambda's words
/// for its execution role's EC2 permissions (the forms `inputs::access_denied` reads).
pub const AUTHORIZATION_FAILURE_PHRASES: &[&str] = &[
    "not authorized",
    "AccessDenied",
    "Access Denied",
    "Access denied",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "does not have permissions to call",
    "access has been denied by EC2",
];

/// True when `text` reports an authorization failure (see [`AUTHORIZATION_FAILURE_PHRASES`]).
pub fn is_authorization_failure(text: &str) -> bool {
    AUTHORIZATION_FAILURE_PHRASES
        .iter()
        .any(|phrase| text.contains(phrase))
}

/// A CloudWatch Logs filter pattern matching an event that contains any of the phrases: each
/// quoted (a phrase with spaces or punctuation must be) and prefixed with `?`, which makes the
/// terms alternatives (Amazon CloudWatch Logs User Guide, "Filter pattern syntax for metric
/// filters, subscription filters, filter log events, and Live Tail",
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:
/// `?ERROR ?WARN` matches events that contain either term).
pub fn authorization_failure_filter_pattern() -> String {
    AUTHORIZATION_FAILURE_PHRASES
        .iter()
        .map(|p| format!("?\"{p}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One event of a CloudFormation stack, as `DescribeStackEvents` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub stack_id: String,
    pub stack_name: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// The resource type of a stack, and of a nested stack in its parent.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

impl StackEvent {
    /// True for an event of the stack itself rather than of one of its resources.
    pub fn is_of_the_stack(&self) -> bool {
        self.resource_type.as_deref() == Some(STACK_TYPE)
            && (self.physical_id.as_deref() == Some(self.stack_id.as_str())
                || self.logical_id == self.stack_name)
    }

    /// True for the event that starts an operation of the stack: its status is an
    /// `*_IN_PROGRESS` that is neither a cleanup (`*_CLEANUP_IN_PROGRESS`, after the operation
    /// ended) nor a rollback (`ROLLBACK_IN_PROGRESS`, `UPDATE_ROLLBACK_IN_PROGRESS`, which undo
    /// the operation that failed and so belong to it), nor `REVIEW_IN_PROGRESS` (a change set
    /// being reviewed, before its `CREATE_IN_PROGRESS`). See "Stack status codes" in the
    /// CloudFormation User Guide
    /// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes).
    pub fn starts_operation(&self) -> bool {
        self.is_of_the_stack()
            && self.status.ends_with("_IN_PROGRESS")
            && !self.status.ends_with("_CLEANUP_IN_PROGRESS")
            && !self.status.contains("ROLLBACK")
            && self.status != "REVIEW_IN_PROGRESS"
    }

    /// True for a `*_FAILED` event whose reason reports an authorization failure.
    pub fn is_authorization_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
            && self.reason.as_deref().is_some_and(is_authorization_failure)
    }

    /// The physical id of a nested stack this event is about: a stack resource of another
    /// stack than the event's own.
    pub fn nested_stack(&self) -> Option<&str> {
        (self.resource_type.as_deref() == Some(STACK_TYPE) && !self.is_of_the_stack())
            .then_some(self.physical_id.as_deref())
            .flatten()
            .filter(|id| !id.is_empty())
    }
}

/// The start of the most recent operation among a stack's events, newest first as
/// `DescribeStackEvents` returns them: the first event that [starts an
/// operation](StackEvent::starts_operation). `None` when the events read so far hold none.
pub fn operation_start(newest_first: &[StackEvent]) -> Option<&StackEvent> {
    newest_first.iter().find(|e| e.starts_operation())
}

/// An RFC 3339 time (UTC, seconds) for milliseconds since the Unix epoch.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("{ms} ms after 1970-01-01"),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// A stack event that reports an authorization failure, as evidence.
pub fn stack_event_evidence(event: &StackEvent) -> Option<Evidence> {
    if !event.is_authorization_failure() {
        return None;
    }
    Some(Evidence::text(
        Origin::StackEvent {
            stack: event.stack_name.clone(),
            logical_id: event.logical_id.clone(),
            resource_type: event.resource_type.clone(),
            status: event.status.clone(),
        },
        Some(rfc3339_ms(event.timestamp_ms)),
        event.reason.clone().unwrap_or_default(),
    ))
}

/// What one source gave: its evidence, what was read (for the report: which stack, how many
/// events, which time window, which log group and stream), and what of it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRead {
    pub evidence: Vec<Evidence>,
    pub read: String,
    pub problems: Vec<String>,
}

/// The lines of a log stream's events as one text, with the time of the line each event
/// starts on, so a message that spans several events is read whole, as a paste is.
pub fn log_text<'a>(
    events: impl IntoIterator<Item = (i64, &'a str)>,
) -> (String, Vec<(usize, String)>) {
    let mut text = String::new();
    let mut line_times = Vec::new();
    let mut line = 1;
    for (timestamp_ms, message) in events {
        line_times.push((line, rfc3339_ms(timestamp_ms)));
        let message = message.strip_suffix('\n').unwrap_or(message);
        text.push_str(message);
        text.push('\n');
        line += 1 + message.matches('\n').count();
    }
    (text, line_times)
}

/// Why `--since` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a duration: {why}")]
pub struct DurationError {
    pub given: String,
    pub why: &'static str,
}

/// A duration such as `90s`, `30m`, `2h`, `7d` (one number and one unit), in seconds.
pub fn parse_duration(given: &str) -> Result<u64, DurationError> {
    let fail = |why| DurationError {
        given: given.to_string(),
        why,
    };
    let text = given.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| fail("it has no unit (s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| fail("it does not start with a whole number"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(fail("the unit must be s, m, h or d")),
    };
    if number == 0 {
        return Err(fail("it must be longer than zero"));
    }
    number
        .checked_mul(scale)
        .filter(|s| *s <= 400 * 86_400)
        .ok_or_else(|| fail("it is longer than 400 days"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(principal: &str, action: &str, blamed: Blamed) -> Denial {
        Denial {
            principal: Some(principal.into()),
            action: action.into(),
            resource: Some("arn:aws:s3:::b".into()),
            blamed,
            policy_arn: None,
            error_code: None,
            encoded_message: None,
            encoded: None,
            region: None,
            notes: vec![],
            line: 1,
            raw: String::new(),
        }
    }

    fn seen_at(origin: Origin, line: usize) -> Sighting {
        Sighting {
            origin,
            line,
            timestamp: None,
        }
    }

    fn event(logical: &str, kind: &str, status: &str, reason: Option<&str>, t: i64) -> StackEvent {
        StackEvent {
            stack_id: "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo-dev/1".into(),
            stack_name: "demo-dev".into(),
            logical_id: logical.into(),
            physical_id: (kind == STACK_TYPE && logical == "demo-dev")
                .then(|| "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo-dev/1".into()),
            resource_type: Some(kind.into()),
            status: status.into(),
            reason: reason.map(str::to_string),
            timestamp_ms: t,
        }
    }

    #[test]
    fn the_same_denial_from_two_sources_is_one_with_both_sightings() {
        let stack = Origin::StackEvent {
            stack: "demo-dev".into(),
            logical_id: "Bucket".into(),
            resource_type: Some("AWS::S3::Bucket".into()),
            status: "CREATE_FAILED".into(),
        };
        let log = Origin::LogEvent {
            log_group: "/aws/codebuild/demo-dev-remote".into(),
            log_stream: None,
        };
        let mut with_arn = denial("p", "s3:CreateBucket", Blamed::ScpExplicitDeny);
        with_arn.policy_arn =
            Some("arn:aws:organizations::1:policy/o-1/service_control_policy/p-1".into());
        let merged = merge(vec![
            (
                denial("p", "s3:CreateBucket", Blamed::Unspecified),
                seen_at(stack.clone(), 1),
            ),
            (with_arn, seen_at(log.clone(), 7)),
            (
                denial("p", "s3:PutObject", Blamed::ScpExplicitDeny),
                seen_at(log.clone(), 9),
            ),
            (
                denial("q", "s3:CreateBucket", Blamed::ScpExplicitDeny),
                seen_at(log, 11),
            ),
        ]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[0].sightings.len(), 2);
        assert_eq!(merged[0].sightings[0].origin, stack);
        // The named policy type and the policy ARN come from the copy that has them.
        assert_eq!(merged[0].denial.blamed, Blamed::ScpExplicitDeny);
        assert!(merged[0].denial.policy_arn.is_some());
    }

    #[test]
    fn copies_that_name_different_policy_types_stay_apart() {
        let merged = merge(vec![
            (
                denial("p", "s3:CreateBucket", Blamed::ScpExplicitDeny),
                seen_at(Origin::Paste, 1),
            ),
            (
                denial("p", "s3:CreateBucket", Blamed::NoIdentityPolicy),
                seen_at(Origin::Paste, 5),
            ),
        ]);
        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn the_operation_starts_at_the_last_in_progress_that_is_not_a_cleanup_or_rollback() {
        // Newest first, as DescribeStackEvents returns them: a failed update after an older
        // successful create.
        let events = vec![
            event("demo-dev", STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", None, 9),
            event(
                "demo-dev",
                STACK_TYPE,
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                None,
                8,
            ),
            event(
                "demo-dev",
                STACK_TYPE,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [Controller]."),
                7,
            ),
            event(
                "Controller",
                "AWS::Lambda::Function",
                "CREATE_FAILED",
                Some(
                    "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: lambda:CreateFunction",
                ),
                6,
            ),
            event(
                "demo-dev",
                STACK_TYPE,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
                5,
            ),
            event("demo-dev", STACK_TYPE, "CREATE_COMPLETE", None, 4),
            event(
                "demo-dev",
                STACK_TYPE,
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
                1,
            ),
        ];
        let start = operation_start(&events).expect("an operation");
        assert_eq!(start.status, "UPDATE_IN_PROGRESS");
        assert_eq!(start.timestamp_ms, 5);
        assert!(events[3].is_authorization_failure());
        assert!(!events[2].is_authorization_failure());
        assert!(events[3].nested_stack().is_none());
    }

    #[test]
    fn a_nested_stack_is_a_stack_resource_with_a_physical_id() {
        let mut nested = event("ApiGateway", STACK_TYPE, "CREATE_FAILED", None, 3);
        nested.physical_id = Some(
            "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo-dev-ApiGateway-X/2".into(),
        );
        assert_eq!(
            nested.nested_stack(),
            Some("arn:aws:cloudformation:eu-west-1:111122223333:stack/demo-dev-ApiGateway-X/2")
        );
        nested.physical_id = Some(String::new());
        assert_eq!(nested.nested_stack(), None);
        let root = event("demo-dev", STACK_TYPE, "CREATE_IN_PROGRESS", None, 1);
        assert_eq!(root.nested_stack(), None);
    }

    #[test]
    fn the_filter_pattern_quotes_each_phrase_as_an_alternative() {
        let pattern = authorization_failure_filter_pattern();
        assert!(
            pattern.starts_with("?\"not authorized\" ?\"AccessDenied\""),
            "{pattern}"
        );
        assert_eq!(
            pattern.matches('?').count(),
            AUTHORIZATION_FAILURE_PHRASES.len()
        );
    }

    #[test]
    fn durations_take_one_number_and_one_unit() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("2h"), Ok(7_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in [
            "",
            "h",
            "2",
            "2w",
            "-2h",
            "0m",
            "1.5h",
            "99999999999999999999h",
            "401d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_log_line_takes_the_time_of_the_event_it_belongs_to() {
        let e = Evidence {
            origin: Origin::Paste,
            timestamp: None,
            content: Content::Text {
                text: "a\nb\nc\n".into(),
                line_times: vec![(1, "t1".into()), (3, "t3".into())],
            },
        };
        assert_eq!(e.time_of_line(1).as_deref(), Some("t1"));
        assert_eq!(e.time_of_line(2).as_deref(), Some("t1"));
        assert_eq!(e.time_of_line(3).as_deref(), Some("t3"));
    }
}
