//! `tagscape bench layout|map|render|cluster|duplicates|fetch`: figures for people, never tests.

/// Speed figures: layout, rendering, thumbnails and downloads (never part of the tests).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape bench layout --images 100000 --iterations 50 --backend cpu\n  tagscape bench render\n  tagscape bench fetch --images 500 --downloads 5000"
)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// ForceAtlas2 ms/iteration and layout quality on a planted-cluster graph.
    #[command(
        after_help = "Example:\n  tagscape bench layout --images 10000 --iterations 100 --json\n  tagscape bench layout --edges img10000_edges.csv --truth img10000_truth.csv --init img10000_init.csv"
    )]
    Layout(crate::bench::layout::Options),
    /// The map against plain ForceAtlas2 on one graph and start: time, map
    /// quality figures, agreement with the planted clusters.
    #[command(
        after_help = "Example:\n  tagscape bench map --images 100000\n  tagscape bench map --shape keywords --images 1911 --save kw && tagscape export kw --format png --width 3000 --out kw.png"
    )]
    Map(crate::bench::map::Options),
    /// Rendering frame times (10k, 100k, 1M sprites offscreen) and atlas memory.
    #[command(
        after_help = "Example:\n  tagscape bench render\n  tagscape bench render --sprites 100000 --frames 10 --json"
    )]
    Render(crate::bench::render::Options),
    /// Community detection on a planted-cluster graph: clusters found, NMI, modularity.
    #[command(
        after_help = "Example:\n  tagscape bench cluster --images 100000\n  tagscape bench cluster --network co-tag --edges img100000_edges.csv --truth img100000_truth.csv"
    )]
    Cluster(crate::bench::cluster::Options),
    /// Stacking near-duplicates on generated images: hash index against
    /// all pairs, peak memory, real variants found, false merges.
    #[command(
        after_help = "Example:\n  tagscape bench duplicates --images 100000\n  tagscape bench duplicates --images 1000000 --all-pairs-up-to 0 --json"
    )]
    Duplicates(crate::bench::duplicates::Options),
    /// Thumbnail and download throughput.
    #[command(after_help = "Example:\n  tagscape bench fetch --images 1000 --downloads 10000")]
    Fetch(crate::bench::fetch::Options),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.what {
        What::Layout(opts) => crate::bench::layout::run(&opts),
        What::Map(opts) => crate::bench::map::run(&opts),
        What::Render(opts) => crate::bench::render::run(&opts),
        What::Cluster(opts) => crate::bench::cluster::run(&opts),
        What::Duplicates(opts) => crate::bench::duplicates::run(&opts),
        What::Fetch(opts) => crate::bench::fetch::run(&opts),
    }
}
