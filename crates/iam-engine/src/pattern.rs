//! IAM wildcard matching: `*` matches any run of characters (including none), `?` exactly one.
//!
//! Actions match case-insensitively, resources (ARNs) case-sensitively, as IAM does. The matcher
//! is iterative with single-star backtracking, so it is linear-ish and cannot blow the stack on
//! hostile input such as `a*a*a*a*…b`.

/// Case sensitivity of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Action names, service prefixes, condition keys.
    Insensitive,
    /// ARNs and most string conditions.
    Sensitive,
}

/// Does `text` match the IAM glob `pattern`?
pub fn glob_match(pattern: &str, text: &str, case: Case) -> bool {
    // Policies and ARNs are nearly always ASCII: match bytes without allocating. This is the
    // evaluator's innermost loop.
    if pattern.is_ascii() && text.is_ascii() {
        return glob_match_ascii(pattern.as_bytes(), text.as_bytes(), case);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a == b || a.to_lowercase().eq(b.to_lowercase()),
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || eq(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn glob_match_ascii(p: &[u8], t: &[u8], case: Case) -> bool {
    let eq = |a: u8, b: u8| match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a.eq_ignore_ascii_case(&b),
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some(b'*'), _) => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some(&pc), Some(&tc)) if pc == b'?' || eq(pc, tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&b'*') {
        pi += 1;
    }
    pi == p.len()
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
