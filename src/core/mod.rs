//! The pure core: no I/O, no AWS SDK, no terminal.

pub mod arn;
pub mod audit;
pub mod catalog;
pub mod cfn;
pub mod check;
pub mod condition;
pub mod context;
pub mod denial;
pub mod eval;
pub mod explain;
pub mod facts;
pub mod findings;
pub mod fuzzy;
pub mod jets;
pub mod pattern;
pub mod policy;
pub mod principal;
pub mod principal_ref;
pub mod profile;
pub mod region;
pub mod remediation;
pub mod request_keys;
pub mod resources;
pub mod service_rules;
pub mod variables;
