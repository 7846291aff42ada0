//! Cluster hulls drawn by the renderer: each visible cluster's hull as a
//! translucent fill plus an outline in the cluster's colour, so they appear
//! in the viewer and in exports alike.
//!
//! The polygons are triangulated once on the CPU (geo's earcut); the outline
//! is a mitred band whose width is given in pixels, expanded in the vertex
//! shader, so it stays as thick at every zoom.

use bytemuck::{Pod, Zeroable};
use geo::{Polygon, TriangulateEarcut};
use glam::Vec2;
use wgpu::util::DeviceExt;

use crate::cluster::Cluster;
use crate::render::uniform_entry;
use crate::render::{CustomLayer, Shared, premultiplied, premultiplied_pipeline, storage_entry};

/// Opacity of the hull fill (images stay readable beneath it).
pub const FILL_ALPHA: f32 = 0.18;
/// Opacity of the outline.
pub const OUTLINE_ALPHA: f32 = 0.9;
/// Outline width in pixels at scale 1.
pub const OUTLINE_PX: f32 = 2.0;
/// A mitre never reaches further than this many half-widths (sharp corners).
pub const MITER_LIMIT: f32 = 3.0;

/// Mirrors `Vertex` in hulls.wgsl (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct HullVertex {
    /// World position.
    pub pos: [f32; 2],
    /// Pixel offset (y up) added after projection: the outline's width.
    pub offset: [f32; 2],
    /// Premultiplied RGBA.
    pub color: [f32; 4],
}

/// The triangles of every visible cluster's hull ("other" and hidden
/// clusters have none): fills first, outlines on top.
pub fn hull_vertices(clusters: &[Cluster], outline_px: f32) -> Vec<HullVertex> {
    let hulls: Vec<(Polygon<f64>, u32)> = clusters
        .iter()
        .filter(|c| !c.hidden && !c.is_other)
        .filter_map(|c| Some((c.hull()?, c.color)))
        .collect();
    let mut out = Vec::new();
    for (polygon, rgb) in &hulls {
        let color = premultiplied(*rgb, FILL_ALPHA);
        for t in polygon.earcut_triangles() {
            for p in [t.v1(), t.v2(), t.v3()] {
                out.push(HullVertex {
                    pos: [p.x as f32, p.y as f32],
                    offset: [0.0; 2],
                    color,
                });
            }
        }
    }
    for (polygon, rgb) in &hulls {
        let color = premultiplied(*rgb, OUTLINE_ALPHA);
        let ring: Vec<Vec2> = polygon
            .exterior()
            .coords()
            .map(|c| Vec2::new(c.x as f32, c.y as f32))
            .collect();
        outline(&ring, outline_px * 0.5, color, &mut out);
    }
    out
}

/// A closed band of half-width `half` (pixels) centred on `ring`, as
/// triangles with mitred joins.
fn outline(ring: &[Vec2], half: f32, color: [f32; 4], out: &mut Vec<HullVertex>) {
    // The ring as distinct points (WKT repeats the first at the end).
    let mut points: Vec<Vec2> = Vec::with_capacity(ring.len());
    for &p in ring {
        if points
            .last()
            .is_none_or(|&q: &Vec2| q.distance_squared(p) > 0.0)
        {
            points.push(p);
        }
    }
    while points.len() > 1 && points[0] == points[points.len() - 1] {
        points.pop();
    }
    let n = points.len();
    if n < 2 {
        return;
    }
    let normal = |a: Vec2, b: Vec2| {
        let d = (b - a).normalize_or_zero();
        Vec2::new(-d.y, d.x)
    };
    // Offset of each corner: the mitre of its two edges' normals.
    let offsets: Vec<Vec2> = (0..n)
        .map(|i| {
            let prev = normal(points[(i + n - 1) % n], points[i]);
            let next = normal(points[i], points[(i + 1) % n]);
            let sum = prev + next;
            let m = sum.normalize_or_zero();
            let cos = m.dot(next);
            if m == Vec2::ZERO || cos.abs() < 1.0 / MITER_LIMIT {
                next * half
            } else {
                m * (half / cos)
            }
        })
        .collect();
    let vertex = |i: usize, side: f32| HullVertex {
        pos: points[i].to_array(),
        offset: (offsets[i] * side).to_array(),
        color,
    };
    for i in 0..n {
        let j = (i + 1) % n;
        let (a0, a1, b0, b1) = (
            vertex(i, -1.0),
            vertex(i, 1.0),
            vertex(j, -1.0),
            vertex(j, 1.0),
        );
        out.extend_from_slice(&[a0, b0, a1, a1, b0, b1]);
    }
}

/// The hull layer: one draw of the prebuilt triangles.
pub struct HullLayer {
    pipeline: wgpu::RenderPipeline,
    group: wgpu::BindGroup,
    count: u32,
}

impl HullLayer {
    /// The hulls of `clusters`, outlines `outline_px` wide.
    pub fn new(shared: &Shared, clusters: &[Cluster], outline_px: f32) -> HullLayer {
        let layout = shared
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("hulls"),
                entries: &[uniform_entry(0), storage_entry(1)],
            });
        let pipeline = premultiplied_pipeline(
            shared,
            "hulls",
            include_str!("../../shaders/hulls.wgsl"),
            &[&layout],
        );
        let vertices = hull_vertices(clusters, outline_px);
        let mut bytes = bytemuck::cast_slice::<HullVertex, u8>(&vertices).to_vec();
        // A storage binding may not be empty.
        bytes.resize(bytes.len().max(std::mem::size_of::<HullVertex>()), 0);
        let buffer = shared
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("hull vertices"),
                contents: &bytes,
                usage: wgpu::BufferUsages::STORAGE,
            });
        let group = shared.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("hulls"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: shared.camera.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: buffer.as_entire_binding(),
                },
            ],
        });
        HullLayer {
            pipeline,
            group,
            count: vertices.len() as u32,
        }
    }
}

impl CustomLayer for HullLayer {
    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.count == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group, &[]);
        pass.draw(0..self.count, 0..1);
    }

    fn name(&self) -> &str {
        super::overlay::HULLS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(wkt: &str, hidden: bool) -> Cluster {
        Cluster {
            id: 1,
            name: "a".into(),
            auto_name: "a".into(),
            caption: None,
            color: 0x4e79a7,
            hidden,
            is_other: false,
            size: 3,
            tag_count: 0,
            core_size: None,
            outside_hull: None,
            hull_wkt: Some(wkt.into()),
            label_at: None,
            labels: Vec::new(),
            annotation_id: None,
        }
    }

    fn triangle_area(v: &[HullVertex]) -> f32 {
        let [a, b, c] = [v[0].pos, v[1].pos, v[2].pos].map(Vec2::from);
        ((b - a).perp_dot(c - a) * 0.5).abs()
    }

    #[test]
    fn fill_triangles_cover_the_polygon_area_and_outline_has_pixel_width() {
        // An L shape: 2×2 square less its top-right 1×1 quarter, area 3.
        let c = cluster("POLYGON((0 0,2 0,2 1,1 1,1 2,0 2,0 0))", false);
        let v = hull_vertices(&[c], 4.0);
        let fills: Vec<&[HullVertex]> = v
            .chunks(3)
            .take_while(|t| t[0].offset == [0.0; 2] && t[1].offset == [0.0; 2])
            .collect();
        // 6 corners → 4 fill triangles; the outline is 6 edges × 2 triangles.
        assert_eq!(fills.len(), 4);
        assert_eq!(v.len(), 4 * 3 + 6 * 6);
        let area: f32 = fills.iter().map(|t| triangle_area(t)).sum();
        assert!((area - 3.0).abs() < 1e-5, "area {area}");
        // The fill is translucent, the outline nearly opaque, both premultiplied.
        assert!((fills[0][0].color[3] - FILL_ALPHA).abs() < 1e-6);
        let edge = &v[12..];
        assert!((edge[0].color[3] - OUTLINE_ALPHA).abs() < 1e-6);
        // At a right-angle corner the mitre reaches half-width·√2 = 2√2 px.
        for vert in edge {
            let len = Vec2::from(vert.offset).length();
            assert!((len - 2.0 * 2f32.sqrt()).abs() < 1e-4, "offset {len}");
        }
    }

    #[test]
    fn hidden_clusters_and_missing_hulls_draw_nothing() {
        let hidden = cluster("POLYGON((0 0,1 0,1 1,0 0))", true);
        let mut no_hull = cluster("", false);
        no_hull.hull_wkt = None;
        assert!(hull_vertices(&[hidden, no_hull], 2.0).is_empty());
    }
}
