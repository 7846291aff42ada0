//! Automatic cluster labels: each cluster's tags ranked by class-based
//! TF-IDF (c-TF-IDF, as BERTopic defines it, with images as the words'
//! documents):
//!
//! ```text
//! score(t, c) = tf(t, c) · ln(1 + A / f(t))
//! ```
//!
//! - `tf(t, c)`: the number of images of cluster `c` tagged `t`;
//! - `f(t)`: the number of clustered images tagged `t`, over all clusters;
//! - `A`: the mean number of images per cluster.
//!
//! A tag on most images of one cluster and few elsewhere scores high; a
//! generic tag on every image of every cluster scores `|c|·ln(1 + 1/k)`, low
//! for k clusters. Tags are counted once per image whatever their
//! confidence, so a label reads as "how many of these images say so".
//! Tags are the graph's tags (already compared case-insensitively);
//! near-synonyms ("car", "automobile") stay separate entries, never merged.

use std::collections::HashMap;

use crate::graph::Graph;

/// How many top tags make a cluster's automatic name.
pub const SHOWN: usize = 3;

/// One ranked tag of a cluster.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TagScore {
    pub tag: String,
    pub score: f64,
    /// Images of the cluster carrying the tag.
    pub count: u32,
}

/// For each cluster `0..count`, its tags by decreasing c-TF-IDF (ties by
/// tag text). `image_cluster[i] == None` leaves image `i` out of the counts.
pub fn rank_tags(graph: &Graph, image_cluster: &[Option<u32>], count: usize) -> Vec<Vec<TagScore>> {
    let mut tf: Vec<HashMap<u32, u32>> = vec![HashMap::new(); count];
    let mut frequency: HashMap<u32, u32> = HashMap::new();
    let mut clustered_images = 0usize;
    for (image, cluster) in image_cluster.iter().enumerate().take(graph.n_images) {
        let Some(c) = cluster.map(|c| c as usize).filter(|&c| c < count) else {
            continue;
        };
        clustered_images += 1;
        for (tag, _) in graph.neighbors(image) {
            *tf[c].entry(tag).or_default() += 1;
            *frequency.entry(tag).or_default() += 1;
        }
    }
    let non_empty = image_cluster
        .iter()
        .flatten()
        .filter(|&&c| (c as usize) < count)
        .copied()
        .collect::<std::collections::BTreeSet<u32>>()
        .len()
        .max(1);
    let mean_images = clustered_images as f64 / non_empty as f64;
    tf.into_iter()
        .map(|counts| {
            let mut ranked: Vec<TagScore> = counts
                .into_iter()
                .map(|(tag, n)| {
                    let f = f64::from(frequency[&tag]);
                    TagScore {
                        tag: graph.nodes[tag as usize].label.clone(),
                        score: f64::from(n) * (1.0 + mean_images / f).ln(),
                        count: n,
                    }
                })
                .collect();
            ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.tag.cmp(&b.tag)));
            ranked
        })
        .collect()
}

/// The automatic name: the top `SHOWN` tags joined by " · ".
pub fn auto_name(ranked: &[TagScore]) -> String {
    ranked
        .iter()
        .take(SHOWN)
        .map(|t| t.tag.as_str())
        .collect::<Vec<_>>()
        .join(" · ")
}
