//! `tagscape add`: tables, TCAT exports, lists and folders into the project.
//! Inputs are literal text written from the formats in FORMATS.md (a); the
//! expected URLs, frequencies and kinds are worked out by hand in each test.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape;

use std::path::{Path, PathBuf};

use tagscape::collect::{AddReport, Outcome, add_inputs};
use tagscape::project::Project;

const BOM: &str = "\u{feff}";

fn project(dir: &Path) -> Project {
    Project::init(&dir.join("study")).unwrap()
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// (url, frequency, media_kind) of every image, by URL.
fn images(p: &Project) -> Vec<(String, i64, String)> {
    let mut stmt = p
        .conn()
        .prepare("SELECT url, frequency, media_kind FROM images ORDER BY url")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn metadata(p: &Project, url: &str) -> serde_json::Value {
    let raw: String = p
        .conn()
        .query_row("SELECT metadata FROM images WHERE url = ?1", [url], |r| {
            r.get(0)
        })
        .unwrap();
    serde_json::from_str(&raw).unwrap()
}

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(std::path::absolute(path).unwrap())
        .unwrap()
        .to_string()
}

fn added(report: &AddReport, i: usize) -> &tagscape::collect::Counts {
    match &report.sources[i].outcome {
        Outcome::Added(c) => c,
        other => panic!("expected an add, got {other:?}"),
    }
}

/// A TCAT "Export all tweets" row: the base header (FORMATS.md a2) plus the
/// media-only block; fields quoted as PHP's fputcsv does (comma, space, quote).
const TCAT_HEADER: &str = "id,time,created_at,from_user_name,text,filter_level,possibly_sensitive,withheld_copyright,withheld_scope,truncated,retweet_count,favorite_count,lang,to_user_name,in_reply_to_status_id,quoted_status_id,source,location,lat,lng,from_user_id,from_user_realname,from_user_verified,from_user_description,from_user_url,from_user_profile_image_url,from_user_utcoffset,from_user_timezone,from_user_lang,from_user_tweetcount,from_user_followercount,from_user_friendcount,from_user_favourites_count,from_user_listed,from_user_withheld_scope,from_user_created_at,urls,urls_expanded,media_id,media_urls,media_type,media_indice_start,media_indice_end,photo_sizes_width,photo_sizes_height,photo_resize";

fn tcat_row(fields: &[(&str, &str)]) -> String {
    TCAT_HEADER
        .split(',')
        .map(|name| {
            let value = fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or("");
            if value.contains([',', ' ', '"']) {
                format!("\"{}\"", value.replace('"', "\"\""))
            } else {
                value.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn tcat_full_export_reads_media_urls_and_flags_video_stills() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let a = "https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg";
    let b = "https://pbs.twimg.com/media/D1tQxZZWoAEx9yZ.jpg";
    let v = "https://pbs.twimg.com/ext_tw_video_thumb/1106/pu/img/AbCdEf.jpg";
    let g = "https://pbs.twimg.com/tweet_video_thumb/GiF.jpg";
    let avatar = "https://pbs.twimg.com/profile_images/1/abc_normal.jpg";
    let rows = [
        tcat_row(&[
            ("id", "1106512345678901234"),
            ("created_at", "2019-03-15 13:00:00"),
            ("from_user_name", "someuser"),
            ("text", "look at this"),
            ("from_user_profile_image_url", avatar),
            ("media_id", "1106512300000000001; 1106512300000000002"),
            ("media_urls", &format!("{a}; {b}")),
            ("media_type", "photo; photo"),
        ]),
        // A video still next to a photo already seen: the types stay aligned.
        tcat_row(&[
            ("id", "1106512345678901235"),
            ("from_user_name", "other"),
            ("text", "again"),
            ("from_user_profile_image_url", avatar),
            ("media_urls", &format!("{v}; {a}")),
            ("media_type", "video; photo"),
        ]),
        tcat_row(&[
            ("id", "1106512345678901236"),
            ("text", "no media here"),
            ("from_user_profile_image_url", avatar),
        ]),
        tcat_row(&[
            ("id", "1106512345678901237"),
            ("media_urls", g),
            ("media_type", "animated_gif"),
        ]),
    ];
    let csv = format!("{BOM}{TCAT_HEADER}\n{}\n", rows.join("\n"));
    let input = write(&tmp.path().join("tcat-fullExport.csv"), &csv);
    let report = add_inputs(&mut p, std::slice::from_ref(&input), None).unwrap();

    let mut expected = vec![
        (a.to_string(), 2, "photo".to_string()),
        (b.to_string(), 1, "photo".to_string()),
        (v.to_string(), 1, "video_thumb".to_string()),
        (g.to_string(), 1, "gif_thumb".to_string()),
    ];
    expected.sort();
    assert_eq!(images(&p), expected);
    let c = added(&report, 0);
    assert_eq!((c.distinct, c.new, c.occurrences), (4, 4, 5));
    assert_eq!(c.skipped.get("empty"), Some(&1), "the tweet without media");
    assert_eq!((c.video_thumbs, c.gif_thumbs), (1, 1));
    let line = report.sources[0].to_string();
    assert!(line.contains("(column media_urls)"), "{line}");
    assert!(line.contains("4 new"), "{line}");
    assert!(line.contains("2 video/GIF thumbnails flagged"), "{line}");

    // The other columns of the first row naming the URL are kept, BOM-free.
    let meta = metadata(&p, a);
    assert_eq!(meta["id"], "1106512345678901234");
    assert_eq!(meta["text"], "look at this");
    assert_eq!(meta["created_at"], "2019-03-15 13:00:00");
    assert_eq!(meta["from_user_profile_image_url"], avatar);
    assert!(meta.get("media_urls").is_none());
}

#[test]
fn media_frequency_export_sums_frequencies_across_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let a = "https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg";
    let v = "https://pbs.twimg.com/ext_tw_video_thumb/1106/pu/img/AbCdEf.jpg";
    let c = "https://pbs.twimg.com/media/Ccc.png";
    let csv = format!(
        "{BOM}interval,\"media url\",frequency\n\
         \"2019-03-15 13\",{a},42\n\
         \"2019-03-15 13\",{v},7\n\
         \"2019-03-15 14\",{a},8\n\
         \"2019-03-15 14\",{c},1\n"
    );
    let input = write(&tmp.path().join("mediaFrequency.csv"), &csv);
    let report = add_inputs(&mut p, &[input], None).unwrap();
    let mut expected = vec![
        (a.to_string(), 50, "photo".to_string()),
        (v.to_string(), 7, "video_thumb".to_string()),
        (c.to_string(), 1, "photo".to_string()),
    ];
    expected.sort();
    assert_eq!(images(&p), expected);
    let counts = added(&report, 0);
    assert_eq!((counts.distinct, counts.occurrences), (3, 58));
    assert!(
        report.to_string().contains("(column media url)"),
        "{report}"
    );
    assert_eq!(metadata(&p, a)["interval"], "2019-03-15 13");
}

#[test]
fn plain_list_takes_relative_paths_file_urls_and_skips_junk() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let list_dir = tmp.path().join("lists");
    let elsewhere = tmp.path().join("elsewhere/b.png");
    let text = format!(
        "imgs/a.jpg\n\
         \n\
         ./imgs/../imgs/a.jpg\n\
         {}\n\
         ../other/c.GIF\n\
         javascript:alert(1)\n\
         data:image/png;base64,iVBORw0KGgo=\n\
         not an image\n\
         HTTP://Example.com:80/x.jpg#frag\n\
         http://example.com/x.jpg\n",
        file_url(&elsewhere)
    );
    let input = write(&list_dir.join("urls.txt"), &text);
    let report = add_inputs(&mut p, &[input], None).unwrap();

    let mut expected = vec![
        (
            file_url(&list_dir.join("imgs/a.jpg")),
            2,
            "photo".to_string(),
        ),
        (file_url(&elsewhere), 1, "photo".to_string()),
        (
            "http://example.com/x.jpg".to_string(),
            2,
            "photo".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(images(&p), expected);
    let c = added(&report, 0);
    assert_eq!(c.skipped.get("javascript: URL"), Some(&1));
    assert_eq!(c.skipped.get("data: URL"), Some(&1));
    assert_eq!(c.skipped.get("not a URL"), Some(&1));
    // A relative path may not climb out of the list's folder (issue 13).
    assert_eq!(
        c.skipped.get("path climbing out of the list's folder"),
        Some(&1)
    );
    assert_eq!(c.skipped_total(), 4, "blank lines are not entries");
    // The absolute file:// URL outside the list's folder is read, and counted.
    assert_eq!(c.local_outside, 1);
    let line = report.to_string();
    assert!(line.contains("(list)"), "{line}");
    assert!(line.contains("4 skipped"), "{line}");
    assert!(
        line.contains("1 local file from outside the list's folder"),
        "{line}"
    );
}

#[test]
fn folder_adds_image_files_once_and_skips_hidden_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let pics = tmp.path().join("pics");
    for name in [
        "a.JPG",
        "sub/b.png",
        "sub/deeper/c.webp",
        ".hidden.jpg",
        ".cache/d.jpg",
        "notes.txt",
    ] {
        write(&pics.join(name), "not decoded at add time");
    }
    let report = add_inputs(&mut p, std::slice::from_ref(&pics), None).unwrap();
    let urls: Vec<String> = images(&p).into_iter().map(|i| i.0).collect();
    let mut expected = vec![
        file_url(&pics.join("a.JPG")),
        file_url(&pics.join("sub/b.png")),
        file_url(&pics.join("sub/deeper/c.webp")),
    ];
    expected.sort();
    assert_eq!(urls, expected);
    assert_eq!(added(&report, 0).new, 3);
    assert_eq!(metadata(&p, &expected[1])["path"], "sub/b.png");

    // The unchanged folder again: recognised, nothing changes.
    let again = add_inputs(&mut p, std::slice::from_ref(&pics), None).unwrap();
    assert!(matches!(
        again.sources[0].outcome,
        Outcome::AlreadyAdded { .. }
    ));
    assert!(again.to_string().contains("already added"), "{again}");

    // One more file: only it is new, and files are not counted twice.
    write(&pics.join("e.tiff"), "x");
    let more = add_inputs(&mut p, std::slice::from_ref(&pics), None).unwrap();
    let c = added(&more, 0);
    assert_eq!((c.new, c.existing), (1, 3));
    assert!(images(&p).iter().all(|(_, f, _)| *f == 1));
}

#[test]
fn same_file_twice_is_skipped_but_another_file_adds_to_frequency() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let first = write(
        &tmp.path().join("one.csv"),
        "image_url,caption\nhttp://example.com/a.jpg,first\nhttp://example.com/b.jpg,\n",
    );
    add_inputs(&mut p, std::slice::from_ref(&first), None).unwrap();
    let copy = write(
        &tmp.path().join("copy-of-one.csv"),
        &std::fs::read_to_string(&first).unwrap(),
    );
    let again = add_inputs(&mut p, &[first.clone(), copy], None).unwrap();
    assert!(
        again
            .sources
            .iter()
            .all(|s| matches!(s.outcome, Outcome::AlreadyAdded { .. }))
    );
    let second = write(
        &tmp.path().join("two.csv"),
        "image_url,caption\nhttp://EXAMPLE.com/a.jpg,second\nhttp://example.com/c.jpg,\n",
    );
    let report = add_inputs(&mut p, &[second], None).unwrap();
    let c = added(&report, 0);
    assert_eq!((c.new, c.existing), (1, 1));
    assert_eq!(report.images_in_project, 3);
    let freq: Vec<i64> = images(&p).into_iter().map(|i| i.1).collect();
    assert_eq!(freq, [2, 1, 1]);
    // Metadata stays that of the first row ever seen.
    assert_eq!(metadata(&p, "http://example.com/a.jpg")["caption"], "first");
}

#[test]
fn column_is_found_by_name_by_content_or_given() {
    let tmp = tempfile::tempdir().unwrap();
    // `url` holds post links, `pic` the images: the name wins unless --column says otherwise.
    let table = "url,pic,likes\n\
                 https://example.com/post/1,https://cdn.example.com/1.jpg,3\n\
                 https://example.com/post/2,https://cdn.example.com/2.jpg,4\n";
    let input = write(&tmp.path().join("posts.csv"), table);
    let mut p = project(tmp.path());
    let by_name = add_inputs(&mut p, std::slice::from_ref(&input), None).unwrap();
    assert!(by_name.to_string().contains("(column url)"), "{by_name}");

    let tmp2 = tempfile::tempdir().unwrap();
    let mut p2 = project(tmp2.path());
    let given = add_inputs(&mut p2, std::slice::from_ref(&input), Some(" PIC ")).unwrap();
    assert!(given.to_string().contains("(column pic)"), "{given}");
    assert_eq!(metadata(&p2, "https://cdn.example.com/1.jpg")["likes"], "3");

    // No known name: the column whose values look like image URLs, semicolon-delimited.
    let tmp3 = tempfile::tempdir().unwrap();
    let mut p3 = project(tmp3.path());
    let anon = write(
        &tmp3.path().join("anon.csv"),
        "a;b;c\nx;https://example.com/page;https://cdn.example.com/9.png\ny;https://example.com/p2;\n",
    );
    let found = add_inputs(&mut p3, &[anon], None).unwrap();
    assert!(
        found.to_string().contains("(column c, found by content)"),
        "{found}"
    );
    assert_eq!(images(&p3).len(), 1);

    // Unknown --column lists the columns.
    let err = add_inputs(&mut p3, &[input], Some("nope")).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("`url`, `pic`, `likes`"), "{msg}");
}

#[test]
fn tab_separated_tcat_export_with_bom() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let tsv = format!(
        "{BOM}id\tfrom_user_profile_image_url\ttext\n1\thttps://pbs.twimg.com/profile_images/1/a_normal.jpg\t\"hi, there\"\n2\thttps://pbs.twimg.com/profile_images/1/a_normal.jpg\tagain\n"
    );
    let input = write(&tmp.path().join("export.tsv"), &tsv);
    let report = add_inputs(&mut p, &[input], None).unwrap();
    assert!(
        report
            .to_string()
            .contains("(column from_user_profile_image_url)"),
        "{report}"
    );
    let url = "https://pbs.twimg.com/profile_images/1/a_normal.jpg";
    assert_eq!(images(&p), [(url.to_string(), 2, "photo".to_string())]);
    assert_eq!(metadata(&p, url)["text"], "hi, there");
}

#[test]
fn ragged_rows_are_read_leniently_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = project(tmp.path());
    let input = write(
        &tmp.path().join("ragged.csv"),
        "image_url,caption,extra\nhttp://e.com/a.jpg,one,x\nhttp://e.com/b.jpg\nhttp://e.com/c.jpg,three,x,surplus\n",
    );
    let report = add_inputs(&mut p, &[input], None).unwrap();
    assert_eq!(images(&p).len(), 3);
    assert_eq!(report.sources[0].ragged_rows, 2);
    assert_eq!(report.sources[0].first_ragged_line, Some(3));
    assert!(report.to_string().contains("first at line 3"), "{report}");
    assert_eq!(metadata(&p, "http://e.com/b.jpg")["caption"], "");
}

#[test]
fn cli_errors_name_the_file_line_and_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let d = dir.to_str().unwrap();
    assert!(tagscape(&["init", d]).status.success());

    let no_urls = write(&tmp.path().join("people.csv"), "name,age\nbob,3\nalice,4\n");
    let out = tagscape(&["add", d, no_urls.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("people.csv"), "{err}");
    assert!(err.contains("columns seen: `name`, `age`"), "{err}");
    assert!(err.contains("--column"), "{err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one line, no backtrace: {err}"
    );

    // Not UTF-8: read as Windows-1252 with a note (issue 13 item 21), not refused.
    let mut bytes = b"image_url,caption\nhttp://e.com/x.jpg,ok\nhttp://e.com/y.jpg,caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']); // Latin-1 "café"
    let latin1 = tmp.path().join("latin1.csv");
    std::fs::write(&latin1, bytes).unwrap();
    let out = tagscape(&["add", d, latin1.to_str().unwrap()]);
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("added 2 images from"), "{summary}");
    assert!(
        summary.contains("read as Windows-1252 (not UTF-8)"),
        "{summary}"
    );

    // The failed file left nothing behind (one transaction per input).
    let list = write(&tmp.path().join("ok.txt"), "http://e.com/a.jpg\n");
    let out = tagscape(&["add", d, list.to_str().unwrap()]);
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("added 1 image from") && summary.contains("1 new"),
        "{summary}"
    );

    let out = tagscape(&["add", d, tmp.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
}
