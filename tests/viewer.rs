//! `tagscape view` in a real window under Xvfb, driven by real X events
//! from xdotool: it starts, draws frames, zooms about the pointer on the
//! wheel and pans on a drag (checked on its own screenshots against the
//! camera maths), and quits. Without a display it writes the map as a PNG.
//!
//! Needs Xvfb and xdotool (Debian/Ubuntu: apt-get install xvfb xdotool)
//! and a Vulkan driver (apt-get install mesa-vulkan-drivers).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::{Placement, save_positions};
use tagscape::project::Project;
use tagscape::render::LEVEL_CELLS;

/// Nine solid-colour images on a 3×3 grid (spacing 60, size 20) and two tags.
const COLORS: [[u8; 3]; 9] = [
    [230, 25, 25],
    [25, 180, 40],
    [30, 40, 230],
    [240, 200, 20],
    [200, 30, 200],
    [20, 200, 210],
    [250, 130, 20],
    [120, 60, 20],
    [90, 90, 90],
];

fn make_project(dir: &Path, with_layout: bool) {
    let mut project = Project::init(dir).unwrap();
    let mut nodes = Vec::new();
    let mut placements = Vec::new();
    for (i, color) in COLORS.iter().enumerate() {
        let hash = format!("{:02x}{:062x}", i * 29 % 256, i + 1);
        for level in LEVEL_CELLS {
            let (w, h) = tagscape::fetch::thumbnail::fit(300, 300, level);
            let path = dir.join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            image::RgbImage::from_pixel(w, h, image::Rgb(*color))
                .save(&path)
                .unwrap();
        }
        let url = format!("https://example.org/{i}.jpg");
        let mean = (u32::from(color[0]) << 16) | (u32::from(color[1]) << 8) | u32::from(color[2]);
        project
            .conn()
            .execute(
                "INSERT INTO images(url, status, content_hash, thumb_ext, width, height, mean_color, metadata) VALUES (?1, 'done', ?2, 'png', 300, 300, ?3, '{\"user\":\"someone\"}')",
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
            x: (i % 3) as f32 * 60.0 - 60.0,
            y: (i / 3) as f32 * 60.0 - 60.0,
            size: 20.0,
        });
    }
    let mut edges = Vec::new();
    for (t, name) in ["red", "blue"].iter().enumerate() {
        nodes.push(Node {
            kind: NodeKind::Tag,
            id: name.to_string(),
            label: name.to_string(),
            image_id: None,
            frequency: 1,
        });
        placements.push(Placement {
            x: 0.0,
            y: 0.0,
            size: 5.0,
        });
        for i in 0..9u32 {
            if i % 2 == t as u32 {
                edges.push(Edge {
                    source: i,
                    target: 9 + t as u32,
                    weight: 1.0,
                });
            }
        }
    }
    let graph = Graph::new(nodes, 9, edges);
    graph.save(&mut project).unwrap();
    if with_layout {
        save_positions(&mut project, &graph, &placements).unwrap();
    }
}

/// An X server for the test, stopped on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_xvfb() -> Xvfb {
    // A display number nobody uses (no lock file, no socket).
    let n = (90..400)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("no free X display number in 90..400");
    // -noreset: by default the server resets when its last client leaves
    // (the readiness probe below), and a connection made during the reset
    // fails — the viewer then fell back to a PNG and the test failed.
    let child = Command::new("Xvfb")
        .args([
            &format!(":{n}"),
            "-screen",
            "0",
            "1280x1024x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start Xvfb ({e}): install it (Debian/Ubuntu: apt-get install xvfb xauth xdotool)")
        });
    let xvfb = Xvfb {
        child,
        display: format!(":{n}"),
    };
    // The socket file appears at bind(), before the server accepts
    // connections: wait until a client really connects.
    let start = Instant::now();
    loop {
        let connected = Command::new("xdotool")
            .arg("getdisplaygeometry")
            .env("DISPLAY", &xvfb.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run xdotool ({e}): install it (apt-get install xdotool)")
            })
            .success();
        if connected {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Xvfb :{n} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    xvfb
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xdotool ({e}): install it (apt-get install xdotool)")
        });
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

// Clicks and keys go through XTest (no --window): winit reads XInput2
// events, which synthetic XSendEvent events do not produce.

/// Lines the child prints on stdout, as they come.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(
    rx: &Receiver<String>,
    errors: &Receiver<String>,
    prefix: &str,
    seen: &mut Vec<String>,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
            Err(_) => panic!(
                "no line starting with {prefix:?}; stdout so far: {seen:#?}; stderr: {:#?}",
                errors.try_iter().collect::<Vec<_>>()
            ),
        }
    }
}

/// `tagscape view ARGS` in a window on `x`, once its window is shown:
/// the child, its output lines and the window id.
struct Window {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    wid: String,
}

fn open_window(x: &Xvfb, tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Window {
    let runtime = tmp.join("xdg");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .arg("view")
        .args(args)
        .env("DISPLAY", &x.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_RUNTIME_DIR", &runtime)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let start = Instant::now();
    let wid = loop {
        let found = xdotool(
            &x.display,
            &["search", "--onlyvisible", "--name", "tagscape"],
        );
        if let Some(w) = found.lines().next() {
            break w.to_string();
        }
        if let Ok(Some(status)) = child.try_wait() {
            let err: Vec<String> = stderr.try_iter().collect();
            panic!("the viewer exited with {status} before showing a window: {err:#?}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no viewer window"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    Window {
        child,
        stdout,
        stderr,
        wid,
    }
}

/// Centroid and pixel count of the pixels within 30 of `color` per channel.
fn blob(img: &image::RgbaImage, color: [u8; 3]) -> Option<(f64, f64, usize)> {
    let (mut sx, mut sy, mut n) = (0f64, 0f64, 0usize);
    for (x, y, p) in img.enumerate_pixels() {
        if (0..3).all(|c| p.0[c].abs_diff(color[c]) <= 30) {
            sx += f64::from(x) + 0.5;
            sy += f64::from(y) + 0.5;
            n += 1;
        }
    }
    (n > 0).then(|| (sx / n as f64, sy / n as f64, n))
}

#[test]
fn the_window_draws_zooms_on_the_wheel_pans_on_a_drag_and_quits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    make_project(&dir, true);
    let x = start_xvfb();
    // The window appears, titled with the adapter's name.
    let Window {
        mut child,
        stdout,
        stderr,
        wid,
    } = open_window(&x, tmp.path(), &[dir.to_str().unwrap()], &[]);
    let mut seen = Vec::new();
    let title = xdotool(&x.display, &["getwindowname", &wid]);
    assert!(title.starts_with("tagscape"), "{title}");
    assert!(
        title.contains(" — ") && title.len() > "tagscape — ".len() + dir.to_string_lossy().len(),
        "the title names the adapter: {title}"
    );
    xdotool(&x.display, &["windowfocus", "--sync", &wid]);
    // Give the first frames and the thumbnails a moment.
    std::thread::sleep(Duration::from_secs(2));

    let shoot = |seen: &mut Vec<String>| -> image::RgbaImage {
        xdotool(&x.display, &["key", "shift+s"]);
        let path = wait_for_line(&stdout, &stderr, "screenshot saved to ", seen);
        // Kept for looking at (target/tmp/viewer-tests/).
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("viewer-tests");
        std::fs::create_dir_all(&keep).unwrap();
        let name = Path::new(&path).file_name().unwrap().to_owned();
        std::fs::copy(&path, keep.join(name)).unwrap();
        image::open(&path).unwrap().into_rgba8()
    };
    let before = shoot(&mut seen);
    // Not blank: the nine colours are on the white map.
    let white = before
        .pixels()
        .filter(|p| p.0[..3].iter().all(|&c| c >= 250))
        .count();
    let total = before.pixels().count();
    assert!(
        white > total / 4 && white < total,
        "{white} of {total} white"
    );
    let blobs_before: Vec<_> = COLORS.iter().map(|c| blob(&before, *c)).collect();
    assert!(
        blobs_before.iter().filter(|b| b.is_some()).count() >= 6,
        "most images are visible: {blobs_before:?}"
    );

    // Two wheel clicks up at (700, 400): winit reports each X button click
    // as two wheel steps (press and release), so 4 steps of 1.2 = 2.0736×
    // about the pointer.
    xdotool(&x.display, &["mousemove", "--window", &wid, "700", "400"]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&x.display, &["click", "4"]);
    xdotool(&x.display, &["click", "4"]);
    std::thread::sleep(Duration::from_millis(300));
    let zoomed = shoot(&mut seen);
    let factor = 1.2f64.powi(4);
    let (px, py) = (700.0, 400.0);
    let mut checked = 0;
    for (i, c) in COLORS.iter().enumerate() {
        let (Some(a), Some(b)) = (blobs_before[i], blob(&zoomed, *c)) else {
            continue;
        };
        // Only images wholly on screen in both frames (area grows by factor²).
        let area_ratio = b.2 as f64 / a.2 as f64;
        if (area_ratio / (factor * factor) - 1.0).abs() > 0.15 {
            continue;
        }
        let ex = px + (a.0 - px) * factor;
        let ey = py + (a.1 - py) * factor;
        assert!(
            (b.0 - ex).abs() < 3.0 && (b.1 - ey).abs() < 3.0,
            "image {i}: at ({:.1}, {:.1}) after the zoom, expected ({ex:.1}, {ey:.1})",
            b.0,
            b.1
        );
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no image stayed wholly visible through the zoom"
    );
    let changed = before
        .pixels()
        .zip(zoomed.pixels())
        .filter(|(a, b)| (0..3).any(|c| a.0[c].abs_diff(b.0[c]) > 40))
        .count();
    assert!(
        changed > total / 50,
        "only {changed} pixels changed after the zoom"
    );

    // Drag with the left button by (+60, +40): the map follows the pointer.
    xdotool(&x.display, &["mousemove", "--window", &wid, "700", "400"]);
    xdotool(&x.display, &["mousedown", "1"]);
    for step in 1..=4 {
        let (dx, dy) = (15 * step, 10 * step);
        xdotool(
            &x.display,
            &[
                "mousemove",
                "--window",
                &wid,
                &(700 + dx).to_string(),
                &(400 + dy).to_string(),
            ],
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    xdotool(&x.display, &["mouseup", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    let dragged = shoot(&mut seen);
    let mut moved = 0;
    for (i, c) in COLORS.iter().enumerate() {
        let (Some(a), Some(b)) = (blob(&zoomed, *c), blob(&dragged, *c)) else {
            continue;
        };
        if (b.2 as f64 / a.2 as f64 - 1.0).abs() > 0.05 {
            continue; // partly off screen in one of the frames
        }
        assert!(
            (b.0 - a.0 - 60.0).abs() < 2.0 && (b.1 - a.1 - 40.0).abs() < 2.0,
            "image {i} moved by ({:.1}, {:.1}), not (60, 40)",
            b.0 - a.0,
            b.1 - a.1
        );
        moved += 1;
    }
    assert!(
        moved >= 1,
        "no image stayed wholly visible through the drag"
    );

    // Ctrl+Q quits with the frame summary.
    xdotool(&x.display, &["key", "ctrl+q"]);
    let summary = wait_for_line(&stdout, &stderr, "view: ", &mut seen);
    let frames: u64 = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(frames >= 4, "{summary}");
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "{status}: {:#?}",
        stderr.try_iter().collect::<Vec<_>>()
    );
    eprintln!("{summary}");
}

#[test]
fn without_a_display_the_map_is_written_as_a_png() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    make_project(&dir, true);
    let out = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .arg("view")
        .arg(&dir)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Without a session's runtime directory the GPU driver stays quiet.
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    let png = dir.join("map.png");
    assert!(
        stderr.contains("no display") && stderr.contains(&png.display().to_string()),
        "{stderr}"
    );
    let img = image::open(&png).unwrap().into_rgba8();
    assert_eq!(img.width(), 2000);
    // The nine images are drawn (their colours are present).
    for c in COLORS {
        assert!(blob(&img, c).is_some(), "{c:?} missing");
    }

    // No layout and no display: the message says how to make one.
    let dir2 = tmp.path().join("unlaid");
    make_project(&dir2, false);
    let out = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .arg("view")
        .arg(&dir2)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("tagscape layout {}", dir2.display())),
        "{stderr}"
    );
}

#[test]
fn live_layout_changes_reach_the_gpu_forces() {
    use std::sync::Arc;
    use tagscape::gpu::GpuContext;
    use tagscape::layout::gpu::GpuFa2;
    use tagscape::layout::{ForceAtlas2Settings, LayoutInput, random_positions};
    use tagscape::viewer::live_layout::masked_attraction;

    // Six images, three tags, each image on two tags.
    let node = |kind, id: String| Node {
        label: id.clone(),
        id,
        kind,
        image_id: None,
        frequency: 1,
    };
    let mut nodes: Vec<Node> = (0..6)
        .map(|i| node(NodeKind::Image, format!("i{i}")))
        .collect();
    nodes.extend((0..3).map(|t| node(NodeKind::Tag, format!("t{t}"))));
    let edges = (0..6u32)
        .flat_map(|i| {
            [(i % 3), ((i + 1) % 3)].map(|t| Edge {
                source: i,
                target: 6 + t,
                weight: 1.0 + i as f32,
            })
        })
        .collect();
    let graph = Graph::new(nodes, 6, edges);
    let start = random_positions(9, 3);
    let ctx = Arc::new(GpuContext::new_headless().unwrap_or_else(|e| {
        panic!("{e:#} (needs a Vulkan driver: apt-get install mesa-vulkan-drivers)")
    }));
    let before = ForceAtlas2Settings {
        barnes_hut_optimize: false,
        ..ForceAtlas2Settings::for_graph(9)
    };
    let after = ForceAtlas2Settings {
        scaling_ratio: 7.0,
        gravity: 3.0,
        lin_log_mode: true,
        ..before.clone()
    };
    let (input, _) = LayoutInput::new(&graph, vec![1.0; 9], &before);
    let mut hidden = vec![false; 9];
    hidden[7] = true;
    let masked = masked_attraction(&input.attraction, &graph.offsets, &graph.adjacency, &hidden);

    // Updated in place, as the viewer does ...
    let mut live = GpuFa2::new(ctx.clone(), &input, &before, &start).unwrap();
    let original = live.total_forces().unwrap();
    live.set_settings(&after);
    live.set_attraction(&masked).unwrap();
    let updated = live.total_forces().unwrap();
    // ... equals a backend built from scratch with the new settings and weights.
    let fresh_input = LayoutInput {
        attraction: masked.clone(),
        ..input.clone()
    };
    let mut fresh = GpuFa2::new(ctx, &fresh_input, &after, &start).unwrap();
    let expected = fresh.total_forces().unwrap();
    for (i, (u, e)) in updated.iter().zip(&expected).enumerate() {
        let scale = e[0].abs().max(e[1].abs()).max(1.0);
        assert!(
            (u[0] - e[0]).abs() <= 1e-4 * scale && (u[1] - e[1]).abs() <= 1e-4 * scale,
            "node {i}: {u:?} vs {e:?}"
        );
    }
    assert!(
        original
            .iter()
            .zip(&updated)
            .any(|(a, b)| (a[0] - b[0]).abs() > 1e-3),
        "the update changed nothing"
    );
    // A coefficient list of the wrong length is refused.
    assert!(live.set_attraction(&masked[..masked.len() - 4]).is_err());
}

/// Issue 12: three tweets sharing one image are three posts on its hover
/// card (the card's post line is logged at debug level as it is drawn).
#[test]
fn the_hover_card_shows_every_post_of_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    make_project(&dir, true);
    // Image 4 (the centre of the grid) is shared by three tweets, by two users.
    let shared = "https://example.org/4.jpg";
    let tweets = tmp.path().join("tweets.csv");
    std::fs::write(
        &tweets,
        format!(
            "id,created_at,from_user_name,text,media_urls\n\
             101,2019-03-15 13:00:00,alice,first,{shared}\n\
             102,2019-03-16 09:30:00,bob,second,{shared}\n\
             103,2019-03-14 08:00:00,alice,third,{shared}\n"
        ),
    )
    .unwrap();
    let added = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(["add", dir.to_str().unwrap(), tweets.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let x = start_xvfb();
    let Window {
        mut child,
        stdout,
        stderr,
        wid,
    } = open_window(
        &x,
        tmp.path(),
        &[dir.to_str().unwrap()],
        &[
            ("RUST_LOG", "tagscape::viewer=debug,warn"),
            ("NO_COLOR", "1"),
        ],
    );
    let mut seen = Vec::new();
    xdotool(&x.display, &["windowfocus", "--sync", &wid]);
    std::thread::sleep(Duration::from_secs(2));
    // Find the shared image on the viewer's own screenshot, then hover it.
    xdotool(&x.display, &["key", "shift+s"]);
    let path = wait_for_line(&stdout, &stderr, "screenshot saved to ", &mut seen);
    let shot = image::open(&path).unwrap().into_rgba8();
    let (cx, cy, _) = blob(&shot, COLORS[4]).expect("the shared image is on screen");
    xdotool(
        &x.display,
        &[
            "mousemove",
            "--window",
            &wid,
            &(cx.round() as i64).to_string(),
            &(cy.round() as i64).to_string(),
        ],
    );
    // The log goes to stderr: "DEBUG hover card: URL · 3 posts · …".
    let deadline = Instant::now() + Duration::from_secs(60);
    let card = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = stderr
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no hover card logged; stdout: {seen:#?}"));
        if let Some(at) = line.find("hover card: ") {
            break line[at..].to_string();
        }
    };
    assert!(
        card.contains(&format!(
            "{shared} · 3 posts · 2 users · 2019-03-14 to 2019-03-16"
        )),
        "{card}"
    );
    xdotool(&x.display, &["key", "ctrl+q"]);
    wait_for_line(&stdout, &stderr, "view: ", &mut seen);
    assert!(child.wait().unwrap().success());
}

/// Issue 11 part 4: P plays the tour given with `view --tour`: the camera
/// leaves the whole map and zooms in on the keyframe's image.
#[test]
fn a_tour_plays_in_the_window_and_zooms_in_on_its_keyframe() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    make_project(&dir, true);
    // Keyframe 2 frames image 0 (red, at -60,-60, 40 units wide) closely:
    // 50 units across the map between the panels.
    std::fs::create_dir_all(dir.join("tours")).unwrap();
    std::fs::write(
        dir.join("tours").join("zoom.json"),
        r#"{"name": "zoom", "keyframes": [
            {"center": [0.0, 0.0], "width": 400.0, "height": 250.0, "hold_seconds": 0.2},
            {"center": [-60.0, -60.0], "width": 50.0, "height": 32.0, "caption": "Red", "hold_seconds": 60.0}
        ]}"#,
    )
    .unwrap();
    let x = start_xvfb();
    let Window {
        mut child,
        stdout,
        stderr,
        wid,
    } = open_window(
        &x,
        tmp.path(),
        &[dir.to_str().unwrap(), "--tour", "zoom"],
        &[],
    );
    let mut seen = Vec::new();
    xdotool(&x.display, &["windowfocus", "--sync", &wid]);
    std::thread::sleep(Duration::from_secs(2));
    let shoot = |seen: &mut Vec<String>| {
        xdotool(&x.display, &["key", "shift+s"]);
        let path = wait_for_line(&stdout, &stderr, "screenshot saved to ", seen);
        image::open(&path).unwrap().into_rgba8()
    };
    let before = shoot(&mut seen);
    let red_before = blob(&before, COLORS[0])
        .expect("the red image is on screen")
        .2;
    // The map over a pointer-free spot, then P: hold 0.2 s, fly (at most 6 s).
    xdotool(&x.display, &["mousemove", "--window", &wid, "5", "795"]);
    xdotool(&x.display, &["key", "p"]);
    std::thread::sleep(Duration::from_secs(8));
    let during = shoot(&mut seen);
    let (cx, cy, red_during) = blob(&during, COLORS[0]).expect("the red image is still on screen");
    assert!(
        red_during > red_before * 4,
        "the tour zoomed in on the red image: {red_before} px before, {red_during} px during"
    );
    // It is centred between the panels (about 260 px left, 280 right).
    assert!(
        (cx - 640.0).abs() < 60.0 && (cy - 400.0).abs() < 60.0,
        "red image at ({cx:.0}, {cy:.0})"
    );
    xdotool(&x.display, &["key", "ctrl+q"]);
    wait_for_line(&stdout, &stderr, "view: ", &mut seen);
    assert!(child.wait().unwrap().success());
}
