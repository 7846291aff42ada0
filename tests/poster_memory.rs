//! Issue 11 part 1: a poster's memory does not follow its size. A
//! 14000 px wide PNG (about 14000 × 14900 px: 830 MB of RGBA) is drawn in
//! bands and streamed into the file, so the export stays far below what the
//! whole picture would take. Measured on lavapipe (where GPU memory is the
//! process's own): 370 to 480 MB at 3000, 12000 and 24000 px.

#[path = "support/measure.rs"]
mod measure;
use measure::run_measured;
#[path = "support/cli.rs"]
mod cli;
#[path = "support/project.rs"]
mod project;
use cli::{tagscape, tagscape_ok};
use project::tagged_project;

use std::path::Path;
use std::process::Command;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_poster_larger_than_memory_would_hold_is_streamed() {
    let tmp = tempfile::tempdir().unwrap();
    const TAGS: [&str; 4] = ["t0", "t1", "t2", "t3"];
    let dir = tagged_project(tmp.path(), 40, |i| vec![TAGS[i % 4]]);
    tagscape_ok(&["layout", s(&dir), "--iterations", "50"]);

    let out = tmp.path().join("poster.png");
    let (status, peak) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_tagscape"))
            .args(["export", s(&dir), "--format", "png", "--width", "14000"])
            .args(["--out", s(&out)]),
    );
    assert!(status.success());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let info = decoder.read_info().unwrap();
    let (w, h) = (info.info().width, info.info().height);
    assert_eq!(w, 14000);
    let picture = u64::from(w) * u64::from(h) * 4;
    assert!(picture > 700 << 20, "the picture is {picture} bytes");
    eprintln!("peak {} MB for {w}×{h} px", peak >> 20);
    assert!(
        peak < 650 << 20,
        "peak {} MB for a {w}×{h} poster ({} MB of pixels)",
        peak >> 20,
        picture >> 20
    );
}

/// Issue 11: a poster the disk cannot hold, or of no pixels, is refused
/// before anything is drawn, with its size and the disk's free space.
#[test]
fn a_poster_too_large_for_the_disk_or_empty_is_refused_before_drawing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tagged_project(tmp.path(), 6, |i| vec![["a", "b"][i % 2]]);
    tagscape_ok(&["layout", s(&dir), "--iterations", "20"]);

    // A square whose largest PNG is more than the temporary folder's disk
    // holds (within the 200000 px a side accepted; /dev/shm when that disk
    // is larger, as RAM-backed folders are smaller).
    let shm = tempfile::tempdir_in("/dev/shm").ok();
    let (folder, free, side) = [Some(tmp.path()), shm.as_ref().map(|d| d.path())]
        .into_iter()
        .flatten()
        .find_map(|folder| {
            let free = tagscape::export::png::free_space(&folder.join("x.png"))?;
            let side = ((free as f64 / 4.0).sqrt() as u32).saturating_add(2000);
            (side <= 200_000).then_some((folder, free, side))
        })
        .expect("a folder with less than 160 GB free");
    assert!(tagscape::export::png::png_size_bound(side, side) > free);
    let out = folder.join("huge.png");
    let side_arg = side.to_string();
    let run = tagscape(&[
        "export",
        s(&dir),
        "--format",
        "png",
        "--width",
        &side_arg,
        "--height",
        &side_arg,
        "--out",
        s(&out),
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("huge.png"))
        .unwrap_or_default();
    assert!(line.contains("would take up to"), "{err}");
    assert!(line.contains("free"), "{err}");
    assert!(line.contains("--width"), "{err}");
    assert!(!out.exists());
    assert!(!err.contains("panicked"), "{err}");
    // No temporary file was left beside it either.
    let left: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.iter().all(|n| !n.to_string_lossy().contains("huge")),
        "{left:?}"
    );

    // The same for a deep-zoom site (its tiles at their uncompressed size).
    let site = folder.join("huge-site");
    let run = tagscape(&[
        "export",
        s(&dir),
        "--format",
        "dzi",
        "--width",
        &side_arg,
        "--height",
        &side_arg,
        "--out",
        s(&site),
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("huge-site would take up to"), "{err}");
    assert!(!site.exists());
    let left: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.iter().all(|n| !n.to_string_lossy().contains("dzi")),
        "{left:?}"
    );

    // A width or height of 0 is refused by the argument parser, naming it.
    for (size, named) in [
        (["--width", "0", "--height", "300"], "'0' for '--width"),
        (["--width", "300", "--height", "0"], "'0' for '--height"),
    ] {
        let mut args = vec!["export", s(&dir), "--format", "png"];
        args.extend(size);
        let empty = tmp.path().join("empty.png");
        args.extend(["--out", s(&empty)]);
        let run = tagscape(&args);
        assert!(!run.status.success());
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("0 is not in 1..=200000"), "{err}");
        assert!(err.contains(named), "{err}");
        assert!(!empty.exists());
    }
}
