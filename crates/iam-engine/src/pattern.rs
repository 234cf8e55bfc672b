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
        // One closure that matches on `case` inlines; two closures would become a function
        // pointer, an indirect call per byte.
        let eq = move |a: u8, b: u8| match case {
            Case::Sensitive => a == b,
            Case::Insensitive => a.eq_ignore_ascii_case(&b),
        };
        return glob(
            pattern.as_bytes(),
            text.as_bytes(),
            |&b| Glob::of(char::from(b), b),
            eq,
        );
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t, |&c| Glob::of(c, c), chars_eq(case))
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

    #[test]
    fn unicode_does_not_panic() {
        assert!(glob_match("é*", "éclair", Case::Insensitive));
        assert!(glob_match("É*", "éclair", Case::Insensitive));
    }
}
