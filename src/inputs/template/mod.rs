//! CloudFormation templates (JSON or YAML) and the permissions deploying them needs.
//!
//! A template is the most precise statement of what a deploy will touch, so it can replace the
//! broad per-service grants of a profile with the exact actions CloudFormation's handlers call
//! (see [`crate::core::cfn`]). YAML short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub` …) are turned
//! into the long JSON form first, so everything downstream reads one shape.
//!
//! What is derived, and how precisely:
//! - Handler actions (create, update and delete of every resource) are required on `*`: the
//!   registry data names actions, not the ARNs they act on.
//! - Stack operations the deployer calls are required on
//!   `arn:<partition>:cloudformation:<region>:<account>:stack/<stack>/*`; an unknown region or
//!   account becomes `*` in its segment, an unknown stack name makes the whole resource `*`.
//!   `ValidateTemplate` and `GetTemplateSummary` act on a template body, not a stack, so they are
//!   always `*`.
//! - `iam:PassRole` is required for every role a resource is given (keys `Role`, `ServiceRole`,
//!   `ExecutionRole`, `TaskRole`, any key ending in `RoleArn`/`RoleARN`/`RoleArns`, and the
//!   `Credentials` of an API Gateway method integration). The resource is the literal ARN; for a
//!   role created in the same template, `arn:<partition>:iam::<account>:role<path><RoleName>`
//!   when it has a `RoleName`, else `…:role<path><stack>-<LogicalId>-*`, the name CloudFormation
//!   generates. When the stack name is unknown, or the generated name could exceed IAM's 64
//!   characters (CloudFormation then truncates it in ways we do not model), the resource is `*`.
//!   An unknown account becomes `*` in the account segment. Handlers list `iam:PassRole` for
//!   every type that *can* take a role (an S3 bucket's replication role, say), and call it only
//!   when one is given; so the handler's own `iam:PassRole` on `*` is replaced by the roles found
//!   in the properties, and a resource given no role needs none. Otherwise a policy that scopes
//!   `iam:PassRole` to the app's roles would be reported as missing a grant on `*`.
//! - Parameters resolve to the value the parent stack passes (when the parent template is given
//!   and names this file in its `TemplateURL`), else to their `Default`.
//! - Custom resources have no handler data: the deployer needs `lambda:InvokeFunction` (or
//!   `sns:Publish` for a topic) on their `ServiceToken`.
//! - SAM resources are approximated by the resource each expands to; the transform itself needs
//!   `cloudformation:CreateChangeSet` on the transform's ARN.

mod intrinsics;
mod parse;
mod requirements;

pub use intrinsics::TemplateContext;
pub use parse::{Template, TemplateError, load, parse, parse_bytes};
pub use requirements::{TemplatePermission, TemplateRequirements, requirements};

#[cfg(test)]
mod tests;
