// Moves every node by Gephi's per-node factor speed / (1 + √(speed·m·swinging))
// (prevent overlap: a tenth of it, the step capped at 10 units, as
// layout::speed::node_factor), then keeps the force for the next swing.

struct SpeedState {
    speed: f32,
    efficiency: f32,
    swing: f32,
    traction: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> mass: array<f32>;
@group(0) @binding(3) var<storage, read> force: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> old_force: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> state: SpeedState;

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
    let f = force[i];
    let swinging = length(f - old_force[i]);
    let speed = state.speed;
    var factor = speed / (1.0 + sqrt(speed * mass[i] * swinging));
    if (params.flags & FLAG_ADJUST_SIZES) != 0u {
        let len = length(f);
        if len > 0.0 {
            factor = min(0.1 * factor * len, 10.0) / len;
        } else {
            factor = 0.0;
        }
    }
    pos[i] += f * factor;
    old_force[i] = f;
}
