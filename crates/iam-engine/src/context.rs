//! The request context: the condition keys and their values for one request.

use std::collections::BTreeMap;

/// The values of one context key: one for single-valued keys, several for multivalued ones
/// (`aws:TagKeys`). An empty list is a key that is present with no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// The key as the caller spelled it, for messages.
    pub key: String,
    pub values: Vec<String>,
    /// Whether the key was given as a list, which matters for set operators on one value.
    pub multivalued: bool,
}

/// A key the real request carries (or may carry) with a value the check cannot know, such as
/// `aws:SourceIp` or `aws:CurrentTime`. Conditions on it are neither true nor false: they are
/// unknown until a value is supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The key as the caller spelled it, for messages.
    pub key: String,
    /// Whether the key can also be absent from the request (AWS's "present when …" keys), as
    /// opposed to always present with some value.
    pub may_be_absent: bool,
}

/// A family of keys named by a prefix, all with values the check cannot know: `aws:ResourceTag/`
/// covers `aws:ResourceTag/env` and every other tag key. Without a service it covers every
/// service's form of the name (`iam:ResourceTag/env`, `ec2:ResourceTag/env`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UnknownFamily {
    /// The service prefix, lower case (`aws`); `None` for any service.
    service: Option<String>,
    /// The start of the name after the colon, lower case (`resourcetag/`).
    name_prefix: String,
    marker: UnknownKey,
}

impl UnknownFamily {
    fn covers(&self, folded_key: &str) -> bool {
        let Some((service, name)) = folded_key.split_once(':') else {
            return false;
        };
        self.service.as_deref().is_none_or(|s| s == service)
            && !service.is_empty()
            && name.len() > self.name_prefix.len()
            && name.starts_with(&self.name_prefix)
    }
}

/// Condition keys of a request, looked up case-insensitively.
///
/// IAM condition key names are case-insensitive (`aws:RequestedRegion` = `aws:requestedregion`),
/// while their values keep their case. Every value is kept as a string, as IAM transports them;
/// typed operators (numeric, date, bool, IP, binary) parse values when they compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, ContextEntry>,
    /// Keys with values the check cannot know. A key is never both here and in `entries`.
    unknown: BTreeMap<String, UnknownKey>,
    /// Families of such keys; a key with a value in `entries`, or stated absent, is not unknown.
    unknown_families: Vec<UnknownFamily>,
    /// Keys stated absent ([`Context::remove`]), which no family makes unknown.
    absent: std::collections::BTreeSet<String>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.insert(key.into(), vec![value.into()], false)
    }

    /// Sets a multivalued key, replacing any earlier value.
    pub fn set_multi(&mut self, key: impl Into<String>, values: Vec<String>) -> &mut Self {
        self.insert(key.into(), values, true)
    }

    fn insert(&mut self, key: String, values: Vec<String>, multivalued: bool) -> &mut Self {
        let folded = key.to_ascii_lowercase();
        self.unknown.remove(&folded);
        self.entries.insert(
            folded,
            ContextEntry {
                key,
                values,
                multivalued,
            },
        );
        self
    }

    /// Marks a key as carried by the real request with a value the check cannot know,
    /// replacing any value it had.
    pub fn set_unknown(&mut self, key: impl Into<String>, may_be_absent: bool) -> &mut Self {
        let key = key.into();
        let folded = key.to_ascii_lowercase();
        self.entries.remove(&folded);
        self.unknown
            .insert(folded, UnknownKey { key, may_be_absent });
        self
    }

    /// Marks every key named `SERVICE:NAME_PREFIX…` (any service when `service` is `None`) as
    /// carried with a value the check cannot know, e.g. `aws:ResourceTag/` for every tag key.
    /// Keys given a value, or stated absent, stay as they are.
    pub fn set_unknown_family(
        &mut self,
        service: Option<&str>,
        name_prefix: &str,
        may_be_absent: bool,
    ) -> &mut Self {
        let key = format!("{}:{name_prefix}*", service.unwrap_or("*"));
        self.unknown_families.push(UnknownFamily {
            service: service.map(str::to_ascii_lowercase),
            name_prefix: name_prefix.to_ascii_lowercase(),
            marker: UnknownKey { key, may_be_absent },
        });
        self
    }

    /// Makes a key absent: neither a value nor an unknown one.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        let folded = key.to_ascii_lowercase();
        self.entries.remove(&folded);
        self.unknown.remove(&folded);
        if !self.unknown_families.is_empty() {
            self.absent.insert(folded);
        }
        self
    }

    /// Gives `key` the state it has in `other`: its value, its unknown-value marker, its stated
    /// absence, or none of these. Lets one context serve a run of requests that differ in a few
    /// keys without copying the others for each.
    pub fn copy_key_from(&mut self, other: &Context, key: &str) -> &mut Self {
        let folded = key.to_ascii_lowercase();
        match other.entries.get(&folded) {
            Some(entry) => self.entries.insert(folded.clone(), entry.clone()),
            None => self.entries.remove(&folded),
        };
        match other.unknown.get(&folded) {
            Some(marker) => self.unknown.insert(folded.clone(), marker.clone()),
            None => self.unknown.remove(&folded),
        };
        if other.absent.contains(&folded) {
            self.absent.insert(folded);
        } else {
            self.absent.remove(&folded);
        }
        self
    }

    /// The key's unknown-value marker, when its value is not known (see [`UnknownKey`]).
    pub fn unknown(&self, key: &str) -> Option<&UnknownKey> {
        if self.unknown.is_empty() && self.unknown_families.is_empty() {
            return None;
        }
        with_folded(key, |folded| {
            if let Some(u) = self.unknown.get(folded) {
                return Some(u);
            }
            if self.entries.contains_key(folded) || self.absent.contains(folded) {
                return None;
            }
            self.unknown_families
                .iter()
                .find(|f| f.covers(folded))
                .map(|f| &f.marker)
        })
    }

    /// Every key whose value is unknown.
    pub fn unknown_keys(&self) -> impl Iterator<Item = &UnknownKey> {
        self.unknown.values()
    }

    /// Builder form of [`Context::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    pub fn get(&self, key: &str) -> Option<&ContextEntry> {
        with_folded(key, |folded| self.entries.get(folded))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ContextEntry> {
        self.entries.values()
    }

    /// No key is known or unknown.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.unknown.is_empty() && self.unknown_families.is_empty()
    }
}

/// Calls `f` with `key` in ASCII lower case, as the maps are keyed: in a buffer on the stack
/// for keys of usual length, since every condition looks its key up.
fn with_folded<R>(key: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 128];
    if let Some(folded) = buffer.get_mut(..key.len()) {
        folded.copy_from_slice(key.as_bytes());
        folded.make_ascii_lowercase();
        // Changing the case of ASCII letters keeps UTF-8 valid.
        if let Ok(folded) = std::str::from_utf8(folded) {
            return f(folded);
        }
    }
    f(&key.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_key_from_gives_a_key_the_other_contexts_state() {
        let mut base = Context::new();
        base.set_unknown_family(Some("aws"), "ResourceTag/", false);
        base.set("aws:RequestedRegion", "eu-west-1");
        base.set_unknown("aws:SourceIp", false);
        base.remove("aws:ResourceTag/env");

        let mut ctx = Context::new();
        ctx.set_unknown_family(Some("aws"), "ResourceTag/", false);
        ctx.set_unknown("aws:RequestedRegion", true);
        ctx.set("aws:SourceIp", "203.0.113.7");
        ctx.set("aws:ResourceTag/env", "prod");
        ctx.set("aws:PrincipalAccount", "111122223333");
        for key in [
            "aws:requestedregion",
            "aws:SourceIp",
            "aws:ResourceTag/env",
            "aws:PrincipalAccount",
        ] {
            ctx.copy_key_from(&base, key);
        }
        assert_eq!(ctx, base);
    }

    #[test]
    fn keys_are_found_in_any_case_and_at_any_length() {
        let long = format!("svc:{}", "Tag/".repeat(40));
        let mut ctx = Context::new();
        ctx.set("aws:RequestedRegion", "eu-west-1")
            .set(long.to_ascii_uppercase(), "v")
            .set("aws:PrincipalTag/Équipe", "x")
            .set_unknown("aws:SourceIp", false);
        assert!(ctx.get("AWS:requestedregion").is_some());
        assert!(ctx.get(&long).is_some(), "a key longer than the buffer");
        assert!(ctx.get("aws:principaltag/Équipe").is_some());
        assert!(
            ctx.get("aws:principaltag/équipe").is_none(),
            "only ASCII folds"
        );
        assert!(ctx.unknown("AWS:SOURCEIP").is_some());
        assert!(ctx.unknown("aws:requestedregion").is_none());
    }
}
