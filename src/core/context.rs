//! The request context: the condition keys and their values for one request.
//!
//! IAM condition key names are case-insensitive (`aws:RequestedRegion` = `aws:requestedregion`),
//! while their values keep their case. Every value is kept as a string, as IAM transports them;
//! typed operators (numeric, date, bool, IP, binary) parse values when they compare.

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

/// Condition keys of a request, looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, ContextEntry>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        self.entries.insert(
            key.to_ascii_lowercase(),
            ContextEntry {
                key,
                values: vec![value.into()],
                multivalued: false,
            },
        );
        self
    }

    /// Sets a multivalued key, replacing any earlier value.
    pub fn set_multi(&mut self, key: impl Into<String>, values: Vec<String>) -> &mut Self {
        let key = key.into();
        self.entries.insert(
            key.to_ascii_lowercase(),
            ContextEntry {
                key,
                values,
                multivalued: true,
            },
        );
        self
    }

    /// Builder form of [`Context::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    pub fn get(&self, key: &str) -> Option<&ContextEntry> {
        self.entries.get(&key.to_ascii_lowercase())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ContextEntry> {
        self.entries.values()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
