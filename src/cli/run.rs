use std::path::PathBuf;

use anyhow::Result;

use super::Outcome;
use crate::fetch::FetchOptions;
use crate::layout::BackendKind;
use crate::pipeline::{PipelineOptions, run_pipeline};

/// The whole pipeline in one go: add, fetch, import tags, graph, layout, exports.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape run tweets.csv --project study --tags tags.csv\n\n\
Re-running the same command resumes: images already downloaded are not fetched again.\n\n\
Exit status: 0 every image downloaded, 3 some failed (listed in PROJECT/failures.csv), 4 none could be downloaded, 1 error, 2 bad flag."
)]
pub struct Args {
    /// URL lists (CSV, TSV, TXT, TCAT/4CAT exports) or folders of images.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The project directory (created if missing).
    #[arg(long)]
    pub project: PathBuf,
    /// A tag table to import (DMI tool, Memespector, long or wide table).
    #[arg(long, value_name = "FILE")]
    pub tags: Option<PathBuf>,
    /// The column holding the image URLs, when detection picks the wrong one.
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Downloads in flight at once.
    #[arg(long, default_value_t = 16, value_parser = super::ranges::count::<usize>(super::ranges::CONCURRENCY))]
    pub concurrency: usize,
    /// ForceAtlas2 iterations (default: the project's last setting, else 500).
    #[arg(long, value_parser = super::ranges::count::<u32>(super::ranges::ITERATIONS))]
    pub iterations: Option<u32>,
    /// Layout backend: gpu (default on a hardware GPU) or cpu.
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Do not open the viewer at the end (without a display the viewer
    /// writes PROJECT/map.png instead).
    #[arg(long)]
    pub no_view: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    let opts = PipelineOptions {
        project: args.project.clone(),
        inputs: args.inputs,
        column: args.column,
        tags: args.tags,
        fetch: FetchOptions {
            concurrency: args.concurrency.max(1),
            ..Default::default()
        },
        iterations: args.iterations,
        backend: args.backend,
    };
    let outcome = run_pipeline(&opts)?;
    // The map's images: downloaded now or by an earlier run.
    let status = Outcome::from_counts(outcome.fetched, outcome.failed);
    let Some(exports) = outcome.exports else {
        return Ok(status);
    };
    crate::ui::summary(format_args!(
        "done: Gephi files in {} (open network.gexf in Gephi)",
        exports.display()
    ));
    if !args.no_view {
        crate::ui::summary(crate::viewer::open(&args.project)?);
    }
    Ok(status)
}
