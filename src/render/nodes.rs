//! Tag nodes as dots (toggle). Their labels are drawn by a label layer
//! (`labels.rs`) that the renderer keeps beside this one.

use crate::render::scene::{DotInstance, FLAG_HIDDEN};
use crate::render::sprites::storage_buffer;
use crate::render::{Shared, premultiplied_pipeline, storage_entry, uniform_entry};

pub struct DotLayer {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    group: wgpu::BindGroup,
    dots: wgpu::Buffer,
    /// CPU mirror of `dots`.
    pub(crate) instances: Vec<DotInstance>,
    /// Range of `instances` changed since the last upload.
    dirty: Option<(usize, usize)>,
}

impl DotLayer {
    pub fn new(shared: &Shared, dots: Vec<DotInstance>, positions: &wgpu::Buffer) -> DotLayer {
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
        let buffer = storage_buffer(&shared.device, "dots", bytemuck::cast_slice(&dots));
        let group = Self::group(shared, &layout, positions, &buffer);
        DotLayer {
            pipeline,
            layout,
            group,
            dots: buffer,
            instances: dots,
            dirty: None,
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

    /// Changes dot `i` on the CPU; uploaded by the next `upload`. Returns
    /// whether its hidden flag changed (its edges must then be rebuilt).
    pub fn update(&mut self, i: usize, f: impl FnOnce(&mut DotInstance)) -> bool {
        let Some(dot) = self.instances.get_mut(i) else {
            return false;
        };
        let was_hidden = dot.flags & FLAG_HIDDEN;
        f(dot);
        self.dirty = Some(match self.dirty {
            Some((a, b)) => (a.min(i), b.max(i + 1)),
            None => (i, i + 1),
        });
        was_hidden != dot.flags & FLAG_HIDDEN
    }

    pub fn upload(&mut self, queue: &wgpu::Queue) {
        if let Some((a, b)) = self.dirty.take() {
            queue.write_buffer(
                &self.dots,
                (a * std::mem::size_of::<DotInstance>()) as u64,
                bytemuck::cast_slice(&self.instances[a..b]),
            );
        }
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.instances.is_empty() {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group, &[]);
        pass.draw(0..6, 0..self.instances.len() as u32);
    }
}
