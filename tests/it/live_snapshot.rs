//! `iam-doctor snapshot` against the local AWS (tests/moto): the folder it writes is what
//! `check --offline` reads, and checking the snapshot gives the same decisions as checking
//! live. The live decisions come from the harness's scripted stand-in for IAM's simulator (a
//! simple rule in tests/moto/server.py, not AWS), so agreement here means iam-doctor's offline
//! engine on the snapshot agrees with an independent reading of the same stored policies.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use support::Moto;

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn decisions(report: &Value) -> BTreeMap<String, String> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["action"].as_str().expect("action").to_string(),
                r["decision"].as_str().expect("decision").to_string(),
            )
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[test]
fn offline_check_of_the_snapshot_decides_as_the_live_check() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    moto.set_caller(seeded["caller_arns"]["codebuild"].as_str().expect("caller"));
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("snap");

    let out = moto
        .cmd()
        .args(["snapshot", "--out"])
        .arg(&snap)
        .args(["--role", ROLE])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Exactly the offline layout, and the files' paths on stdout.
    let mut files: Vec<String> = std::fs::read_dir(&snap)
        .expect("snapshot folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["authorization-details.json", "organization.json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("authorization-details.json"), "{stdout}");
    assert!(stdout.contains("organization.json"), "{stdout}");

    let details = read_json(&snap.join("authorization-details.json"));
    let roles: Vec<&str> = details["RoleDetailList"]
        .as_array()
        .expect("RoleDetailList")
        .iter()
        .filter_map(|r| r["RoleName"].as_str())
        .collect();
    assert!(roles.contains(&ROLE), "{roles:?}");
    let org = read_json(&snap.join("organization.json"));
    let member = seeded["member_account_id"].as_str().expect("member");
    assert_eq!(org["account_id"], member);
    let ids: Vec<&str> = org["ancestors"]
        .as_array()
        .expect("ancestors")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    let mut expected: Vec<&str> = seeded["ou_path"]
        .as_array()
        .expect("ou_path")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    expected.push(member);
    assert_eq!(ids, expected);

    // The same question, offline on the snapshot and live. eu-west-1 makes the region
    // restriction SCP deny, and --vpc brings in the EC2 actions Prod's allow-list omits.
    let common = [
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
        "--vpc",
        "--format",
        "json",
    ];
    let offline = moto
        .cmd()
        .args(["check", "--offline"])
        .arg(&snap)
        .args(common)
        .output()
        .expect("runs");
    let live = moto.cmd().arg("check").args(common).output().expect("runs");
    assert_eq!(
        offline.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let offline = stdout_json(&offline);
    let live = stdout_json(&live);
    assert!(
        live["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["engine"] == "aws"),
        "the live check must be decided by the (stand-in) simulator"
    );
    let (offline, live) = (decisions(&offline), decisions(&live));
    assert!(offline.len() > 100, "{}", offline.len());
    assert_eq!(offline, live);
    let kinds: std::collections::BTreeSet<&str> = offline.values().map(String::as_str).collect();
    assert!(
        kinds.contains("allowed") && kinds.contains("explicit_deny"),
        "{kinds:?}"
    );
}

#[test]
fn without_a_principal_the_callers_account_is_taken() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    moto.set_caller(seeded["caller_arns"]["alice"].as_str().expect("caller"));
    let dir = tempfile::tempdir().expect("temp dir");
    moto.cmd()
        .args(["snapshot", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let org = read_json(&dir.path().join("organization.json"));
    assert_eq!(org["account_id"], seeded["member_account_id"]);
    let org = iam_doctor::inputs::organization::load(&dir.path().join("organization.json"))
        .expect("the reader takes what snapshot wrote");
    assert_eq!(org.levels.len(), 4);
    let prod = &org.levels[2];
    assert_eq!(prod.name, "Prod");
    assert!(
        prod.scps.iter().any(|p| p.name == "ProdServiceAllowList"),
        "{prod:?}"
    );

    // --user and the snapshot offline.
    moto.cmd()
        .args(["check", "--offline"])
        .arg(dir.path())
        .args(["--user", "alice", "--format", "json"])
        .assert()
        .code(predicates::ord::le(1));
}

#[test]
fn outside_an_organization_no_organization_file_is_written() {
    let moto = Moto::start();
    moto.seed("no-org");
    let dir = tempfile::tempdir().expect("temp dir");
    // A file from an earlier snapshot would describe another state: it goes.
    std::fs::write(dir.path().join("organization.json"), "{}").expect("write");
    let out = moto
        .cmd()
        .args(["snapshot", "--role", ROLE, "--out"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not in an organization"), "{stderr}");
    assert!(dir.path().join("authorization-details.json").exists());
    assert!(!dir.path().join("organization.json").exists());
    // The offline check runs on it, and says SCPs were not evaluated.
    let out = moto
        .cmd()
        .args(["check", "--offline"])
        .arg(dir.path())
        .args(["--role", ROLE])
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SCPs and RCPs were not evaluated"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn organizations_access_denied_is_noted_and_incomplete() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    moto.set_caller(seeded["caller_arns"]["codebuild"].as_str().expect("caller"));
    moto.quirks(json!({"member_org_access": "denied"}));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = moto
        .cmd()
        .args(["snapshot", "--role", ROLE, "--out"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("could not be read"), "{stderr}");
    assert!(dir.path().join("authorization-details.json").exists());
    assert!(!dir.path().join("organization.json").exists());
}

#[test]
fn an_unknown_role_is_an_input_error_with_a_suggestion() {
    let moto = Moto::start();
    let seeded = moto.seed("jets-demo");
    moto.set_caller(seeded["caller_arns"]["codebuild"].as_str().expect("caller"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = moto
        .cmd()
        .args([
            "snapshot",
            "--role",
            "demo-dev-CodebuildRole-1A2B3C4D5E6G",
            "--out",
        ])
        .arg(dir.path().join("snap"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("iam-doctor: error: "), "{stderr}");
    assert!(stderr.contains(ROLE), "did you mean: {stderr}");
    assert!(!dir.path().join("snap").exists(), "nothing is written");
}
