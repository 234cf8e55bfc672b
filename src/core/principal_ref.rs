//! The principal a command looks at, parsed once from what a person or an AccessDenied
//! message names.

use super::arn::{Arn, assumed_role};

/// A role or user named by a name, an IAM ARN, or (for a role) an STS assumed-role ARN.
///
/// Equal when they name the same principal: `given` (kept for messages) is left out, so two
/// sessions of one role are one principal.
#[derive(Debug, Clone, Eq)]
pub struct NamedPrincipal {
    /// As it was given, for messages.
    pub given: String,
    /// The role or user name (the last segment of the ARN's path).
    pub name: String,
    /// The account an ARN names; `None` for a bare name, which lives in the credentials' account.
    pub account: Option<String>,
    /// The IAM ARN, path included, when one was given. An STS session ARN carries no path, so
    /// it gives none.
    pub arn: Option<String>,
}

impl PartialEq for NamedPrincipal {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.account, &self.arn) == (&other.name, &other.account, &other.arn)
    }
}

impl std::hash::Hash for NamedPrincipal {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.name, &self.account, &self.arn).hash(state);
    }
}

/// Which principal to look at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalRef {
    Role(NamedPrincipal),
    User(NamedPrincipal),
    /// Whoever the AWS credentials in use belong to.
    Caller,
    /// The Jets remote runner role (`CodebuildRole`) of a bootstrap stack, by stack name.
    Stack(String),
}

/// A principal that cannot be looked up as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalRefError {
    /// An ARN given for a role (or user) that is not one.
    #[error("`{arn}` is not a valid {expected} ARN")]
    InvalidArn { arn: String, expected: &'static str },
    /// An ARN that names neither a role, a user, nor a role session (root, a federated user, a
    /// service).
    #[error("`{arn}` is not a role or user that can be checked")]
    NotRoleOrUser { arn: String },
}

impl PrincipalRef {
    /// A role by name, role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`) or STS session ARN
    /// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`), in any partition.
    pub fn role(text: &str) -> Result<Self, PrincipalRefError> {
        if !text.starts_with("arn:") {
            return Ok(Self::Role(NamedPrincipal::bare(text)));
        }
        if let Some((account, name)) = assumed_role(text) {
            return Ok(Self::Role(NamedPrincipal {
                given: text.to_string(),
                name,
                account: Some(account),
                arn: None,
            }));
        }
        NamedPrincipal::from_iam_arn(text, "role")
            .map(Self::Role)
            .ok_or_else(|| PrincipalRefError::InvalidArn {
                arn: text.to_string(),
                expected: "role",
            })
    }

    /// A user by name or user ARN (`arn:aws:iam::ACCOUNT:user/PATH/NAME`).
    pub fn user(text: &str) -> Result<Self, PrincipalRefError> {
        if !text.starts_with("arn:") {
            return Ok(Self::User(NamedPrincipal::bare(text)));
        }
        NamedPrincipal::from_iam_arn(text, "user")
            .map(Self::User)
            .ok_or_else(|| PrincipalRefError::InvalidArn {
                arn: text.to_string(),
                expected: "user",
            })
    }

    /// Any principal ARN, as `GetCallerIdentity` or an AccessDenied message prints it: a role,
    /// a user, or a role session (which stands for its role: IAM's simulator rejects session
    /// ARNs, and the role's path must then be looked up by name).
    pub fn from_arn(text: &str) -> Result<Self, PrincipalRefError> {
        let not_checkable = || PrincipalRefError::NotRoleOrUser {
            arn: text.to_string(),
        };
        if !text.starts_with("arn:") {
            return Err(not_checkable());
        }
        Self::role(text)
            .or_else(|_| Self::user(text))
            .map_err(|_| not_checkable())
    }

    /// The role or user, when it is named.
    pub fn named(&self) -> Option<&NamedPrincipal> {
        match self {
            Self::Role(p) | Self::User(p) => Some(p),
            Self::Caller | Self::Stack(_) => None,
        }
    }
}

impl NamedPrincipal {
    /// A bare name: looked up in the credentials' (or the snapshot's) account.
    pub fn bare(name: &str) -> Self {
        Self {
            given: name.to_string(),
            name: name.to_string(),
            account: None,
            arn: None,
        }
    }

    fn from_iam_arn(text: &str, kind: &str) -> Option<Self> {
        let arn = Arn::parse(text)?;
        let name = arn.iam_name(kind)?;
        Some(Self {
            given: text.to_string(),
            name: name.to_string(),
            account: Some(arn.account.to_string()),
            arn: Some(text.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(account: &str, name: &str, arn: Option<&str>) -> NamedPrincipal {
        NamedPrincipal {
            given: String::new(),
            name: name.into(),
            account: Some(account.into()),
            arn: arn.map(str::to_string),
        }
    }

    #[test]
    fn assumed_role_becomes_its_role_in_every_partition() {
        assert_eq!(
            PrincipalRef::from_arn(
                "arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B/AWSCodeBuild-0f1e"
            ),
            Ok(PrincipalRef::Role(named(
                "111122223333",
                "demo-dev-CodebuildRole-1A2B",
                None
            )))
        );
        for partition in ["aws-us-gov", "aws-cn"] {
            assert_eq!(
                PrincipalRef::role(&format!(
                    "arn:{partition}:sts::111122223333:assumed-role/r/s"
                )),
                Ok(PrincipalRef::Role(named("111122223333", "r", None)))
            );
        }
        assert!(PrincipalRef::role("arn:aws:sts::1:assumed-role/R").is_err());
        assert!(PrincipalRef::from_arn("arn:aws:sts::1:federated-user/u").is_err());
    }

    #[test]
    fn role_and_user_arns_keep_account_and_path() {
        let arn = "arn:aws:iam::123456789012:role/service/deploy/Deploy";
        assert_eq!(
            PrincipalRef::role(arn),
            Ok(PrincipalRef::Role(named(
                "123456789012",
                "Deploy",
                Some(arn)
            )))
        );
        assert_eq!(
            PrincipalRef::from_arn("arn:aws:iam::1:user/ops/bob"),
            Ok(PrincipalRef::User(named(
                "1",
                "bob",
                Some("arn:aws:iam::1:user/ops/bob")
            )))
        );
        assert_eq!(
            PrincipalRef::role("Deploy"),
            Ok(PrincipalRef::Role(NamedPrincipal::bare("Deploy")))
        );
        assert_eq!(
            PrincipalRef::role("arn:aws:iam::1:user/bob"),
            Err(PrincipalRefError::InvalidArn {
                arn: "arn:aws:iam::1:user/bob".into(),
                expected: "role"
            })
        );
        assert!(PrincipalRef::user("arn:aws:iam::1:role/r").is_err());
    }

    #[test]
    fn root_and_other_principals_are_not_checkable() {
        for text in ["arn:aws:iam::1:root", "not an arn", "arn:aws:s3:::bucket"] {
            assert_eq!(
                PrincipalRef::from_arn(text),
                Err(PrincipalRefError::NotRoleOrUser { arn: text.into() }),
                "{text}"
            );
        }
    }

    #[test]
    fn sessions_of_one_role_are_one_principal() {
        let a = PrincipalRef::from_arn("arn:aws:sts::1:assumed-role/R/session-a");
        let b = PrincipalRef::from_arn("arn:aws:sts::1:assumed-role/R/session-b");
        assert_eq!(a, b);
    }
}
