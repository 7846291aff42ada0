//! The project directory and its store.
//!
//! A project is a directory holding `tagscape.db` (SQLite in WAL mode: every
//! stage reads its input from it and writes its result back in transactions,
//! so a crash loses nothing already committed), the downloaded originals
//! (content-addressed) and the thumbnail pyramid. An OS lock on the project
//! directory keeps a second writer out (see [`Project::open`]).

mod schema;
pub mod stages;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use schema::SCHEMA_VERSION;

const DB_FILE: &str = "tagscape.db";
const LOCK_FILE: &str = ".tagscape.lock";

/// The files of a project's store, relative to its directory: the database,
/// its WAL and shared-memory files, a rollback journal, the lock file.
pub const STORE_FILES: &[&str] = &[
    DB_FILE,
    "tagscape.db-wal",
    "tagscape.db-shm",
    "tagscape.db-journal",
    LOCK_FILE,
];
/// The store's folders: downloaded originals and the thumbnail pyramid.
pub const STORE_DIRS: &[&str] = &["originals", "thumbs"];

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How a command uses the project: writers exclude everyone, readers only writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// An open project: its directory, its store and the lock held on it.
pub struct Project {
    dir: PathBuf,
    conn: Connection,
    // A writer's lock, held for the lifetime of the `Project`; the OS
    // releases it when the process dies, so a killed run never leaves a
    // stale lock behind. Readers hold none (see `Access::Read`).
    _lock: Option<File>,
}

/// Takes the project's lock: shared for readers, exclusive for writers.
///
/// The lock is an OS lock (`flock`) on the project directory itself, which
/// cannot be deleted while the project exists, so removing the
/// `.tagscape.lock` file does not let a second writer in (an earlier version
/// locked that file, and a deleted lock file was a new, unlocked one). The
/// file is still created, so a glance at the folder shows it is a project.
fn lock_project(dir: &Path, access: Access) -> Result<File> {
    let _ = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE));
    #[cfg(unix)]
    let lock = File::open(dir);
    // Directories cannot be opened as files elsewhere: lock the file there.
    #[cfg(not(unix))]
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE));
    let lock =
        lock.with_context(|| format!("cannot open the project {} to lock it", dir.display()))?;
    let locked = match access {
        Access::Write => lock.try_lock(),
        Access::Read => lock.try_lock_shared(),
    };
    match locked {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => bail!(
            "project {} is in use by another tagscape process: wait for it to finish (or close the viewer) and run again",
            dir.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock the project {}", dir.display()))
        }
    }
}

/// The store opened read-only; as immutable where the folder is read-only
/// and SQLite could not read the WAL (no shared-memory file can be made).
fn open_read_only(db: &Path) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let cannot = || format!("cannot open the project store {}", db.display());
    let conn = Connection::open_with_flags(db, flags).with_context(cannot)?;
    let readable = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    let conn = match readable {
        Ok(_) => conn,
        Err(_) => {
            drop(conn);
            let absolute = std::path::absolute(db).with_context(cannot)?;
            let uri = format!("file:{}?immutable=1", uri_path(&absolute));
            Connection::open_with_flags(uri, flags).with_context(cannot)?
        }
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .with_context(cannot)?;
    Ok(conn)
}

/// A path for an SQLite `file:` URI: every byte but unreserved characters
/// and `/` percent-encoded (`?`, `#` and `%` would otherwise be read as URI
/// syntax).
fn uri_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut out = String::new();
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Refuses a store file that SQLite would misread: an empty file (SQLite
/// would silently make it a new, empty project) or one that is not an
/// SQLite database at all.
fn check_store_file(db: &Path) -> Result<()> {
    use std::io::Read;
    let Ok(meta) = std::fs::metadata(db) else {
        return Ok(()); // a new project
    };
    let restore = format!(
        "restore it from a backup, or move it away and run `tagscape init {}` to start a new project",
        db.parent().unwrap_or(Path::new(".")).display()
    );
    if !meta.is_file() {
        bail!("{} is not a file: {restore}", db.display());
    }
    if meta.len() == 0 {
        bail!(
            "{} is empty (0 bytes): the project's store was lost or truncated; {restore}",
            db.display()
        );
    }
    let mut head = [0u8; 16];
    let read = File::open(db)
        .and_then(|mut f| f.read_exact(&mut head))
        .with_context(|| format!("cannot read the project store {}", db.display()));
    if read.is_err() || &head != SQLITE_HEADER {
        bail!(
            "{} is not a tagscape store (not an SQLite database: damaged, or another program's file); {restore}",
            db.display()
        );
    }
    Ok(())
}

/// Refuses an SQLite database that another program wrote: tables, but no
/// tagscape schema version.
fn check_not_foreign(conn: &Connection, db: &Path) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if version == 0 && tables > 0 {
        bail!(
            "{} is another program's SQLite database, not a tagscape store: give tagscape a project folder of its own (`tagscape init NEW_DIR`)",
            db.display()
        );
    }
    Ok(())
}

impl Project {
    /// Creates a project in `dir` (created if missing; an existing project is
    /// opened as it is, so `init` is safe to repeat).
    pub fn init(dir: &Path) -> Result<Project> {
        if dir.exists() && !dir.is_dir() {
            bail!(
                "{} exists and is not a directory: choose another project path",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the project directory {}", dir.display()))?;
        Self::open_inner(dir, Access::Write)
    }

    /// Opens an existing project.
    pub fn open(dir: &Path, access: Access) -> Result<Project> {
        if !dir.join(DB_FILE).is_file() {
            bail!(
                "{} is not a tagscape project (no {DB_FILE}): create it with `tagscape init {}`",
                dir.display(),
                dir.display()
            );
        }
        Self::open_inner(dir, access)
    }

    fn open_inner(dir: &Path, access: Access) -> Result<Project> {
        if access == Access::Read {
            return Self::open_reader(dir);
        }
        let lock = lock_project(dir, access)?;
        let db = dir.join(DB_FILE);
        check_store_file(&db)?;
        let mut conn = Connection::open(&db)
            .with_context(|| format!("cannot open the project store {}", db.display()))?;
        // Before anything writes (WAL mode would convert another program's file).
        check_not_foreign(&conn, &db).map_err(|e| crate::store_errors::in_store(e, &db))?;
        // SQLite falls back to reading a file it may not write.
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            bail!(
                "the project {} cannot be written (read-only media, or no write permission): `tagscape export` and `tagscape cluster DIR list` still read it; to change it, copy it somewhere writable",
                dir.display()
            );
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(10)))
            .with_context(|| {
                format!(
                    "{} is not a readable tagscape store: restore it or create a new project",
                    db.display()
                )
            })?;
        schema::migrate(&mut conn).map_err(|e| crate::store_errors::in_store(e, &db))?;
        Ok(Project {
            dir: dir.to_path_buf(),
            conn,
            _lock: Some(lock),
        })
    }

    /// A reader: no lock, a read-only connection. SQLite's WAL lets it read
    /// the last committed state while a writer (a multi-hour fetch, the
    /// viewer) works, and the writer is never held up by it. On read-only
    /// media, where SQLite cannot create the WAL's shared-memory file, the
    /// store is opened as immutable. A store from an older tagscape is
    /// upgraded first, which needs write access once.
    fn open_reader(dir: &Path) -> Result<Project> {
        let db = dir.join(DB_FILE);
        check_store_file(&db)?;
        let conn = open_read_only(&db)?;
        check_not_foreign(&conn, &db).map_err(|e| crate::store_errors::in_store(e, &db))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| crate::store_errors::in_store(e.into(), &db))?;
        if version > schema::SCHEMA_VERSION {
            bail!(
                "the project {} was written by a newer tagscape (schema {version}, this one knows {}): upgrade tagscape",
                dir.display(),
                schema::SCHEMA_VERSION
            );
        }
        if version < schema::SCHEMA_VERSION {
            drop(conn);
            Self::open_inner(dir, Access::Write).with_context(|| {
                format!(
                    "the project {} was made by an older tagscape and must be upgraded once with write access (copy it somewhere writable if it is on read-only media)",
                    dir.display()
                )
            })?;
            return Self::open_reader(dir);
        }
        Ok(Project {
            dir: dir.to_path_buf(),
            conn,
            _lock: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Where downloaded originals live (content-addressed, see `fetch`).
    pub fn originals_dir(&self) -> PathBuf {
        self.dir.join("originals")
    }

    /// Where the thumbnail pyramid lives: `thumbs/{level}/..`.
    pub fn thumbs_dir(&self) -> PathBuf {
        self.dir.join("thumbs")
    }

    /// A path stored in the project (relative, `/`-separated) made absolute.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Reads a JSON setting (e.g. `graph`, `layout`); `None` when never saved.
    pub fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let raw: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        raw.map(|json| {
            serde_json::from_str(&json).with_context(|| {
                format!("the saved `{key}` settings are unreadable: set them again")
            })
        })
        .transpose()
    }

    /// Saves a JSON setting.
    pub fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, serde_json::to_string(value)?),
        )?;
        Ok(())
    }
}

/// The settings of `current` that differ from `defaults`, as `name value`
/// (JSON field names, nested ones dotted), for the line a stage prints so
/// that a value saved by an earlier run never applies silently.
pub fn setting_differences<T: Serialize>(current: &T, defaults: &T) -> Vec<String> {
    fn walk(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (key, value) in a {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(
                        &name,
                        value,
                        b.get(key).unwrap_or(&serde_json::Value::Null),
                        out,
                    );
                }
            }
            _ if a != b => out.push(format!("{prefix} {}", a.to_string().trim_matches('"'))),
            _ => {}
        }
    }
    let (Ok(a), Ok(b)) = (
        serde_json::to_value(current),
        serde_json::to_value(defaults),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk("", &a, &b, &mut out);
    out
}

/// The summary line naming the settings that are not the defaults, if any.
pub fn non_default_line(stage: &str, differences: &[String]) -> Option<String> {
    (!differences.is_empty()).then(|| {
        format!(
            "{stage} settings not at their defaults (saved by earlier runs or given now): {}; `tagscape {stage} DIR --reset` returns to the defaults",
            differences.join(", ")
        )
    })
}

/// SQL expression for "now" as RFC 3339 UTC, for `*_at` columns.
pub const SQL_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_but_readers_read_alongside_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = Project::init(dir.path()).unwrap();
        let err = Project::open(dir.path(), Access::Write).err().unwrap();
        assert!(format!("{err:#}").contains("in use"), "{err:#}");
        // A reader opens while the writer works, and sees what it commits.
        let reader = Project::open(dir.path(), Access::Read).unwrap();
        first
            .conn()
            .execute("INSERT INTO images(url) VALUES ('https://x.org/a.jpg')", [])
            .unwrap();
        let n: i64 = reader
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        // Readers never write, and never hold a writer up.
        assert!(reader.conn().execute("DELETE FROM images", []).is_err());
        drop(first);
        let again = Project::open(dir.path(), Access::Write).unwrap();
        drop((again, reader));
    }

    #[test]
    fn readers_share_and_reopen_keeps_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Project::init(dir.path()).unwrap());
        let a = Project::open(dir.path(), Access::Read).unwrap();
        let b = Project::open(dir.path(), Access::Read).unwrap();
        let v: i64 = a
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop((a, b));
        let p = Project::open(dir.path(), Access::Write).unwrap();
        p.set_setting("graph", &serde_json::json!({"top_k": 20}))
            .unwrap();
        let back: serde_json::Value = p.setting("graph").unwrap().unwrap();
        assert_eq!(back["top_k"], 20);
    }

    #[test]
    fn not_a_project_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = Project::open(dir.path(), Access::Read).err().unwrap();
        assert!(format!("{err:#}").contains("tagscape init"), "{err:#}");
    }
}
