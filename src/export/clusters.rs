//! `--format clusters`: one row per cluster of `tagscape cluster`, for
//! spreadsheets and captions: id, name (the user's, else the automatic one),
//! caption, colour, hidden, images, tags, the core and how many images lie
//! outside the hull, the top tags, the full ranked tag list with c-TF-IDF
//! scores (JSON `[[tag, score], ...]`), and the hull as WKT in layout
//! coordinates (empty without a layout).

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::AtomicFile;
use super::spreadsheet::CsvOptions;
use crate::cluster::{color_hex, labels, load_clusters};
use crate::project::Project;

const HEADER: [&str; 12] = [
    "id",
    "name",
    "caption",
    "color",
    "hidden",
    "size",
    "tags",
    "core_size",
    "outside_hull",
    "top_tags",
    "tag_scores",
    "hull_wkt",
];

/// Writes the clusters CSV; returns how many clusters it lists.
pub fn write(project: &Project, out: &Path, opts: CsvOptions) -> Result<usize> {
    let clusters = load_clusters(project)?;
    if clusters.is_empty() {
        bail!(
            "project {} has no clusters yet: run `tagscape cluster {}` first",
            project.dir().display(),
            project.dir().display()
        );
    }
    let mut file = AtomicFile::create(out)?;
    opts.start(&mut file)
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut csv = csv::Writer::from_writer(file);
    let text = |s: &str| opts.formulas.cell(s).into_owned();
    let written: Result<()> = (|| {
        csv.write_record(HEADER)?;
        for c in &clusters {
            let scores: Vec<(&str, f64)> =
                c.labels.iter().map(|t| (t.tag.as_str(), t.score)).collect();
            csv.write_record([
                c.id.to_string(),
                text(&c.name),
                text(c.caption.as_deref().unwrap_or_default()),
                color_hex(c.color),
                u8::from(c.hidden).to_string(),
                c.size.to_string(),
                c.tag_count.to_string(),
                c.core_size.map(|n| n.to_string()).unwrap_or_default(),
                c.outside_hull.map(|n| n.to_string()).unwrap_or_default(),
                text(&labels::auto_name(&c.labels)),
                serde_json::to_string(&scores)?,
                c.hull_wkt.clone().unwrap_or_default(),
            ])?;
        }
        Ok(())
    })();
    written.with_context(|| format!("cannot write {}", out.display()))?;
    csv.into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", out.display()))?
        .finish()?;
    Ok(clusters.len())
}
