// Attraction and gravity, added to the repulsion already in `force`, then
// the node's mass-weighted swing and traction for the adaptive speed.
// Each node sums over its own CSR row: every edge sits in both endpoints'
// rows, so it acts on both ends exactly once, with no atomics. `attraction`
// holds each entry's coefficient (weight^influence, dissuade hubs folded in).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> mass: array<f32>;
@group(0) @binding(3) var<storage, read> sizes: array<f32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> neighbors: array<u32>;
@group(0) @binding(6) var<storage, read> attraction: array<f32>;
@group(0) @binding(7) var<storage, read_write> force: array<vec2<f32>>;
@group(0) @binding(8) var<storage, read> old_force: array<vec2<f32>>;
@group(0) @binding(9) var<storage, read_write> swing_traction: array<vec2<f32>>;

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
    let p = pos[i];
    let m = mass[i];
    let s = sizes[i];
    let linlog = (params.flags & FLAG_LINLOG) != 0u;
    let adjust = (params.flags & FLAG_ADJUST_SIZES) != 0u;
    var f = force[i];

    // Gravity toward the origin: m·g, or m·g·d in strong mode (Gephi).
    let d0 = length(p);
    if d0 > 0.0 {
        if (params.flags & FLAG_STRONG_GRAVITY) != 0u {
            f -= p * (m * params.gravity);
        } else {
            f -= p * (m * params.gravity / d0);
        }
    }

    let first = offsets[i];
    let end = offsets[i + 1u];
    // Hub rows were summed by fa2_attraction_heavy.wgsl, already in `force`.
    if end - first <= HEAVY_ROW {
        for (var k = first; k < end; k++) {
            let j = neighbors[k];
            f += edge_attraction(pos[j] - p, attraction[k], s + sizes[j], linlog, adjust);
        }
    }
    force[i] = f;

    let old = old_force[i];
    swing_traction[i] = m * vec2<f32>(length(f - old), 0.5 * length(f + old));
}
