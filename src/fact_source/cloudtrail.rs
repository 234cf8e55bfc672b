//! The denied calls CloudTrail recorded (`explain --cloudtrail`): the event history of the
//! session's region over a time window, read whole, and the calls in it that failed on an
//! authorization error, optionally only a role's.
//!
//! Why the whole window: `LookupEvents` filters on one attribute only, none of which is the
//! error code, and its `Username` is, for an assumed role, the role *session* name (CloudTrail
//! API reference, `API_LookupAttribute.html`; the scripted history in `tests/moto/server.py`
//! does the same), which changes with every CodeBuild build. A role's events are therefore
//! picked by their `userIdentity.sessionContext.sessionIssuer.arn`, after reading.

use crate::aws::{AwsError, TrailProgress};
use crate::core::evidence::{Content, Evidence, Origin, SourceRead};
use crate::inputs::cloudtrail::{RecordedDenial, denial_of};

use super::AwsFacts;

/// What a CloudTrail read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRead {
    /// The denied calls, newest first.
    pub denials: Vec<RecordedDenial>,
    /// What was read, in words: the region, how many events and pages, and how far back.
    pub read: String,
}

/// An RFC 3339 time (UTC, seconds) for seconds since the Unix epoch.
fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).map_or_else(
        || format!("{secs} s after 1970-01-01"),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// The sentence that says what was read and how far back.
pub fn describe_read(
    region: &str,
    start: i64,
    end: i64,
    progress: TrailProgress,
    denied: usize,
    role: Option<&str>,
) -> String {
    let oldest = match progress.oldest {
        Some(t) => format!("; the oldest event read is from {}", rfc3339(t)),
        None => String::new(),
    };
    format!(
        "CloudTrail event history in {region}: {} event(s) in {} page(s), back to {} (window {} to {}){oldest}; {denied} call(s) denied on authorization{}",
        progress.events,
        progress.pages,
        rfc3339(start),
        rfc3339(start),
        rfc3339(end),
        match role {
            Some(r) => format!(" made by role `{r}`"),
            None => String::new(),
        }
    )
}

impl AwsFacts {
    /// The calls denied on authorization in the last `since_seconds`, by `role` (a name or an
    /// ARN) when given. `on_page` is told after every page how far the read has got.
    pub fn read_cloudtrail(
        &self,
        role: Option<&str>,
        since_seconds: u64,
        on_page: impl FnMut(TrailProgress),
    ) -> Result<TrailRead, AwsError> {
        let region = self.session().region().unwrap_or("us-east-1").to_string();
        let end = chrono::Utc::now().timestamp();
        let start = end.saturating_sub(i64::try_from(since_seconds).unwrap_or(i64::MAX));
        let (events, progress) = self.block_on(
            self.session()
                .cloudtrail()
                .lookup_events(start, end, None, on_page),
        )?;
        let denials: Vec<RecordedDenial> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| denial_of(&e.cloudtrail_event, i + 1))
            .filter(|d| role.is_none_or(|r| d.is_by_role(r)))
            .collect();
        let read = describe_read(&region, start, end, progress, denials.len(), role);
        Ok(TrailRead { denials, read })
    }
}

impl TrailRead {
    /// The denied calls as evidence, each a structured denial seen in one CloudTrail event.
    pub fn into_source_read(self) -> SourceRead {
        SourceRead {
            evidence: self
                .denials
                .into_iter()
                .map(|r| Evidence {
                    origin: Origin::CloudTrailEvent {
                        event_id: r.event_id,
                        event_source: r.event_source,
                        event_name: r.event_name,
                        region: r.denial.region.clone(),
                    },
                    timestamp: r.event_time,
                    content: Content::Denial(Box::new(r.denial)),
                })
                .collect(),
            read: self.read,
            problems: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_says_how_far_back_and_what_was_found() {
        let progress = TrailProgress {
            pages: 3,
            events: 120,
            oldest: Some(1_764_518_400),
        };
        let text = describe_read(
            "eu-west-1",
            1_764_518_000,
            1_764_525_200,
            progress,
            2,
            Some("demo"),
        );
        assert_eq!(
            text,
            "CloudTrail event history in eu-west-1: 120 event(s) in 3 page(s), back to 2025-11-30T15:53:20Z (window 2025-11-30T15:53:20Z to 2025-11-30T17:53:20Z); the oldest event read is from 2025-11-30T16:00:00Z; 2 call(s) denied on authorization made by role `demo`"
        );
    }
}
