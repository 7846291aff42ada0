//! The cluster overlay: hull and label layers put into a renderer's draw
//! order (hulls over the images, labels on top of everything), and replaced
//! whole when the clusters change.

use glam::Vec2;

use crate::cluster::Cluster;
use crate::render::hulls::{HullLayer, OUTLINE_PX};
use crate::render::labels::LabelLayer;
use crate::render::{Camera, Layer, Renderer};

/// `CustomLayer::name` of the hull layer.
pub const HULLS: &str = "cluster hulls";
/// `CustomLayer::name` of the label layer.
pub const LABELS: &str = "cluster labels";

/// Which parts of the overlay to draw, and how large.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterOverlay {
    pub hulls: bool,
    pub labels: bool,
    /// Multiplies label sizes and outline widths (1 on a screen; larger for
    /// exports much wider than a screen).
    pub scale: f32,
    /// Decide label placement in this camera rather than each frame's (an
    /// export drawn in bands: the whole picture's camera).
    pub placement_view: Option<Camera>,
    /// The rectangle of `placement_view` (pixels, min and max) labels keep
    /// inside: a poster's map, clear of its title and legend. `None`: all of it.
    pub placement_area: Option<[Vec2; 2]>,
}

impl Default for ClusterOverlay {
    fn default() -> Self {
        ClusterOverlay {
            hulls: true,
            labels: true,
            scale: 1.0,
            placement_view: None,
            placement_area: None,
        }
    }
}

/// How the cluster labels of an overlay with a `placement_view` fared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelCount {
    /// Labels to draw: the visible, named clusters with a place.
    pub wanted: usize,
    /// Names of those with no room left in their region, largest first.
    pub unplaced: Vec<String>,
}

impl Renderer {
    /// Replaces the cluster overlay with one of `clusters` (empty `clusters`
    /// or both switches off removes it). Labels are skipped, with one
    /// warning, when the system has no font. With a `placement_view`, says
    /// how many labels found room in it.
    pub fn set_cluster_overlay(
        &mut self,
        clusters: &[Cluster],
        overlay: &ClusterOverlay,
    ) -> Option<LabelCount> {
        self.layers.retain(|l| match l {
            Layer::Custom(c) => c.name() != HULLS && c.name() != LABELS,
            _ => true,
        });
        if overlay.hulls {
            let layer = HullLayer::new(&self.shared, clusters, OUTLINE_PX * overlay.scale);
            // Over the images (a translucent tint) and under the tag dots.
            let at = self
                .layers
                .iter()
                .position(|l| matches!(l, Layer::Sprites))
                .map_or(self.layers.len(), |i| i + 1);
            self.layers.insert(at, Layer::Custom(Box::new(layer)));
        }
        if !overlay.labels {
            return None;
        }
        let mut layer = LabelLayer::new(&self.shared, clusters, overlay.scale)?;
        layer.set_placement_view(overlay.placement_view, overlay.placement_area);
        let count = overlay.placement_view.map(|view| LabelCount {
            wanted: layer.located(),
            unplaced: layer.unplaced(&view, overlay.placement_area),
        });
        self.layers.push(Layer::Custom(Box::new(layer)));
        count
    }

    /// (shown, wanted) cluster labels in the last frame drawn; `None`
    /// without a label layer.
    pub fn cluster_labels_shown(&self) -> Option<(usize, usize)> {
        self.layers.iter().find_map(|l| match l {
            Layer::Custom(c) if c.name() == LABELS => c.labels_shown(),
            _ => None,
        })
    }
}
