//! IAM policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) in resources
//! and condition values.

use super::context::Context;
use super::pattern::{Case, Glob, chars_eq, glob};

/// One run of a resolved template.
///
/// A variable takes the value of the context key it names. Substituted text is data, never
/// pattern: a user named `*` must not turn `arn:aws:s3:::home/${aws:username}` into a wildcard,
/// and `${*}` exists precisely to write a literal asterisk. Resolution therefore yields
/// [`Segment`]s that keep the policy's own text (where `*` and `?` are wildcards) apart from
/// substituted text (always literal), and [`segments_match`] honours that split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text written in the policy itself; `*` and `?` in it are wildcards.
    Pattern(String),
    /// Text from a variable's value, a default or a `${*}`/`${?}`/`${$}` escape; it matches
    /// only itself.
    Literal(String),
}

/// The result of substituting the variables of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Substituted {
    /// Every variable had a value (or a default).
    Resolved(String),
    /// The variables that had no usable value and no default, as written in the policy, in
    /// order of appearance and without duplicates.
    Unresolved(Vec<String>),
}

impl Substituted {
    /// The resolved string, if every variable resolved.
    pub fn resolved(&self) -> Option<&str> {
        match self {
            Substituted::Resolved(s) => Some(s),
            Substituted::Unresolved(_) => None,
        }
    }
}

/// A parsed piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Escape(char),
    Variable {
        key: &'a str,
        default: Option<String>,
    },
}

/// Splits a template into text, escapes and variables.
fn parse(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while let Some(offset) = template.get(i..).and_then(|rest| rest.find("${")) {
        let start = i + offset;
        let after = start + 2;
        match template.get(after..).and_then(parse_variable) {
            Some((piece, consumed)) => {
                if let Some(text) = template.get(text_start..start).filter(|t| !t.is_empty()) {
                    pieces.push(Piece::Text(text));
                }
                pieces.push(piece);
                i = after + consumed;
                text_start = i;
            }
            // `$` is one byte, so `start + 1` is a character boundary.
            None => i = start + 1,
        }
    }
    if let Some(text) = template.get(text_start..).filter(|t| !t.is_empty()) {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// Parses the body of a variable (the text after `${`). Returns the piece and how many bytes it
/// used, including the closing `}`; `None` when the syntax is not a variable.
fn parse_variable(body: &str) -> Option<(Piece<'_>, usize)> {
    let end = body.find(['}', ','])?;
    let key = body.get(..end)?.trim();
    if key.is_empty() {
        return None;
    }
    let special = match key {
        "*" => Some('*'),
        "?" => Some('?'),
        "$" => Some('$'),
        _ if key.contains(['$', '{', '\'']) => return None,
        _ => None,
    };
    let (default, consumed) = if body.get(end..)?.starts_with('}') {
        (None, end + 1)
    } else {
        let (default, used) = parse_default(body.get(end + 1..)?)?;
        (Some(default), end + 1 + used)
    };
    let piece = match special {
        Some(c) => Piece::Escape(c),
        None => Piece::Variable { key, default },
    };
    Some((piece, consumed))
}

/// Parses ` 'default' }` (whitespace optional, `''` for a quote inside the default). Returns the
/// default and the bytes used, including the closing `}`.
fn parse_default(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices().peekable();
    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    chars.next_if(|&(_, c)| c == '\'')?;
    let mut value = String::new();
    loop {
        let (_, c) = chars.next()?;
        if c == '\'' {
            if chars.next_if(|&(_, c)| c == '\'').is_some() {
                value.push('\'');
            } else {
                break;
            }
        } else {
            value.push(c);
        }
    }
    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    let (close, _) = chars.next_if(|&(_, c)| c == '}')?;
    Some((value, close + 1))
}

/// The value a variable takes: the key's only value. Multivalued keys cannot be variables.
fn lookup<'c>(key: &str, ctx: &'c Context) -> Option<&'c str> {
    let entry = ctx.get(key)?;
    if entry.multivalued {
        return None;
    }
    match entry.values.as_slice() {
        [value] => Some(value.as_str()),
        _ => None,
    }
}

fn push_segment(out: &mut Vec<Segment>, segment: Segment) {
    match (out.last_mut(), segment) {
        (Some(Segment::Pattern(last)), Segment::Pattern(s)) => last.push_str(&s),
        (Some(Segment::Literal(last)), Segment::Literal(s)) => last.push_str(&s),
        (_, segment) => out.push(segment),
    }
}

fn push_missing(missing: &mut Vec<String>, key: &str) {
    if !missing.iter().any(|m| m.eq_ignore_ascii_case(key)) {
        missing.push(key.to_string());
    }
}

/// Resolves the variables of `template`, keeping policy text and substituted text apart.
/// Adjacent segments of the same kind are merged; empty text produces no segment.
///
/// Errors with the unresolved variable names (see [`Substituted::Unresolved`]); keys with
/// unknown values ([`Context::set_unknown`]) are among them, whatever their default.
///
/// A variable whose key is absent or multivalued, and that has no default, leaves the whole
/// string unresolved; callers treat such a resource or condition value as matching nothing, as
/// AWS does. Malformed variable syntax (`${` without `}`, `${}`) is kept as plain text: AWS
/// rejects such policies when they are saved, so there is no behaviour to reproduce.
pub fn resolve_segments(template: &str, ctx: &Context) -> Result<Vec<Segment>, Vec<String>> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for piece in parse(template) {
        match piece {
            Piece::Text(text) => push_segment(&mut out, Segment::Pattern(text.to_string())),
            Piece::Escape(c) => push_segment(&mut out, Segment::Literal(c.to_string())),
            // A key with a value the check cannot know has no value to substitute, and its
            // default does not apply either: the real request carries the key.
            Piece::Variable { key, .. } if ctx.unknown(key).is_some() => {
                push_missing(&mut missing, key)
            }
            Piece::Variable { key, default } => match (lookup(key, ctx), default) {
                (Some(value), _) => push_segment(&mut out, Segment::Literal(value.to_string())),
                (None, Some(default)) => push_segment(&mut out, Segment::Literal(default)),
                (None, None) => push_missing(&mut missing, key),
            },
        }
    }
    out.retain(|s| match s {
        Segment::Pattern(t) | Segment::Literal(t) => !t.is_empty(),
    });
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

/// Substitutes the variables of `template` for plain comparison (`StringEquals`, reports).
/// `${*}`, `${?}` and `${$}` become `*`, `?` and `$`.
pub fn substitute(template: &str, ctx: &Context) -> Substituted {
    match resolve_segments(template, ctx) {
        Ok(segments) => Substituted::Resolved(
            segments
                .iter()
                .map(|s| match s {
                    Segment::Pattern(t) | Segment::Literal(t) => t.as_str(),
                })
                .collect(),
        ),
        Err(missing) => Substituted::Unresolved(missing),
    }
}

/// The context keys a template refers to through variables, as written, without duplicates.
pub fn variables_in(template: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for piece in parse(template) {
        if let Piece::Variable { key, .. } = piece {
            push_missing(&mut keys, key);
        }
    }
    keys
}

/// True when the template holds at least one variable or escape.
pub fn has_variables(template: &str) -> bool {
    parse(template).iter().any(|p| !matches!(p, Piece::Text(_)))
}

/// The glob elements of resolved segments: wildcards only from policy text.
fn tokens(segments: &[Segment]) -> Vec<Glob<char>> {
    let mut out = Vec::new();
    for segment in segments {
        match segment {
            Segment::Pattern(text) => out.extend(text.chars().map(|c| Glob::of(c, c))),
            Segment::Literal(text) => out.extend(text.chars().map(Glob::Is)),
        }
    }
    out
}

/// Does `text` match the resolved pattern? Only `*` and `?` from [`Segment::Pattern`] text are
/// wildcards.
pub fn segments_match(segments: &[Segment], text: &str, case: Case) -> bool {
    let text: Vec<char> = text.chars().collect();
    glob(&tokens(segments), &text, |&t| t, chars_eq(case))
}

/// Glob-matches `text` against a policy `pattern` holding variables. `None` when a variable is
/// unresolved, which callers treat as "does not match".
pub fn matches_with_variables(
    pattern: &str,
    text: &str,
    case: Case,
    ctx: &Context,
) -> Option<bool> {
    // Most patterns hold no variable: match them directly, without building segments.
    if !pattern.contains("${") {
        return Some(super::pattern::glob_match(pattern, text, case));
    }
    resolve_segments(pattern, ctx)
        .ok()
        .map(|segments| segments_match(&segments, text, case))
}

/// Splits resolved segments at `sep` characters of policy text into at most `max_parts` parts
/// (the last part keeps any further separators). A separator inside substituted text does not
/// split, so `arn:aws:s3:::${aws:username}` stays six ARN components whatever the user name.
pub fn split_segments(segments: &[Segment], sep: char, max_parts: usize) -> Vec<Vec<Segment>> {
    let mut parts: Vec<Vec<Segment>> = vec![Vec::new()];
    for segment in segments {
        match segment {
            Segment::Literal(_) => {
                if let Some(part) = parts.last_mut() {
                    push_segment(part, segment.clone());
                }
            }
            Segment::Pattern(text) => {
                let mut rest = text.as_str();
                while parts.len() < max_parts {
                    let Some((head, tail)) = rest.split_once(sep) else {
                        break;
                    };
                    if let Some(part) = parts.last_mut()
                        && !head.is_empty()
                    {
                        push_segment(part, Segment::Pattern(head.to_string()));
                    }
                    parts.push(Vec::new());
                    rest = tail;
                }
                if let Some(part) = parts.last_mut()
                    && !rest.is_empty()
                {
                    push_segment(part, Segment::Pattern(rest.to_string()));
                }
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context::new();
        c.set("aws:username", "alice")
            .set("aws:PrincipalTag/team", "blue")
            .set("aws:userid", "AIDA*STAR")
            .set_multi("aws:TagKeys", vec!["a".into()])
            .set_multi("aws:PrincipalOrgPaths", vec![]);
        c
    }

    fn resolved(template: &str) -> Option<String> {
        substitute(template, &ctx()).resolved().map(str::to_string)
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            resolved("arn:aws:s3:::bucket/*").as_deref(),
            Some("arn:aws:s3:::bucket/*")
        );
        assert_eq!(resolved("").as_deref(), Some(""));
        assert!(!has_variables("arn:aws:s3:::bucket/*"));
    }

    #[test]
    fn username_and_tag_variables() {
        assert_eq!(
            resolved("arn:aws:s3:::home/${aws:username}/*").as_deref(),
            Some("arn:aws:s3:::home/alice/*")
        );
        assert_eq!(
            resolved("${aws:PrincipalTag/team}-${aws:username}").as_deref(),
            Some("blue-alice")
        );
        assert!(has_variables("x${aws:username}"));
    }

    #[test]
    fn keys_are_case_insensitive() {
        assert_eq!(resolved("${AWS:UserName}").as_deref(), Some("alice"));
        assert_eq!(
            resolved("${aws:principaltag/TEAM}").as_deref(),
            Some("blue")
        );
    }

    #[test]
    fn whitespace_inside_braces_is_ignored() {
        assert_eq!(resolved("${ aws:username }").as_deref(), Some("alice"));
    }

    #[test]
    fn missing_variable_is_unresolved() {
        assert_eq!(
            substitute(
                "home/${aws:username}/${aws:TokenIssueTime}",
                &Context::new()
            ),
            Substituted::Unresolved(vec!["aws:username".into(), "aws:TokenIssueTime".into()])
        );
    }

    #[test]
    fn unresolved_names_are_deduplicated() {
        assert_eq!(
            substitute("${aws:username}/${AWS:USERNAME}", &Context::new()),
            Substituted::Unresolved(vec!["aws:username".into()])
        );
    }

    #[test]
    fn multivalued_keys_cannot_be_variables() {
        assert_eq!(
            substitute("${aws:TagKeys}", &ctx()),
            Substituted::Unresolved(vec!["aws:TagKeys".into()])
        );
        assert_eq!(
            substitute("${aws:PrincipalOrgPaths}", &ctx()),
            Substituted::Unresolved(vec!["aws:PrincipalOrgPaths".into()])
        );
        assert_eq!(resolved("${aws:TagKeys, 'none'}").as_deref(), Some("none"));
    }

    #[test]
    fn defaults_apply_only_when_missing() {
        assert_eq!(
            resolved("${aws:username, 'guest'}").as_deref(),
            Some("alice")
        );
        assert_eq!(
            substitute("${aws:username, 'guest'}", &Context::new()),
            Substituted::Resolved("guest".into())
        );
        assert_eq!(
            substitute("${aws:username,'guest'}", &Context::new()).resolved(),
            Some("guest")
        );
        assert_eq!(
            substitute("${aws:username ,   'guest'  }", &Context::new()).resolved(),
            Some("guest")
        );
    }

    #[test]
    fn default_may_be_empty_or_hold_quotes_and_braces() {
        let empty = Context::new();
        assert_eq!(substitute("a${k, ''}b", &empty).resolved(), Some("ab"));
        assert_eq!(substitute("${k, 'it''s'}", &empty).resolved(), Some("it's"));
        assert_eq!(substitute("${k, 'a}b'}", &empty).resolved(), Some("a}b"));
        assert_eq!(substitute("${k, 'a, b'}", &empty).resolved(), Some("a, b"));
    }

    #[test]
    fn defaults_are_not_substituted_again() {
        assert_eq!(
            substitute("${k, '${aws:username}'}", &ctx()).resolved(),
            Some("${aws:username}")
        );
    }

    #[test]
    fn special_characters() {
        assert_eq!(resolved("a${*}b${?}c${$}d").as_deref(), Some("a*b?c$d"));
        assert_eq!(
            resolved("${$}{aws:username}").as_deref(),
            Some("${aws:username}")
        );
    }

    #[test]
    fn malformed_syntax_is_plain_text() {
        assert_eq!(
            resolved("a${aws:username").as_deref(),
            Some("a${aws:username")
        );
        assert_eq!(resolved("${}").as_deref(), Some("${}"));
        assert_eq!(resolved("${ }").as_deref(), Some("${ }"));
        assert_eq!(
            resolved("${k, 'unterminated}").as_deref(),
            Some("${k, 'unterminated}")
        );
        assert_eq!(resolved("${k, noquote}").as_deref(), Some("${k, noquote}"));
        assert_eq!(resolved("${k, 'x' y}").as_deref(), Some("${k, 'x' y}"));
        assert_eq!(resolved("$$").as_deref(), Some("$$"));
        // A broken variable followed by a good one: only the good one is substituted.
        assert_eq!(resolved("${a${aws:username}").as_deref(), Some("${aalice"));
    }

    #[test]
    fn unicode_does_not_panic() {
        assert_eq!(resolved("é${aws:username}ü").as_deref(), Some("éaliceü"));
        assert_eq!(
            substitute("${k, 'ça'}", &Context::new()).resolved(),
            Some("ça")
        );
        assert_eq!(resolved("${é").as_deref(), Some("${é"));
        assert_eq!(resolved("$").as_deref(), Some("$"));
        assert_eq!(resolved("${").as_deref(), Some("${"));
    }

    #[test]
    fn segments_keep_policy_text_apart_from_values() {
        assert_eq!(
            resolve_segments("home/${aws:username}/*${*}", &ctx()),
            Ok(vec![
                Segment::Pattern("home/".into()),
                Segment::Literal("alice".into()),
                Segment::Pattern("/*".into()),
                Segment::Literal("*".into()),
            ])
        );
    }

    #[test]
    fn variables_in_lists_keys() {
        assert_eq!(
            variables_in("${aws:username}/${*}/${aws:PrincipalTag/team, 'x'}/${AWS:username}"),
            vec![
                "aws:username".to_string(),
                "aws:PrincipalTag/team".to_string()
            ]
        );
        assert!(variables_in("plain").is_empty());
    }

    #[test]
    fn escaped_star_matches_only_a_literal_star() {
        let c = Context::new();
        assert_eq!(
            matches_with_variables("file${*}", "file*", Case::Sensitive, &c),
            Some(true)
        );
        assert_eq!(
            matches_with_variables("file${*}", "fileX", Case::Sensitive, &c),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("file${?}", "file?", Case::Sensitive, &c),
            Some(true)
        );
        assert_eq!(
            matches_with_variables("file${?}", "fileX", Case::Sensitive, &c),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("file*", "fileX", Case::Sensitive, &c),
            Some(true)
        );
    }

    #[test]
    fn substituted_values_are_not_wildcards() {
        // aws:userid is `AIDA*STAR`; its `*` must not match `AIDAxSTAR`.
        let c = ctx();
        assert_eq!(
            matches_with_variables("u/${aws:userid}", "u/AIDAxSTAR", Case::Sensitive, &c),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("u/${aws:userid}", "u/AIDA*STAR", Case::Sensitive, &c),
            Some(true)
        );
        let mut q = Context::new();
        q.set("aws:username", "a?");
        assert_eq!(
            matches_with_variables("${aws:username}", "ab", Case::Sensitive, &q),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("${aws:username}", "a?", Case::Sensitive, &q),
            Some(true)
        );
        assert_eq!(
            matches_with_variables("${k, 'd*'}", "dx", Case::Sensitive, &Context::new()),
            Some(false)
        );
    }

    #[test]
    fn policy_wildcards_still_work_around_variables() {
        let c = ctx();
        assert_eq!(
            matches_with_variables(
                "arn:aws:s3:::home/${aws:username}/*",
                "arn:aws:s3:::home/alice/docs/a.txt",
                Case::Sensitive,
                &c
            ),
            Some(true)
        );
        assert_eq!(
            matches_with_variables(
                "arn:aws:s3:::home/${aws:username}/*",
                "arn:aws:s3:::home/bob/a.txt",
                Case::Sensitive,
                &c
            ),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("*${aws:username}?", "xxalice1", Case::Sensitive, &c),
            Some(true)
        );
    }

    #[test]
    fn unresolved_pattern_is_none() {
        assert_eq!(
            matches_with_variables(
                "home/${aws:username}",
                "home/alice",
                Case::Sensitive,
                &Context::new()
            ),
            None
        );
    }

    #[test]
    fn case_modes() {
        let c = ctx();
        assert_eq!(
            matches_with_variables("${aws:username}", "ALICE", Case::Sensitive, &c),
            Some(false)
        );
        assert_eq!(
            matches_with_variables("${aws:username}", "ALICE", Case::Insensitive, &c),
            Some(true)
        );
        assert_eq!(
            matches_with_variables("É${*}", "é*", Case::Insensitive, &c),
            Some(true)
        );
    }

    #[test]
    fn matcher_edges_and_hostile_input() {
        let p = |s: &str| vec![Segment::Pattern(s.to_string())];
        assert!(segments_match(&[], "", Case::Sensitive));
        assert!(!segments_match(&[], "x", Case::Sensitive));
        assert!(segments_match(&p("**"), "", Case::Sensitive));
        assert!(segments_match(&p("a*b*c"), "aXXbYYbZZc", Case::Sensitive));
        assert!(!segments_match(&p("a*b*c"), "aXXbYYbZZ", Case::Sensitive));
        assert!(!segments_match(&p("?"), "", Case::Sensitive));
        let hostile = p(&format!("{}b", "a*".repeat(200)));
        assert!(!segments_match(
            &hostile,
            &"a".repeat(5000),
            Case::Sensitive
        ));
        let long = "${*}".repeat(10_000);
        assert_eq!(
            matches_with_variables(&long, &"*".repeat(10_000), Case::Sensitive, &Context::new()),
            Some(true)
        );
    }

    #[test]
    fn split_respects_substituted_separators() {
        let mut c = Context::new();
        c.set("aws:username", "a:b");
        let segments = resolve_segments("arn:aws:s3:::${aws:username}/*", &c).expect("resolves");
        let parts = split_segments(&segments, ':', 6);
        assert_eq!(parts.len(), 6);
        assert_eq!(parts.first(), Some(&vec![Segment::Pattern("arn".into())]));
        assert_eq!(parts.get(3), Some(&vec![]));
        assert_eq!(
            parts.get(5),
            Some(&vec![
                Segment::Literal("a:b".into()),
                Segment::Pattern("/*".into())
            ])
        );
    }

    #[test]
    fn split_keeps_extra_separators_in_last_part() {
        let segments = vec![Segment::Pattern("a:b:c:d".into())];
        let parts = split_segments(&segments, ':', 2);
        assert_eq!(
            parts,
            vec![
                vec![Segment::Pattern("a".into())],
                vec![Segment::Pattern("b:c:d".into())]
            ]
        );
        assert_eq!(split_segments(&[], ':', 6), vec![Vec::<Segment>::new()]);
    }
}
