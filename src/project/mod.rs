//! The project directory and its store.
//!
//! A project is a directory holding `tagscape.db` (SQLite in WAL mode: every
//! stage reads its input from it and writes its result back in transactions,
//! so a crash loses nothing already committed), the downloaded originals
//! (content-addressed) and the thumbnail pyramid. A lock file keeps a second
//! writer out.

mod schema;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use schema::SCHEMA_VERSION;

const DB_FILE: &str = "tagscape.db";
const LOCK_FILE: &str = ".tagscape.lock";

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
    // Held for the lifetime of the `Project`; the OS releases it when the
    // process dies, so a killed run never leaves a stale lock behind.
    _lock: File,
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
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .with_context(|| format!("cannot open the lock file in {}", dir.display()))?;
        let locked = match access {
            Access::Write => lock.try_lock(),
            Access::Read => lock.try_lock_shared(),
        };
        match locked {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => bail!(
                "project {} is in use by another tagscape process: wait for it to finish (or close the viewer) and run again",
                dir.display()
            ),
            Err(TryLockError::Error(e)) => {
                return Err(e)
                    .with_context(|| format!("cannot lock the project {}", dir.display()));
            }
        }
        let db = dir.join(DB_FILE);
        let mut conn = Connection::open(&db)
            .with_context(|| format!("cannot open the project store {}", db.display()))?;
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
        schema::migrate(&mut conn).with_context(|| format!("project store {}", db.display()))?;
        Ok(Project {
            dir: dir.to_path_buf(),
            conn,
            _lock: lock,
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

/// SQL expression for "now" as RFC 3339 UTC, for `*_at` columns.
pub const SQL_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Project::init(dir.path()).unwrap();
        let err = Project::open(dir.path(), Access::Write).err().unwrap();
        assert!(format!("{err:#}").contains("in use"), "{err:#}");
        let err = Project::open(dir.path(), Access::Read).err().unwrap();
        assert!(format!("{err:#}").contains("in use"), "{err:#}");
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
