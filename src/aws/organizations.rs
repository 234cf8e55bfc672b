//! AWS Organizations: the path from an account up to the root, and the SCPs and RCPs attached
//! at each level.
//!
//! IAM's simulator says *that* Organizations denied an action but never *which* policy did, so
//! the checker evaluates SCPs itself and needs every level's policies. `ListPoliciesForTarget`
//! only returns what is attached directly, hence the walk up `ListParents`. Policy contents are
//! shared across levels and accounts (`FullAWSAccess` is everywhere), so each is described once.
//!
//! That walk costs calls per account and per level. For the whole organization
//! ([`SdkOrganizations::organization_tree`]) the walk goes top-down instead: the OUs and accounts
//! of each parent, and each policy's targets and document, so the cost follows the number of
//! OUs and policies, not accounts × depth.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_organizations::types::{ParentType, PolicySummary, PolicyType, PolicyTypeStatus, Root};
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;
use super::{OnceMap, try_join_all};
use crate::core::facts::{OrgFacts, OrgLevel, OrgPolicy, TargetType};
use crate::core::org_tree::{
    OrgPolicyType, OrganizationTree, TreeAccount, TreePolicy, TreeRoot, TreeUnit, UnreadKind,
    UnreadPart,
};

/// The most items Organizations returns per page of its list calls (`MaxResults`, 1–20).
const PAGE_SIZE: i32 = 20;

/// What the top-down walk has read so far, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkProgress {
    /// The root and OUs whose OUs and accounts have been listed.
    pub containers_read: usize,
    /// The root and OUs found so far.
    pub containers_found: usize,
    /// Accounts found so far.
    pub accounts: usize,
    /// Policies whose targets and document have been read.
    pub policies_read: usize,
    /// Policies found so far.
    pub policies_found: usize,
}

/// Counters behind [`WalkProgress`], shared by the walk's concurrent parts.
#[derive(Default)]
struct WalkCounters {
    containers_read: AtomicUsize,
    containers_found: AtomicUsize,
    accounts: AtomicUsize,
    policies_read: AtomicUsize,
    policies_found: AtomicUsize,
}

impl WalkCounters {
    fn snapshot(&self) -> WalkProgress {
        WalkProgress {
            containers_read: self.containers_read.load(Ordering::Relaxed),
            containers_found: self.containers_found.load(Ordering::Relaxed),
            accounts: self.accounts.load(Ordering::Relaxed),
            policies_read: self.policies_read.load(Ordering::Relaxed),
            policies_found: self.policies_found.load(Ordering::Relaxed),
        }
    }
}

/// A progress observer of the top-down walk.
pub type OnProgress<'a> = &'a (dyn Fn(WalkProgress) + Send + Sync);

/// Why a part could not be read, as the report shows it.
fn reason(e: &AwsError) -> String {
    e.to_string()
}

/// The RCP listing of an organization or endpoint that does not know RCPs: there are none.
fn rcps_unavailable(e: &AwsError) -> bool {
    matches!(
        e.code(),
        Some(
            "InvalidInputException"
                | "ValidationException"
                | "PolicyTypeNotEnabledException"
                | "PolicyTypeNotAvailableForOrganizationException"
        )
    )
}

/// Organizations allow five OU levels under the root; anything deeper is a loop.
const MAX_DEPTH: usize = 8;

/// Organizations over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkOrganizations {
    client: aws_sdk_organizations::Client,
    gate: Arc<CallGate>,
    policies: Arc<OnceMap<OrgPolicy>>,
}

fn enabled(root: &Root, kind: &PolicyType) -> bool {
    root.policy_types()
        .iter()
        .any(|t| t.r#type() == Some(kind) && t.status() == Some(&PolicyTypeStatus::Enabled))
}

/// Rejects a listing that would loop on a repeated token.
fn next_token(
    api: Api,
    seen: &mut HashSet<String>,
    token: Option<String>,
) -> Result<Option<String>, AwsError> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(token) if seen.insert(token.clone()) => Ok(Some(token)),
        Some(_) => Err(AwsError::incomplete(
            api,
            "the same page token came back twice",
        )),
    }
}

/// Every item of a `NextToken` listing. Organizations may return an empty page with a token,
/// so only a missing token ends the listing; a repeated one is an error.
async fn listed<T, I, F, Fut>(api: Api, mut page: F) -> Result<Vec<T>, AwsError>
where
    I: IntoIterator<Item = T>,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(I, Option<String>), AwsError>>,
{
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        token = next_token(api, &mut seen, next)?;
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// The first item of a `NextToken` listing, reading no further pages once one is found;
/// `None` when the listing ends without any.
async fn first<T, F, Fut>(api: Api, mut page: F) -> Result<Option<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Option<T>, Option<String>), AwsError>>,
{
    let mut seen = HashSet::new();
    let mut token = None;
    loop {
        let (found, next) = page(token).await?;
        if found.is_some() {
            return Ok(found);
        }
        token = next_token(api, &mut seen, next)?;
        if token.is_none() {
            return Ok(None);
        }
    }
}

impl SdkOrganizations {
    pub fn new(client: aws_sdk_organizations::Client, gate: Arc<CallGate>) -> Self {
        Self {
            client,
            gate,
            policies: Arc::default(),
        }
    }

    /// The account's organization path, root first and the account last, with the SCPs and
    /// RCPs attached at each level.
    pub async fn org_facts(&self, account_id: &str) -> Result<OrgFacts, AwsError> {
        let org = self
            .gate
            .call(
                Api::DescribeOrganization,
                self.client.describe_organization().send(),
            )
            .await?
            .organization;
        let root = self.root().await?;
        let scps_enabled = enabled(&root, &PolicyType::ServiceControlPolicy);
        let rcps_enabled = enabled(&root, &PolicyType::ResourceControlPolicy);
        let root_name = root.name().unwrap_or("Root").to_string();
        let levels = self
            .levels_from(
                account_id,
                account_id.to_string(),
                TargetType::Account,
                &root_name,
                0,
            )
            .await?;
        Ok(OrgFacts {
            account_id: account_id.to_string(),
            organization_id: org.as_ref().and_then(|o| o.id.clone()),
            management_account_id: org.as_ref().and_then(|o| o.master_account_id.clone()),
            scps_enabled: Some(scps_enabled),
            rcps_enabled: Some(rcps_enabled),
            levels,
        })
    }

    async fn root(&self) -> Result<Root, AwsError> {
        first(Api::ListRoots, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListRoots,
                    self.client.list_roots().set_next_token(token).send(),
                )
                .await?;
            let root = out.roots.unwrap_or_default().into_iter().next();
            Ok((root, out.next_token))
        })
        .await?
        .ok_or_else(|| AwsError::incomplete(Api::ListRoots, "the organization has no root"))
    }

    /// The levels from `id` up to the root, root first. Each level's name and policies are read
    /// while `ListParents` goes on up, so the walk's round trips and the levels' overlap: the
    /// critical path is the walk plus one listing and one `DescribePolicy`, not their sum.
    fn levels_from<'a>(
        &'a self,
        account_id: &'a str,
        id: String,
        target_type: TargetType,
        root_name: &'a str,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<OrgLevel>, AwsError>> + Send + 'a>> {
        Box::pin(async move {
            let above = async {
                if target_type == TargetType::Root {
                    return Ok(Vec::new());
                }
                if depth >= MAX_DEPTH {
                    return Err(AwsError::incomplete(
                        Api::ListParents,
                        format!("no root within {MAX_DEPTH} levels above `{account_id}`"),
                    ));
                }
                let (parent, kind) = self.parent(&id).await?;
                let parent_type = match kind {
                    ParentType::Root => TargetType::Root,
                    ParentType::OrganizationalUnit => TargetType::OrganizationalUnit,
                    other => {
                        return Err(AwsError::incomplete(
                            Api::ListParents,
                            format!("unknown parent type `{}`", other.as_str()),
                        ));
                    }
                };
                self.levels_from(account_id, parent, parent_type, root_name, depth + 1)
                    .await
            };
            // `above` first: its `ListParents` takes a slot of the gate before this level's
            // calls do, since the walk is the longest chain.
            let (above, this) = tokio::join!(above, self.level(&id, target_type, root_name));
            // Errors of the levels above (the walk included) first: root-first, as listed.
            let mut levels = above?;
            levels.push(this?);
            Ok(levels)
        })
    }

    async fn parent(&self, child: &str) -> Result<(String, ParentType), AwsError> {
        first(Api::ListParents, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListParents,
                    self.client
                        .list_parents()
                        .child_id(child)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let found = out
                .parents
                .unwrap_or_default()
                .into_iter()
                .find_map(|p| Some((p.id?, p.r#type?)));
            Ok((found, out.next_token))
        })
        .await?
        .ok_or_else(|| AwsError::incomplete(Api::ListParents, format!("`{child}` has no parent")))
    }

    /// One level: its name, and its SCPs and RCPs described as soon as they are listed.
    async fn level(
        &self,
        id: &str,
        target_type: TargetType,
        root_name: &str,
    ) -> Result<OrgLevel, AwsError> {
        let (name, scps, rcps) = tokio::join!(
            self.level_name(id, target_type, root_name.to_string()),
            self.described(self.attached(id, PolicyType::ServiceControlPolicy)),
            self.described(self.attached_rcps(id)),
        );
        Ok(OrgLevel {
            id: id.to_string(),
            target_type,
            name: name?,
            scps: scps?,
            rcps: rcps?,
        })
    }

    /// The policies of a listing, in listed order, each described once per session.
    async fn described(
        &self,
        listing: impl Future<Output = Result<Vec<PolicySummary>, AwsError>>,
    ) -> Result<Vec<OrgPolicy>, AwsError> {
        let summaries = listing.await?;
        let ids: Vec<&str> = summaries.iter().filter_map(PolicySummary::id).collect();
        try_join_all(ids.into_iter().map(|id| self.policy(id)).collect()).await
    }

    /// A level's display name; its id when the caller may not read names.
    async fn level_name(
        &self,
        id: &str,
        target_type: TargetType,
        root_name: String,
    ) -> Result<String, AwsError> {
        let name = match target_type {
            TargetType::Root => return Ok(root_name),
            TargetType::OrganizationalUnit => self
                .gate
                .call(
                    Api::DescribeOrganizationalUnit,
                    self.client
                        .describe_organizational_unit()
                        .organizational_unit_id(id)
                        .send(),
                )
                .await
                .map(|out| out.organizational_unit.and_then(|ou| ou.name)),
            TargetType::Account => self
                .gate
                .call(
                    Api::DescribeAccount,
                    self.client.describe_account().account_id(id).send(),
                )
                .await
                .map(|out| out.account.and_then(|a| a.name)),
        };
        match name {
            Ok(name) => Ok(name.unwrap_or_else(|| id.to_string())),
            Err(AwsError::OrganizationsAccessDenied { .. }) => Ok(id.to_string()),
            Err(e) => Err(e),
        }
    }

    /// Policies of one type attached directly to a target, through every page: Organizations
    /// may return an empty page with a token, so only a missing token ends the listing.
    async fn attached(
        &self,
        target: &str,
        kind: PolicyType,
    ) -> Result<Vec<PolicySummary>, AwsError> {
        let kind = &kind;
        listed(Api::ListPoliciesForTarget, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListPoliciesForTarget,
                    self.client
                        .list_policies_for_target()
                        .target_id(target)
                        .filter(kind.clone())
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            Ok((out.policies.unwrap_or_default(), out.next_token))
        })
        .await
    }

    /// RCPs are recent: an endpoint or organization that rejects the filter has none.
    async fn attached_rcps(&self, target: &str) -> Result<Vec<PolicySummary>, AwsError> {
        match self
            .attached(target, PolicyType::ResourceControlPolicy)
            .await
        {
            Err(e) if rcps_unavailable(&e) => Ok(Vec::new()),
            other => other,
        }
    }

    /// `DescribePolicy`, once per policy id for the life of the session.
    async fn policy(&self, id: &str) -> Result<OrgPolicy, AwsError> {
        self.policies
            .get_or_fetch(id, || async {
                let out = self
                    .gate
                    .call(
                        Api::DescribePolicy,
                        self.client.describe_policy().policy_id(id).send(),
                    )
                    .await?;
                let policy = out.policy.ok_or_else(|| {
                    AwsError::incomplete(Api::DescribePolicy, format!("no policy `{id}`"))
                })?;
                let content = policy.content.ok_or_else(|| {
                    AwsError::incomplete(
                        Api::DescribePolicy,
                        format!("policy `{id}` has no content"),
                    )
                })?;
                let summary = policy.policy_summary;
                Ok(OrgPolicy {
                    id: id.to_string(),
                    name: summary
                        .as_ref()
                        .and_then(|s| s.name.clone())
                        .unwrap_or_else(|| id.to_string()),
                    arn: summary.as_ref().and_then(|s| s.arn.clone()),
                    aws_managed: summary.as_ref().is_some_and(|s| s.aws_managed),
                    content,
                })
            })
            .await
    }

    /// Every account of the organization as `(id, name)`, for `--all-accounts`.
    pub async fn list_accounts(&self) -> Result<Vec<(String, String)>, AwsError> {
        listed(Api::ListAccounts, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListAccounts,
                    self.client.list_accounts().set_next_token(token).send(),
                )
                .await?;
            let accounts = out
                .accounts
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| {
                    let id = a.id?;
                    let name = a.name.unwrap_or_else(|| id.clone());
                    Some((id, name))
                });
            Ok((accounts, out.next_token))
        })
        .await
    }
}

/// One root or OU with what it holds, as the walk read it.
struct Container {
    id: String,
    depth: usize,
    units: Result<Vec<(String, String)>, AwsError>,
    accounts: Result<Vec<(String, String)>, AwsError>,
}

/// Organizations allow five OU levels under the root; the walk goes no deeper than this.
const MAX_TREE_DEPTH: usize = 8;

impl SdkOrganizations {
    /// The whole organization, read top-down: `DescribeOrganization` and `ListRoots` once, the
    /// OUs and accounts of every parent (`ListOrganizationalUnitsForParent`,
    /// `ListAccountsForParent`, each parent listed as soon as it is found), every SCP and RCP
    /// (`ListPolicies`) with its targets (`ListTargetsForPolicy`) and document
    /// (`DescribePolicy`), all through the gate at once.
    ///
    /// A part that cannot be read after the SDK's retries is recorded in the tree's `unread`
    /// list instead of failing the walk; when OUs or accounts were left unread, the
    /// organization's account list (`ListAccounts`) names the accounts the walk did not reach,
    /// so none goes unreported. Only the organization and its root are needed to start.
    pub async fn organization_tree(
        &self,
        on_progress: OnProgress<'_>,
    ) -> Result<OrganizationTree, AwsError> {
        let (org, root) = tokio::join!(
            self.gate.call(
                Api::DescribeOrganization,
                self.client.describe_organization().send(),
            ),
            self.root()
        );
        let org = org?.organization;
        let root = root?;
        let root_id = root
            .id()
            .ok_or_else(|| AwsError::incomplete(Api::ListRoots, "the root has no id"))?
            .to_string();
        let mut enabled_policy_types = Vec::new();
        for (kind, ours) in [
            (
                PolicyType::ServiceControlPolicy,
                OrgPolicyType::ServiceControlPolicy,
            ),
            (
                PolicyType::ResourceControlPolicy,
                OrgPolicyType::ResourceControlPolicy,
            ),
        ] {
            if enabled(&root, &kind) {
                enabled_policy_types.push(ours);
            }
        }
        let counters = WalkCounters::default();
        counters.containers_found.store(1, Ordering::Relaxed);
        let ((mut units, mut accounts, mut unread), (policies, policies_unread)) = tokio::join!(
            self.walk_containers(&root_id, &counters, on_progress),
            self.walk_policies(&counters, on_progress),
        );
        unread.extend(policies_unread);
        if unread.iter().any(|u| u.part == UnreadKind::Children) {
            self.place_the_unreached(&mut accounts, &mut unread).await;
        }
        // Parents are listed concurrently and finish in any order: one order for every run.
        units.sort_by(|a, b| a.id.cmp(&b.id));
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        unread.sort_by(|a, b| (a.part, &a.id).cmp(&(b.part, &b.id)));
        Ok(OrganizationTree {
            organization_id: org.as_ref().and_then(|o| o.id.clone()),
            management_account_id: org.as_ref().and_then(|o| o.master_account_id.clone()),
            root: TreeRoot {
                id: root_id,
                name: root.name().unwrap_or("Root").to_string(),
                enabled_policy_types,
            },
            organizational_units: units,
            accounts,
            policies,
            unread,
        })
    }

    /// The OUs and accounts below the root, each parent listed as soon as it is found.
    async fn walk_containers(
        &self,
        root_id: &str,
        counters: &WalkCounters,
        on_progress: OnProgress<'_>,
    ) -> (Vec<TreeUnit>, Vec<TreeAccount>, Vec<UnreadPart>) {
        let mut units = Vec::new();
        let mut accounts = Vec::new();
        let mut unread = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([root_id.to_string()]);
        let mut pending = FuturesUnordered::new();
        pending.push(self.container(root_id.to_string(), 0));
        while let Some(c) = pending.next().await {
            match c.units {
                Ok(found) => {
                    for (id, name) in found {
                        if !seen.insert(id.clone()) {
                            unread.push(UnreadPart {
                                id: id.clone(),
                                part: UnreadKind::Children,
                                reason: format!("`{id}` was listed twice in the tree"),
                            });
                            continue;
                        }
                        if c.depth + 1 > MAX_TREE_DEPTH {
                            unread.push(UnreadPart {
                                id: id.clone(),
                                part: UnreadKind::Children,
                                reason: format!(
                                    "more than {MAX_TREE_DEPTH} OU levels below the root"
                                ),
                            });
                        } else {
                            counters.containers_found.fetch_add(1, Ordering::Relaxed);
                            pending.push(self.container(id.clone(), c.depth + 1));
                        }
                        units.push(TreeUnit {
                            id,
                            name,
                            parent_id: c.id.clone(),
                        });
                    }
                }
                Err(e) => unread.push(UnreadPart {
                    id: c.id.clone(),
                    part: UnreadKind::Children,
                    reason: reason(&e),
                }),
            }
            match c.accounts {
                Ok(found) => {
                    counters.accounts.fetch_add(found.len(), Ordering::Relaxed);
                    accounts.extend(found.into_iter().map(|(id, name)| TreeAccount {
                        id,
                        name,
                        parent_id: Some(c.id.clone()),
                    }));
                }
                Err(e) => unread.push(UnreadPart {
                    id: c.id.clone(),
                    part: UnreadKind::Children,
                    reason: reason(&e),
                }),
            }
            counters.containers_read.fetch_add(1, Ordering::Relaxed);
            on_progress(counters.snapshot());
        }
        (units, accounts, unread)
    }

    /// One parent's OUs and accounts, each listing through all its pages.
    async fn container(&self, id: String, depth: usize) -> Container {
        let parent = id.as_str();
        let units = listed(Api::ListOrganizationalUnitsForParent, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListOrganizationalUnitsForParent,
                    self.client
                        .list_organizational_units_for_parent()
                        .parent_id(parent)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let units = out
                .organizational_units
                .unwrap_or_default()
                .into_iter()
                .filter_map(|ou| {
                    let id = ou.id?;
                    let name = ou.name.unwrap_or_else(|| id.clone());
                    Some((id, name))
                });
            Ok((units, out.next_token))
        });
        let accounts = listed(Api::ListAccountsForParent, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListAccountsForParent,
                    self.client
                        .list_accounts_for_parent()
                        .parent_id(parent)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let accounts = out
                .accounts
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| {
                    let id = a.id?;
                    let name = a.name.unwrap_or_else(|| id.clone());
                    Some((id, name))
                });
            Ok((accounts, out.next_token))
        });
        let (units, accounts) = tokio::join!(units, accounts);
        Container {
            id,
            depth,
            units,
            accounts,
        }
    }

    /// Every SCP and RCP with its targets and document.
    async fn walk_policies(
        &self,
        counters: &WalkCounters,
        on_progress: OnProgress<'_>,
    ) -> (Vec<TreePolicy>, Vec<UnreadPart>) {
        let (scps, rcps) = tokio::join!(
            self.policies_of(OrgPolicyType::ServiceControlPolicy),
            self.policies_of(OrgPolicyType::ResourceControlPolicy),
        );
        let mut unread = Vec::new();
        let mut summaries = Vec::new();
        for (kind, listing) in [
            (OrgPolicyType::ServiceControlPolicy, scps),
            (OrgPolicyType::ResourceControlPolicy, rcps),
        ] {
            match listing {
                Ok(list) => summaries.extend(list.into_iter().map(|s| (kind, s))),
                Err(e) if kind == OrgPolicyType::ResourceControlPolicy && rcps_unavailable(&e) => {}
                Err(e) => unread.push(UnreadPart {
                    id: kind.as_str().to_string(),
                    part: UnreadKind::PolicyList,
                    reason: reason(&e),
                }),
            }
        }
        counters
            .policies_found
            .store(summaries.len(), Ordering::Relaxed);
        on_progress(counters.snapshot());
        let read = super::join_all(
            summaries
                .iter()
                .filter_map(|(kind, s)| Some((*kind, s, s.id()?)))
                .map(|(kind, summary, id)| async move {
                    let (targets, described) = tokio::join!(self.targets(id), self.policy(id));
                    counters.policies_read.fetch_add(1, Ordering::Relaxed);
                    on_progress(counters.snapshot());
                    (kind, summary, id, targets, described)
                })
                .collect(),
        )
        .await;
        let mut policies = Vec::new();
        for (kind, summary, id, targets, described) in read {
            let targets = targets.unwrap_or_else(|e| {
                unread.push(UnreadPart {
                    id: id.to_string(),
                    part: UnreadKind::PolicyTargets,
                    reason: reason(&e),
                });
                Vec::new()
            });
            let content = match described {
                Ok(p) => Some(p.content),
                Err(e) => {
                    unread.push(UnreadPart {
                        id: id.to_string(),
                        part: UnreadKind::PolicyContent,
                        reason: reason(&e),
                    });
                    None
                }
            };
            policies.push(TreePolicy {
                id: id.to_string(),
                name: summary.name().unwrap_or(id).to_string(),
                arn: summary.arn().map(str::to_string),
                aws_managed: summary.aws_managed(),
                policy_type: kind,
                content,
                targets,
            });
        }
        (policies, unread)
    }

    /// The policies of one type (`ListPolicies`), through every page.
    async fn policies_of(&self, kind: OrgPolicyType) -> Result<Vec<PolicySummary>, AwsError> {
        let filter = match kind {
            OrgPolicyType::ServiceControlPolicy => PolicyType::ServiceControlPolicy,
            OrgPolicyType::ResourceControlPolicy => PolicyType::ResourceControlPolicy,
        };
        let filter = &filter;
        listed(Api::ListPolicies, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListPolicies,
                    self.client
                        .list_policies()
                        .filter(filter.clone())
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            Ok((out.policies.unwrap_or_default(), out.next_token))
        })
        .await
    }

    /// The ids of everything a policy is attached to (`ListTargetsForPolicy`).
    async fn targets(&self, policy_id: &str) -> Result<Vec<String>, AwsError> {
        listed(Api::ListTargetsForPolicy, |token| async move {
            let out = self
                .gate
                .call(
                    Api::ListTargetsForPolicy,
                    self.client
                        .list_targets_for_policy()
                        .policy_id(policy_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let ids = out
                .targets
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.target_id);
            Ok((ids, out.next_token))
        })
        .await
    }

    /// After part of the tree could not be read: the accounts the walk did not reach, from the
    /// organization's account list, with no known place, so each is reported as not audited.
    async fn place_the_unreached(
        &self,
        accounts: &mut Vec<TreeAccount>,
        unread: &mut Vec<UnreadPart>,
    ) {
        match self.list_accounts().await {
            Ok(all) => {
                let reached: HashSet<String> = accounts.iter().map(|a| a.id.clone()).collect();
                accounts.extend(all.into_iter().filter(|(id, _)| !reached.contains(id)).map(
                    |(id, name)| TreeAccount {
                        id,
                        name,
                        parent_id: None,
                    },
                ));
            }
            Err(e) => unread.push(UnreadPart {
                id: "accounts".to_string(),
                part: UnreadKind::Accounts,
                reason: reason(&e),
            }),
        }
    }
}
