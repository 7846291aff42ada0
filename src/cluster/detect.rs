//! Community detection on the image–tag network.
//!
//! Leiden and Louvain both come from `leiden-rs` (Louvain is its Leiden with
//! the refinement phase skipped, `skip_refinement`), always with a seed, so
//! the same graph and seed give the same clusters. Detection runs either on
//! the bipartite image–tag graph itself or on the image–image co-tag
//! projection (edge weight = cosine similarity of the two images' tag
//! vectors, each image keeping its strongest neighbours). Either way the
//! result is a cluster per image; tags are then given the cluster where they
//! weigh most (`assign_tags`).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use leiden_rs::{GraphData, GraphDataBuilder, Leiden, LeidenConfig, Partition};
use rayon::prelude::*;

use crate::graph::Graph;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Leiden (well-connected communities; the default).
    Leiden,
    /// Louvain (Leiden without its refinement phase).
    Louvain,
}

/// Which network the communities are detected on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// The bipartite image–tag graph, weighted by tag confidence.
    ImageTag,
    /// Images only, linked by the cosine similarity of their tag vectors.
    CoTag,
}

/// How many neighbours each image keeps in the co-tag projection: enough to
/// hold a community together, few enough that generic tags shared by most
/// images do not turn the projection into a dense graph.
pub const CO_TAG_NEIGHBOURS: usize = 15;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectSettings {
    pub method: Method,
    pub network: Network,
    /// Modularity resolution γ: above 1 more, smaller clusters.
    pub resolution: f64,
    pub seed: u64,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            method: Method::Leiden,
            network: Network::ImageTag,
            resolution: 1.0,
            seed: 42,
        }
    }
}

/// The raw communities of the images.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Community of each image (`0..graph.n_images`), numbered `0..count`
    /// by decreasing size (ties: by first image), so numbering is stable.
    pub image_community: Vec<u32>,
    pub count: usize,
    /// Newman–Girvan modularity (γ = 1) of the partition on the network it
    /// was detected on; 0 for a network without edges.
    pub modularity: f64,
}

pub fn detect(graph: &Graph, settings: &DetectSettings) -> Result<Detection> {
    if !(settings.resolution.is_finite() && settings.resolution > 0.0) {
        bail!(
            "--resolution {} is not a positive number: use e.g. 1.0 (higher gives more, smaller clusters)",
            settings.resolution
        );
    }
    let n_images = graph.n_images;
    let data = match settings.network {
        Network::ImageTag => image_tag_network(graph)?,
        Network::CoTag => co_tag_network(graph)?,
    };
    let config = LeidenConfig::builder()
        .resolution(settings.resolution)
        .seed(settings.seed)
        .skip_refinement(settings.method == Method::Louvain)
        .build();
    let output = Leiden::new(config)
        .run(&data)
        .context("community detection failed")?;
    let modularity = if data.total_weight() > 0.0 {
        leiden_rs::compute_modularity(&data, &output.partition)
    } else {
        0.0
    };
    let image_community = renumber_by_size(&output.partition.as_slice()[..n_images]);
    let count = image_community.iter().max().map_or(0, |&c| c as usize + 1);
    Ok(Detection {
        image_community,
        count,
        modularity,
    })
}

/// Community numbers `0..k` by decreasing size, ties by first occurrence.
pub fn renumber_by_size(raw: &[usize]) -> Vec<u32> {
    let mut size: HashMap<usize, (usize, usize)> = HashMap::new();
    for (i, &c) in raw.iter().enumerate() {
        size.entry(c).or_insert((0, i)).0 += 1;
    }
    let mut order: Vec<(usize, (usize, usize))> = size.into_iter().collect();
    order.sort_by_key(|&(_, (n, first))| (std::cmp::Reverse(n), first));
    let rank: HashMap<usize, u32> = order
        .iter()
        .enumerate()
        .map(|(r, &(c, _))| (c, r as u32))
        .collect();
    raw.iter().map(|c| rank[c]).collect()
}

fn image_tag_network(graph: &Graph) -> Result<GraphData> {
    let mut b = GraphDataBuilder::new(graph.node_count());
    for e in &graph.edges {
        // Confidences are in (0, 1]; an edge stored without one weighs 1.
        let w = f64::from(e.weight);
        let w = if w.is_finite() && w > 0.0 { w } else { 1.0 };
        b.add_edge(e.source as usize, e.target as usize, w)
            .context("building the network for community detection")?;
    }
    b.build()
        .context("building the network for community detection")
}

/// The image–image projection: each image linked to its
/// `CO_TAG_NEIGHBOURS` most similar images (cosine of tag-weight vectors),
/// edges kept once with the larger of the two directions' weights.
fn co_tag_network(graph: &Graph) -> Result<GraphData> {
    let n = graph.n_images;
    let norm: Vec<f64> = (0..n)
        .map(|i| {
            graph
                .neighbors(i)
                .map(|(_, w)| f64::from(w) * f64::from(w))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let neighbours: Vec<Vec<(u32, f64)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut dot: HashMap<u32, f64> = HashMap::new();
            for (tag, wi) in graph.neighbors(i) {
                for (j, wj) in graph.neighbors(tag as usize) {
                    if j as usize != i {
                        *dot.entry(j).or_default() += f64::from(wi) * f64::from(wj);
                    }
                }
            }
            let mut sims: Vec<(u32, f64)> = dot
                .into_iter()
                .filter_map(|(j, d)| {
                    let denom = norm[i] * norm[j as usize];
                    (denom > 0.0).then(|| (j, d / denom))
                })
                .filter(|&(_, s)| s > 0.0)
                .collect();
            sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            sims.truncate(CO_TAG_NEIGHBOURS);
            sims
        })
        .collect();
    let mut edges: HashMap<(u32, u32), f64> = HashMap::new();
    for (i, list) in neighbours.iter().enumerate() {
        for &(j, s) in list {
            let key = ((i as u32).min(j), (i as u32).max(j));
            let slot = edges.entry(key).or_insert(0.0);
            *slot = slot.max(s);
        }
    }
    let mut edges: Vec<((u32, u32), f64)> = edges.into_iter().collect();
    edges.sort_by_key(|&(k, _)| k);
    let mut b = GraphDataBuilder::new(n);
    for ((a, c), w) in edges {
        b.add_edge(a as usize, c as usize, w)
            .context("building the co-tag projection")?;
    }
    b.build().context("building the co-tag projection")
}

/// Gives each tag the cluster of the images it weighs most on (sum of edge
/// weights per cluster; ties to the lower cluster number); a tag on no
/// clustered image gets none. `image_cluster[i] == None` leaves image `i` out.
pub fn assign_tags(graph: &Graph, image_cluster: &[Option<u32>]) -> Vec<Option<u32>> {
    (graph.n_images..graph.node_count())
        .map(|tag| {
            let mut weight: HashMap<u32, f64> = HashMap::new();
            for (image, w) in graph.neighbors(tag) {
                if let Some(c) = image_cluster.get(image as usize).copied().flatten() {
                    *weight.entry(c).or_default() += f64::from(w);
                }
            }
            weight
                .into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(c, _)| c)
        })
        .collect()
}

/// Modularity of an image partition measured on the bipartite graph, tags
/// placed by `assign_tags` (for the summary after merging small clusters).
pub fn bipartite_modularity(graph: &Graph, image_cluster: &[Option<u32>]) -> f64 {
    let tags = assign_tags(graph, image_cluster);
    let mut next = image_cluster.iter().flatten().max().map_or(0, |&c| c + 1);
    let mut membership: Vec<usize> = Vec::with_capacity(graph.node_count());
    for c in image_cluster.iter().chain(tags.iter()) {
        membership.push(match c {
            Some(c) => *c as usize,
            None => {
                next += 1;
                next as usize
            }
        });
    }
    match image_tag_network(graph) {
        Ok(data) if data.total_weight() > 0.0 => {
            leiden_rs::compute_modularity(&data, &Partition::from_membership(membership))
        }
        _ => 0.0,
    }
}
