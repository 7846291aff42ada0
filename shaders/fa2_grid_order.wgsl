// Tree build, step 4: the deterministic order inside each cell. The scatter
// placed a cell's nodes in atomicAdd order, which changes from run to run
// and with it every float sum over a cell (leaf moments, leaf repulsion).
// Each node's final rank is the number of nodes of its cell with a smaller
// index, so cells list their nodes by index. Cost: the cell's occupancy per
// node (about one on average; a crowded cell costs no more than its leaf
// repulsion already does).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> cell_of: array<u32>;
@group(0) @binding(3) var<storage, read> scattered: array<u32>;
@group(0) @binding(4) var<storage, read_write> sorted: array<u32>;

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
    let first = starts[cell_of[i]];
    let end = starts[cell_of[i] + 1u];
    var rank = 0u;
    for (var k = first; k < end; k++) {
        rank += select(0u, 1u, scattered[k] < i);
    }
    sorted[first + rank] = i;
}
