//! CloudWatch Logs: a build's whole log stream, and the events of a log group that report an
//! authorization failure.

use std::sync::Arc;

use super::api::Api;
use super::error::{AwsError, NotFoundKind};
use super::gate::CallGate;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub log_stream: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub message: String,
}

/// Pages a stream may take before the read is cut short: a CodeBuild log of a Jets deploy is a
/// few thousand lines, and GetLogEvents returns up to 10,000 events a page.
const MAX_PAGES: usize = 1_000;

/// CloudWatch Logs over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkLogs {
    client: aws_sdk_cloudwatchlogs::Client,
    gate: Arc<CallGate>,
}

impl SdkLogs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client, gate: Arc<CallGate>) -> Self {
        Self { client, gate }
    }

    fn not_found(
        e: &AwsError,
        group: &str,
        stream: Option<&str>,
        region: &str,
    ) -> Option<AwsError> {
        (e.code() == Some("ResourceNotFoundException")).then(|| {
            let message = e.to_string();
            match stream {
                Some(stream) if message.contains("stream") => AwsError::NotFound {
                    kind: NotFoundKind::LogStream,
                    name: format!("{group}/{stream}"),
                    region: region.to_string(),
                },
                _ => AwsError::NotFound {
                    kind: NotFoundKind::LogGroup,
                    name: group.to_string(),
                    region: region.to_string(),
                },
            }
        })
    }

    /// Every event of a stream, oldest first: GetLogEvents from the head, following the
    /// forward token until it comes back unchanged, which is how CloudWatch Logs marks the end
    /// of the stream.
    pub async fn stream_events(
        &self,
        group: &str,
        stream: &str,
        region: &str,
    ) -> Result<Vec<LogEvent>, AwsError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .gate
                .call(
                    Api::GetLogEvents,
                    self.client
                        .get_log_events()
                        .log_group_name(group)
                        .log_stream_name(stream)
                        .start_from_head(true)
                        .set_next_token(token.clone())
                        .send(),
                )
                .await
                .map_err(|e| Self::not_found(&e, group, Some(stream), region).unwrap_or(e))?;
            events.extend(page.events().iter().map(|e| LogEvent {
                log_stream: Some(stream.to_string()),
                timestamp_ms: e.timestamp().unwrap_or(0),
                message: e.message().unwrap_or_default().to_string(),
            }));
            // An empty page is not the end (CloudWatch Logs may answer one before later
            // events); the unchanged token is, per the API reference of GetLogEvents
            // (`nextForwardToken`: "If you have reached the end of the stream, it returns the
            // same token you passed in").
            let next = page.next_forward_token().map(str::to_string);
            if next.is_none() || next == token {
                return Ok(events);
            }
            token = next;
        }
        Err(AwsError::incomplete(
            Api::GetLogEvents,
            format!("the stream `{group}/{stream}` did not end within {MAX_PAGES} pages"),
        ))
    }

    /// The events of a group (or of one of its streams) since `start_ms` that match
    /// `pattern`, oldest first, all pages.
    pub async fn filter_events(
        &self,
        group: &str,
        stream: Option<&str>,
        start_ms: i64,
        pattern: &str,
        region: &str,
    ) -> Result<Vec<LogEvent>, AwsError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .gate
                .call(
                    Api::FilterLogEvents,
                    self.client
                        .filter_log_events()
                        .log_group_name(group)
                        .set_log_stream_names(stream.map(|s| vec![s.to_string()]))
                        .start_time(start_ms)
                        .filter_pattern(pattern)
                        .set_next_token(token.take())
                        .send(),
                )
                .await
                .map_err(|e| Self::not_found(&e, group, stream, region).unwrap_or(e))?;
            events.extend(page.events().iter().map(|e| LogEvent {
                log_stream: e.log_stream_name().map(str::to_string),
                timestamp_ms: e.timestamp().unwrap_or(0),
                message: e.message().unwrap_or_default().to_string(),
            }));
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(events),
            }
        }
        Err(AwsError::incomplete(
            Api::FilterLogEvents,
            format!("the group `{group}` still had events after {MAX_PAGES} pages"),
        ))
    }
}
