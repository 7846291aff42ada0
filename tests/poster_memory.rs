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
use cli::tagscape_ok;
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
