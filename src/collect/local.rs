//! Which local files a list may name. A list can come from anyone, and
//! `fetch` reads whatever `file://` path it names, so:
//!
//! - a relative path may not climb out of the list's folder (`../../etc/x`,
//!   or a symlink inside the folder that leads out of it): it is refused;
//! - absolute paths and `file://` URLs are read, since researchers keep
//!   images elsewhere, but the ones outside the list's folder are counted in
//!   the summary, so someone running a list from elsewhere sees them;
//! - `--no-local` refuses every local file.

use std::path::{Path, PathBuf};

use url::Url;

/// Whether lists may name local files at all (`--no-local` says no).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalFiles {
    #[default]
    Allowed,
    Refused,
}

/// The verdict on one local entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Inside,
    /// Named by an absolute path or `file://` URL, outside the list's folder.
    Outside,
    Refused(&'static str),
}

/// The rule for the local entries of one list, anchored at its folder.
pub struct LocalPolicy {
    base_dir: PathBuf,
    /// `base_dir` with its symlinks resolved, to judge where links lead.
    canonical_base: Option<PathBuf>,
    /// The image folder named with `--images` (and its canonical form):
    /// the user chose it, so its files count as inside.
    images: Option<(PathBuf, Option<PathBuf>)>,
    local: LocalFiles,
}

impl LocalPolicy {
    pub fn new(base_dir: &Path, local: LocalFiles) -> LocalPolicy {
        LocalPolicy {
            base_dir: base_dir.to_path_buf(),
            canonical_base: std::fs::canonicalize(base_dir).ok(),
            images: None,
            local,
        }
    }

    /// Files in `dir` (the `--images` folder) are inside too.
    pub fn with_image_folder(mut self, dir: &Path) -> LocalPolicy {
        self.images = Some((dir.to_path_buf(), std::fs::canonicalize(dir).ok()));
        self
    }

    /// Judges `url` (normalised, `file://`), which the list spelled `raw`.
    pub fn judge(&self, raw: &str, url: &str) -> Verdict {
        if self.local == LocalFiles::Refused {
            return Verdict::Refused("local file (--no-local)");
        }
        let Some(path) = Url::parse(url).ok().and_then(|u| u.to_file_path().ok()) else {
            return Verdict::Refused("not a URL");
        };
        // The normalised URL has its `..` resolved, so this is the lexical test;
        // the canonical one catches symlinks leading out.
        let within = |base: &Path, canonical: &Option<PathBuf>| {
            path.starts_with(base)
                && match (canonical, std::fs::canonicalize(&path)) {
                    (Some(base), Ok(target)) => target.starts_with(base),
                    _ => true,
                }
        };
        let inside = within(&self.base_dir, &self.canonical_base)
            || self
                .images
                .as_ref()
                .is_some_and(|(dir, canonical)| within(dir, canonical));
        if inside {
            Verdict::Inside
        } else if is_relative(raw) {
            Verdict::Refused("path climbing out of the list's folder")
        } else {
            Verdict::Outside
        }
    }
}

/// Whether an entry is a relative path (not a URL, not an absolute path).
fn is_relative(raw: &str) -> bool {
    let raw = raw.trim();
    !raw.to_ascii_lowercase().starts_with("file:") && Path::new(raw).is_relative()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &Path) -> String {
        Url::from_file_path(path).unwrap().to_string()
    }

    #[test]
    fn relative_paths_stay_inside_absolute_ones_are_counted() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("list");
        std::fs::create_dir(&base).unwrap();
        let policy = LocalPolicy::new(&base, LocalFiles::Allowed);
        let inside = url(&base.join("a.jpg"));
        let outside = url(&root.path().join("b.jpg"));
        assert_eq!(policy.judge("a.jpg", &inside), Verdict::Inside);
        assert!(matches!(
            policy.judge("../b.jpg", &outside),
            Verdict::Refused(_)
        ));
        assert_eq!(policy.judge(&outside, &outside), Verdict::Outside);
        assert_eq!(
            policy.judge("/etc/x.jpg", "file:///etc/x.jpg"),
            Verdict::Outside
        );
        let refusing = LocalPolicy::new(&base, LocalFiles::Refused);
        assert!(matches!(
            refusing.judge("a.jpg", &inside),
            Verdict::Refused(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_inside_that_leads_out_is_outside() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("list");
        std::fs::create_dir(&base).unwrap();
        std::fs::write(root.path().join("secret.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret.jpg"), base.join("s.jpg")).unwrap();
        let policy = LocalPolicy::new(&base, LocalFiles::Allowed);
        let link = url(&base.join("s.jpg"));
        assert!(matches!(policy.judge("s.jpg", &link), Verdict::Refused(_)));
        assert_eq!(policy.judge(&link, &link), Verdict::Outside);
    }
}
