//! The IAM policy document model, parsed from JSON as AWS accepts it.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

pub use super::condition::ConditionClause;
use super::condition::{self, Operator};
use super::pattern::ActionPatterns;

/// The policy language version in which `${...}` are policy variables.
pub const VARIABLES_VERSION: &str = "2012-10-17";

/// Makes every `${` of a statement's resources and condition values literal text, for policies
/// whose language version has no policy variables: `${$}` is the escape for a literal `$`.
fn literal_variables(st: &mut Statement) {
    let escape = |s: &mut String| {
        if s.contains("${") {
            *s = s.replace("${", "${$}{");
        }
    };
    if let Some(ResourceClause::Resource(list) | ResourceClause::NotResource(list)) =
        &mut st.resource
    {
        list.iter_mut().for_each(escape);
    }
    for clause in &mut st.conditions {
        clause.values.iter_mut().for_each(escape);
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionClause {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceClause {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// The principals of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`
    Any,
    /// `{"AWS": [...], "Service": [...], ...}`; keys as written.
    ByType(Vec<(String, Vec<String>)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalClause {
    Principal(Principals),
    NotPrincipal(Principals),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the policy's statement list, for explanations when there is no Sid.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalClause>,
    pub action: ActionClause,
    /// An index over `action`'s list for matching many actions, built with it by the parser.
    pub(crate) action_patterns: ActionPatterns,
    /// Absent in identity policies is invalid; SCPs may omit it (it then means `*`).
    pub resource: Option<ResourceClause>,
    pub conditions: Vec<ConditionClause>,
    /// The statement's JSON, for showing it in reports.
    pub source: Value,
}

impl Statement {
    /// `Sid` when present, else `#index` (0-based), as shown in reports.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => sid.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

/// A policy document that could not be read. `path` is a JSON path such as
/// `$.Statement[2].Condition.StringEquals`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy `{policy}` is malformed at {path}: {message}")]
pub struct PolicyError {
    pub policy: String,
    pub path: String,
    pub message: String,
}

impl Policy {
    /// Parses a policy document from text: plain JSON, or URL-encoded JSON as IAM returns it.
    /// `name` only labels errors.
    ///
    /// AWS is lenient in shape (a single statement object or an array, strings or arrays of strings,
    /// URL-encoded documents from `GetRolePolicy`) but strict in content. We accept every shape AWS
    /// accepts and reject what it rejects, naming the policy and the JSON path of the problem, so a
    /// malformed document can never silently evaluate as "no statements" and read as a deny or allow.
    pub fn parse(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let err = |message: String| PolicyError {
            policy: name.to_string(),
            path: "$".to_string(),
            message,
        };
        let json_text = document_text(text)
            .ok_or_else(|| err("the document is neither JSON nor URL-encoded JSON".into()))?;
        let value: Value =
            serde_json::from_str(&json_text).map_err(|e| err(format!("not valid JSON ({e})")))?;
        Self::from_owned_value(name, value)
    }

    /// Parses a policy document that is already JSON. A JSON string holding a document (as
    /// `DescribePolicy` `Content` and some SDK outputs give it) is read as that document.
    pub fn from_value(name: &str, value: &Value) -> Result<Policy, PolicyError> {
        if let Value::String(s) = value {
            return Self::parse(name, s);
        }
        Self::from_owned_value(name, value.clone())
    }

    /// [`Policy::from_value`] for a value the policy may keep: each statement's JSON becomes its
    /// [`Statement::source`] without a copy.
    fn from_owned_value(name: &str, value: Value) -> Result<Policy, PolicyError> {
        if let Value::String(s) = &value {
            return Self::parse(name, s);
        }
        Parser { policy: name }.document(value)
    }
}

/// Where in a document a problem is, written out only for an error: a valid document's
/// thousands of elements cost no string each. Displays as a JSON path such as
/// `$.Statement[2].Condition.StringEquals`.
#[derive(Clone, Copy)]
enum JsonPath<'a> {
    Root,
    Key(&'a JsonPath<'a>, &'a str),
    Index(&'a JsonPath<'a>, usize),
}

impl<'a> JsonPath<'a> {
    fn key(&'a self, key: &'a str) -> JsonPath<'a> {
        JsonPath::Key(self, key)
    }

    fn index(&'a self, index: usize) -> JsonPath<'a> {
        JsonPath::Index(self, index)
    }
}

impl fmt::Display for JsonPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonPath::Root => f.write_str("$"),
            JsonPath::Key(parent, key) => write!(f, "{parent}.{key}"),
            JsonPath::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

struct Parser<'a> {
    policy: &'a str,
}

impl Parser<'_> {
    fn err(&self, path: &JsonPath<'_>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            policy: self.policy.to_string(),
            path: path.to_string(),
            message: message.into(),
        }
    }

    fn document(&self, value: Value) -> Result<Policy, PolicyError> {
        let root = JsonPath::Root;
        let Value::Object(obj) = value else {
            return Err(self.err(&root, "a policy document must be a JSON object"));
        };
        let mut version = None;
        let mut id = None;
        let mut statements = Vec::new();
        // `None` until a `Statement` is seen; then whether it was a single statement object.
        let mut single = None;
        for (k, v) in obj {
            let here = root.key(&k);
            match k.as_str() {
                "Version" => {
                    let s = v
                        .as_str()
                        .ok_or_else(|| self.err(&here, "must be a string"))?;
                    if s != "2012-10-17" && s != "2008-10-17" {
                        return Err(self.err(
                            &here,
                            format!("`{s}` is not a policy language version (use `2012-10-17`)"),
                        ));
                    }
                    version = Some(s.to_string());
                }
                "Id" => {
                    id = Some(
                        v.as_str()
                            .ok_or_else(|| self.err(&here, "must be a string"))?
                            .to_string(),
                    );
                }
                "Statement" => match v {
                    Value::Array(items) => {
                        single = Some(false);
                        statements.reserve(items.len());
                        for (i, item) in items.into_iter().enumerate() {
                            statements.push(self.statement(i, item, &here.index(i))?);
                        }
                    }
                    Value::Object(_) => {
                        single = Some(true);
                        statements.push(self.statement(0, v, &here)?);
                    }
                    _ => {
                        return Err(
                            self.err(&here, "must be a statement object or an array of them")
                        );
                    }
                },
                other => {
                    return Err(self.err(
                        &here,
                        format!(
                            "unknown top-level element `{other}` (expected Version, Id, Statement)"
                        ),
                    ));
                }
            }
        }
        let Some(single) = single else {
            return Err(self.err(&root, "the document has no `Statement`"));
        };
        // "If you don't include a Version element set to 2012-10-17, variables such as
        // ${aws:username} won't be recognized as variables and will instead be treated as
        // literal strings" (reference_policies_elements_version).
        let variables = version.as_deref() == Some(VARIABLES_VERSION);
        let list = root.key("Statement");
        for st in &mut statements {
            let at = list.index(st.index);
            self.check_condition_values(st, if single { &list } else { &at }, variables)?;
            if !variables {
                literal_variables(st);
            }
        }
        Ok(Policy {
            version,
            id,
            statements,
        })
    }

    /// Every condition value must be a value of its operator's type, as IAM's policy validation
    /// requires ("Invalid condition data type", access-analyzer-reference-policy-checks).
    fn check_condition_values(
        &self,
        st: &Statement,
        path: &JsonPath<'_>,
        variables: bool,
    ) -> Result<(), PolicyError> {
        for clause in &st.conditions {
            for value in &clause.values {
                if let Some(message) =
                    condition::policy_value_error(clause.operator.base, value, variables)
                {
                    let at = path.key("Condition");
                    let at = at.key(&clause.operator_text);
                    return Err(self.err(
                        &at.key(&clause.key),
                        format!("statement `{}`: {message}", st.label()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// One statement; its JSON is kept as [`Statement::source`].
    fn statement(
        &self,
        index: usize,
        value: Value,
        path: &JsonPath<'_>,
    ) -> Result<Statement, PolicyError> {
        let Value::Object(obj) = &value else {
            return Err(self.err(path, "a statement must be a JSON object"));
        };
        let mut sid = None;
        let mut effect = None;
        let mut principal = None;
        let mut action = None;
        let mut resource = None;
        let mut conditions = Vec::new();
        for (k, v) in obj {
            let here = path.key(k);
            match k.as_str() {
                "Sid" => {
                    sid = Some(
                        v.as_str()
                            .ok_or_else(|| self.err(&here, "must be a string"))?
                            .to_string(),
                    )
                }
                "Effect" => {
                    effect = Some(match v.as_str() {
                        Some("Allow") => Effect::Allow,
                        Some("Deny") => Effect::Deny,
                        _ => return Err(self.err(&here, "must be `Allow` or `Deny`")),
                    })
                }
                "Action" | "NotAction" => {
                    if action.is_some() {
                        return Err(self.err(
                            &here,
                            "a statement has either Action or NotAction, not both",
                        ));
                    }
                    let list = self.string_list(v, &here)?;
                    for (i, a) in list.iter().enumerate() {
                        if a != "*" && !a.contains(':') {
                            return Err(self.err(
                                &here.index(i),
                                format!("`{a}` is not an action (expected `service:Action`, e.g. `s3:GetObject`)"),
                            ));
                        }
                    }
                    action = Some(if k == "Action" {
                        ActionClause::Action(list)
                    } else {
                        ActionClause::NotAction(list)
                    });
                }
                "Resource" | "NotResource" => {
                    if resource.is_some() {
                        return Err(self.err(
                            &here,
                            "a statement has either Resource or NotResource, not both",
                        ));
                    }
                    let list = self.string_list(v, &here)?;
                    resource = Some(if k == "Resource" {
                        ResourceClause::Resource(list)
                    } else {
                        ResourceClause::NotResource(list)
                    });
                }
                "Principal" | "NotPrincipal" => {
                    if principal.is_some() {
                        return Err(self.err(
                            &here,
                            "a statement has either Principal or NotPrincipal, not both",
                        ));
                    }
                    let p = self.principals(v, &here)?;
                    principal = Some(if k == "Principal" {
                        PrincipalClause::Principal(p)
                    } else {
                        PrincipalClause::NotPrincipal(p)
                    });
                }
                "Condition" => conditions = self.conditions(v, &here)?,
                other => {
                    return Err(self.err(&here, format!("unknown statement element `{other}`")));
                }
            }
        }
        let effect = effect.ok_or_else(|| self.err(path, "the statement has no `Effect`"))?;
        let action =
            action.ok_or_else(|| self.err(path, "the statement has no `Action` or `NotAction`"))?;
        let action_patterns = match &action {
            ActionClause::Action(list) | ActionClause::NotAction(list) => ActionPatterns::new(list),
        };
        Ok(Statement {
            index,
            sid,
            effect,
            principal,
            action,
            action_patterns,
            resource,
            conditions,
            source: value,
        })
    }

    fn string_list(&self, v: &Value, path: &JsonPath<'_>) -> Result<Vec<String>, PolicyError> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.err(&path.index(i), "must be a string"))
                })
                .collect(),
            _ => Err(self.err(path, "must be a string or an array of strings")),
        }
    }

    fn principals(&self, v: &Value, path: &JsonPath<'_>) -> Result<Principals, PolicyError> {
        match v {
            Value::String(s) if s == "*" => Ok(Principals::Any),
            Value::Object(map) => map
                .iter()
                .map(|(k, vals)| Ok((k.clone(), self.string_list(vals, &path.key(k))?)))
                .collect::<Result<Vec<_>, _>>()
                .map(Principals::ByType),
            _ => Err(self.err(path, "must be `*` or an object such as {\"AWS\": [...]}")),
        }
    }

    fn conditions(
        &self,
        v: &Value,
        path: &JsonPath<'_>,
    ) -> Result<Vec<ConditionClause>, PolicyError> {
        let ops = v
            .as_object()
            .ok_or_else(|| self.err(path, "must be an object of operators"))?;
        let mut out = Vec::new();
        for (op_text, keys) in ops {
            let op_path = path.key(op_text);
            let operator = Operator::parse(op_text).map_err(|m| self.err(&op_path, m))?;
            let keys = keys
                .as_object()
                .ok_or_else(|| self.err(&op_path, "must be an object of condition keys"))?;
            for (key, vals) in keys {
                let key_path = op_path.key(key);
                let values = match vals {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            scalar(item).ok_or_else(|| {
                                self.err(&key_path.index(i), "must be a string, number or boolean")
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![scalar(other).ok_or_else(|| {
                        self.err(
                            &key_path,
                            "must be a string, number, boolean or an array of them",
                        )
                    })?],
                };
                out.push(ConditionClause {
                    operator_text: op_text.clone(),
                    operator,
                    key: key.clone(),
                    values,
                });
            }
        }
        Ok(out)
    }
}

/// The JSON text of a policy document, from plain JSON or from the URL-encoded form IAM's API
/// returns ("URL-encoded compliant with RFC 3986",
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html>). RFC 3986
/// percent-encoding has no `+` for a space (that is HTML form encoding): `%20` is a space and
/// `+` stays `+`. A leading byte-order mark and surrounding whitespace are dropped. `None` when
/// the percent-decoded bytes are not UTF-8.
pub fn document_text(text: &str) -> Option<Cow<'_, str>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        return Some(Cow::Borrowed(trimmed));
    }
    let decoded = percent_encoding::percent_decode_str(trimmed)
        .decode_utf8()
        .ok()?;
    Some(match decoded {
        Cow::Borrowed(d) => Cow::Borrowed(d.trim()),
        Cow::Owned(d) => Cow::Owned(d.trim().to_string()),
    })
}

/// A JSON scalar as IAM treats it: numbers and booleans in their JSON text.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- condition values and the policy language version ----

    #[test]
    fn regression_malformed_condition_values_in_a_deny_were_skipped() {
        // A value that is not of its operator's type is a policy error naming the policy and
        // statement, as IAM's policy validation reports "Invalid condition data type"
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html).
        for (op, key, value) in [
            ("NumericGreaterThan", "aws:MultiFactorAuthAge", "abc"),
            ("IpAddress", "aws:SourceIp", "10.0.0.0/99"),
            ("DateGreaterThan", "aws:CurrentTime", "yesterday"),
        ] {
            let doc = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Sid":"Lock","Effect":"Deny","Action":"*","Resource":"*","Condition":{{"{op}":{{"{key}":"{value}"}}}}}}]}}"#
            );
            let e = Policy::parse("Guard", &doc).expect_err(op);
            assert_eq!(e.policy, "Guard");
            assert_eq!(e.path, format!("$.Statement[1].Condition.{op}.{key}"));
            assert!(e.message.contains("statement `Lock`"), "{e}");
            assert!(e.message.contains(value), "{e}");
        }
    }

    #[test]
    fn variables_are_literal_text_before_version_2012_10_17() {
        // reference_policies_elements_version: without Version 2012-10-17, "variables such as
        // ${aws:username} won't be recognized as variables and will instead be treated as
        // literal strings in the policy".
        let stmt = r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"StringEquals":{"s3:prefix":"${aws:username}"}}}"#;
        for version in [r#""Version":"2008-10-17","#, ""] {
            let p = Policy::parse("old", &format!(r#"{{{version}"Statement":[{stmt}]}}"#))
                .expect("valid");
            let st = &p.statements[0];
            let Some(ResourceClause::Resource(list)) = &st.resource else {
                panic!("resource");
            };
            let ctx = crate::context::Context::new().with("aws:username", "alice");
            let literal = crate::variables::substitute(&list[0], &ctx);
            assert_eq!(
                literal.resolved(),
                Some("arn:aws:s3:::home/${aws:username}/*"),
                "{version}"
            );
            assert_eq!(
                crate::variables::substitute(&st.conditions[0].values[0], &ctx).resolved(),
                Some("${aws:username}")
            );
        }
        let p = Policy::parse(
            "new",
            &format!(r#"{{"Version":"2012-10-17","Statement":[{stmt}]}}"#),
        )
        .expect("valid");
        let Some(ResourceClause::Resource(list)) = &p.statements[0].resource else {
            panic!("resource");
        };
        assert_eq!(list[0], "arn:aws:s3:::home/${aws:username}/*");
    }

    #[test]
    fn a_bool_variable_is_a_value_only_in_version_2012_10_17() {
        let doc = |version: &str| {
            format!(
                r#"{{{version}"Statement":[{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"${{aws:SecureTransport}}"}}}}}}]}}"#
            )
        };
        assert!(Policy::parse("p", &doc(r#""Version":"2012-10-17","#)).is_ok());
        let e = Policy::parse("p", &doc("")).expect_err("literal text is not a boolean");
        assert!(e.message.contains("plain text"), "{e}");
    }

    #[test]
    fn single_statement_object_and_strings() {
        let p = Policy::parse(
            "p",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .expect("valid");
        assert_eq!(p.statements.len(), 1);
        assert_eq!(
            p.statements[0].action,
            ActionClause::Action(vec!["s3:*".into()])
        );
        assert_eq!(p.statements[0].label(), "#0");
    }

    #[test]
    fn url_encoded_document() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22A%22%2C%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%5B%22iam%3A*%22%5D%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let p = Policy::parse("enc", enc).expect("valid");
        assert_eq!(p.statements[0].effect, Effect::Deny);
        assert_eq!(p.statements[0].label(), "A");
        assert_eq!(
            p.statements[0].action,
            ActionClause::NotAction(vec!["iam:*".into()])
        );
    }

    /// IAM's API returns documents "URL-encoded compliant with RFC 3986"
    /// (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html>): `%20` is
    /// a space, `%2B` and a bare `+` are a plus. Form decoding, which turns `+` into a space,
    /// would change the ARN the statement names.
    #[test]
    fn url_decoding_is_rfc_3986_a_plus_stays_a_plus() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%5B%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%22%2C%22arn%3Aaws%3As3%3A%3A%3Ab%2Fc%20d%22%2C%22arn%3Aaws%3As3%3A%3A%3Ab%2Fe%2Bf%22%5D%7D%7D";
        let p = Policy::parse("enc", enc).expect("valid");
        assert_eq!(
            p.statements[0].resource,
            Some(ResourceClause::Resource(vec![
                "arn:aws:s3:::b/a+b".into(),
                "arn:aws:s3:::b/c d".into(),
                "arn:aws:s3:::b/e+f".into(),
            ]))
        );
        assert_eq!(
            document_text("%7B%22a%22%3A%22x+y%20z%22%7D").as_deref(),
            Some(r#"{"a":"x+y z"}"#)
        );
        // Plain JSON is taken as it is, `%` sequences in its values included.
        assert_eq!(
            document_text("\u{feff} {\"a\":\"%41+\"} ").as_deref(),
            Some(r#"{"a":"%41+"}"#)
        );
        assert_eq!(document_text("%FF%FE"), None);
    }

    #[test]
    fn errors_name_policy_and_path() {
        let e = Policy::parse(
            "mine",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Maybe","Action":"s3:*"}]}"#,
        )
        .expect_err("bad effect");
        assert_eq!(e.policy, "mine");
        assert_eq!(e.path, "$.Statement[1].Effect");
        let e = Policy::parse(
            "x",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3GetObject"}]}"#,
        )
        .expect_err("bad action");
        assert_eq!(e.path, "$.Statement[0].Action[0]");
        let e = Policy::parse("x", "not json").expect_err("garbage");
        assert_eq!(e.path, "$");
        let e = Policy::parse("x", r#"{"Version":"2012-10-17"}"#).expect_err("no statement");
        assert!(e.message.contains("Statement"));
        let e = Policy::parse("x", r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEqualz":{"k":"v"}}}]}"#)
            .expect_err("bad operator");
        assert_eq!(e.path, "$.Statement[0].Condition.StringEqualz");
    }

    /// Paths are written out only when there is an error; each shape of path still reads as
    /// a JSON path to the offending element.
    #[test]
    fn error_paths_name_every_kind_of_element() {
        for (doc, path) in [
            (r#"{"Version":5,"Statement":[]}"#, "$.Version"),
            (r#"{"Id":[],"Statement":[]}"#, "$.Id"),
            (r#"{"Statement":[],"Extra":1}"#, "$.Extra"),
            (r#"{"Statement":7}"#, "$.Statement"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:x"},5]}"#,
                "$.Statement[1]",
            ),
            (r#"{"Statement":{"Action":"s3:x"}}"#, "$.Statement"),
            (
                r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject",7]}}"#,
                "$.Statement.Action[1]",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:x"},{"Effect":"Allow","Action":"s3:x","Principal":{"AWS":["a",1]}}]}"#,
                "$.Statement[1].Principal.AWS[1]",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:x","Condition":{"StringEquals":{"aws:username":["a",null]}}}]}"#,
                "$.Statement[0].Condition.StringEquals.aws:username[1]",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:x","Condition":{"StringEquals":{"aws:username":{}}}}]}"#,
                "$.Statement[0].Condition.StringEquals.aws:username",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:x","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}"#,
                "$.Statement.Condition.NumericLessThan.s3:max-keys",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:x"},{"Effect":"Allow","Action":"s3:x","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/99"}}}]}"#,
                "$.Statement[1].Condition.IpAddress.aws:SourceIp",
            ),
        ] {
            let e = Policy::parse("p", doc).expect_err(doc);
            assert_eq!(e.path, path, "{doc}: {e}");
        }
    }

    #[test]
    fn a_statement_keeps_its_json_from_text_and_from_a_value() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}
        ]});
        let from_text = Policy::parse("p", &doc.to_string()).expect("valid");
        let from_value = Policy::from_value("p", &doc).expect("valid");
        assert_eq!(from_text, from_value);
        for (i, st) in from_text.statements.iter().enumerate() {
            assert_eq!(st.source, doc["Statement"][i]);
        }
    }

    #[test]
    fn condition_values_are_strings() {
        let p = Policy::parse(
            "c",
            r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":[10,"20"]}}}]}"#,
        )
        .expect("valid");
        let c = &p.statements[0].conditions;
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].values, vec!["false"]);
        assert_eq!(c[1].values, vec!["10", "20"]);
    }
}
