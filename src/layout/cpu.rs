//! The CPU reference: Gephi's ForceAtlas2 with a Barnes–Hut quadtree rebuilt
//! every iteration, forces computed per node in parallel (rayon).
//!
//! Deterministic whatever the thread count: every node's force is computed
//! by one task from data fixed for the iteration (no shared accumulators),
//! and the only sums over nodes (swing and traction) run over fixed chunks
//! added up in chunk order.

use anyhow::Result;
use rayon::prelude::*;

use crate::layout::quadtree::{Body, QuadTree};
use crate::layout::speed::{GlobalSpeed, node_factor};
use crate::layout::{Fa2Backend, ForceAtlas2Settings, LayoutInput, StepStats, exact_repulsion};

/// Nodes per task for the per-node passes, and per partial sum.
const CHUNK: usize = 1024;

pub struct CpuFa2<'a> {
    input: &'a LayoutInput,
    settings: ForceAtlas2Settings,
    positions: Vec<[f32; 2]>,
    forces: Vec<[f32; 2]>,
    old_forces: Vec<[f32; 2]>,
    speed: GlobalSpeed,
    tree: QuadTree,
    /// Tree position of each node, to read its repulsion.
    rank: Vec<u32>,
    repulsion_sorted: Vec<[f32; 2]>,
}

impl<'a> CpuFa2<'a> {
    pub fn new(
        input: &'a LayoutInput,
        settings: &ForceAtlas2Settings,
        initial: Vec<[f32; 2]>,
    ) -> Self {
        let n = input.node_count();
        assert_eq!(initial.len(), n, "one start position per node");
        CpuFa2 {
            input,
            settings: settings.clone(),
            positions: initial,
            forces: vec![[0.0; 2]; n],
            old_forces: vec![[0.0; 2]; n],
            speed: GlobalSpeed::default(),
            tree: QuadTree::default(),
            rank: vec![0; n],
            repulsion_sorted: vec![[0.0; 2]; n],
        }
    }

    /// Repulsion on every node at the current positions (Barnes–Hut when
    /// the settings say so, else exact), without moving anything.
    pub fn repulsion_forces(&mut self) -> Vec<[f32; 2]> {
        self.repulsion()
    }

    /// Total force (repulsion, gravity, attraction) on every node at the
    /// current positions, without moving anything.
    pub fn total_forces(&mut self) -> Vec<[f32; 2]> {
        let repulsion = self.repulsion();
        let input = self.input;
        let s = &self.settings;
        let positions = &self.positions;
        // Gephi: gravity coefficient kr·(g/kr) = g.
        let g = s.gravity;
        let mut forces = vec![[0f32; 2]; positions.len()];
        forces
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                for (o, f) in out.iter_mut().enumerate() {
                    let i = c * CHUNK + o;
                    let [x, y] = positions[i];
                    let m = input.mass[i];
                    let (mut fx, mut fy) = (repulsion[i][0], repulsion[i][1]);
                    // Gravity toward the origin.
                    let d = (x * x + y * y).sqrt();
                    if d > 0.0 {
                        let factor = if s.strong_gravity_mode {
                            m * g
                        } else {
                            m * g / d
                        };
                        fx -= x * factor;
                        fy -= y * factor;
                    }
                    // Attraction along every edge of this node (each edge is
                    // in both endpoints' rows: both ends pulled, once each).
                    let row = input.offsets[i] as usize..input.offsets[i + 1] as usize;
                    for (&j, &w) in input.neighbors[row.clone()]
                        .iter()
                        .zip(&input.attraction[row])
                    {
                        let j = j as usize;
                        let dx = x - positions[j][0];
                        let dy = y - positions[j][1];
                        let factor =
                            attraction_factor(s, w, dx, dy, input.sizes[i] + input.sizes[j]);
                        fx -= dx * factor;
                        fy -= dy * factor;
                    }
                    *f = [fx, fy];
                }
            });
        forces
    }

    /// Repulsion on every node, by Barnes–Hut or exactly.
    fn repulsion(&mut self) -> Vec<[f32; 2]> {
        let input = self.input;
        let kr = self.settings.scaling_ratio;
        let adjust = self.settings.adjust_sizes;
        if !self.settings.barnes_hut_optimize {
            return exact_repulsion(
                &self.positions,
                &input.mass,
                adjust.then_some(&input.sizes[..]),
                kr,
            );
        }
        // Start from the previous tree order: already almost sorted.
        let mut bodies = std::mem::take(&mut self.tree.bodies);
        if bodies.len() != self.positions.len() {
            bodies = (0..self.positions.len() as u32)
                .map(|node| Body {
                    node,
                    ..Default::default()
                })
                .collect();
        }
        bodies.par_chunks_mut(CHUNK).for_each(|chunk| {
            for b in chunk {
                let i = b.node as usize;
                b.x = self.positions[i][0];
                b.y = self.positions[i][1];
                b.mass = input.mass[i];
                b.size = input.sizes[i];
            }
        });
        self.tree.build(bodies);
        let theta = self.settings.barnes_hut_theta;
        let tree = &self.tree;
        // One task per leaf, each writing its own slice of the output.
        let mut tasks = Vec::new();
        let mut rest: &mut [[f32; 2]] = &mut self.repulsion_sorted;
        for (start, end) in tree.leaves() {
            let (mine, tail) = rest.split_at_mut(end - start);
            tasks.push((start, end, mine));
            rest = tail;
        }
        tasks.into_par_iter().for_each(|(start, end, out)| {
            tree.repulsion_group(start, end, kr, theta * theta, adjust, out);
        });
        for (k, b) in self.tree.bodies.iter().enumerate() {
            self.rank[b.node as usize] = k as u32;
        }
        let sorted = &self.repulsion_sorted;
        self.rank.par_iter().map(|&k| sorted[k as usize]).collect()
    }
}

impl Fa2Backend for CpuFa2<'_> {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn step(&mut self) -> Result<StepStats> {
        let n = self.positions.len();
        if n == 0 {
            return Ok(StepStats::default());
        }
        std::mem::swap(&mut self.forces, &mut self.old_forces);
        self.forces = self.total_forces();
        let input = self.input;
        let s = &self.settings;
        // Swing and traction, mass-weighted, summed in a fixed order.
        let forces = &self.forces;
        let old = &self.old_forces;
        let partial: Vec<(f64, f64)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (mut sw, mut tr) = (0f64, 0f64);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let m = f64::from(input.mass[i]);
                    let (f, o) = (forces[i], old[i]);
                    sw += m * f64::from(((f[0] - o[0]).powi(2) + (f[1] - o[1]).powi(2)).sqrt());
                    tr +=
                        0.5 * m * f64::from(((f[0] + o[0]).powi(2) + (f[1] + o[1]).powi(2)).sqrt());
                }
                (sw, tr)
            })
            .collect();
        let (swing, traction) = partial
            .iter()
            .fold((0f64, 0f64), |(a, b), &(s, t)| (a + s, b + t));
        let speed = self
            .speed
            .update(swing, traction, n, f64::from(s.jitter_tolerance)) as f32;

        let adjust = s.adjust_sizes;
        self.positions
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                for (o, p) in out.iter_mut().enumerate() {
                    let i = c * CHUNK + o;
                    let (f, fo) = (forces[i], old[i]);
                    let swinging = ((f[0] - fo[0]).powi(2) + (f[1] - fo[1]).powi(2)).sqrt();
                    let len = (f[0] * f[0] + f[1] * f[1]).sqrt();
                    let factor = node_factor(speed, input.mass[i], swinging, adjust, len);
                    let nx = p[0] + f[0] * factor;
                    let ny = p[1] + f[1] * factor;
                    // A non-finite step (overflowing forces) leaves the node in place.
                    if nx.is_finite() && ny.is_finite() {
                        *p = [nx, ny];
                    }
                }
            });
        Ok(StepStats {
            swing: swing as f32,
            traction: traction as f32,
            speed,
        })
    }

    fn positions(&mut self) -> Result<Vec<[f32; 2]>> {
        Ok(self.positions.clone())
    }
}

/// Gephi's attraction factor on the raw (dx, dy) of one edge of coefficient `w`.
#[inline]
fn attraction_factor(s: &ForceAtlas2Settings, w: f32, dx: f32, dy: f32, size_sum: f32) -> f32 {
    if !s.lin_log_mode && !s.adjust_sizes {
        return w;
    }
    let mut d = (dx * dx + dy * dy).sqrt();
    if s.adjust_sizes {
        d -= size_sum;
        if d <= 0.0 {
            return 0.0;
        }
        if !s.lin_log_mode {
            return w;
        }
    }
    if d > 0.0 { w * d.ln_1p() / d } else { 0.0 }
}
