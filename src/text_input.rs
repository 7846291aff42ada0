//! Opening the text files a user names (URL lists and tables, tag files,
//! `--stop-tags`, `lasso --from`, a CLIP vocabulary) so that a wrong path
//! fails with one line instead of hanging or eating memory.
//!
//! * Only regular files are read, and FIFOs (`<(…)`) where the reader reads
//!   once ([`open`]); devices (`/dev/zero`, a terminal), sockets and folders
//!   are refused, naming the file. Readers that open a file more than once
//!   (tables: header sniffing, then the rows) take regular files only
//!   ([`open_regular`]).
//! * Every reader is capped ([`Caps`]): a line longer than `line` bytes or
//!   more than `total` bytes in all stops with an error naming the file and
//!   the line, so a stream of zeros or a binary file read as text costs at
//!   most the cap.
//! * Text that is not UTF-8 is decoded, not refused ([`utf8_source`],
//!   [`read_to_string`]): UTF-16 with a byte-order mark (Excel's "Unicode
//!   text"), and Windows-1252 for bytes that are not UTF-8 (older Excel CSVs
//!   on Windows); the caller says so in its summary. The caps apply to the
//!   decoded text.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Limits on one text input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Bytes in all.
    pub total: u64,
    /// Bytes between two newlines.
    pub line: u64,
}

impl Caps {
    /// One value per line (tags, URLs, concepts): 64 MiB, lines up to 64 KiB.
    pub const LIST: Caps = Caps {
        total: 64 << 20,
        line: 64 << 10,
    };
    /// Tables (CSV/TSV exports, tag tables): regular files of any size,
    /// lines up to 16 MiB (a quoted cell may hold a long text, not a file).
    pub const TABLE: Caps = Caps {
        total: u64::MAX,
        line: 16 << 20,
    };
    /// Small configuration files (keys, model configs): 1 MiB.
    pub const CONFIG: Caps = Caps {
        total: 1 << 20,
        line: 1 << 20,
    };
}

/// What kind of thing `path` is, for refusals.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_fifo() {
            return "a FIFO (pipe)";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

fn metadata(path: &Path) -> Result<std::fs::Metadata> {
    std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Refuses anything but a regular file, naming what `path` is instead.
pub fn require_regular(path: &Path) -> Result<()> {
    let meta = metadata(path)?;
    if !meta.is_file() {
        bail!(
            "{} is {}, not a file: give a regular file (save a stream to a file first)",
            path.display(),
            kind(&meta)
        );
    }
    Ok(())
}

/// Opens a regular file or a FIFO for reading under `caps`.
pub fn open(path: &Path, caps: Caps) -> Result<CappedReader<BufReader<File>>> {
    let meta = metadata(path)?;
    if !meta.is_file() && !is_fifo(&meta) {
        bail!(
            "{} is {}, not a file: give a text file",
            path.display(),
            kind(&meta)
        );
    }
    open_checked(path, caps)
}

/// Opens a regular file (only) for reading under `caps`.
pub fn open_regular(path: &Path, caps: Caps) -> Result<CappedReader<BufReader<File>>> {
    require_regular(path)?;
    open_checked(path, caps)
}

fn open_checked(path: &Path, caps: Caps) -> Result<CappedReader<BufReader<File>>> {
    open_file_as(path, path, caps)
}

/// Opens `file` (a regular file: `path` itself, or its decoded copy) under
/// `caps`, naming `path` in every error.
pub fn open_file_as(file: &Path, path: &Path, caps: Caps) -> Result<CappedReader<BufReader<File>>> {
    let file = File::open(file).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(CappedReader::new(
        BufReader::with_capacity(1 << 16, file),
        path,
        caps,
    ))
}

/// The whole of a text file ([`open`]'s rules), decoded as [`decode`]
/// does; a note on stderr says when it was not UTF-8.
pub fn read_to_string(path: &Path, caps: Caps) -> Result<String> {
    let mut bytes = Vec::new();
    // UTF-16 takes up to twice the bytes of its text: the caps are checked
    // on the decoded text below.
    let raw = Caps {
        total: caps.total.saturating_mul(2),
        line: caps.line.saturating_mul(2),
    };
    open(path, raw)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (text, encoding) = decode(bytes);
    check_caps(text.as_bytes(), path, caps)?;
    if let Some(encoding) = encoding {
        tracing::warn!("{} is not UTF-8: read as {encoding}", path.display());
    }
    Ok(text)
}

/// Encodings other than UTF-8 that text inputs are read in, by the name
/// used in notes.
fn detect_bom(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(b"\xFF\xFE") {
        Some(encoding_rs::UTF_16LE)
    } else if head.starts_with(b"\xFE\xFF") {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// The name of `encoding` in notes ("read as UTF-16LE").
fn display_name(encoding: &'static encoding_rs::Encoding) -> &'static str {
    if encoding == encoding_rs::WINDOWS_1252 {
        "Windows-1252"
    } else {
        encoding.name()
    }
}

/// `bytes` as text: UTF-8 (a BOM kept, as before), UTF-16 after a BOM, or
/// else Windows-1252; and the encoding when it was not UTF-8.
pub fn decode(bytes: Vec<u8>) -> (String, Option<&'static str>) {
    let encoding = match detect_bom(&bytes) {
        Some(encoding) => encoding,
        None => match String::from_utf8(bytes) {
            Ok(text) => return (text, None),
            Err(e) => return decode_with(encoding_rs::WINDOWS_1252, e.as_bytes()),
        },
    };
    decode_with(encoding, &bytes)
}

fn decode_with(
    encoding: &'static encoding_rs::Encoding,
    bytes: &[u8],
) -> (String, Option<&'static str>) {
    let (text, _) = encoding.decode_with_bom_removal(bytes);
    (text.into_owned(), Some(display_name(encoding)))
}

/// Checks decoded text against `caps`, with [`CappedReader`]'s messages.
fn check_caps(text: &[u8], path: &Path, caps: Caps) -> Result<()> {
    let mut reader = CappedReader::new(text, path, caps);
    io::copy(&mut reader, &mut io::sink())?;
    Ok(())
}

/// A regular file to read as UTF-8: the file itself when it is UTF-8, else
/// a temporary UTF-8 copy, removed when this is dropped. Readers that open
/// a file more than once (tables) read `path()` and name the original.
pub struct Utf8Source {
    path: PathBuf,
    /// The encoding the file was read in, when not UTF-8 ("UTF-16LE").
    pub encoding: Option<&'static str>,
    _copy: Option<tempfile::TempPath>,
}

impl Utf8Source {
    /// The file to read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The UTF-8 form of the regular file `path` (see [`Utf8Source`]): UTF-16
/// after a BOM, else UTF-8 if every byte is, else Windows-1252. The check
/// is one sequential read; only other encodings are copied.
pub fn utf8_source(path: &Path, caps: Caps) -> Result<Utf8Source> {
    require_regular(path)?;
    let cannot = || format!("cannot read {}", path.display());
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut head = [0u8; 2];
    let got = read_up_to(&mut file, &mut head).with_context(cannot)?;
    let encoding = match detect_bom(&head[..got]) {
        Some(encoding) => encoding,
        None if is_utf8(path, caps)? => {
            return Ok(Utf8Source {
                path: path.to_path_buf(),
                encoding: None,
                _copy: None,
            });
        }
        None => encoding_rs::WINDOWS_1252,
    };
    // Decoded with the caps on the text it makes, in pieces: a table may be large.
    let copy = tempfile::NamedTempFile::new()
        .context("cannot make a temporary file to decode a text file")?;
    let mut out = io::BufWriter::new(copy.as_file());
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut raw = BufReader::with_capacity(1 << 16, File::open(path).with_context(cannot)?);
    let mut checker = CapsCheck::new(path, caps);
    let mut text = String::with_capacity(1 << 17);
    loop {
        let chunk = raw.fill_buf().with_context(cannot)?;
        let last = chunk.is_empty();
        text.clear();
        let (_, read, _) = decoder.decode_to_string(chunk, &mut text, last);
        let n = chunk.len();
        // A full `text` leaves the rest of the chunk for the next round.
        raw.consume(read);
        checker.check(text.as_bytes())?;
        io::Write::write_all(&mut out, text.as_bytes())
            .context("cannot write a temporary file to decode a text file")?;
        if last && read == n {
            break;
        }
    }
    io::Write::flush(&mut out).context("cannot write a temporary file to decode a text file")?;
    drop(out);
    Ok(Utf8Source {
        path: copy.path().to_path_buf(),
        encoding: Some(display_name(encoding)),
        _copy: Some(copy.into_temp_path()),
    })
}

/// Reads into `buf` until it is full or the file ends; the bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Whether every byte of the regular file `path` is UTF-8 (read under
/// `caps`, so a huge file fails here the way it would when read).
fn is_utf8(path: &Path, caps: Caps) -> Result<bool> {
    let mut reader = open_regular(path, caps)?;
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a character cut by the end of the previous read.
    let mut carry = 0;
    loop {
        let n = reader
            .read(&mut buf[carry..])
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// [`CappedReader`]'s checks over text written in pieces.
struct CapsCheck<'a> {
    path: &'a Path,
    caps: Caps,
    total: u64,
    line_len: u64,
    line: u64,
}

impl<'a> CapsCheck<'a> {
    fn new(path: &'a Path, caps: Caps) -> CapsCheck<'a> {
        CapsCheck {
            path,
            caps,
            total: 0,
            line_len: 0,
            line: 1,
        }
    }

    fn check(&mut self, text: &[u8]) -> Result<()> {
        let mut reader = CappedReader {
            inner: text,
            path: self.path.to_path_buf(),
            caps: self.caps,
            total: self.total,
            line_len: self.line_len,
            line: self.line,
        };
        io::copy(&mut reader, &mut io::sink())?;
        (self.total, self.line_len, self.line) = (reader.total, reader.line_len, reader.line);
        Ok(())
    }
}

/// A reader that stops with an error naming the file when a line or the
/// whole input passes its [`Caps`].
pub struct CappedReader<R> {
    inner: R,
    path: PathBuf,
    caps: Caps,
    total: u64,
    line_len: u64,
    /// 1-based number of the line being read.
    line: u64,
}

impl<R: Read> CappedReader<R> {
    pub fn new(inner: R, path: &Path, caps: Caps) -> CappedReader<R> {
        CappedReader {
            inner,
            path: path.to_path_buf(),
            caps,
            total: 0,
            line_len: 0,
            line: 1,
        }
    }

    fn too_much(&self, what: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, what)
    }
}

/// Bytes as a short figure for messages (64 KiB, 16 MiB).
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if self.total > self.caps.total {
            return Err(self.too_much(format!(
                "{} is larger than {}, the most tagscape reads from such a file: is it the right file?",
                self.path.display(),
                size(self.caps.total)
            )));
        }
        for segment in buf[..n].split_inclusive(|&b| b == b'\n') {
            let ends_line = segment.last() == Some(&b'\n');
            self.line_len += segment.len() as u64 - u64::from(ends_line);
            if self.line_len > self.caps.line {
                return Err(self.too_much(format!(
                    "line {} of {} is longer than {}: is it a text file of the expected kind?",
                    self.line,
                    self.path.display(),
                    size(self.caps.line)
                )));
            }
            if ends_line {
                self.line += 1;
                self.line_len = 0;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_stop_a_long_line_and_a_large_input_naming_the_file() {
        let path = Path::new("list.txt");
        let caps = Caps {
            total: 1000,
            line: 10,
        };
        let mut out = Vec::new();
        let err = CappedReader::new(&b"short\nthis line is too long\n"[..], path, caps)
            .read_to_end(&mut out)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2 of list.txt"), "{err}");
        let ok = "0123456789\n".repeat(50);
        let mut out = Vec::new();
        CappedReader::new(ok.as_bytes(), path, caps)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, ok.as_bytes());
        let big = "0123\n".repeat(300);
        let err = CappedReader::new(big.as_bytes(), path, caps)
            .read_to_end(&mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("list.txt is larger than 1000 bytes"), "{err}");
    }

    #[test]
    fn other_encodings_are_decoded_and_capped_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        let caps = Caps {
            total: 1000,
            line: 24,
        };
        // 21 bytes of UTF-8, 36 in UTF-16: within the caps once decoded.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        std::fs::write(&path, &utf16).unwrap();
        assert_eq!(
            read_to_string(&path, caps).unwrap(),
            "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e\n"
        );
        let source = utf8_source(&path, caps).unwrap();
        assert_eq!(source.encoding, Some("UTF-16LE"));
        assert_eq!(
            std::fs::read_to_string(source.path()).unwrap(),
            "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e\n"
        );
        // Windows-1252 (0xE9 is not UTF-8), and a decoded line past the cap.
        std::fs::write(&path, b"ok\ncaf\xE9 \x80 and a much longer line\n").unwrap();
        let err = format!("{:#}", utf8_source(&path, caps).err().unwrap());
        assert!(err.contains("line 2 of"), "{err}");
        std::fs::write(&path, b"caf\xE9 \x80\n").unwrap();
        assert_eq!(read_to_string(&path, caps).unwrap(), "caf\u{e9} \u{20ac}\n");
        // UTF-8, with a character cut across reads, stays the file itself.
        let text = "\u{e9}".repeat(40_000);
        std::fs::write(&path, &text).unwrap();
        let source = utf8_source(&path, Caps::TABLE).unwrap();
        assert_eq!((source.encoding, source.path()), (None, path.as_path()));
    }

    #[test]
    fn folders_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_to_string(dir.path(), Caps::LIST)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a folder"), "{err}");
        #[cfg(unix)]
        {
            let err = format!(
                "{:#}",
                read_to_string(Path::new("/dev/null"), Caps::LIST).unwrap_err()
            );
            assert!(err.contains("/dev/null is a character device"), "{err}");
        }
    }
}
