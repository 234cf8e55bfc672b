//! `iam-doctor snapshot`: collect an account's IAM and organization data once, analyse it
//! offline as often as needed.
//!
//! The folder it writes is exactly what `check --offline`, `explain --offline` read:
//! `authorization-details.json` as `aws iam get-account-authorization-details` prints it, and
//! `organization.json` with the account's path from the root, and `resource-policies.json` with
//! the resource-based policies of the resources the deploy touches that can be named. An admin
//! with Organizations access can collect for a team that has none, and a run can be repeated
//! without AWS.

use std::path::{Path, PathBuf};

use iam_doctor::aws::{AwsError, JETS_DEPLOY_ROLE};
use iam_doctor::core::facts::{OrgFacts, PrincipalKind, ResourcePolicies, ResourcePolicyFact};
use iam_doctor::core::principal_ref::{NamedPrincipal, PrincipalRef};
use iam_doctor::inputs::auth_details::AuthorizationDetails;
use iam_doctor::inputs::{org_tree, organization, resource_policies};

use super::live::{self, AwsArgs, aws_failure};
use super::{Exit, Failure, OutputArgs, emit, note, required::pretty};
use iam_doctor::fact_source::{BOOTSTRAP_BUCKET, readable, template_resources};

const DETAILS_FILE: &str = "authorization-details.json";
const ORG_FILE: &str = "organization.json";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to write (created when missing; earlier snapshot files are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Take the organization path of this role's account, and check the role is in the
    /// snapshot (name or ARN).
    #[arg(long, value_name = "NAME|ARN", conflicts_with_all = ["user", "stack"])]
    pub role: Option<String>,
    /// Like `--role`, for a user.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "stack")]
    pub user: Option<String>,
    /// Like `--role`, for the `CodebuildRole` of a Jets bootstrap stack.
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// Region of the stack (IAM and Organizations are global).
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// CloudFormation templates of the deploy: the existing resources they name (KMS keys,
    /// ECR repositories, buckets, by ARN or id) have their resource policies collected too.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub template: Vec<PathBuf>,
    /// Write the whole organization instead (`organization-tree.json`: root, OUs, accounts,
    /// every SCP and RCP with its targets), for `scps --offline DIR`.
    #[arg(long, conflicts_with_all = ["role", "user", "stack", "template"])]
    pub organization: bool,
    /// Print the number of AWS API calls made, per API, on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    if let Some(region) = &args.region {
        super::validate::region(region, args.output.quiet)?;
    }
    // The principal named on the command line, if any (the caller is not looked up here).
    let named = match (&args.role, &args.user, &args.stack) {
        (Some(r), _, _) => Some(PrincipalRef::role(r).map_err(Failure::from_error)?),
        (None, Some(u), _) => Some(PrincipalRef::user(u).map_err(Failure::from_error)?),
        (None, None, Some(s)) => Some(PrincipalRef::Stack(s.clone())),
        (None, None, None) => None,
    };
    let aws = live::connect(&args.aws, args.region.as_deref())?;
    if args.organization {
        return organization_snapshot(args, &aws);
    }
    let iam = aws.session().iam();
    let orgs = aws.session().organizations();
    let cfn = aws.session().cloudformation();
    // Everything that does not depend on something else runs at once: the account's IAM
    // listing, the stack's role, and the organization path of the account (the ARN's account
    // when the principal is given as an ARN, the caller's otherwise).
    let (details, (stack_role, stack_bucket), account_and_org) = aws.block_on(async {
        let details = iam.authorization_details();
        let stack_role = async {
            match &named {
                Some(PrincipalRef::Stack(stack)) => tokio::join!(
                    async { cfn.stack_role(stack, JETS_DEPLOY_ROLE).await.map(Some) },
                    cfn.stack_resource(stack, BOOTSTRAP_BUCKET)
                ),
                _ => (Ok(None), Err(AwsError::Interrupted)),
            }
        };
        let org = async {
            let given = named
                .as_ref()
                .and_then(PrincipalRef::named)
                .and_then(|p| p.account.clone());
            let account = match given {
                Some(a) => a,
                None => iam.caller_identity().await?.account,
            };
            let org = orgs.org_facts(&account).await;
            Ok::<_, AwsError>((account, org))
        };
        tokio::join!(details, stack_role, org)
    });
    let details = details.map_err(aws_failure)?;
    let stack_role = stack_role.map_err(aws_failure)?;
    let (account, org) = account_and_org.map_err(aws_failure)?;

    let text = pretty(&details);
    let parsed =
        AuthorizationDetails::from_str(DETAILS_FILE, &text).map_err(Failure::from_error)?;
    let selector = match (&named, stack_role) {
        (Some(PrincipalRef::Role(r)), _) => Some((PrincipalKind::Role, r.clone())),
        (Some(PrincipalRef::User(u)), _) => Some((PrincipalKind::User, u.clone())),
        (Some(PrincipalRef::Stack(_)), Some(role)) => {
            Some((PrincipalKind::Role, NamedPrincipal::bare(&role)))
        }
        _ => None,
    };
    let mut principal_note = None;
    if let Some((kind, selector)) = &selector {
        let principal = parsed
            .principal(*kind, selector)
            .map_err(Failure::from_error)?;
        if principal.account_id != account {
            return Err(Failure::input(
                format!(
                    "`{}` is in account {} but the credentials read account {account}",
                    principal.arn, principal.account_id
                ),
                "use credentials of the principal's account",
            ));
        }
        principal_note = Some(format!(
            "analyse it with `iam-doctor check --offline {} --{} {}`",
            args.out.display(),
            match principal.kind {
                iam_doctor::core::facts::PrincipalKind::Role => "role",
                iam_doctor::core::facts::PrincipalKind::User => "user",
            },
            principal.name
        ));
    }

    let (org, mut exit, org_note) = match org {
        Ok(org) => {
            let note = org_summary(&org);
            (Some(org), Exit::Allowed, note)
        }
        Err(AwsError::NotInOrganization) => (
            None,
            Exit::Allowed,
            format!(
                "account {account} is not in an organization: no SCPs or RCPs apply, so no `{ORG_FILE}` was written"
            ),
        ),
        Err(e @ AwsError::OrganizationsAccessDenied { .. }) => (
            None,
            Exit::Incomplete,
            format!(
                "the organization's SCPs and RCPs could not be read ({e}): no `{ORG_FILE}` was written, so offline checks will not evaluate them; snapshot again from the management account or a delegated administrator"
            ),
        ),
        Err(e) => return Err(aws_failure(e)),
    };

    // The resources the deploy touches that can be named: the stack's deploy bucket and what
    // the templates name. Each gets an entry, with a policy, none, or why it was unreadable.
    let mut resource_notes = Vec::new();
    let mut named_resources = template_resources(
        &args.template,
        args.region.as_deref().or(aws.session().region()),
        Some(&account),
    )
    .map_err(Failure::from_error)?;
    match (&named, stack_bucket) {
        (Some(PrincipalRef::Stack(_)), Ok(bucket)) => {
            named_resources.push(format!("arn:aws:s3:::{bucket}"))
        }
        (Some(PrincipalRef::Stack(_)), Err(e @ AwsError::StackResourceNotFound { .. })) => {
            resource_notes.push(format!("{e}: the deploy bucket's policy was not collected"));
        }
        (Some(PrincipalRef::Stack(_)), Err(e)) => return Err(aws_failure(e)),
        _ => {}
    }
    let (readable, skipped) = readable(&named_resources);
    resource_notes.extend(skipped);
    let resource_policies = if readable.is_empty() {
        None
    } else {
        Some(
            aws.block_on(
                aws.session()
                    .resource_policies()
                    .resource_policies(&readable),
            ),
        )
    };
    if let Some(policies) = &resource_policies {
        resource_notes.push(resource_summary(policies));
        // What could not be read is recorded as such, and the snapshot is incomplete.
        if policies
            .values()
            .any(|f| matches!(f, ResourcePolicyFact::Unreadable { .. }))
        {
            exit = Exit::Incomplete;
        }
    }

    write_snapshot(
        &args.out,
        &text,
        org.as_ref(),
        resource_policies.as_ref(),
        args.output.quiet,
    )?;
    note(
        args.output.quiet,
        &format!(
            "account {account}: {} role(s), {} user(s), {} group(s), {} managed policies",
            count(&details, "RoleDetailList"),
            count(&details, "UserDetailList"),
            count(&details, "GroupDetailList"),
            count(&details, "Policies"),
        ),
    );
    note(args.output.quiet, &org_note);
    for n in &resource_notes {
        note(args.output.quiet, n);
    }
    if let Some(n) = principal_note {
        note(args.output.quiet, &n);
    }
    if args.stats {
        live::print_stats(&aws, args.output.quiet);
    }
    Ok(exit)
}

/// `snapshot --organization`: the whole organization in `organization-tree.json`. What could
/// not be read is recorded in the file and named here, and the snapshot is incomplete (exit 3).
fn organization_snapshot(
    args: &Args,
    aws: &iam_doctor::fact_source::AwsFacts,
) -> Result<Exit, Failure> {
    let quiet = args.output.quiet;
    let tree = live::organization_tree(aws, quiet)?;
    std::fs::create_dir_all(&args.out).map_err(|e| {
        Failure::input(
            format!("cannot create `{}`: {e}", args.out.display()),
            "choose a folder you can write to with `--out DIR`",
        )
    })?;
    write_file(
        &args.out.join(org_tree::FILE_NAME),
        &pretty(&org_tree::to_json(&tree)),
    )?;
    note(
        quiet,
        &format!(
            "organization {}: {} OU(s), {} account(s), {} polic(ies); audit it with `iam-doctor scps --offline {} --all-accounts`",
            tree.organization_id.as_deref().unwrap_or("?"),
            tree.organizational_units.len(),
            tree.accounts.len(),
            tree.policies.len(),
            args.out.display(),
        ),
    );
    for u in &tree.unread {
        super::warn(
            quiet,
            &format!("{} could not be read: {}", u.describe(), u.reason),
        );
    }
    if args.stats {
        live::print_stats(aws, quiet);
    }
    Ok(if tree.is_whole() {
        Exit::Allowed
    } else {
        Exit::Incomplete
    })
}

fn count(details: &serde_json::Value, list: &str) -> usize {
    details[list].as_array().map_or(0, Vec::len)
}

/// One line on what the organization file holds.
fn org_summary(org: &OrgFacts) -> String {
    let path: Vec<&str> = org.levels.iter().map(|l| l.name.as_str()).collect();
    let scps: usize = org.levels.iter().map(|l| l.scps.len()).sum();
    let rcps: usize = org.levels.iter().map(|l| l.rcps.len()).sum();
    let mut line = format!(
        "organization path {}: {scps} SCP attachment(s), {rcps} RCP attachment(s)",
        path.join(" → ")
    );
    if org.is_management_account() {
        line.push_str(&format!(
            "; account {} is the management account, where SCPs and RCPs do not apply",
            org.account_id
        ));
    }
    line
}

/// One line on what the resource policies file holds.
fn resource_summary(policies: &ResourcePolicies) -> String {
    let count =
        |want: fn(&ResourcePolicyFact) -> bool| policies.values().filter(|f| want(f)).count();
    let unreadable: Vec<String> = policies
        .iter()
        .filter_map(|(arn, f)| match f {
            ResourcePolicyFact::Unreadable { reason } => Some(format!("`{arn}`: {reason}")),
            _ => None,
        })
        .collect();
    let mut line = format!(
        "resource policies of {} resource(s): {} with a policy, {} without",
        policies.len(),
        count(|f| matches!(f, ResourcePolicyFact::Policy { .. })),
        count(|f| matches!(f, ResourcePolicyFact::NoPolicy)),
    );
    if !unreadable.is_empty() {
        line.push_str(&format!(
            ", {} unreadable ({}); checks will report the actions on them as undecided",
            unreadable.len(),
            unreadable.join("; ")
        ));
    }
    line
}

/// Writes the files, each through a temporary name so a reader never sees half a file, and
/// removes an `organization.json` or `resource-policies.json` left from an earlier snapshot
/// when there is no new one: it would describe a different state than the new authorization
/// details.
fn write_snapshot(
    dir: &Path,
    details: &str,
    org: Option<&OrgFacts>,
    resource_policies: Option<&ResourcePolicies>,
    quiet: bool,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::input(
            format!("cannot create `{}`: {e}", dir.display()),
            "choose a folder you can write to with `--out DIR`",
        )
    })?;
    write_file(&dir.join(DETAILS_FILE), details)?;
    write_or_remove(
        &dir.join(ORG_FILE),
        org.map(|o| pretty(&organization::to_json(o))),
        quiet,
    )?;
    write_or_remove(
        &dir.join(resource_policies::FILE_NAME),
        resource_policies.map(|p| pretty(&resource_policies::to_json(p))),
        quiet,
    )
}

/// Writes `text` to `path`, or removes a file left there by an earlier snapshot.
fn write_or_remove(path: &Path, text: Option<String>, quiet: bool) -> Result<(), Failure> {
    match text {
        Some(text) => write_file(path, &text),
        None if path.exists() => {
            std::fs::remove_file(path).map_err(|e| {
                Failure::input(
                    format!("cannot remove the earlier `{}`: {e}", path.display()),
                    "remove it by hand, or choose another folder with `--out DIR`",
                )
            })?;
            note(
                quiet,
                &format!("removed `{}` of an earlier snapshot", path.display()),
            );
            Ok(())
        }
        None => Ok(()),
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension("json.tmp");
    let mut body = text.to_string();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            Failure::input(
                format!("cannot write `{}`: {e}", path.display()),
                "check that the disk has room and the folder is writable, or choose another with `--out DIR`",
            )
        })?;
    emit(&iam_doctor::report::escape(&path.display().to_string()))?;
    Ok(())
}
