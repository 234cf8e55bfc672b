//! IAM and STS: who is asking, what policies a principal carries, and what IAM's simulator
//! says about them.
//!
//! Policy documents are kept exactly as IAM returns them (URL-encoded JSON); the core decodes
//! them where it parses them, so a document that fails to parse is reported with its name.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use aws_sdk_iam::types::{AttachedPermissionsBoundary, EvaluationResult, Tag};

use super::api::Api;
use super::auth_details::{decoded_text, render};
use super::error::AwsError;
use super::gate::CallGate;
use super::simulate::{
    Batch, CustomSimulation, MAX_ITEMS, PolicyExclusion, SimulatedResourcePolicy, context_entries,
    order_outcomes, outcomes_from, plan_batches,
};
use super::{OnceMap, try_join_all};
use crate::core::arn::{Arn, assumed_role};
use crate::core::facts::{
    PolicyOrigin, PolicySource, PrincipalFacts, PrincipalKind, SimulationContextEntry,
    SimulationOutcome, SimulationRequest,
};
use crate::core::fuzzy;
use crate::core::principal_ref::{NamedPrincipal, PrincipalRef};

/// Who the credentials belong to (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    /// An IAM user ARN, an STS assumed-role ARN, or the root user's ARN.
    pub arn: String,
    pub user_id: String,
}

/// The account part of any ARN.
fn arn_account(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

/// A managed policy's name from its ARN (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`), when
/// `GetPolicy` did not say it.
fn managed_policy_name(arn: &str) -> String {
    Arn::parse(arn)
        .and_then(|a| a.iam_name("policy"))
        .unwrap_or(arn)
        .to_string()
}

fn is_aws_managed(arn: &str) -> bool {
    Arn::parse(arn).is_some_and(|a| a.is_aws_owned())
}

fn tags(list: &[Tag]) -> Vec<(String, String)> {
    list.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Follows `IsTruncated`/`Marker` and refuses to loop or to stop early on a malformed page.
struct Marker {
    api: Api,
    seen: HashSet<String>,
}

impl Marker {
    fn new(api: Api) -> Self {
        Self {
            api,
            seen: HashSet::new(),
        }
    }

    fn next(
        &mut self,
        truncated: bool,
        marker: Option<String>,
    ) -> Result<Option<String>, AwsError> {
        if !truncated {
            return Ok(None);
        }
        let Some(marker) = marker.filter(|m| !m.is_empty()) else {
            return Err(AwsError::incomplete(
                self.api,
                "a page was truncated but carried no marker",
            ));
        };
        if !self.seen.insert(marker.clone()) {
            return Err(AwsError::incomplete(
                self.api,
                "the same page marker came back twice",
            ));
        }
        Ok(Some(marker))
    }
}

/// Every item of an `IsTruncated`/`Marker` listing, page after page. `page(marker)` fetches
/// one page and returns its items, `IsTruncated` and `Marker`; [`Marker`] decides whether
/// another page follows, so a malformed listing is an error rather than a loop or a short list.
async fn paged<T, I, F, Fut>(api: Api, mut page: F) -> Result<Vec<T>, AwsError>
where
    I: IntoIterator<Item = T>,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(I, bool, Option<String>), AwsError>>,
{
    let mut all = Vec::new();
    let mut pages = Marker::new(api);
    let mut marker = None;
    loop {
        let (items, truncated, next) = page(marker).await?;
        all.extend(items);
        marker = pages.next(truncated, next)?;
        if marker.is_none() {
            return Ok(all);
        }
    }
}

/// One page of a listing: its items, `IsTruncated` and `Marker`.
type Page<T> = (Vec<T>, bool, Option<String>);

/// What IAM attaches policies to, by name: the three kinds share one list-then-get shape.
#[derive(Debug, Clone, Copy)]
enum Holder<'a> {
    Role(&'a str),
    User(&'a str),
    Group(&'a str),
}

impl<'a> Holder<'a> {
    fn list_inline_api(self) -> Api {
        match self {
            Holder::Role(_) => Api::ListRolePolicies,
            Holder::User(_) => Api::ListUserPolicies,
            Holder::Group(_) => Api::ListGroupPolicies,
        }
    }

    fn get_inline_api(self) -> Api {
        match self {
            Holder::Role(_) => Api::GetRolePolicy,
            Holder::User(_) => Api::GetUserPolicy,
            Holder::Group(_) => Api::GetGroupPolicy,
        }
    }

    fn list_attached_api(self) -> Api {
        match self {
            Holder::Role(_) => Api::ListAttachedRolePolicies,
            Holder::User(_) => Api::ListAttachedUserPolicies,
            Holder::Group(_) => Api::ListAttachedGroupPolicies,
        }
    }

    /// The group a policy reaches the principal through, for group policies.
    fn group(self) -> Option<&'a str> {
        match self {
            Holder::Group(name) => Some(name),
            Holder::Role(_) | Holder::User(_) => None,
        }
    }
}

/// A managed policy's default version, fetched once per run.
#[derive(Debug, Clone)]
struct ManagedPolicy {
    name: String,
    document: String,
}

/// One page of simulator results.
struct SimPage {
    results: Vec<EvaluationResult>,
    truncated: bool,
    marker: Option<String>,
}

/// IAM and STS over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkIam {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    gate: Arc<CallGate>,
    managed: Arc<OnceMap<ManagedPolicy>>,
    /// The caller does not change within a session; asked once however many parts need it.
    caller: Arc<tokio::sync::OnceCell<CallerIdentity>>,
}

impl SdkIam {
    pub fn new(iam: aws_sdk_iam::Client, sts: aws_sdk_sts::Client, gate: Arc<CallGate>) -> Self {
        Self {
            iam,
            sts,
            gate,
            managed: Arc::default(),
            caller: Arc::default(),
        }
    }

    /// Who the credentials belong to (`sts:GetCallerIdentity`), asked once per run.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        self.caller
            .get_or_try_init(|| self.fetch_caller())
            .await
            .cloned()
    }

    async fn fetch_caller(&self) -> Result<CallerIdentity, AwsError> {
        let out = self
            .gate
            .call(
                Api::GetCallerIdentity,
                self.sts.get_caller_identity().send(),
            )
            .await?;
        let (Some(account), Some(arn)) = (out.account, out.arn) else {
            return Err(AwsError::incomplete(
                Api::GetCallerIdentity,
                "no account or ARN",
            ));
        };
        self.gate.remember_caller(&arn);
        Ok(CallerIdentity {
            account,
            arn,
            user_id: out.user_id.unwrap_or_default(),
        })
    }

    /// The `DecodedMessage` of an encoded authorization failure message
    /// (`sts:DecodeAuthorizationMessage`), as AWS returns it: a JSON document in a string.
    pub async fn decode_authorization_message(&self, encoded: &str) -> Result<String, AwsError> {
        let out = self
            .gate
            .call(
                Api::DecodeAuthorizationMessage,
                self.sts
                    .decode_authorization_message()
                    .encoded_message(encoded)
                    .send(),
            )
            .await?;
        out.decoded_message.ok_or_else(|| {
            AwsError::incomplete(Api::DecodeAuthorizationMessage, "no DecodedMessage")
        })
    }

    /// A role with every identity policy that applies to it, its boundary and tags. A name is
    /// looked up in the credentials' account; an ARN from another account would otherwise
    /// silently describe a same-named role here, so it is refused.
    pub async fn role(&self, role: &NamedPrincipal) -> Result<PrincipalFacts, AwsError> {
        let facts = self.role_facts(&role.name).await?;
        check_account(role, &facts)?;
        Ok(facts)
    }

    /// A user, as [`SdkIam::role`] for a role, with its groups' policies too.
    pub async fn user(&self, user: &NamedPrincipal) -> Result<PrincipalFacts, AwsError> {
        let facts = self.user_facts(&user.name).await?;
        check_account(user, &facts)?;
        Ok(facts)
    }

    /// The role (of an assumed-role session) or user the credentials belong to.
    pub async fn caller_principal(&self) -> Result<PrincipalFacts, AwsError> {
        let caller = self.caller_identity().await?;
        match PrincipalRef::from_arn(&caller.arn) {
            Ok(PrincipalRef::Role(role)) => self.role_facts(&role.name).await,
            Ok(PrincipalRef::User(user)) => self.user_facts(&user.name).await,
            _ => Err(AwsError::UnsupportedCaller { arn: caller.arn }),
        }
    }

    async fn role_facts(&self, name: &str) -> Result<PrincipalFacts, AwsError> {
        let out = match self
            .gate
            .call(Api::GetRole, self.iam.get_role().role_name(name).send())
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchEntity") => {
                return Err(AwsError::RoleNotFound {
                    name: name.to_string(),
                    suggestion: self.suggest_role(name).await,
                });
            }
            Err(e) => return Err(e),
        };
        let role = out
            .role
            .ok_or_else(|| AwsError::incomplete(Api::GetRole, "no role in the response"))?;
        let (inline, attached, boundary) = tokio::join!(
            self.inline_policies(Holder::Role(&role.role_name)),
            self.attached_policies(Holder::Role(&role.role_name)),
            self.boundary(role.permissions_boundary.as_ref()),
        );
        let mut identity_policies = inline?;
        identity_policies.extend(attached?);
        Ok(PrincipalFacts {
            kind: PrincipalKind::Role,
            account_id: arn_account(&role.arn).unwrap_or_default().to_string(),
            service_linked: role.path.starts_with("/aws-service-role/"),
            tags: tags(role.tags()),
            name: role.role_name,
            arn: role.arn,
            path: role.path,
            identity_policies,
            permissions_boundary: boundary?,
        })
    }

    async fn user_facts(&self, name: &str) -> Result<PrincipalFacts, AwsError> {
        let out = match self
            .gate
            .call(Api::GetUser, self.iam.get_user().user_name(name).send())
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchEntity") => {
                return Err(AwsError::UserNotFound {
                    name: name.to_string(),
                    suggestion: self.suggest_user(name).await,
                });
            }
            Err(e) => return Err(e),
        };
        let user = out
            .user
            .ok_or_else(|| AwsError::incomplete(Api::GetUser, "no user in the response"))?;
        let (inline, attached, groups, boundary) = tokio::join!(
            self.inline_policies(Holder::User(&user.user_name)),
            self.attached_policies(Holder::User(&user.user_name)),
            self.user_group_policies(&user.user_name),
            self.boundary(user.permissions_boundary.as_ref()),
        );
        let mut identity_policies = inline?;
        identity_policies.extend(attached?);
        identity_policies.extend(groups?);
        Ok(PrincipalFacts {
            kind: PrincipalKind::User,
            account_id: arn_account(&user.arn).unwrap_or_default().to_string(),
            service_linked: false,
            tags: tags(user.tags()),
            name: user.user_name,
            arn: user.arn,
            path: user.path,
            identity_policies,
            permissions_boundary: boundary?,
        })
    }

    async fn suggest_role(&self, name: &str) -> Option<String> {
        let names = paged(Api::ListRoles, |marker| async move {
            let out = self
                .gate
                .call(
                    Api::ListRoles,
                    self.iam
                        .list_roles()
                        .max_items(MAX_ITEMS)
                        .set_marker(marker)
                        .send(),
                )
                .await?;
            Ok((
                out.roles.into_iter().map(|r| r.role_name),
                out.is_truncated,
                out.marker,
            ))
        })
        .await
        .ok()?;
        fuzzy::closest(name, names.iter().map(String::as_str)).map(str::to_string)
    }

    async fn suggest_user(&self, name: &str) -> Option<String> {
        let names = paged(Api::ListUsers, |marker| async move {
            let out = self
                .gate
                .call(
                    Api::ListUsers,
                    self.iam
                        .list_users()
                        .max_items(MAX_ITEMS)
                        .set_marker(marker)
                        .send(),
                )
                .await?;
            Ok((
                out.users.into_iter().map(|u| u.user_name),
                out.is_truncated,
                out.marker,
            ))
        })
        .await
        .ok()?;
        fuzzy::closest(name, names.iter().map(String::as_str)).map(str::to_string)
    }

    /// The inline policies embedded in a role, user or group: `List*Policies` for the names,
    /// then `Get*Policy` for each document.
    async fn inline_policies(&self, holder: Holder<'_>) -> Result<Vec<PolicySource>, AwsError> {
        let names = paged(holder.list_inline_api(), |marker| {
            self.inline_policy_names(holder, marker)
        })
        .await?;
        let fetches = names.into_iter().map(|policy| async move {
            let document = self.inline_policy_document(holder, &policy).await?;
            Ok(PolicySource {
                name: policy,
                arn: None,
                origin: match holder {
                    Holder::Group(_) => PolicyOrigin::GroupInline,
                    Holder::Role(_) | Holder::User(_) => PolicyOrigin::Inline,
                },
                group: holder.group().map(str::to_string),
                document,
            })
        });
        try_join_all(fetches.collect()).await
    }

    /// The managed policies attached to a role, user or group: `ListAttached*Policies` for the
    /// ARNs, then each policy's default version (once per run).
    async fn attached_policies(&self, holder: Holder<'_>) -> Result<Vec<PolicySource>, AwsError> {
        let arns = paged(holder.list_attached_api(), |marker| {
            self.attached_policy_arns(holder, marker)
        })
        .await?;
        self.managed_sources(arns, holder.group()).await
    }

    /// One page of `List{Role,User,Group}Policies`.
    async fn inline_policy_names(
        &self,
        holder: Holder<'_>,
        marker: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let api = holder.list_inline_api();
        Ok(match holder {
            Holder::Role(name) => {
                let request = self.iam.list_role_policies().role_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.policy_names, out.is_truncated, out.marker)
            }
            Holder::User(name) => {
                let request = self.iam.list_user_policies().user_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.policy_names, out.is_truncated, out.marker)
            }
            Holder::Group(name) => {
                let request = self.iam.list_group_policies().group_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.policy_names, out.is_truncated, out.marker)
            }
        })
    }

    /// `Get{Role,User,Group}Policy`: one inline policy's document, as IAM returns it.
    async fn inline_policy_document(
        &self,
        holder: Holder<'_>,
        policy: &str,
    ) -> Result<String, AwsError> {
        let api = holder.get_inline_api();
        Ok(match holder {
            Holder::Role(name) => {
                let request = self.iam.get_role_policy().role_name(name);
                let out = self
                    .gate
                    .call(api, request.policy_name(policy).send())
                    .await?;
                out.policy_document
            }
            Holder::User(name) => {
                let request = self.iam.get_user_policy().user_name(name);
                let out = self
                    .gate
                    .call(api, request.policy_name(policy).send())
                    .await?;
                out.policy_document
            }
            Holder::Group(name) => {
                let request = self.iam.get_group_policy().group_name(name);
                let out = self
                    .gate
                    .call(api, request.policy_name(policy).send())
                    .await?;
                out.policy_document
            }
        })
    }

    /// One page of `ListAttached{Role,User,Group}Policies`, as policy ARNs.
    async fn attached_policy_arns(
        &self,
        holder: Holder<'_>,
        marker: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let api = holder.list_attached_api();
        let (attached, truncated, marker) = match holder {
            Holder::Role(name) => {
                let request = self.iam.list_attached_role_policies().role_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.attached_policies, out.is_truncated, out.marker)
            }
            Holder::User(name) => {
                let request = self.iam.list_attached_user_policies().user_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.attached_policies, out.is_truncated, out.marker)
            }
            Holder::Group(name) => {
                let request = self.iam.list_attached_group_policies().group_name(name);
                let out = self
                    .gate
                    .call(api, request.max_items(MAX_ITEMS).set_marker(marker).send())
                    .await?;
                (out.attached_policies, out.is_truncated, out.marker)
            }
        };
        let arns = attached
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.policy_arn)
            .collect();
        Ok((arns, truncated, marker))
    }

    async fn user_group_policies(&self, user: &str) -> Result<Vec<PolicySource>, AwsError> {
        let groups = paged(Api::ListGroupsForUser, |marker| async move {
            let out = self
                .gate
                .call(
                    Api::ListGroupsForUser,
                    self.iam
                        .list_groups_for_user()
                        .user_name(user)
                        .max_items(MAX_ITEMS)
                        .set_marker(marker)
                        .send(),
                )
                .await?;
            Ok((
                out.groups.into_iter().map(|g| g.group_name),
                out.is_truncated,
                out.marker,
            ))
        })
        .await?;
        let per_group = groups.iter().map(|group| self.group_policies(group));
        Ok(try_join_all(per_group.collect())
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn group_policies(&self, group: &str) -> Result<Vec<PolicySource>, AwsError> {
        let holder = Holder::Group(group);
        let (inline, attached) =
            tokio::join!(self.inline_policies(holder), self.attached_policies(holder));
        let mut all = inline?;
        all.extend(attached?);
        Ok(all)
    }

    /// Managed policies by ARN, as they apply directly (`group` = `None`) or through a group.
    async fn managed_sources(
        &self,
        arns: Vec<String>,
        group: Option<&str>,
    ) -> Result<Vec<PolicySource>, AwsError> {
        let fetches = arns.into_iter().map(|arn| async move {
            let policy = self.managed_policy(&arn).await?;
            let origin = match (group.is_some(), is_aws_managed(&arn)) {
                (true, _) => PolicyOrigin::GroupManaged,
                (false, true) => PolicyOrigin::AwsManaged,
                (false, false) => PolicyOrigin::CustomerManaged,
            };
            Ok(PolicySource {
                name: policy.name,
                arn: Some(arn),
                origin,
                group: group.map(str::to_string),
                document: policy.document,
            })
        });
        try_join_all(fetches.collect()).await
    }

    async fn boundary(
        &self,
        boundary: Option<&AttachedPermissionsBoundary>,
    ) -> Result<Option<PolicySource>, AwsError> {
        let Some(arn) = boundary.and_then(|b| b.permissions_boundary_arn()) else {
            return Ok(None);
        };
        let policy = self.managed_policy(arn).await?;
        Ok(Some(PolicySource {
            name: policy.name,
            arn: Some(arn.to_string()),
            origin: if is_aws_managed(arn) {
                PolicyOrigin::AwsManaged
            } else {
                PolicyOrigin::CustomerManaged
            },
            group: None,
            document: policy.document,
        }))
    }

    /// `GetPolicy` for the default version, then `GetPolicyVersion`; once per ARN per run.
    async fn managed_policy(&self, arn: &str) -> Result<ManagedPolicy, AwsError> {
        self.managed
            .get_or_fetch(arn, || async {
                let out = self
                    .gate
                    .call(Api::GetPolicy, self.iam.get_policy().policy_arn(arn).send())
                    .await?;
                let policy = out.policy.ok_or_else(|| {
                    AwsError::incomplete(Api::GetPolicy, "no policy in the response")
                })?;
                let version = policy.default_version_id.ok_or_else(|| {
                    AwsError::incomplete(Api::GetPolicy, format!("`{arn}` has no default version"))
                })?;
                let out = self
                    .gate
                    .call(
                        Api::GetPolicyVersion,
                        self.iam
                            .get_policy_version()
                            .policy_arn(arn)
                            .version_id(version)
                            .send(),
                    )
                    .await?;
                let document = out.policy_version.and_then(|v| v.document).ok_or_else(|| {
                    AwsError::incomplete(Api::GetPolicyVersion, format!("`{arn}` has no document"))
                })?;
                Ok(ManagedPolicy {
                    name: policy
                        .policy_name
                        .unwrap_or_else(|| managed_policy_name(arn)),
                    document,
                })
            })
            .await
    }

    /// The simulator rejects session ARNs: resolve them to the role's ARN, path included.
    async fn source_arn(&self, arn: &str) -> Result<String, AwsError> {
        let Some((_, name)) = assumed_role(arn) else {
            return Ok(arn.to_string());
        };
        let out = match self
            .gate
            .call(Api::GetRole, self.iam.get_role().role_name(&name).send())
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchEntity") => {
                return Err(AwsError::RoleNotFound {
                    name,
                    suggestion: None,
                });
            }
            Err(e) => return Err(e),
        };
        out.role
            .map(|r| r.arn)
            .ok_or_else(|| AwsError::incomplete(Api::GetRole, "no role in the response"))
    }

    /// Runs every batch to its last page, concurrently under the gate.
    async fn run_batches<F, Fut>(
        &self,
        api: Api,
        requests: &[SimulationRequest],
        page: F,
    ) -> Result<Vec<SimulationOutcome>, AwsError>
    where
        F: Fn(Batch, Option<String>) -> Fut,
        Fut: Future<Output = Result<SimPage, AwsError>>,
    {
        let batches = plan_batches(requests);
        let runs = batches.into_iter().map(|batch| {
            let page = &page;
            paged(api, move |marker| {
                let batch = batch.clone();
                async move {
                    let out = page(batch, marker).await?;
                    let outcomes: Vec<_> = out.results.iter().flat_map(outcomes_from).collect();
                    Ok((outcomes, out.truncated, out.marker))
                }
            })
        });
        let outcomes = try_join_all(runs.collect()).await?;
        Ok(order_outcomes(
            requests,
            outcomes.into_iter().flatten().collect(),
        ))
    }

    /// IAM's verdict on each request for the principal (`SimulatePrincipalPolicy`), in request
    /// order. Fails as a whole if any batch fails. Outcomes are only what IAM answered: a
    /// request without an outcome was not checked and must not be read as allowed.
    pub async fn simulate(
        &self,
        principal_arn: &str,
        requests: &[SimulationRequest],
        context: &[SimulationContextEntry],
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        self.simulate_excluding(principal_arn, requests, context, &[])
            .await
    }

    /// [`SdkIam::simulate`] with policies left out (`PolicyExclusionList`): "would this be
    /// allowed without that SCP / boundary / policy?".
    pub async fn simulate_excluding(
        &self,
        principal_arn: &str,
        requests: &[SimulationRequest],
        context: &[SimulationContextEntry],
        exclusions: &[PolicyExclusion],
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        self.simulate_principal(principal_arn, requests, context, exclusions, None)
            .await
    }

    /// [`SdkIam::simulate`] with one resource-based policy taking part (`ResourcePolicy`, and
    /// `ResourceOwner`): IAM treats every requested resource as if it carried that policy. IAM
    /// evaluates it only when the principal is an IAM user (`SimulatePrincipalPolicy`, IAM API
    /// reference), so only a user's requests are sent with one. Each outcome names the
    /// resource whose policy was given.
    pub async fn simulate_with_resource_policy(
        &self,
        principal_arn: &str,
        requests: &[SimulationRequest],
        context: &[SimulationContextEntry],
        policy: &SimulatedResourcePolicy,
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        let mut outcomes = self
            .simulate_principal(principal_arn, requests, context, &[], Some(policy))
            .await?;
        for o in &mut outcomes {
            o.resource_policy = Some(policy.resource.clone());
        }
        Ok(outcomes)
    }

    async fn simulate_principal(
        &self,
        principal_arn: &str,
        requests: &[SimulationRequest],
        context: &[SimulationContextEntry],
        exclusions: &[PolicyExclusion],
        resource_policy: Option<&SimulatedResourcePolicy>,
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        // The document as JSON text (a URL-encoded one is decoded, as for custom simulations).
        let resource_document = resource_policy.map(|p| decoded_text(&p.document));
        let resource_owner = resource_policy.map(|p| p.owner_account.clone());
        let (resource_document, resource_owner) = (&resource_document, &resource_owner);
        let source = self.source_arn(principal_arn).await?;
        let entries = context_entries(context);
        let excluded = exclusions
            .iter()
            .map(PolicyExclusion::to_sdk)
            .collect::<Result<Vec<_>, _>>()?;
        let excluded = (!excluded.is_empty()).then_some(excluded);
        let source = source.as_str();
        let entries = &entries;
        let excluded = &excluded;
        self.run_batches(
            Api::SimulatePrincipalPolicy,
            requests,
            |batch, marker| async move {
                let out = self
                    .gate
                    .call(
                        Api::SimulatePrincipalPolicy,
                        self.iam
                            .simulate_principal_policy()
                            .policy_source_arn(source)
                            .set_action_names(Some(batch.actions))
                            .set_resource_arns(Some(batch.resources))
                            .set_context_entries((!entries.is_empty()).then(|| entries.clone()))
                            .set_policy_exclusion_list(excluded.clone())
                            .set_resource_policy(resource_document.clone())
                            .set_resource_owner(resource_owner.clone())
                            .max_items(MAX_ITEMS)
                            .set_marker(marker)
                            .send(),
                    )
                    .await?;
                Ok(SimPage {
                    results: out.evaluation_results.unwrap_or_default(),
                    truncated: out.is_truncated,
                    marker: out.marker,
                })
            },
        )
        .await
    }

    /// AWS's engine on supplied documents (`SimulateCustomPolicy`), including an SCP hierarchy.
    pub async fn simulate_custom(
        &self,
        input: &CustomSimulation,
        requests: &[SimulationRequest],
        context: &[SimulationContextEntry],
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let entries = context_entries(context);
        let policies: Vec<String> = input.policies.iter().map(|d| decoded_text(d)).collect();
        let boundaries: Vec<String> = input
            .permissions_boundaries
            .iter()
            .map(|d| decoded_text(d))
            .collect();
        let levels: Vec<aws_sdk_iam::types::OrderedOrganizationPolicyType> = input
            .organization_policies
            .iter()
            .map(|level| {
                aws_sdk_iam::types::OrderedOrganizationPolicyType::builder()
                    .set_service_control_policy_input_list(Some(
                        level.iter().map(|d| decoded_text(d)).collect(),
                    ))
                    .build()
            })
            .collect();
        let (entries, policies, boundaries, levels) = (&entries, &policies, &boundaries, &levels);
        let caller = input.caller_arn.as_deref();
        self.run_batches(
            Api::SimulateCustomPolicy,
            requests,
            |batch, marker| async move {
                let out = self
                    .gate
                    .call(
                        Api::SimulateCustomPolicy,
                        self.iam
                            .simulate_custom_policy()
                            .set_policy_input_list(Some(policies.clone()))
                            .set_permissions_boundary_policy_input_list(
                                (!boundaries.is_empty()).then(|| boundaries.clone()),
                            )
                            .set_ordered_organization_policy_input_list(
                                (!levels.is_empty()).then(|| levels.clone()),
                            )
                            .set_caller_arn(caller.map(str::to_string))
                            .set_action_names(Some(batch.actions))
                            .set_resource_arns(Some(batch.resources))
                            .set_context_entries((!entries.is_empty()).then(|| entries.clone()))
                            .max_items(MAX_ITEMS)
                            .set_marker(marker)
                            .send(),
                    )
                    .await?;
                Ok(SimPage {
                    results: out.evaluation_results.unwrap_or_default(),
                    truncated: out.is_truncated,
                    marker: out.marker,
                })
            },
        )
        .await
    }

    /// The whole account's IAM configuration, as `aws iam get-account-authorization-details`
    /// prints it.
    pub async fn authorization_details(&self) -> Result<serde_json::Value, AwsError> {
        let pages = paged(Api::GetAccountAuthorizationDetails, |marker| async move {
            let out = self
                .gate
                .call(
                    Api::GetAccountAuthorizationDetails,
                    self.iam
                        .get_account_authorization_details()
                        .max_items(MAX_ITEMS)
                        .set_marker(marker)
                        .send(),
                )
                .await?;
            let (truncated, marker) = (out.is_truncated, out.marker.clone());
            Ok(([out], truncated, marker))
        })
        .await?;
        Ok(render(&pages))
    }
}

/// Names are looked up in the credentials' account; an ARN from another account would
/// otherwise silently describe a same-named principal here.
fn check_account(given: &NamedPrincipal, facts: &PrincipalFacts) -> Result<(), AwsError> {
    match &given.account {
        Some(account) if *account != facts.account_id => Err(AwsError::WrongAccount {
            arn: given.given.clone(),
            account: account.clone(),
            caller_account: facts.account_id.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_policies_are_recognised_by_account() {
        assert!(is_aws_managed("arn:aws:iam::aws:policy/ReadOnlyAccess"));
        assert!(is_aws_managed(
            "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/Deploy"));
    }

    #[tokio::test]
    async fn join_all_keeps_input_order() {
        let futures: Vec<_> = (0..5u64)
            .map(|i| async move {
                tokio::time::sleep(std::time::Duration::from_millis(5 * (5 - i))).await;
                i
            })
            .collect();
        assert_eq!(crate::aws::join_all(futures).await, vec![0, 1, 2, 3, 4]);
    }
}
