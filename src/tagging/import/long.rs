//! One row per (image, tag): the DMI/DensityDesign tagging tool's
//! `url,concept,confidence` and generic long tables (`image,tag,confidence`,
//! Gephi's `Source,Target,Weight` edges file).

use anyhow::Result;

use super::record::{Emit, TagRecord, parse_confidence, row_error};
use crate::collect::table::Table;

/// The row the tagging tool writes for an image with no concept above 0.1.
const DMI_NO_TAGS: &str = "No elements present";

/// Header names for the image, tag and confidence columns, best first.
pub const IMAGE_NAMES: &[&str] = &[
    "image",
    "image_url",
    "url",
    "image_location",
    "source",
    "file",
    "filename",
    "path",
    "id",
];
const TAG_NAMES: &[&str] = &[
    "tag",
    "concept",
    "label",
    "target",
    "name",
    "description",
    "keyword",
    "class",
];
const CONFIDENCE_NAMES: &[&str] = &["confidence", "score", "weight", "value", "probability"];

pub struct Columns {
    pub image: usize,
    pub tag: usize,
    pub confidence: Option<usize>,
}

/// The first header of `table` named one of `names`.
pub fn find(table: &Table, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| table.column(n))
}

/// `url,concept[,confidence]` as the tagging tool writes it.
pub fn dmi_columns(table: &Table) -> Option<Columns> {
    Some(Columns {
        image: table.column("url")?,
        tag: table.column("concept")?,
        confidence: table.column("confidence"),
    })
}

/// An image column and a (singular) tag column under any of the known names.
pub fn long_columns(table: &Table) -> Option<Columns> {
    let image = find(table, IMAGE_NAMES)?;
    let tag = TAG_NAMES
        .iter()
        .filter_map(|n| table.column(n))
        .find(|&i| i != image)?;
    Some(Columns {
        image,
        tag,
        confidence: CONFIDENCE_NAMES.iter().find_map(|n| table.column(n)),
    })
}

/// Reads the rows; `dmi` turns the tool's `No elements present` row into "no tags".
pub fn read(
    table: &mut Table,
    columns: &Columns,
    dmi: bool,
    source: &str,
    emit: Emit<'_>,
) -> Result<()> {
    while let Some(row) = table.next_row()? {
        let image = row.get(columns.image).trim();
        if image.is_empty() {
            return Err(row_error(
                table.path(),
                row.line,
                "the image column is empty: give the image's URL or file name",
            ));
        }
        let tag = row.get(columns.tag).trim();
        let confidence_cell = columns.confidence.map(|i| row.get(i)).unwrap_or("");
        let no_tags =
            tag.is_empty() || (dmi && tag == DMI_NO_TAGS && confidence_cell.trim().is_empty());
        let confidence = if no_tags {
            None
        } else {
            parse_confidence(confidence_cell).map_err(|e| row_error(table.path(), row.line, e))?
        };
        emit(
            TagRecord {
                line: row.line,
                image: image.to_string(),
                tag: (!no_tags).then(|| tag.to_string()),
                confidence,
                source: source.to_string(),
            },
            table.byte_offset(),
        )?;
    }
    Ok(())
}
