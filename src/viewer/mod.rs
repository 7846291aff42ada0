//! `tagscape view`: the map in a window (winit 0.30, wgpu, egui 0.37).
//!
//! The map is drawn by [`crate::render::Renderer`] into the window's
//! surface, egui's panels on top in the same render pass. Input goes to
//! egui first; what it does not take moves the camera ([`input`]), picks
//! images ([`picking`]) or runs commands. The live layout ([`live_layout`])
//! steps ForceAtlas2 on the same GPU device and the renderer reads its
//! position buffer directly.
//!
//! Without a display (no `DISPLAY`/`WAYLAND_DISPLAY`, or a window that
//! cannot be created) [`open`] falls back to the headless picture: the
//! map as a PNG in the project directory.

pub mod badges;
pub mod clusters;
pub mod data;
pub mod detail;
mod fonts;
pub mod input;
pub mod live_layout;
pub mod panels;
pub mod picking;
pub mod screenshot;
pub mod tours;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use glam::Vec2;
use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, StartCause, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::{Key, ModifiersState, NamedKey};
use winit::window::{Window, WindowId};

use crate::export::{ExportFormat, ExportOptions};
use crate::gpu::GpuContext;
use crate::graph::Graph;
use crate::layout::{
    ForceAtlas2Settings, LayoutSettings, Placement, load_positions, node_sizes, placements,
    random_positions, save_positions,
};
use crate::project::{Access, Project};
use crate::render::scene::{FLAG_HIDDEN, FLAG_HIGHLIGHT, TINT_NONE, pack_rgba};
use crate::render::{
    AtlasConfig, Bounds, ClusterOverlay, FrameOptions, FrameStats, Renderer, Scene,
};

use clusters::{ClusterAction, ClusterPanel};
use data::MapData;
use detail::{ImageViews, PictureLoader};
use input::{KeyCommand, Navigator, key_command};
use live_layout::LiveLayout;
use panels::{Action, LayoutView, Panels, Status};
use picking::{Picker, PickerBuilder};

/// Width of the picture written instead of opening a window.
pub const HEADLESS_WIDTH: u32 = 2000;
/// File name of that picture, in the project directory.
pub const HEADLESS_FILE: &str = "map.png";
/// Tint of the images that do not carry the searched tag (faded).
const DIMMED: u8 = 40;
/// How often the window redraws while only thumbnails are streaming in.
const STREAMING_REDRAW: Duration = Duration::from_millis(40);

/// How the viewer was closed, or what it did instead.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The window was shown and closed.
    Closed {
        frames: u64,
        /// Mean time to prepare, draw and present a frame.
        mean_frame_ms: f64,
        slowest_frame_ms: f64,
        adapter: String,
    },
    /// No display: the map was written to this PNG instead.
    Headless(PathBuf),
}

/// Whether a window can be expected: an X11 or Wayland display is named.
pub fn display_available() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    set("DISPLAY") || set("WAYLAND_DISPLAY") || set("WAYLAND_SOCKET")
}

/// Opens the map of `project_dir` in a window and returns when it closes;
/// without a display, writes the map as `map.png` in the project instead
/// and returns [`Outcome::Headless`].
pub fn open(project_dir: &Path) -> Result<Outcome> {
    open_with_tour(project_dir, None)
}

/// [`open`], with tour `tour` in the tour window (P plays it).
pub fn open_with_tour(project_dir: &Path, tour: Option<&str>) -> Result<Outcome> {
    // Write access so Pause can save the live layout; read-only when
    // another tagscape process (e.g. an export) has the project open.
    let project = match Project::open(project_dir, Access::Write) {
        Ok(p) => p,
        Err(write_err) => Project::open(project_dir, Access::Read).map_err(|_| write_err)?,
    };
    let graph = Graph::load(&project)?;
    crate::export::warn_if_stale(&project)?;
    if graph.n_images == 0 {
        bail!(
            "project {} has no network to show: build it with `tagscape graph {}`",
            project_dir.display(),
            project_dir.display()
        );
    }
    if !display_available() {
        tracing::info!("no DISPLAY or WAYLAND_DISPLAY: writing the map as a picture instead");
        return headless(
            &project,
            &graph,
            "no display (DISPLAY and WAYLAND_DISPLAY are not set)",
        );
    }
    let event_loop = match EventLoop::<Wake>::with_user_event().build() {
        Ok(l) => l,
        Err(e) => {
            return headless(
                &project,
                &graph,
                &format!("no window could be opened ({e})"),
            );
        }
    };
    let placements = load_positions(&project, &graph)?;
    // A tour asked for by name must exist (checked before the window opens).
    let tour = match tour {
        Some(name) => Some(crate::tour::load_or_automatic(&project, Some(name))?),
        None => None,
    };
    let mut app = App::new(project, graph, placements, event_loop.create_proxy())?;
    if let Some(tour) = tour {
        app.tour_panel = tours::TourPanel::new(
            app.tour_panel.names.clone(),
            tour,
            app.tour_panel.cluster_names.clone(),
        );
    }
    event_loop
        .run_app(&mut app)
        .map_err(|e| anyhow!("the viewer's event loop failed: {e}"))?;
    if let Some(e) = app.error.take() {
        return Err(e);
    }
    let frames = app.times.frames;
    Ok(Outcome::Closed {
        frames,
        mean_frame_ms: app.times.total.as_secs_f64() * 1e3 / frames.max(1) as f64,
        slowest_frame_ms: app.times.slowest.as_secs_f64() * 1e3,
        adapter: app.adapter,
    })
}

/// The no-window path: the recipe's picture with the existing PNG export.
/// The tour window on the project's tours, showing the automatic tour (or
/// none, before there is a layout to tour).
fn new_tour_panel(project: &Project, clusters: &[crate::cluster::Cluster]) -> tours::TourPanel {
    let names = crate::tour::list(project.dir())
        .map(|tours| tours.into_iter().map(|t| t.name).collect())
        .unwrap_or_else(|e| {
            tracing::warn!("the project's tours could not be read: {e:#}");
            Vec::new()
        });
    let tour =
        crate::tour::load_or_automatic(project, None).unwrap_or_else(|_| crate::tour::Tour {
            name: crate::tour::AUTO_NAME.into(),
            keyframes: Vec::new(),
        });
    tours::TourPanel::new(
        names,
        tour,
        clusters.iter().map(|c| c.name.clone()).collect(),
    )
}

/// The viewer's banner of results older than the network.
fn stale_lines(project: &Project) -> Vec<String> {
    crate::project::stages::stale_results(project.conn(), project.dir()).unwrap_or_else(|e| {
        tracing::warn!("{e:#}");
        Vec::new()
    })
}

/// `App::export_selection`'s work: `exports/selection-N/` with the
/// images, their posts and their originals. Returns the summary shown.
fn export_selection(project: &Project, query: &crate::search::Query) -> Result<String> {
    use crate::export::tables;
    let exports = project.dir().join("exports");
    let folder = (1..)
        .map(|n| exports.join(format!("selection-{n}")))
        .find(|f| !f.exists())
        .expect("some selection-N is free");
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    std::fs::write(folder.join("query.txt"), format!("{}\n", query.text))
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let opts = tables::TableOptions {
        search: Some(query.clone()),
        ..Default::default()
    };
    let images = tables::write_images(
        project,
        &folder.join("images.csv"),
        &opts,
        tables::Only::Selected,
    )?;
    let posts = tables::write_posts(project, &folder.join("posts.csv"), &opts)?;
    let originals = tables::write_originals(project, &folder.join("originals"), &opts)?;
    Ok(format!(
        "wrote {}: {} images, {} posts, {} originals",
        folder.display(),
        images.rows,
        posts.rows,
        originals.rows
    ))
}

fn headless(project: &Project, graph: &Graph, why: &str) -> Result<Outcome> {
    let dir = project.dir();
    if load_positions(project, graph)?.is_none() {
        bail!(
            "{why}, and project {} has no layout to draw: run `tagscape layout {}` first, then `tagscape view` again on a machine with a display (or `tagscape export {} --format png`)",
            dir.display(),
            dir.display(),
            dir.display()
        );
    }
    let out = dir.join(HEADLESS_FILE);
    let opts = ExportOptions {
        width: Some(HEADLESS_WIDTH),
        ..Default::default()
    };
    crate::export::export(project, ExportFormat::Png, &out, &opts)
        .with_context(|| format!("{why}; writing the map as {} instead failed", out.display()))?;
    eprintln!(
        "{why}: wrote the map to {} instead of opening a window",
        out.display()
    );
    Ok(Outcome::Headless(out))
}

/// Sent by worker threads to wake the event loop.
#[derive(Clone, Copy, Debug)]
struct Wake;

/// Seconds of idle between frames that still count as back-to-back.
const IDLE_GAP: f32 = 0.25;

#[derive(Default)]
struct FrameTimes {
    frames: u64,
    total: Duration,
    slowest: Duration,
    last_start: Option<Instant>,
    /// How long the previous frame took to draw.
    last_took: Duration,
    /// Smoothed seconds between frames and per frame.
    interval: f32,
    work: f32,
}

impl FrameTimes {
    fn record(&mut self, start: Instant, took: Duration) {
        self.frames += 1;
        self.total += took;
        self.slowest = self.slowest.max(took);
        let smooth = |old: f32, new: f32| {
            if old == 0.0 {
                new
            } else {
                old * 0.9 + new * 0.1
            }
        };
        // Frames drawn on demand (after an idle pause) say nothing about
        // the frame rate: only back-to-back frames count, i.e. a gap no
        // longer than the previous frame's drawing plus a short idle. A
        // slow frame (466 ms) counts: it is the frame rate.
        if let Some(prev) = self.last_start.replace(start) {
            let gap = (start - prev).as_secs_f32();
            if gap < self.last_took.as_secs_f32() + IDLE_GAP {
                self.interval = smooth(self.interval, gap);
            }
        }
        self.last_took = took;
        self.work = smooth(self.work, took.as_secs_f32());
    }

    /// Frames per second, agreeing with the frame time shown next to it:
    /// from the gaps between back-to-back frames, else (no two such frames
    /// yet) from the drawing time alone.
    fn fps(&self) -> f32 {
        let seconds = if self.interval > 0.0 {
            self.interval.max(self.work)
        } else {
            self.work
        };
        if seconds > 0.0 { 1.0 / seconds } else { 0.0 }
    }
}

/// The window and what draws into it.
struct Gfx {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    /// The non-sRGB format the renderer and egui draw in.
    view_format: wgpu::TextureFormat,
    ctx: Arc<GpuContext>,
    egui_state: egui_winit::State,
    egui_renderer: egui_wgpu::Renderer,
}

/// The drawn map: renderer, the CPU copy of positions, picking, layout.
struct Map {
    renderer: Renderer,
    positions: Vec<Vec2>,
    picker: Picker,
    builder: PickerBuilder,
    live: Option<LiveLayout>,
    /// Sizes of the nodes (saved with positions).
    sizes: Vec<f32>,
}

impl Map {
    fn bounds(&self) -> Option<Bounds> {
        Bounds::of_boxes(
            self.renderer
                .sprites()
                .iter()
                .filter_map(|s| Some((*self.positions.get(s.node as usize)?, s.half_extent()))),
        )
    }

    fn positions_changed(&mut self, positions: Vec<Vec2>) {
        self.renderer.set_lod_positions(positions.clone());
        self.builder
            .request(positions.clone(), self.renderer.sprites().to_vec());
        self.positions = positions;
    }
}

struct App {
    project: Project,
    data: MapData,
    layout_settings: LayoutSettings,
    placements: Option<Vec<Placement>>,
    proxy: EventLoopProxy<Wake>,
    egui_ctx: egui::Context,
    gfx: Option<Gfx>,
    map: Option<Map>,
    nav: Navigator,
    panels: Panels,
    views: Option<ImageViews>,
    /// The cluster panel, lasso and the clusters drawn over the map.
    cluster_panel: ClusterPanel,
    /// "×N" on images that stand for a stack of near-duplicates.
    stack_badges: badges::StackBadges,
    /// The last metadata search and the image nodes it found.
    search: Option<(crate::search::Query, Vec<u32>)>,
    /// The tour window, and what a playing tour shows now.
    tour_panel: tours::TourPanel,
    tour_caption: Option<(String, f32)>,
    tour_highlight: Option<String>,
    /// Per image: its cluster's name (read when a tour first highlights).
    cluster_of_image: Option<Vec<Option<String>>>,
    modifiers: ModifiersState,
    screenshot_requested: bool,
    /// Fit the map after each readback until the user moves the camera.
    auto_fit: bool,
    saved_note: Option<String>,
    /// The map quality line saved by the last layout.
    quality_note: Option<String>,
    last_stats: FrameStats,
    next_redraw: Option<Instant>,
    times: FrameTimes,
    adapter: String,
    error: Option<anyhow::Error>,
}

impl App {
    fn new(
        project: Project,
        graph: Graph,
        placements: Option<Vec<Placement>>,
        proxy: EventLoopProxy<Wake>,
    ) -> Result<App> {
        let n = graph.node_count();
        let layout_settings: LayoutSettings =
            project
                .setting("layout")?
                .unwrap_or_else(|| LayoutSettings {
                    fa2: crate::layout::ForceAtlas2Settings::for_graph(n),
                    ..Default::default()
                });
        let per_frame = if n < 20_000 { 4 } else { 1 };
        let mut panels = Panels::new(n, layout_settings.fa2.clone(), per_frame);
        panels.stale = stale_lines(&project);
        if placements.is_none() {
            eprintln!(
                "{} has no layout yet: press \"Lay out the map\" in the window (or run `tagscape layout {}`)",
                project.dir().display(),
                project.dir().display()
            );
        }
        let mut cluster_panel = ClusterPanel::default();
        match crate::cluster::load_clusters(&project) {
            Ok(list) => cluster_panel.set_clusters(list),
            Err(e) => tracing::warn!("the clusters could not be read: {e:#}"),
        }
        let stack_badges = badges::StackBadges::load(&project).unwrap_or_else(|e| {
            tracing::warn!("the duplicate stacks could not be read: {e:#}");
            Default::default()
        });
        let quality_note = load_quality_note(&project);
        let tour_panel = new_tour_panel(&project, &cluster_panel.clusters);
        Ok(App {
            project,
            data: MapData::new(graph),
            layout_settings,
            placements,
            proxy,
            egui_ctx: fonts::egui_context(),
            gfx: None,
            map: None,
            nav: Navigator::new(Vec2::new(1280.0, 800.0)),
            panels,
            views: None,
            cluster_panel,
            stack_badges,
            search: None,
            tour_panel,
            tour_caption: None,
            tour_highlight: None,
            cluster_of_image: None,
            modifiers: ModifiersState::empty(),
            screenshot_requested: false,
            auto_fit: false,
            saved_note: None,
            quality_note,
            last_stats: FrameStats::default(),
            next_redraw: None,
            times: FrameTimes::default(),
            adapter: String::new(),
            error: None,
        })
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, e: anyhow::Error) {
        self.error = Some(e);
        event_loop.exit();
    }

    fn create_window(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let title = format!("tagscape — {}", self.project.dir().display());
        let window = Arc::new(
            event_loop
                .create_window(
                    Window::default_attributes()
                        .with_title(&title)
                        // Shown once the GPU is set up and the title names it.
                        .with_visible(false)
                        .with_inner_size(winit::dpi::LogicalSize::new(1280.0, 800.0)),
                )
                .map_err(|e| anyhow!("cannot open the viewer's window: {e}"))?,
        );
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_with_display_handle_from_env(
                Box::new(event_loop.owned_display_handle()),
            ));
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| anyhow!("cannot draw into the window: {e}"))?;
        let ctx = Arc::new(GpuContext::for_surface(instance, &surface)?);
        self.adapter = ctx.adapter_name();
        window.set_title(&format!("{title} — {}", self.adapter));
        let size = window.inner_size();
        let caps = surface.get_capabilities(&ctx.adapter);
        // The renderer writes sRGB-encoded values: it needs a non-sRGB view.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| {
                matches!(
                    f.remove_srgb_suffix(),
                    wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Rgba8Unorm
                )
            })
            .ok_or_else(|| {
                anyhow!(
                    "the window of {} offers no 8-bit RGBA format ({:?}): please report your GPU",
                    self.adapter,
                    caps.formats
                )
            })?;
        let view_format = format.remove_srgb_suffix();
        let mut config = surface
            .get_default_config(&ctx.adapter, size.width.max(1), size.height.max(1))
            .ok_or_else(|| anyhow!("{} cannot present to this window", self.adapter))?;
        config.format = format;
        config.view_formats = if view_format != format {
            vec![view_format]
        } else {
            vec![]
        };
        config.present_mode = wgpu::PresentMode::AutoVsync;
        surface.configure(&ctx.device, &config);
        let max_side = ctx.device.limits().max_texture_dimension_2d;
        let egui_state = egui_winit::State::new(
            self.egui_ctx.clone(),
            egui::ViewportId::ROOT,
            &window,
            Some(window.scale_factor() as f32),
            window.theme(),
            Some(max_side as usize),
        );
        let egui_renderer = egui_wgpu::Renderer::new(
            &ctx.device,
            view_format,
            egui_wgpu::RendererOptions::default(),
        );
        let proxy = self.proxy.clone();
        self.views = Some(ImageViews::new(
            PictureLoader::new(move || {
                let _ = proxy.send_event(Wake);
            }),
            max_side.min(8192),
        ));
        self.nav
            .set_viewport(Vec2::new(config.width as f32, config.height as f32));
        self.gfx = Some(Gfx {
            window,
            surface,
            config,
            view_format,
            ctx,
            egui_state,
            egui_renderer,
        });
        if let Some(placements) = self.placements.take() {
            self.build_map(&placements, None)?;
            if let Some(b) = self.map.as_ref().and_then(Map::bounds) {
                self.nav.fit_now(&b);
            }
        }
        if let Some(gfx) = &self.gfx {
            gfx.window.set_visible(true);
            gfx.window.request_redraw();
        }
        Ok(())
    }

    /// The renderer and picking for `placements`; with `live`, the map is
    /// drawn from the live layout's buffer.
    fn build_map(&mut self, placements: &[Placement], live: Option<LiveLayout>) -> Result<()> {
        let gfx = self.gfx.as_ref().ok_or_else(|| anyhow!("no window"))?;
        let scene = Scene::with_placements(&self.project, &self.data.graph, placements)?;
        let positions = scene.positions.clone();
        let mut renderer = Renderer::new(&gfx.ctx, gfx.view_format, scene, &AtlasConfig::default());
        if let Some(live) = &live {
            renderer.use_positions_buffer(live.position_buffer());
        }
        renderer.set_cluster_overlay(&self.cluster_panel.clusters, &ClusterOverlay::default());
        let mut builder = PickerBuilder::default();
        builder.request(positions.clone(), renderer.sprites().to_vec());
        self.map = Some(Map {
            renderer,
            positions,
            picker: Picker::default(),
            builder,
            live,
            sizes: placements.iter().map(|p| p.size).collect(),
        });
        // Search highlighting and hidden tags survive a rebuild.
        self.apply_highlight(self.panels.highlighted);
        self.apply_hidden_tags();
        Ok(())
    }

    /// Hides the dot, label and edges of every tag the user hid, and shows
    /// the others again.
    fn apply_hidden_tags(&mut self) {
        let Some(map) = &mut self.map else { return };
        let n_images = self.data.graph.n_images;
        let tags = self.panels.hidden.get(n_images..).unwrap_or(&[]);
        for (tag, &hidden) in tags.iter().enumerate() {
            map.renderer.update_dot(tag, |d| {
                if hidden {
                    d.flags |= FLAG_HIDDEN;
                } else {
                    d.flags &= !FLAG_HIDDEN;
                }
            });
        }
    }

    /// Highlights the images of `tag`, or else those of the active search,
    /// and dims the others; neither: every image as it is.
    fn apply_highlight(&mut self, tag: Option<u32>) {
        if tag.is_some() {
            self.search = None;
            self.panels.searched = None;
        }
        let Some(map) = &mut self.map else { return };
        let n = self.data.n_images();
        let mut carrying = vec![false; n];
        let chosen: Vec<u32> = match (tag, &self.search) {
            (Some(tag), _) => self.data.images_of(tag).collect(),
            (None, Some((_, found))) => found.clone(),
            (None, None) => Vec::new(),
        };
        let any = tag.is_some() || self.search.is_some();
        for i in chosen {
            if let Some(c) = carrying.get_mut(i as usize) {
                *c = true;
            }
        }
        let dim = pack_rgba(0xFFFFFF, DIMMED);
        for (i, &carries) in carrying.iter().enumerate() {
            map.renderer.update_sprite(i, |s| {
                if !any {
                    s.tint = TINT_NONE;
                    s.flags &= !FLAG_HIGHLIGHT;
                } else if carries {
                    s.tint = TINT_NONE;
                    s.flags |= FLAG_HIGHLIGHT;
                } else {
                    s.tint = dim;
                    s.flags &= !FLAG_HIGHLIGHT;
                }
            });
        }
    }

    fn frame_options(&self) -> FrameOptions {
        FrameOptions {
            background: if self.panels.dark { 0x1E1E1E } else { 0xFFFFFF },
            show_tags: self.panels.show_tags,
            tag_labels: self.panels.tag_labels,
            show_edges: self.panels.show_edges,
            edge_rgb: if self.panels.dark { 0x888888 } else { 0x999999 },
            label_area: self.nav.fit_area.map(|(lo, hi)| [lo, hi]),
            ..Default::default()
        }
    }

    fn start_layout(&mut self) -> Result<()> {
        let graph = &self.data.graph;
        let sizes = node_sizes(graph, &self.layout_settings.size);
        let start = random_positions(graph.node_count(), self.layout_settings.seed);
        let placed = placements(start.iter().copied(), &sizes);
        let gfx = self.gfx.as_ref().ok_or_else(|| anyhow!("no window"))?;
        let mut live = LiveLayout::new(
            gfx.ctx.clone(),
            graph,
            self.panels.settings.clone(),
            sizes,
            &start,
            &self.panels.hidden,
        )?;
        live.running = true;
        self.build_map(&placed, Some(live))?;
        self.hide_cluster_overlay();
        self.auto_fit = true;
        if let Some(b) = self.map.as_ref().and_then(Map::bounds) {
            self.nav.fit_now(&b);
        }
        Ok(())
    }

    fn run_layout(&mut self) -> Result<()> {
        let Some(gfx) = &self.gfx else { return Ok(()) };
        let Some(map) = &mut self.map else {
            return self.start_layout();
        };
        if map.live.is_none() {
            let start: Vec<[f32; 2]> = map.positions.iter().map(|p| p.to_array()).collect();
            map.live = Some(LiveLayout::new(
                gfx.ctx.clone(),
                &self.data.graph,
                self.panels.settings.clone(),
                map.sizes.clone(),
                &start,
                &self.panels.hidden,
            )?);
        }
        if let Some(live) = &mut map.live {
            live.running = true;
            map.renderer.use_positions_buffer(live.position_buffer());
        }
        self.hide_cluster_overlay();
        self.saved_note = None;
        Ok(())
    }

    /// Runs the map layout (as `tagscape layout` does) and shows it.
    fn map_layout(&mut self) -> Result<()> {
        if self.map.as_ref().is_some_and(|m| m.live.is_some()) {
            self.pause_layout()?;
        }
        let mut settings = self.layout_settings.clone();
        settings.fa2 = self.panels.settings.clone();
        settings.plain = false;
        let graph = &self.data.graph;
        let laid_out = crate::layout::run_layout(&mut self.project, graph, &settings, None, false)
            .and_then(|(report, placed)| {
                crate::pipeline::after_layout(&mut self.project, graph, &placed)?;
                Ok((report, placed))
            });
        match laid_out {
            Ok((report, placed)) => {
                self.layout_settings = settings;
                self.show_saved_layout(&placed, report.to_string())
            }
            Err(e) => {
                tracing::warn!("the map layout failed: {e:#}");
                self.saved_note = Some(format!("map layout failed: {e:#}"));
                Ok(())
            }
        }
    }

    /// Puts the previous layout back.
    fn undo_layout(&mut self) -> Result<()> {
        if self.map.as_ref().is_some_and(|m| m.live.is_some()) {
            self.pause_layout()?;
        }
        let graph = &self.data.graph;
        let undone = crate::layout::undo_positions(&mut self.project).and_then(|done| {
            if !done {
                return Ok(None);
            }
            let placed = load_positions(&self.project, graph)?;
            if let Some(p) = &placed {
                crate::pipeline::after_layout(&mut self.project, graph, p)?;
            }
            Ok(placed)
        });
        match undone {
            Ok(Some(placed)) => {
                self.show_saved_layout(&placed, "the previous layout is back".into())
            }
            Ok(None) => {
                self.saved_note = Some("no earlier layout to go back to".into());
                Ok(())
            }
            Err(e) => {
                self.saved_note = Some(format!("undo failed: {e:#}"));
                Ok(())
            }
        }
    }

    /// Shows positions just saved in the project, with their hulls.
    fn show_saved_layout(&mut self, placed: &[Placement], note: String) -> Result<()> {
        self.reload_clusters();
        self.build_map(placed, None)?;
        self.quality_note = load_quality_note(&self.project);
        self.saved_note = Some(note);
        self.auto_fit = true;
        self.fit_all();
        Ok(())
    }

    /// The hulls and labels belong to the positions they were computed on:
    /// while the layout moves they are hidden, and redrawn when it pauses.
    fn hide_cluster_overlay(&mut self) {
        if let Some(map) = &mut self.map {
            map.renderer
                .set_cluster_overlay(&[], &ClusterOverlay::default());
        }
    }

    /// Pauses the live layout and saves its positions in the project.
    fn pause_layout(&mut self) -> Result<()> {
        let Some(map) = &mut self.map else {
            return Ok(());
        };
        let Some(live) = &mut map.live else {
            return Ok(());
        };
        live.running = false;
        let placements = live.placements()?;
        let positions: Vec<Vec2> = placements.iter().map(|p| Vec2::new(p.x, p.y)).collect();
        // Static again: draw from the scene's buffer (culled on the CPU).
        map.renderer.set_positions(&positions);
        map.renderer.use_scene_positions();
        map.positions_changed(positions);
        let mut settings = self.layout_settings.clone();
        settings.fa2 = self.panels.settings.clone();
        let saved = save_positions(&mut self.project, &self.data.graph, &placements)
            .and_then(|_| self.project.set_setting("layout", &settings))
            .and_then(|_| {
                crate::cluster::refresh_hulls(&mut self.project, &self.data.graph, &placements)
            });
        self.saved_note = Some(match saved {
            Ok(hulls) => {
                self.layout_settings = settings;
                self.reload_clusters();
                let redrawn = if hulls.is_some() {
                    "; cluster hulls redrawn"
                } else {
                    ""
                };
                format!(
                    "positions saved in {}{redrawn}",
                    self.project.dir().display()
                )
            }
            Err(e) => {
                tracing::warn!("the layout was not saved: {e:#}");
                format!("not saved: {e:#}")
            }
        });
        Ok(())
    }

    fn handle_action(&mut self, action: Action) -> Result<()> {
        match action {
            Action::Highlight(tag) => {
                if tag.is_none() {
                    self.search = None;
                }
                self.apply_highlight(tag)
            }
            Action::Search => self.run_search(),
            Action::ExportSelection => self.export_selection(),
            Action::HiddenChanged => {
                self.apply_hidden_tags();
                if let Some(live) = self.map.as_mut().and_then(|m| m.live.as_mut()) {
                    live.set_hidden(&self.data.graph, &self.panels.hidden)?;
                }
            }
            Action::StartLayout => self.start_layout()?,
            Action::RunLayout => self.run_layout()?,
            Action::MapLayout => self.map_layout()?,
            Action::UndoLayout => self.undo_layout()?,
            Action::ResetSettings => {
                self.panels.settings = ForceAtlas2Settings::for_graph(self.data.graph.node_count());
                self.handle_action(Action::SettingsChanged)?;
            }
            Action::PauseLayout => self.pause_layout()?,
            Action::SettingsChanged => {
                if let Some(live) = self.map.as_mut().and_then(|m| m.live.as_mut()) {
                    live.set_settings(
                        &self.data.graph,
                        self.panels.settings.clone(),
                        &self.panels.hidden,
                    )?;
                }
            }
            Action::FitAll => self.fit_all(),
            Action::Screenshot => self.screenshot_requested = true,
        }
        // A layout or clusters saved by the action may be current now.
        self.panels.stale = stale_lines(&self.project);
        Ok(())
    }

    /// Runs the search box's query over tags and posts and highlights what
    /// it finds; a bad query is shown under the box.
    fn run_search(&mut self) {
        let found = crate::search::Query::parse(&self.panels.search).and_then(|query| {
            let matches = query.run(&self.project)?;
            Ok((query, matches))
        });
        match found {
            Ok((query, matches)) => {
                let ids: std::collections::HashSet<i64> = matches.images.iter().copied().collect();
                let nodes: Vec<u32> = self.data.graph.nodes[..self.data.n_images()]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.image_id.is_some_and(|id| ids.contains(&id)))
                    .map(|(i, _)| i as u32)
                    .collect();
                // Images found but not in the network (untagged, or not
                // fetched) cannot be highlighted; say so.
                let off_map = matches.images.len() - nodes.len();
                let mut result = matches.to_string();
                if off_map > 0 {
                    result.push_str(&format!(", {off_map} of them not on the map"));
                }
                self.panels.searched = Some(panels::SearchView {
                    result: Ok(result),
                    found: matches.images.len(),
                    exported: None,
                });
                self.search = Some((query, nodes));
            }
            Err(e) => {
                self.panels.searched = Some(panels::SearchView {
                    result: Err(format!("{e:#}")),
                    found: 0,
                    exported: None,
                });
                self.search = None;
            }
        }
        self.panels.highlighted = None;
        self.apply_highlight(None);
    }

    /// Writes the searched images into a new folder of the project's
    /// `exports/`: images.csv, posts.csv and their originals.
    fn export_selection(&mut self) {
        let Some((query, _)) = &self.search else {
            return;
        };
        let note = export_selection(&self.project, query)
            .unwrap_or_else(|e| format!("not exported: {e:#}"));
        if let Some(view) = &mut self.panels.searched {
            view.exported = Some(note);
        }
    }

    /// A playing tour moves the camera, shows its caption and highlights
    /// its cluster; at its end the map stays on the last keyframe.
    fn advance_tour(&mut self, now: Instant) {
        let Some(playback) = &self.tour_panel.playing else {
            return;
        };
        match playback.moment(now) {
            Some(moment) => {
                // The view fills the map's part of the window, between the panels.
                let (lo, hi) = self.tour_area();
                let width = moment.view.width as f32;
                let half = Vec2::new(width, width * (hi.y - lo.y) / (hi.x - lo.x).max(1.0)) * 0.5;
                let centre = moment.view.center.as_vec2();
                let view = crate::render::Bounds {
                    min: centre - half,
                    max: centre + half,
                };
                self.nav.camera.fit_into(&view, lo, hi);
                self.tour_caption = moment.caption.filter(|(_, a)| *a > 0.0);
                if moment.cluster != self.tour_highlight {
                    self.highlight_tour_cluster(moment.cluster);
                }
                self.next_redraw = Some(now);
            }
            None => self.stop_tour(),
        }
    }

    /// Where a playing tour shows the map: the window less its panels.
    fn tour_area(&self) -> (Vec2, Vec2) {
        self.nav
            .fit_area
            .unwrap_or((Vec2::ZERO, self.nav.camera.viewport))
    }

    fn stop_tour(&mut self) {
        self.tour_panel.playing = None;
        self.tour_caption = None;
        self.highlight_tour_cluster(None);
    }

    /// Dims the images outside `cluster` (by name); `None` puts the search
    /// or tag highlight back.
    fn highlight_tour_cluster(&mut self, cluster: Option<String>) {
        self.tour_highlight = cluster.clone();
        let Some(name) = cluster else {
            self.apply_highlight(self.panels.highlighted);
            return;
        };
        if self.cluster_of_image.is_none() {
            let n = self.data.n_images();
            self.cluster_of_image = Some(
                crate::cluster::image_cluster_names(&self.project, n).unwrap_or_else(|e| {
                    tracing::warn!("{e:#}");
                    vec![None; n]
                }),
            );
        }
        let (Some(map), Some(of_image)) = (&mut self.map, &self.cluster_of_image) else {
            return;
        };
        let dim = pack_rgba(0xFFFFFF, DIMMED);
        for (i, c) in of_image.iter().enumerate() {
            let lit = c.as_deref() == Some(name.as_str());
            map.renderer.update_sprite(i, |s| {
                s.tint = if lit { TINT_NONE } else { dim };
                s.flags &= !FLAG_HIGHLIGHT;
            });
        }
    }

    fn handle_tour_action(&mut self, action: tours::TourAction) {
        use tours::TourAction;
        let area = self.tour_area();
        let panel = &mut self.tour_panel;
        match action {
            TourAction::AddView => {
                let keyframe =
                    panel.keyframe_here(crate::tour::Keyframe::from_camera(&self.nav.camera));
                panel.tour.keyframes.push(keyframe);
                panel.caption.clear();
                panel.dirty = true;
            }
            TourAction::Load(name) => {
                match crate::tour::load_or_automatic(&self.project, Some(&name)) {
                    Ok(tour) => {
                        *panel = tours::TourPanel::new(
                            panel.names.clone(),
                            tour,
                            panel.cluster_names.clone(),
                        );
                    }
                    Err(e) => panel.note = Some(format!("{e:#}")),
                }
            }
            TourAction::Save => {
                let name = panel.save_as.trim().to_string();
                let saved = crate::tour::check_name(&name).and_then(|()| {
                    let mut tour = panel.tour.clone();
                    tour.name = name.clone();
                    crate::tour::save(self.project.dir(), &tour)
                });
                match saved {
                    Ok(path) => {
                        panel.tour.name = name.clone();
                        if !panel.names.contains(&name) {
                            panel.names.push(name);
                        }
                        panel.dirty = false;
                        panel.note = Some(format!("saved in {}", path.display()));
                    }
                    Err(e) => panel.note = Some(format!("not saved: {e:#}")),
                }
            }
            TourAction::Play => {
                let (lo, hi) = area;
                let aspect = f64::from(hi.x - lo.x) / f64::from((hi.y - lo.y).max(1.0));
                panel.playing = Some(tours::Playback::new(&panel.tour, aspect, Instant::now()));
                self.auto_fit = false;
                self.next_redraw = Some(Instant::now());
            }
            TourAction::Stop => self.stop_tour(),
        }
    }

    /// The map's current placements (positions with their sizes).
    fn current_placements(&self) -> Option<Vec<Placement>> {
        let map = self.map.as_ref()?;
        Some(placements(
            map.positions.iter().map(|p| p.to_array()),
            &map.sizes,
        ))
    }

    /// Applies a cluster edit: saved in the project at once, then the
    /// panel and the overlay are reloaded from it.
    fn handle_cluster_action(&mut self, action: ClusterAction) {
        use crate::cluster::annotations;
        let placements = self.current_placements();
        let project = &mut self.project;
        let saved = match action {
            ClusterAction::FlyTo(id) => {
                if let Some(b) = self
                    .cluster_panel
                    .clusters
                    .iter()
                    .find(|c| c.id == id)
                    .and_then(clusters::cluster_bounds)
                {
                    self.auto_fit = false;
                    self.nav.fly_to_fit(&b, Instant::now());
                }
                return;
            }
            ClusterAction::Rename(id, name) => {
                annotations::rename(project, id, name.as_deref()).map(|_| None)
            }
            ClusterAction::Caption(id, caption) => {
                annotations::set_caption(project, id, caption.as_deref()).map(|_| None)
            }
            ClusterAction::Color(id, rgb) => {
                annotations::set_color(project, id, Some(rgb)).map(|_| None)
            }
            ClusterAction::Hide(id, hidden) => {
                annotations::set_hidden(project, id, hidden).map(|_| None)
            }
            ClusterAction::Merge(a, b) => {
                annotations::merge(project, &self.data.graph, placements.as_deref(), &[a, b])
                    .map(|kept| Some(format!("merged into cluster {kept}")))
            }
        };
        self.after_cluster_edit(saved);
    }

    /// Ends a lasso drag: the images inside become a new cluster.
    fn finish_lasso(&mut self) {
        let lasso = std::mem::take(&mut self.cluster_panel.lasso);
        let Some(map) = &self.map else { return };
        let world: Vec<Vec2> = lasso
            .iter()
            .map(|&p| self.nav.camera.screen_to_world(p))
            .collect();
        let images = clusters::images_inside(&world, &map.positions, self.data.graph.n_images);
        if images.is_empty() {
            self.cluster_panel.note = Some("the lasso holds no images".into());
            return;
        }
        let placements = self.current_placements();
        let saved = crate::cluster::annotations::lasso(
            &mut self.project,
            &self.data.graph,
            placements.as_deref(),
            &images,
            None,
        )
        .map(|id| Some(format!("{} images into new cluster {id}", images.len())));
        self.after_cluster_edit(saved);
    }

    fn after_cluster_edit(&mut self, saved: Result<Option<String>>) {
        self.cluster_panel.note = match saved {
            Ok(note) => note,
            Err(e) => {
                tracing::warn!("the cluster edit was not saved: {e:#}");
                Some(format!("not saved: {e:#}"))
            }
        };
        self.reload_clusters();
    }

    /// Reads the clusters back from the project into the panel and the
    /// overlay (hidden while the live layout runs).
    fn reload_clusters(&mut self) {
        match crate::cluster::load_clusters(&self.project) {
            Ok(list) => self.cluster_panel.set_clusters(list),
            Err(e) => tracing::warn!("the clusters could not be read: {e:#}"),
        }
        if let Some(map) = &mut self.map {
            let running = map.live.as_ref().is_some_and(|l| l.running);
            let clusters: &[_] = if running {
                &[]
            } else {
                &self.cluster_panel.clusters
            };
            map.renderer
                .set_cluster_overlay(clusters, &ClusterOverlay::default());
        }
        if let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
    }

    fn fit_all(&mut self) {
        self.auto_fit = false;
        if let Some(b) = self.map.as_ref().and_then(Map::bounds) {
            self.nav.fly_to_fit(&b, Instant::now());
        }
    }

    /// The image under the pointer, when the pointer is on the map.
    fn image_under_pointer(&self) -> Option<u32> {
        let map = self.map.as_ref()?;
        let cursor = self.nav.cursor()?;
        if self.egui_ctx.is_pointer_over_egui() || self.nav.dragging() {
            return None;
        }
        map.picker.pick(self.nav.camera.screen_to_world(cursor))
    }

    fn update_hover(&mut self) {
        let hovered = self.image_under_pointer();
        let Some(views) = &mut self.views else { return };
        if hovered == views.hovered() {
            return;
        }
        let info = hovered.map(|i| {
            let info = self.data.image_info(&self.project, i).unwrap_or_else(|e| {
                tracing::warn!("{e:#}");
                Default::default()
            });
            // What the card shows, for logs and the viewer's tests.
            tracing::debug!(
                "hover card: {} · {}",
                info.url,
                detail::posts_line(&info).unwrap_or_else(|| "no posts".into())
            );
            (i, info)
        });
        views.set_hover(info);
    }

    fn click(&mut self, at: Vec2) {
        let Some(map) = &self.map else { return };
        let Some(image) = map.picker.pick(self.nav.camera.screen_to_world(at)) else {
            return;
        };
        match self.data.image_info(&self.project, image) {
            Ok(info) => {
                if let Some(views) = &mut self.views {
                    views.open_detail(image, info);
                }
            }
            Err(e) => tracing::warn!("{e:#}"),
        }
    }

    /// Live layout stepping and readbacks, picker swaps.
    fn advance_map(&mut self, now: Instant) -> Result<()> {
        let Some(map) = &mut self.map else {
            return Ok(());
        };
        if let Some(live) = &mut map.live {
            live.iterations_per_frame = self.panels.iterations_per_frame;
            live.step_frame();
            if live.readback_due(now) {
                let positions = live.read_positions()?;
                map.positions_changed(positions);
                if self.auto_fit
                    && let Some(b) = map.bounds()
                {
                    self.nav.fly_to_fit(&b, now);
                }
            }
        }
        if let Some(picker) = map.builder.poll() {
            map.picker = picker;
        }
        Ok(())
    }

    fn redraw(&mut self) -> Result<()> {
        let start = Instant::now();
        if self.nav.animate(start) {
            self.next_redraw = Some(start);
        }
        self.advance_tour(start);
        self.advance_map(start)?;
        self.update_hover();
        let Some(gfx) = &mut self.gfx else {
            return Ok(());
        };
        let raw_input = gfx.egui_state.take_egui_input(&gfx.window);
        if let Some(views) = &mut self.views {
            views.receive(&self.egui_ctx);
        }

        // The panels.
        let fps = self.times.fps();
        let status = Status {
            adapter: &self.adapter,
            fps,
            frame_ms: self.times.work * 1e3,
            visible: self.last_stats.visible,
            waiting: self.last_stats.waiting,
            cluster_labels: self
                .map
                .as_ref()
                .and_then(|m| m.renderer.cluster_labels_shown()),
        };
        let layout_view = self
            .map
            .as_ref()
            .and_then(|m| m.live.as_ref())
            .map(|live| LayoutView {
                running: live.running,
                iterations: live.iterations,
                swing_per_node: live
                    .last_stats
                    .map(|s| s.swing / self.data.graph.node_count().max(1) as f32),
                saved_note: self.saved_note.clone(),
                quality: self.quality_note.clone(),
            })
            .or_else(|| {
                self.map.as_ref().map(|_| LayoutView {
                    running: false,
                    iterations: 0,
                    swing_per_node: None,
                    saved_note: self.saved_note.clone(),
                    quality: self.quality_note.clone(),
                })
            });
        let has_layout = self.map.is_some();
        let pixels_per_point = self.egui_ctx.pixels_per_point();
        let hover_pos = self
            .nav
            .cursor()
            .map(|c| egui::pos2(c.x / pixels_per_point, c.y / pixels_per_point));
        let mut actions = Vec::new();
        let mut cluster_actions = Vec::new();
        let mut free_area = None;
        let (panels, data, views) = (&mut self.panels, &self.data, &mut self.views);
        let cluster_panel = &mut self.cluster_panel;
        let (tour_panel, tour_caption) = (&mut self.tour_panel, &self.tour_caption);
        let mut tour_actions = Vec::new();
        let (stack_badges, camera) = (&self.stack_badges, self.nav.camera);
        let badge_map = self
            .map
            .as_ref()
            .map(|m| (&m.positions, m.renderer.sprites()));
        let output = self.egui_ctx.run_ui(raw_input, |ui| {
            actions = panels.show(ui, data, &status, layout_view.as_ref(), has_layout);
            cluster_actions = cluster_panel.show(ui);
            cluster_panel.paint_lasso(ui.ctx(), pixels_per_point);
            if let Some(views) = views.as_mut() {
                views.show_detail(ui);
                if let Some(pos) = hover_pos {
                    views.show_hover(ui.ctx(), pos);
                }
            }
            free_area = Some(ui.available_rect_before_wrap());
            tour_actions = tour_panel.show(ui.ctx());
            if let Some((caption, alpha)) = tour_caption {
                tours::paint_caption(ui.ctx(), ui.available_rect_before_wrap(), caption, *alpha);
            }
            if let Some((positions, sprites)) = badge_map {
                let painter = ui.painter_at(ui.available_rect_before_wrap());
                stack_badges.paint(&painter, &camera, positions, sprites, pixels_per_point);
            }
        });
        if let Some(r) = free_area {
            self.nav.fit_area = Some((
                Vec2::new(r.min.x, r.min.y) * pixels_per_point,
                Vec2::new(r.max.x, r.max.y) * pixels_per_point,
            ));
        }
        gfx.egui_state
            .handle_platform_output(&gfx.window, output.platform_output);
        for action in actions {
            self.handle_action(action)?;
        }
        for action in cluster_actions {
            self.handle_cluster_action(action);
        }
        for action in tour_actions {
            self.handle_tour_action(action);
        }
        // The map and egui in one pass.
        let opts = self.frame_options();
        if let Some(map) = &mut self.map {
            self.last_stats = map.renderer.prepare(&self.nav.camera, &opts);
        }
        let Some(gfx) = &mut self.gfx else {
            return Ok(());
        };
        let jobs = self
            .egui_ctx
            .tessellate(output.shapes, output.pixels_per_point);
        let device = &gfx.ctx.device;
        let queue = &gfx.ctx.queue;
        // egui's texture changes are applied now, its frees after the
        // frame (egui panics in debug builds on unapplied deltas).
        let mut textures = output.textures_delta;
        for (id, deltas) in textures.set.drain() {
            for d in &deltas {
                gfx.egui_renderer.update_texture(device, queue, id, d);
            }
        }
        let to_free: Vec<egui::TextureId> = textures.free.drain().collect();
        let frame = match gfx.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(f)
            | wgpu::CurrentSurfaceTexture::Suboptimal(f) => f,
            other => {
                for id in &to_free {
                    gfx.egui_renderer.free_texture(id);
                }
                match other {
                    wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                        gfx.surface.configure(device, &gfx.config);
                        self.next_redraw = Some(Instant::now());
                        return Ok(());
                    }
                    wgpu::CurrentSurfaceTexture::Timeout
                    | wgpu::CurrentSurfaceTexture::Occluded => return Ok(()),
                    other => bail!("the window's surface failed: {other:?}"),
                }
            }
        };
        let view = frame.texture.create_view(&wgpu::TextureViewDescriptor {
            format: Some(gfx.view_format),
            ..Default::default()
        });
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [gfx.config.width, gfx.config.height],
            pixels_per_point: output.pixels_per_point,
        };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("viewer frame"),
        });
        let mut commands =
            gfx.egui_renderer
                .update_buffers(device, queue, &mut encoder, &jobs, &screen);
        {
            let bg = opts.background;
            let channel = |shift: u32| f64::from((bg >> shift) & 0xff) / 255.0;
            let mut pass = encoder
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("map and panels"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &view,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color {
                                r: channel(16),
                                g: channel(8),
                                b: channel(0),
                                a: 1.0,
                            }),
                            store: wgpu::StoreOp::Store,
                        },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                })
                .forget_lifetime();
            if let Some(map) = &self.map {
                map.renderer.draw(&mut pass, &opts);
            }
            gfx.egui_renderer.render(&mut pass, &jobs, &screen);
        }
        commands.push(encoder.finish());
        queue.submit(commands);
        gfx.window.pre_present_notify();
        queue.present(frame);
        for id in &to_free {
            gfx.egui_renderer.free_texture(id);
        }

        if std::mem::take(&mut self.screenshot_requested) {
            self.take_screenshot(&opts);
        }

        // When to draw again.
        let now = Instant::now();
        self.times.record(start, now - start);
        let repaint = output
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.repaint_delay)
            .unwrap_or(Duration::MAX);
        let map = self.map.as_ref();
        let continuous = map.is_some_and(|m| m.live.as_ref().is_some_and(|l| l.running))
            || map.is_some_and(|m| m.builder.busy());
        let mut next = self.next_redraw.take();
        let mut want = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        if continuous {
            want(now);
        }
        if repaint < Duration::from_secs(3600) {
            want(now + repaint);
        }
        if self.last_stats.waiting > 0 {
            want(now + STREAMING_REDRAW);
        }
        self.next_redraw = next;
        Ok(())
    }

    fn take_screenshot(&mut self, opts: &FrameOptions) {
        let (Some(gfx), Some(map)) = (&self.gfx, &self.map) else {
            eprintln!("nothing to screenshot yet: the project has no layout");
            return;
        };
        let (w, h) = (gfx.config.width, gfx.config.height);
        match screenshot::capture(&gfx.ctx, &map.renderer, opts, w, h) {
            Ok(rgba) => {
                let path = screenshot::next_path(self.project.dir());
                // Encoding a large PNG takes a moment: not on the frame.
                std::thread::spawn(move || match screenshot::save(&path, rgba, w, h) {
                    Ok(()) => println!("screenshot saved to {}", path.display()),
                    Err(e) => eprintln!("error: {e:#}"),
                });
            }
            Err(e) => eprintln!("error: the screenshot failed: {e:#}"),
        }
    }

    fn window_event_inner(
        &mut self,
        event_loop: &ActiveEventLoop,
        event: WindowEvent,
    ) -> Result<()> {
        let Some(gfx) = &mut self.gfx else {
            return Ok(());
        };
        let response = gfx.egui_state.on_window_event(&gfx.window, &event);
        let mut redraw = response.repaint;
        let over_egui = self.egui_ctx.is_pointer_over_egui();
        match event {
            WindowEvent::CloseRequested | WindowEvent::Destroyed => {
                if self
                    .map
                    .as_ref()
                    .is_some_and(|m| m.live.as_ref().is_some_and(|l| l.running))
                {
                    eprintln!(
                        "the live layout was still running and was not saved (Pause saves it)"
                    );
                }
                event_loop.exit();
            }
            WindowEvent::Resized(size) => {
                gfx.config.width = size.width.max(1);
                gfx.config.height = size.height.max(1);
                gfx.surface.configure(&gfx.ctx.device, &gfx.config);
                self.nav
                    .set_viewport(Vec2::new(gfx.config.width as f32, gfx.config.height as f32));
                redraw = true;
            }
            WindowEvent::ModifiersChanged(m) => self.modifiers = m.state(),
            WindowEvent::CursorMoved { position, .. } => {
                let at = Vec2::new(position.x as f32, position.y as f32);
                if self.cluster_panel.lasso_mode && !self.cluster_panel.lasso.is_empty() {
                    self.cluster_panel.lasso_point(at);
                }
                if self.nav.cursor_moved(at) {
                    self.auto_fit = false;
                }
                redraw = true;
            }
            WindowEvent::CursorLeft { .. } => {
                self.nav.cursor_left();
                redraw = true;
            }
            WindowEvent::MouseInput {
                state,
                button: MouseButton::Left,
                ..
            } => match state {
                // In lasso mode a drag draws the lasso instead of panning.
                ElementState::Pressed if !over_egui && self.cluster_panel.lasso_mode => {
                    if let Some(c) = self.nav.cursor() {
                        self.cluster_panel.lasso = vec![c];
                    }
                }
                ElementState::Pressed if !over_egui => self.nav.press(),
                ElementState::Released if !self.cluster_panel.lasso.is_empty() => {
                    self.finish_lasso();
                    redraw = true;
                }
                ElementState::Released => {
                    if let Some(at) = self.nav.release() {
                        self.click(at);
                    }
                    redraw = true;
                }
                _ => {}
            },
            WindowEvent::MouseWheel { delta, .. } if !over_egui => {
                self.auto_fit = false;
                self.nav.wheel(delta);
                redraw = true;
            }
            WindowEvent::PinchGesture { delta, .. } if !over_egui => {
                self.auto_fit = false;
                self.nav.pinch(delta);
                redraw = true;
            }
            WindowEvent::KeyboardInput { event, .. }
                if event.state == ElementState::Pressed
                    && !self.egui_ctx.egui_wants_keyboard_input() =>
            {
                redraw = true;
                match &event.logical_key {
                    Key::Character(c)
                        if self.modifiers.control_key() && c.eq_ignore_ascii_case("q") =>
                    {
                        event_loop.exit();
                    }
                    Key::Named(NamedKey::Escape) => {
                        if let Some(views) = &mut self.views {
                            views.detail = None;
                        }
                    }
                    key => match key_command(key) {
                        Some(KeyCommand::Screenshot) => self.screenshot_requested = true,
                        Some(KeyCommand::FitAll) => self.fit_all(),
                        Some(KeyCommand::PlayTour) => {
                            if self.tour_panel.playing.is_some() {
                                self.stop_tour();
                            } else if !self.tour_panel.tour.keyframes.is_empty() {
                                self.handle_tour_action(tours::TourAction::Play);
                            }
                        }
                        Some(cmd) => {
                            self.auto_fit = false;
                            self.nav.apply(cmd, None, Instant::now());
                        }
                        None => {}
                    },
                }
            }
            WindowEvent::RedrawRequested => {
                self.redraw()?;
                return Ok(());
            }
            _ => {}
        }
        if redraw && let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
        Ok(())
    }
}

impl ApplicationHandler<Wake> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_some() {
            return;
        }
        if let Err(e) = self.create_window(event_loop) {
            self.fail(event_loop, e);
        }
    }

    fn new_events(&mut self, _event_loop: &ActiveEventLoop, cause: StartCause) {
        if let StartCause::ResumeTimeReached { .. } = cause
            && let Some(gfx) = &self.gfx
        {
            gfx.window.request_redraw();
        }
    }

    fn user_event(&mut self, _event_loop: &ActiveEventLoop, _event: Wake) {
        if let Some(gfx) = &self.gfx {
            gfx.window.request_redraw();
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        if let Err(e) = self.window_event_inner(event_loop, event) {
            self.fail(event_loop, e);
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        match self.next_redraw {
            Some(t) if t <= Instant::now() => {
                self.next_redraw = None;
                if let Some(gfx) = &self.gfx {
                    gfx.window.request_redraw();
                }
                event_loop.set_control_flow(ControlFlow::Wait);
            }
            Some(t) => event_loop.set_control_flow(ControlFlow::WaitUntil(t)),
            None => event_loop.set_control_flow(ControlFlow::Wait),
        }
    }
}

/// A summary line for the CLI.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Closed {
                frames,
                mean_frame_ms,
                slowest_frame_ms,
                adapter,
            } => write!(
                f,
                "view: {frames} frames drawn, mean {mean_frame_ms:.1} ms per frame (slowest {slowest_frame_ms:.1} ms) on {adapter}"
            ),
            Outcome::Headless(path) => {
                write!(f, "view: no window; the map is in {}", path.display())
            }
        }
    }
}

/// The map quality figures the last layout saved, as one line.
fn load_quality_note(project: &Project) -> Option<String> {
    match project
        .setting::<crate::layout::map_quality::MapQuality>(crate::layout::map_quality::SETTING)
    {
        Ok(q) => q.map(|q| q.to_string()),
        Err(e) => {
            tracing::debug!("no map quality figures: {e:#}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_frames_give_a_frame_rate_that_agrees_with_their_time() {
        let mut times = FrameTimes::default();
        let start = Instant::now();
        let took = Duration::from_millis(466);
        for i in 0..10u32 {
            times.record(start + took * i, took);
        }
        let fps = times.fps();
        assert!(
            (fps - 1.0 / 0.466).abs() < 0.05,
            "{fps} fps for 466 ms frames"
        );
        // Fast frames after an idle pause: the pause is not a frame.
        let mut times = FrameTimes::default();
        let fast = Duration::from_millis(10);
        times.record(start, fast);
        times.record(start + Duration::from_secs(5), fast);
        times.record(start + Duration::from_millis(5016), fast);
        assert!((times.fps() - 1.0 / 0.016).abs() < 1.0, "{}", times.fps());
    }
}
