//! `export --format png`: the recipe's final picture — every image at its
//! place, white background, no edges, no tag dots — drawn offscreen by the
//! renderer and streamed to disk band by band with the `png` crate, so a
//! large picture never sits whole in memory. A band wider than the GPU's
//! texture limit is drawn as several tiles side by side: a poster has any
//! size, and its memory is that of one band.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use glam::Vec2;

use crate::gpu::GpuContext;
use crate::project::Project;
use crate::render::poster_text::{PosterText, Span};
use crate::render::{
    AtlasConfig, Bounds, Camera, ClusterOverlay, FrameOptions, Layer, OFFSCREEN_FORMAT,
    OffscreenTarget, Renderer, Scene,
    atlas::{LEVEL_CELLS, level_cell, level_for_pixels},
    detail::{ATLAS_LARGEST, DetailCounts, DetailSources},
    overlay::LabelCount,
};

use super::AtomicFile;

/// Margin around the map on every side, as a fraction of the picture's width.
const MARGIN: f32 = 0.03;
/// Bytes of one offscreen band (the picture is drawn and read back in bands).
const BAND_BYTES: u64 = 64 << 20;
/// Largest side accepted (PNG allows 2³¹ − 1; viewers and printers give up
/// far earlier).
const MAX_SIDE: u32 = 200_000;
/// Inches per metre, for the PNG's pHYs chunk (pixels per metre).
const INCHES_PER_METRE: f64 = 1.0 / 0.0254;
/// How long one band may wait for its thumbnails before drawing coarser ones.
const BAND_WAIT: Duration = Duration::from_secs(600);
/// Picture width at which labels and outlines have their on-screen size;
/// wider pictures scale them up so they read the same on the printed map.
const OVERLAY_REFERENCE_WIDTH: f32 = 1600.0;

/// The overlay scale for a picture `width` pixels wide (never below 1).
pub fn overlay_scale(width: u32) -> f32 {
    (width as f32 / OVERLAY_REFERENCE_WIDTH).max(1.0)
}

/// The picture's background (`--background`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Background {
    /// The recipe's white.
    #[default]
    White,
    /// No background: the PNG has an alpha channel to lay over a design.
    Transparent,
    /// Near-black, for screens and slides.
    Dark,
}

impl Background {
    /// Colour of the title and legend text on this background.
    pub(super) fn ink(self) -> u32 {
        match self {
            Background::Dark => 0xEEEEEE,
            _ => 0x1A1A1A,
        }
    }

    /// Clear colour and opacity.
    pub(super) fn clear(self) -> (u32, f32) {
        match self {
            Background::White => (0xFFFFFF, 1.0),
            Background::Transparent => (0xFFFFFF, 0.0),
            Background::Dark => (0x1E1E1E, 1.0),
        }
    }
}

/// How the picture is drawn beyond its size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PngStyle {
    pub hulls: bool,
    pub labels: bool,
    pub background: Background,
    /// Dots per inch written into the PNG (pHYs), for print.
    pub dpi: Option<u32>,
    /// A title above the map, with the collection's attribution line.
    pub title: Option<String>,
    /// A key of the clusters' colours and names beside the map.
    pub legend: bool,
    /// Widest and tallest tile drawn at once, when under the GPU's texture
    /// limit (tests draw in small tiles; `None`: the limit itself).
    pub tile_limit: Option<u32>,
}

/// What was drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PngSummary {
    pub width: u32,
    pub height: u32,
    /// Offscreen tiles drawn (more than the bands when wider than the GPU allows).
    pub tiles: u32,
    pub images: usize,
    /// Images drawn as a grey placeholder (no thumbnail, or unreadable).
    pub placeholders: usize,
    /// Cluster labels asked for (`--labels`) and how many found room.
    pub labels: Option<LabelCount>,
    /// Where the images drawn larger than the 256 px thumbnails came from.
    pub sources: DetailCounts,
}

/// Where the map goes in a picture: below the title, left of the legend.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Frame {
    margin: f32,
    /// The map's rectangle: `[margin, top]` to `[right, height − margin]`.
    top: f32,
    right: f32,
    height: u32,
}

/// The margin around the map of a picture `width` pixels wide.
pub(super) fn margin(width: u32) -> f32 {
    (MARGIN * width as f32).round()
}

/// The frame of a picture `width` pixels wide of a map of `bounds` size,
/// with a title block and a legend block of the given sizes; the height,
/// when not given, follows the map's aspect.
fn frame(
    bounds: Vec2,
    width: u32,
    height: Option<u32>,
    title: Option<Vec2>,
    legend: Option<Vec2>,
) -> Frame {
    let w = width as f32;
    let margin = margin(width);
    let top = margin + title.map_or(0.0, |size| (size.y + margin * 0.5).ceil());
    let right = w - margin - legend.map_or(0.0, |size| (size.x + margin).ceil());
    let height = height.unwrap_or_else(|| {
        let zoom = (right - margin).max(1.0) / bounds.x.max(f32::EPSILON);
        let beside = legend.map_or(0.0, |size| size.y);
        ((top + (bounds.y * zoom).max(beside) + margin).round() as u32).max(1)
    });
    Frame {
        margin,
        top,
        right,
        height,
    }
}

/// A block of text fixed to the picture (title, legend): its runs, its
/// shaped form (whatever the drawing side made of them), its size in
/// pixels and its top-left corner.
pub(super) struct TextBlock<T> {
    pub spans: Vec<Span>,
    pub shaped: T,
    pub size: Vec2,
    pub at: Vec2,
}

/// The picture the PNG and the vector page both draw: its size, the map's
/// camera, the overlay scale and ink, the title and the legend.
pub(super) struct Page<T> {
    pub width: u32,
    pub height: u32,
    pub camera: Camera,
    pub scale: f32,
    /// Colour of the title and legend text (0xRRGGBB).
    pub ink: u32,
    /// Where cluster labels may go: the picture less the title and legend.
    pub label_area: [Vec2; 2],
    pub title: Option<TextBlock<T>>,
    pub legend: Option<TextBlock<T>>,
}

/// The clusters a picture in `style` draws: none unless hulls, labels or a
/// legend are asked for, or `all`; a warning when asked for and there are none.
pub(super) fn load_clusters(
    project: &Project,
    style: &PngStyle,
    all: bool,
) -> Result<Vec<crate::cluster::Cluster>> {
    let asked = style.hulls || style.labels || style.legend;
    if !(asked || all) {
        return Ok(Vec::new());
    }
    let clusters = crate::cluster::load_clusters(project)?;
    if asked && clusters.is_empty() {
        tracing::warn!(
            "--hulls/--labels/--legend: project {} has no clusters yet, so none are drawn: run `tagscape cluster {}` first",
            project.dir().display(),
            project.dir().display()
        );
    }
    Ok(clusters)
}

/// Lays out a picture `width` pixels wide of a map of `bounds`: the title
/// across the top, the legend at the right, the map in what is left (see
/// [`frame`]). `shape` shapes a block of text and gives its size; `None`
/// (no font) leaves that block out.
pub(super) fn page<T>(
    project: &Project,
    bounds: &Bounds,
    width: u32,
    height: Option<u32>,
    style: &PngStyle,
    clusters: &[crate::cluster::Cluster],
    mut shape: impl FnMut(&[Span]) -> Option<(T, Vec2)>,
) -> Result<Page<T>> {
    let asked = match height {
        Some(h) => format!("{width}×{h} px"),
        None => format!("{width} px wide"),
    };
    if width == 0 || height == Some(0) {
        bail!("--width and --height must be at least 1 pixel: a {asked} picture has no pixels");
    }
    if width > MAX_SIDE || height.is_some_and(|h| h > MAX_SIDE) {
        bail!(
            "--width and --height must be at most {MAX_SIDE} pixels (asked for a {asked} picture)"
        );
    }
    if style.dpi.is_some_and(|d| !(1..=10_000).contains(&d)) {
        bail!("--dpi must be between 1 and 10000 (print posters use 150 to 300)");
    }
    let scale = overlay_scale(width);
    let ink = style.background.ink();
    let mut block = |spans: Vec<Span>| {
        shape(&spans).map(|(shaped, size)| TextBlock {
            spans,
            shaped,
            size,
            at: Vec2::ZERO,
        })
    };
    let mut title = match &style.title {
        Some(title) => block(title_spans(project, title, scale, ink)?),
        None => None,
    };
    let mut legend = if style.legend && !clusters.is_empty() {
        block(legend_spans(clusters, scale, ink))
    } else {
        None
    };
    let size_of = |b: &Option<TextBlock<T>>| b.as_ref().map(|b| b.size);
    let Frame {
        margin,
        top,
        right,
        height,
    } = frame(
        bounds.size(),
        width,
        height,
        size_of(&title),
        size_of(&legend),
    );
    if right - margin < width as f32 * 0.25 {
        bail!(
            "the legend takes most of a {width} px wide picture: use a larger --width (e.g. --width {})",
            width.saturating_mul(3)
        );
    }
    if height > MAX_SIDE {
        bail!(
            "the map's shape makes a {width}×{height} px picture, over the {MAX_SIDE} px limit: give a smaller --width or a --height"
        );
    }
    let mut camera = Camera::new(Vec2::new(width as f32, height as f32));
    camera.fit_into(
        bounds,
        Vec2::new(margin, top),
        Vec2::new(right, height as f32 - margin),
    );
    if let Some(t) = &mut title {
        t.at = Vec2::splat(margin);
    }
    if let Some(l) = &mut legend {
        l.at = Vec2::new(right + margin, top);
    }
    // Half way across the margins that part the map from the title and legend.
    let label_area = [
        Vec2::new(
            0.0,
            if title.is_some() {
                top - 0.5 * margin
            } else {
                0.0
            },
        ),
        Vec2::new(
            if legend.is_some() {
                right + 0.5 * margin
            } else {
                width as f32
            },
            height as f32,
        ),
    ];
    Ok(Page {
        width,
        height,
        camera,
        scale,
        ink,
        label_area,
        title,
        legend,
    })
}

/// The whole-pixel column ranges `[x0, x1)` of the tiles that cover a row
/// `width` pixels wide, none wider than `max`.
pub fn tile_columns(width: u32, max: u32) -> Vec<(u32, u32)> {
    let count = width.div_ceil(max.max(1));
    let each = width.div_ceil(count.max(1));
    (0..count)
        .map(|i| (i * each, ((i + 1) * each).min(width)))
        .collect()
}

pub fn write(
    project: &Project,
    out: &Path,
    width: Option<u32>,
    height: Option<u32>,
    style: &PngStyle,
) -> Result<PngSummary> {
    let Some(width) = width else {
        bail!(
            "--format png needs --width (pixels), e.g. --width 4000 (the height follows the map's shape)"
        );
    };
    let scene = Scene::from_project(project)?;
    let images = scene.sprites.len();
    let no_thumbnail = scene.thumbs.keys.iter().filter(|k| k.is_none()).count();
    let Some(bounds) = scene.bounds(false) else {
        bail!(
            "project {} has no images to draw: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        );
    };
    let clusters = load_clusters(project, style, false)?;

    let ctx = GpuContext::new_headless()?;
    let mut text = (style.title.is_some() || (style.legend && !clusters.is_empty()))
        .then(|| PosterText::new(&ctx.device, &ctx.queue, OFFSCREEN_FORMAT))
        .flatten();
    let Page {
        height,
        camera,
        scale,
        label_area,
        title,
        legend,
        ..
    } = page(project, &bounds, width, height, style, &clusters, |spans| {
        text.as_mut().map(|t| t.add(spans))
    })?;
    // Before anything is drawn or written: a picture the disk cannot hold
    // would otherwise fail after hours.
    check_room(out, png_size_bound(width, height), free_space(out))?;
    let max = ctx.device.limits().max_texture_dimension_2d;
    let max = style.tile_limit.map_or(max, |t| t.clamp(1, max));
    let columns = tile_columns(width, max);
    tracing::info!(
        "drawing {width}×{height} px on {} in tiles of up to {max} px",
        ctx.adapter_name()
    );

    // Images larger on the poster than the atlas's cells are drawn from a
    // source of at least their size (chosen once, for the whole poster).
    let detail = detail_sources(project, &scene, camera.zoom)?;
    let detailed = detail.images.iter().filter(|d| d.is_some()).count();
    // The export may use more GPU memory than an interactive window: every
    // band is complete before it is read back.
    let pixels: Vec<f32> = scene
        .sprites
        .iter()
        .zip(&detail.images)
        .filter(|(_, d)| d.is_none())
        .map(|(s, _)| 2.0 * s.size * camera.zoom)
        .collect();
    let mut renderer = Renderer::new(
        &ctx,
        OFFSCREEN_FORMAT,
        scene,
        &atlas_for(pixels.into_iter()),
    );
    if detailed > 0 {
        renderer.set_detail_sources(detail);
    }
    let mut label_count = None;
    if (style.hulls || style.labels) && !clusters.is_empty() {
        label_count = renderer.set_cluster_overlay(
            &clusters,
            &ClusterOverlay {
                hulls: style.hulls,
                labels: style.labels,
                scale,
                // Bands are parts of the picture: labels are placed once for all of it.
                placement_view: Some(camera),
                placement_area: Some(label_area),
            },
        );
    }
    if let Some(mut text) = text {
        text.set_picture(camera);
        for block in title.iter().chain(&legend) {
            text.place(block.shaped, block.at);
        }
        renderer.layers.push(Layer::Custom(Box::new(text)));
    }
    let opts = picture_frame(style.background);
    let background_alpha = opts.background_alpha;

    let mut file = AtomicFile::create(out)?;
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    if let Some(dpi) = style.dpi {
        let per_metre = (f64::from(dpi) * INCHES_PER_METRE).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
    }
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut stream = writer
        .stream_writer_with_size(1 << 20)
        .with_context(|| format!("cannot write {}", out.display()))?;

    let tile_width = columns.iter().map(|(a, b)| b - a).max().unwrap_or(width);
    let band_rows = ((BAND_BYTES / (u64::from(width) * 4)) as u32).clamp(1, height.min(max));
    let bands = height.div_ceil(band_rows);
    let tiles = bands * columns.len() as u32;
    let target = OffscreenTarget::new(&ctx.device, tile_width, band_rows);
    let progress = crate::ui::progress(u64::from(tiles), "tiles drawn");
    let mut band = vec![0u8; (u64::from(width) * u64::from(band_rows) * 4) as usize];
    let row_bytes = width as usize * 4;
    for b in 0..bands {
        let y0 = b * band_rows;
        let rows = band_rows.min(height - y0);
        for &(x0, x1) in &columns {
            // Each tile is the whole picture's camera moved by whole pixels,
            // so tiles meet without a seam.
            let tile = camera.tile(x0, y0, tile_width, band_rows);
            renderer.render_tile(&target, &tile, &opts, Some(BAND_WAIT));
            let pixels = target.read_rgba(&ctx.device, &ctx.queue)?;
            let tile_bytes = (x1 - x0) as usize * 4;
            for r in 0..rows as usize {
                let from = r * tile_width as usize * 4;
                let to = r * row_bytes + x0 as usize * 4;
                band[to..to + tile_bytes].copy_from_slice(&pixels[from..from + tile_bytes]);
            }
            progress.inc(1);
        }
        let band = &mut band[..rows as usize * row_bytes];
        if background_alpha < 1.0 {
            unpremultiply(band);
        }
        use std::io::Write;
        stream
            .write_all(band)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    progress.finish_and_clear();
    stream
        .finish()
        .with_context(|| format!("cannot write {}", out.display()))?;
    writer
        .finish()
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    let sources = renderer.detail_counts().unwrap_or_default();
    Ok(PngSummary {
        width,
        height,
        tiles,
        images,
        placeholders: no_thumbnail + renderer.atlas().failed_count() + sources.failed,
        labels: label_count,
        sources,
    })
}

/// The source each image of `scene` is drawn from on a picture at `zoom`
/// when the atlas's 256 px cells are smaller than it is there: its 1024 px
/// level or its original (see [`crate::render::detail::DetailSource`]).
pub fn detail_sources(project: &Project, scene: &Scene, zoom: f32) -> Result<DetailSources> {
    let pixels = |s: &crate::render::SpriteInstance| 2.0 * s.size * zoom;
    let mut sources = DetailSources {
        project_dir: project.dir().to_path_buf(),
        images: vec![None; scene.sprites.len()],
    };
    let larger = scene
        .sprites
        .iter()
        .zip(&scene.thumbs.keys)
        .any(|(s, k)| k.is_some() && pixels(s) > ATLAS_LARGEST as f32);
    if !larger {
        return Ok(sources);
    }
    // Originals by content: the same bytes are the same original.
    let mut originals = std::collections::HashMap::new();
    let conn = project.conn();
    let mut stmt = conn.prepare(
        "SELECT content_hash, file, width, height FROM images
         WHERE status = 'done' AND content_hash IS NOT NULL AND width > 0 AND height > 0",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ),
        ))
    })?;
    for row in rows {
        let (hash, original) = row?;
        originals.entry(hash).or_insert(original);
    }
    for ((sprite, key), source) in scene
        .sprites
        .iter()
        .zip(&scene.thumbs.keys)
        .zip(&mut sources.images)
    {
        let Some(key) = key else { continue };
        let Some((file, w, h)) = originals.get(&key.hash) else {
            continue;
        };
        let side = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        // A path the store wrote (originals/ab/<hash>.<ext>), nothing else.
        let file = file
            .clone()
            .filter(|f| f.starts_with("originals/") && !f.contains(".."));
        *source = DetailSources::source_for(
            pixels(sprite),
            side(*w),
            side(*h),
            &key.hash,
            &key.ext,
            file,
        );
    }
    Ok(sources)
}

/// The most bytes a `width`×`height` RGBA PNG written here can take: its
/// rows (a filter byte and 4 bytes a pixel) as deflate's stored blocks (5
/// bytes of header per 65535), the zlib wrapper, one 12-byte chunk frame per
/// MiB of data (the stream writer's chunk size) and the header chunks. The
/// pictures are mostly background, so real files are far smaller; this is
/// the bound a disk must have room for before a poster is started.
pub fn png_size_bound(width: u32, height: u32) -> u64 {
    let raw = u64::from(height) * (1 + 4 * u64::from(width));
    let deflated = raw + raw.div_ceil(65_535) * 5 + 6;
    deflated + deflated.div_ceil(1 << 20) * 12 + 1024
}

/// Free bytes (for an unprivileged user) on the file system `out` is
/// written to; `None` for standard output and where it cannot be known.
pub fn free_space(out: &Path) -> Option<u64> {
    if out.as_os_str() == "-" {
        return None;
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    free_space_of(dir)
}

#[cfg(unix)]
fn free_space_of(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a zeroed struct statvfs fills.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the fields' types differ between platforms
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_space_of(_dir: &Path) -> Option<u64> {
    None
}

/// Refuses to start a picture of at most `needed` bytes at `out` when the
/// disk has only `free` bytes left, saying both.
pub fn check_room(out: &Path, needed: u64, free: Option<u64>) -> Result<()> {
    match free {
        Some(free) if needed > free => bail!(
            "{} would take up to {} (its uncompressed size) but its disk has {} free: free some space, write elsewhere with --out, or give a smaller --width/--height",
            out.display(),
            human_bytes(needed),
            human_bytes(free)
        ),
        _ => Ok(()),
    }
}

/// `1.5 GB`, `230 MB`, `12 kB` (powers of 1000, as disks are sold).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} bytes")
    }
}

/// A title and, under it, the collection's attribution line: how many
/// images from which inputs, and that tagscape drew the map, when.
fn title_spans(project: &Project, title: &str, scale: f32, ink: u32) -> Result<Vec<Span>> {
    let conn = project.conn();
    let images: i64 = conn.query_row("SELECT count(*) FROM images", [], |r| r.get(0))?;
    let mut stmt = conn.prepare("SELECT path FROM sources ORDER BY id")?;
    let sources: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    let names: Vec<String> = sources
        .iter()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let from = match names.len() {
        0 => String::new(),
        1..=3 => format!(" from {}", names.join(", ")),
        n => format!(" from {}, {} and {} more", names[0], names[1], n - 2),
    };
    let today: String = conn.query_row("SELECT date('now')", [], |r| r.get(0))?;
    let attribution = format!(
        "{images} images{from} · map: tagscape {} · {today}",
        env!("CARGO_PKG_VERSION")
    );
    let line = |text: String, px: f32, bold: bool| Span {
        text,
        px: px * scale,
        rgb: ink,
        bold,
    };
    Ok(vec![
        line(format!("{}\n", without_controls(title.trim())), 40.0, true),
        line(without_controls(&attribution), 16.0, false),
    ])
}

/// `text` without control characters (a name read from a CSV may hold any).
fn without_controls(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Most clusters a legend lists; the rest are counted in its last line.
const LEGEND_ROWS: usize = 40;

/// The key of the drawn clusters, largest first: a swatch in each colour,
/// then the name and size.
pub(super) fn legend_spans(
    clusters: &[crate::cluster::Cluster],
    scale: f32,
    ink: u32,
) -> Vec<Span> {
    let mut drawn: Vec<&crate::cluster::Cluster> = clusters
        .iter()
        .filter(|c| !c.hidden && !c.is_other && !c.name.trim().is_empty())
        .collect();
    drawn.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let px = 15.0 * scale;
    let span = |text: String, rgb: u32, bold: bool| Span {
        text,
        px,
        rgb,
        bold,
    };
    let mut spans = vec![span("Clusters\n".into(), ink, true)];
    for c in drawn.iter().take(LEGEND_ROWS) {
        spans.push(span("■ ".into(), c.color, false));
        let name = without_controls(c.name.trim());
        spans.push(span(format!("{name} ({})\n", c.size), ink, false));
    }
    if drawn.len() > LEGEND_ROWS {
        spans.push(span(
            format!("… and {} more", drawn.len() - LEGEND_ROWS),
            ink,
            false,
        ));
    }
    spans
}

/// The thumbnail atlas for a picture whose images cover `pixels` each
/// (longest side): each level holds every image that needs it (at least a
/// few MiB, for coarser stand-ins), within 1 GiB in all, so a small export
/// takes little memory and a poster no more than a bound.
/// The renderer of an export drawn at `zoom` (pixels per layout unit at its
/// closest): the scene, with an atlas sized to the images' largest size on
/// the picture rather than the viewer's budget.
pub(super) fn picture_renderer(ctx: &GpuContext, scene: Scene, zoom: f32) -> Renderer {
    let pixels: Vec<f32> = scene.sprites.iter().map(|s| 2.0 * s.size * zoom).collect();
    Renderer::new(ctx, OFFSCREEN_FORMAT, scene, &atlas_for(pixels.into_iter()))
}

/// What an export draws: the images (no tag dots, no edges) on `background`.
pub(super) fn picture_frame(background: Background) -> FrameOptions {
    let (background, background_alpha) = background.clear();
    FrameOptions {
        background,
        background_alpha,
        show_images: true,
        show_tags: false,
        show_edges: false,
        ..FrameOptions::default()
    }
}

pub(super) fn atlas_for(pixels: impl Iterator<Item = f32>) -> AtlasConfig {
    const FLOOR: u64 = 4 << 20;
    const TOTAL: u64 = 1 << 30;
    let mut need = [0u64; LEVEL_CELLS.len()];
    for px in pixels {
        let level = level_for_pixels(px);
        if let Some(cell) = level_cell(level) {
            need[usize::from(level) - 1] += u64::from(cell) * u64::from(cell) * 4;
        }
    }
    let budget = need.map(|n| n.max(FLOOR));
    let total: u64 = budget.iter().sum();
    let budget = if total > TOTAL {
        budget.map(|b| (b as f64 * TOTAL as f64 / total as f64) as u64)
    } else {
        budget
    };
    AtlasConfig {
        budget,
        ..AtlasConfig::default()
    }
}

/// Premultiplied RGBA (what the renderer blends) to the straight alpha a
/// PNG stores.
fn unpremultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a == 0 {
            px[..3].fill(0);
        } else if a < 255 {
            for c in &mut px[..3] {
                *c = ((u16::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_follows_the_map_aspect_with_margins_title_and_legend() {
        let map = Vec2::new(200.0, 100.0);
        // 1000 px wide, margin 30 px: zoom = 940 / 200 = 4.7; height = 100·4.7 + 60 = 530.
        assert_eq!(frame(map, 1000, None, None, None).height, 530);
        assert_eq!(
            frame(Vec2::new(200.0, 0.0), 1000, None, None, None).height,
            60
        );
        assert_eq!(frame(map, 1000, Some(77), None, None).height, 77);
        // A 50 px title adds 50 + 15; a 170 px legend leaves 1000 − 60 −
        // 200 = 740 px for the map: zoom 3.7, 370 px tall.
        let f = frame(
            map,
            1000,
            None,
            Some(Vec2::new(300.0, 50.0)),
            Some(Vec2::new(170.0, 90.0)),
        );
        assert_eq!((f.top, f.right), (95.0, 770.0));
        assert_eq!(f.height, 95 + 370 + 30);
        // A legend taller than the map sets the height.
        let tall = frame(map, 1000, None, None, Some(Vec2::new(170.0, 900.0)));
        assert_eq!(tall.height, 30 + 900 + 30);
    }

    #[test]
    fn tiles_cover_each_row_once_within_the_limit() {
        assert_eq!(tile_columns(1000, 8192), vec![(0, 1000)]);
        assert_eq!(tile_columns(16469, 16384), vec![(0, 8235), (8235, 16469)]);
        let cols = tile_columns(30000, 8192);
        assert_eq!(cols.len(), 4);
        assert_eq!(cols[0].0, 0);
        assert_eq!(cols.last().unwrap().1, 30000);
        assert!(cols.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(cols.iter().all(|(a, b)| b - a <= 8192));
    }

    #[test]
    fn a_poster_is_refused_when_the_disk_cannot_hold_its_largest_size() {
        // 1000 × 1000: 1000 rows of 4001 bytes = 4 001 000; 62 stored-block
        // headers (310 bytes) and the 6-byte zlib frame: 4 001 316; 4 chunk
        // frames (48) and 1024 for the header chunks: 4 002 388.
        assert_eq!(png_size_bound(1000, 1000), 4_002_388);
        assert_eq!(png_size_bound(1, 1), 5 + 5 + 6 + 12 + 1024);
        // 200000² (the largest side accepted) is 160 GB without wrapping.
        assert!(png_size_bound(200_000, 200_000) > 160_000_000_000);
        let out = Path::new("/data/poster.png");
        assert!(check_room(out, 4_002_388, Some(4_002_388)).is_ok());
        assert!(check_room(out, 4_002_388, None).is_ok());
        let err = check_room(out, 160_004_000_000, Some(42_100_000_000))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/data/poster.png would take up to 160.0 GB"),
            "{err}"
        );
        assert!(err.contains("42.1 GB free"), "{err}");
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(4_002_388), "4 MB");
    }

    #[test]
    fn free_space_is_read_from_the_output_folder() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_space(&dir.path().join("poster.png")).expect("a free-space figure");
        assert!(free > 0);
        assert_eq!(free_space(Path::new("-")), None);
        assert_eq!(free_space(&dir.path().join("missing/poster.png")), None);
    }

    #[test]
    fn transparent_pixels_are_stored_with_straight_alpha() {
        let mut px = [64, 32, 0, 128, 0, 0, 0, 0, 10, 20, 30, 255];
        unpremultiply(&mut px);
        assert_eq!(px, [128, 64, 0, 128, 0, 0, 0, 0, 10, 20, 30, 255]);
    }

    #[test]
    fn the_atlas_holds_what_the_picture_shows_within_a_bound() {
        let mib = |c: &AtlasConfig| c.budget.map(|b| b >> 20);
        // 300 images 30 px wide: all at the 64 px level, 4.7 MiB.
        assert_eq!(mib(&atlas_for([30.0; 300].into_iter())), [4, 4, 4]);
        // 10 000 images of 40 px: 156 MiB of 64 px cells.
        assert_eq!(mib(&atlas_for([40.0; 10_000].into_iter())), [4, 156, 4]);
        // 100 000 images of 300 px would need 25 GiB: capped at 1 GiB.
        let big = atlas_for(std::iter::repeat_n(300.0, 100_000));
        assert!(big.budget.iter().sum::<u64>() <= 1 << 30);
        assert!(big.budget[2] > 1000 << 20);
    }

    #[test]
    fn overlay_grows_only_for_pictures_wider_than_a_screen() {
        assert_eq!(overlay_scale(800), 1.0);
        assert_eq!(overlay_scale(1600), 1.0);
        assert_eq!(overlay_scale(4800), 3.0);
    }
}
