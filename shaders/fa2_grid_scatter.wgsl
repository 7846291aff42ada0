// Tree build, step 3: nodes grouped by cell (Morton order): a counting sort
// from the scanned cell starts and each node's atomicAdd rank in its cell.
// The order inside a cell is not yet deterministic: fa2_grid_order.wgsl
// fixes it.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> cell_of: array<u32>;
@group(0) @binding(3) var<storage, read> rank: array<u32>;
@group(0) @binding(4) var<storage, read_write> scattered: array<u32>;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    if i < params.n {
        scattered[starts[cell_of[i]] + rank[i]] = i;
    }
}
