//! ARNs: their parts, and the IAM names and role sessions they hold.

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
    fn assumed_role_arns_name_account_and_role() {
        assert_eq!(
            assumed_role("arn:aws:sts::123456789012:assumed-role/Deploy/ci-42"),
            Some(("123456789012".into(), "Deploy".into()))
        );
        assert_eq!(assumed_role("arn:aws:iam::123456789012:role/R"), None);
        assert_eq!(assumed_role("arn:aws:sts::1:assumed-role/R"), None);
    }

    #[test]
    fn arn_parts_and_iam_names() {
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
