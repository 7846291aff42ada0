//! Cells for the CSV exports that people open in Excel or LibreOffice:
//! text that a spreadsheet would run as a formula, and the byte-order mark
//! Excel needs to read UTF-8.
//!
//! Every CSV writer of `export` takes its switches from `CsvOptions`; text
//! cells go through `Formulas::cell`, numbers never do (a number cannot run).

use std::borrow::Cow;
use std::io::Write;

/// UTF-8's byte-order mark: without it Excel reads a CSV as the system's
/// legacy code page, so `Straße 東京` arrives as mojibake.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How text cells that a spreadsheet would evaluate (`=SUM(A1)`,
/// `+1-1`, `@cmd`) are written: `--formulas escape|keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Formulas {
    /// A text cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return
    /// or an apostrophe gets one leading apostrophe (`'=SUM(A1)`): Excel and
    /// LibreOffice then show it as text and never run it. Removing one
    /// leading apostrophe gives the value back.
    Escape,
    /// Text cells exactly as stored (for tools that read the file as data).
    Keep,
}

impl Formulas {
    /// The text of one cell as this setting writes it.
    pub fn cell(self, text: &str) -> Cow<'_, str> {
        match self {
            Formulas::Escape => neutralize_formula(text),
            Formulas::Keep => Cow::Borrowed(text),
        }
    }
}

/// The switches every CSV export reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start the file with a UTF-8 byte-order mark (`--excel`).
    pub excel: bool,
    pub formulas: Formulas,
}

impl CsvOptions {
    /// Writes what comes before the header: the byte-order mark with `--excel`.
    pub fn start(&self, w: &mut impl Write) -> std::io::Result<()> {
        if self.excel {
            w.write_all(UTF8_BOM)?;
        }
        Ok(())
    }
}

/// `text` made safe to open in a spreadsheet: when it starts with a
/// character that makes Excel or LibreOffice treat the cell as a formula
/// (`=`, `+`, `-`, `@`, and tab or carriage return, which some versions skip
/// before looking), one apostrophe is put in front, the spreadsheets' own
/// "this is text" mark. Text starting with an apostrophe gets one too, so
/// no two values become the same cell (`=1` → `'=1`, `'=1` → `''=1`).
/// A plain number (`-12.5`, `+3`) is left alone: it is read as the number
/// it is, and nothing runs.
pub fn neutralize_formula(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') if !is_plain_number(text) => {
            Cow::Owned(format!("'{text}"))
        }
        _ => Cow::Borrowed(text),
    }
}

/// A sign, digits, at most one decimal point and an optional exponent:
/// what a spreadsheet reads as a number rather than a formula.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int) || int.is_empty()) && (digits(frac) || frac.is_empty()) && mantissa != "."
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_an_apostrophe() {
        for (raw, written) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("'quoted", "''quoted"),
            ("-", "'-"),
            ("+44 20 7946 0000", "'+44 20 7946 0000"),
            ("-.", "'-."),
        ] {
            assert_eq!(neutralize_formula(raw), written, "{raw:?}");
        }
    }

    #[test]
    fn text_and_plain_numbers_stay_as_they_are() {
        for raw in [
            "",
            "cat",
            "a=b",
            "C:\\new\\tab",
            "東京",
            "-12.5",
            "+3",
            "-1e-5",
            "-.5",
            "2.",
        ] {
            assert!(
                matches!(neutralize_formula(raw), Cow::Borrowed(s) if s == raw),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn escaping_is_reversible_so_values_never_merge() {
        let values = ["=1", "'=1", "''=1", "1", "-1", "'-1"];
        let written: std::collections::BTreeSet<String> = values
            .iter()
            .map(|v| neutralize_formula(v).into_owned())
            .collect();
        assert_eq!(written.len(), values.len());
        for v in values {
            // The documented way back: drop one leading apostrophe.
            let w = neutralize_formula(v);
            assert_eq!(w.strip_prefix('\'').unwrap_or(&w), v);
        }
    }

    #[test]
    fn keep_writes_cells_as_stored_and_excel_starts_with_a_bom() {
        assert_eq!(Formulas::Keep.cell("=SUM(A1)"), "=SUM(A1)");
        assert_eq!(Formulas::Escape.cell("=SUM(A1)"), "'=SUM(A1)");
        let mut out = Vec::new();
        CsvOptions {
            excel: true,
            formulas: Formulas::Keep,
        }
        .start(&mut out)
        .unwrap();
        assert_eq!(out, UTF8_BOM);
        let mut out = Vec::new();
        CsvOptions {
            excel: false,
            formulas: Formulas::Keep,
        }
        .start(&mut out)
        .unwrap();
        assert!(out.is_empty());
    }
}
