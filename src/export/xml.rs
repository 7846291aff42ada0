//! The little XML the GEXF and GraphML writers need: escaping any text for an
//! attribute value or element content, and numbers in XML Schema's lexical
//! forms.

use std::borrow::Cow;

/// `s` made safe inside a double-quoted attribute or element content:
/// markup characters become entities, tab/newline/CR become character
/// references (a parser would otherwise normalise them to spaces in
/// attributes), and characters XML 1.0 forbids (other C0 controls, U+FFFE,
/// U+FFFF) are dropped — no escape exists for them.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_work) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_work(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'') || forbidden(c) || c.is_ascii_control()
}

/// Not a `Char` of XML 1.0 (Rust's `char` already excludes surrogates).
fn forbidden(c: char) -> bool {
    (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// A float as `xsd:float`/`xsd:double` spells it (Rust writes `inf`, the
/// schema wants `INF`; finite values never use exponents in Rust's Display).
pub fn number(v: f32) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "INF".into() } else { "-INF".into() }
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_controls() {
        assert_eq!(escape("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            escape("a&b<c>\"d'\u{1}e\tf\u{FFFF}"),
            "a&amp;b&lt;c&gt;&quot;d&apos;e&#9;f"
        );
        assert_eq!(escape("Straße – 東京"), "Straße – 東京");
    }

    #[test]
    fn numbers_use_schema_spellings() {
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(f32::INFINITY), "INF");
        assert_eq!(number(f32::NEG_INFINITY), "-INF");
        assert_eq!(number(f32::NAN), "NaN");
    }
}
