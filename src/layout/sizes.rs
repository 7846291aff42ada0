//! Node sizes, as the recipe ranks them in Gephi: by degree (images by how
//! many tags they carry, tags by how many images carry them) or by how often
//! a URL occurred in the inputs, mapped linearly onto [min, max] (Gephi's
//! ranking with the linear interpolator). Images and tags are ranked
//! together, so a hub tag is the largest node on the map.

use serde::{Deserialize, Serialize};

use crate::graph::Graph;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SizeBy {
    Degree,
    Frequency,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SizeSettings {
    pub size_by: SizeBy,
    pub min_size: f32,
    pub max_size: f32,
}

impl Default for SizeSettings {
    fn default() -> Self {
        // Gephi's size ranking defaults.
        SizeSettings {
            size_by: SizeBy::Degree,
            min_size: 10.0,
            max_size: 50.0,
        }
    }
}

/// The size of every node of `graph`.
pub fn node_sizes(graph: &Graph, settings: &SizeSettings) -> Vec<f32> {
    let values: Vec<f64> = (0..graph.node_count())
        .map(|i| match settings.size_by {
            SizeBy::Degree => f64::from(graph.degree(i)),
            SizeBy::Frequency => f64::from(graph.nodes[i].frequency),
        })
        .collect();
    rank_linear(&values, settings.min_size, settings.max_size)
}

/// Maps `values` linearly from their own [min, max] onto [lo, hi]; all equal → lo.
fn rank_linear(values: &[f64], lo: f32, hi: f32) -> Vec<f32> {
    let (vmin, vmax) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    values
        .iter()
        .map(|&v| {
            if vmax > vmin {
                (f64::from(lo) + (v - vmin) / (vmax - vmin) * f64::from(hi - lo)) as f32
            } else {
                lo
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ranking_maps_extremes_to_the_range() {
        let s = rank_linear(&[1.0, 3.0, 5.0], 10.0, 50.0);
        assert_eq!(s, vec![10.0, 30.0, 50.0]);
        assert_eq!(rank_linear(&[2.0, 2.0], 4.0, 8.0), vec![4.0, 4.0]);
        assert!(rank_linear(&[], 1.0, 2.0).is_empty());
    }
}
