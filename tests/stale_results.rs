//! Issue 13 item 17: after the network is rebuilt, an export of the old
//! layout and clusters says so and names the commands to run; re-running
//! them makes the warning go.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape;

use std::path::Path;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs tagscape, expecting success; returns stderr.
fn stderr_of(args: &[&str]) -> String {
    let out = tagscape(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    err
}

#[test]
fn exports_of_results_older_than_the_network_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let list = tmp.path().join("urls.txt");
    let tags = tmp.path().join("tags.csv");
    let more = tmp.path().join("more-tags.csv");
    let mut urls = String::new();
    let mut rows = String::from("image,tag,confidence\n");
    let mut extra = String::from("image,tag,confidence\n");
    for i in 0..6 {
        let url = format!("https://example.org/{i}.jpg");
        urls.push_str(&format!("{url}\n"));
        rows.push_str(&format!("{url},{},0.9\n", ["cat", "dog"][i % 2]));
        extra.push_str(&format!("{url},animal,0.8\n"));
    }
    std::fs::write(&list, urls).unwrap();
    std::fs::write(&tags, rows).unwrap();
    std::fs::write(&more, extra).unwrap();
    let d = s(&dir);
    stderr_of(&["init", d]);
    stderr_of(&["add", d, s(&list)]);
    stderr_of(&["import-tags", d, s(&tags)]);
    stderr_of(&["graph", d]);
    stderr_of(&["layout", d, "--iterations", "50"]);
    stderr_of(&["cluster", d]);
    let gexf = tmp.path().join("map.gexf");
    let export = ["export", d, "--format", "gexf", "--out", s(&gexf)];
    let fresh = stderr_of(&export);
    assert!(!fresh.contains("before the network"), "{fresh}");

    // New tags, a new network: the layout and clusters are now stale.
    stderr_of(&["import-tags", d, s(&more)]);
    stderr_of(&["graph", d]);
    let stale = stderr_of(&export);
    assert!(
        stale.contains("the layout was made before the network was last rebuilt")
            && stale.contains(&format!("run `tagscape layout {d}`")),
        "{stale}"
    );
    assert!(
        stale.contains(&format!("run `tagscape cluster {d}`")),
        "{stale}"
    );

    stderr_of(&["layout", d, "--iterations", "50"]);
    let half = stderr_of(&export);
    assert!(!half.contains("tagscape layout"), "{half}");
    assert!(half.contains("tagscape cluster"), "{half}");
    stderr_of(&["cluster", d]);
    let again = stderr_of(&export);
    assert!(!again.contains("before the network"), "{again}");
}
