//! One connection to AWS per command run.
//!
//! Every request goes through a [`CallGate`], which is where the run's politeness towards AWS
//! lives: a bounded number of requests in flight (IAM's simulator throttles quickly), the SDK's
//! retry policy for the throttling that still happens, and a per-API call count that the
//! benchmark reports. Clients share one gate, so the bound holds across services.

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

use super::cloudformation::SdkCloudFormation;
use super::error::{self, AwsError, ErrorContext};
use super::iam::SdkIam;
use super::organizations::SdkOrganizations;

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
}

impl Api {
    /// Organizations denies member accounts differently from IAM denying a permission.
    pub fn is_organizations(self) -> bool {
        self.action().starts_with("organizations:")
    }
}

const API_COUNT: usize = Api::ALL.len();

/// Bounds, counts and classifies every request of a run.
#[derive(Debug)]
pub struct CallGate {
    permits: Semaphore,
    counts: [AtomicUsize; API_COUNT],
    endpoint: Option<String>,
    caller: OnceLock<String>,
}

impl CallGate {
    /// `endpoint` is only used to name the target in connection errors.
    pub fn new(max_in_flight: usize, endpoint: Option<String>) -> Self {
        Self {
            permits: Semaphore::new(max_in_flight.max(1)),
            counts: [const { AtomicUsize::new(0) }; API_COUNT],
            endpoint,
            caller: OnceLock::new(),
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AwsError::Interrupted)?;
        self.counts[api as usize].fetch_add(1, Ordering::Relaxed);
        request.await.map_err(|err| {
            let ctx = ErrorContext {
                endpoint: self.endpoint.as_deref(),
                caller: self.caller.get().map(String::as_str),
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

/// The clients of one run, sharing one [`CallGate`].
#[derive(Debug, Clone)]
pub struct AwsSession {
    iam: SdkIam,
    organizations: SdkOrganizations,
    cloudformation: SdkCloudFormation,
    gate: Arc<CallGate>,
    region: Option<String>,
}

impl AwsSession {
    /// Loads configuration through the SDK's default chain (environment, profiles, SSO,
    /// `credential_process`, web identity, ECS, IMDS) and resolves credentials once, so a
    /// missing login is reported before any work starts rather than in the middle of it.
    pub async fn connect(options: &AwsOptions) -> Result<Self, AwsError> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut config = loader.load().await;
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
        if let Err(err) = provider.provide_credentials().await {
            return Err(AwsError::NoCredentials {
                detail: error::chain(&err),
            });
        }
        let endpoint = options.endpoint_url.clone().or_else(|| {
            std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|url| !url.is_empty())
        });
        Ok(Self::from_sdk_config(&config, endpoint))
    }

    /// Builds the clients from an already loaded configuration (tests, embedding).
    pub fn from_sdk_config(config: &SdkConfig, endpoint: Option<String>) -> Self {
        let gate = Arc::new(CallGate::new(MAX_IN_FLIGHT, endpoint));
        Self {
            iam: SdkIam::new(
                aws_sdk_iam::Client::new(config),
                aws_sdk_sts::Client::new(config),
                Arc::clone(&gate),
            ),
            organizations: SdkOrganizations::new(
                aws_sdk_organizations::Client::new(config),
                Arc::clone(&gate),
            ),
            cloudformation: SdkCloudFormation::new(
                aws_sdk_cloudformation::Client::new(config),
                Arc::clone(&gate),
            ),
            region: config.region().map(|r| r.to_string()),
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

    /// The region requests are signed for (CloudFormation stacks are looked up there).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Requests sent so far, per API.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.gate.calls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
