//! The image sprites: one instanced draw of every image, each reading its
//! position from the positions storage buffer by node index and its
//! thumbnail (or colour) from the atlas entry written for it this frame.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::render::atlas::{Atlas, COLOR_ENTRY, Entry};
use crate::render::scene::SpriteInstance;
use crate::render::{Shared, premultiplied_pipeline, storage_entry, uniform_entry};

/// Mirrors `Atlas` in sprites.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct AtlasUniform {
    layout: [[u32; 4]; 3],
}

pub struct SpriteLayer {
    pipeline: wgpu::RenderPipeline,
    layout0: wgpu::BindGroupLayout,
    group0: wgpu::BindGroup,
    group1: wgpu::BindGroup,
    sprites: wgpu::Buffer,
    entries: wgpu::Buffer,
    atlas_uniform: wgpu::Buffer,
    /// Indices of the sprites drawn (instance i draws sprite order[i]).
    order: wgpu::Buffer,
    order_cpu: Vec<u32>,
    /// CPU mirrors: what the buffers hold.
    pub(crate) instances: Vec<SpriteInstance>,
    pub(crate) entries_cpu: Vec<Entry>,
    dirty_entries: Option<(usize, usize)>,
    dirty_sprites: Option<(usize, usize)>,
}

impl SpriteLayer {
    pub fn new(
        shared: &Shared,
        atlas: &Atlas,
        instances: Vec<SpriteInstance>,
        positions: &wgpu::Buffer,
    ) -> SpriteLayer {
        let device = &shared.device;
        let layout0 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("sprites frame"),
            entries: &[
                uniform_entry(0),
                storage_entry(1),
                storage_entry(2),
                storage_entry(3),
                uniform_entry(4),
                storage_entry(5),
            ],
        });
        let tex = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2Array,
                multisampled: false,
            },
            count: None,
        };
        let layout1 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("sprites atlas"),
            entries: &[
                tex(0),
                tex(1),
                tex(2),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline = premultiplied_pipeline(
            shared,
            "sprites",
            include_str!("../../shaders/sprites.wgsl"),
            &[&layout0, &layout1],
        );
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("atlas"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let views = atlas.views();
        let group1 = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sprites atlas"),
            layout: &layout1,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(views[0]),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(views[1]),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(views[2]),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Sampler(&sampler),
                },
            ],
        });
        let sprites = storage_buffer(device, "sprites", bytemuck::cast_slice(&instances));
        let entries_cpu = vec![COLOR_ENTRY; instances.len()];
        let entries = storage_buffer(
            device,
            "sprite atlas entries",
            bytemuck::cast_slice(&entries_cpu),
        );
        let layout = atlas.layout();
        let atlas_uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("atlas layout"),
            contents: bytemuck::bytes_of(&AtlasUniform {
                layout: std::array::from_fn(|i| [layout[i][0], layout[i][1], layout[i][2], 0]),
            }),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let all: Vec<u32> = (0..instances.len() as u32).collect();
        let order = storage_buffer(device, "sprite draw order", bytemuck::cast_slice(&all));
        let group0 = Self::frame_group(
            shared,
            &layout0,
            positions,
            &sprites,
            &entries,
            &atlas_uniform,
            &order,
        );
        SpriteLayer {
            pipeline,
            layout0,
            group0,
            group1,
            sprites,
            entries,
            atlas_uniform,
            order,
            order_cpu: all,
            instances,
            entries_cpu,
            dirty_entries: None,
            dirty_sprites: None,
        }
    }

    fn frame_group(
        shared: &Shared,
        layout: &wgpu::BindGroupLayout,
        positions: &wgpu::Buffer,
        sprites: &wgpu::Buffer,
        entries: &wgpu::Buffer,
        atlas_uniform: &wgpu::Buffer,
        order: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        super::buffers_group(
            &shared.device,
            "sprites frame",
            layout,
            &[
                &shared.camera,
                positions,
                sprites,
                entries,
                atlas_uniform,
                order,
            ],
        )
    }

    /// Draws from another positions buffer (e.g. the live layout's).
    pub fn set_positions(&mut self, shared: &Shared, positions: &wgpu::Buffer) {
        self.group0 = Self::frame_group(
            shared,
            &self.layout0,
            positions,
            &self.sprites,
            &self.entries,
            &self.atlas_uniform,
            &self.order,
        );
    }

    /// Draws only `visible` (sprite indices, ascending, so overlaps keep
    /// their order), or every sprite with `None`.
    pub(crate) fn set_drawn(&mut self, queue: &wgpu::Queue, visible: Option<&[u32]>) {
        let all;
        let wanted = match visible {
            Some(v) => v,
            None => {
                all = (0..self.instances.len() as u32).collect::<Vec<_>>();
                &all
            }
        };
        if wanted != self.order_cpu.as_slice() {
            self.order_cpu = wanted.to_vec();
            if !wanted.is_empty() {
                queue.write_buffer(&self.order, 0, bytemuck::cast_slice(wanted));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    pub(crate) fn set_entry(&mut self, image: usize, entry: Entry) {
        if self.entries_cpu[image] != entry {
            self.entries_cpu[image] = entry;
            self.dirty_entries = Some(widen(self.dirty_entries, image));
        }
    }

    /// Changes one sprite (colour, tint, flags, size); uploaded next frame.
    pub fn update(&mut self, image: usize, f: impl FnOnce(&mut SpriteInstance)) {
        if let Some(s) = self.instances.get_mut(image) {
            f(s);
            self.dirty_sprites = Some(widen(self.dirty_sprites, image));
        }
    }

    pub(crate) fn upload(&mut self, queue: &wgpu::Queue) {
        if let Some((a, b)) = self.dirty_entries.take() {
            queue.write_buffer(
                &self.entries,
                (a * 8) as u64,
                bytemuck::cast_slice(&self.entries_cpu[a..=b]),
            );
        }
        if let Some((a, b)) = self.dirty_sprites.take() {
            let stride = std::mem::size_of::<SpriteInstance>();
            queue.write_buffer(
                &self.sprites,
                (a * stride) as u64,
                bytemuck::cast_slice(&self.instances[a..=b]),
            );
        }
    }

    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if self.order_cpu.is_empty() {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group0, &[]);
        pass.set_bind_group(1, &self.group1, &[]);
        pass.draw(0..6, 0..self.order_cpu.len() as u32);
    }
}

fn widen(range: Option<(usize, usize)>, i: usize) -> (usize, usize) {
    match range {
        Some((a, b)) => (a.min(i), b.max(i)),
        None => (i, i),
    }
}

/// A storage buffer holding `bytes` (at least 16 bytes: bindings may not be empty).
pub(crate) fn storage_buffer(device: &wgpu::Device, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    let mut contents = bytes.to_vec();
    contents.resize(contents.len().max(16), 0);
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: &contents,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
    })
}
