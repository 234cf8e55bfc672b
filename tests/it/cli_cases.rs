//! Fixture cases for the binary: each folder under `tests/cases/` is one run, so adding a case
//! needs no Rust.
//!
//! A case folder holds:
//! - `args`: one command-line argument per line (blank lines and lines starting with `#` are
//!   skipped); `{case}` is replaced by the case folder's path, so a case can name its own files;
//! - any files those arguments use (`input.json`, `authorization-details.json`, ...);
//! - `expected-exit`: the exit code, a number;
//! - `expected.json`: a JSON value that must be a *subset* of the JSON the command prints: every
//!   key of an expected object is present and matches recursively, every element of an expected
//!   array is matched by some element of the actual array, and scalars are equal. A subset keeps
//!   cases about the one fact they pin, and lets the output grow without rewriting every case;
//! - optionally `expected-stderr`: lines that must each appear somewhere in stderr.
//!
//! Every case runs, and all failures are reported together with the case name and the JSON path
//! of the first mismatch.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

const CASES_DIR: &str = "tests/cases";

/// Where `expected` stops being a subset of `actual`, as a JSON path and a reason.
fn subset_mismatch(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().find_map(|(k, ev)| {
            let here = format!("{path}.{k}");
            match a.get(k) {
                None => Some(format!("{here}: missing (expected {ev})")),
                Some(av) => subset_mismatch(ev, av, &here),
            }
        }),
        (Value::Array(e), Value::Array(a)) => e.iter().enumerate().find_map(|(i, ev)| {
            if a.iter().any(|av| subset_mismatch(ev, av, "").is_none()) {
                None
            } else {
                Some(format!(
                    "{path}[{i}]: no element matches {ev}; closest: {}",
                    closest_reason(ev, a)
                ))
            }
        }),
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// For an unmatched array element, why the most similar candidate failed: the candidate whose
/// mismatch is deepest in the structure is the one the case author most likely meant.
fn closest_reason(expected: &Value, candidates: &[Value]) -> String {
    candidates
        .iter()
        .filter_map(|c| subset_mismatch(expected, c, "$"))
        .max_by_key(|reason| reason.split(':').next().unwrap_or_default().len())
        .unwrap_or_else(|| "the array is empty".to_string())
}

fn is_subset(expected: &Value, actual: &Value) -> bool {
    subset_mismatch(expected, actual, "$").is_none()
}

struct Case {
    name: String,
    dir: PathBuf,
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(CASES_DIR)
        .unwrap_or_else(|e| panic!("cannot list `{CASES_DIR}`: {e}"))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: Path::new(CASES_DIR).join(e.file_name()),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read `{file}`: {e}"))
}

/// Runs one case; `Err` says what is wrong.
fn run_case(case: &Case) -> Result<(), String> {
    let case_path = case
        .dir
        .to_str()
        .ok_or("the case path is not UTF-8")?
        .to_string();
    let args: Vec<String> = read(&case.dir, "args")?
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.replace("{case}", &case_path))
        .collect();
    let expected_exit: i32 = read(&case.dir, "expected-exit")?
        .trim()
        .parse()
        .map_err(|e| format!("`expected-exit` is not a number: {e}"))?;
    let expected: Value = serde_json::from_str(&read(&case.dir, "expected.json")?)
        .map_err(|e| format!("`expected.json` is not JSON: {e}"))?;

    let out = Command::cargo_bin("iam-doctor")
        .map_err(|e| e.to_string())?
        .env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_PROFILE")
        .env_remove("JETS_ENV")
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run the binary: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = || format!("args {args:?}\nstderr: {stderr}");

    if out.status.code() != Some(expected_exit) {
        return Err(format!(
            "exit {:?}, expected {expected_exit}\n{}",
            out.status.code(),
            context()
        ));
    }
    if stderr.contains("panicked") {
        return Err(format!("the binary panicked\n{}", context()));
    }
    if let Ok(lines) = read(&case.dir, "expected-stderr") {
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            if !stderr.contains(line) {
                return Err(format!("stderr lacks `{line}`\n{}", context()));
            }
        }
    }
    let actual: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "stdout is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            context()
        )
    })?;
    match subset_mismatch(&expected, &actual, "$") {
        None => Ok(()),
        Some(reason) => Err(format!(
            "{reason}\n{}\nstdout: {}",
            context(),
            serde_json::to_string_pretty(&actual).unwrap_or_default()
        )),
    }
}

#[test]
fn fixture_cases() {
    let all = cases();
    assert!(
        all.len() >= 8,
        "expected the fixture cases under `{CASES_DIR}`, found {}",
        all.len()
    );
    let failures: Vec<String> = all
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("case `{}`: {e}", c.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_case_folder_is_complete() {
    for c in cases() {
        for f in ["args", "expected-exit", "expected.json"] {
            assert!(c.dir.join(f).is_file(), "case `{}` has no `{f}`", c.name);
        }
    }
}

#[test]
fn subset_matching_follows_its_rules() {
    let actual = json!({
        "decision": "implicit_deny",
        "decided_by": [
            {"kind": "scp", "target": "ou-1", "policy": null},
            {"kind": "identity", "policy": null}
        ],
        "missing_context": ["aws:username"],
        "n": 1
    });
    // Objects: any subset of keys, matched recursively.
    assert!(is_subset(&json!({}), &actual));
    assert!(is_subset(&json!({"decision": "implicit_deny"}), &actual));
    assert!(is_subset(
        &json!({"decided_by": [{"kind": "identity"}]}),
        &actual
    ));
    // Arrays: each expected element matched by some element, in any order.
    assert!(is_subset(
        &json!({"decided_by": [{"kind": "identity"}, {"target": "ou-1"}]}),
        &actual
    ));
    assert!(is_subset(&json!({"decided_by": []}), &actual));
    // A missing key, a different scalar, an unmatched element or another type is a mismatch.
    assert!(!is_subset(&json!({"engine": "local"}), &actual));
    assert!(!is_subset(&json!({"decision": "allowed"}), &actual));
    assert!(!is_subset(
        &json!({"decided_by": [{"kind": "boundary"}]}),
        &actual
    ));
    assert!(!is_subset(
        &json!({"decided_by": [{"kind": "scp", "target": "ou-2"}]}),
        &actual
    ));
    assert!(!is_subset(&json!({"n": "1"}), &actual));
    assert!(!is_subset(
        &json!({"missing_context": "aws:username"}),
        &actual
    ));
    // `null` must be present and null, not absent.
    assert!(is_subset(
        &json!({"decided_by": [{"policy": null}]}),
        &actual
    ));
    assert!(!is_subset(&json!({"absent": null}), &actual));
    // The mismatch names where it is.
    let reason = subset_mismatch(&json!({"decided_by": [{"kind": "rcp"}]}), &actual, "$")
        .expect("a mismatch");
    assert!(reason.starts_with("$.decided_by[0]"), "{reason}");
}
