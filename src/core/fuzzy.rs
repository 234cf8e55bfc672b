//! "Did you mean" suggestions for names that are close to a valid one.

/// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions),
/// compared case-insensitively.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The candidate closest to `input`, if it is close enough to be a plausible typo
/// (at most a third of the input's length, and at least one edit allowed).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(input, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// The distance between `a` and `b` when it is at most `limit`, else `None`, computed on
/// characters as given (callers compare case-folded text). Cheaper than [`distance`] on long
/// candidate lists: lengths too far apart are rejected before any work, three rows are reused,
/// and a row whose every cell is over the limit ends the computation.
pub fn distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > limit {
        return None;
    }
    let mut before: Vec<usize> = vec![0; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur: Vec<usize> = vec![0; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(before[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[m]).filter(|d| *d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("ec3", "ec2"), 1);
        assert_eq!(distance("GetObjekt", "GetObject"), 1);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "ec2",
            "ec3",
            "GetObject",
            "GetObjekt",
            "AWS::Lambda::Function",
            "AWS::Lamda::Function",
            "AWS::Frobnicate::Widget",
            "abcdef",
            "badcfe",
        ];
        for a in words {
            for b in words {
                let full = distance(a, b);
                let (ca, cb): (Vec<char>, Vec<char>) = (
                    a.to_lowercase().chars().collect(),
                    b.to_lowercase().chars().collect(),
                );
                for limit in 0..8 {
                    let expected = (full <= limit).then_some(full);
                    assert_eq!(
                        distance_within(&ca, &cb, limit),
                        expected,
                        "{a} {b} {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn closest_picks_nearest_or_none() {
        let names = ["ec2", "ecr", "ecs", "s3"];
        assert_eq!(closest("ec3", names), Some("ec2"));
        assert_eq!(closest("zzzzzz", names), None);
        assert_eq!(
            closest("StringEqualz", ["StringEquals", "StringLike"]),
            Some("StringEquals")
        );
    }
}
