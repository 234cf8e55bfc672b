//! One connection to AWS per command run: the SDK clients of every service, sharing one
//! [`CallGate`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::ProvideCredentials;
use tokio::time::Instant;

use super::cloudformation::SdkCloudFormation;
use super::cloudtrail::SdkCloudTrail;
use super::codebuild::SdkCodeBuild;
use super::error::{self, AwsError};
use super::gate::{CallGate, MAX_IN_FLIGHT, ThrottleWatch};
use super::iam::SdkIam;
use super::logs::SdkLogs;
use super::network::{self, RefusedIsFinal, retry_config};
use super::organizations::SdkOrganizations;
use super::resource_policies::SdkResourcePolicies;
use crate::core::facts::PrincipalFacts;
use crate::core::principal_ref::{NamedPrincipal, PrincipalRef};

/// The logical id of the deploy role in a Jets bootstrap stack: the remote runner's CodeBuild
/// role.
pub const JETS_DEPLOY_ROLE: &str = "CodebuildRole";

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
    cloudtrail: SdkCloudTrail,
    resource_policies: SdkResourcePolicies,
    codebuild: SdkCodeBuild,
    logs: SdkLogs,
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
            organizations: SdkOrganizations::new(
                aws_sdk_organizations::Client::from_conf(
                    client_config!(aws_sdk_organizations, config, &refused, &timeouts)
                        .to_builder()
                        .retry_classifier(ThrottleWatch::shared(Arc::clone(&gate)))
                        .build(),
                ),
                Arc::clone(&gate),
            ),
            cloudformation: SdkCloudFormation::new(
                client!(aws_sdk_cloudformation),
                Arc::clone(&gate),
            ),
            cloudtrail: SdkCloudTrail::new(client!(aws_sdk_cloudtrail), Arc::clone(&gate)),
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
                client!(aws_sdk_sns),
                client!(aws_sdk_sqs),
                client!(aws_sdk_lambda),
                Arc::clone(&gate),
            ),
            codebuild: SdkCodeBuild::new(client!(aws_sdk_codebuild), Arc::clone(&gate)),
            logs: SdkLogs::new(client!(aws_sdk_cloudwatchlogs), Arc::clone(&gate)),
            region,
            gate,
        }
    }

    /// The principal's facts, however it is named: a stack stands for its `CodebuildRole`.
    pub async fn principal(&self, who: &PrincipalRef) -> Result<PrincipalFacts, AwsError> {
        match who {
            PrincipalRef::Role(role) => self.iam.role(role).await,
            PrincipalRef::User(user) => self.iam.user(user).await,
            PrincipalRef::Caller => self.iam.caller_principal().await,
            PrincipalRef::Stack(stack) => {
                let role = self
                    .cloudformation
                    .stack_role(stack, JETS_DEPLOY_ROLE)
                    .await?;
                self.iam.role(&NamedPrincipal::bare(&role)).await
            }
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

    pub fn cloudtrail(&self) -> &SdkCloudTrail {
        &self.cloudtrail
    }

    pub fn resource_policies(&self) -> &SdkResourcePolicies {
        &self.resource_policies
    }

    pub fn codebuild(&self) -> &SdkCodeBuild {
        &self.codebuild
    }

    pub fn logs(&self) -> &SdkLogs {
        &self.logs
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
    "AWS_ENDPOINT_URL_SNS",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_CLOUDTRAIL",
    "AWS_ENDPOINT_URL_CODEBUILD",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
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
        ("sns", resolve!(aws_sdk_sns)),
        ("sqs", resolve!(aws_sdk_sqs)),
        ("lambda", resolve!(aws_sdk_lambda)),
        ("cloudtrail", resolve!(aws_sdk_cloudtrail)),
        ("codebuild", resolve!(aws_sdk_codebuild)),
        ("logs", resolve!(aws_sdk_cloudwatchlogs)),
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
            aws_sdk_cloudformation,
            aws_sdk_sns,
            aws_sdk_sqs,
            aws_sdk_lambda,
            aws_sdk_cloudtrail,
            aws_sdk_codebuild,
            aws_sdk_cloudwatchlogs
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
}
