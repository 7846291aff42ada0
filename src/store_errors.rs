//! The store's own failures told as one line a user can act on, instead of
//! SQLite's ("Error code 13", "no such table: images"): a full disk names the
//! stage and says the work done so far is kept; a damaged or tampered store
//! names its file and how to recover.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// What went wrong, when it is the store's (or the disk's) fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreFailure {
    /// No space left (SQLITE_FULL or ENOSPC).
    DiskFull,
    /// The file is damaged, not a database, or its tables were changed
    /// by something else; the detail is SQLite's word for it.
    Damaged(String),
    /// The store cannot be written (read-only file or medium).
    ReadOnly,
}

/// Finds a store failure anywhere in `err`'s chain.
pub fn classify(err: &anyhow::Error) -> Option<StoreFailure> {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<rusqlite::Error>()
            && let Some(failure) = classify_sqlite(e)
        {
            return Some(failure);
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>()
            && (e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28))
        {
            return Some(StoreFailure::DiskFull);
        }
    }
    None
}

fn classify_sqlite(e: &rusqlite::Error) -> Option<StoreFailure> {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            let text = message.clone().unwrap_or_else(|| code.to_string());
            match code.code {
                ErrorCode::DiskFull => Some(StoreFailure::DiskFull),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    Some(StoreFailure::Damaged(text))
                }
                ErrorCode::ReadOnly => Some(StoreFailure::ReadOnly),
                // A table or column tagscape made is gone: changed by hand.
                ErrorCode::Unknown
                    if text.starts_with("no such table")
                        || text.starts_with("no such column")
                        || text.contains("has no column named") =>
                {
                    Some(StoreFailure::Damaged(text))
                }
                _ => None,
            }
        }
        // Values of the wrong type in tagscape's own columns.
        rusqlite::Error::InvalidColumnType(_, name, kind) => Some(StoreFailure::Damaged(format!(
            "column {name} holds a {kind} value"
        ))),
        rusqlite::Error::FromSqlConversionFailure(_, kind, _) => Some(StoreFailure::Damaged(
            format!("a column holds a {kind} value tagscape did not write"),
        )),
        _ => None,
    }
}

/// An error met while opening the store `db`: named after the file.
pub fn in_store(err: anyhow::Error, db: &Path) -> anyhow::Error {
    match classify(&err) {
        Some(failure) => anyhow::anyhow!(message(&failure, db, None, &err)),
        None => err.context(format!("project store {}", db.display())),
    }
}

/// `err` of command `stage` on the project `project` (when it names one),
/// rewritten when it is a store failure; other errors are returned as they are.
pub fn explain(err: anyhow::Error, stage: &str, project: Option<&Path>) -> anyhow::Error {
    let Some(failure) = classify(&err) else {
        return err;
    };
    let db = project
        .map(|p| p.join("tagscape.db"))
        .unwrap_or_else(|| PathBuf::from("tagscape.db"));
    anyhow::anyhow!(message(&failure, &db, Some(stage), &err))
}

fn message(failure: &StoreFailure, db: &Path, stage: Option<&str>, err: &anyhow::Error) -> String {
    let project = db.parent().unwrap_or(Path::new("."));
    let during = stage
        .map(|s| format!("`tagscape {s}` stopped: "))
        .unwrap_or_default();
    match failure {
        StoreFailure::DiskFull => format!(
            "{during}the disk is full (writing in {}); the work done so far is kept: free some space and run the same command again to continue",
            project.display()
        ),
        StoreFailure::Damaged(detail) => format!(
            "{during}{} is damaged or was changed by another program ({}): restore it from a backup, or move it away and run `tagscape init {}` to start a new project",
            db.display(),
            crate::terminal::excerpt(detail, 120),
            project.display()
        ),
        StoreFailure::ReadOnly => format!(
            "{during}{} cannot be written (read-only file or disk): {}; copy the project somewhere writable",
            db.display(),
            crate::terminal::excerpt(&format!("{err:#}"), 160)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_full_store_names_the_stage_and_keeps_the_work() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(x BLOB)").unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages).unwrap();
        let err = conn
            .execute("INSERT INTO t VALUES (zeroblob(100000))", [])
            .map_err(anyhow::Error::from)
            .context("saving a batch")
            .unwrap_err();
        assert_eq!(classify(&err), Some(StoreFailure::DiskFull));
        let line = format!("{:#}", explain(err, "fetch", Some(Path::new("study"))));
        assert!(
            line.contains("tagscape fetch") && line.contains("kept"),
            "{line}"
        );
        assert!(!line.contains("code 13"), "{line}");
    }

    #[test]
    fn a_missing_table_is_a_damaged_store() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let err = conn
            .query_row("SELECT count(*) FROM images", [], |r| r.get::<_, i64>(0))
            .map_err(anyhow::Error::from)
            .unwrap_err();
        let line = format!("{:#}", explain(err, "graph", Some(Path::new("p"))));
        assert!(line.contains("p/tagscape.db is damaged"), "{line}");
        assert!(line.contains("tagscape init p"), "{line}");
    }
}
