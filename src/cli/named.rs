//! The resources a deploy touches that can be named before it runs, whose resource-based
//! policies take part in `check` and are collected by `snapshot`: the Jets bootstrap stack's
//! deploy bucket, and the existing resources the `--template` files name.

use std::path::PathBuf;

use iam_doctor::aws::{AwsError, readable_kind};
use iam_doctor::core::resources::{ResourceKind, named_in_template};
use iam_doctor::inputs::template;

use super::Failure;
use super::live::{AwsConnection, aws_failure};

/// The logical id of the deploy bucket in a Jets bootstrap stack
/// (`lib/jets/cfn/resource/s3/jets_bucket.rb`: `@bucket_logical_id = "S3Bucket"`).
pub const BOOTSTRAP_BUCKET: &str = "S3Bucket";

/// The existing resources the templates' properties name, as ARNs (see
/// [`named_in_template`]); bare KMS key ids take the deploy's region and account.
pub fn in_templates(
    files: &[PathBuf],
    region: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for file in files {
        let t = template::load(file).map_err(Failure::from_error)?;
        for resource in t.resources().values() {
            if let Some(props) = resource.get("Properties") {
                out.extend(named_in_template(props, region, account));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The deploy bucket of a Jets bootstrap stack, as an ARN. A stack without one is not an
/// error for the check (the bucket is only one of the resources), so it comes back as a note.
pub fn stack_bucket(live: &AwsConnection, stack: &str) -> Result<Result<String, String>, Failure> {
    match live.block_on(
        live.session
            .cloudformation()
            .stack_resource(stack, BOOTSTRAP_BUCKET),
    ) {
        Ok(bucket) => Ok(Ok(format!("arn:aws:s3:::{bucket}"))),
        Err(e @ AwsError::StackResourceNotFound { .. }) => {
            Ok(Err(format!("{e}: the deploy bucket's policy was not read")))
        }
        Err(e) => Err(aws_failure(e)),
    }
}

/// The named resources whose policies the AWS adapter can read, and a note for the others.
pub fn readable(named: &[String]) -> (Vec<String>, Option<String>) {
    let (read, skipped): (Vec<String>, Vec<String>) = named
        .iter()
        .cloned()
        .partition(|arn| ResourceKind::of(arn).is_some_and(readable_kind));
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "the resource policies of {} are not read (only S3 bucket, KMS key, ECR repository, SNS topic, SQS queue and Lambda function policies are); put them in `resource-policies.json` to check them offline",
            skipped
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    (read, note)
}
