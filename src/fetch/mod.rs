//! `fetch`: download every pending image, check what it really is, store the
//! original by content hash and build its thumbnail pyramid.
//!
//! Network work runs on a small tokio runtime (`download`), CPU work (hash,
//! decode, resize, encode) on rayon, and one writer thread commits each
//! finished image to the store in its own small transaction, so a kill at any
//! moment loses nothing already done and the next run resumes.

pub mod address;
pub mod download;
pub mod external;
pub mod jpeg;
pub mod phash;
pub mod same_content;
pub mod sniff;
pub mod store;
pub mod svg;
pub mod thumbnail;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::Connection;
use tokio::task::JoinSet;
use url::Url;

use crate::project::{Project, SQL_NOW};
use download::{Downloader, HttpSettings};
use thumbnail::DecodeLimits;

/// Failure reasons that a plain re-run tries again; the others (404, not an
/// image, ...) only with `--retry-failed`.
pub const TRANSIENT_REASONS: &[&str] = &["timeout", "connection", "http_5xx", "rate_limited"];

/// Memory all decodes at once may take, unless `--decode-memory` says otherwise.
pub const DEFAULT_DECODE_BUDGET: u64 = 1024 * 1024 * 1024;

/// Why one image could not be fetched: a short code stored in
/// `images.failure` and a human-readable detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: &'static str,
    pub detail: String,
    pub http_status: Option<u16>,
}

impl Failure {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            reason,
            detail: detail.into(),
            http_status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Failure {
        self.http_status = Some(status);
        self
    }
}

/// Everything `fetch` can be told.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Downloads in flight at once.
    pub concurrency: usize,
    /// Downloads in flight to one host (host:port).
    pub per_host: usize,
    /// Per request: the whole transfer, and the longest silence while reading.
    pub timeout: Duration,
    /// Largest original accepted, checked on Content-Length and while reading.
    pub max_bytes: u64,
    /// Retries on connection errors, 408, 429 and 5xx.
    pub retries: u32,
    /// First pause before a retry; doubled each time.
    pub retry_base: Duration,
    /// Longest `Retry-After` waited for.
    pub max_retry_after: Duration,
    /// Retry every earlier failure, not only the transient ones.
    pub retry_failed: bool,
    pub limits: DecodeLimits,
    /// Bytes all decodes in flight may take together (a semaphore by bytes),
    /// so peak memory does not grow with the number of cores.
    pub decode_budget: u64,
    /// Hosts fetched even when they are link-local or cloud-metadata addresses.
    pub allow_hosts: Vec<String>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            concurrency: 16,
            per_host: 4,
            timeout: Duration::from_secs(30),
            max_bytes: 50 * 1000 * 1000,
            retries: 3,
            retry_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            retry_failed: false,
            limits: DecodeLimits::default(),
            decode_budget: DEFAULT_DECODE_BUDGET,
            allow_hosts: Vec::new(),
        }
    }
}

impl FetchOptions {
    fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            timeout: self.timeout,
            connect_timeout: self.timeout.min(Duration::from_secs(10)),
            read_timeout: self.timeout,
            max_bytes: self.max_bytes,
            retries: self.retries,
            retry_base: self.retry_base,
            max_retry_after: self.max_retry_after,
            allow_hosts: self.allow_hosts.clone(),
        }
    }
}

/// What a `fetch` run did; `Display` is the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Images this run tried.
    pub attempted: u64,
    pub fetched: u64,
    /// Images done before this run (never downloaded again).
    pub already_done: u64,
    /// Failures of this run by reason.
    pub failed: BTreeMap<String, u64>,
    /// Earlier permanent failures left alone (see `--retry-failed`).
    pub not_retried: u64,
    /// Images merged into another with the same bytes (see `same_content`).
    pub merged: u64,
}

impl FetchReport {
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

impl fmt::Display for FetchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attempted == 0 {
            write!(f, "nothing to fetch ({} already done)", self.already_done)?;
        } else {
            write!(
                f,
                "fetched {} of {} images ({} already done)",
                self.fetched, self.attempted, self.already_done
            )?;
        }
        if self.failed_total() > 0 {
            let mut reasons: Vec<_> = self.failed.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            write!(
                f,
                "; failed {}: {}",
                self.failed_total(),
                reasons.join(", ")
            )?;
        }
        if self.not_retried > 0 {
            write!(
                f,
                "; {} earlier failures kept (retry them with --retry-failed)",
                self.not_retried
            )?;
        }
        if self.merged > 0 {
            write!(
                f,
                "; {} had the same bytes as another image under another URL and {} merged into it (posts, tags and frequency together, the URL kept)",
                crate::collect::plural(self.merged, "image", "images"),
                if self.merged == 1 { "was" } else { "were" }
            )?;
        }
        Ok(())
    }
}

/// A successfully processed original, as recorded in `images`.
#[derive(Clone, Debug)]
pub struct Processed {
    pub content_hash: String,
    /// The original, relative to the project directory.
    pub file: String,
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    pub mean_color: u32,
    pub byte_size: u64,
    pub thumb_ext: &'static str,
    /// Perceptual hash of the 256 px thumbnail (`phash`).
    pub phash: Option<u64>,
    /// Colour grid of the 256 px thumbnail (`phash::signature`).
    pub colour_grid: Option<phash::ColourGrid>,
}

/// The CPU half of fetching one image: hash, sniff, decode, build the pyramid
/// and store original and thumbnails under `project_dir`. `Ok(Err(_))` is the
/// image's failure; `Err(_)` is a problem with the store (disk full, ...) that
/// stops the run.
pub fn process_body(
    project_dir: &Path,
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<Result<Processed, Failure>> {
    let Some(format) = sniff::sniff(bytes) else {
        return Ok(Err(Failure::new("not_an_image", not_an_image(bytes))));
    };
    let thumbs = match thumbnail::make_thumbnails(bytes, format, limits) {
        Ok(thumbs) => thumbs,
        Err(failure) => return Ok(Err(failure)),
    };
    let hash = blake3::hash(bytes).to_hex().to_string();
    let file = store::original_path(&hash, format.extension());
    store::write_once(project_dir, &file, bytes)?;
    for (level, _, _, encoded) in &thumbs.levels {
        store::write_once(
            project_dir,
            &store::thumb_path(*level, &hash, thumbs.extension),
            encoded,
        )?;
    }
    Ok(Ok(Processed {
        content_hash: hash,
        file,
        format: format.name(),
        width: thumbs.width,
        height: thumbs.height,
        mean_color: thumbs.mean_color,
        byte_size: bytes.len() as u64,
        thumb_ext: thumbs.extension,
        phash: thumbs.phash,
        colour_grid: thumbs.colour_grid,
    }))
}

/// What a body that is no image looks like, without quoting it: a list can
/// name any local file, and its contents must not end up in the store.
fn not_an_image(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the body is empty".into();
    }
    let head = &bytes[..bytes.len().min(512)];
    let looks = if head.trim_ascii_start().first() == Some(&b'<') {
        "an HTML or XML page"
    } else if std::str::from_utf8(head).is_ok_and(|t| !t.contains('\0')) {
        "text"
    } else {
        "binary data of an unknown kind"
    };
    format!(
        "the content is not an image ({} bytes of what looks like {looks})",
        bytes.len()
    )
}

/// One image's result, on its way to the writer.
struct Outcome {
    id: i64,
    attempts: u32,
    http_status: Option<u16>,
    result: Result<Processed, Failure>,
}

/// `fetch_images`, then images with the same bytes merged into one (see
/// `same_content`): what `tagscape fetch` and `run` do. Any run merges, so a
/// project fetched before merging existed is merged by its next `fetch`.
pub fn fetch_and_merge(project: &mut Project, opts: &FetchOptions) -> Result<FetchReport> {
    let mut report = fetch_images(project, opts)?;
    report.merged = same_content::merge_same_content(project.conn_mut())?;
    Ok(report)
}

/// Fetches the project's pending images (and transient failures; every
/// failure with `retry_failed`). Synchronous: it runs its own tokio runtime,
/// so call it from plain threads, not from inside an async task.
pub fn fetch_images(project: &mut Project, opts: &FetchOptions) -> Result<FetchReport> {
    let removed = store::remove_stale_temp_files(project.dir())?;
    if removed > 0 {
        tracing::info!("removed {removed} partial files left by an interrupted run");
    }
    let selection = select_jobs(project.conn(), opts.retry_failed)?;
    let mut report = FetchReport {
        attempted: selection.jobs.len() as u64,
        already_done: selection.already_done,
        not_retried: selection.not_retried,
        ..FetchReport::default()
    };
    if selection.jobs.is_empty() {
        return Ok(report);
    }
    let bar = crate::ui::progress(report.attempted, "fetch");
    let dir = project.dir().to_path_buf();
    let conn = project.conn_mut();
    let (tx, rx) = mpsc::channel::<Outcome>();
    let (downloaded, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_outcomes(conn, rx, &bar));
        let downloaded = run_downloads(selection.jobs, dir, opts, tx);
        (downloaded, writer.join())
    });
    bar.finish_and_clear();
    let (fetched, failed) = match written {
        Ok(result) => result?,
        Err(_) => anyhow::bail!("the store writer stopped unexpectedly: run fetch again"),
    };
    downloaded?;
    report.fetched = fetched;
    report.failed = failed;
    Ok(report)
}

struct Selection {
    jobs: Vec<(i64, String)>,
    already_done: u64,
    not_retried: u64,
}

fn select_jobs(conn: &Connection, retry_failed: bool) -> Result<Selection> {
    let transient = TRANSIENT_REASONS
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(",");
    let retry = format!(
        "status = 'pending' OR (status = 'failed' AND ({retry_failed} OR failure IN ({transient})))"
    );
    let mut stmt = conn.prepare(&format!(
        "SELECT id, url FROM images WHERE {retry} ORDER BY id"
    ))?;
    let jobs = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String)>>>()
        .context("reading the images to fetch from the project store")?;
    let already_done: i64 = conn.query_row(
        "SELECT count(*) FROM images WHERE status = 'done'",
        [],
        |r| r.get(0),
    )?;
    let not_retried: i64 = conn.query_row(
        &format!("SELECT count(*) FROM images WHERE status = 'failed' AND NOT ({retry})"),
        [],
        |r| r.get(0),
    )?;
    Ok(Selection {
        jobs,
        already_done: already_done as u64,
        not_retried: not_retried as u64,
    })
}

/// The writer thread: commits outcomes as they come, batching only what is
/// already queued, so every finished image is in the store within moments.
fn write_outcomes(
    conn: &mut Connection,
    rx: mpsc::Receiver<Outcome>,
    bar: &indicatif::ProgressBar,
) -> Result<(u64, BTreeMap<String, u64>)> {
    let mut fetched = 0;
    let mut failed = BTreeMap::new();
    while let Ok(first) = rx.recv() {
        let batch: Vec<Outcome> = std::iter::once(first)
            .chain(rx.try_iter().take(255))
            .collect();
        let tx = conn.transaction()?;
        for outcome in &batch {
            record(&tx, outcome).context("recording a fetched image in the project store")?;
        }
        tx.commit()
            .context("committing fetched images to the project store")?;
        for outcome in batch {
            match outcome.result {
                Ok(_) => fetched += 1,
                Err(failure) => *failed.entry(failure.reason.to_string()).or_insert(0) += 1,
            }
            bar.inc(1);
        }
    }
    Ok((fetched, failed))
}

fn record(conn: &Connection, outcome: &Outcome) -> rusqlite::Result<()> {
    match &outcome.result {
        Ok(p) => {
            conn.execute(
                &format!(
                    "UPDATE images SET status = 'done', failure = NULL, failure_detail = NULL,
                 http_status = ?1, attempts = attempts + ?2, content_hash = ?3, file = ?4,
                 format = ?5, width = ?6, height = ?7, mean_color = ?8, byte_size = ?9,
                 thumb_ext = ?10, fetched_at = {SQL_NOW} WHERE id = ?11"
                ),
                rusqlite::params![
                    outcome.http_status,
                    outcome.attempts,
                    p.content_hash,
                    p.file,
                    p.format,
                    p.width,
                    p.height,
                    p.mean_color,
                    p.byte_size as i64,
                    p.thumb_ext,
                    outcome.id
                ],
            )? + conn.execute(
                // The perceptual hash and colour grid, for stacking near-duplicates (graph::duplicates).
                "UPDATE images SET phash = ?1, colour_grid = ?2 WHERE id = ?3",
                rusqlite::params![
                    p.phash.map(phash::to_column),
                    p.colour_grid.as_ref().map(|g| &g[..]),
                    outcome.id
                ],
            )?
        }
        Err(f) => conn.execute(
            &format!(
                "UPDATE images SET status = 'failed', failure = ?1, failure_detail = ?2,
                 http_status = ?3, attempts = attempts + ?4, fetched_at = {SQL_NOW} WHERE id = ?5"
            ),
            rusqlite::params![
                f.reason,
                f.detail,
                f.http_status.or(outcome.http_status),
                outcome.attempts,
                outcome.id
            ],
        )?,
    };
    Ok(())
}

/// Drives the downloads: at most `2 × concurrency` images in hand at once
/// (bounding memory), `concurrency` transfers, `per_host` per host.
fn run_downloads(
    jobs: Vec<(i64, String)>,
    dir: PathBuf,
    opts: &FetchOptions,
    tx: mpsc::Sender<Outcome>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the download runtime")?;
    let concurrency = opts.concurrency.max(1);
    let downloader = Arc::new(Downloader::new(
        opts.http_settings(),
        concurrency,
        opts.per_host,
    )?);
    let limits = opts.limits;
    let dir = Arc::new(dir);
    let budget = Arc::new(DecodeBudget::new(opts.decode_budget));
    runtime.block_on(async move {
        let window = Arc::new(tokio::sync::Semaphore::new(concurrency * 2));
        let mut tasks = JoinSet::new();
        let mut fatal: Option<anyhow::Error> = None;
        for (id, url) in jobs {
            let permit = window.clone().acquire_owned().await?;
            while let Some(done) = tasks.try_join_next() {
                note_task_end(done, &mut fatal);
            }
            if fatal.is_some() {
                break;
            }
            let (downloader, dir, tx, budget) =
                (downloader.clone(), dir.clone(), tx.clone(), budget.clone());
            tasks.spawn(async move {
                let _permit = permit;
                let outcome = fetch_one(id, &url, &downloader, &dir, limits, &budget).await?;
                // The writer only hangs up after an error of its own, which
                // `fetch_images` reports.
                let _ = tx.send(outcome);
                Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            note_task_end(done, &mut fatal);
        }
        fatal.map_or(Ok(()), Err)
    })
}

fn note_task_end(
    done: Result<Result<()>, tokio::task::JoinError>,
    fatal: &mut Option<anyhow::Error>,
) {
    let error = match done {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(e) => anyhow::anyhow!("a download task failed: {e}"),
    };
    fatal.get_or_insert(error);
}

/// The memory budget decodes share, in KiB permits. Taken in the async task
/// before the decode is handed to rayon, so no rayon thread ever waits on it.
struct DecodeBudget {
    kib: tokio::sync::Semaphore,
    total_kib: u32,
}

impl DecodeBudget {
    fn new(bytes: u64) -> DecodeBudget {
        let total_kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .max(1);
        DecodeBudget {
            kib: tokio::sync::Semaphore::new(total_kib as usize),
            total_kib,
        }
    }

    /// Waits until `bytes` fit (at most the whole budget: an image needing
    /// more is refused by the decode limits, after taking all of it).
    async fn reserve(&self, bytes: u64) -> Result<tokio::sync::SemaphorePermit<'_>> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_kib);
        Ok(self.kib.acquire_many(kib).await?)
    }
}

async fn fetch_one(
    id: i64,
    url: &str,
    downloader: &Downloader,
    dir: &Arc<PathBuf>,
    limits: DecodeLimits,
    budget: &DecodeBudget,
) -> Result<Outcome> {
    let outcome = |attempts, http_status, result| Outcome {
        id,
        attempts,
        http_status,
        result,
    };
    let url = match Url::parse(url) {
        Ok(url) => url,
        Err(e) => {
            return Ok(outcome(
                0,
                None,
                Err(Failure::new(
                    "bad_url",
                    format!("{url:?} is not a URL: {e}"),
                )),
            ));
        }
    };
    let (body, attempts) = downloader.get(&url).await;
    let body = match body {
        Ok(body) => body,
        Err(failure) => return Ok(outcome(attempts, failure.http_status, Err(failure))),
    };
    let http_status = body.http_status;
    let needed = sniff::sniff(&body.bytes).map_or(0, |f| thumbnail::decode_memory(&body.bytes, f));
    let reserved = budget.reserve(needed).await?;
    let (send, receive) = tokio::sync::oneshot::channel();
    let dir = dir.clone();
    rayon::spawn(move || {
        let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process_body(&dir, &body.bytes, &limits)
        }));
        let _ = send.send(processed);
    });
    let received = receive.await;
    drop(reserved);
    let result = match received {
        Ok(Ok(processed)) => processed?,
        // A decoder bug on hostile input is this image's failure, not the run's.
        Ok(Err(_)) | Err(_) => Err(Failure::new(
            "decode_error",
            "the decoder crashed on this image",
        )),
    };
    Ok(outcome(attempts, http_status, result))
}
