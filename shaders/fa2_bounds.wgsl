// Bounding box of all positions, a deterministic two-stage tree reduction:
// `partial` reduces each 256-node block, `finish` (one workgroup) the blocks.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> bounds: array<vec4<f32>>;

const BIG: f32 = 3.0e38;
var<workgroup> shared_box: array<vec4<f32>, 256>;

fn merge(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(min(a.xy, b.xy), max(a.zw, b.zw));
}

fn reduce_shared(lid: u32) {
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            shared_box[lid] = merge(shared_box[lid], shared_box[lid + stride]);
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn partial(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    var b = vec4<f32>(BIG, BIG, -BIG, -BIG);
    if i < params.n {
        let p = pos[i];
        b = vec4<f32>(p, p);
    }
    shared_box[lid] = b;
    workgroupBarrier();
    reduce_shared(lid);
    if lid == 0u {
        partials[wid.y * nwg.x + wid.x] = shared_box[0];
    }
}

@compute @workgroup_size(256)
fn finish(@builtin(local_invocation_index) lid: u32) {
    let blocks = (params.n + WG - 1u) / WG;
    var b = vec4<f32>(BIG, BIG, -BIG, -BIG);
    for (var k = lid; k < blocks; k += WG) {
        b = merge(b, partials[k]);
    }
    shared_box[lid] = b;
    workgroupBarrier();
    reduce_shared(lid);
    if lid == 0u {
        bounds[0] = shared_box[0];
    }
}
