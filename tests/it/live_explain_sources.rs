//! `iam-doctor explain --stack / --build / --log-group` against the local AWS (tests/moto): the
//! record of a failed Jets deploy read from AWS itself and each denial in it explained down to
//! the SCP statement that caused it.
//!
//! The organization, its SCPs, the Jets role, the CodeBuild project and builds and every log
//! event are moto's own state (`tests/moto/seed.py`, scenario `failed-deploy`). SCRIPTED, not
//! computed: the stack events (moto cannot hold an event that failed on authorization, nor
//! nested stacks), registered below through the server's `stack-events` control; and, in the
//! server, the log location of `BatchGetBuilds` (CodeBuild's default, which moto leaves unset),
//! the newest-first order of `ListBuildsForProject`, and the `?"term"` filter pattern of
//! `FilterLogEvents`, which moto does not implement (see the header of `tests/moto/server.py`).

use crate::support;

use serde_json::{Value, json};
use support::schema::assert_explain_report;
use support::{Moto, Run, run_cmd};

const REGION: &str = "eu-west-1";

struct Deploy {
    moto: Moto,
    s: Value,
}

impl Deploy {
    fn member(&self) -> &str {
        self.s["member_account_id"]
            .as_str()
            .expect("member account")
    }

    fn caller(&self) -> &str {
        self.s["caller_arns"]["codebuild"]
            .as_str()
            .expect("caller ARN in the seed summary")
    }

    fn workloads(&self) -> &str {
        self.s["ou_ids"]["Workloads"].as_str().expect("OU id")
    }

    fn explain(&self, args: &[&str]) -> Run {
        run_cmd(self.moto.cmd().arg("explain").args(args))
    }
}

fn failed_deploy() -> Deploy {
    let moto = Moto::start();
    let s = moto.seed("failed-deploy");
    let deploy = Deploy { moto, s };
    deploy.moto.set_caller(deploy.caller());
    deploy
}

/// What CloudFormation's handler prints for a denied call.
fn handler_message(caller: &str, action: &str, resource: &str, service: &str) -> String {
    format!(
        "Resource handler returned message: \"User: {caller} is not authorized to perform: {action} \
         on resource: {resource} with an explicit deny in a service control policy (Service: {service}, \
         Status Code: 403, Request ID: 3c1f2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b)\" (RequestToken: \
         1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d, HandlerErrorCode: AccessDenied)"
    )
}

fn event(logical: &str, kind: &str, status: &str, time: &str, reason: Option<String>) -> Value {
    let mut e = json!({
        "LogicalResourceId": logical,
        "ResourceType": kind,
        "ResourceStatus": status,
        "Timestamp": time,
    });
    if let Some(r) = reason {
        e["ResourceStatusReason"] = json!(r);
    }
    e
}

/// SCRIPTED: the events of a failed `jets deploy` update of `demo-dev` in eu-west-1, newest
/// first as DescribeStackEvents returns them, two per page so the reader must page: the update
/// fails on the Lambda function `Controller` and on the nested stack `ApiGateway`, whose own
/// events hold the API Gateway denial. An older create failed on an SNS topic: it is before the
/// most recent operation and must not be reported.
fn script_failed_update(d: &Deploy) {
    let account = d.member();
    let caller = d.caller();
    let root_id = format!("arn:aws:cloudformation:{REGION}:{account}:stack/demo-dev/1f2e3d4c");
    let nested_id = format!(
        "arn:aws:cloudformation:{REGION}:{account}:stack/demo-dev-ApiGateway-1ABC/5a6b7c8d"
    );
    let stack = "AWS::CloudFormation::Stack";
    let root_event = |status: &str, time: &str, reason: Option<&str>| {
        let mut e = event("demo-dev", stack, status, time, reason.map(str::to_string));
        e["PhysicalResourceId"] = json!(root_id);
        e
    };
    let nested_in_root = |status: &str, time: &str, reason: Option<String>| {
        let mut e = event("ApiGateway", stack, status, time, reason);
        e["PhysicalResourceId"] = json!(nested_id);
        e
    };
    let root = vec![
        root_event("UPDATE_ROLLBACK_COMPLETE", "2026-11-23T10:13:30Z", None),
        root_event(
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            "2026-11-23T10:13:20Z",
            None,
        ),
        root_event(
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "2026-11-23T10:12:50Z",
            Some("The following resource(s) failed to create: [ApiGateway, Controller]."),
        ),
        nested_in_root(
            "CREATE_FAILED",
            "2026-11-23T10:12:45Z",
            Some(format!(
                "Embedded stack {nested_id} was not successfully created: The following resource(s) failed to create: [RestApi]."
            )),
        ),
        event(
            "Controller",
            "AWS::Lambda::Function",
            "CREATE_FAILED",
            "2026-11-23T10:12:43Z",
            Some(handler_message(
                caller,
                "lambda:CreateFunction",
                &format!("arn:aws:lambda:{REGION}:{account}:function:demo-dev-controller"),
                "Lambda",
            )),
        ),
        nested_in_root("CREATE_IN_PROGRESS", "2026-11-23T10:12:30Z", None),
        root_event(
            "UPDATE_IN_PROGRESS",
            "2026-11-23T10:12:00Z",
            Some("User Initiated"),
        ),
        event(
            "Notifications",
            "AWS::SNS::Topic",
            "CREATE_FAILED",
            "2026-11-20T09:00:05Z",
            Some(handler_message(
                caller,
                "sns:CreateTopic",
                &format!("arn:aws:sns:{REGION}:{account}:demo-dev-notifications"),
                "Sns",
            )),
        ),
        root_event(
            "CREATE_IN_PROGRESS",
            "2026-11-20T09:00:00Z",
            Some("User Initiated"),
        ),
    ];
    let nested_own = |status: &str, time: &str| {
        let mut e = event("demo-dev-ApiGateway-1ABC", stack, status, time, None);
        e["PhysicalResourceId"] = json!(nested_id);
        e
    };
    let nested = vec![
        nested_own("ROLLBACK_COMPLETE", "2026-11-23T10:13:10Z"),
        event(
            "RestApi",
            "AWS::ApiGateway::RestApi",
            "CREATE_FAILED",
            "2026-11-23T10:12:44Z",
            Some(handler_message(
                caller,
                "apigateway:POST",
                &format!("arn:aws:apigateway:{REGION}::/restapis"),
                "ApiGateway",
            )),
        ),
        nested_own("CREATE_IN_PROGRESS", "2026-11-23T10:12:35Z"),
    ];
    d.moto.script_stack_events(json!({
        "region": REGION,
        "page_size": 2,
        "stacks": [
            {"name": "demo-dev", "id": root_id, "events": root},
            {"name": "demo-dev-ApiGateway-1ABC", "id": nested_id, "events": nested},
        ],
    }));
}

fn explanations(v: &Value) -> &Vec<Value> {
    v["explanations"].as_array().expect("explanations")
}

fn by_action<'a>(v: &'a Value, action: &str) -> &'a Value {
    explanations(v)
        .iter()
        .find(|x| x["denial"]["action"] == action)
        .unwrap_or_else(|| panic!("no explanation of {action}: {v}"))
}

fn assert_region_scp(d: &Deploy, x: &Value) {
    assert_eq!(x["reproduced"], true, "{x}");
    assert_eq!(x["decision"], "explicit_deny", "{x}");
    let b = &x["decided_by"][0];
    assert_eq!(b["kind"], "scp", "{x}");
    assert_eq!(b["policy"], "RegionRestriction", "{x}");
    assert_eq!(b["policy_id"], d.s["scp_ids"]["RegionRestriction"], "{x}");
    assert_eq!(b["target"], d.workloads(), "{x}");
    assert_eq!(b["statement"], "DenyOutsideApprovedRegions", "{x}");
}

#[test]
fn a_failed_deploys_stack_events_and_build_log_are_each_explained_with_the_scp() {
    let d = failed_deploy();
    script_failed_update(&d);
    let out = d.explain(&[
        "--stack", "demo-dev", "--build", "latest", "--region", REGION, "--format", "json",
    ]);
    assert_eq!(out.code, Some(1), "every denial reproduced: {}", out.stderr);
    let v = out.json();
    assert_explain_report(
        &v,
        &["stack_event", "build_log"],
        "stack events and a build log",
    );
    let mut actions: Vec<&str> = explanations(&v)
        .iter()
        .map(|x| x["denial"]["action"].as_str().expect("action"))
        .collect();
    actions.sort_unstable();
    // The SNS failure belongs to an older operation; the Lambda failure, in the stack events
    // and in the build log, is one denial.
    assert_eq!(
        actions,
        ["apigateway:POST", "lambda:CreateFunction", "s3:PutObject"],
        "{v}"
    );
    for x in explanations(&v) {
        assert_region_scp(&d, x);
    }

    let lambda = by_action(&v, "lambda:CreateFunction");
    let sources = lambda["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{lambda}");
    assert_eq!(sources[0]["kind"], "stack_event");
    assert_eq!(sources[0]["stack"], "demo-dev");
    assert_eq!(sources[0]["logical_id"], "Controller");
    assert_eq!(sources[0]["resource_type"], "AWS::Lambda::Function");
    assert_eq!(sources[0]["status"], "CREATE_FAILED");
    assert_eq!(sources[0]["timestamp"], "2026-11-23T10:12:43Z");
    let latest = d.s["builds"][1].as_str().expect("the failed build");
    let stream = latest.split_once(':').expect("PROJECT:ID").1;
    assert_eq!(sources[1]["kind"], "build_log");
    assert_eq!(sources[1]["build"], latest);
    assert_eq!(sources[1]["log_group"], "/aws/codebuild/demo-dev-remote");
    assert_eq!(sources[1]["log_stream"], stream);
    assert_eq!(sources[1]["line"], 3);

    let api = by_action(&v, "apigateway:POST");
    assert_eq!(
        api["sources"][0]["stack"], "demo-dev-ApiGateway-1ABC",
        "{api}"
    );
    assert_eq!(api["sources"][0]["logical_id"], "RestApi");
    assert_eq!(
        api["sources"][0]["resource_type"],
        "AWS::ApiGateway::RestApi"
    );
    let s3 = by_action(&v, "s3:PutObject");
    assert_eq!(s3["sources"][0]["kind"], "build_log", "{s3}");
    assert_eq!(s3["sources"][0]["line"], 4);

    let read: Vec<&str> = v["read"]
        .as_array()
        .expect("what was read")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(read.len(), 2, "{read:?}");
    assert!(
        read[0].starts_with("stack demo-dev in eu-west-1"),
        "{read:?}"
    );
    assert!(
        read[0].contains("nested: demo-dev-ApiGateway-1ABC"),
        "{read:?}"
    );
    assert!(
        read[0].contains("since 2026-11-23T10:12:00Z (UPDATE_IN_PROGRESS"),
        "{read:?}"
    );
    assert!(
        read[1].starts_with(&format!("build {latest} in eu-west-1")),
        "{read:?}"
    );
    // Paged: DescribeStackEvents was asked more than once per stack, and never past the start
    // of the operation (the root's last page, with the older create, is not read).
    let pages = d.moto.calls("cloudformation:DescribeStackEvents");
    assert_eq!(
        pages,
        4 + 2,
        "root pages up to UPDATE_IN_PROGRESS, then the nested stack's"
    );
    assert_eq!(d.moto.calls("codebuild:ListBuildsForProject"), 1);

    // The table names where each denial was seen, the first place on the heading line.
    let out = d.explain(&[
        "--stack", "demo-dev", "--build", "latest", "--region", REGION,
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "(stack demo-dev: Controller (AWS::Lambda::Function) CREATE_FAILED at 2026-11-23T10:12:43Z)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "   also in:   build {latest} log /aws/codebuild/demo-dev-remote/{stream} line 3"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("`DenyOutsideApprovedRegions`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("note: read stack demo-dev in eu-west-1"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_log_group_gives_only_its_authorization_failures_within_the_window() {
    let d = failed_deploy();
    let group = d.s["app_log_group"].as_str().expect("log group");
    let out = d.explain(&[
        "--log-group",
        group,
        "--since",
        "30m",
        "--region",
        REGION,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_explain_report(&v, &["log_event"], "a log group within 30 minutes");
    let actions: Vec<&str> = explanations(&v)
        .iter()
        .map(|x| x["denial"]["action"].as_str().expect("action"))
        .collect();
    // The SNS denial is an hour old, outside `--since 30m`.
    assert_eq!(actions, ["events:PutRule"], "{v}");
    let x = &explanations(&v)[0];
    assert_region_scp(&d, x);
    assert_eq!(x["sources"][0]["kind"], "log_event");
    assert_eq!(x["sources"][0]["log_group"], group);
    assert_eq!(x["sources"][0]["log_stream"], "deploy");
    assert!(
        v["read"][0]
            .as_str()
            .is_some_and(|r| r.contains("1 event(s) matching an authorization failure")),
        "only the matching event came back (the other lines are filtered out by the pattern): {v}"
    );

    // Two hours back: both denials, each explained.
    let out = d.explain(&[
        "--log-group",
        group,
        "--log-stream",
        "deploy",
        "--since",
        "2h",
        "--region",
        REGION,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_explain_report(&v, &["log_event"], "a log stream within 2 hours");
    let actions: Vec<&str> = explanations(&v)
        .iter()
        .map(|x| x["denial"]["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["sns:CreateTopic", "events:PutRule"], "{v}");
    for x in explanations(&v) {
        assert_region_scp(&d, x);
    }
}

#[test]
fn nothing_found_says_what_was_read() {
    let d = failed_deploy();
    // The bootstrap stack `demo-dev` in us-east-1 is moto's own, created without a failure.
    let out = d.explain(&["--stack", "demo-dev", "--region", "us-east-1"]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("no denial found in what was read:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("stack demo-dev in us-east-1:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("event(s) of 1 stack(s)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("CREATE_IN_PROGRESS of the stack"),
        "{}",
        out.stdout
    );

    let group = d.s["app_log_group"].as_str().expect("log group");
    let out = d.explain(&[
        "--log-group",
        group,
        "--log-stream",
        "no-such-events",
        "--region",
        REGION,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v = out.json();
    assert_explain_report(&v, &[], "nothing found in a log stream");
    assert_eq!(explanations(&v).len(), 0, "{v}");
    let read = v["read"][0].as_str().expect("what was read");
    assert!(
        read.starts_with(&format!(
            "log group {group} stream no-such-events in eu-west-1 since "
        )),
        "{read}"
    );
    assert!(
        read.ends_with(": 0 event(s) matching an authorization failure"),
        "{read}"
    );
}

#[test]
fn a_missing_stack_build_or_log_group_is_an_input_error_naming_it_and_the_region() {
    let d = failed_deploy();
    // SCRIPTED: a stack `other` in eu-west-1 without a remote runner project.
    let other = format!(
        "arn:aws:cloudformation:{REGION}:{}:stack/other/9e8d7c6b",
        d.member()
    );
    d.moto.script_stack_events(json!({
        "region": REGION,
        "stacks": [{"name": "other", "id": other, "events": [{
            "LogicalResourceId": "other",
            "PhysicalResourceId": other,
            "ResourceType": "AWS::CloudFormation::Stack",
            "ResourceStatus": "CREATE_COMPLETE",
            "Timestamp": "2026-11-23T10:00:00Z",
        }]}],
    }));
    for (args, expected) in [
        (
            vec!["--stack", "no-such-stack", "--region", REGION],
            "stack `no-such-stack` not found in region `eu-west-1`",
        ),
        (
            vec![
                "--build",
                "demo-dev-remote:00000000-0000-4000-8000-000000000000",
                "--region",
                REGION,
            ],
            "build `demo-dev-remote:00000000-0000-4000-8000-000000000000` not found in region `eu-west-1`",
        ),
        (
            vec!["--stack", "other", "--build", "latest", "--region", REGION],
            "CodeBuild project `other-remote` not found in region `eu-west-1`",
        ),
        (
            vec!["--log-group", "/no/such/group", "--region", REGION],
            "log group `/no/such/group` not found in region `eu-west-1`",
        ),
    ] {
        let out = d.explain(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("iam-doctor: error: {expected}")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("\n  help: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    let out = d.explain(&["--build", "latest", "--region", REGION]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("`--build latest` needs `--stack NAME`"),
        "{}",
        out.stderr
    );
    let out = d.explain(&[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("nothing to explain"), "{}", out.stderr);
}

#[test]
fn a_source_that_cannot_be_read_is_named_and_the_run_is_incomplete() {
    let d = failed_deploy();
    script_failed_update(&d);
    d.moto
        .faults(json!({"rules": [{"target": "DescribeStackEvents", "error": "AccessDenied"}]}));
    let out = d.explain(&[
        "--stack", "demo-dev", "--build", "latest", "--region", REGION, "--format", "json",
    ]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let v = out.json();
    assert_explain_report(&v, &["build_log"], "an unreadable stack and a build log");
    // The build log is still read and explained.
    let actions: Vec<&str> = explanations(&v)
        .iter()
        .map(|x| x["denial"]["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["lambda:CreateFunction", "s3:PutObject"], "{v}");
    let problem = v["problems"][0].as_str().expect("the unreadable source");
    assert!(
        problem.starts_with(
            "stack `demo-dev` could not be read: `cloudformation:DescribeStackEvents` was denied"
        ),
        "{problem}"
    );
    assert!(
        out.stderr
            .contains("warning: stack `demo-dev` could not be read"),
        "{}",
        out.stderr
    );
}
