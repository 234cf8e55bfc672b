//! A denial AWS reported: who was denied which action on which resource, and which policy type
//! AWS blamed, as recovered from an error message by [`crate::inputs::access_denied`].

use serde::Serialize;

/// One denial AWS reported, as recovered from the paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// The denied principal as AWS printed it: usually an ARN
    /// (`arn:aws:sts::123456789012:assumed-role/Name/Session`), sometimes a bare name or
    /// `anonymous`. `None` when the message does not say.
    pub principal: Option<String>,
    /// The denied action. `service:Action` when the paste names the service, either in the
    /// message itself or in the SDK's wrapping (`operation error S3: PutObject`,
    /// `(Service: Lambda, …)`, or the EC2-only error code `UnauthorizedOperation`). Otherwise
    /// the bare API operation name with no colon (`CreateBucket`), which [`Denial::service`]
    /// reports as `None`: the service is unknown, not guessed.
    pub action: String,
    /// The resource as AWS printed it: an ARN, `*`, or IAM's older `role name` form.
    pub resource: Option<String>,
    /// Which policy type AWS says denied the request.
    pub blamed: Blamed,
    /// The denying policy's ARN, which AWS appends to explicit denies for same-account and
    /// same-organization requests (`…in a service control policy: arn:aws:organizations::…`).
    pub policy_arn: Option<String>,
    /// The error code AWS returned (`AccessDenied`, `AccessDeniedException`,
    /// `UnauthorizedOperation`, …). From CloudFormation, its handler error code when the
    /// service's own code is not quoted.
    pub error_code: Option<String>,
    /// The blob after `Encoded authorization failure message:`, for
    /// `aws sts decode-authorization-message`.
    pub encoded_message: Option<String>,
    /// What became of [`Denial::encoded_message`] when decoding was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoded: Option<EncodedMessage>,
    /// The region the call was made in, when the source records it (CloudTrail's
    /// `awsRegion`, a decoded message's `aws:Region`); `None` for pasted text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// What the paste left out and where a part was taken from instead, for people: AWS's
    /// literal `perform: null`, an operation qualified by the command line around it, a
    /// message that names no action at all (then [`Denial::action`] is empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The 1-based line of the paste where the message starts.
    pub line: usize,
    /// The message as printed, colour codes and JSON escaping removed and whitespace collapsed.
    pub raw: String,
}

impl Denial {
    /// The IAM service prefix of [`Denial::action`], `None` when only the operation is known.
    pub fn service(&self) -> Option<&str> {
        self.action.split_once(':').map(|(service, _)| service)
    }
}

/// What `sts:DecodeAuthorizationMessage` made of an encoded authorization message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EncodedMessage {
    /// Decoded: the denial's action, resource and principal are AWS's decoded request, and
    /// its context (`KEY=VALUES`) was given to the evaluation.
    Decoded {
        explicit_deny: bool,
        /// The request context AWS evaluated, every key.
        context: Vec<ContextValue>,
        /// AWS's matched statements, `EFFECT Sid on actions`.
        matched_statements: Vec<String>,
    },
    /// Not decoded, and why: the denial is explained from the message text.
    NotDecoded { reason: String },
}

/// One key of a request context and its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextValue {
    pub key: String,
    pub values: Vec<String>,
}

/// The policy type AWS blames, one variant per wording AWS prints.
///
/// AWS names only one policy type even when several deny, and reports an SCP's implicit deny
/// with the explicit-deny wording; the variant records what was said, not the whole truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blamed {
    /// "with an explicit deny in a service control policy" (also printed for an SCP that
    /// merely fails to allow).
    ScpExplicitDeny,
    /// "with an explicit deny in a resource control policy".
    RcpExplicitDeny,
    /// "with an explicit deny in an identity-based policy".
    IdentityExplicitDeny,
    /// "with an explicit deny in a resource-based policy".
    ResourceExplicitDeny,
    /// "with an explicit deny in a permissions boundary".
    BoundaryExplicitDeny,
    /// "with an explicit deny in a session policy" (the IAM User Guide also shows "sessions
    /// policy").
    SessionExplicitDeny,
    /// "with an explicit deny in a VPC endpoint policy".
    VpcEndpointExplicitDeny,
    /// "with an explicit deny in a VPC endpoint policy transitively through a service control
    /// policy": an SCP of the endpoint owner's organization, reached through the endpoint.
    VpcEndpointScpExplicitDeny,
    /// "with an explicit deny in the role trust policy".
    TrustPolicyExplicitDeny,
    /// "with an explicit deny" with no policy type (the wording before 2021), or a type this
    /// reader does not know.
    UnspecifiedExplicitDeny,
    /// "because no identity-based policy allows the … action".
    NoIdentityPolicy,
    /// "because no resource-based policy allows the … action".
    NoResourcePolicy,
    /// "because no permissions boundary allows the … action".
    BoundaryImplicitDeny,
    /// "because no session policy allows the … action".
    NoSessionPolicy,
    /// "because no VPC endpoint policy allows the … action".
    NoVpcEndpointPolicy,
    /// "because no role trust policy allows the … action".
    NoTrustPolicy,
    /// No policy type given: the older wording without a reason, EC2's "You are not authorized
    /// to perform this operation", CloudFormation's "API: s3:CreateBucket Access Denied", or an
    /// implicit-deny type this reader does not know.
    Unspecified,
}

impl Blamed {
    /// True when AWS says a `Deny` statement matched, so adding an `Allow` cannot help.
    pub fn is_explicit(self) -> bool {
        matches!(
            self,
            Self::ScpExplicitDeny
                | Self::RcpExplicitDeny
                | Self::IdentityExplicitDeny
                | Self::ResourceExplicitDeny
                | Self::BoundaryExplicitDeny
                | Self::SessionExplicitDeny
                | Self::VpcEndpointExplicitDeny
                | Self::VpcEndpointScpExplicitDeny
                | Self::TrustPolicyExplicitDeny
                | Self::UnspecifiedExplicitDeny
        )
    }
}
