use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::graph::{GraphSettings, build_graph};
use crate::project::{Access, Project};

/// Build the image–tag network from the project's tags (nothing filtered by default).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape graph study --min-confidence 0.5 --top-k 20 --stop-tags generic.txt"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Drop tags scored below X (0..1); tags without a score are kept.
    #[arg(long, value_name = "X")]
    pub min_confidence: Option<f64>,
    /// Keep each image's K most confident tags.
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// A text file of tags to leave out, one per line (# comments).
    #[arg(long, value_name = "FILE")]
    pub stop_tags: Option<PathBuf>,
    /// Drop tags carried by fewer than N images (a tag on one image links nothing).
    #[arg(long, value_name = "N")]
    pub min_tag_degree: Option<usize>,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(x) = args.min_confidence
        && !(0.0..=1.0).contains(&x)
    {
        bail!("--min-confidence {x} is out of range: give a value between 0 and 1");
    }
    if args.top_k == Some(0) {
        bail!("--top-k 0 would drop every tag: give at least 1, or leave it out");
    }
    let mut project = Project::open(&args.dir, Access::Write)?;
    let settings = GraphSettings {
        min_confidence: args.min_confidence,
        top_k: args.top_k,
        stop_tags: match &args.stop_tags {
            Some(path) => GraphSettings::read_stop_tags(path)?,
            None => Vec::new(),
        },
        min_tag_degree: args.min_tag_degree,
    };
    let (graph, summary) = build_graph(&project, &settings)?;
    graph.save(&mut project)?;
    project.set_setting("graph", &settings)?;
    crate::ui::summary(summary);
    Ok(())
}
