//! One row per image with its tags in one cell (`image,tags`), optionally a
//! `confidences` cell aligned with it or `tag (0.93)` items.

use anyhow::Result;

use super::long::{IMAGE_NAMES, find};
use super::record::{TagRecord, parse_confidence, row_error, split_scored};
use crate::collect::table::{Row, Table};

const TAGS_NAMES: &[&str] = &["tags", "labels", "concepts", "keywords"];
const CONFIDENCES_NAMES: &[&str] = &["confidences", "scores", "weights"];

pub struct Columns {
    image: usize,
    tags: usize,
    confidences: Option<usize>,
}

pub fn columns(table: &Table) -> Option<Columns> {
    Some(Columns {
        image: find(table, IMAGE_NAMES)?,
        tags: find(table, TAGS_NAMES)?,
        confidences: find(table, CONFIDENCES_NAMES),
    })
}

/// The list separator when none is given: `;` if any tag cell has one, else
/// `|`, else `,` (a comma-joined cell is quoted in a CSV); `;` for single tags.
fn detect_separator(rows: &[Row], tags: usize) -> String {
    for candidate in [";", "|", ","] {
        if rows.iter().any(|r| r.get(tags).contains(candidate)) {
            return candidate.to_string();
        }
    }
    ";".to_string()
}

fn split<'a>(cell: &'a str, separator: &str) -> Vec<&'a str> {
    cell.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Reads the rows; returns the separator used.
pub fn read(
    table: &mut Table,
    columns: &Columns,
    separator: Option<&str>,
    source: &str,
    out: &mut Vec<TagRecord>,
) -> Result<String> {
    let mut rows = Vec::new();
    while let Some(row) = table.next_row()? {
        rows.push(row);
    }
    let separator = match separator {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => detect_separator(&rows, columns.tags),
    };
    for row in &rows {
        let image = row.get(columns.image).trim();
        if image.is_empty() {
            return Err(row_error(
                table.path(),
                row.line,
                "the image column is empty: give the image's URL or file name",
            ));
        }
        let tags = split(row.get(columns.tags), &separator);
        let scores = columns.confidences.map(|i| split(row.get(i), &separator));
        if let Some(scores) = &scores
            && !scores.is_empty()
            && scores.len() != tags.len()
        {
            return Err(row_error(
                table.path(),
                row.line,
                format!(
                    "{} tags but {} confidences (separator `{separator}`): the lists must line up, or pass --separator",
                    tags.len(),
                    scores.len()
                ),
            ));
        }
        if tags.is_empty() {
            out.push(TagRecord {
                line: row.line,
                image: image.to_string(),
                tag: None,
                confidence: None,
                source: source.to_string(),
            });
        }
        for (k, item) in tags.iter().enumerate() {
            let (tag, inline) =
                split_scored(item).map_err(|e| row_error(table.path(), row.line, e))?;
            let confidence = match scores.as_ref().and_then(|s| s.get(k)) {
                Some(score) => {
                    parse_confidence(score).map_err(|e| row_error(table.path(), row.line, e))?
                }
                None => inline,
            };
            out.push(TagRecord {
                line: row.line,
                image: image.to_string(),
                tag: Some(tag.to_string()),
                confidence,
                source: source.to_string(),
            });
        }
    }
    Ok(separator)
}
