//! Where a check's facts come from, live or offline, behind one interface: [`FactSource`],
//! implemented by an offline [`Snapshot`] folder and by AWS itself ([`AwsFacts`]).

mod aws;
mod check;
mod cloudtrail;
mod decode;
mod evidence;
mod named;
mod snapshot;

pub use aws::{AwsFacts, BOOTSTRAP_BUCKET, readable};
pub use check::{CheckOptions, Requirements, check_principal, decide_locally};
pub use cloudtrail::{TrailRead, describe_read};
pub use evidence::{BuildRef, REMOTE_RUNNER_SUFFIX};
pub use named::template_resources;
pub use snapshot::{DETAILS_FILE, ORG_FILE, Snapshot, SnapshotError};

use crate::aws::AwsError;
use crate::core::check::{ActionResult, OrgVisibility};
use crate::core::facts::{OrgFacts, PrincipalFacts, ResourcePolicies, SimulationOutcome};
use crate::core::policy::PolicyError;
use crate::core::principal_ref::PrincipalRef;
use crate::core::profile::RequiredAction;
use crate::core::request_keys::Supplied;

/// A principal's facts, with what qualifies them.
#[derive(Debug, Clone)]
pub struct Facts {
    pub principal: PrincipalFacts,
    pub org: Option<OrgFacts>,
    /// What is known of the resource-based policies of the resources the deploy touches.
    pub resource_policies: ResourcePolicies,
    pub notes: Vec<String>,
    /// True when part of the picture is missing (e.g. SCPs unreadable).
    pub incomplete: bool,
}

/// Why facts could not be had, or a decision not made from them.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A policy among the facts that does not parse.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The async runtime that drives the AWS calls could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}

/// The principal's facts, IAM's verdicts and the resource policies, from wherever they come.
///
/// A snapshot has no simulator: its verdicts are `None`, and the local evaluation decides.
pub trait FactSource {
    /// The principal's facts and how much of its organization could be seen.
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), FactsError>;

    /// The facts, what `required_for` derives from the principal (the actions it must be
    /// allowed, the resources whose policies to read: `resources_of`, carried in the facts),
    /// and IAM's verdict on those actions when the source has a simulator. AWS
    /// overlaps the calls: the organization walk runs while the principal is looked up and
    /// simulated.
    #[allow(clippy::type_complexity)]
    fn facts_and_verdicts<R, E: From<FactsError>>(
        &self,
        who: &PrincipalRef,
        region: &str,
        required_for: impl FnOnce(&PrincipalFacts) -> Result<R, E>,
        actions_of: impl Fn(&R) -> &[RequiredAction],
        resources_of: impl Fn(&R) -> &[String],
    ) -> Result<(Facts, OrgVisibility, R, Option<Vec<SimulationOutcome>>), E>;

    /// IAM's verdict on some actions for a principal already looked up, with the request
    /// context values `context` states (a decoded authorization message's, `--context`);
    /// `None` when the source has no simulator.
    fn verdicts(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
        context: &Supplied,
    ) -> Result<Option<Vec<SimulationOutcome>>, FactsError>;

    /// The resources the deploy touches that the source can name before any template is read
    /// (a stack's deploy bucket, the resources a snapshot recorded), with notes on the ones it
    /// could not.
    fn known_resources(&self, who: &PrincipalRef)
    -> Result<(Vec<String>, Vec<String>), FactsError>;

    /// The resources the deploy touches, in the order reports list the requests on them: the
    /// templates' and the ones the source knows.
    fn named_resources(&self, known: &[String], from_templates: &[String]) -> Vec<String> {
        from_templates.iter().chain(known).cloned().collect()
    }

    /// The named resources whose policies the source reads, and notes on the others.
    fn readable_resources(&self, named: &[String]) -> (Vec<String>, Vec<String>);

    /// Asks AWS's own engine whether each blamed SCP is the cause (`--confirm`), writing the
    /// answer into each result. `Ok(false)` when the source cannot ask.
    fn confirm(
        &self,
        principal: &PrincipalFacts,
        org: &OrgFacts,
        results: &mut [ActionResult],
        region: &str,
    ) -> Result<bool, FactsError>;

    /// True for an offline snapshot, whose data may be older than what it is compared with.
    fn is_snapshot(&self) -> bool;
}

impl FactSource for Snapshot {
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), FactsError> {
        Ok(self.principal_facts(who)?)
    }

    fn facts_and_verdicts<R, E: From<FactsError>>(
        &self,
        who: &PrincipalRef,
        _region: &str,
        required_for: impl FnOnce(&PrincipalFacts) -> Result<R, E>,
        _actions_of: impl Fn(&R) -> &[RequiredAction],
        _resources_of: impl Fn(&R) -> &[String],
    ) -> Result<(Facts, OrgVisibility, R, Option<Vec<SimulationOutcome>>), E> {
        let (facts, visibility) = FactSource::facts(self, who)?;
        let required = required_for(&facts.principal)?;
        Ok((facts, visibility, required, None))
    }

    fn verdicts(
        &self,
        _principal: &PrincipalFacts,
        _required: &[RequiredAction],
        _region: &str,
        _policies: &ResourcePolicies,
        _context: &Supplied,
    ) -> Result<Option<Vec<SimulationOutcome>>, FactsError> {
        Ok(None)
    }

    fn known_resources(
        &self,
        _who: &PrincipalRef,
    ) -> Result<(Vec<String>, Vec<String>), FactsError> {
        Ok((self.recorded_resources(), Vec::new()))
    }

    /// The snapshot's recorded resources first, as `resource-policies.json` lists them.
    fn named_resources(&self, known: &[String], from_templates: &[String]) -> Vec<String> {
        known.iter().chain(from_templates).cloned().collect()
    }

    /// The snapshot's facts carry every policy fact it recorded.
    fn readable_resources(&self, named: &[String]) -> (Vec<String>, Vec<String>) {
        (named.to_vec(), Vec::new())
    }

    fn confirm(
        &self,
        _principal: &PrincipalFacts,
        _org: &OrgFacts,
        _results: &mut [ActionResult],
        _region: &str,
    ) -> Result<bool, FactsError> {
        Ok(false)
    }

    fn is_snapshot(&self) -> bool {
        true
    }
}

/// A source chosen at run time: `--offline DIR`, or AWS.
pub enum AnyFactSource {
    Snapshot(Snapshot),
    Aws(AwsFacts),
}

macro_rules! delegate {
    ($self:ident, $source:ident => $call:expr) => {
        match $self {
            AnyFactSource::Snapshot($source) => $call,
            AnyFactSource::Aws($source) => $call,
        }
    };
}

impl FactSource for AnyFactSource {
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), FactsError> {
        delegate!(self, s => s.facts(who))
    }

    fn facts_and_verdicts<R, E: From<FactsError>>(
        &self,
        who: &PrincipalRef,
        region: &str,
        required_for: impl FnOnce(&PrincipalFacts) -> Result<R, E>,
        actions_of: impl Fn(&R) -> &[RequiredAction],
        resources_of: impl Fn(&R) -> &[String],
    ) -> Result<(Facts, OrgVisibility, R, Option<Vec<SimulationOutcome>>), E> {
        delegate!(self, s => s.facts_and_verdicts(who, region, required_for, actions_of, resources_of))
    }

    fn verdicts(
        &self,
        principal: &PrincipalFacts,
        required: &[RequiredAction],
        region: &str,
        policies: &ResourcePolicies,
        context: &Supplied,
    ) -> Result<Option<Vec<SimulationOutcome>>, FactsError> {
        delegate!(self, s => s.verdicts(principal, required, region, policies, context))
    }

    fn known_resources(
        &self,
        who: &PrincipalRef,
    ) -> Result<(Vec<String>, Vec<String>), FactsError> {
        delegate!(self, s => s.known_resources(who))
    }

    fn named_resources(&self, known: &[String], from_templates: &[String]) -> Vec<String> {
        delegate!(self, s => s.named_resources(known, from_templates))
    }

    fn readable_resources(&self, named: &[String]) -> (Vec<String>, Vec<String>) {
        delegate!(self, s => s.readable_resources(named))
    }

    fn confirm(
        &self,
        principal: &PrincipalFacts,
        org: &OrgFacts,
        results: &mut [ActionResult],
        region: &str,
    ) -> Result<bool, FactsError> {
        delegate!(self, s => s.confirm(principal, org, results, region))
    }

    fn is_snapshot(&self) -> bool {
        delegate!(self, s => s.is_snapshot())
    }
}
