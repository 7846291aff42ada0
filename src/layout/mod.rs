//! ForceAtlas2: settings, the CPU Barnes–Hut reference and the GPU driver.
//!
//! Both backends lay out the same [`LayoutInput`] (the graph as CSR arrays
//! with every per-edge and per-node constant already folded in) and implement
//! [`Fa2Backend`]. The forces are Gephi's (see `shared/bench/fa2/README.md`):
//!
//! * mass m = 1 + degree;
//! * repulsion kr·m₁·m₂/d (prevent overlap: d' = d − s₁ − s₂, kr·m₁·m₂·d/d'²
//!   with d' at least [`CONTACT_GAP`]·(s₁ + s₂), overlapping nodes included:
//!   Gephi's law without its unbounded spike at contact, see there);
//! * attraction `attraction[k]`·d, or `attraction[k]`·ln(1+d) in LinLog mode
//!   (prevent overlap: on d' only when d' > 0, linear uses the coefficient alone);
//! * gravity m·g toward the origin, or m·g·d in strong gravity mode;
//! * Gephi's adaptive global speed (post-2015 formulas) in [`speed`].
//!
//! Nodes at identical positions repel along a fixed direction derived from
//! their two indices ([`coincident_direction`]) at distance [`MIN_DISTANCE`],
//! so no force is ever NaN or infinite and every backend agrees.

pub mod convergence;
mod cpu;
pub mod gpu;
pub mod map;
pub mod map_quality;
mod positions;
mod quadtree;
pub mod quality;
mod run;
mod settings;
pub mod sizes;
pub mod speed;
pub mod synthetic;

use anyhow::Result;

use crate::graph::Graph;

pub use cpu::CpuFa2;
pub use positions::{Placement, load_positions, placements, save_positions, undo_positions};
pub use run::{
    LayoutReport, MapSummary, default_settings, detected_groups, lay_out_map, lay_out_plain,
    run_layout, saved_settings,
};
pub use settings::{ForceAtlas2Settings, LayoutSettings};
pub use sizes::{SizeBy, SizeSettings, map_sizes, node_sizes};

/// Prevent overlap: gaps between two nodes' edges below this fraction of
/// their size sum count as this (overlapping nodes too), so the repulsion
/// kr·m₁·m₂·d/gap² is one continuous law, bounded at contact.
///
/// Gephi has three branches instead: kr·m₁·m₂·d/gap² down to gap 0 (which
/// grows without bound as two nodes touch), 0 at exactly gap 0, and
/// 100·kr·m₁·m₂·d when overlapping — the same law with the gap floored at
/// 0.1 *units*, whatever the node sizes. With sizes 10..50 and hub masses
/// in the hundreds those contact forces are 10⁴–10⁸ times the layout's
/// other forces; Gephi's per-node step grows with √|F|, so nearly every
/// node hit the 10-unit step cap every iteration and the layout never
/// settled (swing per node in the millions, overlaps never resolved). A
/// floor relative to the sizes keeps contacts as stiff for big nodes as
/// for small ones, and swing bounded.
pub const CONTACT_GAP: f32 = 0.03;

/// Distances below this count as this, along [`coincident_direction`].
pub const MIN_DISTANCE: f32 = 1e-3;

/// The graph as both backends consume it: CSR over both directions (each
/// undirected edge appears once in each endpoint's list, so applying every
/// entry to its row's node applies each edge to both ends exactly once).
#[derive(Clone, Debug, Default)]
pub struct LayoutInput {
    /// `neighbors[offsets[i]..offsets[i+1]]` are the nodes adjacent to `i`.
    pub offsets: Vec<u32>,
    pub neighbors: Vec<u32>,
    /// Attraction coefficient of each CSR entry: the (sanitised, optionally
    /// normalised) weight raised to `edge_weight_influence`, and under
    /// "dissuade hubs" divided by the mass of the edge's source (its image
    /// end) and multiplied by Gephi's outboundAttCompensation (mean mass).
    pub attraction: Vec<f32>,
    /// 1 + degree (Gephi).
    pub mass: Vec<f32>,
    /// Node radius, used only by prevent overlap.
    pub sizes: Vec<f32>,
}

impl LayoutInput {
    pub fn node_count(&self) -> usize {
        self.mass.len()
    }

    pub fn edge_entries(&self) -> usize {
        self.neighbors.len()
    }

    /// Prepares `graph` for `settings`. Weights that are NaN, infinite or
    /// negative are replaced by 0 (an edge that does not attract) and counted
    /// in the returned number, for the caller to warn about.
    pub fn new(
        graph: &Graph,
        sizes: Vec<f32>,
        settings: &ForceAtlas2Settings,
    ) -> (LayoutInput, usize) {
        let n = graph.node_count();
        let mut bad = 0usize;
        let mut w: Vec<f32> = graph
            .adjacency_weight
            .iter()
            .map(|&w| {
                if w.is_finite() && w >= 0.0 {
                    w
                } else {
                    bad += 1;
                    0.0
                }
            })
            .collect();
        // Each edge sits twice in the CSR; report it once.
        bad /= 2;
        if settings.normalize_edge_weights && !w.is_empty() {
            // Gephi: min–max into [0, 1]; all equal → all 1.
            let (lo, hi) = w
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            for x in &mut w {
                *x = if hi > lo { (*x - lo) / (hi - lo) } else { 1.0 };
            }
        }
        let influence = settings.edge_weight_influence;
        if influence == 0.0 {
            w.iter_mut().for_each(|x| *x = 1.0);
        } else if influence != 1.0 {
            w.iter_mut().for_each(|x| *x = x.powf(influence));
        }
        let mass: Vec<f32> = (0..n).map(|i| 1.0 + graph.degree(i) as f32).collect();
        if settings.outbound_attraction_distribution && n > 0 {
            let compensation = (mass.iter().map(|&m| f64::from(m)).sum::<f64>() / n as f64) as f32;
            for i in 0..n {
                let range = graph.offsets[i] as usize..graph.offsets[i + 1] as usize;
                for k in range {
                    // The image end is the edge's source; images come first.
                    let source = (i as u32).min(graph.adjacency[k]) as usize;
                    w[k] *= compensation / mass[source];
                }
            }
        }
        let sizes = if sizes.len() == n {
            sizes
        } else {
            vec![1.0; n]
        };
        (
            LayoutInput {
                offsets: graph.offsets.clone(),
                neighbors: graph.adjacency.clone(),
                attraction: w,
                mass,
                sizes,
            },
            bad,
        )
    }
}

/// The adaptive-speed figures of one iteration (totals weighted by mass, as Gephi).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    pub swing: f32,
    pub traction: f32,
    /// Global speed used for this iteration's moves.
    pub speed: f32,
}

/// One ForceAtlas2 engine. Iterations are stepped one at a time so callers
/// can show progress, test convergence and stop on Ctrl-C.
pub trait Fa2Backend {
    /// "cpu" or "gpu".
    fn name(&self) -> &'static str;
    /// Runs one iteration: forces, adaptive speed, moves.
    fn step(&mut self) -> Result<StepStats>;
    /// Current positions, in node order.
    fn positions(&mut self) -> Result<Vec<[f32; 2]>>;
}

/// Which engine to use.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Gpu,
    Cpu,
}

/// Fixed unit direction used to separate nodes `i` and `j` when they share a
/// position: antisymmetric (node `i` is pushed along it, `j` the other way),
/// and a function of the two indices only.
pub fn coincident_direction(i: usize, j: usize) -> [f32; 2] {
    let (lo, hi, sign) = if i < j { (i, j, 1.0) } else { (j, i, -1.0) };
    // splitmix64 of the pair: well spread, no state.
    let mut z = (lo as u64) << 32 ^ hi as u64;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let angle = (z >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
    [(sign * angle.cos()) as f32, (sign * angle.sin()) as f32]
}

/// Repulsion between two nodes acting on the first: the vector (dx, dy) goes
/// from node `j` to node `i`. Shared by the exact sum, the Barnes–Hut leaves
/// and the tests.
#[inline]
pub fn pair_repulsion(
    i: usize,
    j: usize,
    dx: f32,
    dy: f32,
    kr_mm: f32,
    size_sum: Option<f32>,
) -> [f32; 2] {
    let mut d2 = dx * dx + dy * dy;
    let (mut dx, mut dy) = (dx, dy);
    if d2 < MIN_DISTANCE * MIN_DISTANCE {
        let dir = coincident_direction(i, j);
        dx = dir[0] * MIN_DISTANCE;
        dy = dir[1] * MIN_DISTANCE;
        d2 = MIN_DISTANCE * MIN_DISTANCE;
    }
    let factor = match size_sum {
        None => kr_mm / d2,
        Some(s) => {
            let gap = (d2.sqrt() - s).max(CONTACT_GAP * s);
            kr_mm / (gap * gap)
        }
    };
    [dx * factor, dy * factor]
}

/// Exact O(n²) repulsion on every node (each node summed over all others in
/// index order, in f64): the reference for the Barnes–Hut and GPU kernels.
/// `sizes` switches on the prevent-overlap variant.
pub fn exact_repulsion(
    positions: &[[f32; 2]],
    mass: &[f32],
    sizes: Option<&[f32]>,
    scaling_ratio: f32,
) -> Vec<[f32; 2]> {
    use rayon::prelude::*;
    (0..positions.len())
        .into_par_iter()
        .map(|i| {
            let (mut fx, mut fy) = (0f64, 0f64);
            for j in 0..positions.len() {
                if j == i {
                    continue;
                }
                let f = pair_repulsion(
                    i,
                    j,
                    positions[i][0] - positions[j][0],
                    positions[i][1] - positions[j][1],
                    scaling_ratio * mass[i] * mass[j],
                    sizes.map(|s| s[i] + s[j]),
                );
                fx += f64::from(f[0]);
                fy += f64::from(f[1]);
            }
            [fx as f32, fy as f32]
        })
        .collect()
}

/// Random start positions, uniform in [-√n, √n]² as the peers start, from `seed`.
pub fn random_positions(n: usize, seed: u64) -> Vec<[f32; 2]> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let half = (n as f32).sqrt().max(1.0);
    (0..n)
        .map(|_| [rng.random_range(-half..half), rng.random_range(-half..half)])
        .collect()
}

/// Random start positions for prevent overlap: [`random_positions`] spread
/// out, when the nodes' sizes need it, to a square as large as their
/// bounding squares side by side (side² = Σ(2s)²). The peers' √n square
/// assumes nodes of size ~1: with sizes 10..50 it starts every node inside
/// hundreds of others, and the layout would spend its iterations unpacking.
pub fn random_positions_sized(sizes: &[f32], seed: u64) -> Vec<[f32; 2]> {
    let n = sizes.len();
    let half = (n as f64).sqrt().max(1.0);
    let needed = sizes
        .iter()
        .map(|&s| f64::from(2.0 * s).powi(2))
        .sum::<f64>()
        .sqrt()
        / 2.0;
    let scale = (needed / half).max(1.0) as f32;
    let mut p = random_positions(n, seed);
    for q in &mut p {
        q[0] *= scale;
        q[1] *= scale;
    }
    p
}

/// Creates the engine of `kind` for `input`, starting from `initial`.
pub fn new_backend<'a>(
    kind: BackendKind,
    input: &'a LayoutInput,
    settings: &ForceAtlas2Settings,
    initial: Vec<[f32; 2]>,
) -> Result<Box<dyn Fa2Backend + 'a>> {
    match kind {
        BackendKind::Cpu => Ok(Box::new(CpuFa2::new(input, settings, initial))),
        BackendKind::Gpu => Ok(Box::new(gpu::new_gpu_backend(input, settings, &initial)?)),
    }
}

/// Whether a GPU backend can run here (an adapter exists and the backend is built).
pub fn gpu_available() -> bool {
    crate::gpu::GpuContext::adapter_available()
}
