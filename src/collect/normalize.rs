//! One spelling per image: turning an input entry (an http(s) URL, a `file://`
//! URL or a local path) into the normalised URL the project stores, so the same
//! image named two ways is counted once.
//!
//! Normalisation is the WHATWG URL parse of the `url` crate (lowercase scheme
//! and host, default port dropped, dot segments resolved, unsafe characters
//! percent-encoded) plus dropping the fragment; the query is kept because
//! image CDNs put the size or format there.

use std::path::Path;

use url::Url;

/// File extensions of the image formats tagscape reads (lowercase).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"];

/// Why an entry was not taken as an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    Empty,
    /// Neither a URL nor something that looks like a local image path.
    NotAUrl,
    /// A URL whose scheme can never be fetched (`javascript:`, `data:`, `mailto:` ...).
    UnsupportedScheme(String),
}

impl Rejected {
    /// The reason as shown in summaries ("3 empty, 9 not a URL").
    pub fn reason(&self) -> String {
        match self {
            Rejected::Empty => "empty".into(),
            Rejected::NotAUrl => "not a URL".into(),
            Rejected::UnsupportedScheme(s) => format!("{s}: URL"),
        }
    }
}

/// Whether a path or URL path ends in an image file extension.
pub fn has_image_extension(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => IMAGE_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(ext)),
        _ => false,
    }
}

/// Normalises an absolute http(s) or `file://` URL; `None` for anything else.
pub fn normalize_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let url = if let Some(rest) = raw.strip_prefix("//") {
        Url::parse(&format!("https://{rest}")).ok()?
    } else {
        Url::parse(raw).ok()?
    };
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Some(finish(url)),
        "file" => Some(finish(url)),
        _ => None,
    }
}

/// The normalised `file://` URL of a local path (made absolute against the
/// current directory when relative).
pub fn file_url(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).ok()?;
    let url = Url::from_file_path(&absolute).ok()?;
    // `from_file_path` keeps `..` segments as given; a re-parse resolves them.
    Url::parse(url.as_str()).ok().map(finish)
}

/// Normalises one input entry. Relative paths are taken relative to
/// `base_dir` (the folder of the list that names them). A bare local path is
/// accepted when it has an image extension or names an existing file, so
/// stray text ("n/a", "none") is rejected rather than stored as a path.
pub fn normalize_entry(raw: &str, base_dir: &Path) -> Result<String, Rejected> {
    let entry = raw.trim();
    if entry.is_empty() {
        return Err(Rejected::Empty);
    }
    if entry.starts_with("//") {
        return normalize_url(entry).ok_or(Rejected::NotAUrl);
    }
    match Url::parse(entry) {
        Ok(url) => match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(finish(url)),
            "http" | "https" => Err(Rejected::NotAUrl),
            "file" => Ok(finish(url)),
            // `C:\images\a.jpg` parses as scheme `c`: it is a Windows path.
            drive if drive.len() == 1 => local_path(entry, base_dir),
            other => Err(Rejected::UnsupportedScheme(other.to_string())),
        },
        Err(url::ParseError::RelativeUrlWithoutBase) => local_path(entry, base_dir),
        Err(_) => Err(Rejected::NotAUrl),
    }
}

fn local_path(entry: &str, base_dir: &Path) -> Result<String, Rejected> {
    let path = base_dir.join(entry);
    if !has_image_extension(entry) && !path.is_file() {
        return Err(Rejected::NotAUrl);
    }
    file_url(&path).ok_or(Rejected::NotAUrl)
}

fn finish(mut url: Url) -> String {
    url.set_fragment(None);
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_url_agree() {
        let a = normalize_url("HTTP://Example.com:80/a.jpg#x").unwrap();
        assert_eq!(a, "http://example.com/a.jpg");
        assert_eq!(
            normalize_url("https://example.com/x/../b.png?s=1").unwrap(),
            "https://example.com/b.png?s=1"
        );
        assert_eq!(
            normalize_url("//pbs.twimg.com/media/A.jpg").unwrap(),
            "https://pbs.twimg.com/media/A.jpg"
        );
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        let base = Path::new("/tmp");
        assert_eq!(normalize_entry("  ", base), Err(Rejected::Empty));
        assert_eq!(
            normalize_entry("javascript:alert(1)", base),
            Err(Rejected::UnsupportedScheme("javascript".into()))
        );
        assert_eq!(
            normalize_entry("data:image/png;base64,AAAA", base),
            Err(Rejected::UnsupportedScheme("data".into()))
        );
        assert_eq!(normalize_entry("n/a", base), Err(Rejected::NotAUrl));
        assert_eq!(normalize_entry("http://", base), Err(Rejected::NotAUrl));
    }

    #[test]
    fn relative_paths_become_absolute_file_urls() {
        let got = normalize_entry("img/../pics/a b.JPG", Path::new("/data/list")).unwrap();
        assert_eq!(got, "file:///data/list/pics/a%20b.JPG");
        assert!(has_image_extension("https://x/y.WebP?size=large"));
        assert!(!has_image_extension("https://x/.jpg"));
    }
}
