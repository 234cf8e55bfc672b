//! CloudFormation: which role a deployed stack's build runs as.
//!
//! Jets deploys through a CodeBuild project whose role is a stack resource, so the principal to
//! check is found by asking the stack rather than by guessing the generated role name.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::api::Api;
use super::error::{AwsError, NotFoundKind};
use super::gate::CallGate;
use crate::core::evidence::{StackEvent, operation_start};

/// CloudFormation over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkCloudFormation {
    client: aws_sdk_cloudformation::Client,
    gate: Arc<CallGate>,
}

impl SdkCloudFormation {
    pub fn new(client: aws_sdk_cloudformation::Client, gate: Arc<CallGate>) -> Self {
        Self { client, gate }
    }

    /// The role name behind an `AWS::IAM::Role` resource of a stack (e.g. `CodebuildRole`).
    pub async fn stack_role(&self, stack_name: &str, logical_id: &str) -> Result<String, AwsError> {
        let physical = self.stack_resource(stack_name, logical_id).await?;
        // The physical id of a role is its name; tolerate an ARN all the same.
        Ok(physical.rsplit('/').next().unwrap_or(&physical).to_string())
    }

    /// The physical id of any resource of a stack: a bucket's name for `AWS::S3::Bucket`
    /// (Jets' bootstrap stack names its deploy bucket `S3Bucket`).
    pub async fn stack_resource(
        &self,
        stack_name: &str,
        logical_id: &str,
    ) -> Result<String, AwsError> {
        let not_found = || AwsError::StackResourceNotFound {
            stack: stack_name.to_string(),
            logical_id: logical_id.to_string(),
        };
        let result = self
            .gate
            .call(
                Api::DescribeStackResource,
                self.client
                    .describe_stack_resource()
                    .stack_name(stack_name)
                    .logical_resource_id(logical_id)
                    .send(),
            )
            .await;
        match result {
            Ok(out) => out
                .stack_resource_detail
                .and_then(|d| d.physical_resource_id)
                .filter(|id| !id.is_empty())
                .ok_or_else(not_found),
            // CloudFormation answers `ValidationError` both for a missing stack and for a
            // missing resource; asking for the stack tells the two apart.
            Err(e) if e.code() == Some("ValidationError") => {
                match self
                    .gate
                    .call(
                        Api::DescribeStacks,
                        self.client.describe_stacks().stack_name(stack_name).send(),
                    )
                    .await
                {
                    Ok(_) => Err(not_found()),
                    Err(e) if e.code() == Some("ValidationError") => Err(AwsError::StackNotFound {
                        name: stack_name.to_string(),
                    }),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// What was read of a stack's most recent operation: its events and its nested stacks'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOperation {
    /// The event that started the operation, when the events hold one.
    pub started_by: Option<StackEvent>,
    /// Every event of the root stack and its nested stacks from that start on, newest first
    /// per stack.
    pub events: Vec<StackEvent>,
    /// The stacks read, root first, by name.
    pub stacks: Vec<String>,
    /// Nested stacks whose events could not be read, and why.
    pub unreadable: Vec<String>,
}

impl SdkCloudFormation {
    /// The events of the most recent operation of `stack` and of the nested stacks it touched
    /// (see [`operation_start`]), read page by page, newest first, until the operation's start.
    /// Without an operation start in the whole history, every event is returned.
    pub async fn latest_operation(
        &self,
        stack: &str,
        region: &str,
    ) -> Result<StackOperation, AwsError> {
        let root = match self
            .stack_events(stack, |read| operation_start(read).is_none())
            .await
        {
            Err(e) if e.code() == Some("ValidationError") => {
                return Err(AwsError::NotFound {
                    kind: NotFoundKind::Stack,
                    name: stack.to_string(),
                    region: region.to_string(),
                });
            }
            other => other?,
        };
        let started_by = operation_start(&root).cloned();
        let since = started_by.as_ref().map_or(i64::MIN, |e| e.timestamp_ms);
        let mut events: Vec<StackEvent> = root
            .into_iter()
            .filter(|e| e.timestamp_ms >= since)
            .collect();
        let mut stacks = vec![stack.to_string()];
        let mut unreadable = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut next = 0;
        // Nested stacks touched by the operation, and theirs in turn, each read once.
        while next < events.len() {
            let nested = events[next].nested_stack().map(str::to_string);
            next += 1;
            let Some(id) = nested else { continue };
            if !seen.insert(id.clone()) {
                continue;
            }
            match self
                .stack_events(&id, |read| {
                    read.last().is_none_or(|e| e.timestamp_ms >= since)
                })
                .await
            {
                Ok(read) => {
                    if let Some(name) = read.first().map(|e| e.stack_name.clone()) {
                        stacks.push(name);
                    }
                    events.extend(read.into_iter().filter(|e| e.timestamp_ms >= since));
                }
                Err(e @ (AwsError::AccessDenied { .. } | AwsError::Service { .. })) => {
                    unreadable.push(format!("nested stack `{id}`: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(StackOperation {
            started_by,
            events,
            stacks,
            unreadable,
        })
    }

    /// A stack's events, newest first, page after page while `more` says the pages so far
    /// are not enough.
    async fn stack_events(
        &self,
        stack: &str,
        more: impl Fn(&[StackEvent]) -> bool,
    ) -> Result<Vec<StackEvent>, AwsError> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .gate
                .call(
                    Api::DescribeStackEvents,
                    self.client
                        .describe_stack_events()
                        .stack_name(stack)
                        .set_next_token(token.take())
                        .send(),
                )
                .await?;
            events.extend(page.stack_events().iter().map(|e| {
                StackEvent {
                    stack_id: e.stack_id().unwrap_or_default().to_string(),
                    stack_name: e.stack_name().unwrap_or_default().to_string(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: e.physical_resource_id().map(str::to_string),
                    resource_type: e.resource_type().map(str::to_string),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                    timestamp_ms: e.timestamp().and_then(|t| t.to_millis().ok()).unwrap_or(0),
                }
            }));
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(t) if more(&events) => token = Some(t.to_string()),
                _ => return Ok(events),
            }
        }
    }
}
