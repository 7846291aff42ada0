//! `--format duplicates`: the groups of near-identical images, as CSV
//! (`group,url,frequency,distance`): one row per image of each group, the
//! representative (the most frequent member, distance 0) first.

use std::path::Path;

use anyhow::{Context, Result};

use super::spreadsheet::CsvOptions;
use crate::graph::duplicates::{DEFAULT_HASH_DISTANCE, project_stacks};
use crate::project::Project;

/// What was written, for the summary line.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicatesReport {
    pub groups: usize,
    pub images: usize,
    pub hash_distance: u32,
    /// Downloaded images without a perceptual hash (not compared).
    pub unhashed: usize,
}

impl std::fmt::Display for DuplicatesReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} groups of near-duplicates ({} images, hash distance ≤ {})",
            self.groups, self.images, self.hash_distance
        )?;
        if self.unhashed > 0 {
            write!(
                f,
                "; {} downloaded images have no hash or colour grid yet (run `tagscape graph --stack-duplicates` to compute them)",
                self.unhashed
            )?;
        }
        Ok(())
    }
}

/// Writes the groups at the hash distance the graph was last stacked with
/// (or the default) to `out`.
pub fn write(project: &Project, out: &Path, opts: CsvOptions) -> Result<DuplicatesReport> {
    let hash_distance = project
        .setting::<serde_json::Value>("graph_similarity")?
        .and_then(|v| v["hash_distance"].as_u64())
        .map(|d| d as u32)
        .unwrap_or(DEFAULT_HASH_DISTANCE);
    let stacks = project_stacks(project, hash_distance)?;
    let conn = project.conn();
    let unhashed: i64 = conn.query_row(
        "SELECT count(*) FROM images WHERE status = 'done' AND (phash IS NULL OR colour_grid IS NULL)",
        [],
        |r| r.get(0),
    )?;
    let mut lookup = conn.prepare("SELECT url, frequency FROM images WHERE id = ?1")?;
    let mut file = super::AtomicFile::create(out)?;
    opts.start(&mut file)
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut csv = csv::Writer::from_writer(file);
    csv.write_record(["group", "url", "frequency", "distance"])?;
    for (group, stack) in stacks.iter().enumerate() {
        for (image_id, distance) in &stack.members {
            let (url, frequency): (String, i64) =
                lookup.query_row([image_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            csv.write_record([
                (group + 1).to_string(),
                opts.formulas.cell(&url).into_owned(),
                frequency.to_string(),
                distance.to_string(),
            ])?;
        }
    }
    csv.into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", out.display()))?
        .finish()?;
    Ok(DuplicatesReport {
        groups: stacks.len(),
        images: stacks.iter().map(|s| s.members.len()).sum(),
        hash_distance,
        unhashed: unhashed as usize,
    })
}
