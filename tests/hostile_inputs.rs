//! Hostile lists, folders and servers (issue 13): link-local and metadata
//! addresses, local files named by an untrusted list, decode memory, folder
//! walks over symlinks, special files and tagscape projects. Every test runs
//! the real binary against servers on loopback and files in temp dirs.

#[path = "support/measure.rs"]
mod measure;
use measure::run_measured;
#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Output};

use fetch_server::{Reply, TestServer};
use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use rusqlite::Connection;

fn png(image: impl Into<DynamicImage>) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .into()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn small_png(seed: u8) -> Vec<u8> {
    png(RgbImage::from_fn(24, 16, |x, y| {
        Rgb([x as u8 * 10, y as u8 * 15, seed])
    }))
}

/// `tagscape ARGS…` with extra environment variables, run in `cwd`.
fn run_in(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagscape"));
    cmd.current_dir(cwd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// url → (status, failure, failure_detail, width).
type State = (String, Option<String>, Option<String>, Option<u32>);

/// The state of every URL's image; a URL whose bytes another image had is
/// that image's alias (`fetch` merges them), with its state.
fn images(dir: &Path) -> HashMap<String, State> {
    let conn = Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT url, status, failure, failure_detail, width FROM images
             UNION ALL SELECT a.url, i.status, i.failure, i.failure_detail, i.width
             FROM image_aliases a JOIN images i ON i.id = a.image_id",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn write_list(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

// ---------- item 10: link-local and cloud-metadata addresses

/// The policy is pointed at 127.0.0.2 (test-only `TAGSCAPE_TEST_LINK_LOCAL`),
/// where a second server plays the metadata service; 127.0.0.1 stays allowed.
#[test]
fn link_local_addresses_are_refused_before_connecting_and_after_redirects() {
    let image = small_png(1);
    let secret = small_png(2);
    let metadata = TestServer::start_on(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), move |_, _| {
        Reply::Ok {
            content_type: "image/png",
            body: secret.clone(),
        }
    });
    let to_metadata = metadata.url("/redirected.png");
    let served = image.clone();
    let site = TestServer::start(move |path, _| match path {
        "/to-metadata.png" => Reply::Status {
            code: 302,
            headers: vec![("Location", to_metadata.clone())],
        },
        "/to-aws.png" => Reply::Status {
            code: 302,
            headers: vec![(
                "Location",
                "http://169.254.169.254/latest/meta-data/".into(),
            )],
        },
        _ => Reply::Ok {
            content_type: "image/png",
            body: served.clone(),
        },
    });
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("study");
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    let direct = metadata.url("/direct.png");
    let urls = vec![
        site.url("/ok.png"),
        direct.clone(),
        site.url("/to-metadata.png"),
        site.url("/to-aws.png"),
        "http://169.254.169.254/latest/meta-data/iam.png".to_string(),
        "http://[fe80::1]/a.png".to_string(),
        "http://metadata.google.internal/computeMetadata/v1/a.png".to_string(),
    ];
    let list = root.path().join("urls.txt");
    write_list(&list, &urls);
    tagscape_ok(&["add", d, list.to_str().unwrap()]);
    let env = [("TAGSCAPE_TEST_LINK_LOCAL", "127.0.0.2")];
    // Some images fail: the exit status is not the point here.
    run_in(root.path(), &env, &["fetch", d, "--retries", "0"]);

    let got = images(&dir);
    let state = |url: &str| got[url].clone();
    assert_eq!(state(&urls[0]).0, "done", "loopback stays allowed");
    for url in [&urls[1], &urls[4], &urls[5], &urls[6]] {
        let (status, failure, detail, _) = state(url);
        assert_eq!(
            (status.as_str(), failure.as_deref()),
            ("failed", Some("refused_address")),
            "{url}: {detail:?}"
        );
        assert!(detail.unwrap().contains("--allow-host"), "{url}");
    }
    for (url, target) in [
        (&urls[2], metadata.url("/redirected.png")),
        (&urls[3], "http://169.254.169.254/latest/meta-data/".into()),
    ] {
        let (status, failure, detail, _) = state(url);
        assert_eq!(
            (status.as_str(), failure.as_deref()),
            ("failed", Some("redirect_refused")),
            "{url}: {detail:?}"
        );
        let detail = detail.unwrap();
        assert!(
            detail.contains(&format!("the redirect to {target} was refused")),
            "{detail}"
        );
        assert!(detail.contains("link-local"), "{detail}");
    }
    // Refused before connecting: the "metadata service" saw nothing.
    assert!(metadata.requests("/direct.png").is_empty());
    assert!(metadata.requests("/redirected.png").is_empty());

    // --allow-host lifts it for that host only.
    run_in(
        root.path(),
        &env,
        &[
            "fetch",
            d,
            "--retry-failed",
            "--retries",
            "0",
            "--allow-host",
            "127.0.0.2",
        ],
    );
    let got = images(&dir);
    assert_eq!(got[&direct].0, "done");
    assert_eq!(got[&urls[2]].0, "done");
    assert_eq!(got[&urls[4]].1.as_deref(), Some("refused_address"));
    assert_eq!(metadata.requests("/direct.png").len(), 1);

    // A host name is judged by what it resolves to: `localhost` is refused
    // once loopback is declared link-local, and the server sees no request.
    let by_name = root.path().join("by-name");
    let n = by_name.to_str().unwrap();
    tagscape_ok(&["init", n]);
    let url = format!("http://localhost:{}/by-name.png", site.port);
    let list = root.path().join("names.txt");
    write_list(&list, std::slice::from_ref(&url));
    tagscape_ok(&["add", n, list.to_str().unwrap()]);
    run_in(
        root.path(),
        &[("TAGSCAPE_TEST_LINK_LOCAL", "127.0.0.1,::1")],
        &["fetch", n, "--retries", "0"],
    );
    let (status, failure, detail, _) = images(&by_name)[&url].clone();
    assert_eq!(
        (status.as_str(), failure.as_deref()),
        ("failed", Some("refused_address"))
    );
    assert!(detail.unwrap().contains("localhost resolves to"));
    assert!(site.requests("/by-name.png").is_empty());
}

// ---------- item 9: local files named by an untrusted list

#[cfg(unix)]
#[test]
fn a_list_cannot_climb_out_of_its_folder_and_outside_files_are_counted() {
    let root = tempfile::tempdir().unwrap();
    let lists = root.path().join("lists");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir_all(&lists).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(lists.join("inside.png"), small_png(1)).unwrap();
    std::fs::write(elsewhere.join("climbed.png"), small_png(2)).unwrap();
    std::fs::write(elsewhere.join("absolute.png"), small_png(3)).unwrap();
    std::fs::write(elsewhere.join("linked.png"), small_png(4)).unwrap();
    // Not an image: its contents must never reach the store.
    std::fs::write(
        elsewhere.join("shadow.png"),
        "root:$6$hunter2secret:19000::",
    )
    .unwrap();
    std::os::unix::fs::symlink(elsewhere.join("linked.png"), lists.join("link.png")).unwrap();
    let file_url = |p: &Path| url::Url::from_file_path(p).unwrap().to_string();
    let list = lists.join("untrusted.txt");
    write_list(
        &list,
        &[
            "inside.png".into(),
            "../elsewhere/climbed.png".into(),
            "link.png".into(),
            elsewhere.join("absolute.png").display().to_string(),
            file_url(&elsewhere.join("shadow.png")),
        ],
    );
    let dir = root.path().join("study");
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    // Run from elsewhere, as someone handed the list would.
    let out = ok(run_in(
        root.path(),
        &[],
        &["add", d, list.to_str().unwrap()],
    ));
    assert!(
        out.contains("2 skipped (2 path climbing out of the list's folder)"),
        "{out}"
    );
    assert!(
        out.contains("2 local files from outside the list's folder"),
        "{out}"
    );
    let got = images(&dir);
    let mut urls: Vec<&String> = got.keys().collect();
    urls.sort();
    assert_eq!(
        urls,
        vec![
            &file_url(&elsewhere.join("absolute.png")),
            &file_url(&elsewhere.join("shadow.png")),
            &file_url(&lists.join("inside.png")),
        ]
    );
    run_in(root.path(), &[], &["fetch", d]);
    let got = images(&dir);
    let (status, failure, detail, _) = got[&file_url(&elsewhere.join("shadow.png"))].clone();
    assert_eq!(
        (status.as_str(), failure.as_deref()),
        ("failed", Some("not_an_image"))
    );
    let detail = detail.unwrap();
    assert!(
        !detail.contains("root") && !detail.contains("hunter2"),
        "{detail}"
    );

    // --no-local refuses every local entry.
    let strict = root.path().join("strict");
    let s = strict.to_str().unwrap();
    tagscape_ok(&["init", s]);
    let out = ok(run_in(
        root.path(),
        &[],
        &["add", s, list.to_str().unwrap(), "--no-local"],
    ));
    assert!(out.contains("added 0 images"), "{out}");
    assert!(
        out.contains("5 skipped (5 local file (--no-local))"),
        "{out}"
    );
    assert!(images(&strict).is_empty());
}

// ---------- item 8: decode memory

#[cfg(target_os = "linux")]
#[test]
fn decodes_share_one_memory_budget_limited_by_area_not_side() {
    const MB: u64 = 1 << 20;
    // 6000×6000 grey: 36 MB of pixels, 144 MB with the RGB copy decoding makes.
    let gray = png(GrayImage::from_fn(6000, 6000, |x, y| {
        Luma([((x ^ y) % 251) as u8])
    }));
    // 8000×8000 grey: 64 MB of pixels, 256 MB with the copy.
    let big_gray = png(GrayImage::from_fn(8000, 8000, |x, _| {
        Luma([(x % 256) as u8])
    }));
    // A 40000×300 panorama: 12 megapixels, wider than any side limit of old.
    let panorama = png(RgbImage::from_fn(40_000, 300, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 9])
    }));
    let server = TestServer::start(move |path, _| {
        let body = match path {
            "/big-gray.png" => big_gray.clone(),
            "/panorama.png" => panorama.clone(),
            _ => gray.clone(),
        };
        Reply::Ok {
            content_type: "image/png",
            body,
        }
    });
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("study");
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    let mut urls: Vec<String> = (0..6)
        .map(|i| server.url(&format!("/gray-{i}.png")))
        .collect();
    urls.push(server.url("/big-gray.png"));
    urls.push(server.url("/panorama.png"));
    let list = root.path().join("urls.txt");
    write_list(&list, &urls);
    tagscape_ok(&["add", d, list.to_str().unwrap()]);
    // Eight decoder threads, eight downloads, a 200 MB budget: one grey
    // image at a time fits; all six at once would take 864 MB.
    let (_, peak) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_tagscape"))
            .args([
                "fetch",
                d,
                "--concurrency",
                "8",
                "--per-host",
                "8",
                "--decode-memory",
                "200",
            ])
            .env("RAYON_NUM_THREADS", "8")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let got = images(&dir);
    for url in &urls[..6] {
        assert_eq!(got[url].0, "done", "{url}: {:?}", got[url]);
    }
    // The RGB copy counts: 256 MB is more than the 200 allowed.
    let (status, failure, detail, _) = got[&urls[6]].clone();
    assert_eq!(
        (status.as_str(), failure.as_deref()),
        ("failed", Some("too_many_pixels"))
    );
    assert!(detail.unwrap().contains("more than the 200 MB allowed"));
    // Area, not side: the panorama is decoded.
    assert_eq!(got[&urls[7]].0, "done", "{:?}", got[&urls[7]]);
    assert_eq!(got[&urls[7]].3, Some(40_000));
    // The budget plus the process itself (runtime, store, bodies in hand).
    assert!(peak < 200 * MB + 160 * MB, "peak RSS {} MB", peak / MB);
}

// ---------- items 5 and 13: folder walks

#[cfg(unix)]
#[test]
fn a_folder_walk_skips_projects_and_accounts_for_every_entry() {
    use std::os::unix::fs::symlink;
    let root = tempfile::tempdir().unwrap();
    let photos = root.path().join("photos");
    let elsewhere = root.path().join("elsewhere");
    for d in [&photos.join("sub"), &photos.join(".cache"), &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(photos.join("a.png"), small_png(1)).unwrap();
    std::fs::write(photos.join("sub/b.png"), small_png(2)).unwrap();
    std::fs::write(photos.join("notes.txt"), "field notes").unwrap();
    std::fs::write(photos.join(".hidden.png"), small_png(3)).unwrap();
    std::fs::write(photos.join(".cache/c.png"), small_png(4)).unwrap();
    std::fs::write(elsewhere.join("e.png"), small_png(5)).unwrap();
    symlink(photos.join("gone.png"), photos.join("dangling.png")).unwrap();
    symlink(photos.join("loop.png"), photos.join("loop.png")).unwrap();
    symlink(elsewhere.join("e.png"), photos.join("out.png")).unwrap();
    symlink(photos.join("sub"), photos.join("sub-again")).unwrap();
    symlink(photos.join("sub/b.png"), photos.join("in.png")).unwrap();
    let fifo = photos.join("pipe.png");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());

    // The project lives inside the folder, with originals and thumbnails of
    // its own, as after `tagscape init study; add; fetch` run from `photos`.
    let project = photos.join("study");
    let p = project.to_str().unwrap();
    tagscape_ok(&["init", p]);
    let list = root.path().join("first.txt");
    write_list(&list, &[photos.join("a.png").display().to_string()]);
    tagscape_ok(&["add", p, list.to_str().unwrap()]);
    tagscape_ok(&["fetch", p]);
    assert!(project.join("thumbs").read_dir().unwrap().next().is_some());

    // `add study .` from the folder holding the project.
    let out = ok(run_in(&photos, &[], &["add", "study", "."]));
    // a.png (already in), sub/b.png, and in.png (b.png again).
    assert!(
        out.contains("added 2 images (3 occurrences) from folder ."),
        "{out}"
    );
    assert!(out.contains(": 1 new, 1 already in the project"), "{out}");
    for part in [
        "9 skipped (",
        "1 dangling symlink",
        "2 hidden",
        "1 not an image type",
        "1 special file",
        "1 symlink loop",
        "1 symlink out of the folder",
        "1 symlinked folder",
        "1 tagscape project folder",
    ] {
        assert!(out.contains(part), "{part}: {out}");
    }
    let got = images(&project);
    assert_eq!(got.len(), 2, "{:?}", got.keys());
    assert!(
        got.keys()
            .all(|u| !u.contains("/study/") && !u.contains("elsewhere"))
    );

    // A project folder itself is no input.
    let refused = run_in(&photos, &[], &["add", "study", "study"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("is a tagscape project folder"), "{err}");
}

// ---------- item 21: 4CAT's comma-joined `images` cells

#[test]
fn four_cat_images_cells_are_split_on_commas_between_urls() {
    let root = tempfile::tempdir().unwrap();
    let export = root.path().join("4cat.csv");
    std::fs::write(
        &export,
        "id,body,images\n\
         1,two pictures,\"https://i.example.org/a.jpg,https://i.example.org/b.jpg\"\n\
         2,a CDN url,\"https://cdn.example.org/w_100,h_80/c.jpg\"\n",
    )
    .unwrap();
    let dir = root.path().join("study");
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    let out = tagscape_ok(&["add", d, export.to_str().unwrap(), "--column", "images"]);
    assert!(out.contains("added 3 images"), "{out}");
    let got = images(&dir);
    for url in [
        "https://i.example.org/a.jpg",
        "https://i.example.org/b.jpg",
        "https://cdn.example.org/w_100,h_80/c.jpg",
    ] {
        assert!(got.contains_key(url), "{url}: {:?}", got.keys());
    }
}
