//! Service rules: what AWS decides that no policy expresses, kept as data.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::pattern::{Case, action_matches, glob_match};

const TABLE: &str = include_str!("../../../policies/service-rules.json");

/// What a service rule does to a request it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleEffect {
    /// Allowed whatever the policies say, even an explicit `Deny`.
    NeedsNoPermission,
    /// Denied whatever the policies allow.
    AlwaysDenied,
    /// The resource's own policy (a KMS key policy, a role trust policy) must allow.
    ResourcePolicyMustAllow,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRule {
    pub name: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub effect: RuleEffect,
    /// The AWS documentation page that states the rule.
    pub page: String,
    /// What the page says, shortly.
    pub says: String,
    /// The service prefixes of `actions`, lowercase, so that most requests are ruled out by
    /// one comparison; `None` when an action pattern has a wildcard in its service part.
    #[serde(skip)]
    services: Option<Vec<String>>,
}

impl ServiceRule {
    /// Does the rule cover this request? A resource that is not known (`*`) is covered only by
    /// a rule whose resources include `*`: a rule about particular resources cannot be assumed
    /// to apply to an unknown one.
    pub fn matches(&self, action: &str, resource: &str) -> bool {
        if let Some(services) = &self.services {
            let service = action.split(':').next().unwrap_or("");
            if !services.iter().any(|s| s.eq_ignore_ascii_case(service)) {
                return false;
            }
        }
        // Every request is checked against every rule: reject on the service prefix (a byte
        // compare) before matching the action's glob.
        let service = action.split(':').next().unwrap_or("");
        let same_service = |pattern: &str| match pattern.split_once(':') {
            Some((prefix, _)) if !prefix.contains(['*', '?']) => {
                prefix.eq_ignore_ascii_case(service)
            }
            _ => true,
        };
        self.actions
            .iter()
            .any(|a| same_service(a) && action_matches(a, action))
            && self
                .resources
                .iter()
                .any(|r| r == "*" || (resource != "*" && glob_match(r, resource, Case::Sensitive)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    /// What the table is, for people reading the file.
    #[allow(dead_code)]
    about: Vec<String>,
    rules: Vec<ServiceRule>,
}

static RULES: LazyLock<Vec<ServiceRule>> = LazyLock::new(|| {
    // The table is embedded and tested (`the_table_reads_and_every_rule_cites_a_page`): a
    // broken table is a build defect, not an input error.
    let mut rules = serde_json::from_str::<Table>(TABLE)
        .map(|t| t.rules)
        .unwrap_or_else(|e| panic!("policies/service-rules.json is invalid: {e}"));
    for rule in &mut rules {
        let services: Vec<String> = rule
            .actions
            .iter()
            .map(|a| a.split(':').next().unwrap_or("").to_ascii_lowercase())
            .collect();
        rule.services = (!services.iter().any(|s| s.contains(['*', '?']))).then_some(services);
    }
    rules
});

/// Every service rule, in table order.
///
/// The table (`policies/service-rules.json`, embedded) holds each rule with the actions and
/// resources it matches, its effect and the AWS page that states it. The evaluator consults it
/// for every request, and a decision a rule made is reported as that rule (with its page), not
/// as "no policy allows it".
pub fn rules() -> &'static [ServiceRule] {
    &RULES
}

/// The rules that cover the request, in table order.
pub fn matching<'a>(
    action: &'a str,
    resource: &'a str,
) -> impl Iterator<Item = &'static ServiceRule> + 'a {
    rules().iter().filter(move |r| r.matches(action, resource))
}

/// The first rule with this effect that covers the request.
pub fn find(effect: RuleEffect, action: &str, resource: &str) -> Option<&'static ServiceRule> {
    matching(action, resource).find(|r| r.effect == effect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_every_rule_cites_a_page() {
        assert!(rules().len() >= 6);
        for r in rules() {
            assert!(
                r.page.starts_with("https://docs.aws.amazon.com/"),
                "rule `{}` must cite an AWS documentation page, not `{}`",
                r.name,
                r.page
            );
            assert!(
                !r.actions.is_empty() && !r.resources.is_empty(),
                "{}",
                r.name
            );
            assert!(
                r.actions.iter().all(|a| a.contains(':')),
                "rule `{}` has an action that is not `service:Action`",
                r.name
            );
        }
        let mut names: Vec<&str> = rules().iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), rules().len(), "rule names are unique");
    }

    /// Each row of the table, tried on requests it covers and on near misses.
    #[test]
    fn rules_cover_what_their_pages_say_and_nothing_else() {
        use RuleEffect::*;
        type Expected = Option<(RuleEffect, &'static str)>;
        let cases: &[(&str, &str, Expected)] = &[
            // STS API reference, GetCallerIdentity: no permission needed.
            (
                "sts:GetCallerIdentity",
                "*",
                Some((
                    NeedsNoPermission,
                    "sts-get-caller-identity-needs-no-permission",
                )),
            ),
            (
                "STS:getcalleridentity",
                "*",
                Some((
                    NeedsNoPermission,
                    "sts-get-caller-identity-needs-no-permission",
                )),
            ),
            ("sts:GetSessionToken", "*", None),
            // IAM user guide, AWS managed policies: cannot be changed.
            (
                "iam:CreatePolicyVersion",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                Some((AlwaysDenied, "aws-managed-policies-are-immutable")),
            ),
            (
                "iam:DeletePolicy",
                "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
                Some((AlwaysDenied, "aws-managed-policies-are-immutable")),
            ),
            (
                "iam:CreatePolicyVersion",
                "arn:aws:iam::111122223333:policy/Mine",
                None,
            ),
            (
                "iam:GetPolicy",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                None,
            ),
            // The resource is not known: a rule about particular resources does not apply.
            ("iam:DeletePolicy", "*", None),
            // IAM Identity Center: roles under /aws-reserved/ are protected.
            (
                "iam:PutRolePolicy",
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
                Some((AlwaysDenied, "identity-center-roles-are-protected")),
            ),
            (
                "iam:DeleteRole",
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_abcd",
                Some((AlwaysDenied, "identity-center-roles-are-protected")),
            ),
            (
                "iam:PutRolePolicy",
                "arn:aws:iam::111122223333:role/deploy/aws-reserved-not",
                None,
            ),
            (
                "iam:GetRole",
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
                None,
            ),
            // KMS developer guide: alias/aws/ is reserved.
            (
                "kms:CreateAlias",
                "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3",
                Some((AlwaysDenied, "kms-aws-alias-prefix-is-reserved")),
            ),
            (
                "kms:CreateAlias",
                "arn:aws:kms:eu-west-1:111122223333:alias/app/s3",
                None,
            ),
            // KMS key policies and role trust policies must allow.
            (
                "kms:Decrypt",
                "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                Some((ResourcePolicyMustAllow, "kms-key-policy-must-allow")),
            ),
            ("kms:Decrypt", "*", None),
            (
                "sts:AssumeRole",
                "arn:aws:iam::111122223333:role/deployer",
                Some((ResourcePolicyMustAllow, "role-trust-policy-must-allow")),
            ),
            (
                "iam:PassRole",
                "arn:aws:iam::111122223333:role/deployer",
                None,
            ),
        ];
        for (action, resource, expected) in cases {
            let found = [NeedsNoPermission, AlwaysDenied, ResourcePolicyMustAllow]
                .into_iter()
                .find_map(|e| find(e, action, resource).map(|r| (e, r.name.as_str())));
            assert_eq!(&found, expected, "{action} on {resource}");
        }
    }
}
