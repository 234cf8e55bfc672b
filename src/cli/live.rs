//! AWS from the command line: the connection options, and AWS's errors as the user sees them.

use std::io::IsTerminal;
use std::time::Duration;

use iam_doctor::aws::network::{DEFAULT_RUN_TIMEOUT, redact_secrets};
use iam_doctor::aws::{AwsError, AwsOptions, WalkProgress};
use iam_doctor::core::org_tree::OrganizationTree;
use iam_doctor::fact_source::{AwsFacts, FactsError};

use super::{Exit, Failure};

/// How to reach AWS.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// Named profile from the shared AWS config (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
    /// Endpoint for every AWS service (also `AWS_ENDPOINT_URL`), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Time limit for the whole run's AWS calls, retries included: when it passes, the run
    /// ends (exit 3) naming the call that did not answer.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_RUN_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

/// Turns an adapter error into what the user sees. Bad names are input errors (2); anything
/// that stopped the check from finishing leaves it incomplete (3).
pub fn aws_failure(e: AwsError) -> Failure {
    let exit = match &e {
        AwsError::NoCredentials { .. }
        | AwsError::InvalidCredentials { .. }
        | AwsError::RoleNotFound { .. }
        | AwsError::UserNotFound { .. }
        | AwsError::StackNotFound { .. }
        | AwsError::NotFound { .. }
        | AwsError::StackResourceNotFound { .. }
        | AwsError::WrongAccount { .. }
        | AwsError::UnsupportedCaller { .. }
        | AwsError::InvalidEndpointUrl { .. }
        | AwsError::ProfileNotFound { .. }
        | AwsError::AwsConfigFile { .. } => Exit::Input,
        _ => Exit::Incomplete,
    };
    let help = e
        .network_help()
        .unwrap_or_else(|| iam_doctor::error::Help::help(&e));
    Failure {
        message: redact_secrets(&e.to_string()),
        help: Some(redact_secrets(&help)),
        exit,
    }
}

impl From<FactsError> for Failure {
    fn from(e: FactsError) -> Failure {
        match e {
            FactsError::Aws(e) => aws_failure(e),
            FactsError::Snapshot(e) => Failure::from_error(e),
            FactsError::Policy(e) => Failure::from_error(e),
            FactsError::Runtime(_) => Failure::incomplete(e),
        }
    }
}

/// Connects to AWS with the options given.
pub fn connect(args: &AwsArgs, region: Option<&str>) -> Result<AwsFacts, Failure> {
    try_connect(args, region)?.map_err(aws_failure)
}

/// Like [`connect`], with the adapter's own error when no session could be made, for a
/// command that has something to show without AWS (`explain` shows what it parsed).
pub fn try_connect(
    args: &AwsArgs,
    region: Option<&str>,
) -> Result<Result<AwsFacts, AwsError>, Failure> {
    let options = AwsOptions {
        profile: args.aws_profile.clone(),
        region: region.map(str::to_string),
        endpoint_url: args.endpoint_url.clone(),
        timeout: Some(Duration::from_secs(args.timeout)),
    };
    Ok(AwsFacts::connect(&options)?)
}

/// `--stats`: requests sent per API, on stderr.
pub fn print_stats(aws: &AwsFacts, quiet: bool) {
    for (api, n) in aws.calls() {
        super::note(quiet, &format!("{api}: {n} call(s)"));
    }
}

/// A spinner on stderr while AWS is asked, when stderr is a terminal and not `--quiet`.
pub fn spinner(quiet: bool, message: &str) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let p = indicatif::ProgressBar::new_spinner();
    p.set_message(message.to_string());
    p.enable_steady_tick(Duration::from_millis(120));
    Some(p)
}

/// A progress bar on stderr for `total` steps, when stderr is a terminal and not `--quiet`.
pub fn progress(quiet: bool, total: usize, message: &str) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let p = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} ({elapsed})")
    {
        p.set_style(style);
    }
    p.set_message(message.to_string());
    Some(p)
}

/// The whole organization, read top-down, with a spinner on a terminal.
pub fn organization_tree(aws: &AwsFacts, quiet: bool) -> Result<OrganizationTree, Failure> {
    let spinner = spinner(quiet, "reading the organization");
    let on_progress = |p: WalkProgress| {
        if let Some(bar) = &spinner {
            bar.set_message(format!(
                "reading the organization: {}/{} OUs listed (root included), {} accounts, {}/{} policies read",
                p.containers_read, p.containers_found, p.accounts, p.policies_read, p.policies_found
            ));
        }
    };
    let tree = aws.block_on(
        aws.session()
            .organizations()
            .organization_tree(&on_progress),
    );
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    tree.map_err(aws_failure)
}
