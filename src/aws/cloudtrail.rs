//! CloudTrail's event history (`LookupEvents`): the account's recent calls, denied ones among
//! them, read a page at a time within CloudTrail's own rate limit.
//!
//! The CloudTrail API reference (`API_LookupEvents.html`): "The rate of lookup requests is
//! limited to two per second, per account, per Region. If this limit is exceeded, a throttling
//! error occurs", and "The default number of results returned is 50, with a maximum of 50
//! possible". Requests are therefore paced below two a second, pages asked for at 50, and a
//! throttled request is retried after a growing pause. `LookupAttributes` "can contain only
//! one item", and none of its keys is the error code, so the events of the window are read
//! whole and the denied ones picked out of their `CloudTrailEvent` documents by the caller.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use tokio::time::Instant;

use super::api::Api;
use super::error::AwsError;
use super::gate::CallGate;

/// Events per page: LookupEvents' maximum.
pub const EVENTS_PER_PAGE: i32 = 50;

/// The least time between the answer to one LookupEvents request and the next request: two a
/// second at most.
pub const LOOKUP_INTERVAL: Duration = Duration::from_millis(500);

/// Pauses before retrying a request still throttled after the SDK's own retries; after the
/// last, the throttling error is the answer.
const THROTTLE_PAUSES: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// One event as LookupEvents returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEvent {
    /// Seconds since the epoch.
    pub event_time: Option<i64>,
    /// The full CloudTrail record, a JSON document.
    pub cloudtrail_event: String,
}

/// How far a lookup has read, for progress and for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrailProgress {
    pub pages: usize,
    pub events: usize,
    /// The oldest event time read so far (LookupEvents answers newest first).
    pub oldest: Option<i64>,
}

/// Keeps requests at least an interval apart, counted from the *answer* to the previous one:
/// CloudTrail counts a request when it arrives, which is before its answer leaves, so two
/// requests sent this way are at least the interval apart where they are counted, whatever
/// the network or the service's own delays.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    answered: Option<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            answered: None,
        }
    }

    /// How long to wait at `now` before the next request.
    fn delay(&self, now: Instant) -> Duration {
        self.answered.map_or(Duration::ZERO, |at| {
            (at + self.interval).saturating_duration_since(now)
        })
    }

    /// Records that the previous request was answered at `at`.
    fn answered_at(&mut self, at: Instant) {
        self.answered = Some(at);
    }

    /// Waits until the next request may be sent.
    pub async fn wait(&self) {
        let delay = self.delay(Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Records that the request just sent was answered.
    pub fn answered(&mut self) {
        self.answered_at(Instant::now());
    }
}

/// CloudTrail over the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkCloudTrail {
    client: aws_sdk_cloudtrail::Client,
    gate: Arc<CallGate>,
}

impl SdkCloudTrail {
    pub fn new(client: aws_sdk_cloudtrail::Client, gate: Arc<CallGate>) -> Self {
        Self { client, gate }
    }

    /// Every event between `start` and `end` (seconds since the epoch), newest first, all
    /// pages, optionally narrowed by one lookup attribute (`EventSource`, `Username`, …).
    /// `on_page` is told after each page how far the lookup has read.
    pub async fn lookup_events(
        &self,
        start: i64,
        end: i64,
        attribute: Option<(LookupAttributeKey, String)>,
        mut on_page: impl FnMut(TrailProgress),
    ) -> Result<(Vec<TrailEvent>, TrailProgress), AwsError> {
        let attribute = match attribute {
            Some((key, value)) => Some(
                LookupAttribute::builder()
                    .attribute_key(key)
                    .attribute_value(value)
                    .build()
                    .map_err(|e| AwsError::incomplete(Api::LookupEvents, e.to_string()))?,
            ),
            None => None,
        };
        let mut pacer = Pacer::new(LOOKUP_INTERVAL);
        let mut events = Vec::new();
        let mut progress = TrailProgress::default();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .page(&mut pacer, start, end, attribute.clone(), token.clone())
                .await?;
            for e in page.events.unwrap_or_default() {
                let event_time = e.event_time.map(|t| t.secs());
                if let Some(t) = event_time {
                    progress.oldest = Some(progress.oldest.map_or(t, |o: i64| o.min(t)));
                }
                progress.events += 1;
                if let Some(record) = e.cloud_trail_event {
                    events.push(TrailEvent {
                        event_time,
                        cloudtrail_event: record,
                    });
                }
            }
            progress.pages += 1;
            on_page(progress);
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(next) if Some(&next) == token.as_ref() => {
                    return Err(AwsError::incomplete(
                        Api::LookupEvents,
                        "the same NextToken came back twice",
                    ));
                }
                Some(next) => token = Some(next),
                None => return Ok((events, progress)),
            }
        }
    }

    /// One page, paced, and retried after a pause while CloudTrail throttles.
    async fn page(
        &self,
        pacer: &mut Pacer,
        start: i64,
        end: i64,
        attribute: Option<LookupAttribute>,
        token: Option<String>,
    ) -> Result<aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput, AwsError> {
        let mut pauses = THROTTLE_PAUSES.iter();
        loop {
            pacer.wait().await;
            let request = self
                .client
                .lookup_events()
                .start_time(DateTime::from_secs(start))
                .end_time(DateTime::from_secs(end))
                .max_results(EVENTS_PER_PAGE)
                .set_lookup_attributes(attribute.clone().map(|a| vec![a]))
                .set_next_token(token.clone());
            let result = self.gate.call(Api::LookupEvents, request.send()).await;
            pacer.answered();
            if matches!(result, Err(AwsError::Throttled { .. }))
                && let Some(pause) = pauses.next()
            {
                tokio::time::sleep(*pause).await;
                continue;
            }
            return result;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two lookups a second at most (CloudTrail API reference, `API_LookupEvents.html`: "The
    /// rate of lookup requests is limited to two per second, per account, per Region"): the
    /// first request goes at once, each next one [`LOOKUP_INTERVAL`] after the answer to the one
    /// before, and a request asked for late is not held back.
    #[test]
    fn lookups_are_paced_two_a_second() {
        let mut pacer = Pacer::new(LOOKUP_INTERVAL);
        let t0 = Instant::now();
        assert_eq!(pacer.delay(t0), Duration::ZERO);
        // Answered 80 ms after it was sent: the next waits half a second from the answer.
        pacer.answered_at(t0 + Duration::from_millis(80));
        assert_eq!(pacer.delay(t0 + Duration::from_millis(80)), LOOKUP_INTERVAL);
        assert_eq!(
            pacer.delay(t0 + Duration::from_millis(180)),
            LOOKUP_INTERVAL - Duration::from_millis(100)
        );
        // Asked for two seconds after the answer: no wait.
        assert_eq!(
            pacer.delay(t0 + Duration::from_millis(2_080)),
            Duration::ZERO
        );
        assert!(
            LOOKUP_INTERVAL * 2 >= Duration::from_secs(1),
            "at most two in any second"
        );
    }
}
