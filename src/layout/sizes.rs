//! Node sizes (the half-side of the square an image is drawn in).
//!
//! * On the map (the default) images are sized for reading: all one size
//!   (`uniform`), or ranked among images only by how often they were shared
//!   (`frequency`, on the square root, so area follows the count) or by
//!   how many tags they carry (`degree`), onto [min, max]. Tags are small
//!   dots, ranked by degree onto a fraction of the image size, so a hub tag
//!   never dwarfs the pictures.
//! * Plain ForceAtlas2 (`--plain`) sizes as the recipe ranks them in
//!   Gephi: images and tags together, by degree or frequency, mapped
//!   linearly onto [min, max] (Gephi's ranking with the linear
//!   interpolator), so a hub tag is the largest node.

use serde::{Deserialize, Serialize};

use crate::graph::Graph;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SizeBy {
    /// Every image the same size (map only; plain mode ranks by degree).
    Uniform,
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
        SizeSettings {
            size_by: SizeBy::Uniform,
            min_size: 10.0,
            max_size: 30.0,
        }
    }
}

impl SizeSettings {
    /// Gephi's size ranking defaults, for plain ForceAtlas2.
    pub fn gephi() -> Self {
        SizeSettings {
            size_by: SizeBy::Degree,
            min_size: 10.0,
            max_size: 50.0,
        }
    }
}

/// Tag dots on the map: ranked by degree onto this share of `min_size`.
const TAG_DOT: (f32, f32) = (0.2, 0.5);

/// The size of every node of `graph` for plain ForceAtlas2: images and tags
/// ranked together, as in Gephi.
pub fn node_sizes(graph: &Graph, settings: &SizeSettings) -> Vec<f32> {
    let values: Vec<f64> = (0..graph.node_count())
        .map(|i| match settings.size_by {
            SizeBy::Degree | SizeBy::Uniform => f64::from(graph.degree(i)),
            SizeBy::Frequency => f64::from(graph.nodes[i].frequency),
        })
        .collect();
    rank_linear(&values, settings.min_size, settings.max_size)
}

/// The size of every node of `graph` on the map: images ranked among
/// themselves (or all `min_size`), tags as small dots.
pub fn map_sizes(graph: &Graph, settings: &SizeSettings) -> Vec<f32> {
    let images: Vec<f64> = (0..graph.n_images)
        .map(|i| match settings.size_by {
            SizeBy::Uniform => 0.0,
            SizeBy::Degree => f64::from(graph.degree(i)),
            SizeBy::Frequency => f64::from(graph.nodes[i].frequency).sqrt(),
        })
        .collect();
    let tags: Vec<f64> = (graph.n_images..graph.node_count())
        .map(|i| f64::from(graph.degree(i)))
        .collect();
    let mut sizes = rank_linear(&images, settings.min_size, settings.max_size);
    sizes.extend(rank_linear(
        &tags,
        TAG_DOT.0 * settings.min_size,
        TAG_DOT.1 * settings.min_size,
    ));
    sizes
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

    #[test]
    fn map_sizes_rank_images_apart_from_tags() {
        use crate::graph::{Edge, Node, NodeKind};
        let node = |kind, id: &str, frequency| Node {
            kind,
            id: id.into(),
            label: id.into(),
            image_id: None,
            frequency,
        };
        // Image a shared 9 times, b once; tag h on both (a hub), t on a.
        let g = Graph::new(
            vec![
                node(NodeKind::Image, "a", 9),
                node(NodeKind::Image, "b", 1),
                node(NodeKind::Tag, "h", 2),
                node(NodeKind::Tag, "t", 1),
            ],
            2,
            vec![
                Edge {
                    source: 0,
                    target: 2,
                    weight: 1.0,
                },
                Edge {
                    source: 1,
                    target: 2,
                    weight: 1.0,
                },
                Edge {
                    source: 0,
                    target: 3,
                    weight: 1.0,
                },
            ],
        );
        let uniform = map_sizes(&g, &SizeSettings::default());
        assert_eq!(uniform, vec![10.0, 10.0, 5.0, 2.0]);
        let by_frequency = SizeSettings {
            size_by: SizeBy::Frequency,
            ..Default::default()
        };
        assert_eq!(map_sizes(&g, &by_frequency), vec![30.0, 10.0, 5.0, 2.0]);
        // Plain mode ranks the hub tag with the images.
        assert_eq!(
            node_sizes(&g, &SizeSettings::gephi()),
            vec![50.0, 10.0, 50.0, 10.0]
        );
    }
}
