//! Running the binary with no AWS: a clean environment, the demo snapshot, output as text.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The demo account's offline snapshot (`check --offline` input), relative to the package root.
pub const DEMO: &str = "policies/examples/demo";

/// The binary with no colour and none of the caller's AWS or Jets settings.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("iam-doctor").expect("the binary is built");
    c.env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_PROFILE")
        .env_remove("JETS_ENV")
        .env_remove("RUST_BACKTRACE");
    c
}

/// The binary with a terminal wide enough that no table cell wraps.
pub fn wide_bin() -> Command {
    let mut c = bin();
    c.env("COLUMNS", "1000");
    c
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout parsed as JSON; a failure shows both streams.
pub fn json_stdout(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}\nstdout: {}",
            stderr(out),
            stdout(out)
        )
    })
}

/// A copy of the demo snapshot's identity and organization files in a temporary folder, to
/// add a file to or break one of.
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO);
    for f in ["authorization-details.json", "organization.json"] {
        std::fs::copy(demo.join(f), dir.path().join(f)).expect("copy the demo");
    }
    dir
}
