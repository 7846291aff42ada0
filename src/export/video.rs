//! Tours recorded (`--format video`) and their keyframes as stills
//! (`--format frames`).
//!
//! Every frame is rendered offscreen at its own moment of the tour (frame
//! `f` shows time `f / fps`), so a video has exactly `duration × fps` frames
//! whatever the machine's speed, and each waits for the thumbnails it shows.
//! Raw RGBA goes into `ffmpeg` (H.264, yuv420p, BT.709 tags, `+faststart`);
//! without ffmpeg the frames are written as PNGs with the command that
//! makes the video from them.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use glam::Vec2;

use super::png::{Background, PngStyle, load_clusters, picture_frame, picture_renderer};
use crate::gpu::GpuContext;
use crate::project::Project;
use crate::render::poster_text::{PosterText, Span};
use crate::render::scene::{TINT_NONE, pack_rgba};
use crate::render::{
    Camera, ClusterOverlay, CustomLayer, FrameOptions, Layer, OFFSCREEN_FORMAT, OffscreenTarget,
    Renderer, Scene,
};
use crate::tour::{Timeline, camera_for, drop_missing_clusters, load_or_automatic};

/// The ffmpeg to run; `TAGSCAPE_FFMPEG` names another (the tests point it
/// at a missing file to take the no-ffmpeg path).
const FFMPEG_ENV: &str = "TAGSCAPE_FFMPEG";
/// Longest wait for the thumbnails one frame shows.
const FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(120);
/// Opacity of the images outside a highlighted cluster (as the viewer's search).
const DIMMED: u8 = 40;
/// Caption size at 1080 rows; scaled with the frame's height.
const CAPTION_PX: f32 = 34.0;

/// What a recording is made of.
#[derive(Clone, Debug)]
pub struct VideoOptions {
    /// The tour to play; `None`: the project's `auto` tour or the automatic one.
    pub tour: Option<String>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Hulls, labels and background, as the PNG export draws them.
    pub style: PngStyle,
}

impl VideoOptions {
    /// Refuses what cannot be encoded, before any work.
    pub fn check(&self) -> Result<()> {
        if self.width % 2 == 1 || self.height % 2 == 1 {
            bail!(
                "--width {} --height {}: H.264 in yuv420p needs even sizes: use {} × {}",
                self.width,
                self.height,
                self.width + self.width % 2,
                self.height + self.height % 2
            );
        }
        if self.style.background == Background::Transparent {
            bail!("--background transparent: a video has no transparency: use white or dark");
        }
        Ok(())
    }
}

/// What was written; `Display` is the summary line.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoSummary {
    pub tour: String,
    pub frames: u64,
    pub fps: u32,
    pub width: u32,
    pub height: u32,
    /// `None` when ffmpeg was missing and PNG frames were written instead.
    pub video: Option<PathBuf>,
    pub frames_dir: Option<PathBuf>,
    /// Why ffmpeg was not used, and how to make the video by hand.
    pub fallback: Option<String>,
    /// `--format frames`: one still per keyframe.
    pub stills: bool,
}

impl std::fmt::Display for VideoSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.frames as f64 / f64::from(self.fps.max(1));
        if self.stills {
            write!(
                f,
                "tour \"{}\": {} keyframe stills of {}×{} px",
                self.tour, self.frames, self.width, self.height
            )?;
        } else {
            write!(
                f,
                "tour \"{}\", {:.1} s: {} frames at {} fps, {}×{} px",
                self.tour, seconds, self.frames, self.fps, self.width, self.height
            )?;
            if self.video.is_some() {
                f.write_str(", H.264")?;
            } else {
                f.write_str(" as PNG frames")?;
            }
        }
        if let Some(why) = &self.fallback {
            write!(f, "; {why}")?;
        }
        Ok(())
    }
}

/// The caption a frame shows: its text and opacity.
type SharedCaption = Rc<RefCell<Option<(String, f32)>>>;

/// Draws the shared caption centred near the bottom of the frame, its ink
/// faded towards the background by the caption's opacity.
struct CaptionLayer {
    text: PosterText,
    caption: SharedCaption,
    shown: Option<(String, f32)>,
    ink: u32,
    background: u32,
    px: f32,
}

impl CustomLayer for CaptionLayer {
    fn prepare(&mut self, queue: &wgpu::Queue, camera: &Camera, opts: &FrameOptions) {
        let wanted = self.caption.borrow().clone();
        if wanted != self.shown {
            self.text.clear();
            if let Some((line, alpha)) = &wanted {
                let span = Span {
                    text: line.clone(),
                    px: self.px,
                    rgb: mix(self.background, self.ink, *alpha),
                    bold: true,
                };
                let (index, size) = self.text.add(&[span]);
                let at = Vec2::new(
                    (camera.viewport.x - size.x) / 2.0,
                    camera.viewport.y - size.y - self.px,
                );
                self.text.place(index, at.max(Vec2::ZERO));
            }
            self.shown = wanted;
        }
        self.text.set_picture(*camera);
        self.text.prepare(queue, camera, opts);
    }

    fn draw(&self, pass: &mut wgpu::RenderPass<'_>) {
        self.text.draw(pass);
    }

    fn name(&self) -> &str {
        "tour caption"
    }
}

/// `from` moved towards `to` by `t` (0..1), per channel of 0xRRGGBB.
fn mix(from: u32, to: u32, t: f32) -> u32 {
    let t = t.clamp(0.0, 1.0);
    let channel = |shift: u32| {
        let a = ((from >> shift) & 0xFF) as f32;
        let b = ((to >> shift) & 0xFF) as f32;
        ((a + (b - a) * t).round() as u32) << shift
    };
    channel(16) | channel(8) | channel(0)
}

/// A tour ready to be drawn at any moment.
struct Recorder {
    ctx: GpuContext,
    renderer: Renderer,
    target: OffscreenTarget,
    timeline: Timeline,
    tour: String,
    caption: SharedCaption,
    /// Per image: the name of its cluster (for the highlights).
    cluster_of_image: Vec<Option<String>>,
    highlighted: Option<String>,
    opts: FrameOptions,
    size: Vec2,
}

impl Recorder {
    fn new(project: &Project, options: &VideoOptions) -> Result<Recorder> {
        if options.width == 0 || options.height == 0 {
            bail!("--width and --height must be at least 2 pixels");
        }
        let scene = Scene::from_project(project)?;
        let clusters = load_clusters(project, &options.style, false)?;
        let mut tour = load_or_automatic(project, options.tour.as_deref())?;
        for warning in drop_missing_clusters(&mut tour, &crate::cluster::load_clusters(project)?) {
            tracing::warn!("{warning}");
        }
        let size = Vec2::new(options.width as f32, options.height as f32);
        let timeline = Timeline::new(&tour, f64::from(options.width) / f64::from(options.height));
        if timeline.duration() <= 0.0 {
            bail!(
                "tour \"{}\" has no keyframes: add some with `tagscape tour {} add`",
                tour.name,
                project.dir().display()
            );
        }
        let cluster_of_image = crate::cluster::image_cluster_names(project, scene.sprites.len())?;

        let ctx = GpuContext::new_headless()?;
        let max = ctx.device.limits().max_texture_dimension_2d;
        if options.width > max || options.height > max {
            bail!(
                "--width {} --height {}: this device draws frames of at most {max} × {max} pixels",
                options.width,
                options.height
            );
        }
        // Thumbnails as large as the tour's closest view shows them.
        let closest = (0..tour.keyframes.len())
            .filter_map(|i| timeline.at(timeline.arrival(i)))
            .map(|m| f64::from(options.width) / m.view.width)
            .fold(0.0f64, f64::max) as f32;
        let mut renderer = picture_renderer(&ctx, scene, closest);
        let style = &options.style;
        let scale = options.height as f32 / 1080.0 * 1.25;
        if (style.hulls || style.labels) && !clusters.is_empty() {
            renderer.set_cluster_overlay(
                &clusters,
                &ClusterOverlay {
                    hulls: style.hulls,
                    labels: style.labels,
                    scale,
                    placement_view: None,
                    placement_area: None,
                },
            );
        }
        let (background, _) = style.background.clear();
        let caption: SharedCaption = Rc::new(RefCell::new(None));
        match PosterText::new(&ctx.device, &ctx.queue, OFFSCREEN_FORMAT) {
            Some(text) => renderer.layers.push(Layer::Custom(Box::new(CaptionLayer {
                text,
                caption: caption.clone(),
                shown: None,
                ink: style.background.ink(),
                background,
                px: CAPTION_PX * options.height as f32 / 1080.0,
            }))),
            None => tracing::warn!("no font found: the tour's captions are not drawn"),
        }
        let target = OffscreenTarget::new(&ctx.device, options.width, options.height);
        Ok(Recorder {
            ctx,
            renderer,
            target,
            timeline,
            tour: tour.name,
            caption,
            cluster_of_image,
            highlighted: None,
            opts: picture_frame(style.background),
            size,
        })
    }

    /// The frame at `time` seconds into the tour, RGBA rows top first.
    fn frame(&mut self, time: f64) -> Result<Vec<u8>> {
        let moment = self
            .timeline
            .at(time)
            .context("the tour has no keyframes")?;
        if moment.cluster != self.highlighted {
            let dim = pack_rgba(0xFFFFFF, DIMMED);
            for (i, cluster) in self.cluster_of_image.iter().enumerate() {
                let lit = moment.cluster.is_none() || *cluster == moment.cluster;
                self.renderer
                    .update_sprite(i, |s| s.tint = if lit { TINT_NONE } else { dim });
            }
            self.highlighted = moment.cluster.clone();
        }
        *self.caption.borrow_mut() = moment.caption.filter(|(_, alpha)| *alpha > 0.0);
        let camera = camera_for(&moment.view, self.size);
        self.renderer
            .render_offscreen(&self.target, &camera, &self.opts, Some(FRAME_WAIT));
        self.target.read_rgba(&self.ctx.device, &self.ctx.queue)
    }
}

/// The ffmpeg binary, if one runs.
fn find_ffmpeg() -> Option<PathBuf> {
    let program = std::env::var_os(FFMPEG_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("ffmpeg"));
    let runs = Command::new(&program)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    runs.then_some(program)
}

/// `--format video`: the tour as an MP4 at `out`, or PNG frames beside it
/// when ffmpeg is missing.
pub fn write_video(project: &Project, out: &Path, options: &VideoOptions) -> Result<VideoSummary> {
    options.check()?;
    let mut recorder = Recorder::new(project, options)?;
    let frames = (recorder.timeline.duration() * f64::from(options.fps)).round() as u64;
    let progress = crate::ui::progress(frames, "frames");
    let mut summary = VideoSummary {
        tour: recorder.tour.clone(),
        frames,
        fps: options.fps,
        width: options.width,
        height: options.height,
        video: None,
        frames_dir: None,
        fallback: None,
        stills: false,
    };
    let Some(ffmpeg) = find_ffmpeg() else {
        let dir = frames_dir_for(out);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        for f in 0..frames {
            let rgba = recorder.frame(f as f64 / f64::from(options.fps))?;
            save_png(&dir.join(format!("frame-{:06}.png", f + 1)), &rgba, options)?;
            progress.inc(1);
        }
        progress.finish_and_clear();
        summary.fallback = Some(format!(
            "ffmpeg not found (Debian/Ubuntu: apt-get install ffmpeg), so no video: make it with `ffmpeg -framerate {} -i {}/frame-%06d.png -c:v libx264 -pix_fmt yuv420p {}`",
            options.fps,
            dir.display(),
            out.display()
        ));
        summary.frames_dir = Some(dir);
        return Ok(summary);
    };

    // Encoded next to `out` and renamed when complete: an interrupted
    // recording leaves no half-written video at `out`.
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let partial = tempfile::Builder::new()
        .prefix(".tagscape-video-")
        .suffix(".mp4")
        .tempfile_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let mut child = Command::new(&ffmpeg)
        .args([
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgba",
        ])
        .args(["-s", &format!("{}x{}", options.width, options.height)])
        .args(["-r", &options.fps.to_string(), "-i", "-"])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args([
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
        ])
        .args(["-movflags", "+faststart", "-f", "mp4"])
        .arg(partial.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", ffmpeg.display()))?;
    let mut stdin = child.stdin.take().context("ffmpeg's input")?;
    let mut fed = Ok(());
    for f in 0..frames {
        let rgba = recorder.frame(f as f64 / f64::from(options.fps))?;
        if let Err(e) = stdin.write_all(&rgba) {
            fed = Err(e);
            break;
        }
        progress.inc(1);
    }
    drop(stdin);
    progress.finish_and_clear();
    let output = child.wait_with_output().context("waiting for ffmpeg")?;
    if !output.status.success() || fed.is_err() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.lines().last().unwrap_or("").trim();
        bail!(
            "ffmpeg could not encode the video ({}{}): nothing was written to {}; check the disk space, or run with --format frames",
            output.status,
            if said.is_empty() {
                String::new()
            } else {
                format!(": {said}")
            },
            out.display()
        );
    }
    // A finished video is readable by all, like the other exports (the
    // temporary file was private).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(partial.path(), std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    partial
        .persist(out)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", out.display()))?;
    summary.video = Some(out.to_path_buf());
    Ok(summary)
}

/// `--format frames`: one still per keyframe (its caption fully shown), for
/// slides, as `keyframe-01.png`, … in the folder `out`.
pub fn write_stills(project: &Project, out: &Path, options: &VideoOptions) -> Result<VideoSummary> {
    options.check()?;
    let mut recorder = Recorder::new(project, options)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the folder {}", out.display()))?;
    let tour = load_or_automatic(project, options.tour.as_deref())?;
    for (i, keyframe) in tour.keyframes.iter().enumerate() {
        let time = recorder.timeline.arrival(i) + keyframe.hold() / 2.0;
        let rgba = recorder.frame(time)?;
        save_png(
            &out.join(format!("keyframe-{:02}.png", i + 1)),
            &rgba,
            options,
        )?;
    }
    Ok(VideoSummary {
        tour: recorder.tour,
        frames: tour.keyframes.len() as u64,
        fps: options.fps,
        width: options.width,
        height: options.height,
        video: None,
        frames_dir: Some(out.to_path_buf()),
        fallback: None,
        stills: true,
    })
}

/// `talk.mp4` → `talk_frames/` beside it.
fn frames_dir_for(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "video".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}_frames"))
}

fn save_png(path: &Path, rgba: &[u8], options: &VideoOptions) -> Result<()> {
    image::save_buffer(
        path,
        rgba,
        options.width,
        options.height,
        image::ExtendedColorType::Rgba8,
    )
    .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_fade_from_the_background_to_the_ink() {
        assert_eq!(mix(0xFFFFFF, 0x1A1A1A, 0.0), 0xFFFFFF);
        assert_eq!(mix(0xFFFFFF, 0x1A1A1A, 1.0), 0x1A1A1A);
        assert_eq!(mix(0x000000, 0xFF8000, 0.5), 0x804000);
    }

    #[test]
    fn odd_sizes_and_transparency_are_refused_before_any_work() {
        let mut o = VideoOptions {
            tour: None,
            width: 1921,
            height: 1080,
            fps: 30,
            style: PngStyle::default(),
        };
        let err = o.check().unwrap_err().to_string();
        assert!(err.contains("use 1922 × 1080"), "{err}");
        o.width = 1920;
        assert!(o.check().is_ok());
        o.style.background = Background::Transparent;
        assert!(o.check().is_err());
    }

    #[test]
    fn frames_go_beside_the_video() {
        assert_eq!(
            frames_dir_for(Path::new("out/talk.mp4")),
            PathBuf::from("out/talk_frames")
        );
    }
}
