//! The hostile-input pass (issue 13) on the real binary: outputs that must
//! not be replaced, special files as inputs, out-of-range flags, a deleted
//! lock file, broken stores, exit codes, terminal escapes, oversized error
//! lines. FIFOs and links live in the test's own temp dir, never in /dev.

#[path = "support/cli.rs"]
mod cli;
use cli::{tagscape, tagscape_ok};
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::io::{Cursor, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fetch_server::{Reply, TestServer};
use image::{ImageFormat, Rgb, RgbImage};
use tagscape::project::Project;

// ---------- fixtures

/// A project of three tagged images (no downloads), its graph built.
fn graph_project(tags: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let project = Project::init(&dir).unwrap();
    for i in 0..3 {
        project
            .conn()
            .execute(
                "INSERT INTO images(url) VALUES (?1)",
                [format!("https://example.org/{i}.jpg")],
            )
            .unwrap();
        let id = project.conn().last_insert_rowid();
        for tag in tags {
            project
                .conn()
                .execute(
                    "INSERT INTO tags(image_id, tag, tag_key, confidence, source) VALUES (?1, ?2, ?3, 0.9, 'import:long')",
                    (id, tag, tag.to_lowercase()),
                )
                .unwrap();
        }
    }
    drop(project);
    tagscape_ok(&["graph", dir.to_str().unwrap()]);
    (tmp, dir)
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Feeds a FIFO with zeros (a private `/dev/zero`) until its reader goes.
fn zero_fifo(path: &Path) {
    mkfifo(path);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) else {
            return;
        };
        let zeros = vec![0u8; 1 << 16];
        while f.write_all(&zeros).is_ok() {}
    });
}

/// Unblocks a writer still waiting for a reader of `fifo` (the code under
/// test refused the FIFO without opening it).
fn release_fifo(fifo: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000) // O_NONBLOCK
        .open(fifo);
}

/// Runs tagscape with a hang guard: a run still going after `limit` is
/// killed and the test fails (a hang, not a speed measurement).
fn tagscape_bounded(args: &[&str], limit: Duration) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, limit, args)
}

fn wait_bounded(mut child: Child, limit: Duration, args: &[&str]) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "tagscape {} did not finish (killed): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn png(seed: u8) -> Vec<u8> {
    let img = RgbImage::from_fn(32, 24, |x, y| Rgb([x as u8 * 8, y as u8 * 8, seed]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// A project listing `paths` on `server`.
fn url_project(server: &TestServer, paths: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let list = tmp.path().join("urls.txt");
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();
    tagscape_ok(&["init", dir.to_str().unwrap()]);
    tagscape_ok(&["add", dir.to_str().unwrap(), list.to_str().unwrap()]);
    (tmp, dir)
}

// ---------- 1. export --out never replaces a device, FIFO or link

#[test]
fn export_writes_a_fifo_and_stdout_in_place_and_refuses_links() {
    let (tmp, dir) = graph_project(&["cat", "dog"]);
    let d = dir.to_str().unwrap();

    // A FIFO (what /dev/stdout or a device is to a rename): read, not replaced.
    let fifo = tmp.path().join("pipe.gexf");
    mkfifo(&fifo);
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::fs::File::open(&reader_path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    });
    let out = tagscape_bounded(
        &[
            "export",
            d,
            "--format",
            "gexf",
            "--out",
            fifo.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = reader.join().unwrap();
    assert!(text.contains("<gexf") && text.contains("cat"), "{text}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced by a regular file"
    );

    // `-`: the data on stdout, the summary on stderr.
    let out = tagscape(&["export", d, "--format", "positions", "--out", "-"]);
    assert!(!out.status.success(), "no layout: refused");
    let out = tagscape(&["export", d, "--format", "gexf", "--out", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let data = String::from_utf8_lossy(&out.stdout);
    assert!(data.starts_with("<?xml") && data.contains("dog"), "{data}");
    assert!(stderr(&out).contains("wrote -"), "{}", stderr(&out));

    // A link to a file: refused, both kept, unless asked for.
    let target = tmp.path().join("target.gexf");
    std::fs::write(&target, "keep me").unwrap();
    let link = tmp.path().join("link.gexf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let l = link.to_str().unwrap();
    let out = tagscape(&["export", d, "--format", "gexf", "--out", l]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("symbolic link") && err.contains("--follow-symlinks"),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    tagscape_ok(&[
        "export",
        d,
        "--format",
        "gexf",
        "--out",
        l,
        "--follow-symlinks",
    ]);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read_to_string(&target).unwrap().contains("<gexf"));
}

// ---------- 2. export --out into the project's own store

#[test]
fn export_into_the_store_is_refused_and_the_store_kept() {
    let (_tmp, dir) = graph_project(&["cat", "dog"]);
    let d = dir.to_str().unwrap();
    let db = dir.join("tagscape.db");
    let before = std::fs::read(&db).unwrap();
    for target in [
        db.clone(),
        dir.join("tagscape.db-wal"),
        dir.join("thumbs").join("map.gexf"),
        dir.join("originals"),
    ] {
        let out = tagscape(&[
            "export",
            d,
            "--format",
            "gexf",
            "--out",
            target.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", target.display());
        let err = stderr(&out);
        assert!(
            err.contains(&target.display().to_string()) && err.contains("refused"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
    tagscape_ok(&[
        "export",
        d,
        "--format",
        "gexf",
        "--out",
        dir.join("network.gexf").to_str().unwrap(),
    ]);
}

// ---------- 6. numeric flags: ranges, not panics

#[test]
fn out_of_range_numbers_are_refused_naming_the_flag_and_range() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("p");
    tagscape_ok(&["init", d.to_str().unwrap()]);
    let d = d.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["fetch", d, "--timeout", "1e20"], "--timeout"),
        (&["fetch", d, "--concurrency", "0"], "--concurrency"),
        (
            &[
                "tag",
                d,
                "--with",
                "openai",
                "--model",
                "m",
                "--timeout",
                "1e20",
            ],
            "--timeout",
        ),
        (
            &[
                "tag",
                d,
                "--with",
                "openai",
                "--model",
                "m",
                "--retry-wait",
                "1e20",
            ],
            "--retry-wait",
        ),
        (
            &[
                "tag", d, "--with", "openai", "--model", "m", "--rate", "1e-300",
            ],
            "--rate",
        ),
        (&["graph", d, "--min-confidence", "NaN"], "--min-confidence"),
        (&["cluster", d, "--resolution", "0"], "--resolution"),
        (&["layout", d, "--iterations", "0"], "--iterations"),
        (
            &[
                "export", d, "--format", "png", "--out", "x.png", "--width", "0",
            ],
            "--width",
        ),
    ];
    for (args, flag) in cases {
        let out = tagscape(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", args.join(" "));
        assert!(err.contains(flag), "{}: {err}", args.join(" "));
        assert!(
            !err.contains("panicked") && !err.contains("internal error"),
            "{err}"
        );
    }
    let err = stderr(&tagscape(&["fetch", d, "--timeout", "1e20"]));
    assert!(
        err.contains("0.001") && err.contains("86400"),
        "the range is named: {err}"
    );
}

// ---------- 7. special files as inputs

#[test]
fn endless_special_files_are_refused_or_capped_naming_the_file() {
    let (tmp, dir) = graph_project(&["cat", "dog"]);
    let d = dir.to_str().unwrap();
    let limit = Duration::from_secs(120);

    for cmd in ["import-tags", "add"] {
        let fifo = tmp.path().join(format!("{cmd}-zeros.csv"));
        zero_fifo(&fifo);
        let out = tagscape_bounded(&[cmd, d, fifo.to_str().unwrap()], limit);
        release_fifo(&fifo);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(fifo.to_str().unwrap()),
            "{cmd}: {}",
            stderr(&out)
        );
    }

    let fifo = tmp.path().join("stop-zeros.txt");
    zero_fifo(&fifo);
    let out = tagscape_bounded(&["graph", d, "--stop-tags", fifo.to_str().unwrap()], limit);
    release_fifo(&fifo);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 1 of"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(fifo.to_str().unwrap()),
        "{}",
        stderr(&out)
    );

    tagscape_ok(&["cluster", d]);
    let fifo = tmp.path().join("lasso-zeros.txt");
    zero_fifo(&fifo);
    let out = tagscape_bounded(
        &["cluster", d, "lasso", "--from", fifo.to_str().unwrap()],
        limit,
    );
    release_fifo(&fifo);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(fifo.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
}

// ---------- 14. the lock survives the deletion of its file

#[test]
fn deleting_the_lock_file_mid_fetch_does_not_let_a_second_fetch_in() {
    // Never answers: the first fetch stays busy until it is killed.
    let server = TestServer::start(|_, _| Reply::HangBeforeHeaders);
    let (_tmp, dir) = url_project(&server, &["/a.png", "/b.png"]);
    let d = dir.to_str().unwrap();
    let first = Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(["fetch", d, "--timeout", "600", "--retries", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = KillOnDrop(first);
    let start = Instant::now();
    while server.requests("/a.png").is_empty() && server.requests("/b.png").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the first fetch never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_file(dir.join(".tagscape.lock")).unwrap();
    let second = tagscape(&["fetch", d]);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("in use"), "{}", stderr(&second));
    assert!(
        first.0.try_wait().unwrap().is_none(),
        "the first fetch is still running"
    );
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------- 16. exit codes: some failed, none succeeded

#[test]
fn fetch_exit_status_tells_some_failed_from_none_succeeded() {
    let server = TestServer::start(|path, _| match path {
        "/ok.png" => Reply::Ok {
            content_type: "image/png",
            body: png(1),
        },
        _ => Reply::Status {
            code: 404,
            headers: vec![],
        },
    });
    let (_tmp, dir) = url_project(&server, &["/ok.png", "/gone1.png", "/gone2.png"]);
    let out = tagscape(&["fetch", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("fetched 1 of 3"));

    let (_tmp2, dir2) = url_project(&server, &["/gone3.png", "/gone4.png"]);
    let out = tagscape(&["fetch", dir2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // Nothing left to do is success.
    let out = tagscape(&["fetch", dir2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let help = tagscape_ok(&["--help"]);
    assert!(
        help.contains("Exit status") && help.contains("3  finished, but some items failed"),
        "{help}"
    );
}

// ---------- 19. broken stores

#[test]
fn empty_garbage_tampered_and_foreign_stores_get_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    // Empty: not silently a new project.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("tagscape.db"), b"").unwrap();
    let out = tagscape(&["graph", empty.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("tagscape.db is empty"), "{err}");
    assert_eq!(
        std::fs::metadata(empty.join("tagscape.db")).unwrap().len(),
        0
    );

    // Garbage.
    let garbage = tmp.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("tagscape.db"), "not a database\n".repeat(500)).unwrap();
    let err = stderr(&tagscape(&["graph", garbage.to_str().unwrap()]));
    assert!(
        err.contains("not an SQLite database") && err.contains("tagscape init"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Tampered: a table of ours dropped.
    let (_t, dir) = graph_project(&["cat", "dog"]);
    let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
    conn.execute_batch("DROP TABLE tags").unwrap();
    drop(conn);
    let err = stderr(&tagscape(&["graph", dir.to_str().unwrap()]));
    assert!(
        err.contains("tagscape.db is damaged") && err.contains("tagscape init"),
        "{err}"
    );
    assert!(!err.contains("rusqlite"), "{err}");

    // Another program's database.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    let conn = rusqlite::Connection::open(foreign.join("tagscape.db")).unwrap();
    conn.execute_batch("CREATE TABLE moz_places(id INTEGER)")
        .unwrap();
    drop(conn);
    let err = stderr(&tagscape(&["graph", foreign.to_str().unwrap()]));
    assert!(err.contains("another program's SQLite database"), "{err}");
}

// ---------- 11. escape sequences in tags never reach the terminal

#[test]
fn cluster_output_strips_escape_sequences_from_tags() {
    let hostile = "cat\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let (_tmp, dir) = graph_project(&[hostile, "dog\u{9b}31m"]);
    let d = dir.to_str().unwrap();
    for args in [
        vec!["cluster", d, "--min-size", "1"],
        vec!["cluster", d, "list"],
    ] {
        let out = tagscape(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        if args.contains(&"list") {
            assert!(text.contains("cat"), "{text}");
        }
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{}: {text:?}",
            args.join(" ")
        );
    }
}

// ---------- 20. short errors, cleaned-up temporaries

#[test]
fn an_error_quotes_a_huge_line_briefly_and_stale_temporaries_go() {
    let (tmp, dir) = graph_project(&["cat", "dog"]);
    let d = dir.to_str().unwrap();
    let huge = tmp.path().join("huge.csv");
    std::fs::write(&huge, format!("{}\nx\n", "h".repeat(1 << 20))).unwrap();
    let out = tagscape(&["add", d, huge.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.len() < 2000,
        "{} bytes of error",
        out.stderr.len()
    );

    let exports = tmp.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let stale = exports.join(".tagscape-export-killed");
    std::fs::write(&stale, "half an export").unwrap();
    tagscape_ok(&[
        "export",
        d,
        "--format",
        "gexf",
        "--out",
        exports.join("a.gexf").to_str().unwrap(),
    ]);
    assert!(
        !stale.exists(),
        "the killed export's temporary file is still there"
    );
}

// ---------- 18. saved settings are shown, and --reset forgets them

#[test]
fn saved_settings_off_their_defaults_are_printed_until_reset() {
    let (_tmp, dir) = graph_project(&["cat", "dog"]);
    let d = dir.to_str().unwrap();
    let out = tagscape_ok(&["cluster", d, "--resolution", "2", "--min-size", "1"]);
    assert!(
        out.contains("cluster settings not at their defaults"),
        "{out}"
    );
    assert!(
        out.contains("resolution 2") && out.contains("min_size 1"),
        "{out}"
    );
    // Not given again: still in force, and said so.
    let out = tagscape_ok(&["cluster", d]);
    assert!(out.contains("resolution 2"), "{out}");
    let out = tagscape_ok(&["cluster", d, "--reset"]);
    assert!(!out.contains("not at their defaults"), "{out}");

    let out = tagscape_ok(&["layout", d, "--backend", "cpu", "--iterations", "7"]);
    assert!(
        out.contains("layout settings not at their defaults") && out.contains("iterations 7"),
        "{out}"
    );
    let out = tagscape_ok(&["layout", d, "--backend", "cpu"]);
    assert!(out.contains("iterations 7"), "{out}");
    let out = tagscape_ok(&["layout", d, "--backend", "cpu", "--reset"]);
    assert!(!out.contains("iterations 7"), "{out}");
}
