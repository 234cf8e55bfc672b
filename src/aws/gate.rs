//! The one gate every request of a run goes through: bounded, counted, classified, timed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
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

/// Bounds, counts and classifies every request of a run.
#[derive(Debug)]
pub struct CallGate {
    permits: Semaphore,
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
        let _permit = permit.map_err(|_| AwsError::Interrupted)?;
        self.counts[api as usize].fetch_add(1, Ordering::Relaxed);
        let answer = match self.deadline {
            Some((at, limit)) => tokio::time::timeout_at(at, request)
                .await
                .map_err(|_| self.no_answer(api, limit, true))?,
            None => request.await,
        };
        answer.map_err(|err| {
            let ctx = ErrorContext {
                endpoint: self.endpoint_of(api),
                caller: self.caller.get().map(String::as_str),
                run_limit: self.deadline.map(|(_, limit)| limit),
            };
            error::from_sdk(api, &err, ctx)
        })
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
