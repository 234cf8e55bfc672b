//! `explain`'s sources: where in AWS to read the record of a failed deploy.

use iam_doctor::core::evidence::{Evidence, parse_duration};
use iam_doctor::fact_source::{AwsFacts, BuildRef, REMOTE_RUNNER_SUFFIX};

use super::live::aws_failure;
use super::{Exit, Failure};

/// How far back `--log-group` reads without `--since`.
const DEFAULT_SINCE_SECONDS: u64 = 24 * 3_600;

/// How far back `--cloudtrail` reads without `--since`: CloudTrail pages 50 events at two
/// requests a second, so an account's busy day can take minutes; an hour covers a deploy.
const DEFAULT_CLOUDTRAIL_SINCE_SECONDS: u64 = 3_600;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Read the failed deploy from a stack's events and its nested stacks', from the start of
    /// the stack's most recent operation.
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// Read a CodeBuild build's log: its id (`PROJECT:ID`), or `latest` for the most recent build
    /// of the Jets remote runner project `<stack>-remote` (with `--stack`).
    #[arg(long, value_name = "ID|latest")]
    pub build: Option<String>,
    /// Read the events of a CloudWatch Logs group that report an authorization failure.
    #[arg(long, value_name = "NAME")]
    pub log_group: Option<String>,
    /// Only this stream of `--log-group`.
    #[arg(long, value_name = "NAME", requires = "log_group")]
    pub log_stream: Option<String>,
    /// Read the calls CloudTrail recorded as denied in the region (`LookupEvents`), with
    /// `--role` only that role's.
    #[arg(long)]
    pub cloudtrail: bool,
    /// How far back to read, e.g. `30m`, `2h`, `7d` (`--log-group`: default 24h;
    /// `--cloudtrail`: default 1h).
    #[arg(long, value_name = "DURATION", value_parser = since)]
    pub since: Option<u64>,
}

fn since(given: &str) -> Result<u64, String> {
    parse_duration(given).map_err(|e| format!("{e}; give one number and a unit: 90s, 30m, 2h, 7d"))
}

impl SourceArgs {
    /// True when a source in AWS is named.
    pub fn any(&self) -> bool {
        self.stack.is_some() || self.build.is_some() || self.log_group.is_some() || self.cloudtrail
    }
}

/// What the sources gave.
#[derive(Debug, Default)]
pub struct Read {
    pub evidence: Vec<Evidence>,
    /// What was read, one line per source.
    pub read: Vec<String>,
    /// What could not be read, named.
    pub problems: Vec<String>,
}

/// Reads every source named. A source that does not exist is an input error (exit 2, with
/// its name and the region searched); one that could not be read is a problem, and the others
/// are still read.
///
/// `role` narrows CloudTrail to one role's calls; `quiet` hides its progress.
pub fn read(
    args: &SourceArgs,
    role: Option<&str>,
    quiet: bool,
    aws: &AwsFacts,
) -> Result<Read, Failure> {
    let mut out = Read::default();
    let mut take = |what: String, result| match result {
        Ok(iam_doctor::core::evidence::SourceRead {
            evidence,
            read,
            problems,
        }) => {
            out.evidence.extend(evidence);
            out.read.push(read);
            out.problems.extend(problems);
            Ok(())
        }
        Err(e) => {
            let failure = aws_failure(e);
            if failure.exit == Exit::Input {
                return Err(failure);
            }
            out.problems
                .push(format!("{what} could not be read: {}", failure.message));
            Ok(())
        }
    };
    if let Some(stack) = &args.stack {
        take(format!("stack `{stack}`"), aws.read_stack(stack))?;
    }
    if let Some(build) = &args.build {
        let which = if build == "latest" {
            let Some(stack) = &args.stack else {
                return Err(Failure::input(
                    "`--build latest` needs `--stack NAME`: the build is the latest of the project `<stack>-remote`",
                    "pass the stack (`--stack demo-dev --build latest`) or a build id (`--build demo-dev-remote:ID`)",
                ));
            };
            BuildRef::LatestOf(format!("{stack}{REMOTE_RUNNER_SUFFIX}"))
        } else {
            BuildRef::Id(build.clone())
        };
        take(format!("build `{build}`"), aws.read_build(&which))?;
    }
    if let Some(group) = &args.log_group {
        let since = args.since.unwrap_or(DEFAULT_SINCE_SECONDS);
        let now_ms = chrono::Utc::now().timestamp_millis();
        let since_ms =
            now_ms.saturating_sub(i64::try_from(since.saturating_mul(1_000)).unwrap_or(i64::MAX));
        take(
            format!("log group `{group}`"),
            aws.read_log_group(group, args.log_stream.as_deref(), since_ms),
        )?;
    }
    if args.cloudtrail {
        let since = args.since.unwrap_or(DEFAULT_CLOUDTRAIL_SINCE_SECONDS);
        let progress = super::live::spinner(quiet, "reading CloudTrail's event history");
        let result = aws.read_cloudtrail(role, since, |p| {
            if let Some(bar) = &progress {
                bar.set_message(format!(
                    "reading CloudTrail's event history: {} event(s) in {} page(s){}",
                    p.events,
                    p.pages,
                    p.oldest
                        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                        .map(|t| format!(", back to {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                        .unwrap_or_default()
                ));
            }
        });
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        take(
            "CloudTrail (`cloudtrail:LookupEvents`)".to_string(),
            result.map(|r| r.into_source_read()),
        )?;
    }
    Ok(out)
}
