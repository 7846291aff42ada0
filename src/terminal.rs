//! Text from inputs (tags, URLs, file names, cells quoted in errors) made
//! safe to print: control characters (escape sequences that move the
//! cursor, retitle the window or hide text, C1 controls, bidirectional
//! overrides) are replaced, and long quotes are cut.
//!
//! Every summary, listing and error line goes through [`clean`]
//! (`ui::summary`, `ui::note`, `main`'s error line); [`excerpt`] bounds how
//! much of an input a message quotes.

use std::borrow::Cow;

/// Whether `c` may not reach a terminal as it is. Newlines and tabs are
/// kept: listings use them.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        // Bidirectional embeddings, overrides and isolates reorder what
        // follows on screen.
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `text` with every unsafe character replaced by `\u{FFFD}` (so a hidden
/// sequence shows that something was there).
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_unsafe(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// [`clean`] that also folds newlines and tabs into spaces: for one value
/// (a tag, a name) printed inside a line.
pub fn clean_inline(text: &str) -> Cow<'_, str> {
    let cleaned = clean(text);
    if !cleaned.contains(['\n', '\t', '\r']) {
        return cleaned;
    }
    Cow::Owned(cleaned.replace(['\n', '\t', '\r'], " "))
}

/// At most `max_chars` characters of `text`, cleaned; a cut is marked with
/// how much was left out.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let total = text.chars().count();
    if total <= max_chars {
        return clean_inline(text).into_owned();
    }
    let head: String = text.chars().take(max_chars).collect();
    format!(
        "{}… ({} more characters)",
        clean_inline(&head),
        total - max_chars
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_are_replaced_text_is_kept() {
        assert_eq!(clean("plain tag, ünïcode 猫"), "plain tag, ünïcode 猫");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        let hostile = "cat\x1b]0;owned\x07\x1b[2Jdog\u{9b}31m\u{202e}x\r";
        let out = clean(hostile);
        assert!(!out.chars().any(|c| c.is_control()), "{out:?}");
        assert!(out.starts_with("cat") && out.contains("dog"), "{out:?}");
        assert_eq!(clean("a\nb\tc"), "a\nb\tc");
        assert_eq!(clean_inline("a\nb"), "a b");
    }

    #[test]
    fn long_text_is_cut_with_a_count() {
        let line = "x".repeat(1_000_000);
        let short = excerpt(&line, 200);
        assert!(short.len() < 250, "{}", short.len());
        assert!(short.contains("999800 more characters"), "{short}");
        assert_eq!(excerpt("short", 200), "short");
    }
}
