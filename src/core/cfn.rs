//! The IAM actions CloudFormation calls for each resource type, from the registry schemas.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The embedded table: `type<TAB>create<TAB>update<TAB>delete<TAB>read`, comma-separated actions.
///
/// A template alone says what will exist, not what the deployer must be allowed to do; the
/// CloudFormation registry publishes exactly that per handler (create, update, delete, read).
/// The table in `policies/cfn/handler-permissions.tsv` is generated from the schemas cfn-lint
/// ships (see `policies/cfn/SOURCE` and `scripts/gen-cfn-permissions.py`) and embedded so the
/// tool works offline and gives the same answer on every machine for a given release.
const TABLE: &str = include_str!("../../policies/cfn/handler-permissions.tsv");

/// Where the table came from (package, version, schema date), for `--version`-style reporting.
pub const SOURCE: &str = include_str!("../../policies/cfn/SOURCE");

/// The actions each CloudFormation handler of one resource type calls.
///
/// Actions are as published (service prefix lower-cased), sorted and deduplicated; a few
/// schemas publish wildcards such as `ec2:Describe*`, which are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandlerPermissions {
    pub create: Vec<&'static str>,
    pub update: Vec<&'static str>,
    pub delete: Vec<&'static str>,
    pub read: Vec<&'static str>,
}

impl HandlerPermissions {
    /// True when the schema publishes no handler permissions at all.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.update.is_empty()
            && self.delete.is_empty()
            && self.read.is_empty()
    }
}

static PARSED: LazyLock<HashMap<&'static str, HandlerPermissions>> = LazyLock::new(|| parse(TABLE));

/// The handler permissions of `resource_type` (e.g. `AWS::Lambda::Function`), matched exactly as
/// CloudFormation does; `None` when the type is not in the registry data.
///
/// Types that exist but publish no handler permissions (older non-registry types such as
/// `AWS::CodeBuild::Project`, SAM types) are in the table with empty lists: they are *known*, so
/// callers can tell "no data" from "not a CloudFormation type".
pub fn handler_permissions(resource_type: &str) -> Option<&'static HandlerPermissions> {
    PARSED.get(resource_type)
}

/// Known type names in alphabetical order, for [`closest_type`].
static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = PARSED.keys().copied().collect();
    names.sort_unstable();
    names
});

/// The known type nearest to `resource_type`, when it is close enough to be a typo (the rule of
/// [`crate::core::fuzzy::closest`]): ties go to the shorter, then alphabetically first name.
pub fn closest_type(resource_type: &str) -> Option<&'static str> {
    crate::core::fuzzy::closest(resource_type, SORTED.iter().copied())
}

/// How many resource types the embedded data knows, including those without handler data.
pub fn known_types() -> usize {
    PARSED.len()
}

/// Every known resource type name, in no particular order (for "did you mean" suggestions).
pub fn type_names() -> impl Iterator<Item = &'static str> {
    PARSED.keys().copied()
}

/// Parse the table. The first line for a type wins; malformed lines are ignored.
///
/// Lines that do not have the expected shape are skipped rather than trusted, so a damaged table
/// degrades to "unknown type" instead of wrong permissions or a panic.
fn parse(text: &'static str) -> HashMap<&'static str, HandlerPermissions> {
    let mut map = HashMap::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&'static str> = line.split('\t').collect();
        let [name, create, update, delete, read] = fields.as_slice() else {
            continue;
        };
        if !is_type_name(name) {
            continue;
        }
        map.entry(*name).or_insert_with(|| HandlerPermissions {
            create: actions(create),
            update: actions(update),
            delete: actions(delete),
            read: actions(read),
        });
    }
    map
}

/// `Vendor::Service::Resource` (three non-empty parts); `Custom::` types are never in the data.
fn is_type_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split("::").collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && !p.contains(char::is_whitespace))
}

/// Comma-separated actions; anything that is not `service:Action` is dropped.
fn actions(field: &'static str) -> Vec<&'static str> {
    field
        .split(',')
        .map(str::trim)
        .filter(|a| {
            a.split_once(':')
                .is_some_and(|(s, n)| !s.is_empty() && !n.is_empty() && !n.contains(':'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_knows_lambda_function() {
        let lambda = handler_permissions("AWS::Lambda::Function").expect("lambda in table");
        assert!(lambda.create.contains(&"lambda:CreateFunction"));
        assert!(lambda.create.contains(&"iam:PassRole"));
        assert!(lambda.update.contains(&"lambda:UpdateFunctionCode"));
        assert!(lambda.delete.contains(&"lambda:DeleteFunction"));
        assert!(lambda.read.contains(&"lambda:GetFunction"));
    }

    #[test]
    fn embedded_table_is_large_and_exact() {
        assert!(known_types() > 1500, "only {} types", known_types());
        assert!(handler_permissions("AWS::IAM::Role").is_some());
        assert!(handler_permissions("aws::iam::role").is_none());
        assert!(handler_permissions("AWS::Nope::Nothing").is_none());
        assert!(handler_permissions("").is_none());
        assert!(SOURCE.contains("cfn-lint@"));
    }

    #[test]
    fn closest_type_suggests_typos_only() {
        assert_eq!(
            closest_type("AWS::Lamda::Function"),
            Some("AWS::Lambda::Function")
        );
        assert_eq!(closest_type("aws::s3::bucket"), Some("AWS::S3::Bucket"));
        assert_eq!(closest_type("AWS::Frobnicate::Widget"), None);
        assert_eq!(closest_type(""), None);
    }

    #[test]
    fn types_without_handlers_are_known_but_empty() {
        let codebuild = handler_permissions("AWS::CodeBuild::Project").expect("known type");
        assert!(codebuild.is_empty());
    }

    #[test]
    fn embedded_actions_are_well_formed() {
        for name in type_names() {
            let h = handler_permissions(name).expect("listed type");
            for a in h
                .create
                .iter()
                .chain(&h.update)
                .chain(&h.delete)
                .chain(&h.read)
            {
                let (service, action) = a.split_once(':').expect("service:action");
                assert_eq!(service, service.to_lowercase(), "{name}: {a}");
                assert!(!action.is_empty(), "{name}: {a}");
            }
        }
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let table = "# header\n\
                     AWS::A::B\ta:X,b:Y\t\t\t\n\
                     AWS::A::B\tz:Z\t\t\t\n\
                     too\tfew\tfields\n\
                     NotAType\ta:X\t\t\t\n\
                     AWS::C::D\ta:X,,junk, c:Y ,d:\t\t\tr:R\t extra\n\
                     AWS::E::F\t\t\t\t\r\n\
                     \n";
        let map = parse(table);
        assert_eq!(map.len(), 2);
        assert_eq!(map["AWS::A::B"].create, vec!["a:X", "b:Y"]);
        assert!(map["AWS::E::F"].is_empty());
    }

    /// Lines of the wrong shape (too few fields, a name that is not `Vendor::Service::Resource`)
    /// never become types, whatever bytes they hold.
    #[test]
    fn odd_text_yields_no_types() {
        for text in [
            "",
            "\t\t\t\t",
            "::\t::",
            "AWS::::\ta\tb\tc\td",
            "\u{feff}x\ty",
            "é\t\u{0}\t,\t:\t",
        ] {
            assert!(parse(text).is_empty(), "{text:?}");
        }
    }
}
