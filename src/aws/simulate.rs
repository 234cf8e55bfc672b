//! Putting questions to IAM's policy simulator in batches, and reading its answers.
//!
//! The simulator takes many actions and resources per call but throttles quickly and answers
//! with the cross product of both. Requests are therefore grouped by the set of resources they
//! name (so each call carries one `ResourceArns` list and every pair it yields was asked for),
//! and each group is cut into calls small enough that one answer fits in one page, retries repeat
//! little work, and a few calls can run side by side under the gate's bound.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_iam::types::{
    AttachmentType, ContextEntry, ContextKeyTypeEnum, EvaluationResult, InlinePolicyIdentifierType,
    PolicyEvaluationDecisionType, PolicyIdentifier, PolicyIdentifierPolicyType, Statement,
};

use super::api::Api;
use super::error::AwsError;
use crate::core::arn::Arn;
use crate::core::facts::{
    MatchedStatement, OrgFacts, PrincipalFacts, PrincipalKind, ResourcePolicies,
    ResourcePolicyFact, SimulatedDecision, SimulationContextEntry, SimulationOutcome,
    SimulationRequest,
};
use crate::core::resources::{ResourceKind, governing_resource};

/// Action names per simulator call. AWS documents no limit, but a call's cost and its answer
/// grow with actions × resources. 500 actions against one resource is a single page at
/// `MaxItems` 1000, so an exhaustive deploy check (a few thousand actions) takes one or two
/// waves of concurrent calls, while a throttled call still repeats a bounded request.
pub const ACTIONS_PER_CALL: usize = 500;

/// Resource ARNs per simulator call, as PMapper settled on after throttling trouble. With more
/// than one resource the action count shrinks so the answer stays within one page.
pub const RESOURCES_PER_CALL: usize = 20;

/// Results per page (the API's maximum).
pub(crate) const MAX_ITEMS: i32 = 1000;

/// One simulator call's worth of questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// Groups requests by their resource set and cuts each group into calls.
pub(crate) fn plan_batches(requests: &[SimulationRequest]) -> Vec<Batch> {
    // action (as first written) → its resources, keeping first-seen order of actions.
    let mut order: Vec<String> = Vec::new();
    let mut resources_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for request in requests {
        let key = request.action.to_ascii_lowercase();
        let entry = resources_of.entry(key).or_insert_with(|| {
            order.push(request.action.clone());
            BTreeSet::new()
        });
        entry.insert(request.resource.clone());
    }
    // resource set → actions, in first-seen order of the sets.
    let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for action in order {
        let Some(set) = resources_of.get(&action.to_ascii_lowercase()) else {
            continue;
        };
        let set: Vec<String> = set.iter().cloned().collect();
        match groups.iter_mut().find(|(resources, _)| *resources == set) {
            Some((_, actions)) => actions.push(action),
            None => groups.push((set, vec![action])),
        }
    }
    let mut batches = Vec::new();
    for (resources, actions) in groups {
        for resource_chunk in resources.chunks(RESOURCES_PER_CALL) {
            let per_call = (MAX_ITEMS as usize / resource_chunk.len()).clamp(1, ACTIONS_PER_CALL);
            for action_chunk in actions.chunks(per_call) {
                batches.push(Batch {
                    actions: action_chunk.to_vec(),
                    resources: resource_chunk.to_vec(),
                });
            }
        }
    }
    batches
}

/// A resource-based policy for `SimulatePrincipalPolicy` (`ResourcePolicy`): IAM treats every
/// resource of the call as if it carried it, so one call takes the requests of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedResourcePolicy {
    /// The resource whose policy this is (the bucket of an object request).
    pub resource: String,
    /// The policy document, as the service returned it.
    pub document: String,
    /// `ResourceOwner`: "an Amazon Web Services account ID that specifies the owner of any
    /// simulated resource that does not identify its owner in the resource ARN" (an S3 bucket),
    /// also used as the owner of the resource policy (IAM API reference).
    pub owner_account: String,
}

/// The simulator calls for a principal's requests: `None` for the requests IAM decides without
/// a resource policy, and one entry per resource whose policy IAM is given.
///
/// Only an IAM user's requests carry a resource policy: `SimulatePrincipalPolicy` evaluates
/// `ResourcePolicy` "for IAM users only" (IAM API reference), so for a role the resource-policy
/// part stays with the local engine. A KMS key policy stays local too: that the key policy must
/// allow is KMS's rule (key-policies.html), not the general evaluation the simulator applies to
/// a resource policy. A resource in another account (or a policy that was not read) is not
/// given either.
pub(crate) fn plan_resource_policies(
    principal: &PrincipalFacts,
    requests: &[SimulationRequest],
    policies: &ResourcePolicies,
) -> Vec<(Option<SimulatedResourcePolicy>, Vec<SimulationRequest>)> {
    let mut plain: Vec<SimulationRequest> = Vec::new();
    let mut by_resource: Vec<(SimulatedResourcePolicy, Vec<SimulationRequest>)> = Vec::new();
    for request in requests {
        let given = (principal.kind == PrincipalKind::User)
            .then(|| governing_resource(policies, &request.resource))
            .flatten()
            .and_then(|(arn, fact)| match fact {
                ResourcePolicyFact::Policy { document, .. } => Some((arn, document)),
                _ => None,
            })
            .filter(|(arn, _)| ResourceKind::of(arn) != Some(ResourceKind::KmsKey))
            .filter(|(arn, _)| {
                Arn::parse(arn)
                    .is_some_and(|a| a.account.is_empty() || a.account == principal.account_id)
            });
        match given {
            Some((arn, document)) => {
                match by_resource.iter_mut().find(|(p, _)| p.resource == arn) {
                    Some((_, list)) => list.push(request.clone()),
                    None => by_resource.push((
                        SimulatedResourcePolicy {
                            resource: arn.to_string(),
                            document: document.clone(),
                            owner_account: principal.account_id.clone(),
                        },
                        vec![request.clone()],
                    )),
                }
            }
            None => plain.push(request.clone()),
        }
    }
    let mut calls: Vec<(Option<SimulatedResourcePolicy>, Vec<SimulationRequest>)> = Vec::new();
    if !plain.is_empty() {
        calls.push((None, plain));
    }
    calls.extend(by_resource.into_iter().map(|(p, list)| (Some(p), list)));
    calls
}

/// IAM's verdict on a principal's requests with the resource-based policies IAM can take into
/// account (see [`plan_resource_policies`]): each outcome whose resource policy IAM was given
/// names it in [`SimulationOutcome::resource_policy`]. Outcomes come back in request order.
pub async fn simulate_with_resource_policies(
    iam: &super::SdkIam,
    principal: &PrincipalFacts,
    requests: &[SimulationRequest],
    context: &[SimulationContextEntry],
    policies: &ResourcePolicies,
) -> Result<Vec<SimulationOutcome>, AwsError> {
    let calls = plan_resource_policies(principal, requests, policies);
    let runs: Vec<_> = calls
        .iter()
        .map(|(policy, list)| async move {
            match policy {
                None => iam.simulate(&principal.arn, list, context).await,
                Some(policy) => {
                    iam.simulate_with_resource_policy(&principal.arn, list, context, policy)
                        .await
                }
            }
        })
        .collect();
    let outcomes = super::try_join_all(runs).await?;
    Ok(order_outcomes(
        requests,
        outcomes.into_iter().flatten().collect(),
    ))
}

/// The simulator's context entries for the facts' context.
pub(crate) fn context_entries(context: &[SimulationContextEntry]) -> Vec<ContextEntry> {
    context
        .iter()
        .map(|entry| {
            ContextEntry::builder()
                .context_key_name(&entry.key)
                .set_context_key_values(Some(entry.values.clone()))
                .context_key_type(ContextKeyTypeEnum::from(entry.value_type.as_str()))
                .build()
        })
        .collect()
}

fn decision(value: &PolicyEvaluationDecisionType) -> SimulatedDecision {
    match value {
        PolicyEvaluationDecisionType::Allowed => SimulatedDecision::Allowed,
        PolicyEvaluationDecisionType::ExplicitDeny => SimulatedDecision::ExplicitDeny,
        // An answer this tool does not understand must not read as "allowed".
        _ => SimulatedDecision::ImplicitDeny,
    }
}

fn statements(list: &[Statement]) -> Vec<MatchedStatement> {
    list.iter()
        .map(|s| MatchedStatement {
            source_policy_id: s.source_policy_id().unwrap_or_default().to_string(),
            source_policy_type: s
                .source_policy_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            start: s.start_position().map(|p| (p.line, p.column)),
            end: s.end_position().map(|p| (p.line, p.column)),
        })
        .collect()
}

/// Outcomes for one evaluation result: one per resource when IAM answered per resource.
pub(crate) fn outcomes_from(result: &EvaluationResult) -> Vec<SimulationOutcome> {
    let action = result.eval_action_name().to_string();
    let allowed_by_organizations = result
        .organizations_decision_detail()
        .map(|d| d.allowed_by_organizations);
    let boundary = result
        .permissions_boundary_decision_detail()
        .map(|d| d.allowed_by_permissions_boundary);
    let specific = result.resource_specific_results();
    if specific.is_empty() {
        return vec![SimulationOutcome {
            action,
            resource: result.eval_resource_name().unwrap_or("*").to_string(),
            decision: decision(result.eval_decision()),
            matched_statements: statements(result.matched_statements()),
            missing_context_values: result.missing_context_values().to_vec(),
            allowed_by_organizations,
            allowed_by_boundary: boundary,
            resource_policy: None,
        }];
    }
    specific
        .iter()
        .map(|r| SimulationOutcome {
            action: action.clone(),
            resource: r.eval_resource_name().to_string(),
            decision: decision(r.eval_resource_decision()),
            matched_statements: statements(r.matched_statements()),
            missing_context_values: r.missing_context_values().to_vec(),
            allowed_by_organizations,
            allowed_by_boundary: r
                .permissions_boundary_decision_detail()
                .map(|d| d.allowed_by_permissions_boundary)
                .or(boundary),
            resource_policy: None,
        })
        .collect()
}

/// Puts outcomes in the order the requests were given (actions compared case-insensitively,
/// as IAM does); anything IAM added beyond the requests keeps its place at the end.
pub(crate) fn order_outcomes(
    requests: &[SimulationRequest],
    mut outcomes: Vec<SimulationOutcome>,
) -> Vec<SimulationOutcome> {
    let mut rank: HashMap<(String, &str), usize> = HashMap::new();
    for (i, request) in requests.iter().enumerate() {
        rank.entry((
            request.action.to_ascii_lowercase(),
            request.resource.as_str(),
        ))
        .or_insert(i);
    }
    outcomes.sort_by_key(|o| {
        rank.get(&(o.action.to_ascii_lowercase(), o.resource.as_str()))
            .copied()
            .unwrap_or(usize::MAX)
    });
    outcomes
}

/// A policy type the simulator can be told to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExcludedPolicyType {
    AwsManaged,
    CustomerManaged,
    Inline,
    PermissionsBoundary,
    Scp,
    /// Accepted by the API but ignored: the simulator does not evaluate RCPs.
    Rcp,
}

/// What carries an inline policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachedTo {
    Role,
    User,
    Group,
}

/// One entry of `PolicyExclusionList`: "what if this policy were not there?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyExclusion {
    /// Every policy of a type, e.g. all SCPs.
    Type(ExcludedPolicyType),
    /// One managed policy (or SCP) by ARN.
    Arn(String),
    /// One inline policy of a role, user or group.
    Inline {
        policy_name: String,
        attached_to: AttachedTo,
        entity_name: String,
    },
}

impl PolicyExclusion {
    pub(crate) fn to_sdk(&self) -> Result<PolicyIdentifier, AwsError> {
        Ok(match self {
            Self::Type(kind) => PolicyIdentifier::PolicyType(match kind {
                ExcludedPolicyType::AwsManaged => PolicyIdentifierPolicyType::AwsManaged,
                ExcludedPolicyType::CustomerManaged => PolicyIdentifierPolicyType::UserManaged,
                ExcludedPolicyType::Inline => PolicyIdentifierPolicyType::Inline,
                ExcludedPolicyType::PermissionsBoundary => {
                    PolicyIdentifierPolicyType::PermissionBoundary
                }
                ExcludedPolicyType::Scp => PolicyIdentifierPolicyType::Scp,
                ExcludedPolicyType::Rcp => PolicyIdentifierPolicyType::Rcp,
            }),
            Self::Arn(arn) => PolicyIdentifier::PolicyArn(arn.clone()),
            Self::Inline {
                policy_name,
                attached_to,
                entity_name,
            } => {
                let inline = InlinePolicyIdentifierType::builder()
                    .policy_name(policy_name)
                    .attachment_type(match attached_to {
                        AttachedTo::Role => AttachmentType::Role,
                        AttachedTo::User => AttachmentType::User,
                        AttachedTo::Group => AttachmentType::Group,
                    })
                    .attachment_name(entity_name)
                    .build()
                    .map_err(|e| AwsError::Service {
                        api: Api::SimulatePrincipalPolicy.action().to_string(),
                        code: "InvalidInput".to_string(),
                        message: e.to_string(),
                    })?;
                PolicyIdentifier::InlinePolicyIdentifier(inline)
            }
        })
    }
}

/// Documents for `SimulateCustomPolicy`: a what-if run of AWS's own engine on policies that
/// need not be attached anywhere, including an SCP hierarchy
/// (`OrderedOrganizationPolicyInputList`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomSimulation {
    /// Identity policies (JSON; URL-encoded text is decoded before sending).
    pub policies: Vec<String>,
    pub permissions_boundaries: Vec<String>,
    /// SCP documents per organization level, root first and the account last (AWS accepts at
    /// most 7 levels). Empty: no SCPs are simulated.
    pub organization_policies: Vec<Vec<String>>,
    /// The ARN that stands for the caller in `aws:username`-style variables.
    pub caller_arn: Option<String>,
}

impl CustomSimulation {
    /// The SCP hierarchy of an account, in the order `OrderedOrganizationPolicyInputList`
    /// expects.
    pub fn scp_levels(org: &OrgFacts) -> Vec<Vec<String>> {
        org.levels
            .iter()
            .map(|level| level.scps.iter().map(|p| p.content.clone()).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str, resource: &str) -> SimulationRequest {
        SimulationRequest {
            action: action.into(),
            resource: resource.into(),
        }
    }

    #[test]
    fn groups_by_resource_set_and_caps_batch_size() {
        let mut requests: Vec<_> = (0..1250)
            .map(|i| req(&format!("s3:Action{i}"), "*"))
            .collect();
        requests.push(req("iam:PassRole", "arn:aws:iam::1:role/a"));
        requests.push(req("iam:PassRole", "arn:aws:iam::1:role/b"));
        requests.push(req("IAM:passrole", "arn:aws:iam::1:role/a"));
        let batches = plan_batches(&requests);
        assert_eq!(batches.len(), 4);
        assert_eq!(batches[0].actions.len(), ACTIONS_PER_CALL);
        assert_eq!(batches[2].actions.len(), 250);
        assert_eq!(batches[3].actions, vec!["iam:PassRole".to_string()]);
        assert_eq!(batches[3].resources.len(), 2);
    }

    #[test]
    fn many_resources_shrink_the_action_count() {
        let requests: Vec<_> = (0..30)
            .flat_map(|a| (0..40).map(move |r| req(&format!("s3:A{a}"), &format!("arn:r{r}"))))
            .collect();
        let batches = plan_batches(&requests);
        assert!(
            batches
                .iter()
                .all(|b| b.resources.len() <= RESOURCES_PER_CALL)
        );
        assert!(
            batches
                .iter()
                .all(|b| b.actions.len() * b.resources.len() <= MAX_ITEMS as usize)
        );
        let pairs: usize = batches
            .iter()
            .map(|b| b.actions.len() * b.resources.len())
            .sum();
        assert_eq!(pairs, 30 * 40);
    }

    #[test]
    fn resource_specific_results_become_one_outcome_each() {
        let result = EvaluationResult::builder()
            .eval_action_name("s3:GetObject")
            .eval_decision(PolicyEvaluationDecisionType::ImplicitDeny)
            .organizations_decision_detail(
                aws_sdk_iam::types::OrganizationsDecisionDetail::builder()
                    .allowed_by_organizations(false)
                    .build(),
            )
            .resource_specific_results(
                aws_sdk_iam::types::ResourceSpecificResult::builder()
                    .eval_resource_name("arn:aws:s3:::a/*")
                    .eval_resource_decision(PolicyEvaluationDecisionType::Allowed)
                    .build()
                    .expect("valid"),
            )
            .resource_specific_results(
                aws_sdk_iam::types::ResourceSpecificResult::builder()
                    .eval_resource_name("arn:aws:s3:::b/*")
                    .eval_resource_decision(PolicyEvaluationDecisionType::ExplicitDeny)
                    .build()
                    .expect("valid"),
            )
            .build()
            .expect("valid");
        let outcomes = outcomes_from(&result);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].decision, SimulatedDecision::Allowed);
        assert_eq!(outcomes[1].decision, SimulatedDecision::ExplicitDeny);
        assert_eq!(outcomes[1].allowed_by_organizations, Some(false));
    }

    #[test]
    fn unknown_decisions_are_not_allowed() {
        assert_eq!(
            decision(&PolicyEvaluationDecisionType::from("somethingNew")),
            SimulatedDecision::ImplicitDeny
        );
    }
}
