//! Shell completions and the man page, generated from the CLI definition so they never drift.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Exit, Failure};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn completions(args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "iam-doctor", &mut buf);
    super::emit(&String::from_utf8_lossy(&buf))?;
    Ok(Exit::Allowed)
}

pub fn man() -> Result<Exit, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| {
            Failure::input(
                format!("cannot render the man page: {e}"),
                "run `iam-doctor --help` instead",
            )
        })?;
    super::emit(&String::from_utf8_lossy(&buf))?;
    Ok(Exit::Allowed)
}
