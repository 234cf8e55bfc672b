//! "Did you mean" suggestions for names that are close to a valid one.

/// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions),
/// compared case-insensitively.
pub fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(&a.to_lowercase(), &b.to_lowercase())
}

/// The candidate closest to `input`, if it is close enough to be a plausible typo
/// (at most a third of the input's length, and at least one edit allowed). Ties go to the
/// shorter candidate, then to the one that comes first.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    let input = input.to_lowercase();
    let length = input.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let folded = c.to_lowercase();
            // Lengths further apart than the limit need more edits than that: skip the table.
            if folded.chars().count().abs_diff(length) > limit {
                return None;
            }
            Some((strsim::osa_distance(&input, &folded), c))
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
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
