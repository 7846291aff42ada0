// Cluster hulls: translucent filled triangles and an outline of constant
// pixel width, both as one triangle list built on the CPU (render/hulls.rs).

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

struct Vertex {
    pos: vec2<f32>,     // world
    offset: vec2<f32>,  // pixels, y up (outline width; zero for fills)
    color: vec4<f32>,   // premultiplied
};

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> vertices: array<Vertex>;

struct Out {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vi: u32) -> Out {
    let v = vertices[vi];
    let clip = (v.pos - camera.center - camera.center_lo) * camera.scale + v.offset * 2.0 / camera.viewport;
    var out: Out;
    out.pos = vec4<f32>(clip, 0.0, 1.0);
    out.color = v.color;
    return out;
}

@fragment
fn fs_main(in: Out) -> @location(0) vec4<f32> {
    return in.color;
}
