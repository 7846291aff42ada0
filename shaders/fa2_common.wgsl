// Shared by every ForceAtlas2 compute shader (prepended to each file at load
// time). Forces follow Gephi's ForceAtlas2; see src/layout/mod.rs.

struct Params {
    n: u32,
    // Finest grid level of the repulsion tree (the grid is 2^levels per side).
    levels: u32,
    flags: u32,
    // 4^levels: cells of the finest level.
    leaf_cells: u32,
    // kr (Gephi scalingRatio).
    kr: f32,
    gravity: f32,
    // Gephi's θ squared: a cell is one body when d²·θ² > (2·r)².
    theta2: f32,
    jitter_tolerance: f32,
    // Node count as a float, for the adaptive speed.
    n_f: f32,
    // Nodes in fa2_attraction_heavy.wgsl's list.
    heavy_rows: u32,
    _pad1: f32,
    _pad2: f32,
}

const FLAG_STRONG_GRAVITY: u32 = 1u;
const FLAG_LINLOG: u32 = 2u;
const FLAG_ADJUST_SIZES: u32 = 4u;

const WG: u32 = 256u;
// Distances below this count as this, along coincident_direction (as the CPU backend).
const MIN_DISTANCE: f32 = 1e-3;
// Prevent overlap: smallest gap between two nodes' edges, as a fraction of
// their size sum (layout::CONTACT_GAP).
const CONTACT_GAP: f32 = 0.03;

// Thread index of a 1D problem dispatched as a 2D grid of 256-thread groups
// (one dimension holds at most 65535 groups).
fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// First cell of `level` in the array of all levels (level l has 4^l cells).
fn level_offset(level: u32) -> u32 {
    return ((1u << (2u * level)) - 1u) / 3u;
}

// --- 64-bit arithmetic on vec2<u32>(low, high), for splitmix64 ---------------

fn u64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    let carry = select(0u, 1u, lo < a.x);
    return vec2<u32>(lo, a.y + b.y + carry);
}

fn u64_shr(a: vec2<u32>, s: u32) -> vec2<u32> {
    // 0 < s < 32
    return vec2<u32>((a.x >> s) | (a.y << (32u - s)), a.y >> s);
}

// Full 32×32 → 64-bit product.
fn mul32_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    let lo = (p00 & 0xffffu) | (mid << 16u);
    let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

fn u64_mul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let low = mul32_wide(a.x, b.x);
    return vec2<u32>(low.x, low.y + a.y * b.x + a.x * b.y);
}

// Unit direction separating nodes i and j at the same position: the same
// splitmix64 of the pair as layout::coincident_direction on the CPU.
fn coincident_direction(i: u32, j: u32) -> vec2<f32> {
    let lo = min(i, j);
    let hi = max(i, j);
    let sign = select(-1.0, 1.0, i < j);
    var z = vec2<u32>(hi, lo); // (lo << 32) ^ hi
    z = u64_add(z, vec2<u32>(0x7f4a7c15u, 0x9e3779b9u));
    z = u64_mul(z ^ u64_shr(z, 30u), vec2<u32>(0x1ce4e5b9u, 0xbf58476du));
    z = u64_mul(z ^ u64_shr(z, 27u), vec2<u32>(0x133111ebu, 0x94d049bbu));
    z = z ^ u64_shr(z, 31u);
    // (z >> 11) / 2^53 ≈ z / 2^64, to f32 precision.
    let turn = (f32(z.y) + f32(z.x >> 8u) / 16777216.0) / 4294967296.0;
    let angle = turn * 6.283185307179586;
    return sign * vec2<f32>(cos(angle), sin(angle));
}

// Repulsion between nodes i and j acting on i; `delta` goes from j to i.
fn pair_repulsion(i: u32, j: u32, delta: vec2<f32>, kr_mm: f32, size_sum: f32, adjust_sizes: bool) -> vec2<f32> {
    var d = delta;
    var d2 = dot(d, d);
    if d2 < MIN_DISTANCE * MIN_DISTANCE {
        d = coincident_direction(i, j) * MIN_DISTANCE;
        d2 = MIN_DISTANCE * MIN_DISTANCE;
    }
    var factor = kr_mm / d2;
    if adjust_sizes {
        // Gaps below CONTACT_GAP of the size sum count as that (layout::CONTACT_GAP).
        let gap = max(sqrt(d2) - size_sum, CONTACT_GAP * size_sum);
        factor = kr_mm / (gap * gap);
    }
    return d * factor;
}

// Rows longer than this (hubs) are summed by a whole workgroup in
// fa2_attraction_heavy.wgsl instead of one thread (HEAVY_ROW in Rust).
const HEAVY_ROW: u32 = 2048u;

// Attraction of one CSR entry on its row's node; `delta` goes from the node
// to its neighbour, `c` is the entry's coefficient.
fn edge_attraction(delta: vec2<f32>, c: f32, size_sum: f32, linlog: bool, adjust_sizes: bool) -> vec2<f32> {
    if adjust_sizes {
        // Prevent overlap: only between nodes that do not touch.
        let d = length(delta) - size_sum;
        if d <= 0.0 {
            return vec2<f32>(0.0);
        }
        if linlog {
            return delta * (c * log(1.0 + d) / d);
        }
        return delta * c;
    }
    if linlog {
        let d = length(delta);
        if d > 0.0 {
            return delta * (c * log(1.0 + d) / d);
        }
        return vec2<f32>(0.0);
    }
    return delta * c;
}
