//! The AWS APIs this tool calls, each named by the IAM action that authorizes it.

macro_rules! apis {
    ($($variant:ident => $action:literal),+ $(,)?) => {
        /// An AWS API this tool calls, named as the IAM action that authorizes it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Api {
            $($variant),+
        }

        impl Api {
            /// Every API, in declaration order (which is also the index order of the counters).
            pub const ALL: &'static [Api] = &[$(Api::$variant),+];

            /// The IAM action, e.g. `iam:GetRole`: what a caller must be granted.
            pub fn action(self) -> &'static str {
                match self {
                    $(Api::$variant => $action),+
                }
            }
        }
    };
}

apis! {
    GetCallerIdentity => "sts:GetCallerIdentity",
    GetRole => "iam:GetRole",
    GetUser => "iam:GetUser",
    ListRoles => "iam:ListRoles",
    ListUsers => "iam:ListUsers",
    ListRolePolicies => "iam:ListRolePolicies",
    GetRolePolicy => "iam:GetRolePolicy",
    ListAttachedRolePolicies => "iam:ListAttachedRolePolicies",
    ListUserPolicies => "iam:ListUserPolicies",
    GetUserPolicy => "iam:GetUserPolicy",
    ListAttachedUserPolicies => "iam:ListAttachedUserPolicies",
    ListGroupsForUser => "iam:ListGroupsForUser",
    ListGroupPolicies => "iam:ListGroupPolicies",
    GetGroupPolicy => "iam:GetGroupPolicy",
    ListAttachedGroupPolicies => "iam:ListAttachedGroupPolicies",
    GetPolicy => "iam:GetPolicy",
    GetPolicyVersion => "iam:GetPolicyVersion",
    SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
    SimulateCustomPolicy => "iam:SimulateCustomPolicy",
    GetAccountAuthorizationDetails => "iam:GetAccountAuthorizationDetails",
    DescribeOrganization => "organizations:DescribeOrganization",
    ListRoots => "organizations:ListRoots",
    ListParents => "organizations:ListParents",
    DescribeOrganizationalUnit => "organizations:DescribeOrganizationalUnit",
    DescribeAccount => "organizations:DescribeAccount",
    ListPoliciesForTarget => "organizations:ListPoliciesForTarget",
    DescribePolicy => "organizations:DescribePolicy",
    ListAccounts => "organizations:ListAccounts",
    ListOrganizationalUnitsForParent => "organizations:ListOrganizationalUnitsForParent",
    ListAccountsForParent => "organizations:ListAccountsForParent",
    ListPolicies => "organizations:ListPolicies",
    ListTargetsForPolicy => "organizations:ListTargetsForPolicy",
    DescribeStackResource => "cloudformation:DescribeStackResource",
    DescribeStacks => "cloudformation:DescribeStacks",
    GetBucketPolicy => "s3:GetBucketPolicy",
    GetKeyPolicy => "kms:GetKeyPolicy",
    GetRepositoryPolicy => "ecr:GetRepositoryPolicy",
    GetTopicAttributes => "sns:GetTopicAttributes",
    GetQueueUrl => "sqs:GetQueueUrl",
    GetQueueAttributes => "sqs:GetQueueAttributes",
    GetFunctionPolicy => "lambda:GetPolicy",
    DecodeAuthorizationMessage => "sts:DecodeAuthorizationMessage",
    LookupEvents => "cloudtrail:LookupEvents",
    DescribeStackEvents => "cloudformation:DescribeStackEvents",
    BatchGetBuilds => "codebuild:BatchGetBuilds",
    ListBuildsForProject => "codebuild:ListBuildsForProject",
    GetLogEvents => "logs:GetLogEvents",
    FilterLogEvents => "logs:FilterLogEvents",
}

impl Api {
    /// Organizations denies member accounts differently from IAM denying a permission.
    pub fn is_organizations(self) -> bool {
        self.action().starts_with("organizations:")
    }

    /// The service prefix, e.g. `iam`: which client (and endpoint) sends the request.
    pub fn service(self) -> &'static str {
        self.action().split(':').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_are_iam_actions_and_indexes_match() {
        for (i, api) in Api::ALL.iter().enumerate() {
            assert_eq!(*api as usize, i);
            assert!(api.action().contains(':'));
        }
        assert!(Api::ListParents.is_organizations());
        assert!(!Api::GetRole.is_organizations());
    }
}
