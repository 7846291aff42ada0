//! ForceAtlas2 settings, named and defaulted as in Gephi
//! (`ForceAtlas2.resetPropertiesValues`), saved in the project.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForceAtlas2Settings {
    /// kr: repulsion strength (Gephi "Scaling").
    pub scaling_ratio: f32,
    pub gravity: f32,
    /// Gravity grows with distance instead of being constant.
    pub strong_gravity_mode: bool,
    /// Attraction w·log(1+d) instead of w·d.
    pub lin_log_mode: bool,
    /// "Dissuade hubs": attraction divided by the source node's mass.
    pub outbound_attraction_distribution: bool,
    /// Edge weight raised to this power (0: weights ignored).
    pub edge_weight_influence: f32,
    /// "Prevent overlap": node sizes enter the forces.
    pub adjust_sizes: bool,
    pub barnes_hut_optimize: bool,
    /// Gephi's θ: a region is approximated when distance · θ > region size.
    pub barnes_hut_theta: f32,
    pub jitter_tolerance: f32,
    /// Min–max normalise edge weights into [0, 1] before use.
    pub normalize_edge_weights: bool,
}

impl Default for ForceAtlas2Settings {
    fn default() -> Self {
        ForceAtlas2Settings {
            scaling_ratio: 2.0,
            gravity: 1.0,
            strong_gravity_mode: false,
            lin_log_mode: false,
            outbound_attraction_distribution: false,
            edge_weight_influence: 1.0,
            adjust_sizes: false,
            barnes_hut_optimize: true,
            barnes_hut_theta: 1.2,
            jitter_tolerance: 1.0,
            normalize_edge_weights: false,
        }
    }
}

impl ForceAtlas2Settings {
    /// Gephi's defaults for a graph of `nodes` nodes: scaling 10 below 100
    /// nodes, Barnes–Hut only from 1000 nodes.
    pub fn for_graph(nodes: usize) -> Self {
        ForceAtlas2Settings {
            scaling_ratio: if nodes < 100 { 10.0 } else { 2.0 },
            barnes_hut_optimize: nodes >= 1000,
            ..Default::default()
        }
    }
}

/// Everything `tagscape layout` saves under the project's `layout` setting:
/// the ForceAtlas2 settings (flattened, so the JSON also reads as a plain
/// [`ForceAtlas2Settings`]) plus the run and node-size settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayoutSettings {
    #[serde(flatten)]
    pub fa2: ForceAtlas2Settings,
    #[serde(flatten)]
    pub size: crate::layout::SizeSettings,
    pub iterations: u32,
    pub seed: u64,
    /// Stop once the nodes' movement over the last
    /// [`convergence::WINDOW`](crate::layout::convergence::WINDOW)
    /// iterations, relative to the layout's radius, falls below
    /// `convergence_movement` (then `iterations` is the cap).
    pub until_converged: bool,
    pub convergence_movement: f32,
    /// Gephi's plain ForceAtlas2 over the whole graph, sized as in Gephi,
    /// instead of the map (regions, packing, overlap removal).
    pub plain: bool,
}

impl Default for LayoutSettings {
    fn default() -> Self {
        LayoutSettings {
            fa2: ForceAtlas2Settings::default(),
            size: crate::layout::SizeSettings::default(),
            iterations: 500,
            seed: 42,
            until_converged: false,
            convergence_movement: crate::layout::convergence::DEFAULT_MOVEMENT,
            plain: false,
        }
    }
}
