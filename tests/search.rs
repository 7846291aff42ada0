//! Search over tags and posts (issue 12 part 2): user, date range, any
//! column, text, tags, clusters, combined with AND on one post; and the
//! selection exported through `export --search`. The inputs are literal and
//! every expected set is worked out by hand from them.

#[path = "support/cli.rs"]
mod cli;
use cli::{tagscape, tagscape_ok};

use std::path::{Path, PathBuf};

use tagscape::project::{Access, Project};
use tagscape::search::Query;

fn url(name: &str) -> String {
    format!("https://pbs.twimg.com/media/{name}.jpg")
}

/// Six tweets over four images, TCAT-shaped. A is posted by alice in March
/// 2019 and by bob in June; B by alice in June; C by carol, undated; D by
/// bob in March, in German.
fn tweets() -> String {
    let rows = [
        (
            "1",
            "2019-03-15 13:00:00",
            "alice",
            "en",
            "protest downtown",
            "A",
        ),
        (
            "2",
            "2019-06-01 09:00:00",
            "bob",
            "en",
            "same picture again",
            "A",
        ),
        ("3", "2019-06-20 18:30:00", "alice", "en", "a cat", "B"),
        ("4", "sometime", "carol", "en", "no date here", "C"),
        (
            "5",
            "2019-03-02 07:00:00",
            "bob",
            "de",
            "Demo in Berlin",
            "D",
        ),
        (
            "6",
            "2019-03-31 23:59:59",
            "Carol",
            "en",
            "end of march",
            "B",
        ),
    ];
    let mut text = String::from("id,created_at,from_user_name,lang,text,media_urls\n");
    for (id, date, user, lang, body, image) in rows {
        text.push_str(&format!(
            "{id},{date},{user},{lang},{body},{}\n",
            url(image)
        ));
    }
    text
}

/// A project with the tweets added and tags: A and D "protest", B "cat",
/// C "protest sign".
fn study(tmp: &Path) -> PathBuf {
    let dir = tmp.join("study");
    let list = tmp.join("tweets.csv");
    std::fs::write(&list, tweets()).unwrap();
    let tags = tmp.join("tags.csv");
    std::fs::write(
        &tags,
        format!(
            "image,tag,confidence\n{},protest,0.9\n{},protest,0.8\n{},cat,0.95\n{},protest sign,0.7\n",
            url("A"),
            url("D"),
            url("B"),
            url("C")
        ),
    )
    .unwrap();
    tagscape_ok(&["init", dir.to_str().unwrap()]);
    tagscape_ok(&["add", dir.to_str().unwrap(), list.to_str().unwrap()]);
    tagscape_ok(&["import-tags", dir.to_str().unwrap(), tags.to_str().unwrap()]);
    dir
}

/// The URLs a query finds, sorted, with the undated posts it skipped.
fn found(project: &Project, query: &str) -> (Vec<String>, u64) {
    let matches = Query::parse(query).unwrap().run(project).unwrap();
    let mut urls: Vec<String> = matches
        .images
        .iter()
        .map(|id| {
            project
                .conn()
                .query_row("SELECT url FROM images WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        })
        .collect();
    urls.sort();
    (urls, matches.undated)
}

fn urls(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|n| url(n)).collect();
    v.sort();
    v
}

#[test]
fn search_by_user_and_date_range_gives_exactly_the_expected_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let project = Project::open(&dir, Access::Read).unwrap();

    assert_eq!(found(&project, "user:alice").0, urls(&["A", "B"]));
    // Case and a leading @ do not matter.
    assert_eq!(found(&project, "user:@CAROL").0, urls(&["B", "C"]));
    // March 2019 as a month, and as an explicit range of days.
    let (march, undated) = found(&project, "date:2019-03");
    assert_eq!(march, urls(&["A", "B", "D"]));
    assert_eq!(undated, 1, "carol's tweet has no readable date");
    assert_eq!(
        found(&project, "date:2019-03-01..2019-03-15").0,
        urls(&["A", "D"])
    );
    assert_eq!(found(&project, "date:2019-06..").0, urls(&["A", "B"]));
    // The user and the date must hold on one post: alice posted A in March
    // and B in June; carol posted B in March.
    assert_eq!(found(&project, "user:alice date:2019-03").0, urls(&["A"]));
    assert_eq!(found(&project, "user:alice date:2019-06").0, urls(&["B"]));
    assert_eq!(found(&project, "user:bob date:2019-06").0, urls(&["A"]));
    assert_eq!(
        found(&project, "user:carol date:..2019-02").0,
        Vec::<String>::new()
    );
}

#[test]
fn tags_columns_text_and_words_combine_with_and() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let project = Project::open(&dir, Access::Read).unwrap();

    assert_eq!(found(&project, "tag:protest").0, urls(&["A", "D"]));
    assert_eq!(found(&project, "tag:Protest lang=de").0, urls(&["D"]));
    assert_eq!(found(&project, "lang:e").0, urls(&["A", "B", "C", "D"]));
    assert_eq!(found(&project, "text:berlin").0, urls(&["D"]));
    // A bare word is found in a tag ("protest sign") or in a post's text.
    assert_eq!(found(&project, "sign").0, urls(&["C"]));
    assert_eq!(found(&project, "protest").0, urls(&["A", "C", "D"]));
    assert_eq!(found(&project, "protest user:bob").0, urls(&["A", "D"]));

    // A column the posts do not have is named, with the ones they have.
    let err = Query::parse("colour:red")
        .unwrap()
        .run(&project)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("colour") && err.contains("`from_user_name`"),
        "{err}"
    );
}

#[test]
fn export_search_writes_the_selection_and_says_what_it_found() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = study(tmp.path());
    let out = tmp.path().join("alice.csv");
    let summary = tagscape_ok(&[
        "export",
        dir.to_str().unwrap(),
        "--format",
        "posts",
        "--search",
        "user:alice date:2019-03",
        "--out",
        out.to_str().unwrap(),
    ]);
    // The images found, then all their posts: A was posted by alice and bob.
    assert!(
        summary.contains("2 posts of 1 image matching `user:alice date:2019-03` (1 post matches)"),
        "{summary}"
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[0] == url("A")));

    let images = tmp.path().join("march.csv");
    let summary = tagscape_ok(&[
        "export",
        dir.to_str().unwrap(),
        "--format",
        "images",
        "--search",
        "date:2019-03",
        "--out",
        images.to_str().unwrap(),
    ]);
    assert!(
        summary.contains("1 post skipped by the date filter: their date cannot be read"),
        "{summary}"
    );
    let mut reader = csv::Reader::from_path(&images).unwrap();
    let mut got: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    got.sort();
    assert_eq!(got, urls(&["A", "B", "D"]));

    // A query that cannot be read is one line naming the fault, before any work.
    let bad = tagscape(&[
        "export",
        dir.to_str().unwrap(),
        "--format",
        "posts",
        "--search",
        "date:2019-13..",
        "--out",
        tmp.path().join("never.csv").to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("`2019-13` is not a date"), "{err}");
    assert!(!tmp.path().join("never.csv").exists());
}
