//! Text as tagscape stores it and writes it out: tags and labels without
//! control characters, so a node has one id in every export. XML 1.0 cannot
//! carry most control characters (the GEXF and GraphML would drop them),
//! Gephi's CSV import trims what is below U+0021 from each cell, and a
//! newline in an id breaks many tools; cleaned when tags come in, and once
//! more when the graph is built, for stores written before.

use std::borrow::Cow;

/// `text` with each run of control characters (Unicode category Cc: the C0
/// set including tab and newline, DEL, and the C1 set) replaced by one space,
/// then trimmed of surrounding whitespace. Format characters such as the
/// zero-width joiner of emoji sequences or the right-to-left mark are kept.
pub fn clean(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    if !trimmed.chars().any(char::is_control) {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut in_run = false;
    for c in trimmed.chars() {
        if c.is_control() {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    // A control run next to a space at either end leaves a space to trim.
    match out.trim() {
        t if t.len() == out.len() => Cow::Owned(out),
        t => Cow::Owned(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_runs_become_one_space_and_ends_are_trimmed() {
        assert_eq!(clean("bell\u{7}tag"), "bell tag");
        assert_eq!(clean("two\r\nlines"), "two lines");
        assert_eq!(clean("tab\tand\u{0}nul"), "tab and nul");
        assert_eq!(clean("c1\u{85}next"), "c1 next");
        assert_eq!(clean("\u{1b}[31m red \n"), "[31m red");
        assert_eq!(clean(" \n cat \t"), "cat");
        assert_eq!(clean("\u{7}"), "");
    }

    #[test]
    fn other_text_is_kept_as_it_is() {
        for s in [
            "cat",
            "Straße 東京",
            "👩\u{200D}💻",
            "\u{200F}שלום",
            "مرحبا",
            r"C:\new\tab",
        ] {
            assert!(matches!(clean(s), Cow::Borrowed(b) if b == s), "{s:?}");
        }
    }
}
