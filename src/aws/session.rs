//! One connection to AWS per command run.
//!
//! Every request goes through a [`CallGate`], which is where the run's politeness towards AWS
//! lives: a bounded number of requests in flight (IAM's simulator throttles quickly), the SDK's
//! retry policy for the throttling that still happens, and a per-API call count that the
//! benchmark reports. Clients share one gate, so the bound holds across services. The gate
//! also holds the run's deadline (`--timeout`): a request still unanswered when it passes
//! ends with an error naming the request and the endpoint, never a silent wait.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::ProvideCredentials;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::cloudformation::SdkCloudFormation;
use super::error::{self, AwsError, ErrorContext};
use super::iam::SdkIam;
use super::network::{self, RefusedIsFinal};
use super::organizations::SdkOrganizations;
use super::resource_policies::SdkResourcePolicies;

/// Attempts per request, the first included. Eight attempts with exponential backoff (capped
/// at 20 s) ride out the bursts of `Throttling` that `SimulatePrincipalPolicy` and
/// Organizations' `TooManyRequestsException` produce, where the SDK default of three does not.
pub const MAX_ATTEMPTS: u32 = 8;

/// Requests in flight at once, across all services. Eight lets the organization walk and the
/// simulator calls overlap (measured with `scripts/bench-live`: a full exhaustive check is
/// about 6 sequential round trips at 8, 8.5 at 4); throttling beyond that is absorbed by the
/// retries above.
pub const MAX_IN_FLIGHT: usize = 8;

/// IAM and Organizations are global, but the SDK still needs a region to pick their endpoint.
const FALLBACK_REGION: &str = "us-east-1";

/// How to reach AWS: the shared `--profile`, `--region` and `--endpoint-url` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Overrides every service endpoint (for example a local moto server). `AWS_ENDPOINT_URL`
    /// and the profile's `endpoint_url` are honoured by the SDK without this.
    pub endpoint_url: Option<String>,
    /// The run's time limit, retries included (default [`network::DEFAULT_RUN_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

/// The retry policy every client uses: standard mode (exponential backoff with jitter,
/// throttling codes retried) with more attempts than the default. Adaptive mode is left out
/// because the SDK marks it experimental; the in-flight bound does the client-side pacing.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

macro_rules! apis {
    ($($variant:ident => $action:literal),+ $(,)?) => {
        /// An AWS API this tool calls, named as the IAM action that authorizes it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Api {
            $($variant),+
        }

        impl Api {
            /// Every API, in declaration order (which is also the index order of the counters).
            pub const ALL: &'static [Api] = &[$(Api::$variant),+];

            /// The IAM action, e.g. `iam:GetRole`: what a caller must be granted.
            pub fn action(self) -> &'static str {
                match self {
                    $(Api::$variant => $action),+
                }
            }
        }
    };
}

apis! {
    GetCallerIdentity => "sts:GetCallerIdentity",
    GetRole => "iam:GetRole",
    GetUser => "iam:GetUser",
    ListRoles => "iam:ListRoles",
    ListUsers => "iam:ListUsers",
    ListRolePolicies => "iam:ListRolePolicies",
    GetRolePolicy => "iam:GetRolePolicy",
    ListAttachedRolePolicies => "iam:ListAttachedRolePolicies",
    ListUserPolicies => "iam:ListUserPolicies",
    GetUserPolicy => "iam:GetUserPolicy",
    ListAttachedUserPolicies => "iam:ListAttachedUserPolicies",
    ListGroupsForUser => "iam:ListGroupsForUser",
    ListGroupPolicies => "iam:ListGroupPolicies",
    GetGroupPolicy => "iam:GetGroupPolicy",
    ListAttachedGroupPolicies => "iam:ListAttachedGroupPolicies",
    GetPolicy => "iam:GetPolicy",
    GetPolicyVersion => "iam:GetPolicyVersion",
    SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
    SimulateCustomPolicy => "iam:SimulateCustomPolicy",
    GetAccountAuthorizationDetails => "iam:GetAccountAuthorizationDetails",
    DescribeOrganization => "organizations:DescribeOrganization",
    ListRoots => "organizations:ListRoots",
    ListParents => "organizations:ListParents",
    DescribeOrganizationalUnit => "organizations:DescribeOrganizationalUnit",
    DescribeAccount => "organizations:DescribeAccount",
    ListPoliciesForTarget => "organizations:ListPoliciesForTarget",
    DescribePolicy => "organizations:DescribePolicy",
    ListAccounts => "organizations:ListAccounts",
    DescribeStackResource => "cloudformation:DescribeStackResource",
    DescribeStacks => "cloudformation:DescribeStacks",
    GetBucketPolicy => "s3:GetBucketPolicy",
    GetKeyPolicy => "kms:GetKeyPolicy",
    GetRepositoryPolicy => "ecr:GetRepositoryPolicy",
}

impl Api {
    /// Organizations denies member accounts differently from IAM denying a permission.
    pub fn is_organizations(self) -> bool {
        self.action().starts_with("organizations:")
    }

    /// The service prefix, e.g. `iam`: which client (and endpoint) sends the request.
    pub fn service(self) -> &'static str {
        self.action().split(':').next().unwrap_or_default()
    }
}

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

/// One SDK client's configuration for a run: the loaded configuration, the run's shared
/// refused-connection classifier and, for a run with a deadline, its timeouts.
macro_rules! client_config {
    ($krate:ident, $config:expr, $refused:expr, $timeouts:expr) => {{
        let mut builder =
            $krate::config::Builder::from($config).retry_classifier($refused.shared());
        if let Some(timeouts) = $timeouts {
            builder = builder.timeout_config(timeouts.clone());
        }
        builder.build()
    }};
}

/// The clients of one run, sharing one [`CallGate`].
#[derive(Debug, Clone)]
pub struct AwsSession {
    iam: SdkIam,
    organizations: SdkOrganizations,
    cloudformation: SdkCloudFormation,
    resource_policies: SdkResourcePolicies,
    gate: Arc<CallGate>,
    region: Option<String>,
}

impl AwsSession {
    /// Loads configuration through the SDK's default chain (environment, profiles, SSO,
    /// `credential_process`, web identity, ECS, IMDS) and resolves credentials once, so a
    /// missing login is reported before any work starts rather than in the middle of it.
    ///
    /// Everything is bounded by the run's time limit, which starts here: loading, the
    /// credential provider, and every request after.
    pub async fn connect(options: &AwsOptions) -> Result<Self, AwsError> {
        let start = Instant::now();
        let limit = options.timeout.unwrap_or(network::DEFAULT_RUN_TIMEOUT);
        if let Some(url) = &options.endpoint_url {
            network::check_endpoint_url(url).map_err(|error| AwsError::InvalidEndpointUrl {
                origin: "`--endpoint-url`".to_string(),
                error,
            })?;
        }
        super::profiles::check_selected(options.profile.as_deref()).await?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .timeout_config(network::timeout_config(limit));
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let credentials_no_answer = || AwsError::CredentialsNoAnswer {
            seconds: limit.as_secs(),
        };
        let mut config = tokio::time::timeout_at(start + limit, loader.load())
            .await
            .map_err(|_| credentials_no_answer())?;
        if options.endpoint_url.is_none() {
            check_configured_endpoints(config.endpoint_url())?;
        }
        if config.region().is_none() {
            config = config
                .into_builder()
                .region(Region::new(FALLBACK_REGION))
                .build();
        }
        let Some(provider) = config.credentials_provider() else {
            return Err(AwsError::NoCredentials {
                detail: "no credential provider is configured".to_string(),
            });
        };
        match tokio::time::timeout_at(start + limit, provider.provide_credentials()).await {
            Err(_) => return Err(credentials_no_answer()),
            Ok(Err(err)) => {
                return Err(AwsError::NoCredentials {
                    detail: error::chain(&err),
                });
            }
            Ok(Ok(_)) => {}
        }
        let endpoint = config.endpoint_url().map(str::to_string);
        Ok(Self::build(&config, endpoint, Some((start, limit))))
    }

    /// Builds the clients from an already loaded configuration (tests, embedding).
    pub fn from_sdk_config(config: &SdkConfig, endpoint: Option<String>) -> Self {
        Self::build(config, endpoint, None)
    }

    fn build(
        config: &SdkConfig,
        endpoint: Option<String>,
        deadline: Option<(Instant, Duration)>,
    ) -> Self {
        let region = config.region().map(|r| r.to_string());
        let endpoint_given = endpoint.is_some() || config.endpoint_url().is_some();
        let mut gate = CallGate::new(MAX_IN_FLIGHT, endpoint)
            .with_service_endpoints(aws_endpoints(region.as_deref().unwrap_or(FALLBACK_REGION)));
        if let Some((start, limit)) = deadline {
            gate = gate.with_deadline(start, limit);
        }
        let gate = Arc::new(gate);
        let refused = RefusedIsFinal::new(network::REFUSED_RETRIES);
        let timeouts = deadline.map(|(_, limit)| network::timeout_config(limit));
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(client_config!($krate, config, &refused, &timeouts))
            };
        }
        Self {
            iam: SdkIam::new(
                client!(aws_sdk_iam),
                client!(aws_sdk_sts),
                Arc::clone(&gate),
            ),
            organizations: SdkOrganizations::new(client!(aws_sdk_organizations), Arc::clone(&gate)),
            cloudformation: SdkCloudFormation::new(
                client!(aws_sdk_cloudformation),
                Arc::clone(&gate),
            ),
            resource_policies: SdkResourcePolicies::new(
                aws_sdk_s3::Client::from_conf(
                    aws_sdk_s3::config::Builder::from(config)
                        .retry_classifier(refused.shared())
                        // With an endpoint of its own (a local emulator, a proxy), buckets are
                        // addressed in the path: `BUCKET.ENDPOINT` does not resolve there.
                        .force_path_style(endpoint_given)
                        .build(),
                ),
                client!(aws_sdk_kms),
                client!(aws_sdk_ecr),
                Arc::clone(&gate),
            ),
            region,
            gate,
        }
    }

    pub fn iam(&self) -> &SdkIam {
        &self.iam
    }

    pub fn organizations(&self) -> &SdkOrganizations {
        &self.organizations
    }

    pub fn cloudformation(&self) -> &SdkCloudFormation {
        &self.cloudformation
    }

    pub fn resource_policies(&self) -> &SdkResourcePolicies {
        &self.resource_policies
    }

    /// The region requests are signed for (CloudFormation stacks are looked up there).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Requests sent so far, per API.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.gate.calls()
    }
}

/// The environment variables the SDK reads endpoint URLs from, for the services this tool
/// calls (the SDK drops or defers a malformed one to the first request).
const ENDPOINT_URL_VARS: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_ORGANIZATIONS",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_ENDPOINT_URL_ECR",
];

/// Checks the endpoint URLs configured outside the command line: the environment and the
/// profile's `endpoint_url` (`from_profile`, as the SDK loaded it).
fn check_configured_endpoints(from_profile: Option<&str>) -> Result<(), AwsError> {
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if ignored {
        return Ok(());
    }
    for var in ENDPOINT_URL_VARS {
        if let Some(url) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            network::check_endpoint_url(&url).map_err(|error| AwsError::InvalidEndpointUrl {
                origin: format!("`{var}`"),
                error,
            })?;
        }
    }
    if let Some(url) = from_profile {
        network::check_endpoint_url(url).map_err(|error| AwsError::InvalidEndpointUrl {
            origin: "the profile's `endpoint_url`".to_string(),
            error,
        })?;
    }
    Ok(())
}

/// AWS's own endpoint of each service this tool calls in `region`, as the SDKs' endpoint
/// rules resolve it, for messages (an override replaces them all).
fn aws_endpoints(region: &str) -> BTreeMap<&'static str, String> {
    macro_rules! resolve {
        ($krate:ident) => {{
            use $krate::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
            Params::builder()
                .region(region)
                .build()
                .ok()
                .and_then(|params| ready_now(DefaultResolver::new().resolve_endpoint(&params)))
                .and_then(Result::ok)
                .map(|e| e.url().to_string())
        }};
    }
    [
        ("iam", resolve!(aws_sdk_iam)),
        ("sts", resolve!(aws_sdk_sts)),
        ("organizations", resolve!(aws_sdk_organizations)),
        ("cloudformation", resolve!(aws_sdk_cloudformation)),
        ("kms", resolve!(aws_sdk_kms)),
        ("ecr", resolve!(aws_sdk_ecr)),
    ]
    .into_iter()
    .filter_map(|(service, url)| Some((service, url?)))
    .collect()
}

/// The output of a future that needs no I/O (the SDKs' rule-based endpoint resolvers answer
/// at once), or `None` if it would wait.
fn ready_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sdk_client_gets_the_runs_timeouts() {
        use aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry;
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let refused = RefusedIsFinal::new(network::REFUSED_RETRIES);
        let limit = Duration::from_secs(7);
        let timeouts = Some(network::timeout_config(limit));
        let expected = (Some(Duration::from_secs(5)), Some(limit), Some(limit));
        macro_rules! assert_timeouts {
            ($($krate:ident),+) => {$(
                let built = client_config!($krate, &config, &refused, &timeouts);
                let t = built.timeout_config().expect(stringify!($krate));
                assert_eq!(
                    (t.connect_timeout(), t.operation_attempt_timeout(), t.operation_timeout()),
                    expected,
                    stringify!($krate)
                );
                assert!(
                    built.retry_classifiers().any(|c| c.name() == "refused connections are final"),
                    stringify!($krate)
                );
            )+};
        }
        assert_timeouts!(
            aws_sdk_iam,
            aws_sdk_sts,
            aws_sdk_organizations,
            aws_sdk_cloudformation
        );
    }

    #[test]
    fn aws_endpoints_come_from_the_sdk_rules() {
        let endpoints = aws_endpoints("eu-west-1");
        assert_eq!(endpoints["iam"], "https://iam.amazonaws.com");
        assert_eq!(endpoints["sts"], "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(
            endpoints["cloudformation"],
            "https://cloudformation.eu-west-1.amazonaws.com"
        );
        assert!(endpoints.contains_key("organizations"));
    }

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

    #[test]
    fn api_names_are_iam_actions_and_indexes_match() {
        for (i, api) in Api::ALL.iter().enumerate() {
            assert_eq!(*api as usize, i);
            assert!(api.action().contains(':'));
        }
        assert!(Api::ListParents.is_organizations());
        assert!(!Api::GetRole.is_organizations());
    }

    #[test]
    fn retry_policy_absorbs_throttling() {
        let config = retry_config();
        assert_eq!(config.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(config.mode(), aws_smithy_types::retry::RetryMode::Standard);
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
