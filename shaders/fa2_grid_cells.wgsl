// Tree build, step 5: the mass, mass centre and radius of every cell of every
// level, stored vec4(mass, centre.x, centre.y, radius). `leaves` sums each
// finest cell's nodes, `parents` one coarser level from its four children
// (one dispatch per level, finest first). The radius bounds the distance
// from the mass centre to the farthest node (plus its size under prevent
// overlap): exact in leaves, an upper bound above, so the criterion is at
// least as strict as Gephi's (region size = 2·radius).

struct LevelParams {
    level: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> mass: array<f32>;
@group(0) @binding(3) var<storage, read> sizes: array<f32>;
@group(0) @binding(4) var<storage, read> starts: array<u32>;
@group(0) @binding(5) var<storage, read> sorted: array<u32>;
@group(0) @binding(6) var<storage, read_write> cells: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> level_params: LevelParams;

@compute @workgroup_size(256)
fn leaves(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let c = linear_id(wid, nwg, lid);
    if c >= params.leaf_cells {
        return;
    }
    let out = level_offset(params.levels) + c;
    let first = starts[c];
    let end = starts[c + 1u];
    if first == end {
        cells[out] = vec4<f32>(0.0);
        return;
    }
    // Sum relative to the first node: keeps f32 precision far from the origin.
    let origin = pos[sorted[first]];
    var m = 0.0;
    var weighted = vec2<f32>(0.0);
    for (var k = first; k < end; k++) {
        let j = sorted[k];
        m += mass[j];
        weighted += mass[j] * (pos[j] - origin);
    }
    let centre = origin + weighted / m;
    let adjust = (params.flags & FLAG_ADJUST_SIZES) != 0u;
    var r = 0.0;
    for (var k = first; k < end; k++) {
        let j = sorted[k];
        r = max(r, length(pos[j] - centre) + select(0.0, sizes[j], adjust));
    }
    cells[out] = vec4<f32>(m, centre, r);
}

@compute @workgroup_size(256)
fn parents(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let level = level_params.level;
    let c = linear_id(wid, nwg, lid);
    if c >= (1u << (2u * level)) {
        return;
    }
    let child0 = level_offset(level + 1u) + 4u * c;
    var m = 0.0;
    var weighted = vec2<f32>(0.0);
    var origin = vec2<f32>(0.0);
    var found = false;
    for (var k = 0u; k < 4u; k++) {
        let ch = cells[child0 + k];
        if ch.x > 0.0 {
            if !found {
                origin = ch.yz;
                found = true;
            }
            m += ch.x;
            weighted += ch.x * (ch.yz - origin);
        }
    }
    let out = level_offset(level) + c;
    if !found {
        cells[out] = vec4<f32>(0.0);
        return;
    }
    let centre = origin + weighted / m;
    var r = 0.0;
    for (var k = 0u; k < 4u; k++) {
        let ch = cells[child0 + k];
        if ch.x > 0.0 {
            r = max(r, length(ch.yz - centre) + ch.w);
        }
    }
    cells[out] = vec4<f32>(m, centre, r);
}
