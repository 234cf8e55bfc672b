//! The denials in a set of [`Evidence`]: each text read as a paste is
//! ([`access_denied::parse`]), each structured denial taken as it is, and the copies of one
//! denial seen in several places merged ([`merge`]).

use crate::core::evidence::{Content, Evidence, Seen, Sighting, is_authorization_failure, merge};

use super::access_denied;

/// The distinct denials of all the evidence, and the items that report an authorization
/// failure but name nothing to check (a bare `Access Denied`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gathered {
    pub denials: Vec<Seen>,
    /// Where an authorization failure was reported without an action, with its text.
    pub unreadable: Vec<(Sighting, String)>,
}

/// Every denial in `evidence`, in the order first seen.
pub fn gather(evidence: &[Evidence]) -> Gathered {
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    for item in evidence {
        match &item.content {
            Content::Text { text, .. } => {
                let denials = access_denied::parse(text);
                if denials.is_empty() && is_authorization_failure(text) {
                    unreadable.push((
                        Sighting {
                            origin: item.origin.clone(),
                            line: 1,
                            timestamp: item.time_of_line(1),
                        },
                        text.split_whitespace().collect::<Vec<_>>().join(" "),
                    ));
                }
                for d in denials {
                    let sighting = Sighting {
                        origin: item.origin.clone(),
                        line: d.line,
                        timestamp: item.time_of_line(d.line),
                    };
                    found.push((d, sighting));
                }
            }
            Content::Denial(d) => {
                let sighting = Sighting {
                    origin: item.origin.clone(),
                    line: d.line,
                    timestamp: item.timestamp.clone(),
                };
                found.push((d.as_ref().clone(), sighting));
            }
        }
    }
    Gathered {
        denials: merge(found),
        unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::evidence::Origin;

    const DENIED: &str = "User: arn:aws:sts::111122223333:assumed-role/demo-dev-CodebuildRole-1A2B3C4D5E6F/AWSCodeBuild-1 \
        is not authorized to perform: lambda:CreateFunction on resource: \
        arn:aws:lambda:eu-west-1:111122223333:function:demo-dev-controller with an explicit deny in a service control policy";

    #[test]
    fn a_denial_in_a_stack_event_and_in_the_build_log_is_explained_once() {
        let stack = Origin::StackEvent {
            stack: "demo-dev".into(),
            logical_id: "Controller".into(),
            resource_type: Some("AWS::Lambda::Function".into()),
            status: "CREATE_FAILED".into(),
        };
        let build = Origin::BuildLog {
            build: "demo-dev-remote:1".into(),
            log_group: "/aws/codebuild/demo-dev-remote".into(),
            log_stream: "1".into(),
        };
        let log = Evidence {
            origin: build.clone(),
            timestamp: None,
            content: Content::Text {
                text: format!("Phase complete: BUILD\nCREATE_FAILED {DENIED}\n"),
                line_times: vec![
                    (1, "2026-11-23T10:12:40Z".into()),
                    (2, "2026-11-23T10:12:44Z".into()),
                ],
            },
        };
        let gathered = gather(&[
            Evidence::text(
                stack.clone(),
                Some("2026-11-23T10:12:43Z".into()),
                DENIED.into(),
            ),
            log,
            Evidence::text(Origin::Paste, None, "Access Denied".into()),
        ]);
        assert_eq!(gathered.denials.len(), 1);
        let seen = &gathered.denials[0];
        assert_eq!(seen.denial.action, "lambda:CreateFunction");
        let origins: Vec<&Origin> = seen.sightings.iter().map(|s| &s.origin).collect();
        assert_eq!(origins, [&stack, &build]);
        assert_eq!(seen.sightings[1].line, 2);
        assert_eq!(
            seen.sightings[1].timestamp.as_deref(),
            Some("2026-11-23T10:12:44Z")
        );
        // A bare "Access Denied" names nothing to check, and is reported as such.
        assert_eq!(gathered.unreadable.len(), 1);
        assert_eq!(gathered.unreadable[0].1, "Access Denied");
    }
}
