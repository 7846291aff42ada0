//! Writing a file the user named (`export --out`) without damaging what is
//! already there.
//!
//! * A regular file or a new path is written next to itself and renamed over
//!   the destination when complete ([`OutputFile::create`]), so a failed
//!   export never leaves half a file; the temporary file holds an OS lock
//!   while it is written, so the next export into the folder can tell a
//!   killed export's leftover (unlocked) from a running one's and removes it.
//! * `-`, the process's own stdout (`/dev/stdout`, `/proc/self/fd/1`), a
//!   device (`/dev/null`, `/dev/full`) or a FIFO is written directly: a
//!   rename would replace the device node with a regular file.
//! * A symbolic link to a file (or a dangling one) is refused unless the
//!   caller allows it ([`Policy::follow_symlinks`]); then its target is
//!   written, and the link stays.
//! * Paths inside a project's own store (the database and its WAL, the lock,
//!   `originals/`, `thumbs/`) are refused ([`Policy::protect`]).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The prefix of the temporary files written next to a destination.
const TEMP_PREFIX: &str = ".tagscape-export-";

/// What a destination may be.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Write through a symbolic link to its target (else such a path is refused).
    pub follow_symlinks: bool,
    /// The flag that allows it, named in the refusal (e.g. `--follow-symlinks`).
    pub follow_flag: Option<&'static str>,
    /// A project directory whose store may not be written to.
    pub protect: Option<PathBuf>,
}

/// Where the bytes go.
enum Sink {
    /// Written next to `dest` and renamed over it by `finish`.
    Atomic {
        dest: PathBuf,
        writer: BufWriter<tempfile::NamedTempFile>,
    },
    /// A device or FIFO, written in place.
    Direct {
        dest: PathBuf,
        writer: BufWriter<File>,
    },
    Stdout(BufWriter<std::io::Stdout>),
}

/// An output being written; [`OutputFile::finish`] completes it. Dropping an
/// unfinished one deletes its temporary file and leaves the destination as
/// it was.
pub struct OutputFile {
    sink: Sink,
}

/// Whether `path` means the standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-" || same_file_as_stdout(path)
}

impl OutputFile {
    /// Opens `dest` for writing under `policy` (see the module comment).
    pub fn create(dest: &Path, policy: &Policy) -> Result<OutputFile> {
        check(dest, policy)?;
        if is_stdout(dest) {
            return Ok(OutputFile {
                sink: Sink::Stdout(BufWriter::new(std::io::stdout())),
            });
        }
        let dest = real_destination(dest, policy)?;
        match std::fs::metadata(&dest) {
            Ok(meta) if meta.is_dir() => bail!(
                "{} is a directory: give --out a file name (e.g. {}/network.gexf)",
                dest.display(),
                dest.display()
            ),
            Ok(meta) if !meta.is_file() => {
                // A device or FIFO: no temporary file, no rename.
                let file = OpenOptions::new()
                    .write(true)
                    .open(&dest)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                Ok(OutputFile {
                    sink: Sink::Direct {
                        writer: BufWriter::new(file),
                        dest,
                    },
                })
            }
            _ => Self::atomic(dest),
        }
    }

    fn atomic(dest: PathBuf) -> Result<OutputFile> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        remove_stale_temporaries(&parent);
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX);
        // Exports are for sharing: readable by others as any new file would
        // be (tempfile's default is owner-only).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let tmp = builder
            .tempfile_in(&parent)
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        // Held until the file is renamed or deleted: marks it as in use.
        tmp.as_file()
            .lock()
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        Ok(OutputFile {
            sink: Sink::Atomic {
                dest,
                writer: BufWriter::new(tmp),
            },
        })
    }

    /// Flushes and, for a file, renames it over the destination.
    pub fn finish(self) -> Result<()> {
        match self.sink {
            Sink::Atomic { dest, writer } => {
                let tmp = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                tmp.persist(&dest)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
            }
            Sink::Direct { dest, mut writer } => writer
                .flush()
                .with_context(|| format!("cannot write {}", dest.display()))?,
            Sink::Stdout(mut writer) => writer.flush().context("cannot write to stdout")?,
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Atomic { writer, .. } => writer.write(buf),
            Sink::Direct { writer, .. } => writer.write(buf),
            Sink::Stdout(writer) => writer.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Atomic { writer, .. } => writer.flush(),
            Sink::Direct { writer, .. } => writer.flush(),
            Sink::Stdout(writer) => writer.flush(),
        }
    }
}

/// Refuses destinations `policy` does not allow, before anything is written:
/// a link to a file (unless followed), a path inside the protected project's
/// store. Callers writing several files check each one.
pub fn check(dest: &Path, policy: &Policy) -> Result<()> {
    if dest.as_os_str() == "-" {
        return Ok(());
    }
    let link = std::fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_symlink());
    if link && !writes_in_place(dest) && !policy.follow_symlinks {
        let target = std::fs::read_link(dest)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".into());
        let how = match policy.follow_flag {
            Some(flag) => format!("add {flag} to write to the link's target"),
            None => "give the link's target instead".into(),
        };
        bail!(
            "{} is a symbolic link (to {target}): refused, so the link and its target stay as they are; give another path, or {how}",
            dest.display()
        );
    }
    if let Some(project) = &policy.protect {
        let real = real_destination(dest, policy)?;
        if let Some(what) = inside_store(project, &real) {
            bail!(
                "{} is {what} of the project {}: refused; write the export outside the project's store (e.g. {})",
                dest.display(),
                project.display(),
                project
                    .join("exports")
                    .join(dest.file_name().unwrap_or(std::ffi::OsStr::new("out")))
                    .display()
            );
        }
    }
    Ok(())
}

/// Whether `dest` is (or links to) something written in place: a device,
/// a FIFO, a socket.
fn writes_in_place(dest: &Path) -> bool {
    std::fs::metadata(dest).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The path written: a followed link's target, made absolute.
fn real_destination(dest: &Path, policy: &Policy) -> Result<PathBuf> {
    let link = std::fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_symlink());
    if !link || writes_in_place(dest) {
        return Ok(absolute_resolved(dest));
    }
    if !policy.follow_symlinks {
        // `check` refused it already; this keeps the library safe when
        // called without it.
        bail!("{} is a symbolic link: refused", dest.display());
    }
    match std::fs::canonicalize(dest) {
        Ok(target) => Ok(target),
        // A dangling link: its target, relative to the link's folder.
        Err(_) => {
            let target = std::fs::read_link(dest)
                .with_context(|| format!("cannot read the link {}", dest.display()))?;
            let base = dest.parent().unwrap_or(Path::new("."));
            Ok(absolute_resolved(&base.join(target)))
        }
    }
}

/// `path` absolute, with the links of its existing ancestors resolved (the
/// last component kept as given), so it compares with canonical paths.
fn absolute_resolved(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut tail = Vec::new();
    let mut head = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(head) {
            let mut out = real;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                head = parent;
            }
            _ => return lexically_normal(&abs),
        }
    }
}

fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What part of `project`'s store `real` (absolute, resolved) is, if any.
pub fn inside_store(project: &Path, real: &Path) -> Option<&'static str> {
    let project = std::fs::canonicalize(project).ok()?;
    let real = lexically_normal(real);
    let store_files = crate::project::STORE_FILES;
    if let Ok(rest) = real.strip_prefix(&project) {
        let mut parts = rest.components();
        let first = parts.next()?.as_os_str().to_str()?.to_string();
        let deeper = parts.next().is_some();
        if crate::project::STORE_DIRS.contains(&first.as_str()) {
            return Some(if deeper {
                "inside the store folder"
            } else {
                "a store folder"
            });
        }
        if !deeper && store_files.contains(&first.as_str()) {
            return Some("a file of the store");
        }
    }
    // The same file under another name (a hard link, a bind mount).
    same_inode_as_any(&real, store_files.iter().map(|f| project.join(f)))
        .then_some("a file of the store")
}

#[cfg(unix)]
fn same_inode_as_any(path: &Path, others: impl Iterator<Item = PathBuf>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    others
        .filter_map(|o| std::fs::metadata(o).ok())
        .any(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

#[cfg(not(unix))]
fn same_inode_as_any(_: &Path, _: impl Iterator<Item = PathBuf>) -> bool {
    false
}

/// Whether `path` is the file this process's stdout is (e.g. `/dev/stdout`,
/// `/proc/self/fd/1`, or the file a shell redirected stdout to): writing
/// it directly keeps the shell's redirection and a pipe working.
#[cfg(unix)]
fn same_file_as_stdout(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(target), Ok(stdout)) = (
        std::fs::metadata(path),
        std::fs::metadata("/proc/self/fd/1").or_else(|_| std::fs::metadata("/dev/fd/1")),
    ) else {
        return false;
    };
    target.dev() == stdout.dev() && target.ino() == stdout.ino()
}

#[cfg(not(unix))]
fn same_file_as_stdout(_: &Path) -> bool {
    false
}

/// Deletes the temporary files of exports that were killed: every
/// `.tagscape-export-*` in `folder` that no process holds locked.
fn remove_stale_temporaries(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name.to_str().is_some_and(|n| n.starts_with(TEMP_PREFIX));
        if !is_temp || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!("removed {}, left by an interrupted export", path.display())
                }
                Err(e) => tracing::debug!("cannot remove {}: {e}", path.display()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_file_leaves_nothing_and_finished_one_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.gexf");
        std::fs::write(&dest, b"before").unwrap();
        {
            let mut f = OutputFile::create(&dest, &Policy::default()).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"before");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut f = OutputFile::create(&dest, &Policy::default()).unwrap();
        f.write_all(b"whole").unwrap();
        f.finish().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
    }

    #[test]
    fn a_running_exports_temporary_file_is_kept_a_dead_ones_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!("{TEMP_PREFIX}dead"));
        std::fs::write(&stale, b"left by a kill").unwrap();
        let running = OutputFile::create(&dir.path().join("a.csv"), &Policy::default()).unwrap();
        assert!(!stale.exists());
        let _second = OutputFile::create(&dir.path().join("b.csv"), &Policy::default()).unwrap();
        // The first one's temporary file is locked, so still there.
        let temps = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_str()
                    .unwrap()
                    .starts_with(TEMP_PREFIX)
            })
            .count();
        assert_eq!(temps, 2);
        drop(running);
    }

    #[test]
    fn store_paths_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("thumbs/256")).unwrap();
        std::fs::write(p.join("tagscape.db"), b"").unwrap();
        assert!(inside_store(p, &p.join("tagscape.db")).is_some());
        assert!(inside_store(p, &p.join("tagscape.db-wal")).is_some());
        assert!(inside_store(p, &p.join("thumbs/256/x.png")).is_some());
        assert!(inside_store(p, &p.join("originals")).is_some());
        assert!(inside_store(p, &p.join("exports/x.gexf")).is_none());
        assert!(inside_store(p, &p.join("network.gexf")).is_none());
        let hard = p.join("copy.db");
        std::fs::hard_link(p.join("tagscape.db"), &hard).unwrap();
        assert!(inside_store(p, &hard).is_some());
    }
}
