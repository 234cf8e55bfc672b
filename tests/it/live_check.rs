//! `iam-doctor check` against the local AWS (tests/moto), without `--offline`: the live path
//! through STS, IAM, Organizations, CloudFormation and IAM's simulator.
//!
//! What is computed and what is scripted here:
//! - IAM entities, policies, the organization and its SCPs, and the `demo-dev` stack are real
//!   moto state created by `tests/moto/seed.py` (scenario `jets-demo`: Root → Workloads
//!   (RegionRestriction) → Prod (ProdServiceAllowList, no `ec2`) → the member account).
//! - `SimulatePrincipalPolicy` and `SimulateCustomPolicy` answers are a SCRIPTED STAND-IN: the
//!   decisions come from the simple rule in `tests/moto/server.py`, not from AWS. A result with
//!   `engine: aws` here means "decided by that stand-in"; "no disagreement" means iam-doctor's
//!   local engine and that independent rule agree on the same stored policies.
//! - Faults (throttling, access denied), quirks (short pages, member access to Organizations)
//!   and the caller identity are injected by the wrapper, as each test says.

use crate::support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::{Moto, Run, run_cmd};

const ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

/// The services `RegionRestriction` exempts (its `NotAction`) that the deploy needs.
const REGION_EXEMPT: &[&str] = &["iam", "sts", "cloudfront", "route53", "waf"];

/// Runs the binary against `moto`.
fn run(moto: &Moto, args: &[&str]) -> Run {
    run_cmd(moto.cmd().args(args))
}

/// A seeded `jets-demo` server whose caller is the Jets role's session in the member account,
/// so every AWS call of the CLI lands in that account (see tests/moto/README.md).
fn member_demo() -> (Moto, Value) {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    moto.set_caller(str_of(&s["caller_arns"]["codebuild"]));
    (moto, s)
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {report}"))
}

fn result<'a>(report: &'a Value, action: &str) -> &'a Value {
    results(report)
        .iter()
        .find(|r| r["action"] == action)
        .unwrap_or_else(|| panic!("no result for {action}"))
}

fn service(r: &Value) -> &str {
    str_of(&r["action"]).split(':').next().unwrap_or_default()
}

fn blames(r: &Value) -> &Vec<Value> {
    r["decided_by"]
        .as_array()
        .unwrap_or_else(|| panic!("no decided_by in {r}"))
}

fn notes(report: &Value) -> Vec<&str> {
    report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(str_of)
        .collect()
}

/// Every result was decided by the simulator stand-in, and the local engine agrees with it.
fn assert_simulated_and_agreed(report: &Value) {
    for r in results(report) {
        assert_eq!(r["engine"], "aws", "{r}");
        assert!(r.get("disagreement").is_none(), "{r}");
        assert_eq!(r["aws"]["decision"], r["decision"], "{r}");
    }
}

fn decisions(report: &Value) -> Vec<(String, String)> {
    results(report)
        .iter()
        .map(|r| (str_of(&r["action"]).into(), str_of(&r["decision"]).into()))
        .collect()
}

// ---- who is checked ----------------------------------------------------------------------

#[test]
fn member_role_with_vpc_is_denied_ec2_by_the_prod_allow_list() {
    let (moto, s) = member_demo();
    let out = run(
        &moto,
        &["check", "--role", ROLE, "--vpc", "--format", "json"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["principal"], s["roles"]["codebuild"]);
    assert_eq!(v["incomplete"], false);
    assert_simulated_and_agreed(&v);

    let prod = &s["ou_ids"]["Prod"];
    let eni = result(&v, "ec2:CreateNetworkInterface");
    assert_eq!(eni["decision"], "implicit_deny", "{eni}");
    assert!(
        blames(eni).iter().any(|b| b["kind"] == "scp"
            && b["verdict"] == "fails_to_allow"
            && b["target"] == *prod
            && b["target_name"] == "Prod"),
        "{eni}"
    );
    // The stand-in's own reading: Organizations did not allow it.
    assert_eq!(eni["aws"]["allowed_by_organizations"], false);

    // Exactly the VPC part (ec2) is stopped; everything else Jets needs is allowed.
    let denied: BTreeSet<&str> = results(&v)
        .iter()
        .filter(|r| r["decision"] != "allowed")
        .map(|r| str_of(&r["action"]))
        .collect();
    let ec2: BTreeSet<&str> = results(&v)
        .iter()
        .filter(|r| service(r) == "ec2")
        .map(|r| str_of(&r["action"]))
        .collect();
    assert!(!ec2.is_empty(), "--vpc requires ec2 actions");
    assert_eq!(denied, ec2);
    assert_eq!(v["summary"]["denied"], json!(ec2.len()));
}

#[test]
fn outside_the_approved_regions_the_region_scp_denies_regional_actions_only() {
    let (moto, s) = member_demo();
    let out = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["region"], "eu-west-1");
    assert_simulated_and_agreed(&v);

    let lambda = result(&v, "lambda:CreateFunction");
    assert_eq!(lambda["decision"], "explicit_deny");
    let b = &blames(lambda)[0];
    assert_eq!(b["kind"], "scp");
    assert_eq!(b["verdict"], "denies");
    assert_eq!(b["policy"], "RegionRestriction");
    assert_eq!(b["policy_id"], s["scp_ids"]["RegionRestriction"]);
    assert_eq!(b["target"], s["ou_ids"]["Workloads"]);
    assert_eq!(b["statement"], "DenyOutsideApprovedRegions");

    // Global services are checked with aws:RequestedRegion = us-east-1 and stay allowed.
    let create_role = result(&v, "iam:CreateRole");
    assert_eq!(create_role["decision"], "allowed", "{create_role}");
    assert_eq!(blames(create_role)[0]["kind"], "identity");

    for r in results(&v) {
        if REGION_EXEMPT.contains(&service(r)) {
            assert_eq!(r["decision"], "allowed", "exempt by NotAction: {r}");
        } else if service(r) == "ecr-public" {
            // ECR Public's API is only in us-east-1, an approved region: the request names
            // us-east-1 whatever the deploy's region, so the region SCP does not stop it.
            assert_eq!(r["decision"], "allowed", "{r}");
        } else {
            // Everything else is denied by the region SCP, named down to its statement.
            assert_eq!(r["decision"], "explicit_deny", "{r}");
            assert!(
                blames(r).iter().all(|b| b["policy"] == "RegionRestriction"
                    && b["statement"] == "DenyOutsideApprovedRegions"),
                "{r}"
            );
        }
    }
}

#[test]
fn the_callers_assumed_role_is_checked_as_its_role_and_stats_go_to_stderr() {
    let (moto, s) = member_demo();
    moto.reset_stats();
    let out = run(&moto, &["check", "--format", "json", "--stats"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v = out.json();
    // arn:aws:sts::<member>:assumed-role/<ROLE>/iam-doctor → the IAM role's ARN.
    assert_eq!(v["principal"], s["roles"]["codebuild"]);
    assert_simulated_and_agreed(&v);
    assert!(!results(&v).is_empty());

    // IAM's matched statements (scripted by the stand-in, positions computed from the stored
    // document) come back as the policy's name, the statement's label and its text.
    let lambda = result(&v, "lambda:CreateFunction");
    let matched = lambda["matched"].as_array().expect("matched statements");
    assert_eq!(matched[0]["policy"], "DefaultPolicy", "{lambda}");
    assert_eq!(matched[0]["statement"], "#0", "{lambda}");
    assert!(
        matched[0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with('{') && t.contains("lambda:*")),
        "{lambda}"
    );

    // `--stats`: one line per API on stderr, matching what the server received.
    let simulated = moto.calls("iam:SimulatePrincipalPolicy");
    assert!(simulated >= 1);
    assert!(
        out.stderr
            .lines()
            .any(|l| l
                == format!("iam-doctor: note: iam:SimulatePrincipalPolicy: {simulated} call(s)")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("iam-doctor: note: sts:GetCallerIdentity: 1 call(s)"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("call(s)"), "stats stay off stdout");
}

#[test]
fn a_user_and_a_stack_role_are_checked() {
    let (moto, s) = member_demo();

    // alice: group policy `DevelopersAccess` (Describe stacks, S3 in us-east-1), managed
    // `LogsReadOnly`, and her own `NoIamWrites` deny.
    let out = run(&moto, &["check", "--user", "alice", "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["principal"], s["users"]["alice"]);
    assert_simulated_and_agreed(&v);
    let create = result(&v, "iam:CreateRole");
    assert_eq!(create["decision"], "explicit_deny");
    assert!(
        blames(create)
            .iter()
            .any(|b| b["kind"] == "identity" && b["policy"] == "NoIamWrites"),
        "{create}"
    );
    let put = result(&v, "s3:PutObject");
    assert_eq!(put["decision"], "allowed");
    assert_eq!(blames(put)[0]["policy"], "DevelopersAccess");
    assert_eq!(blames(put)[0]["statement"], "S3InHomeRegion");
    let lambda = result(&v, "lambda:CreateFunction");
    assert_eq!(lambda["decision"], "implicit_deny");
    assert_eq!(blames(lambda)[0]["verdict"], "fails_to_allow");

    // The Jets bootstrap stack's CodebuildRole (created by the stack in seed.py).
    let out = run(&moto, &["check", "--stack", "demo-dev", "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["principal"], s["roles"]["codebuild"]);
    assert_simulated_and_agreed(&v);
    assert!(moto.calls("cloudformation:DescribeStackResource") >= 1);

    // An unknown stack is an input error.
    let out = run(
        &moto,
        &["check", "--stack", "demo-prod", "--format", "json"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("demo-prod");
}

// ---- pagination, throttling ----------------------------------------------------------------

#[test]
fn an_exhaustive_check_follows_every_short_page() {
    let (moto, _s) = member_demo();
    // Quirk: the stand-in answers at most 7 results per page (IAM may return fewer than
    // MaxItems), so every batch of the CLI needs many pages.
    const PAGE: u64 = 7;
    moto.quirks(json!({"simulate_short_pages": PAGE}));

    let required = run(
        &moto,
        &["required", "--vpc", "--exhaustive", "--format", "json"],
    );
    assert_eq!(required.code, Some(0), "{}", required.stderr);
    let required: BTreeSet<String> = required.json()["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| str_of(&a["action"]).to_string())
        .collect();
    assert!(
        required.len() > 1000,
        "thousands of actions: {}",
        required.len()
    );

    moto.reset_stats();
    let out = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--vpc",
            "--exhaustive",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["incomplete"], false, "{:?}", notes(&v));
    assert_simulated_and_agreed(&v);
    let checked: Vec<&str> = results(&v).iter().map(|r| str_of(&r["action"])).collect();
    assert_eq!(
        checked.len(),
        required.len(),
        "one result per required action"
    );
    let checked: BTreeSet<String> = checked.into_iter().map(str::to_string).collect();
    assert_eq!(checked, required, "nothing missing, nothing extra");
    assert!(
        notes(&v).iter().all(|n| !n.contains("no result")),
        "{:?}",
        notes(&v)
    );

    let calls = moto.calls("iam:SimulatePrincipalPolicy");
    let min_pages = (required.len() as u64).div_ceil(PAGE);
    assert!(
        calls >= min_pages,
        "{calls} SimulatePrincipalPolicy calls cannot carry {} results at {PAGE} per page",
        required.len()
    );
}

#[test]
fn throttling_is_retried_and_persistent_throttling_leaves_the_check_incomplete() {
    let (moto, _s) = member_demo();
    let args = ["check", "--role", ROLE, "--vpc", "--format", "json"];
    let clean = run(&moto, &args);
    assert_eq!(clean.code, Some(1), "{}", clean.stderr);
    let expected = decisions(&clean.json());

    // Fault (scripted): the next 3 SimulatePrincipalPolicy calls answer `Throttling`; the
    // SDK's own backoff rides them out.
    moto.faults(json!({"rules": [
        {"target": "SimulatePrincipalPolicy", "error": "Throttling", "count": 3}
    ]}));
    moto.reset_stats();
    let retried = run(&moto, &args);
    assert_eq!(retried.code, Some(1), "{}", retried.stderr);
    assert_eq!(
        decisions(&retried.json()),
        expected,
        "same results after retries"
    );
    assert_eq!(moto.stats()["faults_fired"], 3);
    moto.clear_faults();

    // Fault (scripted): every SimulatePrincipalPolicy call is throttled. `retry_after_ms`
    // makes the SDK wait 5 ms between attempts instead of its half minute of backoff.
    moto.faults(json!({"rules": [
        {"target": "SimulatePrincipalPolicy", "error": "Throttling", "retry_after_ms": 5}
    ]}));
    let throttled = run(&moto, &args);
    assert_eq!(throttled.code, Some(3), "{}", throttled.stderr);
    throttled.assert_one_line_error("iam:SimulatePrincipalPolicy");
    assert!(
        throttled.stderr.contains("throttled"),
        "{}",
        throttled.stderr
    );
    assert!(!throttled.stdout.contains("allowed"));
}

// ---- organizations ---------------------------------------------------------------------------

/// The IAM part is kept, the run is incomplete (exit 3), and a note says the SCPs could not be
/// read.
fn assert_iam_only_and_incomplete(out: &Run) {
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["incomplete"], true);
    assert!(
        !results(&v).is_empty(),
        "the IAM results are still reported"
    );
    assert!(
        notes(&v).iter().any(|n| n.contains("could not be read")),
        "{:?}",
        notes(&v)
    );
    for r in results(&v) {
        assert_eq!(r["engine"], "aws", "{r}");
    }
}

#[test]
fn organizations_access_denied_keeps_the_iam_results_and_is_incomplete() {
    let (moto, _s) = member_demo();
    let args = ["check", "--role", ROLE, "--format", "json"];

    // Quirk: a member account without delegated administration, as AWS answers it.
    moto.quirks(json!({"member_org_access": "denied"}));
    let out = run(&moto, &args);
    assert_iam_only_and_incomplete(&out);
    // IAM's simulator still applies the SCPs (the stand-in allows everything here).
    assert_eq!(out.json()["summary"]["denied"], 0);
    moto.quirks(json!({"member_org_access": "read"}));

    // Fault (scripted): only ListParents is denied.
    moto.faults(json!({"rules": [
        {"target": "ListParents", "error": "AccessDeniedException"}
    ]}));
    let out = run(&moto, &args);
    assert_iam_only_and_incomplete(&out);
    assert!(out.json()["notes"].to_string().contains("ListParents"));
}

#[test]
fn an_scp_denial_that_cannot_be_attributed_names_no_empty_policy() {
    let (moto, _s) = member_demo();
    // Quirk: SCPs unreadable; the stand-in still says Organizations did not allow ec2.
    moto.quirks(json!({"member_org_access": "denied"}));
    let out = run(
        &moto,
        &["check", "--role", ROLE, "--vpc", "--format", "json"],
    );
    assert_iam_only_and_incomplete(&out);
    let v = out.json();
    let eni = result(&v, "ec2:CreateNetworkInterface");
    assert_eq!(eni["decision"], "implicit_deny");
    assert!(
        eni["disagreement"]
            .as_str()
            .is_some_and(|d| d.contains("could not be read")),
        "{eni}"
    );
    let blame = &blames(eni)[0];
    assert_eq!(blame["kind"], "scp");
    // PRODUCT BUG (src/core/check.rs merge_simulation, OrgVisibility::Unreadable): the blame
    // built for an unattributed SCP denial always has verdict `denies`, even when IAM said
    // implicitDeny (no SCP allows it), which is `fails_to_allow`.
    assert_eq!(blame["verdict"], "fails_to_allow", "{blame}");
    // PRODUCT BUG (same blame, rendered by Blame::describe and remediation): with no policy,
    // target or statement it reads "service control policy `` denies it" and the fix reads
    // "change service control policy `` attached to : statement `` denies 6 action(s)".
    assert!(
        !str_of(&blame["explanation"]).contains("``"),
        "{}",
        blame["explanation"]
    );
    for step in v["remediation"]["steps"].as_array().expect("steps") {
        let advice = str_of(&step["advice"]);
        assert!(
            !advice.contains("``") && !advice.contains("attached to :"),
            "{advice}"
        );
    }
}

#[test]
fn outside_an_organization_no_scps_apply() {
    let moto = Moto::start();
    let s = moto.seed("no-org");
    moto.set_caller(str_of(&s["caller_arns"]["codebuild"]));
    let out = run(
        &moto,
        &["check", "--role", ROLE, "--vpc", "--format", "json"],
    );
    // No SCP: the role's own policies (DefaultPolicy, VpcPolicy, managed) allow everything.
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["incomplete"], false);
    assert!(
        notes(&v)
            .iter()
            .any(|n| n.contains("not in an organization") && n.contains("no SCPs")),
        "{:?}",
        notes(&v)
    );
    assert_simulated_and_agreed(&v);
    for r in results(&v) {
        assert!(r["aws"]["allowed_by_organizations"].is_null(), "{r}");
    }

    // alice is denied by her own policies only, so the exit code follows IAM's results.
    let out = run(&moto, &["check", "--user", "alice", "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["incomplete"], false);
    assert!(
        results(&v)
            .iter()
            .flat_map(blames)
            .all(|b| b["kind"] == "identity"),
        "no SCP blamed outside an organization"
    );
}

#[test]
fn in_the_management_account_scps_do_not_apply() {
    let moto = Moto::start();
    let s = moto.seed("jets-demo");
    // The caller is the management account's `OrgAdmin` session; SCPs never apply there.
    moto.set_caller(str_of(&s["caller_arns"]["org_admin"]));
    let out = run(&moto, &["check", "--vpc", "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["principal"], s["roles"]["org_admin"]);
    assert_eq!(v["incomplete"], false);
    assert!(
        notes(&v)
            .iter()
            .any(|n| n.contains("management account") && n.contains("do not apply")),
        "{:?}",
        notes(&v)
    );
    assert_simulated_and_agreed(&v);
    // OrgAdmin allows only ec2:*, which Prod's allow-list would block in a member account.
    let eni = result(&v, "ec2:CreateNetworkInterface");
    assert_eq!(eni["decision"], "allowed");
    for r in results(&v) {
        assert!(blames(r).iter().all(|b| b["kind"] == "identity"), "{r}");
    }
}

// ---- confirmation by IAM's engine ---------------------------------------------------------

#[test]
fn confirm_asks_iams_engine_about_each_blamed_scp() {
    let (moto, _s) = member_demo();
    moto.reset_stats();
    let out = run(
        &moto,
        &[
            "check",
            "--role",
            ROLE,
            "--vpc",
            "--region",
            "eu-west-1",
            "--confirm",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let v = out.json();
    assert_simulated_and_agreed(&v);
    // SimulateCustomPolicy is the same scripted stand-in, fed the SCP levels minus the blamed
    // policy.
    assert!(moto.calls("iam:SimulateCustomPolicy") >= 1);

    let mut confirmed = 0;
    for r in results(&v) {
        let scp_blamed = blames(r).iter().any(|b| b["kind"] == "scp");
        if !scp_blamed {
            assert!(r.get("confirmation").is_none(), "{r}");
            continue;
        }
        let c = str_of(&r["confirmation"]);
        if service(r) == "ec2" {
            // Without RegionRestriction, Prod's allow-list still stops ec2: IAM's engine
            // must not confirm the region SCP as the only cause.
            assert!(c.starts_with("not confirmed by IAM"), "{r}");
        } else {
            assert!(c.starts_with("confirmed by IAM"), "{r}");
            confirmed += 1;
        }
    }
    assert!(confirmed > 10, "{confirmed}");
}

// ---- errors ------------------------------------------------------------------------------------

#[test]
fn input_and_permission_errors_are_one_line() {
    let (moto, _s) = member_demo();

    // A role name with a typo: exit 2 and the nearest name.
    let out = run(
        &moto,
        &[
            "check",
            "--role",
            "demo-dev-CodebuildRole-1A2B3C4D5E6G",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error(&format!("did you mean `{ROLE}`"));

    // No credentials anywhere: no keys in the environment, empty AWS config files.
    let empty = tempfile::tempdir().expect("temp dir");
    let mut cmd = moto.cmd();
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", empty.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            empty.path().join("credentials"),
        )
        .args(["check", "--role", ROLE, "--format", "json"]);
    let out = run_cmd(&mut cmd);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("no AWS credentials");

    // Fault (scripted): the caller may not call the simulator.
    moto.faults(json!({"rules": [
        {"target": "SimulatePrincipalPolicy", "error": "AccessDenied"}
    ]}));
    let out = run(&moto, &["check", "--role", ROLE, "--format", "json"]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    out.assert_one_line_error("iam:SimulatePrincipalPolicy");
}

#[test]
fn a_closed_endpoint_fails_with_one_line_and_no_panic() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let moto = Moto::start();
    let mut cmd = moto.cmd();
    cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .args(["check", "--role", ROLE, "--format", "json"]);
    let out = run_cmd(&mut cmd);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    out.assert_one_line_error(&format!("`http://127.0.0.1:{port}` refused the connection"));
}
