//! Denied calls from CloudTrail records: each `CloudTrailEvent` document of `LookupEvents` with
//! an authorization-failure error code becomes a [`Denial`] to explain.
//!
//! The record's fields are those of the CloudTrail record contents reference
//! (`cloudtrail-event-reference-record-contents.html`): `eventSource` (`s3.amazonaws.com`),
//! `eventName` (the API operation), `errorCode`, `errorMessage`, `userIdentity` (for a role, an
//! `AssumedRole` whose `arn` is the session ARN and whose `sessionContext.sessionIssuer.arn` is
//! the role), `resources` (`ARN`), `awsRegion`, `eventTime`, `eventID`.

use serde_json::Value;

use crate::core::catalog::catalog;
use crate::core::denial::{Blamed, Denial};

/// The error codes of a call denied by authorization: the codes the IAM User Guide's
/// troubleshooting page and the services' API references give for an authorization failure
/// (`AccessDenied`, `AccessDeniedException`; EC2's `UnauthorizedOperation`, which CloudTrail
/// records as `Client.UnauthorizedOperation`; SNS's `AuthorizationError`, "Indicates that the
/// user has been denied access to the requested resource", HTTP 403, in each action's Errors of
/// the Amazon SNS API Reference, e.g. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
pub const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "AuthorizationError",
];

/// Event sources whose host is not the service's IAM prefix: CloudWatch's calls are recorded
/// with `eventSource: monitoring.amazonaws.com`
/// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-monitoring.html) and its
/// actions are `cloudwatch:*`; the Resource Groups Tagging API's with
/// `eventSource: tagging.amazonaws.com`
/// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-tagging.html) and its actions
/// are `tag:*` (Service Authorization Reference, "Amazon Resource Group Tagging API").
const PREFIX_OF_SOURCE: &[(&str, &str)] = &[("monitoring", "cloudwatch"), ("tagging", "tag")];

/// A denied call CloudTrail recorded, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedDenial {
    pub denial: Denial,
    /// The session issuer of an assumed role (the role's ARN), to pick a role's events.
    pub role_arn: Option<String>,
    pub event_id: Option<String>,
    pub event_source: String,
    pub event_name: String,
    pub event_time: Option<String>,
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The IAM action of a recorded call: `<prefix of eventSource>:<eventName>`, with a note when
/// the name had to be adapted; the bare operation and a note when the source is not a known
/// service.
pub fn action_of(event_source: &str, event_name: &str) -> (String, Option<String>) {
    let host = event_source.split('.').next().unwrap_or(event_source);
    let prefix = PREFIX_OF_SOURCE
        .iter()
        .find(|(source, _)| *source == host)
        .map_or(host, |(_, prefix)| *prefix);
    if !catalog().has_service(prefix) {
        return (
            event_name.to_string(),
            Some(format!(
                "CloudTrail's event source `{event_source}` is not a service prefix in the action catalog, so the service of `{event_name}` is not known"
            )),
        );
    }
    let action = format!("{prefix}:{event_name}");
    if let Some(canonical) = catalog().canonical(&action) {
        return (canonical, None);
    }
    // Lambda records name operations with their API version (`CreateFunction20150331`,
    // `UpdateFunctionCode20150331v2`); the action is the operation alone. "Logging Lambda API
    // calls with CloudTrail": "the `eventName` might include date and version information, but
    // it is still referring to the same public API. For example the, `GetFunction` action might
    // appear as `"GetFunction20150331"`"
    // (https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html).
    let unversioned = strip_api_version(event_name);
    if unversioned != event_name
        && let Some(canonical) = catalog().canonical(&format!("{prefix}:{unversioned}"))
    {
        return (
            canonical,
            Some(format!(
                "CloudTrail's event name `{event_name}` carries the API version; the action is `{unversioned}`"
            )),
        );
    }
    (action, None)
}

/// `Name20150331` or `Name20150331v2` → `Name`.
fn strip_api_version(name: &str) -> &str {
    let without_v = match name.rsplit_once('v') {
        Some((head, digits))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head
        }
        _ => name,
    };
    let bytes = without_v.as_bytes();
    if bytes.len() > 8 && bytes[bytes.len() - 8..].iter().all(u8::is_ascii_digit) {
        &without_v[..without_v.len() - 8]
    } else {
        name
    }
}

/// The denial in one `CloudTrailEvent` document; `None` when the call was not denied by
/// authorization (or the record is not JSON). `number` is its position in what was read.
pub fn denial_of(record: &str, number: usize) -> Option<RecordedDenial> {
    let v: Value = serde_json::from_str(record).ok()?;
    let code = text(&v, "/errorCode")?;
    if !DENIED_CODES.contains(&code) {
        return None;
    }
    let source = text(&v, "/eventSource").unwrap_or_default();
    let name = text(&v, "/eventName").unwrap_or_default();
    let message = text(&v, "/errorMessage").unwrap_or_default();
    let (action, action_note) = action_of(source, name);
    // The message, when AWS worded it in full, names the resource and the policy type.
    let from_message = crate::inputs::access_denied::parse(message)
        .into_iter()
        .next();
    let resource = v
        .pointer("/resources")
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find_map(|r| text(r, "/ARN")))
        .map(str::to_string)
        .or_else(|| from_message.as_ref().and_then(|d| d.resource.clone()));
    let event_time = text(&v, "/eventTime").map(str::to_string);
    let region = text(&v, "/awsRegion").map(str::to_string);
    let mut notes = vec![format!(
        "CloudTrail event {} at {} in {}",
        text(&v, "/eventID").unwrap_or("(no id)"),
        event_time.as_deref().unwrap_or("(no time)"),
        region.as_deref().unwrap_or("(no region)"),
    )];
    notes.extend(action_note);
    let denial = Denial {
        principal: text(&v, "/userIdentity/arn").map(str::to_string),
        action,
        resource,
        blamed: from_message
            .as_ref()
            .map_or(Blamed::Unspecified, |d| d.blamed),
        policy_arn: from_message.as_ref().and_then(|d| d.policy_arn.clone()),
        error_code: Some(code.to_string()),
        encoded_message: from_message
            .as_ref()
            .and_then(|d| d.encoded_message.clone()),
        encoded: None,
        region,
        notes,
        line: number,
        raw: format!("{source} {name} {code}: {message}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    Some(RecordedDenial {
        denial,
        role_arn: text(&v, "/userIdentity/sessionContext/sessionIssuer/arn").map(str::to_string),
        event_id: text(&v, "/eventID").map(str::to_string),
        event_source: source.to_string(),
        event_name: name.to_string(),
        event_time,
    })
}

impl RecordedDenial {
    /// Whether the call was made by `role` (a name or an ARN), as the session issuer or, for a
    /// role's own ARN, as the identity.
    pub fn is_by_role(&self, role: &str) -> bool {
        let Some(arn) = self
            .role_arn
            .as_deref()
            .or(self.denial.principal.as_deref())
        else {
            return false;
        };
        if role.starts_with("arn:") {
            return arn == role;
        }
        arn.rsplit_once('/').is_some_and(|(_, name)| name == role) && arn.contains(":role/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with the fields of the CloudTrail record contents reference
    /// (`cloudtrail-event-reference-record-contents.html`) and the `userIdentity` of an assumed
    /// role as `cloudtrail-event-reference-user-identity.html` shows it.
    fn record(source: &str, name: &str, code: &str, message: &str) -> String {
        serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAIDPPEZS35WEXAMPLE:AWSCodeBuild-1",
                "arn": "arn:aws:sts::123456789012:assumed-role/demo-dev-CodebuildRole/AWSCodeBuild-1",
                "accountId": "123456789012",
                "sessionContext": {"sessionIssuer": {
                    "type": "Role",
                    "arn": "arn:aws:iam::123456789012:role/demo-dev-CodebuildRole",
                    "userName": "demo-dev-CodebuildRole"}}
            },
            "eventTime": "2026-11-30T17:59:12Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "eu-west-1",
            "errorCode": code,
            "errorMessage": message,
            "eventID": "4b2f1c9e-0000-4000-8000-000000000001"
        })
        .to_string()
    }

    #[test]
    fn a_denied_call_becomes_a_denial_with_its_region_and_session() {
        let r = denial_of(
            &record(
                "route53.amazonaws.com",
                "ChangeResourceRecordSets",
                "AccessDenied",
                "User: arn:aws:sts::123456789012:assumed-role/demo-dev-CodebuildRole/AWSCodeBuild-1 is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z1 with an explicit deny in a service control policy",
            ),
            1,
        )
        .expect("a denial");
        let d = &r.denial;
        assert_eq!(d.action, "route53:ChangeResourceRecordSets");
        assert_eq!(
            d.resource.as_deref(),
            Some("arn:aws:route53:::hostedzone/Z1")
        );
        assert_eq!(d.blamed, Blamed::ScpExplicitDeny);
        assert_eq!(d.region.as_deref(), Some("eu-west-1"));
        assert_eq!(d.error_code.as_deref(), Some("AccessDenied"));
        assert!(
            d.principal
                .as_deref()
                .is_some_and(|p| p.contains("assumed-role/"))
        );
        assert!(r.is_by_role("demo-dev-CodebuildRole"));
        assert!(r.is_by_role("arn:aws:iam::123456789012:role/demo-dev-CodebuildRole"));
        assert!(!r.is_by_role("other"));
    }

    #[test]
    fn ec2_client_unauthorized_operation_is_a_denial_and_other_errors_are_not() {
        let r = denial_of(
            &record(
                "ec2.amazonaws.com",
                "CreateNetworkInterface",
                "Client.UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            ),
            2,
        )
        .expect("a denial");
        assert_eq!(r.denial.action, "ec2:CreateNetworkInterface");
        assert_eq!(r.denial.blamed, Blamed::Unspecified);
        assert!(
            denial_of(
                &record("s3.amazonaws.com", "GetObject", "NoSuchKey", "not found"),
                3
            )
            .is_none()
        );
        assert!(denial_of("not json", 4).is_none());
    }

    #[test]
    fn event_sources_map_to_iam_prefixes() {
        assert_eq!(action_of("s3.amazonaws.com", "PutObject").0, "s3:PutObject");
        assert_eq!(
            action_of("monitoring.amazonaws.com", "PutMetricAlarm").0,
            "cloudwatch:PutMetricAlarm"
        );
        assert_eq!(
            action_of("tagging.amazonaws.com", "GetResources").0,
            "tag:GetResources"
        );
        let (action, note) = action_of("lambda.amazonaws.com", "CreateFunction20150331");
        assert_eq!(action, "lambda:CreateFunction");
        assert!(note.is_some());
        assert_eq!(
            action_of("lambda.amazonaws.com", "UpdateFunctionCode20150331v2").0,
            "lambda:UpdateFunctionCode"
        );
        let (bare, note) = action_of("nothing-here.amazonaws.com", "DoIt");
        assert_eq!(bare, "DoIt");
        assert!(note.is_some_and(|n| n.contains("not a service prefix")));
    }
}
