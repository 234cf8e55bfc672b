//! The JSON Schemas of the reports (`tests/fixtures/schema/`, JSON Schema 2020-12, closed) and
//! their validation, shared by the schema tests and by the live tests whose reports only a
//! local AWS produces (stack events, build logs, log events, CloudTrail events).

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub const SCHEMA_DIR: &str = "tests/fixtures/schema";
pub const SCHEMA_BASE: &str = "https://github.com/iam-doctor/iam-doctor/tests/fixtures/schema/";
pub const CHECK: &str = "check-report.json";
pub const REQUIRED: &str = "required-report.json";
pub const EXPLAIN: &str = "explain-report.json";
pub const SCPS: &str = "scps-report.json";

/// Every schema of the folder, by file name; each one's `$id` names its file.
pub fn schemas() -> BTreeMap<String, Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_DIR);
    std::fs::read_dir(dir)
        .expect("the schema folder")
        .map(|entry| {
            let path = entry.expect("a schema file").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a file name")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("the schema file");
            let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
            assert_eq!(
                schema["$id"],
                format!("{SCHEMA_BASE}{name}"),
                "{name}: its $id names its file"
            );
            (name, schema)
        })
        .collect()
}

/// Validation errors of `report` against the schema in file `schema`, `Ok` when it validates.
pub fn validate(report: &Value, schema: &str) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    for (name, document) in self::schemas() {
        compiler
            .add_resource(&format!("{SCHEMA_BASE}{name}"), document)
            .expect("schema resource");
    }
    let id = compiler
        .compile(&format!("{SCHEMA_BASE}{schema}"), &mut schemas)
        .expect("the report schema compiles");
    schemas.validate(report, id).map_err(|e| format!("{e:#}"))
}

/// The schema node `node` of file `file` stands for, with its file: a `$ref` followed, within
/// the file (`#/…`) or to another one (`check-report.json#/…`).
fn resolve<'a>(
    all: &'a BTreeMap<String, Value>,
    file: &'a str,
    node: &'a Value,
) -> (&'a str, &'a Value) {
    match node["$ref"].as_str() {
        Some(r) => {
            let (target, pointer) = r.split_once('#').expect("a $ref with a JSON pointer");
            let (file, root) = if target.is_empty() {
                (file, &all[file])
            } else {
                let (name, root) = all.get_key_value(target).expect("a known schema file");
                (name.as_str(), root)
            };
            resolve(
                all,
                file,
                root.pointer(pointer).expect("a $ref that resolves"),
            )
        }
        None => (file, node),
    }
}

/// Every object's keys come in the order its schema lists them, recursively.
fn assert_schema_order(
    all: &BTreeMap<String, Value>,
    file: &str,
    node: &Value,
    value: &Value,
    path: &str,
) {
    let (file, node) = resolve(all, file, node);
    if let Some(branches) = node["oneOf"].as_array() {
        for b in branches {
            let (file, b) = resolve(all, file, b);
            if b["type"] == "object" && value.is_object()
                || b["type"] == "array" && value.is_array()
            {
                assert_schema_order(all, file, b, value, path);
            }
        }
        return;
    }
    match value {
        Value::Object(map) => {
            let Some(props) = node["properties"].as_object() else {
                return;
            };
            let order: Vec<&String> = props.keys().collect();
            let positions: Vec<usize> = map
                .keys()
                .map(|k| {
                    order
                        .iter()
                        .position(|p| *p == k)
                        .unwrap_or_else(|| panic!("{path}.{k} is not in the schema"))
                })
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{path}: keys {:?} are not in the schema's order {order:?}",
                map.keys().collect::<Vec<_>>()
            );
            for (k, v) in map {
                assert_schema_order(all, file, &props[k], v, &format!("{path}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_schema_order(all, file, &node["items"], item, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

/// `report` validates against the schema in file `schema` and lists its fields in the schema's
/// order; `what` names the report in a failure.
pub fn assert_matches_schema(report: &Value, schema: &str, what: &str) {
    if let Err(e) = validate(report, schema) {
        panic!(
            "{what}: the report does not validate against {SCHEMA_DIR}/{schema}: {e}\n{report:#}"
        );
    }
    let all = schemas();
    assert_schema_order(&all, schema, &all[schema], report, what);
}

/// Fields a sighting of one kind has and the others do not.
const SIGHTING_FIELDS: &[&str] = &[
    "stack",
    "logical_id",
    "resource_type",
    "status",
    "build",
    "log_group",
    "log_stream",
    "event_id",
    "event_source",
    "event_name",
    "region",
];

/// An `explain` report validates in the schema's order, it has at least one sighting of each
/// kind in `kinds`, and every sighting is closed: each one, given a field the schema does not
/// have or a field of another kind, makes the report invalid.
pub fn assert_explain_report(report: &Value, kinds: &[&str], what: &str) {
    assert_matches_schema(report, EXPLAIN, what);
    let explanations = report["explanations"].as_array().expect("explanations");
    let mut seen = Vec::new();
    for (i, x) in explanations.iter().enumerate() {
        let sources = x["sources"].as_array().map_or(&[][..], Vec::as_slice);
        for (j, sighting) in sources.iter().enumerate() {
            let kind = sighting["kind"].as_str().expect("a sighting's kind");
            seen.push(kind.to_string());
            let own = sighting.as_object().expect("a sighting object");
            let foreign = SIGHTING_FIELDS
                .iter()
                .copied()
                .filter(|f| !own.contains_key(*f));
            for field in std::iter::once("seen_by").chain(foreign) {
                let mut changed = report.clone();
                changed["explanations"][i]["sources"][j][field] = json!("x");
                assert!(
                    validate(&changed, EXPLAIN).is_err(),
                    "{what}: a {kind} sighting with `{field}` added validated"
                );
            }
        }
    }
    for kind in kinds {
        assert!(
            seen.iter().any(|k| k == kind),
            "{what}: no {kind} sighting in the report (seen: {seen:?})\n{report:#}"
        );
    }
}
