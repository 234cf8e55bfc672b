//! `iam-doctor self-policy`: the read-only IAM policy iam-doctor itself needs.
//!
//! Security teams grant tools by reading their policy, so the policy is a file
//! (`policies/self-policy.json`, embedded) rather than a paragraph of the README, and a test
//! (`tests/it/self_policy.rs`) holds it to exactly the calls the AWS adapter can make: nothing
//! missing, nothing extra, nothing that writes.

use clap::ValueEnum;
use serde_json::Value;

use iam_doctor::report;

use super::{Exit, Failure, emit, terminal_width};

/// The policy document, as printed.
pub const SELF_POLICY: &str = include_str!("../../policies/self-policy.json");

/// What each statement of the policy is for, by Sid.
const PURPOSES: &[(&str, &str)] = &[
    (
        "Simulation",
        "IAM's own verdict for each required action (`check`, `explain`; `--confirm` for SCPs)",
    ),
    (
        "PrincipalLookup",
        "the caller, and a role's or user's inline, managed, group policies and boundary",
    ),
    (
        "Snapshot",
        "the whole account's IAM configuration for `snapshot`",
    ),
    (
        "Organizations",
        "the SCPs and RCPs from the root to the account (`check`, `snapshot`, `scps`), or of the whole organization read top-down (`scps --all-accounts`, `snapshot --organization`); needs the management account or a delegated administrator",
    ),
    (
        "CloudFormation",
        "the remote runner role of a Jets bootstrap stack (`--stack`)",
    ),
    (
        "ResourcePolicies",
        "the resource-based policies of the resources the deploy touches: the deploy bucket's policy, KMS key policies, ECR repository policies, SNS topic, SQS queue and Lambda function policies (`check`, `snapshot`)",
    ),
    (
        "DecodeMessages",
        "the request behind an encoded authorization failure message (EC2's `UnauthorizedOperation`), for an exact reproduction (`explain`)",
    ),
    (
        "CloudTrail",
        "the account's recent denied calls (`explain --cloudtrail`)",
    ),
    (
        "FailedDeployEvidence",
        "the record of a failed deploy `explain` reads: stack events (`--stack`), CodeBuild build logs (`--build`), log groups (`--log-group`)",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The policy document, ready to attach.
    Json,
    /// One row per statement, with what it is for.
    Table,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    match args.format {
        Format::Json => emit(SELF_POLICY)?,
        Format::Table => emit(&table()?)?,
    }
    Ok(Exit::Allowed)
}

fn table() -> Result<String, Failure> {
    let doc: Value = serde_json::from_str(SELF_POLICY).map_err(|e| {
        Failure::input(
            format!("the embedded self-policy is not JSON: {e}"),
            "the policy is part of the binary: reinstall iam-doctor, or report the message",
        )
    })?;
    Ok(report::table::self_policy(&doc, PURPOSES, terminal_width()))
}
