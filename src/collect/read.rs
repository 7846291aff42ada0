//! Feeding a URL table or a plain list into a `Sink`.

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use super::columns::{self, Found};
use super::store::{PostKeys, PostRow, Sink};
use super::table::{Quotes, RaggedRows, Row, Table, open_without_bom, utf8_source};
use super::tcat::{self, MediaKind};

/// Rows looked at to recognise the URL column by its content.
const SAMPLE_ROWS: usize = 1000;

/// What reading a table found out about it (for the summary).
pub struct TableInfo {
    pub column: String,
    pub found: Found,
    /// The header: the columns of the table's posts.
    pub headers: Vec<String>,
    pub ragged_rows: u64,
    pub first_ragged_line: Option<u64>,
    /// The encoding the file was read in, when not UTF-8.
    pub encoding: Option<&'static str>,
}

/// Reads a CSV/TSV table of URLs (TCAT exports included).
pub fn read_table(
    sink: &mut Sink<'_>,
    path: &Path,
    base_dir: &Path,
    column: Option<&str>,
    quotes: Quotes,
    metadata: Option<&super::fourcat::Metadata>,
    progress: &indicatif::ProgressBar,
) -> Result<TableInfo> {
    let mut table = Table::open_with(path, RaggedRows::Pad, quotes)?;
    let mut samples = Vec::new();
    while samples.len() < SAMPLE_ROWS {
        match table.next_row()? {
            Some(row) => samples.push(row),
            None => break,
        }
    }
    let (url_col, found) = columns::choose(path, &table.headers, &samples, column, base_dir)?;
    let headers = table.headers.clone();
    let url_name = headers[url_col].to_ascii_lowercase();
    // `media_type` describes the `media_urls` list, not the avatar or other URL columns.
    let type_col = url_name
        .starts_with("media")
        .then(|| table.column("media_type"))
        .flatten();
    // 4CAT's Instagram export says per post what it is (`type`: photo,
    // video, mixed); its `image_url` of a video post is the video's still.
    let post_type_col = type_col
        .is_none()
        .then(|| table.column("type").filter(|&i| i != url_col))
        .flatten();
    let frequency_col = table.column("frequency").filter(|&i| i != url_col);
    // TCAT and 4CAT exports carry the post's own id: the surest identity.
    let id_col = table.column("id").filter(|&i| i != url_col);
    let mut keys = PostKeys::new(path);
    let mut handle = |row: &Row| -> Result<()> {
        let times = tcat::row_frequency(frequency_col.map(|i| row.get(i))).map_err(|what| {
            anyhow::anyhow!(
                "{} line {}: {what}: fix the value or remove the `frequency` column",
                path.display(),
                row.line
            )
        })?;
        let mut urls = tcat::split_cell(row.get(url_col));
        // A post whose cell names no file may be listed in 4CAT's metadata.
        if let (true, Some(metadata), Some(id)) =
            (urls == [""], metadata, id_col.map(|i| row.get(i)))
        {
            let files = metadata.files_of(id);
            if !files.is_empty() {
                urls = files;
            }
        }
        let types = type_col.and_then(|i| tcat::aligned(tcat::split_cell(row.get(i)), urls.len()));
        let cells = serde_json::to_string(&row.fields.iter().collect::<Vec<_>>())?;
        let post = PostRow {
            line: row.line,
            key: keys.key(id_col.map(|i| row.get(i)), &cells),
            cells,
        };
        for (index, raw) in urls.iter().enumerate() {
            sink.entry(
                raw,
                times,
                &post,
                |url| match post_type_col.map(|i| row.get(i)) {
                    Some(kind) => tcat::post_media_kind(kind, url),
                    None => tcat::media_kind(types.as_deref(), index, url),
                },
                || Some(row_metadata(&headers, row, url_col)),
            )?;
        }
        Ok(())
    };
    for row in &samples {
        handle(row)?;
    }
    drop(samples);
    let mut n = 0u64;
    while let Some(row) = table.next_row()? {
        handle(&row)?;
        n += 1;
        if n.is_multiple_of(4096) {
            progress.set_position(table.byte_offset());
        }
    }
    Ok(TableInfo {
        column: headers[url_col].clone(),
        found,
        headers: headers.clone(),
        ragged_rows: table.ragged_rows,
        first_ragged_line: table.first_ragged_line,
        encoding: table.encoding(),
    })
}

/// The row's other columns, as kept in `images.metadata`.
fn row_metadata(headers: &[String], row: &Row, url_col: usize) -> Value {
    let map: Map<String, Value> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != url_col)
        .map(|(i, h)| (h.clone(), Value::String(row.get(i).to_string())))
        .collect();
    Value::Object(map)
}

/// The one column of a plain list's posts.
pub const LIST_COLUMNS: [&str; 1] = ["entry"];

/// Reads a plain list: one URL or path per line; blank lines are ignored.
/// Each line is a post. Returns the encoding it was read in, when not UTF-8.
pub fn read_list(sink: &mut Sink<'_>, path: &Path) -> Result<Option<&'static str>> {
    let source = utf8_source(path)?;
    let mut reader = BufReader::new(open_without_bom(path, &source)?);
    let mut keys = PostKeys::new(path);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(source.encoding);
        }
        line += 1;
        let Ok(text) = std::str::from_utf8(&buf) else {
            bail!(
                "{} line {line}: invalid UTF-8 text: save the list as UTF-8",
                path.display()
            );
        };
        let entry = text.trim();
        if entry.is_empty() {
            continue;
        }
        let cells = serde_json::to_string(&[entry])?;
        let post = PostRow {
            line,
            key: keys.key(None, &cells),
            cells,
        };
        sink.entry(entry, 1, &post, MediaKind::from_url, || None)?;
    }
}
