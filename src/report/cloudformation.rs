//! The `Policies` / `ManagedPolicyArns` of the role as Jets writes them into its template.

use serde_json::{Value, json};

use crate::core::profile::RequiredPermissions;

/// YAML as it appears under the role's `Properties`.
pub fn role_properties(r: &RequiredPermissions) -> String {
    let policies: Vec<Value> = r
        .policies
        .iter()
        .map(|p| json!({"PolicyName": p.name, "PolicyDocument": p.document}))
        .collect();
    let mut props = serde_json::Map::new();
    if !policies.is_empty() {
        props.insert("Policies".into(), Value::Array(policies));
    }
    if !r.managed_policy_arns.is_empty() {
        props.insert("ManagedPolicyArns".into(), json!(r.managed_policy_arns));
    }
    serde_yaml::to_string(&Value::Object(props)).unwrap_or_default()
}
