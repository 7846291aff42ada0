//! `export --format png`: the recipe's final picture — every image at its
//! place, white background, no edges, no tag dots — drawn offscreen by the
//! renderer and streamed to disk band by band with the `png` crate, so a
//! large picture never sits whole in memory.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use glam::Vec2;

use crate::gpu::GpuContext;
use crate::project::Project;
use crate::render::{
    AtlasConfig, Camera, ClusterOverlay, FrameOptions, OFFSCREEN_FORMAT, OffscreenTarget, Renderer,
    Scene, overlay::LabelCount,
};

use super::AtomicFile;

/// Margin around the map on every side, as a fraction of the picture's width.
pub(super) const MARGIN: f32 = 0.03;
/// Bytes of one offscreen band (the picture is drawn and read back in bands).
const BAND_BYTES: u64 = 64 << 20;
/// How long one band may wait for its thumbnails before drawing coarser ones.
const BAND_WAIT: Duration = Duration::from_secs(600);
/// Picture width at which labels and outlines have their on-screen size;
/// wider pictures scale them up so they read the same on the printed map.
const OVERLAY_REFERENCE_WIDTH: f32 = 1600.0;

/// The overlay scale for a picture `width` pixels wide (never below 1).
pub fn overlay_scale(width: u32) -> f32 {
    (width as f32 / OVERLAY_REFERENCE_WIDTH).max(1.0)
}

/// What was drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PngSummary {
    pub width: u32,
    pub height: u32,
    pub images: usize,
    /// Images drawn as a grey placeholder (no thumbnail, or unreadable).
    pub placeholders: usize,
    /// Cluster labels asked for (`--labels`) and how many found room.
    pub labels: Option<LabelCount>,
}

/// The picture's height for `width` when not given: the map's aspect plus margins.
pub fn derived_height(bounds_size: Vec2, width: u32) -> u32 {
    let w = width as f32;
    let margin = (MARGIN * w).round();
    let zoom = (w - 2.0 * margin).max(1.0) / bounds_size.x.max(f32::EPSILON);
    let h = bounds_size.y * zoom + 2.0 * margin;
    (h.round() as u32).max(1)
}

pub fn write(
    project: &Project,
    out: &Path,
    width: Option<u32>,
    height: Option<u32>,
    hulls: bool,
    labels: bool,
) -> Result<PngSummary> {
    let Some(width) = width else {
        bail!(
            "--format png needs --width (pixels), e.g. --width 4000 (the height follows the map's shape)"
        );
    };
    if width == 0 || height == Some(0) {
        bail!("--width and --height must be at least 1 pixel");
    }
    let scene = Scene::from_project(project)?;
    let images = scene.sprites.len();
    let no_thumbnail = scene.thumbs.keys.iter().filter(|k| k.is_none()).count();
    let Some(bounds) = scene.bounds(false) else {
        bail!(
            "project {} has no images to draw: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        );
    };
    let height = height.unwrap_or_else(|| derived_height(bounds.size(), width));

    let ctx = GpuContext::new_headless()?;
    let max = ctx.device.limits().max_texture_dimension_2d;
    if width > max || height > max {
        bail!(
            "{width}×{height} px is larger than this GPU's {max} px texture limit ({}): use --width/--height up to {max} (tiled posters of any size are not built yet)",
            ctx.adapter_name()
        );
    }
    tracing::info!("drawing {width}×{height} px on {}", ctx.adapter_name());

    let mut camera = Camera::new(Vec2::new(width as f32, height as f32));
    camera.fit(&bounds, (MARGIN * width as f32).round());
    // The export may use more GPU memory than an interactive window: every
    // band is complete before it is read back.
    let mut renderer = Renderer::new(
        &ctx,
        OFFSCREEN_FORMAT,
        scene,
        &AtlasConfig::with_total_budget(1 << 30),
    );
    let mut label_count = None;
    if hulls || labels {
        let clusters = crate::cluster::load_clusters(project)?;
        if clusters.is_empty() {
            tracing::warn!(
                "--hulls/--labels: project {} has no clusters yet, so none are drawn: run `tagscape cluster {}` first",
                project.dir().display(),
                project.dir().display()
            );
        } else {
            label_count = renderer.set_cluster_overlay(
                &clusters,
                &ClusterOverlay {
                    hulls,
                    labels,
                    scale: overlay_scale(width),
                    // Bands are parts of the picture: labels are placed once for all of it.
                    placement_view: Some(camera),
                },
            );
        }
    }
    let opts = FrameOptions {
        background: 0xFFFFFF,
        show_images: true,
        show_tags: false,
        show_edges: false,
        ..FrameOptions::default()
    };

    let mut file = AtomicFile::create(out)?;
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut stream = writer
        .stream_writer()
        .with_context(|| format!("cannot write {}", out.display()))?;

    let band_rows = ((BAND_BYTES / (u64::from(width) * 4)) as u32).clamp(1, height);
    let target = OffscreenTarget::new(&ctx.device, width, band_rows);
    let progress = crate::ui::progress(u64::from(height), "rows drawn");
    let mut y0 = 0;
    while y0 < height {
        let rows = band_rows.min(height - y0);
        let band = camera.sub_view(0.0, y0 as f32, width as f32, band_rows as f32);
        renderer.render_offscreen(&target, &band, &opts, Some(BAND_WAIT));
        let pixels = target.read_rgba(&ctx.device, &ctx.queue)?;
        use std::io::Write;
        stream
            .write_all(&pixels[..(rows * width * 4) as usize])
            .with_context(|| format!("cannot write {}", out.display()))?;
        progress.inc(u64::from(rows));
        y0 += rows;
    }
    progress.finish_and_clear();
    stream
        .finish()
        .with_context(|| format!("cannot write {}", out.display()))?;
    writer
        .finish()
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    Ok(PngSummary {
        width,
        height,
        images,
        placeholders: no_thumbnail + renderer.atlas().failed_count(),
        labels: label_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_follows_the_map_aspect_with_margins() {
        // 1000 px wide, margin 30 px: zoom = 940 / 200 = 4.7; height = 100·4.7 + 60 = 530.
        assert_eq!(derived_height(Vec2::new(200.0, 100.0), 1000), 530);
        assert_eq!(derived_height(Vec2::new(200.0, 0.0), 1000), 60);
    }

    #[test]
    fn overlay_grows_only_for_pictures_wider_than_a_screen() {
        assert_eq!(overlay_scale(800), 1.0);
        assert_eq!(overlay_scale(1600), 1.0);
        assert_eq!(overlay_scale(4800), 3.0);
    }
}
