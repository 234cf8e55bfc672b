//! `organization.json`: an account's organization path with the SCPs and RCPs at each level.
//!
//! Layout: `{"account_id": "...", "ancestors": [{"id", "type", "name", "scps": [...],
//! "rcps": [...]}]}`, root first and the account last, where each policy is the `Policy` object
//! of `aws organizations describe-policy` (`{"PolicySummary": {...}, "Content": "<json>"}`).
//! `iam-doctor snapshot` writes exactly this, so an admin can collect once and analyse offline.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::facts::{OrgFacts, OrgLevel, OrgPolicy, TargetType};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    #[error("cannot read `{path}`: {detail}")]
    Read { path: String, detail: String },
    #[error("`{path}` is not a valid organization file: {detail}")]
    Invalid { path: String, detail: String },
    #[error(
        "`{path}`: the ancestors must go from the root (first) to the account `{account}` (last)"
    )]
    Order { path: String, account: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileLayout {
    account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    management_account_id: Option<String>,
    ancestors: Vec<Ancestor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ancestor {
    id: String,
    #[serde(rename = "type")]
    target_type: TargetType,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scps: Vec<DescribedPolicy>,
    #[serde(default)]
    rcps: Vec<DescribedPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribedPolicy {
    policy_summary: PolicySummary,
    /// A JSON string as DescribePolicy returns it; an object is accepted too.
    content: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicySummary {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r#type: Option<String>,
    #[serde(default)]
    aws_managed: bool,
}

/// Reads an organization file.
pub fn load(path: &Path) -> Result<OrgFacts, OrganizationError> {
    let shown = path.display().to_string();
    let text = super::file::read_regular_to_string(path).map_err(|e| OrganizationError::Read {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    parse(&shown, &text)
}

/// Parses organization JSON; `source` names it in errors.
pub fn parse(source: &str, text: &str) -> Result<OrgFacts, OrganizationError> {
    let file: FileLayout = serde_json::from_str(text).map_err(|e| OrganizationError::Invalid {
        path: source.to_string(),
        detail: e.to_string(),
    })?;
    let order_ok = file
        .ancestors
        .first()
        .is_some_and(|a| a.target_type == TargetType::Root)
        && file
            .ancestors
            .last()
            .is_some_and(|a| a.target_type == TargetType::Account && a.id == file.account_id);
    if !order_ok {
        return Err(OrganizationError::Order {
            path: source.to_string(),
            account: file.account_id,
        });
    }
    let convert = |p: DescribedPolicy| OrgPolicy {
        id: p.policy_summary.id,
        name: p.policy_summary.name,
        arn: p.policy_summary.arn,
        aws_managed: p.policy_summary.aws_managed,
        content: match p.content {
            Value::String(s) => s,
            other => other.to_string(),
        },
    };
    Ok(OrgFacts {
        account_id: file.account_id,
        organization_id: file.organization_id,
        management_account_id: file.management_account_id,
        scps_enabled: None,
        rcps_enabled: None,
        levels: file
            .ancestors
            .into_iter()
            .map(|a| OrgLevel {
                id: a.id,
                target_type: a.target_type,
                name: a.name,
                scps: a.scps.into_iter().map(convert).collect(),
                rcps: a.rcps.into_iter().map(convert).collect(),
            })
            .collect(),
    })
}

/// Renders facts in the file layout, as `snapshot` writes it.
pub fn to_json(org: &OrgFacts) -> Value {
    let convert = |p: &OrgPolicy, kind: &str| DescribedPolicy {
        policy_summary: PolicySummary {
            id: p.id.clone(),
            arn: p.arn.clone(),
            name: p.name.clone(),
            description: None,
            r#type: Some(kind.to_string()),
            aws_managed: p.aws_managed,
        },
        content: Value::String(p.content.clone()),
    };
    let layout = FileLayout {
        account_id: org.account_id.clone(),
        organization_id: org.organization_id.clone(),
        management_account_id: org.management_account_id.clone(),
        ancestors: org
            .levels
            .iter()
            .map(|l| Ancestor {
                id: l.id.clone(),
                target_type: l.target_type,
                name: l.name.clone(),
                scps: l
                    .scps
                    .iter()
                    .map(|p| convert(p, "SERVICE_CONTROL_POLICY"))
                    .collect(),
                rcps: l
                    .rcps
                    .iter()
                    .map(|p| convert(p, "RESOURCE_CONTROL_POLICY"))
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_value(layout).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"{"account_id":"111122223333","management_account_id":"999999999999","ancestors":[
      {"id":"r-ab12","type":"ROOT","name":"Root","scps":[{"PolicySummary":{"Id":"p-FullAWSAccess","Name":"FullAWSAccess","AwsManaged":true},"Content":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}]},
      {"id":"ou-ab12-aaaa1111","type":"ORGANIZATIONAL_UNIT","name":"Workloads","scps":[]},
      {"id":"111122223333","type":"ACCOUNT","name":"dev","scps":[],"rcps":[{"PolicySummary":{"Id":"p-rcp","Name":"RCPFullAWSAccess"},"Content":{"Statement":[]}}]}]}"#;

    #[test]
    fn parses_levels_in_order() {
        let o = parse("org.json", ORG).expect("valid");
        assert_eq!(o.levels.len(), 3);
        assert_eq!(o.levels[0].scps[0].name, "FullAWSAccess");
        assert!(o.levels[0].scps[0].aws_managed);
        assert!(o.levels[0].scps[0].content.contains("\"Action\":\"*\""));
        assert_eq!(o.levels[2].rcps[0].content, "{\"Statement\":[]}");
        assert!(!o.is_management_account());
    }

    #[test]
    fn round_trips_through_the_writer() {
        let o = parse("org.json", ORG).expect("valid");
        let again = parse("again", &to_json(&o).to_string()).expect("valid");
        assert_eq!(o, again);
    }

    #[test]
    fn wrong_order_is_rejected() {
        let reversed = r#"{"account_id":"1","ancestors":[{"id":"1","type":"ACCOUNT"},{"id":"r-1","type":"ROOT"}]}"#;
        assert!(matches!(
            parse("o", reversed),
            Err(OrganizationError::Order { .. })
        ));
        assert!(matches!(
            parse("o", "{}"),
            Err(OrganizationError::Invalid { .. })
        ));
    }
}
