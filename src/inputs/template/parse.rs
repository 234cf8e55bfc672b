//! Template text (JSON, or YAML with CloudFormation's short-form tags) to one long JSON form.

use std::path::Path;

use serde_json::{Map, Value};

/// Why a template could not be read. Messages are one line and name the file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template `{path}` not found")]
    NotFound { path: String },
    #[error("cannot read template `{path}`: {source}")]
    Read {
        path: String,
        kind: std::io::ErrorKind,
        #[source]
        source: std::io::Error,
    },
    #[error("template `{path}` is not UTF-8 text")]
    NotUtf8 { path: String },
    #[error("invalid JSON in template `{path}`{}: {message}", at(*line, *column))]
    InvalidJson {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("invalid YAML in template `{path}`{}: {message}", at(*line, *column))]
    InvalidYaml {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("unsupported YAML tag `{tag}` in template `{path}` at `{at}`")]
    UnsupportedTag {
        path: String,
        tag: String,
        at: String,
    },
    #[error("template `{path}` is not a mapping")]
    NotAMapping { path: String },
    #[error("template `{path}` has no `Resources`")]
    NoResources { path: String },
    #[error("`Resources` in template `{path}` is not a mapping")]
    ResourcesNotAMapping { path: String },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// A parsed template, in long JSON form whatever it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The path or name as given; used in messages and to match nested `TemplateURL`s.
    pub name: String,
    /// The whole document. Its `Resources` is known to be a non-empty mapping.
    pub body: Value,
}

impl Template {
    /// The `Resources` mapping, in document order.
    pub fn resources(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        self.body
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    pub(super) fn section(&self, key: &str) -> Option<&Map<String, Value>> {
        self.body.get(key).and_then(Value::as_object)
    }

    pub(super) fn file_name(&self) -> &str {
        Path::new(&self.name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&self.name)
    }
}

/// Read and parse a template file.
pub fn load(path: &Path) -> Result<Template, TemplateError> {
    let name = path.display().to_string();
    let bytes = crate::inputs::file::read_regular(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => TemplateError::NotFound { path: name.clone() },
        kind => TemplateError::Read {
            path: name.clone(),
            kind,
            source,
        },
    })?;
    parse_bytes(&name, &bytes)
}

/// Parse template bytes; `name` is only used in messages and nested-stack matching.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Template, TemplateError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| TemplateError::NotUtf8 { path: name.into() })?;
    parse(name, text)
}

/// Parse template text. A `.json` name, or text starting with `{` without a YAML extension, is
/// read strictly as JSON: YAML would accept a JSON file's trailing commas and hide the error
/// CloudFormation will report.
pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = name.to_ascii_lowercase();
    let yaml_name = lower.ends_with(".yml") || lower.ends_with(".yaml");
    let is_json = lower.ends_with(".json") || (!yaml_name && text.trim_start().starts_with('{'));
    let body = if is_json {
        serde_json::from_str::<Value>(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            TemplateError::InvalidJson {
                path: name.into(),
                line: (line > 0).then_some(line),
                column: (line > 0).then_some(column),
                message: strip_location(&e.to_string(), line, column),
            }
        })?
    } else {
        parse_yaml(name, text)?
    };
    let Some(top) = body.as_object() else {
        return Err(TemplateError::NotAMapping { path: name.into() });
    };
    match top.get("Resources") {
        None | Some(Value::Null) => Err(TemplateError::NoResources { path: name.into() }),
        Some(Value::Object(r)) if r.is_empty() => {
            Err(TemplateError::NoResources { path: name.into() })
        }
        Some(Value::Object(_)) => Ok(Template {
            name: name.into(),
            body,
        }),
        Some(_) => Err(TemplateError::ResourcesNotAMapping { path: name.into() }),
    }
}

fn parse_yaml(name: &str, text: &str) -> Result<Value, TemplateError> {
    let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
        let loc = e.location();
        let (line, column) = (
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
        );
        TemplateError::InvalidYaml {
            path: name.into(),
            line,
            column,
            message: strip_location(&e.to_string(), line.unwrap_or(0), column.unwrap_or(0)),
        }
    })?;
    let mut at = Vec::new();
    yaml_to_json(yaml, &mut at).map_err(|e| match e {
        ConvertError::Tag { tag, at } => TemplateError::UnsupportedTag {
            path: name.into(),
            tag,
            at,
        },
        ConvertError::Key { at } => TemplateError::InvalidYaml {
            path: name.into(),
            line: None,
            column: None,
            message: format!("mapping key at `{at}` is not a string"),
        },
    })
}

/// Parser messages embed their own location; it is reported once, in our format.
fn strip_location(message: &str, line: usize, column: usize) -> String {
    let one_line = message.replace(['\n', '\r'], " ");
    one_line.replacen(&format!(" at line {line} column {column}"), "", 1)
}

enum ConvertError {
    Tag { tag: String, at: String },
    Key { at: String },
}

/// Short-form tags that become `Fn::<Name>`.
const FN_TAGS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
];

fn yaml_to_json(value: serde_norway::Value, at: &mut Vec<String>) -> Result<Value, ConvertError> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                at.push(format!("[{i}]"));
                out.push(yaml_to_json(item, at)?);
                at.pop();
            }
            Value::Array(out)
        }
        Y::Mapping(mapping) => {
            let mut out = Map::new();
            for (k, v) in mapping {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(ConvertError::Key { at: path_text(at) }),
                };
                at.push(key.clone());
                let v = yaml_to_json(v, at)?;
                at.pop();
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.strip_prefix('!').unwrap_or(&tag).to_string();
            at.push(tag.clone());
            let inner = yaml_to_json(tagged.value, at)?;
            at.pop();
            let (key, inner) = match name.as_str() {
                "Ref" | "Condition" => (name, inner),
                "GetAtt" => ("Fn::GetAtt".to_string(), split_get_att(inner)),
                n if FN_TAGS.contains(&n) => (format!("Fn::{n}"), inner),
                _ => {
                    return Err(ConvertError::Tag {
                        tag,
                        at: path_text(at),
                    });
                }
            };
            let mut out = Map::new();
            out.insert(key, inner);
            Value::Object(out)
        }
    })
}

/// `!GetAtt Res.Attr.Sub` is `["Res", "Attr.Sub"]`: attribute names may contain dots.
fn split_get_att(inner: Value) -> Value {
    match inner {
        Value::String(s) => match s.split_once('.') {
            Some((res, attr)) => Value::Array(vec![res.into(), attr.into()]),
            None => Value::Array(vec![Value::String(s)]),
        },
        other => other,
    }
}

fn yaml_number(n: &serde_norway::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn path_text(at: &[String]) -> String {
    let mut out = String::new();
    for part in at {
        if !out.is_empty() && !part.starts_with('[') {
            out.push('.');
        }
        out.push_str(part);
    }
    if out.is_empty() { "(top)".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates")
    }

    fn fixture(name: &str) -> Template {
        load(&fixtures().join(name)).expect("fixture parses")
    }

    fn body(yaml: &str) -> Value {
        parse("t.yml", yaml).expect("parses").body
    }

    #[test]
    fn every_short_form_tag_becomes_long_form() {
        let yaml = r#"
Resources:
  R:
    Type: AWS::S3::Bucket
    Properties:
      Ref: !Ref Bucket
      GetAtt: !GetAtt Role.Arn
      GetAttDotted: !GetAtt Db.Endpoint.Address
      GetAttList: !GetAtt [Role, Arn]
      Sub: !Sub "${AWS::StackName}-x"
      SubList: !Sub ["${A}-b", {A: !Ref X}]
      Join: !Join ["-", [a, !Ref B]]
      If: !If [IsProd, a, !Ref AWS::NoValue]
      Select: !Select [0, !GetAZs ""]
      Split: !Split [",", "a,b"]
      FindInMap: !FindInMap [M, K, V]
      ImportValue: !ImportValue shared-vpc
      GetAZs: !GetAZs us-east-1
      Base64: !Base64 hello
      Cidr: !Cidr ["10.0.0.0/16", 4, 8]
      Equals: !Equals [!Ref Env, prod]
      Not: !Not [!Condition IsProd]
      And: !And [!Condition A, !Condition B]
      Or: !Or [!Condition A, !Condition B]
      Condition: !Condition IsProd
"#;
        let props = body(yaml)["Resources"]["R"]["Properties"].clone();
        let expected = json!({
            "Ref": {"Ref": "Bucket"},
            "GetAtt": {"Fn::GetAtt": ["Role", "Arn"]},
            "GetAttDotted": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "GetAttList": {"Fn::GetAtt": ["Role", "Arn"]},
            "Sub": {"Fn::Sub": "${AWS::StackName}-x"},
            "SubList": {"Fn::Sub": ["${A}-b", {"A": {"Ref": "X"}}]},
            "Join": {"Fn::Join": ["-", ["a", {"Ref": "B"}]]},
            "If": {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]},
            "Select": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "Split": {"Fn::Split": [",", "a,b"]},
            "FindInMap": {"Fn::FindInMap": ["M", "K", "V"]},
            "ImportValue": {"Fn::ImportValue": "shared-vpc"},
            "GetAZs": {"Fn::GetAZs": "us-east-1"},
            "Base64": {"Fn::Base64": "hello"},
            "Cidr": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
            "Equals": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "Not": {"Fn::Not": [{"Condition": "IsProd"}]},
            "And": {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
            "Or": {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
            "Condition": {"Condition": "IsProd"},
        });
        assert_eq!(props, expected);
    }

    #[test]
    fn unsupported_tag_is_an_error_naming_where() {
        let err = parse("t.yml", "Resources:\n  R:\n    Type: !Foo x\n").expect_err("unknown tag");
        let msg = err.to_string();
        assert!(
            msg.contains("`!Foo`") && msg.contains("`t.yml`") && msg.contains("Resources.R.Type"),
            "{msg}"
        );
    }

    #[test]
    fn yaml_and_json_fixtures_read_the_same_way() {
        let yaml = fixture("jets-app.yml");
        let json = fixture("jets-controllers.json");
        assert_eq!(
            yaml.body["Resources"]["JetsPreheatJob"]["Properties"]["Role"],
            json!({"Fn::GetAtt": ["IamRole", "Arn"]})
        );
        assert_eq!(
            json.body["Resources"]["PostsControllerIndex"]["Properties"]["Role"],
            json!({"Ref": "IamRole"})
        );
    }

    #[test]
    fn every_good_fixture_parses_and_every_broken_one_fails_with_one_line() {
        let mut good = 0;
        for entry in std::fs::read_dir(fixtures()).expect("fixtures dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                good += 1;
            }
        }
        let mut broken = 0;
        for entry in std::fs::read_dir(fixtures().join("broken")).expect("broken dir") {
            let path = entry.expect("entry").path();
            let err = load(&path).expect_err("broken fixture must fail");
            let msg = err.to_string();
            let file = path.file_name().and_then(|n| n.to_str()).expect("name");
            assert!(msg.contains(file), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            broken += 1;
        }
        assert!(good >= 3 && broken >= 5, "{good} good, {broken} broken");
    }

    #[test]
    fn broken_templates_give_specific_errors() {
        let dir = fixtures().join("broken");
        let err = load(&dir.join("bad-indent.yml")).expect_err("bad yaml");
        assert!(
            matches!(err, TemplateError::InvalidYaml { line: Some(_), .. }),
            "{err}"
        );
        assert!(err.to_string().contains("at line"), "{err}");
        let err = load(&dir.join("trailing-comma.json")).expect_err("bad json");
        assert!(
            matches!(err, TemplateError::InvalidJson { line: Some(_), .. }),
            "{err}"
        );
        let err = load(&dir.join("no-resources.yml")).expect_err("no resources");
        assert!(matches!(err, TemplateError::NoResources { .. }), "{err}");
        let err = load(&dir.join("list.yml")).expect_err("not a mapping");
        assert!(matches!(err, TemplateError::NotAMapping { .. }), "{err}");
        let err = load(&dir.join("resources-list.json")).expect_err("resources list");
        assert!(
            matches!(err, TemplateError::ResourcesNotAMapping { .. }),
            "{err}"
        );
        let err = load(&fixtures().join("does-not-exist.yml")).expect_err("missing");
        assert!(matches!(err, TemplateError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("does-not-exist.yml"), "{err}");
        let err = parse_bytes("bin", &[0xff, 0xfe, 0x00]).expect_err("binary");
        assert!(matches!(err, TemplateError::NotUtf8 { .. }), "{err}");
        let err = parse("empty.yml", "").expect_err("empty");
        assert!(matches!(err, TemplateError::NotAMapping { .. }), "{err}");
    }
}
