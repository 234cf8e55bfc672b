//! `iam-doctor explain`: from a pasted AccessDenied message to the policy that caused it.
//!
//! AWS's messages name the action and, nowadays, the policy *type*; never the policy, the
//! organization level or the statement. This command parses the messages, looks the principal
//! up, decides the same request locally and names all three, then says what to change.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use serde_json::json;

use iam_doctor::core::check::{
    ActionResult, CheckReport, OrgVisibility, check_local, merge_simulation, policy_set,
};
use iam_doctor::core::eval::{Decision, PolicyKind, PolicySet, RCP_SERVICES, Verdict};
use iam_doctor::core::facts::ResourcePolicies;
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::core::profile::RequiredAction;
use iam_doctor::core::remediation::remediate;
use iam_doctor::inputs::access_denied::{self, Blamed, Denial};
use iam_doctor::report::{self, escape};

use iam_doctor::aws::AwsError;

use super::live::{AwsArgs, AwsConnection, aws_failure};
use super::source::{Facts, Offline};
use super::{
    ContextArgs, Exit, Failure, OutputArgs, TableOrJson, emit, note, required::pretty, warn,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The error text (CloudFormation events, CodeBuild logs, CLI output); `-` reads stdin.
    pub message: String,
    /// The role to check when the message names no principal.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "user")]
    pub role: Option<String>,
    /// The user to check when the message names no principal.
    #[arg(long, value_name = "NAME|ARN")]
    pub user: Option<String>,
    /// Region of the failed call (sets `aws:RequestedRegion`; global services use us-east-1).
    /// Default: the region in the message's resource ARN, else `AWS_REGION`, else us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// Use a snapshot folder instead of AWS (see `check --offline`).
    #[arg(long, value_name = "DIR")]
    pub offline: Option<PathBuf>,
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn blamed_in_words(b: Blamed) -> &'static str {
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
fn names_policy(arn: &str, blame: &iam_doctor::core::eval::Blame) -> bool {
    blame
        .policy_id
        .as_deref()
        .is_some_and(|id| id == arn || arn.rsplit_once('/').is_some_and(|(_, last)| last == id))
}

/// Whether the local decision reproduces what AWS said, and the verdict in words. Reproduced
/// means the same decision for the same reason: a deny, and, where AWS names a policy type (and
/// a policy), the local cause is of that type (and that policy).
fn judge(
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

/// The region of the failed call: as given, else the resource ARN's, else the environment's.
fn region_for(d: &Denial, args: &Args) -> String {
    args.region
        .clone()
        .or_else(|| {
            d.resource
                .as_deref()
                .and_then(iam_doctor::core::arn::Arn::parse)
                .map(|a| a.region.to_string())
                .filter(|r| !r.is_empty())
        })
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// Why a principal AWS printed cannot be looked up, when it cannot: a placeholder or
/// redaction (`{account id}`, `[IAM Role]`, `<redacted>`, `XXXX`), or a name without an ARN.
fn unusable_principal(principal: &str) -> Option<String> {
    if let Some(c) = principal
        .chars()
        .find(|c| c.is_whitespace() || "{}[]<>$*".contains(*c))
    {
        return Some(format!(
            "the principal `{principal}` holds a placeholder or redaction (`{c}`), so it cannot be looked up"
        ));
    }
    match iam_doctor::core::arn::Arn::parse(principal) {
        Some(arn)
            if !arn.account.is_empty() && !arn.account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(format!(
                "the principal `{principal}` has `{}` where its 12-digit account id belongs, so it cannot be looked up",
                arn.account
            ))
        }
        Some(_) => None,
        None => Some(format!(
            "the message names `{principal}` without an ARN, so it is not known whether it is a role or a user"
        )),
    }
}

/// The principal to check: the one the message names, or `--role`/`--user` when the message
/// names none or one that cannot be looked up. `Err` says why nothing can be checked.
fn principal_to_check(d: &Denial, args: &Args) -> Result<PrincipalRef, String> {
    let problem = match &d.principal {
        Some(p) => match unusable_principal(p) {
            Some(problem) => problem,
            None => match PrincipalRef::from_arn(p) {
                Ok(principal) => return Ok(principal),
                Err(e) => e.to_string(),
            },
        },
        None => format!("the message on line {} names no principal", d.line),
    };
    let given = match (&args.role, &args.user) {
        (Some(r), _) => Some(PrincipalRef::role(r)),
        (None, Some(u)) => Some(PrincipalRef::user(u)),
        (None, None) => None,
    };
    match given {
        Some(Ok(principal)) => Ok(principal),
        Some(Err(e)) => Err(format!("not checked: {e}")),
        None => Err(format!(
            "not checked: {problem}: pass `--role NAME` or `--user NAME` to check one"
        )),
    }
}

/// Where the facts come from.
enum Source {
    Offline(Offline),
    Aws(AwsConnection),
    /// AWS could not be reached (no credentials): the messages are shown as parsed, unchecked.
    Unavailable(String),
}

impl Source {
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), Failure> {
        match self {
            Source::Offline(o) => o.facts(who).map(|f| (f, OrgVisibility::Evaluated)),
            Source::Aws(l) => l.facts(who),
            Source::Unavailable(reason) => Err(Failure::input(
                reason.clone(),
                "configure AWS credentials (environment, `--aws-profile`, SSO) or pass `--offline DIR`",
            )),
        }
    }
}

/// A principal's facts with its policies parsed once, however many denials name it.
struct Prepared {
    facts: Facts,
    visibility: OrgVisibility,
    set: PolicySet,
    notes: Vec<String>,
}

/// One explained denial.
struct Explained {
    denial: Denial,
    result: Option<ActionResult>,
    report: Option<CheckReport>,
    verdict: String,
    /// The local decision agrees with AWS's, policy type (and policy) included.
    reproduced: bool,
}

impl Explained {
    /// A denial shown as parsed, with the reason it was not checked.
    fn unchecked(denial: Denial, verdict: String) -> Self {
        Explained {
            denial,
            result: None,
            report: None,
            verdict,
            reproduced: false,
        }
    }
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    if let Some(region) = &args.region {
        super::validate::region(region, args.output.quiet)?;
    }
    let text = if args.message == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::input(
                format!("cannot read stdin: {e}"),
                "pipe the error text in, or pass it as the argument",
            )
        })?;
        s
    } else {
        args.message.clone()
    };
    let denials = access_denied::parse(&text);
    if denials.is_empty() {
        return Err(Failure::input(
            "no AccessDenied message found in the input",
            "paste the whole error, e.g. `User: arn:aws:sts::123456789012:assumed-role/... is not authorized to perform: ...`",
        ));
    }
    let source = match &args.offline {
        Some(dir) => Source::Offline(Offline::open(dir)?),
        None => {
            match AwsConnection::try_connect(&args.aws, args.region.as_deref(), args.output.quiet)?
            {
                Ok(live) => Source::Aws(live),
                Err(e @ AwsError::NoCredentials { .. }) => {
                    let failure = aws_failure(e);
                    warn(
                        args.output.quiet,
                        &format!(
                            "the messages were not checked against AWS: {}",
                            failure.message
                        ),
                    );
                    if let Some(help) = &failure.help {
                        note(args.output.quiet, help);
                    }
                    Source::Unavailable(format!(
                        "not checked: {} (or pass `--offline DIR` with a snapshot)",
                        failure.message
                    ))
                }
                Err(e) => return Err(aws_failure(e)),
            }
        }
    };
    let mut cache: HashMap<PrincipalRef, Result<Prepared, String>> = HashMap::new();
    let mut explained = Vec::new();
    for d in denials {
        explained.push(explain_one(d, args, &source, &mut cache)?);
    }
    render(args, &explained)
}

fn explain_one(
    d: Denial,
    args: &Args,
    source: &Source,
    cache: &mut HashMap<PrincipalRef, Result<Prepared, String>>,
) -> Result<Explained, Failure> {
    if d.action.is_empty() {
        return Ok(Explained::unchecked(
            d,
            "not checked: the message names no action (AWS printed `null`) and the paste names no operation"
                .to_string(),
        ));
    }
    if d.service().is_none() {
        let verdict = format!(
            "not checked: the message names the operation `{}` but not its service: run `iam-doctor simulate` or `check` with the full action",
            d.action
        );
        return Ok(Explained::unchecked(d, verdict));
    }
    if let Source::Unavailable(reason) = source {
        let reason = reason.clone();
        return Ok(Explained::unchecked(d, reason));
    }
    let who = match principal_to_check(&d, args) {
        Ok(w) => w,
        Err(reason) => return Ok(Explained::unchecked(d, reason)),
    };
    let prepared = match cache.entry(who) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            // A principal that cannot be looked up (not in the data, another account) leaves
            // its messages unchecked and the others are still explained. A failure that is not
            // about this principal (AWS not answering) ends the run.
            let prepared = match source.facts(v.key()) {
                Ok((facts, visibility)) => {
                    let (set, notes) = policy_set(&facts.principal, facts.org.as_ref())
                        .map_err(Failure::from_error)?;
                    Ok(Prepared {
                        facts,
                        visibility,
                        set,
                        notes,
                    })
                }
                Err(f) if f.exit == Exit::Input => Err(format!("not checked: {}", f.message)),
                Err(f) => return Err(f),
            };
            v.insert(prepared)
        }
    };
    let Prepared {
        facts,
        visibility,
        set,
        notes,
    } = match prepared {
        Ok(p) => &*p,
        Err(reason) => {
            let reason = reason.clone();
            return Ok(Explained::unchecked(d, reason));
        }
    };
    let region = region_for(&d, args);
    let asked = RequiredAction {
        action: d.action.clone(),
        resource: d.resource.clone().unwrap_or_else(|| "*".to_string()),
        grant: String::new(),
        policy: String::new(),
        reason: format!("failed call on line {} of the input", d.line),
    };
    let mut results = check_local(
        set,
        &facts.principal,
        facts.org.as_ref(),
        &ResourcePolicies::new(),
        std::slice::from_ref(&asked),
        &region,
        &args.context.supplied(None)?,
    )
    .map_err(Failure::from_error)?;
    // Live: IAM's simulator decides, the local evaluation explains (as in `check`).
    if let Source::Aws(live) = source {
        let outcomes = live.simulate(
            &facts.principal,
            std::slice::from_ref(&asked),
            &region,
            &facts.resource_policies,
        )?;
        results = merge_simulation(&facts.principal, results, &outcomes, *visibility).0;
    }
    // What could not be decided is held as in `check`, before the verdict is judged.
    let mut report = CheckReport {
        principal: facts.principal.arn.clone(),
        profile: String::new(),
        region,
        results,
        notes: notes.iter().chain(facts.notes.iter()).cloned().collect(),
        warnings: vec![],
        incomplete: facts.incomplete,
        unchecked: Vec::new(),
    };
    report.hold_undecidable();
    let result = report
        .results
        .first()
        .cloned()
        .ok_or_else(|| Failure::incomplete("no result for the denied action"))?;
    // Whether the organization is known: offline, from `organization.json`; live, unless
    // Organizations could not be read (not being in one is knowing it).
    let org_data = match source {
        Source::Offline(_) => facts.org.is_some(),
        _ => *visibility != OrgVisibility::Unreadable,
    };
    let (reproduced, verdict) = judge(
        &d,
        &result,
        set,
        org_data,
        matches!(source, Source::Offline(_)),
    );
    Ok(Explained {
        denial: d,
        result: Some(result),
        report: Some(report),
        verdict,
        reproduced,
    })
}

fn render(args: &Args, explained: &[Explained]) -> Result<Exit, Failure> {
    let all_reproduced = explained.iter().all(|x| x.reproduced);
    match args.format {
        TableOrJson::Json => {
            let items: Vec<_> = explained
                .iter()
                .map(|x| {
                    json!({
                        "denial": x.denial,
                        "aws_said": blamed_in_words(x.denial.blamed),
                        "verdict": x.verdict,
                        "reproduced": x.reproduced,
                        "decision": x.result.as_ref().map(|r| r.decision),
                        "engine": x.result.as_ref().map(|r| r.engine),
                        "disagreement": x.result.as_ref().and_then(|r| r.disagreement.clone()),
                        "decided_by": x.result.as_ref().map(|r| r.decided_by.iter().map(report::json::blame).collect::<Vec<_>>()),
                        "remediation": x.report.as_ref().map(remediate),
                    })
                })
                .collect();
            emit(&pretty(&json!({ "explanations": items })))?;
        }
        TableOrJson::Table => {
            let mut out = String::new();
            for (i, x) in explained.iter().enumerate() {
                let d = &x.denial;
                out.push_str(&format!(
                    "{}. {} on {} (line {})\n   principal: {}\n   AWS said:  {}\n   verdict:   {}\n",
                    i + 1,
                    escape(if d.action.is_empty() { "(action not named)" } else { d.action.as_str() }),
                    escape(d.resource.as_deref().unwrap_or("*")),
                    d.line,
                    escape(d.principal.as_deref().unwrap_or("(not in the message)")),
                    blamed_in_words(d.blamed),
                    escape(&x.verdict)
                ));
                for n in &d.notes {
                    out.push_str(&format!("   parsed:    {}\n", escape(n)));
                }
                if let Some(r) = &x.result {
                    for b in &r.decided_by {
                        out.push_str(&format!("   cause:     {}\n", escape(&b.describe())));
                    }
                    if !r.missing_context.is_empty() {
                        out.push_str(&format!(
                            "   missing context: {}\n",
                            escape(&r.missing_context.join(", "))
                        ));
                    }
                }
                if let Some(rep) = &x.report {
                    let fix = remediate(rep);
                    for s in &fix.steps {
                        out.push_str(&format!("   fix:       {}\n", escape(&s.advice)));
                    }
                    if let Some(doc) = &fix.add_to_role {
                        out.push_str(&format!(
                            "   fix:       add to the role: {}\n",
                            escape(&doc.to_string())
                        ));
                    }
                    for n in &rep.notes {
                        out.push_str(&format!("   note:      {}\n", escape(n)));
                    }
                }
                if let Some(enc) = &d.encoded_message {
                    let short: String = escape(enc).chars().take(24).collect();
                    out.push_str(&format!(
                        "   encoded:   decode the full message with `aws sts decode-authorization-message --encoded-message {short}…` (needs sts:DecodeAuthorizationMessage)\n"
                    ));
                }
                out.push('\n');
            }
            emit(&out)?;
        }
    }
    Ok(if all_reproduced {
        Exit::Denied
    } else {
        Exit::Incomplete
    })
}
