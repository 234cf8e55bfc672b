//! The organization audit: which SCP and RCP on an account's path stops which required action.

use std::collections::BTreeSet;

use serde::Serialize;

use super::check::{ActionRequests, policy_set};
use super::eval::{
    Decision, NamedPolicy, OrgLevelPolicies, PolicyKind, PolicySet, Verdict, evaluate,
};
use super::facts::{
    OrgFacts, PolicyOrigin, PolicySource, PrincipalFacts, PrincipalKind, TargetType,
};
use super::org_tree::{TreeAccount, TreeError, UnreadPart};
use super::policy::{Effect, PolicyError};
use super::profile::RequiredAction;
use super::request_keys::Supplied;

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The whole audit, as every format shows it: one entry per account audited. Its `Serialize`
/// is the JSON report's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationAudit {
    pub profile: String,
    pub region: String,
    /// Which principal the accounts were evaluated for, and why only SCPs and RCPs decide.
    pub identity: String,
    pub accounts: Vec<AccountAudit>,
    /// Required inputs that were never turned into actions, so were audited by no policy.
    pub unchecked: Vec<String>,
    /// Parts of the organization that could not be read (whole-organization audits): the
    /// accounts they leave unknown are listed as not audited.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<UnreadPart>,
}

impl OrganizationAudit {
    pub fn new(
        profile: &str,
        region: &str,
        role_name: &str,
        accounts: Vec<AccountAudit>,
        unchecked: Vec<String>,
    ) -> Self {
        OrganizationAudit {
            profile: profile.to_string(),
            region: region.to_string(),
            identity: format!(
                "each account is evaluated for the role `arn:aws:iam::ACCOUNT:role/{role_name}` with an allow-all identity policy, so only SCPs and RCPs decide (`--role-name` sets the name SCP conditions see)"
            ),
            accounts,
            unchecked,
            unread: Vec::new(),
        }
    }

    /// Records the parts of the organization that could not be read.
    pub fn with_unread(mut self, unread: Vec<UnreadPart>) -> Self {
        self.unread = unread;
        self
    }

    /// True when part of the audit could not be made: an account not audited, an action whose
    /// fate depends on values only the real request has, or a required input never turned into
    /// actions. Nothing may then be assumed allowed.
    pub fn is_incomplete(&self) -> bool {
        self.accounts
            .iter()
            .any(|a| a.error.is_some() || !a.undecided.is_empty())
            || !self.unchecked.is_empty()
            || !self.unread.is_empty()
    }

    /// True when an organization policy stops a required action in some account.
    pub fn blocks_any(&self) -> bool {
        self.accounts.iter().any(|a| !a.blocked.is_empty())
    }
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

    /// An account outside any organization: no SCP or RCP applies to it.
    pub fn outside_organization(account_id: &str, name: Option<String>) -> Self {
        let mut a = AccountAudit::empty(account_id, name);
        a.notes.push(format!(
            "account {account_id} is not in an organization: no SCPs or RCPs apply"
        ));
        a
    }

    /// An account whose organization path could not be read, with the reason.
    pub fn not_audited(account_id: &str, name: Option<String>, reason: String) -> Self {
        let mut a = AccountAudit::empty(account_id, name);
        a.error = Some(reason);
        a
    }
}

/// One account of a whole-organization tree, from its path as the tree gives it
/// ([`crate::core::org_tree::OrganizationTree::all_org_facts`]): audited when the path is known,
/// otherwise not audited, with the reason (a part of the tree that could not be read, a
/// malformed tree). Never skipped.
pub fn audit_tree_account(
    account: &TreeAccount,
    path: Result<OrgFacts, TreeError>,
    required: &[RequiredAction],
    region: &str,
    role_name: &str,
    supplied: &Supplied,
) -> Result<AccountAudit, PolicyError> {
    match path {
        Ok(org) => {
            let mut a = audit(&org, required, region, role_name, supplied)?;
            if a.name.is_none() && account.name != account.id {
                a.name = Some(account.name.clone());
            }
            Ok(a)
        }
        Err(e) => Ok(AccountAudit::not_audited(
            &account.id,
            Some(account.name.clone()),
            e.to_string(),
        )),
    }
}

/// Audits the accounts of a whole-organization tree, evaluating once per distinct path where
/// the result cannot depend on which account it is.
///
/// Accounts in one OU with the same account-level policies share every policy on their path;
/// what differs is the account id in the principal's ARN and keys. When no policy on the path
/// can see those (no condition key or variable naming the principal, the user id, a source or
/// resource account; no `Principal` other than `*`) and the account is not the management
/// account, the audit of one stands for all, with the account's id and name put in. Otherwise,
/// and when the required actions differ per account (templates), each account is evaluated.
#[derive(Debug, Default)]
pub struct TreeAuditor {
    /// Audits by path key (the path without the account's own id and name).
    shared: std::collections::HashMap<String, AccountAudit>,
    /// Whether each policy document (by its text) cannot see the account.
    account_blind: std::collections::HashMap<String, bool>,
    /// Accounts decided from another account's audit, for the record.
    pub reused: usize,
}

/// Text that lets a policy see which account (or principal) a request comes from.
const ACCOUNT_SEEING: &[&str] = &[
    "aws:principal",
    "aws:userid",
    "aws:username",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcearn",
    "aws:resourceaccount",
    "aws:calledvia",
    "${",
    "notprincipal",
];

/// True when a policy document cannot tell one account's request from another's: none of
/// [`ACCOUNT_SEEING`] appears in it (case-insensitive, anywhere, so conservatively), and every
/// `Principal` is `*` (RCPs name no other).
fn account_blind(content: &str) -> bool {
    let lower = content.to_ascii_lowercase();
    if ACCOUNT_SEEING.iter().any(|k| lower.contains(k)) {
        return false;
    }
    if !lower.contains("principal") {
        return true;
    }
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(content) else {
        return false;
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        other => vec![other.clone()],
    };
    statements.iter().all(|s| match s.get("Principal") {
        None => true,
        Some(serde_json::Value::String(p)) => p == "*",
        Some(serde_json::Value::Object(m)) => {
            m.len() == 1 && m.get("AWS").is_some_and(|p| p == "*")
        }
        Some(_) => false,
    })
}

impl TreeAuditor {
    pub fn new() -> Self {
        Self::default()
    }

    /// The audit of one account of the tree, as [`audit_tree_account`] gives it. `shared_required`
    /// says the required actions are the same for every account (no templates): only then is an
    /// audit reused.
    #[allow(clippy::too_many_arguments)]
    pub fn audit(
        &mut self,
        account: &TreeAccount,
        path: Result<OrgFacts, TreeError>,
        required: &[RequiredAction],
        shared_required: bool,
        region: &str,
        role_name: &str,
        supplied: &Supplied,
    ) -> Result<AccountAudit, PolicyError> {
        let org = match path {
            Ok(org) => org,
            Err(e) => {
                return audit_tree_account(account, Err(e), required, region, role_name, supplied);
            }
        };
        let key = if shared_required && !org.is_management_account() && self.blind(&org) {
            Some(path_key(&org))
        } else {
            None
        };
        if let Some(key) = &key
            && let Some(done) = self.shared.get(key)
        {
            self.reused += 1;
            let mut a = done.clone();
            a.account_id.clone_from(&account.id);
            a.name = (account.name != account.id).then(|| account.name.clone());
            if let Some(level) = a.levels.last_mut() {
                level.id.clone_from(&account.id);
                level.name.clone_from(&account.name);
            }
            return Ok(a);
        }
        let a = audit_tree_account(account, Ok(org), required, region, role_name, supplied)?;
        if let Some(key) = key {
            self.shared.insert(key, a.clone());
        }
        Ok(a)
    }

    /// True when no policy on the path can tell accounts apart.
    fn blind(&mut self, org: &OrgFacts) -> bool {
        org.levels
            .iter()
            .flat_map(|l| l.scps.iter().chain(&l.rcps))
            .all(|p| {
                if let Some(known) = self.account_blind.get(&p.content) {
                    return *known;
                }
                let blind = account_blind(&p.content);
                self.account_blind.insert(p.content.clone(), blind);
                blind
            })
    }
}

/// The path without the account's own id and name: equal for accounts whose audits are equal
/// up to those.
fn path_key(org: &OrgFacts) -> String {
    let mut key = format!(
        "{:?}|{:?}|{:?}|{:?}",
        org.organization_id, org.management_account_id, org.scps_enabled, org.rcps_enabled
    );
    let last = org.levels.len().saturating_sub(1);
    for (i, l) in org.levels.iter().enumerate() {
        if i == last {
            key.push_str("|account");
        } else {
            key.push_str(&format!("|{}\u{0}{}", l.id, l.name));
        }
        for p in l.scps.iter().chain(&l.rcps) {
            key.push_str(&format!("\u{0}{}\u{0}{}\u{0}{}", p.id, p.name, p.content));
        }
        key.push_str(&format!("\u{0}{}", l.scps.len()));
    }
    key
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
///
/// `check` answers for one role; an organization admin asks the other way round: which of *my*
/// policies, attached where, stop a Jets deploy, and in which accounts. Identity policies are
/// taken out of the question by evaluating with an allow-all identity policy, so every block
/// reported here is an organization policy's doing. Each policy is tried on its own for its
/// `Deny` statements, and each level with its `Allow` statements only, so a level that fails to
/// allow is reported even where a `Deny` elsewhere would have decided first.
///
/// The input is plain organization facts (the path from the root to the account with the
/// policies attached at each level), however they were read.
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
    // The principal's keys are the same for every action: built once.
    let mut requests = ActionRequests::new(&principal, Some(org), region, supplied);
    for r in required {
        let request = requests.request(&r.action, &r.resource);
        let whole = evaluate(&set, request);
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
            let e = evaluate(&probe.set, request);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::{OrgLevel, OrgPolicy};

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

    mod tree_auditor {
        use super::*;
        use crate::core::org_tree::{
            OrgPolicyType, OrganizationTree, TreePolicy, TreeRoot, TreeUnit,
        };

        fn tree(ou_policy: &str) -> OrganizationTree {
            let policy = |id: &str, content: &str, targets: &[&str]| TreePolicy {
                id: id.to_string(),
                name: id.to_string(),
                arn: None,
                aws_managed: false,
                policy_type: OrgPolicyType::ServiceControlPolicy,
                content: Some(content.to_string()),
                targets: targets.iter().map(|t| t.to_string()).collect(),
            };
            let account = |id: &str| TreeAccount {
                id: id.to_string(),
                name: format!("name-{id}"),
                parent_id: Some("ou-1".into()),
            };
            OrganizationTree {
                organization_id: Some("o-1".into()),
                management_account_id: Some("999999999999".into()),
                root: TreeRoot {
                    id: "r-1".into(),
                    name: "Root".into(),
                    enabled_policy_types: vec![OrgPolicyType::ServiceControlPolicy],
                },
                organizational_units: vec![TreeUnit {
                    id: "ou-1".into(),
                    name: "Workloads".into(),
                    parent_id: "r-1".into(),
                }],
                accounts: vec![account("222222222222"), account("333333333333")],
                policies: vec![
                    policy(
                        "p-full",
                        FULL,
                        &["r-1", "ou-1", "222222222222", "333333333333"],
                    ),
                    policy("p-ou", ou_policy, &["ou-1"]),
                ],
                unread: Vec::new(),
            }
        }

        fn run(t: &OrganizationTree) -> (Vec<AccountAudit>, usize) {
            let mut auditor = TreeAuditor::new();
            let audits = t
                .all_org_facts()
                .into_iter()
                .map(|(account, path)| {
                    auditor
                        .audit(
                            account,
                            path,
                            &required(&["ec2:RunInstances", "s3:GetObject"]),
                            true,
                            "us-east-1",
                            "deployer",
                            &Supplied::default(),
                        )
                        .expect("valid policies")
                })
                .collect();
            (audits, auditor.reused)
        }

        fn fresh(t: &OrganizationTree) -> Vec<AccountAudit> {
            t.all_org_facts()
                .into_iter()
                .map(|(account, path)| {
                    audit_tree_account(
                        account,
                        path,
                        &required(&["ec2:RunInstances", "s3:GetObject"]),
                        "us-east-1",
                        "deployer",
                        &Supplied::default(),
                    )
                    .expect("valid policies")
                })
                .collect()
        }

        #[test]
        fn accounts_sharing_a_path_that_cannot_see_them_share_one_evaluation() {
            let t = tree(
                r#"{"Statement":[{"Sid":"NoEc2","Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#,
            );
            let (audits, reused) = run(&t);
            assert_eq!(reused, 1);
            assert_eq!(audits, fresh(&t), "the same result as evaluating each");
            assert_eq!(audits[1].account_id, "333333333333");
            assert_eq!(audits[1].name.as_deref(), Some("name-333333333333"));
            assert_eq!(audits[1].levels[2].id, "333333333333");
            assert_eq!(audits[1].blocked, ["ec2:RunInstances"]);
        }

        /// Regression: a policy that names the account in a condition must be evaluated per
        /// account, or one account's verdict would be reported for its neighbours.
        #[test]
        fn a_policy_that_sees_the_account_is_evaluated_for_each() {
            let t = tree(
                r#"{"Statement":[{"Sid":"NotThere","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}}]}"#,
            );
            let (audits, reused) = run(&t);
            assert_eq!(reused, 0);
            assert_eq!(audits, fresh(&t));
            assert_eq!(audits[0].blocked, ["s3:GetObject"]);
            assert!(audits[1].blocked.is_empty());
        }

        #[test]
        fn only_a_wildcard_principal_is_blind() {
            assert!(account_blind(
                r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#
            ));
            assert!(!account_blind(
                r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:*","Resource":"*"}]}"#
            ));
            assert!(!account_blind(
                r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::${aws:PrincipalAccount}-*"}]}"#
            ));
        }
    }
}
