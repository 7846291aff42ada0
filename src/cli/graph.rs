use std::path::PathBuf;

use anyhow::{Result, bail};

use super::ranges;
use crate::graph::{GraphSettings, build_graph, drop_rare_tags, duplicates, knn};
use crate::project::{Access, Project};

/// Build the image–tag network from the project's tags (nothing filtered by default).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape graph study --min-confidence 0.5 --top-k 20 --stop-tags generic.txt\n  tagscape graph study --stack-duplicates --hash-distance 6\n  tagscape graph study --similarity knn --k 10"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Drop tags scored below X (0..1); tags without a score are kept.
    #[arg(long, value_name = "X", value_parser = ranges::fraction())]
    pub min_confidence: Option<f64>,
    /// Keep each image's K most confident tags.
    #[arg(long, value_name = "K", value_parser = ranges::count::<usize>((1, 1_000_000)))]
    pub top_k: Option<usize>,
    /// A text file of tags to leave out, one per line (# comments).
    #[arg(long, value_name = "FILE")]
    pub stop_tags: Option<PathBuf>,
    /// Drop tags carried by fewer than N images (a tag on one image links nothing).
    #[arg(long, value_name = "N", value_parser = ranges::count::<usize>((0, u32::MAX as u64)))]
    pub min_tag_degree: Option<usize>,
    /// Kinds of tags to use, comma-separated: label (default), web_entity, text, safe_search.
    #[arg(long, value_delimiter = ',', default_value = "label",
          value_parser = ["label", "web_entity", "text", "safe_search"])]
    pub tag_kinds: Vec<String>,
    /// What links images: shared tags (the image–tag network), or CLIP
    /// embeddings (each image to its K most similar images; needs
    /// `tagscape tag --with clip` first).
    #[arg(long, value_enum, default_value_t = Similarity::Tags)]
    pub similarity: Similarity,
    /// Neighbours per image with --similarity knn.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = ranges::count::<usize>((1, 1_000)))]
    pub k: usize,
    /// Stack near-identical images (same picture re-encoded or resized) into
    /// one node whose frequency is the sum of theirs.
    #[arg(long)]
    pub stack_duplicates: bool,
    /// With --stack-duplicates: perceptual hashes at most D bits apart (of 64) stack.
    #[arg(long, value_name = "D", default_value_t = duplicates::DEFAULT_HASH_DISTANCE, value_parser = super::ranges::count::<u32>(super::ranges::HASH_BITS))]
    pub hash_distance: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Similarity {
    Tags,
    Knn,
}

/// What the graph line reports, by how the graph was built.
enum Summary {
    Tags(crate::graph::GraphSummary),
    Knn(knn::KnnSummary),
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
        tag_kinds: args.tag_kinds,
    };
    if args.hash_distance > 32 {
        bail!(
            "--hash-distance {} would stack unrelated images (hashes have 64 bits; unrelated ones differ in about 30): give e.g. 6",
            args.hash_distance
        );
    }
    let (mut graph, mut summary) = match args.similarity {
        Similarity::Tags => {
            let (graph, summary) = build_graph(&project, &settings)?;
            (graph, Summary::Tags(summary))
        }
        Similarity::Knn => {
            let (graph, summary) = knn::build_knn_graph(&project, args.k, None)?;
            (graph, Summary::Knn(summary))
        }
    };
    let mut stacked = String::new();
    let mut stack_sizes = Vec::new();
    if args.stack_duplicates {
        let hashed = duplicates::backfill_hashes(&mut project)?;
        if hashed > 0 {
            tracing::info!("computed {hashed} missing perceptual hashes from thumbnails");
        }
        let stacks = duplicates::project_stacks(&project, args.hash_distance)?;
        stack_sizes = duplicates::stack_sizes(&graph, &stacks);
        let images = graph.n_images;
        graph = duplicates::stack_graph(&graph, &stacks);
        if let (Some(min_degree), Summary::Tags(s)) = (settings.min_tag_degree, &mut summary) {
            let (kept, dropped) = drop_rare_tags(&graph, min_degree);
            graph = kept;
            s.filtered_edges += dropped;
        }
        // The summary describes the graph saved: the stacked one.
        match &mut summary {
            Summary::Tags(s) => s.recount(&graph),
            Summary::Knn(s) => {
                s.images = graph.n_images;
                s.edges = graph.edges.len();
            }
        }
        let in_stacks: u32 = stack_sizes.iter().map(|(_, n)| n).sum();
        stacked = format!(
            "; {in_stacks} near-duplicate images stacked into {} node{} (hash distance ≤ {}), so {} image nodes stand for {images} images",
            stack_sizes.len(),
            if stack_sizes.len() == 1 { "" } else { "s" },
            args.hash_distance,
            graph.n_images,
        );
    }
    graph.save(&mut project)?;
    duplicates::save_stack_sizes(&mut project, &stack_sizes)?;
    project.set_setting("graph", &settings)?;
    project.set_setting(
        "graph_similarity",
        &serde_json::json!({
            "similarity": format!("{:?}", args.similarity).to_lowercase(),
            "k": args.k,
            "stack_duplicates": args.stack_duplicates,
            "hash_distance": args.hash_distance,
        }),
    )?;
    match summary {
        Summary::Tags(s) => crate::ui::summary(format_args!("{s}{stacked}")),
        Summary::Knn(s) => crate::ui::summary(format_args!("{s}{stacked}")),
    }
    Ok(())
}
