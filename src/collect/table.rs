//! Reading delimited tables (CSV, TSV, semicolon CSV) the way the tools that
//! write them do: a UTF-8 BOM skipped (TCAT writes one), the delimiter taken
//! from the extension or the header line, `"` quoting, and every problem
//! reported with the file and line. Used by `add` and by the tag importer.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use csv::StringRecord;

use crate::text_input::{Caps, Utf8Source};

/// How rows whose field count differs from the header's are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaggedRows {
    /// An error naming the line (tag tables: a shifted column means a wrong tag).
    Reject,
    /// Short rows are padded with empty fields and extra fields are dropped;
    /// the reader counts them (URL lists: spreadsheet exports often have
    /// trailing empty cells missing).
    Pad,
}

/// Whether `"` quotes fields (RFC 4180, as every spreadsheet writes) or is
/// an ordinary character (`--no-quotes`, for files with stray quotes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quotes {
    #[default]
    Standard,
    Ignore,
}

/// One data row and the line it starts on (1-based, as an editor shows it).
pub struct Row {
    pub line: u64,
    pub fields: StringRecord,
}

impl Row {
    /// The field in column `index`, empty when the row is short.
    pub fn get(&self, index: usize) -> &str {
        self.fields.get(index).unwrap_or("")
    }
}

/// An open table: its header and a stream of rows.
pub struct Table {
    path: PathBuf,
    pub headers: Vec<String>,
    pub delimiter: u8,
    reader: csv::Reader<Box<dyn Read>>,
    ragged: RaggedRows,
    quotes: Quotes,
    /// Bytes before the data (the BOM), to find a record's raw bytes.
    data_start: u64,
    /// Rows with a different field count than the header (only with `Pad`).
    pub ragged_rows: u64,
    pub first_ragged_line: Option<u64>,
    /// Bytes after the BOM, and whether the last one is a newline: to tell
    /// the line a record starts on (see `start_line`).
    data_len: u64,
    ends_with_newline: bool,
    crlf: bool,
    /// What is read: the file, or its UTF-8 copy when it is in another encoding.
    source: Utf8Source,
}

/// The UTF-8 form of a table or list file: itself, or a decoded copy when
/// it is UTF-16 or Windows-1252 (see `text_input::utf8_source`).
pub fn utf8_source(path: &Path) -> Result<Utf8Source> {
    crate::text_input::utf8_source(path, Caps::TABLE)
}

/// `source` (the UTF-8 form of `path`) opened past its BOM: `Box<dyn Read>`
/// so table and list readers share it. Errors name `path`.
pub fn open_without_bom(path: &Path, source: &Utf8Source) -> Result<Box<dyn Read>> {
    // Regular files only (a table is opened more than once), lines capped.
    let file = crate::text_input::open_file_as(source.path(), path, Caps::TABLE)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let start = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if start.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(Box::new(reader))
}

/// The length of a file after its BOM and whether it ends with a newline.
fn data_extent(path: &Path) -> Result<(u64, bool)> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 3];
    let bom = if len >= 3 && file.read_exact(&mut head).is_ok() && head == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    };
    let mut last = [0u8; 1];
    let ends_with_newline = len > 0
        && file.seek(SeekFrom::End(-1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last[0] == b'\n';
    Ok((len - bom, ends_with_newline))
}

/// The first line of a file (BOM skipped, lossily decoded, at most 64 KiB;
/// UTF-16 after a BOM decoded as such).
pub fn first_line(path: &Path) -> Result<String> {
    crate::text_input::require_regular(path)?;
    let mut buf = Vec::new();
    File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .take(1 << 17)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (text, _) = crate::text_input::decode(buf);
    let text = text.trim_start_matches('\u{feff}');
    let line = text.split('\n').next().unwrap_or("");
    Ok(line.trim_end_matches('\r').to_string())
}

/// The first line of `source` with its `\r` if the file uses CRLF line ends.
fn first_line_raw(path: &Path, source: &Utf8Source) -> Result<String> {
    let mut reader = open_without_bom(path, source)?;
    let mut buf = Vec::new();
    reader
        .by_ref()
        .take(1 << 16)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// The delimiter of a table: TAB for `.tsv`/`.tab`, otherwise the most frequent
/// of `,` TAB `;` outside quotes in the header line (comma when none occurs).
pub fn detect_delimiter(path: &Path, header_line: &str) -> u8 {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("tsv" | "tab")) {
        return b'\t';
    }
    let (mut commas, mut tabs, mut semicolons, mut quoted) = (0, 0, 0, false);
    for c in header_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            '\t' if !quoted => tabs += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if tabs > 0 && tabs >= commas && tabs >= semicolons {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

impl Table {
    /// Opens `path` and reads its header row, with standard quoting.
    pub fn open(path: &Path, ragged: RaggedRows) -> Result<Table> {
        Self::open_with(path, ragged, Quotes::Standard)
    }

    /// Opens `path` and reads its header row.
    pub fn open_with(path: &Path, ragged: RaggedRows, quotes: Quotes) -> Result<Table> {
        let source = utf8_source(path)?;
        let first = first_line_raw(path, &source)?;
        let delimiter = detect_delimiter(path, first.trim_end_matches('\r'));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .quoting(quotes == Quotes::Standard)
            .from_reader(open_without_bom(path, &source)?);
        let mut header = StringRecord::new();
        let got = reader
            .read_record(&mut header)
            .map_err(|e| csv_error(path, e))?;
        if !got {
            bail!(
                "{} is empty: expected a header row and data rows",
                path.display()
            );
        }
        let headers = header.iter().map(|h| h.trim().to_string()).collect();
        let (data_len, ends_with_newline) = data_extent(source.path())?;
        let crlf = first.ends_with('\r');
        let data_start = std::fs::metadata(source.path())
            .map(|m| m.len())
            .unwrap_or(data_len)
            .saturating_sub(data_len);
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            delimiter,
            reader,
            ragged,
            quotes,
            data_start,
            ragged_rows: 0,
            first_ragged_line: None,
            data_len,
            ends_with_newline,
            crlf,
            source,
        })
    }

    /// The encoding the file was read in when it is not UTF-8 ("UTF-16LE").
    pub fn encoding(&self) -> Option<&'static str> {
        self.source.encoding
    }

    /// The line `record` starts on. csv reports the position where it began
    /// reading, which is before any blank lines it skipped; so count back from
    /// where the record ended instead, minus newlines inside quoted fields.
    fn start_line(&self, record: &StringRecord) -> u64 {
        let began = record.position().map(|p| p.line()).unwrap_or(1);
        let after = self.reader.position();
        let inner: u64 = record
            .iter()
            .map(|f| f.bytes().filter(|&b| b == b'\n').count() as u64)
            .sum();
        // After a `\r\n` csv has consumed the `\r` only, so its line count has
        // not moved on yet; nor has it at the end of a file without a final newline.
        let unterminated = after.byte() >= self.data_len && !self.ends_with_newline;
        let last_line = if unterminated || self.crlf {
            after.line()
        } else {
            after.line().saturating_sub(1)
        };
        last_line.saturating_sub(inner).max(began)
    }

    /// The index of the column named `name` (trimmed, case-insensitive).
    pub fn column(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The header names joined for messages ("columns seen: a, b, c").
    pub fn describe_columns(&self) -> String {
        self.headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next data row, skipping blank lines.
    pub fn next_row(&mut self) -> Result<Option<Row>> {
        let mut record = StringRecord::new();
        loop {
            if !self
                .reader
                .read_record(&mut record)
                .map_err(|e| csv_error(&self.path, e))?
            {
                return Ok(None);
            }
            let line = self.start_line(&record);
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }
            if self.quotes == Quotes::Standard {
                self.check_quoted_lines(&record, line)?;
            }
            if record.len() != self.headers.len() {
                match self.ragged {
                    RaggedRows::Reject => bail!(
                        "{} line {line}: {} fields where the header has {} (a value containing `{}` must be quoted): fix the row",
                        self.path.display(),
                        record.len(),
                        self.headers.len(),
                        self.delimiter as char
                    ),
                    RaggedRows::Pad => {
                        self.ragged_rows += 1;
                        self.first_ragged_line.get_or_insert(line);
                        record.truncate(self.headers.len());
                        while record.len() < self.headers.len() {
                            record.push_field("");
                        }
                    }
                }
            }
            return Ok(Some(Row {
                line,
                fields: record,
            }));
        }
    }

    /// Refuses a record whose quoted field runs across lines when the quote
    /// evidently went wrong: the row then has another number of fields than
    /// the header, or the quote never closes before the end of the file. A
    /// single stray `"` otherwise swallows every row after it into one field.
    /// Quoted fields spanning lines in an otherwise sound row (4CAT post
    /// bodies) are kept.
    fn check_quoted_lines(&self, record: &StringRecord, line: u64) -> Result<()> {
        let newlines = |f: &str| f.bytes().filter(|&b| b == b'\n').count() as u64;
        let Some(first) = record.iter().position(|f| f.contains('\n')) else {
            return Ok(());
        };
        let opened = line + record.iter().take(first).map(newlines).sum::<u64>();
        // A value that runs to the end of the file holds its final newline.
        let trailing = record
            .get(record.len().saturating_sub(1))
            .is_some_and(|f| f.ends_with('\n'));
        let last = line + record.iter().map(newlines).sum::<u64>() - u64::from(trailing);
        let wrong_count = record.len() != self.headers.len();
        let unclosed = !wrong_count && self.quote_left_open(record)?;
        if !wrong_count && !unclosed {
            return Ok(());
        }
        let problem = if unclosed {
            format!(
                "a quoted field opens here and never closes: lines {opened} to {last} (the end of the file) would become one value"
            )
        } else {
            format!(
                "a quoted field opens here and runs to line {last}, leaving a row of {} where the header has {}",
                super::plural(record.len() as u64, "field", "fields"),
                self.headers.len()
            )
        };
        bail!(
            "{} line {opened}: {problem}: probably a stray `\"`; nothing was read from this file. Fix that line (double a `\"` inside a quoted value, or quote the whole value), or read the file without quote processing with --no-quotes",
            self.path.display()
        )
    }

    /// Whether the raw bytes of `record` (from where it began to where the
    /// reader stands) hold an odd number of `"`: the reader reached the end
    /// of the file inside a quoted field.
    fn quote_left_open(&self, record: &StringRecord) -> Result<bool> {
        use std::io::{Seek, SeekFrom};
        let start = record.position().map(|p| p.byte()).unwrap_or(0);
        let end = self.reader.position().byte();
        let mut file = File::open(self.source.path())
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(self.data_start + start))
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let mut raw = BufReader::new(file.take(end.saturating_sub(start)));
        let mut quotes = 0u64;
        loop {
            let buf = raw
                .fill_buf()
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            if buf.is_empty() {
                break;
            }
            quotes += buf.iter().filter(|&&b| b == b'"').count() as u64;
            let n = buf.len();
            raw.consume(n);
        }
        Ok(quotes % 2 == 1)
    }

    /// Bytes of data (after the BOM) in the UTF-8 form read: the total of
    /// `byte_offset`, for progress bars.
    pub fn data_len(&self) -> u64 {
        self.data_len
    }

    /// Bytes read so far (for progress bars).
    pub fn byte_offset(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// A csv error as "FILE line N: what is wrong: what to do".
fn csv_error(path: &Path, err: csv::Error) -> anyhow::Error {
    let line = err.position().map(|p| p.line());
    let what = match err.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "invalid UTF-8 text: save the file as UTF-8 (e.g. \"CSV UTF-8\" in a spreadsheet)"
                .to_string()
        }
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        _ => format!("{err}: fix the row"),
    };
    match line {
        Some(line) => anyhow!("{} line {line}: {what}", path.display()),
        None => anyhow!("{}: {what}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(u64, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut table = Table::open(&path, RaggedRows::Pad).unwrap();
        let mut out = Vec::new();
        while let Some(row) = table.next_row().unwrap() {
            out.push((row.line, row.get(0).to_string()));
        }
        out
    }

    #[test]
    fn rows_report_the_line_they_start_on() {
        // Line 1 header, 2 blank, 3 "a", 4-5 a quoted two-line field, 6 blank, 7 "c".
        let text = "\u{feff}h,x\n\na,1\n\"b\nb\",2\n\nc,3";
        let want = vec![(3, "a".to_string()), (4, "b\nb".into()), (7, "c".into())];
        assert_eq!(lines_of(text), want);
        assert_eq!(lines_of(&format!("{text}\n")), want);
        let crlf = text.replace('\n', "\r\n");
        for text in [crlf.clone(), format!("{crlf}\r\n")] {
            let lines: Vec<u64> = lines_of(&text).into_iter().map(|(l, _)| l).collect();
            assert_eq!(lines, [3, 4, 7]);
        }
    }

    fn read_all(text: &str, ragged: RaggedRows) -> Result<Vec<Vec<String>>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut table = Table::open(&path, ragged)?;
        let mut out = Vec::new();
        while let Some(row) = table.next_row()? {
            out.push(row.fields.iter().map(String::from).collect());
        }
        Ok(out)
    }

    #[test]
    fn quoted_values_over_several_lines_are_kept_when_the_row_is_sound() {
        let rows = read_all("a,b\n1,\"two\nlines\"\n3,x\n", RaggedRows::Reject).unwrap();
        assert_eq!(rows, [vec!["1", "two\nlines"], vec!["3", "x"]]);
    }

    #[test]
    fn a_quote_left_open_is_refused_where_it_opened() {
        // Row count right, but the quote on line 3 never closes.
        let text = "\u{feff}a,b\n1,x\n2,\"y\n3,z\n4,w\n";
        for ragged in [RaggedRows::Pad, RaggedRows::Reject] {
            let err = format!("{:#}", read_all(text, ragged).unwrap_err());
            assert!(
                err.contains(
                    "t.csv line 3: a quoted field opens here and never closes: lines 3 to 5"
                ),
                "{err}"
            );
            assert!(err.contains("--no-quotes"), "{err}");
        }
        // A quote inside the first field shifts the row: too few fields.
        let text = "a,b,c\n\"1,x,y\n2,x,y\"\n3,x,y\n";
        let err = format!("{:#}", read_all(text, RaggedRows::Pad).unwrap_err());
        assert!(err.contains("line 2: a quoted field opens here and runs to line 3, leaving a row of 1 field where the header has 3"), "{err}");
    }

    #[test]
    fn delimiter_comes_from_extension_or_header() {
        let p = Path::new("x.csv");
        assert_eq!(detect_delimiter(p, "a,b,c"), b',');
        assert_eq!(detect_delimiter(p, "a\tb\t\"c,d\""), b'\t');
        assert_eq!(detect_delimiter(p, "a;b;\"c,d\""), b';');
        assert_eq!(detect_delimiter(Path::new("x.TSV"), "a,b"), b'\t');
    }
}
