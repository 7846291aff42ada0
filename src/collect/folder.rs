//! A folder as input: every image file under it (by extension, hidden files
//! and folders skipped), in a stable order.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use walkdir::{DirEntry, WalkDir};

use super::normalize::{IMAGE_EXTENSIONS, file_url};
use super::store::{PostKeys, PostRow, Sink};
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

/// The one column of a folder's posts: the file's path inside the folder.
pub const FOLDER_COLUMNS: [&str; 1] = ["path"];

/// Adds the files; metadata records each one's path relative to the folder,
/// and each file is a post whose row number is its place in the listing.
pub fn read_folder(sink: &mut Sink<'_>, dir: &Path, files: &[PathBuf]) -> Result<()> {
    let mut keys = PostKeys::new(dir);
    for (index, file) in files.iter().enumerate() {
        let Some(url) = file_url(file) else {
            sink.skip("not a URL".into());
            continue;
        };
        let rel = file.strip_prefix(dir).unwrap_or(file);
        let cells = serde_json::to_string(&[rel.to_string_lossy()])?;
        let post = PostRow {
            line: index as u64 + 1,
            key: keys.key(None, &cells),
            cells,
        };
        sink.entry(
            &url,
            1,
            &post,
            |_| MediaKind::Photo,
            || Some(serde_json::json!({ "path": rel.to_string_lossy() })),
        )?;
    }
    Ok(())
}
