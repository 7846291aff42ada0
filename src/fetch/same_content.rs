//! The same bytes under two URLs (re-signed CDN links, one file saved in two
//! folders) are one image. After each fetch, every image whose content hash
//! equals an earlier image's is merged into that earlier one (the first
//! added): its posts and tags move over, its frequency is added, and its URL
//! is kept in `image_aliases`, so `add` and `import-tags` still find the
//! image by it. Merging in the store, rather than when drawing, keeps every
//! reader (graph, exports, search, viewer) seeing one image with all posts.

use anyhow::{Context, Result};
use rusqlite::{Connection, params};

/// Merges every group of fetched images with one content hash into its
/// lowest id, in one transaction. Returns how many images were merged away.
pub fn merge_same_content(conn: &mut Connection) -> Result<u64> {
    let tx = conn.transaction()?;
    let groups: Vec<(String, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT content_hash, id FROM images
             WHERE status = 'done' AND content_hash IN (
                 SELECT content_hash FROM images WHERE status = 'done' AND content_hash IS NOT NULL
                 GROUP BY content_hash HAVING count(*) > 1)
             ORDER BY content_hash, id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut merged = 0;
    let mut keep: Option<(&str, i64)> = None;
    for (hash, id) in &groups {
        match keep {
            Some((h, into)) if h == hash => {
                merge_into(&tx, *id, into).with_context(|| {
                    format!("merging image {id} into image {into} (same bytes)")
                })?;
                merged += 1;
            }
            _ => keep = Some((hash, *id)),
        }
    }
    tx.commit()?;
    Ok(merged)
}

/// Moves everything of image `dup` to image `keep` and deletes `dup`.
fn merge_into(tx: &Connection, dup: i64, keep: i64) -> rusqlite::Result<()> {
    // A post both images have (one tweet naming both URLs) stays one post
    // that occurred as often as both together.
    tx.execute(
        "UPDATE posts SET times = times + (
             SELECT d.times FROM posts d WHERE d.image_id = ?1 AND d.post_key = posts.post_key)
         WHERE image_id = ?2 AND post_key IN (SELECT post_key FROM posts WHERE image_id = ?1)",
        params![dup, keep],
    )?;
    tx.execute(
        "DELETE FROM posts WHERE image_id = ?1
         AND post_key IN (SELECT post_key FROM posts WHERE image_id = ?2)",
        params![dup, keep],
    )?;
    tx.execute(
        "UPDATE posts SET image_id = ?2 WHERE image_id = ?1",
        params![dup, keep],
    )?;
    // A tag both have from one source keeps the higher confidence.
    tx.execute(
        "UPDATE tags SET confidence = (
             SELECT d.confidence FROM tags d
             WHERE d.image_id = ?1 AND d.tag_key = tags.tag_key AND d.source = tags.source)
         WHERE image_id = ?2 AND EXISTS (
             SELECT 1 FROM tags d
             WHERE d.image_id = ?1 AND d.tag_key = tags.tag_key AND d.source = tags.source
               AND d.confidence > coalesce(tags.confidence, -1))",
        params![dup, keep],
    )?;
    // What stays behind (already there for `keep`) goes with `dup`'s row.
    for table in ["tags", "tag_responses", "tag_failures", "embeddings"] {
        tx.execute(
            &format!("UPDATE OR IGNORE {table} SET image_id = ?2 WHERE image_id = ?1"),
            params![dup, keep],
        )?;
    }
    // An answer from either URL means the image is tagged by that model.
    tx.execute(
        "DELETE FROM tag_failures WHERE image_id = ?1 AND EXISTS (
             SELECT 1 FROM tag_responses r
             WHERE r.image_id = ?1 AND r.backend = tag_failures.backend AND r.model = tag_failures.model)",
        [keep],
    )?;
    tx.execute(
        "UPDATE images SET frequency = frequency + (SELECT frequency FROM images WHERE id = ?1)
         WHERE id = ?2",
        params![dup, keep],
    )?;
    tx.execute(
        "UPDATE image_aliases SET image_id = ?2 WHERE image_id = ?1",
        params![dup, keep],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO image_aliases(url, image_id) SELECT url, ?2 FROM images WHERE id = ?1",
        params![dup, keep],
    )?;
    tx.execute("DELETE FROM images WHERE id = ?1", [dup])?;
    Ok(())
}
