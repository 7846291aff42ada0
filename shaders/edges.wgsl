// Edges as straight lines of constant pixel width, one instanced draw.

struct Camera {
    center: vec2<f32>,
    scale: vec2<f32>,
    viewport: vec2<f32>,
    zoom: f32,
    _pad: f32,
    highlight: vec4<f32>,
    center_lo: vec2<f32>,  // what rounding a tile's centre to f32 left out (world units)
    _pad2: vec2<f32>,
};

struct Style {
    color: vec4<f32>,  // premultiplied
    width_px: f32,
    // Three scalars, not a vec3 (16-byte aligned: 48 bytes in all), so the
    // struct is the 32 bytes of `EdgeStyle` in edges.rs.
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
};

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> positions: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> edges: array<vec2<u32>>;
@group(0) @binding(3) var<uniform> style: Style;

const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(0.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(0.0, 1.0),
    vec2<f32>(0.0, 1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
);

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> @builtin(position) vec4<f32> {
    let e = edges[ii];
    let a = positions[e.x];
    let b = positions[e.y];
    let corner = CORNERS[vi];
    // Work in pixels so the width is the same at every zoom.
    let pa = (a - camera.center - camera.center_lo) * camera.zoom;
    let pb = (b - camera.center - camera.center_lo) * camera.zoom;
    var dir = pb - pa;
    let len = length(dir);
    if (len < 1e-6) { dir = vec2<f32>(1.0, 0.0); } else { dir = dir / len; }
    let normal = vec2<f32>(-dir.y, dir.x);
    let p = mix(pa, pb, corner.x) + normal * corner.y * style.width_px * 0.5;
    return vec4<f32>(p * 2.0 / camera.viewport, 0.0, 1.0);
}

@fragment
fn fs_main() -> @location(0) vec4<f32> {
    return style.color;
}
