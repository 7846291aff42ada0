//! The embedded sample collection and `tagscape demo`.
//!
//! The sample (293 OpenMoji images with their published tags, CC BY-SA 4.0;
//! see `assets/sample/README.md`) is compiled into the binary, so the demo
//! runs anywhere without a download: it is written out next to the project
//! and goes through the same pipeline as a user's collection.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use include_dir::{Dir, include_dir};

static SAMPLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets/sample");

/// The files of the sample as written out by [`extract_sample`].
pub struct Sample {
    /// The image list (`image` column: paths relative to the list).
    pub images: PathBuf,
    /// The tag table (long format: `image,tag,confidence`).
    pub tags: PathBuf,
}

/// Writes the sample collection into `dest` (files already there with the
/// same content are left alone).
pub fn extract_sample(dest: &Path) -> Result<Sample> {
    write_dir(&SAMPLE, dest)?;
    Ok(Sample {
        images: dest.join("images.csv"),
        tags: dest.join("tags.csv"),
    })
}

/// Creates the demo project. Its layout uses the defaults, as any
/// collection's does.
pub fn prepare_project(dir: &Path) -> Result<()> {
    crate::project::Project::init(dir)?;
    Ok(())
}

fn write_dir(dir: &Dir<'_>, dest: &Path) -> Result<()> {
    for file in dir.files() {
        let path = dest.join(file.path());
        if std::fs::read(&path).is_ok_and(|existing| existing == file.contents()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| {
                format!(
                    "cannot create {}: choose another --out folder",
                    parent.display()
                )
            })?;
        }
        std::fs::write(&path, file.contents()).with_context(|| {
            format!(
                "cannot write {}: choose another --out folder",
                path.display()
            )
        })?;
    }
    for sub in dir.dirs() {
        write_dir(sub, dest)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_lists_and_images_agree() {
        let dir = tempfile::tempdir().unwrap();
        let sample = extract_sample(dir.path()).unwrap();
        let list = std::fs::read_to_string(&sample.images).unwrap();
        let rows: Vec<&str> = list.lines().skip(1).collect();
        assert!(
            rows.len() >= 200,
            "a few hundred images, got {}",
            rows.len()
        );
        for row in &rows {
            let image = row.split(',').next().unwrap();
            let bytes = std::fs::read(dir.path().join(image)).unwrap();
            assert!(bytes.starts_with(b"\x89PNG"), "{image} is a PNG");
        }
        let tags = std::fs::read_to_string(&sample.tags).unwrap();
        assert_eq!(tags.lines().next(), Some("image,tag,confidence"));
        // Every image carries tags, and every tagged image is in the list.
        let tagged: std::collections::HashSet<&str> = tags
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        let listed: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.split(',').next().unwrap()).collect();
        assert_eq!(tagged, listed);
    }
}
