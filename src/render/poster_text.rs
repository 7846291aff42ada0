//! Text fixed to a picture rather than to the map: an export's title, its
//! attribution line and the legend of cluster colours. Blocks are placed in
//! the whole picture's pixels; each tile of a poster draws its part of them.

use glam::Vec2;
use glyphon::{
    Attrs, Buffer, Cache, ColorMode, Family, FontSystem, Metrics, Resolution, Shaping, SwashCache,
    TextArea, TextAtlas, TextBounds, TextRenderer, Viewport, Weight,
};

use crate::render::labels::glyph_color;
use crate::render::{Camera, CustomLayer, FrameOptions};

/// `CustomLayer::name` of the layer.
pub const POSTER_TEXT: &str = "poster text";

/// One run of text: its words, size in pixels, colour (0xRRGGBB) and
/// whether it is bold. A block's runs follow each other; `\n` breaks lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub text: String,
    pub px: f32,
    pub rgb: u32,
    pub bold: bool,
}

/// A block of `spans` shaped as the poster draws it, and its size in
/// pixels. Needs no GPU: the vector export writes the same lines. Each
/// glyph's `metadata` is the index of the span it comes from.
pub fn shape(font_system: &mut FontSystem, spans: &[Span]) -> (Buffer, Vec2) {
    let first = spans.first().map_or(14.0, |s| s.px);
    let mut buffer = Buffer::new(font_system, Metrics::new(first, first * 1.25));
    buffer.set_size(None, None);
    let attrs: Vec<Attrs<'_>> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let attrs = Attrs::new()
                .family(Family::SansSerif)
                .color(glyph_color(s.rgb))
                .metrics(Metrics::new(s.px, s.px * 1.25))
                .metadata(i);
            if s.bold {
                attrs.weight(Weight::BOLD)
            } else {
                attrs
            }
        })
        .collect();
    buffer.set_rich_text(
        spans
            .iter()
            .map(|s| s.text.as_str())
            .zip(attrs.iter().cloned()),
        &Attrs::new().family(Family::SansSerif),
        Shaping::Advanced,
        None,
    );
    buffer.shape_until_scroll(font_system, false);
    let (mut w, mut h) = (0.0f32, 0.0f32);
    for run in buffer.layout_runs() {
        w = w.max(run.line_w);
        h = h.max(run.line_top + run.line_height);
    }
    (buffer, Vec2::new(w, h))
}

struct Block {
    buffer: Buffer,
    /// Top-left corner in the picture's pixels.
    at: Vec2,
}

pub struct PosterText {
    device: wgpu::Device,
    font_system: FontSystem,
    swash: SwashCache,
    atlas: TextAtlas,
    viewport: Viewport,
    text: TextRenderer,
    blocks: Vec<Block>,
    /// The whole picture's camera, which each tile's camera is a part of.
    picture: Camera,
}

impl PosterText {
    /// An empty layer drawing into `format` targets; `None` when the
    /// system has no font (the labels' warning already says so).
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        format: wgpu::TextureFormat,
    ) -> Option<PosterText> {
        let font_system = FontSystem::new();
        font_system.db().faces().next()?;
        let device = device.clone();
        let cache = Cache::new(&device);
        let viewport = Viewport::new(&device, &cache);
        let mut atlas = TextAtlas::with_color_mode(&device, queue, &cache, format, ColorMode::Web);
        let text = TextRenderer::new(&mut atlas, &device, wgpu::MultisampleState::default(), None);
        Some(PosterText {
            device,
            font_system,
            swash: SwashCache::new(),
            atlas,
            viewport,
            text,
            blocks: Vec::new(),
            picture: Camera::new(Vec2::ONE),
        })
    }

    /// The whole picture's camera (each tile's camera is a part of it).
    pub fn set_picture(&mut self, picture: Camera) {
        self.picture = picture;
    }

    /// Shapes a block of `spans` and returns its index and size in pixels;
    /// it is drawn once [`PosterText::place`]d.
    pub fn add(&mut self, spans: &[Span]) -> (usize, Vec2) {
        let (buffer, size) = shape(&mut self.font_system, spans);
        self.blocks.push(Block {
            buffer,
            at: Vec2::splat(f32::NAN),
        });
        (self.blocks.len() - 1, size)
    }

    /// Removes every block (a tour's caption changes from frame to frame).
    pub fn clear(&mut self) {
        self.blocks.clear();
    }

    /// Puts block `index` with its top-left corner at picture pixel `at`.
    pub fn place(&mut self, index: usize, at: Vec2) {
        if let Some(block) = self.blocks.get_mut(index) {
            block.at = at;
        }
    }
}

impl CustomLayer for PosterText {
    fn prepare(&mut self, queue: &wgpu::Queue, camera: &Camera, _opts: &FrameOptions) {
        self.viewport.update(
            queue,
            Resolution {
                width: camera.viewport.x.max(1.0) as u32,
                height: camera.viewport.y.max(1.0) as u32,
            },
        );
        // Where this tile's top-left pixel lies in the whole picture.
        let origin = self
            .picture
            .world_to_screen(camera.screen_to_world(Vec2::ZERO))
            .round();
        let areas: Vec<TextArea<'_>> = self
            .blocks
            .iter()
            .filter(|b| b.at.is_finite())
            .map(|b| TextArea {
                buffer: &b.buffer,
                left: (b.at.x - origin.x).round(),
                top: (b.at.y - origin.y).round(),
                scale: 1.0,
                bounds: TextBounds::default(),
                default_color: glyph_color(0x1a1a1a),
                custom_glyphs: &[],
            })
            .collect();
        if let Err(e) = self.text.prepare(
            &self.device,
            queue,
            &mut self.font_system,
            &mut self.atlas,
            &self.viewport,
            areas,
            &mut self.swash,
        ) {
            tracing::warn!("title and legend not drawn in this tile: {e}");
        }
    }

    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if let Err(e) = self.text.render(&self.atlas, &self.viewport, pass) {
            tracing::debug!("title and legend not drawn: {e}");
        }
    }

    fn name(&self) -> &str {
        POSTER_TEXT
    }
}
