//! A folder as input: every image file under it, in a stable order, with
//! every other entry accounted for (hidden, other file types, special files,
//! dangling or looping symlinks, symlinks leaving the folder, the stores of
//! tagscape projects).
//!
//! Symlinks are never followed by the walk: a link to a file inside the folder
//! is taken as that file, every other link is skipped and counted. So an
//! added folder cannot reach outside itself, and a loop cannot stop the walk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use walkdir::WalkDir;

use super::normalize::{IMAGE_EXTENSIONS, file_url};
use super::store::{PostKeys, PostRow, Sink};
use super::tcat::MediaKind;

/// The file that makes a folder a tagscape project (see `project`).
const PROJECT_STORE: &str = "tagscape.db";

/// What a folder holds: the image files to add and the other entries by reason.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub skipped: BTreeMap<&'static str, u64>,
}

impl Listing {
    fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|k| k.eq_ignore_ascii_case(e)))
}

/// Whether `dir` is a tagscape project folder: its images are the project's
/// own originals and thumbnails, never new input.
pub fn is_project(dir: &Path) -> bool {
    dir.join(PROJECT_STORE).is_file()
}

/// Where a symlink inside the folder leads.
enum Link {
    File(PathBuf),
    Folder,
    Special,
    Outside,
    Dangling,
    Loop,
    Unreadable,
}

fn follow(link: &Path, root: &Path) -> Link {
    let target = match std::fs::canonicalize(link) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Link::Dangling,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Link::Loop,
        Err(_) => return Link::Unreadable,
    };
    if !target.starts_with(root) {
        return Link::Outside;
    }
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Link::File(target),
        Ok(m) if m.is_dir() => Link::Folder,
        Ok(_) => Link::Special,
        Err(_) => Link::Unreadable,
    }
}

/// The image files under `dir`, sorted by path, and why every other entry
/// was left out. Folders are walked into (hidden ones and tagscape projects
/// are not, and count as one entry each).
pub fn image_files(dir: &Path) -> Result<Listing> {
    if is_project(dir) {
        bail!(
            "{} is a tagscape project folder: its images are the project's own \
             originals and thumbnails; add the folder the images came from",
            dir.display()
        );
    }
    let root = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot list the folder {}", dir.display()))?;
    let mut listing = Listing::default();
    let mut walk = WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.depth() == 0 => {
                let what = format!("cannot list the folder {}", dir.display());
                return Err(anyhow::Error::new(e).context(what));
            }
            Err(_) => {
                listing.skip("unreadable");
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let file_type = entry.file_type();
        if is_hidden(entry.file_name()) {
            listing.skip("hidden");
            if file_type.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if file_type.is_dir() {
            if is_project(entry.path()) {
                listing.skip("tagscape project folder");
                walk.skip_current_dir();
            }
            continue;
        }
        let file = if file_type.is_symlink() {
            match follow(entry.path(), &root) {
                Link::File(target) => target,
                // Its files, inside the folder, are walked where they are.
                Link::Folder => {
                    listing.skip("symlinked folder");
                    continue;
                }
                Link::Special => {
                    listing.skip("special file");
                    continue;
                }
                Link::Outside => {
                    listing.skip("symlink out of the folder");
                    continue;
                }
                Link::Dangling => {
                    listing.skip("dangling symlink");
                    continue;
                }
                Link::Loop => {
                    listing.skip("symlink loop");
                    continue;
                }
                Link::Unreadable => {
                    listing.skip("unreadable");
                    continue;
                }
            }
        } else if file_type.is_file() {
            entry.into_path()
        } else {
            listing.skip("special file");
            continue;
        };
        if is_image_file(&file) {
            listing.files.push(file);
        } else {
            listing.skip("not an image type");
        }
    }
    Ok(listing)
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

/// Adds the files, and counts the entries left out; metadata records each
/// file's path relative to the folder, and each file is a post whose row
/// number is its place in the listing.
pub fn read_folder(sink: &mut Sink<'_>, dir: &Path, listing: &Listing) -> Result<()> {
    for (reason, n) in &listing.skipped {
        for _ in 0..*n {
            sink.skip((*reason).to_string());
        }
    }
    let mut keys = PostKeys::new(dir);
    for (index, file) in listing.files.iter().enumerate() {
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
