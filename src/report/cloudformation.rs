//! The `Policies` / `ManagedPolicyArns` of the role as Jets writes them into its template.
//!
//! Jets builds the template as a Ruby hash and writes it with `YAML.dump(template, line_width:
//! -1)` (Psych over libyaml), then unquotes `"!Ref …"`-style strings
//! (`lib/jets/cfn/builder/post_process.rb`). This renderer writes the same bytes for the values a
//! policy holds, so the output can be diffed against `.jets/templates` or a deployed template:
//! block style, sequences not indented under their key, and Psych's choice of quoting (`'*'` is
//! written `"*"`, `2012-10-17` is quoted so YAML readers keep it a string). The golden files
//! under `tests/fixtures/jets-golden` come from running Jets' own code (`scripts/jets-golden`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::core::profile::RequiredPermissions;

/// YAML as it appears under the role's `Properties`, as Jets 6 writes it: every policy Jets
/// generates (including `VpcPolicy` whenever `default_vpc_policy` is not empty), and the managed
/// policy ARNs in Jets' order.
pub fn role_properties(r: &RequiredPermissions) -> String {
    let policies: Vec<Value> = r
        .policies
        .iter()
        .map(|p| {
            let mut m = Map::new();
            m.insert("PolicyName".into(), Value::String(p.name.clone()));
            m.insert("PolicyDocument".into(), p.document.clone());
            Value::Object(m)
        })
        .collect();
    let mut props = Map::new();
    props.insert("Policies".into(), Value::Array(policies));
    props.insert(
        "ManagedPolicyArns".into(),
        Value::Array(
            r.managed_policy_arns
                .iter()
                .cloned()
                .map(Value::String)
                .collect(),
        ),
    );
    post_process(&dump(&Value::Object(props)))
}

/// `YAML.dump(value, line_width: -1)` for a JSON-shaped value.
pub fn dump(value: &Value) -> String {
    let mut out = String::from("---");
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(m, 0, &mut out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            sequence(a, 0, &mut out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

/// A value that fits on its key's or dash's line: a scalar, or an empty collection.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

/// Writes `key: value` lines at `indent`; a nested sequence starts at the key's column, a
/// nested mapping two further in.
fn mapping(m: &Map<String, Value>, indent: usize, out: &mut String) {
    for (i, (key, value)) in m.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar(key));
        out.push(':');
        entry_value(value, indent, indent + 2, out);
    }
}

/// Writes `- item` lines at `indent`; the first line of each item follows its dash.
fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push('-');
        match item {
            Value::Object(m) if !m.is_empty() => {
                out.push(' ');
                mapping(m, indent + 2, out);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push(' ');
                sequence(a, indent + 2, out);
            }
            Value::Null => out.push('\n'),
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn entry_value(value: &Value, key_indent: usize, child_indent: usize, out: &mut String) {
    if !is_block(value) {
        if !matches!(value, Value::Null) {
            out.push(' ');
            out.push_str(&inline(value));
        }
        out.push('\n');
        return;
    }
    out.push('\n');
    match value {
        Value::Array(a) => {
            out.push_str(&" ".repeat(key_indent));
            sequence(a, key_indent, out);
        }
        Value::Object(m) => {
            out.push_str(&" ".repeat(child_indent));
            mapping(m, child_indent, out);
        }
        _ => {}
    }
}

/// Psych's quoting of a string (`Psych::Visitors::YAMLTree#visit_String`), then libyaml's: a
/// string starting with a non-word character is double-quoted; one that would read back as
/// another type (number, boolean, null, date, time) is single-quoted; one that plain style
/// cannot carry (`: `, ` #`, surrounding spaces) is single-quoted; control characters force
/// double quotes. Strings with line breaks are double-quoted here, where Psych would use a
/// literal block; policies do not hold them.
fn scalar(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.contains('\n') || s == "y" || s == "n" {
        return double_quoted(s);
    }
    let starts_with_word = s
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    if !starts_with_word && !s.contains('"') {
        return double_quoted(s);
    }
    if resolves_to_non_string(s) || OCTAL_WITH_8_OR_9.is_match(s) {
        return single_quoted(s);
    }
    if s.chars().any(|c| !printable(c)) {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        s.to_owned()
    } else {
        single_quoted(s)
    }
}

/// libyaml's printable set: tab and other C0 controls, DEL, C1 controls and the BOM are not.
fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// Whether libyaml may write the string unquoted in block context.
fn plain_allowed(s: &str) -> bool {
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_is_blank = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        let prev_is_blank = i > 0 && chars.get(i - 1).is_some_and(|p| p.is_whitespace());
        match c {
            ':' if next_is_blank => return false,
            '#' if prev_is_blank => return false,
            _ => {}
        }
    }
    true
}

static OCTAL_WITH_8_OR_9: LazyLock<Regex> = LazyLock::new(|| re(r"\A0[0-7]*[89]"));

static STRING_LIKE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[^\d.:-]?[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]+"));
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$",
    )
});
static DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$"));
static SEXAGESIMAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(\.[0-9_]*)?$"));
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")
});
static INTEGER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$",
    )
});

#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern")
}

/// Psych's `ScalarScanner#tokenize` returns something other than the string itself.
fn resolves_to_non_string(s: &str) -> bool {
    if STRING_LIKE.is_match(s) {
        if s.chars().count() > 5 {
            return false;
        }
        let lower = s.to_ascii_lowercase();
        return matches!(
            lower.as_str(),
            "~" | "null" | "yes" | "true" | "on" | "no" | "false" | "off"
        );
    }
    TIME.is_match(s)
        || DATE.is_match(s)
        || s.starts_with(':') && s.chars().count() > 1
        || SEXAGESIMAL.is_match(s)
        || (FLOAT.is_match(s) && !matches!(s, "." | "+." | "-."))
        || INTEGER.is_match(s)
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if !printable(c) => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Jets' `PostProcess`: `key: "!Ref X"` and `- "!GetAtt X.Arn"` lose their quotes so
/// CloudFormation reads them as tags.
fn post_process(text: &str) -> String {
    static VALUE: LazyLock<Regex> = LazyLock::new(|| re(r#": "(.*)""#));
    static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r#"- "(.*)""#));
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.contains(": \"!") {
            out.push_str(&VALUE.replacen(line, 1, ": $1"));
        } else if line.contains("- \"!") {
            out.push_str(&ITEM.replacen(line, 1, "- $1"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each pair was produced by `ruby -ryaml -e 'puts YAML.dump([s], line_width: -1)'`
    /// (Ruby 3.1, Psych 4).
    #[test]
    fn strings_are_quoted_as_psych_quotes_them() {
        for (input, psych) in [
            ("*", "\"*\""),
            ("s3:*", "s3:*"),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/*"),
            ("2012-10-17", "'2012-10-17'"),
            ("Allow", "Allow"),
            ("true", "'true'"),
            ("123", "'123'"),
            (":x", "\":x\""),
            ("a: b", "'a: b'"),
            ("#x", "\"#x\""),
            ("y", "\"y\""),
            ("", "''"),
            ("1.5", "'1.5'"),
            ("null", "'null'"),
            ("a #b", "'a #b'"),
            ("x:", "'x:'"),
            ("-x", "\"-x\""),
            ("it's", "it's"),
            ("ok ", "'ok '"),
            ("${AWS::Region}", "\"${AWS::Region}\""),
            ("0x1F", "'0x1F'"),
            ("1e3", "1e3"),
            ("08", "'08'"),
            ("no", "'no'"),
            ("Yes", "'Yes'"),
            ("a\tb", "\"a\\tb\""),
            ("1_000", "'1_000'"),
            ("1:30", "'1:30'"),
            ("2012-1-1", "'2012-1-1'"),
            ("2012-10-17T10:00:00Z", "'2012-10-17T10:00:00Z'"),
            ("0.0.0.0", "0.0.0.0"),
            ("NaN", "NaN"),
            ("yesx", "yesx"),
            ("eu-west-1", "eu-west-1"),
            ("111122223333", "'111122223333'"),
            (
                "arn:aws:s3:::${aws:username}/*",
                "arn:aws:s3:::${aws:username}/*",
            ),
            ("x=y", "x=y"),
        ] {
            assert_eq!(scalar(input), psych, "{input:?}");
        }
    }

    #[test]
    fn nesting_follows_psych_block_style() {
        // From `YAML.dump({"a"=>nil, "s"=>[nil, [1,[2,3]], {"x"=>[1], "y"=>{"z"=>nil}}, [], {}],
        // "m"=>{"k"=>[{"a"=>1}]}}, line_width: -1)`.
        let value = json!({"a": null, "s": [null, [1, [2, 3]], {"x": [1], "y": {"z": null}}, [], {}], "m": {"k": [{"a": 1}]}});
        assert_eq!(
            dump(&value),
            "---\na:\ns:\n-\n- - 1\n  - - 2\n    - 3\n- x:\n  - 1\n  \"y\":\n    z:\n- []\n- {}\nm:\n  k:\n  - a: 1\n"
        );
        assert_eq!(dump(&json!({"Policies": []})), "---\nPolicies: []\n");
    }

    #[test]
    fn tag_strings_are_unquoted_as_jets_post_processes_them() {
        let text = dump(&json!({"Resource": "!Ref Bucket", "List": ["!GetAtt Role.Arn"]}));
        assert_eq!(
            post_process(&text),
            "---\nResource: !Ref Bucket\nList:\n- !GetAtt Role.Arn\n"
        );
    }
}
