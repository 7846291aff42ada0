//! `tagscape bench cluster`: community detection on a planted-cluster graph
//! — clusters found, NMI against the planted ones, modularity and time —
//! on a generated graph or gen_graph.py's CSVs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use serde::Serialize;

use super::layout::{read_edges_csv, read_truth_csv};
use crate::cluster::detect::{self, DetectSettings, Method, Network};
use crate::layout::synthetic::{SyntheticSpec, generate};

/// Flags of `tagscape bench cluster`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Images of the generated graph (gen_graph.py's model and defaults).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Read the graph from gen_graph.py's `Source,Target,Weight` CSV instead.
    #[arg(long, value_name = "FILE", requires = "truth")]
    pub edges: Option<PathBuf>,
    /// The planted cluster of every image (`Id,Cluster`).
    #[arg(long, value_name = "FILE", requires = "edges")]
    pub truth: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Method::Leiden)]
    pub method: Method,
    #[arg(long, value_enum, default_value_t = Network::ImageTag)]
    pub network: Network,
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub images: usize,
    pub edges: usize,
    pub planted: usize,
    pub found: usize,
    /// Normalised mutual information of the found and planted clusters.
    pub nmi: f64,
    pub modularity: f64,
    pub detect_ms: f64,
}

pub fn run(opts: &Options) -> Result<()> {
    let r = measure(opts)?;
    if opts.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    println!(
        "graph: {} ({} images, {} edges)",
        r.source, r.images, r.edges
    );
    println!(
        "clusters: {} found of {} planted, NMI {:.4}, modularity {:.4}, detection {:.0} ms",
        r.found, r.planted, r.nmi, r.modularity, r.detect_ms
    );
    Ok(())
}

pub fn measure(opts: &Options) -> Result<Report> {
    let (graph, planted, source) = match (&opts.edges, &opts.truth) {
        (Some(e), Some(t)) => {
            let graph = read_edges_csv(e)?;
            let planted = read_truth_csv(t, &graph)?;
            (graph, planted, e.display().to_string())
        }
        _ => {
            if opts.images == 0 {
                bail!("--images must be at least 1");
            }
            let s = generate(&SyntheticSpec::new(opts.images));
            let source = format!("generated, {} images (gen_graph.py model)", opts.images);
            (s.graph, s.clusters, source)
        }
    };
    let settings = DetectSettings {
        method: opts.method,
        network: opts.network,
        resolution: opts.resolution,
        seed: opts.seed,
    };
    let t = Instant::now();
    let d = detect::detect(&graph, &settings)?;
    let detect_ms = t.elapsed().as_secs_f64() * 1e3;
    let truth: Vec<usize> = planted.iter().map(|&c| c as usize).collect();
    let found: Vec<usize> = d.image_community.iter().map(|&c| c as usize).collect();
    let mut distinct = truth.clone();
    distinct.sort_unstable();
    distinct.dedup();
    Ok(Report {
        source,
        images: graph.n_images,
        edges: graph.edges.len(),
        planted: distinct.len(),
        found: d.count,
        nmi: leiden_rs::metrics::nmi(&truth, &found),
        modularity: d.modularity,
        detect_ms,
    })
}
