//! Issue 11 part 5: tours recorded. Exactly duration × fps frames of the
//! requested size go into ffmpeg (H.264, yuv420p, BT.709), checked with
//! ffprobe; without ffmpeg a PNG frame sequence and a one-line note;
//! `--format frames` writes one still per keyframe with its caption.
//! Needs ffmpeg (apt-get install ffmpeg, in scripts/install-deps.sh) and a
//! Vulkan driver (lavapipe).

#[path = "support/cli.rs"]
mod cli;
#[path = "support/project.rs"]
mod project;
use cli::{tagscape, tagscape_ok};
use project::tagged_project;

use std::path::{Path, PathBuf};
use std::process::Command;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A laid-out project of six images and a hand-written tour "still": two
/// keyframes on the same view (no travel), held 1.0 s (captioned) and 0.5 s.
fn study(tmp: &Path) -> PathBuf {
    let dir = tagged_project(tmp, 6, |i| vec![["cat", "dog"][i % 2]]);
    tagscape_ok(&["layout", s(&dir), "--iterations", "50"]);
    std::fs::create_dir_all(dir.join("tours")).unwrap();
    std::fs::write(
        dir.join("tours").join("still.json"),
        r#"{
  "name": "still",
  "keyframes": [
    { "center": [0.0, 0.0], "width": 4000.0, "height": 2250.0, "caption": "HELLO WORLD", "hold_seconds": 1.0 },
    { "center": [0.0, 0.0], "width": 4000.0, "height": 2250.0, "hold_seconds": 0.5 }
  ]
}"#,
    )
    .unwrap();
    dir
}

fn probe(video: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", entries, "-of", "default=nw=1"])
        .arg(video)
        .output()
        .expect("ffprobe (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_video_has_exactly_the_tours_frames_at_the_requested_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let video = tmp.path().join("talk.mp4");
    let summary = tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "video",
        "--tour",
        "still",
        "--out",
        s(&video),
        "--width",
        "320",
        "--height",
        "180",
        "--fps",
        "10",
    ]);
    assert!(summary.contains("15 frames at 10 fps"), "{summary}");
    let stream = probe(
        &video,
        "stream=width,height,nb_read_frames,pix_fmt,codec_name,color_primaries,color_space",
    );
    for line in [
        "width=320",
        "height=180",
        "nb_read_frames=15",
        "pix_fmt=yuv420p",
        "codec_name=h264",
        "color_primaries=bt709",
        "color_space=bt709",
    ] {
        assert!(stream.lines().any(|l| l == line), "{line} in {stream}");
    }
    let duration: f64 = probe(&video, "format=duration")
        .trim()
        .strip_prefix("duration=")
        .unwrap()
        .parse()
        .unwrap();
    assert!((duration - 1.5).abs() < 0.05, "{duration}");

    // An odd size is refused before any work, naming the sizes that work.
    let odd = tagscape(&[
        "export",
        s(&dir),
        "--format",
        "video",
        "--out",
        s(&tmp.path().join("odd.mp4")),
        "--width",
        "321",
        "--height",
        "180",
    ]);
    assert!(!odd.status.success());
    assert!(String::from_utf8_lossy(&odd.stderr).contains("use 322 × 180"));
    assert!(!tmp.path().join("odd.mp4").exists());
}

#[test]
fn without_ffmpeg_the_frames_are_written_as_pngs_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let video = tmp.path().join("talk.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(["export", s(&dir), "--format", "video", "--tour", "still"])
        .args([
            "--out",
            s(&video),
            "--width",
            "160",
            "--height",
            "90",
            "--fps",
            "4",
        ])
        .env("TAGSCAPE_FFMPEG", tmp.path().join("no-ffmpeg-here"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("apt-get install ffmpeg"), "{stdout}");
    assert!(!video.exists());
    let frames = tmp.path().join("talk_frames");
    let mut names: Vec<String> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // 1.5 s at 4 fps.
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(names[0], "frame-000001.png");
    let first = image::open(frames.join(&names[0])).unwrap();
    assert_eq!((first.width(), first.height()), (160, 90));
}

/// Dark pixels in the bottom fifth of the picture, where captions go.
fn dark_at_the_bottom(path: &Path) -> usize {
    let img = image::open(path).unwrap().into_rgb8();
    let (w, h) = img.dimensions();
    (h * 4 / 5..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 90))
        .count()
}

#[test]
fn frames_writes_one_still_per_keyframe_with_its_caption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let slides = tmp.path().join("slides");
    let summary = tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "frames",
        "--tour",
        "still",
        "--out",
        s(&slides),
        "--width",
        "640",
        "--height",
        "360",
    ]);
    assert!(summary.contains("2 keyframe stills"), "{summary}");
    let captioned = slides.join("keyframe-01.png");
    let plain = slides.join("keyframe-02.png");
    // The same view: only the first carries the caption, in dark ink.
    assert!(dark_at_the_bottom(&captioned) > 100, "no caption drawn");
    assert_eq!(dark_at_the_bottom(&plain), 0);
}
