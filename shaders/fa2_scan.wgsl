// Exclusive prefix sum of u32, in place, 512 values per workgroup:
// `scan_blocks` scans each block and writes its total to `sums`; after
// `sums` is scanned the same way (recursively), `add_offsets` adds each
// block's offset. Turns the per-cell node counts into cell start indices.

struct ScanParams {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> scan: ScanParams;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;

const BLOCK: u32 = 512u;
var<workgroup> partial_sums: array<u32, 256>;

@compute @workgroup_size(256)
fn scan_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let block = wid.y * nwg.x + wid.x;
    // Spare groups of a 2D dispatch (uniform per workgroup, so no barrier is skipped unevenly).
    if block * BLOCK >= scan.len {
        return;
    }
    let base = block * BLOCK + 2u * lid;
    var a = 0u;
    var b = 0u;
    if base < scan.len {
        a = data[base];
    }
    if base + 1u < scan.len {
        b = data[base + 1u];
    }
    let own = a + b;
    partial_sums[lid] = own;
    workgroupBarrier();
    // Hillis–Steele inclusive scan of the 256 pair sums.
    for (var offset = 1u; offset < WG; offset = offset * 2u) {
        var v = partial_sums[lid];
        if lid >= offset {
            v += partial_sums[lid - offset];
        }
        workgroupBarrier();
        partial_sums[lid] = v;
        workgroupBarrier();
    }
    let before = partial_sums[lid] - own;
    if base < scan.len {
        data[base] = before;
    }
    if base + 1u < scan.len {
        data[base + 1u] = before + a;
    }
    if lid == WG - 1u {
        sums[block] = partial_sums[lid];
    }
}

@compute @workgroup_size(256)
fn add_offsets(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = linear_id(wid, nwg, lid);
    if i < scan.len {
        data[i] += sums[i / BLOCK];
    }
}
