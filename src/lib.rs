//! iam-doctor: will this deploy be allowed by AWS, and if not, exactly which policy stops it?
//!
//! The crate is layered so that data flows one way: inputs → facts → decisions → report.
//! - [`core`] is pure: the policy model, the matcher and evaluator, the action catalog and the
//!   required-permission profiles. It knows nothing of AWS SDKs, files or terminals.
//! - [`inputs`] turns files people have (Jets Ruby config, `get-account-authorization-details`
//!   output, organization snapshots, CloudFormation templates, pasted AccessDenied messages) into
//!   core facts.
//! - [`aws`] is the adapter to the live AWS APIs.
//! - [`fact_source`] gives a check its facts from an offline snapshot or from AWS, through one
//!   interface, and runs the check on them.
//! - [`report`] renders decisions as tables, JSON, JUnit, SARIF or Markdown.

pub mod aws;
pub mod core;
pub mod error;
pub mod fact_source;
pub mod inputs;
pub mod report;
