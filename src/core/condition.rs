//! Condition operators and their evaluation, following AWS's rules for missing keys.
//!
//! The rules, from AWS's "Condition operators", "Conditions with multiple context keys or
//! values" and "Single-valued vs. multivalued context keys" pages:
//! - Clauses are ANDed. A clause's policy values are ORed; for negated operators
//!   (`StringNotEquals`, `NotIpAddress`, ...) they are NORed: the request value must match none.
//! - An absent key makes a clause false, except for negated operators and `...IfExists`, where
//!   it is true. `Null` tests absence itself. A key present with no values counts as null for
//!   `Null`, as AWS documents for `Null: false` guarding `ForAllValues`.
//! - `ForAnyValue:` is true when at least one request value satisfies the operator and false for
//!   an absent key or an empty set. `ForAllValues:` is true when every request value satisfies
//!   it, and true for an absent key or an empty set. With a negated operator each request value
//!   must satisfy the negated test (`ForAllValues:StringNotEquals`: no request value equals any
//!   policy value). `IfExists` does not change set operators: absence is already decided by the
//!   qualifier, as the Cloud Copilot IAM simulator documents after testing against AWS.
//! - A set qualifier on a single-valued key treats the value as a one-element set; AWS warns
//!   this "can lead to overly permissive policies", which is what it does.
//! - A multivalued key used without a set qualifier is not defined by AWS (its docs only say such
//!   keys "require" one). Here a positive operator matches when any request value matches, and a
//!   negated one when none does, which keeps the single-value meaning of both. The Cloud Copilot
//!   simulator instead makes such clauses false.
//! - Values that do not parse as the operator's type (numbers, dates, booleans, base64, IP
//!   addresses and CIDRs, six-part ARNs), on either side, make the clause false, negated or not.
//!   AWS refuses most such values when a policy is saved; failing closed keeps a bad value from
//!   reading as a match.
//! - Policy variables are substituted in the values of string and ARN operators, the ones AWS
//!   allows them in. A value with an unresolved variable matches no request value.

use std::cmp::Ordering;
use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::context::Context;
use super::pattern::Case;
use super::policy::ConditionClause;
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

/// The result of evaluating conditions against a request context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionOutcome {
    pub matched: bool,
    /// Context keys that were absent and whose presence could change `matched`: condition keys
    /// and keys named by unresolved policy variables, as written in the policy, in policy order,
    /// without duplicates. For a match, every absent key the match relied on; for a non-match,
    /// only those of the clauses that failed. This is what a report shows as missing context,
    /// like the simulator's `MissingContextValues`.
    pub missing_keys: Vec<String>,
}

/// Evaluates a statement's condition clauses, ANDed. No clauses is a match.
pub fn evaluate_all(conditions: &[ConditionClause], ctx: &Context) -> ConditionOutcome {
    let outcomes: Vec<ConditionOutcome> = conditions
        .iter()
        .map(|clause| evaluate_clause(clause, ctx))
        .collect();
    let matched = outcomes.iter().all(|o| o.matched);
    let mut missing_keys = Vec::new();
    for o in outcomes.iter().filter(|o| matched || !o.matched) {
        for key in &o.missing_keys {
            push_unique(&mut missing_keys, key);
        }
    }
    ConditionOutcome {
        matched,
        missing_keys,
    }
}

/// Evaluates one `operator: { key: values }` clause. `missing_keys` holds the clause's key when
/// it is absent, and unresolved variable keys when resolving them could flip the result.
pub fn evaluate_clause(clause: &ConditionClause, ctx: &Context) -> ConditionOutcome {
    let op = clause.operator;
    let entry = ctx.get(&clause.key);
    let absent = || vec![clause.key.clone()];

    if op.base == BaseOperator::Null {
        let is_null = entry.is_none_or(|e| e.values.is_empty());
        let matched = clause
            .values
            .iter()
            .any(|v| parse_bool(v) == Some(is_null));
        let missing_keys = if entry.is_none() { absent() } else { Vec::new() };
        return ConditionOutcome {
            matched,
            missing_keys,
        };
    }

    let negated = op.base.is_negated();
    let Some(entry) = entry else {
        let matched = match op.set {
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
            None => op.if_exists || negated,
        };
        return ConditionOutcome {
            matched,
            missing_keys: absent(),
        };
    };
    if entry.values.is_empty() {
        // Nothing to compare: "any value matches" is false, "all values match" and "no value
        // matches" are true.
        let matched = match op.set {
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
            None => negated,
        };
        return ConditionOutcome {
            matched,
            missing_keys: Vec::new(),
        };
    }

    let mut unresolved = Vec::new();
    let Ok(tester) = Tester::new(op.base, &clause.values, ctx, &mut unresolved) else {
        return ConditionOutcome::default();
    };
    let Ok(hits) = entry
        .values
        .iter()
        .map(|v| tester.hit(v))
        .collect::<Result<Vec<bool>, TypeError>>()
    else {
        return ConditionOutcome::default();
    };
    // A request value satisfies the operator when it hits a policy value, or for a negated
    // operator when it hits none.
    let satisfies = |hit: &bool| *hit != negated;
    let matched = match op.set {
        Some(SetQualifier::ForAnyValue) => hits.iter().any(satisfies),
        Some(SetQualifier::ForAllValues) => hits.iter().all(satisfies),
        None if negated => hits.iter().all(satisfies),
        None => hits.iter().any(satisfies),
    };
    // An unresolved value hits nothing; resolving it can only add hits, which can turn a
    // positive operator true or a negated one false.
    let missing_keys = if matched == negated {
        unresolved
    } else {
        Vec::new()
    };
    ConditionOutcome {
        matched,
        missing_keys,
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

/// A clause's policy values, parsed once, tested against each request value. Negated operators
/// use the test of their positive counterpart; the caller applies the negation.
enum Tester {
    Exact(Vec<String>),
    /// Lowercased policy values.
    IgnoreCase(Vec<String>),
    Like(Vec<Vec<Segment>>),
    Numeric(Comparison, Vec<Decimal>),
    Date(Comparison, Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    /// Six components per policy ARN.
    Arn(Vec<Vec<Vec<Segment>>>),
}

impl Tester {
    /// Parses the policy values. Variables are resolved for string and ARN operators; values with
    /// unresolved variables are left out and their variables added to `unresolved`.
    fn new(
        base: BaseOperator,
        values: &[String],
        ctx: &Context,
        unresolved: &mut Vec<String>,
    ) -> Result<Tester, TypeError> {
        use BaseOperator as B;
        let mut resolve = |v: &String| match variables::resolve_segments(v, ctx) {
            Ok(segments) => Some(segments),
            Err(missing) => {
                for key in &missing {
                    push_unique(unresolved, key);
                }
                None
            }
        };
        let flat = |segments: Vec<Segment>| -> String {
            segments
                .into_iter()
                .map(|s| match s {
                    Segment::Pattern(t) | Segment::Literal(t) => t,
                })
                .collect()
        };
        Ok(match base {
            B::StringEquals | B::StringNotEquals => {
                Tester::Exact(values.iter().filter_map(&mut resolve).map(flat).collect())
            }
            B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => Tester::IgnoreCase(
                values
                    .iter()
                    .filter_map(&mut resolve)
                    .map(|s| flat(s).to_lowercase())
                    .collect(),
            ),
            B::StringLike | B::StringNotLike => {
                Tester::Like(values.iter().filter_map(&mut resolve).collect())
            }
            B::NumericEquals | B::NumericNotEquals => {
                Tester::Numeric(Comparison::Equal, parse_all(values, Decimal::parse)?)
            }
            B::NumericLessThan => Tester::Numeric(Comparison::Less, parse_all(values, Decimal::parse)?),
            B::NumericLessThanEquals => {
                Tester::Numeric(Comparison::LessOrEqual, parse_all(values, Decimal::parse)?)
            }
            B::NumericGreaterThan => {
                Tester::Numeric(Comparison::Greater, parse_all(values, Decimal::parse)?)
            }
            B::NumericGreaterThanEquals => {
                Tester::Numeric(Comparison::GreaterOrEqual, parse_all(values, Decimal::parse)?)
            }
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
            B::Bool => Tester::Bool(parse_all(values, parse_bool)?),
            B::BinaryEquals => Tester::Binary(parse_all(values, decode_base64)?),
            B::IpAddress | B::NotIpAddress => Tester::Ip(parse_all(values, Cidr::parse)?),
            B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
                let mut arns = Vec::new();
                for segments in values.iter().filter_map(&mut resolve) {
                    let parts = variables::split_segments(&segments, ':', ARN_PARTS);
                    if parts.len() != ARN_PARTS {
                        return Err(TypeError);
                    }
                    arns.push(parts);
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
            Tester::Exact(ps) => ps.iter().any(|p| p == value),
            Tester::IgnoreCase(ps) => {
                let value = value.to_lowercase();
                ps.iter().any(|p| *p == value)
            }
            Tester::Like(ps) => ps
                .iter()
                .any(|p| variables::segments_match(p, value, Case::Sensitive)),
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
                let parts: Vec<&str> = value.splitn(ARN_PARTS, ':').collect();
                if parts.len() != ARN_PARTS {
                    return Err(TypeError);
                }
                ps.iter().any(|p| {
                    p.iter()
                        .zip(&parts)
                        .all(|(pattern, part)| variables::segments_match(pattern, part, Case::Sensitive))
                })
            }
        })
    }
}

/// `arn:partition:service:region:account:resource`; the resource may itself hold colons.
const ARN_PARTS: usize = 6;

fn parse_all<T>(values: &[String], parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, TypeError> {
    values.iter().map(|v| parse(v).ok_or(TypeError)).collect()
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    int: String,
    frac: String,
}

impl Decimal {
    /// `[+-]digits[.digits]`, with at least one digit on either side of the point.
    fn parse(text: &str) -> Option<Decimal> {
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
            int: int.to_string(),
            frac: frac.to_string(),
        })
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        // With normalized digits, a longer integer part is larger, and fraction digits compare
        // lexicographically.
        let magnitude = self
            .int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl PartialOrd for Decimal {
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
                Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
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
