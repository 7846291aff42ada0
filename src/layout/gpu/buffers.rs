//! GPU buffers of the ForceAtlas2 state. Everything an iteration touches
//! lives on the GPU; the CPU only reads positions or the 16-byte speed state
//! back when asked.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::layout::{ForceAtlas2Settings, LayoutInput};

/// Rows longer than this get a workgroup each (`HEAVY_ROW` in fa2_common.wgsl).
pub const HEAVY_ROW: u32 = 2048;
/// Threads per workgroup in every FA2 shader (`WG` in fa2_common.wgsl).
pub const WORKGROUP: u32 = 256;
/// Values scanned per workgroup (`BLOCK` in fa2_scan.wgsl).
pub const SCAN_BLOCK: u32 = 512;
/// Workgroups per dispatch dimension (WebGPU limit).
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

const FLAG_STRONG_GRAVITY: u32 = 1;
const FLAG_LINLOG: u32 = 2;
const FLAG_ADJUST_SIZES: u32 = 4;

/// Mirrors `Params` in fa2_common.wgsl (48 bytes, a multiple of 16).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Params {
    pub n: u32,
    pub levels: u32,
    pub flags: u32,
    pub leaf_cells: u32,
    pub kr: f32,
    pub gravity: f32,
    pub theta2: f32,
    pub jitter_tolerance: f32,
    pub n_f: f32,
    pub heavy_rows: u32,
    pub _pad: [f32; 2],
}

impl Params {
    pub fn new(n: u32, levels: u32, heavy_rows: u32, settings: &ForceAtlas2Settings) -> Params {
        let mut flags = 0;
        if settings.strong_gravity_mode {
            flags |= FLAG_STRONG_GRAVITY;
        }
        if settings.lin_log_mode {
            flags |= FLAG_LINLOG;
        }
        if settings.adjust_sizes {
            flags |= FLAG_ADJUST_SIZES;
        }
        Params {
            n,
            levels,
            flags,
            leaf_cells: 1 << (2 * levels),
            kr: settings.scaling_ratio,
            gravity: settings.gravity,
            theta2: settings.barnes_hut_theta * settings.barnes_hut_theta,
            jitter_tolerance: settings.jitter_tolerance,
            n_f: n as f32,
            heavy_rows,
            _pad: [0.0; 2],
        }
    }
}

/// A 16-byte uniform holding one u32 (level number, scan length).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SmallParams {
    pub value: u32,
    pub _pad: [u32; 3],
}

/// Mirrors `SpeedState` in fa2_reduce.wgsl / fa2_apply.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SpeedState {
    pub speed: f32,
    pub efficiency: f32,
    pub swing: f32,
    pub traction: f32,
}

impl Default for SpeedState {
    fn default() -> Self {
        // Gephi's initAlgo: speed 1, efficiency 1.
        SpeedState {
            speed: 1.0,
            efficiency: 1.0,
            swing: 0.0,
            traction: 0.0,
        }
    }
}

/// Workgroup grid covering `groups` workgroups within the per-dimension limit.
pub fn group_grid(groups: u32) -> (u32, u32) {
    if groups <= MAX_GROUPS_PER_DIM {
        (groups, 1)
    } else {
        (MAX_GROUPS_PER_DIM, groups.div_ceil(MAX_GROUPS_PER_DIM))
    }
}

/// Workgroup grid for one thread per item.
pub fn thread_grid(items: u32) -> (u32, u32) {
    group_grid(items.div_ceil(WORKGROUP))
}

/// Cells in levels 0..=levels of the quadtree of grids: (4^(L+1) − 1) / 3.
pub fn total_cells(levels: u32) -> u64 {
    ((1u64 << (2 * (levels + 1))) - 1) / 3
}

/// Finest level of the repulsion grid for `n` nodes: about one node per
/// finest cell on average (4^L ≥ n), capped by the largest storage binding.
pub fn grid_levels(n: usize, max_binding: u64) -> u32 {
    let mut levels = 1;
    while (1u64 << (2 * levels)) < n as u64 && levels < 12 {
        levels += 1;
    }
    while levels > 1 && total_cells(levels) * 16 > max_binding {
        levels -= 1;
    }
    levels
}

pub fn storage(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    extra: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        // Bindings may not be empty.
        size: size.max(16),
        usage: wgpu::BufferUsages::STORAGE | extra,
        mapped_at_creation: false,
    })
}

pub fn storage_init<T: Pod>(
    device: &wgpu::Device,
    label: &str,
    data: &[T],
    extra: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let mut bytes = bytemuck::cast_slice::<T, u8>(data).to_vec();
    bytes.resize(bytes.len().max(16), 0);
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: &bytes,
        usage: wgpu::BufferUsages::STORAGE | extra,
    })
}

pub fn uniform<T: Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::bytes_of(value),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// Per-node and per-edge state.
pub struct NodeBuffers {
    /// vec2<f32> per node; STORAGE | VERTEX so the renderer draws from it.
    pub positions: wgpu::Buffer,
    pub mass: wgpu::Buffer,
    pub sizes: wgpu::Buffer,
    pub offsets: wgpu::Buffer,
    pub neighbors: wgpu::Buffer,
    pub attraction: wgpu::Buffer,
    pub force: wgpu::Buffer,
    pub old_force: wgpu::Buffer,
    pub swing_traction: wgpu::Buffer,
    pub reduce_partials: wgpu::Buffer,
    pub state: wgpu::Buffer,
    /// Nodes whose CSR row is longer than [`HEAVY_ROW`].
    pub heavy_nodes: wgpu::Buffer,
    pub heavy_count: u32,
}

impl NodeBuffers {
    pub fn new(device: &wgpu::Device, input: &LayoutInput, initial: &[[f32; 2]]) -> NodeBuffers {
        use wgpu::BufferUsages as U;
        let n = input.node_count() as u64;
        let (gx, gy) = thread_grid(n as u32);
        let heavy: Vec<u32> = (0..input.node_count())
            .filter(|&i| input.offsets[i + 1] - input.offsets[i] > HEAVY_ROW)
            .map(|i| i as u32)
            .collect();
        NodeBuffers {
            positions: storage_init(
                device,
                "fa2 positions",
                initial,
                U::VERTEX | U::COPY_SRC | U::COPY_DST,
            ),
            mass: storage_init(device, "fa2 mass", &input.mass, U::empty()),
            sizes: storage_init(device, "fa2 sizes", &input.sizes, U::empty()),
            offsets: storage_init(device, "fa2 offsets", &input.offsets, U::empty()),
            neighbors: storage_init(device, "fa2 neighbors", &input.neighbors, U::empty()),
            attraction: storage_init(device, "fa2 attraction", &input.attraction, U::COPY_DST),
            force: storage(device, "fa2 force", n * 8, U::COPY_SRC | U::COPY_DST),
            old_force: storage(device, "fa2 old force", n * 8, U::COPY_SRC | U::COPY_DST),
            swing_traction: storage(device, "fa2 swing/traction", n * 8, U::empty()),
            reduce_partials: storage(
                device,
                "fa2 reduce partials",
                u64::from(gx * gy) * 8,
                U::empty(),
            ),
            state: storage_init(
                device,
                "fa2 speed state",
                &[SpeedState::default()],
                U::COPY_SRC | U::COPY_DST,
            ),
            heavy_nodes: storage_init(device, "fa2 heavy rows", &heavy, U::empty()),
            heavy_count: heavy.len() as u32,
        }
    }
}

/// The repulsion tree: bounding box, counting sort by finest cell, cell moments.
pub struct GridBuffers {
    pub levels: u32,
    pub bounds_partials: wgpu::Buffer,
    pub bounds: wgpu::Buffer,
    /// Node counts per finest cell, scanned in place into cell starts
    /// (4^L + 1 entries: the last start is n).
    pub starts: wgpu::Buffer,
    pub cell_of: wgpu::Buffer,
    pub rank: wgpu::Buffer,
    /// Nodes by cell, in the scatter's (atomic, run-dependent) order within a cell.
    pub scattered: wgpu::Buffer,
    /// Nodes by cell, by node index within a cell: the order every float sum follows.
    pub sorted: wgpu::Buffer,
    pub cells: wgpu::Buffer,
    /// Block sums of the scan, one buffer per scan level, with their lengths.
    pub scan_sums: Vec<(wgpu::Buffer, u32)>,
    /// Lengths scanned at each scan level (level 0 = `starts`).
    pub scan_lengths: Vec<u32>,
}

impl GridBuffers {
    pub fn new(device: &wgpu::Device, n: u32, levels: u32) -> GridBuffers {
        use wgpu::BufferUsages as U;
        let (gx, gy) = thread_grid(n);
        let leaf_cells = 1u32 << (2 * levels);
        let mut scan_lengths = vec![leaf_cells + 1];
        let mut scan_sums = Vec::new();
        loop {
            let len = *scan_lengths.last().unwrap_or(&1);
            let blocks = len.div_ceil(SCAN_BLOCK);
            scan_sums.push((
                storage(device, "fa2 scan sums", u64::from(blocks) * 4, U::empty()),
                blocks,
            ));
            if blocks <= 1 {
                break;
            }
            scan_lengths.push(blocks);
        }
        GridBuffers {
            levels,
            bounds_partials: storage(
                device,
                "fa2 bounds partials",
                u64::from(gx * gy) * 16,
                U::empty(),
            ),
            bounds: storage(device, "fa2 bounds", 16, U::empty()),
            starts: storage(
                device,
                "fa2 cell starts",
                u64::from(leaf_cells + 1) * 4,
                U::COPY_DST,
            ),
            cell_of: storage(device, "fa2 cell of node", u64::from(n) * 4, U::empty()),
            rank: storage(device, "fa2 rank in cell", u64::from(n) * 4, U::empty()),
            scattered: storage(
                device,
                "fa2 nodes by cell, unordered",
                u64::from(n) * 4,
                U::empty(),
            ),
            sorted: storage(device, "fa2 nodes by cell", u64::from(n) * 4, U::empty()),
            cells: storage(device, "fa2 cells", total_cells(levels) * 16, U::empty()),
            scan_sums,
            scan_lengths,
        }
    }
}
