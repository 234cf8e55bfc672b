//! Global condition keys a real request carries but a pre-flight check cannot know.
//!
//! A check builds the request context from what it knows (the principal, its organization, the
//! region). Keys such as `aws:SourceIp` or `aws:CurrentTime` depend on where and when the deploy
//! really runs. Leaving them out would make a `Deny` on them silently not match, so they are
//! marked as unknown ([`Context::set_unknown`]) and the decision depends on them until a value
//! is supplied (`--context KEY=VALUE`, or a profile default with its reason).
//!
//! Source: AWS global condition context keys,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>,
//! each key's "Availability" line, quoted in [`RequestTimeKey::availability`].

use super::condition;
use super::context::Context;
use super::profile::Profile;

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
];

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
    /// A profile's stated values.
    pub fn from_profile(profile: &Profile) -> Supplied {
        let mut s = Supplied::default();
        for d in &profile.request_context {
            s.state(&d.key, d.value.clone().map(|v| vec![v]));
        }
        s
    }

    /// States a key's values (several for a multivalued key), or its absence with `None`.
    pub fn state(&mut self, key: &str, values: Option<Vec<String>>) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.entries.push((key.to_string(), values));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

/// Marks every key of the table that `ctx` has no value for as unknown.
pub fn mark_unknown(ctx: &mut Context) {
    for k in REQUEST_TIME_KEYS {
        if !ctx.contains(k.key) {
            ctx.set_unknown(k.key, !k.always_present);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_present_rows_quote_the_page_saying_so() {
        for k in REQUEST_TIME_KEYS {
            let says_always = k.availability.contains("always included")
                || k.availability.contains("for all requests");
            assert_eq!(says_always, k.always_present, "{}", k.key);
            assert!(k.key.starts_with("aws:"), "{}", k.key);
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
