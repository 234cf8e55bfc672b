//! Resource-based policies of the resources a deploy touches: the deploy bucket's bucket
//! policy (`GetBucketPolicy`), KMS key policies (`GetKeyPolicy`), ECR repository policies
//! (`GetRepositoryPolicy`).
//!
//! Every resource asked about gets a fact, never an error: "has no policy" is what the service
//! says with `NoSuchBucketPolicy` / `RepositoryPolicyNotFoundException`, and anything else that
//! stops the read (access denied, throttling, a missing bucket) is recorded as unreadable with
//! its reason, so the check can say it could not decide instead of assuming an allow.

use std::sync::Arc;

use crate::core::arn::Arn;
use crate::core::facts::{ResourcePolicies, ResourcePolicyFact};
use crate::core::resources::ResourceKind;

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;

/// The name KMS gives the one key policy a key has (`GetKeyPolicy`'s `PolicyName`).
const KMS_POLICY_NAME: &str = "default";

/// Whether [`SdkResourcePolicies`] can read the policy of a resource of this kind.
pub fn readable_kind(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::S3Bucket | ResourceKind::KmsKey | ResourceKind::EcrRepository
    )
}

/// The resource-policy reads over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkResourcePolicies {
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    ecr: aws_sdk_ecr::Client,
    gate: Arc<CallGate>,
}

impl SdkResourcePolicies {
    pub fn new(
        s3: aws_sdk_s3::Client,
        kms: aws_sdk_kms::Client,
        ecr: aws_sdk_ecr::Client,
        gate: Arc<CallGate>,
    ) -> Self {
        Self { s3, kms, ecr, gate }
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
            _ => return None,
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
}
