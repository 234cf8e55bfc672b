//! The `iam-doctor` binary: parses arguments, dispatches, renders errors once.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
