//! CloudFormation: which role a deployed stack's build runs as.
//!
//! Jets deploys through a CodeBuild project whose role is a stack resource, so the principal to
//! check is found by asking the stack rather than by guessing the generated role name.

use std::sync::Arc;

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;

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
