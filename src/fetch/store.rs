//! The content-addressed file store: originals under
//! `originals/<2 hex>/<blake3>.<ext>` and the pyramid under
//! `thumbs/<level>/<2 hex>/<blake3>.<jpg|png>`. Names come only from the
//! content hash and the sniffed format, never from a URL or a server, so no
//! input can steer a write. Files appear under their final name by rename
//! only: a kill leaves at most a `.tmp-*` file, removed by the next run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

const TEMP_PREFIX: &str = ".tmp-";

/// `originals/ab/abcdef….jpg`, relative to the project directory.
pub fn original_path(hash: &str, extension: &str) -> String {
    format!("originals/{}/{hash}.{extension}", &hash[..2])
}

/// `thumbs/256/ab/abcdef….jpg`, relative to the project directory.
pub fn thumb_path(level: u32, hash: &str, extension: &str) -> String {
    format!("thumbs/{level}/{}", thumb_name(hash, extension))
}

/// `ab/abcdef….jpg`: a thumbnail's path inside its level's folder (what
/// Gephi's Image Preview plugin is given, with that folder as its root).
pub fn thumb_name(hash: &str, extension: &str) -> String {
    format!("{}/{hash}.{extension}", &hash[..2])
}

/// Writes `bytes` to `dir/relative` unless a file is already there (the same
/// name means the same content). Returns whether it wrote.
pub fn write_once(dir: &Path, relative: &str, bytes: &[u8]) -> Result<bool> {
    let target = dir.join(relative);
    if target.is_file() {
        return Ok(false);
    }
    let parent = target.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}: check permissions", parent.display()))?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let temp = parent.join(format!(
        "{TEMP_PREFIX}{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::File::create(&temp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&temp, &target));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| {
            format!(
                "cannot write {}: check free disk space and permissions",
                target.display()
            )
        });
    }
    Ok(true)
}

/// Removes temporary files a killed run left in the store. Only called while
/// holding the project's write lock, so no other process is writing them.
pub fn remove_stale_temp_files(project_dir: &Path) -> Result<usize> {
    let mut removed = 0;
    for root in ["originals", "thumbs"] {
        let root: PathBuf = project_dir.join(root);
        if !root.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&root).max_depth(3) {
            let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
            let is_temp = entry.file_type().is_file()
                && entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
            if is_temp {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_of_the_hash_only() {
        let hash = "ab12".repeat(16);
        assert_eq!(
            original_path(&hash, "jpg"),
            format!("originals/ab/{hash}.jpg")
        );
        assert_eq!(
            thumb_path(64, &hash, "png"),
            format!("thumbs/64/ab/{hash}.png")
        );
    }

    #[test]
    fn writes_once_and_cleans_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_once(dir.path(), "originals/ab/x.jpg", b"one").unwrap());
        assert!(!write_once(dir.path(), "originals/ab/x.jpg", b"two").unwrap());
        assert_eq!(
            std::fs::read(dir.path().join("originals/ab/x.jpg")).unwrap(),
            b"one"
        );
        std::fs::write(dir.path().join("originals/ab/.tmp-1-2"), b"half").unwrap();
        assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 1);
        assert!(!dir.path().join("originals/ab/.tmp-1-2").exists());
        assert!(dir.path().join("originals/ab/x.jpg").exists());
    }
}
