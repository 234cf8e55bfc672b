//! The resources a deploy touches that carry a resource-based policy, and the requests a check
//! puts against them.

use super::arn::Arn;
use super::facts::{ResourcePolicies, ResourcePolicyFact};
use super::profile::RequiredAction;

/// A resource type whose resource-based policy the deploy can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// `arn:aws:s3:::BUCKET` (its bucket policy also governs `arn:aws:s3:::BUCKET/KEY`).
    S3Bucket,
    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`.
    KmsKey,
    /// `arn:aws:ecr:REGION:ACCOUNT:repository/NAME`.
    EcrRepository,
    /// `arn:aws:sns:REGION:ACCOUNT:TOPIC`.
    SnsTopic,
    /// `arn:aws:sqs:REGION:ACCOUNT:QUEUE`.
    SqsQueue,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
    LambdaFunction,
}

impl ResourceKind {
    /// The kind of resource an ARN names, when it is one that carries a resource-based policy.
    /// An S3 object ARN is not a bucket: its bucket is (see [`governing_resource`]).
    pub fn of(arn: &str) -> Option<ResourceKind> {
        let a = Arn::parse(arn)?;
        let has = |prefix: &str| {
            a.resource
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('*'))
        };
        let plain = !a.resource.is_empty() && !a.resource.contains(['/', ':', '*']);
        match a.service {
            "s3" if plain && a.region.is_empty() && a.account.is_empty() => {
                Some(ResourceKind::S3Bucket)
            }
            "kms" if has("key/") => Some(ResourceKind::KmsKey),
            "ecr" if has("repository/") => Some(ResourceKind::EcrRepository),
            "sns" if plain => Some(ResourceKind::SnsTopic),
            "sqs" if plain => Some(ResourceKind::SqsQueue),
            "lambda" if has("function:") => Some(ResourceKind::LambdaFunction),
            _ => None,
        }
    }

    /// What its resource-based policy is called, for reports.
    pub fn policy_label(self) -> &'static str {
        match self {
            ResourceKind::S3Bucket => "bucket policy",
            ResourceKind::KmsKey => "key policy",
            ResourceKind::EcrRepository => "repository policy",
            ResourceKind::SnsTopic => "topic policy",
            ResourceKind::SqsQueue => "queue policy",
            ResourceKind::LambdaFunction => "function policy",
        }
    }

    fn service(self) -> &'static str {
        match self {
            ResourceKind::S3Bucket => "s3",
            ResourceKind::KmsKey => "kms",
            ResourceKind::EcrRepository => "ecr",
            ResourceKind::SnsTopic => "sns",
            ResourceKind::SqsQueue => "sqs",
            ResourceKind::LambdaFunction => "lambda",
        }
    }
}

/// Actions on an S3 bucket (resource type `bucket`), of those a deploy makes. Service
/// Authorization Reference, "Actions, resources, and condition keys for Amazon S3":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
const S3_BUCKET_ACTIONS: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "DeleteBucketPolicy",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPublicAccessBlock",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetEncryptionConfiguration",
    "GetLifecycleConfiguration",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketNotification",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutLifecycleConfiguration",
];

/// Actions on an S3 object (resource type `object`, `arn:aws:s3:::BUCKET/KEY`), same page.
const S3_OBJECT_ACTIONS: &[&str] = &[
    "AbortMultipartUpload",
    "DeleteObject",
    "DeleteObjectVersion",
    "GetObject",
    "GetObjectAcl",
    "GetObjectTagging",
    "GetObjectVersion",
    "ListMultipartUploadParts",
    "PutObject",
    "PutObjectAcl",
    "PutObjectTagging",
];

/// KMS actions on a key (resource type `key`). Service Authorization Reference, "Actions,
/// resources, and condition keys for AWS Key Management Service":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
const KMS_KEY_ACTIONS: &[&str] = &[
    "CreateGrant",
    "Decrypt",
    "DescribeKey",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GetKeyPolicy",
    "ListGrants",
    "ReEncryptFrom",
    "ReEncryptTo",
    "RetireGrant",
    "RevokeGrant",
];

/// ECR actions that take no repository (resource `*`); every other ECR action a deploy makes acts
/// on a repository. Service Authorization Reference, "Actions, resources, and condition keys
/// for Amazon Elastic Container Registry":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
const ECR_ACTIONS_WITHOUT_REPOSITORY: &[&str] = &[
    "DescribeRegistry",
    "GetAuthorizationToken",
    "GetRegistryPolicy",
    "GetRegistryScanningConfiguration",
    "PutRegistryPolicy",
    "PutRegistryScanningConfiguration",
    "PutReplicationConfiguration",
    "DeleteRegistryPolicy",
];

/// SNS actions on a topic. Service Authorization Reference, "Actions, resources, and condition
/// keys for Amazon SNS":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
const SNS_TOPIC_ACTIONS: &[&str] = &[
    "DeleteTopic",
    "GetTopicAttributes",
    "Publish",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "UntagResource",
];

/// SQS actions on a queue. Service Authorization Reference, "Actions, resources, and condition
/// keys for Amazon SQS":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
const SQS_QUEUE_ACTIONS: &[&str] = &[
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "SendMessage",
    "SetQueueAttributes",
    "TagQueue",
    "UntagQueue",
];

/// Lambda actions on a function. Service Authorization Reference, "Actions, resources, and
/// condition keys for AWS Lambda":
/// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
const LAMBDA_FUNCTION_ACTIONS: &[&str] = &[
    "AddPermission",
    "DeleteFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "GetPolicy",
    "InvokeFunction",
    "PublishVersion",
    "RemovePermission",
    "TagResource",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
];

/// The resource an action of `service` acts on when the deploy's resource of `kind` at `arn`
/// is named: the ARN itself, the bucket's objects (`BUCKET/*`) for S3 object actions, or
/// `None` when the action does not act on that resource type.
///
/// Which actions act on which resource type is AWS's Service Authorization Reference (cited per
/// table below); an action not listed there for the resource type is not targeted at it.
fn target(kind: ResourceKind, arn: &str, action_name: &str) -> Option<String> {
    let listed = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(action_name));
    match kind {
        ResourceKind::S3Bucket if listed(S3_OBJECT_ACTIONS) => Some(format!("{arn}/*")),
        ResourceKind::S3Bucket => listed(S3_BUCKET_ACTIONS).then(|| arn.to_string()),
        ResourceKind::KmsKey => listed(KMS_KEY_ACTIONS).then(|| arn.to_string()),
        ResourceKind::EcrRepository => {
            (!listed(ECR_ACTIONS_WITHOUT_REPOSITORY)).then(|| arn.to_string())
        }
        ResourceKind::SnsTopic => listed(SNS_TOPIC_ACTIONS).then(|| arn.to_string()),
        ResourceKind::SqsQueue => listed(SQS_QUEUE_ACTIONS).then(|| arn.to_string()),
        ResourceKind::LambdaFunction => listed(LAMBDA_FUNCTION_ACTIONS).then(|| arn.to_string()),
    }
}

/// The deploy's required actions, checked again against each named resource they act on.
///
/// Every required action on `*` whose service and resource type match a resource in `named`
/// gives one more request on that resource (the original on `*` stays: it stands for the
/// resources no one named). Requests already in `required` are not repeated.
///
/// A deploy's required actions are mostly known on `*`: which bucket, key or repository they
/// hit is only known once a stack or template names it. When it does, the deploy's actions of
/// that service are also checked against the named resource, so its resource-based policy takes
/// part in the decision (an explicit `Deny` in the deploy bucket's policy stops a `PutObject`
/// that the role's own policies allow).
pub fn requests_on_named_resources<'a>(
    required: &[RequiredAction],
    named: impl IntoIterator<Item = &'a String>,
) -> Vec<RequiredAction> {
    let mut out: Vec<RequiredAction> = Vec::new();
    for arn in named {
        let Some(kind) = ResourceKind::of(arn) else {
            continue;
        };
        for r in required.iter().filter(|r| r.resource == "*") {
            let Some((service, name)) = r.action.split_once(':') else {
                continue;
            };
            if !service.eq_ignore_ascii_case(kind.service()) {
                continue;
            }
            let Some(resource) = target(kind, arn, name) else {
                continue;
            };
            let seen = |a: &RequiredAction| {
                a.action.eq_ignore_ascii_case(&r.action) && a.resource == resource
            };
            if required.iter().any(seen) || out.iter().any(seen) {
                continue;
            }
            out.push(RequiredAction {
                resource,
                reason: format!("{} (on the deploy's `{arn}`)", r.reason),
                ..r.clone()
            });
        }
    }
    out
}

/// The resource whose resource-based policy governs a request on `resource`: the resource
/// itself, or for an S3 object (`arn:aws:s3:::BUCKET/KEY`, `BUCKET/*`) its bucket. `None` when
/// no resource in `policies` governs it.
pub fn governing_resource<'a>(
    policies: &'a ResourcePolicies,
    resource: &str,
) -> Option<(&'a str, &'a ResourcePolicyFact)> {
    if let Some((arn, fact)) = policies.get_key_value(resource) {
        return Some((arn.as_str(), fact));
    }
    let bucket = resource
        .strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
        .map(|(bucket, _)| format!("arn:aws:s3:::{bucket}"))?;
    policies
        .get_key_value(&bucket)
        .map(|(arn, fact)| (arn.as_str(), fact))
}

/// The existing resources a CloudFormation template's properties name, as ARNs: literal ARNs
/// of the kinds above, KMS key ids under `Kms…Id`/`Kms…Arn` keys (`KmsKeyArn` of a function,
/// `KmsMasterKeyId` of a queue), ECR image URIs (`ImageUri`,
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG`) and code buckets (`S3Bucket`). Intrinsic
/// functions (`Ref`, `Fn::GetAtt`, …) name resources the template creates or that are only
/// known at deploy time, and are skipped. Bare key ids need `region` and `account` to become
/// an ARN; without them they are skipped too.
pub fn named_in_template(
    properties: &serde_json::Value,
    region: Option<&str>,
    account: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    walk(properties, None, region, account, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(
    value: &serde_json::Value,
    key: Option<&str>,
    region: Option<&str>,
    account: Option<&str>,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Some(arn) = named_resource(s, key, region, account) {
                out.push(arn);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, key, region, account, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                if !k.starts_with("Fn::") && k != "Ref" {
                    walk(v, Some(k), region, account, out);
                }
            }
        }
        _ => {}
    }
}

/// The ARN a property value names, if it names an existing resource with a resource policy.
fn named_resource(
    value: &str,
    key: Option<&str>,
    region: Option<&str>,
    account: Option<&str>,
) -> Option<String> {
    let value = value.trim();
    if value.starts_with("arn:") {
        return ResourceKind::of(value).map(|_| value.to_string());
    }
    let key = key.unwrap_or("").to_ascii_lowercase();
    if key.starts_with("kms") && (key.ends_with("id") || key.ends_with("arn")) {
        let id_like = !value.is_empty()
            && value.len() <= 128
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        return match (region, account) {
            (Some(r), Some(a)) if id_like => Some(format!("arn:aws:kms:{r}:{a}:key/{value}")),
            _ => None,
        };
    }
    if key == "s3bucket" {
        let bucket_like = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        return bucket_like.then(|| format!("arn:aws:s3:::{value}"));
    }
    // ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]
    let (host, path) = value.split_once('/')?;
    let mut parts = host.split('.');
    let (acct, dkr, ecr, reg) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if dkr != "dkr" || ecr != "ecr" || acct.len() != 12 || !acct.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let repo = path.split(['@', ':']).next().filter(|r| !r.is_empty())?;
    Some(format!("arn:aws:ecr:{reg}:{acct}:repository/{repo}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_keys_repositories_buckets_and_arns() {
        let props = serde_json::json!({
            "Function": {
                "KmsKeyArn": KEY,
                "Code": {"S3Bucket": "demo-dev-s3bucket-1x2y3z", "S3Key": "code.zip"},
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}
            },
            "Image": {"Code": {"ImageUri": "111122223333.dkr.ecr.us-east-1.amazonaws.com/demo:latest"}},
            "Queue": {"KmsMasterKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
            "Generated": {"KmsKeyId": {"Ref": "Key"}, "S3Bucket": {"Ref": "Bucket"}},
            "Topic": {"TopicArn": "arn:aws:sns:us-east-1:111122223333:jobs"},
            "NotAResource": {"Role": "arn:aws:iam::111122223333:role/x", "Name": "demo"}
        });
        let named = named_in_template(&props, Some("us-east-1"), Some("111122223333"));
        // The key is named twice (by ARN and by id) and listed once; ARNs come sorted.
        assert_eq!(
            named,
            [
                REPO,
                KEY,
                "arn:aws:s3:::demo-dev-s3bucket-1x2y3z",
                "arn:aws:sns:us-east-1:111122223333:jobs",
            ]
        );
        // Without region and account the bare key id cannot become an ARN: only the ARN is left.
        let unnamed = named_in_template(&props, None, None);
        assert_eq!(unnamed.iter().filter(|a| a.contains(":key/")).count(), 1);
    }

    fn required(action: &str, resource: &str) -> RequiredAction {
        RequiredAction {
            action: action.into(),
            resource: resource.into(),
            grant: "s3".into(),
            policy: "DefaultPolicy".into(),
            reason: "upload code".into(),
        }
    }

    const BUCKET: &str = "arn:aws:s3:::demo-dev-s3bucket-1x2y3z";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const REPO: &str = "arn:aws:ecr:us-east-1:111122223333:repository/demo";

    #[test]
    fn kinds_follow_the_arn_formats_of_each_service() {
        let cases = [
            (BUCKET, Some(ResourceKind::S3Bucket)),
            ("arn:aws:s3:::demo/key.zip", None),
            ("arn:aws:s3:::*", None),
            (KEY, Some(ResourceKind::KmsKey)),
            ("arn:aws:kms:us-east-1:111122223333:alias/demo", None),
            (REPO, Some(ResourceKind::EcrRepository)),
            (
                "arn:aws:sns:us-east-1:111122223333:jobs",
                Some(ResourceKind::SnsTopic),
            ),
            (
                "arn:aws:sqs:us-east-1:111122223333:jobs",
                Some(ResourceKind::SqsQueue),
            ),
            (
                "arn:aws:lambda:us-east-1:111122223333:function:demo-dev-controller",
                Some(ResourceKind::LambdaFunction),
            ),
            ("arn:aws:iam::111122223333:role/demo", None),
            ("*", None),
            ("not an arn", None),
        ];
        for (arn, kind) in cases {
            assert_eq!(ResourceKind::of(arn), kind, "{arn}");
        }
    }

    #[test]
    fn bucket_and_object_actions_target_the_bucket_and_its_objects() {
        let policies = ResourcePolicies::from([(BUCKET.to_string(), ResourcePolicyFact::NoPolicy)]);
        let req = [
            required("s3:PutObject", "*"),
            required("s3:ListBucket", "*"),
            required("s3:ListAllMyBuckets", "*"),
            required("kms:Decrypt", "*"),
        ];
        let targeted = requests_on_named_resources(&req, policies.keys());
        let pairs: Vec<(&str, &str)> = targeted
            .iter()
            .map(|r| (r.action.as_str(), r.resource.as_str()))
            .collect();
        let objects = format!("{BUCKET}/*");
        assert_eq!(
            pairs,
            [
                ("s3:PutObject", objects.as_str()),
                ("s3:ListBucket", BUCKET)
            ]
        );
        assert!(targeted[0].reason.contains(BUCKET));
    }

    #[test]
    fn key_and_repository_actions_target_them_and_nothing_is_repeated() {
        let policies = ResourcePolicies::from([
            (KEY.to_string(), ResourcePolicyFact::NoPolicy),
            (REPO.to_string(), ResourcePolicyFact::NoPolicy),
        ]);
        let req = [
            required("kms:Decrypt", "*"),
            required("kms:CreateKey", "*"),
            required("ecr:PutImage", "*"),
            required("ecr:GetAuthorizationToken", "*"),
            required("ecr:PutImage", REPO),
        ];
        let targeted = requests_on_named_resources(&req, policies.keys());
        let pairs: Vec<(&str, &str)> = targeted
            .iter()
            .map(|r| (r.action.as_str(), r.resource.as_str()))
            .collect();
        assert_eq!(pairs, [("kms:Decrypt", KEY)]);
    }

    #[test]
    fn an_object_is_governed_by_its_buckets_policy() {
        let policies = ResourcePolicies::from([(BUCKET.to_string(), ResourcePolicyFact::NoPolicy)]);
        let object = format!("{BUCKET}/jets/code.zip");
        assert_eq!(
            governing_resource(&policies, &object).map(|(arn, _)| arn),
            Some(BUCKET)
        );
        assert_eq!(governing_resource(&policies, "arn:aws:s3:::other/x"), None);
    }
}
