//! IAM wildcard matching: `*` matches any run of characters (including none), `?` exactly one.

/// Case sensitivity of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Action names, service prefixes, condition keys.
    Insensitive,
    /// ARNs and most string conditions.
    Sensitive,
}

/// Does `text` match the IAM glob `pattern`?
///
/// Actions match case-insensitively, resources (ARNs) case-sensitively, as IAM does. The matcher
/// is iterative with single-star backtracking, so it is linear-ish and cannot blow the stack on
/// hostile input such as `a*a*a*a*…b`.
pub fn glob_match(pattern: &str, text: &str, case: Case) -> bool {
    // Policies and ARNs are nearly always ASCII: match bytes without allocating. This is the
    // evaluator's innermost loop.
    if pattern.is_ascii() && text.is_ascii() {
        return glob_ascii(pattern, text, case);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t, |&c| Glob::of(c, c), chars_eq(case))
}

/// [`glob_match`] for a pattern and a text the caller knows are ASCII: byte by byte.
fn glob_ascii(pattern: &str, text: &str, case: Case) -> bool {
    // One closure that matches on `case` inlines; two closures would become a function
    // pointer, an indirect call per byte.
    let eq = move |a: u8, b: u8| match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a.eq_ignore_ascii_case(&b),
    };
    glob(
        pattern.as_bytes(),
        text.as_bytes(),
        |&b| Glob::of(char::from(b), b),
        eq,
    )
}

/// What one element of a glob pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Glob<T> {
    /// Exactly this element (compared with the match's case rule).
    Is(T),
    /// Any one element (`?`).
    AnyOne,
    /// Any run of elements, including none (`*`).
    AnyRun,
}

impl<T> Glob<T> {
    /// The pattern element for `c`: `*` and `?` are wildcards, anything else matches `unit`.
    pub(crate) fn of(c: char, unit: T) -> Glob<T> {
        match c {
            '*' => Glob::AnyRun,
            '?' => Glob::AnyOne,
            _ => Glob::Is(unit),
        }
    }
}

/// Character equality under a case rule; case-insensitive as Unicode lowercase.
pub(crate) fn chars_eq(case: Case) -> fn(char, char) -> bool {
    match case {
        Case::Sensitive => |a, b| a == b,
        Case::Insensitive => |a, b| a == b || a.to_lowercase().eq(b.to_lowercase()),
    }
}

/// The one glob matcher: does `text` match `pattern`, whose elements `kind` classifies?
/// Iterative with single-star backtracking, so it is linear-ish and cannot blow the stack on
/// hostile input such as `a*a*a*a*…b`. Bytes, characters and policy-variable segments
/// (`variables::segments_match`) all match through it.
pub(crate) fn glob<P, T: Copy>(
    pattern: &[P],
    text: &[T],
    kind: impl Fn(&P) -> Glob<T>,
    eq: impl Fn(T, T) -> bool,
) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = text.get(ti) {
        match pattern.get(pi).map(&kind) {
            Some(Glob::AnyRun) => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(Glob::AnyOne) => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some(Glob::Is(pc)) if eq(pc, tc) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while matches!(pattern.get(pi).map(&kind), Some(Glob::AnyRun)) {
        pi += 1;
    }
    pi == pattern.len()
}

/// Does the action pattern (e.g. `s3:Get*`, `*`) match the concrete action `s3:GetObject`?
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_match(pattern, action, Case::Insensitive)
}

/// An action as a request names it, split once for matching against many
/// [`ActionPatterns`].
#[derive(Debug, Clone, Copy)]
pub struct ActionName<'a> {
    text: &'a str,
    /// `(service, name)` around the first `:` of an ASCII action; `None` for an action that is
    /// not ASCII (matched by [`action_matches`] alone) or has no `:`.
    parts: Option<(&'a str, &'a str)>,
    ascii: bool,
}

impl<'a> ActionName<'a> {
    pub fn new(text: &'a str) -> ActionName<'a> {
        let ascii = text.is_ascii();
        ActionName {
            text,
            parts: text.split_once(':').filter(|_| ascii),
            ascii,
        }
    }
}

/// An index over an `Action` or `NotAction` list, built once for matching many actions. Most
/// patterns name their service without a wildcard (`s3:Get*`): an action is tested only
/// against the patterns of its own service, and only on the part after `service:`. With the
/// list it was built from, it matches exactly what [`action_matches`] over the list matches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionPatterns {
    /// The list holds `*`: every action matches.
    any: bool,
    /// ASCII patterns whose service part holds no wildcard, grouped by service (compared
    /// case-insensitively): the length of the service, and the positions of its patterns in
    /// the list.
    by_service: Vec<(usize, Vec<usize>)>,
    /// The positions of the other patterns (a wildcard in the service part, or not ASCII),
    /// matched whole.
    other: Vec<usize>,
}

impl ActionPatterns {
    pub fn new(patterns: &[String]) -> ActionPatterns {
        let mut out = ActionPatterns::default();
        for (i, pattern) in patterns.iter().enumerate() {
            if pattern == "*" {
                out.any = true;
                continue;
            }
            match pattern.split_once(':') {
                Some((service, _)) if pattern.is_ascii() && !has_wildcard(service) => {
                    let same_service = |(len, positions): &&mut (usize, Vec<usize>)| {
                        *len == service.len()
                            && positions.first().is_some_and(|&first| {
                                patterns[first]
                                    .get(..*len)
                                    .is_some_and(|s| s.eq_ignore_ascii_case(service))
                            })
                    };
                    match out.by_service.iter_mut().find(same_service) {
                        Some((_, positions)) => positions.push(i),
                        None => out.by_service.push((service.len(), vec![i])),
                    }
                }
                _ => out.other.push(i),
            }
        }
        out
    }

    /// Does any pattern of `patterns`, the list this index was built from, match the action?
    ///
    /// A pattern `service:rest` whose service holds no wildcard starts with literal text, which
    /// a glob matches character for character: it matches an ASCII action exactly when the
    /// action's text before its first `:` is that service (in any case) and the rest matches
    /// the action's text after it.
    pub fn matches(&self, patterns: &[String], action: &ActionName<'_>) -> bool {
        if self.any {
            return true;
        }
        if !action.ascii {
            return patterns.iter().any(|p| action_matches(p, action.text));
        }
        let pattern = |i: usize| patterns.get(i).map_or("", String::as_str);
        if let Some((service, name)) = action.parts
            && let Some((len, positions)) = self.by_service.iter().find(|(len, positions)| {
                *len == service.len()
                    && positions.first().is_some_and(|&first| {
                        pattern(first)
                            .get(..*len)
                            .is_some_and(|s| s.eq_ignore_ascii_case(service))
                    })
            })
            && positions.iter().any(|&i| {
                pattern(i)
                    .get(len + 1..)
                    .is_some_and(|rest| rest == "*" || glob_ascii(rest, name, Case::Insensitive))
            })
        {
            return true;
        }
        self.other
            .iter()
            .any(|&i| action_matches(pattern(i), action.text))
    }
}

/// Does the resource pattern match the ARN? ARNs compare case-sensitively.
pub fn resource_matches(pattern: &str, arn: &str) -> bool {
    glob_match(pattern, arn, Case::Sensitive)
}

/// True when the pattern holds a wildcard character.
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_case() {
        assert!(action_matches("s3:GetObject", "s3:getobject"));
        assert!(action_matches("S3:GETOBJECT", "s3:GetObject"));
        assert!(!resource_matches(
            "arn:aws:s3:::Bucket",
            "arn:aws:s3:::bucket"
        ));
        assert!(resource_matches(
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::bucket"
        ));
    }

    #[test]
    fn star() {
        assert!(action_matches("*", "ec2:RunInstances"));
        assert!(action_matches("ec2:*", "ec2:RunInstances"));
        assert!(action_matches("ec2:Describe*", "ec2:DescribeVpcs"));
        assert!(!action_matches("ec2:Describe*", "ec2:CreateVpc"));
        assert!(action_matches("*:Describe*", "ec2:DescribeVpcs"));
        assert!(action_matches("ec2:*Vpc*", "ec2:DescribeVpcs"));
        assert!(!action_matches("ec2:*", "ec22:Foo"));
        assert!(resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
        assert!(!resource_matches("arn:aws:s3:::b/*", "arn:aws:s3:::b"));
    }

    #[test]
    fn question_mark() {
        assert!(action_matches("s3:?etObject", "s3:GetObject"));
        assert!(!action_matches("s3:?etObject", "s3:etObject"));
        assert!(resource_matches(
            "arn:aws:iam::?????????????:role/x",
            "arn:aws:iam::1234567890123:role/x"
        ));
    }

    #[test]
    fn backtracking() {
        assert!(glob_match("a*b*c", "aXXbYYbZZc", Case::Sensitive));
        assert!(!glob_match("a*b*c", "aXXbYYbZZ", Case::Sensitive));
        assert!(glob_match("**", "", Case::Sensitive));
        assert!(!glob_match("", "x", Case::Sensitive));
        let hostile = format!("{}b", "a*".repeat(200));
        assert!(!glob_match(&hostile, &"a".repeat(5000), Case::Sensitive));
    }

    /// [`ActionPatterns`] sorts patterns by service to skip the others; it must match exactly
    /// what [`action_matches`] over the same list matches, for every kind of pattern and
    /// action: wildcards in either part, case, no colon, several colons, non-ASCII text.
    #[test]
    fn action_patterns_match_as_the_glob_over_the_list() {
        let patterns = [
            "*",
            "s3:*",
            "S3:Get*",
            "s3:GetObject",
            "ec2:Describe*",
            "*:Describe*",
            "s?:List*",
            "ec2:*Vpc*",
            "iam:Get?ser",
            "a:b:c",
            ":x",
            "s3:",
            "kms:Décrypt",
            "ké:*",
            "K:*",
        ];
        let actions = [
            "s3:GetObject",
            "S3:getobject",
            "s3:PutObject",
            "s3",
            "s3:",
            "ec2:DescribeVpcs",
            "EC2:describevpcs",
            "ec2:CreateVpc",
            "ec22:Foo",
            "sq:ListQueues",
            "iam:GetUser",
            "iam:GetUsers",
            "a:b:c",
            "a:b",
            ":x",
            "x",
            "",
            "kms:décrypt",
            "KMS:DÉCRYPT",
            "ké:Anything",
            "\u{212a}:Kelvin",
            "k:anything",
        ];
        // Every subset of up to three patterns, so lists mix kinds and share services.
        let mut lists: Vec<Vec<String>> = Vec::new();
        for (i, a) in patterns.iter().enumerate() {
            lists.push(vec![a.to_string()]);
            for (j, b) in patterns.iter().enumerate().skip(i + 1) {
                lists.push(vec![a.to_string(), b.to_string()]);
                for c in patterns.iter().skip(j + 1) {
                    lists.push(vec![a.to_string(), b.to_string(), c.to_string()]);
                }
            }
        }
        lists.push(Vec::new());
        for list in &lists {
            let prepared = ActionPatterns::new(list);
            for action in actions {
                assert_eq!(
                    prepared.matches(list, &ActionName::new(action)),
                    list.iter().any(|p| action_matches(p, action)),
                    "{list:?} against `{action}`"
                );
            }
        }
    }

    #[test]
    fn unicode_does_not_panic() {
        assert!(glob_match("é*", "éclair", Case::Insensitive));
        assert!(glob_match("É*", "éclair", Case::Insensitive));
    }
}
