//! The map renderer: image sprites from a level-of-detail thumbnail atlas,
//! tag dots and edges, drawn by wgpu into a window surface or an offscreen
//! texture with the same code.
//!
//! A [`Renderer`] lives as long as the scene. Each frame:
//! [`Renderer::prepare`] (camera uniform, which thumbnails are needed at
//! which level, upload of what the loader has decoded: never waits for disk)
//! then [`Renderer::encode`] into any colour target of the renderer's format.
//! [`Renderer::render_offscreen`] does both into an [`OffscreenTarget`].
//!
//! Colours are sRGB-encoded values written as they are (premultiplied alpha,
//! blend One / OneMinusSrcAlpha): give the renderer a **non-sRGB** target
//! format. A window whose surface is `Bgra8UnormSrgb` renders into a
//! `Bgra8Unorm` view of it (`SurfaceConfiguration::view_formats`).
//!
//! What is drawn, bottom to top, is [`Renderer::layers`]: edges, image
//! sprites, tag dots and their labels; cluster hulls and labels are added by their
//! issue as [`Layer::Custom`] entries at the right place in that list.

pub mod atlas;
pub mod camera;
pub mod detail;
pub mod edges;
pub mod hulls;
pub mod labels;
pub mod nodes;
pub mod offscreen;
pub mod overlay;
pub mod poster_text;
pub mod scene;
pub mod sprites;

use std::time::Duration;

use anyhow::Result;
use glam::Vec2;
use wgpu::util::DeviceExt;

use crate::gpu::GpuContext;
pub use atlas::{Atlas, AtlasConfig, LEVEL_CELLS, LevelStats};
pub use camera::{Bounds, Camera, Tile};
use edges::EdgeLayer;
use labels::{LabelLayer, LabelSpec};
use nodes::DotLayer;
pub use offscreen::{OFFSCREEN_FORMAT, OffscreenTarget};
pub use overlay::ClusterOverlay;
pub use scene::{DotInstance, Scene, SpriteInstance, TagLabel};
use sprites::SpriteLayer;

/// A layer added from outside the renderer (cluster hulls, labels).
pub trait CustomLayer {
    /// Uploads this frame's data before the render pass.
    fn prepare(&mut self, _queue: &wgpu::Queue, _camera: &Camera, _opts: &FrameOptions) {}
    /// Draws into the pass (the renderer's target format, premultiplied blending).
    fn draw(&self, pass: &mut wgpu::RenderPass<'_>);
    /// Tells layers apart in [`Renderer::layers`] (e.g. to replace the
    /// cluster overlay); empty unless a layer needs finding.
    fn name(&self) -> &str {
        ""
    }
    /// Label layers: (labels shown, labels with a place) in the last frame.
    fn labels_shown(&self) -> Option<(usize, usize)> {
        None
    }
}

/// One entry of the draw order.
pub enum Layer {
    Edges,
    Sprites,
    TagDots,
    /// The tags' names beside their dots (with the dots, when `tag_labels`).
    TagLabels,
    Custom(Box<dyn CustomLayer>),
}

/// Per-frame switches.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameOptions {
    /// Clear colour, 0xRRGGBB (white in the recipe's final picture).
    pub background: u32,
    /// Its opacity (0: a transparent picture).
    pub background_alpha: f32,
    pub show_images: bool,
    pub show_tags: bool,
    /// Names beside the tag dots (only drawn while `show_tags`).
    pub tag_labels: bool,
    pub show_edges: bool,
    /// Edge colour 0xRRGGBB and opacity.
    pub edge_rgb: u32,
    pub edge_alpha: f32,
    pub edge_width_px: f32,
    /// Border colour of highlighted sprites, 0xRRGGBB.
    pub highlight_rgb: u32,
    /// Screen rectangle (physical pixels, min and max) that labels must fit
    /// inside: in the viewer the map area its panels leave free. `None`:
    /// anywhere on the target.
    pub label_area: Option<[Vec2; 2]>,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            background: 0xFFFFFF,
            background_alpha: 1.0,
            show_images: true,
            show_tags: false,
            tag_labels: true,
            show_edges: false,
            edge_rgb: 0x999999,
            edge_alpha: 0.35,
            edge_width_px: 1.0,
            highlight_rgb: 0xFF8800,
            label_area: None,
        }
    }
}

/// What [`Renderer::prepare`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Image sprites overlapping the viewport.
    pub visible: usize,
    /// Visible sprites whose required level is not resident yet (drawn coarser).
    pub waiting: usize,
}

/// Device handles and the camera uniform every pipeline binds.
pub struct Shared {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub format: wgpu::TextureFormat,
    pub camera: wgpu::Buffer,
}

pub struct Renderer {
    shared: Shared,
    /// Draw order, bottom to top.
    pub layers: Vec<Layer>,
    sprites: SpriteLayer,
    dots: DotLayer,
    edges: EdgeLayer,
    /// A dot's hidden flag changed: rebuild the edge list before drawing.
    edges_stale: bool,
    /// Text of each dot's label (empty: no tag labels).
    tag_label_text: Vec<TagLabel>,
    /// Built on the first frame that shows tag labels (shaping every tag's
    /// name costs time that maps drawn without them should not pay);
    /// `Some(None)`: tried, no system font.
    tag_labels: Option<Option<LabelLayer>>,
    atlas: Atlas,
    /// The scene's positions, uploaded once (static scenes).
    own_positions: wgpu::Buffer,
    /// The CPU copy used to decide which images are visible at what size.
    lod_positions: Vec<Vec2>,
    /// Level each image needed last frame (for entries of evicted images).
    required: Vec<u8>,
    /// Whether `lod_positions` are the drawn positions, so off-screen sprites
    /// can be left out of the draw (not while a live layout moves them).
    cull_on_cpu: bool,
    /// Of the tile being drawn: what rounding its centre to f32 left out.
    center_lo: Vec2,
    /// Exports: images drawn larger than the atlas's cells, from their own
    /// textures (see [`detail`]), and those of them in the current view.
    detail: Option<detail::DetailLayer>,
    detail_visible: Vec<u32>,
}

impl Renderer {
    /// A renderer of `scene` drawing into targets of `format` (non-sRGB).
    pub fn new(
        ctx: &GpuContext,
        format: wgpu::TextureFormat,
        scene: Scene,
        atlas_config: &AtlasConfig,
    ) -> Renderer {
        let device = ctx.device.clone();
        let queue = ctx.queue.clone();
        let camera = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("camera"),
            contents: bytemuck::bytes_of(&Camera::new(Vec2::ONE).uniform([0.0; 4], Vec2::ZERO)),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let shared = Shared {
            device,
            queue,
            format,
            camera,
        };
        let own_positions = positions_buffer(&shared.device, &scene.positions);
        let atlas = Atlas::new(&shared.device, &shared.queue, atlas_config, scene.thumbs);
        let required = vec![0; scene.sprites.len()];
        let sprites = SpriteLayer::new(&shared, &atlas, scene.sprites, &own_positions);
        let dots = DotLayer::new(&shared, scene.dots, &own_positions);
        let edges = EdgeLayer::new(&shared, scene.edges, &own_positions);
        Renderer {
            shared,
            layers: vec![
                Layer::Edges,
                Layer::Sprites,
                Layer::TagDots,
                Layer::TagLabels,
            ],
            sprites,
            dots,
            edges,
            edges_stale: false,
            tag_label_text: scene.tag_labels,
            tag_labels: None,
            atlas,
            own_positions,
            lod_positions: scene.positions,
            required,
            cull_on_cpu: true,
            center_lo: Vec2::ZERO,
            detail: None,
            detail_visible: Vec::new(),
        }
    }

    pub fn format(&self) -> wgpu::TextureFormat {
        self.shared.format
    }

    pub fn atlas(&self) -> &Atlas {
        &self.atlas
    }

    /// Draws the images `sources` names from textures made at their size
    /// on the picture instead of the atlas (exports drawn through
    /// `render_offscreen`; see [`detail`]).
    pub fn set_detail_sources(&mut self, sources: detail::DetailSources) {
        self.detail = Some(detail::DetailLayer::new(&self.shared, sources));
    }

    /// Where the detailed images drawn so far came from.
    pub fn detail_counts(&self) -> Option<detail::DetailCounts> {
        self.detail.as_ref().map(detail::DetailLayer::counts)
    }

    /// Bytes of detail textures kept at once (default
    /// [`detail::DETAIL_BUDGET`]); a view whose detailed images need more
    /// is drawn in several passes.
    pub fn set_detail_budget(&mut self, bytes: u64) {
        if let Some(detail) = &mut self.detail {
            detail.set_budget(bytes);
        }
    }

    /// Bytes of detail textures resident now.
    pub fn detail_bytes(&self) -> u64 {
        self.detail
            .as_ref()
            .map_or(0, detail::DetailLayer::resident_bytes)
    }

    /// The sprites as last uploaded (index = image node index).
    pub fn sprites(&self) -> &[SpriteInstance] {
        &self.sprites.instances
    }

    /// Changes one image's sprite (tint, highlight, hidden, size), e.g. for
    /// search highlighting; uploaded by the next `prepare`.
    pub fn update_sprite(&mut self, image: usize, f: impl FnOnce(&mut SpriteInstance)) {
        self.sprites.update(image, f);
    }

    /// The tag dots as last changed (index = tag index, node = n_images + index).
    pub fn dots(&self) -> &[DotInstance] {
        &self.dots.instances
    }

    /// Changes one tag's dot (colour, radius, hidden); uploaded by the next
    /// `prepare`. A hidden dot ([`scene::FLAG_HIDDEN`]) takes its label and
    /// its edges with it.
    pub fn update_dot(&mut self, tag: usize, f: impl FnOnce(&mut DotInstance)) {
        if self.dots.update(tag, f) {
            self.edges_stale = true;
        }
    }

    /// Draws from `buffer` (array<vec2<f32>>, one per node, images first;
    /// needs STORAGE usage), e.g. the GPU layout's positions while it runs.
    /// No copy: the shaders read that buffer directly.
    /// Every sprite is then drawn each frame (the CPU cannot tell which are
    /// on screen); `use_scene_positions` brings back culling.
    pub fn use_positions_buffer(&mut self, buffer: &wgpu::Buffer) {
        self.cull_on_cpu = false;
        self.bind_positions(buffer);
    }

    fn bind_positions(&mut self, buffer: &wgpu::Buffer) {
        self.sprites.set_positions(&self.shared, buffer);
        self.dots.set_positions(&self.shared, buffer);
        self.edges.set_positions(&self.shared, buffer);
    }

    /// Back to the scene's own positions buffer.
    pub fn use_scene_positions(&mut self) {
        let buffer = self.own_positions.clone();
        self.bind_positions(&buffer);
        self.cull_on_cpu = true;
    }

    /// Writes new positions into the scene's own buffer and the CPU copy.
    pub fn set_positions(&mut self, positions: &[Vec2]) {
        if positions.len() * 8 <= self.own_positions.size() as usize {
            let flat: Vec<[f32; 2]> = positions.iter().map(|p| p.to_array()).collect();
            self.shared
                .queue
                .write_buffer(&self.own_positions, 0, bytemuck::cast_slice(&flat));
        }
        self.lod_positions = positions.to_vec();
    }

    /// The positions used to decide visibility and levels. While a GPU
    /// layout draws from its own buffer, refresh these from an occasional
    /// readback (they only steer which thumbnails load, never drawing).
    pub fn set_lod_positions(&mut self, positions: Vec<Vec2>) {
        self.lod_positions = positions;
    }

    /// Camera uniform, thumbnail requests and uploads; never waits for disk.
    pub fn prepare(&mut self, camera: &Camera, opts: &FrameOptions) -> FrameStats {
        self.prepare_inner(camera, opts, None)
    }

    /// `prepare`, waiting (up to `timeout`) until every visible image's level
    /// is resident: for exports and tests, never for interactive frames.
    pub fn prepare_complete(
        &mut self,
        camera: &Camera,
        opts: &FrameOptions,
        timeout: Duration,
    ) -> FrameStats {
        self.prepare_inner(camera, opts, Some(timeout))
    }

    fn prepare_inner(
        &mut self,
        camera: &Camera,
        opts: &FrameOptions,
        wait: Option<Duration>,
    ) -> FrameStats {
        let queue = &self.shared.queue;
        let highlight = premultiplied(opts.highlight_rgb, 1.0);
        queue.write_buffer(
            &self.shared.camera,
            0,
            bytemuck::bytes_of(&camera.uniform(highlight, self.center_lo)),
        );
        self.dots.upload(queue);
        if self.edges_stale {
            let mut hidden = vec![false; self.lod_positions.len()];
            for d in &self.dots.instances {
                if d.flags & scene::FLAG_HIDDEN != 0
                    && let Some(h) = hidden.get_mut(d.node as usize)
                {
                    *h = true;
                }
            }
            self.edges
                .set_hidden_nodes(queue, |n| hidden.get(n as usize).copied().unwrap_or(false));
            self.edges_stale = false;
        }
        if opts.show_edges {
            self.edges.set_style(
                queue,
                premultiplied(opts.edge_rgb, opts.edge_alpha),
                opts.edge_width_px,
            );
        }
        // Which images are on screen, and how large.
        let view = camera.visible();
        let mut visible: Vec<(u32, f32)> = Vec::new();
        for (i, s) in self.sprites.instances.iter().enumerate() {
            if s.flags & scene::FLAG_HIDDEN != 0 {
                continue;
            }
            let Some(&p) = self.lod_positions.get(s.node as usize) else {
                continue;
            };
            let half = s.half_extent();
            let b = Bounds {
                min: p - half,
                max: p + half,
            };
            if b.intersects(&view) {
                visible.push((i as u32, 2.0 * s.size * camera.zoom));
            }
        }
        if let Some(detail) = &self.detail {
            // Drawn from their own textures, not the atlas.
            self.detail_visible.clear();
            visible.retain(|&(i, _)| {
                let own = detail.has_source(i);
                if own {
                    self.detail_visible.push(i);
                }
                !own
            });
        }
        let drawn: Vec<u32> = visible.iter().map(|v| v.0).collect();
        self.sprites
            .set_drawn(queue, self.cull_on_cpu.then_some(drawn.as_slice()));
        // Largest on screen first: they get the finest cells when the budget is short.
        visible.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        let wants: Vec<(u32, u8)> = visible
            .iter()
            .map(|&(i, px)| (i, atlas::level_for_pixels(px)))
            .collect();
        let adjusted = self.atlas.request(&wants);
        let mut touched = match wait {
            Some(t) => self.atlas.wait_for_requested(t),
            None => self.atlas.receive(),
        };
        let mut stats = FrameStats {
            visible: visible.len() + self.detail_visible.len(),
            waiting: 0,
        };
        for &(image, level) in &adjusted {
            self.required[image as usize] = level;
            if level != atlas::COLOR_ONLY && !self.atlas.is_resident(image, level) {
                stats.waiting += 1;
            }
            self.sprites
                .set_entry(image as usize, self.atlas.entry(image, level));
        }
        touched.sort_unstable();
        touched.dedup();
        for image in touched {
            if self.atlas.has_failed(image) {
                let rgb = scene::PLACEHOLDER_RGB;
                self.sprites
                    .update(image as usize, |s| s.color = scene::pack_rgba(rgb, 255));
            }
            let level = self.required[image as usize];
            self.sprites
                .set_entry(image as usize, self.atlas.entry(image, level));
        }
        self.sprites.upload(queue);
        if opts.show_tags && opts.tag_labels {
            self.prepare_tag_labels(camera, opts);
        }
        let queue = &self.shared.queue;
        for layer in &mut self.layers {
            if let Layer::Custom(custom) = layer {
                custom.prepare(queue, camera, opts);
            }
        }
        stats
    }

    /// Clears `target` to the background and draws the layers.
    pub fn encode(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        opts: &FrameOptions,
    ) {
        let mut pass = begin_pass(encoder, target, Some(opts));
        self.draw(&mut pass, opts);
    }

    /// Draws the layers into an open pass (e.g. one egui also draws into).
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, opts: &FrameOptions) {
        self.draw_layers(pass, opts, &self.layers);
    }

    fn draw_layers(&self, pass: &mut wgpu::RenderPass<'_>, opts: &FrameOptions, layers: &[Layer]) {
        for layer in layers {
            match layer {
                Layer::Edges if opts.show_edges => self.edges.draw(pass),
                Layer::Sprites if opts.show_images => self.sprites.draw(pass),
                Layer::TagDots if opts.show_tags => self.dots.draw(pass),
                Layer::TagLabels if opts.show_tags && opts.tag_labels => {
                    if let Some(Some(labels)) = &self.tag_labels {
                        labels.draw(pass);
                    }
                }
                Layer::Custom(custom) => custom.draw(pass),
                _ => {}
            }
        }
    }

    /// Builds the tag label layer if needed, moves each label to its dot
    /// (the CPU positions: a running layout refreshes them now and then)
    /// and hides those of hidden dots.
    fn prepare_tag_labels(&mut self, camera: &Camera, opts: &FrameOptions) {
        let layer = self.tag_labels.get_or_insert_with(|| {
            let mut specs: Vec<LabelSpec> = self
                .tag_label_text
                .iter()
                .zip(&self.dots.instances)
                .enumerate()
                .map(|(key, (tag, dot))| LabelSpec {
                    key,
                    text: tag.text.clone(),
                    anchor: Vec2::ZERO,
                    font_px: labels::tag_font_px(tag.degree),
                    beside_dot: Some(dot.radius),
                    region: None,
                })
                .collect();
            // Higher degree first; ties in a stable, readable order.
            let degree = |s: &LabelSpec| self.tag_label_text[s.key].degree;
            specs.sort_by(|a, b| degree(b).cmp(&degree(a)).then(a.text.cmp(&b.text)));
            LabelLayer::with_specs(&self.shared, specs, 1.0, labels::TAG_LABELS)
        });
        let Some(layer) = layer else { return };
        let dots = &self.dots.instances;
        let positions = &self.lod_positions;
        layer.locate(|key| {
            let dot = dots.get(key)?;
            if dot.flags & scene::FLAG_HIDDEN != 0 {
                return None;
            }
            positions.get(dot.node as usize).copied()
        });
        layer.prepare(&self.shared.queue, camera, opts);
    }

    /// Prepares (waiting for thumbnails up to `wait`, or not at all with
    /// `None`), draws into `target` and submits.
    pub fn render_offscreen(
        &mut self,
        target: &OffscreenTarget,
        camera: &Camera,
        opts: &FrameOptions,
        wait: Option<Duration>,
    ) -> FrameStats {
        let stats = self.prepare_inner(camera, opts, wait);
        if self.detail.is_some() && !self.detail_visible.is_empty() {
            self.encode_with_detail(&target.view, opts);
            return stats;
        }
        let mut encoder =
            self.shared
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("offscreen frame"),
                });
        self.encode(&mut encoder, &target.view, opts);
        self.shared.queue.submit([encoder.finish()]);
        stats
    }

    /// The frame with the view's detailed images, in as many passes as the
    /// detail texture budget needs: the layers up to the sprites and the
    /// first group of images, then each further group (its textures loaded
    /// once the previous group is drawn), then the layers above the sprites.
    fn encode_with_detail(&mut self, target: &wgpu::TextureView, opts: &FrameOptions) {
        let Some(mut detail) = self.detail.take() else {
            return;
        };
        let batches = detail.batches(&self.detail_visible);
        let split = self
            .layers
            .iter()
            .position(|l| matches!(l, Layer::Sprites))
            .map_or(0, |i| i + 1);
        for (k, batch) in batches.iter().enumerate() {
            if k > 0 {
                // The previous group's textures may be evicted now.
                let _ = self.shared.device.poll(wgpu::PollType::wait_indefinitely());
            }
            detail.load(
                &self.shared,
                batch,
                &self.sprites.instances,
                &self.lod_positions,
            );
            let mut encoder =
                self.shared
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("offscreen frame with detail"),
                    });
            {
                let mut pass = begin_pass(&mut encoder, target, (k == 0).then_some(opts));
                if k == 0 {
                    self.draw_layers(&mut pass, opts, &self.layers[..split]);
                }
                if opts.show_images {
                    detail.draw(&mut pass, batch);
                }
                if k + 1 == batches.len() {
                    self.draw_layers(&mut pass, opts, &self.layers[split..]);
                }
            }
            self.shared.queue.submit([encoder.finish()]);
        }
        self.detail = Some(detail);
    }

    /// `render_offscreen` of one tile of a large picture (see
    /// [`Camera::tile`]): drawn on the whole picture's pixel grid.
    pub fn render_tile(
        &mut self,
        target: &OffscreenTarget,
        tile: &camera::Tile,
        opts: &FrameOptions,
        wait: Option<Duration>,
    ) -> FrameStats {
        self.center_lo = tile.center_lo;
        let stats = self.render_offscreen(target, &tile.camera, opts, wait);
        self.center_lo = Vec2::ZERO;
        stats
    }

    /// Blocks until submitted frames are done.
    pub fn wait_idle(&self) -> Result<()> {
        self.shared
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| anyhow::anyhow!("GPU device lost: {e}"))?;
        Ok(())
    }
}

/// A render pass into `target`: cleared to the background of `clear`, or
/// drawing over what is there with `None`.
fn begin_pass<'a>(
    encoder: &'a mut wgpu::CommandEncoder,
    target: &'a wgpu::TextureView,
    clear: Option<&FrameOptions>,
) -> wgpu::RenderPass<'a> {
    let load = match clear {
        Some(opts) => {
            let bg = premultiplied(opts.background, opts.background_alpha);
            wgpu::LoadOp::Clear(wgpu::Color {
                r: f64::from(bg[0]),
                g: f64::from(bg[1]),
                b: f64::from(bg[2]),
                a: f64::from(bg[3]),
            })
        }
        None => wgpu::LoadOp::Load,
    };
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("map"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

/// 0xRRGGBB and opacity → premultiplied RGBA floats.
fn premultiplied(rgb: u32, alpha: f32) -> [f32; 4] {
    let c = |shift: u32| ((rgb >> shift) & 0xff) as f32 / 255.0 * alpha;
    [c(16), c(8), c(0), alpha]
}

/// A positions buffer the renderer can bind (and a layout could write).
pub fn positions_buffer(device: &wgpu::Device, positions: &[Vec2]) -> wgpu::Buffer {
    let flat: Vec<[f32; 2]> = positions.iter().map(|p| p.to_array()).collect();
    let mut bytes = bytemuck::cast_slice::<[f32; 2], u8>(&flat).to_vec();
    bytes.resize(bytes.len().max(16), 0);
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("scene positions"),
        contents: &bytes,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::VERTEX
            | wgpu::BufferUsages::COPY_DST,
    })
}

/// A bind group of whole buffers at bindings 0, 1, 2, … in the order given.
pub(crate) fn buffers_group(
    device: &wgpu::Device,
    label: &str,
    layout: &wgpu::BindGroupLayout,
    buffers: &[&wgpu::Buffer],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
        .iter()
        .enumerate()
        .map(|(binding, buffer)| wgpu::BindGroupEntry {
            binding: binding as u32,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout,
        entries: &entries,
    })
}

pub(crate) fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

pub(crate) fn storage_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: true },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A pipeline drawing 6-vertex instanced quads with premultiplied-alpha blending.
pub(crate) fn premultiplied_pipeline(
    shared: &Shared,
    label: &str,
    source: &str,
    layouts: &[&wgpu::BindGroupLayout],
) -> wgpu::RenderPipeline {
    let device = &shared.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let layouts: Vec<Option<&wgpu::BindGroupLayout>> = layouts.iter().map(|l| Some(*l)).collect();
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &layouts,
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&layout),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[],
        },
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: shared.format,
                blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    })
}
