//! ForceAtlas2 on the GPU (wgpu compute shaders in `shaders/fa2_*.wgsl`).
//!
//! All state stays in GPU buffers across iterations; one iteration is a
//! single compute pass of ~20 dispatches, with no CPU round-trip:
//!
//! 1. repulsion, either exact (O(n²), workgroup-memory tiles) or by
//!    Barnes–Hut over a *quadtree of grids*: bounding box (tree reduction),
//!    counting sort of the nodes by finest grid cell in Morton order (integer
//!    atomics for the counts, a prefix scan for the starts, then each cell's
//!    nodes put in index order so that every float sum has a fixed order), mass, mass
//!    centre and radius of every cell of every level (leaves from their
//!    nodes, then each coarser level from four children), then a stack walk
//!    per node with Gephi's criterion `d·θ > 2·radius`;
//! 2. gravity and attraction over each node's own CSR row (no atomics; every
//!    edge acts on both ends once; rows longer than `HEAVY_ROW` — hub tags —
//!    get a whole workgroup each), and each node's swing and traction;
//! 3. global swing/traction by a deterministic tree reduction, the global
//!    speed updated by its last workgroup (Gephi's rules, as
//!    `layout::speed`), then every node moved by Gephi's per-node factor.
//!
//! Deterministic on a given device: no float is ever accumulated through an
//! atomic or in an order that depends on scheduling. Integer atomics only
//! count cell occupancy; the order of nodes inside a cell (which fixes the
//! order of the leaf sums) is their index order; the reductions (bounds,
//! swing/traction, hub rows) are fixed trees. Same input and start, same
//! adapter → bit-identical positions.
//!
//! Why a quadtree of complete grids and not a Karras radix tree: the cells
//! of every level are implicit (children of cell c are 4c..4c+3 one level
//! down), so the build is one counting sort plus one gather per level, with
//! no float atomics, no locks and no sort beyond the counting sort; the walk
//! still adapts like Barnes–Hut because empty cells are skipped and the
//! opening criterion uses each cell's actual mass centre and radius.

mod buffers;
mod pipelines;

use std::sync::Arc;

use anyhow::{Result, bail};

use crate::gpu::GpuContext;
use crate::layout::{Fa2Backend, ForceAtlas2Settings, LayoutInput, StepStats};

use buffers::{
    GridBuffers, NodeBuffers, Params, SmallParams, SpeedState, group_grid, thread_grid, uniform,
};
use pipelines::Pipelines;

/// How the GPU computes repulsion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repulsion {
    /// Every pair, O(n²): small graphs and checks.
    Exact,
    /// Barnes–Hut over the quadtree of grids, O(n log n).
    Tree,
}

/// Iterations recorded into one command buffer by [`GpuFa2::run`].
const ITERATIONS_PER_SUBMIT: usize = 32;

pub struct GpuFa2 {
    ctx: Arc<GpuContext>,
    n: u32,
    repulsion: Repulsion,
    pipelines: Pipelines,
    nodes: NodeBuffers,
    grid: GridBuffers,
    groups: Groups,
    /// The `Params` uniform, rewritten by [`GpuFa2::set_settings`].
    params: wgpu::Buffer,
}

/// Bind groups, built once: buffers never change size.
struct Groups {
    bounds_partial: wgpu::BindGroup,
    bounds_finish: wgpu::BindGroup,
    grid_count: wgpu::BindGroup,
    /// (scan_blocks, add_offsets) per scan level.
    scan: Vec<(wgpu::BindGroup, wgpu::BindGroup)>,
    grid_scatter: wgpu::BindGroup,
    grid_order: wgpu::BindGroup,
    cells_leaves: wgpu::BindGroup,
    /// One per coarser level 0..levels.
    cells_parents: Vec<wgpu::BindGroup>,
    repulsion_tree: wgpu::BindGroup,
    repulsion_exact: wgpu::BindGroup,
    attraction: wgpu::BindGroup,
    attraction_heavy: wgpu::BindGroup,
    reduce_partial: wgpu::BindGroup,
    reduce_finish: wgpu::BindGroup,
    apply: wgpu::BindGroup,
}

fn bind(
    device: &wgpu::Device,
    pipeline: &wgpu::ComputePipeline,
    label: &str,
    entries: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .map(|(binding, buffer)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}

fn dispatch(pass: &mut wgpu::ComputePass, (x, y): (u32, u32)) {
    if x > 0 {
        pass.dispatch_workgroups(x, y, 1);
    }
}

impl GpuFa2 {
    /// Uploads `input` and the start positions. Repulsion is the tree when
    /// `settings.barnes_hut_optimize`, else exact, as Gephi.
    pub fn new(
        ctx: Arc<GpuContext>,
        input: &LayoutInput,
        settings: &ForceAtlas2Settings,
        initial: &[[f32; 2]],
    ) -> Result<GpuFa2> {
        let n = input.node_count();
        if initial.len() != n {
            bail!(
                "GPU layout: {} start positions for {n} nodes",
                initial.len()
            );
        }
        let Ok(n32) = u32::try_from(n) else {
            bail!(
                "GPU layout: {n} nodes is more than the GPU backend supports (2^32 − 1); use --backend cpu"
            );
        };
        let limits = ctx.device.limits();
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let largest = (input.neighbors.len() as u64 * 4).max(n as u64 * 8);
        if largest > max_binding {
            bail!(
                "the graph needs a {largest}-byte GPU buffer but the adapter {} allows {max_binding}: use --backend cpu",
                ctx.adapter_name()
            );
        }
        let levels = buffers::grid_levels(n, max_binding);
        let device = &ctx.device;
        // Report allocation and shader failures as errors instead of
        // wgpu's default handler (a panic).
        let out_of_memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let invalid = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipelines = Pipelines::new(device);
        let nodes = NodeBuffers::new(device, input, initial);
        let grid = GridBuffers::new(device, n32, levels);
        let params = uniform(
            device,
            "fa2 params",
            &Params::new(n32, levels, nodes.heavy_count, settings),
        );
        let groups = Groups::new(device, &pipelines, &nodes, &grid, &params);
        if let Some(e) = pollster::block_on(invalid.pop()) {
            bail!("GPU layout setup failed on {}: {e}", ctx.adapter_name());
        }
        if let Some(e) = pollster::block_on(out_of_memory.pop()) {
            bail!(
                "not enough GPU memory on {} for {n} nodes and {} edges ({e}): use --backend cpu",
                ctx.adapter_name(),
                input.neighbors.len() / 2
            );
        }
        tracing::debug!(
            "GPU ForceAtlas2: {n} nodes, {} CSR entries, grid levels {levels}",
            input.neighbors.len()
        );
        Ok(GpuFa2 {
            ctx,
            n: n32,
            repulsion: if settings.barnes_hut_optimize {
                Repulsion::Tree
            } else {
                Repulsion::Exact
            },
            pipelines,
            nodes,
            grid,
            groups,
            params,
        })
    }

    /// Applies new settings between iterations (the viewer's live layout):
    /// strengths, modes, θ and the repulsion method. Settings that change
    /// the per-edge coefficients (edge weight influence, normalisation,
    /// dissuade hubs) take effect through [`GpuFa2::set_attraction`].
    pub fn set_settings(&mut self, settings: &ForceAtlas2Settings) {
        let params = Params::new(self.n, self.grid.levels, self.nodes.heavy_count, settings);
        self.ctx
            .queue
            .write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        self.repulsion = if settings.barnes_hut_optimize {
            Repulsion::Tree
        } else {
            Repulsion::Exact
        };
    }

    /// Replaces the attraction coefficient of every CSR entry (same order
    /// and length as [`LayoutInput::attraction`]), e.g. zero for the edges
    /// of tags the viewer hides.
    pub fn set_attraction(&mut self, attraction: &[f32]) -> Result<()> {
        // Buffers are padded to at least 16 bytes, so only a small one may be longer.
        let size = self.nodes.attraction.size();
        let bytes = attraction.len() as u64 * 4;
        if bytes > size || (bytes < size && size > 16) {
            bail!(
                "GPU layout: {} attraction coefficients for a buffer of {} CSR entries",
                attraction.len(),
                size / 4
            );
        }
        if !attraction.is_empty() {
            self.ctx.queue.write_buffer(
                &self.nodes.attraction,
                0,
                bytemuck::cast_slice(attraction),
            );
        }
        Ok(())
    }

    pub fn set_repulsion(&mut self, repulsion: Repulsion) {
        self.repulsion = repulsion;
    }

    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// The positions (`array<vec2<f32>>`, node order), usable as a storage or
    /// vertex buffer by the renderer without a copy through the CPU.
    pub fn position_buffer(&self) -> &wgpu::Buffer {
        &self.nodes.positions
    }

    /// Finest level of the repulsion grid (2^levels cells per side).
    pub fn grid_levels(&self) -> u32 {
        self.grid.levels
    }

    /// Replaces the positions (e.g. to continue from saved ones).
    pub fn set_positions(&mut self, positions: &[[f32; 2]]) -> Result<()> {
        if positions.len() != self.n as usize {
            bail!(
                "GPU layout: {} positions for {} nodes",
                positions.len(),
                self.n
            );
        }
        if self.n > 0 {
            self.ctx
                .queue
                .write_buffer(&self.nodes.positions, 0, bytemuck::cast_slice(positions));
        }
        Ok(())
    }

    fn encode_repulsion(&self, pass: &mut wgpu::ComputePass, repulsion: Repulsion) {
        let p = &self.pipelines;
        let g = &self.groups;
        let nodes = thread_grid(self.n);
        match repulsion {
            Repulsion::Exact => {
                pass.set_pipeline(&p.repulsion_exact);
                pass.set_bind_group(0, &g.repulsion_exact, &[]);
                dispatch(pass, nodes);
            }
            Repulsion::Tree => {
                pass.set_pipeline(&p.bounds_partial);
                pass.set_bind_group(0, &g.bounds_partial, &[]);
                dispatch(pass, nodes);
                pass.set_pipeline(&p.bounds_finish);
                pass.set_bind_group(0, &g.bounds_finish, &[]);
                pass.dispatch_workgroups(1, 1, 1);
                pass.set_pipeline(&p.grid_count);
                pass.set_bind_group(0, &g.grid_count, &[]);
                dispatch(pass, nodes);
                pass.set_pipeline(&p.scan_blocks);
                for (level, len) in self.grid.scan_lengths.iter().enumerate() {
                    pass.set_bind_group(0, &g.scan[level].0, &[]);
                    dispatch(pass, group_grid(len.div_ceil(buffers::SCAN_BLOCK)));
                }
                pass.set_pipeline(&p.scan_add);
                for level in (0..self.grid.scan_lengths.len() - 1).rev() {
                    pass.set_bind_group(0, &g.scan[level].1, &[]);
                    dispatch(pass, thread_grid(self.grid.scan_lengths[level]));
                }
                pass.set_pipeline(&p.grid_scatter);
                pass.set_bind_group(0, &g.grid_scatter, &[]);
                dispatch(pass, nodes);
                pass.set_pipeline(&p.grid_order);
                pass.set_bind_group(0, &g.grid_order, &[]);
                dispatch(pass, nodes);
                pass.set_pipeline(&p.cells_leaves);
                pass.set_bind_group(0, &g.cells_leaves, &[]);
                dispatch(pass, thread_grid(1 << (2 * self.grid.levels)));
                pass.set_pipeline(&p.cells_parents);
                for level in (0..self.grid.levels).rev() {
                    pass.set_bind_group(0, &g.cells_parents[level as usize], &[]);
                    dispatch(pass, thread_grid(1 << (2 * level)));
                }
                pass.set_pipeline(&p.repulsion_tree);
                pass.set_bind_group(0, &g.repulsion_tree, &[]);
                dispatch(pass, nodes);
            }
        }
    }

    /// Records the whole-force stage: repulsion, then gravity and attraction.
    fn encode_forces(&self, encoder: &mut wgpu::CommandEncoder, repulsion: Repulsion) {
        if repulsion == Repulsion::Tree {
            // Cell counts are accumulated with atomics: start from zero.
            encoder.clear_buffer(&self.grid.starts, 0, None);
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("fa2 forces"),
            timestamp_writes: None,
        });
        self.encode_repulsion(&mut pass, repulsion);
        if self.nodes.heavy_count > 0 {
            pass.set_pipeline(&self.pipelines.attraction_heavy);
            pass.set_bind_group(0, &self.groups.attraction_heavy, &[]);
            dispatch(&mut pass, group_grid(self.nodes.heavy_count));
        }
        pass.set_pipeline(&self.pipelines.attraction);
        pass.set_bind_group(0, &self.groups.attraction, &[]);
        dispatch(&mut pass, thread_grid(self.n));
    }

    fn encode_iteration(&self, encoder: &mut wgpu::CommandEncoder) {
        self.encode_forces(encoder, self.repulsion);
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("fa2 speed and moves"),
            timestamp_writes: None,
        });
        let p = &self.pipelines;
        let g = &self.groups;
        let nodes = thread_grid(self.n);
        pass.set_pipeline(&p.reduce_partial);
        pass.set_bind_group(0, &g.reduce_partial, &[]);
        dispatch(&mut pass, nodes);
        pass.set_pipeline(&p.reduce_finish);
        pass.set_bind_group(0, &g.reduce_finish, &[]);
        pass.dispatch_workgroups(1, 1, 1);
        pass.set_pipeline(&p.apply);
        pass.set_bind_group(0, &g.apply, &[]);
        dispatch(&mut pass, nodes);
    }

    /// Runs `iterations` iterations with no read-back in between (several
    /// per command buffer), waits for the GPU, and returns the last
    /// iteration's figures. What a benchmark should time.
    pub fn run(&mut self, iterations: usize) -> Result<StepStats> {
        self.submit(iterations);
        self.stats()
    }

    /// Queues `iterations` iterations on the GPU and returns at once (no
    /// read-back, no wait): the viewer steps its live layout this way
    /// every frame while drawing from [`GpuFa2::position_buffer`].
    pub fn submit(&mut self, iterations: usize) {
        let mut left = iterations;
        while left > 0 && self.n > 0 {
            let batch = left.min(ITERATIONS_PER_SUBMIT);
            let mut encoder =
                self.ctx
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("fa2 iterations"),
                    });
            for _ in 0..batch {
                self.encode_iteration(&mut encoder);
            }
            self.ctx.queue.submit([encoder.finish()]);
            left -= batch;
        }
    }

    /// Waits for the GPU and reads the adaptive-speed state of the last iteration.
    pub fn stats(&self) -> Result<StepStats> {
        let bytes = self.ctx.read_buffer(&self.nodes.state, 16)?;
        let state: SpeedState = bytemuck::pod_read_unaligned(&bytes[..16]);
        Ok(StepStats {
            swing: state.swing,
            traction: state.traction,
            speed: state.speed,
        })
    }

    fn read_vec2(&self, buffer: &wgpu::Buffer) -> Result<Vec<[f32; 2]>> {
        let bytes = self.ctx.read_buffer(buffer, u64::from(self.n) * 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(bytemuck::pod_read_unaligned::<[f32; 2]>)
            .collect())
    }

    /// Repulsion on every node at the current positions, by `repulsion`
    /// (positions and the speed state are left untouched). For checks.
    pub fn repulsion_forces(&mut self, repulsion: Repulsion) -> Result<Vec<[f32; 2]>> {
        if self.n == 0 {
            return Ok(Vec::new());
        }
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        if repulsion == Repulsion::Tree {
            encoder.clear_buffer(&self.grid.starts, 0, None);
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("fa2 repulsion"),
                timestamp_writes: None,
            });
            self.encode_repulsion(&mut pass, repulsion);
        }
        self.ctx.queue.submit([encoder.finish()]);
        self.read_vec2(&self.nodes.force)
    }

    /// Total force (repulsion, gravity, attraction) on every node at the
    /// current positions, without moving them. For checks.
    pub fn total_forces(&mut self) -> Result<Vec<[f32; 2]>> {
        if self.n == 0 {
            return Ok(Vec::new());
        }
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        self.encode_forces(&mut encoder, self.repulsion);
        self.ctx.queue.submit([encoder.finish()]);
        self.read_vec2(&self.nodes.force)
    }
}

/// The `--backend gpu` engine: opens the best adapter (logged at info level)
/// and uploads the graph.
pub fn new_gpu_backend(
    input: &LayoutInput,
    settings: &ForceAtlas2Settings,
    initial: &[[f32; 2]],
) -> Result<GpuFa2> {
    let ctx = Arc::new(GpuContext::new_headless()?);
    GpuFa2::new(ctx, input, settings, initial)
}

impl Fa2Backend for GpuFa2 {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn step(&mut self) -> Result<StepStats> {
        self.run(1)
    }

    fn positions(&mut self) -> Result<Vec<[f32; 2]>> {
        if self.n == 0 {
            return Ok(Vec::new());
        }
        self.read_vec2(&self.nodes.positions)
    }
}

impl Groups {
    fn new(
        device: &wgpu::Device,
        p: &Pipelines,
        nodes: &NodeBuffers,
        grid: &GridBuffers,
        params: &wgpu::Buffer,
    ) -> Groups {
        let scan = grid
            .scan_lengths
            .iter()
            .enumerate()
            .map(|(level, &len)| {
                let len_uniform = uniform(
                    device,
                    "fa2 scan length",
                    &SmallParams {
                        value: len,
                        _pad: [0; 3],
                    },
                );
                let data = if level == 0 {
                    &grid.starts
                } else {
                    &grid.scan_sums[level - 1].0
                };
                let sums = &grid.scan_sums[level].0;
                (
                    bind(
                        device,
                        &p.scan_blocks,
                        "fa2 scan blocks",
                        &[(0, &len_uniform), (1, data), (2, sums)],
                    ),
                    bind(
                        device,
                        &p.scan_add,
                        "fa2 scan add",
                        &[(0, &len_uniform), (1, data), (2, sums)],
                    ),
                )
            })
            .collect();
        let cells_parents = (0..grid.levels)
            .map(|level| {
                let level_uniform = uniform(
                    device,
                    "fa2 grid level",
                    &SmallParams {
                        value: level,
                        _pad: [0; 3],
                    },
                );
                bind(
                    device,
                    &p.cells_parents,
                    "fa2 cells parents",
                    &[(6, &grid.cells), (7, &level_uniform)],
                )
            })
            .collect();
        Groups {
            bounds_partial: bind(
                device,
                &p.bounds_partial,
                "fa2 bounds partial",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &grid.bounds_partials),
                ],
            ),
            bounds_finish: bind(
                device,
                &p.bounds_finish,
                "fa2 bounds finish",
                &[(0, params), (2, &grid.bounds_partials), (3, &grid.bounds)],
            ),
            grid_count: bind(
                device,
                &p.grid_count,
                "fa2 grid count",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &grid.bounds),
                    (3, &grid.starts),
                    (4, &grid.cell_of),
                    (5, &grid.rank),
                ],
            ),
            scan,
            grid_scatter: bind(
                device,
                &p.grid_scatter,
                "fa2 grid scatter",
                &[
                    (0, params),
                    (1, &grid.starts),
                    (2, &grid.cell_of),
                    (3, &grid.rank),
                    (4, &grid.scattered),
                ],
            ),
            grid_order: bind(
                device,
                &p.grid_order,
                "fa2 grid order",
                &[
                    (0, params),
                    (1, &grid.starts),
                    (2, &grid.cell_of),
                    (3, &grid.scattered),
                    (4, &grid.sorted),
                ],
            ),
            cells_leaves: bind(
                device,
                &p.cells_leaves,
                "fa2 cells leaves",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &nodes.mass),
                    (3, &nodes.sizes),
                    (4, &grid.starts),
                    (5, &grid.sorted),
                    (6, &grid.cells),
                ],
            ),
            cells_parents,
            repulsion_tree: bind(
                device,
                &p.repulsion_tree,
                "fa2 repulsion tree",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &nodes.mass),
                    (3, &nodes.sizes),
                    (4, &grid.cells),
                    (5, &grid.starts),
                    (6, &grid.sorted),
                    (7, &nodes.force),
                ],
            ),
            repulsion_exact: bind(
                device,
                &p.repulsion_exact,
                "fa2 repulsion exact",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &nodes.mass),
                    (3, &nodes.sizes),
                    (4, &nodes.force),
                ],
            ),
            attraction: bind(
                device,
                &p.attraction,
                "fa2 attraction",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &nodes.mass),
                    (3, &nodes.sizes),
                    (4, &nodes.offsets),
                    (5, &nodes.neighbors),
                    (6, &nodes.attraction),
                    (7, &nodes.force),
                    (8, &nodes.old_force),
                    (9, &nodes.swing_traction),
                ],
            ),
            attraction_heavy: bind(
                device,
                &p.attraction_heavy,
                "fa2 attraction heavy",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (3, &nodes.sizes),
                    (4, &nodes.offsets),
                    (5, &nodes.neighbors),
                    (6, &nodes.attraction),
                    (7, &nodes.force),
                    (10, &nodes.heavy_nodes),
                ],
            ),
            reduce_partial: bind(
                device,
                &p.reduce_partial,
                "fa2 reduce partial",
                &[
                    (0, params),
                    (1, &nodes.swing_traction),
                    (2, &nodes.reduce_partials),
                ],
            ),
            reduce_finish: bind(
                device,
                &p.reduce_finish,
                "fa2 reduce finish",
                &[(0, params), (2, &nodes.reduce_partials), (3, &nodes.state)],
            ),
            apply: bind(
                device,
                &p.apply,
                "fa2 apply",
                &[
                    (0, params),
                    (1, &nodes.positions),
                    (2, &nodes.mass),
                    (3, &nodes.force),
                    (4, &nodes.old_force),
                    (5, &nodes.state),
                ],
            ),
        }
    }
}
