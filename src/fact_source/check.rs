//! `check` as a library call: every required action decided for one principal, from any
//! [`FactSource`], IAM's verdicts merged where the source has a simulator.

use crate::core::check::{
    CheckReport, OrgVisibility, check_local, merge_simulation, policy_set, resource_policy_notes,
};
use crate::core::facts::PrincipalFacts;
use crate::core::principal_ref::PrincipalRef;
use crate::core::profile::RequiredPermissions;
use crate::core::request_keys::Supplied;
use crate::core::resources::requests_on_named_resources;

use super::{FactSource, Facts, FactsError};

/// What the deploy requires of a principal, derived by the caller once the principal (and its
/// account) is known.
#[derive(Debug, Clone)]
pub struct Requirements {
    pub required: RequiredPermissions,
    /// Notes on the project's configuration, shown with the report's.
    pub config_notes: Vec<String>,
    /// The existing resources the deploy's templates name, as ARNs.
    pub template_resources: Vec<String>,
}

/// How to check.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions<'a> {
    /// The deploy's region (`aws:RequestedRegion`; global services use us-east-1).
    pub region: &'a str,
    /// Request context values given by the user.
    pub supplied: &'a Supplied,
    /// Ask AWS's own engine to confirm each blamed SCP.
    pub confirm: bool,
}

/// Checks `who` against what `requirements_for` says the deploy needs.
///
/// The local evaluation explains every decision; where the source has IAM's simulator, IAM's
/// verdict decides and a disagreement is shown. Results whose resource policy is unknown are
/// never allowed, and make the report incomplete.
pub fn check_principal<S: FactSource, E: From<FactsError>>(
    source: &S,
    who: &PrincipalRef,
    options: CheckOptions<'_>,
    requirements_for: impl FnOnce(&PrincipalFacts) -> Result<Requirements, E>,
) -> Result<CheckReport, E> {
    let region = options.region;
    let (known, mut resource_notes) = source.known_resources(who)?;
    let (mut facts, visibility, ((requirements, _), skipped), outcomes) = source
        .facts_and_verdicts(
            who,
            region,
            |principal| -> Result<_, E> {
                let mut requirements = requirements_for(principal)?;
                let named = source.named_resources(&known, &requirements.template_resources);
                let extra = requests_on_named_resources(&requirements.required.actions, &named);
                requirements.required.actions.extend(extra);
                let (readable, skipped) = source.readable_resources(&named);
                Ok(((requirements, readable), skipped))
            },
            |((requirements, _), _)| &requirements.required.actions,
            |((_, readable), _)| readable,
        )?;
    resource_notes.extend(skipped);
    facts.notes.extend(resource_notes);
    let Requirements {
        required,
        config_notes,
        ..
    } = requirements;
    let mut report = decide_locally(&facts, &required, config_notes, options)?;
    if let Some(outcomes) = outcomes {
        let (mut results, missing) = merge_simulation(
            &facts.principal,
            std::mem::take(&mut report.results),
            &outcomes,
            visibility,
        );
        if !missing.is_empty() {
            report.incomplete = true;
            report.notes.push(format!(
                "IAM returned no result for {} action(s) ({}): they were not checked by AWS",
                missing.len(),
                missing.join(", ")
            ));
        }
        if options.confirm {
            let confirmed = match (&facts.org, visibility) {
                (Some(org), OrgVisibility::Evaluated) => {
                    source.confirm(&facts.principal, org, &mut results, region)?
                }
                _ => false,
            };
            if !confirmed {
                report
                    .notes
                    .push("`--confirm`: there is no SCP to confirm for this account".to_string());
            }
        }
        report.results = results;
    }
    report.hold_undecidable();
    Ok(report)
}

/// Decides every required action for the facts, locally. The caller holds what could not be
/// decided ([`CheckReport::hold_undecidable`]) once the results are final.
pub fn decide_locally(
    facts: &Facts,
    required: &RequiredPermissions,
    config_notes: Vec<String>,
    options: CheckOptions<'_>,
) -> Result<CheckReport, FactsError> {
    let (set, mut notes) = policy_set(&facts.principal, facts.org.as_ref())?;
    notes.extend(facts.notes.iter().cloned());
    notes.extend(config_notes);
    let results = check_local(
        &set,
        &facts.principal,
        facts.org.as_ref(),
        &facts.resource_policies,
        &required.actions,
        options.region,
        options.supplied,
    )?;
    notes.extend(resource_policy_notes(&results, &facts.resource_policies));
    Ok(CheckReport {
        principal: facts.principal.arn.clone(),
        profile: required.profile.clone(),
        region: options.region.to_string(),
        results,
        notes,
        warnings: required.warnings.clone(),
        incomplete: facts.incomplete || !required.unchecked.is_empty(),
        unchecked: required.unchecked.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::core::eval::Decision;
    use crate::core::profile::RequiredAction;
    use crate::fact_source::{Snapshot, SnapshotError};

    fn required(actions: &[&str]) -> RequiredPermissions {
        RequiredPermissions {
            profile: "jets-remote".into(),
            vpc: false,
            policies: Vec::new(),
            managed_policy_arns: Vec::new(),
            actions: actions
                .iter()
                .map(|action| RequiredAction {
                    action: (*action).to_string(),
                    resource: "*".into(),
                    grant: String::new(),
                    policy: String::new(),
                    reason: "test".into(),
                })
                .collect(),
            warnings: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// The library runs a whole check on a fact source, here the demo snapshot, without the
    /// command layer: the region-lock SCP denies Route 53 (README, "Troubleshooting").
    #[test]
    fn a_check_on_a_snapshot_names_the_denying_scp() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/examples/demo");
        let snapshot = Snapshot::open(&dir).expect("the demo snapshot opens");
        let who = PrincipalRef::role("demo-dev-CodebuildRole-1A2B3C4D5E6F").expect("a role name");
        let supplied = Supplied::default();
        let options = CheckOptions {
            region: "eu-west-1",
            supplied: &supplied,
            confirm: false,
        };
        let report = check_principal(&snapshot, &who, options, |principal| {
            assert_eq!(principal.account_id, "111122223333");
            Ok::<_, FactsError>(Requirements {
                required: required(&["route53:ChangeResourceRecordSets", "kinesis:PutRecord"]),
                config_notes: Vec::new(),
                template_resources: Vec::new(),
            })
        })
        .expect("a report");
        assert!(
            report
                .principal
                .ends_with(":role/demo-dev-CodebuildRole-1A2B3C4D5E6F")
        );
        let route53 = &report.results[0];
        assert_eq!(route53.decision, Decision::ExplicitDeny);
        assert!(
            route53
                .decided_by
                .iter()
                .any(|b| b.describe().contains("`RegionLock`")),
            "{:?}",
            route53.decided_by
        );
        assert_eq!(report.results[1].decision, Decision::ImplicitDeny);
    }

    /// A snapshot has no simulator and no caller: its verdicts are none, and a principal must
    /// be named.
    #[test]
    fn a_snapshot_has_no_verdicts_and_no_caller() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/examples/demo");
        let snapshot = Snapshot::open(&dir).expect("the demo snapshot opens");
        let who = PrincipalRef::role("demo-dev-CodebuildRole-1A2B3C4D5E6F").expect("a role name");
        let (facts, visibility) = FactSource::facts(&snapshot, &who).expect("facts");
        assert_eq!(visibility, OrgVisibility::Evaluated);
        let verdicts = snapshot
            .verdicts(
                &facts.principal,
                &required(&["s3:GetObject"]).actions,
                "eu-west-1",
                &facts.resource_policies,
                &Supplied::default(),
            )
            .expect("no error");
        assert_eq!(verdicts, None);
        assert!(matches!(
            FactSource::facts(&snapshot, &PrincipalRef::Caller),
            Err(FactsError::Snapshot(SnapshotError::NoNamedPrincipal))
        ));
    }
}
