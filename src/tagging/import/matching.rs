//! Finding the project image a tag file means. Tools name images in
//! different ways: the URL (the tagging tool, Memespector on URLs), a local
//! path (Memespector on downloaded files) or only the file name (the recipe
//! downloads with `wget -i`, which names files after the URL's last segment).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use percent_encoding::percent_decode_str;
use url::Url;

use crate::collect::normalize::{file_url, normalize_url};
use crate::project::Project;

/// What a tag file's reference to an image comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    Image(i64),
    /// Only a file name, and several images have it: which one is not guessed.
    Ambiguous,
    Missing,
}

pub struct Matcher {
    by_url: HashMap<String, i64>,
    /// Project-relative paths of downloaded originals (`images.file`).
    by_file: HashMap<String, i64>,
    /// File name → image; `None` when two images share the name.
    by_name: HashMap<String, Option<i64>>,
    tag_file_dir: PathBuf,
    project_dir: PathBuf,
}

/// The last segment of a URL's path or of a path, percent-decoded.
fn file_name(reference: &str) -> Option<String> {
    if let Ok(url) = Url::parse(reference)
        && url.scheme().len() > 1
    {
        let last = url.path_segments()?.next_back()?;
        let decoded = percent_decode_str(last).decode_utf8_lossy().to_string();
        return (!decoded.is_empty()).then_some(decoded);
    }
    let last = reference.rsplit(['/', '\\']).next()?.trim();
    (!last.is_empty()).then(|| last.to_string())
}

/// A Windows path (`C:\Users\ann\a.jpg`, `C:/pics/a.jpg`, `\\server\share\a.jpg`):
/// a tag file written on Windows naming files as they were there.
pub fn is_windows_path(reference: &str) -> bool {
    let r = reference.trim().as_bytes();
    let drive =
        r.len() > 3 && r[0].is_ascii_alphabetic() && r[1] == b':' && matches!(r[2], b'\\' | b'/');
    drive || r.starts_with(b"\\\\")
}

impl Matcher {
    /// Indexes the project's images; relative paths in the tag file are taken
    /// relative to `tag_file_dir`.
    pub fn new(project: &Project, tag_file_dir: &Path) -> Result<Matcher> {
        let mut matcher = Matcher {
            by_url: HashMap::new(),
            by_file: HashMap::new(),
            by_name: HashMap::new(),
            tag_file_dir: tag_file_dir.to_path_buf(),
            project_dir: std::path::absolute(project.dir())?,
        };
        let mut stmt = project.conn().prepare("SELECT id, url, file FROM images")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let url: String = row.get(1)?;
            let file: Option<String> = row.get(2)?;
            let mut names = vec![file_name(&url)];
            if let Some(file) = file {
                names.push(file_name(&file));
                matcher.by_file.insert(file, id);
            }
            for name in names.into_iter().flatten() {
                matcher.add_name(name, id);
            }
            matcher.by_url.insert(url, id);
        }
        drop(rows);
        // The other URLs of images merged for having the same bytes.
        let mut stmt = project
            .conn()
            .prepare("SELECT image_id, url FROM image_aliases")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let url: String = row.get(1)?;
            if let Some(name) = file_name(&url) {
                matcher.add_name(name, id);
            }
            matcher.by_url.insert(url, id);
        }
        Ok(matcher)
    }

    /// Records that image `id` is known by file name `name`.
    fn add_name(&mut self, name: String, id: i64) {
        self.by_name
            .entry(name)
            .and_modify(|e| {
                if *e != Some(id) {
                    *e = None
                }
            })
            .or_insert(Some(id));
    }

    pub fn is_empty(&self) -> bool {
        self.by_url.is_empty()
    }

    /// The image `reference` names: by normalised URL, then by path (exact,
    /// so tried before the name), then by file name when unique in the project.
    pub fn find(&self, reference: &str) -> Match {
        let reference = reference.trim();
        if let Some(url) = normalize_url(reference) {
            if let Some(&id) = self.by_url.get(&url) {
                return Match::Image(id);
            }
        } else if let Some(id) = self.find_path(reference) {
            return Match::Image(id);
        }
        match file_name(reference).and_then(|name| self.by_name.get(&name).copied()) {
            Some(Some(id)) => Match::Image(id),
            Some(None) => Match::Ambiguous,
            None => Match::Missing,
        }
    }

    fn find_path(&self, reference: &str) -> Option<i64> {
        let path = Path::new(reference);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.tag_file_dir.join(path)
        };
        if let Some(&id) = file_url(&absolute).and_then(|u| self.by_url.get(&u)) {
            return Some(id);
        }
        // A downloaded original, named relative to the project or absolutely.
        let relative = match absolute.strip_prefix(&self.project_dir) {
            Ok(inside) => inside.to_path_buf(),
            Err(_) => path.to_path_buf(),
        };
        let key = relative.to_string_lossy().replace('\\', "/");
        self.by_file.get(&key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_urls_and_paths() {
        assert_eq!(
            file_name("https://pbs.twimg.com/media/D1t%20Q.jpg?name=large").as_deref(),
            Some("D1t Q.jpg")
        );
        assert_eq!(file_name(r"C:\pics\a.png").as_deref(), Some("a.png"));
        assert_eq!(file_name("dir/b.jpg").as_deref(), Some("b.jpg"));
        assert_eq!(file_name("https://example.com/"), None);
    }

    #[test]
    fn windows_paths_are_recognised() {
        assert!(is_windows_path(r"C:\Users\ann\a.jpg"));
        assert!(is_windows_path("d:/pics/a.jpg"));
        assert!(is_windows_path(r"\\server\share\a.jpg"));
        assert!(!is_windows_path("/home/ann/a.jpg"));
        assert!(!is_windows_path("https://e.com/a.jpg"));
        assert!(!is_windows_path("a.jpg"));
    }
}
