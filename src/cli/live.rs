//! The live path: AWS as the source of truth, through the adapter's small traits.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

use iam_doctor::aws::network::{DEFAULT_RUN_TIMEOUT, redact_secrets};
use iam_doctor::aws::{
    AwsError, AwsOptions, AwsSession, CustomSimulation, simulate_with_resource_policies,
};
use iam_doctor::core::check::{ActionResult, OrgVisibility};
use iam_doctor::core::eval::{PolicyKind, Verdict};
use iam_doctor::core::facts::{
    OrgFacts, PrincipalFacts, PrincipalKind, ResourcePolicies, SimulatedDecision,
    SimulationContextEntry, SimulationOutcome, SimulationRequest,
};
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::core::profile::{RequiredAction, requested_region};

use super::source::Facts;
use super::{Exit, Failure};

/// How to reach AWS.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// Named profile from the shared AWS config (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub aws_profile: Option<String>,
    /// Endpoint for every AWS service (also `AWS_ENDPOINT_URL`), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Time limit for the whole run's AWS calls, retries included: when it passes, the run
    /// ends (exit 3) naming the call that did not answer.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_RUN_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

/// Turns an adapter error into what the user sees. Bad names are input errors (2); anything
/// that stopped the check from finishing leaves it incomplete (3).
pub fn aws_failure(e: AwsError) -> Failure {
    let exit = match &e {
        AwsError::NoCredentials { .. }
        | AwsError::InvalidCredentials { .. }
        | AwsError::RoleNotFound { .. }
        | AwsError::UserNotFound { .. }
        | AwsError::StackNotFound { .. }
        | AwsError::StackResourceNotFound { .. }
        | AwsError::WrongAccount { .. }
        | AwsError::UnsupportedCaller { .. }
        | AwsError::InvalidEndpointUrl { .. }
        | AwsError::ProfileNotFound { .. }
        | AwsError::AwsConfigFile { .. } => Exit::Input,
        _ => Exit::Incomplete,
    };
    let help = e
        .network_help()
        .unwrap_or_else(|| iam_doctor::error::Help::help(&e));
    Failure {
        message: redact_secrets(&e.to_string()),
        help: Some(redact_secrets(&help)),
        exit,
    }
}

/// A connected session and the runtime that drives it.
pub struct AwsConnection {
    pub session: AwsSession,
    rt: tokio::runtime::Runtime,
    quiet: bool,
}

impl AwsConnection {
    pub fn connect(
        args: &AwsArgs,
        region: Option<&str>,
        quiet: bool,
    ) -> Result<AwsConnection, Failure> {
        Self::try_connect(args, region, quiet)?.map_err(aws_failure)
    }

    /// Like [`AwsConnection::connect`], with the adapter's own error when no session could be made, for
    /// a command that has something to show without AWS (`explain` shows what it parsed).
    pub fn try_connect(
        args: &AwsArgs,
        region: Option<&str>,
        quiet: bool,
    ) -> Result<Result<AwsConnection, AwsError>, Failure> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failure::incomplete(format!("cannot start the async runtime: {e}")))?;
        let options = AwsOptions {
            profile: args.aws_profile.clone(),
            region: region.map(str::to_string),
            endpoint_url: args.endpoint_url.clone(),
            timeout: Some(Duration::from_secs(args.timeout)),
        };
        Ok(rt
            .block_on(AwsSession::connect(&options))
            .map(|session| AwsConnection { session, rt, quiet }))
    }

    /// Runs adapter calls to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// `--stats`: requests sent per API, on stderr.
    pub fn print_stats(&self, quiet: bool) {
        for (api, n) in self.session.calls() {
            super::note(quiet, &format!("{api}: {n} call(s)"));
        }
    }

    /// The principal's facts and its organization path, degrading honestly where AWS
    /// does not let us see.
    pub fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), Failure> {
        self.block_on(async {
            let (principal, org) = tokio::join!(self.principal(who), self.org_of(who));
            let principal = principal?;
            let org = self.org_for(&principal, org).await;
            Ok(org_facts(principal, org))
        })
    }

    /// The principal's facts, IAM's verdict on the actions it must be allowed, and its
    /// organization path, with the calls overlapped: the organization walk runs while the
    /// principal is looked up and simulated, so the critical path is the longer of the two,
    /// not their sum. The resource-based policies of `resources_of` are read too: before the
    /// simulation for a user (IAM's simulator takes them for users), alongside it for a role.
    pub fn facts_and_verdicts<R>(
        &self,
        who: &PrincipalRef,
        region: &str,
        required_for: impl FnOnce(&PrincipalFacts) -> Result<R, Failure>,
        actions_of: impl Fn(&R) -> &[RequiredAction],
        resources_of: impl Fn(&R) -> &[String],
    ) -> Result<(Facts, OrgVisibility, R, Vec<SimulationOutcome>), Failure> {
        let progress = self.spinner("checking with IAM".to_string());
        let result = self.block_on(async {
            let iam_side = async {
                let principal = self.principal(who).await?;
                let required = required_for(&principal)?;
                let reads = self
                    .session
                    .resource_policies()
                    .resource_policies(resources_of(&required));
                let (policies, outcomes) = if principal.kind == PrincipalKind::User {
                    let policies = reads.await;
                    let outcomes = self
                        .simulate_async(&principal, actions_of(&required), region, &policies)
                        .await?;
                    (policies, outcomes)
                } else {
                    let none = ResourcePolicies::new();
                    let (policies, outcomes) = tokio::join!(
                        reads,
                        self.simulate_async(&principal, actions_of(&required), region, &none)
                    );
                    (policies, outcomes?)
                };
                Ok::<_, Failure>((principal, required, policies, outcomes))
            };
            let (iam_side, org) = tokio::join!(iam_side, self.org_of(who));
            let (principal, required, policies, outcomes) = iam_side?;
            let org = self.org_for(&principal, org).await;
            let (mut facts, visibility) = org_facts(principal, org);
            facts.resource_policies = policies;
            Ok((facts, visibility, required, outcomes))
        });
        if let Some(p) = progress {
            p.finish_and_clear();
        }
        result
    }

    async fn principal(&self, who: &PrincipalRef) -> Result<PrincipalFacts, Failure> {
        self.session.principal(who).await.map_err(aws_failure)
    }

    /// The organization path of the account `who` lives in, started before the principal is
    /// known: an ARN names the account, and a name lives in the caller's account.
    async fn org_of(
        &self,
        who: &PrincipalRef,
    ) -> Result<(String, Result<OrgFacts, AwsError>), AwsError> {
        let from_arn = who.named().and_then(|p| p.account.clone());
        let account = match from_arn {
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
        early: Result<(String, Result<OrgFacts, AwsError>), AwsError>,
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

    /// IAM's verdict on some actions, for a principal already looked up, with the resource
    /// policies IAM can take (a user's; see [`simulate_with_resource_policies`]).
    pub fn simulate(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
    ) -> Result<Vec<SimulationOutcome>, Failure> {
        self.block_on(self.simulate_async(principal, required, region, policies))
    }

    /// IAM's verdict for every required action. Global services are simulated with
    /// `aws:RequestedRegion = us-east-1`, the rest with the deploy's region; the groups run
    /// concurrently.
    async fn simulate_async(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
    ) -> Result<Vec<SimulationOutcome>, Failure> {
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
                let context = vec![region_context(rr)];
                async move {
                    simulate_with_resource_policies(iam, principal, reqs, &context, policies).await
                }
            })
            .collect();
        let mut all = Vec::new();
        for r in iam_doctor::aws::join_all(calls).await {
            all.extend(r.map_err(aws_failure)?);
        }
        Ok(all)
    }

    /// Asks IAM's own engine whether each blamed SCP is really the cause: the same request
    /// with that SCP removed (a Deny) or with an allow-all added at the level (a missing
    /// Allow) through `SimulateCustomPolicy`. Writes the outcome into each result.
    pub fn confirm(
        &self,
        principal: &PrincipalFacts,
        org: &OrgFacts,
        results: &mut [ActionResult],
        region: &str,
    ) -> Result<(), Failure> {
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
                let outcomes = self
                    .block_on(
                        self.session
                            .iam()
                            .simulate_custom(&input, &requests, &context),
                    )
                    .map_err(aws_failure)?;
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
                            iam_doctor::core::check::simulated_decision(d).label()
                        ),
                        None => "not confirmed: IAM returned no result".to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    fn spinner(&self, message: String) -> Option<indicatif::ProgressBar> {
        if self.quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let p = indicatif::ProgressBar::new_spinner();
        p.set_message(message);
        p.enable_steady_tick(Duration::from_millis(120));
        Some(p)
    }
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
