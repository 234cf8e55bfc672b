//! Global condition keys a real request carries but a pre-flight check cannot know.

use super::condition;
use super::context::Context;

/// The page every row of [`REQUEST_TIME_KEYS`] comes from.
pub const SOURCE: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html";

/// The type of a key's values, to check values given for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Bool,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A date as the date operators take it (ISO 8601 or epoch seconds).
    Date,
    Numeric,
}

impl ValueType {
    /// Whether `text` is a value of this type, as the condition operators read it.
    pub fn accepts(self, text: &str) -> bool {
        match self {
            ValueType::String => true,
            ValueType::Bool => condition::is_bool(text),
            ValueType::Ip => text.parse::<std::net::IpAddr>().is_ok(),
            ValueType::Date => condition::is_date(text),
            ValueType::Numeric => condition::is_number(text),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ValueType::String => "a string",
            ValueType::Bool => "`true` or `false`",
            ValueType::Ip => "an IP address",
            ValueType::Date => "a date (`2026-01-31T12:00:00Z` or epoch seconds)",
            ValueType::Numeric => "a number",
        }
    }
}

/// One key of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeKey {
    pub key: &'static str,
    /// True for keys AWS documents as "always included in the request context"; false for
    /// those present only in some requests.
    pub always_present: bool,
    pub value_type: ValueType,
    /// The "Availability" line of the key on [`SOURCE`].
    pub availability: &'static str,
}

const fn key(
    key: &'static str,
    always_present: bool,
    value_type: ValueType,
    availability: &'static str,
) -> RequestTimeKey {
    RequestTimeKey {
        key,
        always_present,
        value_type,
        availability,
    }
}

/// Keys whose value only the real request has. Keys the check knows from the facts
/// (`aws:PrincipalArn`, `aws:PrincipalTag/*`, `aws:RequestedRegion`, …) are not here.
///
/// Source: AWS global condition context keys,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>,
/// each key's "Availability" line, quoted in [`RequestTimeKey::availability`].
pub const REQUEST_TIME_KEYS: &[RequestTimeKey] = &[
    key(
        "aws:CurrentTime",
        true,
        ValueType::Date,
        "This key is always included in the request context.",
    ),
    key(
        "aws:EpochTime",
        true,
        ValueType::Numeric,
        "This key is always included in the request context.",
    ),
    key(
        "aws:SecureTransport",
        true,
        ValueType::Bool,
        "This key is always included in the request context.",
    ),
    key(
        "aws:UserAgent",
        true,
        ValueType::String,
        "This key is always included in the request context.",
    ),
    key(
        "aws:ViaAWSService",
        true,
        ValueType::Bool,
        "This key is always included in the request context.",
    ),
    key(
        "aws:userid",
        true,
        ValueType::String,
        "This key is included in the request context for all requests, including anonymous requests.",
    ),
    key(
        "aws:SourceIp",
        false,
        ValueType::Ip,
        "This key is included in the request context, except when the requester uses a VPC endpoint to make the request.",
    ),
    key(
        "aws:VpcSourceIp",
        false,
        ValueType::Ip,
        "This key is included in the request context only if the request is made using a VPC endpoint.",
    ),
    key(
        "aws:SourceVpc",
        false,
        ValueType::String,
        "This key is included in the request context only if the requester uses a VPC endpoint to make the request.",
    ),
    key(
        "aws:SourceVpce",
        false,
        ValueType::String,
        "This key is included in the request context only if the requester uses a VPC endpoint to make the request.",
    ),
    key(
        "aws:CalledVia",
        false,
        ValueType::String,
        "This key is present in the request when a service that supports aws:CalledVia uses the credentials of an IAM principal to make a request to another service.",
    ),
    key(
        "aws:CalledViaFirst",
        false,
        ValueType::String,
        "This key is present in the request when a service uses the credentials of an IAM principal to make at least one other request to a different service.",
    ),
    key(
        "aws:CalledViaLast",
        false,
        ValueType::String,
        "This key is present in the request when a service uses the credentials of an IAM principal to make at least one other request to a different service.",
    ),
    key(
        "aws:MultiFactorAuthPresent",
        false,
        ValueType::Bool,
        "This key is included in the request context only when the principal uses temporary credentials to make the request.",
    ),
    key(
        "aws:MultiFactorAuthAge",
        false,
        ValueType::Numeric,
        "This key is included in the request context only if the principal making the call was authenticated using MFA.",
    ),
    key(
        "aws:TokenIssueTime",
        false,
        ValueType::Date,
        "This key is included in the request context only when the principal uses temporary credentials to make the request.",
    ),
    key(
        "aws:SourceIdentity",
        false,
        ValueType::String,
        "This key is included in the request context after a source identity has been set when a role is assumed.",
    ),
    key(
        "aws:Ec2InstanceSourceVpc",
        false,
        ValueType::String,
        "This key is included in the request context whenever the requester is signing requests with an Amazon EC2 role credential.",
    ),
    key(
        "aws:Ec2InstanceSourcePrivateIPv4",
        false,
        ValueType::Ip,
        "This key is included in the request context whenever the requester is signing requests with an Amazon EC2 role credential.",
    ),
    // Keys of the request's resource. The check knows them only where the resource's ARN names
    // its account (`resource_keys` in `check`); otherwise the real request carries a value the
    // check cannot know.
    key(
        "aws:ResourceAccount",
        false,
        ValueType::String,
        "This key is always included in the request context for most service actions. The following actions don't support this key: …",
    ),
    key(
        "aws:ResourceOrgID",
        false,
        ValueType::String,
        "This key is included in the request context only if the account that owns the resource is a member of an organization. This global condition key does not support the following actions: …",
    ),
    key(
        "aws:ResourceOrgPaths",
        false,
        ValueType::String,
        "This key is included in the request context only if the account that owns the resource is a member of an organization. This global condition key does not support the following actions: …",
    ),
    key(
        "aws:TagKeys",
        false,
        ValueType::String,
        "This key is included in the request context if the operation supports passing tags in the request.",
    ),
];

/// Families of keys, one per tag key, whose values only the real resource or request has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFamily {
    /// The service prefix (`aws`), or `None` for every service's own form of the key.
    pub service: Option<&'static str>,
    /// The start of the key's name after the colon (`ResourceTag/`).
    pub name_prefix: &'static str,
    /// What AWS says of the key's presence, quoted from `page`.
    pub availability: &'static str,
    pub page: &'static str,
}

/// The tag keys: a resource's tags and a request's tags are not in the facts a check reads, and
/// each is present only when there are tags, so all of them may also be absent.
pub const KEY_FAMILIES: &[KeyFamily] = &[
    KeyFamily {
        service: Some("aws"),
        name_prefix: "ResourceTag/",
        availability: "This key is included in the request context when the requested resource already has attached tags or in requests that create a resource with an attached tag.",
        page: SOURCE,
    },
    KeyFamily {
        service: Some("aws"),
        name_prefix: "RequestTag/",
        availability: "This key is included in the request context when tag key-value pairs are passed in the request.",
        page: SOURCE,
    },
    // Services that name their resources' tags with their own prefix (`iam:ResourceTag/key`,
    // `ec2:ResourceTag/key`, …) list them as resource condition keys in the Service
    // Authorization Reference.
    KeyFamily {
        service: None,
        name_prefix: "ResourceTag/",
        availability: "Filters access by a tag key and value pair of a resource.",
        page: "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
    },
];

/// The actions whose requests do not carry a resource key, as its "Availability" line on
/// [`SOURCE`] lists them ("Amazon Elastic Block Store – All actions", "Amazon EventBridge – All
/// actions", a few EC2 and WorkSpaces actions). For them the key is absent, not unknown.
pub const RESOURCE_KEYS_NOT_CARRIED: &[(&str, &[&str])] = &[
    ("aws:ResourceAccount", &NOT_CARRIED_WITH_WORKSPACES),
    ("aws:ResourceOrgID", &NOT_CARRIED),
    ("aws:ResourceOrgPaths", &NOT_CARRIED_WITH_WORKSPACES),
];

const NOT_CARRIED: [&str; 8] = [
    "ebs:*",
    "ec2:CopyFpgaImage",
    "ec2:CopyImage",
    "ec2:CopySnapshot",
    "ec2:CreateTransitGatewayPeeringAttachment",
    "ec2:CreateVolume",
    "ec2:CreateVpcPeeringConnection",
    "events:*",
];

const NOT_CARRIED_WITH_WORKSPACES: [&str; 10] = [
    "ebs:*",
    "ec2:CopyFpgaImage",
    "ec2:CopyImage",
    "ec2:CopySnapshot",
    "ec2:CreateTransitGatewayPeeringAttachment",
    "ec2:CreateVolume",
    "ec2:CreateVpcPeeringConnection",
    "events:*",
    "workspaces:CopyWorkspaceImage",
    "workspaces:DescribeWorkspaceImages",
];

/// Whether requests for `action` carry the resource key `key` (see
/// [`RESOURCE_KEYS_NOT_CARRIED`]); keys not in that table are not judged here.
pub fn carries_resource_key(key: &str, action: &str) -> bool {
    let Some((_, actions)) = RESOURCE_KEYS_NOT_CARRIED
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
    else {
        return true;
    };
    let (service, name) = action.split_once(':').unwrap_or((action, ""));
    // Each listed action is `service:name`: its service is compared in place, without
    // splitting it, since a check asks this for every action it decides.
    !actions.iter().any(|listed| {
        listed
            .get(..service.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(service))
            && listed
                .get(service.len()..)
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|n| n == "*" || n.eq_ignore_ascii_case(name))
    })
}

/// The table's row for a key, looked up case-insensitively as IAM does.
pub fn lookup(key: &str) -> Option<&'static RequestTimeKey> {
    REQUEST_TIME_KEYS
        .iter()
        .find(|k| k.key.eq_ignore_ascii_case(key))
}

/// Values stated for request-context keys, applied over what the check knows: a profile's
/// defaults, then the user's `--context KEY=VALUE` values. Later values replace earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supplied {
    /// Key → its values, or `None` for a key known to be absent.
    entries: Vec<(String, Option<Vec<String>>)>,
}

impl Supplied {
    /// States a key's values (several for a multivalued key), or its absence with `None`.
    pub fn state(&mut self, key: &str, values: Option<Vec<String>>) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.entries.push((key.to_string(), values));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a value (or the absence) of `key` is stated.
    pub fn states(&self, key: &str) -> bool {
        self.entries
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// The stated keys with their values (`None`: stated absent), in the order stated.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Option<&[String]>)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// Sets the stated values on `ctx`, replacing what it had.
    pub fn apply(&self, ctx: &mut Context) {
        for (key, values) in &self.entries {
            match values.as_deref() {
                None => ctx.remove(key),
                Some([one]) => ctx.set(key.clone(), one.clone()),
                Some(many) => ctx.set_multi(key.clone(), many.to_vec()),
            };
        }
    }
}

/// Marks every key of the tables that `ctx` has no value for as unknown.
///
/// A check builds the request context from what it knows (the principal, its organization, the
/// region). Keys such as `aws:SourceIp` or `aws:CurrentTime` depend on where and when the deploy
/// really runs. Leaving them out would make a `Deny` on them silently not match, so they are
/// marked as unknown ([`Context::set_unknown`]) and the decision depends on them until a value
/// is supplied (`--context KEY=VALUE`, or a profile default with its reason).
///
/// The keys of the request's resource and tags (`aws:ResourceAccount`, `aws:ResourceTag/…`,
/// `aws:RequestTag/…`, `aws:TagKeys`, …) are unknown too wherever the check cannot know them.
pub fn mark_unknown(ctx: &mut Context) {
    for k in REQUEST_TIME_KEYS {
        if !ctx.contains(k.key) {
            ctx.set_unknown(k.key, !k.always_present);
        }
    }
    for f in KEY_FAMILIES {
        ctx.set_unknown_family(f.service, f.name_prefix, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_present_rows_quote_the_page_saying_so() {
        for k in REQUEST_TIME_KEYS {
            // "always included … for most service actions" has exceptions: the key may be absent.
            let says_always = (k.availability.contains("always included")
                && !k.availability.contains("for most"))
                || k.availability.contains("for all requests");
            assert_eq!(says_always, k.always_present, "{}", k.key);
            assert!(k.key.starts_with("aws:"), "{}", k.key);
        }
    }

    /// The tag keys of the global condition keys page ("included in the request context when
    /// the requested resource already has attached tags", "when tag key-value pairs are passed
    /// in the request") and every service's own `SERVICE:ResourceTag/key` are unknown and may
    /// be absent, whichever tag key the policy names, until a value is given for that key; so
    /// are the resource's account and organization where the check cannot know them.
    #[test]
    fn tag_keys_of_any_name_are_unknown_until_given() {
        let mut ctx = Context::new().with("aws:ResourceTag/team", "web");
        mark_unknown(&mut ctx);
        for key in [
            "aws:ResourceTag/env",
            "AWS:resourcetag/Env",
            "aws:RequestTag/cost-center",
            "iam:ResourceTag/env",
            "ec2:ResourceTag/Name",
            "aws:TagKeys",
            "aws:ResourceAccount",
            "aws:ResourceOrgID",
            "aws:ResourceOrgPaths",
        ] {
            assert_eq!(
                ctx.unknown(key).map(|u| u.may_be_absent),
                Some(true),
                "{key}"
            );
        }
        // A value given for one tag key decides that key only; a bare prefix or another
        // name is not a tag key.
        assert!(ctx.unknown("aws:ResourceTag/team").is_none());
        for key in [
            "aws:ResourceTag/",
            "aws:ResourceTagX",
            "s3:prefix",
            ":ResourceTag/env",
        ] {
            assert!(ctx.unknown(key).is_none(), "{key}");
        }
        // Stated absent (a profile's `null`), a tag key is absent, not unknown.
        ctx.remove("aws:RequestTag/owner");
        assert!(ctx.unknown("aws:RequestTag/owner").is_none());
        assert!(!ctx.contains("aws:RequestTag/owner"));
    }

    /// "The following actions don't support this key: Amazon Elastic Block Store – All actions,
    /// … Amazon EventBridge – All actions, Amazon WorkSpaces …" (aws:ResourceAccount,
    /// aws:ResourceOrgPaths; aws:ResourceOrgID lists no WorkSpaces action).
    #[test]
    fn resource_keys_are_not_carried_by_the_listed_actions() {
        let rows: &[(&str, &str, bool)] = &[
            ("aws:ResourceAccount", "s3:PutObject", true),
            ("aws:ResourceAccount", "events:PutRule", false),
            ("aws:ResourceAccount", "EBS:StartSnapshot", false),
            ("aws:ResourceAccount", "ec2:CopyImage", false),
            ("aws:ResourceAccount", "ec2:RunInstances", true),
            (
                "aws:ResourceAccount",
                "workspaces:CopyWorkspaceImage",
                false,
            ),
            ("aws:ResourceOrgID", "workspaces:CopyWorkspaceImage", true),
            ("aws:ResourceOrgID", "events:PutTargets", false),
            (
                "aws:ResourceOrgPaths",
                "workspaces:DescribeWorkspaceImages",
                false,
            ),
            ("aws:SourceIp", "events:PutRule", true),
            ("aws:ResourceAccount", "EC2:copyimage", false),
            ("aws:ResourceAccount", "ec22:CopyImage", true),
            ("aws:ResourceAccount", "ec:CopyImage", true),
            ("aws:ResourceAccount", "ec2", true),
            ("aws:ResourceAccount", "ebs", false),
            ("aws:ResourceAccount", "ebs:", false),
            ("aws:ResourceAccount", "", true),
        ];
        for (key, action, carried) in rows {
            assert_eq!(
                carries_resource_key(key, action),
                *carried,
                "{key} {action}"
            );
        }
    }

    #[test]
    fn marks_only_keys_without_a_value() {
        let mut ctx = Context::new().with("aws:SourceIp", "10.0.0.1");
        mark_unknown(&mut ctx);
        assert!(ctx.unknown("aws:SourceIp").is_none());
        assert_eq!(
            ctx.unknown("aws:currenttime").map(|u| u.may_be_absent),
            Some(false)
        );
        assert_eq!(
            ctx.unknown("aws:SourceVpce").map(|u| u.may_be_absent),
            Some(true)
        );
    }
}
