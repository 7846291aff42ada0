// Poster images drawn larger than the atlas's cells: one quad per image,
// each with its own texture made at the image's size on the poster (see
// src/render/detail.rs). The quad is the sprite's, computed as sprites.wgsl
// computes it, so a detailed image covers exactly the pixels its sprite would.

struct Camera {
    center: vec2<f32>,
    scale: vec2<f32>,      // world -> clip
    viewport: vec2<f32>,
    zoom: f32,             // pixels per world unit
    _pad: f32,
    highlight: vec4<f32>,
    center_lo: vec2<f32>,  // what rounding a tile's centre to f32 left out (world units)
    _pad2: vec2<f32>,
};

struct Quad {
    position: vec2<f32>,   // the image's node position (world)
    half: vec2<f32>,       // half extents (world)
    tint: vec4<f32>,       // premultiplied multiplier
    size: vec2<f32>,       // the texture's size in texels
    _pad: vec2<f32>,
};

@group(0) @binding(0) var<uniform> camera: Camera;
@group(1) @binding(0) var<uniform> quad: Quad;
@group(1) @binding(1) var picture: texture_2d<f32>;
@group(1) @binding(2) var linear_sampler: sampler;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) local: vec2<f32>,  // 0..1 across the image, y down
};

const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
    vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
);

@vertex
fn vs_main(@builtin(vertex_index) vi: u32) -> VsOut {
    let corner = CORNERS[vi];
    let half = max(quad.half, vec2<f32>(0.5 / camera.zoom));
    let world = quad.position + (corner * 2.0 - 1.0) * half;
    var out: VsOut;
    out.clip = vec4<f32>((world - camera.center - camera.center_lo) * camera.scale, 0.0, 1.0);
    out.local = vec2<f32>(corner.x, 1.0 - corner.y);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    // Texel centres only: the edge texels are not blended with the clamp.
    let texel = clamp(in.local * quad.size, vec2<f32>(0.5), quad.size - vec2<f32>(0.5));
    return textureSampleLevel(picture, linear_sampler, texel / quad.size, 0.0) * quad.tint;
}
