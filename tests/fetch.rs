//! `fetch` against a real HTTP server on 127.0.0.1 that serves images and
//! every fault the issue lists, plus crash safety of the real binary.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fetch_server::{Reply, TestServer};
use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use rusqlite::Connection;
use tagscape::fetch::{FetchOptions, fetch_images};
use tagscape::project::{Access, Project};

// ---------- test images, built here, independently of the code under test

fn png_bytes(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg_bytes(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .unwrap();
    out
}

fn gradient(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, seed])
    })
}

/// A JPEG whose pixels are red on the left half, blue on the right, stored
/// 40×20 with EXIF orientation 6 ("rotate 90° clockwise to display"): shown
/// correctly it is 20×40 with red on top.
fn jpeg_with_orientation_6() -> Vec<u8> {
    let image = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let plain = jpeg_bytes(&image);
    // TIFF header (little endian), one IFD entry: 0x0112 Orientation, SHORT, 1, value 6.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&6u16.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A well-formed PNG header declaring 100000×100000 RGB pixels (a
/// decompression bomb if anyone believed it), then a token IDAT.
fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

// ---------- helpers on the project

#[derive(Debug)]
struct Row {
    status: String,
    failure: Option<String>,
    http_status: Option<u16>,
    attempts: u32,
    content_hash: Option<String>,
    file: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    mean_color: Option<u32>,
    thumb_ext: Option<String>,
}

fn add_urls(project: &Project, urls: &[String]) {
    for url in urls {
        project
            .conn()
            .execute("INSERT INTO images(url) VALUES (?1)", [url])
            .unwrap();
    }
}

fn rows(dir: &Path) -> HashMap<String, Row> {
    let conn = Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT url, status, failure, http_status, attempts, content_hash, file, width, height,
                    mean_color, thumb_ext FROM images",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Row {
                status: r.get(1)?,
                failure: r.get(2)?,
                http_status: r.get(3)?,
                attempts: r.get(4)?,
                content_hash: r.get(5)?,
                file: r.get(6)?,
                width: r.get(7)?,
                height: r.get(8)?,
                mean_color: r.get(9)?,
                thumb_ext: r.get(10)?,
            },
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn all_files(root: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
        .collect()
}

fn test_options() -> FetchOptions {
    FetchOptions {
        concurrency: 8,
        per_host: 8,
        timeout: Duration::from_secs(2),
        max_bytes: 100_000,
        retries: 3,
        retry_base: Duration::from_millis(40),
        ..FetchOptions::default()
    }
}

/// Expected thumbnail size, computed from the spec: longest side = level,
/// never upscaled, other side rounded.
fn expected_thumb(w: u32, h: u32, level: u32) -> (u32, u32) {
    if w.max(h) <= level {
        return (w, h);
    }
    if w >= h {
        (level, ((h as f64) * level as f64 / w as f64).round() as u32)
    } else {
        (((w as f64) * level as f64 / h as f64).round() as u32, level)
    }
}

#[test]
fn every_fault_ends_in_its_recorded_state() {
    let photo = gradient(300, 200, 7);
    let photo_jpeg = jpeg_bytes(&photo);
    let solid_png = png_bytes(&RgbImage::from_pixel(50, 80, Rgb([200, 100, 50])));
    let mut alpha = Vec::new();
    RgbaImage::from_fn(30, 30, |x, _| {
        Rgba([10, 20, 30, if x < 15 { 0 } else { 255 }])
    })
    .write_to(&mut Cursor::new(&mut alpha), ImageFormat::Png)
    .unwrap();
    let passwd_png = png_bytes(&gradient(20, 10, 99));
    let big = png_bytes(&RgbImage::from_fn(400, 400, |x, y| {
        Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    }));
    assert!(
        big.len() > 100_000,
        "the oversized image must exceed the test cap"
    );
    let truncated = {
        let full = jpeg_bytes(&gradient(64, 64, 3));
        full[..full.len() * 6 / 10].to_vec()
    };
    let exif = jpeg_with_orientation_6();
    let bomb = png_bomb();

    let (photo_s, solid_s, alpha_s, passwd_s, big_s) = (
        photo_jpeg.clone(),
        solid_png.clone(),
        alpha.clone(),
        passwd_png.clone(),
        big.clone(),
    );
    let (truncated_s, exif_s, bomb_s) = (truncated.clone(), exif.clone(), bomb.clone());
    let server = TestServer::start(move |path, n| {
        let ok = |body: &Vec<u8>, content_type| Reply::Ok {
            content_type,
            body: body.clone(),
        };
        match path {
            "/photo.jpg" | "/same-bytes.jpg" => ok(&photo_s, "image/jpeg"),
            "/solid.png" => ok(&solid_s, "image/png"),
            "/alpha.png" => ok(&alpha_s, "image/png"),
            "/exif.jpg" => ok(&exif_s, "image/jpeg"),
            "/404.jpg" => Reply::Status {
                code: 404,
                headers: vec![],
            },
            "/500-then-ok.jpg" if n == 0 => Reply::Status {
                code: 500,
                headers: vec![],
            },
            "/500-then-ok.jpg" => ok(&photo_s, "image/jpeg"),
            "/always-503.jpg" => Reply::Status {
                code: 503,
                headers: vec![],
            },
            "/429-then-ok.png" if n == 0 => Reply::Status {
                code: 429,
                headers: vec![("Retry-After", "1".into())],
            },
            "/429-then-ok.png" => ok(&solid_s, "image/png"),
            "/429-for-an-hour.png" => Reply::Status {
                code: 429,
                headers: vec![("Retry-After", "3600".into())],
            },
            "/drop.jpg" => Reply::DropMidBody {
                body: photo_s.clone(),
            },
            "/hang-body.jpg" => Reply::HangMidBody {
                body: photo_s.clone(),
            },
            "/hang-headers.jpg" => Reply::HangBeforeHeaders,
            "/too-large-declared.png" => ok(&big_s, "image/png"),
            "/too-large-streamed.png" => Reply::Chunked {
                body: big_s.clone(),
            },
            "/html.jpg" => Reply::Ok {
                content_type: "image/jpeg",
                body: b"<!DOCTYPE html><html><body>Not found</body></html>".to_vec(),
            },
            "/truncated.jpg" => ok(&truncated_s, "image/jpeg"),
            "/bomb.png" => ok(&bomb_s, "image/png"),
            "/loop-a" => Reply::Status {
                code: 302,
                headers: vec![("Location", "/loop-b".into())],
            },
            "/loop-b" => Reply::Status {
                code: 302,
                headers: vec![("Location", "/loop-a".into())],
            },
            p if p.contains("passwd") => ok(&passwd_s, "image/png"),
            _ => Reply::Status {
                code: 404,
                headers: vec![],
            },
        }
    });

    let root = tempfile::tempdir().unwrap();
    let inputs = root.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::write(inputs.join("local.png"), &solid_png).unwrap();
    let local_url = url::Url::from_file_path(inputs.join("local.png"))
        .unwrap()
        .to_string();
    let missing_url = url::Url::from_file_path(inputs.join("gone.png"))
        .unwrap()
        .to_string();
    let dir = root.path().join("project");
    let mut project = Project::init(&dir).unwrap();

    let u = |p: &str| server.url(p);
    let passwd_raw = u("/../../etc/passwd");
    let passwd_encoded = u("/..%2F..%2Fetc%2Fpasswd");
    let passwd_dots = u("/%2e%2e/%2e%2e/etc/passwd");
    let urls = vec![
        u("/photo.jpg"),
        u("/same-bytes.jpg"),
        u("/solid.png"),
        u("/alpha.png"),
        u("/exif.jpg"),
        u("/404.jpg"),
        u("/500-then-ok.jpg"),
        u("/always-503.jpg"),
        u("/429-then-ok.png"),
        u("/429-for-an-hour.png"),
        u("/drop.jpg"),
        u("/hang-body.jpg"),
        u("/hang-headers.jpg"),
        u("/too-large-declared.png"),
        u("/too-large-streamed.png"),
        u("/html.jpg"),
        u("/truncated.jpg"),
        u("/bomb.png"),
        u("/loop-a"),
        passwd_raw.clone(),
        passwd_encoded.clone(),
        passwd_dots.clone(),
        local_url.clone(),
        missing_url.clone(),
        "ftp://127.0.0.1/x.jpg".to_string(),
        "not a url at all".to_string(),
    ];
    add_urls(&project, &urls);
    let outside_before = all_files(root.path())
        .into_iter()
        .filter(|p| !p.starts_with("project"))
        .collect::<BTreeSet<_>>();

    let report = fetch_images(&mut project, &test_options()).unwrap();
    let got = rows(&dir);

    let expect_failure = |url: &str, reason: &str, http: Option<u16>| {
        let row = &got[url];
        assert_eq!(row.status, "failed", "{url}: {row:?}");
        assert_eq!(row.failure.as_deref(), Some(reason), "{url}: {row:?}");
        assert_eq!(row.http_status, http, "{url}: {row:?}");
        assert!(row.file.is_none(), "{url}: a failure keeps no file");
    };
    expect_failure(&u("/404.jpg"), "http_404", Some(404));
    expect_failure(&u("/always-503.jpg"), "http_5xx", Some(503));
    expect_failure(&u("/429-for-an-hour.png"), "rate_limited", Some(429));
    expect_failure(&u("/drop.jpg"), "connection", Some(200));
    expect_failure(&u("/hang-body.jpg"), "timeout", Some(200));
    expect_failure(&u("/hang-headers.jpg"), "timeout", None);
    expect_failure(&u("/too-large-declared.png"), "too_large", Some(200));
    expect_failure(&u("/too-large-streamed.png"), "too_large", Some(200));
    expect_failure(&u("/html.jpg"), "not_an_image", Some(200));
    expect_failure(&u("/truncated.jpg"), "truncated", Some(200));
    expect_failure(&u("/bomb.png"), "too_many_pixels", Some(200));
    expect_failure(&u("/loop-a"), "redirect_loop", None);
    expect_failure(&missing_url, "file_missing", None);
    expect_failure("ftp://127.0.0.1/x.jpg", "bad_url", None);
    expect_failure("not a url at all", "bad_url", None);

    // Retries: 404 is final at once; 5xx and dropped connections are tried
    // 1 + 3 times; 500-then-ok and 429-then-ok succeed on the second try.
    assert_eq!(got[&u("/404.jpg")].attempts, 1);
    assert_eq!(got[&u("/always-503.jpg")].attempts, 4);
    assert_eq!(server.requests("/always-503.jpg").len(), 4);
    assert_eq!(got[&u("/drop.jpg")].attempts, 4);
    assert_eq!(got[&u("/500-then-ok.jpg")].attempts, 2);
    assert_eq!(got[&u("/429-then-ok.png")].attempts, 2);
    let asked = server.requests("/429-then-ok.png");
    assert!(
        asked[1] - asked[0] >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: {:?}",
        asked[1] - asked[0]
    );
    // A one-hour Retry-After is not waited for.
    assert_eq!(server.requests("/429-for-an-hour.png").len(), 1);

    // Successes: original stored under its hash, thumbnails at every level.
    let successes = [
        (u("/photo.jpg"), 300, 200),
        (u("/same-bytes.jpg"), 300, 200),
        (u("/500-then-ok.jpg"), 300, 200),
        (u("/solid.png"), 50, 80),
        (u("/429-then-ok.png"), 50, 80),
        (u("/alpha.png"), 30, 30),
        (u("/exif.jpg"), 20, 40),
        (local_url.clone(), 50, 80),
        (passwd_raw.clone(), 20, 10),
        (passwd_encoded.clone(), 20, 10),
        (passwd_dots.clone(), 20, 10),
    ];
    for (url, w, h) in &successes {
        let row = &got[url];
        assert_eq!(row.status, "done", "{url}: {row:?}");
        assert_eq!((row.width, row.height), (Some(*w), Some(*h)), "{url}");
        let file = row.file.as_deref().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let hash = blake3::hash(&bytes).to_hex().to_string();
        assert_eq!(row.content_hash.as_deref(), Some(hash.as_str()));
        let ext = if file.ends_with(".png") { "png" } else { "jpg" };
        assert_eq!(file, format!("originals/{}/{hash}.{ext}", &hash[..2]));
        let thumb_ext = row.thumb_ext.as_deref().unwrap();
        for level in [256, 64, 16] {
            let path = dir.join(format!("thumbs/{level}/{}/{hash}.{thumb_ext}", &hash[..2]));
            let thumb = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                (thumb.width(), thumb.height()),
                expected_thumb(*w, *h, level),
                "{url} level {level}"
            );
        }
    }
    assert_eq!(got[&u("/alpha.png")].thumb_ext.as_deref(), Some("png"));
    assert_eq!(got[&u("/photo.jpg")].thumb_ext.as_deref(), Some("jpg"));
    // Identical bytes from two URLs: one original.
    assert_eq!(got[&u("/photo.jpg")].file, got[&u("/same-bytes.jpg")].file);
    // A solid colour's mean is that colour (±1 for resampling rounding).
    let mean = got[&u("/solid.png")].mean_color.unwrap();
    for (got_c, want_c) in [
        (mean >> 16, 200),
        ((mean >> 8) & 0xFF, 100),
        (mean & 0xFF, 50),
    ] {
        assert!(got_c.abs_diff(want_c) <= 1, "mean colour {mean:06x}");
    }
    // EXIF orientation 6: the red left half of the stored pixels is on top.
    let exif_hash = got[&u("/exif.jpg")].content_hash.clone().unwrap();
    let shown = image::open(dir.join(format!("thumbs/256/{}/{exif_hash}.jpg", &exif_hash[..2])))
        .unwrap()
        .to_rgb8();
    let (top, bottom) = (shown.get_pixel(10, 5), shown.get_pixel(10, 35));
    assert!(top[0] > 200 && top[2] < 60, "top should be red: {top:?}");
    assert!(
        bottom[2] > 200 && bottom[0] < 60,
        "bottom should be blue: {bottom:?}"
    );

    // Nothing was written outside the project, and nothing but store files in it.
    let outside_after = all_files(root.path())
        .into_iter()
        .filter(|p| !p.starts_with("project"))
        .collect::<BTreeSet<_>>();
    assert_eq!(outside_before, outside_after);
    for file in all_files(&dir) {
        let top = file
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        assert!(
            ["originals", "thumbs", ".tagscape.lock"].contains(&top.as_str())
                || top.starts_with("tagscape.db"),
            "unexpected file {}",
            file.display()
        );
    }

    assert_eq!(report.attempted, urls.len() as u64);
    assert_eq!(report.fetched, successes.len() as u64);
    assert_eq!(report.failed_total(), (urls.len() - successes.len()) as u64);
    assert_eq!(report.failed["timeout"], 2);
    let summary = report.to_string();
    assert!(
        summary.starts_with("fetched 11 of 26 images (0 already done); failed 15: "),
        "{summary}"
    );

    // A second run retries only transient failures and never downloads a
    // success again.
    let count = |p: &str| server.requests(p).len();
    let before: HashMap<&str, usize> = [
        "/photo.jpg",
        "/404.jpg",
        "/html.jpg",
        "/hang-headers.jpg",
        "/always-503.jpg",
    ]
    .into_iter()
    .map(|p| (p, count(p)))
    .collect();
    let again = fetch_images(&mut project, &test_options()).unwrap();
    assert_eq!(count("/photo.jpg"), before["/photo.jpg"]);
    assert_eq!(count("/404.jpg"), before["/404.jpg"]);
    assert_eq!(count("/html.jpg"), before["/html.jpg"]);
    assert_eq!(count("/hang-headers.jpg"), before["/hang-headers.jpg"] + 1);
    assert_eq!(count("/always-503.jpg"), before["/always-503.jpg"] + 4);
    assert_eq!(again.already_done, successes.len() as u64);
    // Transient: 503, 429 (rate limited), drop (connection), two timeouts.
    assert_eq!(again.attempted, 5);
    assert_eq!(again.not_retried, (urls.len() - successes.len() - 5) as u64);
    // --retry-failed takes every failure again.
    let all = FetchOptions {
        retry_failed: true,
        ..test_options()
    };
    let third = fetch_images(&mut project, &all).unwrap();
    assert_eq!(third.attempted, (urls.len() - successes.len()) as u64);
    assert_eq!(count("/404.jpg"), before["/404.jpg"] + 1);
    assert_eq!(count("/photo.jpg"), before["/photo.jpg"]);
}

#[test]
fn a_killed_fetch_resumes_and_does_every_image_once() {
    const IMAGES: usize = 40;
    const CONCURRENCY: usize = 4;
    let bodies: Vec<Vec<u8>> = (0..IMAGES)
        .map(|i| png_bytes(&gradient(24, 16, i as u8)))
        .collect();
    let served = bodies.clone();
    let server = TestServer::start(move |path, _| {
        let i: usize = path
            .trim_start_matches("/img/")
            .trim_end_matches(".png")
            .parse()
            .unwrap();
        Reply::Slow {
            delay: Duration::from_millis(150),
            body: served[i].clone(),
        }
    });
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("project");
    let bin = env!("CARGO_BIN_EXE_tagscape");
    tagscape_ok(&["init", dir.to_str().unwrap()]);
    {
        let project = Project::open(&dir, Access::Write).unwrap();
        let urls: Vec<String> = (0..IMAGES)
            .map(|i| server.url(&format!("/img/{i}.png")))
            .collect();
        add_urls(&project, &urls);
    }

    let fetch = || {
        let mut cmd = Command::new(bin);
        cmd.arg("fetch")
            .arg(&dir)
            .args([
                "--concurrency",
                &CONCURRENCY.to_string(),
                "--per-host",
                &CONCURRENCY.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let mut child = fetch().spawn().unwrap();
    let db = Connection::open(dir.join("tagscape.db")).unwrap();
    let done = || -> usize {
        db.query_row(
            "SELECT count(*) FROM images WHERE status = 'done'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0) as usize
    };
    let started = Instant::now();
    while done() < 8 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "fetch made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "fetch ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_at_kill = done();
    assert!(
        done_at_kill < IMAGES,
        "the kill came too late to test anything"
    );

    let rerun = fetch().output().unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(stdout.contains("already done"), "{stdout}");

    let got = rows(&dir);
    assert_eq!(got.len(), IMAGES);
    for (i, body) in bodies.iter().enumerate() {
        let row = &got[&server.url(&format!("/img/{i}.png"))];
        assert_eq!(row.status, "done", "{i}: {row:?}");
        assert_eq!(
            row.content_hash.as_deref(),
            Some(blake3::hash(body).to_hex().as_str())
        );
    }
    // Exactly one original per image, no partial files anywhere.
    let files = all_files(&dir);
    let originals = files.iter().filter(|p| p.starts_with("originals")).count();
    assert_eq!(originals, IMAGES);
    let thumbs = files.iter().filter(|p| p.starts_with("thumbs")).count();
    assert_eq!(thumbs, IMAGES * 3);
    assert!(
        files.iter().all(|p| !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".tmp-")),
        "temporary files left: {files:?}"
    );
    // Images committed before the kill were not downloaded again: at most the
    // ones in flight at the kill were served twice.
    let served_total: usize = (0..IMAGES)
        .map(|i| server.completed(&format!("/img/{i}.png")))
        .sum();
    assert!(
        served_total <= IMAGES + 2 * CONCURRENCY,
        "{served_total} downloads for {IMAGES} images"
    );
}
