//! Commands of the contract whose stage is not built yet: they parse their
//! flags and answer with a clear message and exit code 1.

use std::path::PathBuf;

use anyhow::bail;

/// Tag images with a computer-vision backend (not built yet: use import-tags).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape tag study --with clarifai --max-requests 100 --dry-run"
)]
pub struct TagArgs {
    pub dir: PathBuf,
    /// Backend: clarifai, google, openai or clip.
    #[arg(long = "with", value_parser = ["clarifai", "google", "openai", "clip"])]
    pub backend: String,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub max_requests: Option<u64>,
    #[arg(long)]
    pub dry_run: bool,
}

/// Detect communities and label them (not built yet).
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  tagscape cluster study --resolution 1.0 --seed 42")]
pub struct ClusterArgs {
    pub dir: PathBuf,
    #[arg(long)]
    pub resolution: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Open the interactive map (not built yet).
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  tagscape view study")]
pub struct ViewArgs {
    pub dir: PathBuf,
}

pub fn tag(args: TagArgs) -> anyhow::Result<()> {
    bail!(
        "`tagscape tag --with {}` is not built yet in this version: tag the images elsewhere and bring the table in with `tagscape import-tags {} FILE`",
        args.backend,
        args.dir.display()
    )
}

pub fn cluster(args: ClusterArgs) -> anyhow::Result<()> {
    bail!(
        "`tagscape cluster` is not built yet in this version: export {} with `--format gexf` and run Modularity in Gephi",
        args.dir.display()
    )
}

pub fn view(args: ViewArgs) -> anyhow::Result<()> {
    bail!(
        "`tagscape view` is not built yet in this version: export {} with `--format gexf` and open it in Gephi",
        args.dir.display()
    )
}
