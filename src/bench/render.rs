//! `tagscape bench render`: milliseconds per frame for 10k, 100k and 1M image
//! sprites drawn offscreen, with the atlas warm (every visible thumbnail
//! resident before timing), and the atlas's GPU memory.
//!
//! Three views per size: the whole map (sprites of a pixel or two: mean
//! colours), a middle zoom (12 px sprites from the 16 px level) and a close
//! one (48 px sprites from the 64 px level). A frame is the renderer's CPU
//! work (visibility, level requests, uploads), the draw and the wait for the
//! GPU to finish.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use glam::Vec2;
use serde::Serialize;

use crate::gpu::GpuContext;
use crate::render::atlas::{ThumbFiles, ThumbKey};
use crate::render::scene::SpriteInstance;
use crate::render::{
    AtlasConfig, Camera, FrameOptions, LEVEL_CELLS, OFFSCREEN_FORMAT, OffscreenTarget, Renderer,
    Scene,
};

/// Flags of `tagscape bench render`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Sprite counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub sprites: Vec<usize>,
    /// Frames timed per view (after the warm-up).
    #[arg(long, default_value_t = 5)]
    pub frames: u32,
    #[arg(long, default_value_t = 1920)]
    pub width: u32,
    #[arg(long, default_value_t = 1080)]
    pub height: u32,
    /// Atlas budget in MiB (the viewer's default when not given).
    #[arg(long)]
    pub atlas_mib: Option<u64>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Distinct thumbnails on disk; sprite `i` shows thumbnail `i % THUMBS`.
const THUMBS: usize = 256;
/// World units between neighbouring sprites, and their half size.
const SPACING: f32 = 30.0;
const HALF: f32 = 10.0;

#[derive(Debug, Serialize)]
pub struct ViewFigures {
    pub view: &'static str,
    /// Sprite longest side on screen, in pixels.
    pub sprite_px: f32,
    pub visible: usize,
    pub ms_per_frame_median: f64,
    pub ms_per_frame_min: f64,
    /// The CPU part of a frame: visibility, level requests, uploads.
    pub prepare_ms_median: f64,
    pub warmup_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub adapter: String,
    pub backend: String,
    pub software: bool,
    pub sprites: usize,
    pub width: u32,
    pub height: u32,
    pub atlas_gpu_bytes: u64,
    pub setup_ms: f64,
    pub views: Vec<ViewFigures>,
}

pub fn run(opts: &Options) -> Result<()> {
    let ctx = GpuContext::new_headless()?;
    let info = ctx.adapter.get_info();
    if !opts.json {
        println!(
            "adapter: {} ({:?}, {:?}){}",
            info.name,
            info.device_type,
            info.backend,
            if ctx.is_software() {
                " - a software rasteriser: these are not GPU figures"
            } else {
                ""
            }
        );
        println!("machine: {}", super::cpu_model());
    }
    let tmp =
        tempfile::tempdir().context("cannot create a temporary folder for the bench thumbnails")?;
    write_thumbnails(tmp.path())?;
    for &n in &opts.sprites {
        let report = measure(&ctx, tmp.path(), n, opts)?;
        if opts.json {
            println!("{}", serde_json::to_string(&report)?);
            continue;
        }
        println!(
            "{} sprites at {}×{}: setup {:.0} ms, atlas {:.0} MiB of GPU memory",
            report.sprites,
            report.width,
            report.height,
            report.setup_ms,
            report.atlas_gpu_bytes as f64 / (1024.0 * 1024.0)
        );
        for v in &report.views {
            println!(
                "  {:<7} {:>5.1} px sprites, {:>8} visible: {:>8.1} ms/frame median ({:.1} min, {:.1} fps; CPU prepare {:.1} ms), warm-up {:.0} ms",
                v.view,
                v.sprite_px,
                v.visible,
                v.ms_per_frame_median,
                v.ms_per_frame_min,
                1000.0 / v.ms_per_frame_median,
                v.prepare_ms_median,
                v.warmup_ms
            );
        }
    }
    Ok(())
}

/// `THUMBS` pyramids of a 4:3 gradient, each with its own hue.
fn write_thumbnails(dir: &Path) -> Result<()> {
    for t in 0..THUMBS {
        for cell in LEVEL_CELLS {
            let (w, h) = crate::fetch::thumbnail::fit(400, 300, cell);
            let img = image::RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([
                    (t * 7 % 256) as u8,
                    (x * 255 / w.max(1)) as u8,
                    (y * 255 / h.max(1)) as u8,
                ])
            });
            let path = dir.join(crate::fetch::store::thumb_path(cell, &thumb_hash(t), "jpg"));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            img.save(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

fn thumb_hash(t: usize) -> String {
    format!("{:064x}", t + 0x1000)
}

fn scene(dir: &Path, n: usize) -> Scene {
    let side = (n as f64).sqrt().ceil() as usize;
    let mut scene = Scene::default();
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        // A grid with a deterministic jitter, so sprites overlap a little as in a real map.
        let jitter = |k: usize| {
            ((k.wrapping_mul(2_654_435_761) % 1000) as f32 / 1000.0 - 0.5) * SPACING * 0.5
        };
        let p = Vec2::new(
            (i % side) as f32 * SPACING + jitter(i),
            (i / side) as f32 * SPACING + jitter(i + 7),
        );
        scene.positions.push(p);
        let rgb = ((i * 2_654_435_761) & 0xFF_FFFF) as u32;
        scene
            .sprites
            .push(SpriteInstance::new(i as u32, HALF, 4.0 / 3.0, rgb));
        keys.push(Some(ThumbKey {
            hash: thumb_hash(i % THUMBS),
            ext: "jpg".into(),
        }));
    }
    scene.thumbs = ThumbFiles {
        project_dir: dir.to_path_buf(),
        keys,
    };
    scene
}

fn measure(ctx: &GpuContext, dir: &Path, n: usize, opts: &Options) -> Result<Report> {
    let start = Instant::now();
    let scene = scene(dir, n);
    let bounds = scene
        .bounds(false)
        .context("the bench scene is empty: give --sprites above 0")?;
    let config = match opts.atlas_mib {
        Some(mib) => AtlasConfig::with_total_budget(mib << 20),
        None => AtlasConfig::default(),
    };
    let mut renderer = Renderer::new(ctx, OFFSCREEN_FORMAT, scene, &config);
    let target = OffscreenTarget::new(&ctx.device, opts.width, opts.height);
    let setup_ms = start.elapsed().as_secs_f64() * 1000.0;
    let viewport = Vec2::new(opts.width as f32, opts.height as f32);
    let mut all = Camera::new(viewport);
    all.fit(&bounds, 20.0);
    let at = |sprite_px: f32| Camera {
        center: bounds.center(),
        zoom: sprite_px / (2.0 * HALF),
        viewport,
    };
    let frame_opts = FrameOptions::default();
    let mut views = Vec::new();
    for (name, camera) in [("all", all), ("middle", at(12.0)), ("close", at(48.0))] {
        let warm = Instant::now();
        let stats = renderer.render_offscreen(
            &target,
            &camera,
            &frame_opts,
            Some(Duration::from_secs(600)),
        );
        renderer.wait_idle()?;
        let warmup_ms = warm.elapsed().as_secs_f64() * 1000.0;
        let mut times = Vec::new();
        let mut cpu_times = Vec::new();
        for _ in 0..opts.frames.max(1) {
            let t = Instant::now();
            renderer.prepare(&camera, &frame_opts);
            cpu_times.push(t.elapsed().as_secs_f64() * 1000.0);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            renderer.encode(&mut encoder, &target.view, &frame_opts);
            ctx.queue.submit([encoder.finish()]);
            renderer.wait_idle()?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        cpu_times.sort_by(f64::total_cmp);
        views.push(ViewFigures {
            view: name,
            sprite_px: 2.0 * HALF * camera.zoom,
            visible: stats.visible,
            ms_per_frame_median: times[times.len() / 2],
            ms_per_frame_min: times[0],
            prepare_ms_median: cpu_times[cpu_times.len() / 2],
            warmup_ms,
        });
    }
    let info = ctx.adapter.get_info();
    Ok(Report {
        adapter: info.name,
        backend: format!("{:?}", info.backend),
        software: ctx.is_software(),
        sprites: n,
        width: opts.width,
        height: opts.height,
        atlas_gpu_bytes: renderer.atlas().gpu_bytes(),
        setup_ms,
        views,
    })
}
