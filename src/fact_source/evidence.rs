//! The record AWS kept of a failed deploy, read as [`Evidence`]: a stack's events, a CodeBuild
//! build's log, a log group's authorization failures.

use crate::aws::AwsError;
use crate::core::evidence::{
    Content, Evidence, Origin, SourceRead, authorization_failure_filter_pattern, log_text,
    rfc3339_ms, stack_event_evidence,
};

use super::AwsFacts;

/// The suffix of the Jets remote runner's CodeBuild project name (`<stack>-remote`).
pub const REMOTE_RUNNER_SUFFIX: &str = "-remote";

/// Which build to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildRef {
    /// A build id, `PROJECT:UUID`.
    Id(String),
    /// The most recent build of a project.
    LatestOf(String),
}

impl AwsFacts {
    fn region_name(&self) -> String {
        self.session().region().unwrap_or("us-east-1").to_string()
    }

    /// The `*_FAILED` events with an authorization failure of the most recent operation of
    /// `stack` and of its nested stacks.
    pub fn read_stack(&self, stack: &str) -> Result<SourceRead, AwsError> {
        let region = self.region_name();
        let op = self.block_on(
            self.session()
                .cloudformation()
                .latest_operation(stack, &region),
        )?;
        let evidence: Vec<Evidence> = op.events.iter().filter_map(stack_event_evidence).collect();
        let window = match &op.started_by {
            Some(e) => format!(
                "since {} ({} of the stack, the start of its most recent operation)",
                rfc3339_ms(e.timestamp_ms),
                e.status
            ),
            None => "its whole history (no operation start found)".to_string(),
        };
        let nested = op.stacks.len().saturating_sub(1);
        let read = format!(
            "stack {stack} in {region}: {} event(s) of {} stack(s){}, {window}; {} failed on an authorization error",
            op.events.len(),
            op.stacks.len(),
            if nested > 0 {
                format!(" (nested: {})", op.stacks[1..].join(", "))
            } else {
                String::new()
            },
            evidence.len(),
        );
        Ok(SourceRead {
            evidence,
            read,
            problems: op.unreadable,
        })
    }

    /// The whole CloudWatch Logs stream of a build.
    pub fn read_build(&self, build: &BuildRef) -> Result<SourceRead, AwsError> {
        let region = self.region_name();
        let codebuild = self.session().codebuild();
        let id = match build {
            BuildRef::Id(id) => id.clone(),
            BuildRef::LatestOf(project) => {
                self.block_on(codebuild.latest_build(project, &region))?
            }
        };
        let found = self.block_on(codebuild.build(&id, &region))?;
        let (Some(group), Some(stream)) = (found.log_group, found.log_stream) else {
            return Ok(SourceRead {
                evidence: Vec::new(),
                read: format!("build {id} in {region}: no CloudWatch Logs stream"),
                problems: vec![format!(
                    "build {id} has no CloudWatch Logs stream (its logs may go to S3 only, or it never started), so its log was not read"
                )],
            });
        };
        let events = match self.block_on(
            self.session()
                .logs()
                .stream_events(&group, &stream, &region),
        ) {
            Ok(events) => events,
            // The build exists; its log is gone (expired or deleted): the source is unreadable.
            Err(e @ AwsError::NotFound { .. }) => {
                return Ok(SourceRead {
                    evidence: Vec::new(),
                    read: format!("build {id} in {region}: log {group}/{stream} not read"),
                    problems: vec![format!("the log of build {id}: {e}")],
                });
            }
            Err(e) => return Err(e),
        };
        let window = match (events.first(), events.last()) {
            (Some(first), Some(last)) => format!(
                " from {} to {}",
                rfc3339_ms(first.timestamp_ms),
                rfc3339_ms(last.timestamp_ms)
            ),
            _ => String::new(),
        };
        let read = format!(
            "build {id} in {region}{}: {} log event(s) of {group}/{stream}{window}",
            found.status.map(|s| format!(" ({s})")).unwrap_or_default(),
            events.len()
        );
        let (text, line_times) =
            log_text(events.iter().map(|e| (e.timestamp_ms, e.message.as_str())));
        Ok(SourceRead {
            evidence: vec![Evidence {
                origin: Origin::BuildLog {
                    build: id,
                    log_group: group,
                    log_stream: stream,
                },
                timestamp: None,
                content: Content::Text { text, line_times },
            }],
            read,
            problems: Vec::new(),
        })
    }

    /// The events of a log group (or one stream of it) since `since_ms` that report an
    /// authorization failure, filtered by CloudWatch Logs itself.
    pub fn read_log_group(
        &self,
        group: &str,
        stream: Option<&str>,
        since_ms: i64,
    ) -> Result<SourceRead, AwsError> {
        let region = self.region_name();
        let events = self.block_on(self.session().logs().filter_events(
            group,
            stream,
            since_ms,
            &authorization_failure_filter_pattern(),
            &region,
        ))?;
        let read = format!(
            "log group {group}{} in {region} since {}: {} event(s) matching an authorization failure",
            stream.map(|s| format!(" stream {s}")).unwrap_or_default(),
            rfc3339_ms(since_ms),
            events.len()
        );
        let evidence = events
            .into_iter()
            .map(|e| {
                Evidence::text(
                    Origin::LogEvent {
                        log_group: group.to_string(),
                        log_stream: e.log_stream,
                    },
                    Some(rfc3339_ms(e.timestamp_ms)),
                    e.message,
                )
            })
            .collect();
        Ok(SourceRead {
            evidence,
            read,
            problems: Vec::new(),
        })
    }
}
