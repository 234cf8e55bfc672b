//! Resource-based policies of the resources a deploy touches: the deploy bucket's bucket
//! policy (`GetBucketPolicy`), KMS key policies (`GetKeyPolicy`), ECR repository policies
//! (`GetRepositoryPolicy`), SNS topic policies (`GetTopicAttributes`, attribute `Policy`), SQS
//! queue policies (`GetQueueUrl`, then `GetQueueAttributes`, attribute `Policy`) and Lambda
//! function policies (`GetPolicy`).
//!
//! Every resource asked about gets a fact, never an error: "has no policy" is what the service
//! says with `NoSuchBucketPolicy` / `RepositoryPolicyNotFoundException` /
//! `ResourceNotFoundException` (Lambda), or an attribute map without `Policy` (SNS, SQS), and
//! anything else that stops the read (access denied, throttling, a missing bucket, topic or
//! queue) is recorded as unreadable with its reason, so the check can say it could not decide
//! instead of assuming an allow.

use std::sync::Arc;

use crate::core::arn::Arn;
use crate::core::facts::{ResourcePolicies, ResourcePolicyFact};
use crate::core::resources::ResourceKind;

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;

/// The name KMS gives the one key policy a key has (`GetKeyPolicy`'s `PolicyName`).
const KMS_POLICY_NAME: &str = "default";

/// The attribute holding a topic's or queue's access policy (SNS `GetTopicAttributes`, SQS
/// `GetQueueAttributes`).
const POLICY_ATTRIBUTE: &str = "Policy";

/// Whether [`SdkResourcePolicies`] can read the policy of a resource of this kind.
pub fn readable_kind(kind: ResourceKind) -> bool {
    match kind {
        ResourceKind::S3Bucket
        | ResourceKind::KmsKey
        | ResourceKind::EcrRepository
        | ResourceKind::SnsTopic
        | ResourceKind::SqsQueue
        | ResourceKind::LambdaFunction => true,
    }
}

/// The resource-policy reads over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkResourcePolicies {
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    ecr: aws_sdk_ecr::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    lambda: aws_sdk_lambda::Client,
    gate: Arc<CallGate>,
}

impl SdkResourcePolicies {
    pub fn new(
        s3: aws_sdk_s3::Client,
        kms: aws_sdk_kms::Client,
        ecr: aws_sdk_ecr::Client,
        sns: aws_sdk_sns::Client,
        sqs: aws_sdk_sqs::Client,
        lambda: aws_sdk_lambda::Client,
        gate: Arc<CallGate>,
    ) -> Self {
        Self {
            s3,
            kms,
            ecr,
            sns,
            sqs,
            lambda,
            gate,
        }
    }

    /// What is known of each resource's policy, by ARN, the reads running concurrently (bounded
    /// by the gate). Resources of a kind this adapter cannot read are left out (never looked
    /// at), so they are not mistaken for having no policy.
    pub async fn resource_policies(&self, arns: &[String]) -> ResourcePolicies {
        let reads: Vec<_> = arns.iter().map(|arn| self.one(arn)).collect();
        arns.iter()
            .cloned()
            .zip(super::join_all(reads).await)
            .filter_map(|(arn, fact)| fact.map(|f| (arn, f)))
            .collect()
    }

    async fn one(&self, arn: &str) -> Option<ResourcePolicyFact> {
        let kind = ResourceKind::of(arn).filter(|k| readable_kind(*k))?;
        let parsed = Arn::parse(arn)?;
        let read = match kind {
            ResourceKind::S3Bucket => self.bucket_policy(parsed.resource).await,
            ResourceKind::KmsKey => self.key_policy(arn).await,
            ResourceKind::EcrRepository => {
                let name = parsed.resource.strip_prefix("repository/")?;
                self.repository_policy(parsed.account, name).await
            }
            ResourceKind::SnsTopic => self.topic_policy(arn, parsed.region).await,
            ResourceKind::SqsQueue => {
                self.queue_policy(parsed.resource, parsed.account, parsed.region)
                    .await
            }
            ResourceKind::LambdaFunction => self.function_policy(arn, parsed.region).await,
        };
        Some(match read {
            Ok(Some((name, document))) => ResourcePolicyFact::Policy { name, document },
            Ok(None) => ResourcePolicyFact::NoPolicy,
            Err(e) => ResourcePolicyFact::Unreadable {
                reason: match e.help() {
                    Some(detail) => format!("{e} ({detail})"),
                    None => e.to_string(),
                },
            },
        })
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<(String, String)>, AwsError> {
        let result = self
            .gate
            .call(
                Api::GetBucketPolicy,
                self.s3.get_bucket_policy().bucket(bucket).send(),
            )
            .await;
        match result {
            Ok(out) => out
                .policy
                .filter(|p| !p.trim().is_empty())
                .map(|p| Some((ResourceKind::S3Bucket.policy_label().to_string(), p)))
                .ok_or_else(|| {
                    AwsError::incomplete(Api::GetBucketPolicy, "no `Policy` in the answer")
                }),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn key_policy(&self, key_arn: &str) -> Result<Option<(String, String)>, AwsError> {
        let out = self
            .gate
            .call(
                Api::GetKeyPolicy,
                self.kms
                    .get_key_policy()
                    .key_id(key_arn)
                    .policy_name(KMS_POLICY_NAME)
                    .send(),
            )
            .await?;
        // Every KMS key has a key policy: an answer without one is not "no policy".
        let document = out
            .policy
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| AwsError::incomplete(Api::GetKeyPolicy, "no `Policy` in the answer"))?;
        let name = out
            .policy_name
            .unwrap_or_else(|| KMS_POLICY_NAME.to_string());
        Ok(Some((name, document)))
    }

    async fn repository_policy(
        &self,
        registry: &str,
        name: &str,
    ) -> Result<Option<(String, String)>, AwsError> {
        let mut request = self.ecr.get_repository_policy().repository_name(name);
        if !registry.is_empty() {
            request = request.registry_id(registry);
        }
        match self
            .gate
            .call(Api::GetRepositoryPolicy, request.send())
            .await
        {
            Ok(out) => Ok(out
                .policy_text
                .filter(|p| !p.trim().is_empty())
                .map(|p| (ResourceKind::EcrRepository.policy_label().to_string(), p))),
            Err(e) if e.code() == Some("RepositoryPolicyNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A topic's `Policy` attribute (`GetTopicAttributes`), asked in the topic's region. SNS
    /// gives every topic a default policy; an answer without one is "no policy".
    async fn topic_policy(
        &self,
        topic_arn: &str,
        region: &str,
    ) -> Result<Option<(String, String)>, AwsError> {
        let mut request = self
            .sns
            .get_topic_attributes()
            .topic_arn(topic_arn)
            .customize();
        if let Some(region) = other_region(self.sns.config().region(), region) {
            request =
                request.config_override(aws_sdk_sns::config::Builder::default().region(region));
        }
        let out = self
            .gate
            .call(Api::GetTopicAttributes, request.send())
            .await?;
        Ok(policy_attribute(out.attributes)
            .map(|p| (ResourceKind::SnsTopic.policy_label().to_string(), p)))
    }

    /// A queue's `Policy` attribute: its URL from `GetQueueUrl` (name and owner account from
    /// the ARN, `QueueOwnerAWSAccountId`), then `GetQueueAttributes`, in the queue's region.
    async fn queue_policy(
        &self,
        name: &str,
        owner: &str,
        region: &str,
    ) -> Result<Option<(String, String)>, AwsError> {
        let in_region = other_region(self.sqs.config().region(), region)
            .map(|r| aws_sdk_sqs::config::Builder::default().region(r));
        let mut request = self.sqs.get_queue_url().queue_name(name);
        if !owner.is_empty() {
            request = request.queue_owner_aws_account_id(owner);
        }
        let mut request = request.customize();
        if let Some(config) = &in_region {
            request = request.config_override(config.clone());
        }
        let url = self
            .gate
            .call(Api::GetQueueUrl, request.send())
            .await?
            .queue_url
            .filter(|u| !u.is_empty())
            .ok_or_else(|| AwsError::incomplete(Api::GetQueueUrl, "no `QueueUrl` in the answer"))?;
        let mut request = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
            .customize();
        if let Some(config) = in_region {
            request = request.config_override(config);
        }
        let out = self
            .gate
            .call(Api::GetQueueAttributes, request.send())
            .await?;
        let attributes = out.attributes.map(|map| {
            map.into_iter()
                .map(|(k, v)| (k.as_str().to_string(), v))
                .collect()
        });
        Ok(policy_attribute(attributes)
            .map(|p| (ResourceKind::SqsQueue.policy_label().to_string(), p)))
    }

    /// A function's resource-based policy (Lambda `GetPolicy`, by ARN, in its region). Lambda
    /// answers `ResourceNotFoundException` for a function that has no policy: "no policy".
    async fn function_policy(
        &self,
        function_arn: &str,
        region: &str,
    ) -> Result<Option<(String, String)>, AwsError> {
        let mut request = self
            .lambda
            .get_policy()
            .function_name(function_arn)
            .customize();
        if let Some(region) = other_region(self.lambda.config().region(), region) {
            request =
                request.config_override(aws_sdk_lambda::config::Builder::default().region(region));
        }
        match self.gate.call(Api::GetFunctionPolicy, request.send()).await {
            Ok(out) => Ok(out
                .policy
                .filter(|p| !p.trim().is_empty())
                .map(|p| (ResourceKind::LambdaFunction.policy_label().to_string(), p))),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The resource's region when it is not the one the client signs for: a topic, queue or
/// function is only found through its own region's endpoint.
fn other_region(
    client: Option<&aws_types::region::Region>,
    resource: &str,
) -> Option<aws_types::region::Region> {
    (!resource.is_empty() && client.is_none_or(|r| r.as_ref() != resource))
        .then(|| aws_types::region::Region::new(resource.to_string()))
}

/// The `Policy` attribute of an attribute map (SNS, SQS), when present and not empty.
fn policy_attribute(
    attributes: Option<std::collections::HashMap<String, String>>,
) -> Option<String> {
    attributes?
        .remove(POLICY_ATTRIBUTE)
        .filter(|p| !p.trim().is_empty())
}
