//! The adapter to the live AWS APIs: IAM, STS, Organizations, CloudFormation, S3, KMS, ECR,
//! SNS, SQS, Lambda and CloudTrail answers as the fact types of [`crate::core::facts`].
//!
//! Everything that talks to AWS goes through one [`CallGate`], which bounds the requests in
//! flight, retries throttling, counts calls, and turns SDK errors into [`AwsError`] lines a
//! person can act on. Results are never guessed: a lookup that cannot be completed is an error,
//! so an action IAM did not evaluate is never reported as allowed.

mod api;
mod auth_details;
mod cloudformation;
mod cloudtrail;
mod codebuild;
mod error;
mod gate;
mod iam;
mod logs;
pub mod network;
mod organizations;
mod profiles;
mod resource_policies;
mod session;
mod simulate;

#[cfg(test)]
mod tests;

pub use api::Api;
pub use auth_details::decode_policy_document;
pub use cloudformation::{SdkCloudFormation, StackOperation};
pub use cloudtrail::{EVENTS_PER_PAGE, LOOKUP_INTERVAL, SdkCloudTrail, TrailEvent, TrailProgress};
pub use codebuild::{BuildLog, SdkCodeBuild};
pub use error::{AwsError, NotFoundKind};
pub use gate::{CallGate, MAX_IN_FLIGHT};
pub use iam::{CallerIdentity, SdkIam};
pub use logs::{LogEvent, SdkLogs};
pub use network::{MAX_ATTEMPTS, retry_config};
pub use organizations::{SdkOrganizations, WalkProgress};
pub use resource_policies::{SdkResourcePolicies, readable_kind};
pub use session::{AwsOptions, AwsSession, JETS_DEPLOY_ROLE};
pub use simulate::{
    ACTIONS_PER_CALL, AttachedTo, CustomSimulation, ExcludedPolicyType, PolicyExclusion,
    RESOURCES_PER_CALL, SimulatedResourcePolicy, simulate_with_resource_policies,
};

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

/// Runs futures concurrently in the current task and returns their outputs in input order.
///
/// Concurrency is bounded by the [`CallGate`], not here; the futures only wait on I/O, so
/// polling them from one task is enough and keeps borrowed data usable.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    futures_util::future::join_all(futures).await
}

/// Like [`join_all`], failing with the first error in input order once all have finished.
pub(crate) async fn try_join_all<T, F>(futures: Vec<F>) -> Result<Vec<T>, AwsError>
where
    F: Future<Output = Result<T, AwsError>>,
{
    join_all(futures).await.into_iter().collect()
}

/// A fetch-once cache keyed by string: concurrent requests for one key wait for a single
/// fetch, so a policy shared by many principals or organization levels is read once per run.
/// A failed fetch is not cached, and the next caller tries again.
#[derive(Debug)]
pub(crate) struct OnceMap<V> {
    cells: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for OnceMap<V> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> OnceMap<V> {
    pub(crate) async fn get_or_fetch<F, Fut>(&self, key: &str, fetch: F) -> Result<V, AwsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, AwsError>>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(cells.entry(key.to_string()).or_default())
        };
        cell.get_or_try_init(fetch).await.cloned()
    }
}
