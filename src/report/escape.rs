//! The one escaping function for text meant for people.
//!
//! Names come from policies, organizations and arguments that anyone with write access to them
//! chose: a role name or `Sid` holding ESC, OSC or BEL would drive the terminal (retitle it,
//! rewrite earlier lines), a newline would forge a row of the report, and bidirectional
//! overrides would make the text read differently than it is. Every human format (tables,
//! Markdown, JUnit, explanations) and every message shows them escaped instead, visibly.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1, line breaks and tabs included) and every
/// bidirectional formatting character shown as a Rust-style escape (`\u{1b}`, `\n`), so it
/// prints as one line of inert characters.
#[must_use]
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The Unicode bidirectional formatting characters (UAX #9): embeddings, overrides, isolates
/// and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(
            escape("a\u{1b}]0;owned\u{7}b\u{0}c\nd\u{9b}e"),
            "a\\u{1b}]0;owned\\u{7}b\\u{0}c\\nd\\u{9b}e"
        );
        assert_eq!(escape("x\u{202E}y"), "x\\u{202e}y");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "role/demo-dev · 2 ✅ `Sid`";
        assert!(matches!(escape(text), std::borrow::Cow::Borrowed(_)));
    }
}
