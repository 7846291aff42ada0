//! A small project made through the binary, as a user would: images
//! `https://example.org/{i}.jpg` (never fetched: drawn as placeholders),
//! their tags imported, the network built.

use std::path::{Path, PathBuf};

use crate::cli::tagscape_ok;

/// `tmp/study` with `images` images, image `i` tagged `tags(i)` (0.9 each).
pub fn tagged_project(
    tmp: &Path,
    images: usize,
    tags: impl Fn(usize) -> Vec<&'static str>,
) -> PathBuf {
    let dir = tmp.join("study");
    let list = tmp.join("urls.txt");
    let table = tmp.join("tags.csv");
    let mut urls = String::new();
    let mut rows = String::from("image,tag,confidence\n");
    for i in 0..images {
        let url = format!("https://example.org/{i}.jpg");
        urls.push_str(&format!("{url}\n"));
        for tag in tags(i) {
            rows.push_str(&format!("{url},{tag},0.9\n"));
        }
    }
    std::fs::write(&list, urls).unwrap();
    std::fs::write(&table, rows).unwrap();
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    tagscape_ok(&["add", d, list.to_str().unwrap()]);
    tagscape_ok(&["import-tags", d, table.to_str().unwrap()]);
    tagscape_ok(&["graph", d]);
    dir
}
