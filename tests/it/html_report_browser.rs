//! The HTML organization audit in a real browser: Debian's `chromium`, headless, driven through
//! its DevTools protocol by `tests/browser/load_in_chromium.py` (Python's standard library only).
//!
//! The report is the audit of a generated organization of 5,000 accounts (a root, 5 top OUs, 20
//! OUs under them, SCPs and an RCP at several levels, account-level SCPs), each account audited
//! by the library's `core::audit::audit` against the `jets-remote` profile, then rendered by
//! `report::html`. The browser must load it with no console message, no log error, no exception
//! and no request but the file itself; its filter must find accounts by id, name and OU; the
//! screenshot must show a drawn page, not a blank one. The script also prints how long loading,
//! filtering and scrolling took (`scripts/bench-html` quotes them); nothing here asserts a time.
//!
//! Chromium is required, not optional: without it the test fails and says how to install it
//! (`.ci/run` installs it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use iam_doctor::core::audit::{AccountAudit, OrganizationAudit, audit};
use iam_doctor::core::facts::{OrgFacts, OrgLevel, OrgPolicy, TargetType};
use iam_doctor::core::profile::{Expansion, ProfileInputs, RequiredAction, profile};
use iam_doctor::report;

const ACCOUNTS: usize = 5_000;
const REGION: &str = "eu-west-1";
const ROLE_NAME: &str = "iam-doctor-audit";

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("IAM_DOCTOR_CHROMIUM") {
        return PathBuf::from(p);
    }
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "the HTML report's browser test needs Debian's Chromium, which is not installed: \
         `apt-get install chromium` (as .ci/run does), or set IAM_DOCTOR_CHROMIUM to a Chromium binary"
    );
}

fn python() -> PathBuf {
    std::env::var_os("IAM_DOCTOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Loads `page` in Chromium and returns the script's report.
fn load(page: &Path, out: &Path, extra: &[&str]) -> Value {
    let output = Command::new(python())
        .arg("tests/browser/load_in_chromium.py")
        .arg(chromium())
        .arg(page)
        .arg(out)
        .args(extra)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "load_in_chromium.py failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(out.join("chromium.log")).unwrap_or_default()
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the script's report is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn scp(id: &str, name: &str, content: &str) -> OrgPolicy {
    OrgPolicy {
        id: format!("p-{id}"),
        name: name.to_string(),
        arn: None,
        aws_managed: name == "FullAWSAccess",
        content: content.to_string(),
    }
}

const FULL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn full() -> OrgPolicy {
    scp("FullAWSAccess", "FullAWSAccess", FULL)
}

/// `RCPFullAWSAccess`, which AWS attaches to every root, OU and account once RCPs are enabled.
fn rcp_full() -> OrgPolicy {
    scp(
        "RCPFullAWSAccess",
        "RCPFullAWSAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    )
}

fn level(id: &str, t: TargetType, name: &str, scps: Vec<OrgPolicy>) -> OrgLevel {
    OrgLevel {
        id: id.to_string(),
        target_type: t,
        name: name.to_string(),
        scps,
        rcps: vec![rcp_full()],
    }
}

/// The policies of the 5 top OUs and of the 4 OUs under each: what a real organization has
/// (a region lock that forgets global services, an allow-list, a deny-all for suspended
/// accounts, guard rails that do not touch a deploy, a condition on a key only the real request
/// has, an RCP).
fn top_ou(i: usize) -> OrgLevel {
    let (name, policies) = match i {
        0 => (
            "Workloads",
            vec![
                full(),
                scp(
                    "regionlock",
                    "RegionLock",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideEurope","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#,
                ),
            ],
        ),
        1 => (
            "Sandbox",
            vec![scp(
                "sbxallow",
                "SandboxAllowList",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","lambda:*","logs:*","cloudformation:*","iam:*","dynamodb:*","apigateway:*","sqs:*","events:*","ssm:*","codebuild:*","sts:*"],"Resource":"*"}]}"#,
            )],
        ),
        2 => (
            "Security",
            vec![
                full(),
                scp(
                    "guardrails",
                    "GuardRails",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoLeaving","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Sid":"KeepCloudTrail","Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*"}]}"#,
                ),
            ],
        ),
        3 => ("Infrastructure", vec![full()]),
        _ => (
            "Suspended",
            vec![
                full(),
                scp(
                    "denyall",
                    "DenyAll",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Suspended","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
                ),
            ],
        ),
    };
    level(
        &format!("ou-gen1-top{i:05}"),
        TargetType::OrganizationalUnit,
        name,
        policies,
    )
}

fn sub_ou(top: usize, j: usize) -> OrgLevel {
    let env = ["Prod", "Staging", "Dev", "Shared"][j];
    let mut policies = vec![full()];
    let mut rcps = vec![rcp_full()];
    match j {
        0 => {
            policies.push(scp(
                &format!("prodroles{top}"),
                "ProdNoRoleChanges",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyPipelineChangesRoles","Effect":"Deny","Action":["iam:CreateRole","iam:PutRolePolicy","iam:AttachRolePolicy","iam:DeleteRole"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/pipeline-*"}}}]}"#,
            ));
            rcps.push(scp(
                &format!("tls{top}"),
                "EnforceSecureTransport",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#,
            ));
        }
        1 => policies.push(scp(
            &format!("officeip{top}"),
            "OfficeNetworkOnly",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOffice","Effect":"Deny","Action":"cloudformation:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
        )),
        _ => {}
    }
    OrgLevel {
        id: format!("ou-gen1-{top}{j}{:06}", top * 4 + j),
        target_type: TargetType::OrganizationalUnit,
        name: format!("{}-{env}", top_ou(top).name),
        scps: policies,
        rcps,
    }
}

/// Account `i`: under one of the 20 OUs or directly under a top OU, some with an SCP of their
/// own.
fn account_path(i: usize) -> OrgFacts {
    let id = format!("{:012}", 100_000_000_000u64 + i as u64 * 7_919);
    let top = i % 5;
    let mut levels = vec![
        level("r-gen1", TargetType::Root, "Root", vec![full()]),
        top_ou(top),
    ];
    if !i.is_multiple_of(6) {
        levels.push(sub_ou(top, (i / 5) % 4));
    }
    let mut own = vec![full()];
    if i.is_multiple_of(97) {
        own.push(scp(
            &format!("nolambda{i}"),
            "NoLambdaHere",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoFunctions","Effect":"Deny","Action":["lambda:CreateFunction","lambda:UpdateFunctionCode"],"Resource":"*"}]}"#,
        ));
    }
    levels.push(level(
        &id,
        TargetType::Account,
        &format!("team{:04}-{}", i / 3, ["app", "data", "ml"][i % 3]),
        own,
    ));
    OrgFacts {
        account_id: id,
        organization_id: Some("o-gen1".into()),
        management_account_id: Some(format!("{:012}", 100_000_000_000u64)),
        scps_enabled: Some(true),
        rcps_enabled: Some(true),
        levels,
    }
}

fn required() -> (
    Vec<RequiredAction>,
    iam_doctor::core::request_keys::Supplied,
) {
    let p = profile("jets-remote").expect("the jets-remote profile");
    let req = p
        .build(&ProfileInputs {
            vpc: true,
            expansion: Expansion::KnownCalls,
            ..ProfileInputs::default()
        })
        .expect("the profile builds");
    (req.actions, p.stated_context())
}

/// The audit of the generated organization, every account decided by the library.
fn generated_audit() -> OrganizationAudit {
    let (required, supplied) = required();
    // Decided on every core: the accounts are independent.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = ACCOUNTS.div_ceil(threads);
    let mut accounts: Vec<AccountAudit> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..ACCOUNTS)
            .step_by(chunk)
            .map(|start| {
                let (required, supplied) = (&required, &supplied);
                scope.spawn(move || {
                    (start..(start + chunk).min(ACCOUNTS))
                        .map(|i| {
                            audit(&account_path(i), required, REGION, ROLE_NAME, supplied)
                                .expect("the generated policies are valid")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("an audit thread"))
            .collect()
    });
    // Two accounts whose path could not be read: listed apart, not audited.
    for i in [1_234usize, 4_321] {
        let a = &mut accounts[i];
        *a = AccountAudit::not_audited(
            &a.account_id,
            a.name.clone(),
            "`ListParents` was throttled (TooManyRequestsException) after retries".to_string(),
        );
    }
    OrganizationAudit::new("jets-remote", REGION, ROLE_NAME, accounts, Vec::new())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The screenshot decodes, is the viewport's size and shows a drawn page: many distinct
/// colours (text is antialiased), and a good share of pixels that are not the background.
fn assert_readable(png_path: &str) {
    let file = std::fs::File::open(png_path).expect("the screenshot was written");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    assert!(
        info.width >= 800 && info.height >= 600,
        "{png_path}: {}x{}",
        info.width,
        info.height
    );
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let colours: BTreeSet<&[u8]> = pixels.iter().copied().collect();
    let background = pixels[pixels.len() - 1];
    let drawn = pixels.iter().filter(|p| **p != background).count();
    assert!(
        colours.len() >= 64,
        "{png_path}: only {} distinct colours: a blank or broken page",
        colours.len()
    );
    assert!(
        drawn * 100 / pixels.len() >= 5,
        "{png_path}: only {drawn} of {} pixels differ from the background",
        pixels.len()
    );
}

#[test]
fn the_harness_sees_a_request_and_a_console_error_when_a_page_makes_them() {
    // The checks below mean something only if the harness reports what it should catch.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let page = dir.path().join("leaky.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><h1>leaky</h1><img src=\"http://127.0.0.1:9/pixel.png\"><script>console.error('harness self-check')</script></body></html>",
    )
    .expect("write");
    let r = load(&page, &dir.path().join("out"), &[]);
    assert!(
        strings(&r["requests"])
            .iter()
            .any(|u| u == "http://127.0.0.1:9/pixel.png"),
        "{r}"
    );
    assert_eq!(r["console"][0]["type"], "error", "{r}");
    assert_eq!(r["console"][0]["text"], "harness self-check", "{r}");
}

#[test]
fn the_5000_account_report_loads_in_chromium_with_no_error_no_request_and_filters() {
    let audit = generated_audit();
    let page = report::html::organization_audit(&audit);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("audit.html");
    std::fs::write(&path, &page).expect("write the report");

    // What the filter must find, known from the audit itself.
    let some = &audit.accounts[2_345];
    let some_name = some.name.clone().expect("a named account");
    let ou = "Sandbox-Dev";
    let in_ou: BTreeSet<&str> = audit
        .accounts
        .iter()
        .filter(|a| a.levels.iter().any(|l| l.name == ou))
        .map(|a| a.account_id.as_str())
        .collect();
    let blocked: BTreeSet<&str> = audit
        .accounts
        .iter()
        .filter(|a| !a.blocked.is_empty())
        .map(|a| a.account_id.as_str())
        .collect();
    assert!(!in_ou.is_empty() && blocked.len() < ACCOUNTS);
    let out = std::env::var_os("IAM_DOCTOR_HTML_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("out"));
    let repeat = std::env::var("IAM_DOCTOR_HTML_REPEAT").unwrap_or_else(|_| "1".into());
    let r = load(
        &path,
        &out,
        &[
            "--report",
            "--query",
            &some.account_id,
            "--query",
            &some_name.to_uppercase(),
            "--query",
            &ou.to_lowercase(),
            "--repeat",
            &repeat,
        ],
    );
    eprintln!(
        "{ACCOUNTS} accounts, {} bytes, {} DOM nodes; timings: {}",
        r["page_bytes"], r["dom_nodes"], r["timings"]
    );

    // Nothing said, nothing thrown, nothing loaded but the file.
    assert_eq!(r["console"], serde_json::json!([]), "{r}");
    assert_eq!(r["exceptions"], serde_json::json!([]), "{r}");
    assert_eq!(r["log"], serde_json::json!([]), "{r}");
    let requests = strings(&r["requests"]);
    assert!(
        !requests.is_empty() && requests.iter().all(|u| *u == r["document_url"]),
        "the page made a request: {requests:?}"
    );

    // Every account is on the page, and the filter finds them by id, name and OU.
    assert_eq!(r["accounts"], ACCOUNTS, "{}", r["accounts"]);
    let shown =
        |i: usize| -> BTreeSet<String> { strings(&r["queries"][i]["shown"]).into_iter().collect() };
    assert_eq!(shown(0), BTreeSet::from([some.account_id.clone()]), "by id");
    let same_name: BTreeSet<String> = audit
        .accounts
        .iter()
        .filter(|a| {
            a.name
                .as_deref()
                .is_some_and(|n| n.contains(some_name.as_str()))
        })
        .map(|a| a.account_id.clone())
        .collect();
    assert!(same_name.contains(&some.account_id));
    assert_eq!(shown(1), same_name, "by name, whatever the case");
    let in_ou: BTreeSet<String> = in_ou.iter().map(|s| s.to_string()).collect();
    assert_eq!(shown(2), in_ou, "by OU");
    assert_eq!(
        r["queries"][2]["count"],
        format!("{} of {ACCOUNTS} accounts match", in_ou.len())
    );
    assert_eq!(r["blocked_only_shown"], blocked.len());
    assert_eq!(r["cleared_shown"], ACCOUNTS);

    for shot in ["overview", "filtered"] {
        assert_readable(r["screenshots"][shot].as_str().expect("a screenshot"));
    }
}

#[test]
fn hostile_names_stay_text_in_the_browser_and_can_be_searched_for() {
    // Names that would run script, load an image or break out of an attribute if they were
    // markup; each would show up as a console message or a request.
    let markup =
        "\"'><img src=x onerror=console.error('img')><script>console.error('script')</script>";
    let mut org = account_path(5); // under Workloads: the region lock blocks
    for level in &mut org.levels {
        level.name.push_str(markup);
        for p in &mut level.scps {
            p.name.push_str(markup);
        }
    }
    let (required, supplied) = required();
    let mut a = audit(&org, &required, REGION, ROLE_NAME, &supplied).expect("decides");
    assert!(!a.blocked.is_empty(), "the region lock blocks something");
    a.name = Some(format!("team\u{1b}[2J{markup}"));
    let id = a.account_id.clone();
    let page = report::html::organization_audit(&OrganizationAudit::new(
        "jets-remote",
        REGION,
        ROLE_NAME,
        vec![a],
        Vec::new(),
    ));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("hostile.html");
    std::fs::write(&path, &page).expect("write");
    let r = load(
        &path,
        &dir.path().join("out"),
        &["--report", "--query", "<img src=x onerror"],
    );
    assert_eq!(r["console"], serde_json::json!([]), "{r}");
    assert_eq!(r["exceptions"], serde_json::json!([]), "{r}");
    assert_eq!(r["log"], serde_json::json!([]), "{r}");
    let requests = strings(&r["requests"]);
    assert!(
        requests.iter().all(|u| *u == r["document_url"]),
        "a name loaded something: {requests:?}"
    );
    // Found by the text of its hostile name, as typed.
    assert_eq!(strings(&r["queries"][0]["shown"]), [id]);
}
