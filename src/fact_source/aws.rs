//! The live source: AWS itself, with IAM's simulator as the source of truth.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::{
    AwsError, AwsOptions, AwsSession, CustomSimulation, join_all, readable_kind,
    simulate_with_resource_policies,
};
use crate::core::check::{ActionResult, OrgVisibility, simulated_decision};
use crate::core::eval::{PolicyKind, Verdict};
use crate::core::facts::{
    OrgFacts, PrincipalFacts, PrincipalKind, ResourcePolicies, SimulatedDecision,
    SimulationContextEntry, SimulationOutcome, SimulationRequest,
};
use crate::core::principal_ref::PrincipalRef;
use crate::core::profile::{RequiredAction, requested_region};
use crate::core::request_keys::{self, Supplied, ValueType};
use crate::core::resources::ResourceKind;

use super::{FactSource, Facts, FactsError};

/// The logical id of the deploy bucket in a Jets bootstrap stack
/// (`lib/jets/cfn/resource/s3/jets_bucket.rb`: `@bucket_logical_id = "S3Bucket"`).
pub const BOOTSTRAP_BUCKET: &str = "S3Bucket";

/// A connected session and the runtime that drives it.
pub struct AwsFacts {
    session: AwsSession,
    runtime: tokio::runtime::Runtime,
}

/// The organization result fetched early, with the account it is for.
type EarlyOrg = Result<(String, Result<OrgFacts, AwsError>), AwsError>;

impl AwsFacts {
    /// Connects with the default credential chain (see [`AwsSession::connect`]). The outer
    /// error is the runtime's; the inner one AWS's, for a command that has something to show
    /// without AWS (`explain` shows what it parsed).
    pub fn connect(options: &AwsOptions) -> Result<Result<AwsFacts, AwsError>, FactsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| FactsError::Runtime(e.to_string()))?;
        Ok(runtime
            .block_on(AwsSession::connect(options))
            .map(|session| AwsFacts { session, runtime }))
    }

    pub fn session(&self) -> &AwsSession {
        &self.session
    }

    /// Runs adapter calls to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Requests sent so far, per API (`--stats`).
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.session.calls()
    }

    /// The organization path of the account `who` lives in, started before the principal is
    /// known: an ARN names the account, and a name lives in the caller's account.
    async fn org_of(&self, who: &PrincipalRef) -> EarlyOrg {
        let account = match who.named().and_then(|p| p.account.clone()) {
            Some(a) => a,
            None => self.session.iam().caller_identity().await?.account,
        };
        let org = self.session.organizations().org_facts(&account).await;
        Ok((account, org))
    }

    /// The organization result for the principal: the one fetched early when it is for the
    /// principal's account, else fetched now.
    async fn org_for(
        &self,
        principal: &PrincipalFacts,
        early: EarlyOrg,
    ) -> Result<OrgFacts, AwsError> {
        match early {
            Ok((account, org)) if account == principal.account_id => org,
            _ => {
                self.session
                    .organizations()
                    .org_facts(&principal.account_id)
                    .await
            }
        }
    }

    /// IAM's verdict for every required action. Global services are simulated with
    /// `aws:RequestedRegion = us-east-1`, the rest with the deploy's region; the groups run
    /// concurrently. `stated` values are added to the context (a stated region replaces the
    /// computed one).
    async fn simulate(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
        stated: &Supplied,
    ) -> Result<Vec<SimulationOutcome>, AwsError> {
        let mut groups: Vec<(String, Vec<SimulationRequest>)> = Vec::new();
        for r in required {
            let rr = requested_region(&r.action, region).to_string();
            let req = SimulationRequest {
                action: r.action.clone(),
                resource: r.resource.clone(),
            };
            match groups.iter_mut().find(|(g, _)| *g == rr) {
                Some((_, list)) => list.push(req),
                None => groups.push((rr, vec![req])),
            }
        }
        let iam = self.session.iam();
        let calls: Vec<_> = groups
            .iter()
            .map(|(rr, reqs)| {
                let context = with_stated(vec![region_context(rr)], stated);
                async move {
                    simulate_with_resource_policies(iam, principal, reqs, &context, policies).await
                }
            })
            .collect();
        let mut all = Vec::new();
        for r in join_all(calls).await {
            all.extend(r?);
        }
        Ok(all)
    }

    /// The deploy bucket of a Jets bootstrap stack, as an ARN. A stack without one is not an
    /// error for the check (the bucket is only one of the resources), so it comes back as a
    /// note.
    pub fn stack_bucket(&self, stack: &str) -> Result<Result<String, String>, AwsError> {
        match self.block_on(
            self.session
                .cloudformation()
                .stack_resource(stack, BOOTSTRAP_BUCKET),
        ) {
            Ok(bucket) => Ok(Ok(format!("arn:aws:s3:::{bucket}"))),
            Err(e @ AwsError::StackResourceNotFound { .. }) => {
                Ok(Err(format!("{e}: the deploy bucket's policy was not read")))
            }
            Err(e) => Err(e),
        }
    }
}

/// The named resources whose policies the AWS adapter can read, and a note for the others.
pub fn readable(named: &[String]) -> (Vec<String>, Option<String>) {
    let (read, skipped): (Vec<String>, Vec<String>) = named
        .iter()
        .cloned()
        .partition(|arn| ResourceKind::of(arn).is_some_and(readable_kind));
    let note = (!skipped.is_empty()).then(|| {
        format!(
            "the resource policies of {} are not read (only S3 bucket, KMS key, ECR repository, SNS topic, SQS queue and Lambda function policies are); put them in `resource-policies.json` to check them offline",
            skipped
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    (read, note)
}

impl FactSource for AwsFacts {
    /// The principal's facts and its organization path, degrading honestly where AWS does not
    /// let us see.
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), FactsError> {
        self.block_on(async {
            let (principal, org) = tokio::join!(self.session.principal(who), self.org_of(who));
            let principal = principal?;
            let org = self.org_for(&principal, org).await;
            Ok(org_facts(principal, org))
        })
    }

    fn facts_and_verdicts<R, E: From<FactsError>>(
        &self,
        who: &PrincipalRef,
        region: &str,
        required_for: impl FnOnce(&PrincipalFacts) -> Result<R, E>,
        actions_of: impl Fn(&R) -> &[RequiredAction],
        resources_of: impl Fn(&R) -> &[String],
    ) -> Result<(Facts, OrgVisibility, R, Option<Vec<SimulationOutcome>>), E> {
        let aws_error = |e: AwsError| E::from(FactsError::from(e));
        self.block_on(async {
            let iam_side = async {
                let principal = self.session.principal(who).await.map_err(aws_error)?;
                let required = required_for(&principal)?;
                let reads = self
                    .session
                    .resource_policies()
                    .resource_policies(resources_of(&required));
                // IAM's simulator takes a user's resource policies, so they are read first;
                // for a role the reads run alongside the simulation.
                let (policies, outcomes) = if principal.kind == PrincipalKind::User {
                    let policies = reads.await;
                    let outcomes = self
                        .simulate(
                            &principal,
                            actions_of(&required),
                            region,
                            &policies,
                            &Supplied::default(),
                        )
                        .await;
                    (policies, outcomes)
                } else {
                    let none = ResourcePolicies::new();
                    let stated = Supplied::default();
                    tokio::join!(
                        reads,
                        self.simulate(&principal, actions_of(&required), region, &none, &stated)
                    )
                };
                let outcomes = outcomes.map_err(aws_error)?;
                Ok::<_, E>((principal, required, policies, outcomes))
            };
            let (iam_side, org) = tokio::join!(iam_side, self.org_of(who));
            let (principal, required, policies, outcomes) = iam_side?;
            let org = self.org_for(&principal, org).await;
            let (mut facts, visibility) = org_facts(principal, org);
            facts.resource_policies = policies;
            Ok((facts, visibility, required, Some(outcomes)))
        })
    }

    fn verdicts(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
        context: &Supplied,
    ) -> Result<Option<Vec<SimulationOutcome>>, FactsError> {
        Ok(Some(self.block_on(self.simulate(
            principal, required, region, policies, context,
        ))?))
    }

    fn known_resources(
        &self,
        who: &PrincipalRef,
    ) -> Result<(Vec<String>, Vec<String>), FactsError> {
        Ok(match who {
            PrincipalRef::Stack(stack) => match self.stack_bucket(stack)? {
                Ok(bucket) => (vec![bucket], Vec::new()),
                Err(note) => (Vec::new(), vec![note]),
            },
            _ => (Vec::new(), Vec::new()),
        })
    }

    fn readable_resources(&self, named: &[String]) -> (Vec<String>, Vec<String>) {
        let (readable, skipped) = readable(named);
        (readable, skipped.into_iter().collect())
    }

    /// Asks IAM's own engine whether each blamed SCP is really the cause: the same request
    /// with that SCP removed (a Deny) or with an allow-all added at the level (a missing
    /// Allow) through `SimulateCustomPolicy`. Writes the outcome into each result.
    fn confirm(
        &self,
        principal: &PrincipalFacts,
        org: &OrgFacts,
        results: &mut [ActionResult],
        region: &str,
    ) -> Result<bool, FactsError> {
        let mut identity: Vec<String> = principal
            .identity_policies
            .iter()
            .map(|p| p.document.clone())
            .collect();
        identity.retain(|d| !d.is_empty());
        let boundaries: Vec<String> = principal
            .permissions_boundary
            .iter()
            .map(|b| b.document.clone())
            .collect();
        let blamed: BTreeSet<(Option<String>, Option<String>, Verdict)> = results
            .iter()
            .filter(|r| !r.decision.is_allowed())
            .flat_map(|r| r.decided_by.iter())
            .filter(|b| b.kind == PolicyKind::Scp && b.verdict != Verdict::Allows)
            .map(|b| (b.policy_id.clone(), b.target.clone(), b.verdict))
            .collect();
        for (policy_id, target, verdict) in blamed {
            let levels: Vec<Vec<String>> = org
                .levels
                .iter()
                .map(|l| {
                    let mut docs: Vec<String> = l
                        .scps
                        .iter()
                        .filter(|p| !(verdict == Verdict::Denies && Some(&p.id) == policy_id.as_ref() && Some(&l.id) == target.as_ref()))
                        .map(|p| p.content.clone())
                        .collect();
                    if verdict == Verdict::FailsToAllow && Some(&l.id) == target.as_ref() {
                        docs.push(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_string());
                    }
                    docs
                })
                .collect();
            let affected: Vec<usize> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    !r.decision.is_allowed()
                        && r.decided_by.iter().any(|b| {
                            b.kind == PolicyKind::Scp
                                && b.policy_id == policy_id
                                && b.target == target
                                && b.verdict == verdict
                        })
                })
                .map(|(i, _)| i)
                .collect();
            let mut by_region: Vec<(String, Vec<usize>)> = Vec::new();
            for i in affected {
                let rr = requested_region(&results[i].action, region).to_string();
                match by_region.iter_mut().find(|(g, _)| *g == rr) {
                    Some((_, v)) => v.push(i),
                    None => by_region.push((rr, vec![i])),
                }
            }
            for (rr, idx) in by_region {
                let requests: Vec<SimulationRequest> = idx
                    .iter()
                    .map(|&i| SimulationRequest {
                        action: results[i].action.clone(),
                        resource: results[i].resource.clone(),
                    })
                    .collect();
                let input = CustomSimulation {
                    policies: identity.clone(),
                    permissions_boundaries: boundaries.clone(),
                    organization_policies: levels.clone(),
                    caller_arn: Some(principal.arn.clone()),
                };
                let context = vec![region_context(&rr)];
                let outcomes = self.block_on(
                    self.session
                        .iam()
                        .simulate_custom(&input, &requests, &context),
                )?;
                for &i in &idx {
                    let r = &mut results[i];
                    let o = outcomes
                        .iter()
                        .find(|o| o.action.eq_ignore_ascii_case(&r.action));
                    let what = match verdict {
                        Verdict::Denies => "without the blamed SCP",
                        _ => "with an allow added at the blamed level",
                    };
                    r.confirmation = Some(match o.map(|o| o.decision) {
                        Some(SimulatedDecision::Allowed) => {
                            format!("confirmed by IAM: {what} the action is allowed")
                        }
                        Some(d) => format!(
                            "not confirmed by IAM: {what} it is still {} (another policy also stops it)",
                            simulated_decision(d).label()
                        ),
                        None => "not confirmed: IAM returned no result".to_string(),
                    });
                }
            }
        }
        Ok(true)
    }

    fn is_snapshot(&self) -> bool {
        false
    }
}

/// `entries` with the stated values added, a stated key replacing an entry of the same key. A
/// key stated absent is left out. The type is the documented one of a known key, else a
/// string (a list for several values), as `--context` reads them.
fn with_stated(
    mut entries: Vec<SimulationContextEntry>,
    stated: &Supplied,
) -> Vec<SimulationContextEntry> {
    for (key, values) in stated.entries() {
        entries.retain(|e| !e.key.eq_ignore_ascii_case(key));
        let Some(values) = values else { continue };
        let base = match request_keys::lookup(key).map(|k| k.value_type) {
            Some(ValueType::Bool) => "boolean",
            Some(ValueType::Ip) => "ip",
            Some(ValueType::Date) => "date",
            Some(ValueType::Numeric) => "numeric",
            Some(ValueType::String) | None => "string",
        };
        entries.push(SimulationContextEntry {
            key: key.to_string(),
            values: values.to_vec(),
            value_type: if values.len() > 1 {
                format!("{base}List")
            } else {
                base.to_string()
            },
        });
    }
    entries
}

fn region_context(region: &str) -> SimulationContextEntry {
    SimulationContextEntry {
        key: "aws:RequestedRegion".into(),
        values: vec![region.to_string()],
        value_type: "string".into(),
    }
}

/// Facts from a principal and what could be learnt of its organization. SCPs do not apply to
/// service-linked roles, nor outside an organization; unreadable SCPs leave the result
/// incomplete, never assumed to allow.
fn org_facts(principal: PrincipalFacts, org: Result<OrgFacts, AwsError>) -> (Facts, OrgVisibility) {
    let mut notes = Vec::new();
    let mut incomplete = false;
    let (org, visibility) = if principal.service_linked {
        notes.push(format!(
            "`{}` is a service-linked role: SCPs do not apply to it",
            principal.name
        ));
        (None, OrgVisibility::NotApplicable)
    } else {
        match org {
            Ok(org) if org.is_management_account() => (Some(org), OrgVisibility::NotApplicable),
            Ok(org) => (Some(org), OrgVisibility::Evaluated),
            Err(AwsError::NotInOrganization) => {
                notes.push(format!(
                    "account {} is not in an organization: no SCPs or RCPs apply",
                    principal.account_id
                ));
                (None, OrgVisibility::NotApplicable)
            }
            Err(e) => {
                notes.push(format!(
                    "the organization's SCPs and RCPs could not be read ({e}): IAM's simulator still applies SCPs, but iam-doctor cannot say which one denies, and RCPs were not evaluated; run from the management account or a delegated administrator"
                ));
                incomplete = true;
                (None, OrgVisibility::Unreadable)
            }
        }
    };
    (
        Facts {
            principal,
            org,
            resource_policies: Default::default(),
            notes,
            incomplete,
        },
        visibility,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded message's (or `--context`'s) values reach IAM's simulator: a stated region
    /// replaces the computed one, a known key gets its documented type (`aws:SecureTransport`
    /// is a Boolean, IAM User Guide `reference_policies_condition-keys.html`), several values
    /// make a list, and a key stated absent is left out.
    #[test]
    fn stated_values_join_the_simulator_context() {
        let mut stated = Supplied::default();
        stated.state("aws:RequestedRegion", Some(vec!["eu-west-1".into()]));
        stated.state("aws:SecureTransport", Some(vec!["true".into()]));
        stated.state(
            "ec2:Vpc",
            Some(vec!["arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1".into()]),
        );
        stated.state("aws:TagKeys", Some(vec!["a".into(), "b".into()]));
        stated.state("aws:SourceIp", None);
        let entries = with_stated(vec![region_context("us-east-1")], &stated);
        let found = |key: &str| entries.iter().find(|e| e.key == key).cloned();
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.key == "aws:RequestedRegion")
                .count(),
            1
        );
        let region = found("aws:RequestedRegion").expect("region");
        assert_eq!(region.values, ["eu-west-1"]);
        assert_eq!(
            found("aws:SecureTransport").map(|e| e.value_type),
            Some("boolean".to_string())
        );
        assert_eq!(
            found("ec2:Vpc").map(|e| e.value_type),
            Some("string".to_string())
        );
        assert_eq!(
            found("aws:TagKeys").map(|e| e.value_type),
            Some("stringList".to_string())
        );
        assert!(found("aws:SourceIp").is_none());
    }
}
