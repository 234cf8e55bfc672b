//! `iam-doctor scps`: the admin audit of an organization's SCPs and RCPs against a deploy
//! profile. This reads the organization paths and the required actions, and hands them to
//! [`iam_doctor::core::audit`], which decides.

use clap::ValueEnum;

use iam_doctor::aws::{AwsError, join_all};
use iam_doctor::core::audit::{AccountAudit, OrganizationAudit, audit};
use iam_doctor::core::facts::OrgFacts;
use iam_doctor::report;

use super::live::{self, AwsArgs, aws_failure};
use super::{
    ContextArgs, Exit, Failure, OutputArgs, ProfileArgs, emit, incomplete, note, terminal_width,
    warn,
};

/// Accounts whose organization path is read at once with `--all-accounts`. Requests are
/// bounded again, across everything, by the adapter's gate.
const ACCOUNTS_AT_ONCE: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One section per account, one row per attached policy.
    Table,
    /// Every account, level, policy and blocked action.
    Json,
    /// Per account, its path as a Mermaid diagram and what each policy blocks.
    Markdown,
    /// One self-contained page: the organization tree, searchable, loading nothing.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account to audit (default: the account of the credentials).
    #[arg(long, value_name = "ID", conflicts_with = "all_accounts")]
    pub account: Option<String>,
    /// Audit every account of the organization, one section each.
    #[arg(long)]
    pub all_accounts: bool,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Region the deploy targets (sets `aws:RequestedRegion`; global services use us-east-1).
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// The deploy role's name, as SCP conditions on `aws:PrincipalArn` see it
    /// (`arn:aws:iam::ACCOUNT:role/NAME`).
    #[arg(long, value_name = "NAME", default_value = "iam-doctor-audit")]
    pub role_name: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print the number of AWS API calls made, per API, on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let supplied = args.context.supplied(Some(&args.profile.profile))?;
    super::validate::region(&args.region, args.output.quiet)?;
    if let Some(account) = &args.account {
        super::validate::account_id(account)?;
    }
    // The required actions depend on the account only through template ARNs: without
    // templates they are built once, before any AWS call, so config errors come first.
    let shared_required = if args.profile.template.is_empty() {
        Some(args.profile.required(Some(&args.region), None)?)
    } else {
        None
    };
    let aws = live::connect(&args.aws, Some(&args.region))?;
    let orgs = aws.session().organizations();
    let quiet = args.output.quiet;

    // (account id, name from ListAccounts, its organization path)
    let fetched: Vec<(String, Option<String>, Result<OrgFacts, AwsError>)> = if args.all_accounts {
        let accounts = aws.block_on(orgs.list_accounts()).map_err(aws_failure)?;
        let gate = tokio::sync::Semaphore::new(ACCOUNTS_AT_ONCE);
        let paths = aws.block_on(join_all(
            accounts
                .iter()
                .map(|(id, _)| {
                    let gate = &gate;
                    async move {
                        let _permit = gate.acquire().await.ok();
                        orgs.org_facts(id).await
                    }
                })
                .collect(),
        ));
        accounts
            .into_iter()
            .zip(paths)
            .map(|((id, name), path)| (id, Some(name), path))
            .collect()
    } else {
        let account = match &args.account {
            Some(a) => a.clone(),
            None => {
                aws.block_on(aws.session().iam().caller_identity())
                    .map_err(aws_failure)?
                    .account
            }
        };
        let path = aws.block_on(orgs.org_facts(&account));
        match path {
            Err(e @ AwsError::OrganizationsAccessDenied { .. }) => return Err(aws_failure(e)),
            Err(AwsError::NotInOrganization) | Ok(_) => vec![(account, None, path)],
            Err(e) => return Err(aws_failure(e)),
        }
    };

    let mut audits = Vec::new();
    let mut first = true;
    let mut unchecked: Vec<String> = Vec::new();
    for (account, listed_name, path) in fetched {
        let org = match path {
            Ok(org) => org,
            Err(AwsError::NotInOrganization) => {
                audits.push(AccountAudit::outside_organization(&account, listed_name));
                continue;
            }
            Err(e) => {
                let message = aws_failure(e).message;
                warn(
                    quiet,
                    &format!("account {account} was not audited: {message}"),
                );
                audits.push(AccountAudit::not_audited(&account, listed_name, message));
                continue;
            }
        };
        let owned;
        let (req, config_notes) = match &shared_required {
            Some((req, notes)) => (req, notes),
            None => {
                owned = args.profile.required(Some(&args.region), Some(&account))?;
                (&owned.0, &owned.1)
            }
        };
        if first {
            unchecked.clone_from(&req.unchecked);
            for w in &req.warnings {
                warn(quiet, w);
            }
            for n in config_notes {
                note(quiet, n);
            }
            first = false;
        }
        let mut a = audit(&org, &req.actions, &args.region, &args.role_name, &supplied)
            .map_err(Failure::from_error)?;
        if a.name.is_none() {
            a.name = listed_name;
        }
        audits.push(a);
    }

    let audit = OrganizationAudit::new(
        &args.profile.profile,
        &args.region,
        &args.role_name,
        audits,
        unchecked,
    );
    emit(&match args.format {
        Format::Json => report::json::organization_audit(&audit),
        Format::Table => report::table::organization_audit(&audit, terminal_width()),
        Format::Markdown => report::markdown::organization_audit(&audit),
        Format::Html => report::html::organization_audit(&audit),
    })?;
    if args.stats {
        live::print_stats(&aws, quiet);
    }
    // Required inputs that were never turned into actions were audited by no policy.
    for u in &audit.unchecked {
        incomplete(u);
    }
    Ok(if audit.is_incomplete() {
        Exit::Incomplete
    } else if audit.blocks_any() {
        Exit::Denied
    } else {
        Exit::Allowed
    })
}
