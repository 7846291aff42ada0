//! `tagscape bench layout`: ForceAtlas2 milliseconds per iteration and layout
//! quality on a planted-cluster graph (generated, or gen_graph.py's CSVs for
//! a comparison with the peers on identical graphs).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::graph::{Edge, Graph, Node, NodeKind};
use crate::layout::quality::{self, Quality};
use crate::layout::synthetic::{SyntheticSpec, generate};
use crate::layout::{BackendKind, ForceAtlas2Settings, LayoutInput, new_backend, random_positions};

/// Flags of `tagscape bench layout`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Images of the generated graph (gen_graph.py's model and defaults).
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    /// Iterations to time.
    #[arg(long, default_value_t = 100)]
    pub iterations: u32,
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
    /// Read the graph from a Gephi-style `Source,Target,Weight` CSV instead
    /// (sources are images, targets tags).
    #[arg(long, value_name = "FILE")]
    pub edges: Option<PathBuf>,
    /// Clusters of the images for the quality scores (`Id,Cluster`, as
    /// gen_graph.py writes); without it, `--edges` runs report no quality.
    #[arg(long, value_name = "FILE", requires = "edges")]
    pub truth: Option<PathBuf>,
    /// Start positions (`Id,x,y`, as gen_graph.py writes) instead of random ones.
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// Seed of the random start positions.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the final positions as `Id,x,y` (e.g. for quality.py).
    #[arg(long, value_name = "FILE")]
    pub out_positions: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: &'static str,
    pub nodes: usize,
    pub edges: usize,
    pub iterations: u32,
    /// Median over the timed iterations.
    pub ms_per_iter: f64,
    pub ms_per_iter_mean: f64,
    pub setup_ms: f64,
    pub quality: Option<Quality>,
    pub final_swing_per_node: f64,
    pub cpu: String,
    pub cores: usize,
    pub threads: usize,
    pub source: String,
}

pub fn run(opts: &Options) -> Result<()> {
    let report = measure(opts)?;
    if opts.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "machine: {} ({} cores, {} threads used)",
        report.cpu, report.cores, report.threads
    );
    println!(
        "graph: {} ({} nodes, {} edges)",
        report.source, report.nodes, report.edges
    );
    println!(
        "{}: {:.2} ms/iteration median ({:.2} mean) over {} iterations; setup {:.0} ms",
        report.backend,
        report.ms_per_iter,
        report.ms_per_iter_mean,
        report.iterations,
        report.setup_ms
    );
    match report.quality {
        Some(q) => println!(
            "quality: knn10 {:.4}, knn10n {:.4}, silhouette {:.4}",
            q.knn10, q.knn10n, q.sil
        ),
        None => println!("quality: not scored (give --truth FILE with --edges)"),
    }
    Ok(())
}

pub fn measure(opts: &Options) -> Result<Report> {
    let (graph, clusters, source) = match &opts.edges {
        Some(path) => {
            let graph = read_edges_csv(path)?;
            let clusters = match &opts.truth {
                Some(t) => Some(read_truth_csv(t, &graph)?),
                None => None,
            };
            (graph, clusters, path.display().to_string())
        }
        None => {
            if opts.images == 0 {
                bail!("--images must be at least 1");
            }
            let s = generate(&SyntheticSpec::new(opts.images));
            let source = format!("generated, {} images (gen_graph.py model)", opts.images);
            (s.graph, Some(s.clusters), source)
        }
    };
    let initial = match &opts.init {
        Some(path) => read_init_csv(path, &graph)?,
        None => random_positions(graph.node_count(), opts.seed),
    };
    // The peers' settings: Gephi's defaults with Barnes–Hut on at every size.
    let settings = ForceAtlas2Settings::default();
    let setup = Instant::now();
    let (input, bad) = LayoutInput::new(&graph, vec![1.0; graph.node_count()], &settings);
    if bad > 0 {
        tracing::warn!("{bad} edges had a negative or non-numeric weight; they were set to 0");
    }
    let mut backend = new_backend(opts.backend, &input, &settings, initial)?;
    let setup_ms = setup.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::with_capacity(opts.iterations as usize);
    let mut last_swing = 0f64;
    for _ in 0..opts.iterations {
        let t = Instant::now();
        let stats = backend.step()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last_swing = f64::from(stats.swing);
    }
    let positions = backend.positions()?;
    if let Some(path) = &opts.out_positions {
        write_positions(path, &graph, &positions)?;
    }
    let quality = clusters.map(|c| quality::score(&positions[..graph.n_images], &c));
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    Ok(Report {
        backend: backend.name(),
        nodes: graph.node_count(),
        edges: graph.edges.len(),
        iterations: opts.iterations,
        ms_per_iter: median,
        ms_per_iter_mean: mean,
        setup_ms,
        quality,
        final_swing_per_node: last_swing / graph.node_count().max(1) as f64,
        cpu: super::cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        threads: rayon::current_num_threads(),
        source,
    })
}

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))
}

fn column(headers: &csv::StringRecord, name: &str, path: &Path) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
        .with_context(|| {
            format!(
                "{}: no `{name}` column in the header (found: {}); the file needs a header row with {name}",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(",")
            )
        })
}

/// Reads a Gephi-style edge table: `Source` (image), `Target` (tag) and an
/// optional `Weight` (1 when missing or empty). Duplicate edges are merged
/// by summing their weights (Gephi's default merge); weights that are not
/// numbers are kept as NaN for the layout to sanitise (and warn about).
pub fn read_edges_csv(path: &Path) -> Result<Graph> {
    let mut rdr = csv_reader(path)?;
    let headers = rdr
        .headers()
        .with_context(|| format!("cannot read {}", path.display()))?
        .clone();
    let (si, ti) = (
        column(&headers, "Source", path)?,
        column(&headers, "Target", path)?,
    );
    let wi = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("Weight"));
    let mut images: HashMap<String, u32> = HashMap::new();
    let mut tags: HashMap<String, u32> = HashMap::new();
    let mut image_ids = Vec::new();
    let mut tag_ids = Vec::new();
    let mut weights: HashMap<(u32, u32), f32> = HashMap::new();
    let mut order = Vec::new();
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.with_context(|| format!("{}:{line}: unreadable CSV row", path.display()))?;
        let (s, t) = (rec.get(si).unwrap_or(""), rec.get(ti).unwrap_or(""));
        if s.is_empty() || t.is_empty() {
            bail!(
                "{}:{line}: empty Source or Target; every row needs both",
                path.display()
            );
        }
        let w = match wi.and_then(|i| rec.get(i)).filter(|w| !w.is_empty()) {
            None => 1.0,
            Some(w) => w.parse::<f32>().unwrap_or(f32::NAN),
        };
        let si = *images.entry(s.to_string()).or_insert_with(|| {
            image_ids.push(s.to_string());
            (image_ids.len() - 1) as u32
        });
        let ti = *tags.entry(t.to_string()).or_insert_with(|| {
            tag_ids.push(t.to_string());
            (tag_ids.len() - 1) as u32
        });
        match weights.get_mut(&(si, ti)) {
            Some(sum) => *sum += w,
            None => {
                weights.insert((si, ti), w);
                order.push((si, ti));
            }
        }
    }
    if order.is_empty() {
        bail!(
            "{}: no edges; the file needs rows of Source,Target,Weight",
            path.display()
        );
    }
    let n_images = image_ids.len() as u32;
    // Tags sorted by name after the images, as gen_graph.py orders nodes.
    let mut tag_order: Vec<u32> = (0..tag_ids.len() as u32).collect();
    tag_order.sort_by(|&a, &b| tag_ids[a as usize].cmp(&tag_ids[b as usize]));
    let mut tag_node = vec![0u32; tag_ids.len()];
    for (k, &t) in tag_order.iter().enumerate() {
        tag_node[t as usize] = n_images + k as u32;
    }
    let node = |kind, id: &str| Node {
        kind,
        id: id.to_string(),
        label: id.to_string(),
        image_id: None,
        frequency: 1,
    };
    let mut nodes: Vec<Node> = image_ids
        .iter()
        .map(|id| node(NodeKind::Image, id))
        .collect();
    nodes.extend(
        tag_order
            .iter()
            .map(|&t| node(NodeKind::Tag, &tag_ids[t as usize])),
    );
    let edges = order
        .into_iter()
        .map(|(s, t)| Edge {
            source: s,
            target: tag_node[t as usize],
            weight: weights[&(s, t)],
        })
        .collect();
    Ok(Graph::new(nodes, n_images as usize, edges))
}

/// Reads `Id,Cluster` for every image of `graph`.
pub(crate) fn read_truth_csv(path: &Path, graph: &Graph) -> Result<Vec<u32>> {
    let mut rdr = csv_reader(path)?;
    let headers = rdr.headers()?.clone();
    let (ii, ci) = (
        column(&headers, "Id", path)?,
        column(&headers, "Cluster", path)?,
    );
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut by_id: HashMap<String, u32> = HashMap::new();
    for (row, rec) in rdr.records().enumerate() {
        let rec =
            rec.with_context(|| format!("{}:{}: unreadable CSV row", path.display(), row + 2))?;
        let next = names.len() as u32;
        let c = *names
            .entry(rec.get(ci).unwrap_or("").to_string())
            .or_insert(next);
        by_id.insert(rec.get(ii).unwrap_or("").to_string(), c);
    }
    graph.nodes[..graph.n_images]
        .iter()
        .map(|n| {
            by_id.get(&n.id).copied().with_context(|| {
                format!(
                    "{}: image {} has no cluster; add a row `{},CLUSTER`",
                    path.display(),
                    n.id,
                    n.id
                )
            })
        })
        .collect()
}

/// Reads `Id,x,y` start positions for every node of `graph`.
fn read_init_csv(path: &Path, graph: &Graph) -> Result<Vec<[f32; 2]>> {
    let mut rdr = csv_reader(path)?;
    let headers = rdr.headers()?.clone();
    let (ii, xi, yi) = (
        column(&headers, "Id", path)?,
        column(&headers, "x", path)?,
        column(&headers, "y", path)?,
    );
    let mut by_id: HashMap<String, [f32; 2]> = HashMap::new();
    for (row, rec) in rdr.records().enumerate() {
        let line = row + 2;
        let rec = rec.with_context(|| format!("{}:{line}: unreadable CSV row", path.display()))?;
        let num = |i: usize| -> Result<f32> {
            rec.get(i)
                .and_then(|v| v.parse::<f32>().ok())
                .filter(|v| v.is_finite())
                .with_context(|| {
                    format!("{}:{line}: x and y must be finite numbers", path.display())
                })
        };
        by_id.insert(rec.get(ii).unwrap_or("").to_string(), [num(xi)?, num(yi)?]);
    }
    graph
        .nodes
        .iter()
        .map(|n| {
            by_id.get(&n.id).copied().with_context(|| {
                format!(
                    "{}: node {} has no start position; add a row `{},X,Y`",
                    path.display(),
                    n.id,
                    n.id
                )
            })
        })
        .collect()
}

fn write_positions(path: &Path, graph: &Graph, positions: &[[f32; 2]]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "Id,x,y")?;
    for (node, p) in graph.nodes.iter().zip(positions) {
        writeln!(out, "{},{},{}", node.id, p[0], p[1])?;
    }
    out.flush()?;
    Ok(())
}
