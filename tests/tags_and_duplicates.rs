//! Tags and duplicates (issue 12 part 7): a second tag file keeps the
//! first one's tags; the same bytes under two URLs are one image; a file
//! name two images share is reported as ambiguous. Driven through the
//! binary; expected values are worked out by hand from the literal inputs.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use fetch_server::{Reply, TestServer};

const A: &str = "https://pbs.twimg.com/media/AAAA.jpg";
const B: &str = "https://pbs.twimg.com/media/BBBB.jpg";

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("tagscape.db")).unwrap()
}

/// (image URL, tag, source) of every stored tag, sorted.
fn tags(dir: &Path) -> Vec<(String, String, String)> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare(
            "SELECT i.url, t.tag, t.source FROM tags t JOIN images i ON i.id = t.image_id
             ORDER BY i.url, t.tag, t.source",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn t(url: &str, tag: &str, source: &str) -> (String, String, String) {
    (url.into(), tag.into(), source.into())
}

/// The graph's edges as (image node id, tag node id), sorted, from the
/// Gephi CSV export.
fn edges(tmp: &Path, dir: &Path) -> Vec<(String, String)> {
    tagscape_ok(&["graph", s(dir)]);
    let out = tmp.join("gephi");
    tagscape_ok(&["export", s(dir), "--format", "gephi-csv", "--out", s(&out)]);
    let mut reader = csv::Reader::from_path(out.join("edges.csv")).unwrap();
    let mut edges: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string())
        })
        .collect();
    edges.sort();
    edges
}

fn e(image: &str, tag: &str) -> (String, String) {
    (image.into(), tag.into())
}

#[test]
fn a_second_tag_file_keeps_the_first_files_tags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let list = write(&tmp.path().join("urls.txt"), &format!("{A}\n{B}\n"));
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&list)]);

    // Two tagging-tool runs (say, two Clarifai models) over the same images.
    let general = write(
        &tmp.path().join("urls_concepts_general.csv"),
        &format!("url,concept,confidence\n{A},people,0.9\n{A},street,0.8\n{B},dog,0.7\n"),
    );
    let apparel = write(
        &tmp.path().join("urls_concepts_apparel.csv"),
        &format!("url,concept,confidence\n{A},hat,0.6\n"),
    );
    tagscape_ok(&["import-tags", s(&dir), s(&general)]);
    let second = tagscape_ok(&["import-tags", s(&dir), s(&apparel)]);
    assert!(!second.contains("replacing"), "{second}");
    let g = "import:dmi:urls_concepts_general.csv";
    let ap = "import:dmi:urls_concepts_apparel.csv";
    assert_eq!(
        tags(&dir),
        [
            t(A, "hat", ap),
            t(A, "people", g),
            t(A, "street", g),
            t(B, "dog", g)
        ]
    );
    assert_eq!(
        edges(tmp.path(), &dir),
        [e(A, "hat"), e(A, "people"), e(A, "street"), e(B, "dog")]
    );

    // The first file, corrected and imported again, replaces its own tags
    // only: `street` is gone, the apparel file's `hat` stays.
    write(
        &general,
        &format!("url,concept,confidence\n{A},people,0.9\n{A},crowd,0.5\n{B},dog,0.7\n"),
    );
    let again = tagscape_ok(&["import-tags", s(&dir), s(&general)]);
    assert!(again.contains("replacing 3 tags"), "{again}");
    assert_eq!(
        tags(&dir),
        [
            t(A, "crowd", g),
            t(A, "hat", ap),
            t(A, "people", g),
            t(B, "dog", g)
        ]
    );
}

#[test]
fn tags_from_an_older_tagscape_are_kept_and_can_be_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let list = write(&tmp.path().join("urls.txt"), &format!("{A}\n"));
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&list)]);
    // What an import by an older tagscape left: the format alone as source.
    db(&dir)
        .execute(
            "INSERT INTO tags(image_id, tag, tag_key, confidence, source)
             SELECT id, 'old', 'old', 0.5, 'import:dmi' FROM images",
            [],
        )
        .unwrap();
    let file = write(
        &tmp.path().join("tags.csv"),
        &format!("url,concept,confidence\n{A},new,0.9\n"),
    );
    let out = tagscape_ok(&["import-tags", s(&dir), s(&file)]);
    assert!(
        out.contains("1 tag of an import by an older tagscape kept")
            && out.contains("--source import:dmi"),
        "{out}"
    );
    assert_eq!(
        tags(&dir),
        [
            t(A, "new", "import:dmi:tags.csv"),
            t(A, "old", "import:dmi")
        ]
    );
    // The way out the summary names: the old source's tags replaced.
    let out = tagscape_ok(&["import-tags", s(&dir), s(&file), "--source", "import:dmi"]);
    assert!(out.contains("replacing 1 tag"), "{out}");
    assert_eq!(
        tags(&dir),
        [
            t(A, "new", "import:dmi"),
            t(A, "new", "import:dmi:tags.csv")
        ]
    );
}

#[test]
fn a_file_name_two_images_share_is_ambiguous_not_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    // Two cameras' IMG_0001.jpg, and one image only one has.
    let list = write(
        &tmp.path().join("urls.txt"),
        "https://a.example/cam1/IMG_0001.jpg\nhttps://b.example/cam2/IMG_0001.jpg\nhttps://a.example/cam1/IMG_0002.jpg\n",
    );
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&list)]);
    let file = write(
        &tmp.path().join("coded.csv"),
        "image,tag\nIMG_0001.jpg,beach\nIMG_0002.jpg,dog\nIMG_0003.jpg,cat\n",
    );
    let out = tagscape_ok(&["import-tags", s(&dir), s(&file)]);
    let unmatched = dir.join("unmatched-tags-coded.csv");
    assert!(out.contains("imported 1 tag for 1 image"), "{out}");
    assert!(
        out.contains(&format!(
            "1 row for 1 image not in the project (see {}), e.g. IMG_0003.jpg",
            unmatched.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("1 row ambiguous, naming only a file name that several images have")
            && out.contains("e.g. IMG_0001.jpg: give the image's URL or path instead"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&unmatched).unwrap(),
        "line,image,tag,confidence,source,reason\n\
         2,IMG_0001.jpg,beach,,import:long:coded.csv,ambiguous: several images have this file name\n\
         4,IMG_0003.jpg,cat,,import:long:coded.csv,not in the project\n"
    );
    assert_eq!(
        tags(&dir),
        [t(
            "https://a.example/cam1/IMG_0002.jpg",
            "dog",
            "import:long:coded.csv"
        )]
    );
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

/// A CSV file's header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_same_bytes_under_two_urls_are_one_image() {
    // One picture behind two signed CDN links, and a different picture.
    let server = TestServer::start(|path, _| match path {
        "/v1/sig=aa/pic.png" | "/v2/sig=bb/pic-copy.png" => Reply::Ok {
            content_type: "image/png",
            body: png(1),
        },
        _ => Reply::Ok {
            content_type: "image/png",
            body: png(2),
        },
    });
    let (first, second, other) = (
        server.url("/v1/sig=aa/pic.png"),
        server.url("/v2/sig=bb/pic-copy.png"),
        server.url("/other.png"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    // Three posts: two with the first link, one with the second (and the other picture).
    let posts = write(
        &tmp.path().join("posts.csv"),
        &format!("id,user,image_url\n1,ann,{first}\n2,bob,{first}\n3,cy,\"{second}; {other}\"\n"),
    );
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&posts)]);
    let tag_file = write(
        &tmp.path().join("tags.csv"),
        &format!(
            "image,tag,confidence\n{first},people,0.9\n{second},people,0.95\n{second},flag,0.8\n{other},dog,0.7\n"
        ),
    );
    tagscape_ok(&["import-tags", s(&dir), s(&tag_file)]);
    let out = tagscape_ok(&["fetch", s(&dir)]);
    assert!(
        out.contains("fetched 3 of 3 images")
            && out.contains("1 image had the same bytes as another image under another URL and was merged into it"),
        "{out}"
    );

    // One image node (the first URL), frequency 3, the tags of both URLs
    // (people at the higher confidence).
    let mut expected = vec![e(&first, "flag"), e(&first, "people"), e(&other, "dog")];
    expected.sort();
    assert_eq!(edges(tmp.path(), &dir), expected);
    let (header, rows) = read_csv(&tmp.path().join("gephi/nodes.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let images: Vec<(String, String, String)> = rows
        .iter()
        .filter(|r| r[col("Type")] == "image")
        .map(|r| {
            (
                r[col("Id")].clone(),
                r[col("frequency")].clone(),
                r[col("posts")].clone(),
            )
        })
        .collect();
    assert_eq!(
        images,
        [
            (first.clone(), "3".to_string(), "3".to_string()),
            (other.clone(), "1".to_string(), "1".to_string())
        ]
    );
    let (_, weights) = read_csv(&tmp.path().join("gephi/edges.csv"));
    let people = weights.iter().find(|r| r[1] == "people").unwrap();
    assert_eq!(people[2], "0.95");

    // Every post kept, all three under the one image.
    let posts_csv = tmp.path().join("posts-export.csv");
    tagscape_ok(&[
        "export",
        s(&dir),
        "--format",
        "posts",
        "--out",
        s(&posts_csv),
    ]);
    let (header, rows) = read_csv(&posts_csv);
    let users: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                r[header.iter().position(|h| h == "user").unwrap()].clone(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            (first.clone(), "ann".to_string()),
            (first.clone(), "bob".to_string()),
            (first.clone(), "cy".to_string()),
            (other.clone(), "cy".to_string())
        ]
    );

    // The second URL is still known: a later post and a later tag file
    // naming it reach the one image.
    let more = write(
        &tmp.path().join("more.csv"),
        &format!("id,user,image_url\n4,dan,{second}\n"),
    );
    let out = tagscape_ok(&["add", s(&dir), s(&more)]);
    assert!(out.contains("0 new"), "{out}");
    let late = write(
        &tmp.path().join("late.csv"),
        &format!("image,tag\n{second},crowd\n"),
    );
    let out = tagscape_ok(&["import-tags", s(&dir), s(&late)]);
    assert!(out.contains("imported 1 tag for 1 image"), "{out}");
    let conn = db(&dir);
    let (n, frequency): (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(frequency) FROM images WHERE url = ?1",
            [&first],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((n, frequency), (1, 4));
    let images: i64 = conn
        .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
        .unwrap();
    assert_eq!(images, 2);
    assert!(
        tags(&dir).contains(&t(&first, "crowd", "import:long:late.csv")),
        "{:?}",
        tags(&dir)
    );
}
