//! The row every tag format is read into, and the value rules they share.

use std::path::Path;

/// One tag of one image as a tag file states it.
#[derive(Clone, Debug, PartialEq)]
pub struct TagRecord {
    /// The line the row starts on, for messages and `unmatched-tags.csv`.
    pub line: u64,
    /// The image as the file names it: a URL, a path or a file name.
    pub image: String,
    /// `None`: the file says this image has no tags (e.g. `No elements present`).
    pub tag: Option<String>,
    pub confidence: Option<f64>,
    /// Where the tag came from, e.g. `import:dmi`, `memespector:GV`.
    pub source: String,
}

impl TagRecord {
    /// The file says `image` has no tags.
    pub fn no_tags(line: u64, image: &str, source: String) -> TagRecord {
        TagRecord {
            line,
            image: image.to_string(),
            tag: None,
            confidence: None,
            source,
        }
    }

    /// The file gives `image` the tag `tag`.
    pub fn tagged(
        line: u64,
        image: &str,
        tag: &str,
        confidence: Option<f64>,
        source: String,
    ) -> TagRecord {
        TagRecord {
            line,
            image: image.to_string(),
            tag: Some(tag.to_string()),
            confidence,
            source,
        }
    }
}

/// Where a reader hands each record, with the bytes of the file read so far
/// (for the progress bar); an error stops the reading.
pub type Emit<'a> = &'a mut dyn FnMut(TagRecord, u64) -> anyhow::Result<()>;

/// "FILE line N: what: fix" as an error.
pub fn row_error(path: &Path, line: u64, what: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{} line {line}: {what}", path.display())
}

/// Parses a confidence: a number in 0..=1 or a percentage (`93%`); empty is
/// `None`. Anything else (text, NaN, negative, above 1) is refused rather
/// than clamped, because it means the column is not what we took it for.
pub fn parse_confidence(raw: &str) -> Result<Option<f64>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let (number, scale) = match value.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (value, 1.0),
    };
    let parsed = number
        .parse::<f64>()
        .map_err(|_| format!("confidence `{value}` is not a number"))?
        / scale;
    if !parsed.is_finite() || !(0.0..=1.0).contains(&parsed) {
        return Err(format!(
            "confidence `{value}` is outside 0–1: give confidences between 0 and 1 or as percentages (93%)"
        ));
    }
    Ok(Some(parsed))
}

/// Splits a `description (score)` item (memespector-python's `gv_labels`)
/// into the tag and its score; items without a trailing numeric score are
/// whole tags.
pub fn split_scored(item: &str) -> Result<(&str, Option<f64>), String> {
    let item = item.trim();
    if let Some(body) = item.strip_suffix(')')
        && let Some(open) = body.rfind('(')
    {
        let score = &body[open + 1..];
        if score.trim().trim_end_matches('%').parse::<f64>().is_ok() {
            return Ok((body[..open].trim(), parse_confidence(score)?));
        }
    }
    Ok((item, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidences_parse_or_are_refused() {
        assert_eq!(parse_confidence(" 0.93 "), Ok(Some(0.93)));
        assert_eq!(parse_confidence("93%"), Ok(Some(0.93)));
        assert_eq!(parse_confidence(""), Ok(None));
        assert!(parse_confidence("NaN").is_err());
        assert!(parse_confidence("-0.1").is_err());
        assert!(parse_confidence("1.5").is_err());
        assert!(parse_confidence("high").is_err());
    }

    #[test]
    fn scored_items_split() {
        assert_eq!(split_scored("Crowd (0.93)"), Ok(("Crowd", Some(0.93))));
        assert_eq!(split_scored("Apple (fruit)"), Ok(("Apple (fruit)", None)));
        assert_eq!(split_scored(" Protest "), Ok(("Protest", None)));
        assert!(split_scored("Sky (7)").is_err());
    }
}
