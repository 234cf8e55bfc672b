//! `iam-doctor scps`: the admin audit of an organization's SCPs and RCPs against a deploy
//! profile. This reads the organization paths and the required actions, and hands them to
//! [`iam_doctor::core::audit`], which decides.

use clap::ValueEnum;

use std::path::PathBuf;

use iam_doctor::aws::AwsError;
use iam_doctor::core::audit::{AccountAudit, OrganizationAudit, TreeAuditor, audit};
use iam_doctor::core::facts::OrgFacts;
use iam_doctor::core::org_tree::OrganizationTree;
use iam_doctor::core::profile::RequiredPermissions;
use iam_doctor::fact_source::AwsFacts;
use iam_doctor::report;

use super::live::{self, AwsArgs, aws_failure};
use super::{
    ContextArgs, Exit, Failure, OutputArgs, ProfileArgs, emit, incomplete, note, terminal_width,
    warn,
};

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
    /// Audit every account of the organization, one section each (the organization is read
    /// top-down once: a few calls per OU and per policy).
    #[arg(long)]
    pub all_accounts: bool,
    /// Audit from an `organization-tree.json` written by `snapshot --organization --out DIR`,
    /// with no AWS call (with `--all-accounts` or `--account`).
    #[arg(long, value_name = "DIR")]
    pub offline: Option<PathBuf>,
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
    if args.offline.is_some() && args.account.is_none() && !args.all_accounts {
        return Err(Failure::input(
            "`scps --offline` needs the accounts to audit",
            "add `--all-accounts`, or `--account ID` for one account of the snapshot",
        ));
    }
    // The required actions depend on the account only through template ARNs: without
    // templates they are built once, before any AWS call, so config errors come first.
    let mut required = Required::new(args)?;
    let quiet = args.output.quiet;

    let (mut audits, unread, aws) = if let Some(dir) = &args.offline {
        let tree = iam_doctor::inputs::org_tree::load_dir(dir).map_err(Failure::from_error)?;
        let audits = audit_tree(args, &tree, &mut required, &supplied)?;
        (audits, tree.unread, None)
    } else if args.all_accounts {
        let aws = live::connect(&args.aws, Some(&args.region))?;
        let tree = live::organization_tree(&aws, quiet)?;
        let audits = audit_tree(args, &tree, &mut required, &supplied)?;
        (audits, tree.unread, Some(aws))
    } else {
        let aws = live::connect(&args.aws, Some(&args.region))?;
        let audits = audit_one_live(args, &aws, &mut required, &supplied)?;
        (audits, Vec::new(), Some(aws))
    };
    for a in &mut audits {
        if let Some(error) = &a.error {
            warn(
                quiet,
                &format!("account {} was not audited: {error}", a.account_id),
            );
        }
    }
    for u in &unread {
        warn(
            quiet,
            &format!("{} could not be read: {}", u.describe(), u.reason),
        );
    }

    let audit = OrganizationAudit::new(
        &args.profile.profile,
        &args.region,
        &args.role_name,
        audits,
        required.unchecked,
    )
    .with_unread(unread);
    emit(&match args.format {
        Format::Json => report::json::organization_audit(&audit),
        Format::Table => report::table::organization_audit(&audit, terminal_width()),
        Format::Markdown => report::markdown::organization_audit(&audit),
        Format::Html => report::html::organization_audit(&audit),
    })?;
    if args.stats
        && let Some(aws) = &aws
    {
        live::print_stats(aws, quiet);
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

/// The required actions of each account: built once without templates, per account with them
/// (template ARNs name the account); warnings and notes are shown once.
struct Required<'a> {
    args: &'a Args,
    /// Without templates: the permissions and config notes, shown with the first account
    /// (after AWS answered, so an error about AWS comes first).
    shared: Option<(RequiredPermissions, Vec<String>)>,
    shown: bool,
    unchecked: Vec<String>,
}

impl<'a> Required<'a> {
    fn new(args: &'a Args) -> Result<Self, Failure> {
        let mut required = Required {
            args,
            shared: None,
            shown: false,
            unchecked: Vec::new(),
        };
        if args.profile.template.is_empty() {
            required.shared = Some(args.profile.required(Some(&args.region), None)?);
        }
        Ok(required)
    }

    fn show(
        shown: &mut bool,
        unchecked: &mut Vec<String>,
        args: &Args,
        req: &RequiredPermissions,
        notes: &[String],
    ) {
        if *shown {
            return;
        }
        *shown = true;
        let quiet = args.output.quiet;
        unchecked.clone_from(&req.unchecked);
        for w in &req.warnings {
            warn(quiet, w);
        }
        for n in notes {
            note(quiet, n);
        }
    }

    /// Runs `f` with the account's required permissions.
    fn with<T>(
        &mut self,
        account: &str,
        f: impl FnOnce(&RequiredPermissions) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        if let Some((req, notes)) = &self.shared {
            Self::show(&mut self.shown, &mut self.unchecked, self.args, req, notes);
            return f(req);
        }
        let (req, notes) = self
            .args
            .profile
            .required(Some(&self.args.region), Some(account))?;
        Self::show(
            &mut self.shown,
            &mut self.unchecked,
            self.args,
            &req,
            &notes,
        );
        f(&req)
    }
}

/// Audits the accounts of a tree: one (`--account`) or all, in the tree's order.
fn audit_tree(
    args: &Args,
    tree: &OrganizationTree,
    required: &mut Required,
    supplied: &iam_doctor::core::request_keys::Supplied,
) -> Result<Vec<AccountAudit>, Failure> {
    let paths = match &args.account {
        Some(id) => {
            let account = tree.account(id).ok_or_else(|| {
                Failure::input(
                    format!("account {id} is not in the organization snapshot"),
                    "check the account id, or take a new snapshot with `snapshot --organization`",
                )
            })?;
            vec![(account, tree.org_facts(id))]
        }
        None => tree.all_org_facts(),
    };
    let bar = live::progress(args.output.quiet, paths.len(), "auditing accounts");
    let mut audits = Vec::with_capacity(paths.len());
    let mut auditor = TreeAuditor::new();
    let shared_required = required.shared.is_some();
    for (account, path) in paths {
        let a = required.with(&account.id, |req| {
            auditor
                .audit(
                    account,
                    path,
                    &req.actions,
                    shared_required,
                    &args.region,
                    &args.role_name,
                    supplied,
                )
                .map_err(Failure::from_error)
        })?;
        audits.push(a);
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(audits)
}

/// One account (`--account`, or the caller's), by its own few-round-trip walk up the tree.
fn audit_one_live(
    args: &Args,
    aws: &AwsFacts,
    required: &mut Required,
    supplied: &iam_doctor::core::request_keys::Supplied,
) -> Result<Vec<AccountAudit>, Failure> {
    let account = match &args.account {
        Some(a) => a.clone(),
        None => {
            aws.block_on(aws.session().iam().caller_identity())
                .map_err(aws_failure)?
                .account
        }
    };
    let path = aws.block_on(aws.session().organizations().org_facts(&account));
    let org: OrgFacts = match path {
        Ok(org) => org,
        Err(AwsError::NotInOrganization) => {
            return Ok(vec![AccountAudit::outside_organization(&account, None)]);
        }
        Err(e) => return Err(aws_failure(e)),
    };
    let a = required.with(&account, |req| {
        audit(&org, &req.actions, &args.region, &args.role_name, supplied)
            .map_err(Failure::from_error)
    })?;
    Ok(vec![a])
}
