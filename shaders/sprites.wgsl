// Image sprites: one instanced draw, six vertices per sprite.
// Positions come straight from the layout's storage buffer (one vec2 per
// node, images first), so a live GPU layout is drawn without a CPU copy.

struct Camera {
    center: vec2<f32>,
    scale: vec2<f32>,      // world -> clip
    viewport: vec2<f32>,
    zoom: f32,             // pixels per world unit
    _pad: f32,
    highlight: vec4<f32>,  // premultiplied border colour of highlighted sprites
    center_lo: vec2<f32>,  // what rounding a tile's centre to f32 left out (world units)
    _pad2: vec2<f32>,
};

struct Sprite {
    node: u32,    // index into positions
    size: f32,    // half the longest side, world units
    aspect: f32,  // width / height
    color: u32,   // 0xAABBGGRR, premultiplied: the stand-in before any thumbnail
    tint: u32,    // 0xAABBGGRR multiplier; bit flags in `flags`
    flags: u32,   // 1 = highlighted, 2 = hidden
};

struct Atlas {
    // per level (16, 64, 256): cells per row, layer width, layer height (pixels)
    levels: array<vec4<u32>, 3>,
};

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> positions: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> sprites: array<Sprite>;
@group(0) @binding(3) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(4) var<uniform> atlas: Atlas;
// The sprites to draw, in index order (the ones on screen, or all of them).
@group(0) @binding(5) var<storage, read> order: array<u32>;
@group(1) @binding(0) var level16: texture_2d_array<f32>;
@group(1) @binding(1) var level64: texture_2d_array<f32>;
@group(1) @binding(2) var level256: texture_2d_array<f32>;
@group(1) @binding(3) var linear_sampler: sampler;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) local: vec2<f32>,            // 0..1 across the sprite, y down
    @location(1) @interpolate(flat) entry: vec2<u32>,
    @location(2) @interpolate(flat) color: vec4<f32>,
    @location(3) @interpolate(flat) tint: vec4<f32>,
    @location(4) @interpolate(flat) border: vec2<f32>, // border width in local units (x, y); 0 = none
};

const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
    vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
);

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VsOut {
    let si = order[ii];
    let s = sprites[si];
    var out: VsOut;
    if ((s.flags & 2u) != 0u) {
        out.clip = vec4<f32>(2.0, 2.0, 0.0, 1.0); // outside the clip volume
        return out;
    }
    let corner = CORNERS[vi];
    var half = vec2<f32>(s.size, s.size);
    if (s.aspect >= 1.0) { half.y = s.size / s.aspect; } else { half.x = s.size * s.aspect; }
    // Never thinner than half a pixel: a map of a million images stays a
    // cloud of coloured points instead of vanishing when zoomed out.
    half = max(half, vec2<f32>(0.5 / camera.zoom));
    let world = positions[s.node] + (corner * 2.0 - 1.0) * half;
    out.clip = vec4<f32>((world - camera.center - camera.center_lo) * camera.scale, 0.0, 1.0);
    out.local = vec2<f32>(corner.x, 1.0 - corner.y);
    out.entry = entries[si];
    out.color = unpack4x8unorm(s.color);
    out.tint = unpack4x8unorm(s.tint);
    if ((s.flags & 1u) != 0u) {
        let px = 2.0 * half * camera.zoom;
        out.border = min(vec2<f32>(2.0) / px, vec2<f32>(0.5));
    }
    return out;
}

fn sample_cell(level: u32, layer: u32, cell: u32, size: vec2<u32>, local: vec2<f32>) -> vec4<f32> {
    let info = atlas.levels[level - 1u];
    let per_row = info.x;
    let side = vec2<f32>(f32(info.y), f32(info.z));
    let cell_px = f32(info.y / per_row);
    let origin = vec2<f32>(f32(cell % per_row), f32(cell / per_row)) * cell_px;
    let extent = vec2<f32>(size);
    // Clamp to texel centres of the thumbnail so nothing of a neighbour bleeds in.
    let texel = clamp(local * extent, vec2<f32>(0.5), extent - vec2<f32>(0.5));
    let uv = (origin + texel) / side;
    if (level == 1u) {
        return textureSampleLevel(level16, linear_sampler, uv, i32(layer), 0.0);
    } else if (level == 2u) {
        return textureSampleLevel(level64, linear_sampler, uv, i32(layer), 0.0);
    }
    return textureSampleLevel(level256, linear_sampler, uv, i32(layer), 0.0);
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let level = in.entry.x >> 30u;
    var color = in.color;
    if (level != 0u) {
        let layer = (in.entry.x >> 14u) & 0xfffu;
        let cell = in.entry.x & 0x3fffu;
        let size = vec2<u32>(in.entry.y & 0xffffu, in.entry.y >> 16u);
        color = sample_cell(level, layer, cell, size, in.local);
    }
    color = color * in.tint;
    if (in.border.x > 0.0) {
        let edge = min(in.local, vec2<f32>(1.0) - in.local);
        if (edge.x < in.border.x || edge.y < in.border.y) {
            color = camera.highlight;
        }
    }
    return color;
}
