//! Jets' IAM policy forms, exactly as Jets turns config values into CloudFormation policies.

/// A literal value from a Jets Ruby config file. Only literals are evaluated; anything else
/// (interpolation, method calls, constants) is reported by the reader, never guessed.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string literal (also `%w[]` items).
    Str(String),
    /// A symbol, without the colon.
    Sym(String),
    Array(Vec<Literal>),
    /// Key order as written. Keys are usually symbols (`Action:`) or strings (`"Action" =>`).
    Hash(Vec<(Literal, Literal)>),
}

use serde_json::{Map, Value, json};

/// One inline policy as Jets would put it on the role.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GeneratedPolicy {
    pub name: String,
    pub document: Value,
}

/// A value Jets itself would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error(
        "invalid policy hash for `{policy}`: it needs `Action`, `Statement` or `PolicyDocument`"
    )]
    InvalidHash { policy: String },
    #[error(
        "invalid policy value for `{policy}`: expected a string, an array or a hash, found {found}"
    )]
    InvalidValue { policy: String, found: &'static str },
}

impl Literal {
    fn kind(&self) -> &'static str {
        match self {
            Literal::Nil => "nil",
            Literal::Bool(_) => "a boolean",
            Literal::Int(_) | Literal::Float(_) => "a number",
            Literal::Str(_) => "a string",
            Literal::Sym(_) => "a symbol",
            Literal::Array(_) => "an array",
            Literal::Hash(_) => "a hash",
        }
    }

    /// The text of a string or symbol.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Literal::Str(s) | Literal::Sym(s) => Some(s),
            _ => None,
        }
    }

    /// Looks a key up in a hash, matching symbol and string keys alike.
    pub fn get(&self, key: &str) -> Option<&Literal> {
        match self {
            Literal::Hash(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The JSON this literal becomes in the CloudFormation template.
    pub fn to_json(&self) -> Value {
        match self {
            Literal::Nil => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => json!(i),
            Literal::Float(f) => json!(f),
            Literal::Str(s) | Literal::Sym(s) => Value::String(s.clone()),
            Literal::Array(items) => Value::Array(items.iter().map(Literal::to_json).collect()),
            Literal::Hash(pairs) => {
                let mut m = Map::new();
                for (k, v) in pairs {
                    let key = match k {
                        Literal::Str(s) | Literal::Sym(s) => s.clone(),
                        other => other.to_json().to_string(),
                    };
                    m.insert(key, v.to_json());
                }
                Value::Object(m)
            }
        }
    }
}

/// `"s3"` means every action of the service; `"s3:GetObject"` is kept.
pub fn action_from_string(s: &str) -> String {
    if s.contains(':') {
        s.to_string()
    } else {
        format!("{s}:*")
    }
}

/// A managed policy name without `arn:` is an AWS managed policy.
pub fn managed_policy_arn(name: &str) -> String {
    if name.contains("arn:") {
        name.to_string()
    } else {
        format!("arn:aws:iam::aws:policy/{name}")
    }
}

fn allow_statement(actions: Vec<String>) -> Value {
    json!({"Action": actions, "Effect": "Allow", "Resource": "*"})
}

/// Turns a policy config value into the policy Jets generates, following Jets' `Policy`
/// class: definitions are compacted, flattened and de-duplicated; all strings become one
/// statement; in a mixed array each string is its own statement, a hash with `Statement`
/// contributes its statements and a hash with `Action` is a statement as-is; a single hash
/// with `Action`, `Statement` or `PolicyDocument` is one whole policy. Returns `None` for an
/// empty value (Jets drops the policy), and warnings for forms Jets handles loosely.
pub fn standardize(
    policy_name: &str,
    value: &Literal,
) -> Result<(Option<GeneratedPolicy>, Vec<String>), FormError> {
    let mut warnings = Vec::new();
    if let Literal::Hash(_) = value {
        return Ok((Some(standardize_hash(policy_name, value)?), warnings));
    }
    let mut defs: Vec<&Literal> = Vec::new();
    flatten(value, &mut defs);
    let mut unique: Vec<&Literal> = Vec::new();
    for d in defs {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    if unique.is_empty() {
        return Ok((None, warnings));
    }
    let statements: Vec<Value> = if unique.iter().all(|d| d.as_text().is_some()) {
        let actions = unique
            .iter()
            .filter_map(|d| d.as_text())
            .map(action_from_string)
            .collect();
        vec![allow_statement(actions)]
    } else {
        let mut out = Vec::new();
        for d in unique {
            match d {
                Literal::Str(s) | Literal::Sym(s) => {
                    out.push(allow_statement(vec![action_from_string(s)]))
                }
                Literal::Hash(_) => {
                    if let Some(st) = d.get("Statement") {
                        match st.to_json() {
                            Value::Array(items) => out.extend(items),
                            other => out.push(other),
                        }
                    } else if d.get("Action").is_some() {
                        out.push(d.to_json());
                    } else if let Some(doc) = d.get("PolicyDocument") {
                        let name = d
                            .get("PolicyName")
                            .and_then(Literal::as_text)
                            .unwrap_or("?");
                        warnings.push(format!(
                            "policy hash `{name}` inside an array: its statements are merged into `{policy_name}`"
                        ));
                        match doc.get("Statement").map(Literal::to_json) {
                            Some(Value::Array(items)) => out.extend(items),
                            Some(other) => out.push(other),
                            None => {
                                return Err(FormError::InvalidHash {
                                    policy: policy_name.to_string(),
                                });
                            }
                        }
                    } else {
                        return Err(FormError::InvalidHash {
                            policy: policy_name.to_string(),
                        });
                    }
                }
                other => {
                    return Err(FormError::InvalidValue {
                        policy: policy_name.to_string(),
                        found: other.kind(),
                    });
                }
            }
        }
        out
    };
    Ok((
        Some(GeneratedPolicy {
            name: policy_name.to_string(),
            document: json!({"Version": "2012-10-17", "Statement": statements}),
        }),
        warnings,
    ))
}

fn flatten<'a>(value: &'a Literal, out: &mut Vec<&'a Literal>) {
    match value {
        Literal::Nil => {}
        Literal::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other),
    }
}

fn standardize_hash(policy_name: &str, hash: &Literal) -> Result<GeneratedPolicy, FormError> {
    if hash.get("Action").is_some() {
        return Ok(GeneratedPolicy {
            name: policy_name.to_string(),
            document: json!({"Version": "2012-10-17", "Statement": [hash.to_json()]}),
        });
    }
    if hash.get("Statement").is_some() {
        return Ok(GeneratedPolicy {
            name: policy_name.to_string(),
            document: hash.to_json(),
        });
    }
    if let Some(doc) = hash.get("PolicyDocument") {
        let name = hash
            .get("PolicyName")
            .and_then(Literal::as_text)
            .unwrap_or(policy_name);
        return Ok(GeneratedPolicy {
            name: name.to_string(),
            document: doc.to_json(),
        });
    }
    Err(FormError::InvalidHash {
        policy: policy_name.to_string(),
    })
}

/// Why Jets 6's own policy code (`lib/jets/cfn/iam/policy.rb`, `managed_policy.rb`) cannot turn a
/// config value into a policy: it raises, so the role is never built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JetsFailure {
    #[error("is {found}, not an array: Jets calls `compact` on it and raises NoMethodError")]
    NotAList { found: &'static str },
    #[error(
        "is a hash not wrapped in an array: Jets flattens it into its keys and values (`{flattened}`) before reading it and {outcome}"
    )]
    BareHash { flattened: String, outcome: String },
    #[error(
        "holds a hash with neither `Action:` nor `Statement:` as a symbol key (its keys: {keys}): Jets reads `definition[:Action]`, gets nil and raises NoMethodError"
    )]
    HashWithoutAction { keys: String, policy_document: bool },
    #[error(
        "holds {found} (`{shown}`) among its items: Jets only takes strings and hashes there and raises NoMethodError"
    )]
    NotStringOrHash { found: &'static str, shown: String },
    #[error(
        "holds {found} (`{shown}`): Jets calls `include?(\"arn:\")` on each managed policy and raises NoMethodError"
    )]
    ManagedNotString { found: &'static str, shown: String },
}

impl JetsFailure {
    /// What happens to the command that builds the role (`jets bootstrap`) on this value.
    #[must_use]
    pub fn consequence(&self, built_by: &str) -> String {
        match self {
            Self::BareHash { outcome, .. } if !outcome.starts_with("raises") => {
                format!("`{built_by}` would build a policy from it that is not the one written")
            }
            _ => format!("`{built_by}` will fail on it"),
        }
    }

    /// The form that works, for the help line.
    #[must_use]
    pub fn fix(&self) -> String {
        const STATEMENT: &str = "{Action: [\"s3:GetObject\"], Effect: \"Allow\", Resource: \"*\"}";
        match self {
            Self::NotAList { .. } => "write it as an array, e.g. `[\"s3\", \"sqs:SendMessage\"]`".to_owned(),
            Self::BareHash { .. } => format!(
                "wrap it in an array: `[{STATEMENT}]`, or `[{{Statement: [...]}}]` for a whole policy document"
            ),
            Self::HashWithoutAction { policy_document: true, .. } => format!(
                "Jets names the policy itself: give the document's statements instead, `[{{Statement: [{STATEMENT}]}}]`"
            ),
            Self::HashWithoutAction { .. } => format!(
                "write each statement with PascalCase symbol keys, e.g. `{STATEMENT}`, or a hash with `Statement:`"
            ),
            Self::NotStringOrHash { .. } => {
                "write each action as a string: `\"s3\"` (all of S3) or `\"s3:GetObject\"`".to_owned()
            }
            Self::ManagedNotString { .. } => {
                "write each managed policy as a string: a name such as `\"AmazonS3ReadOnlyAccess\"` or an ARN".to_owned()
            }
        }
    }
}

/// Ruby's `inspect`-like rendering, short, to show a value in a message.
fn shown(value: &Literal) -> String {
    let text = match value {
        Literal::Nil => "nil".to_owned(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Str(s) => format!("{s:?}"),
        Literal::Sym(s) => format!(":{s}"),
        Literal::Array(items) => format!(
            "[{}]",
            items.iter().map(shown).collect::<Vec<_>>().join(", ")
        ),
        Literal::Hash(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| match k {
                    Literal::Sym(k) => format!("{k}: {}", shown(v)),
                    k => format!("{} => {}", shown(k), shown(v)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text
    }
}

/// Ruby's `compact.flatten.uniq` on a config value, as Jets' `Policy` and `ManagedPolicy` start.
/// `Array#compact` drops top-level nils only and `Array#flatten` flattens every level;
/// `Hash#compact` drops nil values and `Hash#flatten` gives `[k1, v1, k2, v2, ...]`, one level.
fn compact_flatten_uniq(value: &Literal) -> Result<Vec<&Literal>, JetsFailure> {
    fn deep<'a>(items: &'a [Literal], out: &mut Vec<&'a Literal>) {
        for item in items {
            match item {
                Literal::Array(inner) => deep(inner, out),
                other => out.push(other),
            }
        }
    }
    let mut flat = Vec::new();
    match value {
        Literal::Array(items) => {
            for item in items {
                match item {
                    Literal::Nil => {}
                    Literal::Array(inner) => deep(inner, &mut flat),
                    other => flat.push(other),
                }
            }
        }
        Literal::Hash(pairs) => {
            for (k, v) in pairs.iter().filter(|(_, v)| *v != Literal::Nil) {
                flat.push(k);
                match v {
                    Literal::Array(inner) => flat.extend(inner.iter()),
                    other => flat.push(other),
                }
            }
        }
        other => {
            return Err(JetsFailure::NotAList {
                found: other.kind(),
            });
        }
    }
    let mut unique: Vec<&Literal> = Vec::new();
    for item in flat {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    Ok(unique)
}

/// A hash key Jets reads with `definition.key?(:Name)`: a symbol, never a string.
fn symbol_key<'a>(hash: &'a [(Literal, Literal)], name: &str) -> Option<&'a Literal> {
    hash.iter()
        .find(|(k, _)| matches!(k, Literal::Sym(s) if s == name))
        .map(|(_, v)| v)
}

/// The statements Jets 6's `Policy#standardize` gives for a config value, or why it raises.
/// `Ok(None)` when the value is empty and Jets drops the policy. Statements keep the config's
/// literals (key order and symbol/string keys) so a renderer can write them as Jets does.
///
/// # Errors
/// For every value on which Jets' own code raises (or, for a hash not wrapped in an array,
/// never reads the hash as a policy): `jets bootstrap` cannot build the role from it.
pub fn jets6_statements(value: &Literal) -> Result<Option<Vec<Literal>>, JetsFailure> {
    if let Literal::Hash(_) = value {
        let flattened = Literal::Array(compact_flatten_uniq(value)?.into_iter().cloned().collect());
        // With only string keys and values the flattened list is a list of action names.
        let outcome = match jets6_statements(&flattened) {
            Ok(Some(statements)) => format!(
                "grants the actions named after them instead (`{}`)",
                shown(&Literal::Array(statements))
            ),
            _ => "raises NoMethodError on them".to_owned(),
        };
        return Err(JetsFailure::BareHash {
            flattened: shown(&flattened),
            outcome,
        });
    }
    let definitions = compact_flatten_uniq(value)?;
    if definitions.is_empty() {
        return Ok(None);
    }
    if definitions.iter().all(|d| matches!(d, Literal::Str(_))) {
        let actions = definitions
            .iter()
            .filter_map(|d| d.as_text())
            .map(|a| Literal::Str(action_from_string(a)))
            .collect();
        return Ok(Some(vec![allow_literal(actions)]));
    }
    let mut statements = Vec::new();
    for definition in definitions {
        match definition {
            Literal::Str(s) => {
                statements.push(allow_literal(vec![Literal::Str(action_from_string(s))]))
            }
            Literal::Hash(pairs) => {
                if let Some(st) = symbol_key(pairs, "Statement") {
                    statements.push(st.clone());
                } else if symbol_key(pairs, "Action").is_some() {
                    statements.push(definition.clone());
                } else {
                    let keys = pairs
                        .iter()
                        .map(|(k, _)| format!("`{}`", shown(k)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(JetsFailure::HashWithoutAction {
                        keys: if keys.is_empty() {
                            "none".to_owned()
                        } else {
                            keys
                        },
                        policy_document: definition.get("PolicyDocument").is_some(),
                    });
                }
            }
            other => {
                return Err(JetsFailure::NotStringOrHash {
                    found: other.kind(),
                    shown: shown(other),
                });
            }
        }
    }
    // `.flatten` after the map: a `Statement:` array contributes its items, at every depth.
    let mut flat = Vec::new();
    flatten_all(&statements, &mut flat);
    Ok(Some(flat))
}

fn flatten_all(items: &[Literal], out: &mut Vec<Literal>) {
    for item in items {
        match item {
            Literal::Array(inner) => flatten_all(inner, out),
            other => out.push(other.clone()),
        }
    }
}

fn allow_literal(actions: Vec<Literal>) -> Literal {
    Literal::Hash(vec![
        (Literal::Sym("Action".into()), Literal::Array(actions)),
        (Literal::Sym("Effect".into()), Literal::Str("Allow".into())),
        (Literal::Sym("Resource".into()), Literal::Str("*".into())),
    ])
}

/// The policy Jets 6 generates for a config value (see [`jets6_statements`]).
///
/// # Errors
/// When Jets' own code fails on the value.
pub fn jets6_policy(
    policy_name: &str,
    value: &Literal,
) -> Result<Option<GeneratedPolicy>, JetsFailure> {
    Ok(jets6_statements(value)?.map(|statements| GeneratedPolicy {
        name: policy_name.to_string(),
        document: json!({
            "Version": "2012-10-17",
            "Statement": statements.iter().map(Literal::to_json).collect::<Vec<_>>(),
        }),
    }))
}

/// The managed policy ARNs Jets 6's `ManagedPolicy#standardize` gives: `compact.flatten.uniq`
/// on the names, then each mapped to an ARN (so two spellings of one policy stay two entries).
///
/// # Errors
/// When Jets' own code fails on the value.
pub fn jets6_managed_policy_arns(value: &Literal) -> Result<Vec<String>, JetsFailure> {
    compact_flatten_uniq(value)?
        .into_iter()
        .map(|item| match item {
            Literal::Str(name) => Ok(managed_policy_arn(name)),
            other => Err(JetsFailure::ManagedNotString {
                found: other.kind(),
                shown: shown(other),
            }),
        })
        .collect()
}

/// Managed policy names or ARNs from a config value, in order, de-duplicated.
pub fn managed_policy_arns(value: &Literal) -> Vec<String> {
    let mut defs = Vec::new();
    flatten(value, &mut defs);
    let mut out: Vec<String> = Vec::new();
    for d in defs {
        if let Some(t) = d.as_text() {
            let arn = managed_policy_arn(t);
            if !out.contains(&arn) {
                out.push(arn);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Literal {
        Literal::Str(x.to_string())
    }
    fn sym(x: &str) -> Literal {
        Literal::Sym(x.to_string())
    }
    fn hash(pairs: Vec<(&str, Literal)>) -> Literal {
        Literal::Hash(pairs.into_iter().map(|(k, v)| (sym(k), v)).collect())
    }

    #[test]
    fn all_strings_make_one_statement() {
        let v = Literal::Array(vec![
            s("s3"),
            s("ec2"),
            s("sqs:SendMessage"),
            s("s3"),
            Literal::Nil,
        ]);
        let (p, w) = standardize("CustomPolicy", &v).expect("valid");
        let p = p.expect("non-empty");
        assert!(w.is_empty());
        assert_eq!(p.name, "CustomPolicy");
        assert_eq!(
            p.document,
            json!({"Version":"2012-10-17","Statement":[{"Action":["s3:*","ec2:*","sqs:SendMessage"],"Effect":"Allow","Resource":"*"}]})
        );
    }

    #[test]
    fn nested_arrays_are_flattened() {
        let v = Literal::Array(vec![Literal::Array(vec![s("s3")]), s("logs")]);
        let (p, _) = standardize("DefaultPolicy", &v).expect("valid");
        assert_eq!(
            p.expect("policy").document["Statement"][0]["Action"],
            json!(["s3:*", "logs:*"])
        );
    }

    #[test]
    fn empty_value_drops_the_policy() {
        assert_eq!(
            standardize("VpcPolicy", &Literal::Array(vec![]))
                .expect("ok")
                .0,
            None
        );
        assert_eq!(standardize("VpcPolicy", &Literal::Nil).expect("ok").0, None);
    }

    #[test]
    fn mixed_array_statements() {
        let v = Literal::Array(vec![
            s("s3"),
            hash(vec![
                ("Action", Literal::Array(vec![s("sqs:SendMessage")])),
                ("Effect", s("Allow")),
                ("Resource", s("arn:aws:sqs:us-east-1:111122223333:q")),
            ]),
            hash(vec![(
                "Statement",
                Literal::Array(vec![hash(vec![
                    ("Action", s("sns:Publish")),
                    ("Effect", s("Allow")),
                    ("Resource", s("*")),
                ])]),
            )]),
        ]);
        let (p, _) = standardize("CustomPolicy", &v).expect("valid");
        let st = p.expect("policy").document["Statement"].clone();
        assert_eq!(st.as_array().map(Vec::len), Some(3));
        assert_eq!(
            st[0],
            json!({"Action":["s3:*"],"Effect":"Allow","Resource":"*"})
        );
        assert_eq!(
            st[1]["Resource"],
            json!("arn:aws:sqs:us-east-1:111122223333:q")
        );
        assert_eq!(st[2]["Action"], json!("sns:Publish"));
    }

    #[test]
    fn top_level_hash_forms() {
        let action = hash(vec![
            ("Action", s("s3:*")),
            ("Effect", s("Allow")),
            ("Resource", s("*")),
        ]);
        let (p, _) = standardize("CustomPolicy", &action).expect("valid");
        assert_eq!(
            p.expect("policy").document["Statement"][0]["Action"],
            json!("s3:*")
        );

        let doc = hash(vec![
            ("Version", s("2012-10-17")),
            ("Statement", Literal::Array(vec![action.clone()])),
        ]);
        let (p, _) = standardize("CustomPolicy", &doc).expect("valid");
        assert_eq!(p.expect("policy").document, doc.to_json());

        let whole = hash(vec![
            ("PolicyName", s("MyPolicy")),
            ("PolicyDocument", doc.clone()),
        ]);
        let (p, _) = standardize("CustomPolicy", &whole).expect("valid");
        let p = p.expect("policy");
        assert_eq!(p.name, "MyPolicy");
        assert_eq!(p.document, doc.to_json());

        let unnamed = hash(vec![("PolicyDocument", doc)]);
        assert_eq!(
            standardize("CustomPolicy", &unnamed)
                .expect("valid")
                .0
                .expect("p")
                .name,
            "CustomPolicy"
        );

        let bad = hash(vec![("Effect", s("Allow"))]);
        assert_eq!(
            standardize("CustomPolicy", &bad),
            Err(FormError::InvalidHash {
                policy: "CustomPolicy".into()
            })
        );
    }

    #[test]
    fn policy_hash_inside_array_is_merged_with_a_warning() {
        // The seed's example: an array item that is a whole policy.
        let doc = hash(vec![
            ("Version", s("2012-10-17")),
            (
                "Statement",
                Literal::Array(vec![hash(vec![
                    ("Action", Literal::Array(vec![s("s3:*")])),
                    ("Effect", s("Allow")),
                    ("Resource", s("*")),
                ])]),
            ),
        ]);
        let v = Literal::Array(vec![hash(vec![
            ("PolicyName", s("MyPolicy")),
            ("PolicyDocument", doc),
        ])]);
        let (p, w) = standardize("CustomPolicy", &v).expect("valid");
        assert_eq!(
            p.expect("policy").document["Statement"][0]["Action"],
            json!(["s3:*"])
        );
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("MyPolicy"));
    }

    #[test]
    fn invalid_scalar_in_mixed_array() {
        let v = Literal::Array(vec![s("s3"), Literal::Int(3)]);
        assert!(matches!(
            standardize("CustomPolicy", &v),
            Err(FormError::InvalidValue {
                found: "a number",
                ..
            })
        ));
    }

    #[test]
    fn managed_arns() {
        let v = Literal::Array(vec![
            s("AmazonS3FullAccess"),
            s("arn:aws:iam::111122223333:policy/Mine"),
            s("AmazonS3FullAccess"),
        ]);
        assert_eq!(
            managed_policy_arns(&v),
            vec![
                "arn:aws:iam::aws:policy/AmazonS3FullAccess",
                "arn:aws:iam::111122223333:policy/Mine"
            ]
        );
    }
}
