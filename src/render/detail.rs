//! Poster images larger than the atlas's largest cells (256 px).
//!
//! An export tells the renderer, once per poster, which images it draws
//! larger than 256 px and at what size ([`DetailSources`]); each is then
//! drawn from a texture of its own made at its size on the poster from the
//! smallest source that has it: the 1024 px level (made on demand from the
//! stored original and kept in the project's `thumbs/1024/`, like the other
//! levels), or the original itself beyond that. Sources are decoded under
//! the fetch's decode limits and a shared byte budget, per tile, and kept
//! within [`DETAIL_BUDGET`] of textures: a tile whose images need more is
//! drawn in several passes, each with only its own images loaded.
//!
//! When a project no longer holds an image's original, the largest level
//! there is stands in (and is counted, for the export's summary).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use glam::Vec2;
use image::RgbaImage;
use wgpu::util::DeviceExt;

use crate::fetch::thumbnail::{self, DecodeLimits, POSTER_LEVEL};
use crate::fetch::{sniff, store};
use crate::render::scene::{PLACEHOLDER_RGB, SpriteInstance};
use crate::render::{Shared, uniform_entry};

/// Longest side of a detail texture: an image drawn larger still on a
/// poster is magnified from this size (256 MiB of RGBA at most).
pub const DETAIL_MAX_SIDE: u32 = 8192;
/// Texture bytes resident at once (on lavapipe, the process's own memory).
pub const DETAIL_BUDGET: u64 = 256 << 20;
/// Largest atlas cell: images drawn larger come from here.
pub const ATLAS_LARGEST: u32 = 256;

/// One image drawn larger than the atlas's cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailSource {
    /// Longest side to draw it at: its size on the poster, never more than
    /// the original's (nor [`DETAIL_MAX_SIDE`]).
    pub side: u32,
    /// The original's size (upright).
    pub width: u32,
    pub height: u32,
    /// The pyramid's files: `thumbs/<level>/<2 hex>/<hash>.<ext>`.
    pub hash: String,
    pub ext: String,
    /// The original, relative to the project directory (`None`: not kept).
    pub original: Option<String>,
}

impl DetailSource {
    /// The size it is drawn at: `side` on its longest side, aspect kept.
    pub fn drawn_size(&self) -> (u32, u32) {
        thumbnail::fit(self.width, self.height, self.side)
    }

    /// Whether the original itself is needed (the 1024 px level is smaller
    /// than the image on the poster, and than the original).
    pub fn needs_original(&self) -> bool {
        self.side > POSTER_LEVEL
    }
}

/// The detail sources of a scene's images, by sprite index.
#[derive(Clone, Debug, Default)]
pub struct DetailSources {
    pub project_dir: PathBuf,
    pub images: Vec<Option<DetailSource>>,
}

impl DetailSources {
    /// The source of an image drawn `pixels` wide on the poster (longest
    /// side), of an original `width`×`height`; `None` when the atlas's
    /// 256 px cells already hold all it shows.
    pub fn source_for(
        pixels: f32,
        width: u32,
        height: u32,
        hash: &str,
        ext: &str,
        original: Option<String>,
    ) -> Option<DetailSource> {
        if !pixels.is_finite() {
            return None;
        }
        let side = (pixels.ceil() as u32)
            .min(width.max(height))
            .min(DETAIL_MAX_SIDE);
        (side > ATLAS_LARGEST).then(|| DetailSource {
            side,
            width,
            height,
            hash: hash.to_string(),
            ext: ext.to_string(),
            original,
        })
    }
}

/// Where the detailed images drawn so far came from (each counted once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetailCounts {
    /// From the 1024 px level...
    pub level: usize,
    /// ...of which that level was made now, from the original.
    pub level_made: usize,
    /// From the original itself.
    pub original: usize,
    /// Larger on the poster than any source the project still holds (its
    /// original is gone): drawn from the largest level there is.
    pub without_original: usize,
    /// No source could be read: drawn in the placeholder grey.
    pub failed: usize,
}

/// Where one image's pixels came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Level,
    LevelMade,
    Original,
    WithoutOriginal,
    Failed,
}

/// Bytes that decodes in flight may take together (what `fetch` bounds
/// with its decode budget).
struct ByteBudget {
    free: Mutex<u64>,
    total: u64,
    freed: Condvar,
}

impl ByteBudget {
    fn new(total: u64) -> ByteBudget {
        ByteBudget {
            free: Mutex::new(total),
            total,
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free and takes them.
    fn reserve(&self, bytes: u64) -> Reserved<'_> {
        let bytes = bytes.min(self.total);
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free < bytes {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= bytes;
        Reserved {
            budget: self,
            bytes,
        }
    }
}

struct Reserved<'a> {
    budget: &'a ByteBudget,
    bytes: u64,
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        *self
            .budget
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += self.bytes;
        self.budget.freed.notify_all();
    }
}

/// The pixels of `src` at its drawn size (or the largest stand-in there
/// is), straight alpha, and where they came from.
fn load_source(
    dir: &Path,
    src: &DetailSource,
    limits: &DecodeLimits,
    budget: &ByteBudget,
) -> (RgbaImage, Origin) {
    let level_file = store::thumb_path(POSTER_LEVEL, &src.hash, &src.ext);
    let from_file = |relative: &str, side: u32| -> Option<RgbaImage> {
        let bytes = std::fs::read(dir.join(relative)).ok()?;
        let format = sniff::sniff(&bytes)?;
        let _reserved = budget.reserve(thumbnail::decode_memory(&bytes, format));
        match thumbnail::decode_rgba_at(&bytes, format, limits, side) {
            Ok(rgba) => Some(rgba),
            Err(f) => {
                tracing::warn!(
                    "{}: {} ({}); drawing a smaller source instead",
                    dir.join(relative).display(),
                    f.detail,
                    f.reason
                );
                None
            }
        }
    };
    if !src.needs_original()
        && let Some(rgba) = from_file(&level_file, src.side)
    {
        return (rgba, Origin::Level);
    }
    let original = src.original.as_deref().filter(|f| dir.join(f).is_file());
    if let Some(original) = original {
        if src.needs_original() {
            if let Some(rgba) = from_file(original, src.side) {
                return (rgba, Origin::Original);
            }
        } else if let Some(level) = from_file(original, POSTER_LEVEL) {
            // Kept beside the other levels for the next poster; a read-only
            // project just makes it again next time.
            match thumbnail::encode_level(&level, &src.ext) {
                Ok(encoded) => {
                    if let Err(e) = store::write_once(dir, &level_file, &encoded) {
                        tracing::debug!("the 1024 px level is not kept: {e:#}");
                    }
                }
                Err(f) => tracing::debug!("the 1024 px level is not kept: {}", f.detail),
            }
            let (w, h) = level.dimensions();
            if let Ok(rgba) = thumbnail::resize_rgba(level, w, h, src.side) {
                return (rgba, Origin::LevelMade);
            }
        }
    }
    // No original (or an unreadable one): the largest level the project has.
    let largest_thumb = store::thumb_path(ATLAS_LARGEST, &src.hash, &src.ext);
    let fallbacks = [
        Some(level_file.as_str()).filter(|_| src.needs_original()),
        Some(largest_thumb.as_str()),
    ];
    for relative in fallbacks.into_iter().flatten() {
        if let Some(rgba) = from_file(relative, src.side) {
            return (rgba, Origin::WithoutOriginal);
        }
    }
    let [r, g, b] = [16, 8, 0].map(|s| ((PLACEHOLDER_RGB >> s) & 0xFF) as u8);
    (
        RgbaImage::from_pixel(1, 1, image::Rgba([r, g, b, 255])),
        Origin::Failed,
    )
}

/// `rgba` with premultiplied alpha (what the renderer blends), through
/// fast_image_resize's SIMD code: a detail texture can be 64 Mpx.
fn premultiplied(rgba: &RgbaImage) -> Vec<u8> {
    let (w, h) = rgba.dimensions();
    let mut px = rgba.as_raw().clone();
    if rgba.pixels().all(|p| p.0[3] == 255) {
        return px;
    }
    let done = fast_image_resize::images::Image::from_slice_u8(
        w,
        h,
        &mut px,
        fast_image_resize::PixelType::U8x4,
    )
    .ok()
    .and_then(|mut image| {
        fast_image_resize::MulDiv::default()
            .multiply_alpha_inplace(&mut image)
            .ok()
    });
    if done.is_none() {
        super::atlas::premultiply(&mut px);
    }
    px
}

/// Mirrors `Quad` in detail.wgsl (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct QuadUniform {
    position: [f32; 2],
    half: [f32; 2],
    tint: [f32; 4],
    size: [f32; 2],
    _pad: [f32; 2],
}

struct Resident {
    _texture: wgpu::Texture,
    quad: wgpu::Buffer,
    group: wgpu::BindGroup,
    size: (u32, u32),
    bytes: u64,
    last_used: u64,
}

pub struct DetailLayer {
    pipeline: wgpu::RenderPipeline,
    layout1: wgpu::BindGroupLayout,
    group0: wgpu::BindGroup,
    sampler: wgpu::Sampler,
    sources: DetailSources,
    resident: HashMap<u32, Resident>,
    resident_bytes: u64,
    budget: u64,
    counted: HashSet<u32>,
    counts: DetailCounts,
    limits: DecodeLimits,
    decode_budget: ByteBudget,
    workers: usize,
    batch: u64,
}

impl DetailLayer {
    pub fn new(shared: &Shared, sources: DetailSources) -> DetailLayer {
        let device = &shared.device;
        let layout0 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("detail frame"),
            entries: &[uniform_entry(0)],
        });
        let layout1 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("detail image"),
            entries: &[
                uniform_entry(0),
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let pipeline = super::premultiplied_pipeline(
            shared,
            "detail",
            include_str!("../../shaders/detail.wgsl"),
            &[&layout0, &layout1],
        );
        let group0 = super::buffers_group(device, "detail frame", &layout0, &[&shared.camera]);
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("detail"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let workers = std::thread::available_parallelism()
            .map(|n| n.get().clamp(1, 4))
            .unwrap_or(2);
        DetailLayer {
            pipeline,
            layout1,
            group0,
            sampler,
            sources,
            resident: HashMap::new(),
            resident_bytes: 0,
            budget: DETAIL_BUDGET,
            counted: HashSet::new(),
            counts: DetailCounts::default(),
            limits: DecodeLimits::default(),
            decode_budget: ByteBudget::new(crate::fetch::DEFAULT_DECODE_BUDGET),
            workers,
            batch: 0,
        }
    }

    /// Whether `image` is drawn here rather than from the atlas.
    pub fn has_source(&self, image: u32) -> bool {
        matches!(self.sources.images.get(image as usize), Some(Some(_)))
    }

    pub fn set_budget(&mut self, bytes: u64) {
        self.budget = bytes;
    }

    pub fn counts(&self) -> DetailCounts {
        self.counts
    }

    /// Texture bytes resident now.
    pub fn resident_bytes(&self) -> u64 {
        self.resident_bytes
    }

    fn estimate(&self, image: u32) -> u64 {
        self.resident.get(&image).map_or_else(
            || match &self.sources.images[image as usize] {
                Some(src) => {
                    let (w, h) = src.drawn_size();
                    u64::from(w) * u64::from(h) * 4
                }
                None => 0,
            },
            |r| r.bytes,
        )
    }

    /// `images` (those of one tile) in groups that each fit the texture
    /// budget, those already resident first so they are drawn before they
    /// can be evicted.
    pub fn batches(&self, images: &[u32]) -> Vec<Vec<u32>> {
        let mut order: Vec<u32> = images.to_vec();
        order.sort_by_key(|i| (!self.resident.contains_key(i), *i));
        let mut batches: Vec<Vec<u32>> = Vec::new();
        let mut bytes = 0;
        for image in order {
            let b = self.estimate(image);
            match batches.last_mut() {
                Some(batch) if bytes + b <= self.budget => batch.push(image),
                _ => {
                    batches.push(vec![image]);
                    bytes = 0;
                }
            }
            bytes += b;
        }
        batches
    }

    /// Makes the textures of `batch` resident (evicting those of other
    /// images, least recently drawn first, to stay within the budget) and
    /// places each on its sprite.
    pub fn load(
        &mut self,
        shared: &Shared,
        batch: &[u32],
        sprites: &[SpriteInstance],
        positions: &[Vec2],
    ) {
        self.batch += 1;
        let missing: Vec<u32> = batch
            .iter()
            .copied()
            .filter(|i| !self.resident.contains_key(i))
            .collect();
        let needed: u64 = missing.iter().map(|&i| self.estimate(i)).sum();
        let in_batch: HashSet<u32> = batch.iter().copied().collect();
        while self.resident_bytes + needed > self.budget {
            let victim = self
                .resident
                .iter()
                .filter(|(i, _)| !in_batch.contains(i))
                .min_by_key(|(_, r)| r.last_used)
                .map(|(&i, _)| i);
            let Some(victim) = victim else { break };
            if let Some(r) = self.resident.remove(&victim) {
                self.resident_bytes -= r.bytes;
            }
        }
        for (image, (rgba, origin)) in self.decode_all(&missing) {
            self.count(image, origin);
            self.upload(shared, image, &rgba);
        }
        for &image in batch {
            let (Some(resident), Some(sprite)) =
                (self.resident.get_mut(&image), sprites.get(image as usize))
            else {
                continue;
            };
            resident.last_used = self.batch;
            let Some(&position) = positions.get(sprite.node as usize) else {
                continue;
            };
            let tint = image::Rgba(sprite.tint.to_le_bytes())
                .0
                .map(|c| f32::from(c) / 255.0);
            let quad = QuadUniform {
                position: position.to_array(),
                half: sprite.half_extent().to_array(),
                tint,
                size: [resident.size.0 as f32, resident.size.1 as f32],
                _pad: [0.0; 2],
            };
            shared
                .queue
                .write_buffer(&resident.quad, 0, bytemuck::bytes_of(&quad));
        }
    }

    /// Decodes the sources of `images` on a few threads.
    fn decode_all(&self, images: &[u32]) -> Vec<(u32, (RgbaImage, Origin))> {
        let next = AtomicUsize::new(0);
        let done = Mutex::new(Vec::with_capacity(images.len()));
        let dir = &self.sources.project_dir;
        std::thread::scope(|scope| {
            for _ in 0..self.workers.min(images.len()) {
                scope.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&image) = images.get(k) else { break };
                        let Some(Some(src)) = self.sources.images.get(image as usize) else {
                            continue;
                        };
                        let loaded = load_source(dir, src, &self.limits, &self.decode_budget);
                        done.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push((image, loaded));
                    }
                });
            }
        });
        done.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&mut self, image: u32, origin: Origin) {
        if !self.counted.insert(image) {
            return;
        }
        let c = &mut self.counts;
        match origin {
            Origin::Level => c.level += 1,
            Origin::LevelMade => {
                c.level += 1;
                c.level_made += 1;
            }
            Origin::Original => c.original += 1,
            Origin::WithoutOriginal => c.without_original += 1,
            Origin::Failed => c.failed += 1,
        }
    }

    fn upload(&mut self, shared: &Shared, image: u32, rgba: &RgbaImage) {
        let device = &shared.device;
        let (w, h) = rgba.dimensions();
        let px = premultiplied(rgba);
        let texture = device.create_texture_with_data(
            &shared.queue,
            &wgpu::TextureDescriptor {
                label: Some("detail image"),
                size: wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            &px,
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let quad = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("detail quad"),
            size: std::mem::size_of::<QuadUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("detail image"),
            layout: &self.layout1,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: quad.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
            ],
        });
        let bytes = u64::from(w) * u64::from(h) * 4;
        self.resident_bytes += bytes;
        if let Some(old) = self.resident.insert(
            image,
            Resident {
                _texture: texture,
                quad,
                group,
                size: (w, h),
                bytes,
                last_used: self.batch,
            },
        ) {
            self.resident_bytes -= old.bytes;
        }
    }

    /// Draws the images of `batch` (all resident after `load`).
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, batch: &[u32]) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.group0, &[]);
        for image in batch {
            if let Some(r) = self.resident.get(image) {
                pass.set_bind_group(1, &r.group, &[]);
                pass.draw(0..6, 0..1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_the_smallest_that_covers_the_poster_size() {
        let src = |px: f32, w: u32, h: u32| {
            DetailSources::source_for(px, w, h, "ab12", "jpg", Some("originals/ab/x.jpg".into()))
        };
        // Within the atlas's 256 px cells: no detail source.
        assert_eq!(src(256.0, 3000, 2000), None);
        // An original of 200 px is whole in its 256 px level.
        assert_eq!(src(900.0, 200, 150), None);
        // 600 px on the poster: the 1024 level, drawn at 600 × 400.
        let s = src(599.2, 3000, 2000).unwrap();
        assert_eq!(
            (s.side, s.drawn_size(), s.needs_original()),
            (600, (600, 400), false)
        );
        // 2000 px: the original, drawn at 2000 × 1333.
        let s = src(2000.0, 3000, 2000).unwrap();
        assert_eq!(
            (s.side, s.drawn_size(), s.needs_original()),
            (2000, (2000, 1333), true)
        );
        // 5000 px of a 3000 px original: the original at its own size.
        let s = src(5000.0, 3000, 2000).unwrap();
        assert_eq!((s.side, s.drawn_size()), (3000, (3000, 2000)));
        // An 800 px original shown at 2000 px: its 1024 level is all of it.
        let s = src(2000.0, 800, 600).unwrap();
        assert_eq!((s.side, s.needs_original()), (800, false));
        // Never more than the texture cap.
        assert_eq!(src(40_000.0, 50_000, 50_000).unwrap().side, DETAIL_MAX_SIDE);
        assert_eq!(src(f32::NAN, 3000, 2000), None);
    }

    #[test]
    fn textures_are_premultiplied() {
        let mut rgba = RgbaImage::from_pixel(40, 3, image::Rgba([200, 100, 50, 128]));
        rgba.put_pixel(0, 0, image::Rgba([10, 20, 30, 255]));
        rgba.put_pixel(1, 0, image::Rgba([10, 20, 30, 0]));
        let px = premultiplied(&rgba);
        assert_eq!(&px[..12], &[10, 20, 30, 255, 0, 0, 0, 0, 100, 50, 25, 128]);
        // Opaque pictures are as they are.
        let opaque = RgbaImage::from_pixel(5, 5, image::Rgba([1, 2, 3, 255]));
        assert_eq!(premultiplied(&opaque), opaque.into_raw());
    }

    #[test]
    fn the_byte_budget_waits_for_what_is_given_back() {
        let budget = ByteBudget::new(100);
        let a = budget.reserve(60);
        // More than the whole budget takes all of it, never more.
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _b = budget.reserve(500);
                *budget.free.lock().unwrap()
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiter.is_finished(), "reserved past the budget");
            drop(a);
            assert_eq!(waiter.join().unwrap(), 0);
        });
        assert_eq!(*budget.free.lock().unwrap(), 100);
    }
}
