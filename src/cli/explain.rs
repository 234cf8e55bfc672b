//! `iam-doctor explain`: from a pasted AccessDenied message to the policy that caused it.
//!
//! AWS's messages name the action and, nowadays, the policy *type*; never the policy, the
//! organization level or the statement. This command parses the messages, looks the principal
//! up, decides the same request locally and names all three, then says what to change.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use iam_doctor::core::check::{
    CheckReport, OrgVisibility, check_local, merge_simulation, policy_set,
};
use iam_doctor::core::denial::EncodedMessage;
use iam_doctor::core::eval::PolicySet;
use iam_doctor::core::evidence::{Evidence, Origin};
use iam_doctor::core::explain::{Explanation, judge};
use iam_doctor::core::facts::ResourcePolicies;
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::core::profile::RequiredAction;
use iam_doctor::fact_source::{AnyFactSource, FactSource, Facts, Snapshot};
use iam_doctor::inputs::access_denied::Denial;
use iam_doctor::inputs::evidence::gather;
use iam_doctor::report;

use iam_doctor::aws::AwsError;

use super::evidence::{self, SourceArgs};
use super::live::{self, AwsArgs, aws_failure};
use super::{ContextArgs, Exit, Failure, OutputArgs, TableOrJson, emit, note, warn};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The error text (CloudFormation events, CodeBuild logs, CLI output); `-` reads stdin.
    /// Optional with a source in AWS (`--stack`, `--build`, `--log-group`).
    pub message: Option<String>,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// The role to check when the message names no principal; with `--cloudtrail`, only this
    /// role's denied calls are explained.
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

/// The region of the failed call: the one AWS recorded (CloudTrail, a decoded message), else
/// as given, else the resource ARN's, else the environment's.
fn region_for(d: &Denial, args: &Args) -> String {
    d.region
        .clone()
        .or_else(|| args.region.clone())
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
    Facts(Box<AnyFactSource>),
    /// AWS could not be reached (no credentials): the messages are shown as parsed, unchecked.
    Unavailable(String),
}

impl Source {
    fn facts(&self, who: &PrincipalRef) -> Result<(Facts, OrgVisibility), Failure> {
        match self {
            Source::Facts(source) => Ok(source.facts(who)?),
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

pub fn run(args: &Args) -> Result<Exit, Failure> {
    if let Some(region) = &args.region {
        super::validate::region(region, args.output.quiet)?;
    }
    let mut evidence = Vec::new();
    match args.message.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Failure::input(
                    format!("cannot read stdin: {e}"),
                    "pipe the error text in, or pass it as the argument",
                )
            })?;
            evidence.push(Evidence::text(Origin::Paste, None, s));
        }
        Some(text) => evidence.push(Evidence::text(Origin::Paste, None, text.to_string())),
        None if !args.sources.any() => {
            return Err(Failure::input(
                "nothing to explain: give the error text as MESSAGE (`-` reads stdin), or a source in AWS",
                "paste the error (`iam-doctor explain - < build.log`), or read it from AWS: `--stack NAME`, `--build ID|latest`, `--log-group NAME`, `--cloudtrail`",
            ));
        }
        None => {}
    }
    // AWS is needed for the sources, and for the facts unless a snapshot gives them.
    let live = (args.offline.is_none() || args.sources.any())
        .then(|| live::try_connect(&args.aws, args.region.as_deref()))
        .transpose()?;
    let mut read = evidence::Read::default();
    if args.sources.any() {
        match &live {
            Some(Ok(aws)) => {
                read = evidence::read(&args.sources, args.role.as_deref(), args.output.quiet, aws)?
            }
            Some(Err(e)) => return Err(aws_failure(e.clone())),
            None => {}
        }
    }
    evidence.append(&mut read.evidence);
    let gathered = gather(&evidence);
    let mut problems = read.problems;
    problems.extend(gathered.unreadable.iter().map(|(seen, text)| {
        format!(
            "{}: an authorization failure that names no action, so nothing can be checked: {text}",
            seen.describe()
        )
    }));
    if gathered.denials.is_empty() {
        if !args.sources.any() {
            return Err(Failure::input(
                "no AccessDenied message found in the input",
                "paste the whole error, e.g. `User: arn:aws:sts::123456789012:assumed-role/... is not authorized to perform: ...`",
            ));
        }
        return render(args, &[], &read.read, &problems);
    }
    let source = match &args.offline {
        Some(dir) => Source::Facts(Box::new(AnyFactSource::Snapshot(
            Snapshot::open(dir).map_err(Failure::from_error)?,
        ))),
        None => match live {
            Some(Ok(aws)) => Source::Facts(Box::new(AnyFactSource::Aws(aws))),
            Some(Err(e @ AwsError::NoCredentials { .. })) => {
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
            Some(Err(e)) => return Err(aws_failure(e)),
            None => return Err(Failure::incomplete("no source of facts")),
        },
    };
    let mut cache: HashMap<PrincipalRef, Result<Prepared, String>> = HashMap::new();
    let mut explained = Vec::new();
    for seen in gathered.denials {
        let mut x = explain_one(seen.denial, args, &source, &mut cache)?;
        x.sources = seen.sightings;
        explained.push(x);
    }
    render(args, &explained, &read.read, &problems)
}

fn explain_one(
    mut d: Denial,
    args: &Args,
    source: &Source,
    cache: &mut HashMap<PrincipalRef, Result<Prepared, String>>,
) -> Result<Explanation, Failure> {
    // An encoded authorization message is AWS's own record of the request: decoded, it gives
    // the exact action, resource, principal and context to reproduce.
    if let Source::Facts(facts) = source
        && let AnyFactSource::Aws(aws) = facts.as_ref()
    {
        aws.decode_denial(&mut d);
    }
    if d.action.is_empty() {
        return Ok(Explanation::unchecked(
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
        return Ok(Explanation::unchecked(d, verdict));
    }
    if let Source::Unavailable(reason) = source {
        let reason = reason.clone();
        return Ok(Explanation::unchecked(d, reason));
    }
    let who = match principal_to_check(&d, args) {
        Ok(w) => w,
        Err(reason) => return Ok(Explanation::unchecked(d, reason)),
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
            return Ok(Explanation::unchecked(d, reason));
        }
    };
    let region = region_for(&d, args);
    // The request context: `--context`, and over it every key AWS decoded.
    let mut context = args.context.supplied(None)?;
    if let Some(EncodedMessage::Decoded {
        context: decoded, ..
    }) = &d.encoded
    {
        for entry in decoded {
            context.state(&entry.key, Some(entry.values.clone()));
        }
    }
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
        &context,
    )
    .map_err(Failure::from_error)?;
    // Where the source has IAM's simulator, it decides; the local evaluation explains (as in
    // `check`).
    if let Source::Facts(source) = source
        && let Some(outcomes) = source.verdicts(
            &facts.principal,
            std::slice::from_ref(&asked),
            &region,
            &facts.resource_policies,
            &context,
        )?
    {
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
    // Whether the organization is known: not when Organizations could not be read, nor from a
    // snapshot without `organization.json`; not being in one is knowing it.
    let org_data = *visibility != OrgVisibility::Unreadable;
    let from_snapshot = matches!(source, Source::Facts(s) if s.is_snapshot());
    let (reproduced, verdict) = judge(&d, &result, set, org_data, from_snapshot);
    Ok(Explanation::checked(d, report, verdict, reproduced))
}

fn render(
    args: &Args,
    explained: &[Explanation],
    read: &[String],
    problems: &[String],
) -> Result<Exit, Failure> {
    emit(&match args.format {
        TableOrJson::Json => report::json::explain_evidence(explained, read, problems),
        TableOrJson::Table if explained.is_empty() => report::table::explain_nothing_found(read),
        TableOrJson::Table => report::table::explain(explained),
    })?;
    if !explained.is_empty() {
        for r in read {
            note(args.output.quiet, &format!("read {r}"));
        }
    }
    for p in problems {
        warn(args.output.quiet, p);
    }
    Ok(if !problems.is_empty() {
        Exit::Incomplete
    } else if explained.is_empty() {
        Exit::Allowed
    } else if explained.iter().all(|x| x.reproduced) {
        Exit::Denied
    } else {
        Exit::Incomplete
    })
}
