//! The viewer's live ForceAtlas2: the GPU backend steps a few iterations
//! per frame while the renderer draws straight from its position buffer
//! (no copy through the CPU per frame). Positions come back to the CPU only
//! now and then (for picking, thumbnail levels and fit-to-all) and when the
//! user pauses (to save them in the project).
//!
//! Hidden tags keep their node but their edges stop attracting: the
//! attraction coefficient of every CSR entry touching a hidden tag is 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use glam::Vec2;

use crate::gpu::GpuContext;
use crate::graph::Graph;
use crate::layout::gpu::GpuFa2;
use crate::layout::{ForceAtlas2Settings, LayoutInput, Placement, StepStats, placements};

/// How often positions are read back while the layout runs.
pub const READBACK_EVERY: Duration = Duration::from_millis(500);

/// `base` with the entries of every edge touching a hidden node set to 0
/// (`offsets`/`neighbors`: the graph's CSR, `base` in the same order).
pub fn masked_attraction(
    base: &[f32],
    offsets: &[u32],
    neighbors: &[u32],
    hidden: &[bool],
) -> Vec<f32> {
    let mut out = base.to_vec();
    for node in 0..offsets.len().saturating_sub(1) {
        let row = offsets[node] as usize..offsets[node + 1] as usize;
        let row_hidden = hidden.get(node).copied().unwrap_or(false);
        for k in row {
            let other_hidden = hidden.get(neighbors[k] as usize).copied().unwrap_or(false);
            if row_hidden || other_hidden {
                out[k] = 0.0;
            }
        }
    }
    out
}

pub struct LiveLayout {
    fa2: GpuFa2,
    pub settings: ForceAtlas2Settings,
    /// Coefficients for the current settings, before hiding.
    base_attraction: Vec<f32>,
    /// Node radii (as saved with the positions).
    sizes: Vec<f32>,
    pub running: bool,
    pub iterations_per_frame: usize,
    pub iterations: u64,
    last_readback: Instant,
    pub last_stats: Option<StepStats>,
}

impl LiveLayout {
    /// Uploads `graph` with `start` positions to the GPU of `ctx`.
    pub fn new(
        ctx: Arc<GpuContext>,
        graph: &Graph,
        settings: ForceAtlas2Settings,
        sizes: Vec<f32>,
        start: &[[f32; 2]],
        hidden: &[bool],
    ) -> Result<LiveLayout> {
        let (input, _) = LayoutInput::new(graph, sizes.clone(), &settings);
        let mut fa2 = GpuFa2::new(ctx, &input, &settings, start)?;
        let base_attraction = input.attraction;
        if hidden.iter().any(|&h| h) {
            fa2.set_attraction(&masked_attraction(
                &base_attraction,
                &graph.offsets,
                &graph.adjacency,
                hidden,
            ))?;
        }
        let n = graph.node_count();
        Ok(LiveLayout {
            fa2,
            settings,
            base_attraction,
            sizes,
            running: false,
            // Small graphs take several iterations per frame, large ones one.
            iterations_per_frame: if n < 20_000 { 4 } else { 1 },
            iterations: 0,
            last_readback: Instant::now(),
            last_stats: None,
        })
    }

    /// The buffer the renderer draws from while the layout runs.
    pub fn position_buffer(&self) -> &wgpu::Buffer {
        self.fa2.position_buffer()
    }

    /// Queues this frame's iterations (never waits).
    pub fn step_frame(&mut self) {
        if self.running {
            self.fa2.submit(self.iterations_per_frame);
            self.iterations += self.iterations_per_frame as u64;
        }
    }

    /// Whether a periodic readback is due.
    pub fn readback_due(&self, now: Instant) -> bool {
        self.running && now.duration_since(self.last_readback) >= READBACK_EVERY
    }

    /// Reads the positions (and the speed figures) back; waits for the GPU.
    pub fn read_positions(&mut self) -> Result<Vec<Vec2>> {
        self.last_readback = Instant::now();
        self.last_stats = Some(self.fa2.stats()?);
        let positions = crate::layout::Fa2Backend::positions(&mut self.fa2)?;
        Ok(positions.into_iter().map(Vec2::from_array).collect())
    }

    /// Positions and sizes to save; fails when a position is not finite.
    pub fn placements(&mut self) -> Result<Vec<Placement>> {
        let positions = self.read_positions()?;
        if let Some(i) = positions.iter().position(|p| !p.is_finite()) {
            anyhow::bail!(
                "the live layout produced a non-finite position for node {i}; nothing was saved — run `tagscape layout` instead and please report it"
            );
        }
        Ok(placements(
            positions.iter().map(|p| p.to_array()),
            &self.sizes,
        ))
    }

    /// New settings: strengths and modes at once; the per-edge coefficients
    /// are recomputed when a setting they depend on changed.
    pub fn set_settings(
        &mut self,
        graph: &Graph,
        settings: ForceAtlas2Settings,
        hidden: &[bool],
    ) -> Result<()> {
        let weights_changed = settings.edge_weight_influence != self.settings.edge_weight_influence
            || settings.normalize_edge_weights != self.settings.normalize_edge_weights
            || settings.outbound_attraction_distribution
                != self.settings.outbound_attraction_distribution;
        self.fa2.set_settings(&settings);
        self.settings = settings;
        if weights_changed {
            let (input, _) = LayoutInput::new(graph, self.sizes.clone(), &self.settings);
            self.base_attraction = input.attraction;
            self.set_hidden(graph, hidden)?;
        }
        Ok(())
    }

    /// Applies the hidden-node mask to the attraction on the GPU.
    pub fn set_hidden(&mut self, graph: &Graph, hidden: &[bool]) -> Result<()> {
        self.fa2.set_attraction(&masked_attraction(
            &self.base_attraction,
            &graph.offsets,
            &graph.adjacency,
            hidden,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, NodeKind};

    fn node(kind: NodeKind, id: &str) -> Node {
        Node {
            kind,
            id: id.into(),
            label: id.into(),
            image_id: None,
            frequency: 1,
        }
    }

    #[test]
    fn hiding_a_tag_zeroes_its_edges_in_both_directions() {
        // Images 0, 1; tags 2 ("a"), 3 ("b"); edges 0–2, 0–3, 1–3.
        let nodes = vec![
            node(NodeKind::Image, "i0"),
            node(NodeKind::Image, "i1"),
            node(NodeKind::Tag, "a"),
            node(NodeKind::Tag, "b"),
        ];
        let e = |source, target, weight| Edge {
            source,
            target,
            weight,
        };
        let graph = Graph::new(nodes, 2, vec![e(0, 2, 2.0), e(0, 3, 3.0), e(1, 3, 5.0)]);
        let base = graph.adjacency_weight.clone();
        let hidden = [false, false, false, true];
        let masked = masked_attraction(&base, &graph.offsets, &graph.adjacency, &hidden);
        // Every CSR entry whose edge touches tag 3 is 0, the others unchanged.
        for node in 0..4 {
            for k in graph.offsets[node] as usize..graph.offsets[node + 1] as usize {
                let touches = node == 3 || graph.adjacency[k] == 3;
                let expected = if touches { 0.0 } else { base[k] };
                assert_eq!(masked[k], expected, "entry {k} of node {node}");
            }
        }
        // Hand count: 0–3 and 1–3 appear twice each → 4 zeros; 0–2 stays (2 × 2.0).
        assert_eq!(masked.iter().filter(|&&w| w == 0.0).count(), 4);
        assert_eq!(masked.iter().sum::<f32>(), 4.0);
        // Nothing hidden: unchanged.
        assert_eq!(
            masked_attraction(&base, &graph.offsets, &graph.adjacency, &[false; 4]),
            base
        );
    }
}
