//! `explain`'s judgement: whether the local decision reproduces what an AccessDenied message
//! says, and the model of one explained denial that every format shows.

use serde::{Serialize, Serializer};

use super::check::{ActionResult, CheckReport, Engine, explained_blames};
use super::denial::{Blamed, Denial};
use super::eval::{Blame, Decision, PolicyKind, PolicySet, RCP_SERVICES, Verdict};
use super::evidence::Sighting;
use super::findings::Findings;
use super::remediation::Remediation;

/// One denial as `explain` shows it: what AWS said, the verdict, the local cause and the fix.
/// Its `Serialize` is one entry of `explain --format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub denial: Denial,
    /// Every place the denial was seen (stack events, build logs, the input), first first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Sighting>,
    /// The policy type AWS's message blames, in words ([`blamed_in_words`]). Its JSON key is
    /// `aws_said`, as the published schema has it.
    #[serde(rename = "aws_said")]
    pub aws_blames: &'static str,
    pub verdict: String,
    /// The local decision agrees with AWS's, policy type (and policy) included.
    pub reproduced: bool,
    /// The local decision; `None` when the denial was not checked.
    pub decision: Option<Decision>,
    pub engine: Option<Engine>,
    pub disagreement: Option<String>,
    #[serde(serialize_with = "optional_explained_blames")]
    pub decided_by: Option<Vec<Blame>>,
    /// What to change; `None` when the denial was not checked.
    pub remediation: Option<Remediation>,
    /// Condition keys some statement tested that the request did not carry.
    #[serde(skip)]
    pub missing_context: Vec<String>,
    /// Facts that qualify the decision (organization data, principal).
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Explanation {
    /// A denial shown as parsed, with the reason it was not checked.
    pub fn unchecked(denial: Denial, verdict: String) -> Self {
        Explanation {
            aws_blames: blamed_in_words(denial.blamed),
            denial,
            sources: Vec::new(),
            verdict,
            reproduced: false,
            decision: None,
            engine: None,
            disagreement: None,
            decided_by: None,
            remediation: None,
            missing_context: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A denial decided locally: `report` holds its one result, whose remediation is derived
    /// here, once.
    pub fn checked(denial: Denial, report: CheckReport, verdict: String, reproduced: bool) -> Self {
        let findings = Findings::new(report);
        let mut explanation = Explanation::unchecked(denial, verdict);
        explanation.reproduced = reproduced;
        if let Some(result) = findings.results.into_iter().next() {
            let ActionResult {
                decision,
                engine,
                disagreement,
                decided_by,
                missing_context,
                ..
            } = result;
            explanation.decision = Some(decision);
            explanation.engine = Some(engine);
            explanation.disagreement = disagreement;
            explanation.decided_by = Some(decided_by);
            explanation.missing_context = missing_context;
        }
        explanation.remediation = Some(findings.remediation);
        explanation.notes = findings.notes;
        explanation
    }
}

fn optional_explained_blames<S: Serializer>(
    causes: &Option<Vec<Blame>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match causes {
        Some(causes) => explained_blames(causes, s),
        None => s.serialize_none(),
    }
}

/// What AWS's message says denied the request, in words.
pub fn blamed_in_words(b: Blamed) -> &'static str {
    match b {
        Blamed::ScpExplicitDeny => "a service control policy denies it (or none allows it)",
        Blamed::RcpExplicitDeny => "a resource control policy denies it",
        Blamed::IdentityExplicitDeny => "an identity-based policy denies it",
        Blamed::ResourceExplicitDeny => "a resource-based policy denies it",
        Blamed::BoundaryExplicitDeny => "the permissions boundary denies it",
        Blamed::SessionExplicitDeny => "a session policy denies it",
        Blamed::VpcEndpointExplicitDeny => "a VPC endpoint policy denies it",
        Blamed::VpcEndpointScpExplicitDeny => "an SCP reached through a VPC endpoint denies it",
        Blamed::TrustPolicyExplicitDeny => "the role trust policy denies it",
        Blamed::UnspecifiedExplicitDeny => "an explicit deny (policy type not named)",
        Blamed::NoIdentityPolicy => "no identity-based policy allows it",
        Blamed::NoResourcePolicy => "no resource-based policy allows it",
        Blamed::BoundaryImplicitDeny => "the permissions boundary does not allow it",
        Blamed::NoSessionPolicy => "no session policy allows it",
        Blamed::NoVpcEndpointPolicy => "no VPC endpoint policy allows it",
        Blamed::NoTrustPolicy => "no role trust policy allows it",
        Blamed::Unspecified => "access denied (no reason given)",
    }
}

/// The policy type AWS names, in words.
fn blamed_type(b: Blamed) -> Option<&'static str> {
    Some(match b {
        Blamed::ScpExplicitDeny => "a service control policy",
        Blamed::RcpExplicitDeny => "a resource control policy",
        Blamed::IdentityExplicitDeny | Blamed::NoIdentityPolicy => "an identity-based policy",
        Blamed::ResourceExplicitDeny | Blamed::NoResourcePolicy => "a resource-based policy",
        Blamed::BoundaryExplicitDeny | Blamed::BoundaryImplicitDeny => "a permissions boundary",
        Blamed::SessionExplicitDeny | Blamed::NoSessionPolicy => "a session policy",
        Blamed::VpcEndpointExplicitDeny | Blamed::NoVpcEndpointPolicy => "a VPC endpoint policy",
        Blamed::VpcEndpointScpExplicitDeny => {
            "a service control policy reached through a VPC endpoint"
        }
        Blamed::TrustPolicyExplicitDeny | Blamed::NoTrustPolicy => "a role trust policy",
        Blamed::UnspecifiedExplicitDeny | Blamed::Unspecified => return None,
    })
}

/// The kind of policy in the engine that AWS's wording names, and the verdicts of that kind
/// that agree with it. `None` when AWS names a type the engine has no kind for.
///
/// AWS words an SCP's (and an RCP's) implicit deny as an explicit deny, so for those an
/// organization level that fails to allow agrees as well as a `Deny` statement.
fn blamed_kind(b: Blamed) -> Option<(PolicyKind, &'static [Verdict])> {
    const DENIES: &[Verdict] = &[Verdict::Denies];
    const FAILS: &[Verdict] = &[Verdict::FailsToAllow];
    const EITHER: &[Verdict] = &[Verdict::Denies, Verdict::FailsToAllow];
    Some(match b {
        Blamed::ScpExplicitDeny => (PolicyKind::Scp, EITHER),
        Blamed::RcpExplicitDeny => (PolicyKind::Rcp, EITHER),
        Blamed::IdentityExplicitDeny => (PolicyKind::Identity, DENIES),
        Blamed::NoIdentityPolicy => (PolicyKind::Identity, FAILS),
        Blamed::BoundaryExplicitDeny => (PolicyKind::Boundary, DENIES),
        Blamed::BoundaryImplicitDeny => (PolicyKind::Boundary, FAILS),
        _ => return None,
    })
}

/// The kinds of policy the engine evaluated for this principal and action: the ones in its
/// policy set. Identity policies are always evaluated (none at all is an implicit deny); SCPs
/// and RCPs only when the organization data put them in the set, RCPs only for the services
/// they apply to.
fn evaluated_kinds(set: &PolicySet, action: &str) -> Vec<PolicyKind> {
    let service = action.split(':').next().unwrap_or("");
    let mut kinds = vec![PolicyKind::Identity];
    if set.boundary.is_some() {
        kinds.push(PolicyKind::Boundary);
    }
    if !set.scps.is_empty() {
        kinds.push(PolicyKind::Scp);
    }
    if !set.rcps.is_empty() && RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service)) {
        kinds.push(PolicyKind::Rcp);
    }
    kinds
}

/// True when a policy ARN AWS printed names the policy behind `blame`: the same ARN, or, for
/// organization policies, the same policy id (`…/service_control_policy/p-abcd1234`).
fn names_policy(arn: &str, blame: &Blame) -> bool {
    blame
        .policy_id
        .as_deref()
        .is_some_and(|id| id == arn || arn.rsplit_once('/').is_some_and(|(_, last)| last == id))
}

/// Whether the local decision reproduces what AWS said, and the verdict in words. Reproduced
/// means the same decision for the same reason: a deny, and, where AWS names a policy type (and
/// a policy), the local cause is of that type (and that policy).
pub fn judge(
    d: &Denial,
    result: &ActionResult,
    set: &PolicySet,
    org_data: bool,
    from_snapshot: bool,
) -> (bool, String) {
    let causes = || {
        let list: Vec<String> = result.decided_by.iter().map(|b| b.describe()).collect();
        if list.is_empty() {
            String::new()
        } else {
            format!(" ({})", list.join("; "))
        }
    };
    let evaluated = evaluated_kinds(set, &d.action);
    let not_evaluated = |kind: Option<PolicyKind>| -> Option<String> {
        let type_name = blamed_type(d.blamed)?;
        match kind {
            Some(k) if evaluated.contains(&k) => None,
            Some(PolicyKind::Scp | PolicyKind::Rcp) if !org_data => Some(format!(
                "AWS blames {type_name}, and there is no organization data{}, so iam-doctor evaluated no organization policies",
                if from_snapshot {
                    " in the snapshot (`organization.json`)"
                } else {
                    " (the organization could not be read)"
                }
            )),
            Some(PolicyKind::Boundary) => Some(format!(
                "AWS blames {type_name}, but the principal has none in the data iam-doctor read"
            )),
            Some(_) => Some(format!(
                "AWS blames {type_name}, but per the organization data none applies to this principal and action"
            )),
            None => Some(format!(
                "AWS blames {type_name}, a policy type iam-doctor did not evaluate"
            )),
        }
    };
    let expected = blamed_kind(d.blamed);
    if result.decision.is_allowed() {
        if let Some(reason) = not_evaluated(expected.map(|(k, _)| k)) {
            return (
                false,
                format!("not reproduced: {reason}; the policies it evaluated allow it"),
            );
        }
        return (
            false,
            format!(
                "not reproduced: iam-doctor's evaluation ALLOWS this with the policies it can see: {}, or the denial comes from a policy type it did not evaluate; nothing here was assumed",
                if from_snapshot {
                    "the snapshot may be older than the failure"
                } else {
                    "the policies may have changed since the failure, or the call was made in another region"
                }
            ),
        );
    }
    // A policy that must decide but was not supplied or could not be read (a KMS key policy):
    // the local deny is not AWS's reason, only the lack of the policy.
    if result.undecidable() {
        return (
            false,
            format!(
                "not reproduced: the decision needs a resource-based policy iam-doctor was not given{}",
                causes()
            ),
        );
    }
    if result.decision == Decision::Unknown {
        return (
            false,
            format!(
                "not reproduced yet: the decision depends on {} (values the failed request carried); give them with `--context KEY=VALUE` to decide",
                result
                    .depends_on
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let decision = result.decision.label();
    match (d.blamed, expected) {
        (Blamed::Unspecified, _) => (
            true,
            "reproduced: the same decision (AWS named no policy type) with the policies below"
                .to_string(),
        ),
        (Blamed::UnspecifiedExplicitDeny, _) => {
            let explicit = result.decision == Decision::ExplicitDeny
                || result.decided_by.iter().any(|b| {
                    matches!(b.kind, PolicyKind::Scp | PolicyKind::Rcp)
                        && b.verdict == Verdict::FailsToAllow
                });
            if explicit {
                (
                    true,
                    "reproduced: the same decision with the policies below".to_string(),
                )
            } else {
                (
                    false,
                    format!(
                        "not reproduced: AWS reports an explicit deny, but the local decision is an {decision}{}",
                        causes()
                    ),
                )
            }
        }
        (_, None) => {
            let reason = not_evaluated(None).unwrap_or_default();
            (
                false,
                format!(
                    "not reproduced: {reason}; the local decision is an {decision}{}",
                    causes()
                ),
            )
        }
        (_, Some((kind, verdicts))) => {
            if let Some(reason) = not_evaluated(Some(kind)) {
                return (
                    false,
                    format!(
                        "not reproduced: {reason}; the local decision is an {decision}{}",
                        causes()
                    ),
                );
            }
            let agreeing: Vec<_> = result
                .decided_by
                .iter()
                .filter(|b| b.kind == kind && verdicts.contains(&b.verdict))
                .collect();
            if agreeing.is_empty() {
                return (
                    false,
                    format!(
                        "not reproduced: {}, but the local decision is an {decision}{}",
                        blamed_in_words(d.blamed),
                        causes()
                    ),
                );
            }
            match &d.policy_arn {
                Some(arn) if !agreeing.iter().any(|b| names_policy(arn, b)) => (
                    false,
                    format!(
                        "not reproduced: AWS names the policy `{arn}`, but the local cause is another{}",
                        causes()
                    ),
                ),
                Some(arn) => (
                    true,
                    format!(
                        "reproduced: the same decision, by the policy AWS names (`{arn}`), with the policies below"
                    ),
                ),
                None => (
                    true,
                    "reproduced: the same decision with the policies below".to_string(),
                ),
            }
        }
    }
}
