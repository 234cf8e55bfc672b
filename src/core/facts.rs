//! Facts: what we know about a principal and its organization, however it was obtained.

use serde::{Deserialize, Serialize};

/// Whether the principal is a role or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Role,
    User,
}

/// Where an identity policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyOrigin {
    /// Embedded in the role or user.
    Inline,
    /// A customer managed policy attached to the principal.
    CustomerManaged,
    /// An AWS managed policy attached to the principal.
    AwsManaged,
    /// Inline in a group the user belongs to (`group` holds the group name).
    GroupInline,
    /// Managed policy attached to a group the user belongs to.
    GroupManaged,
}

/// One policy document with what identifies it to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySource {
    pub name: String,
    /// The managed policy ARN; `None` for inline policies.
    pub arn: Option<String>,
    pub origin: PolicyOrigin,
    /// The group that carries it, for group policies.
    pub group: Option<String>,
    /// The document text: JSON, or URL-encoded JSON as IAM returns it.
    pub document: String,
}

/// A role or user and every identity policy that applies to it.
///
/// The offline readers (files) and the live AWS adapter both produce these, and the checker
/// consumes them, so a live run and an offline run of the same account give the same decision.
/// Policy documents stay as text here; they are parsed where they are evaluated, so a malformed
/// document is reported with its name and JSON path rather than lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalFacts {
    pub kind: PrincipalKind,
    pub name: String,
    /// The IAM ARN (never an STS assumed-role ARN).
    pub arn: String,
    pub path: String,
    pub account_id: String,
    pub identity_policies: Vec<PolicySource>,
    pub permissions_boundary: Option<PolicySource>,
    /// Tags of the principal, for `aws:PrincipalTag/*` conditions.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Service-linked roles are not subject to SCPs.
    #[serde(default)]
    pub service_linked: bool,
}

pub use iam_engine::eval::TargetType;

/// An SCP or RCP as `DescribePolicy` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPolicy {
    pub id: String,
    pub name: String,
    pub arn: Option<String>,
    /// `true` for AWS managed policies such as `FullAWSAccess`.
    #[serde(default)]
    pub aws_managed: bool,
    pub content: String,
}

/// One level of the organization path, with the policies attached directly to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgLevel {
    pub id: String,
    pub target_type: TargetType,
    pub name: String,
    pub scps: Vec<OrgPolicy>,
    pub rcps: Vec<OrgPolicy>,
}

/// The organization path of one account, root first and the account last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgFacts {
    pub account_id: String,
    pub organization_id: Option<String>,
    pub management_account_id: Option<String>,
    /// Whether SCPs/RCPs are enabled on the root; `None` when unknown (treated as enabled
    /// when policies are attached).
    pub scps_enabled: Option<bool>,
    pub rcps_enabled: Option<bool>,
    pub levels: Vec<OrgLevel>,
}

impl OrgFacts {
    /// SCPs and RCPs do not apply to the management account.
    pub fn is_management_account(&self) -> bool {
        self.management_account_id.as_deref() == Some(self.account_id.as_str())
    }
}

/// One action to put to IAM's simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationRequest {
    pub action: String,
    /// An ARN or `*`.
    pub resource: String,
}

/// A context entry for the simulator (`ContextEntries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationContextEntry {
    pub key: String,
    pub values: Vec<String>,
    /// `string`, `stringList`, `boolean`, `numeric`, `ip`, `date`, `binary`, `*List` …
    pub value_type: String,
}

/// IAM's verdict for one action, as `SimulatePrincipalPolicy` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimulatedDecision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

/// A statement IAM said matched, by position in a source policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedStatement {
    pub source_policy_id: String,
    pub source_policy_type: String,
    /// 1-based line and column where the statement starts and ends in the document.
    pub start: Option<(i32, i32)>,
    pub end: Option<(i32, i32)>,
}

/// One `EvaluationResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationOutcome {
    pub action: String,
    pub resource: String,
    pub decision: SimulatedDecision,
    pub matched_statements: Vec<MatchedStatement>,
    pub missing_context_values: Vec<String>,
    /// `OrganizationsDecisionDetail.AllowedByOrganizations`, when IAM returned it.
    pub allowed_by_organizations: Option<bool>,
    /// `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary`, when returned.
    pub allowed_by_boundary: Option<bool>,
    /// The resource whose resource-based policy IAM was given with the request
    /// (`ResourcePolicy`), so that IAM's verdict includes it; `None`: IAM saw no resource policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

/// What is known of one resource's resource-based policy (an S3 bucket policy, a KMS key
/// policy, an ECR repository policy, an SNS/SQS/Lambda policy …).
///
/// A resource that is not in [`ResourcePolicies`] at all was never looked at; one recorded as
/// [`ResourcePolicyFact::NoPolicy`] was looked at and has none. The difference matters where
/// the resource policy must allow (a KMS key policy): an unknown key policy is never "allowed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ResourcePolicyFact {
    /// The resource has no resource-based policy (`NoSuchBucketPolicy`, no repository policy).
    NoPolicy,
    /// The policy document, as the service returns it (JSON text, possibly URL-encoded).
    Policy { name: String, document: String },
    /// The policy could not be read; the reason says why (access denied, throttled …).
    Unreadable { reason: String },
}

/// Resource-based policies by resource ARN.
pub type ResourcePolicies = std::collections::BTreeMap<String, ResourcePolicyFact>;
