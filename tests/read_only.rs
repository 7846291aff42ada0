//! Issue 13 item 15: read-only commands (`export`, `cluster list`) work while
//! a writer holds the project, and on a copy of a project that cannot be
//! written at all (read-only media, an archive). Driven through the binary.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/project.rs"]
mod project;
use cli::{tagscape, tagscape_ok};
use project::tagged_project;

use std::path::{Path, PathBuf};
use std::process::Command;

use tagscape::project::{Access, Project};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A project with four images, their tags, the network and its clusters.
fn study(tmp: &Path) -> PathBuf {
    let dir = tagged_project(tmp, 4, |i| vec![["cat", "cat", "dog", "dog"][i], "animal"]);
    tagscape_ok(&["cluster", s(&dir)]);
    dir
}

#[test]
fn exports_run_while_a_writer_holds_the_project() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    // This process is the writer (as a long fetch would be).
    let writer = Project::open(&dir, Access::Write).unwrap();

    let gexf = tmp.path().join("study.gexf");
    let out = tagscape_ok(&["export", s(&dir), "--format", "gexf", "--out", s(&gexf)]);
    assert!(out.contains("7 nodes (4 images, 3 tags)"), "{out}");
    assert!(
        std::fs::read_to_string(&gexf)
            .unwrap()
            .contains("example.org/3.jpg")
    );
    let clusters = tagscape_ok(&["cluster", s(&dir), "list"]);
    assert!(clusters.contains("images"), "{clusters}");

    // A second writer is still refused, and says why.
    let second = tagscape(&["graph", s(&dir)]);
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by another tagscape process"), "{err}");
    drop(writer);
    tagscape_ok(&["graph", s(&dir)]);
}

/// Runs `tagscape` as a user who cannot write `dir`: as root (which writes
/// anywhere) the command runs as `nobody`, otherwise `dir` is made
/// read-only for us.
fn run_without_write_access(dir: &Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let read_only = |path: &Path| {
        let mode = if path.is_dir() { 0o555 } else { 0o444 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for entry in walk(dir) {
        read_only(&entry);
    }
    if root {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_tagscape"))
            .args(args)
            .output()
            .unwrap()
    } else {
        Command::new(env!("CARGO_BIN_EXE_tagscape"))
            .args(args)
            .output()
            .unwrap()
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_project_that_cannot_be_written_is_still_exported() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    // The archive's copy: the store as the writer left it, no lock file.
    let archive = tmp.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    std::fs::copy(dir.join("tagscape.db"), archive.join("tagscape.db")).unwrap();
    // Somewhere the other user can write the export, on a path it can reach.
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let csv = out_dir.join("positions-free.gexf");

    let out = run_without_write_access(
        &archive,
        &["export", s(&archive), "--format", "gexf", "--out", s(&csv)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains("example.org/0.jpg")
    );
    // Nothing was created in the archive (no WAL, no lock file).
    let mut names: Vec<String> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["tagscape.db"]);

    let out = run_without_write_access(&archive, &["cluster", s(&archive), "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Writing is refused with the path, not a raw SQLite error.
    let out = run_without_write_access(&archive, &["graph", s(&archive)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(s(&archive)) && err.lines().count() == 1,
        "{err}"
    );
}
