//! The whole organization at once: root, OUs, accounts and every SCP and RCP with its targets.
//!
//! Reading one account's path costs a few calls per level; reading the organization top-down
//! costs a few calls per OU and per policy, whatever the number of accounts. This model holds
//! what such a walk (or an `organization-tree.json` snapshot) found, and gives any account's
//! [`OrgFacts`] — root first, account last, the policies attached at each level — with no
//! further call. What could not be read is kept in [`OrganizationTree::unread`], so an account
//! whose path touches it is reported as not audited instead of being decided on half the facts.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::facts::{OrgFacts, OrgLevel, OrgPolicy, TargetType};

/// The organization policy types the audit evaluates, as Organizations names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgPolicyType {
    ServiceControlPolicy,
    ResourceControlPolicy,
}

impl OrgPolicyType {
    /// The name Organizations' API uses (`SERVICE_CONTROL_POLICY`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrgPolicyType::ServiceControlPolicy => "SERVICE_CONTROL_POLICY",
            OrgPolicyType::ResourceControlPolicy => "RESOURCE_CONTROL_POLICY",
        }
    }
}

/// The organization's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeRoot {
    pub id: String,
    pub name: String,
    /// The policy types enabled on the root: a type that is not enabled applies nowhere.
    pub enabled_policy_types: Vec<OrgPolicyType>,
}

/// An organizational unit and the OU (or root) it sits in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeUnit {
    pub id: String,
    pub name: String,
    pub parent_id: String,
}

/// A member account (or the management account) and where it sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeAccount {
    pub id: String,
    pub name: String,
    /// The OU or root it sits in; `None` when the account is known (from the organization's
    /// account list) but the part of the tree holding it could not be read.
    pub parent_id: Option<String>,
}

/// An SCP or RCP, once, with everything it is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreePolicy {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default)]
    pub aws_managed: bool,
    #[serde(rename = "type")]
    pub policy_type: OrgPolicyType,
    /// The document as `DescribePolicy` returns it; `None` when it could not be read (the
    /// reason is in [`OrganizationTree::unread`]).
    pub content: Option<String>,
    /// Ids of the root, OUs and accounts it is attached to directly.
    pub targets: Vec<String>,
}

/// What kind of read failed, which decides which accounts it leaves unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreadKind {
    /// The OUs or accounts in a root or OU (`id`): whatever sits below it is unplaced.
    Children,
    /// The organization's list of accounts, read when part of the tree was unreadable.
    Accounts,
    /// The policies of a type (`id` is the type): any account may have one attached.
    PolicyList,
    /// Where a policy (`id`) is attached: any account may be under one of its targets.
    PolicyTargets,
    /// A policy's document (`id`): the accounts below its targets.
    PolicyContent,
}

/// A part of the organization that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadPart {
    pub id: String,
    pub part: UnreadKind,
    pub reason: String,
}

impl UnreadPart {
    /// What the part is, for messages: "the accounts and OUs in `ou-…`", "the targets of …".
    pub fn describe(&self) -> String {
        let id = &self.id;
        match self.part {
            UnreadKind::Children => format!("the OUs and accounts in `{id}`"),
            UnreadKind::Accounts => "the organization's account list".to_string(),
            UnreadKind::PolicyList => format!("the list of policies of type {id}"),
            UnreadKind::PolicyTargets => format!("where policy `{id}` is attached"),
            UnreadKind::PolicyContent => format!("the content of policy `{id}`"),
        }
    }
}

/// The whole organization as one walk read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationTree {
    pub organization_id: Option<String>,
    pub management_account_id: Option<String>,
    pub root: TreeRoot,
    pub organizational_units: Vec<TreeUnit>,
    pub accounts: Vec<TreeAccount>,
    pub policies: Vec<TreePolicy>,
    /// What could not be read (after retries); empty when the tree is whole.
    #[serde(default)]
    pub unread: Vec<UnreadPart>,
}

/// Why an account's path cannot be given from the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("account `{account}` is not in the organization")]
    UnknownAccount { account: String },
    #[error("the organization's parents loop: `{id}` is its own ancestor")]
    ParentCycle { id: String },
    #[error("`{child}` sits in `{parent}`, which is neither the root nor a known OU")]
    MissingParent { child: String, parent: String },
    #[error("policy `{policy}` is attached to `{target}`, which is not in the organization")]
    UnknownTarget { policy: String, target: String },
    #[error("the organization path of account `{account}` could not be read: {parts}")]
    Unread { account: String, parts: String },
}

/// OUs and accounts are at most five levels below the root; the bound stops a malformed
/// tree (a cycle through parents) on top of the explicit cycle check.
const MAX_DEPTH: usize = 16;

impl OrganizationTree {
    /// The account with this id, if the tree knows it.
    pub fn account(&self, id: &str) -> Option<&TreeAccount> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// True when every part of the organization was read.
    pub fn is_whole(&self) -> bool {
        self.unread.is_empty()
    }

    /// The organization path of `account_id` — root first, account last — with the SCPs and
    /// RCPs attached at each level, in the order of [`OrganizationTree::policies`]. No call is
    /// made: everything comes from the tree.
    pub fn org_facts(&self, account_id: &str) -> Result<OrgFacts, TreeError> {
        let index = TreeIndex::new(self);
        index.org_facts(account_id)
    }

    /// Checks that the tree is one tree: every OU and placed account sits in the root or a
    /// known OU, with no loop, and every policy target is the root, an OU or an account. A
    /// walk of AWS gives such a tree; a hand-edited file may not.
    pub fn validate(&self) -> Result<(), TreeError> {
        let index = TreeIndex::new(self);
        for unit in &self.organizational_units {
            index.ancestors(&unit.id, &unit.parent_id)?;
        }
        for account in &self.accounts {
            if let Some(parent) = &account.parent_id {
                index.ancestors(&account.id, parent)?;
            }
        }
        for p in &self.policies {
            if let Some(t) = p.targets.iter().find(|t| {
                **t != self.root.id
                    && !index.units.contains_key(t.as_str())
                    && !index.accounts.contains_key(t.as_str())
            }) {
                return Err(TreeError::UnknownTarget {
                    policy: p.id.clone(),
                    target: t.clone(),
                });
            }
        }
        Ok(())
    }

    /// Every account's path at once, in the order of [`OrganizationTree::accounts`], sharing
    /// one index of the tree.
    pub fn all_org_facts(&self) -> Vec<(&TreeAccount, Result<OrgFacts, TreeError>)> {
        let index = TreeIndex::new(self);
        self.accounts
            .iter()
            .map(|a| (a, index.org_facts(&a.id)))
            .collect()
    }
}

/// Look-ups over the tree, built once for many accounts.
struct TreeIndex<'a> {
    tree: &'a OrganizationTree,
    units: HashMap<&'a str, &'a TreeUnit>,
    accounts: HashMap<&'a str, &'a TreeAccount>,
    /// Target id → the policies attached to it, in the tree's policy order.
    attached: HashMap<&'a str, Vec<&'a TreePolicy>>,
    /// Parts whose failure leaves every account unknown.
    everywhere: Vec<&'a UnreadPart>,
    /// Policies whose content is unread, by id.
    unread_content: BTreeMap<&'a str, &'a UnreadPart>,
    /// Children listings that failed, for accounts whose place is unknown.
    unread_children: Vec<&'a UnreadPart>,
}

impl<'a> TreeIndex<'a> {
    fn new(tree: &'a OrganizationTree) -> Self {
        let mut attached: HashMap<&str, Vec<&TreePolicy>> = HashMap::new();
        for p in &tree.policies {
            let mut seen = HashSet::new();
            for t in &p.targets {
                if seen.insert(t.as_str()) {
                    attached.entry(t.as_str()).or_default().push(p);
                }
            }
        }
        let mut everywhere = Vec::new();
        let mut unread_content = BTreeMap::new();
        let mut unread_children = Vec::new();
        for u in &tree.unread {
            match u.part {
                UnreadKind::PolicyList | UnreadKind::PolicyTargets => everywhere.push(u),
                UnreadKind::PolicyContent => {
                    unread_content.insert(u.id.as_str(), u);
                }
                UnreadKind::Children | UnreadKind::Accounts => unread_children.push(u),
            }
        }
        TreeIndex {
            tree,
            units: tree
                .organizational_units
                .iter()
                .map(|u| (u.id.as_str(), u))
                .collect(),
            accounts: tree.accounts.iter().map(|a| (a.id.as_str(), a)).collect(),
            attached,
            everywhere,
            unread_content,
            unread_children,
        }
    }

    fn unread(account: &str, parts: &[&UnreadPart]) -> TreeError {
        TreeError::Unread {
            account: account.to_string(),
            parts: parts
                .iter()
                .map(|u| format!("{} ({})", u.describe(), u.reason))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// The OUs above `child` (whose parent is `parent`), nearest first, then the root.
    fn ancestors(
        &self,
        child: &'a str,
        parent: &'a str,
    ) -> Result<Vec<(&'a str, TargetType, &'a str)>, TreeError> {
        let root = &self.tree.root;
        let mut path = Vec::new();
        let mut seen: HashSet<&str> = HashSet::from([child]);
        let mut child = child;
        let mut current = parent;
        loop {
            if current == root.id {
                path.push((root.id.as_str(), TargetType::Root, root.name.as_str()));
                return Ok(path);
            }
            let Some(unit) = self.units.get(current) else {
                return Err(TreeError::MissingParent {
                    child: child.to_string(),
                    parent: current.to_string(),
                });
            };
            if !seen.insert(unit.id.as_str()) || path.len() > MAX_DEPTH {
                return Err(TreeError::ParentCycle {
                    id: unit.id.clone(),
                });
            }
            path.push((
                unit.id.as_str(),
                TargetType::OrganizationalUnit,
                unit.name.as_str(),
            ));
            child = unit.id.as_str();
            current = unit.parent_id.as_str();
        }
    }

    fn org_facts(&self, account_id: &str) -> Result<OrgFacts, TreeError> {
        let account = self
            .accounts
            .get(account_id)
            .ok_or_else(|| TreeError::UnknownAccount {
                account: account_id.to_string(),
            })?;
        let Some(parent) = account.parent_id.as_deref() else {
            let parts = if self.unread_children.is_empty() {
                self.tree.unread.iter().collect()
            } else {
                self.unread_children.clone()
            };
            return Err(Self::unread(account_id, &parts));
        };
        if !self.everywhere.is_empty() {
            return Err(Self::unread(account_id, &self.everywhere));
        }
        let root = &self.tree.root;
        // Up from the account to the root, then reversed.
        let mut path: Vec<(&str, TargetType, &str)> = vec![(
            account.id.as_str(),
            TargetType::Account,
            account.name.as_str(),
        )];
        path.extend(self.ancestors(&account.id, parent)?);
        path.reverse();

        let mut unread_on_path = Vec::new();
        let mut levels = Vec::with_capacity(path.len());
        for (id, target_type, name) in path {
            let mut scps = Vec::new();
            let mut rcps = Vec::new();
            for p in self.attached.get(id).into_iter().flatten() {
                let Some(content) = &p.content else {
                    if let Some(u) = self.unread_content.get(p.id.as_str()) {
                        unread_on_path.push(*u);
                    } else {
                        return Err(TreeError::Unread {
                            account: account_id.to_string(),
                            parts: format!("the content of policy `{}` is missing", p.id),
                        });
                    }
                    continue;
                };
                let policy = OrgPolicy {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    arn: p.arn.clone(),
                    aws_managed: p.aws_managed,
                    content: content.clone(),
                };
                match p.policy_type {
                    OrgPolicyType::ServiceControlPolicy => scps.push(policy),
                    OrgPolicyType::ResourceControlPolicy => rcps.push(policy),
                }
            }
            levels.push(OrgLevel {
                id: id.to_string(),
                target_type,
                name: name.to_string(),
                scps,
                rcps,
            });
        }
        if !unread_on_path.is_empty() {
            unread_on_path.sort_by(|a, b| a.id.cmp(&b.id));
            unread_on_path.dedup_by(|a, b| a.id == b.id);
            return Err(Self::unread(account_id, &unread_on_path));
        }
        let enabled = |t| root.enabled_policy_types.contains(&t);
        Ok(OrgFacts {
            account_id: account_id.to_string(),
            organization_id: self.tree.organization_id.clone(),
            management_account_id: self.tree.management_account_id.clone(),
            scps_enabled: Some(enabled(OrgPolicyType::ServiceControlPolicy)),
            rcps_enabled: Some(enabled(OrgPolicyType::ResourceControlPolicy)),
            levels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW_ALL: &str = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const DENY_EC2: &str = r#"{"Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#;

    fn policy(id: &str, kind: OrgPolicyType, targets: &[&str]) -> TreePolicy {
        TreePolicy {
            id: id.to_string(),
            name: format!("name-{id}"),
            arn: None,
            aws_managed: false,
            policy_type: kind,
            content: Some(if id == "p-full" { ALLOW_ALL } else { DENY_EC2 }.to_string()),
            targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn unit(id: &str, parent: &str) -> TreeUnit {
        TreeUnit {
            id: id.to_string(),
            name: format!("unit-{id}"),
            parent_id: parent.to_string(),
        }
    }

    fn account(id: &str, parent: Option<&str>) -> TreeAccount {
        TreeAccount {
            id: id.to_string(),
            name: format!("acct-{id}"),
            parent_id: parent.map(str::to_string),
        }
    }

    /// Root r-1 → ou-a → ou-b → 222; 111 (management) under the root; 333 in ou-a.
    fn tree() -> OrganizationTree {
        use OrgPolicyType::*;
        OrganizationTree {
            organization_id: Some("o-1".into()),
            management_account_id: Some("111".into()),
            root: TreeRoot {
                id: "r-1".into(),
                name: "Root".into(),
                enabled_policy_types: vec![ServiceControlPolicy],
            },
            organizational_units: vec![unit("ou-a", "r-1"), unit("ou-b", "ou-a")],
            accounts: vec![
                account("111", Some("r-1")),
                account("222", Some("ou-b")),
                account("333", Some("ou-a")),
            ],
            policies: vec![
                policy(
                    "p-full",
                    ServiceControlPolicy,
                    &["r-1", "ou-a", "ou-b", "111", "222", "333"],
                ),
                policy("p-noec2", ServiceControlPolicy, &["ou-b"]),
                policy("p-rcp", ResourceControlPolicy, &["ou-a", "222"]),
            ],
            unread: Vec::new(),
        }
    }

    fn ids(levels: &[OrgLevel]) -> Vec<(&str, TargetType, Vec<&str>, Vec<&str>)> {
        levels
            .iter()
            .map(|l| {
                (
                    l.id.as_str(),
                    l.target_type,
                    l.scps.iter().map(|p| p.id.as_str()).collect(),
                    l.rcps.iter().map(|p| p.id.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn an_accounts_path_goes_root_first_with_the_policies_of_each_level() {
        let facts = tree().org_facts("222").expect("known account");
        use TargetType::*;
        assert_eq!(
            ids(&facts.levels),
            [
                ("r-1", Root, vec!["p-full"], vec![]),
                ("ou-a", OrganizationalUnit, vec!["p-full"], vec!["p-rcp"]),
                (
                    "ou-b",
                    OrganizationalUnit,
                    vec!["p-full", "p-noec2"],
                    vec![]
                ),
                ("222", Account, vec!["p-full"], vec!["p-rcp"]),
            ]
        );
        assert_eq!(facts.levels[1].name, "unit-ou-a");
        assert_eq!(facts.levels[3].name, "acct-222");
        assert_eq!(facts.levels[2].scps[1].content, DENY_EC2);
        assert_eq!(facts.scps_enabled, Some(true));
        assert_eq!(facts.rcps_enabled, Some(false));
        assert_eq!(facts.organization_id.as_deref(), Some("o-1"));
        assert!(!facts.is_management_account());
        assert!(
            tree()
                .org_facts("111")
                .expect("known")
                .is_management_account()
        );
    }

    #[test]
    fn a_policy_listed_twice_for_one_target_is_attached_once() {
        let mut t = tree();
        t.policies[1].targets.push("ou-b".into());
        let facts = t.org_facts("222").expect("known account");
        assert_eq!(facts.levels[2].scps.len(), 2);
    }

    #[test]
    fn an_unknown_account_is_an_error() {
        assert_eq!(
            tree().org_facts("999"),
            Err(TreeError::UnknownAccount {
                account: "999".into()
            })
        );
    }

    #[test]
    fn a_parent_cycle_is_an_error_not_a_hang() {
        let mut t = tree();
        t.organizational_units[0].parent_id = "ou-b".into();
        assert!(matches!(
            t.org_facts("222"),
            Err(TreeError::ParentCycle { .. })
        ));
    }

    #[test]
    fn a_parent_the_tree_does_not_hold_is_an_error() {
        let mut t = tree();
        t.organizational_units.retain(|u| u.id != "ou-a");
        assert_eq!(
            t.org_facts("222"),
            Err(TreeError::MissingParent {
                child: "ou-b".into(),
                parent: "ou-a".into()
            })
        );
    }

    #[test]
    fn an_unread_policy_document_leaves_only_the_accounts_below_it_unknown() {
        let mut t = tree();
        t.policies[1].content = None;
        t.unread.push(UnreadPart {
            id: "p-noec2".into(),
            part: UnreadKind::PolicyContent,
            reason: "throttled".into(),
        });
        let err = t.org_facts("222").expect_err("p-noec2 is on its path");
        assert!(err.to_string().contains("p-noec2"), "{err}");
        assert!(err.to_string().contains("throttled"), "{err}");
        assert!(t.org_facts("333").is_ok(), "ou-a does not carry p-noec2");
    }

    #[test]
    fn unknown_attachments_leave_every_account_unknown() {
        let mut t = tree();
        t.unread.push(UnreadPart {
            id: "p-noec2".into(),
            part: UnreadKind::PolicyTargets,
            reason: "throttled".into(),
        });
        for a in ["111", "222", "333"] {
            assert!(
                matches!(t.org_facts(a), Err(TreeError::Unread { .. })),
                "{a}"
            );
        }
    }

    #[test]
    fn an_account_whose_place_was_not_read_is_unknown_with_the_reason() {
        let mut t = tree();
        t.accounts.push(account("444", None));
        t.unread.push(UnreadPart {
            id: "ou-b".into(),
            part: UnreadKind::Children,
            reason: "TooManyRequestsException".into(),
        });
        let err = t.org_facts("444").expect_err("unplaced");
        assert!(err.to_string().contains("ou-b"), "{err}");
        assert!(t.org_facts("222").is_ok());
    }

    #[test]
    fn validate_accepts_a_walked_tree_and_rejects_a_broken_one() {
        assert_eq!(tree().validate(), Ok(()));
        let mut cycle = tree();
        cycle.organizational_units[0].parent_id = "ou-b".into();
        assert!(matches!(
            cycle.validate(),
            Err(TreeError::ParentCycle { .. })
        ));
        let mut stray = tree();
        stray.policies[1].targets.push("ou-zzz".into());
        assert_eq!(
            stray.validate(),
            Err(TreeError::UnknownTarget {
                policy: "p-noec2".into(),
                target: "ou-zzz".into()
            })
        );
        let mut orphan = tree();
        orphan.accounts[1].parent_id = Some("ou-gone".into());
        assert!(matches!(
            orphan.validate(),
            Err(TreeError::MissingParent { .. })
        ));
    }

    #[test]
    fn the_tree_round_trips_through_json() {
        let t = tree();
        let text = serde_json::to_string(&t).expect("serializes");
        assert!(
            text.contains(r#""type":"SERVICE_CONTROL_POLICY""#),
            "{text}"
        );
        let back: OrganizationTree = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, t);
    }
}
