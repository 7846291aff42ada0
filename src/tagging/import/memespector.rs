//! The Memespector family (FORMATS.md (c)): Memespector-GUI's CSV, one row per
//! image with `"; "`-joined label and score lists per vision API, and
//! memespector-python's `gv_labels` cells (`Crowd (0.93);Protest (0.88)`).

use anyhow::Result;

use super::long::find;
use super::record::{Emit, TagRecord, parse_confidence, row_error, split_scored};
use crate::collect::URL_COLUMN_NAMES;
use crate::collect::table::Table;

/// Memespector-GUI's label lists: (API prefix, labels column, scores column).
const GUI_LISTS: &[(&str, &str, &str)] = &[
    ("GV", "GV_Label_Descriptions", "GV_Label_Scores"),
    ("CL", "CL_Concepts", "CL_Concept_Scores"),
    ("MA", "MA_Tags", "MA_Tag_Scores"),
    ("OS", "OS_Labels", "OS_Label_Scores"),
];

/// One API's columns in a Memespector-GUI file.
pub struct GuiList {
    prefix: &'static str,
    labels: usize,
    scores: Option<usize>,
    success: Option<usize>,
}

pub struct GuiColumns {
    image: usize,
    lists: Vec<GuiList>,
}

pub fn gui_columns(table: &Table) -> Option<GuiColumns> {
    let image = table.column("Image_Location")?;
    let lists: Vec<GuiList> = GUI_LISTS
        .iter()
        .filter_map(|&(prefix, labels, scores)| {
            Some(GuiList {
                prefix,
                labels: table.column(labels)?,
                // The GUI can hide score columns; the tags then have no confidence.
                scores: table.column(scores),
                success: table.column(&format!("{prefix}_Success")),
            })
        })
        .collect();
    (!lists.is_empty()).then_some(GuiColumns { image, lists })
}

fn split_list(cell: &str) -> Vec<&str> {
    let cell = cell.trim();
    if cell.is_empty() {
        Vec::new()
    } else {
        cell.split(';').map(str::trim).collect()
    }
}

/// Reads the GUI's rows; `source` is the prefix for per-API sources (`memespector:GV`).
/// Returns the number of (row, API) pairs skipped because the API call had failed.
pub fn read_gui(
    table: &mut Table,
    columns: &GuiColumns,
    source: &str,
    emit: Emit<'_>,
) -> Result<u64> {
    let mut failed = 0;
    while let Some(row) = table.next_row()? {
        let image = row.get(columns.image).trim();
        if image.is_empty() {
            return Err(row_error(
                table.path(),
                row.line,
                "`Image_Location` is empty: every row needs its image",
            ));
        }
        for list in &columns.lists {
            let source = format!("{source}:{}", list.prefix);
            // A failed call says nothing about the image: keep whatever it had.
            if list
                .success
                .is_some_and(|i| row.get(i).trim().eq_ignore_ascii_case("false"))
            {
                failed += 1;
                continue;
            }
            let labels = split_list(row.get(list.labels));
            let scores = list.scores.map(|i| split_list(row.get(i)));
            if let Some(scores) = &scores
                && !scores.is_empty()
                && scores.len() != labels.len()
            {
                return Err(row_error(
                    table.path(),
                    row.line,
                    format!(
                        "{} labels but {} scores in the {} columns: the lists must line up",
                        labels.len(),
                        scores.len(),
                        list.prefix
                    ),
                ));
            }
            if labels.is_empty() {
                emit(
                    TagRecord::no_tags(row.line, image, source),
                    table.byte_offset(),
                )?;
                continue;
            }
            for (k, label) in labels.iter().enumerate() {
                let score = scores
                    .as_ref()
                    .and_then(|s| s.get(k))
                    .copied()
                    .unwrap_or("");
                let confidence =
                    parse_confidence(score).map_err(|e| row_error(table.path(), row.line, e))?;
                emit(
                    TagRecord::tagged(row.line, image, label, confidence, source.clone()),
                    table.byte_offset(),
                )?;
            }
        }
    }
    Ok(failed)
}

pub struct PythonColumns {
    image: usize,
    labels: usize,
}

/// memespector-python keeps the input columns, so the image is best found by
/// its URL column; else its `original_filename` or `image_id`.
pub fn python_columns(table: &Table) -> Option<PythonColumns> {
    let labels = table.column("gv_labels")?;
    let image = find(table, URL_COLUMN_NAMES)
        .or_else(|| find(table, &["original_filename", "copy_filename", "image_id"]))?;
    Some(PythonColumns { image, labels })
}

pub fn read_python(
    table: &mut Table,
    columns: &PythonColumns,
    source: &str,
    emit: Emit<'_>,
) -> Result<()> {
    while let Some(row) = table.next_row()? {
        let image = row.get(columns.image).trim();
        if image.is_empty() {
            return Err(row_error(
                table.path(),
                row.line,
                format!(
                    "the image column `{}` is empty: every row needs its image",
                    table.headers[columns.image]
                ),
            ));
        }
        let items: Vec<&str> = split_list(row.get(columns.labels))
            .into_iter()
            .filter(|i| !i.is_empty())
            .collect();
        if items.is_empty() {
            emit(
                TagRecord::no_tags(row.line, image, source.to_string()),
                table.byte_offset(),
            )?;
        }
        for item in items {
            let (tag, confidence) =
                split_scored(item).map_err(|e| row_error(table.path(), row.line, e))?;
            emit(
                TagRecord::tagged(row.line, image, tag, confidence, source.to_string()),
                table.byte_offset(),
            )?;
        }
    }
    Ok(())
}
