//! The check: every required action decided for one principal, with its explanation.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, Serializer};

use super::context::Context;
use super::eval::{
    Blame, Decision, NamedPolicy, OrgLevelPolicies, PolicyKind, PolicySet, Request, ResourcePolicy,
    Verdict, evaluate_with_resource_policy,
};
use super::facts::{
    MatchedStatement, OrgFacts, OrgPolicy, PolicyOrigin, PolicySource, PrincipalFacts,
    PrincipalKind, ResourcePolicies, ResourcePolicyFact, SimulatedDecision, SimulationOutcome,
};
use super::policy::{Policy, PolicyError};
use super::profile::{RequiredAction, requested_region};
use super::request_keys::{self, Supplied};

/// What decided a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The local evaluator alone (offline).
    Local,
    /// IAM's simulator, explained by the local evaluator.
    Aws,
}

/// The outcome for one required action. Its `Serialize` is a result of the JSON report (field
/// order included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionResult {
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub engine: Engine,
    #[serde(serialize_with = "explained_blames")]
    pub decided_by: Vec<Blame>,
    /// Why the deploy needs it, and where the generated role grants it.
    pub reason: String,
    pub grant: String,
    pub policy: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_context: Vec<String>,
    /// For an `unknown` decision: the keys of unknown value it depends on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// IAM's own verdict, on live runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<SimulationOutcome>,
    /// Set when the local evaluator and IAM disagree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
    /// The statements IAM said matched, found in the principal's policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<MatchedPolicy>,
    /// What IAM's own engine said when asked to confirm the blamed SCP (`--confirm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
}

/// One cause as reports show it: the blame's fields, its explanation in words, and the service
/// rule with its AWS page when one decided (both, or neither).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedBlame<'a> {
    pub kind: PolicyKind,
    pub verdict: Verdict,
    pub policy: Option<&'a str>,
    pub policy_id: Option<&'a str>,
    pub target: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub statement: Option<&'a str>,
    pub depends_on: &'a [String],
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<&'a str>,
}

impl<'a> From<&'a Blame> for ExplainedBlame<'a> {
    fn from(b: &'a Blame) -> Self {
        let (rule, page) = match (&b.rule, &b.page) {
            (Some(rule), Some(page)) => (Some(rule.as_str()), Some(page.as_str())),
            _ => (None, None),
        };
        ExplainedBlame {
            kind: b.kind,
            verdict: b.verdict,
            policy: b.policy.as_deref(),
            policy_id: b.policy_id.as_deref(),
            target: b.target.as_deref(),
            target_name: b.target_name.as_deref(),
            statement: b.statement.as_deref(),
            depends_on: &b.depends_on,
            explanation: explanation_of(b),
            rule,
            page,
        }
    }
}

/// [`Blame::describe`], remembered for the cause described last: a report's results mostly
/// share their causes with the result before them (one grant covers a run of actions), and
/// describing a cause takes thousands of instructions where comparing it takes a hundred.
fn explanation_of(cause: &Blame) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Blame, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let Ok(mut last) = last.try_borrow_mut() else {
            return cause.describe();
        };
        match last.as_ref() {
            Some((described, text)) if described == cause => text.clone(),
            _ => {
                let text = cause.describe();
                *last = Some((cause.clone(), text.clone()));
                text
            }
        }
    })
}

/// Serializes causes as [`ExplainedBlame`]s: `#[serde(serialize_with = "explained_blames")]`.
pub fn explained_blames<S: Serializer>(causes: &[Blame], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(causes.iter().map(ExplainedBlame::from))
}

/// Every required action decided for one principal, while results are still being merged
/// (IAM's verdicts, confirmations); [`super::findings::Findings`] is the finished report.
///
/// A live run adds IAM's own verdict to each result, and the report says where the two
/// disagree instead of hiding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub principal: String,
    pub profile: String,
    pub region: String,
    pub results: Vec<ActionResult>,
    /// Facts that qualify the result (SCPs not applicable, data not reachable …).
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// True when part of the decision could not be made (e.g. SCPs unreadable).
    pub incomplete: bool,
    /// Required inputs that could not be turned into permissions, so were never decided; each
    /// makes the report incomplete, and every format states them.
    pub unchecked: Vec<String>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub allowed: usize,
    pub denied: usize,
    /// Decisions that depend on keys of unknown value ([`Decision::Unknown`]).
    pub unknown: usize,
}

impl CheckReport {
    /// The results that are not allowed, in order.
    pub fn denied(&self) -> impl Iterator<Item = &ActionResult> {
        self.results.iter().filter(|r| !r.decision.is_allowed())
    }

    /// The keys of unknown value the results depend on, in order of first appearance.
    pub fn depends_on(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for k in self.results.iter().flat_map(|r| &r.depends_on) {
            if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                keys.push(k.clone());
            }
        }
        keys
    }

    pub fn summary(&self) -> Summary {
        let allowed = self
            .results
            .iter()
            .filter(|r| r.decision.is_allowed())
            .count();
        let unknown = self
            .results
            .iter()
            .filter(|r| r.decision == Decision::Unknown)
            .count();
        Summary {
            allowed,
            denied: self.results.len() - allowed - unknown,
            unknown,
        }
    }
}

fn parse_named(src: &PolicySource) -> Result<NamedPolicy, PolicyError> {
    Ok(NamedPolicy {
        name: src.name.clone(),
        id: src.arn.clone(),
        policy: Policy::parse(&src.name, &src.document)?,
    })
}

fn parse_org(p: &OrgPolicy) -> Result<NamedPolicy, PolicyError> {
    Ok(NamedPolicy {
        name: p.name.clone(),
        id: Some(p.id.clone()),
        policy: Policy::parse(&p.name, &p.content)?,
    })
}

/// Builds the policy set of a principal. Notes say why organization policies do not apply
/// where that is the case.
pub fn policy_set(
    principal: &PrincipalFacts,
    org: Option<&OrgFacts>,
) -> Result<(PolicySet, Vec<String>), PolicyError> {
    let mut notes = Vec::new();
    let identity = principal
        .identity_policies
        .iter()
        .map(parse_named)
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = principal
        .permissions_boundary
        .as_ref()
        .map(parse_named)
        .transpose()?;
    let mut set = PolicySet {
        identity,
        boundary,
        ..PolicySet::default()
    };
    if let Some(org) = org {
        if org.is_management_account() {
            notes.push(format!(
                "account {} is the organization's management account: SCPs and RCPs do not apply to it",
                org.account_id
            ));
        } else {
            let levels = |pick: fn(&crate::core::facts::OrgLevel) -> &Vec<OrgPolicy>| {
                org.levels
                    .iter()
                    .map(|l| {
                        Ok(OrgLevelPolicies {
                            target_id: l.id.clone(),
                            target_name: l.name.clone(),
                            target_type: l.target_type,
                            policies: pick(l)
                                .iter()
                                .map(parse_org)
                                .collect::<Result<Vec<_>, _>>()?,
                        })
                    })
                    .collect::<Result<Vec<_>, PolicyError>>()
            };
            if principal.service_linked {
                notes.push(format!(
                    "`{}` is a service-linked role: SCPs do not apply to it",
                    principal.name
                ));
            } else if org.scps_enabled != Some(false) {
                set.scps = levels(|l| &l.scps)?;
            }
            // RCPs count only once some level has one: an organization without RCPs enabled
            // has none attached, and no RCP level must then allow anything.
            if org.rcps_enabled != Some(false) && org.levels.iter().any(|l| !l.rcps.is_empty()) {
                set.rcps = levels(|l| &l.rcps)?;
            }
        }
    }
    Ok((set, notes))
}

/// The request context IAM supplies for this principal and action. Keys only the real request
/// has ([`request_keys::REQUEST_TIME_KEYS`], [`request_keys::KEY_FAMILIES`]) are unknown unless
/// `supplied` states them; [`resource_context`] then adds what the request's resource tells.
pub fn request_context(
    principal: &PrincipalFacts,
    org: Option<&OrgFacts>,
    action: &str,
    region: &str,
    supplied: &Supplied,
) -> Context {
    let mut ctx = Context::new();
    ctx.set("aws:RequestedRegion", requested_region(action, region));
    ctx.set("aws:PrincipalArn", principal.arn.clone());
    ctx.set("aws:PrincipalAccount", principal.account_id.clone());
    ctx.set(
        "aws:PrincipalType",
        match principal.kind {
            PrincipalKind::Role => "AssumedRole",
            PrincipalKind::User => "User",
        },
    );
    // "set to false if the service uses the credentials of an IAM principal"
    // (reference_policies_condition-keys, aws:PrincipalIsAWSService): the principal is one.
    ctx.set("aws:PrincipalIsAWSService", "false");
    if principal.kind == PrincipalKind::User {
        ctx.set("aws:username", principal.name.clone());
    }
    for (k, v) in &principal.tags {
        ctx.set(format!("aws:PrincipalTag/{k}"), v.clone());
    }
    if let Some(org_id) = org.and_then(|o| o.organization_id.clone()) {
        ctx.set("aws:PrincipalOrgID", org_id);
    }
    if let Some((org, org_id)) = org
        .filter(|o| !o.levels.is_empty())
        .and_then(|o| o.organization_id.as_ref().map(|id| (o, id)))
    {
        let path: Vec<&str> = org
            .levels
            .iter()
            .filter(|l| l.target_type != crate::core::facts::TargetType::Account)
            .map(|l| l.id.as_str())
            .collect();
        ctx.set_multi(
            "aws:PrincipalOrgPaths",
            vec![format!("{org_id}/{}/", path.join("/"))],
        );
    }
    request_keys::mark_unknown(&mut ctx);
    supplied.apply(&mut ctx);
    ctx
}

/// The context of one required request: the principal's `base` from [`request_context`] (built
/// once per run), the action's `aws:RequestedRegion` unless the user stated it, and what the
/// request's resource tells ([`resource_context`]).
pub fn action_context(
    base: &Context,
    principal: &PrincipalFacts,
    action: &str,
    resource: &str,
    region: &str,
    supplied: &Supplied,
) -> Context {
    let mut context = base.clone();
    set_action_keys(
        &mut context,
        base,
        principal,
        action,
        resource,
        region,
        supplied,
    );
    context
}

/// Turns `context`, a copy of `base` that may hold another action's keys, into
/// [`action_context`]'s context for this action: the keys that vary between actions
/// ([`REQUESTED_REGION`], [`RESOURCE_KEYS`]) are reset to `base` and set again, the principal's
/// are left as they are. A run of requests shares one context this way instead of copying
/// `base` for each ([`ActionRequests`] also skips the reset when the keys do not change).
pub fn set_action_keys(
    context: &mut Context,
    base: &Context,
    principal: &PrincipalFacts,
    action: &str,
    resource: &str,
    region: &str,
    supplied: &Supplied,
) {
    ActionKeys::of(principal, action, resource, region, supplied).apply(context, base);
}

const REQUESTED_REGION: &str = "aws:RequestedRegion";

/// The keys of a request's resource that [`resource_context`] sets, each with the principal's
/// key it equals for a resource of the principal's own account.
const RESOURCE_KEYS: [(&str, Option<&str>); 3] = [
    ("aws:ResourceAccount", None),
    ("aws:ResourceOrgID", Some("aws:PrincipalOrgID")),
    ("aws:ResourceOrgPaths", Some("aws:PrincipalOrgPaths")),
];

/// What one request's keys that vary between actions hold, apart from the principal's base
/// context: two requests with equal `ActionKeys` have equal contexts, so a run of requests
/// sharing one context resets these keys only when they change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ActionKeys<'a> {
    /// `aws:RequestedRegion`, unless the user stated it.
    requested_region: Option<&'a str>,
    /// Each of [`RESOURCE_KEYS`], in that order.
    resource: [ResourceKey<'a>; 3],
}

/// What [`resource_context`] gives one of [`RESOURCE_KEYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceKey<'a> {
    /// As in the base context: stated by the user, or of unknown value.
    AsBase,
    /// Absent: the action's requests do not carry the key.
    Absent,
    /// The owner account in the resource's ARN.
    Account(&'a str),
    /// The value of the principal's key it equals: the resource is in the principal's account.
    Principal,
}

impl<'a> ActionKeys<'a> {
    fn of(
        principal: &PrincipalFacts,
        action: &str,
        resource: &'a str,
        region: &'a str,
        supplied: &Supplied,
    ) -> Self {
        Self {
            requested_region: (!supplied.states(REQUESTED_REGION))
                .then(|| requested_region(action, region)),
            resource: resource_keys(principal, action, resource, supplied),
        }
    }

    /// Gives `context` (a copy of `base` that may hold another action's keys) these keys.
    fn apply(&self, context: &mut Context, base: &Context) {
        for key in std::iter::once(REQUESTED_REGION).chain(RESOURCE_KEYS.map(|(key, _)| key)) {
            context.copy_key_from(base, key);
        }
        if let Some(region) = self.requested_region {
            context.set(REQUESTED_REGION, region);
        }
        set_resource_keys(context, &self.resource);
    }
}

/// Sets the keys of the request's resource that the check can know, from the global condition
/// keys page (`request_keys::SOURCE`): `aws:ResourceAccount` "is equal to the AWS account ID for
/// the account with the resources evaluated in the request", and "for most resources in your
/// account, the ARN contains the owner account ID" (an S3 bucket's does not); a resource of the
/// principal's own account is in the principal's organization, so `aws:ResourceOrgID` and
/// `aws:ResourceOrgPaths` are the principal's. Actions whose requests do not carry these keys
/// (the keys' "Availability" lines) have them absent. Everything else stays unknown, and
/// values the user stated (`--context`) are left as stated.
pub fn resource_context(
    ctx: &mut Context,
    principal: &PrincipalFacts,
    action: &str,
    resource: &str,
    supplied: &Supplied,
) {
    set_resource_keys(ctx, &resource_keys(principal, action, resource, supplied));
}

/// What [`resource_context`] gives each of [`RESOURCE_KEYS`].
fn resource_keys<'a>(
    principal: &PrincipalFacts,
    action: &str,
    resource: &'a str,
    supplied: &Supplied,
) -> [ResourceKey<'a>; 3] {
    let owner = super::arn::Arn::parse(resource)
        .map(|a| a.account)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let same_account = owner == Some(principal.account_id.as_str());
    RESOURCE_KEYS.map(|(key, from_principal)| {
        if supplied.states(key) {
            return ResourceKey::AsBase;
        }
        if !request_keys::carries_resource_key(key, action) {
            return ResourceKey::Absent;
        }
        match (from_principal, owner) {
            (None, Some(account)) => ResourceKey::Account(account),
            (Some(_), Some(_)) if same_account => ResourceKey::Principal,
            _ => ResourceKey::AsBase,
        }
    })
}

fn set_resource_keys(ctx: &mut Context, keys: &[ResourceKey<'_>; 3]) {
    for ((key, from_principal), state) in RESOURCE_KEYS.iter().zip(keys) {
        match state {
            ResourceKey::AsBase => {}
            ResourceKey::Absent => {
                ctx.remove(key);
            }
            ResourceKey::Account(account) => {
                ctx.set(*key, *account);
            }
            ResourceKey::Principal => {
                let principal_value = from_principal.and_then(|k| ctx.get(k)).cloned();
                if let Some(entry) = principal_value {
                    if entry.multivalued {
                        ctx.set_multi(*key, entry.values);
                    } else if let [one] = entry.values.as_slice() {
                        ctx.set(*key, one.clone());
                    }
                }
            }
        }
    }
}

/// The requests of a run, each with its context, built on one principal's base context
/// ([`request_context`]). One [`Request`] serves them all: only the keys that vary between
/// actions are reset, and only when they differ from the previous request's.
pub struct ActionRequests<'a> {
    base: Context,
    principal: &'a PrincipalFacts,
    region: &'a str,
    supplied: &'a Supplied,
    request: Request,
    /// The per-action keys `request.context` holds; `None` while it is `base`.
    applied: Option<ActionKeys<'a>>,
}

impl<'a> ActionRequests<'a> {
    pub fn new(
        principal: &'a PrincipalFacts,
        org: Option<&OrgFacts>,
        region: &'a str,
        supplied: &'a Supplied,
    ) -> Self {
        let base = request_context(principal, org, "", region, supplied);
        let request = Request {
            principal: principal.arn.clone(),
            action: String::new(),
            resource: String::new(),
            context: base.clone(),
        };
        Self {
            base,
            principal,
            region,
            supplied,
            request,
            applied: None,
        }
    }

    /// The request of `action` on `resource`, its context as [`action_context`] builds it.
    pub fn request(&mut self, action: &str, resource: &'a str) -> &Request {
        let keys = ActionKeys::of(self.principal, action, resource, self.region, self.supplied);
        if self.applied != Some(keys) {
            keys.apply(&mut self.request.context, &self.base);
            self.applied = Some(keys);
        }
        self.request.action.clear();
        self.request.action.push_str(action);
        self.request.resource.clear();
        self.request.resource.push_str(resource);
        &self.request
    }
}

/// A resource policy read from the facts, parsed once for every action on its resource.
enum ParsedResourcePolicy {
    NoPolicy,
    Policy(NamedPolicy),
    Unreadable,
}

/// Decides every required action locally, each with what is known of its resource's
/// resource-based policy (`resource_policies`, by ARN; a resource absent from it was never
/// looked at). A resource policy that cannot be parsed is an error naming it and its
/// resource, as an identity policy's is.
///
/// Facts (a principal's policies and its organization path) become a [`PolicySet`]; each
/// required action becomes a [`Request`] with the context keys IAM would supply; the local
/// evaluator decides it.
pub fn check_local(
    set: &PolicySet,
    principal: &PrincipalFacts,
    org: Option<&OrgFacts>,
    resource_policies: &ResourcePolicies,
    required: &[RequiredAction],
    region: &str,
    supplied: &Supplied,
) -> Result<Vec<ActionResult>, PolicyError> {
    let parsed = resource_policies
        .iter()
        .map(|(arn, fact)| {
            let parsed = match fact {
                ResourcePolicyFact::NoPolicy => ParsedResourcePolicy::NoPolicy,
                ResourcePolicyFact::Unreadable { .. } => ParsedResourcePolicy::Unreadable,
                ResourcePolicyFact::Policy { name, document } => {
                    ParsedResourcePolicy::Policy(NamedPolicy {
                        name: name.clone(),
                        id: Some(arn.clone()),
                        policy: Policy::parse(&format!("{name} (of {arn})"), document)?,
                    })
                }
            };
            Ok((arn.as_str(), parsed))
        })
        .collect::<Result<BTreeMap<&str, ParsedResourcePolicy>, PolicyError>>()?;
    let mut requests = ActionRequests::new(principal, org, region, supplied);
    let results = required
        .iter()
        .map(|r| {
            let request = requests.request(&r.action, &r.resource);
            // A bucket policy governs the bucket's objects too (`arn:aws:s3:::BUCKET/KEY`).
            let governing = super::resources::governing_resource(resource_policies, &r.resource)
                .and_then(|(arn, _)| parsed.get(arn));
            let resource_policy = match governing {
                None => ResourcePolicy::NotSupplied,
                Some(ParsedResourcePolicy::NoPolicy) => ResourcePolicy::NoPolicy,
                Some(ParsedResourcePolicy::Policy(p)) => ResourcePolicy::Policy(p),
                Some(ParsedResourcePolicy::Unreadable) => ResourcePolicy::Unreadable,
            };
            let e = evaluate_with_resource_policy(set, request, resource_policy);
            ActionResult {
                action: r.action.clone(),
                resource: r.resource.clone(),
                decision: e.decision,
                engine: Engine::Local,
                decided_by: e.decided_by,
                missing_context: e.missing_context,
                depends_on: e.depends_on,
                reason: r.reason.clone(),
                grant: r.grant.clone(),
                policy: r.policy.clone(),
                aws: None,
                disagreement: None,
                matched: Vec::new(),
                confirmation: None,
            }
        })
        .collect();
    Ok(results)
}

/// What a report must say about resource-based policies: which resources were decided
/// without theirs (never looked at), and which could not be read.
pub fn resource_policy_notes(
    results: &[ActionResult],
    resource_policies: &ResourcePolicies,
) -> Vec<String> {
    let mut notes = Vec::new();
    let named: BTreeSet<&str> = results
        .iter()
        .map(|r| r.resource.as_str())
        .filter(|r| *r != "*")
        .collect();
    let without: Vec<&str> = named
        .iter()
        .copied()
        .filter(|arn| super::resources::governing_resource(resource_policies, arn).is_none())
        .collect();
    if !without.is_empty() {
        let shown: Vec<String> = without.iter().take(3).map(|a| format!("`{a}`")).collect();
        notes.push(format!(
            "resource-based policies were not supplied for {} resource(s) ({}{}): their actions were decided without them, and a KMS key without its key policy is not counted as allowed",
            without.len(),
            shown.join(", "),
            if without.len() > shown.len() { ", …" } else { "" }
        ));
    }
    // A policy that must allow (a KMS key policy) and was not supplied: named one by one, since
    // those actions are held rather than decided.
    let held: BTreeSet<&str> = results
        .iter()
        .filter(|r| r.undecidable() && without.contains(&r.resource.as_str()))
        .map(|r| r.resource.as_str())
        .collect();
    for arn in held {
        notes.push(format!(
            "the {} of `{arn}` was not supplied, and it must allow: its actions are not counted as allowed",
            super::resources::ResourceKind::of(arn)
                .map_or("resource-based policy", super::resources::ResourceKind::policy_label)
        ));
    }
    // A bucket's policy governs its objects: it matters when a result is on the bucket or in it.
    let governing: BTreeSet<&str> = named
        .iter()
        .filter_map(|r| super::resources::governing_resource(resource_policies, r))
        .map(|(arn, _)| arn)
        .collect();
    for (arn, fact) in resource_policies {
        if let ResourcePolicyFact::Unreadable { reason } = fact
            && governing.contains(arn.as_str())
        {
            notes.push(format!(
                "the resource-based policy of `{arn}` could not be read ({reason}): its actions are not counted as allowed"
            ));
        }
    }
    notes
}

impl CheckReport {
    /// The one place a check or an explanation fails closed on what it could not decide: a
    /// result whose resource policy could not be read, or whose KMS key policy was not
    /// supplied, is never allowed (whatever decided it afterwards: IAM's simulator is given
    /// no resource policy for a role), and the report is incomplete. Call it once the results
    /// are final.
    pub fn hold_undecidable(&mut self) {
        for r in &mut self.results {
            if !r.undecidable() {
                continue;
            }
            self.incomplete = true;
            if r.decision.is_allowed() {
                r.decision = Decision::ImplicitDeny;
                r.disagreement = Some(
                    "not decided: its resource-based policy is not known, so it is not known to be allowed"
                        .to_string(),
                );
            }
        }
    }
}

impl ActionResult {
    /// True when part of the decision could not be made: a resource policy that could not be
    /// read, or a key policy that was not supplied. Such a result is never allowed, and a
    /// check that has one is incomplete.
    pub fn undecidable(&self) -> bool {
        self.decided_by
            .iter()
            .any(|b| b.verdict == Verdict::Unreadable)
    }
}

/// IAM's verdict as a decision.
pub fn simulated_decision(d: SimulatedDecision) -> Decision {
    match d {
        SimulatedDecision::Allowed => Decision::Allowed,
        SimulatedDecision::ImplicitDeny => Decision::ImplicitDeny,
        SimulatedDecision::ExplicitDeny => Decision::ExplicitDeny,
    }
}

/// What the local side could see of the organization, for merging with IAM's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgVisibility {
    /// The SCP/RCP chain was read and evaluated locally.
    Evaluated,
    /// SCPs do not apply (no organization, management account, service-linked role).
    NotApplicable,
    /// The chain could not be read (no access to Organizations).
    Unreadable,
}

/// Puts IAM's simulator verdicts on the local results. IAM decides, except where it cannot:
/// it does not evaluate RCPs, so a local RCP denial stands. Every disagreement is written into
/// the result instead of being resolved silently, and a result IAM returned nothing for stays
/// as an error for the caller (`missing`), never as "allowed".
pub fn merge_simulation(
    principal: &PrincipalFacts,
    local: Vec<ActionResult>,
    outcomes: &[SimulationOutcome],
    org: OrgVisibility,
) -> (Vec<ActionResult>, Vec<String>) {
    let mut missing = Vec::new();
    let merged = local
        .into_iter()
        .map(|mut r| {
            // IAM's answer for this very resource, else one that covers every resource: the
            // `*` answer of the same action must not stand in for a resource IAM was asked about.
            let same_action = |o: &&SimulationOutcome| o.action.eq_ignore_ascii_case(&r.action);
            let found = outcomes
                .iter()
                .filter(same_action)
                .find(|o| o.resource == r.resource)
                .or_else(|| outcomes.iter().filter(same_action).find(|o| outcomes_cover_all(o)));
            let Some(o) = found else {
                missing.push(r.action.clone());
                return r;
            };
            let aws = simulated_decision(o.decision);
            r.engine = Engine::Aws;
            for k in &o.missing_context_values {
                if !r.missing_context.iter().any(|m| m.eq_ignore_ascii_case(k)) {
                    r.missing_context.push(k.clone());
                }
            }
            let rcp_denies = r.decided_by.iter().any(|b| b.kind == PolicyKind::Rcp && b.verdict != Verdict::Allows);
            // IAM's simulator is given a resource policy only for a user (`o.resource_policy`),
            // and knows nothing of the service rules: where those decided unseen, the local
            // decision stands, unless IAM found an explicit deny or an organization policy that
            // stops it, which the local side would otherwise have to see too.
            let unseen_by_iam = r.decided_by.iter().any(|b| match b.kind {
                PolicyKind::ResourcePolicy => o.resource_policy.is_none(),
                PolicyKind::ServiceRule => true,
                _ => false,
            });
            let local = r.decision;
            if aws == local {
                // Agreement; nothing to add.
            } else if local == Decision::Unknown && aws.is_allowed() {
                // IAM decided with whatever values it assumed for keys the real request will
                // carry; the local engine found a Deny or a needed Allow that depends on them.
                r.disagreement = Some(format!(
                    "IAM's simulator says allowed, but the decision depends on {} whose values the real request will carry: not counted as allowed until they are given with `--context KEY=VALUE`",
                    r.depends_on.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ));
            } else if rcp_denies && aws.is_allowed() {
                r.disagreement = Some(
                    "decided locally: IAM's simulator does not evaluate resource control policies".to_string(),
                );
            } else if unseen_by_iam
                && aws != Decision::ExplicitDeny
                && o.allowed_by_organizations != Some(false)
            {
                r.disagreement = Some(format!(
                    "decided locally: IAM's simulator says {} but does not see the resource-based policy or the service rule that decided",
                    aws.label()
                ));
            } else if o.allowed_by_organizations == Some(false) && org == OrgVisibility::Unreadable {
                r.decision = aws;
                let verdict = if aws == Decision::ExplicitDeny {
                    Verdict::Denies
                } else {
                    Verdict::FailsToAllow
                };
                r.decided_by = vec![Blame::new(PolicyKind::Scp, verdict)];
                r.disagreement = Some(
                    "IAM says the organization's policies stop it; the SCPs could not be read to say which"
                        .to_string(),
                );
            } else {
                r.decision = aws;
                r.disagreement = Some(format!(
                    "IAM's simulator says {} but the local evaluation says {}: IAM's verdict is used; the explanation above is the local one",
                    aws.label(),
                    local.label()
                ));
            }
            r.matched = o
                .matched_statements
                .iter()
                .filter_map(|m| resolve_matched(principal, m))
                .collect();
            if r.disagreement.is_none() && aws == local && !r.matched.is_empty() {
                let named_by_iam: BTreeSet<&str> = r.matched.iter().map(|m| m.policy.as_str()).collect();
                let named_here: BTreeSet<&str> = r
                    .decided_by
                    .iter()
                    .filter(|b| matches!(b.kind, PolicyKind::Identity | PolicyKind::Boundary))
                    .filter_map(|b| b.policy.as_deref())
                    .collect();
                if !named_here.is_empty() && named_by_iam != named_here {
                    r.disagreement = Some(format!(
                        "IAM matched statements in {} where the local evaluation names {}",
                        named_by_iam.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                        named_here.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            r.aws = Some(o.clone());
            r
        })
        .collect();
    (merged, missing)
}

/// A statement IAM reported as matched, found in the principal's own policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedPolicy {
    pub policy: String,
    /// The statement's Sid, or `#index`, when its position could be read.
    pub statement: Option<String>,
    /// The statement as written in the policy.
    pub text: Option<String>,
}

/// Maps IAM's `SourcePolicyId` (the policy name for managed policies and boundaries,
/// `role_<role>_<policy>` / `user_…` / `group_…` for inline ones) and the statement's position
/// back to a policy name, statement label and text. `None` when the policy is not one of the
/// principal's (an SCP, which IAM never lists, or a resource policy).
pub fn resolve_matched(principal: &PrincipalFacts, m: &MatchedStatement) -> Option<MatchedPolicy> {
    let id = m.source_policy_id.as_str();
    let sources = principal
        .identity_policies
        .iter()
        .chain(principal.permissions_boundary.iter());
    let source = sources.clone().find(|p| {
        let inline_id = match (p.origin, &p.group) {
            (PolicyOrigin::Inline, _) => {
                let kind = match principal.kind {
                    PrincipalKind::Role => "role",
                    PrincipalKind::User => "user",
                };
                Some(format!("{kind}_{}_{}", principal.name, p.name))
            }
            (PolicyOrigin::GroupInline, Some(g)) => Some(format!("group_{g}_{}", p.name)),
            _ => None,
        };
        match inline_id {
            Some(inline) => inline == id,
            None => p.name == id || p.arn.as_deref() == Some(id),
        }
    })?;
    let text = policy_text(&source.document);
    let statement_text = match (m.start, m.end) {
        (Some(start), Some(end)) => text.as_deref().and_then(|t| span(t, start, end)),
        _ => None,
    };
    let statement = statement_text.as_deref().and_then(|st| {
        let value: serde_json::Value = serde_json::from_str(st).ok()?;
        let policy = Policy::parse(&source.name, &source.document).ok()?;
        policy
            .statements
            .iter()
            .find(|s| s.source == value)
            .map(|s| s.label())
    });
    Some(MatchedPolicy {
        policy: source.name.clone(),
        statement,
        text: statement_text,
    })
}

/// The document as IAM numbers its lines: URL-decoded when it was URL-encoded.
fn policy_text(document: &str) -> Option<String> {
    super::policy::document_text(document).map(Cow::into_owned)
}

/// The text from a 1-based (line, column) start to an inclusive end, when both lie in `text`
/// and it reads as one JSON object.
fn span(text: &str, start: (i32, i32), end: (i32, i32)) -> Option<String> {
    let offset = |(line, col): (i32, i32)| -> Option<usize> {
        let line = usize::try_from(line).ok()?.checked_sub(1)?;
        let col = usize::try_from(col).ok()?.checked_sub(1)?;
        let mut pos = 0usize;
        for (i, l) in text.split('\n').enumerate() {
            if i == line {
                return (col <= l.len()).then_some(pos + col);
            }
            pos += l.len() + 1;
        }
        None
    };
    let (a, b) = (offset(start)?, offset(end)?);
    let piece = text.get(a..=b)?.trim();
    (piece.starts_with('{') && piece.ends_with('}')).then(|| piece.to_string())
}

/// A per-action result IAM reports for several resources at once.
fn outcomes_cover_all(o: &SimulationOutcome) -> bool {
    o.resource == "*"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::{OrgLevel, SimulatedDecision, TargetType};

    fn principal() -> PrincipalFacts {
        PrincipalFacts {
            kind: PrincipalKind::Role,
            name: "deployer".into(),
            arn: "arn:aws:iam::111122223333:role/deployer".into(),
            path: "/".into(),
            account_id: "111122223333".into(),
            identity_policies: vec![PolicySource {
                name: "DefaultPolicy".into(),
                arn: None,
                origin: PolicyOrigin::Inline,
                group: None,
                document: r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*","iam:*"],"Resource":"*"}]}"#.into(),
            }],
            permissions_boundary: None,
            tags: vec![],
            service_linked: false,
        }
    }

    fn org(management: Option<&str>) -> OrgFacts {
        let scp = |name: &str, content: &str| OrgPolicy {
            id: format!("p-{name}"),
            name: name.into(),
            arn: None,
            aws_managed: false,
            content: content.into(),
        };
        OrgFacts {
            account_id: "111122223333".into(),
            organization_id: Some("o-abc".into()),
            management_account_id: management.map(str::to_string),
            scps_enabled: None,
            rcps_enabled: None,
            levels: vec![
                OrgLevel {
                    id: "r-1".into(),
                    target_type: TargetType::Root,
                    name: "Root".into(),
                    scps: vec![scp(
                        "FullAWSAccess",
                        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                    )],
                    rcps: vec![],
                },
                OrgLevel {
                    id: "111122223333".into(),
                    target_type: TargetType::Account,
                    name: "dev".into(),
                    scps: vec![scp(
                        "RegionLock",
                        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"Region","Effect":"Deny","NotAction":["iam:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#,
                    )],
                    rcps: vec![],
                },
            ],
        }
    }

    /// A KMS key without its key policy is never allowed and makes the check incomplete; an
    /// unreadable resource policy likewise; a resource with a policy is decided with it; and
    /// the notes say which resources were decided without theirs.
    #[test]
    fn check_local_decides_each_request_with_its_resource_policy() {
        let key = "arn:aws:kms:eu-west-1:111122223333:key/k-1";
        let bucket = "arn:aws:s3:::deploy-bucket/app.zip";
        let queue = "arn:aws:sqs:eu-west-1:111122223333:q";
        let on = |action: &str, resource: &str| RequiredAction {
            resource: resource.into(),
            ..required(action)
        };
        let mut p = principal();
        p.identity_policies[0].document =
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into();
        let (set, _) = policy_set(&p, None).expect("valid");
        let mut facts = ResourcePolicies::new();
        facts.insert(
            bucket.into(),
            ResourcePolicyFact::Policy {
                name: "BucketPolicy".into(),
                document: r#"{"Statement":[{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}]}"#.into(),
            },
        );
        facts.insert(
            queue.into(),
            ResourcePolicyFact::Unreadable {
                reason: "AccessDenied".into(),
            },
        );
        let results = check_local(
            &set,
            &p,
            None,
            &facts,
            &[
                on("kms:Decrypt", key),
                on("s3:DeleteObject", bucket),
                on("s3:PutObject", bucket),
                on("sqs:SendMessage", queue),
            ],
            "eu-west-1",
            &Supplied::default(),
        )
        .expect("valid");
        assert_eq!(results[0].decision, Decision::ImplicitDeny);
        assert!(results[0].undecidable());
        assert_eq!(results[1].decision, Decision::ExplicitDeny);
        assert_eq!(results[1].decided_by[0].kind, PolicyKind::ResourcePolicy);
        assert!(!results[1].undecidable());
        assert_eq!(results[2].decision, Decision::Allowed);
        assert!(!results[3].decision.is_allowed() && results[3].undecidable());
        let notes = resource_policy_notes(&results, &facts);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("not supplied") && n.contains(key)),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("the key policy of") && n.contains(key)),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains(queue) && n.contains("AccessDenied")),
            "{notes:?}"
        );
        // A malformed resource policy is an input error naming it and its resource.
        facts.insert(
            bucket.into(),
            ResourcePolicyFact::Policy {
                name: "BucketPolicy".into(),
                document: r#"{"Statement":[{"Effect":"Maybe","Action":"s3:*"}]}"#.into(),
            },
        );
        let err = check_local(
            &set,
            &p,
            None,
            &facts,
            &[],
            "eu-west-1",
            &Supplied::default(),
        )
        .expect_err("malformed");
        assert!(
            err.policy.contains("BucketPolicy") && err.policy.contains(bucket),
            "{err}"
        );
    }

    /// The one fail-closed step: IAM's simulator is given no resource policy for a role, so its
    /// "allowed" cannot lift a result whose key policy was not supplied or whose bucket policy
    /// could not be read (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html;
    /// IAM user guide `reference_policies_evaluation-logic.html`): after the merge none is
    /// allowed, the report is incomplete, and the notes name the unreadable bucket even when
    /// only its objects were asked for.
    #[test]
    fn undecidable_results_stay_held_after_iam_allows_them() {
        let key = "arn:aws:kms:eu-west-1:111122223333:key/k-1";
        let bucket = "arn:aws:s3:::deploy-bucket";
        let objects = "arn:aws:s3:::deploy-bucket/*";
        let on = |action: &str, resource: &str| RequiredAction {
            resource: resource.into(),
            ..required(action)
        };
        let mut p = principal();
        p.identity_policies[0].document =
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into();
        let (set, _) = policy_set(&p, None).expect("valid");
        let facts = ResourcePolicies::from([(
            bucket.to_string(),
            ResourcePolicyFact::Unreadable {
                reason: "AccessDenied".into(),
            },
        )]);
        let asked = [
            on("kms:Decrypt", key),
            on("s3:PutObject", objects),
            required("iam:CreateRole"),
        ];
        let local = check_local(
            &set,
            &p,
            None,
            &facts,
            &asked,
            "eu-west-1",
            &Supplied::default(),
        )
        .expect("valid");
        let notes = resource_policy_notes(&local, &facts);
        assert!(
            notes
                .iter()
                .any(|n| n.contains(bucket) && n.contains("AccessDenied")),
            "{notes:?}"
        );
        let iam_allows: Vec<SimulationOutcome> = asked
            .iter()
            .map(|r| SimulationOutcome {
                resource: r.resource.clone(),
                ..outcome(&r.action, SimulatedDecision::Allowed, Some(true))
            })
            .collect();
        let (results, missing) =
            merge_simulation(&p, local, &iam_allows, OrgVisibility::NotApplicable);
        assert!(missing.is_empty());
        let mut report = CheckReport {
            principal: p.arn.clone(),
            profile: "jets-remote".into(),
            region: "eu-west-1".into(),
            results,
            notes,
            warnings: vec![],
            incomplete: false,
            unchecked: vec![],
        };
        report.hold_undecidable();
        assert!(report.incomplete);
        let decisions: Vec<Decision> = report.results.iter().map(|r| r.decision).collect();
        assert!(
            !decisions[0].is_allowed() && !decisions[1].is_allowed(),
            "{decisions:?}"
        );
        assert_eq!(decisions[2], Decision::Allowed);

        // A result made allowed by a later step is put back to not allowed, saying why.
        let mut later = report.clone();
        later.incomplete = false;
        later.results[0].decision = Decision::Allowed;
        later.hold_undecidable();
        assert!(later.incomplete);
        assert_eq!(later.results[0].decision, Decision::ImplicitDeny);
        assert!(
            later.results[0]
                .disagreement
                .as_deref()
                .is_some_and(|d| d.starts_with("not decided")),
            "{:?}",
            later.results[0].disagreement
        );
    }

    fn required(action: &str) -> RequiredAction {
        RequiredAction {
            action: action.into(),
            resource: "*".into(),
            grant: "x".into(),
            policy: "DefaultPolicy".into(),
            reason: "test".into(),
        }
    }

    #[test]
    fn region_lock_denies_regional_but_not_global_services() {
        let (set, notes) = policy_set(&principal(), Some(&org(None))).expect("valid");
        assert!(notes.is_empty());
        let results = check_local(
            &set,
            &principal(),
            Some(&org(None)),
            &ResourcePolicies::new(),
            &[
                required("ec2:CreateNetworkInterface"),
                required("iam:CreateRole"),
            ],
            "eu-west-1",
            &Supplied::default(),
        )
        .expect("no resource policies to parse");
        assert_eq!(results[0].decision, Decision::ExplicitDeny);
        assert_eq!(
            results[0].decided_by[0].statement.as_deref(),
            Some("Region")
        );
        assert_eq!(results[1].decision, Decision::Allowed);
    }

    #[test]
    fn management_account_is_exempt_and_noted() {
        let o = org(Some("111122223333"));
        let (set, notes) = policy_set(&principal(), Some(&o)).expect("valid");
        assert!(set.scps.is_empty());
        assert!(notes[0].contains("management account"));
    }

    #[test]
    fn service_linked_role_is_exempt_from_scps() {
        let mut p = principal();
        p.service_linked = true;
        let (set, notes) = policy_set(&p, Some(&org(None))).expect("valid");
        assert!(set.scps.is_empty());
        assert!(notes[0].contains("service-linked"));
    }

    #[test]
    fn malformed_scp_is_an_error_naming_it() {
        let mut o = org(None);
        o.levels[1].scps[0].content = "{\"Statement\":[{\"Effect\":\"Perhaps\"}]}".into();
        let e = policy_set(&principal(), Some(&o)).expect_err("malformed");
        assert_eq!(e.policy, "RegionLock");
    }

    #[test]
    fn context_has_principal_keys() {
        let ctx = request_context(
            &principal(),
            Some(&org(None)),
            "iam:CreateRole",
            "eu-west-1",
            &Supplied::default(),
        );
        assert_eq!(
            ctx.get("aws:requestedregion").map(|e| e.values[0].as_str()),
            Some("us-east-1")
        );
        assert_eq!(
            ctx.get("aws:PrincipalAccount")
                .map(|e| e.values[0].as_str()),
            Some("111122223333")
        );
        assert_eq!(
            ctx.get("aws:PrincipalOrgPaths")
                .map(|e| e.values[0].as_str()),
            Some("o-abc/r-1/")
        );
    }

    #[test]
    fn request_time_keys_are_unknown_unless_supplied() {
        // reference_policies_condition-keys: aws:SourceIp "is included in the request context,
        // except when the requester uses a VPC endpoint"; aws:SecureTransport "is always
        // included". The check cannot know either value.
        let ctx = request_context(
            &principal(),
            None,
            "s3:GetObject",
            "eu-west-1",
            &Supplied::default(),
        );
        assert!(ctx.unknown("aws:SourceIp").is_some_and(|u| u.may_be_absent));
        assert!(
            ctx.unknown("aws:SecureTransport")
                .is_some_and(|u| !u.may_be_absent)
        );
        let mut supplied = Supplied::default();
        supplied.state("aws:SourceIp", Some(vec!["203.0.113.7".into()]));
        supplied.state("aws:MultiFactorAuthAge", None);
        let ctx = request_context(&principal(), None, "s3:GetObject", "eu-west-1", &supplied);
        assert_eq!(
            ctx.get("aws:SourceIp").map(|e| e.values.clone()),
            Some(vec!["203.0.113.7".to_string()])
        );
        assert!(ctx.unknown("aws:MultiFactorAuthAge").is_none());
        assert!(!ctx.contains("aws:MultiFactorAuthAge"));
    }

    /// A stated `aws:RequestedRegion` is the request's, as every other stated key is; otherwise
    /// each action gets its own (a global service's actions are requested in us-east-1).
    #[test]
    fn action_context_keeps_a_stated_requested_region() {
        let p = principal();
        let none = Supplied::default();
        let base = request_context(&p, None, "", "eu-west-1", &none);
        let region_of = |ctx: &Context| ctx.get("aws:RequestedRegion").map(|e| e.values.clone());
        let own = action_context(&base, &p, "s3:GetObject", "*", "eu-west-1", &none);
        assert_eq!(region_of(&own), Some(vec!["eu-west-1".to_string()]));
        let mut stated = Supplied::default();
        stated.state("aws:RequestedRegion", Some(vec!["ap-south-1".to_string()]));
        let base = request_context(&p, None, "", "eu-west-1", &stated);
        let ctx = action_context(&base, &p, "s3:GetObject", "*", "eu-west-1", &stated);
        assert_eq!(region_of(&ctx), Some(vec!["ap-south-1".to_string()]));
    }

    /// Regression: one context serves every action of a check; the keys of one action (its
    /// resource's account and organization, its region, a key made absent) must not carry over
    /// to the next, whatever order the actions come in.
    #[test]
    fn a_shared_context_carries_no_key_over_from_the_previous_action() {
        let org = org(None);
        let p = principal();
        let none = Supplied::default();
        let base = request_context(&p, Some(&org), "", "eu-west-1", &none);
        let requests = [
            ("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k-1"),
            (
                "events:PutRule",
                "arn:aws:events:eu-west-1:111122223333:rule/r",
            ),
            ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:444455556666:q"),
            ("iam:PassRole", "arn:aws:iam::111122223333:role/app"),
            ("s3:GetObject", "arn:aws:s3:::deploy-bucket/app.zip"),
            ("cloudfront:CreateDistribution", "*"),
        ];
        for order in [requests.to_vec(), requests.iter().rev().copied().collect()] {
            let mut shared = base.clone();
            for (action, resource) in order {
                set_action_keys(&mut shared, &base, &p, action, resource, "eu-west-1", &none);
                let fresh = action_context(&base, &p, action, resource, "eu-west-1", &none);
                assert_eq!(shared, fresh, "{action} on {resource}");
            }
        }
    }

    /// A cause's explanation is its description whether or not it was the cause explained
    /// last: repeated, alternating, or differing in one field only.
    #[test]
    fn explanations_are_the_causes_descriptions() {
        let named = |kind, verdict, policy: &str, statement: &str| Blame {
            policy: Some(policy.into()),
            statement: Some(statement.into()),
            ..Blame::new(kind, verdict)
        };
        let allow = named(PolicyKind::Identity, Verdict::Allows, "DefaultPolicy", "#0");
        let other_statement = named(PolicyKind::Identity, Verdict::Allows, "DefaultPolicy", "#1");
        let deny = Blame {
            target: Some("ou-1".into()),
            target_name: Some("Workloads".into()),
            ..named(PolicyKind::Scp, Verdict::Denies, "RegionLock", "Deny")
        };
        for cause in [
            &allow,
            &allow,
            &other_statement,
            &allow,
            &deny,
            &deny,
            &allow,
        ] {
            assert_eq!(ExplainedBlame::from(cause).explanation, cause.describe());
        }
    }

    /// `ActionRequests` resets the per-action keys only when they differ from the previous
    /// request's: every request it gives, in any order, repeated or not, with keys stated or
    /// not, has the context `action_context` builds afresh.
    #[test]
    fn action_requests_give_each_request_the_context_built_afresh() {
        let org = org(None);
        let p = principal();
        let requests = [
            ("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k-1"),
            ("kms:Encrypt", "arn:aws:kms:eu-west-1:111122223333:key/k-1"),
            (
                "events:PutRule",
                "arn:aws:events:eu-west-1:111122223333:rule/r",
            ),
            ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:444455556666:q"),
            ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:444455556666:q"),
            ("iam:PassRole", "arn:aws:iam::111122223333:role/app"),
            ("iam:GetRole", "*"),
            ("s3:GetObject", "arn:aws:s3:::deploy-bucket/app.zip"),
            ("s3:GetObject", "*"),
            ("cloudfront:CreateDistribution", "*"),
        ];
        let mut stated_region = Supplied::default();
        stated_region.state("aws:RequestedRegion", Some(vec!["ap-south-1".into()]));
        let mut stated_account = Supplied::default();
        stated_account.state("aws:ResourceAccount", None);
        stated_account.state("aws:ResourceOrgID", Some(vec!["o-xyz".into()]));
        for supplied in [Supplied::default(), stated_region, stated_account] {
            let base = request_context(&p, Some(&org), "", "eu-west-1", &supplied);
            for order in [requests.to_vec(), requests.iter().rev().copied().collect()] {
                let mut shared = ActionRequests::new(&p, Some(&org), "eu-west-1", &supplied);
                for (action, resource) in order {
                    let request = shared.request(action, resource);
                    let fresh = action_context(&base, &p, action, resource, "eu-west-1", &supplied);
                    assert_eq!(request.context, fresh, "{action} on {resource}");
                    assert_eq!(
                        (request.action.as_str(), request.resource.as_str()),
                        (action, resource)
                    );
                    assert_eq!(request.principal, p.arn);
                }
            }
        }
    }

    /// reference_policies_condition-keys, aws:ResourceAccount: "This key is equal to the AWS
    /// account ID for the account with the resources evaluated in the request"; "For most
    /// resources in your account, the ARN contains the owner account ID for that resource. For
    /// certain resources, such as Amazon S3 buckets, the resource ARN does not include the
    /// account ID"; EventBridge actions do not support the key. aws:ResourceOrgID and
    /// aws:ResourceOrgPaths are the owning account's organization, known for the principal's
    /// own account.
    #[test]
    fn resource_keys_are_known_from_the_arn_and_unknown_otherwise() {
        let org = org(None);
        let p = principal();
        let base = request_context(&p, Some(&org), "", "eu-west-1", &Supplied::default());
        let keys = |action: &str, resource: &str, supplied: &Supplied| {
            let mut ctx = base.clone();
            supplied.apply(&mut ctx);
            resource_context(&mut ctx, &p, action, resource, supplied);
            ctx
        };
        let none = Supplied::default();
        let own = keys(
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/k-1",
            &none,
        );
        let value = |ctx: &Context, k: &str| ctx.get(k).map(|e| e.values.clone());
        assert_eq!(
            value(&own, "aws:ResourceAccount"),
            Some(vec!["111122223333".to_string()])
        );
        assert_eq!(
            value(&own, "aws:ResourceOrgID"),
            Some(vec!["o-abc".to_string()])
        );
        assert_eq!(
            value(&own, "aws:ResourceOrgPaths"),
            Some(vec!["o-abc/r-1/".to_string()])
        );
        // Another account's resource: its account is known, its organization is not.
        let other = keys(
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-1:444455556666:q",
            &none,
        );
        assert_eq!(
            value(&other, "aws:ResourceAccount"),
            Some(vec!["444455556666".to_string()])
        );
        assert!(other.unknown("aws:ResourceOrgID").is_some());
        // No account in the ARN (an S3 object, `*`, AWS's own `aws` account): unknown.
        for resource in [
            "arn:aws:s3:::deploy-bucket/app.zip",
            "*",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ] {
            let ctx = keys("s3:PutObject", resource, &none);
            for k in [
                "aws:ResourceAccount",
                "aws:ResourceOrgID",
                "aws:ResourceOrgPaths",
            ] {
                assert!(
                    ctx.unknown(k).is_some_and(|u| u.may_be_absent),
                    "{resource} {k}"
                );
            }
        }
        // EventBridge requests do not carry the keys at all.
        let events = keys(
            "events:PutRule",
            "arn:aws:events:eu-west-1:111122223333:rule/r",
            &none,
        );
        assert!(!events.contains("aws:ResourceAccount"));
        assert!(events.unknown("aws:ResourceAccount").is_none());
        // A stated value stands, whatever the ARN says.
        let mut stated = Supplied::default();
        stated.state("aws:ResourceAccount", Some(vec!["999999999999".into()]));
        let ctx = keys(
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/k-1",
            &stated,
        );
        assert_eq!(
            value(&ctx, "aws:ResourceAccount"),
            Some(vec!["999999999999".to_string()])
        );
    }

    /// A data-perimeter Deny on `aws:ResourceAccount` made every action on `*` allowed: the
    /// key was absent from the check's context, so the Deny was skipped. The key "is always
    /// included in the request context for most service actions" (reference_policies_condition-keys).
    #[test]
    fn regression_deny_outside_the_account_was_counted_allowed() {
        let mut p = principal();
        p.identity_policies.push(PolicySource {
            name: "Perimeter".into(),
            arn: None,
            origin: PolicyOrigin::Inline,
            group: None,
            document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOwnAccount","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceAccount":"111122223333"}}}]}"#.into(),
        });
        let (set, _) = policy_set(&p, None).expect("valid");
        let on = |action: &str, resource: &str| RequiredAction {
            resource: resource.into(),
            ..required(action)
        };
        let asked = [
            required("s3:PutObject"),
            on("iam:PassRole", "arn:aws:iam::111122223333:role/app"),
            on("sqs:SendMessage", "arn:aws:sqs:eu-west-1:444455556666:q"),
        ];
        let run = |supplied: &Supplied| {
            check_local(
                &set,
                &p,
                None,
                &ResourcePolicies::new(),
                &asked,
                "eu-west-1",
                supplied,
            )
            .expect("valid")
            .into_iter()
            .map(|r| (r.decision, r.depends_on))
            .collect::<Vec<_>>()
        };
        let r = run(&Supplied::default());
        assert_eq!(
            r[0],
            (Decision::Unknown, vec!["aws:ResourceAccount".to_string()])
        );
        assert_eq!(r[1].0, Decision::Allowed);
        assert_eq!(r[2].0, Decision::ExplicitDeny);
        let mut supplied = Supplied::default();
        supplied.state("aws:ResourceAccount", Some(vec!["111122223333".into()]));
        assert_eq!(run(&supplied)[0].0, Decision::Allowed);
    }

    #[test]
    fn regression_role_deny_on_every_source_ip_was_counted_allowed() {
        let mut p = principal();
        p.identity_policies.push(PolicySource {
            name: "DenyAllIPs".into(),
            arn: None,
            origin: PolicyOrigin::Inline,
            group: None,
            document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllIPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#.into(),
        });
        let (set, _) = policy_set(&p, None).expect("valid");
        let run = |supplied: &Supplied| {
            check_local(
                &set,
                &p,
                None,
                &ResourcePolicies::new(),
                &[required("iam:CreateRole")],
                "eu-west-1",
                supplied,
            )
            .expect("no resource policies")
        };
        let r = run(&Supplied::default());
        assert_eq!(r[0].decision, Decision::Unknown);
        assert_eq!(r[0].depends_on, vec!["aws:SourceIp".to_string()]);
        let mut supplied = Supplied::default();
        supplied.state("aws:SourceIp", Some(vec!["198.51.100.1".into()]));
        assert_eq!(run(&supplied)[0].decision, Decision::ExplicitDeny);
    }

    fn outcome(
        action: &str,
        decision: SimulatedDecision,
        by_org: Option<bool>,
    ) -> SimulationOutcome {
        SimulationOutcome {
            action: action.into(),
            resource: "*".into(),
            decision,
            matched_statements: vec![],
            missing_context_values: vec!["aws:SourceVpc".into()],
            allowed_by_organizations: by_org,
            allowed_by_boundary: None,
            resource_policy: None,
        }
    }

    fn local(action: &str, decision: Decision, kind: PolicyKind, verdict: Verdict) -> ActionResult {
        ActionResult {
            action: action.into(),
            resource: "*".into(),
            decision,
            engine: Engine::Local,
            decided_by: vec![Blame {
                policy: Some("P".into()),
                ..Blame::new(kind, verdict)
            }],
            missing_context: vec![],
            depends_on: vec![],
            reason: String::new(),
            grant: String::new(),
            policy: String::new(),
            aws: None,
            disagreement: None,
            matched: Vec::new(),
            confirmation: None,
        }
    }

    #[test]
    fn agreement_keeps_local_explanation_and_adds_aws() {
        let (m, missing) = merge_simulation(
            &principal(),
            vec![local(
                "s3:GetObject",
                Decision::Allowed,
                PolicyKind::Identity,
                Verdict::Allows,
            )],
            &[outcome(
                "s3:GetObject",
                SimulatedDecision::Allowed,
                Some(true),
            )],
            OrgVisibility::Evaluated,
        );
        assert!(missing.is_empty());
        assert_eq!(m[0].engine, Engine::Aws);
        assert_eq!(m[0].disagreement, None);
        assert_eq!(m[0].missing_context, vec!["aws:SourceVpc"]);
    }

    #[test]
    fn disagreement_uses_iam_and_says_so() {
        let (m, _) = merge_simulation(
            &principal(),
            vec![local(
                "s3:GetObject",
                Decision::Allowed,
                PolicyKind::Identity,
                Verdict::Allows,
            )],
            &[outcome(
                "s3:GetObject",
                SimulatedDecision::ImplicitDeny,
                Some(true),
            )],
            OrgVisibility::Evaluated,
        );
        assert_eq!(m[0].decision, Decision::ImplicitDeny);
        assert!(
            m[0].disagreement
                .as_deref()
                .is_some_and(|d| d.contains("IAM's simulator says implicit deny"))
        );
    }

    #[test]
    fn simulator_allow_does_not_lift_a_decision_on_unknown_keys() {
        // IAM's simulator decides with the context it is given; keys it is not given are
        // absent to it (SimulatePrincipalPolicy, ContextEntries), while the real request
        // carries them (reference_policies_condition-keys.html, "Availability").
        let mut unknown = local(
            "s3:GetObject",
            Decision::Unknown,
            PolicyKind::Identity,
            Verdict::MayDeny,
        );
        unknown.depends_on = vec!["aws:SourceIp".into()];
        let (m, _) = merge_simulation(
            &principal(),
            vec![unknown],
            &[outcome(
                "s3:GetObject",
                SimulatedDecision::Allowed,
                Some(true),
            )],
            OrgVisibility::Evaluated,
        );
        assert_eq!(m[0].decision, Decision::Unknown);
        assert_eq!(m[0].engine, Engine::Aws);
        assert!(
            m[0].disagreement
                .as_deref()
                .is_some_and(|d| d.contains("depends on `aws:SourceIp`"))
        );
    }

    #[test]
    fn regression_the_star_outcome_of_an_action_no_longer_answers_for_a_named_resource() {
        // Defect: a request on `arn:aws:s3:::b/*` took IAM's answer for the same action on `*`
        // when that came first, although IAM had answered for the bucket's objects too.
        let mut on_objects = local(
            "s3:GetObject",
            Decision::Allowed,
            PolicyKind::ResourcePolicy,
            Verdict::Allows,
        );
        on_objects.resource = "arn:aws:s3:::b/*".into();
        let mut for_objects = outcome("s3:GetObject", SimulatedDecision::Allowed, None);
        for_objects.resource = "arn:aws:s3:::b/*".into();
        for_objects.resource_policy = Some("arn:aws:s3:::b".into());
        let (m, missing) = merge_simulation(
            &principal(),
            vec![on_objects],
            &[
                outcome("s3:GetObject", SimulatedDecision::ImplicitDeny, None),
                for_objects,
            ],
            OrgVisibility::Evaluated,
        );
        assert!(missing.is_empty());
        let aws = m[0].aws.as_ref().expect("IAM's answer");
        assert_eq!(aws.resource, "arn:aws:s3:::b/*");
        assert_eq!(m[0].decision, Decision::Allowed);
        assert_eq!(m[0].disagreement, None);
    }

    #[test]
    fn a_resource_policy_iam_was_given_is_decided_by_iam() {
        // SimulatePrincipalPolicy evaluates `ResourcePolicy` for IAM users (IAM API reference,
        // https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html):
        // where it was given, IAM's verdict includes the resource policy and is used; where it
        // was not (a role), the local resource-policy decision stands.
        let deny = || {
            local(
                "s3:DeleteObject",
                Decision::ExplicitDeny,
                PolicyKind::ResourcePolicy,
                Verdict::Denies,
            )
        };
        let mut seen = outcome("s3:DeleteObject", SimulatedDecision::Allowed, None);
        seen.resource_policy = Some("arn:aws:s3:::b".into());
        let (m, _) = merge_simulation(
            &principal(),
            vec![deny()],
            &[seen],
            OrgVisibility::Evaluated,
        );
        assert_eq!(m[0].decision, Decision::Allowed);
        assert!(
            m[0].disagreement
                .as_deref()
                .is_some_and(|d| d.contains("IAM's verdict is used")),
            "{:?}",
            m[0].disagreement
        );
        let unseen = outcome("s3:DeleteObject", SimulatedDecision::Allowed, None);
        let (m, _) = merge_simulation(
            &principal(),
            vec![deny()],
            &[unseen],
            OrgVisibility::Evaluated,
        );
        assert_eq!(m[0].decision, Decision::ExplicitDeny);
        assert!(
            m[0].disagreement
                .as_deref()
                .is_some_and(|d| d.starts_with("decided locally"))
        );
    }

    #[test]
    fn unreadable_scps_still_deny_with_a_note() {
        let (m, _) = merge_simulation(
            &principal(),
            vec![local(
                "ec2:RunInstances",
                Decision::Allowed,
                PolicyKind::Identity,
                Verdict::Allows,
            )],
            &[outcome(
                "ec2:RunInstances",
                SimulatedDecision::ImplicitDeny,
                Some(false),
            )],
            OrgVisibility::Unreadable,
        );
        assert_eq!(m[0].decision, Decision::ImplicitDeny);
        assert_eq!(m[0].decided_by[0].kind, PolicyKind::Scp);
    }

    #[test]
    fn local_rcp_denial_stands_over_simulator_allow() {
        let (m, _) = merge_simulation(
            &principal(),
            vec![local(
                "s3:GetObject",
                Decision::ExplicitDeny,
                PolicyKind::Rcp,
                Verdict::Denies,
            )],
            &[outcome("s3:GetObject", SimulatedDecision::Allowed, None)],
            OrgVisibility::Evaluated,
        );
        assert_eq!(m[0].decision, Decision::ExplicitDeny);
        assert!(
            m[0].disagreement
                .as_deref()
                .is_some_and(|d| d.contains("resource control policies"))
        );
    }

    #[test]
    fn unanswered_action_is_reported_missing_not_allowed() {
        let (m, missing) = merge_simulation(
            &principal(),
            vec![local(
                "s3:GetObject",
                Decision::Allowed,
                PolicyKind::Identity,
                Verdict::Allows,
            )],
            &[],
            OrgVisibility::Evaluated,
        );
        assert_eq!(missing, vec!["s3:GetObject"]);
        assert_eq!(m[0].engine, Engine::Local);
    }

    #[test]
    fn matched_statements_map_to_policy_statement_and_text() {
        let mut p = principal();
        p.identity_policies[0].document = "%7B%22Version%22%3A%222012-10-17%22%2C%0A%22Statement%22%3A%5B%0A%7B%22Sid%22%3A%22Deploy%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%0A%5D%7D".into();
        // The document decodes to four lines; the statement is line 3, columns 1..64.
        let m = MatchedStatement {
            source_policy_id: "role_deployer_DefaultPolicy".into(),
            source_policy_type: "IAM Policy".into(),
            start: Some((3, 1)),
            end: Some((3, 64)),
        };
        let found = resolve_matched(&p, &m).expect("found");
        assert_eq!(found.policy, "DefaultPolicy");
        assert_eq!(found.statement.as_deref(), Some("Deploy"));
        assert!(
            found
                .text
                .as_deref()
                .is_some_and(|t| t.starts_with("{\"Sid\":\"Deploy\""))
        );
        let managed = MatchedStatement {
            source_policy_id: "DefaultPolicy-not-inline".into(),
            ..m.clone()
        };
        assert_eq!(resolve_matched(&p, &managed), None);
        let out_of_range = MatchedStatement {
            start: Some((9, 1)),
            ..m
        };
        let found = resolve_matched(&p, &out_of_range).expect("policy still named");
        assert_eq!((found.statement, found.text), (None, None));
    }

    /// Regression: the statement text of a URL-encoded document turned `+` into a space, as HTML
    /// form decoding does; IAM's documents are RFC 3986 percent-encoded (API_GetRolePolicy), where
    /// `+` is a plus and a space is `%20`.
    #[test]
    fn matched_statement_text_keeps_the_plus_of_a_url_encoded_document() {
        let mut p = principal();
        p.identity_policies[0].document = "%7B%22Version%22%3A%222012-10-17%22%2C%0A%22Statement%22%3A%5B%0A%7B%22Sid%22%3A%22Deploy%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%20c%22%7D%0A%5D%7D".into();
        let m = MatchedStatement {
            source_policy_id: "role_deployer_DefaultPolicy".into(),
            source_policy_type: "IAM Policy".into(),
            start: Some((3, 1)),
            end: Some((3, 83)),
        };
        let found = resolve_matched(&p, &m).expect("found");
        assert_eq!(found.statement.as_deref(), Some("Deploy"));
        assert_eq!(
            found.text.as_deref(),
            Some(
                r#"{"Sid":"Deploy","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/a+b c"}"#
            )
        );
    }
}
