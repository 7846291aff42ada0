//! `tagscape fetch DIR`: download and thumbnail the project's pending images.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

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
    after_help = "Example:\n  tagscape fetch study --concurrency 32 --per-host 8\n  tagscape fetch study --retry-failed"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Downloads in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Downloads in flight to one host.
    #[arg(long, default_value_t = 4)]
    pub per_host: usize,
    /// Seconds a request may take, and the longest silence while reading.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Largest image accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 50_000_000)]
    pub max_bytes: u64,
    /// Retries on connection errors, 408, 429 and 5xx answers.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Retry every earlier failure (404s, non-images, ...), not only transient ones.
    #[arg(long)]
    pub retry_failed: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.concurrency == 0 || args.per_host == 0 {
        bail!("--concurrency and --per-host must be at least 1");
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!(
            "--timeout {} is not a number of seconds above 0: use e.g. --timeout 30",
            args.timeout
        );
    }
    let mut project = Project::open(&args.dir, Access::Write)?;
    let options = FetchOptions {
        concurrency: args.concurrency,
        per_host: args.per_host,
        timeout: Duration::from_secs_f64(args.timeout),
        max_bytes: args.max_bytes,
        retries: args.retries,
        retry_failed: args.retry_failed,
        ..FetchOptions::default()
    };
    let report = fetch::fetch_images(&mut project, &options)?;
    crate::ui::summary(&report);
    // Every failed image, with its reason, for the researcher's report.
    if let Some(path) = crate::export::tables::write_failures(&project)? {
        crate::ui::summary(format_args!(
            "failed images listed in {} (reason, HTTP status, first post)",
            path.display()
        ));
    }
    Ok(())
}
