//! The renderer on lavapipe (or any adapter): a known scene lands at the
//! pixels the camera maths says, the LOD atlas stays within its budget while
//! panning and shows every visible image at its level, and
//! `export --format png` draws a small project.
//!
//! Needs a Vulkan driver: `apt-get install mesa-vulkan-drivers` (lavapipe).

use std::path::Path;
use std::time::Duration;

use glam::Vec2;
use tagscape::gpu::GpuContext;
use tagscape::render::atlas::{ThumbFiles, ThumbKey};
use tagscape::render::scene::{
    DotInstance, FLAG_HIDDEN, SpriteInstance, TAG_DOT_RGB, TagLabel, pack_rgba,
};
use tagscape::render::{
    AtlasConfig, Camera, FrameOptions, LEVEL_CELLS, OFFSCREEN_FORMAT, OffscreenTarget, Renderer,
    Scene,
};

fn gpu() -> GpuContext {
    GpuContext::new_headless().unwrap_or_else(|e| {
        panic!("{e:#} (the render tests need a Vulkan driver: apt-get install mesa-vulkan-drivers)")
    })
}

fn hash_of(i: usize) -> String {
    format!("{:02x}{:062x}", (i * 37) % 256, i)
}

/// Writes the pyramid of a `w`×`h` image as fetch would (longest side 256,
/// 64, 16, aspect kept), each level filled with `color(level)`.
fn write_pyramid(dir: &Path, hash: &str, w: u32, h: u32, color: impl Fn(u32) -> [u8; 3]) {
    for level in LEVEL_CELLS {
        let (tw, th) = tagscape::fetch::thumbnail::fit(w, h, level);
        let path = dir.join(tagscape::fetch::store::thumb_path(level, hash, "png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let [r, g, b] = color(level);
        image::RgbImage::from_pixel(tw, th, image::Rgb([r, g, b]))
            .save(&path)
            .unwrap();
    }
}

fn pixel(rgba: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * width + x) * 4) as usize;
    [rgba[i], rgba[i + 1], rgba[i + 2]]
}

fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= tolerance)
}

fn save_png(rgba: &[u8], w: u32, h: u32, name: &str) {
    // Kept for looking at what the test rendered (target/render-tests/).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-tests");
    std::fs::create_dir_all(&dir).unwrap();
    image::RgbaImage::from_raw(w, h, rgba.to_vec())
        .unwrap()
        .save(dir.join(name))
        .unwrap();
}

const WHITE: [u8; 3] = [255, 255, 255];

/// A rectangle of screen pixels `[x0, x1) × [y0, y1)` that must show `color`
/// inside (2 px in from the edges, for antialiasing and rounding) and the
/// background just outside (2 px out), with a cap of 2 % differing pixels.
struct Expect {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    color: [u8; 3],
}

fn check(rgba: &[u8], width: u32, height: u32, e: &Expect, label: &str) {
    let mut inside = 0;
    let mut wrong = 0;
    for y in (e.y0 + 2.0) as u32..(e.y1 - 2.0) as u32 {
        for x in (e.x0 + 2.0) as u32..(e.x1 - 2.0) as u32 {
            inside += 1;
            if !close(pixel(rgba, width, x, y), e.color, 6) {
                wrong += 1;
            }
        }
    }
    assert!(inside > 0, "{label}: empty rectangle");
    assert!(
        wrong * 50 <= inside,
        "{label}: {wrong} of {inside} pixels are not {:?}",
        e.color
    );
    // The background right outside each side: the sprite is no larger than computed.
    let cx = ((e.x0 + e.x1) / 2.0) as u32;
    let cy = ((e.y0 + e.y1) / 2.0) as u32;
    let outside = [
        ((e.x0 - 2.0) as i64, cy as i64),
        ((e.x1 + 2.0) as i64, cy as i64),
        (cx as i64, (e.y0 - 2.0) as i64),
        (cx as i64, (e.y1 + 2.0) as i64),
    ];
    for (x, y) in outside {
        if x >= 0 && y >= 0 && (x as u32) < width && (y as u32) < height {
            let p = pixel(rgba, width, x as u32, y as u32);
            assert!(
                close(p, WHITE, 6),
                "{label}: pixel ({x}, {y}) outside the sprite is {p:?}, not background"
            );
        }
    }
}

/// A solid-colour test image: (position, size, pixel width, height, colour).
type SolidImage = ([f32; 2], f32, u32, u32, [u8; 3]);

/// Four solid-colour images.
const FOUR: [SolidImage; 4] = [
    ([-50.0, 30.0], 10.0, 100, 100, [230, 20, 20]), // red square
    ([40.0, 20.0], 10.0, 200, 100, [20, 200, 40]),  // green, twice as wide as tall
    ([-30.0, -40.0], 8.0, 100, 100, [30, 40, 220]), // blue square
    ([50.0, -35.0], 12.0, 50, 150, [240, 200, 30]), // yellow, three times as tall as wide
];

fn four_scene(dir: &Path) -> Scene {
    let mut scene = Scene::default();
    let mut keys = Vec::new();
    for (i, (pos, size, w, h, color)) in FOUR.iter().enumerate() {
        let hash = hash_of(i);
        write_pyramid(dir, &hash, *w, *h, |_| *color);
        scene.positions.push(Vec2::from_array(*pos));
        // The mean colour is deliberately black: once loaded, the thumbnail shows.
        scene.sprites.push(SpriteInstance::new(
            i as u32,
            *size,
            *w as f32 / *h as f32,
            0x000000,
        ));
        keys.push(Some(ThumbKey {
            hash,
            ext: "png".into(),
        }));
    }
    scene.thumbs = ThumbFiles {
        project_dir: dir.to_path_buf(),
        keys,
    };
    scene
}

#[test]
fn known_scene_lands_on_the_computed_pixels_and_zoom_moves_it() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let mut renderer = Renderer::new(
        &ctx,
        OFFSCREEN_FORMAT,
        four_scene(tmp.path()),
        &AtlasConfig::default(),
    );
    let (w, h) = (200u32, 160u32);
    let target = OffscreenTarget::new(&ctx.device, w, h);
    let opts = FrameOptions::default();

    // zoom 1, centre (0, 0): screen = (100 + x, 80 − y).
    let mut camera = Camera::new(Vec2::new(w as f32, h as f32));
    let stats = renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(20)));
    assert_eq!(stats.visible, 4);
    assert_eq!(stats.waiting, 0, "every thumbnail is loaded after waiting");
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    save_png(&frame, w, h, "four-zoom1.png");
    let zoom1 = [
        // red: centre (50, 50), half 10 × 10
        Expect {
            x0: 40.0,
            y0: 40.0,
            x1: 60.0,
            y1: 60.0,
            color: FOUR[0].4,
        },
        // green 2:1: centre (140, 60), half 10 × 5
        Expect {
            x0: 130.0,
            y0: 55.0,
            x1: 150.0,
            y1: 65.0,
            color: FOUR[1].4,
        },
        // blue: centre (70, 120), half 8 × 8
        Expect {
            x0: 62.0,
            y0: 112.0,
            x1: 78.0,
            y1: 128.0,
            color: FOUR[2].4,
        },
        // yellow 1:3: centre (150, 115), half 4 × 12
        Expect {
            x0: 146.0,
            y0: 103.0,
            x1: 154.0,
            y1: 127.0,
            color: FOUR[3].4,
        },
    ];
    for (i, e) in zoom1.iter().enumerate() {
        check(&frame, w, h, e, &format!("zoom 1, image {i}"));
    }
    // Nowhere else is anything drawn: away from the sprites all is white.
    assert!(close(pixel(&frame, w, 100, 80), WHITE, 0));
    assert!(close(pixel(&frame, w, 5, 150), WHITE, 0));

    // Zoom ×1.5 about the viewport centre: screen = (100 + 1.5x, 80 − 1.5y).
    camera.zoom_about(Vec2::new(100.0, 80.0), 1.5);
    renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(20)));
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    save_png(&frame, w, h, "four-zoom1.5.png");
    let zoom15 = [
        // red: centre (25, 35), half 15 × 15
        Expect {
            x0: 10.0,
            y0: 20.0,
            x1: 40.0,
            y1: 50.0,
            color: FOUR[0].4,
        },
        // green: centre (160, 50), half 15 × 7.5
        Expect {
            x0: 145.0,
            y0: 42.5,
            x1: 175.0,
            y1: 57.5,
            color: FOUR[1].4,
        },
        // blue: centre (55, 140), half 12 × 12
        Expect {
            x0: 43.0,
            y0: 128.0,
            x1: 67.0,
            y1: 152.0,
            color: FOUR[2].4,
        },
        // yellow: centre (175, 132.5), half 6 × 18 (cut by the bottom edge at 160: still inside)
        Expect {
            x0: 169.0,
            y0: 114.5,
            x1: 181.0,
            y1: 150.5,
            color: FOUR[3].4,
        },
    ];
    for (i, e) in zoom15.iter().enumerate() {
        check(&frame, w, h, e, &format!("zoom 1.5, image {i}"));
    }

    // Zoom about an off-centre point keeps that point's world position:
    // anchor (50, 50) is the red image's centre, so red stays centred there.
    camera = Camera::new(Vec2::new(w as f32, h as f32));
    camera.zoom_about(Vec2::new(50.0, 50.0), 2.0);
    renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(20)));
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    check(
        &frame,
        w,
        h,
        &Expect {
            x0: 30.0,
            y0: 30.0,
            x1: 70.0,
            y1: 70.0,
            color: FOUR[0].4,
        },
        "zoom 2 about red",
    );

    // Positions from another storage buffer (as the GPU layout's): the
    // shader reads it directly. Red moves from (−50, 30) to (0, 0), which
    // at this camera (centre (−25, 15), zoom 2) is the screen point (150, 110).
    let moved: Vec<Vec2> = FOUR
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 0 {
                Vec2::ZERO
            } else {
                Vec2::from_array(f.0)
            }
        })
        .collect();
    let live = tagscape::render::positions_buffer(&ctx.device, &moved);
    renderer.use_positions_buffer(&live);
    renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(20)));
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    check(
        &frame,
        w,
        h,
        &Expect {
            x0: 130.0,
            y0: 90.0,
            x1: 170.0,
            y1: 130.0,
            color: FOUR[0].4,
        },
        "red from the live buffer",
    );
    assert!(
        close(pixel(&frame, w, 50, 50), WHITE, 0),
        "nothing left at the old place"
    );
    renderer.use_scene_positions();

    // A hidden sprite disappears.
    renderer.update_sprite(0, |s| s.flags |= FLAG_HIDDEN);
    renderer.render_offscreen(&target, &camera, &opts, None);
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    assert!(close(pixel(&frame, w, 50, 50), WHITE, 0));
}

#[test]
fn before_thumbnails_arrive_the_mean_colour_stands_in() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let mut scene = four_scene(tmp.path());
    // Image 0's files are gone: it must show the grey placeholder, not black.
    scene.thumbs.keys[0] = Some(ThumbKey {
        hash: "ff".repeat(32),
        ext: "png".into(),
    });
    scene.sprites[1].color = tagscape::render::scene::pack_rgba(0x808000, 255);
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene, &AtlasConfig::default());
    let (w, h) = (200u32, 160u32);
    let target = OffscreenTarget::new(&ctx.device, w, h);
    let camera = Camera::new(Vec2::new(w as f32, h as f32));
    let opts = FrameOptions::default();
    // First frame: nothing decoded yet, nothing waited for.
    renderer.render_offscreen(&target, &camera, &opts, None);
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    let green_centre = pixel(&frame, w, 140, 60);
    assert!(
        close(green_centre, [0x80, 0x80, 0], 6) || close(green_centre, FOUR[1].4, 6),
        "the mean colour (or, if already loaded, the thumbnail) shows: {green_centre:?}"
    );
    renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(20)));
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    assert!(close(pixel(&frame, w, 140, 60), FOUR[1].4, 6));
    assert!(renderer.atlas().has_failed(0));
    assert_eq!(renderer.atlas().failed_count(), 1);
    assert!(
        close(pixel(&frame, w, 50, 50), [0xC8, 0xC8, 0xC8], 4),
        "placeholder grey"
    );
}

/// Level files encode (image, level) in their colour: R,B from the image,
/// G from the level.
fn level_color(image: usize, cell: u32) -> [u8; 3] {
    let g = match cell {
        16 => 60,
        64 => 130,
        _ => 210,
    };
    [(image * 2 + 40) as u8, g, (250 - image * 2) as u8]
}

#[test]
fn panning_with_a_small_budget_stays_within_it_and_shows_every_level() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    // 10 × 10 images, 30 world units apart, 20 units wide.
    let side = 10usize;
    let mut scene = Scene::default();
    let mut keys = Vec::new();
    for i in 0..side * side {
        let hash = hash_of(i);
        write_pyramid(tmp.path(), &hash, 300, 300, |cell| level_color(i, cell));
        scene.positions.push(Vec2::new(
            (i % side) as f32 * 30.0,
            (i / side) as f32 * 30.0,
        ));
        scene
            .sprites
            .push(SpriteInstance::new(i as u32, 10.0, 1.0, 0x000000));
        keys.push(Some(ThumbKey {
            hash,
            ext: "png".into(),
        }));
    }
    scene.thumbs = ThumbFiles {
        project_dir: tmp.path().to_path_buf(),
        keys,
    };
    // 30, 20 and 12 cells of the 16, 64 and 256 px levels: far fewer than
    // the 100 images, and more than one view needs.
    let cells = [30u64, 20, 12];
    let config = AtlasConfig {
        budget: std::array::from_fn(|i| u64::from(LEVEL_CELLS[i] * LEVEL_CELLS[i] * 4) * cells[i]),
        workers: 2,
        layer_side: 2048,
        upload_per_frame: 64 << 20,
    };
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene, &config);
    let budget_bytes: u64 = config.budget.iter().sum();
    assert!(renderer.atlas().gpu_bytes() <= budget_bytes);
    for (s, want) in renderer.atlas().stats().iter().zip(cells) {
        assert_eq!(u64::from(s.capacity), want, "level {} capacity", s.cell);
    }
    let opts = FrameOptions::default();

    // Three zooms: 20 units at zoom 4 = 80 px (256 cells), zoom 2 = 40 px
    // (64 cells), zoom 0.6 = 12 px (16 cells), on views that show at most
    // 3×3, 4×4 and 5×5 images. Pan over the whole map at each.
    for (zoom, cell, side_px) in [(4.0f32, 256u32, 160u32), (2.0, 64, 160), (0.6, 16, 64)] {
        let (w, h) = (side_px, side_px);
        let target = OffscreenTarget::new(&ctx.device, w, h);
        let level = LEVEL_CELLS.iter().position(|&c| c == cell).unwrap() as u8 + 1;
        let step = w as f32 / zoom / 2.0; // half a viewport
        let mut y = 0.0;
        while y <= 270.0 {
            let mut x = 0.0;
            while x <= 270.0 {
                let camera = Camera {
                    center: Vec2::new(x, y),
                    zoom,
                    viewport: Vec2::new(w as f32, h as f32),
                };
                // Interactive frames until everything visible is resident.
                let mut frames = 0;
                loop {
                    let stats = renderer.render_offscreen(&target, &camera, &opts, None);
                    for s in renderer.atlas().stats() {
                        assert!(
                            s.resident <= s.capacity,
                            "level {} over budget: {s:?}",
                            s.cell
                        );
                    }
                    if stats.waiting == 0 {
                        break;
                    }
                    frames += 1;
                    assert!(
                        frames < 2000,
                        "thumbnails never arrived at ({x}, {y}) zoom {zoom}"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
                let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
                // Every sprite fully on screen shows its own file at the required level.
                let visible = camera.visible();
                let mut seen = 0;
                for i in 0..side * side {
                    let p = Vec2::new((i % side) as f32 * 30.0, (i / side) as f32 * 30.0);
                    if p.x - 10.0 < visible.min.x
                        || p.x + 10.0 > visible.max.x
                        || p.y - 10.0 < visible.min.y
                        || p.y + 10.0 > visible.max.y
                    {
                        continue;
                    }
                    seen += 1;
                    assert!(
                        renderer.atlas().is_resident(i as u32, level),
                        "image {i} not resident at level {cell}"
                    );
                    let s = camera.world_to_screen(p);
                    let got = pixel(&frame, w, s.x as u32, s.y as u32);
                    assert!(
                        close(got, level_color(i, cell), 6),
                        "image {i} at ({x}, {y}) zoom {zoom} shows {got:?}, want {:?} (level {cell})",
                        level_color(i, cell)
                    );
                }
                assert!(seen > 0 || zoom > 3.0);
                x += step;
            }
            y += step;
        }
        if cell == 256 {
            let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
            save_png(&frame, w, h, "atlas-pan.png");
        }
    }
    assert!(renderer.atlas().gpu_bytes() <= budget_bytes);
}

#[test]
fn offscreen_readback_handles_row_padding() {
    // 37 px × 4 bytes = 148 bytes per row, padded to 256 for the copy.
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let mut renderer = Renderer::new(
        &ctx,
        OFFSCREEN_FORMAT,
        four_scene(tmp.path()),
        &AtlasConfig::default(),
    );
    let target = OffscreenTarget::new(&ctx.device, 37, 23);
    let camera = Camera {
        center: Vec2::new(-50.0, 30.0),
        zoom: 1.0,
        viewport: Vec2::new(37.0, 23.0),
    };
    renderer.render_offscreen(
        &target,
        &camera,
        &FrameOptions::default(),
        Some(Duration::from_secs(20)),
    );
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    assert_eq!(frame.len(), 37 * 23 * 4);
    // Red covers x 8.5..28.5, y 1.5..21.5: every row's middle is red, its ends white.
    for y in 3..20 {
        assert!(close(pixel(&frame, 37, 18, y), FOUR[0].4, 6), "row {y}");
        assert!(close(pixel(&frame, 37, 2, y), WHITE, 0), "row {y} left end");
        assert!(
            close(pixel(&frame, 37, 34, y), WHITE, 0),
            "row {y} right end"
        );
    }
}

#[test]
fn export_png_draws_the_project_at_the_requested_size() {
    use tagscape::export::{ExportFormat, ExportOptions, export};
    use tagscape::graph::{Edge, Graph, Node, NodeKind};
    use tagscape::layout::{Placement, save_positions};
    use tagscape::project::Project;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let mut project = Project::init(&dir).unwrap();
    // Four square images around a tag; image 3's thumbnails are corrupt.
    let images: [([f32; 2], [u8; 3]); 4] = [
        ([-100.0, 0.0], [220, 30, 30]),
        ([100.0, 0.0], [30, 180, 60]),
        ([0.0, 50.0], [40, 60, 210]),
        ([0.0, -50.0], [10, 10, 10]),
    ];
    let mut nodes = Vec::new();
    let mut placements = Vec::new();
    for (i, (pos, color)) in images.iter().enumerate() {
        let hash = hash_of(i + 10);
        write_pyramid(project.dir(), &hash, 500, 500, |_| *color);
        if i == 3 {
            for level in LEVEL_CELLS {
                let path = project
                    .dir()
                    .join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
                std::fs::write(path, b"not a png").unwrap();
            }
        }
        let url = format!("https://example.org/{i}.jpg");
        let mean = (u32::from(color[0]) << 16) | (u32::from(color[1]) << 8) | u32::from(color[2]);
        project
            .conn()
            .execute(
                "INSERT INTO images(url, status, content_hash, thumb_ext, width, height, mean_color) VALUES (?1, 'done', ?2, 'png', 500, 500, ?3)",
                (&url, &hash, i64::from(mean)),
            )
            .unwrap();
        nodes.push(Node {
            kind: NodeKind::Image,
            id: url.clone(),
            label: url,
            image_id: Some(project.conn().last_insert_rowid()),
            frequency: 1,
        });
        placements.push(Placement {
            x: pos[0],
            y: pos[1],
            size: 10.0,
        });
    }
    nodes.push(Node {
        kind: NodeKind::Tag,
        id: "crowd".into(),
        label: "crowd".into(),
        image_id: None,
        frequency: 4,
    });
    // A huge tag at the centre: not drawn (images only) and not in the bounds.
    placements.push(Placement {
        x: 0.0,
        y: 0.0,
        size: 400.0,
    });
    let edges = (0..4)
        .map(|i| Edge {
            source: i,
            target: 4,
            weight: 1.0,
        })
        .collect();
    let graph = Graph::new(nodes, 4, edges);
    graph.save(&mut project).unwrap();

    let out = tmp.path().join("map.png");
    let opts = ExportOptions {
        width: Some(400),
        height: None,
        ..Default::default()
    };
    let err = export(&project, ExportFormat::Png, &out, &opts).unwrap_err();
    assert!(format!("{err:#}").contains("tagscape layout"), "{err:#}");
    assert!(!out.exists());

    save_positions(&mut project, &graph, &placements).unwrap();
    let report = export(&project, ExportFormat::Png, &out, &opts).unwrap();
    assert_eq!(report.files, vec![out.clone()]);
    let png = image::open(&out).unwrap().into_rgba8();
    // Bounds x −110..110, y −60..60; margin 3 % of 400 = 12 px:
    // zoom = 376 / 220 = 1.70909, height = 120 · 1.70909 + 24 = 229.09 → 229.
    assert_eq!(png.dimensions(), (400, 229));
    let zoom = 376.0 / 220.0;
    let at = |x: f32, y: f32| {
        let sx = 200.0 + x * zoom;
        let sy = 114.5 - y * zoom;
        let p = png.get_pixel(sx as u32, sy as u32).0;
        [p[0], p[1], p[2]]
    };
    save_png(png.as_raw(), 400, 229, "export.png");
    assert!(
        close(at(-100.0, 0.0), images[0].1, 6),
        "red at its place: {:?}",
        at(-100.0, 0.0)
    );
    assert!(close(at(100.0, 0.0), images[1].1, 6));
    assert!(close(at(0.0, 50.0), images[2].1, 6));
    assert!(
        close(at(0.0, -50.0), [0xC8, 0xC8, 0xC8], 4),
        "corrupt thumbnail → placeholder"
    );
    // Just outside the red image (half 17.1 px) and at the tag: background.
    assert!(close(at(-100.0 + 12.0, 0.0), WHITE, 0));
    assert!(close(at(0.0, 0.0), WHITE, 0), "tag nodes are not drawn");
    // The whole frame is opaque, margins white.
    assert!(png.pixels().all(|p| p.0[3] == 255));
    assert!(close(at(-116.0, 0.0), WHITE, 0));

    // Given height; and a size past the texture limit says what to do.
    let opts = ExportOptions {
        width: Some(300),
        height: Some(300),
        ..Default::default()
    };
    export(&project, ExportFormat::Png, &out, &opts).unwrap();
    assert_eq!(image::image_dimensions(&out).unwrap(), (300, 300));
    let opts = ExportOptions {
        width: Some(1_000_000),
        height: Some(10),
        ..Default::default()
    };
    let err = format!(
        "{:#}",
        export(&project, ExportFormat::Png, &out, &opts).unwrap_err()
    );
    assert!(err.contains("at most 200000 pixels"), "{err}");

    // A poster drawn in tiles narrower than the picture, the last one
    // partial, is the same picture as one drawn in one tile: no seam, no
    // image moved.
    let style = |tile_limit, background, dpi| tagscape::export::png::PngStyle {
        tile_limit,
        background,
        dpi,
        ..Default::default()
    };
    let whole_path = tmp.path().join("whole.png");
    let tiled_path = tmp.path().join("tiled.png");
    let sized = |png| ExportOptions {
        width: Some(600),
        height: Some(350),
        png,
        ..Default::default()
    };
    use tagscape::export::png::Background;
    export(
        &project,
        ExportFormat::Png,
        &whole_path,
        &sized(style(None, Background::White, Some(300))),
    )
    .unwrap();
    export(
        &project,
        ExportFormat::Png,
        &tiled_path,
        &sized(style(Some(170), Background::White, None)),
    )
    .unwrap();
    let whole = image::open(&whole_path).unwrap().into_rgba8();
    let tiled = image::open(&tiled_path).unwrap().into_rgba8();
    assert_eq!(whole.dimensions(), tiled.dimensions());
    let differ = whole
        .pixels()
        .zip(tiled.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differ, 0, "{differ} pixels differ between tiled and whole");
    assert!(whole.pixels().any(|p| p.0 != [255, 255, 255, 255]));
    // --dpi 300 is 11811 pixels per metre in pHYs; no --dpi, no pHYs.
    let dims = |path: &Path| {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        decoder.read_info().unwrap().info().pixel_dims
    };
    let phys = dims(&whole_path).expect("pHYs chunk");
    assert_eq!((phys.xppu, phys.yppu), (11811, 11811));
    assert_eq!(phys.unit, png::Unit::Meter);
    assert!(dims(&tiled_path).is_none());
    // A transparent background: the margins are clear, the images opaque.
    export(
        &project,
        ExportFormat::Png,
        &tiled_path,
        &sized(style(Some(170), Background::Transparent, None)),
    )
    .unwrap();
    let clear = image::open(&tiled_path).unwrap().into_rgba8();
    assert_eq!(clear.get_pixel(2, 2).0[3], 0, "margin is transparent");
    let opaque = clear.pixels().filter(|p| p.0[3] == 255).count();
    let drawn = whole
        .pixels()
        .filter(|p| p.0 != [255, 255, 255, 255])
        .count();
    assert!(
        opaque.abs_diff(drawn) * 20 < drawn,
        "{opaque} opaque pixels vs {drawn} drawn on white"
    );
}

#[test]
fn thumbnails_are_drawn_upright_and_not_mirrored() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    // A 2:1 thumbnail with four coloured quadrants.
    let quad = |x: u32, y: u32, w: u32, h: u32| match (x < w / 2, y < h / 2) {
        (true, true) => image::Rgb([230, 20, 20]), // top left: red
        (false, true) => image::Rgb([20, 200, 40]), // top right: green
        (true, false) => image::Rgb([30, 40, 220]), // bottom left: blue
        (false, false) => image::Rgb([240, 200, 30]), // bottom right: yellow
    };
    let hash = hash_of(99);
    for level in LEVEL_CELLS {
        let (tw, th) = tagscape::fetch::thumbnail::fit(400, 200, level);
        let path = tmp
            .path()
            .join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_fn(tw, th, |x, y| quad(x, y, tw, th))
            .save(&path)
            .unwrap();
    }
    let scene = Scene {
        positions: vec![Vec2::ZERO],
        sprites: vec![SpriteInstance::new(0, 50.0, 2.0, 0)],
        thumbs: ThumbFiles {
            project_dir: tmp.path().to_path_buf(),
            keys: vec![Some(ThumbKey {
                hash,
                ext: "png".into(),
            })],
        },
        ..Scene::default()
    };
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene, &AtlasConfig::default());
    let target = OffscreenTarget::new(&ctx.device, 200, 200);
    let camera = Camera {
        center: Vec2::ZERO,
        zoom: 1.5,
        viewport: Vec2::new(200.0, 200.0),
    };
    renderer.render_offscreen(
        &target,
        &camera,
        &FrameOptions::default(),
        Some(Duration::from_secs(20)),
    );
    let frame = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    // 150 × 75 px centred: x 25..175, y 62.5..137.5 (256 px level).
    let q = |x: u32, y: u32| pixel(&frame, 200, x, y);
    assert!(
        close(q(60, 80), [230, 20, 20], 6),
        "top left {:?}",
        q(60, 80)
    );
    assert!(
        close(q(140, 80), [20, 200, 40], 6),
        "top right {:?}",
        q(140, 80)
    );
    assert!(
        close(q(60, 120), [30, 40, 220], 6),
        "bottom left {:?}",
        q(60, 120)
    );
    assert!(
        close(q(140, 120), [240, 200, 30], 6),
        "bottom right {:?}",
        q(140, 120)
    );
    assert!(
        close(q(100, 55), WHITE, 0) && close(q(100, 145), WHITE, 0),
        "aspect 2:1 kept"
    );
    assert!(renderer.atlas().is_resident(0, 3));
}

/// Dark pixels (text, dots, edges: every channel under 110) in `[x0, x1) × [y0, y1)`.
fn dark_pixels(rgba: &[u8], width: u32, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(rgba, width, x, y).iter().all(|&c| c < 110))
        .count()
}

/// Two tags far apart on the x axis and one image between them, below,
/// with an edge to each tag. The system font (fonts-dejavu-core) draws the
/// labels.
#[test]
fn tag_labels_sit_beside_their_dots_and_hiding_a_tag_removes_dot_label_and_edges() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let scene = Scene {
        // Node 0: the image; 1 and 2: the tags.
        positions: vec![
            Vec2::new(0.0, -60.0),
            Vec2::new(-120.0, 0.0),
            Vec2::new(120.0, 0.0),
        ],
        sprites: vec![SpriteInstance::new(0, 8.0, 1.0, 0xC8C8C8)],
        dots: [1u32, 2]
            .map(|node| DotInstance {
                node,
                radius: 4.0,
                color: pack_rgba(TAG_DOT_RGB, 255),
                flags: 0,
            })
            .to_vec(),
        tag_labels: vec![
            TagLabel {
                text: "mountain".into(),
                degree: 12,
            },
            TagLabel {
                text: "river".into(),
                degree: 3,
            },
        ],
        edges: vec![[0, 1], [0, 2]],
        thumbs: ThumbFiles {
            project_dir: tmp.path().to_path_buf(),
            keys: vec![None],
        },
    };
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene, &AtlasConfig::default());
    let (w, h) = (400u32, 200u32);
    let target = OffscreenTarget::new(&ctx.device, w, h);
    let camera = Camera {
        center: Vec2::ZERO,
        zoom: 1.0,
        viewport: Vec2::new(w as f32, h as f32),
    };
    let opts = FrameOptions {
        show_tags: true,
        show_edges: true,
        edge_rgb: 0x000000,
        edge_alpha: 1.0,
        edge_width_px: 3.0,
        ..FrameOptions::default()
    };
    assert!(opts.tag_labels, "tag labels are on by default");
    let frame = |renderer: &mut Renderer, opts: &FrameOptions, name: &str| {
        renderer.render_offscreen(&target, &camera, opts, Some(Duration::from_secs(20)));
        let rgba = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
        save_png(&rgba, w, h, name);
        rgba
    };
    // World (x, y) → screen (200 + x, 100 − y): the tags' dots are centred
    // at (80, 100) and (320, 100), 4 px in radius; labels start 3 px right
    // of a dot's rim, 11–14 px high. Edge midpoints: (140, 130), (260, 130).
    let dot = |rgba: &[u8], x: u32| close(pixel(rgba, w, x, 100), [0x55; 3], 12);
    // Both look above the dot's centre line (the top half of the text):
    // the edges arrive from below.
    let label = |rgba: &[u8], x: u32| dark_pixels(rgba, w, x + 6, 86, x + 70, 99);
    let left_of = |rgba: &[u8], x: u32| dark_pixels(rgba, w, x - 60, 86, x - 6, 99);
    let edge = |rgba: &[u8], x: u32| dark_pixels(rgba, w, x - 2, 127, x + 3, 134);

    let both = frame(&mut renderer, &opts, "tag-labels.png");
    for (x, name) in [(80, "mountain"), (320, "river")] {
        assert!(
            dot(&both, x),
            "{name}'s dot at ({x}, 100) is {:?}",
            pixel(&both, w, x, 100)
        );
        assert!(
            label(&both, x) >= 20,
            "{name}'s label: {} dark pixels",
            label(&both, x)
        );
        assert_eq!(
            left_of(&both, x),
            0,
            "nothing is drawn left of {name}'s dot"
        );
    }
    assert!(
        edge(&both, 140) > 0 && edge(&both, 260) > 0,
        "both edges drawn"
    );

    // The toggle: dots without their names.
    let unlabelled = FrameOptions {
        tag_labels: false,
        ..opts.clone()
    };
    let plain = frame(&mut renderer, &unlabelled, "tag-labels-off.png");
    assert!(dot(&plain, 80) && dot(&plain, 320));
    assert_eq!(
        label(&plain, 80) + label(&plain, 320),
        0,
        "labels toggled off"
    );

    // Hiding the first tag takes its dot, its label and its edge.
    renderer.update_dot(0, |d| d.flags |= FLAG_HIDDEN);
    let hidden = frame(&mut renderer, &opts, "tag-labels-hidden.png");
    assert!(
        close(pixel(&hidden, w, 80, 100), WHITE, 6),
        "hidden dot drawn"
    );
    assert_eq!(label(&hidden, 80), 0, "hidden tag's label drawn");
    assert_eq!(edge(&hidden, 140), 0, "hidden tag's edge drawn");
    assert!(dot(&hidden, 320), "the other dot is gone");
    assert!(label(&hidden, 320) >= 20, "the other label is gone");
    assert!(edge(&hidden, 260) > 0, "the other edge is gone");

    // Shown again: all back.
    renderer.update_dot(0, |d| d.flags &= !FLAG_HIDDEN);
    let back = frame(&mut renderer, &opts, "tag-labels-shown.png");
    assert!(dot(&back, 80) && label(&back, 80) >= 20 && edge(&back, 140) > 0);
}

/// Mean absolute Laplacian of the luma of a `size`×`size` square centred on
/// `(cx, cy)`: how much fine detail an image shows there.
fn sharpness(img: &image::RgbaImage, cx: u32, cy: u32, size: u32) -> f64 {
    let luma = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let (x0, y0) = (cx - size / 2, cy - size / 2);
    let mut sum = 0.0;
    for y in y0..y0 + size {
        for x in x0..x0 + size {
            let l = 4.0 * luma(x, y)
                - luma(x - 1, y)
                - luma(x + 1, y)
                - luma(x, y - 1)
                - luma(x, y + 1);
            sum += l.abs();
        }
    }
    sum / f64::from(size * size)
}

/// Issue 11: at a scale where the 256 px thumbnails would be upscaled, a
/// poster draws each image from a source of at least its size there: the
/// 1024 px level (made from the original on demand, then kept in the
/// store) or the original itself; an image whose original is gone is drawn
/// from its largest thumbnail, and the summary says so.
#[test]
fn a_poster_draws_large_images_from_sources_of_their_size() {
    use tagscape::export::png::{PngStyle, write};
    use tagscape::graph::{Edge, Graph, Node, NodeKind};
    use tagscape::layout::{Placement, save_positions};
    use tagscape::project::Project;

    let tmp = tempfile::tempdir().unwrap();
    let mut project = Project::init(&tmp.path().join("study")).unwrap();
    // 1600 × 1200 originals: coloured 96 px squares (what the 256 px level
    // holds) under fine detail, a 5 × 7 px grid of dots, which it cannot
    // (its pixels are 6 original pixels wide).
    let (ow, oh) = (1600u32, 1200u32);
    let detail = |shift: u32| -> Vec<u8> {
        let mut rgb = Vec::with_capacity((ow * oh * 3) as usize);
        for y in 0..oh {
            for x in 0..ow {
                let t = (std::f64::consts::TAU * f64::from(x + shift) / 5.0).sin()
                    * (std::f64::consts::TAU * f64::from(y) / 7.0).sin();
                let square = ((x / 96 + y / 96) % 2) as f64;
                let v = 128.0 + 70.0 * t;
                let px = [v + 40.0 * square, v, v - 40.0 * square];
                rgb.extend(px.map(|c| c.clamp(0.0, 255.0) as u8));
            }
        }
        tagscape::fetch::jpeg::encode_rgb(&rgb, ow, oh, 95).unwrap()
    };
    // A (about 960 px on the poster: the 1024 px level), B (about 1530 px:
    // the original), C (as A, but its original is gone).
    let layout = [
        ([-15.0f32, 0.0f32], 10.0f32),
        ([20.0, 0.0], 16.0),
        ([-15.0, -16.0], 10.0),
    ];
    let mut nodes = Vec::new();
    let mut placements = Vec::new();
    let mut processed = Vec::new();
    for (i, (pos, size)) in layout.iter().enumerate() {
        let p =
            tagscape::fetch::process_body(project.dir(), &detail(i as u32), &Default::default())
                .unwrap()
                .unwrap();
        let url = format!("https://example.org/{i}.jpg");
        project
            .conn()
            .execute(
                "INSERT INTO images(url, status, content_hash, file, format, width, height, mean_color, thumb_ext)
                 VALUES (?1, 'done', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![url, p.content_hash, p.file, p.format, p.width, p.height, p.mean_color, p.thumb_ext],
            )
            .unwrap();
        nodes.push(Node {
            kind: NodeKind::Image,
            id: url.clone(),
            label: url,
            image_id: Some(project.conn().last_insert_rowid()),
            frequency: 1,
        });
        placements.push(Placement {
            x: pos[0],
            y: pos[1],
            size: *size,
        });
        processed.push(p);
    }
    std::fs::remove_file(project.dir().join(&processed[2].file)).unwrap();
    nodes.push(Node {
        kind: NodeKind::Tag,
        id: "dots".into(),
        label: "dots".into(),
        image_id: None,
        frequency: 3,
    });
    placements.push(Placement {
        x: 0.0,
        y: 0.0,
        size: 1.0,
    });
    let edges = (0..3)
        .map(|i| Edge {
            source: i,
            target: 3,
            weight: 1.0,
        })
        .collect();
    let graph = Graph::new(nodes, 3, edges);
    graph.save(&mut project).unwrap();
    save_positions(&mut project, &graph, &placements).unwrap();

    // Bounds: x −25..36 (61 units), y −23.5..12 (35.5 units); 3100 px wide,
    // margin 93: zoom = 2914 / 61 = 47.77, so A is 955 px wide and B 1529.
    let out = tmp.path().join("poster.png");
    let style = PngStyle {
        tile_limit: Some(1024),
        ..Default::default()
    };
    let drawn = write(&project, &out, Some(3100), None, &style).unwrap();
    let counts = drawn.sources;
    assert_eq!(
        (
            counts.level,
            counts.level_made,
            counts.original,
            counts.without_original,
            counts.failed
        ),
        (1, 1, 1, 1, 0),
        "{counts:?}"
    );
    assert_eq!(drawn.placeholders, 0);
    let level_file = |p: &tagscape::fetch::Processed| {
        project.dir().join(tagscape::fetch::store::thumb_path(
            1024,
            &p.content_hash,
            p.thumb_ext,
        ))
    };
    // Made once from the original and kept beside the other levels.
    let made = image::open(level_file(&processed[0])).unwrap();
    assert_eq!((made.width(), made.height()), (1024, 768));
    assert!(!level_file(&processed[2]).exists());

    let poster = image::open(&out).unwrap().into_rgba8();
    let (w, h) = poster.dimensions();
    assert_eq!(w, 3100);
    let zoom = 2914.0 / 61.0;
    let at = |x: f32, y: f32| {
        (
            (w as f32 / 2.0 + (x - 5.5) * zoom).round() as u32,
            (h as f32 / 2.0 - (y + 5.75) * zoom).round() as u32,
        )
    };
    let (a, b, c) = (at(-15.0, 0.0), at(20.0, 0.0), at(-15.0, -16.0));
    save_png(poster.as_raw(), w, h, "poster-sources.png");
    for (name, (x, y)) in [("a", a), ("b", b), ("c", c)] {
        let crop = image::imageops::crop_imm(&poster, x - 100, y - 60, 200, 120).to_image();
        save_png(
            crop.as_raw(),
            200,
            120,
            &format!("poster-sources-{name}.png"),
        );
    }

    // The same squares rendered from the 256 px level by hand: the
    // thumbnail upscaled to A's size on the poster (bilinear, as the GPU
    // samples), and the original downscaled to it (the sharpest possible).
    let a_size = (20.0 * zoom).round() as u32;
    let (aw, ah) = (a_size, a_size * 3 / 4);
    let thumb = image::open(project.dir().join(tagscape::fetch::store::thumb_path(
        256,
        &processed[0].content_hash,
        "jpg",
    )))
    .unwrap()
    .into_rgba8();
    let upscaled = image::imageops::resize(&thumb, aw, ah, image::imageops::FilterType::Triangle);
    let original = image::load_from_memory(&detail(0)).unwrap().into_rgba8();
    let ideal = image::imageops::resize(&original, aw, ah, image::imageops::FilterType::Lanczos3);
    let from_256 = sharpness(&upscaled, aw / 2, ah / 2, 300);
    for (name, img) in [("256-upscaled", &upscaled), ("ideal", &ideal)] {
        let crop = image::imageops::crop_imm(img, aw / 2 - 100, ah / 2 - 60, 200, 120).to_image();
        save_png(
            crop.as_raw(),
            200,
            120,
            &format!("poster-sources-{name}.png"),
        );
    }
    let best = sharpness(&ideal, aw / 2, ah / 2, 300);
    let (sa, sb, sc) = (
        sharpness(&poster, a.0, a.1, 300),
        sharpness(&poster, b.0, b.1, 300),
        sharpness(&poster, c.0, c.1, 300),
    );
    eprintln!(
        "sharpness: 256 px upscaled {from_256:.1}, ideal {best:.1}; poster A {sa:.1}, B {sb:.1}, C {sc:.1}"
    );
    // Sharper by far than the 256 px level upscaled; not all of the
    // original's detail (the 1024 px level is a JPEG, and the image's edges
    // fall between pixels, so the GPU blends neighbouring texels).
    assert!(
        sa > 5.0 * from_256,
        "A {sa:.1} against {from_256:.1} from the 256 px level"
    );
    assert!(
        sb > 5.0 * from_256,
        "B {sb:.1} against {from_256:.1} from the 256 px level"
    );
    assert!(
        sa > 0.4 * best,
        "A {sa:.1} against {best:.1} from the original"
    );
    assert!(
        sb > 0.3 * best,
        "B {sb:.1} against {best:.1} from the original"
    );
    // Without its original, C is as soft as the 256 px level.
    assert!(sc < 2.0 * from_256, "C {sc:.1} against {from_256:.1}");

    // A second poster reads the 1024 px level it made; the summary says
    // where the images came from, and warns once of the missing original.
    drop(project);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(["export", tmp.path().join("study").to_str().unwrap()])
        .args([
            "--format",
            "png",
            "--width",
            "3100",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{stderr}");
    assert!(
        stdout.contains(
            "3 images drawn larger than 256 px: 1 from the 1024 px level (0 made now from the originals), 1 from their originals, 1 from a smaller thumbnail (no original)"
        ),
        "{stdout}"
    );
    assert_eq!(
        stderr.matches("their originals are not in").count(),
        1,
        "{stderr}"
    );
}

/// A view whose detailed images need more than the detail texture budget
/// is drawn in several passes, each with only its own images loaded: the
/// same picture as in one pass, the layers above the images (tag dots)
/// still on top, and never more than the budget resident.
#[test]
fn detailed_images_over_the_texture_budget_are_drawn_in_passes() {
    use tagscape::render::detail::{DetailSource, DetailSources};
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let colors = [[200u8, 40, 40], [40, 160, 60], [50, 70, 200]];
    let mut keys = Vec::new();
    let mut sources = Vec::new();
    for (i, color) in colors.iter().enumerate() {
        let hash = hash_of(i + 50);
        // The pyramid in grey: only the detail source has the colour.
        write_pyramid(tmp.path(), &hash, 600, 600, |_| [128, 128, 128]);
        let original = format!("originals/{}/{hash}.png", &hash[..2]);
        let path = tmp.path().join(&original);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Left half the colour, right half black.
        image::RgbImage::from_fn(600, 600, |x, _| {
            image::Rgb(if x < 300 { *color } else { [0, 0, 0] })
        })
        .save(&path)
        .unwrap();
        keys.push(Some(ThumbKey {
            hash: hash.clone(),
            ext: "png".into(),
        }));
        sources.push(Some(DetailSource {
            side: 300,
            width: 600,
            height: 600,
            hash,
            ext: "png".into(),
            original: Some(original),
        }));
    }
    // Three images 300 px wide side by side at zoom 1, a tag dot on the
    // middle one.
    let scene = || Scene {
        positions: vec![
            Vec2::new(-310.0, 0.0),
            Vec2::new(0.0, 0.0),
            Vec2::new(310.0, 0.0),
            Vec2::new(0.0, 0.0),
        ],
        sprites: (0..3)
            .map(|i| SpriteInstance::new(i, 150.0, 1.0, 0x808080))
            .collect(),
        dots: vec![DotInstance {
            node: 3,
            radius: 10.0,
            color: pack_rgba(0xFFFF00, 255),
            flags: 0,
        }],
        thumbs: ThumbFiles {
            project_dir: tmp.path().to_path_buf(),
            keys: keys.clone(),
        },
        ..Scene::default()
    };
    let (w, h) = (960u32, 320u32);
    let camera = Camera {
        center: Vec2::ZERO,
        zoom: 1.0,
        viewport: Vec2::new(w as f32, h as f32),
    };
    let opts = FrameOptions {
        show_tags: true,
        tag_labels: false,
        ..FrameOptions::default()
    };
    let draw = |budget: Option<u64>| {
        let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene(), &AtlasConfig::default());
        renderer.set_detail_sources(DetailSources {
            project_dir: tmp.path().to_path_buf(),
            images: sources.clone(),
        });
        if let Some(b) = budget {
            renderer.set_detail_budget(b);
        }
        let target = OffscreenTarget::new(&ctx.device, w, h);
        renderer.render_offscreen(&target, &camera, &opts, Some(Duration::from_secs(60)));
        let resident = renderer.detail_bytes();
        (target.read_rgba(&ctx.device, &ctx.queue).unwrap(), resident)
    };
    let (whole, _) = draw(None);
    // One image's texture (300 × 300 RGBA) at a time: three passes.
    let one = 300 * 300 * 4;
    let (passes, resident) = draw(Some(one));
    assert!(
        resident <= one,
        "{resident} bytes resident over the {one} budget"
    );
    save_png(&passes, w, h, "detail-passes.png");
    let differ = whole
        .chunks(4)
        .zip(passes.chunks(4))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differ, 0,
        "{differ} pixels differ between one pass and three"
    );
    for (i, color) in colors.iter().enumerate() {
        // Each image's left half shows its original's colour, its right half black.
        let cx = 480 + (i as i32 - 1) * 310;
        assert!(
            close(pixel(&passes, w, (cx - 75) as u32, 100), *color, 3),
            "image {i}"
        );
        assert!(
            close(pixel(&passes, w, (cx + 75) as u32, 100), [0, 0, 0], 3),
            "image {i}"
        );
    }
    // The tag dot is drawn over the middle image.
    assert!(close(pixel(&passes, w, 480, 160), [255, 255, 0], 3));
}

/// Issue 11: tiles of a picture far from the layout's origin, at a zoom
/// where one f32 step of the centre is half a pixel, draw what the
/// picture drawn in one piece draws, to the grey level: each tile's centre
/// reaches the shaders in f64 precision (its f32 rounding and the rest).
/// Drawn from the rounded centre alone, the same tiles are visibly off.
#[test]
fn tiles_far_from_the_origin_meet_the_whole_picture_exactly() {
    let ctx = gpu();
    let tmp = tempfile::tempdir().unwrap();
    let hash = hash_of(77);
    // A 256 px checker of single texels: any sub-pixel shift shows.
    for level in LEVEL_CELLS {
        let path = tmp
            .path()
            .join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_fn(level, level, |x, y| {
            image::Rgb(if (x + y) % 2 == 0 {
                [250, 250, 250]
            } else {
                [10, 10, 10]
            })
        })
        .save(&path)
        .unwrap();
    }
    let scene = || Scene {
        positions: vec![Vec2::new(44_000.3, -35_000.7)],
        // 260 px on the picture: about one texel a pixel.
        sprites: vec![SpriteInstance::new(0, 1.0, 1.0, 0x808080)],
        thumbs: ThumbFiles {
            project_dir: tmp.path().to_path_buf(),
            keys: vec![Some(ThumbKey {
                hash: hash.clone(),
                ext: "png".into(),
            })],
        },
        ..Scene::default()
    };
    let (w, h) = (600u32, 400u32);
    // 130 px a world unit: f32 steps of 0.0039 at 44000 are half a pixel.
    let camera = Camera {
        center: Vec2::new(44_000.0, -35_000.0),
        zoom: 130.0,
        viewport: Vec2::new(w as f32, h as f32),
    };
    let opts = FrameOptions::default();
    let wait = Some(Duration::from_secs(60));
    let mut renderer = Renderer::new(&ctx, OFFSCREEN_FORMAT, scene(), &AtlasConfig::default());
    let target = OffscreenTarget::new(&ctx.device, w, h);
    renderer.render_offscreen(&target, &camera, &opts, wait);
    let whole = target.read_rgba(&ctx.device, &ctx.queue).unwrap();
    assert!(whole.chunks(4).any(|p| p[0] < 50), "the checker is drawn");
    // 4 × 4 tiles of 150 × 100 px, with the tile's exact centre and with
    // its f32 rounding only.
    let mut tiled = |exact: bool| {
        let (tw, th) = (150u32, 100u32);
        let tile_target = OffscreenTarget::new(&ctx.device, tw, th);
        let mut out = vec![0u8; (w * h * 4) as usize];
        for ty in 0..h / th {
            for tx in 0..w / tw {
                let tile = camera.tile(tx * tw, ty * th, tw, th);
                if exact {
                    renderer.render_tile(&tile_target, &tile, &opts, wait);
                } else {
                    renderer.render_offscreen(&tile_target, &tile.camera, &opts, wait);
                }
                let px = tile_target.read_rgba(&ctx.device, &ctx.queue).unwrap();
                for r in 0..th {
                    let from = (r * tw * 4) as usize;
                    let to = (((ty * th + r) * w + tx * tw) * 4) as usize;
                    out[to..to + (tw * 4) as usize]
                        .copy_from_slice(&px[from..from + (tw * 4) as usize]);
                }
            }
        }
        out
    };
    let worst = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
    let exact = tiled(true);
    save_png(&exact, w, h, "tiles-far-from-origin.png");
    let rounded = tiled(false);
    eprintln!(
        "largest difference from the whole picture: {} grey levels (exact centres), {} (rounded)",
        worst(&whole, &exact),
        worst(&whole, &rounded)
    );
    assert!(
        worst(&whole, &exact) <= 2,
        "tiles differ by {} grey levels",
        worst(&whole, &exact)
    );
    assert!(
        worst(&whole, &rounded) > 20,
        "the rounded centres alone differ by only {}: the test cannot see drift",
        worst(&whole, &rounded)
    );
}
