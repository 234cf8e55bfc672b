//! The command layer: argument parsing, dispatch, and the one place errors are rendered.
//!
//! stdout carries data (tables, JSON, policies); stderr carries messages prefixed with the
//! tool's name. Exit codes are part of the interface for CI pipelines.

mod args;
mod check;
mod evidence;
mod explain;
mod generate;
mod live;
mod required;
mod scps;
mod self_policy;
mod simulate;
mod snapshot;
mod validate;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use iam_doctor::aws::network::redact_url_credentials;
use iam_doctor::error::Help;

pub use args::*;

/// Exit codes, documented in the README and `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything required is allowed.
    Allowed = 0,
    /// At least one required action is denied.
    Denied = 1,
    /// Bad usage or bad input (a malformed policy, a missing file, an unknown role).
    Input = 2,
    /// The check could not be completed (e.g. SCPs unreadable): nothing may be assumed allowed.
    Incomplete = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// An error as the user sees it: one line, and what to do about it.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub help: Option<String>,
    pub exit: Exit,
}

impl Failure {
    /// A usage or input error (exit 2): what is wrong, and what to do about it.
    pub fn input(message: impl ToString, help: impl ToString) -> Self {
        Failure {
            message: message.to_string(),
            help: Some(help.to_string()),
            exit: Exit::Input,
        }
    }

    /// A usage or input error from the library, with the help its type gives.
    pub fn from_error(e: impl Help) -> Self {
        let help = e.help();
        Failure::input(e, help)
    }

    pub fn incomplete(message: impl ToString) -> Self {
        Failure {
            message: message.to_string(),
            help: None,
            exit: Exit::Incomplete,
        }
    }
}

const AFTER_HELP: &str = "Exit codes: 0 all required actions allowed, 1 something denied, \
2 usage or input error, 3 incomplete (part of the decision could not be made).";

/// Will this deploy be allowed by AWS, and if not, exactly which policy stops it?
#[derive(Debug, Parser)]
#[command(name = "iam-doctor", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the permissions a Jets deploy role needs, with the reason for each.
    Required(required::Args),
    /// Check a role's policies (and its organization's SCPs/RCPs) against the required permissions.
    Check(check::Args),
    /// Decide one request against policies you supply (what-if for policy changes).
    Simulate(simulate::Args),
    /// Explain pasted AccessDenied errors: which policy denies, and how to fix it.
    Explain(explain::Args),
    /// Collect the account's IAM and organization data once, for `check --offline DIR`.
    Snapshot(snapshot::Args),
    /// Admin audit: which SCP or RCP on the path root → account blocks which required action.
    Scps(scps::Args),
    /// Print the read-only IAM policy iam-doctor itself needs.
    SelfPolicy(self_policy::Args),
    /// Print shell completions.
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // `--help` and `--version`: not errors.
            let _ = e.print();
            return Exit::Allowed.into();
        }
        Err(e) => {
            report_failure(&usage_failure(&e));
            return Exit::Input.into();
        }
    };
    let result = match &cli.command {
        Command::Required(a) => required::run(a),
        Command::Check(a) => check::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Snapshot(a) => snapshot::run(a),
        Command::Scps(a) => scps::run(a),
        Command::SelfPolicy(a) => self_policy::run(a),
        Command::Completions(a) => generate::completions(a),
        Command::Man => generate::man(),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(f) => {
            report_failure(&f);
            f.exit.into()
        }
    }
}

/// The one place errors are shown: `iam-doctor: error: …` and, under it, `help: …`.
fn report_failure(f: &Failure) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "iam-doctor: error: {}",
        one_line(&redact_url_credentials(&f.message))
    );
    if let Some(h) = &f.help {
        let _ = writeln!(err, "  help: {}", one_line(&redact_url_credentials(h)));
    }
}

/// An argument error from clap, in the same two lines as every other error: clap's first line
/// is the message; its possible values, tip and usage become the help.
fn usage_failure(e: &clap::Error) -> Failure {
    use clap::CommandFactory;
    let rendered = e.render().to_string();
    let subcommand = std::env::args().nth(1).filter(|arg| {
        Cli::command()
            .get_subcommands()
            .any(|s| s.get_name() == arg)
    });
    let command = match &subcommand {
        Some(s) => format!("iam-doctor {s}"),
        None => "iam-doctor".to_string(),
    };
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return Failure::input(
            format!("`{command}` needs a command"),
            format!("`{command} --help` lists the commands"),
        );
    }
    let usage = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "));
    let mut message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    // "the following required arguments were not provided:" lists them on the lines below.
    if message.ends_with(':') {
        let listed: Vec<&str> = rendered
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        message = format!("{} {}", message, listed.join(", "));
    }
    let mut help: Vec<String> = Vec::new();
    for line in rendered.lines().skip(1).map(str::trim) {
        if let Some(values) = line
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .filter(|l| l.starts_with("possible values:"))
        {
            help.push(values.to_string());
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            help.push(tip.to_string());
        }
    }
    if let Some(usage) = usage {
        help.push(format!("usage: {usage}"));
    }
    help.push(format!("`{command} --help` lists the options"));
    Failure::input(message, help.join("; "))
}

/// Keeps a message on one line: user input quoted in it may hold line breaks or other
/// control characters, which are shown escaped.
pub fn one_line(text: &str) -> String {
    iam_doctor::report::escape(text).into_owned()
}

/// Writes data to stdout, as [`emit_with`].
pub fn emit(text: &str) -> Result<(), Failure> {
    emit_with(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout what `write` produces, as it comes rather than collected first, and ends
/// the output with a line break. A closed pipe (`| head`) is not an error; any other failed
/// write (a full disk, a file that cannot take it) is, since the report asked for was not
/// delivered.
pub fn emit_with(
    write: impl FnOnce(&mut StdoutWriter<'_>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let mut out = StdoutWriter {
        out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock()),
        last: None,
    };
    let written = write(&mut out)
        .and_then(|()| match out.last {
            Some(b'\n') => Ok(()),
            _ => out.out.write_all(b"\n"),
        })
        .and_then(|()| out.out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::input(
            format!("cannot write the output to stdout: {e}"),
            "check that the disk has room and that stdout is open and writable",
        )),
        _ => Ok(()),
    }
}

/// Buffered stdout for [`emit_with`], remembering the last byte written. A concrete type, so
/// that a serializer's many small writes are inlined.
pub struct StdoutWriter<'a> {
    out: std::io::BufWriter<std::io::StdoutLock<'a>>,
    last: Option<u8>,
}

impl std::io::Write for StdoutWriter<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let Some(&b) = buf.get(..n).and_then(<[u8]>::last) {
            self.last = Some(b);
        }
        Ok(n)
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.out.write_all(buf)?;
        if let Some(&b) = buf.last() {
            self.last = Some(b);
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A message for people, on stderr.
pub fn warn(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(
            std::io::stderr().lock(),
            "iam-doctor: warning: {}",
            one_line(&redact_url_credentials(message))
        );
    }
}

/// What makes a result incomplete, on stderr whatever `--quiet` says: hiding it would make an
/// incomplete answer look complete.
pub fn incomplete(message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "iam-doctor: incomplete: {}",
        one_line(message)
    );
}

pub fn note(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(
            std::io::stderr().lock(),
            "iam-doctor: note: {}",
            one_line(&redact_url_credentials(message))
        );
    }
}

/// The terminal width when stdout is a terminal, for tables.
pub fn terminal_width() -> Option<u16> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Some(
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(160),
        );
    }
    None
}
