//! Community detection on the image–tag network.
//!
//! Leiden and Louvain both come from `leiden-rs` (Louvain is its Leiden with
//! the refinement phase skipped, `skip_refinement`), always with a seed, so
//! the same graph and seed give the same clusters. Detection runs either on
//! the bipartite image–tag graph itself or on the image–image co-tag
//! projection (edge weight = cosine similarity of the two images' tag
//! vectors, each image keeping its strongest neighbours, found through a
//! bounded candidate search so that generic tags do not make it quadratic).
//! Leiden is re-run, with communities split where that raises modularity,
//! until the partition is stable (`optimise`). Either way the result is a
//! cluster per image; tags are then given the cluster where they weigh most
//! (`assign_tags`).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use leiden_rs::{
    GraphData, GraphDataBuilder, Leiden, LeidenConfig, Modularity, Partition, QualityFunction,
};
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
    let partition = optimise(&data, settings)?;
    let modularity = if data.total_weight() > 0.0 {
        leiden_rs::compute_modularity(&data, &partition)
    } else {
        0.0
    };
    let image_community = renumber_by_size(&partition.as_slice()[..n_images]);
    let count = image_community.iter().max().map_or(0, |&c| c as usize + 1);
    Ok(Detection {
        image_community,
        count,
        modularity,
    })
}

/// Rounds of improvement after the first Leiden run (each: split what
/// should be split, then Leiden from that partition); they stop as soon as
/// one does not raise the quality.
pub const MAX_ROUNDS: u64 = 10;

/// A round that raises the modularity by less than this changes nothing a
/// reader would see (at 100k planted images the third round gained 1.4e-8):
/// stop rather than spend another round.
const MIN_ROUND_GAIN: f64 = 1e-7;

/// A split is kept when it raises the modularity by more than rounding.
const MIN_SPLIT_GAIN: f64 = 1e-12;

/// Leiden (or Louvain) until the partition is stable. One run of leiden-rs
/// can end in a poor optimum on large graphs: at 100k planted images it
/// left four pairs of clusters that share nothing but generic tags merged,
/// and running it again from its own partition does not undo that (the
/// generic-tag hubs hold each pair together at every aggregation level).
/// So each round tries to split every community on its own
/// (`split_communities`), keeps the splits that raise the modularity of the
/// whole network, and runs Leiden again from the result to re-balance the
/// borders. Each round's seeds derive from the user's seed, so the result
/// is a function of graph and seed.
fn optimise(data: &GraphData, settings: &DetectSettings) -> Result<Partition> {
    let quality = Modularity::with_resolution(settings.resolution);
    let spinner = crate::ui::spinner("clusters");
    spinner.set_message("community detection, round 0");
    let mut best = Leiden::new(leiden_config(settings, settings.resolution, settings.seed))
        .run(data)
        .context("community detection failed")?
        .partition;
    let mut q = quality.total_quality(data, &best);
    for round in 1..=MAX_ROUNDS {
        let seed = settings.seed.wrapping_add(round);
        spinner.set_message(format!(
            "community detection, round {round}: {} communities, modularity {q:.4}",
            best.num_communities()
        ));
        let mut improved = false;
        if let Some(split) = split_communities(data, &best, settings, seed)? {
            let qs = quality.total_quality(data, &split);
            if qs > q + MIN_ROUND_GAIN {
                (best, q, improved) = (split, qs, true);
            }
        }
        let next = Leiden::new(leiden_config(settings, settings.resolution, seed))
            .run_with_initial_partition(data, best.clone())
            .context("community detection failed")?
            .partition;
        let qn = quality.total_quality(data, &next);
        if qn > q + MIN_ROUND_GAIN {
            (best, q, improved) = (next, qn, true);
        }
        tracing::debug!(
            round,
            quality = q,
            communities = best.num_communities(),
            "leiden round"
        );
        if !improved {
            break;
        }
    }
    spinner.finish_and_clear();
    best.renumber();
    Ok(best)
}

fn leiden_config(settings: &DetectSettings, resolution: f64, seed: u64) -> LeidenConfig {
    LeidenConfig::builder()
        .resolution(resolution)
        .seed(seed)
        .skip_refinement(settings.method == Method::Louvain)
        .build()
}

/// Runs Leiden inside each community of `partition` alone and splits the
/// community into the parts found when that raises the modularity of the
/// whole network (at `settings.resolution`); `None` when no community is
/// split. The community's subgraph keeps its nodes' whole-network degrees
/// (self-loops) and its resolution is scaled by its weight m_c / m, so that
/// its modularity equals, up to a constant, the whole network's restricted
/// to splitting this community; the gain is then checked on the whole
/// network.
fn split_communities(
    data: &GraphData,
    partition: &Partition,
    settings: &DetectSettings,
    seed: u64,
) -> Result<Option<Partition>> {
    let m = data.total_weight();
    if m <= 0.0 {
        return Ok(None);
    }
    let mut partition = partition.clone();
    partition.renumber();
    let n = data.node_count();
    let count = partition.num_communities();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    // Each node's index inside its community's subgraph.
    let local: Vec<usize> = (0..n)
        .map(|v| {
            let c = partition.community_of(v);
            members[c].push(v);
            members[c].len() - 1
        })
        .collect();
    let gamma = settings.resolution;
    let community_quality =
        |internal: f64, degree: f64| internal / m - gamma * (degree / (2.0 * m)).powi(2);
    let splits: Vec<Option<Vec<usize>>> = members
        .par_iter()
        .enumerate()
        .map(|(c, nodes)| -> Result<Option<Vec<usize>>> {
            if nodes.len() < 4 {
                return Ok(None);
            }
            let mut b = GraphDataBuilder::new(nodes.len());
            let mut internal = 0.0;
            let mut loops = 0.0;
            for &v in nodes {
                let mut external = 0.0;
                for (u, w) in data.neighbors(v) {
                    if partition.community_of(u) != c {
                        external += w;
                    } else if u > v {
                        b.add_edge(local[v], local[u], w)
                            .context("splitting a community")?;
                        internal += w;
                    }
                }
                // A self-loop of half the weight leaving the community gives
                // the node its whole-network degree (a loop counts twice),
                // so the null model sees generic-tag hubs as the hubs they
                // are; a loop is inside every part, so it moves nothing.
                if external > 0.0 {
                    b.add_edge(local[v], local[v], external / 2.0)
                        .context("splitting a community")?;
                    loops += external / 2.0;
                }
            }
            if internal <= 0.0 {
                return Ok(None);
            }
            let sub = b.build().context("splitting a community")?;
            let parts = Leiden::new(leiden_config(
                settings,
                gamma * (internal + loops) / m,
                seed ^ splitmix64(c as u64),
            ))
            .run(&sub)
            .context("community detection failed")?
            .partition;
            let k = parts.num_communities();
            if k < 2 {
                return Ok(None);
            }
            let mut part_internal = vec![0.0; k];
            let mut part_degree = vec![0.0; k];
            for (li, &v) in nodes.iter().enumerate() {
                let p = parts.community_of(li);
                part_degree[p] += data.degree_of(v);
                for (u, w) in sub.neighbors(li) {
                    if u > li && parts.community_of(u) == p {
                        part_internal[p] += w;
                    }
                }
            }
            let whole = community_quality(internal, part_degree.iter().sum());
            let split: f64 = (0..k)
                .map(|p| community_quality(part_internal[p], part_degree[p]))
                .sum();
            Ok((split > whole + MIN_SPLIT_GAIN).then(|| parts.as_slice().to_vec()))
        })
        .collect::<Result<_>>()?;
    if splits.iter().all(Option::is_none) {
        return Ok(None);
    }
    // Split parts get new community numbers after the existing ones.
    let mut next = count;
    let mut membership = partition.as_slice().to_vec();
    for (c, split) in splits.iter().enumerate() {
        if let Some(parts) = split {
            let base = next;
            for (li, &v) in members[c].iter().enumerate() {
                membership[v] = base + parts[li];
            }
            next += parts.iter().max().map_or(0, |&p| p + 1);
        }
    }
    Ok(Some(Partition::from_membership(membership)))
}

/// A fixed 64-bit mix (SplitMix64's finaliser): pseudo-random, and the
/// same on every machine and run.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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
    let projection = co_tag_projection(graph, CO_TAG_NEIGHBOURS, CO_TAG_CANDIDATES_PER_TAG);
    let mut b = GraphDataBuilder::new(graph.n_images);
    for (a, c, w) in projection.edges {
        b.add_edge(a as usize, c as usize, w)
            .context("building the co-tag projection")?;
    }
    b.build().context("building the co-tag projection")
}

/// How many images one tag offers an image as candidate neighbours. A tag
/// on fewer images offers all of them; a generic tag on most of the
/// collection offers a pseudo-random run of this many of its images, a
/// different one for every image. Comparing against every co-tagged image
/// instead grows with the square of tag popularity (a tag on 70% of 100k
/// images is 2.5·10⁹ pairs).
pub const CO_TAG_CANDIDATES_PER_TAG: usize = 256;

/// Candidates per image, ranked by the similarity their offered tags add
/// up to, whose exact cosine is then computed; the best `k` are kept.
const CO_TAG_RESCORED: usize = 4 * CO_TAG_NEIGHBOURS;

/// The co-tag projection and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct CoTagProjection {
    /// Undirected edges `(i, j, cosine)`, `i < j`, sorted.
    pub edges: Vec<(u32, u32, f64)>,
    /// (image, candidate) contributions accumulated, over all images: at most
    /// images × tags per image × `per_tag`, linear in the images.
    pub candidates: u64,
}

/// Each image's `k` most similar images by cosine of their tag-weight
/// vectors, among the candidates its tags offer (`per_tag` per tag, see
/// `CO_TAG_CANDIDATES_PER_TAG`). Similarities are exact; only the candidate
/// search is bounded, so memory and time stay linear in the images.
/// Deterministic: where a popular tag's run starts is a fixed hash of
/// (image, tag). The runs are independent between images and tags; a
/// window around the image in one shared order would make images close in
/// that order each other's candidates through every popular tag, and the
/// projection a chain that modularity then cuts into pieces.
pub fn co_tag_projection(graph: &Graph, k: usize, per_tag: usize) -> CoTagProjection {
    let n = graph.n_images;
    let per_tag = per_tag.max(1);
    let norm: Vec<f64> = (0..n)
        .map(|i| {
            graph
                .neighbors(i)
                .map(|(_, w)| f64::from(w) * f64::from(w))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let bar = crate::ui::progress(n as u64, "co-tag");
    let per_image: Vec<(Vec<(u32, f64)>, u64)> = (0..n)
        .into_par_iter()
        .map_init(Vec::new, |scratch: &mut Vec<(u32, f64)>, i| {
            scratch.clear();
            for (tag, wi) in graph.neighbors(i) {
                let range =
                    graph.offsets[tag as usize] as usize..graph.offsets[tag as usize + 1] as usize;
                let images = &graph.adjacency[range.clone()];
                let weights = &graph.adjacency_weight[range];
                let len = images.len();
                let (start, take) = if len <= per_tag {
                    (0, len)
                } else {
                    let h = splitmix64(((i as u64) << 32) | u64::from(tag));
                    ((h % len as u64) as usize, per_tag)
                };
                for step in 0..take {
                    let at = (start + step) % len;
                    let j = images[at];
                    if j as usize != i {
                        scratch.push((j, f64::from(wi) * f64::from(weights[at])));
                    }
                }
            }
            let considered = scratch.len() as u64;
            // Sum the contributions per candidate, then divide by its norm:
            // the cosine as far as the offered tags tell (exact when no tag
            // was sampled), which ranks the candidates to rescore.
            scratch.sort_unstable_by_key(|&(j, _)| j);
            let mut summed: Vec<(u32, f64)> = Vec::new();
            for &(j, d) in scratch.iter() {
                match summed.last_mut() {
                    Some((last, total)) if *last == j => *total += d,
                    _ => summed.push((j, d)),
                }
            }
            for (j, d) in &mut summed {
                let nj = norm[*j as usize];
                *d = if nj > 0.0 { *d / nj } else { 0.0 };
            }
            let by_score = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
            if summed.len() > CO_TAG_RESCORED.max(k) {
                summed.select_nth_unstable_by(CO_TAG_RESCORED.max(k) - 1, by_score);
                summed.truncate(CO_TAG_RESCORED.max(k));
            }
            let mut best: Vec<(u32, f64)> = summed
                .into_iter()
                .filter_map(|(j, _)| {
                    let denom = norm[i] * norm[j as usize];
                    let s = dot(graph, i, j as usize) / denom;
                    (denom > 0.0 && s > 0.0).then_some((j, s))
                })
                .collect();
            best.sort_by(by_score);
            best.truncate(k);
            // An exact-sized list: a truncated one keeps its capacity, and
            // n lists of n candidates were the projection's memory.
            best.shrink_to_fit();
            bar.inc(1);
            (best, considered)
        })
        .collect();
    bar.finish_and_clear();

    let candidates = per_image.iter().map(|(_, c)| c).sum();
    let mut edges: Vec<(u32, u32, f64)> = per_image
        .iter()
        .enumerate()
        .flat_map(|(i, (list, _))| {
            list.iter()
                .map(move |&(j, s)| ((i as u32).min(j), (i as u32).max(j), s))
        })
        .collect();
    // Both directions of a pair carry the same exact cosine: keep one.
    edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
    edges.dedup_by_key(|&mut (a, b, _)| (a, b));
    CoTagProjection { edges, candidates }
}

/// Dot product of two images' tag-weight vectors (tag lists are sorted).
fn dot(graph: &Graph, a: usize, b: usize) -> f64 {
    let mut x = graph.neighbors(a).peekable();
    let mut y = graph.neighbors(b).peekable();
    let mut total = 0.0;
    while let (Some(&(ta, wa)), Some(&(tb, wb))) = (x.peek(), y.peek()) {
        match ta.cmp(&tb) {
            std::cmp::Ordering::Less => {
                x.next();
            }
            std::cmp::Ordering::Greater => {
                y.next();
            }
            std::cmp::Ordering::Equal => {
                total += f64::from(wa) * f64::from(wb);
                x.next();
                y.next();
            }
        }
    }
    total
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, NodeKind};

    /// `images` images; image i carries tag `i % groups` (weight 1) and,
    /// with `hub`, one tag on every image (weight 0.5).
    fn grouped(images: usize, groups: usize, hub: bool) -> Graph {
        let node = |kind, id: String| Node {
            kind,
            label: id.clone(),
            id,
            image_id: None,
            frequency: 1,
        };
        let mut nodes: Vec<Node> = (0..images)
            .map(|i| node(NodeKind::Image, format!("i{i}")))
            .collect();
        nodes.extend((0..groups).map(|g| node(NodeKind::Tag, format!("g{g}"))));
        let hub_index = (images + groups) as u32;
        if hub {
            nodes.push(node(NodeKind::Tag, "hub".into()));
        }
        let mut edges = Vec::new();
        for i in 0..images {
            edges.push(Edge {
                source: i as u32,
                target: (images + i % groups) as u32,
                weight: 1.0,
            });
            if hub {
                edges.push(Edge {
                    source: i as u32,
                    target: hub_index,
                    weight: 0.5,
                });
            }
        }
        Graph::new(nodes, images, edges)
    }

    #[test]
    fn a_hub_tag_on_every_image_keeps_the_projection_linear() {
        let (n, groups, per_tag) = (3000, 30, 64);
        let g = grouped(n, groups, true);
        let p = co_tag_projection(&g, CO_TAG_NEIGHBOURS, per_tag);
        // Every image is co-tagged with all 2999 others through the hub; an
        // unbounded search would accumulate n² = 9·10⁶ contributions.
        assert!(
            p.candidates <= (n * 2 * per_tag) as u64,
            "{} candidate contributions",
            p.candidates
        );
        assert!(
            p.edges.len() <= n * CO_TAG_NEIGHBOURS,
            "{} edges",
            p.edges.len()
        );
        // Sharing the specific tag (cosine 1) beats sharing only the hub
        // (0.2), so every kept edge joins two images of one group.
        for &(a, b, s) in &p.edges {
            assert_eq!(
                a as usize % groups,
                b as usize % groups,
                "edge {a}–{b} ({s})"
            );
            assert!((s - 1.0).abs() < 1e-9, "cosine {s}");
        }
        // And each image has its full k neighbours (groups have 100 images).
        let mut degree = vec![0usize; n];
        for &(a, b, _) in &p.edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        assert!(degree.iter().all(|&d| d >= CO_TAG_NEIGHBOURS));
    }

    #[test]
    fn small_tags_give_the_exact_nearest_neighbours() {
        let g =
            crate::layout::synthetic::generate(&crate::layout::synthetic::SyntheticSpec::new(400))
                .graph;
        let k = 5;
        // per_tag above every tag's degree: nothing is sampled.
        let p = co_tag_projection(&g, k, 400);
        let norm = |i: usize| dot(&g, i, i).sqrt();
        let mut expected: Vec<(u32, u32, f64)> = Vec::new();
        for i in 0..400 {
            let mut sims: Vec<(u32, f64)> = (0..400)
                .filter(|&j| j != i)
                .map(|j| (j as u32, dot(&g, i, j) / (norm(i) * norm(j))))
                .filter(|&(_, s)| s > 0.0)
                .collect();
            sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(j, s) in sims.iter().take(k) {
                expected.push(((i as u32).min(j), (i as u32).max(j), s));
            }
        }
        expected.sort_by_key(|&(a, b, _)| (a, b));
        expected.dedup_by_key(|&mut (a, b, _)| (a, b));
        assert_eq!(p.edges.len(), expected.len());
        for (got, want) in p.edges.iter().zip(&expected) {
            assert_eq!((got.0, got.1), (want.0, want.1));
            assert!((got.2 - want.2).abs() < 1e-12);
        }
    }

    #[test]
    fn a_split_that_raises_modularity_is_taken() {
        // Two 4-cliques joined by one edge, given as one community: the
        // split pass separates them.
        let mut b = GraphDataBuilder::new(8);
        for base in [0, 4] {
            for x in 0..4 {
                for y in x + 1..4 {
                    b.add_edge(base + x, base + y, 1.0).unwrap();
                }
            }
        }
        b.add_edge(3, 4, 1.0).unwrap();
        let data = b.build().unwrap();
        let merged = Partition::from_membership(vec![0; 8]);
        let split = split_communities(&data, &merged, &DetectSettings::default(), 1)
            .unwrap()
            .expect("the two cliques are split");
        let m = split.as_slice();
        assert!(m[..4].iter().all(|&c| c == m[0]));
        assert!(m[4..].iter().all(|&c| c == m[4]));
        assert_ne!(m[0], m[4]);
        // Already split: nothing more to split.
        assert!(
            split_communities(&data, &split, &DetectSettings::default(), 1)
                .unwrap()
                .is_none()
        );
    }
}
