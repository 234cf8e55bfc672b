//! The JSON report of `check` is a public interface: pipelines parse it. Its schema is
//! `tests/fixtures/schema/check-report.json` (JSON Schema 2020-12, closed: no field may be added,
//! renamed or dropped without changing it), and its properties are listed in the order the report
//! writes them. Every report here, offline and live (against the local AWS of tests/moto, whose
//! simulator verdicts are scripted), must validate and follow that order.

mod support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::Moto;

const SCHEMA: &str = "tests/fixtures/schema/check-report.json";
const SCHEMA_URL: &str =
    "https://github.com/iam-doctor/iam-doctor/tests/fixtures/schema/check-report.json";
const DEMO: &str = "policies/examples/demo";
const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(SCHEMA).expect("the schema file"))
        .expect("the schema is JSON")
}

/// Validation errors of `report` against the schema, `Ok` when it validates.
fn validate(report: &Value) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource(SCHEMA_URL, schema())
        .expect("schema resource");
    let id = compiler
        .compile(SCHEMA_URL, &mut schemas)
        .expect("the report schema compiles");
    schemas.validate(report, id).map_err(|e| format!("{e:#}"))
}

/// The schema node `node` stands for, with a local `$ref` followed.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node["$ref"].as_str() {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            resolve(root, root.pointer(pointer).expect("a local $ref"))
        }
        None => node,
    }
}

/// Every object's keys come in the order its schema lists them, recursively.
fn assert_schema_order(root: &Value, node: &Value, value: &Value, path: &str) {
    let node = resolve(root, node);
    if let Some(branches) = node["oneOf"].as_array() {
        for b in branches {
            let b = resolve(root, b);
            if b["type"] == "object" && value.is_object()
                || b["type"] == "array" && value.is_array()
            {
                assert_schema_order(root, b, value, path);
            }
        }
        return;
    }
    match value {
        Value::Object(map) => {
            let Some(props) = node["properties"].as_object() else {
                return;
            };
            let order: Vec<&String> = props.keys().collect();
            let positions: Vec<usize> = map
                .keys()
                .map(|k| {
                    order
                        .iter()
                        .position(|p| *p == k)
                        .unwrap_or_else(|| panic!("{path}.{k} is not in the schema"))
                })
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{path}: keys {:?} are not in the schema's order {order:?}",
                map.keys().collect::<Vec<_>>()
            );
            for (k, v) in map {
                assert_schema_order(root, &props[k], v, &format!("{path}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_schema_order(root, &node["items"], item, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

fn assert_matches_schema(report: &Value, what: &str) {
    if let Err(e) = validate(report) {
        panic!("{what}: the check report does not validate against {SCHEMA}: {e}\n{report:#}");
    }
    let root = schema();
    assert_schema_order(&root, &root, report, what);
}

fn offline_check(args: &[&str]) -> Value {
    let out = Command::cargo_bin("iam-doctor")
        .expect("the binary is built")
        .env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_PROFILE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("the binary runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn demo_report(region: &str) -> Value {
    offline_check(&[
        "--offline",
        DEMO,
        "--config-dir",
        &format!("{DEMO}/project"),
        "--role",
        ROLE,
        "--region",
        region,
        "--vpc",
    ])
}

#[test]
fn offline_demo_reports_match_the_schema_in_field_order() {
    for region in ["eu-west-1", "us-east-1"] {
        let report = demo_report(region);
        // The report is representative: denials by SCPs and identity policies, each with its
        // causes and a remediation with both kinds of change.
        assert!(report["summary"]["denied"].as_u64().is_some_and(|n| n > 0));
        assert!(report["remediation"]["add_to_role"].is_object(), "{region}");
        assert!(
            report["remediation"]["steps"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{region}"
        );
        assert_matches_schema(&report, &format!("demo in {region}"));
    }
}

const ACCOUNT: &str = "111122223333";
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An offline folder: the role `deployer`, allowed everything, with `extra` inline policies,
/// under an organization root whose FullAWSAccess is joined by `root_scps`.
fn snapshot(extra: &[(&str, &str)], root_scps: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let doc = |text: &str| serde_json::from_str::<Value>(text).expect("a JSON policy");
    let mut inline = vec![json!({"PolicyName": "Admin", "PolicyDocument": doc(ALLOW_ALL)})];
    inline.extend(
        extra
            .iter()
            .map(|(name, text)| json!({"PolicyName": name, "PolicyDocument": doc(text)})),
    );
    let details = json!({
        "UserDetailList": [], "GroupDetailList": [], "Policies": [],
        "RoleDetailList": [{
            "Path": "/", "RoleName": "deployer", "RoleId": "AROAEXAMPLE000000001",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": []
        }]
    });
    let scp = |name: &str, content: &str| json!({"PolicySummary": {"Id": format!("p-{name}"), "Name": name, "AwsManaged": false}, "Content": content});
    let mut root = vec![scp("FullAWSAccess", ALLOW_ALL)];
    root.extend(root_scps.iter().map(|(n, c)| scp(n, c)));
    let org = json!({
        "account_id": ACCOUNT, "organization_id": "o-test1", "management_account_id": "999988887777",
        "ancestors": [
            {"id": "r-test", "type": "ROOT", "name": "Root", "scps": root, "rcps": []},
            {"id": ACCOUNT, "type": "ACCOUNT", "name": "dev", "scps": [scp("FullAWSAccess", ALLOW_ALL)], "rcps": []}
        ]
    });
    for (name, value) in [
        ("authorization-details.json", details),
        ("organization.json", org),
    ] {
        std::fs::write(dir.path().join(name), value.to_string()).expect("fixture written");
    }
    dir
}

/// Decisions the demo does not have: ones that depend on a key of unknown value (with the
/// keys they depend on), and a deny by a statement without a Sid.
#[test]
fn reports_with_unknown_decisions_match_the_schema() {
    let deny_ips = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllIPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#;
    let no_lambda = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*"}]}"#;
    for (what, dir) in [
        (
            "identity deny on aws:SourceIp",
            snapshot(&[("DenyAllIPs", deny_ips)], &[]),
        ),
        (
            "SCP without a Sid",
            snapshot(&[], &[("NoLambda", no_lambda)]),
        ),
    ] {
        let path = dir.path().to_string_lossy().into_owned();
        let report = offline_check(&[
            "--offline",
            &path,
            "--role",
            "deployer",
            "--region",
            "eu-west-1",
        ]);
        let denied_or_unknown = report["summary"]["denied"].as_u64().unwrap_or(0)
            + report["summary"]["unknown"].as_u64().unwrap_or(0);
        assert!(denied_or_unknown > 0, "{what}: {report:#}");
        assert_matches_schema(&report, what);
        if what.contains("SourceIp") {
            assert!(
                report["depends_on"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "aws:SourceIp")),
                "{report:#}"
            );
        }
    }
}

#[test]
fn a_renamed_or_added_field_does_not_validate() {
    let report = demo_report("eu-west-1");
    let mut renamed = report.clone();
    let principal = renamed["principal"].take();
    let map = renamed.as_object_mut().expect("an object");
    map.remove("principal");
    map.insert("principle".into(), principal);
    assert!(validate(&renamed).is_err(), "a renamed field validated");

    let mut added = report.clone();
    added["results"][0]["extra"] = Value::Bool(true);
    assert!(validate(&added).is_err(), "an added result field validated");

    let mut dropped = report;
    dropped["results"][0]["decided_by"][0]
        .as_object_mut()
        .expect("a cause")
        .remove("explanation");
    assert!(
        validate(&dropped).is_err(),
        "a dropped cause field validated"
    );
}

/// A live report carries IAM's verdict (`aws`) and the statements it matched (`matched`).
#[test]
fn live_report_matches_the_schema() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(s["caller_arns"]["codebuild"].as_str().expect("caller"));
    let out = moto
        .cmd()
        .args(["check", "--format", "json", "--region", "eu-west-1"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let results = report["results"].as_array().expect("results");
    assert!(results.iter().all(|r| r["aws"].is_object()), "{report:#}");
    assert!(
        results.iter().any(|r| r["matched"].is_array()),
        "{report:#}"
    );
    assert_matches_schema(&report, "live check");
}
