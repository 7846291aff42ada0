//! Every post kept (issue 12 part 1, the export side of part 2; issue 13
//! items 3 and 4): each occurrence of an image is stored with its source
//! file, row and columns; `export --format posts|images|originals` and the
//! post attributes of nodes.csv and GEXF read them back; a stray quote is
//! refused; a grown re-add never counts a post twice. Driven through the
//! binary as a user would; expected values are worked out by hand from the
//! literal inputs.

#[path = "support/cli.rs"]
mod cli;
use cli::{tagscape, tagscape_ok};
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use fetch_server::{Reply, TestServer};

const SHARED: &str = "https://pbs.twimg.com/media/SHARED.jpg";
const OTHER: &str = "https://pbs.twimg.com/media/OTHER.jpg";

/// Three tweets sharing one image (the second also has another), written as
/// TCAT writes them (fputcsv quoting). Tweet 103's text is a formula.
const TWEETS: &str = "\u{feff}id,created_at,from_user_name,text,media_urls\n\
101,\"2019-03-15 13:00:00\",alice,\"first, with comma\",https://pbs.twimg.com/media/SHARED.jpg\n\
102,\"2019-03-16 09:30:00\",bob,second,\"https://pbs.twimg.com/media/SHARED.jpg; https://pbs.twimg.com/media/OTHER.jpg\"\n\
103,\"2019-03-14 08:00:00\",alice,\"=HYPERLINK(\"\"http://evil\"\")\",https://pbs.twimg.com/media/SHARED.jpg\n";

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A project at `tmp/study` with `inputs` added.
fn study(tmp: &Path, inputs: &[&Path]) -> PathBuf {
    let dir = tmp.join("study");
    tagscape_ok(&["init", s(&dir)]);
    for input in inputs {
        tagscape_ok(&["add", s(&dir), s(input)]);
    }
    dir
}

/// A CSV file as header + rows (BOM removed, if any).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Frequencies by URL, read from the store.
fn frequencies(dir: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT url, frequency FROM images ORDER BY url")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn three_tweets_sharing_one_image_are_three_posts() {
    let tmp = tempfile::tempdir().unwrap();
    let tweets = write(&tmp.path().join("in/tweets.csv"), TWEETS);
    let dir = study(tmp.path(), &[&tweets]);

    let out = tmp.path().join("posts.csv");
    let summary = tagscape_ok(&["export", s(&dir), "--format", "posts", "--out", s(&out)]);
    assert!(summary.contains("4 posts"), "{summary}");
    assert!(summary.contains("1 cell starting with"), "{summary}");
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "image_url",
            "source_file",
            "source_row",
            "id",
            "created_at",
            "from_user_name",
            "text",
            "media_urls"
        ]
    );
    let shared: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == SHARED).collect();
    assert_eq!(shared.len(), 3, "{rows:?}");
    let ids: Vec<(&str, &str, &str)> = shared
        .iter()
        .map(|r| (r[2].as_str(), r[3].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("2", "101", "alice"),
            ("3", "102", "bob"),
            ("4", "103", "alice")
        ]
    );
    assert!(shared.iter().all(|r| r[1] == s(&tweets)), "{shared:?}");
    assert_eq!(shared[0][6], "first, with comma");
    assert_eq!(
        shared[2][6], "'=HYPERLINK(\"http://evil\")",
        "formula neutralised"
    );
    let other: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == OTHER).collect();
    assert_eq!(other.len(), 1);
    assert_eq!((other[0][2].as_str(), other[0][3].as_str()), ("3", "102"));

    // --formulas keep writes the cell as it was; --excel adds the BOM.
    let raw = tmp.path().join("raw.csv");
    let args = [
        "--format",
        "posts",
        "--out",
        s(&raw),
        "--formulas",
        "keep",
        "--excel",
    ];
    tagscape_ok(&[&["export", s(&dir)][..], &args].concat());
    assert!(std::fs::read(&raw).unwrap().starts_with(b"\xEF\xBB\xBF"));
    let (_, raw_rows) = read_csv(&raw);
    assert!(
        raw_rows
            .iter()
            .any(|r| r[6] == "=HYPERLINK(\"http://evil\")")
    );
    assert!(!std::fs::read(&out).unwrap().starts_with(b"\xEF\xBB\xBF"));

    // One row per image, with the post counts and the first post.
    let images = tmp.path().join("images.csv");
    tagscape_ok(&["export", s(&dir), "--format", "images", "--out", s(&images)]);
    let (header, rows) = read_csv(&images);
    let row = rows.iter().find(|r| r[0] == SHARED).unwrap();
    let get = |name: &str| row[col(&header, name)].as_str();
    assert_eq!(get("status"), "pending");
    assert_eq!(get("frequency"), "3");
    assert_eq!(get("posts"), "3");
    assert_eq!(get("users"), "2");
    assert_eq!(get("first_date"), "2019-03-14 08:00:00");
    assert_eq!(get("last_date"), "2019-03-16 09:30:00");
    assert_eq!(get("first_source_row"), "2");
    assert_eq!(get("id"), "101");
    assert_eq!(rows.len(), 2);
}

#[test]
fn a_stray_quote_is_refused_naming_its_line_and_nothing_is_added() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("url,caption\n");
    for i in 0..1000 {
        // Row 10 (line 11) opens a quote that never closes.
        let caption = if i == 9 {
            "\"oops".to_string()
        } else {
            format!("caption {i}")
        };
        text.push_str(&format!("https://e.com/{i}.jpg,{caption}\n"));
    }
    let input = write(&tmp.path().join("stray.csv"), &text);
    let dir = study(tmp.path(), &[]);
    let out = tagscape(&["add", s(&dir), s(&input)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stray.csv line 11"), "{err}");
    assert!(err.contains("--no-quotes"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(frequencies(&dir).is_empty(), "nothing added");

    let summary = tagscape_ok(&["add", s(&dir), s(&input), "--no-quotes"]);
    assert!(summary.contains("added 1000 images"), "{summary}");
    assert_eq!(frequencies(&dir).len(), 1000);

    // A quote that closes 5 lines later leaves a row with too few fields.
    let mut text = String::from("url,user,caption\n");
    for i in 0..20 {
        let user = if i == 3 {
            "\"bob".to_string()
        } else {
            "ann".into()
        };
        let caption = if i == 8 {
            "x\"".to_string()
        } else {
            "c".into()
        };
        text.push_str(&format!("https://e.com/s{i}.jpg,{user},{caption}\n"));
    }
    let shifted = write(&tmp.path().join("shifted.csv"), &text);
    let out = tagscape(&["add", s(&dir), s(&shifted)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shifted.csv line 5"), "{err}");
    assert!(err.contains("line 10"), "where it ran to: {err}");
    assert_eq!(frequencies(&dir).len(), 1000, "nothing more added");

    // The same rule in import-tags.
    let tags = write(
        &tmp.path().join("tags.csv"),
        "image,tag,confidence\nhttps://e.com/0.jpg,crowd,0.9\nhttps://e.com/1.jpg,\"flag,0.8\nhttps://e.com/2.jpg,sky,0.7\n",
    );
    let out = tagscape(&["import-tags", s(&dir), s(&tags)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tags.csv line 3"), "{err}");
    assert!(
        err.contains("stray") && err.contains("--no-quotes"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_grown_export_added_again_counts_only_its_new_posts() {
    let tmp = tempfile::tempdir().unwrap();
    let a = "https://e.com/a.jpg";
    let b = "https://e.com/b.jpg";
    // With an id column (TCAT): the grown export keeps tweets 201 and 202
    // and adds 203.
    let v1 = write(
        &tmp.path().join("v1/export.csv"),
        &format!("id,from_user_name,media_urls\n201,ann,{a}\n202,bob,\"{a}; {b}\"\n"),
    );
    let v2 = write(
        &tmp.path().join("v2/export.csv"),
        &format!("id,from_user_name,media_urls\n201,ann,{a}\n202,bob,\"{a}; {b}\"\n203,cy,{a}\n"),
    );
    let dir = study(tmp.path(), &[&v1]);
    assert_eq!(frequencies(&dir), [(a.into(), 2), (b.into(), 1)]);
    let summary = tagscape_ok(&["add", s(&dir), s(&v2)]);
    assert!(
        summary.contains("3 posts already in the project (not counted again)"),
        "{summary}"
    );
    assert_eq!(frequencies(&dir), [(a.into(), 3), (b.into(), 1)]);

    // Without one: known by file name and row content; two identical rows
    // are two posts.
    let tmp = tempfile::tempdir().unwrap();
    let v1 = write(
        &tmp.path().join("v1/sheet.csv"),
        &format!("url,user\n{a},x\n{a},x\n{b},y\n"),
    );
    let v2 = write(
        &tmp.path().join("v2/sheet.csv"),
        &format!("url,user\n{a},x\n{b},y\n{a},x\n{a},z\n{a},x\n"),
    );
    let dir = study(tmp.path(), &[&v1]);
    assert_eq!(frequencies(&dir), [(a.into(), 2), (b.into(), 1)]);
    tagscape_ok(&["add", s(&dir), s(&v2)]);
    assert_eq!(frequencies(&dir), [(a.into(), 4), (b.into(), 1)]);
    let out = tmp.path().join("posts.csv");
    tagscape_ok(&["export", s(&dir), "--format", "posts", "--out", s(&out)]);
    let (_, rows) = read_csv(&out);
    assert_eq!(rows.len(), 5, "{rows:?}");
}

fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 12, |x, y| {
        image::Rgb([x as u8 * 15, y as u8 * 20, seed])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn failed_images_are_listed_with_reason_and_http_status() {
    let server = TestServer::start(|path, _| match path {
        "/ok.png" => Reply::Ok {
            content_type: "image/png",
            body: png(7),
        },
        "/gone.png" => Reply::Status {
            code: 404,
            headers: vec![],
        },
        _ => Reply::Status {
            code: 500,
            headers: vec![],
        },
    });
    let tmp = tempfile::tempdir().unwrap();
    let (ok, gone) = (server.url("/ok.png"), server.url("/gone.png"));
    let input = write(
        &tmp.path().join("list.csv"),
        &format!("url,user\n{ok},ann\n{gone},bob\n{gone},cy\n"),
    );
    let dir = study(tmp.path(), &[&input]);
    let out = tagscape(&["fetch", s(&dir), "--retries", "0"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failures = std::path::absolute(dir.join("failures.csv")).unwrap();
    assert!(
        stdout.contains(&format!("listed in {}", failures.display())),
        "{stdout}"
    );
    let (header, rows) = read_csv(&failures);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let get = |name: &str| rows[0][col(&header, name)].as_str();
    assert_eq!(get("url"), gone);
    assert_eq!(get("status"), "failed");
    assert_eq!(get("failure"), "http_404");
    assert_eq!(get("http_status"), "404");
    assert_eq!(get("frequency"), "2");
    assert_eq!(get("user"), "bob");

    let images = tmp.path().join("images.csv");
    tagscape_ok(&["export", s(&dir), "--format", "images", "--out", s(&images)]);
    let (header, rows) = read_csv(&images);
    assert_eq!(rows.len(), 2);
    let by = |url: &str, name: &str| {
        rows.iter().find(|r| r[0] == url).unwrap()[col(&header, name)].clone()
    };
    assert_eq!(by(&gone, "failure"), "http_404");
    assert_eq!(by(&gone, "http_status"), "404");
    assert_eq!(by(&ok, "status"), "done");
    assert_eq!(by(&ok, "failure"), "");
    assert_eq!(
        (by(&ok, "width"), by(&ok, "height")),
        ("16".into(), "12".into())
    );
    let file = by(&ok, "file");
    assert_eq!(std::fs::read(dir.join(&file)).unwrap(), png(7));

    // The originals, copied out with an index.
    let originals = tmp.path().join("originals");
    let summary = tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "originals",
        "--out",
        s(&originals),
    ]);
    assert!(summary.contains("1 originals"), "{summary}");
    assert!(summary.contains("1 images have no original"), "{summary}");
    assert_eq!(std::fs::read(originals.join("ok.png")).unwrap(), png(7));
    let (_, index) = read_csv(&originals.join("index.csv"));
    assert_eq!(
        index,
        [vec![
            ok.clone(),
            "ok.png".into(),
            "1".into(),
            "".into(),
            by(&ok, "content_hash")
        ]]
    );
}

#[test]
fn post_attributes_reach_nodes_csv_and_gexf_and_clusters_narrow_the_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let tweets = write(&tmp.path().join("tweets.csv"), TWEETS);
    let tags = write(
        &tmp.path().join("tags.csv"),
        &format!("image,tag,confidence\n{SHARED},crowd,0.9\n{SHARED},flag,0.8\n{OTHER},cat,0.7\n"),
    );
    let dir = study(tmp.path(), &[&tweets]);
    tagscape_ok(&["import-tags", s(&dir), s(&tags)]);
    tagscape_ok(&["graph", s(&dir)]);

    let gephi = tmp.path().join("gephi");
    tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "gephi-csv",
        "--attributes",
        "from_user_name,id",
        "--out",
        s(&gephi),
    ]);
    let (header, rows) = read_csv(&gephi.join("nodes.csv"));
    assert_eq!(
        header[header.len() - 6..],
        [
            "posts",
            "users",
            "first_date",
            "last_date",
            "from_user_name",
            "post_id"
        ]
    );
    let tail = |id: &str| -> Vec<String> {
        rows.iter().find(|r| r[0] == id).unwrap()[header.len() - 6..].to_vec()
    };
    assert_eq!(
        tail(SHARED),
        [
            "3",
            "2",
            "2019-03-14 08:00:00",
            "2019-03-16 09:30:00",
            "alice; bob",
            "101; 102; 103"
        ]
    );
    assert_eq!(
        tail(OTHER),
        [
            "1",
            "1",
            "2019-03-16 09:30:00",
            "2019-03-16 09:30:00",
            "bob",
            "102"
        ]
    );
    assert_eq!(tail("crowd"), ["", "", "", "", "", ""]);

    let gexf = tmp.path().join("map.gexf");
    tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "gexf",
        "--attributes",
        "from_user_name",
        "--out",
        s(&gexf),
    ]);
    let xml = std::fs::read_to_string(&gexf).unwrap();
    assert!(
        xml.contains(r#"<attribute id="from_user_name" title="from_user_name" type="string"/>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<attribute id="posts" title="posts" type="integer"/>"#));
    assert!(xml.contains(r#"<attvalue for="posts" value="3"/>"#));
    assert!(xml.contains(r#"<attvalue for="users" value="2"/>"#));
    assert!(xml.contains(r#"<attvalue for="from_user_name" value="alice; bob"/>"#));

    // An unknown column lists the ones there are.
    let out = tagscape(&[
        "export",
        s(&dir),
        "--format",
        "gexf",
        "--attributes",
        "from_user,text",
        "--out",
        s(&gexf),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--attributes from_user"), "{err}");
    assert!(
        err.contains("`id`, `created_at`, `from_user_name`, `text`, `media_urls`"),
        "{err}"
    );

    // The two images share no tag: two clusters; each narrows the tables.
    tagscape_ok(&["cluster", s(&dir), "--min-size", "1"]);
    let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
    let cluster_of = |url: &str| -> i64 {
        conn.query_row(
            "SELECT cluster_id FROM node_clusters WHERE node_id = ?1",
            [url],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (c_shared, c_other) = (cluster_of(SHARED), cluster_of(OTHER));
    assert_ne!(c_shared, c_other);
    let posts = tmp.path().join("cluster-posts.csv");
    let summary = tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "posts",
        "--cluster",
        &c_other.to_string(),
        "--out",
        s(&posts),
    ]);
    assert!(
        summary.contains(&format!("1 posts of cluster {c_other} (")),
        "{summary}"
    );
    let (_, rows) = read_csv(&posts);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0][0].as_str(), rows[0][3].as_str()), (OTHER, "102"));
    let images = tmp.path().join("cluster-images.csv");
    tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "images",
        "--cluster",
        &c_shared.to_string(),
        "--out",
        s(&images),
    ]);
    let (header, rows) = read_csv(&images);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], SHARED);
    assert_eq!(rows[0][col(&header, "cluster")], c_shared.to_string());

    let out = tagscape(&[
        "export",
        s(&dir),
        "--format",
        "posts",
        "--cluster",
        "no such cluster",
        "--out",
        s(&posts),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{c_shared} (")), "{err}");
}

#[test]
fn the_viewer_card_counts_the_posts_and_links_each() {
    let tmp = tempfile::tempdir().unwrap();
    let tweets = write(&tmp.path().join("tweets.csv"), TWEETS);
    let tags = write(
        &tmp.path().join("tags.csv"),
        &format!("image,tag,confidence\n{SHARED},crowd,0.9\n{OTHER},cat,0.7\n"),
    );
    let dir = study(tmp.path(), &[&tweets]);
    tagscape_ok(&["import-tags", s(&dir), s(&tags)]);
    tagscape_ok(&["graph", s(&dir)]);
    let project = tagscape::project::Project::open(&dir, tagscape::project::Access::Read).unwrap();
    let graph = tagscape::graph::Graph::load(&project).unwrap();
    let node = graph.nodes.iter().position(|n| n.id == SHARED).unwrap() as u32;
    let data = tagscape::viewer::data::MapData::new(graph);
    let info = data.image_info(&project, node).unwrap();
    assert_eq!(
        tagscape::viewer::detail::posts_line(&info).as_deref(),
        Some("3 posts · 2 users · 2019-03-14 to 2019-03-16")
    );
    assert_eq!(info.users, ["alice", "bob"]);
    assert_eq!(
        info.links,
        [
            "https://twitter.com/alice/status/101",
            "https://twitter.com/bob/status/102",
            "https://twitter.com/alice/status/103"
        ]
    );
}

#[test]
fn run_finishes_the_map_but_exits_3_naming_failures_csv_when_some_images_fail() {
    let server = TestServer::start(|path, _| match path {
        "/ok.png" => Reply::Ok {
            content_type: "image/png",
            body: png(3),
        },
        _ => Reply::Status {
            code: 404,
            headers: vec![],
        },
    });
    let tmp = tempfile::tempdir().unwrap();
    let (ok, gone) = (server.url("/ok.png"), server.url("/gone.png"));
    let input = write(
        &tmp.path().join("list.csv"),
        &format!("url\n{ok}\n{gone}\n"),
    );
    let tags = write(
        &tmp.path().join("tags.csv"),
        &format!("image,tag,confidence\n{ok},cat,0.9\n{gone},cat,0.8\n"),
    );
    let dir = tmp.path().join("study");
    let out = tagscape(&[
        "run",
        s(&input),
        "--project",
        s(&dir),
        "--tags",
        s(&tags),
        "--no-view",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("done: Gephi files in"), "{stdout}");
    let failures = std::path::absolute(dir.join("failures.csv")).unwrap();
    assert!(
        stdout.contains(&format!("listed in {}", failures.display())),
        "{stdout}"
    );
    let (_, rows) = read_csv(&failures);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], gone);
}
