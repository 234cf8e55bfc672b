//! CodeBuild: a build of the Jets remote runner and where its log is.

use std::sync::Arc;

use super::api::Api;
use super::error::{AwsError, NotFoundKind};
use super::gate::CallGate;

/// A build and the CloudWatch Logs stream its output went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildLog {
    pub build_id: String,
    /// `None` when the build sent no log to CloudWatch Logs (S3 only, or not started).
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    pub status: Option<String>,
}

/// CodeBuild over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkCodeBuild {
    client: aws_sdk_codebuild::Client,
    gate: Arc<CallGate>,
}

impl SdkCodeBuild {
    pub fn new(client: aws_sdk_codebuild::Client, gate: Arc<CallGate>) -> Self {
        Self { client, gate }
    }

    /// The build `id` (`PROJECT:UUID`) and its log stream.
    pub async fn build(&self, id: &str, region: &str) -> Result<BuildLog, AwsError> {
        let not_found = || AwsError::NotFound {
            kind: NotFoundKind::Build,
            name: id.to_string(),
            region: region.to_string(),
        };
        let out = match self
            .gate
            .call(
                Api::BatchGetBuilds,
                self.client.batch_get_builds().ids(id).send(),
            )
            .await
        {
            // CodeBuild refuses an id that is not `PROJECT:UUID` as input.
            Err(e) if e.code() == Some("InvalidInputException") => return Err(not_found()),
            other => other?,
        };
        let build = out
            .builds()
            .iter()
            .find(|b| b.id() == Some(id))
            .ok_or_else(not_found)?;
        let logs = build.logs();
        Ok(BuildLog {
            build_id: id.to_string(),
            log_group: logs
                .and_then(|l| l.group_name())
                .filter(|g| !g.is_empty())
                .map(str::to_string),
            log_stream: logs
                .and_then(|l| l.stream_name())
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            status: build.build_status().map(|s| s.as_str().to_string()),
        })
    }

    /// The id of the most recent build of `project`: the first of ListBuildsForProject, whose
    /// default order is by build number, descending. No `sortOrder` is sent: CodeBuild refuses
    /// one for a project with more than 100 builds (API reference, ListBuildsForProject,
    /// https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ListBuildsForProject.html).
    pub async fn latest_build(&self, project: &str, region: &str) -> Result<String, AwsError> {
        let out = match self
            .gate
            .call(
                Api::ListBuildsForProject,
                self.client
                    .list_builds_for_project()
                    .project_name(project)
                    .send(),
            )
            .await
        {
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                return Err(AwsError::NotFound {
                    kind: NotFoundKind::Project,
                    name: project.to_string(),
                    region: region.to_string(),
                });
            }
            other => other?,
        };
        out.ids()
            .first()
            .cloned()
            .ok_or_else(|| AwsError::NotFound {
                kind: NotFoundKind::BuildOfProject,
                name: project.to_string(),
                region: region.to_string(),
            })
    }
}
