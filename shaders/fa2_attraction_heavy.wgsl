// Attraction on hub nodes (CSR rows longer than HEAVY_ROW): one workgroup
// per hub, its threads striding over the row, partial sums reduced in
// workgroup memory, added to the hub's force (only this workgroup writes
// it). Keeps a 70k-edge tag from serialising on one thread.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> sizes: array<f32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> neighbors: array<u32>;
@group(0) @binding(6) var<storage, read> attraction: array<f32>;
@group(0) @binding(7) var<storage, read_write> force: array<vec2<f32>>;
@group(0) @binding(10) var<storage, read> heavy_nodes: array<u32>;

var<workgroup> partial_force: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let h = wid.y * nwg.x + wid.x;
    // Spare groups of a 2D dispatch (uniform per workgroup).
    if h >= params.heavy_rows {
        return;
    }
    let i = heavy_nodes[h];
    let p = pos[i];
    let s = sizes[i];
    let linlog = (params.flags & FLAG_LINLOG) != 0u;
    let adjust = (params.flags & FLAG_ADJUST_SIZES) != 0u;
    var f = vec2<f32>(0.0);
    let end = offsets[i + 1u];
    for (var k = offsets[i] + lid; k < end; k += WG) {
        let j = neighbors[k];
        f += edge_attraction(pos[j] - p, attraction[k], s + sizes[j], linlog, adjust);
    }
    partial_force[lid] = f;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            partial_force[lid] += partial_force[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        force[i] += partial_force[0];
    }
}
