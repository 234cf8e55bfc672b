//! `iam-doctor explain`: from a pasted AccessDenied message to the policy that caused it.
//!
//! AWS's messages name the action and, nowadays, the policy *type*; never the policy, the
//! organization level or the statement. This command parses the messages, looks the principal
//! up, decides the same request locally and names all three, then says what to change.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use serde_json::json;

use iam_doctor::core::arn::{PrincipalRef, principal_ref};
use iam_doctor::core::check::{
    ActionResult, CheckReport, OrgVisibility, check_local, merge_simulation, policy_set,
};
use iam_doctor::core::eval::{Decision, PolicySet};
use iam_doctor::core::facts::ResourcePolicies;
use iam_doctor::core::profile::RequiredAction;
use iam_doctor::core::remediation::remediate;
use iam_doctor::inputs::access_denied::{self, Blamed, Denial};
use iam_doctor::report;

use super::live::{AwsArgs, Live};
use super::source::{Facts, Offline, Who};
use super::{CheckFormat, ContextArgs, Exit, Failure, OutputArgs, emit, required::pretty};

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
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn aws_said(b: Blamed) -> &'static str {
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

/// Policy types this tool can see; a denial blamed elsewhere cannot be reproduced locally.
fn visible(b: Blamed) -> bool {
    matches!(
        b,
        Blamed::ScpExplicitDeny
            | Blamed::RcpExplicitDeny
            | Blamed::IdentityExplicitDeny
            | Blamed::BoundaryExplicitDeny
            | Blamed::UnspecifiedExplicitDeny
            | Blamed::NoIdentityPolicy
            | Blamed::BoundaryImplicitDeny
            | Blamed::Unspecified
    )
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

fn who_for(d: &Denial, args: &Args) -> Result<Who, Failure> {
    if let Some(p) = &d.principal {
        return match principal_ref(p) {
            PrincipalRef::Role { name, .. } => Ok(Who::Role(name)),
            PrincipalRef::RoleArn(arn) => Ok(Who::Role(arn)),
            PrincipalRef::User { arn, .. } => Ok(Who::User(arn)),
            PrincipalRef::Other(o) => Err(Failure::input(format!(
                "`{o}` is not a role or user that can be checked"
            ))),
        };
    }
    match (&args.role, &args.user) {
        (Some(r), _) => Ok(Who::Role(r.clone())),
        (None, Some(u)) => Ok(Who::User(u.clone())),
        (None, None) => Err(Failure::input(format!(
            "the message on line {} names no principal, so it was not checked: pass `--role NAME` or `--user NAME` to check one",
            d.line
        ))),
    }
}

/// Where the facts come from.
enum Source {
    Offline(Offline),
    Live(Live),
}

impl Source {
    fn facts(&self, who: &Who) -> Result<(Facts, OrgVisibility), Failure> {
        match self {
            Source::Offline(o) => o.facts(who).map(|f| (f, OrgVisibility::Evaluated)),
            Source::Live(l) => l.facts(who),
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
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    if let Some(region) = &args.region {
        super::validate::region(region, args.output.quiet)?;
    }
    let text = if args.message == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
        s
    } else {
        args.message.clone()
    };
    let denials = access_denied::parse(&text);
    if denials.is_empty() {
        return Err(Failure::input("no AccessDenied message found in the input")
            .help("paste the whole error, e.g. `User: arn:aws:sts::123456789012:assumed-role/... is not authorized to perform: ...`"));
    }
    let source = match &args.offline {
        Some(dir) => Source::Offline(Offline::open(dir)?),
        None => Source::Live(Live::connect(
            &args.aws,
            args.region.as_deref(),
            args.output.quiet,
        )?),
    };
    let mut cache: HashMap<Who, Prepared> = HashMap::new();
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
    cache: &mut HashMap<Who, Prepared>,
) -> Result<Explained, Failure> {
    if d.service().is_none() {
        let verdict = format!(
            "the message names the operation `{}` but not its service: run `iam-doctor simulate` or `check` with the full action",
            d.action
        );
        return Ok(Explained {
            denial: d,
            result: None,
            report: None,
            verdict,
        });
    }
    let who = match who_for(&d, args) {
        Ok(w) => w,
        Err(f) => {
            return Ok(Explained {
                denial: d,
                result: None,
                report: None,
                verdict: f.message,
            });
        }
    };
    let prepared = match cache.entry(who) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            let (facts, visibility) = source.facts(v.key())?;
            let (set, notes) =
                policy_set(&facts.principal, facts.org.as_ref()).map_err(Failure::input)?;
            v.insert(Prepared {
                facts,
                visibility,
                set,
                notes,
            })
        }
    };
    let Prepared {
        facts,
        visibility,
        set,
        notes,
    } = &*prepared;
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
    .map_err(Failure::input)?;
    // Live: IAM's simulator decides, the local evaluation explains (as in `check`).
    if let Source::Live(live) = source {
        let outcomes = live.simulate(&facts.principal, std::slice::from_ref(&asked), &region)?;
        results = merge_simulation(&facts.principal, results, &outcomes, *visibility).0;
    }
    let result = results
        .into_iter()
        .next()
        .ok_or_else(|| Failure::incomplete("no result for the denied action"))?;
    let verdict = match (result.decision, visible(d.blamed)) {
        (Decision::Allowed, true) => format!(
            "iam-doctor's evaluation ALLOWS this with the policies it can see: {}, or the denial comes from a policy it cannot see (resource-based, session, VPC endpoint); nothing here was assumed",
            if args.offline.is_some() {
                "the snapshot may be older than the failure"
            } else {
                "the policies may have changed since the failure, or the call was made in another region"
            }
        ),
        (Decision::Allowed, false) => format!(
            "AWS blames a policy type iam-doctor cannot see ({}); the role's own policies and the organization allow it",
            aws_said(d.blamed)
        ),
        _ => "reproduced: the same decision with the policies below".to_string(),
    };
    let report = CheckReport {
        principal: facts.principal.arn.clone(),
        profile: String::new(),
        region,
        results: vec![result.clone()],
        notes: notes.iter().chain(facts.notes.iter()).cloned().collect(),
        warnings: vec![],
        incomplete: facts.incomplete || result.undecidable(),
    };
    Ok(Explained {
        denial: d,
        result: Some(result),
        report: Some(report),
        verdict,
    })
}

fn render(args: &Args, explained: &[Explained]) -> Result<Exit, Failure> {
    let all_reproduced = explained
        .iter()
        .all(|x| x.result.as_ref().is_some_and(|r| !r.decision.is_allowed()));
    match args.format {
        CheckFormat::Json => {
            let items: Vec<_> = explained
                .iter()
                .map(|x| {
                    json!({
                        "denial": x.denial,
                        "aws_said": aws_said(x.denial.blamed),
                        "verdict": x.verdict,
                        "decision": x.result.as_ref().map(|r| r.decision),
                        "engine": x.result.as_ref().map(|r| r.engine),
                        "disagreement": x.result.as_ref().and_then(|r| r.disagreement.clone()),
                        "decided_by": x.result.as_ref().map(|r| r.decided_by.iter().map(report::json::blame).collect::<Vec<_>>()),
                        "remediation": x.report.as_ref().map(remediate),
                    })
                })
                .collect();
            emit(&pretty(&json!({ "explanations": items })));
        }
        _ => {
            let mut out = String::new();
            for (i, x) in explained.iter().enumerate() {
                let d = &x.denial;
                out.push_str(&format!(
                    "{}. {} on {} (line {})\n   principal: {}\n   AWS said:  {}\n   verdict:   {}\n",
                    i + 1,
                    d.action,
                    d.resource.as_deref().unwrap_or("*"),
                    d.line,
                    d.principal.as_deref().unwrap_or("(not in the message)"),
                    aws_said(d.blamed),
                    x.verdict
                ));
                if let Some(r) = &x.result {
                    for b in &r.decided_by {
                        out.push_str(&format!("   cause:     {}\n", b.describe()));
                    }
                    if !r.missing_context.is_empty() {
                        out.push_str(&format!(
                            "   missing context: {}\n",
                            r.missing_context.join(", ")
                        ));
                    }
                }
                if let Some(rep) = &x.report {
                    let fix = remediate(rep);
                    for s in &fix.steps {
                        out.push_str(&format!("   fix:       {}\n", s.advice));
                    }
                    if let Some(doc) = &fix.add_to_role {
                        out.push_str(&format!("   fix:       add to the role: {}\n", doc));
                    }
                    for n in &rep.notes {
                        out.push_str(&format!("   note:      {n}\n"));
                    }
                }
                if let Some(enc) = &d.encoded_message {
                    let short: String = enc.chars().take(24).collect();
                    out.push_str(&format!(
                        "   encoded:   decode the full message with `aws sts decode-authorization-message --encoded-message {short}…` (needs sts:DecodeAuthorizationMessage)\n"
                    ));
                }
                out.push('\n');
            }
            emit(&out);
        }
    }
    Ok(if all_reproduced {
        Exit::Denied
    } else {
        Exit::Incomplete
    })
}
