// Approximate repulsion: Barnes–Hut over the quadtree of grids built by
// fa2_grid_*.wgsl. Each thread walks the tree from the root with a small
// stack; a cell counts as one body at its mass centre when d·θ > 2·radius
// (Gephi's criterion), otherwise its children are visited; in the finest
// cells the nodes are summed exactly. Threads take nodes in Morton order so
// neighbouring threads walk similar paths. Each thread writes only its own
// node's force: no atomics.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pos: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> mass: array<f32>;
@group(0) @binding(3) var<storage, read> sizes: array<f32>;
@group(0) @binding(4) var<storage, read> cells: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> starts: array<u32>;
@group(0) @binding(6) var<storage, read> sorted: array<u32>;
@group(0) @binding(7) var<storage, read_write> force: array<vec2<f32>>;

// Stack entries: level in the top 5 bits, Morton index in the level below.
const LEVEL_SHIFT: u32 = 27u;
const INDEX_MASK: u32 = 0x7ffffffu;
// Each visit pops one entry and pushes four: depth ≤ 3·levels + 1.
const STACK_SIZE: u32 = 48u;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let t = linear_id(wid, nwg, lid);
    if t >= params.n {
        return;
    }
    let i = sorted[t];
    let p = pos[i];
    let kr_m = params.kr * mass[i];
    let s = sizes[i];
    let adjust = (params.flags & FLAG_ADJUST_SIZES) != 0u;
    let finest = params.levels;
    var f = vec2<f32>(0.0);
    var stack: array<u32, STACK_SIZE>;
    stack[0] = 0u;
    var sp = 1u;
    while sp > 0u {
        sp -= 1u;
        let entry = stack[sp];
        let level = entry >> LEVEL_SHIFT;
        let c = entry & INDEX_MASK;
        let cell = cells[level_offset(level) + c];
        if cell.x <= 0.0 {
            continue;
        }
        let d = p - cell.yz;
        let d2 = dot(d, d);
        // Prevent overlap: the region force ignores sizes (as in Gephi), which
        // underestimates near cells badly (the pair law is kr·m·m·d/gap²), so
        // a cell is approximated only from twice its reach plus this node's
        // size (cell.w includes the sizes): gaps are then at least half the
        // distance, and no contact is ever approximated.
        let clear = !adjust || d2 > 4.0 * (cell.w + s) * (cell.w + s);
        if d2 * params.theta2 > 4.0 * cell.w * cell.w && d2 >= MIN_DISTANCE * MIN_DISTANCE && clear {
            // Gephi's region force.
            f += d * (kr_m * cell.x / d2);
        } else if level == finest {
            let end = starts[c + 1u];
            for (var k = starts[c]; k < end; k++) {
                let j = sorted[k];
                if j != i {
                    f += pair_repulsion(i, j, p - pos[j], kr_m * mass[j], s + sizes[j], adjust);
                }
            }
        } else {
            let child = ((level + 1u) << LEVEL_SHIFT) | (c << 2u);
            stack[sp] = child;
            stack[sp + 1u] = child + 1u;
            stack[sp + 2u] = child + 2u;
            stack[sp + 3u] = child + 3u;
            sp += 4u;
        }
    }
    force[i] = f;
}
