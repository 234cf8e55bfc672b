//! A least-privilege IAM policy document for a set of actions: one statement per service and
//! resource, actions sorted, ready to attach.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::core::profile::RequiredAction;

/// The smallest policy that grants exactly these actions.
pub fn least_privilege<'a>(actions: impl IntoIterator<Item = &'a RequiredAction>) -> Value {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in actions {
        let service = a.action.split(':').next().unwrap_or("").to_ascii_lowercase();
        let list = groups.entry((service, a.resource.clone())).or_default();
        if !list.iter().any(|x| x.eq_ignore_ascii_case(&a.action)) {
            list.push(a.action.clone());
        }
    }
    let statements: Vec<Value> = groups
        .into_iter()
        .map(|((service, resource), mut actions)| {
            actions.sort();
            let sid: String = service
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                })
                .collect();
            json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ra(action: &str, resource: &str) -> RequiredAction {
        RequiredAction {
            action: action.into(),
            resource: resource.into(),
            grant: String::new(),
            policy: String::new(),
            reason: String::new(),
        }
    }

    #[test]
    fn groups_per_service_and_resource() {
        let doc = least_privilege(&[
            ra("s3:PutObject", "*"),
            ra("s3:GetObject", "*"),
            ra("ecr-public:GetAuthorizationToken", "*"),
            ra("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q"),
            ra("s3:GetObject", "*"),
        ]);
        let st = doc["Statement"].as_array().expect("array");
        assert_eq!(st.len(), 3);
        assert_eq!(st[0]["Sid"], "EcrPublic");
        assert_eq!(st[1]["Action"], json!(["s3:GetObject", "s3:PutObject"]));
        assert_eq!(st[2]["Resource"], "arn:aws:sqs:us-east-1:1:q");
    }
}
