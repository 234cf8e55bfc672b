//! The policy evaluator: AWS's documented evaluation logic, with the reason for every decision.

use serde::{Deserialize, Serialize};

use super::arn::Arn;
use super::condition::{self, Truth};
use super::context::Context;
use super::pattern::{ActionName, Case};
use super::policy::{
    ActionClause, Effect, Policy, PrincipalClause, Principals, ResourceClause, Statement,
};
use super::principal::{self, PrincipalMatch};
use super::service_rules::{self, RuleEffect, ServiceRule};
use super::variables;

/// The three outcomes IAM knows, and `Unknown` for a decision that depends on request values
/// the check cannot know.
///
/// `Unknown` means: no statement or gate denies for certain, but a `Deny` may match or a needed
/// `Allow` may not, depending on keys such as `aws:SourceIp` whose values only the real request
/// carries ([`Context::set_unknown`]). The blames with [`Verdict::MayDeny`] and
/// [`Verdict::MayAllow`] say which statements and [`Evaluation::depends_on`] which keys. It is
/// never counted as allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
    Unknown,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit_deny",
            Decision::ExplicitDeny => "explicit_deny",
            Decision::Unknown => "unknown",
        }
    }

    /// For people: `implicit deny` rather than `implicit_deny`.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit deny",
            Decision::ExplicitDeny => "explicit deny",
            Decision::Unknown => "unknown",
        }
    }
}

/// The kind of policy a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Identity,
    Boundary,
    Scp,
    Rcp,
    /// A session policy passed when the role was assumed.
    Session,
    /// The resource's own policy: a bucket policy, a KMS key policy, a role trust policy …
    ResourcePolicy,
    /// A rule AWS applies that no policy expresses (`policies/service-rules.json`).
    ServiceRule,
}

impl PolicyKind {
    pub fn describe(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
            PolicyKind::Session => "session policy",
            PolicyKind::ResourcePolicy => "resource-based policy",
            PolicyKind::ServiceRule => "service rule",
        }
    }
}

/// A policy with the names a person knows it by.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    /// ARN or policy id, when it has one.
    pub id: Option<String>,
    pub policy: Policy,
}

/// The kind of an organization node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetType {
    Root,
    OrganizationalUnit,
    Account,
}

/// The SCPs or RCPs attached directly to one node of the organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevelPolicies {
    pub target_id: String,
    pub target_name: String,
    pub target_type: TargetType,
    pub policies: Vec<NamedPolicy>,
}

/// Every policy that applies to one principal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<NamedPolicy>,
    /// Root first, account last. Empty when no SCPs apply (no organization, the management
    /// account, or a service-linked role).
    pub scps: Vec<OrgLevelPolicies>,
    /// Root first, account last. Empty when no RCPs apply.
    pub rcps: Vec<OrgLevelPolicies>,
    /// Session policies passed when the role was assumed; when there are any, one must allow.
    pub session: Vec<NamedPolicy>,
}

/// One request to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The principal's IAM ARN, for `Principal` elements of RCPs.
    pub principal: String,
    pub action: String,
    /// An ARN, or `*` when the resource is not known (as IAM's simulator does).
    pub resource: String,
    pub context: Context,
}

/// What is known of the resource-based policy of a request's resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResourcePolicy<'a> {
    /// Never looked at: the request is decided without it, except where it must allow (a KMS
    /// key policy, a role trust policy), which then cannot be decided and is never allowed.
    NotSupplied,
    /// The resource has none.
    NoPolicy,
    Policy(&'a NamedPolicy),
    /// It could not be read: it may deny, so the request is never allowed.
    Unreadable,
}

/// Why a policy took part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A `Deny` statement matched.
    Denies,
    /// An `Allow` statement matched.
    Allows,
    /// Nothing at this place allows the action.
    FailsToAllow,
    /// A `Deny` statement matches for some values of the keys in [`Blame::depends_on`].
    MayDeny,
    /// The only `Allow` at its place matches only for some values of the keys in
    /// [`Blame::depends_on`].
    MayAllow,
    /// The resource's policy could not be read or was not supplied, so the decision cannot be
    /// made: never allowed.
    Unreadable,
}

/// One reason for a decision: which policy, where it is attached, and which statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct Blame {
    pub kind: PolicyKind,
    pub verdict: Verdict,
    /// The policy name; `None` for a level with no allowing policy at all.
    pub policy: Option<String>,
    pub policy_id: Option<String>,
    /// The organization node (root, OU, account id) for SCPs and RCPs.
    pub target: Option<String>,
    pub target_name: Option<String>,
    /// The statement's Sid, or `#index` when it has none.
    pub statement: Option<String>,
    /// For [`Verdict::MayDeny`] and [`Verdict::MayAllow`]: the keys with unknown values the
    /// statement's match depends on. Empty for every other verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// The service rule that decided, or that makes a resource policy's allow necessary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The AWS page stating [`Blame::rule`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

impl Blame {
    /// A reason of this kind and verdict that names nothing yet: a place where nothing allows,
    /// or a decision whose policy is not known. The other constructors below add the names.
    pub fn new(kind: PolicyKind, verdict: Verdict) -> Blame {
        Blame {
            kind,
            verdict,
            policy: None,
            policy_id: None,
            target: None,
            target_name: None,
            statement: None,
            depends_on: Vec::new(),
            rule: None,
            page: None,
        }
    }

    /// Names the policy.
    pub fn by_policy(self, policy: &NamedPolicy) -> Blame {
        Blame {
            policy: Some(policy.name.clone()),
            policy_id: policy.id.clone(),
            ..self
        }
    }

    /// Names the organization node an SCP or RCP level is attached to.
    pub fn at_level(self, level: &OrgLevelPolicies) -> Blame {
        Blame {
            target: Some(level.target_id.clone()),
            target_name: Some(level.target_name.clone()),
            ..self
        }
    }

    /// Names the resource whose own policy this is.
    pub fn on_resource(self, resource: &str) -> Blame {
        Blame {
            target: Some(resource.to_string()),
            ..self
        }
    }

    /// Names the statement, and the keys with unknown values its match depends on.
    pub fn in_statement(self, statement: &Statement, depends_on: Vec<String>) -> Blame {
        Blame {
            statement: Some(statement.label()),
            depends_on,
            ..self
        }
    }

    /// Names the service rule behind it, and the page that states the rule.
    pub fn citing_rule(self, rule: Option<&ServiceRule>) -> Blame {
        Blame {
            rule: rule.map(|r| r.name.clone()),
            page: rule.map(|r| r.page.clone()),
            ..self
        }
    }

    /// Where the policy is attached, for people: the node's name and id
    /// (`Workloads (ou-dm12-wrkld001)`), or the id alone when the name adds nothing; `None` for
    /// a policy attached to no organization node or resource.
    pub fn attached_to(&self) -> Option<String> {
        match (&self.target_name, &self.target) {
            (Some(n), Some(t)) if n != t => Some(format!("{n} ({t})")),
            (_, Some(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// A one-line account of this reason, for people.
    pub fn describe(&self) -> String {
        let place = match (&self.target, self.attached_to()) {
            (Some(t), _) if self.kind == PolicyKind::ResourcePolicy => format!(" of `{t}`"),
            (_, Some(node)) => format!(" attached to {node}"),
            _ => String::new(),
        };
        // A service rule explains itself: what its page says, and the page.
        let rule = self
            .rule
            .as_deref()
            .and_then(|name| service_rules::rules().iter().find(|r| r.name == name))
            .map(|r| format!("{} ({})", r.says.trim_end_matches('.'), r.page))
            .unwrap_or_default();
        let policy = self.policy.as_deref().unwrap_or("");
        let stmt = self
            .statement
            .as_deref()
            .map(|s| format!(" statement `{s}`"))
            .unwrap_or_default();
        match self.verdict {
            Verdict::Denies if self.kind == PolicyKind::ServiceRule => {
                format!("AWS denies it whatever the policies allow: {rule}")
            }
            Verdict::Allows if self.kind == PolicyKind::ServiceRule => {
                format!("it needs no permission: {rule}")
            }
            Verdict::Unreadable if self.rule.is_some() => format!(
                "the resource-based policy{place} was not supplied or could not be read, and it must allow: {rule}"
            ),
            Verdict::Unreadable => format!(
                "the resource-based policy{place} could not be read: it may deny it, so it is not counted as allowed"
            ),
            Verdict::Denies | Verdict::FailsToAllow
                if matches!(self.kind, PolicyKind::Scp | PolicyKind::Rcp)
                    && self.policy.is_none()
                    && self.target.is_none() =>
            {
                format!(
                    "an organization {} {} it; which one could not be read",
                    self.kind.describe(),
                    if self.verdict == Verdict::Denies {
                        "denies"
                    } else {
                        "does not allow"
                    }
                )
            }
            Verdict::Denies => {
                format!("{} `{policy}`{place}{stmt} denies it", self.kind.describe())
            }
            Verdict::MayDeny => format!(
                "depends on {}: {} `{policy}`{place}{stmt} denies it for some values",
                quoted_keys(&self.depends_on),
                self.kind.describe()
            ),
            Verdict::MayAllow => format!(
                "depends on {}: {} `{policy}`{place}{stmt} allows it only for some values",
                quoted_keys(&self.depends_on),
                self.kind.describe()
            ),
            Verdict::Allows => {
                format!("{} `{policy}`{place}{stmt} allows it", self.kind.describe())
            }
            Verdict::FailsToAllow => match (&self.kind, self.policy.is_some()) {
                (PolicyKind::Scp | PolicyKind::Rcp, _) => format!(
                    "no {} at {} allows it",
                    self.kind.describe(),
                    place.trim_start_matches(" attached to ")
                ),
                (PolicyKind::Boundary, _) => {
                    format!("permissions boundary `{policy}` does not allow it")
                }
                (PolicyKind::Identity, _) => "no identity policy allows it".to_string(),
                (PolicyKind::Session, _) => "no session policy allows it".to_string(),
                (PolicyKind::ResourcePolicy, true) => format!(
                    "resource-based policy `{policy}`{place} does not allow it, and it must: {rule}"
                ),
                (PolicyKind::ResourcePolicy, false) => format!(
                    "there is no resource-based policy{place}, and one must allow it: {rule}"
                ),
                (PolicyKind::ServiceRule, _) => format!("service rule: {rule}"),
            },
        }
    }
}

/// `` `aws:SourceIp`, `aws:CurrentTime` `` for messages.
fn quoted_keys(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A decision and everything that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// For a deny: every matching `Deny` statement, or every place that failed to allow.
    /// For an allow: the statements that allowed it.
    /// For `Unknown`: every `Deny` that may match ([`Verdict::MayDeny`]) and, for each place
    /// whose allow is uncertain, the statements that may allow ([`Verdict::MayAllow`]).
    pub decided_by: Vec<Blame>,
    /// Condition keys that were absent from the request and could have changed the outcome.
    pub missing_context: Vec<String>,
    /// For `Unknown`: the keys with unknown values the decision depends on. Supplying their
    /// values (`--context KEY=VALUE`) decides it. Empty for every other decision.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// Whether a statement applies to a request: certainly, not at all, or depending on the values
/// of keys the check cannot know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicability {
    No,
    Yes,
    /// Applies for some values of these keys (as written in the policy, without duplicates).
    Maybe(Vec<String>),
}

impl Applicability {
    fn from_truth(truth: Truth, keys: Vec<String>) -> Applicability {
        match truth {
            Truth::False => Applicability::No,
            Truth::True => Applicability::Yes,
            Truth::Unknown => Applicability::Maybe(keys),
        }
    }
}

/// The services whose resources RCPs can govern. RCPs are ignored for any other service.
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-identity",
    "dynamodb",
    "logs",
];

/// A request with its action split once for matching the actions of every statement.
struct Asked<'a> {
    request: &'a Request,
    action: ActionName<'a>,
}

/// Statements that matched one search: those that certainly apply, and those that apply for
/// some values of keys the check cannot know.
#[derive(Debug, Default)]
struct Matches {
    certain: Vec<Blame>,
    maybe: Vec<Blame>,
}

/// One place that must allow (an SCP or RCP level, the identity policies, the boundary): a
/// certain allow passes it; with only uncertain allows its `MayAllow` blames go to
/// `uncertain`; with none, `failure` goes to `failures`. Returns the certain allows.
fn gate(
    found: Matches,
    failure: impl FnOnce() -> Blame,
    failures: &mut Vec<Blame>,
    uncertain: &mut Vec<Blame>,
) -> Vec<Blame> {
    if !found.certain.is_empty() {
        found.certain
    } else {
        if found.maybe.is_empty() {
            failures.push(failure());
        } else {
            uncertain.extend(found.maybe);
        }
        Vec::new()
    }
}

/// Decides one request against a policy set, without its resource's policy.
///
/// Order (reference_policies_evaluation-logic): an explicit `Deny` in any applicable policy wins;
/// then every RCP level and every SCP level (root → OUs → account) must hold an `Allow`; then an
/// identity policy must allow; then the permissions boundary, when there is one, must allow.
/// AWS's own simulator says *that* an organization policy denied, never *which*: here each
/// decision carries the policy, the organization level and the statement that decided it.
pub fn evaluate(set: &PolicySet, request: &Request) -> Evaluation {
    evaluate_with_resource_policy(set, request, ResourcePolicy::NotSupplied)
}

/// The service rules that cover one request, by effect.
#[derive(Default)]
struct RulesFor {
    needs_no_permission: Option<&'static ServiceRule>,
    always_denied: Option<&'static ServiceRule>,
    resource_policy_must_allow: Option<&'static ServiceRule>,
}

fn rules_for(request: &Request) -> RulesFor {
    let mut found = RulesFor::default();
    for rule in service_rules::matching(&request.action, &request.resource) {
        let slot = match rule.effect {
            RuleEffect::NeedsNoPermission => &mut found.needs_no_permission,
            RuleEffect::AlwaysDenied => &mut found.always_denied,
            RuleEffect::ResourcePolicyMustAllow => &mut found.resource_policy_must_allow,
        };
        slot.get_or_insert(rule);
    }
    found
}

/// Decides one request against a policy set and what is known of its resource's policy.
///
/// Service rules come first: a request that needs no permission is allowed whatever the
/// policies say, one AWS always denies is an explicit deny. Then, within the account
/// (reference_policies_evaluation-logic, policy-eval-denyallow): an explicit `Deny` anywhere
/// wins; every RCP and SCP level must allow; an identity policy or the resource policy grants —
/// how the resource policy names the caller decides which other gates still apply
/// ([`PrincipalMatch`]); the permissions boundary and session policies must allow unless the
/// resource policy granted to the caller directly; a KMS key policy or a role trust policy must
/// allow in any case. A resource policy that could not be read, or one that must allow and was
/// not supplied, never lets the request be allowed.
///
/// With keys of unknown value in the request context, statements apply certainly, not at
/// all, or maybe ([`Applicability`]). A certain `Deny` is an explicit deny and a place with no
/// allow at all an implicit deny, whatever else is unknown. Otherwise a `Deny` that may match,
/// or a place whose only allows may not match, makes the decision [`Decision::Unknown`].
pub fn evaluate_with_resource_policy(
    set: &PolicySet,
    request: &Request,
    resource: ResourcePolicy<'_>,
) -> Evaluation {
    let rules = rules_for(request);
    if let Some(rule) = rules.needs_no_permission {
        let by = vec![Blame::new(PolicyKind::ServiceRule, Verdict::Allows).citing_rule(Some(rule))];
        return finish(Decision::Allowed, by, Vec::new());
    }
    // A role's resource policy is its trust policy: it governs assuming the role, nothing else.
    let resource = if rules.resource_policy_must_allow.is_none() && is_role_arn(&request.resource) {
        ResourcePolicy::NoPolicy
    } else {
        resource
    };
    let mut missing = Vec::new();
    let asked = Asked {
        request,
        action: ActionName::new(&request.action),
    };
    let service = request.action.split(':').next().unwrap_or("");
    let rcps_apply = RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service));
    let rcp_levels: &[OrgLevelPolicies] = if rcps_apply { &set.rcps } else { &[] };
    let has_boundary = set.boundary.is_some();

    // 1. Explicit denies anywhere.
    let mut denies = Matches::default();
    if let Some(rule) = rules.always_denied {
        denies
            .certain
            .push(Blame::new(PolicyKind::ServiceRule, Verdict::Denies).citing_rule(Some(rule)));
    }
    for level in rcp_levels {
        collect_level(
            level,
            PolicyKind::Rcp,
            Effect::Deny,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    for level in &set.scps {
        collect_level(
            level,
            PolicyKind::Scp,
            Effect::Deny,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    if let ResourcePolicy::Policy(p) = resource {
        collect_resource_policy(
            p,
            Effect::Deny,
            has_boundary,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    for p in &set.identity {
        collect_policy(
            p,
            PolicyKind::Identity,
            None,
            Effect::Deny,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    if let Some(b) = &set.boundary {
        collect_policy(
            b,
            PolicyKind::Boundary,
            None,
            Effect::Deny,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    for p in &set.session {
        collect_policy(
            p,
            PolicyKind::Session,
            None,
            Effect::Deny,
            &asked,
            &mut denies,
            &mut missing,
        );
    }
    // 2. Gates that must each allow. Every failing gate is reported, not just the first, so
    // one run shows everything that has to change; with an explicit deny too, since lifting
    // the deny alone would still leave the action blocked.
    let mut failures = Vec::new();
    let mut uncertain = Vec::new();
    for (levels, kind) in [
        (rcp_levels, PolicyKind::Rcp),
        (&set.scps[..], PolicyKind::Scp),
    ] {
        for level in levels {
            let mut level_allows = Matches::default();
            collect_level(
                level,
                kind,
                Effect::Allow,
                &asked,
                &mut level_allows,
                &mut missing,
            );
            gate(
                level_allows,
                || Blame::new(kind, Verdict::FailsToAllow).at_level(level),
                &mut failures,
                &mut uncertain,
            );
        }
    }
    // The resource policy's grant: how its certainly applying `Allow`s name the caller.
    let mut resource_allows = Matches::default();
    let grant = match resource {
        ResourcePolicy::Policy(p) => collect_resource_policy(
            p,
            Effect::Allow,
            has_boundary,
            &asked,
            &mut resource_allows,
            &mut missing,
        ),
        _ => PrincipalMatch::No,
    };
    let mut identity_allows = Matches::default();
    for p in &set.identity {
        collect_policy(
            p,
            PolicyKind::Identity,
            None,
            Effect::Allow,
            &asked,
            &mut identity_allows,
            &mut missing,
        );
    }
    let mut allows = Vec::new();
    if grant >= PrincipalMatch::Account {
        allows.extend(resource_allows.certain);
    }
    // A grant to the role or to the caller itself stands in for the identity policies; one
    // that may apply leaves the identity gate uncertain rather than failed.
    if grant >= PrincipalMatch::Role {
        allows.extend(identity_allows.certain);
    } else {
        identity_allows
            .maybe
            .extend(resource_allows.maybe.iter().cloned());
        allows.extend(gate(
            identity_allows,
            || Blame::new(PolicyKind::Identity, Verdict::FailsToAllow),
            &mut failures,
            &mut uncertain,
        ));
    }
    // A grant to the caller itself is not limited by the boundary or session policies.
    if grant < PrincipalMatch::Direct {
        if let Some(b) = &set.boundary {
            let mut boundary_allows = Matches::default();
            collect_policy(
                b,
                PolicyKind::Boundary,
                None,
                Effect::Allow,
                &asked,
                &mut boundary_allows,
                &mut missing,
            );
            gate(
                boundary_allows,
                || Blame::new(PolicyKind::Boundary, Verdict::FailsToAllow).by_policy(b),
                &mut failures,
                &mut uncertain,
            );
        }
        if !set.session.is_empty() {
            let mut session_allows = Matches::default();
            for p in &set.session {
                collect_policy(
                    p,
                    PolicyKind::Session,
                    None,
                    Effect::Allow,
                    &asked,
                    &mut session_allows,
                    &mut missing,
                );
            }
            gate(
                session_allows,
                || Blame::new(PolicyKind::Session, Verdict::FailsToAllow),
                &mut failures,
                &mut uncertain,
            );
        }
    }
    // 3. The resource's own policy, where it must allow or could not be read.
    let on_resource = |verdict, rule, policy: Option<&NamedPolicy>| {
        let blame = Blame::new(PolicyKind::ResourcePolicy, verdict)
            .on_resource(&request.resource)
            .citing_rule(rule);
        match policy {
            Some(p) => blame.by_policy(p),
            None => blame,
        }
    };
    match (rules.resource_policy_must_allow, resource) {
        (Some(rule), ResourcePolicy::Policy(p)) if grant == PrincipalMatch::No => {
            if resource_allows.maybe.is_empty() {
                failures.push(on_resource(Verdict::FailsToAllow, Some(rule), Some(p)));
            } else {
                uncertain.extend(resource_allows.maybe);
            }
        }
        (Some(rule), ResourcePolicy::NoPolicy) => {
            failures.push(on_resource(Verdict::FailsToAllow, Some(rule), None));
        }
        (Some(rule), ResourcePolicy::NotSupplied | ResourcePolicy::Unreadable) => {
            failures.push(on_resource(Verdict::Unreadable, Some(rule), None));
        }
        (None, ResourcePolicy::Unreadable) => {
            failures.push(on_resource(Verdict::Unreadable, None, None));
        }
        _ => {}
    }
    // A deny that may match still has to be lifted once the certain causes are: it is listed
    // after them.
    if !denies.certain.is_empty() {
        let mut by = denies.certain;
        by.extend(denies.maybe);
        by.extend(failures);
        finish(Decision::ExplicitDeny, by, missing)
    } else if !failures.is_empty() {
        let mut by = failures;
        by.extend(denies.maybe);
        finish(Decision::ImplicitDeny, by, missing)
    } else if !denies.maybe.is_empty() || !uncertain.is_empty() {
        let mut by = denies.maybe;
        by.extend(uncertain);
        finish(Decision::Unknown, by, missing)
    } else {
        finish(Decision::Allowed, allows, missing)
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/…`
fn is_role_arn(resource: &str) -> bool {
    Arn::parse(resource).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"))
}

/// The statements of the resource's policy with this effect that apply to the request and
/// name its caller. Returns how the strongest certainly applying `Allow` names the caller
/// ([`PrincipalMatch::No`] for a `Deny` search).
fn collect_resource_policy(
    p: &NamedPolicy,
    effect: Effect,
    has_boundary: bool,
    asked: &Asked<'_>,
    out: &mut Matches,
    missing: &mut Vec<String>,
) -> PrincipalMatch {
    let mut strongest = PrincipalMatch::No;
    for st in p.policy.statements.iter().filter(|s| s.effect == effect) {
        let named = match effect {
            Effect::Deny
                if principal::deny_applies(
                    st.principal.as_ref(),
                    &asked.request.principal,
                    has_boundary,
                ) =>
            {
                PrincipalMatch::Direct
            }
            Effect::Deny => PrincipalMatch::No,
            Effect::Allow => {
                principal::allow_match(st.principal.as_ref(), &asked.request.principal)
            }
        };
        if named == PrincipalMatch::No {
            continue;
        }
        let (verdict, depends_on) = match applies(st, PolicyKind::ResourcePolicy, asked, missing) {
            Applicability::No => continue,
            Applicability::Yes if effect == Effect::Deny => (Verdict::Denies, Vec::new()),
            Applicability::Yes => (Verdict::Allows, Vec::new()),
            Applicability::Maybe(keys) if effect == Effect::Deny => (Verdict::MayDeny, keys),
            Applicability::Maybe(keys) => (Verdict::MayAllow, keys),
        };
        let blame = Blame::new(PolicyKind::ResourcePolicy, verdict)
            .by_policy(p)
            .on_resource(&asked.request.resource)
            .in_statement(st, depends_on);
        if blame.depends_on.is_empty() {
            if effect == Effect::Allow {
                strongest = strongest.max(named);
            }
            out.certain.push(blame);
        } else {
            out.maybe.push(blame);
        }
    }
    strongest
}

fn finish(decision: Decision, decided_by: Vec<Blame>, mut missing: Vec<String>) -> Evaluation {
    missing.sort_by_key(|k| k.to_ascii_lowercase());
    missing.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let mut depends_on = Vec::new();
    if decision == Decision::Unknown {
        for key in decided_by.iter().flat_map(|b| &b.depends_on) {
            push_unique(&mut depends_on, key);
        }
    }
    Evaluation {
        decision,
        decided_by,
        missing_context: missing,
        depends_on,
    }
}

fn push_unique(list: &mut Vec<String>, key: &str) {
    if !list.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        list.push(key.to_string());
    }
}

fn collect_level(
    level: &OrgLevelPolicies,
    kind: PolicyKind,
    effect: Effect,
    asked: &Asked<'_>,
    out: &mut Matches,
    missing: &mut Vec<String>,
) {
    for p in &level.policies {
        collect_policy(p, kind, Some(level), effect, asked, out, missing);
    }
}

fn collect_policy(
    p: &NamedPolicy,
    kind: PolicyKind,
    level: Option<&OrgLevelPolicies>,
    effect: Effect,
    asked: &Asked<'_>,
    out: &mut Matches,
    missing: &mut Vec<String>,
) {
    for st in p.policy.statements.iter().filter(|s| s.effect == effect) {
        let (verdict, depends_on) = match applies(st, kind, asked, missing) {
            Applicability::No => continue,
            Applicability::Yes if effect == Effect::Deny => (Verdict::Denies, Vec::new()),
            Applicability::Yes => (Verdict::Allows, Vec::new()),
            Applicability::Maybe(keys) if effect == Effect::Deny => (Verdict::MayDeny, keys),
            Applicability::Maybe(keys) => (Verdict::MayAllow, keys),
        };
        let blame = Blame::new(kind, verdict)
            .by_policy(p)
            .in_statement(st, depends_on);
        let blame = match level {
            Some(level) => blame.at_level(level),
            None => blame,
        };
        if blame.depends_on.is_empty() {
            out.certain.push(blame);
        } else {
            out.maybe.push(blame);
        }
    }
}

/// Does this statement apply to the request: yes, no, or only for some values of keys the
/// check cannot know? Missing condition keys that decided a statement which otherwise matched
/// are recorded in `missing`.
pub fn statement_applies(
    st: &Statement,
    kind: PolicyKind,
    request: &Request,
    missing: &mut Vec<String>,
) -> Applicability {
    let asked = Asked {
        request,
        action: ActionName::new(&request.action),
    };
    applies(st, kind, &asked, missing)
}

/// [`statement_applies`] for a request whose action is already split for matching, as a
/// decision does once for all its statements.
fn applies(
    st: &Statement,
    kind: PolicyKind,
    asked: &Asked<'_>,
    missing: &mut Vec<String>,
) -> Applicability {
    let request = asked.request;
    let action_hit = match &st.action {
        ActionClause::Action(list) => st.action_patterns.matches(list, &asked.action),
        ActionClause::NotAction(list) => !st.action_patterns.matches(list, &asked.action),
    };
    if !action_hit {
        return Applicability::No;
    }
    let mut unknown = Vec::new();
    let mut any_resource = |list: &[String], unknown: &mut Vec<String>| {
        let mut hit = Truth::False;
        for p in list {
            hit = hit.or(resource_pattern_matches(
                p,
                &request.resource,
                &request.context,
                missing,
                unknown,
            ));
            if hit == Truth::True {
                break;
            }
        }
        hit
    };
    let resource_hit = match &st.resource {
        None => Truth::True,
        Some(ResourceClause::Resource(list)) => any_resource(list, &mut unknown),
        Some(ResourceClause::NotResource(list)) => !any_resource(list, &mut unknown),
    };
    if resource_hit == Truth::False {
        return Applicability::No;
    }
    if resource_hit == Truth::True {
        unknown.clear();
    }
    // Principal elements only mean something in resource-side policies (RCPs here).
    if kind == PolicyKind::Rcp {
        let principal_hit = match &st.principal {
            None => true,
            Some(PrincipalClause::Principal(p)) => principal_matches(p, &request.principal),
            Some(PrincipalClause::NotPrincipal(p)) => !principal_matches(p, &request.principal),
        };
        if !principal_hit {
            return Applicability::No;
        }
    }
    if st.conditions.is_empty() {
        return Applicability::from_truth(resource_hit, unknown);
    }
    let outcome = condition::evaluate_all(&st.conditions, &request.context);
    missing.extend(outcome.missing_keys);
    let truth = resource_hit.and(outcome.matched);
    for key in &outcome.unknown_keys {
        push_unique(&mut unknown, key);
    }
    Applicability::from_truth(truth, unknown)
}

/// A resource pattern matches when its variables resolve and the glob matches. An unresolved
/// variable never matches, as in IAM, and its key is recorded as missing context: supplying
/// it could change the decision. A variable whose key has an unknown value (and no other
/// unresolved one) makes the match unknown; its key goes to `unknown`.
fn resource_pattern_matches(
    pattern: &str,
    resource: &str,
    ctx: &Context,
    missing: &mut Vec<String>,
    unknown: &mut Vec<String>,
) -> Truth {
    if pattern == "*" {
        return Truth::True;
    }
    match variables::matches_with_variables(pattern, resource, Case::Sensitive, ctx) {
        Some(hit) => hit.into(),
        None => {
            if let variables::Substituted::Unresolved(keys) = variables::substitute(pattern, ctx) {
                if keys.iter().all(|k| ctx.unknown(k).is_some()) {
                    for key in &keys {
                        push_unique(unknown, key);
                    }
                    return Truth::Unknown;
                }
                missing.extend(keys.into_iter().filter(|k| ctx.unknown(k).is_none()));
            }
            Truth::False
        }
    }
}

fn principal_matches(p: &Principals, principal_arn: &str) -> bool {
    match p {
        Principals::Any => true,
        Principals::ByType(types) => types.iter().any(|(t, values)| {
            t == "AWS"
                && values.iter().any(|v| {
                    v == "*"
                        || v == principal_arn
                        || account_of(principal_arn).is_some_and(|acct| {
                            v == acct || *v == format!("arn:aws:iam::{acct}:root")
                        })
                })
        }),
    }
}

fn account_of(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests;
