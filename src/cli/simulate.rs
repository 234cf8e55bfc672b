//! `iam-doctor simulate`: one request against policies you supply, for what-if questions.

use std::io::Read;
use std::path::PathBuf;

use iam_doctor::core::eval::evaluate_with_resource_policy;
use iam_doctor::inputs::simulate;
use iam_doctor::report;

use super::{Exit, Failure, TableOrJson, emit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request and its policies as JSON (`-` for stdin); see the README for the layout.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

pub fn run(args: &Args) -> Result<Exit, Failure> {
    let text = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Failure::input(
                format!("cannot read stdin: {e}"),
                "pipe the JSON input in, or pass it with `--input FILE`",
            )
        })?;
        s
    } else {
        iam_doctor::inputs::file::read_regular_to_string(&args.input).map_err(|e| {
            Failure::input(
                format!("cannot read `{}`: {e}", args.input.display()),
                "check the path given to `--input` and that it is a readable regular file",
            )
        })?
    };
    let sim = simulate::parse(&text).map_err(Failure::from_error)?;
    let request = &sim.request;
    let e = evaluate_with_resource_policy(&sim.set, request, sim.resource_policy.state());
    emit(&match args.format {
        TableOrJson::Json => report::json::evaluation(&e),
        TableOrJson::Table => report::table::evaluation(&request.action, &request.resource, &e),
    })?;
    Ok(if e.decision.is_allowed() {
        Exit::Allowed
    } else {
        Exit::Denied
    })
}
