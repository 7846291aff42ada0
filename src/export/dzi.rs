//! The map as a deep-zoom web page (`--format dzi --out site/`): a Deep Zoom
//! pyramid of the poster (`map.dzi`, `map_files/LEVEL/COL_ROW.jpg`, tiles
//! of 254 px with an overlap of 1, as libvips writes them) and an
//! `index.html` that shows it with OpenSeadragon. OpenSeadragon (BSD-3,
//! from the npm registry) is embedded in tagscape and written beside the
//! page with its licence, so nothing is fetched at run time.
//!
//! The page works opened straight from `file://` as from any static server:
//! the tile source is inline (a `.dzi` fetched by XHR is blocked on
//! `file://`), the drawer is the canvas one (WebGL refuses `file://` images),
//! and the data (cluster labels, image positions, tags) is a script, not a
//! fetched JSON. Cluster labels and captions are HTML overlays; a click on an
//! image shows its tags, frequency and source link.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use glam::Vec2;
use serde::Serialize;

use super::png::{Background, PngStyle, load_clusters, page, picture_frame, picture_renderer};
use crate::gpu::GpuContext;
use crate::graph::Graph;
use crate::layout::load_positions;
use crate::project::Project;
use crate::render::{Camera, ClusterOverlay, OffscreenTarget, Scene};

/// Tile size and overlap (a 256 px texture per tile).
pub const TILE_SIZE: u32 = 254;
pub const OVERLAP: u32 = 1;
/// Width of the picture when `--width` is not given.
pub const DEFAULT_WIDTH: u32 = 8192;
/// JPEG quality of the tiles.
const QUALITY: u8 = 85;
/// Tags listed per image in the click panel.
const TAGS_SHOWN: usize = 12;

const OSD_JS: &[u8] = include_bytes!("../../assets/openseadragon/openseadragon.min.js");
const OSD_LICENSE: &[u8] = include_bytes!("../../assets/openseadragon/LICENSE.txt");
const IMAGES: &[(&str, &[u8])] = &[
    (
        "button_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/button_grouphover.png"),
    ),
    (
        "button_hover.png",
        include_bytes!("../../assets/openseadragon/images/button_hover.png"),
    ),
    (
        "button_pressed.png",
        include_bytes!("../../assets/openseadragon/images/button_pressed.png"),
    ),
    (
        "button_rest.png",
        include_bytes!("../../assets/openseadragon/images/button_rest.png"),
    ),
    (
        "flip_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/flip_grouphover.png"),
    ),
    (
        "flip_hover.png",
        include_bytes!("../../assets/openseadragon/images/flip_hover.png"),
    ),
    (
        "flip_pressed.png",
        include_bytes!("../../assets/openseadragon/images/flip_pressed.png"),
    ),
    (
        "flip_rest.png",
        include_bytes!("../../assets/openseadragon/images/flip_rest.png"),
    ),
    (
        "fullpage_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/fullpage_grouphover.png"),
    ),
    (
        "fullpage_hover.png",
        include_bytes!("../../assets/openseadragon/images/fullpage_hover.png"),
    ),
    (
        "fullpage_pressed.png",
        include_bytes!("../../assets/openseadragon/images/fullpage_pressed.png"),
    ),
    (
        "fullpage_rest.png",
        include_bytes!("../../assets/openseadragon/images/fullpage_rest.png"),
    ),
    (
        "home_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/home_grouphover.png"),
    ),
    (
        "home_hover.png",
        include_bytes!("../../assets/openseadragon/images/home_hover.png"),
    ),
    (
        "home_pressed.png",
        include_bytes!("../../assets/openseadragon/images/home_pressed.png"),
    ),
    (
        "home_rest.png",
        include_bytes!("../../assets/openseadragon/images/home_rest.png"),
    ),
    (
        "next_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/next_grouphover.png"),
    ),
    (
        "next_hover.png",
        include_bytes!("../../assets/openseadragon/images/next_hover.png"),
    ),
    (
        "next_pressed.png",
        include_bytes!("../../assets/openseadragon/images/next_pressed.png"),
    ),
    (
        "next_rest.png",
        include_bytes!("../../assets/openseadragon/images/next_rest.png"),
    ),
    (
        "previous_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/previous_grouphover.png"),
    ),
    (
        "previous_hover.png",
        include_bytes!("../../assets/openseadragon/images/previous_hover.png"),
    ),
    (
        "previous_pressed.png",
        include_bytes!("../../assets/openseadragon/images/previous_pressed.png"),
    ),
    (
        "previous_rest.png",
        include_bytes!("../../assets/openseadragon/images/previous_rest.png"),
    ),
    (
        "rotateleft_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/rotateleft_grouphover.png"),
    ),
    (
        "rotateleft_hover.png",
        include_bytes!("../../assets/openseadragon/images/rotateleft_hover.png"),
    ),
    (
        "rotateleft_pressed.png",
        include_bytes!("../../assets/openseadragon/images/rotateleft_pressed.png"),
    ),
    (
        "rotateleft_rest.png",
        include_bytes!("../../assets/openseadragon/images/rotateleft_rest.png"),
    ),
    (
        "rotateright_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/rotateright_grouphover.png"),
    ),
    (
        "rotateright_hover.png",
        include_bytes!("../../assets/openseadragon/images/rotateright_hover.png"),
    ),
    (
        "rotateright_pressed.png",
        include_bytes!("../../assets/openseadragon/images/rotateright_pressed.png"),
    ),
    (
        "rotateright_rest.png",
        include_bytes!("../../assets/openseadragon/images/rotateright_rest.png"),
    ),
    (
        "zoomin_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/zoomin_grouphover.png"),
    ),
    (
        "zoomin_hover.png",
        include_bytes!("../../assets/openseadragon/images/zoomin_hover.png"),
    ),
    (
        "zoomin_pressed.png",
        include_bytes!("../../assets/openseadragon/images/zoomin_pressed.png"),
    ),
    (
        "zoomin_rest.png",
        include_bytes!("../../assets/openseadragon/images/zoomin_rest.png"),
    ),
    (
        "zoomout_grouphover.png",
        include_bytes!("../../assets/openseadragon/images/zoomout_grouphover.png"),
    ),
    (
        "zoomout_hover.png",
        include_bytes!("../../assets/openseadragon/images/zoomout_hover.png"),
    ),
    (
        "zoomout_pressed.png",
        include_bytes!("../../assets/openseadragon/images/zoomout_pressed.png"),
    ),
    (
        "zoomout_rest.png",
        include_bytes!("../../assets/openseadragon/images/zoomout_rest.png"),
    ),
];

const PAGE_HTML: &str = include_str!("dzi_page.html");

/// The pyramid's levels: (width, height) of level 0 (1 × 1) up to the full
/// picture, each half the next, rounded up.
pub fn levels(width: u32, height: u32) -> Vec<(u32, u32)> {
    let top = u32::BITS - (width.max(height).max(1) - 1).leading_zeros();
    (0..=top)
        .map(|level| {
            let shift = top - level;
            (
                width.div_ceil(1 << shift).max(1),
                height.div_ceil(1 << shift).max(1),
            )
        })
        .collect()
}

/// The most bytes the tiles of a `width`×`height` pyramid take: every
/// tile at its uncompressed RGB size (JPEG tiles of a map are far smaller;
/// of noise at this quality, about that size) and 4 KiB of file-system
/// block each.
pub fn tiles_size_bound(width: u32, height: u32) -> u64 {
    levels(width, height)
        .iter()
        .map(|&(lw, lh)| {
            let (cols, rows) = (lw.div_ceil(TILE_SIZE), lh.div_ceil(TILE_SIZE));
            (0..rows)
                .map(|r| {
                    let th = u64::from(tile_span(r, lh).1);
                    (0..cols)
                        .map(|c| u64::from(tile_span(c, lw).1) * th * 3 + 4096)
                        .sum::<u64>()
                })
                .sum::<u64>()
        })
        .sum()
}

/// The pixels of tile `index` along one axis of a level `length` long:
/// (first pixel, count), overlapping its neighbours by `OVERLAP`.
pub fn tile_span(index: u32, length: u32) -> (u32, u32) {
    let start = if index == 0 {
        0
    } else {
        index * TILE_SIZE - OVERLAP
    };
    let wanted = TILE_SIZE + if index == 0 { 1 } else { 2 } * OVERLAP;
    (start, wanted.min(length - start))
}

/// What was written; `Display` is the summary's tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DziSummary {
    pub width: u32,
    pub height: u32,
    pub levels: usize,
    pub tiles: u64,
    pub page: PathBuf,
}

impl std::fmt::Display for DziSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deep zoom map of {}×{} px in {} levels ({} tiles); open {} in a browser (works from file:// and any static server)",
            self.width,
            self.height,
            self.levels,
            self.tiles,
            self.page.display()
        )
    }
}

/// The page's data: what the overlays and the click panel show.
#[derive(Serialize)]
struct PageData {
    title: String,
    width: u32,
    height: u32,
    tile_size: u32,
    overlap: u32,
    background: String,
    clusters: Vec<ClusterMark>,
    /// [x, y, half size, url, frequency, tags, post link] in picture pixels.
    images: Vec<(f32, f32, f32, String, u32, String, String)>,
}

#[derive(Serialize)]
struct ClusterMark {
    name: String,
    caption: String,
    color: String,
    x: f32,
    y: f32,
    images: usize,
}

pub fn write(
    project: &Project,
    out: &Path,
    width: Option<u32>,
    height: Option<u32>,
    style: &PngStyle,
) -> Result<DziSummary> {
    if style.background == Background::Transparent {
        bail!(
            "--background transparent: deep-zoom tiles are JPEG, without transparency: use white or dark"
        );
    }
    if out.is_file() {
        bail!(
            "{} is a file: --format dzi writes a folder (index.html, map.dzi, map_files/): give --out a folder, e.g. site/",
            out.display()
        );
    }
    let width = width.unwrap_or(DEFAULT_WIDTH);
    let scene = Scene::from_project(project)?;
    let Some(bounds) = scene.bounds(false) else {
        bail!(
            "project {} has no images to draw: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        );
    };
    let clusters = load_clusters(project, style, false)?;
    // The tiles carry the map and the hulls; labels, title and legend are
    // the page's HTML, crisp at every zoom.
    let tile_style = PngStyle {
        labels: false,
        title: None,
        legend: false,
        ..style.clone()
    };
    let layout = page::<()>(
        project,
        &bounds,
        width,
        height,
        &tile_style,
        &clusters,
        |_| None,
    )?;
    let (width, height, camera) = (layout.width, layout.height, layout.camera);
    // Before anything is drawn: a site the disk cannot hold.
    super::png::check_room(
        out,
        tiles_size_bound(width, height),
        super::png::free_space(out),
    )?;
    let data = page_data(project, &camera, width, height, style, &clusters)?;

    // Written into a fresh folder beside `out`, which replaces `out` only
    // when complete: an interrupted export leaves the old site (or none).
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".tagscape-dzi-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let site = staging.path();

    let ctx = GpuContext::new_headless()?;
    let mut renderer = picture_renderer(&ctx, scene, camera.zoom);
    if style.hulls && !clusters.is_empty() {
        renderer.set_cluster_overlay(
            &clusters,
            &ClusterOverlay {
                hulls: true,
                labels: false,
                scale: layout.scale,
                placement_view: Some(camera),
                placement_area: None,
            },
        );
    }
    let opts = picture_frame(style.background);
    let full = TILE_SIZE + 2 * OVERLAP;
    let target = OffscreenTarget::new(&ctx.device, full, full);
    let levels = levels(width, height);
    let total: u64 = levels
        .iter()
        .map(|&(w, h)| u64::from(w.div_ceil(TILE_SIZE)) * u64::from(h.div_ceil(TILE_SIZE)))
        .sum();
    let progress = crate::ui::progress(total, "tiles drawn");
    let top = levels.len() - 1;
    for (level, &(lw, lh)) in levels.iter().enumerate() {
        let folder = site.join("map_files").join(level.to_string());
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        // The whole picture's camera at this level's scale.
        let scale = 0.5f32.powi((top - level) as i32);
        let level_camera = Camera {
            center: camera.center,
            zoom: camera.zoom * scale,
            viewport: Vec2::new(width as f32 * scale, height as f32 * scale),
        };
        for row in 0..lh.div_ceil(TILE_SIZE) {
            let (y0, th) = tile_span(row, lh);
            for col in 0..lw.div_ceil(TILE_SIZE) {
                let (x0, tw) = tile_span(col, lw);
                let view = level_camera.tile(x0, y0, full, full);
                renderer.render_tile(
                    &target,
                    &view,
                    &opts,
                    Some(std::time::Duration::from_secs(600)),
                );
                let rgba = target.read_rgba(&ctx.device, &ctx.queue)?;
                let mut rgb = Vec::with_capacity((tw * th * 3) as usize);
                for y in 0..th as usize {
                    let row_start = y * full as usize * 4;
                    for px in rgba[row_start..row_start + tw as usize * 4].chunks_exact(4) {
                        rgb.extend_from_slice(&px[..3]);
                    }
                }
                let path = folder.join(format!("{col}_{row}.jpg"));
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                image::codecs::jpeg::JpegEncoder::new_with_quality(
                    std::io::BufWriter::new(file),
                    QUALITY,
                )
                .encode(&rgb, tw, th, image::ExtendedColorType::Rgb8)
                .with_context(|| format!("cannot write {}", path.display()))?;
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();

    write_file(
        &site.join("map.dzi"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\" Format=\"jpg\" Overlap=\"{OVERLAP}\" TileSize=\"{TILE_SIZE}\"><Size Width=\"{width}\" Height=\"{height}\"/></Image>\n"
        )
        .as_bytes(),
    )?;
    let osd = site.join("openseadragon");
    std::fs::create_dir_all(osd.join("images"))
        .with_context(|| format!("cannot create {}", osd.display()))?;
    write_file(&osd.join("openseadragon.min.js"), OSD_JS)?;
    write_file(&osd.join("LICENSE.txt"), OSD_LICENSE)?;
    for (name, bytes) in IMAGES {
        write_file(&osd.join("images").join(name), bytes)?;
    }
    let json = serde_json::to_string(&data)?;
    write_file(
        &site.join("data.js"),
        format!("window.TAGSCAPE = {json};\n").as_bytes(),
    )?;
    let title = html_escape(&data.title);
    write_file(
        &site.join("index.html"),
        PAGE_HTML.replace("{{TITLE}}", &title).as_bytes(),
    )?;

    // Swap the finished site in.
    let staged = staging.keep();
    if out.exists() {
        std::fs::remove_dir_all(out)
            .with_context(|| format!("cannot replace the folder {}", out.display()))?;
    }
    std::fs::rename(&staged, out)
        .with_context(|| format!("cannot move the site into {}", out.display()))?;
    Ok(DziSummary {
        width,
        height,
        levels: levels.len(),
        tiles: total,
        page: out.join("index.html"),
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Cluster labels and every image's box, tags and source, in picture pixels.
fn page_data(
    project: &Project,
    camera: &Camera,
    width: u32,
    height: u32,
    style: &PngStyle,
    clusters: &[crate::cluster::Cluster],
) -> Result<PageData> {
    use geo::Centroid;
    let graph = Graph::load(project)?;
    let placements = load_positions(project, &graph)?.context("the project has no layout")?;
    let links = first_links(project)?;
    let mut images = Vec::with_capacity(graph.n_images);
    for (i, node) in graph.nodes[..graph.n_images].iter().enumerate() {
        let p = placements[i];
        let at = camera.world_to_screen(Vec2::new(p.x, p.y));
        let mut tags: Vec<(u32, f32)> = graph.neighbors(i).collect();
        tags.sort_by(|a, b| b.1.total_cmp(&a.1));
        let tags: Vec<&str> = tags
            .iter()
            .take(TAGS_SHOWN)
            .map(|(t, _)| graph.nodes[*t as usize].label.as_str())
            .collect();
        let link = node
            .image_id
            .and_then(|id| links.get(&id).cloned())
            .unwrap_or_default();
        images.push((
            (at.x * 10.0).round() / 10.0,
            (at.y * 10.0).round() / 10.0,
            (p.size * camera.zoom * 10.0).round() / 10.0,
            node.id.clone(),
            node.frequency,
            tags.join(", "),
            link,
        ));
    }
    let marks = clusters
        .iter()
        .filter_map(|c| {
            let at = match c.label_at {
                Some([x, y]) => Vec2::new(x as f32, y as f32),
                None => {
                    let centre = c.hull()?.centroid()?;
                    Vec2::new(centre.x() as f32, centre.y() as f32)
                }
            };
            let at = camera.world_to_screen(at);
            Some(ClusterMark {
                name: c.name.clone(),
                caption: c.caption.clone().unwrap_or_default(),
                color: format!("#{:06x}", c.color),
                x: at.x,
                y: at.y,
                images: c.size,
            })
        })
        .collect();
    Ok(PageData {
        title: style
            .title
            .clone()
            .unwrap_or_else(|| format!("tagscape — {}", project_name(project))),
        width,
        height,
        tile_size: TILE_SIZE,
        overlap: OVERLAP,
        background: format!("#{:06x}", style.background.clear().0),
        clusters: marks,
        images,
    })
}

fn project_name(project: &Project) -> String {
    std::path::absolute(project.dir())
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "map".into())
}

/// Each image's first post's link (a web address), by image id.
fn first_links(project: &Project) -> Result<HashMap<i64, String>> {
    use crate::posts::{PostColumns, for_each_post};
    let columns = PostColumns::load(project.conn())?;
    let mut links = HashMap::new();
    for_each_post(project.conn(), &columns, |post| {
        if !links.contains_key(&post.image_id)
            && let Some(link) = columns.link(&post)
        {
            links.insert(post.image_id, link);
        }
        Ok(())
    })?;
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_halve_up_to_one_pixel() {
        let l = levels(1000, 600);
        assert_eq!(l.len(), 11);
        assert_eq!(l[10], (1000, 600));
        assert_eq!(l[9], (500, 300));
        assert_eq!(l[1], (2, 2));
        assert_eq!(l[0], (1, 1));
        assert_eq!(levels(1024, 1).len(), 11);
        assert_eq!(levels(1025, 1).len(), 12);
    }

    #[test]
    fn the_disk_bound_counts_every_tile_of_every_level_uncompressed() {
        // 254 × 254: one tile a level, 1, 2, 4, … 64, 127 and 254 px
        // square: 3 bytes a pixel (86106 pixels) and 4096 bytes a file (9).
        assert_eq!(tiles_size_bound(254, 254), 3 * 86_106 + 9 * 4096);
        // 255 × 255: the top level is 2 × 2 tiles, 255 and 2 px a side (the
        // second starts one pixel of overlap before 254); below it 128 … 1.
        let top = 3 * (255 * 255 + 2 * 255 * 2 + 2 * 2) + 4 * 4096;
        assert_eq!(tiles_size_bound(255, 255), top + 3 * 21_845 + 8 * 4096);
        // A third more than the top level's pixels, as a pyramid is, plus
        // the overlaps (256 px of every 254) and the blocks (2%).
        let big = tiles_size_bound(100_000, 100_000) as f64;
        let top = 3.0 * 1e10;
        assert!(big > top * 1.37 && big < top * 1.39, "{big}");
    }

    #[test]
    fn tiles_overlap_their_neighbours_by_one_pixel() {
        assert_eq!(tile_span(0, 1000), (0, 255));
        assert_eq!(tile_span(1, 1000), (253, 256));
        assert_eq!(tile_span(3, 1000), (761, 239));
        assert_eq!(tile_span(0, 100), (0, 100));
    }
}
