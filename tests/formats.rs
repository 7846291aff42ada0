//! Image formats beyond what `image` decodes, and text files in other
//! encodings (issue 13 item 21): SVG through resvg (never reading outside
//! the document), ICO files holding PNGs, AVIF and HEIC through external
//! tools when installed (a clear failure otherwise), UTF-16 and
//! Windows-1252 lists, tables and tag files. Every test runs the binary.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output};

use fetch_server::{Reply, TestServer};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use rusqlite::Connection;

/// One image as the store has it.
#[derive(Clone, Debug)]
struct Image {
    status: String,
    failure: Option<String>,
    detail: Option<String>,
    format: Option<String>,
    size: Option<(u32, u32)>,
    mean_color: Option<u32>,
}

/// Images by what the list said: local paths are stored as `file://` URLs.
fn images(dir: &Path) -> HashMap<String, Image> {
    stored_images(dir)
        .into_iter()
        .map(|(url, image)| {
            (
                url.strip_prefix("file://")
                    .map_or(url.clone(), String::from),
                image,
            )
        })
        .collect()
}

fn stored_images(dir: &Path) -> HashMap<String, Image> {
    let conn = Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT url, status, failure, failure_detail, format, width, height, mean_color FROM images",
        )
        .unwrap();
    stmt.query_map([], |r| {
        let size = match (r.get::<_, Option<u32>>(5)?, r.get::<_, Option<u32>>(6)?) {
            (Some(w), Some(h)) => Some((w, h)),
            _ => None,
        };
        Ok((
            r.get(0)?,
            Image {
                status: r.get(1)?,
                failure: r.get(2)?,
                detail: r.get(3)?,
                format: r.get(4)?,
                size,
                mean_color: r.get(7)?,
            },
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// `tagscape ARGS…` with extra environment variables.
fn run_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagscape"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn png(image: impl Into<DynamicImage>) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .into()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// A project in `root/study` holding `entries` (URLs or paths) as a list.
fn project_with(root: &Path, entries: &[String]) -> std::path::PathBuf {
    let dir = root.join("study");
    tagscape_ok(&["init", dir.to_str().unwrap()]);
    let list = root.join("images.txt");
    std::fs::write(&list, entries.join("\n") + "\n").unwrap();
    tagscape_ok(&["add", dir.to_str().unwrap(), list.to_str().unwrap()]);
    dir
}

/// Whether `color` (0xRRGGBB) is within `tolerance` of `want` per channel.
fn near(color: u32, want: u32, tolerance: u32) -> bool {
    (0..3).all(|i| ((color >> (8 * i)) & 0xFF).abs_diff((want >> (8 * i)) & 0xFF) <= tolerance)
}

// ---------- SVG

#[test]
fn svg_images_are_rasterised_without_reading_anything_outside_them() {
    let root = tempfile::tempdir().unwrap();
    // Green files an SVG might try to pull in: if any were read, the
    // drawing (blue, covered by the linked image) would turn green.
    let green = png(RgbImage::from_pixel(40, 20, Rgb([0, 255, 0])));
    std::fs::write(root.path().join("green.png"), &green).unwrap();
    let green_path = root.path().join("green.png");
    let served = green.clone();
    let server = TestServer::start(move |path, _| match path {
        "/secret.png" => Reply::Ok {
            content_type: "image/png",
            body: served.clone(),
        },
        "/drawing" => Reply::Ok {
            // No extension, a wrong type: recognised by its bytes.
            content_type: "application/octet-stream",
            body: br##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 20 10">
  <rect width="20" height="10" fill="#ff0000"/>
</svg>"##
                .to_vec(),
        },
        _ => Reply::Status {
            code: 404,
            headers: vec![],
        },
    });
    let hostile = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">
  <rect width="40" height="20" fill="#0000ff"/>
  <image width="40" height="20" href="file://{0}"/>
  <image width="40" height="20" xlink:href="{0}"/>
  <image width="40" height="20" href="green.png"/>
  <image width="40" height="20" href="file:///etc/passwd"/>
  <image width="40" height="20" href="{1}"/>
</svg>"##,
        green_path.display(),
        server.url("/secret.png")
    );
    std::fs::write(root.path().join("hostile.svg"), hostile).unwrap();
    // Ten levels of ten <use>: 10¹⁰ rectangles out of 2 KB.
    let mut bomb = String::from(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><g id="l0"><rect width="1" height="1"/></g>"#,
    );
    for level in 1..=10 {
        bomb.push_str(&format!(r#"<g id="l{level}">"#));
        for _ in 0..10 {
            bomb.push_str(&format!(r##"<use xlink:href="#l{}"/>"##, level - 1));
        }
        bomb.push_str("</g>");
    }
    bomb.push_str(r##"<use xlink:href="#l10"/></svg>"##);
    std::fs::write(root.path().join("bomb.svg"), bomb).unwrap();
    let entries = vec![
        server.url("/drawing"),
        root.path().join("hostile.svg").display().to_string(),
        root.path().join("bomb.svg").display().to_string(),
    ];
    let dir = project_with(root.path(), &entries);
    let out = run_with(&[], &["fetch", dir.to_str().unwrap()]);
    let got = images(&dir);

    let drawing = &got[&entries[0]];
    assert_eq!(drawing.status, "done", "{drawing:?}");
    assert_eq!(drawing.format.as_deref(), Some("svg"));
    assert_eq!(drawing.size, Some((200, 100)));
    assert!(
        near(drawing.mean_color.unwrap(), 0xFF0000, 2),
        "{drawing:?}"
    );
    // The 256 px level of a 200×100 drawing is 200×100 (never upscaled).
    let thumbs = walk(&dir.join("thumbs"));
    assert!(
        thumbs
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "jpg")),
        "{thumbs:?}"
    );

    let hostile = &got[&entries[1]];
    assert_eq!(hostile.status, "done", "{hostile:?}");
    assert!(
        near(hostile.mean_color.unwrap(), 0x0000FF, 2),
        "a linked file or URL was drawn: {hostile:?}"
    );
    assert!(
        server.requests("/secret.png").is_empty(),
        "the SVG's link was requested"
    );

    let bomb = &got[&entries[2]];
    assert_eq!(bomb.status, "failed");
    assert_eq!(bomb.failure.as_deref(), Some("too_many_pixels"), "{bomb:?}");
    assert!(
        stdout(&out).contains("1 too_many_pixels"),
        "{}",
        stdout(&out)
    );
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

// ---------- ICO

/// An ICO whose one directory entry says `entry_side` and holds `payload`.
fn ico(entry_side: u8, bits: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 1, 0, 1, 0];
    out.extend_from_slice(&[entry_side, entry_side, 0, 0]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn icons_holding_pngs_are_read() {
    let root = tempfile::tempdir().unwrap();
    let rgba = png(image::RgbaImage::from_pixel(
        32,
        32,
        image::Rgba([255, 0, 0, 255]),
    ));
    // Favicons in the wild: an RGB (not RGBA) PNG, and a PNG larger than the
    // directory says (the entry is a byte: 48 written where 64 is held).
    let rgb = png(RgbImage::from_pixel(48, 48, Rgb([0, 0, 255])));
    let bigger = png(RgbImage::from_pixel(64, 64, Rgb([0, 255, 0])));
    let files = [
        ("rgba.ico", ico(32, 32, &rgba), (32, 32), 0xFF0000),
        ("rgb.ico", ico(48, 24, &rgb), (48, 48), 0x0000FF),
        ("bigger.ico", ico(48, 32, &bigger), (64, 64), 0x00FF00),
    ];
    let mut entries = Vec::new();
    for (name, bytes, _, _) in &files {
        let path = root.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        entries.push(path.display().to_string());
    }
    let dir = project_with(root.path(), &entries);
    tagscape_ok(&["fetch", dir.to_str().unwrap()]);
    let got = images(&dir);
    for ((name, _, size, color), entry) in files.iter().zip(&entries) {
        let image = &got[entry];
        assert_eq!(image.status, "done", "{name}: {image:?}");
        assert_eq!(image.format.as_deref(), Some("ico"), "{name}");
        assert_eq!(image.size, Some(*size), "{name}");
        assert!(
            near(image.mean_color.unwrap(), *color, 2),
            "{name}: {image:?}"
        );
    }
}

// ---------- AVIF and HEIC

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("-h")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// A file with only the boxes tagscape reads before any tool runs: `ftyp`
/// with `brand` and a `meta` box declaring a `w`×`h` picture (`ispe`).
fn heif_stub(brand: &[u8; 4], w: u32, h: u32) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend_from_slice(b"ftyp");
    out.extend_from_slice(brand);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(b"mif1");
    out.extend_from_slice(brand);
    let mut ispe = vec![0, 0, 0, 20];
    ispe.extend_from_slice(b"ispe\0\0\0\0");
    ispe.extend_from_slice(&w.to_be_bytes());
    ispe.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&((ispe.len() + 12) as u32).to_be_bytes());
    out.extend_from_slice(b"meta\0\0\0\0");
    out.extend(ispe);
    out
}

/// An AVIF and a HEIC of 96×64 pixels, red and blue: made by ffmpeg and
/// heif-enc where installed, else stubs that only the missing-tool branch reads.
fn avif_and_heic(root: &Path) -> (std::path::PathBuf, std::path::PathBuf, bool, bool) {
    let avif = root.join("red.avif");
    let made_avif = installed("ffmpeg")
        && Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
            .args(["-i", "color=c=red:s=96x64", "-frames:v", "1"])
            .arg(&avif)
            .status()
            .is_ok_and(|s| s.success());
    if !made_avif {
        eprintln!("ffmpeg is not installed: AVIF decoding is not checked, only its failure");
        std::fs::write(&avif, heif_stub(b"avif", 96, 64)).unwrap();
    }
    let heic = root.join("blue.heic");
    let source = root.join("blue.png");
    std::fs::write(&source, png(RgbImage::from_pixel(96, 64, Rgb([0, 0, 255])))).unwrap();
    let made_heic = installed("heif-enc")
        && Command::new("heif-enc")
            .arg(&source)
            .arg("-o")
            .arg(&heic)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !made_heic {
        eprintln!("heif-enc is not installed: HEIC decoding is not checked, only its failure");
        std::fs::write(&heic, heif_stub(b"heic", 96, 64)).unwrap();
    }
    (avif, heic, made_avif, made_heic)
}

#[test]
fn avif_and_heic_are_decoded_by_the_tools_or_fail_naming_them() {
    let root = tempfile::tempdir().unwrap();
    let (avif, heic, made_avif, made_heic) = avif_and_heic(root.path());
    let entries = vec![avif.display().to_string(), heic.display().to_string()];
    let missing = [
        ("TAGSCAPE_FFMPEG", "/nonexistent/ffmpeg"),
        ("TAGSCAPE_HEIF_CONVERT", "/nonexistent/heif-convert"),
    ];

    // Without the tools: a clear failure each, naming what to install.
    let without = root.path().join("without");
    std::fs::create_dir(&without).unwrap();
    let dir = project_with(&without, &entries);
    let out = run_with(&missing, &["fetch", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("failed 2: 2 unsupported_format"),
        "{}",
        stdout(&out)
    );
    let got = images(&dir);
    for (entry, package) in entries.iter().zip(["ffmpeg", "libheif-examples"]) {
        let image = &got[entry];
        assert_eq!(image.status, "failed", "{image:?}");
        assert_eq!(image.failure.as_deref(), Some("unsupported_format"));
        let detail = image.detail.as_deref().unwrap();
        assert!(
            detail.contains(&format!("apt-get install {package}")),
            "{detail}"
        );
    }

    // With them (where installed): thumbnailed at their size and colour.
    let with = root.path().join("with");
    std::fs::create_dir(&with).unwrap();
    let dir = project_with(&with, &entries);
    let out = run_with(&[], &["fetch", dir.to_str().unwrap()]);
    let got = images(&dir);
    let checks = [
        (made_avif, &entries[0], "avif", 0xFF0000),
        (
            made_heic && installed("heif-convert"),
            &entries[1],
            "heic",
            0x0000FF,
        ),
    ];
    for (decodable, entry, format, color) in checks {
        let image = &got[entry];
        if !decodable {
            assert_eq!(
                image.failure.as_deref(),
                Some("unsupported_format"),
                "{image:?}"
            );
            continue;
        }
        assert_eq!(image.status, "done", "{image:?}\n{}", stdout(&out));
        assert_eq!(image.format.as_deref(), Some(format));
        assert_eq!(image.size, Some((96, 64)));
        // Video codecs shift colours a little (limited range YUV 4:2:0).
        assert!(
            near(image.mean_color.unwrap(), color, 24),
            "{format}: {image:?}"
        );
    }

    // AVIF without ffmpeg but with libheif: heif-convert decodes it.
    if made_avif && installed("heif-convert") {
        let fallback = root.path().join("fallback");
        std::fs::create_dir(&fallback).unwrap();
        let dir = project_with(&fallback, &entries[..1]);
        run_with(&missing[..1], &["fetch", dir.to_str().unwrap()]);
        let image = &images(&dir)[&entries[0]];
        assert_eq!(image.status, "done", "{image:?}");
        assert_eq!(image.size, Some((96, 64)));
    }
}

// ---------- text encodings

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// `text` in Windows-1252 (only Latin-1 letters are used here).
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

fn column(dir: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let mut out: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

#[test]
fn lists_tables_and_tag_files_in_utf16_or_windows_1252_are_read_with_a_note() {
    let root = tempfile::tempdir().unwrap();
    let list = "http://example.org/a.jpg\r\nhttp://example.org/cr\u{e8}me.jpg\r\n";
    let table = "url,user\nhttp://example.org/b.jpg,Jos\u{e9}\n";
    let semicolons = "url;user\r\nhttp://example.org/c.jpg;M\u{fc}ller\r\n";
    let tags = "url,concept,confidence\nhttp://example.org/a.jpg,caf\u{e9},0.9\n";
    let tags16 = "url,concept,confidence\nhttp://example.org/b.jpg,\u{e9}t\u{e9},0.8\n";
    let inputs: [(&str, &str, Vec<u8>); 3] = [
        ("list.txt", list, utf16(list, false)),
        ("table.csv", table, utf16(table, true)),
        ("semicolons.csv", semicolons, cp1252(semicolons)),
    ];
    let notes = ["UTF-16LE", "UTF-16BE", "Windows-1252"];

    // The same files in UTF-8: what the others must read as.
    let utf8 = root.path().join("utf8");
    tagscape_ok(&["init", utf8.to_str().unwrap()]);
    let other = root.path().join("other");
    tagscape_ok(&["init", other.to_str().unwrap()]);
    for (name, text, encoded) in &inputs {
        let plain = root.path().join(format!("utf8-{name}"));
        std::fs::write(&plain, text).unwrap();
        let out = tagscape_ok(&["add", utf8.to_str().unwrap(), plain.to_str().unwrap()]);
        assert!(!out.contains("read as"), "{out}");
        let path = root.path().join(name);
        std::fs::write(&path, encoded).unwrap();
        let out = tagscape_ok(&["add", other.to_str().unwrap(), path.to_str().unwrap()]);
        let note = notes[inputs.iter().position(|i| i.0 == *name).unwrap()];
        assert!(
            out.contains(&format!("read as {note} (not UTF-8)")),
            "{out}"
        );
        assert!(out.contains("added"), "{out}");
    }
    let urls = "SELECT url FROM images";
    assert_eq!(column(&other, urls), column(&utf8, urls));
    assert_eq!(column(&other, urls).len(), 4);
    let metadata = "SELECT coalesce(metadata, '') FROM images";
    assert_eq!(column(&other, metadata), column(&utf8, metadata));
    assert!(
        column(&other, metadata)
            .iter()
            .any(|m| m.contains("Jos\u{e9}"))
    );
    assert!(
        column(&other, metadata)
            .iter()
            .any(|m| m.contains("M\u{fc}ller"))
    );

    // Tag files: Windows-1252 and UTF-16.
    let tag_files = [
        ("tags.csv", cp1252(tags), "Windows-1252"),
        ("tags16.csv", utf16(tags16, false), "UTF-16LE"),
    ];
    for (name, bytes, note) in tag_files {
        let path = root.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = tagscape_ok(&[
            "import-tags",
            other.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert!(out.contains("imported 1 tag for 1 image"), "{out}");
        assert!(
            out.contains(&format!("read as {note} (not UTF-8)")),
            "{out}"
        );
    }
    assert_eq!(
        column(&other, "SELECT tag FROM tags"),
        ["caf\u{e9}", "\u{e9}t\u{e9}"]
    );
}
