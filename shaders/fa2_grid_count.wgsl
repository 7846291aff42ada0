// Tree build, step 1: each node finds its cell in the finest grid (Morton
// code of the cell) and takes a rank in it with an integer atomic (an order
// that varies between runs: only the counts and the scatter rely on it).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> bounds: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> cell_of: array<u32>;
@group(0) @binding(5) var<storage, read_write> rank: array<u32>;

// Spreads the low 16 bits of x to the even bits.
fn spread_bits(v: u32) -> u32 {
    var x = v & 0xffffu;
    x = (x | (x << 8u)) & 0x00ff00ffu;
    x = (x | (x << 4u)) & 0x0f0f0f0fu;
    x = (x | (x << 2u)) & 0x33333333u;
    x = (x | (x << 1u)) & 0x55555555u;
    return x;
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    if i >= params.n {
        return;
    }
    let b = bounds[0];
    let side = max(b.z - b.x, b.w - b.y);
    let res = f32(1u << params.levels);
    // All nodes at one point: everything in cell 0.
    let scale = select(res / side, 0.0, side <= 0.0);
    let q = clamp(floor((pos[i] - b.xy) * scale), vec2<f32>(0.0), vec2<f32>(res - 1.0));
    let code = spread_bits(u32(q.x)) | (spread_bits(u32(q.y)) << 1u);
    cell_of[i] = code;
    rank[i] = atomicAdd(&counts[code], 1u);
}
