//! Issue 11 part 3: the deep-zoom web map. The pyramid has the levels and
//! tiles of the Deep Zoom formula; `index.html` loads in headless Chromium
//! from `file://` and from a local static server, shows the map (not a blank
//! page) and puts the cluster labels in the DOM as overlays.
//! Needs Chromium (apt-get install chromium, in scripts/install-deps.sh)
//! and a Vulkan driver (lavapipe).

#[path = "support/cli.rs"]
mod cli;
#[path = "support/project.rs"]
mod project;
use cli::tagscape_ok;
use project::tagged_project;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A laid-out, clustered project of twelve images in two tag groups, and
/// its web map at 600 px wide.
fn site(tmp: &Path) -> PathBuf {
    let dir = tagged_project(tmp, 12, |i| {
        if i < 6 {
            vec!["cat", "whiskers"]
        } else {
            vec!["boat", "harbour"]
        }
    });
    tagscape_ok(&["cluster", s(&dir), "--min-size", "2"]);
    tagscape_ok(&["layout", s(&dir), "--iterations", "100"]);
    let out = tmp.join("site");
    let summary = tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "dzi",
        "--out",
        s(&out),
        "--width",
        "600",
        "--hulls",
    ]);
    assert!(summary.contains("deep zoom map of 600×"), "{summary}");
    out
}

/// Width and height in the descriptor.
fn size_of(dzi: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let at = dzi.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        dzi[at..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("Width"), attr("Height"))
}

#[test]
fn the_pyramid_has_the_levels_and_tiles_of_the_deep_zoom_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(tmp.path());
    let dzi = std::fs::read_to_string(out.join("map.dzi")).unwrap();
    assert!(
        dzi.contains(r#"TileSize="254""#) && dzi.contains(r#"Overlap="1""#),
        "{dzi}"
    );
    let (w, h) = size_of(&dzi);
    assert_eq!(w, 600);
    // The formula of the format: L = ceil(log2(max side)), level l is
    // ceil(W / 2^(L-l)) wide, ceil(W_l / 254) tiles across.
    let top = (f64::from(w.max(h))).log2().ceil() as u32;
    let levels = std::fs::read_dir(out.join("map_files")).unwrap().count() as u32;
    assert_eq!(levels, top + 1);
    for level in 0..=top {
        let lw = (f64::from(w) / f64::from(1u32 << (top - level))).ceil() as u32;
        let lh = (f64::from(h) / f64::from(1u32 << (top - level))).ceil() as u32;
        let (cols, rows) = (lw.div_ceil(254), lh.div_ceil(254));
        let folder = out.join("map_files").join(level.to_string());
        let files = std::fs::read_dir(&folder).unwrap().count() as u32;
        assert_eq!(files, cols * rows, "level {level}: {lw}×{lh}");
        // The last tile reaches the level's edge, one pixel of overlap inward.
        let last = image::open(folder.join(format!("{}_{}.jpg", cols - 1, rows - 1))).unwrap();
        let start = |i: u32| if i == 0 { 0 } else { i * 254 - 1 };
        assert_eq!(
            (last.width(), last.height()),
            (lw - start(cols - 1), lh - start(rows - 1)),
            "level {level}"
        );
    }
    // Interior tiles of the top level: 254 plus the overlap on each side.
    let first = image::open(out.join(format!("map_files/{top}/0_0.jpg"))).unwrap();
    assert_eq!((first.width(), first.height()), (255, 255));
    let second = image::open(out.join(format!("map_files/{top}/1_0.jpg"))).unwrap();
    assert_eq!(second.width(), 256);
    // OpenSeadragon ships with its licence.
    let licence = std::fs::read_to_string(out.join("openseadragon/LICENSE.txt")).unwrap();
    assert!(licence.contains("OpenSeadragon contributors"));
}

/// Headless Chromium's screenshot of `url`, and the DOM after its scripts ran.
fn chromium(url: &str, shot: &Path) -> String {
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=900,700",
        "--virtual-time-budget=10000",
    ];
    let status = Command::new("chromium")
        .args(common)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .output()
        .expect("chromium (apt-get install chromium)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let dom = Command::new("chromium")
        .args(common)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

/// Share of coloured pixels: the hulls drawn in the tiles. The page's own
/// text and the label overlays are grey or black (and a page whose tiles
/// did not load measured 0.2% here, the drawn map 8.8%).
fn ink(shot: &Path) -> f64 {
    let img = image::open(shot).unwrap().into_rgb8();
    let coloured = |p: &image::Rgb<u8>| {
        let (lo, hi) = (*p.0.iter().min().unwrap(), *p.0.iter().max().unwrap());
        hi - lo > 25 && lo < 235
    };
    let n = img.pixels().filter(|p| coloured(p)).count();
    n as f64 / (img.width() * img.height()) as f64
}

/// A static file server on 127.0.0.1 for `root`, one thread per request.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut line = String::new();
                if BufReader::new(&stream).read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let path = path.split('?').next().unwrap().trim_start_matches('/');
                let file = root.join(if path.is_empty() { "index.html" } else { path });
                let reply = match std::fs::read(&file) {
                    Ok(body) if !path.contains("..") => {
                        let kind = match file.extension().and_then(|e| e.to_str()) {
                            Some("html") => "text/html; charset=utf-8",
                            Some("js") => "text/javascript",
                            Some("jpg") => "image/jpeg",
                            Some("png") => "image/png",
                            _ => "application/octet-stream",
                        };
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend(body);
                        r
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            });
        }
    });
    port
}

#[test]
fn the_page_shows_the_map_from_file_and_from_a_static_server() {
    let tmp = tempfile::tempdir().unwrap();
    let out = site(tmp.path());
    let page = std::path::absolute(out.join("index.html")).unwrap();

    let shot = tmp.path().join("file.png");
    let dom = chromium(&format!("file://{}", page.display()), &shot);
    eprintln!("coloured share from file://: {:.4}", ink(&shot));
    assert!(ink(&shot) > 0.01, "no map from file:// ({:.4})", ink(&shot));
    assert!(
        dom.matches("tagscape-label").count() >= 2,
        "the cluster labels are overlays in the DOM: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(
        dom.contains("openseadragon-canvas"),
        "OpenSeadragon started"
    );

    let port = serve(out.clone());
    let shot = tmp.path().join("http.png");
    let dom = chromium(&format!("http://127.0.0.1:{port}/index.html"), &shot);
    assert!(
        ink(&shot) > 0.01,
        "no map from a server ({:.4})",
        ink(&shot)
    );
    assert!(dom.matches("tagscape-label").count() >= 2);
}
