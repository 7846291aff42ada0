// Tag nodes as round dots, antialiased, one instanced draw.

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

struct Dot {
    node: u32,    // index into positions
    radius: f32,  // world units
    color: u32,   // 0xAABBGGRR, premultiplied
    flags: u32,   // 2: hidden
};

@group(0) @binding(0) var<uniform> camera: Camera;
@group(0) @binding(1) var<storage, read> positions: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> dots: array<Dot>;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) offset: vec2<f32>,  // from the centre, in pixels
    @location(1) @interpolate(flat) radius_px: f32,
    @location(2) @interpolate(flat) color: vec4<f32>,
};

const FLAG_HIDDEN: u32 = 2u;

const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(-1.0, 1.0),
    vec2<f32>(-1.0, 1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
);

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, @builtin(instance_index) ii: u32) -> VsOut {
    let d = dots[ii];
    let radius_px = max(d.radius * camera.zoom, 1.5);
    // One pixel of slack around the disc for the antialiased rim.
    let reach = radius_px + 1.0;
    let corner = CORNERS[vi];
    let world = positions[d.node] + corner * (reach / camera.zoom);
    var out: VsOut;
    if ((d.flags & FLAG_HIDDEN) != 0u) {
        // A degenerate quad outside the clip volume: nothing rasterised.
        out.clip = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        out.offset = vec2<f32>(0.0);
        out.radius_px = 0.0;
        out.color = vec4<f32>(0.0);
        return out;
    }
    out.clip = vec4<f32>((world - camera.center - camera.center_lo) * camera.scale, 0.0, 1.0);
    out.offset = corner * reach;
    out.radius_px = radius_px;
    out.color = unpack4x8unorm(d.color);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let coverage = clamp(in.radius_px - length(in.offset) + 0.5, 0.0, 1.0);
    if (coverage <= 0.0) {
        discard;
    }
    return in.color * coverage;
}
