//! `iam-doctor scps`: the admin audit of an organization's SCPs and RCPs against a deploy
//! profile.
//!
//! `check` answers for one role; an organization admin asks the other way round: which of *my*
//! policies, attached where, stop a Jets deploy, and in which accounts. Identity policies are
//! taken out of the question by evaluating with an allow-all identity policy, so every block
//! reported here is an organization policy's doing. Each policy is tried on its own for its
//! `Deny` statements, and each level with its `Allow` statements only, so a level that fails to
//! allow is reported even where a `Deny` elsewhere would have decided first.

use std::collections::BTreeSet;

use clap::ValueEnum;
use serde::Serialize;
use serde_json::json;

use iam_doctor::aws::{AwsError, join_all};
use iam_doctor::core::check::{policy_set, request_context};
use iam_doctor::core::eval::{
    Decision, NamedPolicy, OrgLevelPolicies, PolicyKind, PolicySet, Request, Verdict, evaluate,
};
use iam_doctor::core::facts::{
    OrgFacts, PolicyOrigin, PolicySource, PrincipalFacts, PrincipalKind, TargetType,
};
use iam_doctor::core::policy::{Effect, PolicyError};
use iam_doctor::core::profile::RequiredAction;
use iam_doctor::core::request_keys::Supplied;
use iam_doctor::report::escape;

use super::live::AwsConnection;
use super::live::{AwsArgs, aws_failure};
use super::{
    ContextArgs, Exit, Failure, OutputArgs, ProfileArgs, emit, incomplete, note, required::pretty,
    terminal_width, warn,
};

/// Accounts whose organization path is read at once with `--all-accounts`. Requests are
/// bounded again, across everything, by the adapter's gate.
const ACCOUNTS_AT_ONCE: usize = 8;

/// Actions named per table cell before the rest is counted.
const SHOWN_ACTIONS: usize = 6;

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One section per account, one row per attached policy.
    Table,
    /// Every account, level, policy and blocked action.
    Json,
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

/// One required action a policy stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub action: String,
    /// `denies` (a `Deny` statement matches) or `fails_to_allow` (nothing at the level allows).
    pub verdict: Verdict,
    /// The `Sid` (or `#index`) of the denying statement.
    pub statement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyAudit {
    pub id: String,
    pub name: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelAudit {
    pub id: String,
    #[serde(rename = "type")]
    pub target_type: TargetType,
    pub name: String,
    pub scps: Vec<PolicyAudit>,
    pub rcps: Vec<PolicyAudit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountAudit {
    pub account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub levels: Vec<LevelAudit>,
    /// Required actions the organization's policies stop, whatever the role's own policies.
    pub blocked: Vec<String>,
    /// Required actions they may stop, depending on keys of unknown value (`depends_on`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
    /// The keys of unknown value the undecided actions depend on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub required_actions: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Condition keys some statement tested that the request did not carry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_context: Vec<String>,
    /// Why the account could not be audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccountAudit {
    fn empty(account_id: &str, name: Option<String>) -> Self {
        AccountAudit {
            account_id: account_id.to_string(),
            name,
            levels: Vec::new(),
            blocked: Vec::new(),
            undecided: Vec::new(),
            depends_on: Vec::new(),
            required_actions: 0,
            notes: Vec::new(),
            missing_context: Vec::new(),
            error: None,
        }
    }
}

/// The principal the audit evaluates for: a role in the account with an allow-all identity
/// policy, so only organization policies decide.
fn audit_principal(account_id: &str, role_name: &str) -> PrincipalFacts {
    PrincipalFacts {
        kind: PrincipalKind::Role,
        name: role_name.to_string(),
        arn: format!("arn:aws:iam::{account_id}:role/{role_name}"),
        path: "/".to_string(),
        account_id: account_id.to_string(),
        identity_policies: vec![PolicySource {
            name: "allow-all (audit)".to_string(),
            arn: None,
            origin: PolicyOrigin::Inline,
            group: None,
            document: ALLOW_ALL.to_string(),
        }],
        permissions_boundary: None,
        tags: Vec::new(),
        service_linked: false,
    }
}

/// The sets each attribution is decided on, built once per account.
struct Probe {
    kind: PolicyKind,
    level: usize,
    /// `Some(i)`: policy `i` of the level alone (its denies); `None`: the level's allows.
    policy: Option<usize>,
    set: PolicySet,
}

fn probes(set: &PolicySet) -> Vec<Probe> {
    let mut out = Vec::new();
    for (kind, levels) in [(PolicyKind::Scp, &set.scps), (PolicyKind::Rcp, &set.rcps)] {
        for (li, level) in levels.iter().enumerate() {
            let only = |level: OrgLevelPolicies| {
                let mut s = PolicySet {
                    identity: set.identity.clone(),
                    ..PolicySet::default()
                };
                match kind {
                    PolicyKind::Rcp => s.rcps = vec![level],
                    _ => s.scps = vec![level],
                }
                s
            };
            for (pi, p) in level.policies.iter().enumerate() {
                out.push(Probe {
                    kind,
                    level: li,
                    policy: Some(pi),
                    set: only(OrgLevelPolicies {
                        policies: vec![p.clone()],
                        ..level.clone()
                    }),
                });
            }
            let allows: Vec<NamedPolicy> = level
                .policies
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.policy.statements.retain(|s| s.effect == Effect::Allow);
                    p
                })
                .collect();
            out.push(Probe {
                kind,
                level: li,
                policy: None,
                set: only(OrgLevelPolicies {
                    policies: allows,
                    ..level.clone()
                }),
            });
        }
    }
    out
}

/// Which required actions each SCP and RCP on the account's path blocks, decided by the local
/// evaluator with an allow-all identity policy.
pub fn audit(
    org: &OrgFacts,
    required: &[RequiredAction],
    region: &str,
    role_name: &str,
    supplied: &Supplied,
) -> Result<AccountAudit, PolicyError> {
    let principal = audit_principal(&org.account_id, role_name);
    let (set, mut notes) = policy_set(&principal, Some(org))?;
    if org.scps_enabled == Some(false) && !org.is_management_account() {
        notes.push("SCPs are not enabled on the organization's root: none apply".to_string());
    }
    let mut levels: Vec<LevelAudit> = org
        .levels
        .iter()
        .map(|l| LevelAudit {
            id: l.id.clone(),
            target_type: l.target_type,
            name: l.name.clone(),
            scps: l
                .scps
                .iter()
                .map(|p| PolicyAudit {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    blocks: Vec::new(),
                })
                .collect(),
            rcps: l
                .rcps
                .iter()
                .map(|p| PolicyAudit {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    blocks: Vec::new(),
                })
                .collect(),
        })
        .collect();
    let probes = probes(&set);
    let mut blocked = Vec::new();
    let mut undecided = Vec::new();
    let mut depends_on: Vec<String> = Vec::new();
    let mut missing = BTreeSet::new();
    for r in required {
        let request = Request {
            principal: principal.arn.clone(),
            action: r.action.clone(),
            resource: r.resource.clone(),
            context: request_context(&principal, Some(org), &r.action, region, supplied),
        };
        let whole = evaluate(&set, &request);
        missing.extend(whole.missing_context);
        for k in &whole.depends_on {
            if !depends_on.iter().any(|d| d.eq_ignore_ascii_case(k)) {
                depends_on.push(k.clone());
            }
        }
        let list = match whole.decision {
            Decision::Allowed => None,
            Decision::Unknown => Some(&mut undecided),
            _ => Some(&mut blocked),
        };
        if let Some(list) = list
            && !list.contains(&r.action)
        {
            list.push(r.action.clone());
        }
        for probe in &probes {
            let e = evaluate(&probe.set, &request);
            missing.extend(e.missing_context);
            let Some(level) = levels.get_mut(probe.level) else {
                continue;
            };
            let policies = match probe.kind {
                PolicyKind::Rcp => &mut level.rcps,
                _ => &mut level.scps,
            };
            match probe.policy {
                Some(pi) if matches!(e.decision, Decision::ExplicitDeny | Decision::Unknown) => {
                    let Some(p) = policies.get_mut(pi) else {
                        continue;
                    };
                    for b in e.decided_by.iter().filter(|b| {
                        b.kind == probe.kind
                            && matches!(b.verdict, Verdict::Denies | Verdict::MayDeny)
                    }) {
                        push_block(&mut p.blocks, &r.action, b.verdict, &b.statement);
                    }
                }
                None if e
                    .decided_by
                    .iter()
                    .any(|b| b.kind == probe.kind && b.verdict == Verdict::FailsToAllow) =>
                {
                    for p in policies.iter_mut() {
                        push_block(&mut p.blocks, &r.action, Verdict::FailsToAllow, &None);
                    }
                }
                _ => {}
            }
        }
    }
    let account_name = org
        .levels
        .last()
        .filter(|l| l.target_type == TargetType::Account && l.name != l.id)
        .map(|l| l.name.clone());
    Ok(AccountAudit {
        account_id: org.account_id.clone(),
        name: account_name,
        levels,
        blocked,
        undecided,
        depends_on,
        required_actions: required.len(),
        notes,
        missing_context: missing.into_iter().collect(),
        error: None,
    })
}

fn push_block(blocks: &mut Vec<Block>, action: &str, verdict: Verdict, statement: &Option<String>) {
    let block = Block {
        action: action.to_string(),
        verdict,
        statement: statement.clone(),
    };
    if !blocks.contains(&block) {
        blocks.push(block);
    }
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
    let aws = AwsConnection::connect(&args.aws, Some(&args.region), args.output.quiet)?;
    let orgs = aws.session.organizations();
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
                aws.block_on(aws.session.iam().caller_identity())
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
                let mut a = AccountAudit::empty(&account, listed_name);
                a.notes.push(format!(
                    "account {account} is not in an organization: no SCPs or RCPs apply"
                ));
                audits.push(a);
                continue;
            }
            Err(e) => {
                let message = aws_failure(e).message;
                warn(
                    quiet,
                    &format!("account {account} was not audited: {message}"),
                );
                let mut a = AccountAudit::empty(&account, listed_name);
                a.error = Some(message);
                audits.push(a);
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

    let identity = format!(
        "each account is evaluated for the role `arn:aws:iam::ACCOUNT:role/{}` with an allow-all identity policy, so only SCPs and RCPs decide (`--role-name` sets the name SCP conditions see)",
        args.role_name
    );
    match args.format {
        Format::Json => emit(&pretty(&json!({
            "profile": args.profile.profile,
            "region": args.region,
            "identity": identity,
            "accounts": audits,
            "unchecked": unchecked,
        })))?,
        Format::Table => emit(&format!(
            "{}note: {}\n",
            render_table(&audits, &args.profile.profile, &args.region),
            escape(&identity)
        ))?,
    }
    if args.stats {
        aws.print_stats(quiet);
    }
    // Required inputs that were never turned into actions were audited by no policy.
    for u in &unchecked {
        incomplete(u);
    }
    Ok(
        if audits
            .iter()
            .any(|a| a.error.is_some() || !a.undecided.is_empty())
            || !unchecked.is_empty()
        {
            Exit::Incomplete
        } else if audits.iter().any(|a| !a.blocked.is_empty()) {
            Exit::Denied
        } else {
            Exit::Allowed
        },
    )
}

fn level_label(level: &LevelAudit) -> String {
    let kind = match level.target_type {
        TargetType::Root => "root",
        TargetType::OrganizationalUnit => "OU",
        TargetType::Account => "account",
    };
    if level.name.is_empty() || level.name == level.id {
        format!("{} ({kind})", escape(&level.id))
    } else {
        format!("{}\n{} ({kind})", escape(&level.name), escape(&level.id))
    }
}

fn some_actions(actions: &[&str]) -> String {
    let mut shown: Vec<&str> = actions.iter().take(SHOWN_ACTIONS).copied().collect();
    let more = actions.len().saturating_sub(SHOWN_ACTIONS);
    let more = (more > 0).then(|| format!("… (+{more} more)"));
    if let Some(m) = &more {
        shown.push(m);
    }
    shown.join(", ")
}

/// What one policy blocks, grouped by statement, for a table cell.
fn describe_blocks(blocks: &[Block]) -> String {
    if blocks.is_empty() {
        return "nothing".to_string();
    }
    let mut groups: Vec<(Verdict, Option<&str>, Vec<&str>)> = Vec::new();
    for b in blocks {
        let key = (b.verdict, b.statement.as_deref());
        match groups.iter_mut().find(|(v, s, _)| (*v, *s) == key) {
            Some((_, _, list)) => list.push(&b.action),
            None => groups.push((b.verdict, b.statement.as_deref(), vec![&b.action])),
        }
    }
    groups
        .iter()
        .map(|(verdict, statement, actions)| {
            let head = match (verdict, statement) {
                (Verdict::FailsToAllow, _) => format!(
                    "allows none of {} required action(s) at this level",
                    actions.len()
                ),
                (Verdict::MayDeny, Some(s)) => format!(
                    "may deny {} action(s) by statement `{}`, depending on request values the audit cannot know",
                    actions.len(),
                    escape(s)
                ),
                (_, Some(s)) => {
                    format!(
                        "denies {} action(s) by statement `{}`",
                        actions.len(),
                        escape(s)
                    )
                }
                (_, None) => format!("denies {} action(s)", actions.len()),
            };
            format!("{head}: {}", escape(&some_actions(actions)))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_table(audits: &[AccountAudit], profile: &str, region: &str) -> String {
    let (profile, region) = (escape(profile), escape(region));
    let mut out = String::new();
    for a in audits {
        let title = match &a.name {
            Some(n) => format!("account {} ({})", escape(&a.account_id), escape(n)),
            None => format!("account {}", escape(&a.account_id)),
        };
        let path: Vec<std::borrow::Cow<'_, str>> = a
            .levels
            .iter()
            .map(|l| if l.name.is_empty() { &l.id } else { &l.name })
            .map(|n| escape(n))
            .collect();
        if path.is_empty() {
            out.push_str(&format!("{title}\n"));
        } else {
            out.push_str(&format!("{title}: {}\n", path.join(" → ")));
        }
        if let Some(e) = &a.error {
            out.push_str(&format!("  not audited: {}\n\n", escape(e)));
            continue;
        }
        for n in &a.notes {
            out.push_str(&format!("  note: {}\n", escape(n)));
        }
        if !a.levels.is_empty() {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
                .set_header(vec!["Attached to", "Policy", "Blocks"]);
            if let Some(w) = terminal_width() {
                t.set_width(w);
            }
            for level in &a.levels {
                let mut first_row = true;
                for (kind, policies) in [("SCP", &level.scps), ("RCP", &level.rcps)] {
                    for p in policies {
                        let attached = if first_row {
                            level_label(level)
                        } else {
                            String::new()
                        };
                        first_row = false;
                        t.add_row(vec![
                            attached,
                            format!("{kind} `{}`\n{}", escape(&p.name), escape(&p.id)),
                            describe_blocks(&p.blocks),
                        ]);
                    }
                }
            }
            out.push_str(&format!("{t}\n"));
        }
        if !a.missing_context.is_empty() {
            out.push_str(&format!(
                "  conditions on keys the request does not carry were read as absent: {}\n",
                escape(&a.missing_context.join(", "))
            ));
        }
        if !a.undecided.is_empty() {
            let undecided: Vec<&str> = a.undecided.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "  {}: {}\n",
                escape(&iam_doctor::report::unknown_summary(
                    undecided.len(),
                    &a.depends_on
                )),
                escape(&some_actions(&undecided))
            ));
        }
        let blocked: Vec<&str> = a.blocked.iter().map(String::as_str).collect();
        if blocked.is_empty() {
            out.push_str(&format!(
                "account {}: organization policies block none of {} required actions (profile {profile}, region {region})\n\n",
                escape(&a.account_id), a.required_actions
            ));
        } else {
            out.push_str(&format!(
                "account {}: organization policies block {} of {} required actions (profile {profile}, region {region}): {}\n\n",
                escape(&a.account_id),
                blocked.len(),
                a.required_actions,
                escape(&some_actions(&blocked))
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use iam_doctor::core::facts::{OrgLevel, OrgPolicy};

    fn policy(id: &str, content: &str) -> OrgPolicy {
        OrgPolicy {
            id: format!("p-{id}"),
            name: id.to_string(),
            arn: None,
            aws_managed: false,
            content: content.to_string(),
        }
    }

    fn level(id: &str, target_type: TargetType, scps: Vec<OrgPolicy>) -> OrgLevel {
        OrgLevel {
            id: id.to_string(),
            target_type,
            name: id.to_string(),
            scps,
            rcps: Vec::new(),
        }
    }

    const FULL: &str = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn org(management: Option<&str>) -> OrgFacts {
        OrgFacts {
            account_id: "111122223333".into(),
            organization_id: Some("o-1".into()),
            management_account_id: management.map(str::to_string),
            scps_enabled: Some(true),
            rcps_enabled: Some(false),
            levels: vec![
                level("r-1", TargetType::Root, vec![policy("FullAWSAccess", FULL)]),
                level(
                    "ou-1",
                    TargetType::OrganizationalUnit,
                    vec![
                        policy("FullAWSAccess", FULL),
                        policy(
                            "RegionLock",
                            r#"{"Statement":[{"Sid":"Region","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#,
                        ),
                    ],
                ),
                level(
                    "111122223333",
                    TargetType::Account,
                    vec![policy(
                        "AllowList",
                        r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","iam:*"],"Resource":"*"},{"Sid":"NoBuckets","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#,
                    )],
                ),
            ],
        }
    }

    fn required(actions: &[&str]) -> Vec<RequiredAction> {
        actions
            .iter()
            .map(|a| RequiredAction {
                action: a.to_string(),
                resource: "*".into(),
                grant: String::new(),
                policy: String::new(),
                reason: String::new(),
            })
            .collect()
    }

    fn blocks<'a>(a: &'a AccountAudit, level: usize, name: &str) -> &'a [Block] {
        a.levels[level]
            .scps
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.blocks.as_slice())
            .unwrap_or_default()
    }

    #[test]
    fn every_policy_that_stops_an_action_is_named_even_behind_a_deny() {
        let a = audit(
            &org(None),
            &required(&[
                "ec2:RunInstances",
                "s3:GetObject",
                "iam:CreateRole",
                "s3:DeleteBucket",
            ]),
            "eu-west-1",
            "deployer",
            &Supplied::default(),
        )
        .expect("valid policies");
        assert_eq!(
            a.blocked,
            ["ec2:RunInstances", "s3:GetObject", "s3:DeleteBucket"]
        );
        let region: Vec<(&str, Option<&str>)> = blocks(&a, 1, "RegionLock")
            .iter()
            .map(|b| (b.action.as_str(), b.statement.as_deref()))
            .collect();
        assert_eq!(
            region,
            [
                ("ec2:RunInstances", Some("Region")),
                ("s3:GetObject", Some("Region")),
                ("s3:DeleteBucket", Some("Region")),
            ]
        );
        // The account's allow-list stops EC2 as well, and denies DeleteBucket by its own
        // statement: both are reported although RegionLock would decide first.
        assert_eq!(
            blocks(&a, 2, "AllowList"),
            [
                Block {
                    action: "ec2:RunInstances".into(),
                    verdict: Verdict::FailsToAllow,
                    statement: None,
                },
                Block {
                    action: "s3:DeleteBucket".into(),
                    verdict: Verdict::Denies,
                    statement: Some("NoBuckets".into()),
                },
            ]
        );
        assert!(blocks(&a, 0, "FullAWSAccess").is_empty());
        assert!(blocks(&a, 1, "FullAWSAccess").is_empty());
        assert_eq!(a.name, None, "the account level's name is its id");
    }

    #[test]
    fn nothing_applies_to_the_management_account() {
        let a = audit(
            &org(Some("111122223333")),
            &required(&["ec2:RunInstances"]),
            "eu-west-1",
            "deployer",
            &Supplied::default(),
        )
        .expect("valid policies");
        assert!(a.blocked.is_empty());
        assert!(
            a.levels
                .iter()
                .all(|l| l.scps.iter().all(|p| p.blocks.is_empty()))
        );
        assert!(a.notes[0].contains("management account"), "{:?}", a.notes);
    }
}
