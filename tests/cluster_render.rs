//! Cluster hulls and labels drawn by the renderer (lavapipe or any adapter):
//! a frame of a two-cluster project shows each hull's translucent fill
//! inside its polygon and nowhere else, and each cluster's name as dark
//! text pixels around its label anchor, inside its own hull; the PNG export
//! draws the same overlay when asked (`--hulls --labels`) and not otherwise.
//!
//! Needs a Vulkan driver (`apt-get install mesa-vulkan-drivers`) and a
//! system font (`fonts-dejavu-core`).

use std::path::Path;
use std::time::Duration;

use geo::{Contains, Distance, Euclidean, Point, Polygon};
use glam::Vec2;
use tagscape::cluster::{Cluster, ClusterSettings, annotations, load_clusters};
use tagscape::gpu::GpuContext;
use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::{Placement, save_positions};
use tagscape::project::Project;
use tagscape::render::hulls::FILL_ALPHA;
use tagscape::render::{
    AtlasConfig, Camera, ClusterOverlay, FrameOptions, LEVEL_CELLS, OFFSCREEN_FORMAT,
    OffscreenTarget, Renderer, Scene,
};

/// Light image colour, so every dark pixel of a frame is label text.
const IMAGE_RGB: [u8; 3] = [250, 240, 200];
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 400;

fn gpu() -> GpuContext {
    GpuContext::new_headless().unwrap_or_else(|e| {
        panic!("{e:#} (these tests need a Vulkan driver: apt-get install mesa-vulkan-drivers)")
    })
}

fn node(kind: NodeKind, id: &str, image_id: Option<i64>) -> Node {
    Node {
        kind,
        id: id.into(),
        label: id.into(),
        image_id,
        frequency: 1,
    }
}

/// Two groups of 12 images (a 4×3 grid 30 units apart) sharing no tag:
/// "harbour" images left of the origin, "forest" images right of it.
/// Clustered, then renamed "Harbour" and "Forest".
fn two_cluster_project(dir: &Path) -> Project {
    let mut project = Project::init(dir).unwrap();
    let groups: [(&str, [&str; 3], f32); 2] = [
        ("harbour", ["harbour", "boat", "sea"], -200.0),
        ("forest", ["forest", "tree", "moss"], 110.0),
    ];
    let mut nodes = Vec::new();
    let mut placements = Vec::new();
    for (g, (name, _, x0)) in groups.iter().enumerate() {
        for k in 0..12 {
            let i = g * 12 + k;
            let hash = format!("{:064x}", i + 1);
            for level in LEVEL_CELLS {
                let (w, h) = tagscape::fetch::thumbnail::fit(300, 300, level);
                let path = project
                    .dir()
                    .join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                image::RgbImage::from_pixel(w, h, image::Rgb(IMAGE_RGB))
                    .save(&path)
                    .unwrap();
            }
            let url = format!("https://example.org/{name}/{k}.jpg");
            project
                .conn()
                .execute(
                    "INSERT INTO images(url, status, content_hash, thumb_ext, width, height, mean_color) VALUES (?1, 'done', ?2, 'png', 300, 300, ?3)",
                    (&url, &hash, 0xFAF0C8i64),
                )
                .unwrap();
            let id = project.conn().last_insert_rowid();
            nodes.push(node(NodeKind::Image, &url, Some(id)));
            placements.push(Placement {
                x: x0 + 30.0 * (k % 4) as f32,
                y: -30.0 + 30.0 * (k / 4) as f32,
                size: 4.0,
            });
        }
    }
    let mut edges = Vec::new();
    for (g, (_, tags, x0)) in groups.iter().enumerate() {
        for tag in tags {
            let t = nodes.len();
            nodes.push(node(NodeKind::Tag, tag, None));
            placements.push(Placement {
                x: x0 + 45.0,
                y: 0.0,
                size: 2.0,
            });
            for k in 0..12 {
                edges.push(Edge {
                    source: (g * 12 + k) as u32,
                    target: t as u32,
                    weight: 1.0,
                });
            }
        }
    }
    let graph = Graph::new(nodes, 24, edges);
    graph.save(&mut project).unwrap();
    save_positions(&mut project, &graph, &placements).unwrap();
    let settings = ClusterSettings {
        min_size: 1,
        ..ClusterSettings::default()
    };
    tagscape::cluster::run_in(&mut project, &settings).unwrap();
    for c in load_clusters(&project).unwrap() {
        let first = c.labels.first().map(|t| t.tag.clone()).unwrap_or_default();
        let name = if ["harbour", "boat", "sea"].contains(&first.as_str()) {
            "Harbour"
        } else {
            "Forest"
        };
        annotations::rename(&mut project, c.id, Some(name)).unwrap();
    }
    project
}

fn by_name<'a>(clusters: &'a [Cluster], name: &str) -> &'a Cluster {
    clusters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no cluster named {name}: {clusters:?}"))
}

fn pixel(rgba: &[u8], x: u32, y: u32) -> [u8; 3] {
    let i = ((y * WIDTH + x) * 4) as usize;
    [rgba[i], rgba[i + 1], rgba[i + 2]]
}

/// White blended with `rgb` at the fill's opacity, as 8-bit values.
fn fill_over_white(rgb: u32) -> [u8; 3] {
    let c = |shift: u32| {
        let v = ((rgb >> shift) & 0xff) as f32;
        (255.0 * (1.0 - FILL_ALPHA) + v * FILL_ALPHA).round() as u8
    };
    [c(16), c(8), c(0)]
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= tolerance)
}

fn is_dark(p: [u8; 3]) -> bool {
    p.iter().all(|&v| v < 90)
}

fn save_png(rgba: &[u8], w: u32, h: u32, name: &str) {
    // Kept for looking at what the test rendered (target/tmp/render-tests/).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-tests");
    std::fs::create_dir_all(&dir).unwrap();
    image::RgbaImage::from_raw(w, h, rgba.to_vec())
        .unwrap()
        .save(dir.join(name))
        .unwrap();
}

#[test]
fn hulls_fill_their_polygon_and_labels_sit_inside_their_own_hull() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let clusters = load_clusters(&project).unwrap();
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    let harbour = by_name(&clusters, "Harbour");
    let forest = by_name(&clusters, "Forest");
    assert_ne!(harbour.color, forest.color);

    let ctx = gpu();
    let scene = Scene::from_project(&project).unwrap();
    let bounds = scene.bounds(false).unwrap();
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene, &AtlasConfig::default());
    renderer.set_cluster_overlay(&clusters, &ClusterOverlay::default());
    let mut camera = Camera::new(Vec2::new(WIDTH as f32, HEIGHT as f32));
    camera.fit(&bounds, 40.0);
    let target = OffscreenTarget::new(&ctx.device, WIDTH, HEIGHT);
    let opts = FrameOptions::default();
    renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(30)));
    let rgba = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    save_png(&rgba, WIDTH, HEIGHT, "cluster_overlay.png");

    let hulls: Vec<(&Cluster, Polygon<f64>)> = [harbour, forest]
        .into_iter()
        .map(|c| (c, c.hull().expect("a hull for each cluster")))
        .collect();
    let world = |x: u32, y: u32| {
        let w = camera.screen_to_world(Vec2::new(x as f32 + 0.5, y as f32 + 0.5));
        Point::new(f64::from(w.x), f64::from(w.y))
    };
    // Pixels further than 5 px from every hull outline.
    let margin = 5.0 / f64::from(camera.zoom);
    let mut inside_fill = [0usize; 2];
    let mut inside_background = [0usize; 2];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let p = world(x, y);
            let px = pixel(&rgba, x, y);
            let near_outline = hulls
                .iter()
                .any(|(_, h)| Euclidean.distance(&p, h.exterior()) < margin);
            if near_outline {
                continue;
            }
            let fills: Vec<[u8; 3]> = hulls
                .iter()
                .map(|(c, _)| fill_over_white(c.color))
                .collect();
            match hulls.iter().position(|(_, h)| h.contains(&p)) {
                Some(k) => {
                    // Inside: the fill over the white background, except where
                    // an image or a label is drawn.
                    inside_background[k] += 1;
                    if close(px, fills[k], 3) {
                        inside_fill[k] += 1;
                    }
                }
                None => {
                    assert!(
                        !fills.iter().any(|f| close(px, *f, 3)),
                        "hull fill colour {px:?} outside every hull at pixel ({x}, {y})"
                    );
                    assert!(
                        !is_dark(px),
                        "dark pixel {px:?} outside every hull at ({x}, {y})"
                    );
                }
            }
        }
    }
    for k in 0..2 {
        let share = inside_fill[k] as f64 / inside_background[k] as f64;
        assert!(
            share > 0.4,
            "only {:.0}% of {}'s hull shows its fill",
            share * 100.0,
            hulls[k].0.name
        );
    }

    // Each name: dark text pixels around its anchor, all inside its own hull.
    for (cluster, hull) in &hulls {
        let [ax, ay] = cluster.label_at.expect("a label anchor");
        let anchor = camera.world_to_screen(Vec2::new(ax as f32, ay as f32));
        let mut dark = 0;
        let mut in_own_hull = 0;
        for y in (anchor.y - 30.0).max(0.0) as u32..((anchor.y + 30.0) as u32).min(HEIGHT) {
            for x in (anchor.x - 120.0).max(0.0) as u32..((anchor.x + 120.0) as u32).min(WIDTH) {
                if is_dark(pixel(&rgba, x, y)) {
                    dark += 1;
                    if hull.contains(&world(x, y)) {
                        in_own_hull += 1;
                    }
                }
            }
        }
        assert!(
            dark >= 40,
            "{}: {dark} text pixels near its anchor",
            cluster.name
        );
        assert_eq!(in_own_hull, dark, "{}: text outside its hull", cluster.name);
    }
    // Both names are shown (same size, far apart): text on both halves.
    let left = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH / 2).map(move |x| (x, y)))
        .filter(|&(x, y)| is_dark(pixel(&rgba, x, y)))
        .count();
    let right = (0..HEIGHT)
        .flat_map(|y| (WIDTH / 2..WIDTH).map(move |x| (x, y)))
        .filter(|&(x, y)| is_dark(pixel(&rgba, x, y)))
        .count();
    assert!(left > 0 && right > 0, "text left {left}, right {right}");
}

#[test]
fn png_export_draws_the_overlay_only_when_asked() {
    use tagscape::export::{ExportFormat, ExportOptions, export};

    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let clusters = load_clusters(&project).unwrap();
    let fills: Vec<[u8; 3]> = clusters.iter().map(|c| fill_over_white(c.color)).collect();
    let count = |hulls: bool, labels: bool, name: &str| {
        let out = tmp.path().join(name);
        let opts = ExportOptions {
            width: Some(WIDTH),
            png: tagscape::export::png::PngStyle {
                hulls,
                labels,
                ..Default::default()
            },
            ..Default::default()
        };
        export(&project, ExportFormat::Png, &out, &opts).unwrap();
        let img = image::open(&out).unwrap().to_rgb8();
        let fill = img
            .pixels()
            .filter(|p| fills.iter().any(|f| close(p.0, *f, 3)))
            .count();
        let dark = img.pixels().filter(|p| is_dark(p.0)).count();
        (fill, dark)
    };
    assert_eq!(count(false, false, "plain.png"), (0, 0));
    let (fill, dark) = count(true, false, "hulls.png");
    assert!(
        fill > 1000 && dark == 0,
        "hulls only: {fill} fill, {dark} dark"
    );
    let (fill, dark) = count(false, true, "labels.png");
    assert!(
        fill == 0 && dark > 80,
        "labels only: {fill} fill, {dark} dark"
    );
    let (fill, dark) = count(true, true, "both.png");
    assert!(fill > 1000 && dark > 80, "both: {fill} fill, {dark} dark");
}
