// Exact O(n²) repulsion, tiled through workgroup memory: for small graphs
// (Gephi without Barnes–Hut) and as the reference for the tree.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> mass: array<f32>;
@group(0) @binding(3) var<storage, read> sizes: array<f32>;
@group(0) @binding(4) var<storage, read_write> force: array<vec2<f32>>;

var<workgroup> tile_pos: array<vec2<f32>, 256>;
var<workgroup> tile_mass: array<f32, 256>;
var<workgroup> tile_size: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = params.n;
    let i = linear_id(wid, nwg, lid);
    let valid = i < n;
    let adjust = (params.flags & FLAG_ADJUST_SIZES) != 0u;
    var p = vec2<f32>(0.0);
    var kr_m = 0.0;
    var s = 0.0;
    if valid {
        p = pos[i];
        kr_m = params.kr * mass[i];
        s = sizes[i];
    }
    var f = vec2<f32>(0.0);
    let tiles = (n + WG - 1u) / WG;
    for (var t = 0u; t < tiles; t++) {
        let j = t * WG + lid;
        if j < n {
            tile_pos[lid] = pos[j];
            tile_mass[lid] = mass[j];
            tile_size[lid] = sizes[j];
        }
        workgroupBarrier();
        if valid {
            // The last tile may be partial: never read stale entries.
            let count = min(WG, n - t * WG);
            for (var k = 0u; k < count; k++) {
                let jj = t * WG + k;
                if jj != i {
                    f += pair_repulsion(i, jj, p - tile_pos[k], kr_m * tile_mass[k], s + tile_size[k], adjust);
                }
            }
        }
        workgroupBarrier();
    }
    if valid {
        force[i] = f;
    }
}
