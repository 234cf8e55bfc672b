//! `organization-tree.json`: the whole organization, as `snapshot --organization` writes it and
//! `scps --offline DIR` reads it.
//!
//! Layout (version 1): `{"version": 1, "organization_id", "management_account_id", "root":
//! {"id", "name", "enabled_policy_types"}, "organizational_units": [{"id", "name",
//! "parent_id"}], "accounts": [{"id", "name", "parent_id"}], "policies": [{"id", "name", "arn",
//! "aws_managed", "type", "content", "targets"}], "unread": [{"id", "part", "reason"}]}`. A
//! policy's `content` is the document as `DescribePolicy` returns it (a JSON string); an object
//! is accepted too, so a policy can be edited in place to see what a change would do.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::core::org_tree::{OrganizationTree, TreeError};

/// The file's name in a snapshot folder.
pub const FILE_NAME: &str = "organization-tree.json";

/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeFileError {
    #[error("cannot read `{path}`: {detail}")]
    Read { path: String, detail: String },
    #[error("`{path}` is not a valid organization tree: {detail}")]
    Invalid { path: String, detail: String },
    #[error("`{path}` has layout version {found}; this iam-doctor reads version {VERSION}")]
    Version { path: String, found: u64 },
    #[error("`{path}`: {error}")]
    Tree { path: String, error: TreeError },
}

impl crate::error::Help for TreeFileError {
    fn help(&self) -> String {
        match self {
            TreeFileError::Read { .. } => "write the folder with `iam-doctor snapshot --organization --out DIR`, or check that the file is readable".to_owned(),
            TreeFileError::Version { .. } => "take the snapshot again with this iam-doctor (`snapshot --organization --out DIR`)".to_owned(),
            TreeFileError::Invalid { .. } | TreeFileError::Tree { .. } => "fix the file as the README's `organization-tree.json` layout shows, or take the snapshot again with `snapshot --organization --out DIR`".to_owned(),
        }
    }
}

#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    #[serde(flatten)]
    tree: &'a OrganizationTree,
}

/// The file's text for a tree.
pub fn to_json(tree: &OrganizationTree) -> Value {
    serde_json::to_value(Written {
        version: VERSION,
        tree,
    })
    .unwrap_or(Value::Null)
}

/// Reads `organization-tree.json` from a snapshot folder.
pub fn load_dir(dir: &Path) -> Result<OrganizationTree, TreeFileError> {
    let path = dir.join(FILE_NAME);
    let shown = path.display().to_string();
    let text = super::file::read_regular_to_string(&path).map_err(|e| TreeFileError::Read {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    parse(&shown, &text)
}

/// Parses the file's text; `source` names it in errors.
pub fn parse(source: &str, text: &str) -> Result<OrganizationTree, TreeFileError> {
    let invalid = |detail: String| TreeFileError::Invalid {
        path: source.to_string(),
        detail,
    };
    let mut value: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let Some(object) = value.as_object_mut() else {
        return Err(invalid("expected a JSON object".to_string()));
    };
    match object.remove("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(VERSION)) => {}
        Some(Value::Number(n)) => {
            return Err(TreeFileError::Version {
                path: source.to_string(),
                found: n.as_u64().unwrap_or_default(),
            });
        }
        _ => return Err(invalid("`version` (a number) is missing".to_string())),
    }
    // A document written as an object is taken as its JSON text.
    if let Some(Value::Array(policies)) = object.get_mut("policies") {
        for p in policies {
            if let Some(content) = p.get_mut("content")
                && content.is_object()
            {
                *content = Value::String(content.to_string());
            }
        }
    }
    let tree: OrganizationTree =
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    tree.validate().map_err(|error| TreeFileError::Tree {
        path: source.to_string(),
        error,
    })?;
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = r#"{"version": 1, "organization_id": "o-1", "management_account_id": "111",
      "root": {"id": "r-1", "name": "Root", "enabled_policy_types": ["SERVICE_CONTROL_POLICY"]},
      "organizational_units": [{"id": "ou-1", "name": "Workloads", "parent_id": "r-1"}],
      "accounts": [{"id": "111", "name": "mgmt", "parent_id": "r-1"}, {"id": "222", "name": "dev", "parent_id": "ou-1"}],
      "policies": [
        {"id": "p-FullAWSAccess", "name": "FullAWSAccess", "aws_managed": true, "type": "SERVICE_CONTROL_POLICY",
         "content": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", "targets": ["r-1", "ou-1", "111", "222"]},
        {"id": "p-edit", "name": "Edited", "type": "SERVICE_CONTROL_POLICY",
         "content": {"Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]}, "targets": ["ou-1"]}]}"#;

    #[test]
    fn reads_the_layout_and_takes_an_object_as_the_document() {
        let tree = parse("t.json", TREE).expect("valid");
        let facts = tree.org_facts("222").expect("placed");
        assert_eq!(facts.levels.len(), 3);
        assert_eq!(
            facts.levels[1].scps[1].content,
            r#"{"Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#
        );
    }

    #[test]
    fn round_trips_through_the_writer() {
        let tree = parse("t.json", TREE).expect("valid");
        let again = parse("again", &to_json(&tree).to_string()).expect("valid");
        assert_eq!(tree, again);
    }

    #[test]
    fn another_version_or_a_broken_tree_is_an_input_error() {
        let v2 = TREE.replacen(r#""version": 1"#, r#""version": 2"#, 1);
        assert!(matches!(
            parse("t", &v2),
            Err(TreeFileError::Version { found: 2, .. })
        ));
        let orphan = TREE.replacen(r#""parent_id": "ou-1""#, r#""parent_id": "ou-9""#, 1);
        assert!(matches!(
            parse("t", &orphan),
            Err(TreeFileError::Tree { .. })
        ));
        assert!(matches!(
            parse("t", "[]"),
            Err(TreeFileError::Invalid { .. })
        ));
        assert!(matches!(
            parse("t", "{}"),
            Err(TreeFileError::Invalid { .. })
        ));
    }
}
