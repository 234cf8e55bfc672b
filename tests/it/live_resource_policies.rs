//! Resource-based policies of the resources a deploy touches, against the local AWS
//! (tests/moto): `snapshot` collects them into `resource-policies.json`, `check --offline` reads
//! that file, and a live `check` reads them from AWS.
//!
//! What is computed and what is scripted here:
//! - The deploy bucket (resource `S3Bucket` of the `demo-dev` stack) and its bucket policy, the
//!   KMS key and its key policy, and the ECR repository without a policy are moto's own state,
//!   created by `tests/moto/seed.py` (scenario `resource-policies`). `GetBucketPolicy`,
//!   `GetKeyPolicy` and `GetRepositoryPolicy` answers (`NoSuchBucketPolicy`,
//!   `RepositoryPolicyNotFoundException` included) are computed by moto.
//! - Access denied on `GetBucketPolicy` is a fault injected by the wrapper (tests/moto/server.py).
//! - `SimulatePrincipalPolicy` answers on the live path are the SCRIPTED STAND-IN of
//!   tests/moto/server.py (a simple rule, not AWS) which, like IAM's simulator for a role,
//!   evaluates no resource-based policy.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{Moto, Run, run_cmd};

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

fn run(moto: &Moto, args: &[&str]) -> Run {
    run_cmd(moto.cmd().args(args))
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// A seeded `resource-policies` server acting as the Jets role.
fn seeded() -> (Moto, Value) {
    let moto = Moto::start();
    let s = moto.seed("resource-policies");
    moto.set_caller(str_of(&s["caller_arns"]["codebuild"]));
    (moto, s)
}

/// A deploy template naming the key (a function's `KmsKeyArn`) and the repository (its
/// `ImageUri`): CloudFormation's handler for `AWS::Lambda::Function` makes the deploy call
/// `kms:Decrypt`, `kms:Encrypt`, `kms:CreateGrant` … with the key.
fn deploy_template(dir: &Path, seeded: &Value) -> PathBuf {
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Controller": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "PackageType": "Image",
                    "Code": {"ImageUri": format!("{}:latest", str_of(&seeded["repository_uri"]))},
                    "KmsKeyArn": seeded["key_arn"],
                    "Role": seeded["roles"]["codebuild"]
                }
            }
        }
    });
    let path = dir.join("app.json");
    std::fs::write(&path, template.to_string()).expect("write template");
    path
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn entry<'a>(file: &'a Value, arn: &str) -> &'a Value {
    file["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|e| e["arn"] == arn)
        .unwrap_or_else(|| panic!("no entry for {arn} in {file}"))
}

fn results_on<'a>(report: &'a Value, resource: &str) -> Vec<&'a Value> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["resource"] == resource)
        .collect()
}

#[test]
fn snapshot_records_the_policy_of_each_named_resource_or_that_it_has_none() {
    let (moto, s) = seeded();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = deploy_template(dir.path(), &s);
    let snap = dir.path().join("snap");
    moto.reset_stats();
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--stack",
            "demo-dev",
            "--template",
            template.to_str().expect("utf-8"),
            "--stats",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let file = read_json(&snap.join("resource-policies.json"));
    assert_eq!(
        file["resources"].as_array().map(Vec::len),
        Some(3),
        "{file}"
    );

    // The bucket policy, as S3 returned it (text), found through the stack's `S3Bucket`.
    let bucket = entry(&file, str_of(&s["bucket_arn"]));
    assert!(
        str_of(&bucket["policy"]).contains("ProtectDeployedCode"),
        "{bucket}"
    );
    // The key policy under the name KMS gives it.
    let key = entry(&file, str_of(&s["key_arn"]));
    assert_eq!(key["policy_name"], "default");
    assert!(str_of(&key["policy"]).contains("KeyAdminOnly"), "{key}");
    // The repository has no policy, and is recorded as such rather than left out.
    let repo = entry(&file, str_of(&s["repository_arn"]));
    assert_eq!(repo, &json!({"arn": s["repository_arn"], "policy": null}));

    for api in [
        "s3:GetBucketPolicy",
        "kms:GetKeyPolicy",
        "ecr:GetRepositoryPolicy",
    ] {
        assert_eq!(moto.calls(api), 1, "{api}: {}", moto.stats());
        assert!(
            out.stderr.contains(&format!("{api}: 1 call(s)")),
            "{}",
            out.stderr
        );
    }
    assert!(
        out.stderr
            .contains("resource policies of 3 resource(s): 2 with a policy, 1 without"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unreadable_bucket_policy_is_recorded_with_its_reason_and_checks_are_incomplete() {
    let (moto, s) = seeded();
    moto.faults(json!({"rules": [{"target": "s3:GetBucketPolicy", "error": "AccessDenied"}]}));
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("snap");
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--stack",
            "demo-dev",
        ],
    );
    // The snapshot is written, says what it could not read, and exits 3 (incomplete).
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let file = read_json(&snap.join("resource-policies.json"));
    let bucket = entry(&file, str_of(&s["bucket_arn"]));
    let reason = str_of(&bucket["unreadable"]);
    assert!(
        reason.contains("s3:GetBucketPolicy") && reason.contains("denied"),
        "{reason}"
    );
    assert!(out.stderr.contains("1 unreadable"), "{}", out.stderr);

    // Offline, the deploy's actions on the bucket cannot be decided: none is reported as
    // allowed, and the check is incomplete.
    let checked = run(
        &moto,
        &[
            "check",
            "--offline",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--format",
            "json",
        ],
    );
    assert_eq!(checked.code, Some(3), "{}", checked.stderr);
    let report = checked.json();
    let objects = format!("{}/*", str_of(&s["bucket_arn"]));
    let on_bucket: Vec<&Value> = results_on(&report, str_of(&s["bucket_arn"]))
        .into_iter()
        .chain(results_on(&report, &objects))
        .collect();
    assert!(on_bucket.len() >= 5, "{on_bucket:?}");
    for r in &on_bucket {
        assert_ne!(r["decision"], "allowed", "{r}");
    }
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("could not be read") && notes.contains("not counted as allowed"),
        "{notes}"
    );

    // The same live: the policy cannot be read there either.
    let live = run(&moto, &["check", "--stack", "demo-dev", "--format", "json"]);
    assert_eq!(live.code, Some(3), "{}", live.stderr);
    let report = live.json();
    for r in results_on(&report, &objects) {
        assert_ne!(r["decision"], "allowed", "{r}");
    }
}

#[test]
fn a_kms_key_named_by_the_template_without_its_key_policy_is_never_allowed() {
    let (moto, s) = seeded();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = deploy_template(dir.path(), &s);
    let snap = dir.path().join("snap");
    // A snapshot without the template: the key's policy is not collected.
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!snap.join("resource-policies.json").exists());
    let checked = run(
        &moto,
        &[
            "check",
            "--offline",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--template",
            template.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(checked.code, Some(3), "{}", checked.stderr);
    let report = checked.json();
    let on_key = results_on(&report, str_of(&s["key_arn"]));
    let actions: Vec<&str> = on_key.iter().map(|r| str_of(&r["action"])).collect();
    assert!(actions.contains(&"kms:Decrypt"), "{actions:?}");
    for r in &on_key {
        assert_ne!(r["decision"], "allowed", "{r}");
    }
    let notes = report["notes"].to_string();
    assert!(notes.contains("was not supplied"), "{notes}");
}

#[test]
fn a_malformed_resource_policies_file_is_an_input_error_naming_file_and_field() {
    let dir = support::offline::demo_copy();
    let file = dir.path().join("resource-policies.json");
    std::fs::write(
        &file,
        r#"{"resources": [{"arn": "arn:aws:s3:::demo-bucket", "policy": null}, {"arn": "arn:aws:s3:::x"}]}"#,
    )
    .expect("write");
    let out = run_cmd(
        assert_cmd::Command::cargo_bin("iam-doctor")
            .expect("binary")
            .args(["check", "--offline"])
            .arg(dir.path())
            .args([
                "--role",
                "demo-dev-ci-CodebuildRole-9Z8Y7X6W5V4U",
                "--profile",
                "jets-ci",
            ]),
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[0].starts_with("iam-doctor: error: `")
            && lines[0].contains("resource-policies.json`")
            && lines[0].contains("`resources[1].policy`"),
        "{}",
        out.stderr
    );
    assert!(
        lines[1].trim_start().starts_with("help: "),
        "{}",
        out.stderr
    );
}

fn result_for<'a>(report: &'a Value, action: &str, resource: &str) -> &'a Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["action"] == action && r["resource"] == resource)
        .unwrap_or_else(|| panic!("no result for {action} on {resource}"))
}

fn blamed_kinds(r: &Value) -> Vec<&str> {
    r["decided_by"]
        .as_array()
        .expect("decided_by")
        .iter()
        .filter_map(|b| b["kind"].as_str())
        .collect()
}

/// The deploy bucket's policy denies the Jets role `s3:DeleteObject` on its objects (moto
/// stores and returns the policy); the role's own policy allows `s3:*`. Live, the scripted
/// simulator (which, like IAM's for a role, sees no bucket policy) says allowed; the local
/// engine's explicit deny stands and is marked as decided locally. Offline, on the snapshot,
/// the same denial comes from the file.
#[test]
fn a_bucket_policy_deny_stops_the_deploys_delete_live_and_offline() {
    let (moto, s) = seeded();
    let objects = format!("{}/*", str_of(&s["bucket_arn"]));

    let live = run(&moto, &["check", "--stack", "demo-dev", "--format", "json"]);
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let report = live.json();
    let delete = result_for(&report, "s3:DeleteObject", &objects);
    assert_eq!(delete["decision"], "explicit_deny", "{delete}");
    assert!(
        blamed_kinds(delete).contains(&"resource_policy"),
        "{delete}"
    );
    let explained = delete["decided_by"].to_string();
    assert!(explained.contains("ProtectDeployedCode"), "{explained}");
    // The scripted simulator allowed it; the local decision stands and says why.
    assert_eq!(delete["aws"]["decision"], "allowed", "{delete}");
    assert!(
        str_of(&delete["disagreement"]).starts_with("decided locally"),
        "{delete}"
    );
    // Uploads are not denied by the bucket policy.
    assert_eq!(
        result_for(&report, "s3:PutObject", &objects)["decision"],
        "allowed"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("snap");
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--stack",
            "demo-dev",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let offline = run(
        &moto,
        &[
            "check",
            "--offline",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--format",
            "json",
        ],
    );
    assert_eq!(offline.code, Some(1), "{}", offline.stderr);
    let report = offline.json();
    let delete = result_for(&report, "s3:DeleteObject", &objects);
    assert_eq!(delete["decision"], "explicit_deny", "{delete}");
    assert!(
        delete["decided_by"]
            .to_string()
            .contains("ProtectDeployedCode")
    );
}

/// The key policy of the deploy's key names only `KeyAdmin` and has no account-root statement,
/// so the Jets role's `kms:*` identity policy cannot grant its use (moto stores and returns the
/// key policy; the scripted simulator, which sees no key policy, allows).
#[test]
fn a_kms_key_policy_that_does_not_allow_the_role_denies_the_keys_use() {
    let (moto, s) = seeded();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = deploy_template(dir.path(), &s);
    let template = template.to_str().expect("utf-8");
    let key = str_of(&s["key_arn"]);

    let live = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--template",
            template,
            "--format",
            "json",
        ],
    );
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let report = live.json();
    let decrypt = result_for(&report, "kms:Decrypt", key);
    assert_eq!(decrypt["decision"], "implicit_deny", "{decrypt}");
    assert!(
        blamed_kinds(decrypt).contains(&"resource_policy"),
        "{decrypt}"
    );
    assert_eq!(decrypt["aws"]["decision"], "allowed", "{decrypt}");
    assert!(
        str_of(&decrypt["disagreement"]).starts_with("decided locally"),
        "{decrypt}"
    );

    let snap = dir.path().join("snap");
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--template",
            template,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let offline = run(
        &moto,
        &[
            "check",
            "--offline",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--template",
            template,
            "--format",
            "json",
        ],
    );
    assert_eq!(offline.code, Some(1), "{}", offline.stderr);
    let report = offline.json();
    for action in ["kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"] {
        let r = result_for(&report, action, key);
        assert_eq!(r["decision"], "implicit_deny", "{r}");
        assert!(blamed_kinds(r).contains(&"resource_policy"), "{r}");
    }
}

/// A deploy template naming the topic (a subscription's `TopicArn`), both queues (event source
/// mappings' `EventSourceArn`) and both functions, by literal ARN.
fn messaging_template(dir: &Path, seeded: &Value) -> PathBuf {
    let mapping = |queue: &str, function: &str| {
        json!({
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": seeded[queue], "FunctionName": seeded[function]}
        })
    };
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Events": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": seeded["topic_arn"],
                    "Protocol": "lambda",
                    "Endpoint": seeded["function_arn"]
                }
            },
            "Jobs": mapping("queue_arn", "function_without_policy_arn"),
            "DeadLetters": mapping("queue_without_policy_arn", "function_without_policy_arn")
        }
    });
    let path = dir.join("messaging.json");
    std::fs::write(&path, template.to_string()).expect("write template");
    path
}

/// SNS topic, SQS queue and Lambda function policies are read from AWS (moto computes every
/// answer: `GetTopicAttributes`, `GetQueueUrl` + `GetQueueAttributes`, and Lambda `GetPolicy`,
/// whose `ResourceNotFoundException` for a function without a policy is "no policy").
#[test]
fn snapshot_records_topic_queue_and_function_policies_or_that_they_have_none() {
    let (moto, s) = seeded();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = messaging_template(dir.path(), &s);
    let snap = dir.path().join("snap");
    moto.reset_stats();
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--template",
            template.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let file = read_json(&snap.join("resource-policies.json"));
    assert_eq!(
        file["resources"].as_array().map(Vec::len),
        Some(5),
        "{file}"
    );
    for (arn, sid) in [
        ("topic_arn", "EventsFromAccount"),
        ("queue_arn", "KeepQueueSettings"),
        ("function_arn", "ApiGatewayInvoke"),
    ] {
        let e = entry(&file, str_of(&s[arn]));
        assert!(str_of(&e["policy"]).contains(sid), "{e}");
    }
    for arn in ["queue_without_policy_arn", "function_without_policy_arn"] {
        assert_eq!(
            entry(&file, str_of(&s[arn])),
            &json!({"arn": s[arn], "policy": null})
        );
    }
    assert_eq!(moto.calls("sns:GetTopicAttributes"), 1, "{}", moto.stats());
    assert_eq!(moto.calls("sqs:GetQueueUrl"), 2, "{}", moto.stats());
    assert_eq!(moto.calls("sqs:GetQueueAttributes"), 2, "{}", moto.stats());
    assert_eq!(moto.calls("lambda:GetPolicy"), 2, "{}", moto.stats());
    assert!(
        out.stderr
            .contains("resource policies of 5 resource(s): 3 with a policy, 2 without"),
        "{}",
        out.stderr
    );
}

/// The queue policy of `deploy-jobs` denies the Jets role `sqs:SetQueueAttributes` (moto stores
/// and returns it): live, the local engine's explicit deny stands over the scripted simulator's
/// allow (a role's simulation gets no resource policy), and the queue without a policy is not
/// affected. An explicit deny in a resource-based policy wins
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
#[test]
fn a_queue_policy_deny_stops_the_deploys_queue_update_live_and_offline() {
    let (moto, s) = seeded();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = messaging_template(dir.path(), &s);
    let template = template.to_str().expect("utf-8");
    let queue = str_of(&s["queue_arn"]);

    let live = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--template",
            template,
            "--format",
            "json",
        ],
    );
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let report = live.json();
    let set = result_for(&report, "sqs:SetQueueAttributes", queue);
    assert_eq!(set["decision"], "explicit_deny", "{set}");
    assert!(blamed_kinds(set).contains(&"resource_policy"), "{set}");
    assert!(
        set["decided_by"].to_string().contains("KeepQueueSettings"),
        "{set}"
    );
    assert_eq!(set["aws"]["decision"], "allowed", "{set}");
    assert!(set["aws"].get("resource_policy").is_none(), "{set}");
    assert!(
        str_of(&set["disagreement"]).starts_with("decided locally"),
        "{set}"
    );
    let other = result_for(
        &report,
        "sqs:SetQueueAttributes",
        str_of(&s["queue_without_policy_arn"]),
    );
    assert_eq!(other["decision"], "allowed", "{other}");
    for r in results_on(&report, str_of(&s["function_arn"])) {
        assert_eq!(r["decision"], "allowed", "{r}");
    }

    let snap = dir.path().join("snap");
    let out = run(
        &moto,
        &[
            "snapshot",
            "--out",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--template",
            template,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let offline = run(
        &moto,
        &[
            "check",
            "--offline",
            snap.to_str().expect("utf-8"),
            "--role",
            ROLE,
            "--format",
            "json",
        ],
    );
    assert_eq!(offline.code, Some(1), "{}", offline.stderr);
    let set = result_for(&offline.json(), "sqs:SetQueueAttributes", queue).clone();
    assert_eq!(set["decision"], "explicit_deny", "{set}");
}

/// Access denied on `GetQueueAttributes` and on Lambda `GetPolicy` (faults injected by the
/// wrapper, tests/moto/server.py): the actions on that queue and function are not allowed,
/// the report names them, and the check is incomplete (exit 3).
#[test]
fn unreadable_queue_and_function_policies_leave_the_check_incomplete_naming_them() {
    let (moto, s) = seeded();
    moto.faults(json!({"rules": [
        {"target": "sqs:GetQueueAttributes", "error": "AccessDenied"},
        {"target": "lambda:GetPolicy", "error": "AccessDeniedException", "status": 403}
    ]}));
    let dir = tempfile::tempdir().expect("temp dir");
    let template = messaging_template(dir.path(), &s);
    let live = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--template",
            template.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(live.code, Some(3), "{}", live.stderr);
    let report = live.json();
    let notes = report["notes"].to_string();
    for arn in [
        "queue_arn",
        "queue_without_policy_arn",
        "function_arn",
        "function_without_policy_arn",
    ] {
        let arn = str_of(&s[arn]);
        assert!(notes.contains(arn), "{arn} not named: {notes}");
        let on = results_on(&report, arn);
        assert!(!on.is_empty(), "{arn}");
        for r in on {
            assert_ne!(r["decision"], "allowed", "{r}");
        }
    }
    // The topic's policy was read: its actions are decided.
    for r in results_on(&report, str_of(&s["topic_arn"])) {
        assert_eq!(r["decision"], "allowed", "{r}");
    }
}

/// A template naming the deploy bucket (`Code.S3Bucket` of a function).
fn bucket_template(dir: &Path, seeded: &Value) -> PathBuf {
    let template = json!({
        "Resources": {"Controller": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": seeded["bucket"], "S3Key": "controller.zip"}
        }}}
    });
    let path = dir.join("bucket.json");
    std::fs::write(&path, template.to_string()).expect("write template");
    path
}

/// The user `deployer` is checked live: IAM's simulator takes a resource policy for an IAM
/// user (`ResourcePolicy`, "for IAM users only":
/// https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html), so the
/// bucket policy is passed with the requests on the bucket and its objects, one call per
/// resource, and IAM's verdict decides. The simulator's answers here are the SCRIPTED STAND-IN
/// of tests/moto/server.py, which applies the documented same-account logic
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
/// the bucket policy's explicit `Deny` of `s3:DeleteObject` to the user wins over the user's
/// own `Allow`.
#[test]
fn a_bucket_policy_deny_of_a_users_required_action_is_decided_by_the_simulator() {
    let (moto, s) = seeded();
    moto.set_caller(str_of(&s["deployer_arn"]));
    let dir = tempfile::tempdir().expect("temp dir");
    let template = bucket_template(dir.path(), &s);
    let objects = format!("{}/*", str_of(&s["bucket_arn"]));
    moto.reset_stats();
    let live = run(
        &moto,
        &[
            "check",
            "--user",
            "deployer",
            "--template",
            template.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let report = live.json();
    let delete = result_for(&report, "s3:DeleteObject", &objects);
    assert_eq!(delete["decision"], "explicit_deny", "{delete}");
    assert_eq!(delete["aws"]["decision"], "explicit_deny", "{delete}");
    assert_eq!(delete["aws"]["resource"], objects.as_str(), "{delete}");
    assert_eq!(
        delete["aws"]["resource_policy"], s["bucket_arn"],
        "{delete}"
    );
    assert!(delete["disagreement"].is_null(), "{delete}");
    assert!(
        delete["decided_by"]
            .to_string()
            .contains("NoDeletesByDeployer"),
        "{delete}"
    );
    // Without the bucket policy the same action is the user's to do.
    let anywhere = result_for(&report, "s3:DeleteObject", "*");
    assert_eq!(anywhere["decision"], "allowed", "{anywhere}");
    assert!(
        anywhere["aws"].get("resource_policy").is_none(),
        "{anywhere}"
    );
    // The policy was read once and the bucket's requests were simulated apart from the rest.
    assert_eq!(moto.calls("s3:GetBucketPolicy"), 1, "{}", moto.stats());
    assert!(
        moto.calls("iam:SimulatePrincipalPolicy") >= 2,
        "{}",
        moto.stats()
    );
}

/// Same account, the bucket policy's `Allow` naming the user's ARN grants `s3:GetObject`,
/// which the user's identity policy lacks: "an explicit allow in either the identity-based or
/// the resource-based policy" allows within an account
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
/// IAM's simulator, given the bucket policy for the user, decides (scripted stand-in,
/// tests/moto/server.py); on `*`, without a resource policy, the action stays denied.
#[test]
fn a_same_account_bucket_policy_allow_grants_a_user_what_its_identity_policy_lacks() {
    let (moto, s) = seeded();
    moto.set_caller(str_of(&s["deployer_arn"]));
    let dir = tempfile::tempdir().expect("temp dir");
    let template = bucket_template(dir.path(), &s);
    let objects = format!("{}/*", str_of(&s["bucket_arn"]));
    let live = run(
        &moto,
        &[
            "check",
            "--user",
            str_of(&s["deployer_arn"]),
            "--template",
            template.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let report = live.json();
    let read = result_for(&report, "s3:GetObject", &objects);
    assert_eq!(read["decision"], "allowed", "{read}");
    assert_eq!(read["aws"]["decision"], "allowed", "{read}");
    assert_eq!(read["aws"]["resource_policy"], s["bucket_arn"], "{read}");
    assert!(read["disagreement"].is_null(), "{read}");
    assert!(blamed_kinds(read).contains(&"resource_policy"), "{read}");
    let matched = read["aws"]["matched_statements"].to_string();
    assert!(matched.contains("\"resource\""), "{matched}");
    let anywhere = result_for(&report, "s3:GetObject", "*");
    assert_eq!(anywhere["decision"], "implicit_deny", "{anywhere}");
    assert_eq!(anywhere["aws"]["decision"], "implicit_deny", "{anywhere}");
}
