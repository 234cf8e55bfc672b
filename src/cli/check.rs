//! `iam-doctor check`: every required action decided for a role, explained down to the
//! policy, organization level and statement.

use std::path::PathBuf;

use iam_doctor::core::check::CheckReport;
use iam_doctor::core::findings::Findings;
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::fact_source::{
    AnyFactSource, CheckOptions, Requirements, Snapshot, check_principal, template_resources,
};
use iam_doctor::report;

use super::live::{self, AwsArgs};

use super::{
    CheckFormat, ContextArgs, Exit, Failure, OutputArgs, ProfileArgs, emit, emit_with, note,
    required::pretty, terminal_width, warn,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The role to check, by name or ARN.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "user")]
    pub role: Option<String>,
    /// The user to check, by name or ARN.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "stack")]
    pub user: Option<String>,
    /// The Jets bootstrap stack whose `CodebuildRole` to check (e.g. `demo-dev`).
    #[arg(long, value_name = "NAME", conflicts_with = "role")]
    pub stack: Option<String>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Region the deploy targets (sets `aws:RequestedRegion`; global services use us-east-1).
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Check without AWS: DIR holds `authorization-details.json` and optionally
    /// `organization.json` and `resource-policies.json`.
    #[arg(long, value_name = "DIR")]
    pub offline: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// List allowed actions too, not only denials.
    #[arg(long)]
    pub all: bool,
    /// Ask AWS's own engine to confirm each blamed SCP (`SimulateCustomPolicy` with the
    /// organization's policies, minus the blamed one).
    #[arg(long)]
    pub confirm: bool,
    /// Print the number of AWS API calls made, per API, on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let who = match (&args.role, &args.user, &args.stack) {
        (Some(r), _, _) => PrincipalRef::role(r).map_err(Failure::from_error)?,
        (None, Some(u), _) => PrincipalRef::user(u).map_err(Failure::from_error)?,
        (None, None, Some(s)) => PrincipalRef::Stack(s.clone()),
        (None, None, None) => PrincipalRef::Caller,
    };
    super::validate::region(&args.region, args.output.quiet)?;
    let supplied = args.context.supplied(Some(&args.profile.profile))?;
    let source = match &args.offline {
        Some(_) if args.confirm => {
            return Err(Failure::input(
                "`--confirm` asks AWS's own engine and cannot be used with `--offline`",
                "drop `--confirm` to check offline, or drop `--offline` to check against AWS",
            ));
        }
        Some(dir) => AnyFactSource::Snapshot(Snapshot::open(dir).map_err(Failure::from_error)?),
        None => AnyFactSource::Aws(live::connect(&args.aws, Some(&args.region))?),
    };
    let options = CheckOptions {
        region: &args.region,
        supplied: &supplied,
        confirm: args.confirm,
    };
    let progress = match &source {
        AnyFactSource::Aws(_) => live::spinner(args.output.quiet, "checking with IAM"),
        AnyFactSource::Snapshot(_) => None,
    };
    let report = check_principal(&source, &who, options, |principal| {
        let (required, config_notes) = args
            .profile
            .required(Some(&args.region), Some(&principal.account_id))?;
        let template_resources = template_resources(
            &args.profile.template,
            Some(&args.region),
            Some(&principal.account_id),
        )
        .map_err(Failure::from_error)?;
        Ok::<_, Failure>(Requirements {
            required,
            config_notes,
            template_resources,
        })
    });
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let report = report?;
    if let (AnyFactSource::Aws(aws), true) = (&source, args.stats) {
        live::print_stats(aws, args.output.quiet);
    }
    render(args, report)
}

pub fn render(args: &Args, report: CheckReport) -> Result<Exit, Failure> {
    let findings = Findings::new(report);
    let report = &findings;
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
    match args.format {
        CheckFormat::Table => emit(&report::table::check(report, args.all, terminal_width())),
        CheckFormat::Json => emit_with(|out| report::json::write_check(out, report)),
        CheckFormat::Markdown => emit(&report::markdown::check(report)),
        CheckFormat::Junit => emit(&report::junit::check(report)),
        CheckFormat::Sarif => emit(&pretty(&report::sarif::check(report, &config_file))),
    }?;
    let summary = report.summary;
    let exit = if report.incomplete || summary.unknown > 0 {
        Exit::Incomplete
    } else if summary.denied > 0 {
        Exit::Denied
    } else {
        Exit::Allowed
    };
    // The process exits next: freeing thousands of results one allocation at a time would
    // only cost time (4 M instructions for an exhaustive check).
    std::mem::forget(findings);
    Ok(exit)
}
