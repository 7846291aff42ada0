//! `tagscape fetch DIR`: download and thumbnail the project's pending images.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::{Outcome, ranges};

use crate::fetch::thumbnail::DecodeLimits;
use crate::fetch::{self, FetchOptions};
use crate::project::{Access, Project};

/// Download the project's images, store the originals and build their thumbnails.
///
/// Re-running resumes: images already done are never downloaded again; earlier
/// failures are retried when they were transient (timeout, connection, 5xx,
/// rate limited), or all of them with --retry-failed.
///
/// When some image failed, the run ends by naming DIR/failures.csv: every
/// failed image with its reason, detail, HTTP status, frequency and first post.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape fetch study --concurrency 32 --per-host 8\n  tagscape fetch study --retry-failed\n\nExit status: 0 every image done, 3 some failed, 4 none succeeded, 1 error, 2 bad flag."
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Downloads in flight at once.
    #[arg(long, default_value_t = 16, value_parser = ranges::count::<usize>(ranges::CONCURRENCY))]
    pub concurrency: usize,
    /// Downloads in flight to one host.
    #[arg(long, default_value_t = 4, value_parser = ranges::count::<usize>(ranges::CONCURRENCY))]
    pub per_host: usize,
    /// Seconds a request may take, and the longest silence while reading.
    #[arg(long, value_name = "SECS", default_value_t = 30.0, value_parser = ranges::floats(ranges::TIMEOUT_SECS))]
    pub timeout: f64,
    /// Largest image accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 50_000_000, value_parser = ranges::at_least::<u64>(1))]
    pub max_bytes: u64,
    /// Retries on connection errors, 408, 429 and 5xx answers.
    #[arg(long, default_value_t = 3, value_parser = ranges::count::<u32>(ranges::RETRIES))]
    pub retries: u32,
    /// Retry every earlier failure (404s, non-images, ...), not only transient ones.
    #[arg(long)]
    pub retry_failed: bool,
    /// Memory, in MB, that all decodes at once may take; an image needing more
    /// on its own fails as too_many_pixels.
    #[arg(long, value_name = "MB", default_value_t = 1024, value_parser = ranges::count::<u64>(ranges::DECODE_MEMORY_MB))]
    pub decode_memory: u64,
    /// Fetch from this host even though it is a link-local or cloud-metadata
    /// address (169.254.0.0/16, fe80::/10, metadata.google.internal, ...),
    /// which are refused otherwise, also after redirects. Repeatable.
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
}

pub fn run(args: Args) -> Result<Outcome> {
    let decode_budget = args.decode_memory * 1024 * 1024;
    let defaults = FetchOptions::default();
    let mut project = Project::open(&args.dir, Access::Write)?;
    let options = FetchOptions {
        concurrency: args.concurrency,
        per_host: args.per_host,
        timeout: Duration::from_secs_f64(args.timeout),
        max_bytes: args.max_bytes,
        retries: args.retries,
        retry_failed: args.retry_failed,
        decode_budget,
        limits: DecodeLimits {
            max_alloc: defaults.limits.max_alloc.min(decode_budget),
            ..defaults.limits
        },
        allow_hosts: args.allow_host,
        ..defaults
    };
    let report = fetch::fetch_and_merge(&mut project, &options)?;
    let outcome = Outcome::from_counts(report.fetched, report.failed_total());
    crate::ui::summary(&report);
    // Every failed image, with its reason, for the researcher's report.
    if let Some(path) = crate::export::tables::write_failures(&project)? {
        crate::ui::summary(format_args!(
            "failed images listed in {} (reason, HTTP status, first post)",
            path.display()
        ));
    }
    Ok(outcome)
}
