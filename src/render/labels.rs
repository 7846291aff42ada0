//! Cluster labels drawn by the renderer (glyphon): each visible cluster's
//! name at its label anchor, sized by its number of images, never
//! overlapping another label.
//!
//! Placement is greedy by priority (larger clusters first) in screen space,
//! as Embedding Atlas does: at a given zoom a label is shown only when its
//! box is clear of every larger cluster's, so the labels of small clusters
//! appear as the user zooms in and their anchors move apart.
//!
//! Text comes from system fonts (fontdb through cosmic-text, which falls
//! back per script, so CJK, Arabic and emoji render where a font covers
//! them). Without any font the layer is not built and one warning says why.

use std::sync::atomic::{AtomicBool, Ordering};

use glam::Vec2;
use glyphon::{
    Attrs, Buffer, Cache, Color, ColorMode, Family, FontSystem, Metrics, Resolution, Shaping,
    SwashCache, TextArea, TextAtlas, TextBounds, TextRenderer, Viewport,
};

use crate::cluster::Cluster;
use crate::render::{Camera, CustomLayer, Shared};

/// Text colour (dark grey) and its halo (white), readable over images,
/// hull fills and both light and dark backgrounds.
const TEXT_RGB: u32 = 0x1a1a1a;
const HALO_RGB: u32 = 0xffffff;
/// Halo radius in pixels at scale 1.
const HALO_PX: f32 = 1.5;
/// Free space kept between two labels, in pixels at scale 1.
const GAP_PX: f32 = 4.0;

/// Font size in pixels (scale 1) of the label of a cluster of `size` images:
/// grows with the logarithm of the size, from 11 px (1 image) to 36 px.
pub fn font_px(size: usize) -> f32 {
    (11.0 + 3.0 * (size.max(1) as f32).log2()).clamp(11.0, 36.0)
}

/// A label box in screen pixels: `center` and full `size`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelBox {
    pub center: Vec2,
    pub size: Vec2,
}

impl LabelBox {
    fn overlaps(&self, other: &LabelBox, gap: f32) -> bool {
        let d = (self.center - other.center).abs();
        let reach = (self.size + other.size) * 0.5 + Vec2::splat(gap);
        d.x < reach.x && d.y < reach.y
    }

    fn on_screen(&self, viewport: Vec2) -> bool {
        let min = self.center - self.size * 0.5;
        let max = self.center + self.size * 0.5;
        max.x > 0.0 && max.y > 0.0 && min.x < viewport.x && min.y < viewport.y
    }
}

/// Greedy placement: `boxes` in priority order (highest first); returns the
/// indices of those shown — each on screen and at least `gap` pixels from
/// every box shown before it.
pub fn place(boxes: &[LabelBox], viewport: Vec2, gap: f32) -> Vec<usize> {
    let mut shown: Vec<usize> = Vec::new();
    for (i, b) in boxes.iter().enumerate() {
        if b.on_screen(viewport) && shown.iter().all(|&j| !boxes[j].overlaps(b, gap)) {
            shown.push(i);
        }
    }
    shown
}

struct Label {
    /// World position of the label's centre.
    anchor: Vec2,
    /// Text extent in pixels.
    size: Vec2,
    buffer: Buffer,
}

/// Warn about missing fonts once per process, not at every refresh.
static WARNED_NO_FONT: AtomicBool = AtomicBool::new(false);

pub struct LabelLayer {
    device: wgpu::Device,
    font_system: FontSystem,
    swash: SwashCache,
    atlas: TextAtlas,
    viewport: Viewport,
    text: TextRenderer,
    /// Largest cluster first.
    labels: Vec<Label>,
    scale: f32,
    /// Where placement is decided, when not the frame's own camera: an
    /// export drawn in bands places labels once for the whole picture.
    placement_view: Option<Camera>,
}

impl LabelLayer {
    /// Labels of the visible clusters of `clusters` with a label anchor,
    /// sizes multiplied by `scale` (exports larger than a screen use > 1);
    /// `None` (after one warning) when the system has no font.
    pub fn new(shared: &Shared, clusters: &[Cluster], scale: f32) -> Option<LabelLayer> {
        let mut font_system = FontSystem::new();
        if font_system.db().faces().next().is_none() {
            if !WARNED_NO_FONT.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "no system font found, so cluster labels are not drawn: install one (e.g. Debian's fonts-dejavu-core)"
                );
            }
            return None;
        }
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let mut shown: Vec<&Cluster> = clusters
            .iter()
            .filter(|c| !c.hidden && !c.is_other && c.label_at.is_some())
            .filter(|c| !c.name.trim().is_empty())
            .collect();
        shown.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        let labels = shown
            .into_iter()
            .filter_map(|c| {
                let [x, y] = c.label_at?;
                let px = font_px(c.size) * scale;
                let mut buffer = Buffer::new(&mut font_system, Metrics::new(px, px * 1.2));
                buffer.set_size(None, None);
                buffer.set_text(
                    c.name.trim(),
                    &Attrs::new().family(Family::SansSerif),
                    Shaping::Advanced,
                    None,
                );
                buffer.shape_until_scroll(&mut font_system, false);
                let (mut w, mut h) = (0.0f32, 0.0f32);
                for run in buffer.layout_runs() {
                    w = w.max(run.line_w);
                    h += run.line_height;
                }
                (w > 0.0).then(|| Label {
                    anchor: Vec2::new(x as f32, y as f32),
                    size: Vec2::new(w, h),
                    buffer,
                })
            })
            .collect();
        let device = shared.device.clone();
        let cache = Cache::new(&device);
        let viewport = Viewport::new(&device, &cache);
        // The renderer's targets hold sRGB-encoded values in a non-sRGB format.
        let mut atlas = TextAtlas::with_color_mode(
            &device,
            &shared.queue,
            &cache,
            shared.format,
            ColorMode::Web,
        );
        let text = TextRenderer::new(&mut atlas, &device, wgpu::MultisampleState::default(), None);
        Some(LabelLayer {
            device,
            font_system,
            swash: SwashCache::new(),
            atlas,
            viewport,
            text,
            labels,
            scale,
            placement_view: None,
        })
    }

    /// Decide placement in `camera` instead of each frame's camera (same
    /// zoom; the frame cameras are parts of it, e.g. an export's bands).
    pub fn set_placement_view(&mut self, camera: Option<Camera>) {
        self.placement_view = camera;
    }

    /// Indices (into the size-ordered labels) shown from `camera`.
    fn placed(&self, camera: &Camera) -> Vec<usize> {
        let boxes: Vec<LabelBox> = self
            .labels
            .iter()
            .map(|l| LabelBox {
                center: camera.world_to_screen(l.anchor),
                size: l.size,
            })
            .collect();
        place(&boxes, camera.viewport, GAP_PX * self.scale)
    }
}

fn glyph_color(rgb: u32) -> Color {
    Color::rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
}

impl CustomLayer for LabelLayer {
    fn prepare(&mut self, queue: &wgpu::Queue, camera: &Camera) {
        let place_in = self.placement_view.unwrap_or(*camera);
        let shown = self.placed(&place_in);
        self.viewport.update(
            queue,
            Resolution {
                width: camera.viewport.x.max(1.0) as u32,
                height: camera.viewport.y.max(1.0) as u32,
            },
        );
        let halo = HALO_PX * self.scale;
        let rings = [
            Vec2::new(-halo, 0.0),
            Vec2::new(halo, 0.0),
            Vec2::new(0.0, -halo),
            Vec2::new(0.0, halo),
            Vec2::new(-halo, -halo) * 0.7,
            Vec2::new(halo, -halo) * 0.7,
            Vec2::new(-halo, halo) * 0.7,
            Vec2::new(halo, halo) * 0.7,
        ];
        let mut areas: Vec<TextArea<'_>> = Vec::with_capacity(shown.len() * (rings.len() + 1));
        for &i in &shown {
            let label = &self.labels[i];
            let top_left = camera.world_to_screen(label.anchor) - label.size * 0.5;
            // The halo first, the text over it.
            for (offset, rgb) in rings
                .iter()
                .map(|&o| (o, HALO_RGB))
                .chain(std::iter::once((Vec2::ZERO, TEXT_RGB)))
            {
                areas.push(TextArea {
                    buffer: &label.buffer,
                    left: (top_left.x + offset.x).round(),
                    top: (top_left.y + offset.y).round(),
                    scale: 1.0,
                    bounds: TextBounds::default(),
                    default_color: glyph_color(rgb),
                    custom_glyphs: &[],
                });
            }
        }
        if let Err(e) = self.text.prepare(
            &self.device,
            queue,
            &mut self.font_system,
            &mut self.atlas,
            &self.viewport,
            areas,
            &mut self.swash,
        ) {
            tracing::warn!("cluster labels not drawn this frame: {e}");
        }
    }

    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if let Err(e) = self.text.render(&self.atlas, &self.viewport, pass) {
            tracing::debug!("cluster labels not drawn: {e}");
        }
    }

    fn name(&self) -> &str {
        super::overlay::LABELS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, w: f32, h: f32) -> LabelBox {
        LabelBox {
            center: Vec2::new(x, y),
            size: Vec2::new(w, h),
        }
    }

    #[test]
    fn greedy_placement_keeps_the_larger_cluster_and_drops_overlaps() {
        let viewport = Vec2::new(200.0, 100.0);
        let boxes = [
            b(50.0, 50.0, 40.0, 10.0),  // biggest: always shown
            b(80.0, 50.0, 40.0, 10.0),  // overlaps it (x reach 40 > 30): dropped
            b(150.0, 50.0, 40.0, 10.0), // clear of the first (x reach 44 < 100)
            b(150.0, 62.0, 40.0, 10.0), // 12 px below the third: 12 < 10 + 4 gap → dropped
            b(300.0, 50.0, 40.0, 10.0), // off screen
        ];
        assert_eq!(place(&boxes, viewport, 4.0), vec![0, 2]);
        // Zoomed in ×2 along x: the anchors move apart and the second label
        // fits; the fourth is still 12 px under the third (only x scaled);
        // the fifth comes on screen (530..570 of 600).
        let zoomed: Vec<LabelBox> = boxes
            .iter()
            .map(|l| b(l.center.x * 2.0 - 50.0, l.center.y, l.size.x, l.size.y))
            .collect();
        assert_eq!(
            place(&zoomed, Vec2::new(600.0, 100.0), 4.0),
            vec![0, 1, 2, 4]
        );
    }

    #[test]
    fn font_grows_with_cluster_size_within_bounds() {
        assert_eq!(font_px(1), 11.0);
        assert_eq!(font_px(8), 20.0);
        assert_eq!(font_px(1 << 20), 36.0);
        assert!(font_px(100) > font_px(10));
    }
}
