//! Writing one input's entries into the project: normalise, deduplicate,
//! keep every occurrence as a post, count occurrences, and tally what was
//! skipped and why. One `Sink` lives in one transaction, so an input is added
//! completely or not at all.
//!
//! An image's frequency counts its posts: a post already in the project
//! (the same `post_key` for the same image) is kept once and never counted
//! again, so re-adding a grown export only adds what is new in it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};

use super::local::{LocalPolicy, Verdict};
use super::normalize::normalize_entry;
use super::tcat::MediaKind;
use crate::project::SQL_NOW;

/// What one input contributed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// URL occurrences read (after splitting multi-URL cells), skipped ones excluded.
    pub occurrences: u64,
    /// Distinct images in this input.
    pub distinct: u64,
    /// Of those, not in the project before.
    pub new: u64,
    /// Of those, already in the project (their frequency grows, except for folders).
    pub existing: u64,
    /// Occurrences whose post was already in the project (an earlier version
    /// of the same export): kept once, not counted again.
    pub known_posts: u64,
    /// Entries not taken, by reason ("empty", "not a URL", "data: URL").
    pub skipped: BTreeMap<String, u64>,
    /// Distinct images of this input flagged as video / GIF stills.
    pub video_thumbs: u64,
    pub gif_thumbs: u64,
    /// Distinct local files named by absolute path or `file://` URL outside
    /// the list's folder (see `local`).
    pub local_outside: u64,
    /// Entries (occurrences) that are bare file names found in the image
    /// folder (`--images`, or a folder beside the list such as `images/`).
    pub in_image_folder: u64,
    /// Entries naming a file found neither beside the list nor in its image folder.
    pub missing_files: u64,
}

impl Counts {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// The folder where a list's bare file names live when they are not beside
/// it (4CAT's Telegram and PixPlot CSVs name images in a folder of their own).
#[derive(Clone, Debug)]
pub struct ImageFolder {
    pub dir: PathBuf,
    /// Given with `--images`: tried first. Otherwise a folder found beside
    /// the list, tried when the list's own folder lacks the file.
    pub explicit: bool,
}

/// One row of an input as a post: where it is, who it is, what it held.
pub struct PostRow {
    /// The line the row starts on (1-based).
    pub line: u64,
    /// Its identity (see `posts.post_key`).
    pub key: String,
    /// The row's cells as a JSON array, aligned with the source's columns.
    pub cells: String,
}

/// An image met in this input: its id and whether this input created it.
#[derive(Clone, Copy)]
struct Seen {
    id: i64,
    created: bool,
}

pub struct Sink<'t> {
    /// The input's transaction (a `Transaction` derefs to its connection).
    tx: &'t Connection,
    base_dir: PathBuf,
    /// Folders list files, not occurrences: adding one never raises the
    /// frequency of an image that was already in the project.
    count_existing: bool,
    /// The rule for local files; `None` for a folder, whose walk judged them.
    local: Option<LocalPolicy>,
    source_id: i64,
    /// Where bare file names are looked for besides `base_dir` (see `ImageFolder`).
    image_folder: Option<ImageFolder>,
    seen: HashMap<String, Seen>,
    /// Frequency added per image id, written once at `finish`.
    bumps: HashMap<i64, u64>,
    pub counts: Counts,
}

impl<'t> Sink<'t> {
    /// Starts an input: records it in `sources` (its counts are filled in
    /// by `finish`).
    pub fn new(
        tx: &'t Connection,
        base_dir: &Path,
        count_existing: bool,
        local: Option<LocalPolicy>,
        input: &str,
        content_hash: &str,
    ) -> Result<Sink<'t>> {
        tx.execute(
            &format!(
                "INSERT INTO sources(path, url_column, rows, added_at, content_hash)
                 VALUES (?1, NULL, 0, {SQL_NOW}, ?2)"
            ),
            (input, content_hash),
        )?;
        Ok(Sink {
            tx,
            base_dir: base_dir.to_path_buf(),
            count_existing,
            local,
            source_id: tx.last_insert_rowid(),
            image_folder: None,
            seen: HashMap::new(),
            bumps: HashMap::new(),
            counts: Counts::default(),
        })
    }

    /// Bare file names are also looked for in `folder`.
    pub fn set_image_folder(&mut self, folder: Option<ImageFolder>) {
        self.image_folder = folder;
    }

    /// The folder a relative entry `raw` is resolved in: the list's own, or
    /// the image folder (explicit: whenever the file is there; found beside
    /// the list: when the list's folder lacks it). Counts bare names found
    /// nowhere.
    fn folder_for(&mut self, raw: &str) -> PathBuf {
        let entry = raw.trim();
        let relative = !entry.is_empty()
            && matches!(
                url::Url::parse(entry),
                Err(url::ParseError::RelativeUrlWithoutBase)
            )
            && !entry.starts_with(['/', '\\'])
            && super::normalize::has_image_extension(entry);
        if !relative {
            return self.base_dir.clone();
        }
        let beside = self.base_dir.join(entry).is_file();
        let Some(folder) = self.image_folder.as_ref() else {
            if !beside {
                self.counts.missing_files += 1;
            }
            return self.base_dir.clone();
        };
        let there = folder.dir.join(entry).is_file();
        if there && (folder.explicit || !beside) {
            self.counts.in_image_folder += 1;
            folder.dir.clone()
        } else {
            if !there && !beside {
                self.counts.missing_files += 1;
            }
            self.base_dir.clone()
        }
    }

    /// Records a rejected entry without looking at it further.
    pub fn skip(&mut self, reason: String) {
        *self.counts.skipped.entry(reason).or_default() += 1;
    }

    /// Adds one entry of `post` occurring `times` times. `kind` decides the
    /// media kind from the normalised URL; `metadata` (the first post's
    /// other columns, for `images.metadata`) is built only when the image is new.
    pub fn entry(
        &mut self,
        raw: &str,
        times: u64,
        post: &PostRow,
        kind: impl FnOnce(&str) -> MediaKind,
        metadata: impl FnOnce() -> Option<serde_json::Value>,
    ) -> Result<()> {
        let dir = self.folder_for(raw);
        let url = match normalize_entry(raw, &dir) {
            Ok(url) => url,
            Err(rejected) => {
                self.skip(rejected.reason());
                return Ok(());
            }
        };
        if let Some(policy) = &self.local
            && url.starts_with("file:")
        {
            match policy.judge(raw, &url) {
                Verdict::Inside => {}
                Verdict::Outside if !self.seen.contains_key(&url) => self.counts.local_outside += 1,
                Verdict::Outside => {}
                Verdict::Refused(reason) => {
                    self.skip(reason.into());
                    return Ok(());
                }
            }
        }
        self.counts.occurrences += times;
        let image = match self.seen.get(&url) {
            Some(seen) => *seen,
            None => {
                let seen = self.first_sight(&url, kind, metadata)?;
                self.seen.insert(url, seen);
                seen
            }
        };
        let stored = self
            .tx
            .prepare_cached(
                "INSERT INTO posts(image_id, source_id, line, post_key, times, cells)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute((
                image.id,
                self.source_id,
                post.line as i64,
                &post.key,
                times as i64,
                &post.cells,
            ))?;
        if stored == 0 {
            self.counts.known_posts += times;
        } else if image.created || self.count_existing {
            *self.bumps.entry(image.id).or_default() += times;
        }
        Ok(())
    }

    /// The first time this input names `url`: finds or creates its image.
    fn first_sight(
        &mut self,
        url: &str,
        kind: impl FnOnce(&str) -> MediaKind,
        metadata: impl FnOnce() -> Option<serde_json::Value>,
    ) -> Result<Seen> {
        // An alias: a URL whose bytes turned out to be another image's.
        let existed: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT id FROM images WHERE url = ?1
                 UNION ALL SELECT image_id FROM image_aliases WHERE url = ?1 LIMIT 1",
            )?
            .query_row([url], |r| r.get(0))
            .optional()?;
        self.counts.distinct += 1;
        let kind = kind(url);
        match kind {
            MediaKind::VideoThumb => self.counts.video_thumbs += 1,
            MediaKind::GifThumb => self.counts.gif_thumbs += 1,
            MediaKind::Photo => {}
        }
        if let Some(id) = existed {
            self.counts.existing += 1;
            return Ok(Seen { id, created: false });
        }
        self.counts.new += 1;
        let metadata = metadata().map(|m| m.to_string());
        self.tx
            .prepare_cached(
                "INSERT INTO images(url, media_kind, frequency, metadata) VALUES (?1, ?2, 0, ?3)",
            )?
            .execute((url, kind.as_str(), metadata))?;
        Ok(Seen {
            id: self.tx.last_insert_rowid(),
            created: true,
        })
    }

    /// Writes the frequencies and the source's description: the column the
    /// URLs came from (tables) and the columns its posts' cells follow.
    pub fn finish(self, url_column: Option<&str>, columns: &[String]) -> Result<Counts> {
        let mut bump = self
            .tx
            .prepare_cached("UPDATE images SET frequency = frequency + ?1 WHERE id = ?2")?;
        for (id, times) in &self.bumps {
            bump.execute((*times as i64, id))?;
        }
        self.tx.execute(
            "UPDATE sources SET url_column = ?1, rows = ?2, columns = ?3 WHERE id = ?4",
            (
                url_column,
                self.counts.occurrences as i64,
                serde_json::to_string(columns)?,
                self.source_id,
            ),
        )?;
        Ok(self.counts)
    }
}

/// Gives each post of one input its identity: its `id` column where the
/// export has one (TCAT, 4CAT), else the file's name with the row's content
/// and how many identical rows came before it in the file, so identical rows
/// stay distinct posts but the same row of a re-added, grown export is
/// recognised.
pub struct PostKeys {
    file_name: String,
    repeats: HashMap<[u8; 16], u32>,
}

impl PostKeys {
    pub fn new(input: &Path) -> PostKeys {
        let file_name = std::path::absolute(input)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| input.display().to_string());
        PostKeys {
            file_name,
            repeats: HashMap::new(),
        }
    }

    /// The key of a row whose `id` cell is `id` (when the table has one) and
    /// whose cells are `cells` (the JSON array).
    pub fn key(&mut self, id: Option<&str>, cells: &str) -> String {
        if let Some(id) = id.map(str::trim).filter(|id| !id.is_empty()) {
            return format!("id:{id}");
        }
        let mut content = blake3::Hasher::new();
        content.update(self.file_name.as_bytes());
        content.update(b"\0");
        content.update(cells.as_bytes());
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&content.finalize().as_bytes()[..16]);
        let ordinal = self.repeats.entry(digest).or_default();
        let n = *ordinal;
        *ordinal += 1;
        let mut keyed = blake3::Hasher::new();
        keyed.update(&digest);
        keyed.update(&n.to_le_bytes());
        format!("row:{}", &keyed.finalize().to_hex()[..32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_keys_prefer_ids_and_keep_identical_rows_apart() {
        let mut keys = PostKeys::new(Path::new("/data/export.csv"));
        assert_eq!(keys.key(Some(" 42 "), "[]"), "id:42");
        let a = keys.key(Some(""), r#"["x"]"#);
        let b = keys.key(None, r#"["x"]"#);
        assert_ne!(a, b, "two identical rows are two posts");
        let mut again = PostKeys::new(Path::new("/elsewhere/export.csv"));
        assert_eq!(
            again.key(None, r#"["x"]"#),
            a,
            "same file name, same first row"
        );
        assert_eq!(again.key(None, r#"["x"]"#), b);
        let mut other = PostKeys::new(Path::new("/data/other.csv"));
        assert_ne!(other.key(None, r#"["x"]"#), a);
    }
}
