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
