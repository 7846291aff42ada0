//! One row per image with its tags in one cell (`image,tags`), optionally a
//! `confidences` cell aligned with it or `tag (0.93)` items. The columns can
//! be named (`--image-column`, `--tags-column`), so a TCAT or 4CAT export's
//! `hashtags` serve as tags of its `media_urls`.

use anyhow::{Result, bail};

use super::long::{IMAGE_NAMES, find};
use super::record::{Emit, TagRecord, parse_confidence, row_error, split_scored};
use crate::collect::Quotes;
use crate::collect::table::{RaggedRows, Table};

const TAGS_NAMES: &[&str] = &["tags", "labels", "concepts", "keywords"];
const CONFIDENCES_NAMES: &[&str] = &["confidences", "scores", "weights"];

pub struct Columns {
    image: usize,
    tags: usize,
    confidences: Option<usize>,
    /// The image cell may hold several URLs (`"; "`- or `,`-joined, as in
    /// TCAT's `media_urls` and 4CAT's `images`): each gets the row's tags.
    several_images: bool,
}

pub fn columns(table: &Table) -> Option<Columns> {
    Some(Columns {
        image: find(table, IMAGE_NAMES)?,
        tags: find(table, TAGS_NAMES)?,
        confidences: find(table, CONFIDENCES_NAMES),
        several_images: false,
    })
}

/// The columns as named on the command line (either may be left to the
/// usual names); a name the table lacks is an error listing those it has.
pub fn named_columns(table: &Table, image: Option<&str>, tags: Option<&str>) -> Result<Columns> {
    let pick = |name: Option<&str>, what: &str, flag: &str, usual: &[&str]| -> Result<usize> {
        let found = match name {
            Some(name) => table.column(name),
            None => find(table, usual),
        };
        match (found, name) {
            (Some(i), _) => Ok(i),
            (None, Some(name)) => bail!(
                "{} has no column `{}` (columns seen: {}): pass one of those to {flag}",
                table.path().display(),
                name.trim(),
                table.describe_columns()
            ),
            (None, None) => bail!(
                "{}: no {what} column found (columns seen: {}): name it with {flag}",
                table.path().display(),
                table.describe_columns()
            ),
        }
    };
    let image_index = pick(image, "image", "--image-column", IMAGE_NAMES)?;
    let tags_index = pick(tags, "tags", "--tags-column", TAGS_NAMES)?;
    Ok(Columns {
        image: image_index,
        tags: tags_index,
        // Scores aligned with a metadata column would be a coincidence.
        confidences: tags
            .is_none()
            .then(|| find(table, CONFIDENCES_NAMES))
            .flatten(),
        several_images: image.is_some(),
    })
}

/// The list separator when none is given: `;` if any tag cell has one, else
/// `|`, else `,` (a comma-joined cell is quoted in a CSV); `;` for single
/// tags. Read in a pass of its own over `path` (opened as `table` was), so
/// the import itself can stream: it stops at the first `;`.
pub fn detect_separator(table: &Table, columns: &Columns, quotes: Quotes) -> Result<String> {
    let mut rows = Table::open_with(table.path(), RaggedRows::Reject, quotes)?;
    let (mut pipe, mut comma) = (false, false);
    while let Some(row) = rows.next_row()? {
        let cell = row.get(columns.tags);
        if cell.contains(';') {
            return Ok(";".into());
        }
        pipe |= cell.contains('|');
        comma |= cell.contains(',');
    }
    Ok(if pipe {
        "|"
    } else if comma {
        ","
    } else {
        ";"
    }
    .into())
}

fn split<'a>(cell: &'a str, separator: &str) -> Vec<&'a str> {
    cell.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Reads the rows with tags split at `separator`; returns how many posts
/// were skipped for having no image (with `--image-column` only).
pub fn read(
    table: &mut Table,
    columns: &Columns,
    separator: &str,
    source: &str,
    emit: Emit<'_>,
) -> Result<u64> {
    let mut without_image = 0;
    while let Some(row) = table.next_row()? {
        let image = row.get(columns.image).trim();
        if image.is_empty() && columns.several_images {
            without_image += 1; // a post without an image (a tweet with no media)
            continue;
        }
        if image.is_empty() {
            return Err(row_error(
                table.path(),
                row.line,
                "the image column is empty: give the image's URL or file name",
            ));
        }
        let images = if columns.several_images {
            crate::collect::tcat::split_cell(image)
        } else {
            vec![image]
        };
        let tags = split(row.get(columns.tags), separator);
        let scores = columns.confidences.map(|i| split(row.get(i), separator));
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
        for image in images {
            if tags.is_empty() {
                emit(
                    TagRecord::no_tags(row.line, image, source.to_string()),
                    table.byte_offset(),
                )?;
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
                emit(
                    TagRecord::tagged(row.line, image, tag, confidence, source.to_string()),
                    table.byte_offset(),
                )?;
            }
        }
    }
    Ok(without_image)
}
