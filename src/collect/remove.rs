//! `tagscape remove`: takes an input's entries out of the project again (a
//! list added by mistake, or read from the wrong column). The input is known
//! by its content, as `add` knows it, so the file must be the one added; its
//! posts go, each image's frequency drops by what they counted, and images
//! left without any post go too (with their tags). Downloaded files stay on
//! disk: they are stored by content and may be shared.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{folder, plural};
use crate::project::Project;

/// What `remove_input` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoveReport {
    pub input: PathBuf,
    /// The sources removed: (path as added, URL column).
    pub sources: Vec<(String, Option<String>)>,
    pub posts: u64,
    /// Images removed because no post of theirs was left.
    pub images_removed: u64,
    /// Images kept (other inputs have posts of them) whose frequency dropped.
    pub images_kept: u64,
    pub images_in_project: u64,
}

/// Removes every source of the project with `input`'s content (and, with
/// `column`, read from that column), in one transaction.
pub fn remove_input(
    project: &mut Project,
    input: &Path,
    column: Option<&str>,
) -> Result<RemoveReport> {
    let metadata = std::fs::metadata(input).with_context(|| {
        format!(
            "cannot read {}: name the list or folder as it was added",
            input.display()
        )
    })?;
    let hash = if metadata.is_dir() {
        let listing = folder::image_files(input)?;
        folder::listing_hash(input, &listing.files)
    } else {
        crate::text_input::require_regular(input)?;
        super::file_hash(input)?
    };
    let column = column.map(str::trim).unwrap_or("");
    let project_dir = project.dir().to_path_buf();
    let tx = project.conn_mut().transaction()?;
    let sources: Vec<(i64, String, Option<String>)> = {
        let mut stmt = tx.prepare(
            "SELECT id, path, url_column FROM sources WHERE content_hash = ?1
             AND (?2 = '' OR lower(trim(coalesce(url_column, ''))) = lower(?2)) ORDER BY id",
        )?;
        stmt.query_map((&hash, column), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    if sources.is_empty() {
        let columns: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT coalesce(url_column, '') FROM sources WHERE content_hash = ?1 ORDER BY id",
            )?;
            stmt.query_map([&hash], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        if !columns.is_empty() {
            bail!(
                "{} was added from column {}, not `{column}`: give one of those to --column, or leave it out to remove every reading of the file",
                input.display(),
                columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        bail!(
            "{} (as it is now) was never added to {}: name the file exactly as it was added (an edited file is another input)",
            input.display(),
            project_dir.display()
        );
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS removing(id INTEGER PRIMARY KEY);
         DELETE FROM removing;",
    )?;
    for (id, _, _) in &sources {
        tx.execute("INSERT INTO removing(id) VALUES (?1)", [id])?;
    }
    // Per image: the occurrences the removed posts counted.
    let affected: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT image_id, sum(times) FROM posts
             WHERE source_id IN (SELECT id FROM removing) GROUP BY image_id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let posts: i64 = tx.query_row(
        "SELECT count(*) FROM posts WHERE source_id IN (SELECT id FROM removing)",
        [],
        |r| r.get(0),
    )?;
    tx.execute(
        "DELETE FROM posts WHERE source_id IN (SELECT id FROM removing)",
        [],
    )?;
    tx.execute(
        "DELETE FROM sources WHERE id IN (SELECT id FROM removing)",
        [],
    )?;
    let mut images_removed = 0;
    let mut images_kept = 0;
    {
        let mut left =
            tx.prepare("SELECT count(*), coalesce(sum(times), 0) FROM posts WHERE image_id = ?1")?;
        let mut delete = tx.prepare("DELETE FROM images WHERE id = ?1")?;
        // Never below what the posts left still count (a folder's post of
        // an image already there counted nothing; migrated images have a
        // frequency their one post does not spell out).
        let mut lower =
            tx.prepare("UPDATE images SET frequency = max(frequency - ?1, ?2) WHERE id = ?3")?;
        for (image, times) in &affected {
            let (count, remaining): (i64, i64) =
                left.query_row([image], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if count == 0 {
                delete.execute([image])?;
                images_removed += 1;
            } else {
                lower.execute((times, remaining, image))?;
                images_kept += 1;
            }
        }
    }
    tx.execute("DROP TABLE removing", [])?;
    tx.commit()?;
    let images_in_project: i64 =
        project
            .conn()
            .query_row("SELECT count(*) FROM images", [], |r| r.get(0))?;
    Ok(RemoveReport {
        input: input.to_path_buf(),
        sources: sources.into_iter().map(|(_, p, c)| (p, c)).collect(),
        posts: posts as u64,
        images_removed,
        images_kept,
        images_in_project: images_in_project as u64,
    })
}

impl fmt::Display for RemoveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read: Vec<String> = self
            .sources
            .iter()
            .map(|(path, column)| match column {
                Some(c) if !c.is_empty() => format!("{path} (column {c})"),
                _ => path.clone(),
            })
            .collect();
        write!(
            f,
            "removed {}: {}, {} no longer in any post, {} kept with a lower frequency; project has {} (run `tagscape graph` again to rebuild the network)",
            read.join(", "),
            plural(self.posts, "post", "posts"),
            plural(self.images_removed, "image", "images"),
            plural(self.images_kept, "image", "images"),
            plural(self.images_in_project, "image", "images"),
        )
    }
}
