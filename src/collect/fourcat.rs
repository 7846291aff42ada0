//! 4CAT's image downloads: a zip of files with a `.metadata.json` beside
//! them, one entry per file: `{"filename", "success", "from_dataset",
//! "post_ids"}`, keyed by the source URL (the general image downloader) or
//! by the file name (the Telegram one, which names files `CHAT-MESSAGE.jpeg`
//! and lists the bare message id). It tells which posts showed a file when
//! the dataset's CSV names none, and where the file came from.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::normalize::normalize_url;

/// What a `.metadata.json` says, by file name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// File name → the URL it was downloaded from.
    pub source_urls: HashMap<String, String>,
    /// Post id as listed → the files it showed.
    by_post: HashMap<String, Vec<String>>,
}

/// The first readable `.metadata.json` in `dirs`; `None` when there is none
/// or it is not 4CAT's (nothing in it to use).
pub fn read(dirs: &[&Path]) -> Option<Metadata> {
    dirs.iter().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join(".metadata.json")).ok()?;
        let json: Value = serde_json::from_str(&text).ok()?;
        let metadata = parse(&json);
        (!metadata.source_urls.is_empty() || !metadata.by_post.is_empty()).then_some(metadata)
    })
}

fn parse(json: &Value) -> Metadata {
    let mut metadata = Metadata::default();
    let Some(entries) = json.as_object() else {
        return metadata;
    };
    for (key, entry) in entries {
        let Some(filename) = entry.get("filename").and_then(Value::as_str) else {
            continue;
        };
        // Failed downloads are listed too, under a made-up name.
        if entry.get("success").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let url = entry
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or(key.as_str());
        if let Some(url) = normalize_url(url).filter(|u| u.starts_with("http")) {
            metadata.source_urls.insert(filename.to_string(), url);
        }
        for id in entry
            .get("post_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = match id {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            metadata
                .by_post
                .entry(id)
                .or_default()
                .push(filename.to_string());
        }
    }
    metadata
}

impl Metadata {
    /// The files the post with 4CAT id `id` showed: those listed under the
    /// id itself, and (Telegram: id `CHAT-MESSAGE`, listed by the message
    /// number) those named after the id.
    pub fn files_of(&self, id: &str) -> Vec<&str> {
        let id = id.trim();
        let mut files: Vec<&str> = self
            .by_post
            .get(id)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if let Some((_, message)) = id.rsplit_once('-') {
            for file in self.by_post.get(message).into_iter().flatten() {
                let stem = Path::new(file).file_stem().and_then(|s| s.to_str());
                if stem == Some(id) && !files.contains(&file.as_str()) {
                    files.push(file);
                }
            }
        }
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_downloaders_metadata_are_read() {
        let json: Value = serde_json::from_str(
            r#"{
              "https://cdn.example/a.jpg": {"filename": "a.jpg", "success": true, "from_dataset": "k", "post_ids": ["p1", "p2"]},
              "https://cdn.example/gone.jpg": {"filename": "gone", "success": false, "post_ids": ["p3"]},
              "chan-42.jpeg": {"filename": "chan-42.jpeg", "success": true, "post_ids": [42]},
              "other-42.jpeg": {"filename": "other-42.jpeg", "success": true, "post_ids": [42]}
            }"#,
        )
        .unwrap();
        let m = parse(&json);
        assert_eq!(m.source_urls.len(), 1);
        assert_eq!(m.source_urls["a.jpg"], "https://cdn.example/a.jpg");
        assert_eq!(m.files_of("p2"), ["a.jpg"]);
        assert!(m.files_of("p3").is_empty());
        assert_eq!(m.files_of("chan-42"), ["chan-42.jpeg"]);
        assert!(m.files_of("42x").is_empty());
    }
}
