//! Map labels drawn by the renderer (glyphon), never overlapping another
//! label of the same layer: cluster names at their label anchors (sized by
//! the number of images) and tag names beside their dots (sized by degree).
//!
//! Placement is greedy by priority (larger clusters, tags of higher degree
//! first) in screen space, as Embedding Atlas does: at a given zoom a label
//! is shown only when its box is clear of every higher-priority label's, so
//! the labels of rare tags appear as the user zooms in and their dots move
//! apart. A cluster label that collides first tries other places inside its
//! own region, then smaller text, so every drawn cluster is named whenever
//! its region has room; [`LabelLayer::unplaced`] says which were not.
//!
//! Text comes from system fonts (fontdb through cosmic-text, which falls
//! back per script, so CJK, Arabic and emoji render where a font covers
//! them; characters no font covers are left out rather than drawn as empty
//! boxes). Without any font the layer is not built and one warning says why.
//! In the viewer, labels keep to the map area its panels leave free.

use std::sync::atomic::{AtomicBool, Ordering};

use glam::Vec2;
use glyphon::{
    Attrs, Buffer, Cache, Color, ColorMode, Family, FontSystem, Metrics, Resolution, Shaping,
    SwashCache, TextArea, TextAtlas, TextBounds, TextRenderer, Viewport,
};

use crate::cluster::Cluster;
use crate::render::{Camera, CustomLayer, FrameOptions, Shared};

/// `CustomLayer::name` of the tag label layer.
pub const TAG_LABELS: &str = "tag labels";

/// Text colour (dark grey) and its halo (white), readable over images,
/// hull fills and both light and dark backgrounds.
pub const TEXT_RGB: u32 = 0x1a1a1a;
pub const HALO_RGB: u32 = 0xffffff;
/// Halo radius in pixels at scale 1.
pub const HALO_PX: f32 = 1.5;
/// Free space kept between two labels, in pixels at scale 1.
const GAP_PX: f32 = 4.0;
/// Space between a tag dot and its label, in pixels at scale 1.
const BESIDE_PX: f32 = 3.0;

/// Font size in pixels (scale 1) of the label of a cluster of `size` images:
/// grows with the logarithm of the size, from 11 px (1 image) to 36 px.
pub fn font_px(size: usize) -> f32 {
    (11.0 + 3.0 * (size.max(1) as f32).log2()).clamp(11.0, 36.0)
}

/// Font size in pixels (scale 1) of the label of a tag carried by
/// `degree` images: small, from 11 px (1 image) to 14 px (64 and more).
pub fn tag_font_px(degree: usize) -> f32 {
    (11.0 + 0.5 * (degree.max(1) as f32).log2()).clamp(11.0, 14.0)
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

    /// This box moved just enough to lie wholly inside `area`; `None` when
    /// its centre is outside (what it labels is under a panel) or it is
    /// larger than the area.
    fn fitted_into(&self, [lo, hi]: [Vec2; 2]) -> Option<LabelBox> {
        let inside = self.center.cmpge(lo).all() && self.center.cmple(hi).all();
        if !inside || (hi - lo).cmplt(self.size).any() {
            return None;
        }
        let half = self.size * 0.5;
        Some(LabelBox {
            center: self.center.clamp(lo + half, hi - half),
            size: self.size,
        })
    }
}

/// Greedy placement: `boxes` in priority order (highest first); returns the
/// indices of those shown — each on screen and at least `gap` pixels from
/// every box shown before it.
pub fn place(boxes: &[LabelBox], viewport: Vec2, gap: f32) -> Vec<usize> {
    let options: Vec<Vec<LabelBox>> = boxes
        .iter()
        .map(|b| b.on_screen(viewport).then_some(*b).into_iter().collect())
        .collect();
    first_fit(&options, gap)
        .into_iter()
        .enumerate()
        .filter_map(|(i, choice)| choice.map(|_| i))
        .collect()
}

/// Greedy placement with alternatives: `options[i]` are label `i`'s
/// possible boxes, preferred first, labels in priority order. Each label
/// takes its first box at least `gap` pixels from every box taken before;
/// `None` where none is clear.
pub fn first_fit(options: &[Vec<LabelBox>], gap: f32) -> Vec<Option<usize>> {
    let mut taken: Vec<LabelBox> = Vec::new();
    options
        .iter()
        .map(|alternatives| {
            let choice = alternatives
                .iter()
                .position(|b| taken.iter().all(|t| !t.overlaps(b, gap)))?;
            taken.push(alternatives[choice]);
            Some(choice)
        })
        .collect()
}

/// Text scales a colliding cluster label tries, largest first, as long
/// as its text stays at least [`MIN_SHRUNK_PX`] tall.
const SHRINKS: [f32; 4] = [1.0, 0.8, 0.64, 0.5];
/// Smallest font size (pixels at scale 1) a label is shrunk to.
const MIN_SHRUNK_PX: f32 = 10.0;
/// Offsets a colliding cluster label tries around its anchor, nearest
/// first, in units of (half its width, its height) plus the gap.
const NUDGES: [(f32, f32); 13] = [
    (0.0, 0.0),
    (0.0, -1.0),
    (0.0, 1.0),
    (-1.0, 0.0),
    (1.0, 0.0),
    (-1.0, -1.0),
    (1.0, -1.0),
    (-1.0, 1.0),
    (1.0, 1.0),
    (0.0, -2.0),
    (0.0, 2.0),
    (-2.0, 0.0),
    (2.0, 0.0),
];

/// One label to draw: its text, where it sits and how large it is.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelSpec {
    /// The caller's index of what is labelled (cluster, tag dot), to move
    /// or hide the label later ([`LabelLayer::locate`]).
    pub key: usize,
    pub text: String,
    /// World position: the label's centre, or the dot it sits beside.
    pub anchor: Vec2,
    /// Font size in pixels at scale 1.
    pub font_px: f32,
    /// `Some(r)`: the label sits right of a dot of world radius `r` (tag
    /// dots); `None`: centred on the anchor (cluster labels).
    pub beside_dot: Option<f32>,
    /// World polygon the label's centre must stay in when it moves away
    /// from a collision (its cluster's hull); `None`: it never moves.
    pub region: Option<geo::Polygon<f64>>,
}

/// Where a label of `size` pixels anchored at world `anchor` lies on
/// `camera`'s screen: centred on it, or (`beside_dot`: the dot's world
/// radius) left-aligned a few pixels right of the dot's rim, centred
/// vertically on the dot.
pub fn label_box(
    camera: &Camera,
    anchor: Vec2,
    beside_dot: Option<f32>,
    size: Vec2,
    scale: f32,
) -> LabelBox {
    let at = camera.world_to_screen(anchor);
    let center = match beside_dot {
        // As the dot shader: never under 1.5 px.
        Some(radius) => {
            let radius_px = (radius * camera.zoom).max(1.5);
            at + Vec2::new(radius_px + BESIDE_PX * scale + size.x * 0.5, 0.0)
        }
        None => at,
    };
    LabelBox { center, size }
}

struct Label {
    key: usize,
    /// World position (see [`LabelSpec::anchor`]); `None` hides the label.
    anchor: Option<Vec2>,
    beside_dot: Option<f32>,
    region: Option<geo::Polygon<f64>>,
    /// Font size in pixels (scale included).
    px: f32,
    /// Text extent in pixels.
    size: Vec2,
    buffer: Buffer,
}

/// Where a shown label is drawn: moved by `shift` screen pixels from its
/// natural box, its text scaled by `shrink`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Placed {
    index: usize,
    shift: Vec2,
    shrink: f32,
}

/// Warn about missing fonts once per process, not at every refresh.
static WARNED_NO_FONT: AtomicBool = AtomicBool::new(false);
static WARNED_MISSING_GLYPHS: AtomicBool = AtomicBool::new(false);

/// The labels of one layer, shaped and placed on the CPU: what the label
/// layer draws, and what the vector export writes as text.
pub struct LabelSet {
    font_system: FontSystem,
    /// Highest priority first.
    labels: Vec<Label>,
    scale: f32,
}

/// A label as drawn from one camera: its shaped text, where the text's
/// top-left corner lies on screen and the scale its text is drawn at
/// (below 1 when it shrank to find room).
pub struct DrawnLabel<'a> {
    /// The spec's [`LabelSpec::key`].
    pub key: usize,
    pub buffer: &'a Buffer,
    /// Font size in pixels before `shrink` (the layer's scale included).
    pub px: f32,
    /// Text extent in pixels before `shrink`.
    pub size: Vec2,
    pub top_left: Vec2,
    pub shrink: f32,
}

pub struct LabelLayer {
    device: wgpu::Device,
    swash: SwashCache,
    atlas: TextAtlas,
    viewport: Viewport,
    text: TextRenderer,
    set: LabelSet,
    /// Where placement is decided, when not the frame's own camera: an
    /// export drawn in bands places labels once for the whole picture.
    placement_view: Option<Camera>,
    /// The rectangle of `placement_view` labels keep inside (a poster's
    /// map, clear of its title and legend); `None`: all of it.
    placement_area: Option<[Vec2; 2]>,
    /// `CustomLayer::name`, and what warnings call these labels.
    name: &'static str,
    /// (shown, with a place) in the last frame prepared.
    last_shown: (usize, usize),
}

/// Spec of each visible, named cluster with a label anchor, largest first.
pub fn cluster_specs(clusters: &[Cluster]) -> Vec<LabelSpec> {
    let mut shown: Vec<(usize, &Cluster)> = clusters
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.hidden && !c.is_other && c.label_at.is_some())
        .filter(|(_, c)| !c.name.trim().is_empty())
        .collect();
    shown.sort_by(|a, b| b.1.size.cmp(&a.1.size).then(a.1.id.cmp(&b.1.id)));
    shown
        .into_iter()
        .filter_map(|(key, c)| {
            let [x, y] = c.label_at?;
            Some(LabelSpec {
                key,
                text: c.name.trim().to_string(),
                anchor: Vec2::new(x as f32, y as f32),
                font_px: font_px(c.size),
                beside_dot: None,
                region: c.hull(),
            })
        })
        .collect()
}

impl LabelSet {
    /// `specs` (highest priority first) shaped with sizes multiplied by
    /// `scale` (exports larger than a screen use > 1); `None` (after one
    /// warning) when the system has no font.
    pub fn new(specs: Vec<LabelSpec>, scale: f32) -> Option<LabelSet> {
        let mut font_system = FontSystem::new();
        if font_system.db().faces().next().is_none() {
            if !WARNED_NO_FONT.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "no system font found, so cluster and tag labels are not drawn: install one (e.g. Debian's fonts-dejavu-core)"
                );
            }
            return None;
        }
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let labels = specs
            .into_iter()
            .filter_map(|s| {
                let px = s.font_px * scale;
                let (buffer, size) = shaped_label(&mut font_system, &s.text, px)?;
                Some(Label {
                    key: s.key,
                    anchor: Some(s.anchor),
                    beside_dot: s.beside_dot,
                    region: s.region,
                    px,
                    size,
                    buffer,
                })
            })
            .collect();
        Some(LabelSet {
            font_system,
            labels,
            scale,
        })
    }

    /// The fonts the labels were shaped with (to name a glyph's family).
    pub fn font_system(&self) -> &FontSystem {
        &self.font_system
    }

    /// Moves every label to `anchor(key)`; `None` hides it (e.g. the
    /// positions of a running layout, a tag the user hid). A label that
    /// moves leaves its region behind (it was drawn for the old place).
    pub fn locate(&mut self, anchor: impl Fn(usize) -> Option<Vec2>) {
        for label in &mut self.labels {
            let moved = anchor(label.key);
            if moved != label.anchor {
                label.region = None;
            }
            label.anchor = moved;
        }
    }

    /// The texts of the labels with a place that cannot be shown from
    /// `camera` inside `area` (default: the whole view) without covering a
    /// label of higher priority, in priority order.
    pub fn unplaced(&self, camera: &Camera, area: Option<[Vec2; 2]>) -> Vec<String> {
        let shown: Vec<usize> = self.placed(camera, area).iter().map(|p| p.index).collect();
        self.labels
            .iter()
            .enumerate()
            .filter(|(i, l)| l.anchor.is_some() && !shown.contains(i))
            .map(|(_, l)| buffer_text(&l.buffer))
            .collect()
    }

    /// How many labels have a place (are not hidden).
    pub fn located(&self) -> usize {
        self.labels.iter().filter(|l| l.anchor.is_some()).count()
    }

    /// The labels shown from `camera` inside `area` (default: the whole
    /// view), in priority order, where the label layer draws them.
    pub fn drawn(&self, camera: &Camera, area: Option<[Vec2; 2]>) -> Vec<DrawnLabel<'_>> {
        drawn_from(&self.labels, self.scale, &self.placed(camera, area), camera)
    }

    /// The labels shown from `camera`, in priority order, each kept wholly
    /// inside `area` (default: the whole view, so none is cut at an edge).
    fn placed(&self, camera: &Camera, area: Option<[Vec2; 2]>) -> Vec<Placed> {
        let area = area.unwrap_or([Vec2::ZERO, camera.viewport]);
        let gap = GAP_PX * self.scale;
        // Per label: its alternatives as (box, shift, shrink).
        let mut index = Vec::with_capacity(self.labels.len());
        let mut options: Vec<Vec<(LabelBox, Vec2, f32)>> = Vec::with_capacity(self.labels.len());
        for (i, label) in self.labels.iter().enumerate() {
            let Some(natural) = screen_box(label, camera, self.scale) else {
                continue;
            };
            index.push(i);
            options.push(alternatives(
                natural,
                label.px,
                label.region.as_ref(),
                camera,
                area,
                gap,
                self.scale,
            ));
        }
        let boxes: Vec<Vec<LabelBox>> = options
            .iter()
            .map(|a| a.iter().map(|(b, _, _)| *b).collect())
            .collect();
        first_fit(&boxes, gap)
            .into_iter()
            .enumerate()
            .filter_map(|(k, choice)| {
                let (_, shift, shrink) = options[k][choice?];
                Some(Placed {
                    index: index[k],
                    shift,
                    shrink,
                })
            })
            .collect()
    }
}

/// Screen box of `label` from `camera`, `None` when hidden.
fn screen_box(label: &Label, camera: &Camera, scale: f32) -> Option<LabelBox> {
    Some(label_box(
        camera,
        label.anchor?,
        label.beside_dot,
        label.size,
        scale,
    ))
}

/// `shown` (placed from some camera) as drawn in `camera`'s frame.
fn drawn_from<'a>(
    labels: &'a [Label],
    scale: f32,
    shown: &[Placed],
    camera: &Camera,
) -> Vec<DrawnLabel<'a>> {
    shown
        .iter()
        .filter_map(|p| {
            let label = &labels[p.index];
            let b = screen_box(label, camera, scale)?;
            Some(DrawnLabel {
                key: label.key,
                buffer: &label.buffer,
                px: label.px,
                size: label.size,
                top_left: b.center + p.shift - label.size * p.shrink * 0.5,
                shrink: p.shrink,
            })
        })
        .collect()
}

impl LabelLayer {
    /// The labels of the visible clusters of `clusters` (see [`cluster_specs`]).
    pub fn new(shared: &Shared, clusters: &[Cluster], scale: f32) -> Option<LabelLayer> {
        Self::with_specs(
            shared,
            cluster_specs(clusters),
            scale,
            super::overlay::LABELS,
        )
    }

    /// A layer drawing `specs` (see [`LabelSet::new`]); `None` (after one
    /// warning) when the system has no font.
    pub fn with_specs(
        shared: &Shared,
        specs: Vec<LabelSpec>,
        scale: f32,
        name: &'static str,
    ) -> Option<LabelLayer> {
        let set = LabelSet::new(specs, scale)?;
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
            swash: SwashCache::new(),
            atlas,
            viewport,
            text,
            set,
            placement_view: None,
            placement_area: None,
            name,
            last_shown: (0, 0),
        })
    }

    /// Decide placement in `camera` instead of each frame's camera (same
    /// zoom; the frame cameras are parts of it, e.g. an export's bands),
    /// labels inside `area` of it (`None`: anywhere in it).
    pub fn set_placement_view(&mut self, camera: Option<Camera>, area: Option<[Vec2; 2]>) {
        self.placement_view = camera;
        self.placement_area = area;
    }

    /// See [`LabelSet::locate`].
    pub fn locate(&mut self, anchor: impl Fn(usize) -> Option<Vec2>) {
        self.set.locate(anchor);
    }

    /// See [`LabelSet::unplaced`].
    pub fn unplaced(&self, camera: &Camera, area: Option<[Vec2; 2]>) -> Vec<String> {
        self.set.unplaced(camera, area)
    }

    /// How many labels have a place (are not hidden).
    pub fn located(&self) -> usize {
        self.set.located()
    }
}

/// Where a label of font size `px` (natural box `natural`) may go,
/// preferred first: only its natural place (fitted into `area`) unless it
/// has a `region`; then also nudged around it and at smaller sizes (not
/// under [`MIN_SHRUNK_PX`]·`scale`), each centre inside the region.
/// Returned as (box, shift from `natural`, text scale).
fn alternatives(
    natural: LabelBox,
    px: f32,
    region: Option<&geo::Polygon<f64>>,
    camera: &Camera,
    area: [Vec2; 2],
    gap: f32,
    scale: f32,
) -> Vec<(LabelBox, Vec2, f32)> {
    let Some(region) = region else {
        return natural
            .fitted_into(area)
            .map(|f| (f, f.center - natural.center, 1.0))
            .into_iter()
            .collect();
    };
    let in_region = |b: &LabelBox| {
        let w = camera.screen_to_world(b.center);
        geo::Contains::contains(region, &geo::Point::new(f64::from(w.x), f64::from(w.y)))
    };
    let mut out = Vec::new();
    let smallest = MIN_SHRUNK_PX * scale;
    for shrink in SHRINKS
        .into_iter()
        .filter(|&s| s == 1.0 || px * s >= smallest)
    {
        let size = natural.size * shrink;
        let step = Vec2::new(size.x * 0.5, size.y) + Vec2::splat(gap);
        for (dx, dy) in NUDGES {
            let moved = LabelBox {
                center: natural.center + step * Vec2::new(dx, dy),
                size,
            };
            // The natural place counts as inside (its anchor is the
            // region's label point); moved ones must stay inside.
            let nudged = dx != 0.0 || dy != 0.0;
            if let Some(f) = moved.fitted_into(area)
                && (!nudged || in_region(&f))
            {
                out.push((f, f.center - natural.center, shrink));
            }
        }
    }
    out
}

/// The text a shaped buffer holds (a label's name as drawn).
fn buffer_text(buffer: &Buffer) -> String {
    buffer
        .lines
        .iter()
        .map(|l| l.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` shaped at `px` and its size in pixels. Characters no installed
/// font covers are left out (with one warning per process naming them)
/// rather than drawn as empty boxes; `None` when nothing readable is left.
fn shaped_label(font_system: &mut FontSystem, text: &str, px: f32) -> Option<(Buffer, Vec2)> {
    let (buffer, size, missing) = shape(font_system, text.trim(), px);
    if missing.is_empty() {
        return (size.x > 0.0).then_some((buffer, size));
    }
    if !WARNED_MISSING_GLYPHS.swap(true, Ordering::Relaxed) {
        let chars: String = missing.iter().collect();
        tracing::warn!(
            "no installed font covers {chars:?} in the label {text:?}; those characters are left out of the map's labels (Debian: install fonts-noto-core, fonts-noto-cjk or fonts-noto-color-emoji)"
        );
    }
    let kept = without_chars(text, &missing);
    if !kept.chars().any(char::is_alphanumeric) {
        return None;
    }
    let (buffer, size, _) = shape(font_system, &kept, px);
    (size.x > 0.0).then_some((buffer, size))
}

/// `text` shaped on one line: the buffer, its size, and the characters
/// that came out as the fonts' "missing glyph" (glyph 0).
fn shape(font_system: &mut FontSystem, text: &str, px: f32) -> (Buffer, Vec2, Vec<char>) {
    let mut buffer = Buffer::new(font_system, Metrics::new(px, px * 1.2));
    buffer.set_size(None, None);
    buffer.set_text(
        text,
        &Attrs::new().family(Family::SansSerif),
        Shaping::Advanced,
        None,
    );
    buffer.shape_until_scroll(font_system, false);
    let (mut w, mut h) = (0.0f32, 0.0f32);
    let mut missing = Vec::new();
    for run in buffer.layout_runs() {
        w = w.max(run.line_w);
        h += run.line_height;
        for g in run.glyphs.iter().filter(|g| g.glyph_id == 0) {
            for c in run.text.get(g.start..g.end).unwrap_or("").chars() {
                if !c.is_whitespace() && !missing.contains(&c) {
                    missing.push(c);
                }
            }
        }
    }
    (buffer, Vec2::new(w, h), missing)
}

/// `text` without `chars`, its spaces collapsed and without the separators
/// (" · ") left dangling at either end or doubled.
fn without_chars(text: &str, chars: &[char]) -> String {
    let kept: String = text.chars().filter(|c| !chars.contains(c)).collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::new();
    for w in words {
        if w == "·" && out.last().is_none_or(|&l| l == "·") {
            continue;
        }
        out.push(w);
    }
    while out.last() == Some(&"·") {
        out.pop();
    }
    out.join(" ")
}

/// 0xRRGGBB as a glyphon colour.
pub(crate) fn glyph_color(rgb: u32) -> Color {
    Color::rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
}

impl CustomLayer for LabelLayer {
    fn prepare(&mut self, queue: &wgpu::Queue, camera: &Camera, opts: &FrameOptions) {
        let (place_in, area) = match self.placement_view {
            Some(view) => (view, self.placement_area),
            None => (*camera, opts.label_area),
        };
        let shown = self.set.placed(&place_in, area);
        self.last_shown = (shown.len(), self.set.located());
        self.viewport.update(
            queue,
            Resolution {
                width: camera.viewport.x.max(1.0) as u32,
                height: camera.viewport.y.max(1.0) as u32,
            },
        );
        let halo = HALO_PX * self.set.scale;
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
        // Fields apart: the text borrows the labels, shaping borrows the fonts.
        let drawn = drawn_from(&self.set.labels, self.set.scale, &shown, camera);
        let mut areas: Vec<TextArea<'_>> = Vec::with_capacity(drawn.len() * (rings.len() + 1));
        for label in &drawn {
            // The halo first, the text over it.
            for (offset, rgb) in rings
                .iter()
                .map(|&o| (o, HALO_RGB))
                .chain(std::iter::once((Vec2::ZERO, TEXT_RGB)))
            {
                areas.push(TextArea {
                    buffer: label.buffer,
                    left: (label.top_left.x + offset.x).round(),
                    top: (label.top_left.y + offset.y).round(),
                    scale: label.shrink,
                    bounds: TextBounds::default(),
                    default_color: glyph_color(rgb),
                    custom_glyphs: &[],
                });
            }
        }
        if let Err(e) = self.text.prepare(
            &self.device,
            queue,
            &mut self.set.font_system,
            &mut self.atlas,
            &self.viewport,
            areas,
            &mut self.swash,
        ) {
            tracing::warn!("{} not drawn this frame: {e}", self.name);
        }
    }

    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        if let Err(e) = self.text.render(&self.atlas, &self.viewport, pass) {
            tracing::debug!("{} not drawn: {e}", self.name);
        }
    }

    fn name(&self) -> &str {
        self.name
    }

    fn labels_shown(&self) -> Option<(usize, usize)> {
        Some(self.last_shown)
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
    fn a_colliding_label_takes_its_first_clear_alternative() {
        let first = b(50.0, 50.0, 40.0, 10.0);
        let options = vec![
            vec![first],
            // Its natural place collides; the one 20 px below is clear.
            vec![b(60.0, 52.0, 40.0, 10.0), b(60.0, 70.0, 40.0, 10.0)],
            // Every place collides with one taken before.
            vec![b(50.0, 50.0, 10.0, 10.0), b(60.0, 70.0, 10.0, 10.0)],
        ];
        assert_eq!(first_fit(&options, 4.0), vec![Some(0), Some(1), None]);
    }

    #[test]
    fn cluster_labels_move_and_shrink_only_inside_their_region() {
        let camera = Camera {
            center: Vec2::ZERO,
            zoom: 1.0,
            viewport: Vec2::new(400.0, 400.0),
        };
        let area = [Vec2::ZERO, camera.viewport];
        let natural = label_box(&camera, Vec2::ZERO, None, Vec2::new(60.0, 20.0), 1.0);
        let square = |half: f64| {
            geo::Polygon::new(
                geo::LineString::from(vec![
                    (-half, -half),
                    (half, -half),
                    (half, half),
                    (-half, half),
                    (-half, -half),
                ]),
                vec![],
            )
        };
        // No region (tag labels): the natural place only.
        let only = alternatives(natural, 20.0, None, &camera, area, 4.0, 1.0);
        assert_eq!(only, vec![(natural, Vec2::ZERO, 1.0)]);
        // A wide region: every nudge at every size down to 10 px is kept,
        // the natural place first.
        let wide = square(150.0);
        let all = alternatives(natural, 20.0, Some(&wide), &camera, area, 4.0, 1.0);
        assert_eq!(all[0], (natural, Vec2::ZERO, 1.0));
        assert_eq!(all.len(), NUDGES.len() * SHRINKS.len());
        assert!(all.iter().all(|(_, _, s)| *s >= 0.5));
        // A 16 px font never shrinks under 10 px: 1.0 and 0.8 and 0.64 only.
        let small = alternatives(natural, 16.0, Some(&wide), &camera, area, 4.0, 1.0);
        assert_eq!(small.len(), NUDGES.len() * 3);
        // A narrow region: the moved centres must stay inside it.
        let narrow = square(5.0);
        let kept = alternatives(natural, 20.0, Some(&narrow), &camera, area, 4.0, 1.0);
        assert!(kept.len() < all.len() && kept[0].0 == natural);
        for (bx, _, _) in &kept[1..] {
            let w = camera.screen_to_world(bx.center);
            assert!(
                w.x.abs() <= 5.0 && w.y.abs() <= 5.0,
                "{bx:?} left its region"
            );
        }
        // Near the picture's edge the box is pulled inside, never cut.
        let edge = label_box(
            &camera,
            Vec2::new(-195.0, 0.0),
            None,
            Vec2::new(60.0, 20.0),
            1.0,
        );
        let fitted = alternatives(edge, 20.0, None, &camera, area, 4.0, 1.0);
        assert_eq!(fitted[0].0.center, Vec2::new(30.0, 200.0));
    }

    #[test]
    fn labels_move_out_from_under_a_panel_and_vanish_behind_it() {
        // A 300 px right panel over a 1000 × 600 window: the free area is
        // x ∈ [0, 700].
        let free = [Vec2::ZERO, Vec2::new(700.0, 600.0)];
        // Straddling the panel's edge: moved left until wholly free.
        let moved = b(690.0, 100.0, 80.0, 20.0).fitted_into(free).unwrap();
        assert_eq!(moved.center, Vec2::new(660.0, 100.0));
        // Near the top: moved down.
        let moved = b(300.0, 4.0, 80.0, 20.0).fitted_into(free).unwrap();
        assert_eq!(moved.center, Vec2::new(300.0, 10.0));
        // Wholly free: unchanged.
        let free_box = b(300.0, 300.0, 80.0, 20.0);
        assert_eq!(free_box.fitted_into(free), Some(free_box));
        // What it names is under the panel, or it is wider than the area.
        assert_eq!(b(710.0, 100.0, 80.0, 20.0).fitted_into(free), None);
        assert_eq!(b(350.0, 100.0, 720.0, 20.0).fitted_into(free), None);
    }

    #[test]
    fn characters_without_a_font_are_left_out_not_drawn_as_boxes() {
        assert_eq!(
            without_chars("動物 · حيوانات · 🐾 animals", &['🐾']),
            "動物 · حيوانات · animals"
        );
        assert_eq!(without_chars("猫 · dog", &['猫']), "dog");
        assert_eq!(without_chars("dog · 猫", &['猫']), "dog");

        let mut fonts = FontSystem::new();
        // Debian's fonts-dejavu-core, fonts-droid-fallback and
        // fonts-noto-color-emoji (scripts/install-deps.sh) cover these.
        let (_, _, missing) = shape(&mut fonts, "猫 · قطة · 🐱 cat", 14.0);
        assert!(
            missing.is_empty(),
            "no font for {missing:?}: install fonts-droid-fallback and fonts-noto-color-emoji"
        );
        // A private-use character no font has: found, and left out.
        let pua = '\u{10FFFD}';
        let (_, full, missing) = shape(&mut fonts, &format!("cat {pua}{pua}"), 14.0);
        assert_eq!(missing, vec![pua]);
        let (_, kept) = shaped_label(&mut fonts, &format!("cat {pua}{pua}"), 14.0).unwrap();
        let (_, plain, _) = shape(&mut fonts, "cat", 14.0);
        assert_eq!(kept, plain);
        assert!(full.x > plain.x);
        assert!(shaped_label(&mut fonts, &format!("{pua} · {pua}"), 14.0).is_none());
    }

    #[test]
    fn tag_labels_sit_right_of_their_dot_and_higher_degrees_win() {
        let camera = Camera {
            center: Vec2::ZERO,
            zoom: 2.0,
            viewport: Vec2::new(400.0, 200.0),
        };
        // Dot of world radius 4 at world (-50, 10): screen (100, 80), 8 px
        // radius; a 30 × 12 label starts 3 px right of the rim, at x 111.
        let b = label_box(
            &camera,
            Vec2::new(-50.0, 10.0),
            Some(4.0),
            Vec2::new(30.0, 12.0),
            1.0,
        );
        assert_eq!(b.center, Vec2::new(126.0, 80.0));
        // A tiny dot still counts 1.5 px of radius, as drawn.
        let tiny = label_box(&camera, Vec2::ZERO, Some(0.1), Vec2::new(10.0, 12.0), 1.0);
        assert_eq!(tiny.center, Vec2::new(200.0 + 1.5 + 3.0 + 5.0, 100.0));
        // Cluster labels stay centred.
        let centred = label_box(&camera, Vec2::ZERO, None, Vec2::new(10.0, 12.0), 1.0);
        assert_eq!(centred.center, Vec2::new(200.0, 100.0));

        // Two tags 20 world units apart along x (40 px): labels of 60 px
        // overlap, so only the first in priority order (higher degree) shows;
        // at zoom 8 (160 px apart) both do.
        let tags = [(Vec2::new(10.0, 0.0), 40usize), (Vec2::new(-10.0, 0.0), 3)];
        let mut by_degree = tags.to_vec();
        by_degree.sort_by_key(|t| std::cmp::Reverse(t.1));
        let boxes = |zoom: f32| -> Vec<LabelBox> {
            let camera = Camera { zoom, ..camera };
            by_degree
                .iter()
                .map(|&(p, _)| label_box(&camera, p, Some(1.0), Vec2::new(60.0, 12.0), 1.0))
                .collect()
        };
        let shown = place(&boxes(2.0), camera.viewport, GAP_PX);
        assert_eq!(shown.len(), 1);
        assert_eq!(by_degree[shown[0]].1, 40);
        assert_eq!(place(&boxes(8.0), camera.viewport, GAP_PX), vec![0, 1]);
    }

    #[test]
    fn tag_font_is_small_and_grows_with_degree() {
        assert_eq!(tag_font_px(1), 11.0);
        assert_eq!(tag_font_px(16), 13.0);
        assert_eq!(tag_font_px(64), 14.0);
        assert_eq!(tag_font_px(100_000), 14.0);
    }

    #[test]
    fn font_grows_with_cluster_size_within_bounds() {
        assert_eq!(font_px(1), 11.0);
        assert_eq!(font_px(8), 20.0);
        assert_eq!(font_px(1 << 20), 36.0);
        assert!(font_px(100) > font_px(10));
    }
}
