//! A folder as input: every image file under it (by extension, hidden files
//! and folders skipped), in a stable order.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use walkdir::{DirEntry, WalkDir};

use super::normalize::{IMAGE_EXTENSIONS, file_url};
use super::store::Sink;
use super::tcat::MediaKind;

fn is_hidden(entry: &DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|k| k.eq_ignore_ascii_case(e)))
}

/// The image files under `dir`, sorted by path.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let walk = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(e));
    for entry in walk {
        let entry = entry.with_context(|| format!("cannot list the folder {}", dir.display()))?;
        if entry.file_type().is_file() && is_image_file(entry.path()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// A fingerprint of the folder's listing (paths, sizes, modification times),
/// so adding the same unchanged folder twice is recognised.
pub fn listing_hash(dir: &Path, files: &[PathBuf]) -> String {
    let mut hasher = blake3::Hasher::new();
    for file in files {
        let rel = file.strip_prefix(dir).unwrap_or(file);
        hasher.update(rel.to_string_lossy().as_bytes());
        if let Ok(meta) = std::fs::metadata(file) {
            hasher.update(&meta.len().to_le_bytes());
            if let Ok(modified) = meta.modified()
                && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
            {
                hasher.update(&since.as_nanos().to_le_bytes());
            }
        }
        hasher.update(b"\n");
    }
    hasher.finalize().to_hex().to_string()
}

/// Adds the files; metadata records each one's path relative to the folder.
pub fn read_folder(sink: &mut Sink<'_>, dir: &Path, files: &[PathBuf]) -> Result<()> {
    for file in files {
        let Some(url) = file_url(file) else {
            sink.skip("not a URL".into());
            continue;
        };
        let rel = file.strip_prefix(dir).unwrap_or(file);
        sink.entry(
            &url,
            1,
            |_| MediaKind::Photo,
            || Some(serde_json::json!({ "path": rel.to_string_lossy() })),
        )?;
    }
    Ok(())
}
