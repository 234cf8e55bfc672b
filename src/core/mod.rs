//! The domain layer: Jets profiles, the check, remediation and the facts they read, above the
//! IAM engine (`iam_engine`, re-exported here by module). No I/O, no AWS SDK, no terminal.

pub use iam_engine::{
    arn, catalog, condition, context, eval, fuzzy, pattern, policy, principal, request_keys,
    service_rules, variables,
};

pub mod audit;
pub mod cfn;
pub mod check;
pub mod denial;
pub mod evidence;
pub mod explain;
pub mod facts;
pub mod findings;
pub mod jets;
pub mod org_tree;
pub mod principal_ref;
pub mod profile;
pub mod region;
pub mod remediation;
pub mod resources;
