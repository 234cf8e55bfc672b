//! Renderers: one module per output format. They read decisions and write text; they decide
//! nothing.

pub mod cloudformation;
pub mod escape;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use crate::core::check::ActionResult;
use crate::core::eval::Blame;
pub use escape::escape;

/// The sentence that ends a summary when some decisions depend on keys of unknown value.
pub fn unknown_summary(unknown: usize, keys: &[String]) -> String {
    format!(
        "{unknown} depend on values only the real request has ({}): give them with `--context KEY=VALUE`",
        keys.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The explanation of one result in one line.
pub fn explanation(r: &ActionResult) -> String {
    let mut parts: Vec<String> = r.decided_by.iter().map(Blame::describe).collect();
    if !r.missing_context.is_empty() {
        parts.push(format!("missing context: {}", r.missing_context.join(", ")));
    }
    if let Some(d) = &r.disagreement {
        parts.push(d.clone());
    }
    if let Some(c) = &r.confirmation {
        parts.push(c.clone());
    }
    parts.join("; ")
}
