//! A least-privilege IAM policy document for a set of actions, ready to attach.

pub use crate::core::remediation::least_privilege;
