//! Edges as thin straight lines (toggle; off by default, as in the recipe's
//! final picture).

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::render::sprites::storage_buffer;
use crate::render::{Shared, premultiplied_pipeline, storage_entry, uniform_entry};

/// Mirrors `Style` in edges.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct EdgeStyle {
    color: [f32; 4],
    width_px: f32,
    _pad: [f32; 3],
}

pub struct EdgeLayer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    group: wgpu::BindGroup,
    edges: wgpu::Buffer,
    style: wgpu::Buffer,
    /// Every edge of the scene; the buffer holds those drawn, first `count`.
    all: Vec<[u32; 2]>,
    count: u32,
}

impl EdgeLayer {
    pub fn new(shared: &Shared, edges: Vec<[u32; 2]>, positions: &wgpu::Buffer) -> EdgeLayer {
        let layout = shared
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("edges"),
                entries: &[
                    uniform_entry(0),
                    storage_entry(1),
                    storage_entry(2),
                    uniform_entry(3),
                ],
            });
        let pipeline = premultiplied_pipeline(
            shared,
            "edges",
            include_str!("../../shaders/edges.wgsl"),
            &[&layout],
        );
        let buffer = storage_buffer(&shared.device, "edges", bytemuck::cast_slice(&edges));
        let style = shared
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("edge style"),
                contents: bytemuck::bytes_of(&EdgeStyle::zeroed()),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            });
        let group = Self::group(shared, &layout, positions, &buffer, &style);
        EdgeLayer {
            pipeline,
            layout,
            group,
            edges: buffer,
            style,
            count: edges.len() as u32,
            all: edges,
        }
    }

    fn group(
        shared: &Shared,
        layout: &wgpu::BindGroupLayout,
        positions: &wgpu::Buffer,
        edges: &wgpu::Buffer,
        style: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        super::buffers_group(
            &shared.device,
            "edges",
            layout,
            &[&shared.camera, positions, edges, style],
        )
    }

    pub fn set_positions(&mut self, shared: &Shared, positions: &wgpu::Buffer) {
        self.group = Self::group(shared, &self.layout, positions, &self.edges, &self.style);
    }

    /// Draws only the edges with no endpoint for which `hidden(node)` holds
    /// (the edges of hidden tags); the list is rebuilt, which costs one
    /// upload when the user hides or shows a tag and nothing per frame.
    pub(crate) fn set_hidden_nodes(&mut self, queue: &wgpu::Queue, hidden: impl Fn(u32) -> bool) {
        let kept: Vec<[u32; 2]> = self
            .all
            .iter()
            .copied()
            .filter(|&[a, b]| !hidden(a) && !hidden(b))
            .collect();
        if !kept.is_empty() {
            queue.write_buffer(&self.edges, 0, bytemuck::cast_slice(&kept));
        }
        self.count = kept.len() as u32;
    }

    /// `color` premultiplied RGBA in 0..1.
    pub(crate) fn set_style(&self, queue: &wgpu::Queue, color: [f32; 4], width_px: f32) {
        let style = EdgeStyle {
            color,
            width_px,
            _pad: [0.0; 3],
        };
        queue.write_buffer(&self.style, 0, bytemuck::bytes_of(&style));
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.count == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group, &[]);
        pass.draw(0..6, 0..self.count);
    }
}
