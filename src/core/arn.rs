//! ARN helpers for principals.

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut it = text.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        })
    }

    /// The name of an IAM entity of `kind` (`role`, `user`):
    /// `arn:PARTITION:iam::ACCOUNT:KIND/PATH/NAME` → `NAME`. `None` for another service or
    /// kind, or an ARN without an account or a name.
    pub fn iam_name(&self, kind: &str) -> Option<&'a str> {
        if !self.partition.starts_with("aws")
            || self.service != "iam"
            || !self.region.is_empty()
            || self.account.is_empty()
        {
            return None;
        }
        let path_and_name = self.resource.strip_prefix(kind)?.strip_prefix('/')?;
        path_and_name
            .rsplit('/')
            .next()
            .filter(|name| !name.is_empty())
    }

    /// Whether the ARN is in AWS's own account (`arn:aws:iam::aws:policy/…`): an AWS managed
    /// policy.
    pub fn is_aws_owned(&self) -> bool {
        self.account == "aws"
    }
}

/// What a principal string from an error message or `GetCallerIdentity` refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalRef {
    /// An IAM role, by name (the path is not known from an assumed-role ARN).
    Role { account: String, name: String },
    /// An IAM role by its full ARN (path included).
    RoleArn(String),
    User {
        account: String,
        name: String,
        arn: String,
    },
    /// Something else (root, a federated user, a service): not checkable as a role or user.
    Other(String),
}

/// Classifies a principal ARN. An STS assumed-role ARN
/// (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`) becomes the role it came from: IAM's
/// simulator rejects session ARNs, and the role's path must then be looked up by name.
pub fn principal_ref(text: &str) -> PrincipalRef {
    let Some(arn) = Arn::parse(text) else {
        return PrincipalRef::Other(text.to_string());
    };
    match arn.service {
        "sts" => match assumed_role(text) {
            Some((account, name)) => PrincipalRef::Role { account, name },
            None => PrincipalRef::Other(text.to_string()),
        },
        "iam" if arn.resource.starts_with("role/") => PrincipalRef::RoleArn(text.to_string()),
        "iam" if arn.resource.starts_with("user/") => PrincipalRef::User {
            account: arn.account.to_string(),
            name: arn.resource.rsplit('/').next().unwrap_or("").to_string(),
            arn: text.to_string(),
        },
        _ => PrincipalRef::Other(text.to_string()),
    }
}

/// `arn:aws:sts::ACCT:assumed-role/NAME/SESSION` → `(ACCT, NAME)`, in any partition
/// (`aws`, `aws-us-gov`, `aws-cn`, …).
///
/// The simulator rejects session ARNs, and the role's path is not in them, so the role ARN
/// must come from `GetRole` on the returned name.
pub fn assumed_role(text: &str) -> Option<(String, String)> {
    let arn = Arn::parse(text)?;
    if !arn.partition.starts_with("aws")
        || arn.service != "sts"
        || !arn.region.is_empty()
        || arn.account.is_empty()
    {
        return None;
    }
    let mut segments = arn.resource.splitn(3, '/');
    if segments.next()? != "assumed-role" {
        return None;
    }
    let name = segments.next()?;
    let session = segments.next()?;
    if name.is_empty() || session.is_empty() {
        return None;
    }
    Some((arn.account.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_becomes_role_name() {
        assert_eq!(
            principal_ref(
                "arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B/AWSCodeBuild-0f1e"
            ),
            PrincipalRef::Role {
                account: "111122223333".into(),
                name: "demo-dev-CodebuildRole-1A2B".into()
            }
        );
        assert_eq!(
            principal_ref("arn:aws-us-gov:sts::111122223333:assumed-role/r/s"),
            PrincipalRef::Role {
                account: "111122223333".into(),
                name: "r".into()
            }
        );
    }

    #[test]
    fn iam_arns_and_others() {
        assert_eq!(
            principal_ref("arn:aws:iam::1:role/path/x"),
            PrincipalRef::RoleArn("arn:aws:iam::1:role/path/x".into())
        );
        assert!(
            matches!(principal_ref("arn:aws:iam::1:user/dev/alice"), PrincipalRef::User { name, .. } if name == "alice")
        );
        assert!(matches!(
            principal_ref("arn:aws:iam::1:root"),
            PrincipalRef::Other(_)
        ));
        assert!(matches!(
            principal_ref("not an arn"),
            PrincipalRef::Other(_)
        ));
        assert_eq!(
            Arn::parse("arn:aws:s3:::b/k:with:colons").map(|a| a.resource),
            Some("b/k:with:colons")
        );
        fn name<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
            Arn::parse(text).and_then(|a| a.iam_name(kind))
        }
        assert_eq!(
            name(
                "arn:aws:iam::123456789012:role/service/deploy/Deploy",
                "role"
            ),
            Some("Deploy")
        );
        assert_eq!(name("arn:aws:iam::1:user/ops/bob", "user"), Some("bob"));
        assert_eq!(name("arn:aws:iam::1:user/bob", "role"), None);
        assert_eq!(name("arn:aws:iam:::role/r", "role"), None, "no account");
        assert_eq!(name("arn:aws:iam::1:role/", "role"), None, "no name");
        assert_eq!(name("arn:aws:sts::1:role/r", "role"), None);
    }
}
