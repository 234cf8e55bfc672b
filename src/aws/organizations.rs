//! AWS Organizations: the path from an account up to the root, and the SCPs and RCPs attached
//! at each level.
//!
//! IAM's simulator says *that* Organizations denied an action but never *which* policy did, so
//! the checker evaluates SCPs itself and needs every level's policies. `ListPoliciesForTarget`
//! only returns what is attached directly, hence the walk up `ListParents`. Policy contents are
//! shared across levels and accounts (`FullAWSAccess` is everywhere), so each is described once.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_sdk_organizations::types::{ParentType, PolicySummary, PolicyType, PolicyTypeStatus, Root};

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;
use super::{OnceMap, try_join_all};
use crate::core::facts::{OrgFacts, OrgLevel, OrgPolicy, TargetType};

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
            Err(e)
                if matches!(
                    e.code(),
                    Some(
                        "InvalidInputException"
                            | "ValidationException"
                            | "PolicyTypeNotEnabledException"
                            | "PolicyTypeNotAvailableForOrganizationException"
                    )
                ) =>
            {
                Ok(Vec::new())
            }
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
