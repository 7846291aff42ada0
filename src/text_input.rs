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

use std::fs::File;
use std::io::{self, BufReader, Read};
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
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(CappedReader::new(
        BufReader::with_capacity(1 << 16, file),
        path,
        caps,
    ))
}

/// The whole of a text file ([`open`]'s rules), which must be UTF-8.
pub fn read_to_string(path: &Path, caps: Caps) -> Result<String> {
    let mut bytes = Vec::new();
    open(path, caps)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {}): give a UTF-8 text file",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
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
