//! `iam-doctor check`: every required action decided for a role, explained down to the
//! policy, organization level and statement.

use std::path::PathBuf;

use iam_doctor::core::check::{
    CheckReport, OrgVisibility, check_local, merge_simulation, policy_set, resource_policy_notes,
};
use iam_doctor::core::findings::Findings;
use iam_doctor::core::profile::RequiredPermissions;
use iam_doctor::core::request_keys::Supplied;
use iam_doctor::core::resources::requests_on_named_resources;

use super::live::{AwsArgs, AwsConnection};
use super::named;
use super::source::{Facts, Offline};
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::report;

use super::{
    CheckFormat, ContextArgs, Exit, Failure, OutputArgs, ProfileArgs, emit, note, required::pretty,
    terminal_width, warn,
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
    let Some(dir) = &args.offline else {
        return run_live(args, &who, &supplied);
    };
    if args.confirm {
        return Err(Failure::input(
            "`--confirm` asks AWS's own engine and cannot be used with `--offline`",
            "drop `--confirm` to check offline, or drop `--offline` to check against AWS",
        ));
    }
    let facts = Offline::open(dir)?.facts(&who)?;
    let (mut required, config_notes) = args
        .profile
        .required(Some(&args.region), Some(&facts.principal.account_id))?;
    let mut named_resources: Vec<String> = facts.resource_policies.keys().cloned().collect();
    named_resources.extend(named::in_templates(
        &args.profile.template,
        Some(&args.region),
        Some(&facts.principal.account_id),
    )?);
    add_named_requests(&mut required, &named_resources);
    let mut report = check_facts(&facts, &required, config_notes, &args.region, &supplied)?;
    report.hold_undecidable();
    render(args, report)
}

/// Adds the deploy's requests on the named resources (the deploy bucket, keys, repositories),
/// so their resource-based policies take part.
fn add_named_requests(required: &mut RequiredPermissions, named_resources: &[String]) {
    let extra = requests_on_named_resources(&required.actions, named_resources);
    required.actions.extend(extra);
}

fn run_live(args: &Args, who: &PrincipalRef, supplied: &Supplied) -> Result<Exit, Failure> {
    let live = AwsConnection::connect(&args.aws, Some(&args.region), args.output.quiet)?;
    let mut resource_notes = Vec::new();
    let bucket = match who {
        PrincipalRef::Stack(stack) => named::stack_bucket(&live, stack)?
            .map_err(|note| resource_notes.push(note))
            .ok(),
        _ => None,
    };
    let (mut facts, visibility, (required, config_notes, _, skipped), outcomes) = live
        .facts_and_verdicts(
            who,
            &args.region,
            |p| {
                let (mut required, notes) = args
                    .profile
                    .required(Some(&args.region), Some(&p.account_id))?;
                let mut named_resources = named::in_templates(
                    &args.profile.template,
                    Some(&args.region),
                    Some(&p.account_id),
                )?;
                named_resources.extend(bucket.clone());
                add_named_requests(&mut required, &named_resources);
                let (readable, skipped) = named::readable(&named_resources);
                Ok((required, notes, readable, skipped))
            },
            |(r, _, _, _)| &r.actions,
            |(_, _, readable, _)| readable,
        )?;
    resource_notes.extend(skipped);
    facts.notes.extend(resource_notes);
    let mut report = check_facts(&facts, &required, config_notes, &args.region, supplied)?;
    let (mut results, missing) = merge_simulation(
        &facts.principal,
        std::mem::take(&mut report.results),
        &outcomes,
        visibility,
    );
    if !missing.is_empty() {
        report.incomplete = true;
        report.notes.push(format!(
            "IAM returned no result for {} action(s) ({}): they were not checked by AWS",
            missing.len(),
            missing.join(", ")
        ));
    }
    if args.confirm {
        match (&facts.org, visibility) {
            (Some(org), OrgVisibility::Evaluated) => {
                live.confirm(&facts.principal, org, &mut results, &args.region)?
            }
            _ => report
                .notes
                .push("`--confirm`: there is no SCP to confirm for this account".to_string()),
        }
    }
    report.results = results;
    report.hold_undecidable();
    if args.stats {
        live.print_stats(args.output.quiet);
    }
    render(args, report)
}

/// Decides every required action for the facts, locally. The caller holds what could not be
/// decided ([`CheckReport::hold_undecidable`]) once the results are final.
pub fn check_facts(
    facts: &Facts,
    required: &RequiredPermissions,
    config_notes: Vec<String>,
    region: &str,
    supplied: &Supplied,
) -> Result<CheckReport, Failure> {
    let (set, mut notes) =
        policy_set(&facts.principal, facts.org.as_ref()).map_err(Failure::from_error)?;
    notes.extend(facts.notes.iter().cloned());
    notes.extend(config_notes);
    let results = check_local(
        &set,
        &facts.principal,
        facts.org.as_ref(),
        &facts.resource_policies,
        &required.actions,
        region,
        supplied,
    )
    .map_err(Failure::from_error)?;
    notes.extend(resource_policy_notes(&results, &facts.resource_policies));
    Ok(CheckReport {
        principal: facts.principal.arn.clone(),
        profile: required.profile.clone(),
        region: region.to_string(),
        results,
        notes,
        warnings: required.warnings.clone(),
        incomplete: facts.incomplete || !required.unchecked.is_empty(),
        unchecked: required.unchecked.clone(),
    })
}

pub fn render(args: &Args, report: CheckReport) -> Result<Exit, Failure> {
    let report = &Findings::new(report);
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
    })?;
    let summary = report.summary;
    Ok(if report.incomplete || summary.unknown > 0 {
        Exit::Incomplete
    } else if summary.denied > 0 {
        Exit::Denied
    } else {
        Exit::Allowed
    })
}
