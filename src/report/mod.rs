//! Renderers: one module per output format. They read decisions and write text; they decide
//! nothing.

pub mod cloudformation;
pub mod escape;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use crate::core::audit::Block;
use crate::core::check::ActionResult;
use crate::core::eval::{Blame, Verdict};
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

/// The actions one organization policy blocks the same way: by the same statement, or by
/// allowing none of them at its level.
pub struct BlockGroup<'a> {
    pub verdict: Verdict,
    pub statement: Option<&'a str>,
    pub actions: Vec<&'a str>,
}

impl BlockGroup<'_> {
    /// How the policy blocks them, in a few words (the statement is named beside it).
    pub fn how(&self) -> &'static str {
        match (self.verdict, self.statement) {
            (Verdict::FailsToAllow, _) => "allows none at this level",
            (Verdict::MayDeny, Some(_)) => "may deny, depending on request values, by statement",
            (Verdict::MayDeny, None) => "may deny, depending on request values",
            (_, Some(_)) => "denied by statement",
            (_, None) => "denied",
        }
    }
}

/// A policy's blocks grouped by verdict and statement, in the order they were found.
pub fn block_groups(blocks: &[Block]) -> Vec<BlockGroup<'_>> {
    let mut groups: Vec<BlockGroup<'_>> = Vec::new();
    for b in blocks {
        let statement = b.statement.as_deref();
        match groups
            .iter_mut()
            .find(|g| g.verdict == b.verdict && g.statement == statement)
        {
            Some(g) => g.actions.push(&b.action),
            None => groups.push(BlockGroup {
                verdict: b.verdict,
                statement,
                actions: vec![&b.action],
            }),
        }
    }
    groups
}
