//! Tag nodes as dots (toggle). Their labels come with the labels layer.

use crate::render::scene::DotInstance;
use crate::render::sprites::storage_buffer;
use crate::render::{Shared, premultiplied_pipeline, storage_entry, uniform_entry};

pub struct DotLayer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    group: wgpu::BindGroup,
    dots: wgpu::Buffer,
    count: u32,
}

impl DotLayer {
    pub fn new(shared: &Shared, dots: &[DotInstance], positions: &wgpu::Buffer) -> DotLayer {
        let layout = shared
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("dots"),
                entries: &[uniform_entry(0), storage_entry(1), storage_entry(2)],
            });
        let pipeline = premultiplied_pipeline(
            shared,
            "dots",
            include_str!("../../shaders/dots.wgsl"),
            &[&layout],
        );
        let buffer = storage_buffer(&shared.device, "dots", bytemuck::cast_slice(dots));
        let group = Self::group(shared, &layout, positions, &buffer);
        DotLayer {
            pipeline,
            layout,
            group,
            dots: buffer,
            count: dots.len() as u32,
        }
    }

    fn group(
        shared: &Shared,
        layout: &wgpu::BindGroupLayout,
        positions: &wgpu::Buffer,
        dots: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        super::buffers_group(
            &shared.device,
            "dots",
            layout,
            &[&shared.camera, positions, dots],
        )
    }

    pub fn set_positions(&mut self, shared: &Shared, positions: &wgpu::Buffer) {
        self.group = Self::group(shared, &self.layout, positions, &self.dots);
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
