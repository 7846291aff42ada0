//! Planted-cluster image–tag graphs, the model of
//! `shared/bench/fa2/gen_graph.py` (same parameters and defaults, so figures
//! compare with the peers'; the random streams differ from NumPy's, so the
//! graphs are alike in distribution, not identical — for identical graphs
//! feed gen_graph.py's CSV to `tagscape bench layout --edges`).
//!
//! C clusters each own a vocabulary of V tags, the last `overlap`·V of them
//! taken from the next cluster on a ring; G generic tags are shared by all.
//! Each image picks a cluster and k ∈ [kmin, kmax] distinct tags: ~65% from
//! its vocabulary (Zipf 1.0), ~25% generic (Zipf 1.1), ~10% noise from
//! another cluster; weights 0.5 + 0.5·Beta(4, 1.5) for own tags, U(0.5, 1)
//! for generic ones, 0.5 + 0.5·Beta(1.5, 4) for noise.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Binomial, Distribution};

use crate::graph::{Edge, Graph, Node, NodeKind};

const GENERIC_NAMES: [&str; 25] = [
    "no person",
    "illustration",
    "outdoors",
    "indoors",
    "text",
    "people",
    "monochrome",
    "daylight",
    "close-up",
    "abstract",
    "art",
    "design",
    "nature",
    "color",
    "pattern",
    "sky",
    "vector",
    "background",
    "portrait",
    "landscape",
    "black and white",
    "graphic",
    "texture",
    "shape",
    "light",
];

#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticSpec {
    pub images: usize,
    pub clusters: usize,
    pub vocab: usize,
    pub generic: usize,
    pub overlap: f64,
    pub kmin: usize,
    pub kmax: usize,
    pub seed: u64,
}

impl SyntheticSpec {
    /// gen_graph.py's defaults for `images` images (its seed is 42 + N).
    pub fn new(images: usize) -> Self {
        SyntheticSpec {
            images,
            clusters: 20,
            vocab: 50,
            generic: 25,
            overlap: 0.2,
            kmin: 10,
            kmax: 20,
            seed: 42 + images as u64,
        }
    }
}

/// A generated graph and the cluster of each image (images are nodes `0..N`).
pub struct Synthetic {
    pub graph: Graph,
    pub clusters: Vec<u32>,
}

/// Cumulative distribution of Zipf popularity over `n` ranks with exponent `s`.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let p: Vec<f64> = (1..=n).map(|r| (r as f64).powf(-s)).collect();
    let total: f64 = p.iter().sum();
    let mut acc = 0.0;
    p.iter()
        .map(|x| {
            acc += x / total;
            acc
        })
        .collect()
}

fn draw(cdf: &[f64], rng: &mut impl RngExt) -> usize {
    let u: f64 = rng.random();
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

/// `count` distinct ranks by popularity (NumPy's choice without replacement:
/// each draw from the remaining ranks, renormalised — rejection does that).
fn draw_distinct(cdf: &[f64], count: usize, rng: &mut impl RngExt) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(count);
    while out.len() < count.min(cdf.len()) {
        let r = draw(cdf, rng);
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

pub fn generate(spec: &SyntheticSpec) -> Synthetic {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(spec.seed);
    let c_count = spec.clusters.max(1);
    let v = spec.vocab.max(1);
    let generic: Vec<String> = (0..spec.generic)
        .map(|i| match GENERIC_NAMES.get(i) {
            Some(name) => format!("tag:{name}"),
            None => format!("tag:generic_{i}"),
        })
        .collect();
    let n_shared = (spec.overlap * v as f64).round() as usize;
    let own = |c: usize, j: usize| format!("tag:c{c}_{j}");
    let vocab_of: Vec<Vec<String>> = (0..c_count)
        .map(|c| {
            let next = (c + 1) % c_count;
            let mut words: Vec<String> = (0..v - n_shared)
                .map(|j| own(c, j))
                .chain((v - n_shared..v).map(|j| own(next, j)))
                .collect();
            words.shuffle(&mut rng);
            words
        })
        .collect();
    let p_own = zipf_cdf(v, 1.0);
    let p_gen = zipf_cdf(spec.generic.max(1), 1.1);
    let beta_own = Beta::new(4.0, 1.5).expect("valid Beta parameters");
    let beta_noise = Beta::new(1.5, 4.0).expect("valid Beta parameters");

    let clusters: Vec<u32> = (0..spec.images)
        .map(|_| rng.random_range(0..c_count as u32))
        .collect();
    let mut raw: Vec<(u32, String, f32)> = Vec::new();
    for (i, &c) in clusters.iter().enumerate() {
        let c = c as usize;
        let k = rng.random_range(spec.kmin..=spec.kmax.max(spec.kmin));
        let n_own = Binomial::new(k as u64, 0.65)
            .expect("valid p")
            .sample(&mut rng) as usize;
        let n_gen = Binomial::new((k - n_own) as u64, 0.25 / 0.35)
            .expect("valid p")
            .sample(&mut rng) as usize;
        let n_noise = k - n_own - n_gen;
        // Insertion-ordered "dict.setdefault": the first weight of a tag wins.
        let mut chosen: Vec<(String, f32)> = Vec::with_capacity(k);
        let add = |tag: &str, w: f64, chosen: &mut Vec<(String, f32)>| {
            if !chosen.iter().any(|(t, _)| t == tag) {
                chosen.push((tag.to_string(), w as f32));
            }
        };
        for t in draw_distinct(&p_own, n_own, &mut rng) {
            let w = 0.5 + 0.5 * beta_own.sample(&mut rng);
            add(&vocab_of[c][t], w, &mut chosen);
        }
        if !generic.is_empty() {
            for t in draw_distinct(&p_gen, n_gen, &mut rng) {
                let w = rng.random_range(0.5..1.0);
                add(&generic[t], w, &mut chosen);
            }
        }
        for _ in 0..n_noise {
            if c_count < 2 {
                break;
            }
            let mut oc = rng.random_range(0..c_count - 1);
            if oc >= c {
                oc += 1;
            }
            let t = draw(&p_own, &mut rng);
            let w = 0.5 + 0.5 * beta_noise.sample(&mut rng);
            add(&vocab_of[oc][t], w, &mut chosen);
        }
        for (tag, w) in chosen {
            raw.push((i as u32, tag, w));
        }
    }
    Synthetic {
        graph: assemble(spec.images, raw),
        clusters,
    }
}

/// The graph of `images` images `i0..` and the tags of `raw` (image, tag,
/// weight; each pair once), tags after the images sorted by name
/// (gen_graph.py's node order), labelled without their `tag:` prefix.
fn assemble(images: usize, raw: Vec<(u32, String, f32)>) -> Graph {
    let mut tag_index: BTreeMap<&str, u32> = raw.iter().map(|(_, t, _)| (t.as_str(), 0)).collect();
    for (k, idx) in tag_index.values_mut().enumerate() {
        *idx = (images + k) as u32;
    }
    let mut nodes: Vec<Node> = (0..images)
        .map(|i| Node {
            kind: NodeKind::Image,
            id: format!("i{i}"),
            label: format!("i{i}"),
            image_id: None,
            frequency: 1,
        })
        .collect();
    let mut tag_freq = vec![0u32; tag_index.len()];
    let edges: Vec<Edge> = raw
        .iter()
        .map(|(image, tag, weight)| {
            let target = tag_index[tag.as_str()];
            tag_freq[target as usize - images] += 1;
            Edge {
                source: *image,
                target,
                weight: *weight,
            }
        })
        .collect();
    nodes.extend(tag_index.keys().zip(&tag_freq).map(|(t, &f)| Node {
        kind: NodeKind::Tag,
        id: t.to_string(),
        label: t.trim_start_matches("tag:").to_string(),
        image_id: None,
        frequency: f,
    }));
    Graph::new(nodes, images, edges)
}

/// A collection shaped like real keyword tagging rather than a vision API,
/// the shape plain ForceAtlas2 reads worst: 1 to 21 tags per image (mean
/// about 8), most tags carried by a single image, one hub tag on most
/// images, one dense block of a seventh of the images sharing four tags,
/// and a few images without any tag. `clusters` is each image's planted
/// topic (the block is a topic of its own; untagged images get topic 0).
pub fn keywords(images: usize, seed: u64) -> Synthetic {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let topics = (images / 70).max(2);
    let untagged = if images >= 100 { 5 } else { 0 };
    let block = images / 7;
    let p_topic = zipf_cdf(30, 1.0);
    let mut raw: Vec<(u32, String, f32)> = Vec::new();
    let mut clusters = Vec::with_capacity(images);
    for i in 0..images {
        if i >= images - untagged {
            clusters.push(0);
            continue;
        }
        let in_block = i < block;
        let topic = if in_block {
            topics as u32
        } else {
            rng.random_range(0..topics as u32)
        };
        clusters.push(topic);
        let k = 1 + (rng.random_range(0.0f64..1.0).powf(1.6) * 20.0) as usize;
        let mut chosen: Vec<String> = Vec::with_capacity(k + 5);
        if in_block {
            chosen.extend(["block:a", "block:b", "block:c", "block:d"].map(String::from));
        }
        for j in 0..k {
            let roll: f64 = rng.random();
            let tag = if roll < 0.4 && !in_block {
                format!("topic{topic}:{}", draw(&p_topic, &mut rng))
            } else if roll < 0.45 {
                "hub".to_string()
            } else {
                // Keywords used once in the whole collection.
                format!("once:{i}_{j}")
            };
            if !chosen.contains(&tag) {
                chosen.push(tag);
            }
        }
        for tag in chosen {
            raw.push((i as u32, tag, 1.0));
        }
    }
    Synthetic {
        graph: assemble(images, raw),
        clusters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_have_the_real_collections_shape() {
        let a = keywords(1911, 1);
        assert_eq!(a.graph.edges, keywords(1911, 1).graph.edges);
        let g = &a.graph;
        let untagged = (0..g.n_images).filter(|&i| g.degree(i) == 0).count();
        assert_eq!(untagged, 5);
        let mean = g.edges.len() as f64 / (g.n_images - untagged) as f64;
        assert!((5.0..=11.0).contains(&mean), "mean tags per image {mean}");
        let tags = g.node_count() - g.n_images;
        let once = (g.n_images..g.node_count())
            .filter(|&t| g.degree(t) == 1)
            .count();
        assert!(once * 2 > tags, "{once} of {tags} tags used once");
    }

    #[test]
    fn matches_the_models_shape_and_is_deterministic() {
        let a = generate(&SyntheticSpec::new(1000));
        let b = generate(&SyntheticSpec::new(1000));
        assert_eq!(a.graph.edges, b.graph.edges);
        assert_eq!(a.clusters, b.clusters);
        let g = &a.graph;
        assert_eq!(g.n_images, 1000);
        // 20·50 own tags + 25 generic at most; gen_graph.py's 1000-image
        // graph has 1,014 tags and 14,954 edges.
        let tags = g.node_count() - 1000;
        assert!((950..=1025).contains(&tags), "{tags} tags");
        assert!(
            (13_500..=16_500).contains(&g.edges.len()),
            "{} edges",
            g.edges.len()
        );
        for i in 0..1000 {
            let k = g.degree(i);
            assert!((1..=20).contains(&k), "image {i} has {k} tags");
        }
        // The top generic tag is a hub carried by most images (713 of 1000 there).
        let max_tag = (1000..g.node_count()).map(|t| g.degree(t)).max().unwrap();
        assert!(max_tag > 500, "max tag degree {max_tag}");
        assert!(g.edges.iter().all(|e| (0.5..=1.0).contains(&e.weight)));
    }
}
