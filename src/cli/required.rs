//! `iam-doctor required`: the permissions a deploy role needs, and why.

use clap::ValueEnum;

use iam_doctor::report;

use super::{Exit, Failure, OutputArgs, ProfileArgs, emit, incomplete, note, terminal_width, warn};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One row per required action, with its grant and reason.
    Table,
    /// Everything, machine-readable.
    Json,
    /// A least-privilege IAM policy document granting exactly the required actions.
    Policy,
    /// The role's `Policies` and `ManagedPolicyArns` as Jets generates them (YAML).
    Cloudformation,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let (req, notes) = args.profile.required(None, None)?;
    if args.format != Format::Json {
        for w in &req.warnings {
            warn(args.output.quiet, w);
        }
    }
    for n in &notes {
        note(args.output.quiet, n);
    }
    let text = match args.format {
        Format::Table => report::table::required(&req, terminal_width()),
        Format::Json => report::json::required(&req),
        Format::Policy => pretty(&iam_doctor::core::remediation::least_privilege(
            &req.actions,
        )),
        Format::Cloudformation => report::cloudformation::role_properties(&req),
    };
    emit(&text)?;
    if req.unchecked.is_empty() {
        return Ok(Exit::Allowed);
    }
    // The policy and cloudformation formats have no place for it; `-q` never hides it.
    if matches!(args.format, Format::Policy | Format::Cloudformation) {
        for u in &req.unchecked {
            incomplete(u);
        }
    }
    Ok(Exit::Incomplete)
}

pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
