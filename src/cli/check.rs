//! `iam-doctor check`: every required action decided for a role, explained down to the
//! policy, organization level and statement.

use std::path::PathBuf;

use iam_doctor::core::check::{CheckReport, check_local, policy_set};
use iam_doctor::inputs::auth_details::{AuthorizationDetails, PrincipalSelector};
use iam_doctor::inputs::organization;
use iam_doctor::report;

use super::{CheckFormat, Exit, Failure, OutputArgs, ProfileArgs, emit, note, required::pretty, terminal_width, warn};

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
        return Err(Failure::input("live checks need the AWS adapter; pass `--offline DIR` with a snapshot"));
    };
    let (required, config_notes) = args.profile.required()?;
    let selector = match (&args.role, &args.user) {
        (Some(r), _) => PrincipalSelector::Role(r.clone()),
        (None, Some(u)) => PrincipalSelector::User(u.clone()),
        (None, None) => {
            return Err(Failure::input("offline checks need `--role NAME|ARN` or `--user NAME|ARN`"));
        }
    };
    let details = AuthorizationDetails::load(&dir.join("authorization-details.json")).map_err(Failure::input)?;
    let principal = details.principal(&selector).map_err(Failure::input)?;
    let org_path = dir.join("organization.json");
    let org = if org_path.exists() {
        let org = organization::load(&org_path).map_err(Failure::input)?;
        if org.account_id != principal.account_id {
            return Err(Failure::input(format!(
                "`{}` describes account {} but `{}` is in account {}",
                org_path.display(),
                org.account_id,
                principal.name,
                principal.account_id
            )));
        }
        Some(org)
    } else {
        None
    };
    let (set, mut notes) = policy_set(&principal, org.as_ref()).map_err(Failure::input)?;
    notes.extend(config_notes);
    if org.is_none() {
        notes.push(format!(
            "no `organization.json` in `{}`: SCPs and RCPs were not evaluated",
            dir.display()
        ));
    }
    let results = check_local(&set, &principal, org.as_ref(), &required.actions, &args.region);
    let report = CheckReport {
        principal: principal.arn.clone(),
        profile: required.profile.clone(),
        region: args.region.clone(),
        results,
        notes,
        warnings: required.warnings.clone(),
        incomplete: false,
    };
    render(args, &report)
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
