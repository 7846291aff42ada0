//! The `Tagger` trait every tagging backend implements, and the runner they
//! share: which images to send, batching, rate limiting, retries, recording
//! tags, failures and raw answers.
//!
//! The runner never pays twice for an image: an image tagged by the same
//! backend and model (a row in `tag_responses`) is skipped unless `--force`,
//! and the results of each answer are committed in one transaction as soon as
//! it arrives, so a run killed at any moment and started again sends only
//! what had no answer yet.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rusqlite::params;

use super::send::{ImageRef, Payload, PrepareError, SendMode, prepare};
use crate::project::{Project, SQL_NOW};

/// What a tag says about an image. Labels are what the graph uses by
/// default; the other kinds can be included or left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    Label,
    /// Google's web entities (what the web says the image shows).
    WebEntity,
    /// Words of the text in the image (Google's TEXT_DETECTION).
    Text,
    /// Google SafeSearch categories, with the likelihood as confidence.
    SafeSearch,
}

impl TagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Label => "label",
            TagKind::WebEntity => "web_entity",
            TagKind::Text => "text",
            TagKind::SafeSearch => "safe_search",
        }
    }
}

/// One tag a backend gave one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub name: String,
    /// 0–1; `None` when the backend gives no comparable score.
    pub confidence: Option<f64>,
    /// Google labels: how relevant the label is to the whole image.
    pub topicality: Option<f64>,
    pub kind: TagKind,
}

impl Tag {
    pub fn label(name: impl Into<String>, confidence: Option<f64>) -> Tag {
        Tag {
            name: name.into(),
            confidence,
            topicality: None,
            kind: TagKind::Label,
        }
    }
}

/// An image ready to go: its id and what is sent.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub image_id: i64,
    pub payload: Payload,
}

/// What a backend says about one image of a request.
#[derive(Clone, Debug)]
pub enum ImageOutcome {
    /// Done: its tags (possibly none) and the vendor's answer for it, kept
    /// for audit.
    Tagged {
        tags: Vec<Tag>,
        response: serde_json::Value,
        model_version: Option<String>,
    },
    /// The vendor could not tag it. `transient` failures are tried again by
    /// the next run; the others only with `--retry-failed`.
    Failed {
        code: String,
        message: String,
        transient: bool,
    },
    /// The vendor asked for this image to be sent again (busy, throttled).
    Retry { code: String, message: String },
}

/// Why a whole request got no per-image answer.
#[derive(Debug)]
pub enum CallError {
    /// Throttled, overloaded, timed out, broken answer: send it again later
    /// (after `after` when the vendor said so).
    Retry {
        code: String,
        message: String,
        after: Option<Duration>,
    },
    /// The vendor refused the request for a reason retrying will not fix;
    /// every image in it fails with this code.
    Rejected { code: String, message: String },
    /// Nothing will work (bad key, unknown model): stop the run.
    Fatal(anyhow::Error),
}

/// What the runner needs to know about a backend before sending anything
/// (also what `--dry-run` reports on, so it needs no key).
#[derive(Clone, Debug)]
pub struct TaggerInfo {
    /// `clarifai`, `google`, `openai`, `clip`.
    pub backend: &'static str,
    /// What results are filed under: images tagged with the same backend and
    /// model key are skipped. Includes the version and anything else that
    /// changes the answer.
    pub model: String,
    /// Images per request, at most.
    pub max_batch: usize,
    /// Request body size limit, when the vendor has one.
    pub max_request_bytes: Option<u64>,
    /// Whether the backend can download public URLs itself.
    pub fetches_urls: bool,
    /// The vendor's documented default rate, requests per second (`None`:
    /// no limit, e.g. a local server or model).
    pub default_rate: Option<f64>,
}

impl TaggerInfo {
    /// `tags.source` for tags of `kind`: `backend:model`, with `/kind` for
    /// kinds other than labels (the store's key is image+tag+source).
    pub fn source(&self, kind: TagKind) -> String {
        match kind {
            TagKind::Label => format!("{}:{}", self.backend, self.model),
            other => format!("{}:{}/{}", self.backend, self.model, other.as_str()),
        }
    }
}

/// A tagging backend: a cloud API or a local model. The runner calls `tag`
/// with at most `info().max_batch` images and expects one outcome per image,
/// in order. Local backends do their work inside `tag` (on a blocking
/// thread) and report `default_rate: None`.
pub trait Tagger: Send + Sync + 'static {
    fn info(&self) -> &TaggerInfo;

    fn tag(
        &self,
        images: &[Prepared],
    ) -> impl Future<Output = Result<Vec<ImageOutcome>, CallError>> + Send;

    /// Removes secrets from text that came back from the vendor before it is
    /// stored or shown.
    fn redact(&self, text: &str) -> String {
        text.to_string()
    }
}

/// How a run goes (the `tagscape tag` flags).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunOptions {
    pub send: SendMode,
    /// Longer side of the copies sent as bytes; 0 sends originals as they are.
    pub max_side: u32,
    /// Images per request (capped by the backend's limit).
    pub batch: Option<usize>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests per second; `None` uses the backend's default.
    pub rate: Option<f64>,
    /// Send at most this many requests (first attempts; retries of the same
    /// images are not counted).
    pub max_requests: Option<u64>,
    /// Tag again images already tagged with this backend and model.
    pub force: bool,
    /// Send again images whose earlier failure was not transient.
    pub retry_failed: bool,
    /// Attempts after the first for a request that got no answer.
    pub retries: u32,
    /// First wait before a retry; doubled each time (capped at 60 s) unless
    /// the vendor says how long (`Retry-After`).
    #[serde(serialize_with = "secs")]
    pub retry_wait: Duration,
    /// Longest a request may take.
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    /// Images not sent: near-duplicates stacked under another image that is
    /// (`tagscape tag --stack-duplicates`; the stacked graph gives the stack
    /// its representative's tags).
    #[serde(skip)]
    pub skip_images: Arc<std::collections::HashSet<i64>>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One image of a plan and how it goes.
#[derive(Clone, Debug)]
pub struct Planned {
    pub image: ImageRef,
    pub as_url: bool,
}

/// What a run would send: the batches, and why other images are left out.
#[derive(Debug, Default)]
pub struct Plan {
    pub batches: Vec<Vec<Planned>>,
    /// Tagged before by the same backend and model.
    pub skipped_done: u64,
    /// Failed before for a reason retrying will not fix (see --retry-failed).
    pub skipped_failed: u64,
    /// Their download failed, or they were never downloaded and have no URL
    /// to send.
    pub skipped_not_downloaded: u64,
    /// Left for a later run by --max-requests.
    pub left_for_later: u64,
    /// Near-duplicates of an image that is sent (see `RunOptions::skip_images`).
    pub skipped_duplicates: u64,
}

impl Plan {
    pub fn images(&self) -> u64 {
        self.batches.iter().map(|b| b.len() as u64).sum()
    }

    pub fn requests(&self) -> u64 {
        self.batches.len() as u64
    }
}

/// Chooses the images to send and groups them into requests.
pub fn plan(project: &Project, info: &TaggerInfo, opts: &RunOptions) -> Result<Plan> {
    let mut plan = Plan::default();
    let max_batch = opts
        .batch
        .unwrap_or(info.max_batch)
        .clamp(1, info.max_batch.max(1));
    let mut statement = project.conn().prepare(
        "SELECT i.id, i.url, i.file, i.byte_size, i.status,
                EXISTS(SELECT 1 FROM tag_responses r
                       WHERE r.image_id = i.id AND r.backend = ?1 AND r.model = ?2),
                (SELECT f.transient FROM tag_failures f
                 WHERE f.image_id = i.id AND f.backend = ?1 AND f.model = ?2)
         FROM images i ORDER BY i.id",
    )?;
    let rows = statement.query_map((info.backend, &info.model), |r| {
        Ok((
            ImageRef {
                id: r.get(0)?,
                url: r.get(1)?,
                file: r.get(2)?,
                byte_size: r.get::<_, Option<i64>>(3)?.map(|b| b.max(0) as u64),
            },
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<bool>>(6)?,
        ))
    })?;
    let mut batch: Vec<Planned> = Vec::new();
    let mut batch_bytes = 0u64;
    for row in rows {
        let (image, status, done, earlier_failure) = row?;
        if done && !opts.force {
            plan.skipped_done += 1;
            continue;
        }
        if opts.skip_images.contains(&image.id) {
            plan.skipped_duplicates += 1;
            continue;
        }
        if earlier_failure == Some(false) && !opts.retry_failed && !opts.force {
            plan.skipped_failed += 1;
            continue;
        }
        let as_url = image.goes_as_url(opts.send, info.fetches_urls);
        if status == "failed" || (!as_url && image.file.is_none()) {
            plan.skipped_not_downloaded += 1;
            continue;
        }
        let bytes = image.estimated_request_bytes(as_url);
        let too_big = info
            .max_request_bytes
            .is_some_and(|limit| batch_bytes + bytes > limit);
        if !batch.is_empty() && (batch.len() >= max_batch || too_big) {
            plan.batches.push(std::mem::take(&mut batch));
            batch_bytes = 0;
        }
        batch_bytes += bytes;
        batch.push(Planned { image, as_url });
    }
    if !batch.is_empty() {
        plan.batches.push(batch);
    }
    if let Some(max) = opts.max_requests
        && plan.batches.len() as u64 > max
    {
        let later = plan.batches.split_off(max as usize);
        plan.left_for_later = later.iter().map(|b| b.len() as u64).sum();
    }
    Ok(plan)
}

/// What a run did, for the summary line.
#[derive(Debug, Default)]
pub struct RunReport {
    pub backend: &'static str,
    pub model: String,
    pub tagged: u64,
    pub tags: u64,
    /// Failed images by code.
    pub failed: BTreeMap<String, u64>,
    pub skipped_done: u64,
    pub skipped_failed: u64,
    pub skipped_not_downloaded: u64,
    pub left_for_later: u64,
    pub skipped_duplicates: u64,
    /// HTTP requests (or local batches) sent, retries included.
    pub requests: u64,
    pub retries: u64,
}

impl RunReport {
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tag {} {}: {} tagged ({} tags)",
            self.backend, self.model, self.tagged, self.tags
        )?;
        let skipped = [
            (self.skipped_done, "already tagged"),
            (self.skipped_failed, "failed before, see --retry-failed"),
            (self.skipped_not_downloaded, "not downloaded"),
            (self.left_for_later, "left by --max-requests"),
            (
                self.skipped_duplicates,
                "near-duplicates of a stacked image",
            ),
        ];
        for (n, why) in skipped {
            if n > 0 {
                write!(f, ", {n} skipped ({why})")?;
            }
        }
        if self.failed_total() > 0 {
            let reasons: Vec<String> = self
                .failed
                .iter()
                .map(|(code, n)| format!("{code}: {n}"))
                .collect();
            write!(
                f,
                ", {} failed ({})",
                self.failed_total(),
                reasons.join(", ")
            )?;
        } else {
            write!(f, ", 0 failed")?;
        }
        write!(f, "; {} requests sent", self.requests)?;
        if self.retries > 0 {
            write!(f, " ({} retries)", self.retries)?;
        }
        Ok(())
    }
}

/// How a run ended: what it did, and the reason it stopped early, if it did
/// (the backend said nothing will work: bad key, unknown model).
pub struct RunOutcome {
    pub report: RunReport,
    pub stopped: Option<anyhow::Error>,
}

/// Sends the plan's images through `tagger`, recording everything in the
/// project as answers arrive. Errors are the store's; a backend that stops
/// the run leaves what was already answered recorded (`RunOutcome::stopped`).
pub fn run<T: Tagger>(
    project: &mut Project,
    tagger: T,
    plan: Plan,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(drive(project, Arc::new(tagger), plan, opts))
}

/// A request's images, prepared once and kept across its retries.
struct Job {
    images: Vec<Planned>,
    prepared: Option<Arc<Vec<Prepared>>>,
    /// 0 for the first attempt.
    attempt: u32,
    not_before: Option<Instant>,
}

enum Attempt {
    /// Some images could not be prepared (nothing sent for them).
    Unprepared(Vec<(i64, PrepareError)>),
    Answered(Result<Vec<ImageOutcome>, CallError>),
}

/// Shared by the requests in flight: when the vendor says "wait", everyone waits.
#[derive(Default)]
struct Pause(Mutex<Option<Instant>>);

impl Pause {
    fn until(&self, instant: Instant) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|t| t < instant) {
            *guard = Some(instant);
        }
    }

    fn current(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn drive<T: Tagger>(
    project: &mut Project,
    tagger: Arc<T>,
    plan: Plan,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let info = tagger.info().clone();
    let mut report = RunReport {
        backend: info.backend,
        model: info.model.clone(),
        skipped_done: plan.skipped_done,
        skipped_failed: plan.skipped_failed,
        skipped_not_downloaded: plan.skipped_not_downloaded,
        left_for_later: plan.left_for_later,
        skipped_duplicates: plan.skipped_duplicates,
        ..RunReport::default()
    };
    let mut recorder = Recorder::start(project, &info, opts)?;
    let limiter = rate_limiter(opts.rate.or(info.default_rate))?.map(Arc::new);
    let pause = Arc::new(Pause::default());
    let requests = Arc::new(AtomicU64::new(0));
    let progress = crate::ui::progress(plan.images(), "tag");
    let mut queue: VecDeque<Job> = plan
        .batches
        .into_iter()
        .map(|images| Job {
            images,
            prepared: None,
            attempt: 0,
            not_before: None,
        })
        .collect();
    let mut in_flight = FuturesUnordered::new();
    let concurrency = opts.concurrency.max(1);
    let outcome: Result<Option<anyhow::Error>> = loop {
        while in_flight.len() < concurrency
            && let Some(job) = queue.pop_front()
        {
            in_flight.push(attempt(
                job,
                tagger.clone(),
                limiter.clone(),
                pause.clone(),
                requests.clone(),
                recorder.project_dir.clone(),
                opts.max_side,
                opts.timeout,
            ));
        }
        let Some((job, result)) = in_flight.next().await else {
            break Ok(None);
        };
        let prepared = job.prepared.clone().unwrap_or_default();
        match result {
            Attempt::Unprepared(failures) => {
                for (image_id, e) in failures {
                    recorder.failed(image_id, e.code, &e.message, true, &mut report)?;
                    progress.inc(1);
                }
                // The rest of the batch, if any, goes on its own.
                if !prepared.is_empty() {
                    queue.push_front(job);
                }
            }
            Attempt::Answered(Ok(outcomes)) if outcomes.len() == prepared.len() => {
                let mut again = Vec::new();
                let mut resolved = Vec::new();
                for (image, outcome) in prepared.iter().zip(outcomes) {
                    match outcome {
                        ImageOutcome::Retry { code, message } => {
                            again.push((image.clone(), code, message))
                        }
                        other => resolved.push((image.image_id, other)),
                    }
                }
                progress.inc(resolved.len() as u64);
                recorder.commit(&*tagger, resolved, &mut report)?;
                if !again.is_empty() {
                    let images: Vec<Prepared> = again.iter().map(|(p, _, _)| p.clone()).collect();
                    let (code, message) = (again[0].1.clone(), again[0].2.clone());
                    let retry = Job {
                        images: Vec::new(),
                        prepared: Some(Arc::new(images)),
                        attempt: job.attempt,
                        not_before: None,
                    };
                    if let Some(job) = schedule_retry(retry, opts, None, &pause, &mut report) {
                        queue.push_back(job);
                    } else {
                        give_up(
                            &mut recorder,
                            &*tagger,
                            &again_ids(&again),
                            &code,
                            &message,
                            &mut report,
                        )?;
                        progress.inc(again.len() as u64);
                    }
                }
            }
            Attempt::Answered(Ok(outcomes)) => {
                let message = format!(
                    "the answer has {} results for {} images",
                    outcomes.len(),
                    prepared.len()
                );
                retry_or_fail(
                    job,
                    "malformed_response",
                    &message,
                    None,
                    opts,
                    &pause,
                    &mut queue,
                    &mut recorder,
                    &*tagger,
                    &mut report,
                    &progress,
                )?;
            }
            Attempt::Answered(Err(CallError::Retry {
                code,
                message,
                after,
            })) => {
                retry_or_fail(
                    job,
                    &code,
                    &message,
                    after,
                    opts,
                    &pause,
                    &mut queue,
                    &mut recorder,
                    &*tagger,
                    &mut report,
                    &progress,
                )?;
            }
            Attempt::Answered(Err(CallError::Rejected { code, message })) => {
                let ids: Vec<i64> = prepared.iter().map(|p| p.image_id).collect();
                for id in &ids {
                    recorder.failed(*id, &code, &tagger.redact(&message), false, &mut report)?;
                }
                progress.inc(ids.len() as u64);
            }
            Attempt::Answered(Err(CallError::Fatal(error))) => {
                break Ok(Some(anyhow!("{}", tagger.redact(&format!("{error:#}")))));
            }
        }
    };
    // Requests still in flight when a fatal error stops the run are dropped
    // (cancelled); their images had no answer and go in the next run.
    drop(in_flight);
    progress.finish_and_clear();
    report.requests = requests.load(Ordering::Relaxed);
    recorder.finish(&report)?;
    let stopped = outcome?;
    Ok(RunOutcome { report, stopped })
}

fn again_ids(again: &[(Prepared, String, String)]) -> Vec<i64> {
    again.iter().map(|(p, _, _)| p.image_id).collect()
}

/// Puts `job` back in line after a wait, or fails its images when it has
/// used its retries.
#[allow(clippy::too_many_arguments)]
fn retry_or_fail<T: Tagger>(
    job: Job,
    code: &str,
    message: &str,
    after: Option<Duration>,
    opts: &RunOptions,
    pause: &Pause,
    queue: &mut VecDeque<Job>,
    recorder: &mut Recorder<'_>,
    tagger: &T,
    report: &mut RunReport,
    progress: &indicatif::ProgressBar,
) -> Result<()> {
    let ids: Vec<i64> = job
        .prepared
        .as_ref()
        .map(|p| p.iter().map(|i| i.image_id).collect())
        .unwrap_or_default();
    match schedule_retry(job, opts, after, pause, report) {
        Some(job) => queue.push_back(job),
        None => {
            give_up(recorder, tagger, &ids, code, message, report)?;
            progress.inc(ids.len() as u64);
        }
    }
    Ok(())
}

fn give_up<T: Tagger>(
    recorder: &mut Recorder<'_>,
    tagger: &T,
    ids: &[i64],
    code: &str,
    message: &str,
    report: &mut RunReport,
) -> Result<()> {
    let message = tagger.redact(message);
    tracing::warn!(
        "giving up on {} images after retries: {code}: {message}",
        ids.len()
    );
    for id in ids {
        recorder.failed(*id, code, &message, true, report)?;
    }
    Ok(())
}

/// The job for the next attempt, waiting `after` (the vendor's word) or an
/// exponential backoff; `None` when the retries are used up.
fn schedule_retry(
    mut job: Job,
    opts: &RunOptions,
    after: Option<Duration>,
    pause: &Pause,
    report: &mut RunReport,
) -> Option<Job> {
    if job.attempt >= opts.retries {
        return None;
    }
    let wait = match after {
        // Honoured as said, within reason: an hour's wait is a quota, not throttling.
        Some(after) => after.min(Duration::from_secs(600)),
        None => backoff(opts.retry_wait, job.attempt, job_seed(&job)),
    };
    let at = Instant::now() + wait;
    if after.is_some() {
        pause.until(at);
    }
    job.attempt += 1;
    job.not_before = Some(at);
    report.retries += 1;
    Some(job)
}

/// `base · 2^attempt`, capped at 60 s, with up to 25 % spread so requests
/// throttled together do not come back together.
fn backoff(base: Duration, attempt: u32, seed: u64) -> Duration {
    let exponential = base.as_secs_f64() * f64::from(1u32 << attempt.min(16));
    let spread = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as f64 / 1024.0 * 0.25;
    Duration::from_secs_f64((exponential * (1.0 + spread)).min(60.0))
}

fn job_seed(job: &Job) -> u64 {
    job.prepared
        .as_ref()
        .and_then(|p| p.first())
        .map(|p| p.image_id as u64)
        .or_else(|| job.images.first().map(|p| p.image.id as u64))
        .unwrap_or(0)
}

fn rate_limiter(rate: Option<f64>) -> Result<Option<DefaultDirectRateLimiter>> {
    let Some(rate) = rate else {
        return Ok(None);
    };
    if !(rate.is_finite() && rate > 0.0) {
        return Ok(None);
    }
    // Evenly spaced, no burst: at most `rate` requests in any second.
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
        .ok_or_else(|| anyhow!("--rate {rate} is too high: give at most 1e9 requests per second"))?
        .allow_burst(NonZeroU32::MIN);
    Ok(Some(RateLimiter::direct(quota)))
}

/// One attempt at one request: waits its turn, prepares the images (once),
/// and asks the backend.
#[allow(clippy::too_many_arguments)]
async fn attempt<T: Tagger>(
    mut job: Job,
    tagger: Arc<T>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    pause: Arc<Pause>,
    requests: Arc<AtomicU64>,
    project_dir: PathBuf,
    max_side: u32,
    timeout: Duration,
) -> (Job, Attempt) {
    if job.prepared.is_none() {
        let images = std::mem::take(&mut job.images);
        let prepared = tokio::task::spawn_blocking(move || {
            let mut ok = Vec::new();
            let mut failed = Vec::new();
            for planned in images {
                match prepare(&project_dir, &planned.image, planned.as_url, max_side) {
                    Ok(payload) => ok.push(Prepared {
                        image_id: planned.image.id,
                        payload,
                    }),
                    Err(e) => failed.push((planned.image.id, e)),
                }
            }
            (ok, failed)
        })
        .await;
        let (ok, failed) = match prepared {
            Ok(result) => result,
            Err(e) => {
                let message = format!("preparing the images failed: {e}");
                return (
                    job,
                    Attempt::Answered(Err(CallError::Fatal(anyhow!(message)))),
                );
            }
        };
        job.prepared = Some(Arc::new(ok));
        if !failed.is_empty() {
            return (job, Attempt::Unprepared(failed));
        }
    }
    loop {
        let now = Instant::now();
        let wait_until = [job.not_before, pause.current()]
            .into_iter()
            .flatten()
            .max();
        match wait_until {
            Some(t) if t > now => tokio::time::sleep(t - now).await,
            _ => break,
        }
    }
    if let Some(limiter) = &limiter {
        limiter.until_ready().await;
    }
    let images = job.prepared.clone().unwrap_or_default();
    requests.fetch_add(1, Ordering::Relaxed);
    let answer = match tokio::time::timeout(timeout, tagger.tag(&images)).await {
        Ok(answer) => answer,
        Err(_) => Err(CallError::Retry {
            code: "timeout".into(),
            message: format!("no answer within {} s (--timeout)", timeout.as_secs_f64()),
            after: None,
        }),
    };
    (job, Attempt::Answered(answer))
}

/// Writes results to the store, one transaction per answer.
struct Recorder<'p> {
    project: &'p mut Project,
    project_dir: PathBuf,
    info: TaggerInfo,
    run_id: i64,
}

impl<'p> Recorder<'p> {
    fn start(project: &'p mut Project, info: &TaggerInfo, opts: &RunOptions) -> Result<Self> {
        let options = serde_json::to_string(opts)?;
        project.conn().execute(
            &format!(
                "INSERT INTO tag_runs(backend, model, options, started_at) VALUES (?1, ?2, ?3, {SQL_NOW})"
            ),
            (info.backend, &info.model, options),
        )?;
        let run_id = project.conn().last_insert_rowid();
        Ok(Recorder {
            project_dir: project.dir().to_path_buf(),
            project,
            info: info.clone(),
            run_id,
        })
    }

    fn commit<T: Tagger>(
        &mut self,
        tagger: &T,
        outcomes: Vec<(i64, ImageOutcome)>,
        report: &mut RunReport,
    ) -> Result<()> {
        let label_source = self.info.source(TagKind::Label);
        let (backend, model) = (self.info.backend, self.info.model.clone());
        let tx = self.project.conn_mut().transaction()?;
        for (image_id, outcome) in outcomes {
            match outcome {
                ImageOutcome::Tagged {
                    tags,
                    response,
                    model_version,
                } => {
                    // Re-tagging (--force) replaces this backend+model's tags.
                    tx.execute(
                        "DELETE FROM tags WHERE image_id = ?1
                         AND (source = ?2 OR substr(source, 1, length(?2) + 1) = ?2 || '/')",
                        params![image_id, label_source],
                    )?;
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO tags(image_id, tag, tag_key, confidence, source, kind, topicality)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT(image_id, tag_key, source) DO UPDATE SET
                           confidence = max(coalesce(confidence, excluded.confidence), coalesce(excluded.confidence, confidence)),
                           topicality = coalesce(topicality, excluded.topicality)",
                    )?;
                    for tag in &tags {
                        // As every tag is stored: control characters out, trimmed.
                        let name = crate::text::clean(&tag.name);
                        if name.is_empty() {
                            continue;
                        }
                        insert.execute(params![
                            image_id,
                            name.as_ref(),
                            name.to_lowercase(),
                            tag.confidence,
                            self.info.source(tag.kind),
                            tag.kind.as_str(),
                            tag.topicality,
                        ])?;
                        report.tags += 1;
                    }
                    let json = tagger.redact(&response.to_string());
                    tx.execute(
                        &format!(
                            "INSERT OR REPLACE INTO tag_responses
                             (image_id, backend, model, model_version, run_id, response, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, {SQL_NOW})"
                        ),
                        params![
                            image_id,
                            backend,
                            model,
                            model_version,
                            self.run_id,
                            compress(json.as_bytes())?
                        ],
                    )?;
                    tx.execute(
                        "DELETE FROM tag_failures WHERE image_id = ?1 AND backend = ?2 AND model = ?3",
                        params![image_id, backend, model],
                    )?;
                    report.tagged += 1;
                }
                ImageOutcome::Failed {
                    code,
                    message,
                    transient,
                } => {
                    record_failure(
                        &tx,
                        image_id,
                        &self.info,
                        &code,
                        &tagger.redact(&message),
                        transient,
                    )?;
                    *report.failed.entry(code).or_default() += 1;
                }
                // Taken out before committing: they go in another request.
                ImageOutcome::Retry { .. } => {}
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn failed(
        &mut self,
        image_id: i64,
        code: &str,
        message: &str,
        transient: bool,
        report: &mut RunReport,
    ) -> Result<()> {
        record_failure(
            self.project.conn(),
            image_id,
            &self.info,
            code,
            message,
            transient,
        )?;
        *report.failed.entry(code.to_string()).or_default() += 1;
        Ok(())
    }

    fn finish(&mut self, report: &RunReport) -> Result<()> {
        self.project.conn().execute(
            &format!(
                "UPDATE tag_runs SET finished_at = {SQL_NOW}, requests = ?2, tagged = ?3, failed = ?4
                 WHERE id = ?1"
            ),
            params![
                self.run_id,
                report.requests as i64,
                report.tagged as i64,
                report.failed_total() as i64
            ],
        )?;
        Ok(())
    }
}

fn record_failure(
    conn: &rusqlite::Connection,
    image_id: i64,
    info: &TaggerInfo,
    code: &str,
    message: &str,
    transient: bool,
) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO tag_failures(image_id, backend, model, code, message, transient, failed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, {SQL_NOW})
             ON CONFLICT(image_id, backend, model) DO UPDATE SET
               code = excluded.code, message = excluded.message, transient = excluded.transient,
               attempts = attempts + 1, failed_at = excluded.failed_at"
        ),
        params![image_id, info.backend, info.model, code, message, transient],
    )?;
    Ok(())
}

/// zlib, as stored in `tag_responses.response`.
pub fn compress(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Reads back a stored response.
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut decoder = flate2::write::ZlibDecoder::new(&mut out);
    decoder
        .write_all(bytes)
        .and_then(|()| decoder.finish().map(|_| ()))
        .context("a stored tagging response is corrupt")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(1);
        let b0 = backoff(base, 0, 7).as_secs_f64();
        let b3 = backoff(base, 3, 7).as_secs_f64();
        assert!((1.0..=1.25).contains(&b0), "{b0}");
        assert!((8.0..=10.0).contains(&b3), "{b3}");
        assert_eq!(backoff(base, 12, 7), Duration::from_secs(60));
    }

    #[test]
    fn compression_round_trips() {
        let json = br#"{"outputs":[{"data":{"concepts":[]}}]}"#.repeat(20);
        let packed = compress(&json).unwrap();
        assert!(packed.len() < json.len());
        assert_eq!(decompress(&packed).unwrap(), json);
    }

    #[test]
    fn sources_keep_kinds_apart() {
        let info = TaggerInfo {
            backend: "google",
            model: "vision[label,web]".into(),
            max_batch: 16,
            max_request_bytes: None,
            fetches_urls: true,
            default_rate: Some(30.0),
        };
        assert_eq!(info.source(TagKind::Label), "google:vision[label,web]");
        assert_eq!(
            info.source(TagKind::WebEntity),
            "google:vision[label,web]/web_entity"
        );
    }

    #[test]
    fn summary_names_every_reason() {
        let mut report = RunReport {
            backend: "clarifai",
            model: "m".into(),
            tagged: 5,
            tags: 40,
            skipped_done: 2,
            requests: 3,
            retries: 1,
            ..RunReport::default()
        };
        report.failed.insert("30002".into(), 2);
        report.failed.insert("timeout".into(), 1);
        assert_eq!(
            report.to_string(),
            "tag clarifai m: 5 tagged (40 tags), 2 skipped (already tagged), 3 failed (30002: 2, timeout: 1); 3 requests sent (1 retries)"
        );
    }
}
