//! The catalog table (`policies/catalog/actions.tsv`) read into rows: used by the build script,
//! which turns the rows into the static catalog, and by the catalog's tests.
//!
//! One line per service: `prefix<TAB>name<TAB>Action:L Action:L …`, `L` an access-level code
//! (`R`ead, `L`ist, `W`rite, `P`ermissions management, `T`agging).

/// One service of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow<'a> {
    pub prefix: &'a str,
    pub name: &'a str,
    /// `(action name without the prefix, access-level code)`, sorted by name.
    pub actions: Vec<(&'a str, char)>,
}

/// The access-level codes the table uses.
pub const LEVEL_CODES: [char; 5] = ['R', 'L', 'W', 'P', 'T'];

/// Reads the table, services sorted by prefix. Lines or cells that do not have the expected
/// shape are skipped, so that a bad regeneration degrades to "unknown action" reports instead
/// of a failed build; a repeated service or action (IAM compares them ignoring case) keeps its
/// first occurrence.
pub fn read(table: &str) -> Vec<ServiceRow<'_>> {
    let mut services: Vec<ServiceRow<'_>> = Vec::new();
    let mut seen_prefixes = std::collections::HashSet::new();
    for line in table.lines() {
        let mut fields = line.split('\t');
        let (Some(prefix), Some(name), Some(cells)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let prefix = prefix.trim();
        if !is_valid_name(prefix) || !seen_prefixes.insert(prefix.to_ascii_lowercase()) {
            continue;
        }
        let mut seen_actions = std::collections::HashSet::new();
        let mut actions: Vec<(&str, char)> = cells
            .split_ascii_whitespace()
            .filter_map(|cell| {
                let (action, code) = cell.rsplit_once(':')?;
                let mut chars = code.chars();
                let level = chars.next().filter(|c| LEVEL_CODES.contains(c))?;
                (chars.next().is_none()
                    && is_valid_name(action)
                    && seen_actions.insert(action.to_ascii_lowercase()))
                .then_some((action, level))
            })
            .collect();
        actions.sort_unstable_by(|a, b| a.0.cmp(b.0));
        services.push(ServiceRow {
            prefix,
            name: name.trim(),
            actions,
        });
    }
    services.sort_unstable_by(|a, b| a.prefix.cmp(b.prefix));
    services
}

/// The package and version the data came from, from the `package:` line of
/// `policies/catalog/SOURCE`.
pub fn source_package(source_file: &str) -> &str {
    source_file
        .lines()
        .find_map(|l| l.strip_prefix("package:"))
        .map(str::trim)
        .unwrap_or("unknown")
}

/// A prefix or action name the matcher can handle: non-empty and free of the characters IAM
/// gives meaning to in action patterns.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty() && !s.contains([':', '*', '?']) && !s.contains(char::is_whitespace)
}
