//! The store's schema and its migrations.
//!
//! `PRAGMA user_version` holds the schema version. Each entry of `MIGRATIONS`
//! upgrades from version `i` to `i + 1` inside one transaction, so a project
//! written by an older tagscape is upgraded the first time a newer one opens it.

use anyhow::{Context, Result, bail};
use rusqlite::Connection;

/// Migration `i` takes a store from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the pipeline core.
    r#"
    CREATE TABLE sources (
        id         INTEGER PRIMARY KEY,
        path       TEXT NOT NULL,      -- the input as the user named it
        url_column TEXT,               -- the column URLs were read from (NULL: plain list / folder)
        rows       INTEGER NOT NULL,   -- entries read
        added_at   TEXT NOT NULL
    );
    CREATE TABLE images (
        id             INTEGER PRIMARY KEY,
        url            TEXT NOT NULL UNIQUE, -- normalised: http(s):// or file://
        media_kind     TEXT NOT NULL DEFAULT 'photo', -- photo | video_thumb | gif_thumb
        frequency      INTEGER NOT NULL DEFAULT 1,    -- times the URL occurred in the inputs
        metadata       TEXT,                -- JSON object: the first source row's other columns
        status         TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed
        failure        TEXT,                -- reason code when failed (http_404, not_an_image, ...)
        failure_detail TEXT,                -- human-readable detail
        http_status    INTEGER,
        attempts       INTEGER NOT NULL DEFAULT 0,
        content_hash   TEXT,                -- blake3 hex of the original bytes
        file           TEXT,                -- original, relative to the project directory
        format         TEXT,                -- sniffed from magic bytes: jpeg, png, gif, webp, bmp, tiff
        width          INTEGER,
        height         INTEGER,
        mean_color     INTEGER,             -- 0xRRGGBB
        byte_size      INTEGER,
        fetched_at     TEXT
    );
    CREATE INDEX images_status ON images(status);
    CREATE TABLE tags (
        image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        tag        TEXT NOT NULL,     -- trimmed, as given
        tag_key    TEXT NOT NULL,     -- lowercase: tags compare case-insensitively
        confidence REAL,              -- NULL when the source gave no score
        source     TEXT NOT NULL,     -- where the tag came from, e.g. import:dmi
        PRIMARY KEY (image_id, tag_key, source)
    );
    CREATE INDEX tags_key ON tags(tag_key);
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,       -- e.g. graph, layout
        value TEXT NOT NULL           -- JSON
    );
    -- The network as last built by `tagscape graph`: images first, then tags.
    CREATE TABLE graph_nodes (
        idx       INTEGER PRIMARY KEY, -- 0..n-1
        kind      TEXT NOT NULL,       -- image | tag
        node_id   TEXT NOT NULL UNIQUE,-- Id in exports: the image URL or the tag
        label     TEXT NOT NULL,
        image_id  INTEGER,             -- images(id) for image nodes
        degree    INTEGER NOT NULL,
        frequency INTEGER NOT NULL
    );
    CREATE TABLE graph_edges (
        source INTEGER NOT NULL,       -- graph_nodes.idx of the image
        target INTEGER NOT NULL,       -- graph_nodes.idx of the tag
        weight REAL NOT NULL
    );
    -- Written by `tagscape layout`; keyed by node_id so re-building the graph keeps them.
    CREATE TABLE positions (
        node_id TEXT PRIMARY KEY,
        x       REAL NOT NULL,
        y       REAL NOT NULL,
        size    REAL NOT NULL
    );
    "#,
    // 1 -> 2: `add` remembers what each input contained, so adding the same
    // file again is recognised and skipped instead of doubling frequencies.
    r#"
    ALTER TABLE sources ADD COLUMN content_hash TEXT; -- blake3 hex of the file (of the listing for folders)
    CREATE INDEX sources_content_hash ON sources(content_hash);
    "#,
    // 2 -> 3: `fetch` writes JPEG thumbnails for opaque images and PNG for
    // images with transparency; the renderer needs to know which.
    r#"
    ALTER TABLE images ADD COLUMN thumb_ext TEXT; -- jpg | png: thumbs/<level>/<2 hex>/<content_hash>.<thumb_ext>
    "#,
    // 3 -> 4: `tag` computes tags with vision backends: it keeps each image's
    // raw answer (compressed, for audit), what failed and why, and the kind
    // of each tag (Google's web entities and text are not labels).
    r#"
    ALTER TABLE tags ADD COLUMN kind TEXT NOT NULL DEFAULT 'label'; -- label | web_entity | text | safe_search
    ALTER TABLE tags ADD COLUMN topicality REAL;                   -- Google labels' topicality
    CREATE TABLE tag_runs (
        id          INTEGER PRIMARY KEY,
        backend     TEXT NOT NULL,     -- clarifai | google | openai | ...
        model       TEXT NOT NULL,     -- the model key results are filed under
        options     TEXT NOT NULL,     -- JSON: the options the run was started with (never keys)
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        requests    INTEGER NOT NULL DEFAULT 0,
        tagged      INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0
    );
    -- One row per image tagged by a backend+model: its presence means "done".
    CREATE TABLE tag_responses (
        image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        backend       TEXT NOT NULL,
        model         TEXT NOT NULL,
        model_version TEXT,            -- as the vendor reported it, when it did
        run_id        INTEGER REFERENCES tag_runs(id),
        response      BLOB NOT NULL,   -- zlib-compressed JSON: the vendor's answer for this image
        created_at    TEXT NOT NULL,
        PRIMARY KEY (image_id, backend, model)
    );
    CREATE TABLE tag_failures (
        image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        backend   TEXT NOT NULL,
        model     TEXT NOT NULL,
        code      TEXT NOT NULL,       -- the vendor's code (e.g. 30002, 3) or ours (timeout, malformed_response)
        message   TEXT NOT NULL,
        transient INTEGER NOT NULL,    -- 1: retried by the next run; 0: only with --retry-failed
        attempts  INTEGER NOT NULL DEFAULT 1,
        failed_at TEXT NOT NULL,
        PRIMARY KEY (image_id, backend, model)
    );
    "#,
    // 4 -> 5: a local CLIP model stores each image's embedding (for the
    // image–image kNN graph) and caches the text embeddings of a vocabulary;
    // `fetch` stores a perceptual hash for stacking near-duplicates.
    r#"
    ALTER TABLE images ADD COLUMN phash INTEGER; -- 64-bit gradient hash of the 256 px thumbnail (bits as i64)
    CREATE TABLE embeddings (
        image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        model      TEXT NOT NULL,     -- the model key (e.g. clip:<weights fingerprint>)
        dim        INTEGER NOT NULL,
        vector     BLOB NOT NULL,     -- dim little-endian f32, L2-normalised
        created_at TEXT NOT NULL,
        PRIMARY KEY (image_id, model)
    );
    CREATE TABLE text_embeddings (
        model      TEXT NOT NULL,     -- as embeddings.model
        vocabulary TEXT NOT NULL,     -- blake3 hex of the vocabulary and prompt templates
        position   INTEGER NOT NULL,  -- the concept's line in the vocabulary
        concept    TEXT NOT NULL,
        vector     BLOB NOT NULL,     -- dim little-endian f32, L2-normalised template average
        PRIMARY KEY (model, vocabulary, position)
    );
    "#,
    // 5 -> 6: `cluster` stores communities with their automatic labels and
    // hulls; the user's annotations live apart, keyed by their own id and
    // the members they were made on, so re-running `cluster` (which
    // renumbers clusters) re-attaches them by membership overlap.
    r#"
    CREATE TABLE cluster_annotations (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,       -- detected | merged | lasso: how the annotated group came to be
        name       TEXT,                -- NULL: the automatic name
        caption    TEXT,
        color      TEXT,                -- #rrggbb; NULL: the palette's
        hidden     INTEGER NOT NULL DEFAULT 0,
        members    TEXT NOT NULL,       -- JSON array of the group's image node ids at the last change
        lasso      TEXT NOT NULL DEFAULT '[]', -- JSON array of image node ids lassoed into the group (replayed by a re-run)
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE clusters (
        id            INTEGER PRIMARY KEY,
        auto_name     TEXT NOT NULL,    -- the top tags by c-TF-IDF
        auto_color    TEXT NOT NULL,    -- #rrggbb from the palette
        is_other      INTEGER NOT NULL DEFAULT 0, -- 1: the clusters below --min-size, together
        size          INTEGER NOT NULL, -- images
        tag_count     INTEGER NOT NULL,
        core_size     INTEGER,          -- NULL without a layout
        outside_hull  INTEGER,
        hull_wkt      TEXT,             -- POLYGON in layout coordinates
        label_x       REAL,
        label_y       REAL,
        auto_labels   TEXT NOT NULL,    -- JSON [{tag, score, count}, ...], best first
        annotation_id INTEGER UNIQUE REFERENCES cluster_annotations(id) ON DELETE SET NULL
    );
    CREATE TABLE node_clusters (
        node_id    TEXT PRIMARY KEY,    -- graph_nodes.node_id (image URL or tag)
        cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE
    );
    CREATE INDEX node_clusters_cluster ON node_clusters(cluster_id);
    "#,
    // 6 -> 7: `graph --stack-duplicates` records how many images each
    // stacked node stands for, so the viewer can badge it.
    r#"
    ALTER TABLE graph_nodes ADD COLUMN stack_size INTEGER NOT NULL DEFAULT 1; -- images merged into this node (1: not a stack)
    "#,
    // 7 -> 8: every layout keeps the one before it, so it can be undone
    // (`tagscape layout --undo`, the viewer's Undo).
    r#"
    CREATE TABLE previous_positions (
        node_id TEXT PRIMARY KEY,
        x       REAL NOT NULL,
        y       REAL NOT NULL,
        size    REAL NOT NULL
    );
    "#,
    // 8 -> 9: every occurrence of an image is kept as a post (a TCAT tweet,
    // a 4CAT post, a spreadsheet row, a list line, a folder's file) with the
    // row it came from, so exports and the viewer can tell who shared what,
    // when, and how often; a post already stored is never counted again.
    // The row's cells are one JSON array per post, aligned with its source's
    // `columns` (the header is stored once per source, not per row). Older
    // projects kept the first post's other columns in `images.metadata`:
    // that becomes the image's one post (a JSON object of column -> value,
    // no source), keyed by its `id` column where it has one.
    r#"
    ALTER TABLE sources ADD COLUMN columns TEXT; -- JSON array: a table's header (NULL: list or folder, see posts.cells)
    CREATE TABLE posts (
        id        INTEGER PRIMARY KEY,
        image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        source_id INTEGER REFERENCES sources(id) ON DELETE CASCADE, -- NULL: migrated from images.metadata
        line      INTEGER,           -- the line the row starts on in the source file (1-based)
        post_key  TEXT NOT NULL,     -- identity: id:<the id column> | row:<blake3 of file name, cells, ordinal> | first:<image id>
        times     INTEGER NOT NULL DEFAULT 1, -- occurrences this post stands for (a Media-frequency row's `frequency`)
        cells     TEXT NOT NULL      -- JSON: array aligned with sources.columns, or object column -> value (migrated)
    );
    CREATE UNIQUE INDEX posts_image_key ON posts(image_id, post_key);
    INSERT INTO posts(image_id, source_id, line, post_key, times, cells)
        SELECT id, NULL, NULL,
               CASE WHEN json_valid(metadata) AND json_type(metadata, '$.id') = 'text'
                         AND trim(json_extract(metadata, '$.id')) <> ''
                    THEN 'id:' || trim(json_extract(metadata, '$.id'))
                    ELSE 'first:' || id END,
               1, metadata
        FROM images
        WHERE metadata IS NOT NULL AND json_valid(metadata) AND json_type(metadata) = 'object';
    "#,
    // 9 -> 10: the same bytes under two URLs are one image (`fetch` merges
    // the later into the earlier, see fetch::same_content); the other URLs
    // are kept, so an input or tag file naming one still finds the image.
    r#"
    CREATE TABLE image_aliases (
        url      TEXT PRIMARY KEY,   -- normalised, as images.url
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    CREATE INDEX image_aliases_image ON image_aliases(image_id);
    "#,
    // 10 -> 11: `fetch` stores a coarse colour grid beside the perceptual
    // hash, which reads brightness only, so stacking can tell a red logo
    // from the same logo in blue (graph::duplicates::grids_agree).
    r#"
    ALTER TABLE images ADD COLUMN colour_grid BLOB; -- 4×4 cells of mean RGB over white of the 256 px thumbnail, 48 bytes
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the store to `SCHEMA_VERSION`, refusing stores from a newer tagscape.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        bail!(
            "the project was written by a newer tagscape (schema {current}, this one knows {SCHEMA_VERSION}): upgrade tagscape"
        );
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("upgrading the project store to schema {}", version + 1))?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_post_metadata_of_older_projects_becomes_posts() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            r#"INSERT INTO images(id, url, frequency, metadata) VALUES
                (1, 'https://e.com/a.jpg', 3, '{"id":"1106","from_user_name":"ann"}'),
                (2, 'https://e.com/b.jpg', 1, '{"caption":"x"}'),
                (3, 'https://e.com/c.jpg', 1, NULL),
                (4, 'https://e.com/d.jpg', 1, 'not json');"#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT image_id, source_id, post_key, times, cells FROM posts ORDER BY image_id",
            )
            .unwrap();
        let posts: Vec<(i64, Option<i64>, String, i64, String)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            posts,
            [
                (
                    1,
                    None,
                    "id:1106".into(),
                    1,
                    r#"{"id":"1106","from_user_name":"ann"}"#.into()
                ),
                (2, None, "first:2".into(), 1, r#"{"caption":"x"}"#.into()),
            ]
        );
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
