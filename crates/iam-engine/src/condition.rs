//! Condition operators and their evaluation, following AWS's rules for missing keys.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::context::Context;
use super::pattern::{Case, glob_match};
use super::variables::{self, Segment};

/// `ForAnyValue:` / `ForAllValues:` set qualifiers for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The base condition operators IAM knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOperator {
    pub const ALL: [BaseOperator; 27] = [
        BaseOperator::StringEquals,
        BaseOperator::StringNotEquals,
        BaseOperator::StringEqualsIgnoreCase,
        BaseOperator::StringNotEqualsIgnoreCase,
        BaseOperator::StringLike,
        BaseOperator::StringNotLike,
        BaseOperator::NumericEquals,
        BaseOperator::NumericNotEquals,
        BaseOperator::NumericLessThan,
        BaseOperator::NumericLessThanEquals,
        BaseOperator::NumericGreaterThan,
        BaseOperator::NumericGreaterThanEquals,
        BaseOperator::DateEquals,
        BaseOperator::DateNotEquals,
        BaseOperator::DateLessThan,
        BaseOperator::DateLessThanEquals,
        BaseOperator::DateGreaterThan,
        BaseOperator::DateGreaterThanEquals,
        BaseOperator::Bool,
        BaseOperator::BinaryEquals,
        BaseOperator::IpAddress,
        BaseOperator::NotIpAddress,
        BaseOperator::ArnEquals,
        BaseOperator::ArnLike,
        BaseOperator::ArnNotEquals,
        BaseOperator::ArnNotLike,
        BaseOperator::Null,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BaseOperator::StringEquals => "StringEquals",
            BaseOperator::StringNotEquals => "StringNotEquals",
            BaseOperator::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            BaseOperator::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            BaseOperator::StringLike => "StringLike",
            BaseOperator::StringNotLike => "StringNotLike",
            BaseOperator::NumericEquals => "NumericEquals",
            BaseOperator::NumericNotEquals => "NumericNotEquals",
            BaseOperator::NumericLessThan => "NumericLessThan",
            BaseOperator::NumericLessThanEquals => "NumericLessThanEquals",
            BaseOperator::NumericGreaterThan => "NumericGreaterThan",
            BaseOperator::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            BaseOperator::DateEquals => "DateEquals",
            BaseOperator::DateNotEquals => "DateNotEquals",
            BaseOperator::DateLessThan => "DateLessThan",
            BaseOperator::DateLessThanEquals => "DateLessThanEquals",
            BaseOperator::DateGreaterThan => "DateGreaterThan",
            BaseOperator::DateGreaterThanEquals => "DateGreaterThanEquals",
            BaseOperator::Bool => "Bool",
            BaseOperator::BinaryEquals => "BinaryEquals",
            BaseOperator::IpAddress => "IpAddress",
            BaseOperator::NotIpAddress => "NotIpAddress",
            BaseOperator::ArnEquals => "ArnEquals",
            BaseOperator::ArnLike => "ArnLike",
            BaseOperator::ArnNotEquals => "ArnNotEquals",
            BaseOperator::ArnNotLike => "ArnNotLike",
            BaseOperator::Null => "Null",
        }
    }
}

/// A parsed operator such as `ForAllValues:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub set: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name. Operator names are case-sensitive in IAM.
    pub fn parse(text: &str) -> Result<Operator, String> {
        let (set, rest) = if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = text.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, text)
        };
        let (if_exists, base_text) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = BaseOperator::ALL
            .iter()
            .copied()
            .find(|b| b.name() == base_text)
            .ok_or_else(|| {
                let names: Vec<&str> = BaseOperator::ALL.iter().map(|b| b.name()).collect();
                match super::fuzzy::closest(base_text, names.iter().copied()) {
                    Some(s) => format!("unknown condition operator `{text}` (did you mean `{s}`?)"),
                    None => format!("unknown condition operator `{text}`"),
                }
            })?;
        if base == BaseOperator::Null && if_exists {
            return Err("`NullIfExists` is not a condition operator (use `Null`)".to_string());
        }
        Ok(Operator {
            set,
            base,
            if_exists,
        })
    }
}

impl BaseOperator {
    /// Negated operators NOR their policy values and are true when the key is absent.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionClause {
    /// The operator as written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub operator_text: String,
    pub operator: Operator,
    pub key: String,
    /// Values as strings (JSON numbers and booleans are kept in their JSON text).
    pub values: Vec<String>,
}

/// A three-valued truth: a test on a value the check cannot know ([`Context::set_unknown`]) is
/// `Unknown`. Combined as in Kleene's logic: `False` and anything is `False`, `True` or anything
/// is `True`, otherwise unknown stays unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    pub fn and(self, other: Truth) -> Truth {
        self.min(other)
    }

    pub fn or(self, other: Truth) -> Truth {
        self.max(other)
    }

    pub fn is_true(self) -> bool {
        self == Truth::True
    }

    fn rank(self) -> u8 {
        match self {
            Truth::False => 0,
            Truth::Unknown => 1,
            Truth::True => 2,
        }
    }

    fn min(self, other: Truth) -> Truth {
        if other.rank() < self.rank() {
            other
        } else {
            self
        }
    }

    fn max(self, other: Truth) -> Truth {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
            Truth::True => Truth::False,
        }
    }
}

impl From<bool> for Truth {
    fn from(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
}

/// The result of evaluating conditions against a request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionOutcome {
    pub matched: Truth,
    /// Context keys that were absent and whose presence could change `matched`: condition keys
    /// and keys named by unresolved policy variables, as written in the policy, in policy order,
    /// without duplicates. For a match, every absent key the match relied on; for a non-match,
    /// only those of the clauses that failed. This is what a report shows as missing context,
    /// like the simulator's `MissingContextValues`.
    pub missing_keys: Vec<String>,
    /// When `matched` is `Unknown`: the keys with unknown values it depends on, as written in
    /// the policy, in policy order, without duplicates. Empty otherwise.
    pub unknown_keys: Vec<String>,
}

impl Default for ConditionOutcome {
    /// No match, nothing missing.
    fn default() -> Self {
        ConditionOutcome {
            matched: Truth::False,
            missing_keys: Vec::new(),
            unknown_keys: Vec::new(),
        }
    }
}

impl ConditionOutcome {
    fn decided(matched: bool, missing_keys: Vec<String>) -> Self {
        ConditionOutcome {
            matched: matched.into(),
            missing_keys,
            unknown_keys: Vec::new(),
        }
    }

    fn unknown(key: &str) -> Self {
        ConditionOutcome {
            matched: Truth::Unknown,
            missing_keys: Vec::new(),
            unknown_keys: vec![key.to_string()],
        }
    }
}

/// Evaluates a statement's condition clauses, ANDed. No clauses is a match.
pub fn evaluate_all(conditions: &[ConditionClause], ctx: &Context) -> ConditionOutcome {
    let mut matched = Truth::True;
    // A false outcome is decided by its false clauses alone; otherwise every clause counts.
    // Both lists are kept as the clauses are evaluated, and the outcome picks one.
    let mut missing_of_all = Vec::new();
    let mut missing_of_false = Vec::new();
    let mut unknown_keys = Vec::new();
    for clause in conditions {
        let outcome = evaluate_clause(clause, ctx);
        matched = matched.and(outcome.matched);
        for key in &outcome.missing_keys {
            push_unique(&mut missing_of_all, key);
            if outcome.matched == Truth::False {
                push_unique(&mut missing_of_false, key);
            }
        }
        for key in &outcome.unknown_keys {
            push_unique(&mut unknown_keys, key);
        }
    }
    ConditionOutcome {
        matched,
        missing_keys: if matched == Truth::False {
            missing_of_false
        } else {
            missing_of_all
        },
        unknown_keys: if matched == Truth::Unknown {
            unknown_keys
        } else {
            Vec::new()
        },
    }
}

/// Evaluates one `operator: { key: values }` clause. `missing_keys` holds the clause's key when
/// it is absent, and unresolved variable keys when resolving them could flip the result. A key
/// with an unknown value makes the clause unknown, unless the operator is `Null` on a key that
/// is always present.
///
/// The rules, from AWS's "Condition operators", "Conditions with multiple context keys or
/// values" and "Single-valued vs. multivalued context keys" pages:
/// - Clauses are ANDed. A clause's policy values are ORed; for negated operators
///   (`StringNotEquals`, `NotIpAddress`, ...) they are NORed: the request value must match none.
/// - An absent key makes a clause false, except for negated operators and `...IfExists`, where
///   it is true. `Null` tests absence itself. A key present with no values counts as null for
///   `Null`, as AWS documents for `Null: false` guarding `ForAllValues`.
/// - `ForAnyValue:` is true when at least one request value satisfies the operator and false for
///   an absent key or an empty set. `ForAllValues:` is true when every request value satisfies
///   it, and true for an absent key or an empty set. With a negated operator each request value
///   must satisfy the negated test (`ForAllValues:StringNotEquals`: no request value equals any
///   policy value). `IfExists` does not change set operators: absence is already decided by the
///   qualifier, as the Cloud Copilot IAM simulator (`iam.cloudcopilot.io`) documents.
/// - A set qualifier on a single-valued key treats the value as a one-element set; AWS warns
///   this "can lead to overly permissive policies", which is what it does.
/// - A multivalued key used without a set qualifier is not defined by AWS (its docs only say such
///   keys "require" one). Here a positive operator matches when any request value matches, and a
///   negated one when none does, which keeps the single-value meaning of both. The Cloud Copilot
///   simulator instead makes such clauses false.
/// - Values that do not parse as the operator's type (numbers, dates, booleans, base64, IP
///   addresses and CIDRs, six-part ARNs), on either side, make the clause false, negated or not
///   (the absence rules above come first).
///   AWS refuses most such values when a policy is saved; failing closed keeps a bad value from
///   reading as a match.
/// - `ArnEquals` and `ArnLike` are the same test, as AWS documents: each of the six ARN parts is
///   glob-matched on its own, so a `*` never spans a `:`; the last part may hold colons.
/// - Policy variables are substituted in the values of string, ARN and `Bool` operators, the ones
///   the "Condition operators" page says accept them ("You can use a policy variable with the
///   `Boolean` condition operator"; not with `Numeric`, `Date`, `Binary`, `IpAddress` or `Null`).
///   A value with an unresolved variable matches no request value; a `Bool` value that is not a
///   boolean once substituted matches none either.
/// - A policy value that cannot be a value of its operator (`NumericGreaterThan: "abc"`,
///   `IpAddress: "10.0.0.0/99"`) is a policy error when the policy is parsed
///   ([`policy_value_error`]), as IAM's policy validation reports it; only request values are
///   checked when evaluating.
/// - A key the real request carries with a value the check cannot know (`aws:SourceIp`,
///   `aws:CurrentTime`, see [`Context::set_unknown`]) makes a clause [`Truth::Unknown`], and so
///   does a policy variable on such a key when no known value decides; only `Null` on a key
///   that is always present is decided. Clauses combine in Kleene's three-valued logic.
pub fn evaluate_clause(clause: &ConditionClause, ctx: &Context) -> ConditionOutcome {
    let op = clause.operator;
    let entry = ctx.get(&clause.key);
    let absent = || vec![clause.key.clone()];

    if entry.is_none()
        && let Some(unknown) = ctx.unknown(&clause.key)
    {
        if op.base == BaseOperator::Null && !unknown.may_be_absent {
            // Always present: `Null: false` holds whatever the value.
            let matched = clause.values.iter().any(|v| parse_bool(v) == Some(false));
            return ConditionOutcome::decided(matched, Vec::new());
        }
        return ConditionOutcome::unknown(&clause.key);
    }

    if op.base == BaseOperator::Null {
        let is_null = entry.is_none_or(|e| e.values.is_empty());
        let matched = clause.values.iter().any(|v| parse_bool(v) == Some(is_null));
        let missing_keys = if entry.is_none() {
            absent()
        } else {
            Vec::new()
        };
        return ConditionOutcome::decided(matched, missing_keys);
    }

    let negated = op.base.is_negated();
    let Some(entry) = entry else {
        let matched = match op.set {
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
            None => op.if_exists || negated,
        };
        return ConditionOutcome::decided(matched, absent());
    };
    if entry.values.is_empty() {
        // Nothing to compare: "any value matches" is false, "all values match" and "no value
        // matches" are true.
        let matched = match op.set {
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
            None => negated,
        };
        return ConditionOutcome::decided(matched, Vec::new());
    }

    let mut unresolved = Vec::new();
    let mut unknown = Vec::new();
    let Ok(tester) = Tester::new(op.base, &clause.values, ctx, &mut unresolved, &mut unknown)
    else {
        return ConditionOutcome::default();
    };
    // A policy value with an unknown variable may equal any request value: a request value
    // that hits no known policy value hits it "maybe".
    let miss = if unknown.is_empty() {
        Truth::False
    } else {
        Truth::Unknown
    };
    // A request value satisfies the operator when it hits a policy value, or for a negated
    // operator when it hits none. Whether any and whether all request values do, folded as they
    // are tested; a request value that is not of the operator's type makes the clause false.
    let (mut any, mut all) = (Truth::False, Truth::True);
    for value in &entry.values {
        let Ok(hit) = tester.hit(value) else {
            return ConditionOutcome::default();
        };
        let hit = if hit { Truth::True } else { miss };
        let satisfies = if negated { !hit } else { hit };
        any = any.or(satisfies);
        all = all.and(satisfies);
    }
    let matched = match op.set {
        Some(SetQualifier::ForAnyValue) => any,
        Some(SetQualifier::ForAllValues) => all,
        None if negated => all,
        None => any,
    };
    // An unresolved value hits nothing; resolving it can only add hits, which can turn a
    // positive operator true or a negated one false.
    let missing_keys = if matched == Truth::from(negated) {
        unresolved
    } else {
        Vec::new()
    };
    ConditionOutcome {
        matched,
        missing_keys,
        unknown_keys: if matched == Truth::Unknown {
            unknown
        } else {
            Vec::new()
        },
    }
}

fn push_unique(list: &mut Vec<String>, key: &str) {
    if !list.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        list.push(key.to_string());
    }
}

/// A value that does not parse as the operator's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeError;

/// How a request value compares with a policy value: `NumericLessThan` holds when the request
/// value is less than the policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    fn holds(self, request_vs_policy: Ordering) -> bool {
        match self {
            Comparison::Equal => request_vs_policy == Ordering::Equal,
            Comparison::Less => request_vs_policy == Ordering::Less,
            Comparison::LessOrEqual => request_vs_policy != Ordering::Greater,
            Comparison::Greater => request_vs_policy == Ordering::Greater,
            Comparison::GreaterOrEqual => request_vs_policy != Ordering::Less,
        }
    }
}

/// A string or ARN policy value as it matches request values: policy text without variables
/// as written (most values; matched in place, without copying), or the segments its
/// variables resolved to.
#[derive(Debug)]
enum ValuePattern<'p> {
    Plain(&'p str),
    Resolved(Vec<Segment>),
}

impl<'p> ValuePattern<'p> {
    /// The value, its variables resolved, for `ctx`; `None` when a variable does not resolve.
    /// Text without `${` holds no variable and resolves to itself.
    fn resolve(
        value: &'p str,
        ctx: &Context,
        unresolved: &mut Vec<String>,
        unknown: &mut Vec<String>,
    ) -> Option<ValuePattern<'p>> {
        if !value.contains("${") {
            return Some(ValuePattern::Plain(value));
        }
        match variables::resolve_segments(value, ctx) {
            Ok(segments) => Some(ValuePattern::Resolved(segments)),
            Err(missing) => {
                // An absent key leaves the value unresolved, matching nothing; when every
                // variable left is on a key with an unknown value, the value is unknown.
                if missing.iter().all(|k| ctx.unknown(k).is_some()) {
                    for key in &missing {
                        push_unique(unknown, key);
                    }
                } else {
                    for key in missing.iter().filter(|k| ctx.unknown(k).is_none()) {
                        push_unique(unresolved, key);
                    }
                }
                None
            }
        }
    }

    /// Does `text` match it as a pattern (`StringLike`, `ArnLike`)? Only `*` and `?` of policy
    /// text are wildcards.
    fn matches(&self, text: &str) -> bool {
        match self {
            ValuePattern::Plain(pattern) => glob_match(pattern, text, Case::Sensitive),
            ValuePattern::Resolved(segments) => {
                variables::segments_match(segments, text, Case::Sensitive)
            }
        }
    }

    /// The value as text, for plain comparison.
    fn into_text(self) -> Cow<'p, str> {
        match self {
            ValuePattern::Plain(text) => Cow::Borrowed(text),
            ValuePattern::Resolved(segments) => Cow::Owned(
                segments
                    .into_iter()
                    .map(|s| match s {
                        Segment::Pattern(t) | Segment::Literal(t) => t,
                    })
                    .collect(),
            ),
        }
    }

    /// The six components of a policy ARN, split at the `:` of policy text only (a `:` in a
    /// substituted value does not split); `None` with fewer than six.
    fn arn_parts(self) -> Option<Vec<ValuePattern<'p>>> {
        let parts: Vec<ValuePattern<'p>> = match self {
            ValuePattern::Plain(text) => text
                .splitn(ARN_PARTS, ':')
                .map(ValuePattern::Plain)
                .collect(),
            ValuePattern::Resolved(segments) => {
                variables::split_segments(&segments, ':', ARN_PARTS)
                    .into_iter()
                    .map(ValuePattern::Resolved)
                    .collect()
            }
        };
        (parts.len() == ARN_PARTS).then_some(parts)
    }
}

/// A clause's policy values, parsed once, tested against each request value. Negated operators
/// use the test of their positive counterpart; the caller applies the negation.
enum Tester<'p> {
    /// The values as written, none holding a variable: most `StringEquals` clauses, tested
    /// without building anything.
    ExactAsWritten(&'p [String]),
    Exact(Vec<Cow<'p, str>>),
    /// Lowercased policy values.
    IgnoreCase(Vec<String>),
    /// As [`Tester::ExactAsWritten`], for `StringLike`.
    LikeAsWritten(&'p [String]),
    Like(Vec<ValuePattern<'p>>),
    Numeric(Comparison, Vec<Decimal<'p>>),
    Date(Comparison, Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    /// Six components per policy ARN.
    Arn(Vec<Vec<ValuePattern<'p>>>),
}

impl<'p> Tester<'p> {
    /// Parses the policy values. Variables are resolved for string and ARN operators; values with
    /// unresolved variables are left out and their variables added to `unresolved`.
    fn new(
        base: BaseOperator,
        values: &'p [String],
        ctx: &Context,
        unresolved: &mut Vec<String>,
        unknown: &mut Vec<String>,
    ) -> Result<Tester<'p>, TypeError> {
        use BaseOperator as B;
        let mut resolve =
            |v: &'p String| ValuePattern::resolve(v, ctx, &mut *unresolved, &mut *unknown);
        let as_written = || values.iter().all(|v| !v.contains("${"));
        Ok(match base {
            B::StringEquals | B::StringNotEquals if as_written() => Tester::ExactAsWritten(values),
            B::StringLike | B::StringNotLike if as_written() => Tester::LikeAsWritten(values),
            B::StringEquals | B::StringNotEquals => Tester::Exact(
                values
                    .iter()
                    .filter_map(&mut resolve)
                    .map(ValuePattern::into_text)
                    .collect(),
            ),
            B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => Tester::IgnoreCase(
                values
                    .iter()
                    .filter_map(&mut resolve)
                    .map(|v| v.into_text().to_lowercase())
                    .collect(),
            ),
            B::StringLike | B::StringNotLike => {
                Tester::Like(values.iter().filter_map(&mut resolve).collect())
            }
            B::NumericEquals | B::NumericNotEquals => {
                Tester::Numeric(Comparison::Equal, parse_all(values, Decimal::parse)?)
            }
            B::NumericLessThan => {
                Tester::Numeric(Comparison::Less, parse_all(values, Decimal::parse)?)
            }
            B::NumericLessThanEquals => {
                Tester::Numeric(Comparison::LessOrEqual, parse_all(values, Decimal::parse)?)
            }
            B::NumericGreaterThan => {
                Tester::Numeric(Comparison::Greater, parse_all(values, Decimal::parse)?)
            }
            B::NumericGreaterThanEquals => Tester::Numeric(
                Comparison::GreaterOrEqual,
                parse_all(values, Decimal::parse)?,
            ),
            B::DateEquals | B::DateNotEquals => {
                Tester::Date(Comparison::Equal, parse_all(values, parse_date)?)
            }
            B::DateLessThan => Tester::Date(Comparison::Less, parse_all(values, parse_date)?),
            B::DateLessThanEquals => {
                Tester::Date(Comparison::LessOrEqual, parse_all(values, parse_date)?)
            }
            B::DateGreaterThan => Tester::Date(Comparison::Greater, parse_all(values, parse_date)?),
            B::DateGreaterThanEquals => {
                Tester::Date(Comparison::GreaterOrEqual, parse_all(values, parse_date)?)
            }
            B::Bool => Tester::Bool(
                values
                    .iter()
                    .filter_map(&mut resolve)
                    .filter_map(|v| parse_bool(&v.into_text()))
                    .collect(),
            ),
            B::BinaryEquals => Tester::Binary(parse_all(values, decode_base64)?),
            B::IpAddress | B::NotIpAddress => Tester::Ip(parse_all(values, Cidr::parse)?),
            B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
                let mut arns = Vec::new();
                for value in values.iter().filter_map(&mut resolve) {
                    arns.push(value.arn_parts().ok_or(TypeError)?);
                }
                Tester::Arn(arns)
            }
            // Null never reaches a tester; it has no values to compare.
            B::Null => return Err(TypeError),
        })
    }

    /// Does the request value match at least one policy value?
    fn hit(&self, value: &str) -> Result<bool, TypeError> {
        Ok(match self {
            Tester::ExactAsWritten(ps) => ps.iter().any(|p| p == value),
            Tester::Exact(ps) => ps.iter().any(|p| p == value),
            Tester::IgnoreCase(ps) => {
                let value = value.to_lowercase();
                ps.contains(&value)
            }
            Tester::LikeAsWritten(ps) => ps.iter().any(|p| glob_match(p, value, Case::Sensitive)),
            Tester::Like(ps) => ps.iter().any(|p| p.matches(value)),
            Tester::Numeric(cmp, ps) => {
                let v = Decimal::parse(value).ok_or(TypeError)?;
                ps.iter().any(|p| cmp.holds(v.cmp(p)))
            }
            Tester::Date(cmp, ps) => {
                let v = parse_date(value).ok_or(TypeError)?;
                ps.iter().any(|p| cmp.holds(v.cmp(p)))
            }
            Tester::Bool(ps) => {
                let v = parse_bool(value).ok_or(TypeError)?;
                ps.contains(&v)
            }
            Tester::Binary(ps) => {
                let v = decode_base64(value).ok_or(TypeError)?;
                ps.contains(&v)
            }
            Tester::Ip(ps) => {
                let ip: IpAddr = value.parse().map_err(|_| TypeError)?;
                ps.iter().any(|cidr| cidr.contains(ip))
            }
            Tester::Arn(ps) => {
                let mut parts = [""; ARN_PARTS];
                let mut found = 0;
                for (slot, part) in parts.iter_mut().zip(value.splitn(ARN_PARTS, ':')) {
                    *slot = part;
                    found += 1;
                }
                if found != ARN_PARTS {
                    return Err(TypeError);
                }
                ps.iter().any(|p| {
                    p.iter()
                        .zip(&parts)
                        .all(|(pattern, part)| pattern.matches(part))
                })
            }
        })
    }
}

/// `arn:partition:service:region:account:resource`; the resource may itself hold colons.
const ARN_PARTS: usize = 6;

fn parse_all<'p, T>(
    values: &'p [String],
    parse: impl Fn(&'p str) -> Option<T>,
) -> Result<Vec<T>, TypeError> {
    values.iter().map(|v| parse(v).ok_or(TypeError)).collect()
}

/// Why `value` cannot be a policy value of `base`, when it cannot: a number for the numeric
/// operators, a date for the date operators, `true`/`false` for `Bool` and `Null`, base64 for
/// `BinaryEquals`, an address or CIDR range for `IpAddress`. `substitutes` says whether the policy
/// substitutes policy variables (language version 2012-10-17): a `Bool` value with a variable can
/// only be judged once substituted. The other operators do not take variables, so `${...}` in
/// them is text that is not a value of their type.
pub fn policy_value_error(base: BaseOperator, value: &str, substitutes: bool) -> Option<String> {
    use BaseOperator as B;
    let (valid, expected) = match base {
        B::StringEquals
        | B::StringNotEquals
        | B::StringEqualsIgnoreCase
        | B::StringNotEqualsIgnoreCase
        | B::StringLike
        | B::StringNotLike
        | B::ArnEquals
        | B::ArnLike
        | B::ArnNotEquals
        | B::ArnNotLike => return None,
        B::Bool if substitutes && variables::has_variables(value) => return None,
        B::Bool | B::Null => (parse_bool(value).is_some(), "`true` or `false`"),
        B::NumericEquals
        | B::NumericNotEquals
        | B::NumericLessThan
        | B::NumericLessThanEquals
        | B::NumericGreaterThan
        | B::NumericGreaterThanEquals => (Decimal::parse(value).is_some(), "a number"),
        B::DateEquals
        | B::DateNotEquals
        | B::DateLessThan
        | B::DateLessThanEquals
        | B::DateGreaterThan
        | B::DateGreaterThanEquals => (
            parse_date(value).is_some(),
            "a date (ISO 8601 such as `2026-01-31T12:00:00Z`, or epoch seconds)",
        ),
        B::BinaryEquals => (decode_base64(value).is_some(), "base64"),
        B::IpAddress | B::NotIpAddress => (
            Cidr::parse(value).is_some(),
            "an IP address or CIDR range such as `10.0.0.0/8`",
        ),
    };
    if valid {
        return None;
    }
    let variable_note = if variables::has_variables(value) {
        if substitutes {
            " (policy variables are not substituted in this operator)"
        } else {
            " (policy variables are plain text before policy language version 2012-10-17)"
        }
    } else {
        ""
    };
    Some(format!(
        "`{value}` is not a value for `{}`: it takes {expected}{variable_note}",
        base.name()
    ))
}

/// Whether `text` is a boolean as the `Bool` operator reads it.
pub fn is_bool(text: &str) -> bool {
    parse_bool(text).is_some()
}

/// Whether `text` is a date as the date operators read it.
pub fn is_date(text: &str) -> bool {
    parse_date(text).is_some()
}

/// Whether `text` is a number as the numeric operators read it.
pub fn is_number(text: &str) -> bool {
    Decimal::parse(text).is_some()
}

/// `true`/`false` in any case, as IAM accepts them.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Standard base64; padding optional, since producers differ on it.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

/// An exact decimal number, so large account-sized integers and decimals compare without
/// floating-point rounding. Digits are normalized: no leading zeros in `int`, no trailing zeros
/// in `frac`, and zero is never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    /// `[+-]digits[.digits]`, with at least one digit on either side of the point.
    fn parse(text: &'a str) -> Option<Decimal<'a>> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        Some(Decimal {
            negative: negative && !(int.is_empty() && frac.is_empty()),
            int,
            frac,
        })
    }
}

impl Ord for Decimal<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // With normalized digits, a longer integer part is larger, and fraction digits compare
        // lexicographically.
        let magnitude = self
            .int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Dates as IAM accepts them: epoch seconds (`1704067200`) or W3C/ISO 8601 (`2024-01-01`,
/// `2024-01-01T00:00Z`, `2024-01-01T02:00:00.5+02:00`). Times without an offset are UTC.
fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d.with_timezone(&Utc));
    }
    let with_offset = match text.strip_suffix(['Z', 'z']) {
        Some(rest) => format!("{rest}+00:00"),
        None => text.to_string(),
    };
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(&with_offset, format) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(text, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
}

/// An address range from `IpAddress`: a CIDR or a single address. Host bits in the policy value
/// (`10.1.2.3/8`) are ignored, as for any network prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cidr {
    V4 { network: u32, mask: u32 },
    V6 { network: u128, mask: u128 },
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let prefix_len = |max: u32| -> Option<u32> {
            match prefix {
                None => Some(max),
                Some(p)
                    if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    p.parse::<u32>().ok().filter(|n| *n <= max)
                }
                Some(_) => None,
            }
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let bits = prefix_len(32)?;
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                Some(Cidr::V4 {
                    network: u32::from(a) & mask,
                    mask,
                })
            }
            IpAddr::V6(a) => {
                let bits = prefix_len(128)?;
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                Some(Cidr::V6 {
                    network: u128::from(a) & mask,
                    mask,
                })
            }
        }
    }

    /// Addresses of the other family never match.
    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Cidr::V4 { network, mask }, IpAddr::V4(a)) => u32::from(a) & mask == network,
            (Cidr::V6 { network, mask }, IpAddr::V6(a)) => u128::from(a) & mask == network,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(op: &str, key: &str, values: &[&str]) -> ConditionClause {
        ConditionClause {
            operator_text: op.to_string(),
            operator: Operator::parse(op).expect("known operator"),
            key: key.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn one(key: &str, value: &str) -> Context {
        Context::new().with(key, value)
    }

    fn multi(key: &str, values: &[&str]) -> Context {
        let mut c = Context::new();
        c.set_multi(key, values.iter().map(|v| v.to_string()).collect());
        c
    }

    fn eval(op: &str, key: &str, values: &[&str], ctx: &Context) -> bool {
        evaluate_all(&[clause(op, key, values)], ctx)
            .matched
            .is_true()
    }

    // ---- operator table ----

    #[test]
    fn negated_operators_are_the_eight_aws_lists() {
        let negated: Vec<&str> = BaseOperator::ALL
            .iter()
            .filter(|b| b.is_negated())
            .map(|b| b.name())
            .collect();
        assert_eq!(
            negated,
            [
                "StringNotEquals",
                "StringNotEqualsIgnoreCase",
                "StringNotLike",
                "NumericNotEquals",
                "DateNotEquals",
                "NotIpAddress",
                "ArnNotEquals",
                "ArnNotLike"
            ]
        );
    }

    #[test]
    fn absent_key_for_every_operator_and_if_exists() {
        let empty = Context::new();
        for base in BaseOperator::ALL {
            if base == BaseOperator::Null {
                continue;
            }
            let name = base.name();
            let plain = evaluate_all(&[clause(name, "aws:Missing", &["1"])], &empty);
            assert_eq!(plain.matched, Truth::from(base.is_negated()), "{name}");
            assert_eq!(
                plain.missing_keys,
                vec!["aws:Missing".to_string()],
                "{name}"
            );
            let if_exists = format!("{name}IfExists");
            let o = evaluate_all(&[clause(&if_exists, "aws:Missing", &["1"])], &empty);
            assert!(o.matched.is_true(), "{if_exists}");
            assert_eq!(
                o.missing_keys,
                vec!["aws:Missing".to_string()],
                "{if_exists}"
            );
        }
    }

    #[test]
    fn if_exists_compares_when_present() {
        let c = one("aws:RequestedRegion", "eu-west-1");
        assert!(eval(
            "StringEqualsIfExists",
            "aws:RequestedRegion",
            &["eu-west-1"],
            &c
        ));
        assert!(!eval(
            "StringEqualsIfExists",
            "aws:RequestedRegion",
            &["us-east-1"],
            &c
        ));
        assert!(!eval(
            "StringNotEqualsIfExists",
            "aws:RequestedRegion",
            &["eu-west-1"],
            &c
        ));
        assert!(!eval(
            "NumericLessThanIfExists",
            "aws:RequestedRegion",
            &["5"],
            &c
        ));
    }

    // ---- strings ----

    #[test]
    fn string_equals_is_case_sensitive_and_ors_values() {
        let c = one("aws:PrincipalTag/team", "Blue");
        assert!(eval("StringEquals", "aws:PrincipalTag/team", &["Blue"], &c));
        assert!(!eval(
            "StringEquals",
            "aws:PrincipalTag/team",
            &["blue"],
            &c
        ));
        assert!(eval(
            "StringEquals",
            "aws:PrincipalTag/team",
            &["red", "Blue"],
            &c
        ));
        assert!(!eval(
            "StringEquals",
            "aws:PrincipalTag/team",
            &["Blu*"],
            &c
        ));
        assert!(!eval("StringEquals", "aws:PrincipalTag/team", &[], &c));
    }

    #[test]
    fn condition_keys_are_case_insensitive() {
        let c = one("aws:PrincipalTag/team", "Blue");
        assert!(eval("StringEquals", "AWS:principaltag/TEAM", &["Blue"], &c));
    }

    #[test]
    fn string_not_equals_nors_values() {
        let c = one("aws:PrincipalTag/role", "audit");
        assert!(!eval(
            "StringNotEquals",
            "aws:PrincipalTag/role",
            &["audit", "security"],
            &c
        ));
        assert!(eval(
            "StringNotEquals",
            "aws:PrincipalTag/role",
            &["dev", "security"],
            &c
        ));
        assert!(eval(
            "StringNotEquals",
            "aws:PrincipalTag/role",
            &["AUDIT"],
            &c
        ));
        assert!(eval("StringNotEquals", "aws:PrincipalTag/role", &[], &c));
    }

    #[test]
    fn string_equals_ignore_case() {
        let c = one("aws:PrincipalTag/team", "Blue");
        assert!(eval(
            "StringEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["BLUE"],
            &c
        ));
        assert!(eval(
            "StringEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["x", "bLuE"],
            &c
        ));
        assert!(!eval(
            "StringEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["blu"],
            &c
        ));
        let u = one("k", "ÉCOLE");
        assert!(eval("StringEqualsIgnoreCase", "k", &["école"], &u));
    }

    #[test]
    fn string_not_equals_ignore_case() {
        let c = one("aws:PrincipalTag/team", "Blue");
        assert!(!eval(
            "StringNotEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["BLUE"],
            &c
        ));
        assert!(eval(
            "StringNotEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            &["red", "green"],
            &c
        ));
    }

    #[test]
    fn string_like_globs() {
        let c = one("s3:prefix", "marketing/2024/plan.txt");
        assert!(eval("StringLike", "s3:prefix", &["marketing/*"], &c));
        assert!(eval(
            "StringLike",
            "s3:prefix",
            &["sales/*", "*/2024/*"],
            &c
        ));
        assert!(eval(
            "StringLike",
            "s3:prefix",
            &["marketing/20??/plan.txt"],
            &c
        ));
        assert!(!eval(
            "StringLike",
            "s3:prefix",
            &["marketing/2?/plan.txt"],
            &c
        ));
        assert!(!eval("StringLike", "s3:prefix", &["Marketing/*"], &c));
        assert!(eval("StringLike", "s3:prefix", &["*"], &c));
        assert!(eval(
            "StringLike",
            "s3:prefix",
            &["*"],
            &one("s3:prefix", "")
        ));
    }

    /// Values without `${` are matched in place ([`ValuePattern::Plain`],
    /// [`Tester::LikeAsWritten`], [`Tester::ExactAsWritten`]) rather than through resolved
    /// segments; both must decide every test alike, wildcards, colons, non-ASCII text and empty
    /// values included.
    #[test]
    fn plain_values_decide_as_their_resolved_segments() {
        let ctx = Context::new();
        let values = [
            "",
            "*",
            "?",
            "a*b?c",
            "arn:aws:s3:::b/*",
            "arn:*:iam::*:role/x?",
            "arn:aws:sns:*:*:topic-*:extra",
            "é*",
            "ÉCLAIR",
            "a:b",
            "$",
            "{x}",
            "$x{",
        ];
        let texts = [
            "",
            "a",
            "aXbYc",
            "arn:aws:s3:::b/k",
            "arn:aws:iam::1:role/xy",
            "arn:aws:sns:eu-west-1:1:topic-a:extra",
            "éclair",
            "ÉCLAIR",
            "a:b",
            "$",
            "{x}",
        ];
        for value in values {
            let plain = ValuePattern::resolve(value, &ctx, &mut Vec::new(), &mut Vec::new())
                .expect("no variables to resolve");
            assert!(matches!(plain, ValuePattern::Plain(_)), "{value}");
            let segments = variables::resolve_segments(value, &ctx).expect("no variables");
            let resolved = || ValuePattern::Resolved(segments.clone());
            let written = [value.to_string()];
            for text in texts {
                assert_eq!(
                    plain.matches(text),
                    resolved().matches(text),
                    "`{value}` against `{text}`"
                );
                assert_eq!(
                    Tester::LikeAsWritten(&written).hit(text),
                    Tester::Like(vec![resolved()]).hit(text),
                    "StringLike `{value}` against `{text}`"
                );
                assert_eq!(
                    Tester::ExactAsWritten(&written).hit(text),
                    Tester::Exact(vec![resolved().into_text()]).hit(text),
                    "StringEquals `{value}` against `{text}`"
                );
            }
            let plain_parts = ValuePattern::Plain(value).arn_parts();
            let resolved_parts = resolved().arn_parts();
            assert_eq!(plain_parts.is_some(), resolved_parts.is_some(), "{value}");
            for (p, r) in plain_parts
                .iter()
                .flatten()
                .zip(resolved_parts.iter().flatten())
            {
                for text in texts {
                    assert_eq!(p.matches(text), r.matches(text), "`{value}` part, `{text}`");
                }
            }
            assert_eq!(
                ValuePattern::Plain(value).into_text(),
                resolved().into_text()
            );
        }
    }

    #[test]
    fn string_not_like() {
        let c = one("s3:prefix", "marketing/plan.txt");
        assert!(!eval(
            "StringNotLike",
            "s3:prefix",
            &["sales/*", "marketing/*"],
            &c
        ));
        assert!(eval("StringNotLike", "s3:prefix", &["sales/*", "hr/*"], &c));
    }

    // ---- variables in values ----

    #[test]
    fn variables_are_substituted_in_string_values() {
        let c = one("aws:username", "alice").with("s3:prefix", "home/alice/notes");
        assert!(eval(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}/*"],
            &c
        ));
        assert!(!eval(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}x/*"],
            &c
        ));
        let t = one("aws:PrincipalTag/team", "blue").with("aws:ResourceTag/team", "blue");
        assert!(eval(
            "StringEquals",
            "aws:ResourceTag/team",
            &["${aws:PrincipalTag/team}"],
            &t
        ));
        assert!(eval(
            "StringEqualsIgnoreCase",
            "aws:ResourceTag/team",
            &["${aws:PrincipalTag/team}"],
            &one("aws:PrincipalTag/team", "BLUE").with("aws:ResourceTag/team", "blue")
        ));
    }

    #[test]
    fn escaped_star_in_string_like_is_literal() {
        let star = one("s3:prefix", "a*");
        let other = one("s3:prefix", "ab");
        assert!(eval("StringLike", "s3:prefix", &["a${*}"], &star));
        assert!(!eval("StringLike", "s3:prefix", &["a${*}"], &other));
        assert!(eval("StringLike", "s3:prefix", &["a*"], &other));
        assert!(eval("StringEquals", "s3:prefix", &["a${*}"], &star));
    }

    #[test]
    fn variable_values_are_literal_in_string_like() {
        let c = one("aws:username", "*").with("s3:prefix", "home/bob");
        assert!(!eval(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}"],
            &c
        ));
        let d = one("aws:username", "*").with("s3:prefix", "home/*");
        assert!(eval(
            "StringLike",
            "s3:prefix",
            &["home/${aws:username}"],
            &d
        ));
    }

    #[test]
    fn variable_defaults_apply_in_conditions() {
        let c = one("aws:ResourceTag/team", "shared");
        assert!(eval(
            "StringEquals",
            "aws:ResourceTag/team",
            &["${aws:PrincipalTag/team, 'shared'}"],
            &c
        ));
    }

    #[test]
    fn unresolved_variable_value_never_matches() {
        let c = one("s3:prefix", "home/alice");
        let o = evaluate_all(
            &[clause("StringLike", "s3:prefix", &["home/${aws:username}"])],
            &c,
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:username".to_string()]);
        // Another value can still match; the unresolved one then does not matter.
        let o = evaluate_all(
            &[clause(
                "StringLike",
                "s3:prefix",
                &["home/${aws:username}", "home/*"],
            )],
            &c,
        );
        assert!(o.matched.is_true());
        assert!(o.missing_keys.is_empty());
    }

    #[test]
    fn unresolved_variable_in_negated_value_is_reported() {
        let c = one("aws:ResourceTag/owner", "bob");
        let o = evaluate_all(
            &[clause(
                "StringNotEquals",
                "aws:ResourceTag/owner",
                &["${aws:username}"],
            )],
            &c,
        );
        assert!(o.matched.is_true());
        assert_eq!(o.missing_keys, vec!["aws:username".to_string()]);
        let o = evaluate_all(
            &[clause(
                "StringNotEquals",
                "aws:ResourceTag/owner",
                &["${aws:username}", "bob"],
            )],
            &c,
        );
        assert_eq!(o.matched, Truth::False);
        assert!(o.missing_keys.is_empty());
    }

    #[test]
    fn variables_are_not_substituted_in_numeric_values() {
        let c = one("s3:max-keys", "5").with("aws:username", "10");
        assert!(!eval(
            "NumericLessThan",
            "s3:max-keys",
            &["${aws:username}"],
            &c
        ));
    }

    // ---- numbers ----

    #[test]
    fn numeric_equals_and_not_equals() {
        let c = one("s3:max-keys", "10");
        assert!(eval("NumericEquals", "s3:max-keys", &["10"], &c));
        assert!(eval("NumericEquals", "s3:max-keys", &["10.0"], &c));
        assert!(eval("NumericEquals", "s3:max-keys", &["010", "11"], &c));
        assert!(eval("NumericEquals", "s3:max-keys", &["+10"], &c));
        assert!(!eval("NumericEquals", "s3:max-keys", &["10.01"], &c));
        assert!(!eval("NumericNotEquals", "s3:max-keys", &["10", "20"], &c));
        assert!(eval("NumericNotEquals", "s3:max-keys", &["11", "20"], &c));
    }

    #[test]
    fn numeric_ordering() {
        let c = one("s3:max-keys", "10");
        assert!(eval("NumericLessThan", "s3:max-keys", &["11"], &c));
        assert!(!eval("NumericLessThan", "s3:max-keys", &["10"], &c));
        assert!(eval("NumericLessThanEquals", "s3:max-keys", &["10"], &c));
        assert!(!eval("NumericLessThanEquals", "s3:max-keys", &["9.99"], &c));
        assert!(eval("NumericGreaterThan", "s3:max-keys", &["9.5"], &c));
        assert!(!eval("NumericGreaterThan", "s3:max-keys", &["10"], &c));
        assert!(eval("NumericGreaterThanEquals", "s3:max-keys", &["10"], &c));
        assert!(!eval(
            "NumericGreaterThanEquals",
            "s3:max-keys",
            &["10.5"],
            &c
        ));
    }

    #[test]
    fn numeric_decimals_and_signs() {
        assert!(eval("NumericLessThan", "n", &["0"], &one("n", "-0.5")));
        assert!(eval("NumericLessThan", "n", &["-1"], &one("n", "-2")));
        assert!(eval(
            "NumericGreaterThan",
            "n",
            &["-1.5"],
            &one("n", "-1.25")
        ));
        assert!(eval("NumericEquals", "n", &["0"], &one("n", "-0.000")));
        assert!(eval("NumericEquals", "n", &["0.5"], &one("n", ".5")));
        assert!(eval("NumericEquals", "n", &["5"], &one("n", "5.")));
        assert!(eval("NumericLessThan", "n", &["0.12"], &one("n", "0.1")));
        assert!(eval("NumericGreaterThan", "n", &["0.05"], &one("n", "0.5")));
        assert!(eval(
            "NumericGreaterThan",
            "n",
            &["99.99"],
            &one("n", "100")
        ));
    }

    #[test]
    fn numeric_large_integers_compare_exactly() {
        let c = one("n", "9007199254740993");
        assert!(!eval("NumericEquals", "n", &["9007199254740992"], &c));
        assert!(eval("NumericGreaterThan", "n", &["9007199254740992"], &c));
        assert!(eval(
            "NumericLessThan",
            "n",
            &["123456789012345678901234567890"],
            &c
        ));
    }

    #[test]
    fn numeric_garbage_makes_clause_false() {
        let c = one("s3:max-keys", "ten");
        assert!(!eval("NumericEquals", "s3:max-keys", &["10"], &c));
        assert!(!eval("NumericNotEquals", "s3:max-keys", &["10"], &c));
        let n = one("s3:max-keys", "10");
        assert!(!eval("NumericLessThan", "s3:max-keys", &["abc", "20"], &n));
        assert!(!eval("NumericNotEquals", "s3:max-keys", &["1e3"], &n));
        for bad in [
            "", "-", ".", "+", "1.2.3", "1,5", " 1", "0x10", "NaN", "inf", "--1", "+-1",
        ] {
            assert!(
                !eval("NumericEquals", "n", &["1"], &one("n", bad)),
                "{bad:?}"
            );
            assert!(
                !eval("NumericNotEquals", "n", &["1"], &one("n", bad)),
                "{bad:?}"
            );
        }
    }

    // ---- dates ----

    #[test]
    fn date_formats_are_equivalent() {
        let midnight = [
            "2024-01-01",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00Z",
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T02:00:00+02:00",
            "2023-12-31T19:00:00-05:00",
            "2024-01-01T02:00:00+0200",
            "2024-01-01T00:00:00",
            "1704067200",
        ];
        for policy in midnight {
            for request in midnight {
                assert!(
                    eval(
                        "DateEquals",
                        "aws:CurrentTime",
                        &[policy],
                        &one("aws:CurrentTime", request)
                    ),
                    "{policy} vs {request}"
                );
            }
        }
    }

    #[test]
    fn date_ordering() {
        let c = one("aws:CurrentTime", "2024-06-15T12:00:00Z");
        assert!(eval(
            "DateLessThan",
            "aws:CurrentTime",
            &["2024-06-15T12:00:01Z"],
            &c
        ));
        assert!(!eval(
            "DateLessThan",
            "aws:CurrentTime",
            &["2024-06-15T12:00:00Z"],
            &c
        ));
        assert!(eval(
            "DateLessThanEquals",
            "aws:CurrentTime",
            &["2024-06-15T12:00:00Z"],
            &c
        ));
        assert!(!eval(
            "DateLessThanEquals",
            "aws:CurrentTime",
            &["2024-06-15"],
            &c
        ));
        assert!(eval(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2024-06-15"],
            &c
        ));
        assert!(!eval(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2024-06-16"],
            &c
        ));
        assert!(eval(
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            &["1718452800"],
            &c
        ));
        assert!(!eval(
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            &["1718452801"],
            &c
        ));
        assert!(eval(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2024-06-15T12:00:00.5+01:00"],
            &c
        ));
    }

    #[test]
    fn date_epoch_request_against_iso_policy() {
        let c = one("aws:EpochTime", "1718452800");
        assert!(eval(
            "DateEquals",
            "aws:EpochTime",
            &["2024-06-15T12:00:00Z"],
            &c
        ));
        assert!(eval("DateLessThan", "aws:EpochTime", &["2025-01-01"], &c));
        assert!(eval("DateGreaterThan", "aws:EpochTime", &["0"], &c));
        assert!(eval("DateGreaterThan", "aws:EpochTime", &["-86400"], &c));
    }

    #[test]
    fn date_not_equals() {
        let c = one("aws:CurrentTime", "2024-01-01T00:00:00Z");
        assert!(!eval(
            "DateNotEquals",
            "aws:CurrentTime",
            &["2024-01-01", "2025-01-01"],
            &c
        ));
        assert!(eval(
            "DateNotEquals",
            "aws:CurrentTime",
            &["2025-01-01"],
            &c
        ));
    }

    #[test]
    fn date_garbage_makes_clause_false() {
        let c = one("aws:CurrentTime", "yesterday");
        assert!(!eval(
            "DateLessThan",
            "aws:CurrentTime",
            &["2024-01-01"],
            &c
        ));
        assert!(!eval(
            "DateNotEquals",
            "aws:CurrentTime",
            &["2024-01-01"],
            &c
        ));
        let good = one("aws:CurrentTime", "2024-01-01");
        for bad in [
            "2024-13-01",
            "2024-02-30",
            "2024-01-01T25:00:00Z",
            "",
            "-",
            "99999999999999999999",
            "2024-01-01X",
        ] {
            assert!(
                !eval("DateNotEquals", "aws:CurrentTime", &[bad], &good),
                "{bad:?}"
            );
        }
    }

    // ---- bool ----

    #[test]
    fn bool_is_case_insensitive() {
        let c = one("aws:SecureTransport", "true");
        assert!(eval("Bool", "aws:SecureTransport", &["true"], &c));
        assert!(eval("Bool", "aws:SecureTransport", &["TRUE"], &c));
        assert!(!eval("Bool", "aws:SecureTransport", &["false"], &c));
        assert!(eval(
            "Bool",
            "aws:SecureTransport",
            &["false"],
            &one("aws:SecureTransport", "False")
        ));
    }

    #[test]
    fn bool_garbage_and_absence() {
        assert!(!eval(
            "Bool",
            "aws:SecureTransport",
            &["true"],
            &one("aws:SecureTransport", "yes")
        ));
        assert!(!eval(
            "Bool",
            "aws:SecureTransport",
            &["1"],
            &one("aws:SecureTransport", "true")
        ));
        assert!(!eval(
            "Bool",
            "aws:SecureTransport",
            &["false"],
            &Context::new()
        ));
        assert!(eval(
            "BoolIfExists",
            "aws:SecureTransport",
            &["false"],
            &Context::new()
        ));
        assert!(!eval(
            "BoolIfExists",
            "aws:SecureTransport",
            &["false"],
            &one("aws:SecureTransport", "true")
        ));
    }

    // ---- binary ----

    #[test]
    fn binary_equals_compares_decoded_bytes() {
        let c = one("k", "QmluYXJ5VmFsdWU="); // "BinaryValue"
        assert!(eval("BinaryEquals", "k", &["QmluYXJ5VmFsdWU="], &c));
        assert!(eval("BinaryEquals", "k", &["QmluYXJ5VmFsdWU"], &c));
        assert!(eval("BinaryEquals", "k", &["AAAA", "QmluYXJ5VmFsdWU="], &c));
        assert!(!eval("BinaryEquals", "k", &["QmluYXJ5VmFsdWF="], &c));
        assert!(!eval("BinaryEquals", "k", &["not base64!"], &c));
        assert!(!eval("BinaryEquals", "k", &["AAAA"], &one("k", "%%%")));
        assert!(eval(
            "BinaryEqualsIfExists",
            "k",
            &["AAAA"],
            &Context::new()
        ));
    }

    // ---- IP addresses ----

    #[test]
    fn ipv4_cidr_edges() {
        let cidr = ["203.0.113.0/24"];
        let at = |ip: &str| eval("IpAddress", "aws:SourceIp", &cidr, &one("aws:SourceIp", ip));
        assert!(at("203.0.113.0"));
        assert!(at("203.0.113.255"));
        assert!(at("203.0.113.77"));
        assert!(!at("203.0.112.255"));
        assert!(!at("203.0.114.0"));
    }

    #[test]
    fn ipv4_single_addresses_and_extreme_prefixes() {
        let c = one("aws:SourceIp", "192.0.2.10");
        assert!(eval("IpAddress", "aws:SourceIp", &["192.0.2.10"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["192.0.2.10/32"], &c));
        assert!(!eval("IpAddress", "aws:SourceIp", &["192.0.2.11/32"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["0.0.0.0/0"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["192.0.2.11/31"], &c));
        assert!(!eval("IpAddress", "aws:SourceIp", &["192.0.2.12/31"], &c));
        // Host bits in the policy value are ignored.
        assert!(eval(
            "IpAddress",
            "aws:SourceIp",
            &["192.255.255.255/8"],
            &c
        ));
    }

    #[test]
    fn ipv6_cidr_edges() {
        let cidr = ["2001:db8::/32"];
        let at = |ip: &str| eval("IpAddress", "aws:SourceIp", &cidr, &one("aws:SourceIp", ip));
        assert!(at("2001:db8::"));
        assert!(at("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
        assert!(at("2001:DB8::1"));
        assert!(!at("2001:db9::"));
        assert!(!at("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
        let c = one("aws:SourceIp", "2001:db8::1");
        assert!(eval("IpAddress", "aws:SourceIp", &["2001:db8::1/128"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["2001:db8::1"], &c));
        assert!(!eval("IpAddress", "aws:SourceIp", &["2001:db8::2/128"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["::/0"], &c));
        assert!(eval("IpAddress", "aws:SourceIp", &["2001:db8::/127"], &c));
    }

    #[test]
    fn ip_families_do_not_mix() {
        assert!(!eval(
            "IpAddress",
            "aws:SourceIp",
            &["::/0"],
            &one("aws:SourceIp", "10.0.0.1")
        ));
        assert!(!eval(
            "IpAddress",
            "aws:SourceIp",
            &["0.0.0.0/0"],
            &one("aws:SourceIp", "::1")
        ));
        assert!(eval(
            "IpAddress",
            "aws:SourceIp",
            &["10.0.0.0/8", "2001:db8::/32"],
            &one("aws:SourceIp", "2001:db8::5")
        ));
    }

    #[test]
    fn not_ip_address() {
        let c = one("aws:SourceIp", "10.1.2.3");
        assert!(!eval(
            "NotIpAddress",
            "aws:SourceIp",
            &["192.0.2.0/24", "10.0.0.0/8"],
            &c
        ));
        assert!(eval(
            "NotIpAddress",
            "aws:SourceIp",
            &["192.0.2.0/24", "172.16.0.0/12"],
            &c
        ));
        assert!(eval(
            "NotIpAddress",
            "aws:SourceIp",
            &["192.0.2.0/24"],
            &Context::new()
        ));
    }

    #[test]
    fn ip_garbage_makes_clause_false() {
        let c = one("aws:SourceIp", "10.1.2.3");
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0/8",
            "host",
            "10.0.0.0/8/8",
            "10.0.0.0/0008",
        ] {
            assert!(!eval("IpAddress", "aws:SourceIp", &[bad], &c), "{bad:?}");
            assert!(!eval("NotIpAddress", "aws:SourceIp", &[bad], &c), "{bad:?}");
        }
        let bad_request = one("aws:SourceIp", "not-an-ip");
        assert!(!eval(
            "IpAddress",
            "aws:SourceIp",
            &["0.0.0.0/0"],
            &bad_request
        ));
        assert!(!eval(
            "NotIpAddress",
            "aws:SourceIp",
            &["10.0.0.0/8"],
            &bad_request
        ));
        assert!(!eval(
            "IpAddress",
            "aws:SourceIp",
            &["10.0.0.0/8"],
            &one("aws:SourceIp", "10.0.0.1/32")
        ));
    }

    // ---- ARNs ----

    #[test]
    fn arn_like_matches_per_component() {
        let c = one(
            "aws:PrincipalArn",
            "arn:aws:iam::123456789012:role/admin-ops",
        );
        assert!(eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::*:role/admin-*"],
            &c
        ));
        assert!(eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::123456789012:role/*"],
            &c
        ));
        assert!(eval("ArnLike", "aws:PrincipalArn", &["arn:*:*:*:*:*"], &c));
        assert!(eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::????????????:role/admin-ops"],
            &c
        ));
        assert!(!eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::*:role/dev-*"],
            &c
        ));
        assert!(!eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::210987654321:role/*"],
            &c
        ));
        assert!(!eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:IAM::*:role/*"],
            &c
        ));
    }

    #[test]
    fn arn_wildcards_do_not_cross_components() {
        let c = one("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic");
        // `*` in the region may not swallow the account.
        assert!(!eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:topic"],
            &c
        ));
        assert!(eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:*:topic"],
            &c
        ));
        assert!(!eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1*:topic"],
            &c
        ));
        // Fewer than six components is not an ARN.
        assert!(!eval("ArnLike", "aws:SourceArn", &["arn:*"], &c));
        assert!(!eval("ArnLike", "aws:SourceArn", &["*"], &c));
    }

    #[test]
    fn arn_resource_may_hold_colons() {
        let c = one(
            "aws:SourceArn",
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod",
        );
        assert!(eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:lambda:*:*:function:*"],
            &c
        ));
        assert!(eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:lambda:*:*:function:my-fn:*"],
            &c
        ));
        assert!(!eval(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:lambda:*:*:function:other:*"],
            &c
        ));
    }

    #[test]
    fn arn_equals_allows_wildcards_like_arn_like() {
        let c = one("aws:SourceArn", "arn:aws:s3:::my-bucket");
        assert!(eval(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:s3:::my-*"],
            &c
        ));
        assert!(eval(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:s3:::my-bucket"],
            &c
        ));
        assert!(!eval(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:s3:::other"],
            &c
        ));
    }

    #[test]
    fn arn_negated_operators() {
        let c = one("aws:SourceArn", "arn:aws:s3:::my-bucket");
        assert!(!eval(
            "ArnNotEquals",
            "aws:SourceArn",
            &["arn:aws:s3:::x", "arn:aws:s3:::my-bucket"],
            &c
        ));
        assert!(eval(
            "ArnNotEquals",
            "aws:SourceArn",
            &["arn:aws:s3:::x"],
            &c
        ));
        assert!(!eval(
            "ArnNotLike",
            "aws:SourceArn",
            &["arn:aws:s3:::my-*"],
            &c
        ));
        assert!(eval(
            "ArnNotLike",
            "aws:SourceArn",
            &["arn:aws:s3:::your-*"],
            &c
        ));
    }

    #[test]
    fn arn_garbage_request_makes_clause_false() {
        let c = one("aws:SourceArn", "not:an-arn");
        assert!(!eval("ArnLike", "aws:SourceArn", &["arn:*:*:*:*:*"], &c));
        assert!(!eval(
            "ArnNotLike",
            "aws:SourceArn",
            &["arn:aws:s3:::x"],
            &c
        ));
    }

    #[test]
    fn arn_variables_keep_components() {
        let c = one("aws:username", "a:b")
            .with("aws:PrincipalArn", "arn:aws:iam::123456789012:user/a:b");
        assert!(eval(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::*:user/${aws:username}"],
            &c
        ));
        let d = one("aws:PrincipalAccount", "123456789012")
            .with("aws:PrincipalArn", "arn:aws:iam::123456789012:role/x");
        assert!(eval(
            "ArnEquals",
            "aws:PrincipalArn",
            &["arn:aws:iam::${aws:PrincipalAccount}:role/*"],
            &d
        ));
        let o = evaluate_all(
            &[clause(
                "ArnLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::${aws:PrincipalAccount}:role/*"],
            )],
            &one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/x"),
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:PrincipalAccount".to_string()]);
    }

    // ---- Null ----

    #[test]
    fn null_checks_presence() {
        let present = one("aws:TokenIssueTime", "2024-01-01T00:00:00Z");
        let absent = Context::new();
        assert!(eval("Null", "aws:TokenIssueTime", &["true"], &absent));
        assert!(!eval("Null", "aws:TokenIssueTime", &["true"], &present));
        assert!(eval("Null", "aws:TokenIssueTime", &["false"], &present));
        assert!(!eval("Null", "aws:TokenIssueTime", &["false"], &absent));
        assert!(eval("Null", "aws:TokenIssueTime", &["TRUE"], &absent));
        assert!(!eval("Null", "aws:TokenIssueTime", &["maybe"], &absent));
        assert!(!eval("Null", "aws:TokenIssueTime", &["maybe"], &present));
        assert!(eval(
            "Null",
            "aws:TokenIssueTime",
            &["false", "true"],
            &absent
        ));
    }

    #[test]
    fn null_treats_an_empty_set_as_null() {
        let empty = multi("aws:TagKeys", &[]);
        assert!(eval("Null", "aws:TagKeys", &["true"], &empty));
        assert!(!eval("Null", "aws:TagKeys", &["false"], &empty));
        let o = evaluate_all(&[clause("Null", "aws:TagKeys", &["true"])], &empty);
        assert!(o.missing_keys.is_empty());
    }

    #[test]
    fn null_reports_absent_key() {
        let o = evaluate_all(
            &[clause("Null", "aws:TokenIssueTime", &["false"])],
            &Context::new(),
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:TokenIssueTime".to_string()]);
    }

    // ---- set qualifiers ----

    #[test]
    fn for_any_value_missing_empty_and_multi() {
        let op = "ForAnyValue:StringEquals";
        let o = evaluate_all(&[clause(op, "aws:TagKeys", &["env"])], &Context::new());
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:TagKeys".to_string()]);
        assert!(!eval(
            op,
            "aws:TagKeys",
            &["env"],
            &multi("aws:TagKeys", &[])
        ));
        assert!(eval(
            op,
            "aws:TagKeys",
            &["env"],
            &multi("aws:TagKeys", &["owner", "env"])
        ));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &["env"],
            &multi("aws:TagKeys", &["owner", "cost"])
        ));
        assert!(eval(
            op,
            "aws:TagKeys",
            &["x", "cost"],
            &multi("aws:TagKeys", &["owner", "cost"])
        ));
    }

    #[test]
    fn for_all_values_missing_empty_and_multi() {
        let op = "ForAllValues:StringLike";
        let allowed = ["env", "cost-*"];
        assert!(eval(op, "aws:TagKeys", &allowed, &Context::new()));
        assert!(eval(
            op,
            "aws:TagKeys",
            &allowed,
            &multi("aws:TagKeys", &[])
        ));
        assert!(eval(
            op,
            "aws:TagKeys",
            &allowed,
            &multi("aws:TagKeys", &["env", "cost-center"])
        ));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &allowed,
            &multi("aws:TagKeys", &["env", "owner"])
        ));
        let o = evaluate_all(&[clause(op, "aws:TagKeys", &allowed)], &Context::new());
        assert_eq!(o.missing_keys, vec!["aws:TagKeys".to_string()]);
    }

    #[test]
    fn for_all_values_with_negated_operator() {
        let op = "ForAllValues:StringNotEquals";
        let denied = ["DataClass", "Owner"];
        assert!(eval(op, "aws:TagKeys", &denied, &Context::new()));
        assert!(eval(op, "aws:TagKeys", &denied, &multi("aws:TagKeys", &[])));
        assert!(eval(
            op,
            "aws:TagKeys",
            &denied,
            &multi("aws:TagKeys", &["Dept", "SIC"])
        ));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &denied,
            &multi("aws:TagKeys", &["Dept", "DataClass"])
        ));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &denied,
            &multi("aws:TagKeys", &["DataClass", "Owner"])
        ));
    }

    #[test]
    fn for_any_value_with_negated_operator() {
        let op = "ForAnyValue:StringNotEquals";
        let listed = ["DataClass", "Owner"];
        assert!(!eval(op, "aws:TagKeys", &listed, &Context::new()));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &listed,
            &multi("aws:TagKeys", &[])
        ));
        assert!(!eval(
            op,
            "aws:TagKeys",
            &listed,
            &multi("aws:TagKeys", &["DataClass", "Owner"])
        ));
        assert!(eval(
            op,
            "aws:TagKeys",
            &listed,
            &multi("aws:TagKeys", &["Dept", "DataClass"])
        ));
    }

    #[test]
    fn if_exists_does_not_change_set_qualifiers() {
        let empty = Context::new();
        assert!(!eval(
            "ForAnyValue:StringEqualsIfExists",
            "aws:TagKeys",
            &["a"],
            &empty
        ));
        assert!(!eval(
            "ForAnyValue:StringNotEqualsIfExists",
            "aws:TagKeys",
            &["a"],
            &empty
        ));
        assert!(eval(
            "ForAllValues:StringEqualsIfExists",
            "aws:TagKeys",
            &["a"],
            &empty
        ));
        assert!(eval(
            "ForAnyValue:StringEqualsIfExists",
            "aws:TagKeys",
            &["a"],
            &multi("aws:TagKeys", &["b", "a"])
        ));
    }

    #[test]
    fn set_qualifier_on_single_valued_key_is_a_one_element_set() {
        let c = one("aws:RequestedRegion", "eu-west-1");
        assert!(eval(
            "ForAnyValue:StringEquals",
            "aws:RequestedRegion",
            &["eu-west-1"],
            &c
        ));
        assert!(eval(
            "ForAllValues:StringEquals",
            "aws:RequestedRegion",
            &["eu-west-1", "x"],
            &c
        ));
        assert!(!eval(
            "ForAllValues:StringEquals",
            "aws:RequestedRegion",
            &["x"],
            &c
        ));
    }

    #[test]
    fn set_qualifiers_with_typed_operators() {
        let ips = multi("k", &["10.0.0.1", "10.0.0.2"]);
        assert!(eval("ForAllValues:IpAddress", "k", &["10.0.0.0/24"], &ips));
        assert!(!eval("ForAllValues:IpAddress", "k", &["10.0.0.1"], &ips));
        assert!(eval("ForAnyValue:IpAddress", "k", &["10.0.0.1"], &ips));
        assert!(eval(
            "ForAllValues:NotIpAddress",
            "k",
            &["192.168.0.0/16"],
            &ips
        ));
        let garbage = multi("k", &["10.0.0.1", "nope"]);
        assert!(!eval("ForAnyValue:IpAddress", "k", &["10.0.0.1"], &garbage));
        assert!(!eval(
            "ForAllValues:NotIpAddress",
            "k",
            &["192.168.0.0/16"],
            &garbage
        ));
        let arns = multi("k", &["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]);
        assert!(eval(
            "ForAllValues:ArnLike",
            "k",
            &["arn:aws:iam::1:role/*"],
            &arns
        ));
        assert!(!eval(
            "ForAllValues:ArnNotLike",
            "k",
            &["arn:aws:iam::1:role/b"],
            &arns
        ));
        assert!(eval(
            "ForAnyValue:ArnNotLike",
            "k",
            &["arn:aws:iam::1:role/b"],
            &arns
        ));
    }

    #[test]
    fn multivalued_key_without_qualifier() {
        let c = multi(
            "aws:CalledVia",
            &["athena.amazonaws.com", "glue.amazonaws.com"],
        );
        assert!(eval(
            "StringEquals",
            "aws:CalledVia",
            &["glue.amazonaws.com"],
            &c
        ));
        assert!(!eval(
            "StringEquals",
            "aws:CalledVia",
            &["s3.amazonaws.com"],
            &c
        ));
        assert!(!eval(
            "StringNotEquals",
            "aws:CalledVia",
            &["glue.amazonaws.com"],
            &c
        ));
        assert!(eval(
            "StringNotEquals",
            "aws:CalledVia",
            &["s3.amazonaws.com"],
            &c
        ));
    }

    #[test]
    fn empty_set_without_qualifier_is_present() {
        let c = multi("aws:CalledVia", &[]);
        let pos = evaluate_all(&[clause("StringEquals", "aws:CalledVia", &["x"])], &c);
        assert_eq!(pos.matched, Truth::False);
        assert!(pos.missing_keys.is_empty());
        assert!(eval("StringNotEquals", "aws:CalledVia", &["x"], &c));
        assert!(!eval("StringEqualsIfExists", "aws:CalledVia", &["x"], &c));
    }

    // ---- combining clauses ----

    #[test]
    fn no_conditions_match() {
        let o = evaluate_all(&[], &Context::new());
        assert_eq!(
            o,
            ConditionOutcome {
                matched: Truth::True,
                missing_keys: vec![],
                unknown_keys: vec![]
            }
        );
    }

    #[test]
    fn clauses_are_anded() {
        let c = one("aws:SecureTransport", "true").with("aws:SourceIp", "10.0.0.1");
        let secure = clause("Bool", "aws:SecureTransport", &["true"]);
        let inside = clause("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]);
        let outside = clause("IpAddress", "aws:SourceIp", &["192.168.0.0/16"]);
        assert!(
            evaluate_all(&[secure.clone(), inside], &c)
                .matched
                .is_true()
        );
        assert!(!evaluate_all(&[secure, outside], &c).matched.is_true());
    }

    #[test]
    fn failed_outcome_lists_only_keys_of_failing_clauses() {
        let c = one("aws:SecureTransport", "false");
        let o = evaluate_all(
            &[
                clause("StringNotEquals", "aws:SourceVpc", &["vpc-1"]),
                clause("StringEquals", "aws:SourceVpce", &["vpce-1"]),
                clause("Bool", "aws:SecureTransport", &["true"]),
            ],
            &c,
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:SourceVpce".to_string()]);
    }

    #[test]
    fn matched_outcome_lists_every_absent_key_relied_on() {
        let o = evaluate_all(
            &[
                clause("StringNotEquals", "aws:SourceVpc", &["vpc-1"]),
                clause("StringEqualsIfExists", "aws:SourceVpce", &["vpce-1"]),
                clause("ForAllValues:StringEquals", "aws:TagKeys", &["env"]),
                clause("Null", "aws:TokenIssueTime", &["true"]),
                clause("StringNotEquals", "AWS:SOURCEVPC", &["vpc-2"]),
            ],
            &Context::new(),
        );
        assert!(o.matched.is_true());
        assert_eq!(
            o.missing_keys,
            vec![
                "aws:SourceVpc".to_string(),
                "aws:SourceVpce".to_string(),
                "aws:TagKeys".to_string(),
                "aws:TokenIssueTime".to_string()
            ]
        );
    }

    #[test]
    fn present_keys_are_never_missing() {
        let c = one("aws:SourceVpc", "vpc-1");
        let o = evaluate_all(&[clause("StringEquals", "aws:SourceVpc", &["vpc-2"])], &c);
        assert_eq!(o.matched, Truth::False);
        assert!(o.missing_keys.is_empty());
    }

    // ---- keys with values the check cannot know ----
    //
    // AWS's global condition keys page
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
    // lists keys a real request always carries (`aws:CurrentTime`: "This key is always included
    // in the request context") and keys present only sometimes (`aws:SourceIp`: "except when
    // the requester uses a VPC endpoint"). A clause on such a key is neither true nor false
    // until its value is known.

    fn unknown(key: &str, may_be_absent: bool) -> Context {
        let mut c = Context::new();
        c.set_unknown(key, may_be_absent);
        c
    }

    #[test]
    fn every_operator_on_an_unknown_key_is_unknown() {
        for may_be_absent in [false, true] {
            let c = unknown("aws:SourceIp", may_be_absent);
            for base in BaseOperator::ALL
                .iter()
                .filter(|b| **b != BaseOperator::Null)
            {
                for prefix in ["", "ForAnyValue:", "ForAllValues:"] {
                    for suffix in ["", "IfExists"] {
                        let op = format!("{prefix}{}{suffix}", base.name());
                        let o = evaluate_all(&[clause(&op, "aws:SourceIp", &["1"])], &c);
                        assert_eq!(o.matched, Truth::Unknown, "{op}");
                        assert_eq!(o.unknown_keys, vec!["aws:SourceIp".to_string()], "{op}");
                        assert!(o.missing_keys.is_empty(), "{op}");
                    }
                }
            }
        }
    }

    #[test]
    fn null_is_decided_for_an_always_present_unknown_key() {
        let always = unknown("aws:CurrentTime", false);
        assert!(eval("Null", "aws:CurrentTime", &["false"], &always));
        assert!(!eval("Null", "aws:CurrentTime", &["true"], &always));
        let sometimes = unknown("aws:SourceIp", true);
        let o = evaluate_all(&[clause("Null", "aws:SourceIp", &["true"])], &sometimes);
        assert_eq!(o.matched, Truth::Unknown);
    }

    #[test]
    fn clauses_combine_in_three_values() {
        let c = unknown("aws:SourceIp", true).with("aws:RequestedRegion", "us-east-1");
        let ip = clause("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]);
        let us = clause("StringEquals", "aws:RequestedRegion", &["us-east-1"]);
        let eu = clause("StringEquals", "aws:RequestedRegion", &["eu-west-1"]);
        let o = evaluate_all(&[ip.clone(), us], &c);
        assert_eq!(o.matched, Truth::Unknown);
        assert_eq!(o.unknown_keys, vec!["aws:SourceIp".to_string()]);
        let o = evaluate_all(&[ip, eu], &c);
        assert_eq!(o.matched, Truth::False);
        assert!(o.unknown_keys.is_empty());
    }

    #[test]
    fn a_variable_on_an_unknown_key_may_hit_any_value() {
        let c = unknown("aws:userid", false).with("s3:prefix", "home/");
        // A known value that hits decides; otherwise the unknown value might.
        assert!(eval(
            "StringEquals",
            "s3:prefix",
            &["home/", "${aws:userid}/"],
            &c
        ));
        let o = evaluate_all(
            &[clause("StringEquals", "s3:prefix", &["${aws:userid}/"])],
            &c,
        );
        assert_eq!(o.matched, Truth::Unknown);
        assert_eq!(o.unknown_keys, vec!["aws:userid".to_string()]);
        let o = evaluate_all(
            &[clause("StringNotEquals", "s3:prefix", &["${aws:userid}/"])],
            &c,
        );
        assert_eq!(o.matched, Truth::Unknown);
        // The default of a variable does not stand in for a key the request carries.
        let o = evaluate_all(
            &[clause(
                "StringEquals",
                "s3:prefix",
                &["${aws:userid, 'home'}/"],
            )],
            &c,
        );
        assert_eq!(o.matched, Truth::Unknown);
        // With an absent key beside it, the value never resolves: no match, key missing.
        let o = evaluate_all(
            &[clause(
                "StringEquals",
                "s3:prefix",
                &["${aws:userid}/${aws:PrincipalTag/x}"],
            )],
            &c,
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:PrincipalTag/x".to_string()]);
    }

    #[test]
    fn a_supplied_value_replaces_an_unknown_one() {
        let mut c = unknown("aws:SourceIp", true);
        c.set("aws:SourceIp", "10.1.2.3");
        assert!(c.unknown("aws:SourceIp").is_none());
        assert!(eval("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c));
    }

    // ---- policy variables per operator family ----
    //
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    // says, family by family: "You can use a policy variable with the `String` condition
    // operator", "... with the `Boolean` condition operator", "... with the `ARN` condition
    // operator"; and "You can not use a policy variable with the `Numeric` / `Date` / `Binary` /
    // `IpAddress` / `Null` condition operator".

    #[test]
    fn variables_are_substituted_where_the_operators_page_allows_them() {
        let ctx = one("aws:username", "alice")
            .with("flag", "true")
            .with("k", "alice")
            .with("arn", "arn:aws:iam::111122223333:user/alice")
            .with("aws:SecureTransport", "true")
            .with("aws:MultiFactorAuthPresent", "true");
        // (operator, key, policy value, matches after substitution)
        let rows: &[(&str, &str, &str, bool)] = &[
            ("StringEquals", "k", "${aws:username}", true),
            ("StringNotEquals", "k", "${aws:username}", false),
            ("StringLike", "k", "al${aws:username, 'x'}*", false),
            ("StringEqualsIgnoreCase", "k", "${aws:username}", true),
            (
                "ArnEquals",
                "arn",
                "arn:aws:iam::111122223333:user/${aws:username}",
                true,
            ),
            (
                "ArnNotLike",
                "arn",
                "arn:aws:iam::*:user/${aws:username}",
                false,
            ),
            // The page's own example: "Bool": {"aws:MultiFactorAuthPresent": "${aws:SecureTransport}"}
            (
                "Bool",
                "aws:MultiFactorAuthPresent",
                "${aws:SecureTransport}",
                true,
            ),
            ("Bool", "flag", "${aws:username}", false),
        ];
        for (op, key, value, expected) in rows {
            assert_eq!(
                eval(op, key, &[value], &ctx),
                *expected,
                "{op} {key} {value}"
            );
        }
        let o = evaluate_all(
            &[clause(
                "Bool",
                "aws:MultiFactorAuthPresent",
                &["${aws:SecureTransport}"],
            )],
            &one("aws:MultiFactorAuthPresent", "true"),
        );
        assert_eq!(o.matched, Truth::False);
        assert_eq!(o.missing_keys, vec!["aws:SecureTransport".to_string()]);
    }

    #[test]
    fn operators_without_variables_reject_them_as_values() {
        for (op, what) in [
            ("NumericLessThan", "a number"),
            ("DateGreaterThan", "a date"),
            ("BinaryEquals", "base64"),
            ("IpAddress", "an IP address"),
            ("Null", "`true` or `false`"),
        ] {
            let base = Operator::parse(op).expect("operator").base;
            let e = policy_value_error(base, "${aws:EpochTime}", true)
                .unwrap_or_else(|| panic!("{op} accepted a variable"));
            assert!(e.contains(what), "{op}: {e}");
            assert!(e.contains("not substituted"), "{op}: {e}");
        }
        for op in ["StringEquals", "ArnLike", "Bool"] {
            let base = Operator::parse(op).expect("operator").base;
            assert_eq!(
                policy_value_error(base, "${aws:username}", true),
                None,
                "{op}"
            );
        }
    }

    #[test]
    fn malformed_policy_values_are_named() {
        // (operator, value, rejected)
        let rows: &[(&str, &str, bool)] = &[
            ("NumericGreaterThan", "abc", true),
            ("NumericGreaterThan", "-1.5", false),
            ("IpAddress", "10.0.0.0/99", true),
            ("NotIpAddress", "10.0.0.0/8", false),
            ("IpAddress", "2001:db8::/129", true),
            ("DateGreaterThan", "yesterday", true),
            ("DateGreaterThan", "2026-01-31T12:00:00Z", false),
            ("DateLessThan", "1700000000", false),
            ("Bool", "yes", true),
            ("Bool", "TRUE", false),
            ("Null", "maybe", true),
            ("BinaryEquals", "not base64!", true),
            ("StringEquals", "anything at all", false),
        ];
        for (op, value, rejected) in rows {
            let base = Operator::parse(op).expect("operator").base;
            assert_eq!(
                policy_value_error(base, value, true).is_some(),
                *rejected,
                "{op} {value}"
            );
        }
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let long = "a*".repeat(500);
        let text = "a".repeat(5000);
        assert!(!eval(
            "StringLike",
            "k",
            &[&format!("{long}b")],
            &one("k", &text)
        ));
        let weird = [
            "", ":", "::::::", "${", "${}", "é/${*}", "\u{0}", "-0", "/", "[::1]",
        ];
        for base in BaseOperator::ALL {
            let name = base.name();
            for v in weird {
                for r in weird {
                    let _ = evaluate_all(&[clause(name, "k", &[v])], &one("k", r));
                }
            }
        }
        assert!(eval("ArnLike", "k", &[":::::"], &one("k", ":::::")));
        assert!(!eval("ArnLike", "k", &["::::::"], &one("k", ":::::")));
    }
}
