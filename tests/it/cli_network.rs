//! Network calls never hang, bad connection settings fail at once, and secrets never reach a
//! message.
//!
//! No AWS here, real or emulated: the endpoints are local sockets made to misbehave (a listener
//! that accepts and never answers, a port nothing listens on), and the AWS config files are
//! written by each test. Every run has a generous kill timer (`GUARD`) so a regression shows as
//! a failed test rather than a stuck suite; no test asserts how long a run took (the figures
//! are measured separately, see `scripts/bench-live` and the commit notes).

use crate::support;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Run, run_cmd};

/// Kill timer for one run: far above any correct run, far below "forever".
const GUARD: Duration = Duration::from_secs(90);

const DEMO: &str = "policies/examples/demo";
const DEMO_ROLE: &str = "demo-dev-CodebuildRole-1A2B3C4D5E6F";

/// Environment variables that would point the binary at a real account or profile.
const AWS_VARS: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_ORGANIZATIONS",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_DEFAULT_REGION",
];

/// The binary with test keys, no AWS config files (they point into `home`), no instance
/// metadata, and a kill timer.
fn cmd(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("iam-doctor").expect("binary");
    for var in AWS_VARS {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .timeout(GUARD);
    cmd
}

fn run(cmd: &mut assert_cmd::Command) -> Run {
    let out = run_cmd(cmd);
    assert!(
        out.code.is_some(),
        "the run was killed by the guard timer (it hung):\n{}",
        out.stderr
    );
    out
}

/// A port nothing listens on: bound by the OS a moment ago, then released.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A TCP endpoint that accepts every connection, reads what is sent, and never answers.
/// The connections are held open until the listener is dropped with the test.
struct SilentEndpoint {
    port: u16,
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentEndpoint {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&held);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = stream.try_clone().expect("clone stream");
                std::thread::spawn(move || {
                    let mut sink = [0u8; 4096];
                    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                });
                keep.lock().expect("lock").push(stream);
            }
        });
        SilentEndpoint { port, _held: held }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The commands that call AWS, each in a form that makes a request at once.
fn aws_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["check", "--role", "deploy-role"],
        vec!["snapshot", "--out", "SNAPSHOT_DIR"],
        vec![
            "explain",
            "User: arn:aws:sts::111122223333:assumed-role/deploy-role/s is not authorized to perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/x",
        ],
        vec!["scps"],
    ]
}

fn with_dir<'a>(args: &[&'a str], dir: &'a str) -> Vec<&'a str> {
    args.iter()
        .map(|a| if *a == "SNAPSHOT_DIR" { dir } else { a })
        .collect()
}

#[test]
fn endpoint_that_never_answers_ends_at_the_deadline_naming_the_call_and_endpoint() {
    let home = tempfile::tempdir().expect("tempdir");
    let out_dir = home.path().join("snap");
    let out_dir = out_dir.to_str().expect("utf-8 path");
    let silent = SilentEndpoint::start();
    for args in aws_commands() {
        let args = with_dir(&args, out_dir);
        let out = run(cmd(home.path()).args(&args).args([
            "--endpoint-url",
            &silent.url(),
            "--timeout",
            "2",
        ]));
        assert_eq!(out.code, Some(3), "{args:?}: {}", out.stderr);
        out.assert_one_line_error(&format!("got no answer from `{}`", silent.url()));
        out.assert_one_line_error("within 2 s (the run's time limit, `--timeout`)");
        let error = out
            .stderr
            .lines()
            .find(|l| l.starts_with("iam-doctor: error: "))
            .unwrap_or_default();
        assert!(
            ["`sts:", "`iam:", "`organizations:", "`cloudformation:"]
                .iter()
                .any(|api| error.contains(api)),
            "the error names the call: {error}"
        );
    }
}

#[test]
fn refused_connection_fails_saying_the_endpoint_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let out =
        run(cmd(home.path()).args(["check", "--role", "deploy-role", "--endpoint-url", &url]));
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    out.assert_one_line_error(&format!("`{url}` refused the connection"));
}

#[test]
fn endpoint_url_not_a_url_is_a_usage_error_without_the_sdk_request() {
    let home = tempfile::tempdir().expect("tempdir");
    for (url, needle) in [
        ("not a url", "is not a URL"),
        ("ftp://example.com/x", "uses `ftp`"),
        ("http://", "names no host"),
    ] {
        let out = run(cmd(home.path()).args(["check", "--role", "r", "--endpoint-url", url]));
        assert_eq!(out.code, Some(2), "{url}: {}", out.stderr);
        out.assert_one_line_error(needle);
        assert!(!out.stderr.contains("Request {"), "{}", out.stderr);
    }
    // The same check for the environment variable the SDK reads by itself.
    let out = run(cmd(home.path())
        .env("AWS_ENDPOINT_URL", "not a url")
        .args(["check", "--role", "r"]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("AWS_ENDPOINT_URL");
}

#[test]
fn scps_account_not_12_digits_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let refused = format!("http://127.0.0.1:{}", closed_port());
    for bad in ["abc", "11112222333", "1111222233334", "11112222333a", ""] {
        let out = run(cmd(home.path())
            .args(["scps", "--account", bad])
            .args(["--endpoint-url", &refused]));
        assert_eq!(out.code, Some(2), "`{bad}`: {}", out.stderr);
        out.assert_one_line_error("an account id is 12 digits");
    }
}

#[test]
fn url_credentials_never_reach_a_message() {
    let home = tempfile::tempdir().expect("tempdir");
    let refused = format!("http://alice:s3cret@127.0.0.1:{}", closed_port());
    for url in ["ftp://alice:s3cret@example.com/", refused.as_str()] {
        let out = run(cmd(home.path()).args(["check", "--role", "r", "--endpoint-url", url]));
        assert!(matches!(out.code, Some(2 | 3)), "{}", out.stderr);
        assert!(
            !out.stderr.contains("s3cret") && !out.stderr.contains("alice"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("***@"), "{}", out.stderr);
    }
}

#[cfg(unix)]
#[test]
fn failing_credential_process_stderr_never_reaches_a_message() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        home.path().join("config"),
        "[profile leaky]\ncredential_process = sh -c 'echo token=SECRET-TOKEN-123 >&2; exit 1'\n",
    )
    .expect("write config");
    let out = run(cmd(home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["check", "--role", "r", "--aws-profile", "leaky"])
        .args([
            "--endpoint-url",
            &format!("http://127.0.0.1:{}", closed_port()),
        ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("no AWS credentials found");
    assert!(!out.stderr.contains("SECRET-TOKEN-123"), "{}", out.stderr);
    assert!(out.stderr.contains("not shown"), "{}", out.stderr);
}

#[test]
fn aws_profile_nosuchprofile_says_it_does_not_exist_and_where_it_looked() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        home.path().join("config"),
        "[profile ci]\nregion = eu-west-1\n",
    )
    .expect("write config");
    std::fs::write(
        home.path().join("credentials"),
        "[dev]\naws_access_key_id = x\naws_secret_access_key = y\n",
    )
    .expect("write credentials");
    // Keys in the environment too: the unknown profile must not be passed over silently.
    let out = run(cmd(home.path())
        .args(["check", "--role", "r", "--aws-profile", "nosuchprofile"])
        .args([
            "--endpoint-url",
            &format!("http://127.0.0.1:{}", closed_port()),
        ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("AWS profile `nosuchprofile` does not exist");
    out.assert_one_line_error(&home.path().join("config").display().to_string());
    out.assert_one_line_error(&home.path().join("credentials").display().to_string());
    assert!(!out.stderr.contains("no AWS credentials"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("help: profiles defined there: `ci`, `dev`"),
        "{}",
        out.stderr
    );
}

fn region_check(home: &Path, region: &str) -> Run {
    run(cmd(home).args([
        "check",
        "--offline",
        DEMO,
        "--config-dir",
        "policies/examples/demo/project",
        "--role",
        DEMO_ROLE,
        "--region",
        region,
        "--format",
        "json",
    ]))
}

#[test]
fn region_malformed_is_a_usage_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let long = "a".repeat(100_000);
    for (region, needle) in [
        ("", "the region is empty"),
        ("US-EAST-1", "did you mean `us-east-1`?"),
        ("*", "is not an AWS region name"),
        (long.as_str(), "(100000 characters)"),
    ] {
        let out = region_check(home.path(), region);
        assert_eq!(out.code, Some(2), "{region:.20}: {}", &out.stderr);
        out.assert_one_line_error(needle);
        assert!(out.stderr.len() < 1_000, "{} bytes", out.stderr.len());
    }
    // `scps`, `snapshot` and `explain` check it the same way, before any AWS call.
    let refused = format!("http://127.0.0.1:{}", closed_port());
    for args in [
        vec!["scps", "--region", "US-EAST-1"],
        vec!["snapshot", "--out", "x", "--region", "US-EAST-1"],
        vec!["explain", "x", "--region", "US-EAST-1"],
    ] {
        let out = run(cmd(home.path())
            .args(&args)
            .args(["--endpoint-url", &refused]));
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        out.assert_one_line_error("is not an AWS region name");
    }
}

#[test]
fn region_well_formed_but_unlisted_is_a_warning() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = region_check(home.path(), "mars-north-9");
    assert_ne!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "iam-doctor: warning: `--region mars-north-9` is not a region AWS's partitions data lists"
        ),
        "{}",
        out.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert!(json.is_object());
    // A listed region: no warning.
    let out = region_check(home.path(), "eu-west-1");
    assert!(!out.stderr.contains("partitions data"), "{}", out.stderr);
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[cfg(unix)]
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[cfg(unix)]
#[test]
fn fifo_given_as_any_input_file_is_refused_without_blocking() {
    let home = tempfile::tempdir().expect("tempdir");
    let fifo = home.path().join("pipe.json");
    mkfifo(&fifo);
    let fifo_arg = fifo.to_str().expect("utf-8");

    // `simulate --input`.
    let out = run(cmd(home.path()).args(["simulate", "--input", fifo_arg]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("it is a FIFO (named pipe), not a regular file");

    // `--template`.
    let out = run(cmd(home.path()).args(["required", "--template", fifo_arg]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("FIFO");

    // A Jets config file.
    let project = home.path().join("project");
    std::fs::create_dir_all(project.join("config/jets")).expect("mkdir");
    mkfifo(&project.join("config/jets/bootstrap.rb"));
    let out =
        run(cmd(home.path()).args(["required", "--config-dir", project.to_str().expect("utf-8")]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("FIFO");

    // The files of an offline snapshot folder.
    for name in ["authorization-details.json", "organization.json"] {
        let snapshot: PathBuf = home.path().join(format!("snapshot-{name}"));
        copy_dir(Path::new(DEMO), &snapshot);
        let file = snapshot.join(name);
        if file.exists() {
            std::fs::remove_file(&file).expect("rm");
        }
        mkfifo(&file);
        let out = run(cmd(home.path()).args([
            "check",
            "--offline",
            snapshot.to_str().expect("utf-8"),
            "--role",
            DEMO_ROLE,
        ]));
        assert_eq!(out.code, Some(2), "{name}: {}", out.stderr);
        out.assert_one_line_error("FIFO");
    }

    // The shared AWS config file the SDK would read.
    let out = run(cmd(home.path())
        .env("AWS_CONFIG_FILE", &fifo)
        .args(["check", "--role", "r"])
        .args([
            "--endpoint-url",
            &format!("http://127.0.0.1:{}", closed_port()),
        ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    out.assert_one_line_error("cannot read the AWS config file");
}

#[cfg(unix)]
#[test]
fn credential_process_that_never_returns_ends_at_the_deadline() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        home.path().join("config"),
        "[profile slow]\ncredential_process = sleep 1000\n",
    )
    .expect("write config");
    let out = run(cmd(home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "check",
            "--role",
            "r",
            "--aws-profile",
            "slow",
            "--timeout",
            "2",
        ])
        .args([
            "--endpoint-url",
            &format!("http://127.0.0.1:{}", closed_port()),
        ]));
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    out.assert_one_line_error("the AWS credential provider did not answer within 2 s");
}

#[test]
fn timeout_must_be_a_positive_number_of_seconds() {
    let home = tempfile::tempdir().expect("tempdir");
    for bad in ["0", "-1", "soon"] {
        let out = run(cmd(home.path()).args(["check", "--role", "r", &format!("--timeout={bad}")]));
        assert_eq!(out.code, Some(2), "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    }
}
