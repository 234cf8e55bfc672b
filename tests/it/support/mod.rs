//! Local AWS for integration tests: one `tests/moto/server.py` per [`Moto`], killed on drop.
//!
//! The server is moto (IAM, STS, Organizations, ...) plus what moto lacks: a scripted stand-in
//! for IAM's `SimulatePrincipalPolicy` (its decisions come from a simple rule in Python, not
//! from AWS), fault injection, latency, call statistics and a chosen caller identity. See the
//! header of `tests/moto/server.py` for the control endpoints and the rule, and
//! `tests/moto/seed.py` for the scenarios.
//!
//! The Python interpreter is `$IAM_DOCTOR_PYTHON`, else the crate's `.venv-moto` (made by
//! `scripts/test`), else `python3`. A missing interpreter or moto fails the test with a hint to
//! run `scripts/test`: these tests are never skipped silently.
//!
//! HTTP goes through `ureq` (plain HTTP only: the server listens on 127.0.0.1) and responses are
//! read with a real XML parser, `roxmltree`.

pub mod offline;
pub mod schema;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long the server may take to print `READY`.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// Read/write timeout of one HTTP exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// Environment variables that would point the CLI somewhere other than the local server.
const AWS_VARS_TO_CLEAR: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_ORGANIZATIONS",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
];

/// A running local AWS endpoint.
pub struct Moto {
    child: Child,
    /// Held open: the server exits when it closes, even if this process dies without `Drop`.
    _stdin: ChildStdin,
    port: u16,
    python: PathBuf,
    log: tempfile::NamedTempFile,
}

/// One HTTP response from the server.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.body))
    }
}

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreter that runs the server and the seed script.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("IAM_DOCTOR_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = crate_root().join(".venv-moto").join("bin").join("python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

fn hint() -> &'static str {
    "run the tests with `scripts/test`, which installs moto into .venv-moto and sets \
     IAM_DOCTOR_PYTHON (or point IAM_DOCTOR_PYTHON at a python that has `moto[server]`)"
}

impl Moto {
    /// Starts a fresh server on a free port (the OS picks it) and waits until it listens.
    pub fn start() -> Moto {
        let python = python();
        let script = crate_root().join("tests").join("moto").join("server.py");
        let log = tempfile::Builder::new()
            .prefix("iam-doctor-moto-")
            .suffix(".log")
            .tempfile()
            .expect("create a log file for the moto server");
        let stderr = log.reopen().expect("open the moto log file");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["0", "--exit-on-stdin-eof"])
            .env_remove("MOTO_ACCOUNT_ID")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the local AWS server with `{}`: {e}\n{}",
                    python.display(),
                    hint()
                )
            });
        let stdin = child.stdin.take().expect("server stdin is piped");
        let stdout = child.stdout.take().expect("server stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !ready && let Some(port) = line.strip_prefix("READY ") {
                    ready = true;
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                }
            }
            if !ready {
                let _ = tx.send(None);
            }
        });
        let port = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(port)) => port,
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let output = std::fs::read_to_string(log.path()).unwrap_or_default();
                panic!(
                    "the local AWS server (`{} {}`) did not start:\n{}\n{}",
                    python.display(),
                    script.display(),
                    tail(&output, 40),
                    hint()
                );
            }
        };
        Moto {
            child,
            _stdin: stdin,
            port,
            python,
            log,
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server wrote to stderr so far (tracebacks of failed requests end up here).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Creates a scenario of `tests/moto/seed.py` and returns its JSON summary (account ids,
    /// ARNs, OU and policy ids).
    pub fn seed(&self, scenario: &str) -> Value {
        self.seed_with(scenario, &[])
    }

    /// Like [`Moto::seed`], with the scenario's options (`--accounts 200` for
    /// `generated-org`).
    pub fn seed_with(&self, scenario: &str, options: &[&str]) -> Value {
        let script = crate_root().join("tests").join("moto").join("seed.py");
        let out = Command::new(&self.python)
            .arg(&script)
            .args(["--endpoint", &self.endpoint(), "--scenario", scenario])
            .args(options)
            .env_remove("MOTO_ACCOUNT_ID")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}\n{}", script.display(), hint()));
        if !out.status.success() {
            panic!(
                "seeding `{scenario}` failed ({}):\n{}\nserver log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                tail(&self.log(), 40)
            );
        }
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "seed.py printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Adds fault rules: `{"rules": [{"target": "SimulatePrincipalPolicy", "error":
    /// "Throttling", "count": 1}]}` (see `tests/moto/server.py`).
    pub fn faults(&self, rules: Value) {
        self.control("POST", "faults", Some(&rules));
    }

    pub fn clear_faults(&self) {
        self.control("DELETE", "faults", None);
    }

    /// Adds `ms` milliseconds to every AWS call.
    pub fn latency(&self, ms: u64) {
        self.control("POST", "latency", Some(&serde_json::json!({ "ms": ms })));
    }

    /// `{"calls": {"iam:SimulatePrincipalPolicy": n, ...}, "max_in_flight": n, ...}`.
    pub fn stats(&self) -> Value {
        self.control("GET", "stats", None)
    }

    pub fn reset_stats(&self) {
        self.control("DELETE", "stats", None);
    }

    /// How many times the server received `service:Operation` since the last reset.
    pub fn calls(&self, api: &str) -> u64 {
        self.stats()["calls"][api].as_u64().unwrap_or(0)
    }

    /// Makes STS `GetCallerIdentity` answer `arn`, and runs every later AWS call in its account.
    pub fn set_caller(&self, arn: &str) {
        self.control("POST", "caller", Some(&serde_json::json!({ "arn": arn })));
    }

    /// Back to moto's default caller (`arn:aws:sts::123456789012:user/moto`).
    pub fn clear_caller(&self) {
        self.control("DELETE", "caller", None);
    }

    /// Sets server quirks, e.g. `{"simulate_result_shape": "per-action"}`; returns all quirks.
    pub fn quirks(&self, quirks: Value) -> Value {
        self.control("POST", "quirks", Some(&quirks))
    }

    /// Registers what encoded authorization messages decode to (SCRIPTED
    /// `DecodeAuthorizationMessage`): `{"ENCODED": {decoded document}}`.
    pub fn authorization_messages(&self, messages: Value) {
        self.control(
            "POST",
            "authorization-messages",
            Some(&serde_json::json!({ "messages": messages })),
        );
    }

    /// Records CloudTrail events (SCRIPTED `LookupEvents` history): CloudTrail records.
    pub fn cloudtrail_events(&self, events: Value) {
        self.control(
            "POST",
            "cloudtrail-events",
            Some(&serde_json::json!({ "events": events })),
        );
    }

    /// Scripts `DescribeStackEvents` answers (moto cannot hold a stack event that failed on
    /// authorization, nor nested stacks): `{"region", "page_size", "stacks": [{"name", "id",
    /// "events": [...]}]}`, events newest first (see `tests/moto/server.py`).
    pub fn script_stack_events(&self, stacks: Value) {
        self.control("POST", "stack-events", Some(&stacks));
    }

    /// The `iam-doctor` binary, pointed at this server with test credentials and no profile.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_iam-doctor"));
        for var in AWS_VARS_TO_CLEAR {
            cmd.env_remove(var);
        }
        let nowhere = self.log.path().with_extension("no-aws-config");
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1");
        cmd
    }

    /// A control call; panics unless the server answers 200.
    fn control(&self, method: &str, name: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let resp = self.request(
            method,
            &format!("/_iamdoctor/{name}"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        if resp.status != 200 {
            panic!(
                "control {method} {name} failed with {}: {}",
                resp.status, resp.body
            );
        }
        resp.json()
    }

    /// An AWS Query-protocol call (IAM, STS): a form POST signed only as far as moto reads it
    /// (the credential scope names the service; signatures are not checked).
    pub fn aws_query(&self, service: &str, params: &[(&str, &str)]) -> HttpResponse {
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let auth = authorization(service);
        self.request(
            "POST",
            "/",
            &[
                (
                    "Content-Type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
                ("Authorization", &auth),
            ],
            body.as_bytes(),
        )
    }

    /// An AWS JSON 1.1 call, e.g. `aws_json("organizations", "AWSOrganizationsV20161128.ListParents", ..)`.
    pub fn aws_json(&self, service: &str, target: &str, body: &Value) -> HttpResponse {
        let auth = authorization(service);
        self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", target),
                ("Authorization", &auth),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// One HTTP exchange with the server; any status is a response, not an error.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http(self.port, method, path, headers, body).unwrap_or_else(|e| {
            panic!(
                "{method} {path} to the local AWS server failed: {e}\nserver log:\n{}",
                tail(&self.log(), 40)
            )
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=0000"
    )
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = if body.is_empty() {
        agent.run(request.body(())?)?
    } else {
        agent.run(request.body(body.to_vec())?)?
    };
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.body_mut().read_to_vec()?;
    Ok(HttpResponse {
        status: response.status().as_u16(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// `xml` parsed; panics with the text when it is not XML.
fn xml_document(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("response is not XML ({e}): {xml}"))
}

/// The text of every `<tag>` element in `xml` (its text nodes joined, surrounding white space
/// trimmed), in document order. Names match whatever the namespace.
pub fn xml_all(xml: &str, tag: &str) -> Vec<String> {
    xml_document(xml)
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == tag)
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect()
}

/// The text of the first `<tag>` element in `xml`.
pub fn xml_first(xml: &str, tag: &str) -> Option<String> {
    xml_all(xml, tag).into_iter().next()
}

/// The `EvaluationResults` of a `SimulatePrincipalPolicy` response, one XML element (its
/// source text) per result, in order.
pub fn evaluation_results(xml: &str) -> Vec<String> {
    xml_document(xml)
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "EvaluationResults")
        .flat_map(|list| list.children().filter(|m| m.is_element()))
        .map(|member| xml[member.range()].to_string())
        .collect()
}

/// The `EvalDecision` of `action` in a `SimulatePrincipalPolicy` response.
pub fn decision_of(xml: &str, action: &str) -> Option<String> {
    evaluation_results(xml)
        .into_iter()
        .find(|r| xml_first(r, "EvalActionName").as_deref() == Some(action))
        .and_then(|r| xml_first(&r, "EvalDecision"))
}

/// One run of the binary, with its output as text.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The run failed with exactly one `iam-doctor: error:` line (plus at most a `help:`
    /// line and notes), containing `needle`, printed nothing on stdout, and did not panic.
    pub fn assert_one_line_error(&self, needle: &str) {
        assert!(
            self.stdout.trim().is_empty(),
            "a failed run prints no data: {}",
            self.stdout
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("iam-doctor: error: "))
            .collect();
        assert_eq!(errors.len(), 1, "one error line: {}", self.stderr);
        assert!(errors[0].contains(needle), "`{needle}` in: {}", self.stderr);
        for line in self.stderr.lines() {
            assert!(
                line.starts_with("iam-doctor: ") || line.starts_with("  help: "),
                "unexpected stderr line `{line}` in:\n{}",
                self.stderr
            );
        }
        assert!(
            self.stderr
                .lines()
                .filter(|l| l.starts_with("  help: "))
                .count()
                <= 1,
            "{}",
            self.stderr
        );
    }
}

/// Runs a prepared command to completion.
pub fn run_cmd(cmd: &mut assert_cmd::Command) -> Run {
    let out = cmd.output().expect("iam-doctor runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
