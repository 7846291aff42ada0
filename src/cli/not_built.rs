//! Commands of the contract whose stage is not built yet: they parse their
//! flags and answer with a clear message and exit code 1.

use std::path::PathBuf;

use anyhow::bail;

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
