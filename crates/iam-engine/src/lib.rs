//! AWS IAM policy evaluation that explains itself: which policy, organization level and statement
//! decided each request. Pure: no I/O, no AWS SDK, no async runtime.

pub mod arn;
pub mod catalog;
pub mod condition;
pub mod context;
pub mod eval;
pub mod fuzzy;
pub mod pattern;
pub mod policy;
pub mod principal;
pub mod request_keys;
pub mod service_rules;
pub mod variables;
