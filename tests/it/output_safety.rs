//! Output is safe and is what was asked for; every usage or input error keeps the contract.
//!
//! - Names anyone can choose (role, policy, `Sid`, OU, `--region`) carrying terminal controls
//!   are shown escaped in every human format and in messages, and JUnit and SARIF stay valid:
//!   JUnit is parsed by a real XML parser, SARIF is validated against the SARIF 2.1.0 schema
//!   (vendored in `tests/fixtures/sarif`, see its `SOURCE`).
//! - No `--format` value is accepted and then ignored.
//! - A report that cannot be written is an error, not a silent success.
//! - Every exit-2 error is one `iam-doctor: error: …` line and one `help: …` line.

use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::support;
use support::offline::{DEMO, bin, run};

const PROJECT: &str = "policies/examples/demo/project";
const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

/// OSC 0 (retitle the terminal), BEL, CSI "clear screen", NUL, a line break that would forge a
/// row, and the 8-bit CSI.
const HOSTILE: &str = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{0}\nFAKE-ROW\u{9b}31m";
/// The same without NUL, for command-line arguments (which cannot carry it).
const HOSTILE_ARG: &str = "Evil\u{1b}]0;pwned\u{7}\u{1b}[2J\nFAKE-ROW\u{9b}31m";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A control character a terminal could act on: everything but the line feed that ends lines.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| (c.is_control() && *c != '\n') || ('\u{202A}'..='\u{202E}').contains(c))
        .collect()
}

fn assert_no_raw_controls(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let s = text(bytes);
        assert!(
            raw_controls(&s).is_empty(),
            "{what}: raw control characters {:?} on {stream}: {s:?}",
            raw_controls(&s)
        );
        assert!(
            !s.lines().any(|l| l.starts_with("FAKE-ROW")),
            "{what}: a name forged a line on {stream}: {s}"
        );
    }
}

/// The demo snapshot with a role, an inline policy, its `Sid`, an SCP, its `Sid` and an OU
/// renamed to hostile names. The extra inline policy denies Kinesis, so its names are blamed.
fn hostile_snapshot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(Path::new(DEMO).join(f)).expect("demo"))
            .expect("demo JSON")
    };
    let mut details = read("authorization-details.json");
    let role = details["RoleDetailList"]
        .as_array_mut()
        .and_then(|roles| roles.iter_mut().find(|r| r["RoleName"] == json!(ROLE)))
        .expect("the demo role");
    let hostile_role = format!("{ROLE}{HOSTILE_ARG}");
    role["RoleName"] = json!(hostile_role);
    role["Arn"] = json!(format!("arn:aws:iam::111122223333:role/{hostile_role}"));
    role["RolePolicyList"]
        .as_array_mut()
        .expect("inline policies")
        .push(json!({
            "PolicyName": format!("Deny{HOSTILE}"),
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": format!("NoKinesis{HOSTILE}"), "Effect": "Deny", "Action": "kinesis:*", "Resource": "*"}
            ]}
        }));
    let mut org = read("organization.json");
    for level in org["ancestors"].as_array_mut().expect("ancestors") {
        if level["type"] == json!("ORGANIZATIONAL_UNIT") {
            level["name"] = json!(format!("OU{HOSTILE}"));
        }
        for scp in level["scps"].as_array_mut().expect("scps") {
            if scp["PolicySummary"]["Name"] == json!("RegionLock") {
                scp["PolicySummary"]["Name"] = json!(format!("RegionLock{HOSTILE}"));
                let content = scp["Content"].as_str().expect("content").to_string();
                let mut doc: Value = serde_json::from_str(&content).expect("SCP JSON");
                for st in doc["Statement"].as_array_mut().expect("statements") {
                    if let Some(sid) = st.get("Sid").and_then(Value::as_str) {
                        st["Sid"] = json!(format!("{sid}{HOSTILE}"));
                    }
                }
                scp["Content"] = json!(doc.to_string());
            }
        }
    }
    for (f, v) in [
        ("authorization-details.json", details),
        ("organization.json", org),
    ] {
        std::fs::write(dir.path().join(f), v.to_string()).expect("write");
    }
    dir
}

fn hostile_check(dir: &Path, format: &str, extra: &[&str]) -> Output {
    let role = format!("{ROLE}{HOSTILE_ARG}");
    let mut args = vec![
        "check",
        "--offline",
        dir.to_str().expect("UTF-8 path"),
        "--config-dir",
        PROJECT,
        "--role",
        &role,
        "--region",
        "eu-west-1",
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    // Wide enough that no table cell is wrapped inside the names looked for.
    bin()
        .env("COLUMNS", "2000")
        .args(&args)
        .output()
        .expect("runs")
}

fn junit_is_valid(xml: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("JUnit output is not XML ({e}):\n{xml}"));
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
    doc
}

fn sarif_validate(sarif: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/sarif/sarif-2.1.0-rtm.5.json")
            .expect("the vendored SARIF schema"),
    )
    .expect("schema JSON");
    let url = "https://json.schemastore.org/sarif-2.1.0-rtm.5.json";
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(url, schema).expect("schema resource");
    let id = compiler
        .compile(url, &mut schemas)
        .expect("the SARIF schema compiles");
    if let Err(e) = schemas.validate(sarif, id) {
        panic!("SARIF output does not validate against the 2.1.0 schema: {e:#}\n{sarif:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile names

#[test]
fn hostile_names_are_escaped_in_table_markdown_and_junit_output() {
    let dir = hostile_snapshot();
    for format in ["table", "markdown", "junit"] {
        let out = hostile_check(dir.path(), format, &["--all"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            text(&out.stderr)
        );
        assert_no_raw_controls(format, &out);
        let stdout = text(&out.stdout);
        // Present, escaped: not dropped.
        for shown in [
            "NoKinesisEvil\\u{1b}]0;pwned\\u{7}",
            "\\u{0}\\nFAKE-ROW\\u{9b}31m",
        ] {
            assert!(
                stdout.contains(shown),
                "{format}: `{shown}` not in:\n{stdout}"
            );
        }
        if format == "junit" {
            let doc = junit_is_valid(&stdout);
            let failure = doc
                .descendants()
                .find(|n| {
                    n.has_tag_name("failure")
                        && n.attribute("message")
                            .is_some_and(|m| m.contains("NoKinesisEvil\\u{1b}"))
                })
                .expect("the Kinesis denial blames the hostile Sid");
            assert_eq!(failure.attribute("type"), Some("explicit_deny"));
        }
    }
}

/// Regression: `check --format markdown` escaped only `|` and control characters in its sentences,
/// so a policy `Sid` holding markup reached a pull-request comment as raw HTML.
#[test]
fn regression_markup_in_a_sid_reached_the_check_markdown_as_html() {
    let dir = hostile_snapshot();
    let path = dir.path().join("authorization-details.json");
    let details = std::fs::read_to_string(&path).expect("the hostile snapshot");
    let markup = serde_json::to_string(HOSTILE_MARKUP).expect("JSON string");
    let markup = &markup[1..markup.len() - 1];
    assert!(
        details.contains("NoKinesis"),
        "the hostile Sid is in the snapshot"
    );
    std::fs::write(
        &path,
        details.replace("NoKinesis", &format!("NoKinesis{markup}")),
    )
    .expect("write");
    let out = hostile_check(dir.path(), "markdown", &["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(
        md.contains("&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;"),
        "the Sid is shown, escaped:\n{md}"
    );
    assert!(!md.contains("<img") && !md.contains("<script"), "{md}");
}

/// Breaks out of an HTML attribute and opens markup; closes a Mermaid label and its node, opens
/// another, and ends the Markdown code fence.
const HOSTILE_MARKUP: &str =
    "\"'><img src=x onerror=alert(1)><script>alert(2)</script>\"] --> x[\"``` #quot; & </br>";

/// The organization audit of the hostile snapshot (its SCP, `Sid` and OU renamed), with the
/// account's name and the OU's carrying markup too, decided by the library as `scps` does.
fn hostile_organization_audit() -> iam_doctor::core::audit::OrganizationAudit {
    use iam_doctor::core::audit::{OrganizationAudit, audit};
    use iam_doctor::core::profile::{ProfileInputs, profile};
    let dir = hostile_snapshot();
    let mut org = iam_doctor::inputs::organization::load(&dir.path().join("organization.json"))
        .expect("the hostile organization reads");
    for level in &mut org.levels {
        level.name.push_str(HOSTILE_MARKUP);
    }
    let p = profile("jets-remote").expect("profile");
    let req = p.build(&ProfileInputs::default()).expect("builds");
    let mut a = audit(
        &org,
        &req.actions,
        "eu-west-1",
        "deployer",
        &p.stated_context(),
    )
    .expect("the audit decides");
    assert!(!a.blocked.is_empty(), "RegionLock blocks something");
    a.name = Some(format!("dev{HOSTILE}{HOSTILE_MARKUP}"));
    OrganizationAudit::new("jets-remote", "eu-west-1", "deployer", vec![a], Vec::new())
}

#[test]
fn hostile_names_are_inert_in_the_organization_audit_html() {
    let page = iam_doctor::report::html::organization_audit(&hostile_organization_audit());
    assert!(
        raw_controls(&page).is_empty(),
        "raw controls {:?}",
        raw_controls(&page)
    );
    // Present, escaped: not dropped.
    for shown in [
        "RegionLockEvil\\u{1b}]0;pwned\\u{7}",
        "\\u{0}\\nFAKE-ROW\\u{9b}31m",
        "&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
    ] {
        assert!(page.contains(shown), "`{shown}` not in:\n{page}");
    }
    // No markup of theirs: one script (the page's own), no image, no attribute broken out of.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(!page.contains("<img") && !page.contains("\"'>"), "{page}");
    let csp_at = page.find("Content-Security-Policy").expect("a CSP");
    assert!(csp_at < page.find("<title>").expect("a title"));
}

#[test]
fn hostile_names_cannot_break_the_markdown_audit_or_its_mermaid_diagram() {
    let md = iam_doctor::report::markdown::organization_audit(&hostile_organization_audit());
    assert!(
        raw_controls(&md).is_empty(),
        "raw controls {:?}",
        raw_controls(&md)
    );
    assert!(!md.lines().any(|l| l.starts_with("FAKE-ROW")), "{md}");
    // No markup of theirs in the text GitHub renders around the diagram.
    assert!(!md.contains("<img") && !md.contains("<script"), "{md}");
    // One fenced block, opened and closed by the renderer alone.
    assert_eq!(md.matches("```").count(), 2, "{md}");
    let diagram = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a Mermaid block");
    // Each node is one line `nK["label"]` whose label holds no quote, bracket, `<` but the
    // renderer's own line breaks, nor a backtick: the names are written as `#NUMBER;` codes.
    let nodes: Vec<&str> = diagram.lines().filter(|l| l.contains("[\"")).collect();
    assert_eq!(nodes.len(), 4, "root, two OUs, account:\n{diagram}");
    for node in &nodes {
        let label = node
            .trim()
            .split_once("[\"")
            .and_then(|(_, rest)| rest.strip_suffix("\"]"))
            .unwrap_or_else(|| panic!("not one node: {node}"));
        let label = label.replace("<br/>", "");
        for c in ['"', '[', ']', '<', '>', '`', '(', ')', '{', '}', '|'] {
            assert!(!label.contains(c), "`{c}` in the label {label}");
        }
    }
    assert!(
        nodes[1].contains("#34;#39;#62;#60;img src=x onerror=alert#40;1#41;#62;#60;script#62;"),
        "{diagram}"
    );
    assert!(
        nodes[1].contains("⛔ SCP RegionLockEvil#92;u#123;1b#125;"),
        "{diagram}"
    );
    // Only the renderer's own edges.
    let edges: Vec<&str> = diagram.lines().filter(|l| l.contains("-->")).collect();
    assert_eq!(
        edges,
        ["  n0 --> n1", "  n1 --> n2", "  n2 --> n3"],
        "{diagram}"
    );
}

#[test]
fn hostile_names_keep_sarif_valid_against_the_schema() {
    let dir = hostile_snapshot();
    let out = hostile_check(dir.path(), "sarif", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    sarif_validate(&sarif);
    let messages: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["message"]["text"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("NoKinesisEvil\\u{1b}")),
        "{messages:?}"
    );
    assert!(
        messages.iter().all(|m| raw_controls(m).is_empty()),
        "{messages:?}"
    );
}

#[test]
fn demo_junit_parses_and_demo_sarif_validates() {
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        PROJECT,
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
        "--format",
        "junit",
    ]);
    let xml = text(&out.stdout);
    let doc = junit_is_valid(&xml);
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let suite = doc.root_element();
    assert_eq!(
        suite.attribute("failures"),
        Some(failures.to_string().as_str())
    );
    assert!(failures > 0);
    let out = run(&[
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        PROJECT,
        "--role",
        ROLE,
        "--region",
        "eu-west-1",
        "--format",
        "sarif",
    ]);
    sarif_validate(&serde_json::from_slice(&out.stdout).expect("SARIF is JSON"));
}

#[test]
fn hostile_names_are_escaped_in_explain_output() {
    let dir = hostile_snapshot();
    // The message names no principal (a line break would end it): `--role` gives the hostile one.
    let message = "An error occurred (AccessDeniedException): User is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:eu-west-1:111122223333:stream/s with an explicit deny in an identity-based policy";
    let out = bin()
        .args(["explain", "-", "--offline"])
        .arg(dir.path())
        .args(["--region", "eu-west-1", "--role"])
        .arg(format!("{ROLE}{HOSTILE_ARG}"))
        .write_stdin(message)
        .output()
        .expect("runs");
    assert_no_raw_controls("explain", &out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("NoKinesisEvil\\u{1b}]0;pwned\\u{7}"),
        "{stdout}{}",
        text(&out.stderr)
    );
}

#[test]
fn hostile_names_are_escaped_in_simulate_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = json!({
        "principal": "arn:aws:iam::111122223333:role/r",
        "action": "s3:GetObject",
        "identity_policies": [{"name": format!("P{HOSTILE}"), "document": {"Version": "2012-10-17", "Statement": [
            {"Sid": format!("S{HOSTILE}"), "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}}]
    });
    let path = dir.path().join("input.json");
    std::fs::write(&path, input.to_string()).expect("write");
    let out = run(&["simulate", "--input", path.to_str().expect("UTF-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_no_raw_controls("simulate", &out);
    assert!(
        text(&out.stdout).contains("SEvil\\u{1b}]0;pwned"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn hostile_arguments_are_escaped_in_error_messages() {
    let out = run(&["check", "--offline", DEMO, "--role", HOSTILE_ARG]);
    assert_eq!(out.status.code(), Some(2));
    assert_no_raw_controls("unknown role", &out);
    assert_contract(&out);
    assert!(
        text(&out.stderr).contains("Evil\\u{1b}]0;pwned\\u{7}"),
        "{}",
        text(&out.stderr)
    );

    // Whether `--region` is refused or used, it never reaches the terminal raw.
    for format in ["table", "markdown", "junit"] {
        let out = run(&[
            "check",
            "--offline",
            DEMO,
            "--config-dir",
            PROJECT,
            "--role",
            ROLE,
            "--region",
            HOSTILE_ARG,
            "--format",
            format,
        ]);
        assert_no_raw_controls(&format!("--region in {format}"), &out);
        if format == "junit" && out.status.code() != Some(2) {
            junit_is_valid(&text(&out.stdout));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No format is accepted and ignored

/// Checks that `out` is in `format`; a format without a check here fails the audit below.
fn assert_rendered_as(command: &str, format: &str, out: &Output) {
    let stdout = text(&out.stdout);
    let what = format!("`{command} --format {format}`");
    assert!(
        !stdout.trim().is_empty(),
        "{what} printed nothing: {}",
        text(&out.stderr)
    );
    let json = serde_json::from_str::<Value>(&stdout);
    match format {
        "table" => assert!(
            json.is_err() && !stdout.starts_with('<'),
            "{what}: {stdout}"
        ),
        "json" => assert!(json.is_ok(), "{what} is not JSON: {stdout}"),
        "policy" => {
            let doc = json.unwrap_or_else(|e| panic!("{what} is not JSON ({e})"));
            assert!(doc["Statement"].is_array(), "{what}: {doc}");
        }
        "cloudformation" => {
            let yaml: serde_norway::Value = serde_norway::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{what} is not YAML ({e})"));
            assert!(yaml.get("Policies").is_some(), "{what}: {stdout}");
        }
        "markdown" => assert!(stdout.starts_with("### "), "{what}: {stdout}"),
        "html" => assert!(stdout.starts_with("<!DOCTYPE html>"), "{what}: {stdout}"),
        "junit" => {
            junit_is_valid(&stdout);
        }
        "sarif" => sarif_validate(&json.unwrap_or_else(|e| panic!("{what} is not JSON ({e})"))),
        other => {
            panic!("{what}: the format `{other}` is accepted but this audit has no check for it")
        }
    }
}

/// The values `--format` accepts, as the command's own help lists them.
fn accepted_formats(command: &str) -> Vec<String> {
    let out = run(&[command, "-h"]);
    let help = text(&out.stdout);
    let line = help
        .split("--format <FORMAT>")
        .nth(1)
        .and_then(|rest| rest.split("[possible values: ").nth(1))
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("`{command} -h` lists no --format values:\n{help}"));
    line.split(',').map(|v| v.trim().to_string()).collect()
}

#[test]
fn every_format_every_offline_command_accepts_is_rendered() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = dir.path().join("sim.json");
    std::fs::write(
        &sim,
        r#"{"principal": "arn:aws:iam::111122223333:role/r", "action": "s3:GetObject"}"#,
    )
    .expect("write");
    let sim = sim.to_str().expect("UTF-8").to_string();
    let message = format!(
        "User: arn:aws:sts::111122223333:assumed-role/{ROLE}/s is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:eu-west-1:111122223333:stream/s because no identity-based policy allows the kinesis:PutRecord action"
    );
    let commands: Vec<(&str, Vec<&str>)> = vec![
        ("required", vec!["--config-dir", PROJECT]),
        (
            "check",
            vec![
                "--offline",
                DEMO,
                "--config-dir",
                PROJECT,
                "--role",
                ROLE,
                "--region",
                "eu-west-1",
            ],
        ),
        (
            "explain",
            vec![&message, "--offline", DEMO, "--region", "eu-west-1"],
        ),
        ("simulate", vec!["--input", &sim]),
        ("self-policy", vec![]),
    ];
    for (command, args) in &commands {
        for format in accepted_formats(command) {
            let out = bin()
                .arg(command)
                .args(args)
                .args(["--format", &format])
                .output()
                .expect("runs");
            assert_ne!(
                out.status.code(),
                Some(2),
                "{command} --format {format}: {}",
                text(&out.stderr)
            );
            assert_rendered_as(command, &format, &out);
        }
    }
    // `scps` needs AWS: live_scps runs its formats.
    assert_eq!(
        accepted_formats("scps"),
        ["table", "json", "markdown", "html"]
    );
}

#[test]
fn explain_and_simulate_refuse_formats_they_cannot_render() {
    for command in [["explain", "x"], ["simulate", "--input=x"]] {
        for format in ["junit", "sarif", "markdown"] {
            let out = run(&[command[0], command[1], "--format", format]);
            assert_eq!(out.status.code(), Some(2), "{command:?} --format {format}");
            assert_contract(&out);
            assert!(text(&out.stderr).contains(format), "{}", text(&out.stderr));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A report that cannot be written

#[test]
fn a_report_written_to_a_full_disk_is_an_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    for args in [
        vec!["self-policy"],
        vec!["required", "--config-dir", PROJECT, "--format", "json"],
        vec![
            "check",
            "--offline",
            DEMO,
            "--config-dir",
            PROJECT,
            "--role",
            ROLE,
            "--format",
            "junit",
        ],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("iam-doctor"))
            .env("NO_COLOR", "1")
            .args(&args)
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_contract(&out);
        assert!(
            text(&out.stderr).contains("cannot write the output"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("iam-doctor"))
        .args(["required", "--config-dir", PROJECT, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("reads");
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The error contract

/// Exit 2 with exactly `iam-doctor: error: …` and `  help: …`, both non-empty.
fn assert_contract(out: &Output) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("iam-doctor: warning: ") && !l.starts_with("iam-doctor: note: "))
        .collect();
    assert_eq!(lines.len(), 2, "not an error line and a help line: {err:?}");
    assert!(
        lines[0].len() > "iam-doctor: error: ".len() && lines[0].starts_with("iam-doctor: error: "),
        "{err:?}"
    );
    assert!(
        lines[1].len() > "  help: ".len() && lines[1].starts_with("  help: "),
        "{err:?}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn argument_errors_follow_the_error_contract() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "needs a command"),
        (vec!["frob"], "frob"),
        (vec!["check", "--frob"], "--frob"),
        (vec!["check", "--format", "xml"], "--format"),
        (vec!["check", "--region"], "--region"),
        (vec!["check", "--role", "a", "--user", "b"], "--user"),
        (vec!["explain"], "MESSAGE"),
        (vec!["simulate"], "--input"),
        (vec!["required", "--profile"], "--profile"),
        (vec!["completions", "tcsh"], "tcsh"),
    ];
    for (args, needle) in cases {
        let out = run(&args);
        assert_contract(&out);
        let first = text(&out.stderr);
        assert!(
            first.lines().next().is_some_and(|l| l.contains(needle)),
            "{args:?}: {first}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = run(&["check", "--rol", "x"]);
    assert_contract(&out);
    assert!(
        text(&out.stderr).contains("--role"),
        "{}",
        text(&out.stderr)
    );
    // --help and --version are not errors.
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["--version"]).status.code(), Some(0));
}

#[test]
fn input_errors_follow_the_error_contract() {
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, body: &str| -> String {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, body).expect("write");
        p.to_str().expect("UTF-8").to_string()
    };
    let not_json = write("bad.json", "{ nope");
    let template = write("t.yml", "Resources: [1, 2]");
    let bad_policy = write(
        "sim.json",
        r#"{"principal": "p", "action": "s3:GetObject", "identity_policies": [{"name": "P", "document": {"Statement": {"Effect": "Maybe"}}}]}"#,
    );
    let ruby = write(
        "proj/config/jets/bootstrap.rb",
        "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\n",
    );
    let project = Path::new(&ruby)
        .ancestors()
        .nth(3)
        .expect("the project folder")
        .to_str()
        .expect("UTF-8")
        .to_string();
    let snapshot = write(
        "snap/authorization-details.json",
        r#"{"RoleDetailList": "x"}"#,
    );
    let snapshot_dir = Path::new(&snapshot)
        .parent()
        .expect("dir")
        .to_str()
        .expect("UTF-8")
        .to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "check",
            "--offline",
            "/nonexistent-iam-doctor",
            "--role",
            "r",
        ],
        vec!["check", "--offline", &not_json, "--role", "r"],
        vec!["check", "--offline", &snapshot_dir, "--role", "r"],
        vec!["check", "--offline", DEMO, "--role", "nosuchrole"],
        vec!["check", "--offline", DEMO],
        vec!["check", "--offline", DEMO, "--role", ROLE, "--confirm"],
        vec!["required", "--profile", "jets-remot"],
        vec!["required", "--template", &template],
        vec!["required", "--template", "/nonexistent-iam-doctor.yml"],
        vec!["required", "--config-dir", "/nonexistent-iam-doctor"],
        vec!["required", "--config-dir", &project],
        vec!["simulate", "--input", &not_json],
        vec!["simulate", "--input", &bad_policy],
        vec!["simulate", "--input", "/nonexistent-iam-doctor.json"],
        vec!["explain", "--offline", DEMO, "nothing to see"],
    ];
    for args in cases {
        let out = run(&args);
        assert_contract(&out);
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
}

// ---------------------------------------------------------------------------------------------
// Messages that pointed the wrong way

#[test]
fn offline_given_a_file_says_it_is_a_file_not_that_the_folder_is_missing() {
    let out = run(&[
        "check",
        "--offline",
        "policies/examples/demo/authorization-details.json",
        "--role",
        ROLE,
    ]);
    assert_contract(&out);
    let err = text(&out.stderr);
    assert!(err.contains("is a file, not a folder"), "{err}");
    assert!(!err.contains("does not exist"), "{err}");
}

#[test]
fn malformed_role_detail_list_names_the_field_not_a_missing_role() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("authorization-details.json"),
        r#"{"RoleDetailList": "x", "UserDetailList": []}"#,
    )
    .expect("write");
    let out = run(&[
        "check",
        "--offline",
        dir.path().to_str().expect("UTF-8"),
        "--role",
        ROLE,
    ]);
    assert_contract(&out);
    let err = text(&out.stderr);
    assert!(err.contains("`RoleDetailList` must be an array"), "{err}");
    assert!(
        !err.contains("is not in the authorization details"),
        "{err}"
    );

    // A malformed list inside the role is named with its place.
    let mut details: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(DEMO).join("authorization-details.json")).expect("demo"),
    )
    .expect("JSON");
    details["RoleDetailList"][0]["RolePolicyList"] = json!({"PolicyName": "x"});
    std::fs::write(
        dir.path().join("authorization-details.json"),
        details.to_string(),
    )
    .expect("write");
    let role = details["RoleDetailList"][0]["RoleName"]
        .as_str()
        .expect("name")
        .to_string();
    let out = run(&[
        "check",
        "--offline",
        dir.path().to_str().expect("UTF-8"),
        "--role",
        &role,
    ]);
    assert_contract(&out);
    assert!(
        text(&out.stderr).contains("`RoleDetailList[0].RolePolicyList` must be an array"),
        "{}",
        text(&out.stderr)
    );
}
