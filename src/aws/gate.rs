//! The one gate every request of a run goes through: bounded, counted, classified, timed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, SharedRetryClassifier,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::api::Api;
use super::error::{self, AwsError, ErrorContext};
use super::network;

/// Requests in flight at once, across all services. Eight lets the organization walk and the
/// simulator calls overlap (measured with `scripts/bench-live`: a full exhaustive check is
/// about 6 sequential round trips at 8, 8.5 at 4); throttling beyond that is absorbed by the
/// retries above.
pub const MAX_IN_FLIGHT: usize = 8;

const API_COUNT: usize = Api::ALL.len();

/// The fewest requests in flight throttling can bring the gate down to.
pub const MIN_IN_FLIGHT: usize = 2;

/// Unthrottled requests after which one slot taken away by throttling is given back.
const RECOVER_AFTER: usize = 32;

/// Bounds, counts and classifies every request of a run.
#[derive(Debug)]
pub struct CallGate {
    permits: Semaphore,
    /// The current bound on requests in flight: lowered when AWS throttles, raised back
    /// slowly while it does not.
    limit: AtomicUsize,
    max_in_flight: usize,
    /// Slots to take out of circulation as requests finish (the semaphore can only forget
    /// permits that are free).
    owed: AtomicUsize,
    calm_streak: AtomicUsize,
    throttled: AtomicUsize,
    counts: [AtomicUsize; API_COUNT],
    /// The endpoint override, or `None` for AWS's own endpoints.
    endpoint: Option<String>,
    /// AWS's endpoint per service prefix, for messages when there is no override.
    service_endpoints: BTreeMap<&'static str, String>,
    /// When the run must end, and the limit it was computed from.
    deadline: Option<(Instant, Duration)>,
    caller: OnceLock<String>,
}

impl CallGate {
    /// `endpoint` is only used to name the target in connection errors.
    pub fn new(max_in_flight: usize, endpoint: Option<String>) -> Self {
        Self {
            permits: Semaphore::new(max_in_flight.max(1)),
            limit: AtomicUsize::new(max_in_flight.max(1)),
            max_in_flight: max_in_flight.max(1),
            owed: AtomicUsize::new(0),
            calm_streak: AtomicUsize::new(0),
            throttled: AtomicUsize::new(0),
            counts: [const { AtomicUsize::new(0) }; API_COUNT],
            endpoint: endpoint.map(|e| network::redact_secrets(&e)),
            service_endpoints: BTreeMap::new(),
            deadline: None,
            caller: OnceLock::new(),
        }
    }

    /// Ends every request still waiting `limit` after `start` (the run's `--timeout`).
    pub fn with_deadline(mut self, start: Instant, limit: Duration) -> Self {
        self.deadline = Some((start + limit, limit));
        self
    }

    /// Names AWS's endpoint of each service in messages (used when there is no override).
    pub fn with_service_endpoints(mut self, endpoints: BTreeMap<&'static str, String>) -> Self {
        self.service_endpoints = endpoints;
        self
    }

    /// The endpoint `api` is sent to, as messages name it.
    fn endpoint_of(&self, api: Api) -> Option<&str> {
        self.endpoint.as_deref().or_else(|| {
            self.service_endpoints
                .get(api.service())
                .map(String::as_str)
        })
    }

    fn no_answer(&self, api: Api, limit: Duration, sent: bool) -> AwsError {
        AwsError::NoAnswer {
            api: api.action().to_string(),
            endpoint: self.endpoint_of(api).unwrap_or("AWS").to_string(),
            seconds: limit.as_secs(),
            sent,
        }
    }

    /// Sends one request once a slot is free, counts it, and classifies its error.
    ///
    /// The slot is held through the SDK's retries, so a throttled request backs off without
    /// others taking its place.
    pub(crate) async fn call<T, E>(
        &self,
        api: Api,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, AwsError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let acquire = self.permits.acquire();
        let permit = match self.deadline {
            Some((at, limit)) => tokio::time::timeout_at(at, acquire)
                .await
                .map_err(|_| self.no_answer(api, limit, false))?,
            None => acquire.await,
        };
        let permit = permit.map_err(|_| AwsError::Interrupted)?;
        self.counts[api as usize].fetch_add(1, Ordering::Relaxed);
        let answer = match self.deadline {
            Some((at, limit)) => tokio::time::timeout_at(at, request)
                .await
                .map_err(|_| self.no_answer(api, limit, true))?,
            None => request.await,
        };
        self.release(permit);
        answer.map_err(|err| {
            let ctx = ErrorContext {
                endpoint: self.endpoint_of(api),
                caller: self.caller.get().map(String::as_str),
                run_limit: self.deadline.map(|(_, limit)| limit),
            };
            error::from_sdk(api, &err, ctx)
        })
    }

    /// AWS throttled an attempt (`TooManyRequestsException`, `Throttling`): one slot fewer in
    /// flight, down to [`MIN_IN_FLIGHT`], so the retries and the requests after them arrive
    /// at a pace AWS accepts.
    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        self.calm_streak.store(0, Ordering::Relaxed);
        let lowered = self
            .limit
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n > MIN_IN_FLIGHT).then(|| n - 1)
            })
            .is_ok();
        if lowered && self.permits.forget_permits(1) == 0 {
            self.owed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Returns a request's slot, unless throttling owes one; after a calm stretch, gives
    /// back one slot that throttling took.
    fn release(&self, permit: tokio::sync::SemaphorePermit<'_>) {
        let owed = self
            .owed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if owed {
            permit.forget();
            return;
        }
        drop(permit);
        let calm = self.calm_streak.fetch_add(1, Ordering::Relaxed) + 1;
        if calm >= RECOVER_AFTER
            && self
                .limit
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < self.max_in_flight).then_some(n + 1)
                })
                .is_ok()
        {
            self.calm_streak.store(0, Ordering::Relaxed);
            self.permits.add_permits(1);
        }
    }

    /// The current bound on requests in flight.
    pub fn in_flight_limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Attempts AWS throttled so far (each retry counts).
    pub fn throttled_attempts(&self) -> usize {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Requests sent per API (retries of one request count once), for the benchmark.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        Api::ALL
            .iter()
            .filter_map(|api| {
                let n = self.counts[*api as usize].load(Ordering::Relaxed);
                (n > 0).then(|| (api.action().to_string(), n))
            })
            .collect()
    }

    /// Remembers who the caller is, so later access-denied errors can name them.
    pub(crate) fn remember_caller(&self, arn: &str) {
        let _ = self.caller.set(arn.to_string());
    }
}

/// Sees every attempt's answer, so the gate slows down as soon as AWS throttles rather than
/// only after the SDK's retries of the same request are spent. It decides nothing about the
/// retry itself (the SDK's throttling classifier does).
#[derive(Debug, Clone)]
pub(crate) struct ThrottleWatch {
    gate: Arc<CallGate>,
}

impl ThrottleWatch {
    pub(crate) fn shared(gate: Arc<CallGate>) -> SharedRetryClassifier {
        SharedRetryClassifier::new(ThrottleWatch { gate })
    }
}

/// True when an error response names a throttling error: Organizations'
/// `TooManyRequestsException` (AWS JSON: the `__type` member and the `x-amzn-ErrorType`
/// header) or the `Throttling`/`ThrottlingException` codes of other services.
pub(crate) fn is_throttling_response(response: &HttpResponse) -> bool {
    if response.status().as_u16() < 400 {
        return false;
    }
    let named = |text: &str| {
        text.contains("TooManyRequestsException")
            || text.contains("ThrottlingException")
            || text.contains("<Code>Throttling</Code>")
            || text.starts_with("Throttling")
    };
    response
        .headers()
        .get("x-amzn-errortype")
        .is_some_and(&named)
        || response
            .body()
            .bytes()
            .is_some_and(|b| named(&String::from_utf8_lossy(b)))
}

impl ClassifyRetry for ThrottleWatch {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        if matches!(ctx.output_or_error(), Some(Err(_)))
            && ctx.response().is_some_and(is_throttling_response)
        {
            self.gate.throttled();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "throttling lowers the requests in flight"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_unanswered_at_the_deadline_names_the_call_and_endpoint() {
        let gate = CallGate::new(2, Some("http://127.0.0.1:9".into()))
            .with_deadline(Instant::now(), Duration::from_millis(50));
        let never = std::future::pending::<
            Result<u8, SdkError<aws_sdk_iam::operation::get_role::GetRoleError, HttpResponse>>,
        >();
        let err = gate.call(Api::GetRole, never).await.unwrap_err();
        assert_eq!(
            err,
            AwsError::NoAnswer {
                api: "iam:GetRole".into(),
                endpoint: "http://127.0.0.1:9".into(),
                seconds: 0,
                sent: true,
            }
        );
    }

    #[tokio::test]
    async fn throttling_lowers_the_requests_in_flight_and_calm_raises_them_back() {
        type R = Result<u8, SdkError<aws_sdk_iam::operation::get_role::GetRoleError, HttpResponse>>;
        let gate = CallGate::new(4, None);
        // Two slots are held by requests in flight while AWS throttles three times.
        let (hold_a, wait_a) = tokio::sync::oneshot::channel::<()>();
        let (hold_b, wait_b) = tokio::sync::oneshot::channel::<()>();
        let in_flight = async {
            let a = gate.call(Api::GetRole, async {
                let _ = wait_a.await;
                R::Ok(1)
            });
            let b = gate.call(Api::GetRole, async {
                let _ = wait_b.await;
                R::Ok(2)
            });
            tokio::join!(a, b)
        };
        let throttle = async {
            tokio::task::yield_now().await;
            gate.throttled();
            gate.throttled();
            gate.throttled();
            assert_eq!(
                gate.in_flight_limit(),
                MIN_IN_FLIGHT,
                "never below the floor"
            );
            let _ = hold_a.send(());
            let _ = hold_b.send(());
        };
        let ((a, b), ()) = tokio::join!(in_flight, throttle);
        assert_eq!((a, b), (Ok(1), Ok(2)));
        assert_eq!(gate.throttled_attempts(), 3);
        assert_eq!(
            gate.permits.available_permits(),
            MIN_IN_FLIGHT,
            "the slots taken while in use are not returned"
        );
        for _ in 0..RECOVER_AFTER * 2 {
            let ok: R = Ok(0);
            let _ = gate.call(Api::GetRole, async { ok }).await;
        }
        assert_eq!(gate.in_flight_limit(), 4);
        assert_eq!(gate.permits.available_permits(), 4);
    }

    #[test]
    fn organizations_throttling_is_recognised_by_its_error_type() {
        use aws_smithy_types::body::SdkBody;
        let response = |status: u16, header: Option<&str>, body: &str| {
            let mut r = HttpResponse::new(
                status.try_into().expect("status"),
                SdkBody::from(body.to_string()),
            );
            if let Some(h) = header {
                r.headers_mut().insert("x-amzn-ErrorType", h.to_string());
            }
            r
        };
        // The AWS JSON 1.1 error shape Organizations uses for `TooManyRequestsException`.
        assert!(is_throttling_response(&response(
            400,
            Some("TooManyRequestsException"),
            r#"{"__type":"TooManyRequestsException","Message":"You have sent too many requests in too short a period of time."}"#
        )));
        assert!(is_throttling_response(&response(
            400,
            None,
            r#"{"__type":"TooManyRequestsException","Message":"Rate exceeded"}"#
        )));
        assert!(!is_throttling_response(&response(
            400,
            Some("AccessDeniedException"),
            r#"{"__type":"AccessDeniedException","Message":"no"}"#
        )));
        assert!(!is_throttling_response(&response(200, None, "{}")));
    }

    #[tokio::test]
    async fn counts_only_apis_that_were_called() {
        let gate = CallGate::new(2, None);
        let ok: Result<u8, SdkError<aws_sdk_iam::operation::get_role::GetRoleError, HttpResponse>> =
            Ok(1);
        let value = gate.call(Api::GetRole, async { ok }).await;
        assert_eq!(value, Ok(1));
        assert_eq!(
            gate.calls(),
            BTreeMap::from([("iam:GetRole".to_string(), 1)])
        );
    }
}
