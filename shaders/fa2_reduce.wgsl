// Global swing and traction (deterministic two-stage tree reduction) and
// Gephi's adaptive global speed, all on the GPU: `partial` sums 256-node
// blocks, `finish` (one workgroup) sums the blocks and updates the speed
// state with the same rules as layout::speed::GlobalSpeed.

struct SpeedState {
    speed: f32,
    efficiency: f32,
    swing: f32,
    traction: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> swing_traction: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> state: SpeedState;

var<workgroup> shared_sum: array<vec2<f32>, 256>;

fn reduce_shared(lid: u32) {
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            shared_sum[lid] += shared_sum[lid + stride];
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
    var v = vec2<f32>(0.0);
    if i < params.n {
        v = swing_traction[i];
    }
    shared_sum[lid] = v;
    workgroupBarrier();
    reduce_shared(lid);
    if lid == 0u {
        partials[wid.y * nwg.x + wid.x] = shared_sum[0];
    }
}

const MIN_EFFICIENCY: f32 = 0.05;
const MAX_RISE: f32 = 0.5;

@compute @workgroup_size(256)
fn finish(@builtin(local_invocation_index) lid: u32) {
    let blocks = (params.n + WG - 1u) / WG;
    var v = vec2<f32>(0.0);
    for (var k = lid; k < blocks; k += WG) {
        v += partials[k];
    }
    shared_sum[lid] = v;
    workgroupBarrier();
    reduce_shared(lid);
    if lid != 0u {
        return;
    }
    let swing = shared_sum[0].x;
    let traction = shared_sum[0].y;
    let n = max(params.n_f, 1.0);
    let estimated_jt = 0.05 * sqrt(n);
    let min_jt = sqrt(estimated_jt);
    let max_jt = 10.0;
    let tol = params.jitter_tolerance;
    var jt = tol * max(min_jt, min(max_jt, estimated_jt * traction / (n * n)));
    var efficiency = state.efficiency;
    var speed = state.speed;
    // Guards as on the CPU: no NaN or infinity for a graph at rest.
    var erratic = false;
    if traction > 0.0 {
        erratic = swing / traction > 2.0;
    } else {
        erratic = swing > 0.0;
    }
    if erratic {
        if efficiency > MIN_EFFICIENCY {
            efficiency *= 0.5;
        }
        jt = max(jt, tol);
    }
    // Gephi's target uses the efficiency after the halving above and before
    // the ×0.7 / ×1.3 below.
    var rise = MAX_RISE * speed;
    if swing > 0.0 {
        let target_speed = jt * efficiency * traction / swing;
        rise = min(target_speed - speed, rise);
    }
    if swing > jt * traction {
        if efficiency > MIN_EFFICIENCY {
            efficiency *= 0.7;
        }
    } else if speed < 1000.0 {
        efficiency *= 1.3;
    }
    state.speed = speed + rise;
    state.efficiency = efficiency;
    state.swing = swing;
    state.traction = traction;
}
