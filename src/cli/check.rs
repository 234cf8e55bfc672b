//! `iam-doctor check`: every required action decided for a role, explained down to the
//! policy, organization level and statement.

use std::path::PathBuf;

use iam_doctor::core::check::{CheckReport, check_local, policy_set};
use iam_doctor::core::profile::RequiredPermissions;

use super::source::{Facts, Offline, Who};
use iam_doctor::report;

use super::{
    CheckFormat, Exit, Failure, OutputArgs, ProfileArgs, emit, note, required::pretty,
    terminal_width, warn,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The role to check, by name or ARN.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "user")]
    pub role: Option<String>,
    /// The user to check, by name or ARN.
    #[arg(long, value_name = "NAME|ARN")]
    pub user: Option<String>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Region the deploy targets (sets `aws:RequestedRegion`; global services use us-east-1).
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Check without AWS: DIR holds `authorization-details.json` and optionally `organization.json`.
    #[arg(long, value_name = "DIR")]
    pub offline: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// List allowed actions too, not only denials.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let Some(dir) = &args.offline else {
        return Err(Failure::input(
            "live checks need the AWS adapter; pass `--offline DIR` with a snapshot",
        ));
    };
    let (required, config_notes) = args.profile.required()?;
    let who = match (&args.role, &args.user) {
        (Some(r), _) => Who::Role(r.clone()),
        (None, Some(u)) => Who::User(u.clone()),
        (None, None) => Who::Caller,
    };
    let facts = Offline::open(dir)?.facts(&who)?;
    let report = check_facts(&facts, &required, config_notes, &args.region)?;
    render(args, &report)
}

/// Decides every required action for the facts, locally.
pub fn check_facts(
    facts: &Facts,
    required: &RequiredPermissions,
    config_notes: Vec<String>,
    region: &str,
) -> Result<CheckReport, Failure> {
    let (set, mut notes) =
        policy_set(&facts.principal, facts.org.as_ref()).map_err(Failure::input)?;
    notes.extend(facts.notes.iter().cloned());
    notes.extend(config_notes);
    let results = check_local(
        &set,
        &facts.principal,
        facts.org.as_ref(),
        &required.actions,
        region,
    );
    Ok(CheckReport {
        principal: facts.principal.arn.clone(),
        profile: required.profile.clone(),
        region: region.to_string(),
        results,
        notes,
        warnings: required.warnings.clone(),
        incomplete: facts.incomplete,
    })
}

pub fn render(args: &Args, report: &CheckReport) -> Result<Exit, Failure> {
    if args.format == CheckFormat::Table {
        for w in &report.warnings {
            warn(args.output.quiet, w);
        }
        for n in &report.notes {
            note(args.output.quiet, n);
        }
    }
    let config_file = iam_doctor::core::profile::profile(&report.profile)
        .map(|p| p.config.file.clone())
        .unwrap_or_default();
    emit(&match args.format {
        CheckFormat::Table => report::table::check(report, args.all, terminal_width()),
        CheckFormat::Json => pretty(&report::json::check(report)),
        CheckFormat::Markdown => report::markdown::check(report),
        CheckFormat::Junit => report::junit::check(report),
        CheckFormat::Sarif => pretty(&report::sarif::check(report, &config_file)),
    });
    Ok(if report.incomplete {
        Exit::Incomplete
    } else if report.summary().denied > 0 {
        Exit::Denied
    } else {
        Exit::Allowed
    })
}
