//! Writing one input's entries into the project: normalise, deduplicate,
//! count occurrences, and tally what was skipped and why. One `Sink` lives in
//! one transaction, so an input is added completely or not at all.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};

use super::local::{LocalPolicy, Verdict};
use super::normalize::normalize_entry;
use super::tcat::MediaKind;

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
    /// Entries not taken, by reason ("empty", "not a URL", "data: URL").
    pub skipped: BTreeMap<String, u64>,
    /// Distinct images of this input flagged as video / GIF stills.
    pub video_thumbs: u64,
    pub gif_thumbs: u64,
    /// Distinct local files named by absolute path or `file://` URL outside
    /// the list's folder (see `local`).
    pub local_outside: u64,
}

impl Counts {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

pub struct Sink<'t> {
    /// The input's transaction (a `Transaction` derefs to its connection).
    tx: &'t Connection,
    base_dir: PathBuf,
    /// Folders list files, not occurrences: re-adding one never raises frequencies.
    count_existing: bool,
    /// The rule for local files; `None` for a folder, whose walk judged them.
    local: Option<LocalPolicy>,
    seen: HashSet<String>,
    pub counts: Counts,
}

impl<'t> Sink<'t> {
    pub fn new(
        tx: &'t Connection,
        base_dir: &Path,
        count_existing: bool,
        local: Option<LocalPolicy>,
    ) -> Sink<'t> {
        Sink {
            tx,
            base_dir: base_dir.to_path_buf(),
            count_existing,
            local,
            seen: HashSet::new(),
            counts: Counts::default(),
        }
    }

    /// Records a rejected entry without looking at it further.
    pub fn skip(&mut self, reason: String) {
        *self.counts.skipped.entry(reason).or_default() += 1;
    }

    /// Adds one entry occurring `times` times. `kind` decides the media kind
    /// from the normalised URL; `metadata` is built only when the image is new.
    pub fn entry(
        &mut self,
        raw: &str,
        times: u64,
        kind: impl FnOnce(&str) -> MediaKind,
        metadata: impl FnOnce() -> Option<serde_json::Value>,
    ) -> Result<()> {
        let url = match normalize_entry(raw, &self.base_dir) {
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
                Verdict::Outside if !self.seen.contains(&url) => self.counts.local_outside += 1,
                Verdict::Outside => {}
                Verdict::Refused(reason) => {
                    self.skip(reason.into());
                    return Ok(());
                }
            }
        }
        self.counts.occurrences += times;
        if self.seen.contains(&url) {
            self.bump(&url, times)?;
            return Ok(());
        }
        let existed: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM images WHERE url = ?1")?
            .query_row([&url], |r| r.get(0))
            .optional()?;
        self.counts.distinct += 1;
        let kind = kind(&url);
        match kind {
            MediaKind::VideoThumb => self.counts.video_thumbs += 1,
            MediaKind::GifThumb => self.counts.gif_thumbs += 1,
            MediaKind::Photo => {}
        }
        if existed.is_some() {
            self.counts.existing += 1;
            if self.count_existing {
                self.bump(&url, times)?;
            }
        } else {
            self.counts.new += 1;
            let metadata = metadata().map(|m| m.to_string());
            self.tx
                .prepare_cached(
                    "INSERT INTO images(url, media_kind, frequency, metadata) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute((&url, kind.as_str(), times as i64, metadata))?;
        }
        self.seen.insert(url);
        Ok(())
    }

    fn bump(&self, url: &str, times: u64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE images SET frequency = frequency + ?1 WHERE url = ?2")?
            .execute((times as i64, url))?;
        Ok(())
    }
}
