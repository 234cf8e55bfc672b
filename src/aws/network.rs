//! Bounds on every network exchange of a run, and the checks made before the first one.
//!
//! A command that asks AWS must end: an endpoint that accepts a connection and never answers,
//! a refused connection, or a credential provider that hangs must each end the run with a
//! message naming what did not answer, never a silent wait. Three layers do it:
//! - the SDK's own timeouts ([`timeout_config`]) bound each connection and each attempt;
//! - a retry classifier ([`RefusedIsFinal`]) stops the retries a refused connection would
//!   otherwise burn (nothing listens there, waiting will not change it);
//! - the run's deadline (`--timeout`, enforced by the call gate) bounds the whole run, retries
//!   included.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, SharedRetryClassifier,
};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// The run's time limit when `--timeout` is not given: long enough for an exhaustive check
/// of a large organization under throttling (`scripts/bench-live` measures a full check in a
/// handful of round trips), short enough that a stuck endpoint does not stall a CI job.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Time to establish a TCP (and TLS) connection. AWS endpoints connect in milliseconds; five
/// seconds leaves room for a slow VPN without letting a dropped SYN wait for the OS default.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time for one attempt of one request, response included. `SimulatePrincipalPolicy` with a
/// full page of actions is the slowest call this tool makes and answers in a few seconds.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Refused connections retried per run, across all requests: one, to ride out an endpoint
/// that is restarting, and no more.
pub const REFUSED_RETRIES: usize = 1;

/// Attempts per request, the first included. Eight attempts with exponential backoff (capped
/// at 20 s) ride out the bursts of `Throttling` that `SimulatePrincipalPolicy` and
/// Organizations' `TooManyRequestsException` produce, where the SDK default of three does not.
pub const MAX_ATTEMPTS: u32 = 8;

/// The retry policy every client uses: standard mode (exponential backoff with jitter,
/// throttling codes retried) with more attempts than the default. Adaptive mode is left out:
/// its client-side rate limiter, once a listing stays throttled, slowed every later call of the
/// client until a whole-organization walk outlasted the run's time limit (measured with a
/// scripted `TooManyRequestsException` in tests/it/live_org_tree.rs). The in-flight bound, which
/// throttling lowers ([`super::gate::CallGate`]), does the client-side pacing.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

/// The SDK timeouts for a run limited to `run_limit`: no single connection, attempt or
/// operation may outlast the run itself.
pub fn timeout_config(run_limit: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(run_limit))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT.min(run_limit))
        .operation_timeout(run_limit)
        .build()
}

/// Forbids retrying a refused connection once the run's small budget for them is spent.
///
/// The SDK's standard strategy treats every I/O error as transient and retries it with
/// exponential backoff, so with eight attempts a closed port took 30 to 45 seconds to report.
/// A refusal is an answer: the host is up and nothing listens on the port.
#[derive(Debug, Clone)]
pub struct RefusedIsFinal {
    retries_left: Arc<AtomicUsize>,
}

impl RefusedIsFinal {
    /// One budget, to be shared by every client of a run.
    pub fn new(retries: usize) -> Self {
        Self {
            retries_left: Arc::new(AtomicUsize::new(retries)),
        }
    }

    pub fn shared(&self) -> SharedRetryClassifier {
        SharedRetryClassifier::new(self.clone())
    }

    fn take_retry(&self) -> bool {
        self.retries_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

impl ClassifyRetry for RefusedIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let refused = matches!(
            ctx.output_or_error(),
            Some(Err(err)) if err.as_connector_error().is_some_and(is_refused)
        );
        if refused && !self.take_retry() {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "refused connections are final"
    }

    /// After the SDK's transient-error classifier, whose "retry" this overrides.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// True when a connection error is, at its root, `ECONNREFUSED`.
pub(crate) fn is_refused(err: &ConnectorError) -> bool {
    err.is_io() && io_kind(err) == Some(std::io::ErrorKind::ConnectionRefused)
}

/// The kind of the first `std::io::Error` in an error's source chain.
pub(crate) fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        current = e.source();
    }
    None
}

/// Why an endpoint URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointUrlError {
    #[error(
        "`{shown}` is not a URL: an endpoint looks like `https://iam.amazonaws.com` or `http://localhost:5000`"
    )]
    NotUrl { shown: String },
    #[error(
        "`{shown}` uses `{scheme}`: AWS endpoints are reached over `https://` (or `http://` for a local emulator)"
    )]
    Scheme { shown: String, scheme: String },
    #[error(
        "`{shown}` names no host: an endpoint looks like `https://iam.amazonaws.com` or `http://localhost:5000`"
    )]
    NoHost { shown: String },
    #[error("`{shown}` has an invalid port `{port}`: a port is a number from 1 to 65535")]
    Port { shown: String, port: String },
}

/// Checks that `raw` is an `http(s)://host[:port][/path]` URL, before the SDK is handed it (the
/// SDK would only fail at the first request, after its retries, with its internal request in
/// the message).
pub fn check_endpoint_url(raw: &str) -> Result<(), EndpointUrlError> {
    let shown = shown_value(&redact_url_credentials(raw));
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(EndpointUrlError::NotUrl { shown });
    };
    let scheme_ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EndpointUrlError::NotUrl { shown });
    }
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(EndpointUrlError::Scheme {
            shown,
            scheme: scheme.to_string(),
        });
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:5000`.
        match bracketed.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return Err(EndpointUrlError::NotUrl { shown }),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(EndpointUrlError::NoHost { shown });
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(EndpointUrlError::Port {
            shown,
            port: shown_value(port),
        });
    }
    Ok(())
}

/// Longest user-supplied value quoted in a message; longer ones are cut with their length.
const SHOWN_MAX: usize = 80;

/// A user-supplied value as a message quotes it: whole when short, else its start and length.
pub fn shown_value(value: &str) -> String {
    let count = value.chars().count();
    if count <= SHOWN_MAX {
        return value.to_string();
    }
    let head: String = value.chars().take(SHOWN_MAX).collect();
    format!("{head}… ({count} characters)")
}

/// The marker the SDK puts before a failed `credential_process`'s stderr.
const PROCESS_STDERR: &str = "Stderr:";

/// Hides secrets an SDK error may carry: the `user:password@` part of URLs, and what a
/// failed `credential_process` wrote to stderr (such programs often print tokens or keys when
/// they fail).
pub fn redact_secrets(text: &str) -> String {
    let mut out = redact_url_credentials(text);
    if let Some(at) = out.find(PROCESS_STDERR) {
        out.truncate(at + PROCESS_STDERR.len());
        out.push_str(" (not shown: it may hold secrets; run the command yourself to see it)");
    }
    out
}

/// Replaces the `user:password@` part of every URL in `text` with `***@`.
pub fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_never_outlast_the_run() {
        let short = timeout_config(Duration::from_secs(2));
        assert_eq!(short.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(
            short.operation_attempt_timeout(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(short.operation_timeout(), Some(Duration::from_secs(2)));
        let default = timeout_config(DEFAULT_RUN_TIMEOUT);
        assert_eq!(default.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(default.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(default.operation_timeout(), Some(DEFAULT_RUN_TIMEOUT));
    }

    #[test]
    fn refused_retry_budget_is_shared_and_small() {
        let classifier = RefusedIsFinal::new(REFUSED_RETRIES);
        let other_client = classifier.clone();
        assert!(classifier.take_retry());
        assert!(
            !other_client.take_retry(),
            "the budget is per run, not per client"
        );
        assert!(!classifier.take_retry());
    }

    fn failed_attempt(error: std::io::Error) -> InterceptorContext {
        use aws_smithy_runtime_api::client::interceptors::context::Input;
        use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::connector(ConnectorError::io(
            Box::new(error),
        ))));
        ctx
    }

    #[test]
    fn refused_connection_is_retried_once_per_run_then_final() {
        let classifier = RefusedIsFinal::new(REFUSED_RETRIES);
        let refused = || failed_attempt(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(
            classifier.classify_retry(&refused()),
            RetryAction::NoActionIndicated,
            "the one retry the run allows: the SDK's own classifier decides"
        );
        for _ in 0..3 {
            assert_eq!(
                classifier.classify_retry(&refused()),
                RetryAction::RetryForbidden
            );
        }
        // Other I/O errors (a reset, a timeout) are left to the SDK's retry policy.
        let reset = failed_attempt(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(
            classifier.classify_retry(&reset),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn endpoint_url_not_a_url_is_refused_before_any_request() {
        for bad in ["not a url", "localhost:5000", "", "://x", "http//x"] {
            assert!(
                matches!(
                    check_endpoint_url(bad),
                    Err(EndpointUrlError::NotUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn endpoint_url_ftp_scheme_is_refused() {
        let err = check_endpoint_url("ftp://example.com/").unwrap_err();
        assert_eq!(
            err,
            EndpointUrlError::Scheme {
                shown: "ftp://example.com/".into(),
                scheme: "ftp".into()
            }
        );
    }

    #[test]
    fn endpoint_url_shapes_accepted_and_refused() {
        for good in [
            "https://iam.amazonaws.com",
            "http://127.0.0.1:5000",
            "HTTP://localhost:4566/",
            "http://[::1]:5000",
            "https://user:pass@proxy.example:8443/path",
        ] {
            assert_eq!(check_endpoint_url(good), Ok(()), "{good}");
        }
        assert!(matches!(
            check_endpoint_url("http://"),
            Err(EndpointUrlError::NoHost { .. })
        ));
        assert!(matches!(
            check_endpoint_url("http://host:99999"),
            Err(EndpointUrlError::Port { .. })
        ));
        assert!(matches!(
            check_endpoint_url("http://host:0"),
            Err(EndpointUrlError::Port { .. })
        ));
    }

    #[test]
    fn endpoint_url_error_does_not_echo_credentials() {
        let err = check_endpoint_url("ftp://alice:s3cret@files.example/").unwrap_err();
        let text = err.to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("alice"),
            "{text}"
        );
        assert!(text.contains("ftp://***@files.example/"), "{text}");
    }

    #[test]
    fn url_credentials_are_redacted_everywhere_in_a_message() {
        assert_eq!(
            redact_secrets("cannot reach `http://user:pa:ss@host:5000/x` or https://k@h"),
            "cannot reach `http://***@host:5000/x` or https://***@h"
        );
        assert_eq!(
            redact_secrets("mail bob@example.com at http://host/a@b"),
            "mail bob@example.com at http://host/a@b",
            "only the authority of a URL holds credentials"
        );
    }

    #[test]
    fn credential_process_stderr_is_redacted() {
        // The wording aws-config uses for a credential_process that exits non-zero.
        let sdk = "Error retrieving credentials: external process exited with code exit status: 1. Stderr: token=AKIAEXAMPLE123 expired";
        let text = redact_secrets(sdk);
        assert!(!text.contains("AKIAEXAMPLE123"), "{text}");
        assert!(text.contains("exited with code exit status: 1"), "{text}");
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        let long = "x".repeat(100_000);
        let shown = shown_value(&long);
        assert!(shown.len() < 200);
        assert!(shown.ends_with("(100000 characters)"));
    }
}
