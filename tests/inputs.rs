//! Inputs as researchers have them (issue 12 part 6): a re-add with a
//! corrected `--column` and `remove`; tags from a metadata column; 4CAT
//! Instagram's stills; Telegram and PixPlot CSVs naming files in an image
//! folder, with 4CAT's `.metadata.json`; Windows paths in Memespector
//! sheets. Driven through the binary; expected values are worked out by
//! hand from the literal inputs.

#[path = "support/cli.rs"]
mod cli;
use cli::{tagscape, tagscape_ok};
#[path = "support/fetch_server.rs"]
mod fetch_server;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use fetch_server::{Reply, TestServer};

fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 12, |x, y| {
        image::Rgb([x as u8 * 15, y as u8 * 20, seed])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("tagscape.db")).unwrap()
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// (URL, frequency, posts) of every image, by URL.
fn images(dir: &Path) -> Vec<(String, i64, i64)> {
    let conn = db(dir);
    let mut stmt = conn
        .prepare(
            "SELECT url, frequency, (SELECT count(*) FROM posts p WHERE p.image_id = i.id)
             FROM images i ORDER BY url",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn img(url: &str, frequency: i64, posts: i64) -> (String, i64, i64) {
    (url.to_string(), frequency, posts)
}

const AVATAR: &str = "https://pbs.twimg.com/profile_images/1/ann_normal.jpg";
const AVATAR2: &str = "https://pbs.twimg.com/profile_images/2/bob_normal.jpg";
const M1: &str = "https://pbs.twimg.com/media/M1.jpg";
const M2: &str = "https://pbs.twimg.com/media/M2.jpg";

/// A TCAT full export with both image columns.
const TWEETS: &str = "id,from_user_name,from_user_profile_image_url,media_urls\n\
    1,ann,https://pbs.twimg.com/profile_images/1/ann_normal.jpg,https://pbs.twimg.com/media/M1.jpg\n\
    2,bob,https://pbs.twimg.com/profile_images/2/bob_normal.jpg,\"https://pbs.twimg.com/media/M1.jpg; https://pbs.twimg.com/media/M2.jpg\"\n\
    3,ann,https://pbs.twimg.com/profile_images/1/ann_normal.jpg,\n";

#[test]
fn a_corrected_column_adds_from_it_and_remove_takes_the_wrong_reading_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let tweets = write(&tmp.path().join("tweets.csv"), TWEETS);
    tagscape_ok(&["init", s(&dir)]);
    // The avatars, by mistake.
    tagscape_ok(&[
        "add",
        s(&dir),
        s(&tweets),
        "--column",
        "from_user_profile_image_url",
    ]);
    assert_eq!(images(&dir), [img(AVATAR, 2, 2), img(AVATAR2, 1, 1)]);
    // The same column again (any case) is the same reading: nothing changes.
    let out = tagscape_ok(&[
        "add",
        s(&dir),
        s(&tweets),
        "--column",
        "FROM_USER_PROFILE_IMAGE_URL",
    ]);
    assert!(out.contains("already added"), "{out}");
    // The corrected column is read.
    let out = tagscape_ok(&["add", s(&dir), s(&tweets), "--column", "media_urls"]);
    assert!(!out.contains("already added"), "{out}");
    assert_eq!(
        images(&dir),
        [
            img(M1, 2, 2),
            img(M2, 1, 1),
            img(AVATAR, 2, 2),
            img(AVATAR2, 1, 1)
        ]
    );
    // The wrong reading taken out again.
    let out = tagscape_ok(&[
        "remove",
        s(&dir),
        s(&tweets),
        "--column",
        "from_user_profile_image_url",
    ]);
    assert!(
        out.contains("3 posts, 2 images no longer in any post, 0 images kept with a lower frequency; project has 2 images"),
        "{out}"
    );
    assert_eq!(images(&dir), [img(M1, 2, 2), img(M2, 1, 1)]);
}

#[test]
fn remove_lowers_shared_images_and_refuses_what_was_never_added() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let first = write(&tmp.path().join("first.txt"), &format!("{M1}\n{M2}\n"));
    let second = write(&tmp.path().join("second.txt"), &format!("{M1}\n{M1}\n"));
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&first), s(&second)]);
    assert_eq!(images(&dir), [img(M1, 3, 3), img(M2, 1, 1)]);
    let out = tagscape_ok(&["remove", s(&dir), s(&second)]);
    assert!(
        out.contains("2 posts, 0 images no longer in any post, 1 image kept"),
        "{out}"
    );
    assert_eq!(images(&dir), [img(M1, 1, 1), img(M2, 1, 1)]);
    // Removed once, the file is unknown; so is a file never added.
    for file in [
        &second,
        &write(&tmp.path().join("never.txt"), "https://x.example/a.jpg\n"),
    ] {
        let out = tagscape(&["remove", s(&dir), s(file)]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("was never added to"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    // A reading from another column names the column it was added from.
    let tweets = write(&tmp.path().join("tweets.csv"), TWEETS);
    tagscape_ok(&["add", s(&dir), s(&tweets)]);
    let out = tagscape(&["remove", s(&dir), s(&tweets), "--column", "id"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("was added from column `media_urls`, not `id`"),
        "{stderr}"
    );
    // And the second list can be added again after its removal.
    let out = tagscape_ok(&["add", s(&dir), s(&second)]);
    assert!(!out.contains("already added"), "{out}");
}

#[test]
fn hashtags_of_an_export_serve_as_tags_and_missing_columns_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    // TCAT joins hashtags and media with "; "; tweet 4 has no media.
    let tweets = write(
        &tmp.path().join("tweets.csv"),
        &format!(
            "\u{feff}id,from_user_name,hashtags,media_urls\n\
             1,ann,\"protest; Brexit\",{M1}\n\
             2,bob,brexit,\"{M1}; {M2}\"\n\
             3,cy,,{M2}\n\
             4,dan,nomedia,\n"
        ),
    );
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&tweets)]);
    let out = tagscape_ok(&[
        "import-tags",
        s(&dir),
        s(&tweets),
        "--format",
        "wide",
        "--image-column",
        "media_urls",
        "--tags-column",
        "hashtags",
    ]);
    assert!(out.contains("imported 3 tags for 2 images"), "{out}");
    let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT i.url, t.tag, t.source FROM tags t JOIN images i ON i.id = t.image_id
             ORDER BY i.url, t.tag_key",
        )
        .unwrap();
    let tags: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let source = "import:wide:tweets.csv";
    assert_eq!(
        tags,
        [
            (M1.to_string(), "Brexit".to_string(), source.to_string()),
            (M1.to_string(), "protest".to_string(), source.to_string()),
            (M2.to_string(), "brexit".to_string(), source.to_string()),
        ]
    );

    // A column that is not there: the ones that are, in one line.
    let seen = "(columns seen: `id`, `from_user_name`, `hashtags`, `media_urls`)";
    for (args, flag) in [
        (
            vec![
                "import-tags",
                s(&dir),
                s(&tweets),
                "--tags-column",
                "hashtag",
            ],
            "has no column `hashtag`",
        ),
        (
            vec![
                "import-tags",
                s(&dir),
                s(&tweets),
                "--image-column",
                "media",
                "--tags-column",
                "hashtags",
            ],
            "has no column `media`",
        ),
        (
            vec!["add", s(&dir), s(&tweets), "--column", "media_url"],
            "has no column `media_url`",
        ),
    ] {
        let out = tagscape(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag) && stderr.contains(seen), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

#[test]
fn instagram_from_4cat_fetches_the_still_of_a_video_post_not_its_mp4() {
    let server = TestServer::start(|path, _| match path {
        "/v/video.mp4" => Reply::Ok {
            content_type: "video/mp4",
            body: b"\0\0\0\x18ftypmp42 not an image".to_vec(),
        },
        "/s/video_still.jpg" => Reply::Ok {
            content_type: "image/png",
            body: png(1),
        },
        _ => Reply::Ok {
            content_type: "image/png",
            body: png(2),
        },
    });
    let (photo, still, mp4) = (
        server.url("/s/photo.jpg"),
        server.url("/s/video_still.jpg"),
        server.url("/v/video.mp4"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    // 4CAT's Instagram columns: `media_url` is the photo itself or the
    // video file, `image_url` always a still; `type` says which.
    let export = write(
        &tmp.path().join("instagram-4cat.csv"),
        &format!(
            "id,thread_id,timestamp,author,body,type,url,image_url,media_url,hashtags\n\
             C1,C1,2024-01-01 10:00:00,ann,a photo,photo,https://www.instagram.com/p/C1/,{photo},{photo},cats\n\
             C2,C2,2024-01-02 11:00:00,bob,a reel,video,https://www.instagram.com/p/C2/,{still},{mp4},dogs\n"
        ),
    );
    tagscape_ok(&["init", s(&dir)]);
    let out = tagscape_ok(&["add", s(&dir), s(&export)]);
    assert!(out.contains("image_url"), "{out}");
    let conn = db(&dir);
    let mut stmt = conn
        .prepare("SELECT url, media_kind FROM images ORDER BY id")
        .unwrap();
    let kinds: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        kinds,
        [
            (photo.clone(), "photo".to_string()),
            (still.clone(), "video_thumb".to_string())
        ]
    );
    let out = tagscape_ok(&["fetch", s(&dir)]);
    assert!(out.contains("fetched 2 of 2 images"), "{out}");
    assert!(server.requests("/v/video.mp4").is_empty());
}

#[test]
fn windows_paths_of_a_memespector_sheet_match_by_file_name_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    std::fs::write(pics.join("IMG_0001.jpg"), png(1)).unwrap();
    std::fs::write(pics.join("cat.png"), png(2)).unwrap();
    tagscape_ok(&["init", s(&dir)]);
    tagscape_ok(&["add", s(&dir), s(&pics)]);
    // Memespector-GUI run on Windows over the same files.
    let sheet = write(
        &tmp.path().join("cv-apis-20240101_120000.csv"),
        "Image_Location,Image_From,Image_BaseName,GV_Success,GV_Label_Descriptions,GV_Label_Scores\n\
         C:\\Users\\ann\\Pictures\\memes\\IMG_0001.jpg,Local,IMG_0001.jpg,True,Cat; Meme,0.9; 0.8\n\
         C:\\Users\\ann\\Pictures\\memes\\cat.png,Local,cat.png,True,Cat,0.7\n\
         C:\\Users\\ann\\Pictures\\memes\\gone.png,Local,gone.png,True,Dog,0.6\n",
    );
    let out = tagscape_ok(&["import-tags", s(&dir), s(&sheet)]);
    assert!(
        out.contains("imported 3 tags for 2 images")
            && out.contains(
                r"2 images named by a Windows path (e.g. C:\Users\ann\Pictures\memes\IMG_0001.jpg) matched by file name"
            )
            && out.contains(r"1 row for 1 image not in the project")
            && out.contains(r"e.g. C:\Users\ann\Pictures\memes\gone.png"),
        "{out}"
    );
    let conn = db(&dir);
    let mut stmt = conn
        .prepare(
            "SELECT i.url, t.tag FROM tags t JOIN images i ON i.id = t.image_id ORDER BY i.url, t.tag",
        )
        .unwrap();
    let tags: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let url = |name: &str| {
        url::Url::from_file_path(std::path::absolute(pics.join(name)).unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(
        tags,
        [
            (url("IMG_0001.jpg"), "Cat".to_string()),
            (url("IMG_0001.jpg"), "Meme".to_string()),
            (url("cat.png"), "Cat".to_string()),
        ]
    );
}

/// `file://` URL of `path`, as the project stores local images.
fn file_url(path: &Path) -> String {
    url::Url::from_file_path(std::path::absolute(path).unwrap())
        .unwrap()
        .to_string()
}

/// (URL, number of posts) of every image, by URL.
fn posts_per_image(dir: &Path) -> Vec<(String, i64)> {
    images(dir).into_iter().map(|(u, _, p)| (u, p)).collect()
}

#[test]
fn telegram_files_resolve_in_the_images_folder_with_4cat_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    // The CSV in one place, the extracted image zip in another.
    let photos = tmp.path().join("downloads/tg-photos");
    std::fs::create_dir_all(&photos).unwrap();
    for (name, seed) in [("chan-1.jpeg", 1), ("chan-2.jpeg", 2), ("chan-3.jpeg", 3)] {
        std::fs::write(photos.join(name), png(seed)).unwrap();
    }
    // The Telegram downloader's metadata: keyed by file, bare message ids.
    write(
        &photos.join(".metadata.json"),
        r#"{"chan-1.jpeg": {"filename": "chan-1.jpeg", "success": true, "from_dataset": "k", "post_ids": [1]},
            "chan-3.jpeg": {"filename": "chan-3.jpeg", "success": true, "from_dataset": "k", "post_ids": [3]},
            "chan-index-4": {"filename": "chan-index-4", "success": false, "from_dataset": "k", "post_ids": ["4"]}}"#,
    );
    let csv = write(
        &tmp.path().join("exports/telegram-4cat.csv"),
        "id,chat,author,body,attachment_type,attachment_filename,url\n\
         chan-1,chan,ann,first,photo,chan-1.jpeg,https://t.me/chan/1\n\
         chan-2,chan,bob,second,photo,chan-2.jpeg,https://t.me/chan/2\n\
         chan-3,chan,ann,no file name in the export,photo,,https://t.me/chan/3\n\
         chan-4,chan,cy,text only,,,https://t.me/chan/4\n",
    );
    tagscape_ok(&["init", s(&dir)]);
    let out = tagscape_ok(&["add", s(&dir), s(&csv), "--images", s(&photos)]);
    assert!(
        out.contains("column attachment_filename")
            && out.contains(&format!(
                "3 files found in {}",
                std::path::absolute(&photos).unwrap().display()
            )),
        "{out}"
    );
    assert!(!out.contains("not found"), "{out}");
    assert_eq!(
        posts_per_image(&dir),
        [
            (file_url(&photos.join("chan-1.jpeg")), 1),
            (file_url(&photos.join("chan-2.jpeg")), 1),
            (file_url(&photos.join("chan-3.jpeg")), 1),
        ]
    );
    let out = tagscape_ok(&["fetch", s(&dir)]);
    assert!(out.contains("fetched 3 of 3 images"), "{out}");
}

#[test]
fn a_pixplot_csv_finds_its_images_folder_and_4cat_source_urls() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let images_dir = tmp.path().join("images");
    std::fs::create_dir_all(&images_dir).unwrap();
    std::fs::write(images_dir.join("a.jpg"), png(1)).unwrap();
    std::fs::write(images_dir.join("b.jpg"), png(2)).unwrap();
    // 4CAT's general image downloader: keyed by the source URL.
    write(
        &images_dir.join(".metadata.json"),
        r#"{"https://cdn.example/pics/a.jpg?sig=1": {"filename": "a.jpg", "success": true, "from_dataset": "k", "post_ids": ["p1"]}}"#,
    );
    let csv = write(
        &tmp.path().join("pixplot.csv"),
        "filename,category,description\na.jpg,cats,one\nb.jpg,dogs,two\nc.jpg,dogs,missing\n",
    );
    tagscape_ok(&["init", s(&dir)]);
    let out = tagscape_ok(&["add", s(&dir), s(&csv)]);
    assert!(
        out.contains(&format!("2 files found in {}", images_dir.display()))
            && out.contains(&format!(
                "1 file not found beside the list or in {} (fetch will fail them): name their folder with --images FOLDER",
                images_dir.display()
            ))
            && out.contains("1 file also known by its source URL (4CAT .metadata.json)"),
        "{out}"
    );
    assert_eq!(
        posts_per_image(&dir),
        [
            (file_url(&tmp.path().join("c.jpg")), 1),
            (file_url(&images_dir.join("a.jpg")), 1),
            (file_url(&images_dir.join("b.jpg")), 1),
        ]
    );
    // A tag file naming the source URL finds the downloaded file.
    let tags = write(
        &tmp.path().join("tags.csv"),
        "image,tag\nhttps://cdn.example/pics/a.jpg?sig=1,cat\n",
    );
    let out = tagscape_ok(&["import-tags", s(&dir), s(&tags)]);
    assert!(out.contains("imported 1 tag for 1 image"), "{out}");
    assert!(!out.contains("not in the project"), "{out}");
}
