//! A reference model of Gephi 0.10's spreadsheet (CSV) import, to check the
//! Gephi CSVs against what Gephi does with them rather than against a
//! generic CSV reader.
//!
//! Modelled on Gephi's code: `SpreadsheetUtils.configureCSVParser` (Apache
//! Commons CSV: `CSVFormat.DEFAULT` with delimiter `,`, quote `"`, escape `\`,
//! ignore empty lines, null string `""`, ignore surrounding spaces, trim; the
//! first record is the header; a UTF-8 byte-order mark is skipped), Commons
//! CSV's `Lexer` (escape sequences `\r \n \t \b \f`, an escaped meta
//! character stands for itself, any other escaped character keeps its
//! backslash; a quoted value ends at a lone quote, `""` is a quote),
//! `AbstractImporterSpreadsheet.autoDetectColumnTypes` (types guessed from
//! the first 25 rows, in the order Boolean, Integer, Long, BigInteger,
//! Double, BigDecimal; `Id`/`Label` always String; for edges `Source`,
//! `Target`, `Type`, `Kind` String and `Weight` Double when it can be),
//! `AbstractImportProcess` (a row whose size differs from the header's is
//! refused; a value its column type cannot parse is refused), and
//! `ImportEdgesProcess` (`Type` = `undirected`, any case, makes an edge
//! undirected; anything else or no `Type` column, directed; missing
//! endpoints become nodes). Gephi's dynamic types (intervals, timestamps)
//! are not modelled: they need `<[` `]>` brackets that no fixture value has.

#![allow(dead_code)]

use std::collections::BTreeMap;

/// Commons CSV failed (Gephi shows an error and imports nothing more).
#[derive(Debug, PartialEq)]
pub struct ParseError(pub String);

/// One record: the values (None where Commons CSV gives null: empty after
/// trimming).
pub type Record = Vec<Option<String>>;

/// A parsed file: the header and the records after it.
#[derive(Debug)]
pub struct Sheet {
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

impl Sheet {
    /// The index of a column, matched as Gephi matches special columns
    /// (trimmed, any case).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    }
}

const BOM: char = '\u{FEFF}';

/// Java's `Character.isWhitespace`: the space separators (Zs, Zl, Zp)
/// except the no-break ones, and TAB, LF, VT, FF, CR, FS, GS, RS, US. Rust's
/// `is_whitespace` differs by NEL and the no-break spaces.
fn java_whitespace(c: char) -> bool {
    matches!(c, '\u{1C}'..='\u{1F}')
        || (c.is_whitespace() && !matches!(c, '\u{85}' | '\u{A0}' | '\u{2007}' | '\u{202F}'))
}

/// Java's `String.trim`: everything up to U+0020 off both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

enum Token {
    /// A value followed by a delimiter.
    Value(String),
    /// A value that ends the record.
    EndOfRecord(String),
    /// The end of the input (with the last value when one is pending).
    EndOfFile(Option<String>),
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    /// The character read last (None at the start or the end).
    last: Option<char>,
}

impl Lexer {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        self.last = c;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Commons CSV `readEndOfLine`: CR LF counts as one line end.
    fn end_of_line(&mut self, c: Option<char>) -> bool {
        match c {
            Some('\r') => {
                if self.peek() == Some('\n') {
                    self.read();
                }
                true
            }
            Some('\n') => true,
            _ => false,
        }
    }

    /// Commons CSV `readEscape`, the backslash just read: what the pair
    /// stands for, or None for "not an escape" (the lexer then keeps both
    /// characters).
    fn escape(&mut self) -> Result<Option<char>, ParseError> {
        match self.read() {
            Some('r') => Ok(Some('\r')),
            Some('n') => Ok(Some('\n')),
            Some('t') => Ok(Some('\t')),
            Some('b') => Ok(Some('\u{8}')),
            Some('f') => Ok(Some('\u{C}')),
            Some(c @ ('\r' | '\n' | '\u{C}' | '\t' | '\u{8}')) => Ok(Some(c)),
            // Meta characters: delimiter, escape, quote (no comment marker).
            Some(c @ (',' | '\\' | '"')) => Ok(Some(c)),
            Some(_) => Ok(None),
            None => Err(ParseError("EOF whilst processing escape sequence".into())),
        }
    }

    fn next_token(&mut self, at_line_start: bool) -> Result<Token, ParseError> {
        let previous = self.last;
        let mut c = self.read();
        let mut eol = self.end_of_line(c);
        // ignoreEmptyLines
        if at_line_start {
            while eol {
                c = self.read();
                eol = self.end_of_line(c);
                if c.is_none() {
                    return Ok(Token::EndOfFile(None));
                }
            }
        }
        // At the end, a value is pending only right after a delimiter.
        if c.is_none() && previous != Some(',') {
            return Ok(Token::EndOfFile(None));
        }
        // ignoreSurroundingSpaces (leading)
        while c.is_some_and(|ch| ch != ',' && java_whitespace(ch)) && !eol {
            c = self.read();
            eol = self.end_of_line(c);
        }
        match c {
            Some(',') => Ok(Token::Value(String::new())),
            _ if eol => Ok(Token::EndOfRecord(String::new())),
            Some('"') => self.quoted(),
            None => Ok(Token::EndOfFile(Some(String::new()))),
            Some(first) => self.simple(first),
        }
    }

    fn simple(&mut self, first: char) -> Result<Token, ParseError> {
        let mut content = String::new();
        let mut c = Some(first);
        let end = loop {
            if self.end_of_line(c) {
                break 1;
            }
            match c {
                None => break 2,
                Some(',') => break 0,
                Some('\\') => {
                    match self.escape()? {
                        Some(unescaped) => content.push(unescaped),
                        None => {
                            content.push('\\');
                            content.push(self.last.unwrap());
                        }
                    }
                    c = self.read();
                }
                Some(ch) => {
                    content.push(ch);
                    c = self.read();
                }
            }
        };
        // ignoreSurroundingSpaces (trailing)
        let trimmed = content.trim_end_matches(java_whitespace).to_string();
        Ok(match end {
            0 => Token::Value(trimmed),
            1 => Token::EndOfRecord(trimmed),
            _ => Token::EndOfFile(Some(trimmed)),
        })
    }

    fn quoted(&mut self) -> Result<Token, ParseError> {
        let mut content = String::new();
        loop {
            match self.read() {
                Some('\\') => match self.escape()? {
                    Some(unescaped) => content.push(unescaped),
                    None => {
                        content.push('\\');
                        content.push(self.last.unwrap());
                    }
                },
                Some('"') => {
                    if self.peek() == Some('"') {
                        self.read();
                        content.push('"');
                    } else {
                        loop {
                            let c = self.read();
                            match c {
                                Some(',') => return Ok(Token::Value(content)),
                                None => return Ok(Token::EndOfFile(Some(content))),
                                _ if self.end_of_line(c) => {
                                    return Ok(Token::EndOfRecord(content));
                                }
                                Some(ch) if java_whitespace(ch) => {}
                                Some(ch) => {
                                    return Err(ParseError(format!(
                                        "invalid char {ch:?} between encapsulated token and delimiter"
                                    )));
                                }
                            }
                        }
                    }
                }
                None => {
                    return Err(ParseError(
                        "EOF reached before encapsulated token finished".into(),
                    ));
                }
                Some(ch) => content.push(ch),
            }
        }
    }
}

/// Parses `text` as Gephi's CSV parser does.
pub fn parse(text: &str) -> Result<Sheet, ParseError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        last: None,
    };
    let mut records: Vec<Record> = Vec::new();
    let mut current: Record = Vec::new();
    // withTrim + withNullString(""): trimmed, and empty becomes null.
    let value = |s: String| {
        let t = java_trim(&s).to_string();
        (!t.is_empty()).then_some(t)
    };
    loop {
        match lexer.next_token(current.is_empty())? {
            Token::Value(s) => current.push(value(s)),
            Token::EndOfRecord(s) => {
                current.push(value(s));
                records.push(std::mem::take(&mut current));
            }
            Token::EndOfFile(last) => {
                if let Some(s) = last {
                    current.push(value(s));
                }
                if !current.is_empty() {
                    records.push(current);
                }
                break;
            }
        }
    }
    if records.is_empty() {
        return Err(ParseError("no header".into()));
    }
    let header_record = records.remove(0);
    let mut header = Vec::new();
    for h in header_record {
        match h {
            Some(h) => header.push(h),
            None => return Err(ParseError("a header name is missing".into())),
        }
    }
    Ok(Sheet { header, records })
}

/// The column types Gephi guesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Integer,
    Long,
    BigInteger,
    Double,
    BigDecimal,
    String,
}

const TRIED: [ColumnType; 6] = [
    ColumnType::Boolean,
    ColumnType::Integer,
    ColumnType::Long,
    ColumnType::BigInteger,
    ColumnType::Double,
    ColumnType::BigDecimal,
];

fn java_integer_digits(s: &str) -> Option<&str> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Java's `Double.parseDouble` (decimal form, `NaN`, `Infinity`, an
/// optional `f`/`d` suffix, surrounding whitespace; hex floats left out).
fn java_double(s: &str) -> bool {
    let s = java_trim(s);
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "NaN" || s == "Infinity" {
        return true;
    }
    let s = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    java_big_decimal(s) && !s.starts_with(['+', '-'])
}

/// Java's `new BigDecimal(String)`: sign, digits with at most one point
/// (at least one digit), optional exponent.
fn java_big_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    digits_ok && exponent.is_none_or(|e| java_integer_digits(e).is_some())
}

/// Whether Gephi's parser for `ty` accepts `value` (`AttributeUtils.parse`).
pub fn accepts(ty: ColumnType, value: &str) -> bool {
    match ty {
        ColumnType::Boolean => {
            value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
        }
        ColumnType::Integer => value.parse::<i32>().is_ok() && java_integer_digits(value).is_some(),
        ColumnType::Long => value.parse::<i64>().is_ok() && java_integer_digits(value).is_some(),
        ColumnType::BigInteger => java_integer_digits(value).is_some(),
        ColumnType::Double => java_double(value),
        ColumnType::BigDecimal => java_big_decimal(value),
        ColumnType::String => true,
    }
}

/// Which table the sheet is imported as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Nodes,
    Edges,
}

/// `autoDetectColumnTypes`: each column's type from the first 25 records.
pub fn column_types(sheet: &Sheet, mode: Mode) -> BTreeMap<String, ColumnType> {
    let rows = &sheet.records[..sheet.records.len().min(25)];
    let mut out = BTreeMap::new();
    for (index, column) in sheet.header.iter().enumerate() {
        let mut matching: Vec<ColumnType> = TRIED.to_vec();
        for row in rows {
            if let Some(Some(value)) = row.get(index) {
                let value = java_trim(value);
                if !value.is_empty() {
                    matching.retain(|ty| accepts(*ty, value));
                }
            }
        }
        let mut ty = if !matching.is_empty() && matching.len() != TRIED.len() {
            matching[0]
        } else {
            ColumnType::String
        };
        let lower = column.to_lowercase();
        if lower == "id" || lower == "label" {
            ty = ColumnType::String;
        }
        if mode == Mode::Edges {
            if matches!(lower.as_str(), "source" | "target" | "type" | "kind") {
                ty = ColumnType::String;
            }
            if lower == "weight" && matching.contains(&ColumnType::Double) {
                ty = ColumnType::Double;
            }
        }
        out.insert(column.clone(), ty);
    }
    out
}

/// What Gephi imports from one sheet, and what it refuses.
#[derive(Debug, Default)]
pub struct Import {
    /// Per row imported: each column's value as Gephi keeps it.
    pub rows: Vec<BTreeMap<String, String>>,
    /// Rows refused as inconsistent (a size unlike the header's), by
    /// record number (1 = the first after the header).
    pub refused_rows: Vec<usize>,
    /// (record number, column, value) refused by the column's type.
    pub refused_values: Vec<(usize, String, String)>,
    pub types: BTreeMap<String, ColumnType>,
}

/// Imports a sheet as Gephi's `ImportNodesProcess`/`ImportEdgesProcess`
/// take its rows and values.
pub fn import(text: &str, mode: Mode) -> Result<Import, ParseError> {
    let sheet = parse(text)?;
    let types = column_types(&sheet, mode);
    let mut out = Import {
        types,
        ..Default::default()
    };
    for (k, record) in sheet.records.iter().enumerate() {
        if record.len() != sheet.header.len() {
            out.refused_rows.push(k + 1);
            continue;
        }
        let mut row = BTreeMap::new();
        for (column, value) in sheet.header.iter().zip(record) {
            let Some(value) = value else { continue };
            if accepts(out.types[column], value) {
                row.insert(column.clone(), value.clone());
            } else {
                out.refused_values
                    .push((k + 1, column.clone(), value.clone()));
            }
        }
        out.rows.push(row);
    }
    Ok(out)
}

/// An edge as Gephi builds it from a row.
#[derive(Debug, Clone, PartialEq)]
pub struct GephiEdge {
    pub source: String,
    pub target: String,
    pub weight: Option<f64>,
    pub directed: bool,
}

/// `ImportEdgesProcess`: the edges, from rows with both endpoints.
pub fn edges(import: &Import) -> Vec<GephiEdge> {
    let get = |row: &BTreeMap<String, String>, name: &str| {
        row.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    import
        .rows
        .iter()
        .filter_map(|row| {
            let source = get(row, "source")?;
            let target = get(row, "target")?;
            Some(GephiEdge {
                source,
                target,
                weight: get(row, "weight").and_then(|w| w.parse().ok()),
                directed: !get(row, "type").is_some_and(|t| t.eq_ignore_ascii_case("undirected")),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_quotes_as_commons_csv_reads_them() {
        let sheet = parse("A,B\n\"x\"\"y\",C:\\new\\tab\n \"a\\\\b\" , plain \\q\n").unwrap();
        assert_eq!(
            sheet.records,
            vec![
                vec![Some("x\"y".into()), Some("C:\new\tab".into())],
                vec![Some("a\\b".into()), Some("plain \\q".into())],
            ]
        );
    }
}
