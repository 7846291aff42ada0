//! Near-duplicates: an image and its re-encoded, resized copy get close
//! perceptual hashes at fetch time and stack; a different image does not.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;

use std::io::Cursor;

use tagscape::fetch::phash::{distance, grid_difference, to_column};
use tagscape::fetch::process_body;
use tagscape::fetch::thumbnail::DecodeLimits;
use tagscape::graph::duplicates::{
    DEFAULT_HASH_DISTANCE, Hashed, Stack, backfill_hashes, find_stacks, load_stack_sizes,
    project_stacks,
};
use tagscape::project::{Access, Project};

/// A "photo": smooth gradients with a few shapes, `w`×`h`.
fn scene(w: u32, h: u32, variant: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let sun = ((fx - 0.3).powi(2) + (fy - 0.35).powi(2)).sqrt() < 0.15;
        let hill = fy > 0.65 + 0.1 * (fx * 6.0 + variant as f32).sin();
        let building = variant == 1 && (0.55..0.75).contains(&fx) && fy > 0.2;
        if building {
            image::Rgb([40, 40, 45])
        } else if sun {
            image::Rgb([250, 220, 60])
        } else if hill {
            image::Rgb([30, (120.0 + 80.0 * fx) as u8, 40])
        } else {
            image::Rgb([(90.0 + 100.0 * fy) as u8, (140.0 + 80.0 * fy) as u8, 230])
        }
    })
}

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(encoder).unwrap();
    out.into_inner()
}

/// An image as `project_stacks` reads it after a fetch: its hash, and its
/// mean colour when its thumbnails are JPEGs (opaque).
fn fetched(dir: &std::path::Path, image_id: i64, bytes: &[u8]) -> Hashed {
    let p = process_body(dir, bytes, &DecodeLimits::default())
        .unwrap()
        .unwrap();
    Hashed {
        image_id,
        hash: p.phash.expect("a hash for every decoded image"),
        frequency: 1,
        colour: (p.thumb_ext == "jpg").then_some(p.mean_color),
        aspect: Some(p.width as f32 / p.height as f32),
        grid: p.colour_grid,
    }
}

fn fetched_hash(dir: &std::path::Path, bytes: &[u8]) -> u64 {
    let processed = process_body(dir, bytes, &DecodeLimits::default())
        .unwrap()
        .unwrap();
    processed.phash.expect("a hash for every decoded image")
}

#[test]
fn a_resized_reencoded_copy_stacks_and_a_different_image_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let original = scene(800, 600, 0);
    // The same picture shared again: shrunk to 45 % and saved as a JPEG at quality 60.
    let copy = image::imageops::resize(&original, 360, 270, image::imageops::FilterType::Triangle);
    let other = scene(800, 600, 1);

    let h_original = fetched_hash(dir.path(), &png(&original));
    let h_copy = fetched_hash(dir.path(), &jpeg(&copy, 60));
    let h_other = fetched_hash(dir.path(), &jpeg(&other, 90));
    assert!(
        distance(h_original, h_copy) <= DEFAULT_HASH_DISTANCE,
        "copy: {} bits apart",
        distance(h_original, h_copy)
    );
    assert!(
        distance(h_original, h_other) > DEFAULT_HASH_DISTANCE,
        "other: {} bits apart",
        distance(h_original, h_other)
    );

    let images = [
        Hashed {
            image_id: 1,
            hash: h_original,
            frequency: 2,
            colour: None,
            aspect: None,
            grid: None,
        },
        Hashed {
            image_id: 2,
            hash: h_copy,
            frequency: 7,
            colour: None,
            aspect: None,
            grid: None,
        },
        Hashed {
            image_id: 3,
            hash: h_other,
            frequency: 1,
            colour: None,
            aspect: None,
            grid: None,
        },
    ];
    let stacks = find_stacks(&images, DEFAULT_HASH_DISTANCE);
    assert_eq!(
        stacks,
        vec![Stack {
            // The copy was shared more often: it represents the stack.
            representative: 2,
            members: vec![(2, 0), (1, distance(h_original, h_copy))],
            frequency: 9,
        }]
    );
}

/// `tagscape graph DIR [extra]`, which must succeed.
fn graph_command(dir: &std::path::Path, extra: &[&str]) {
    tagscape_ok(&[&["graph", dir.to_str().unwrap()], extra].concat());
}

/// Each image node's URL with its stored stack size, by URL.
fn stored_stack_sizes(dir: &std::path::Path) -> Vec<(String, u32)> {
    let project = Project::open(dir, Access::Read).unwrap();
    let mut stmt = project
        .conn()
        .prepare(
            "SELECT node_id, stack_size FROM graph_nodes WHERE kind = 'image' ORDER BY node_id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn graph_stack_duplicates_stores_each_stacks_size() {
    let dir = tempfile::tempdir().unwrap();
    {
        let project = Project::init(dir.path()).unwrap();
        // Images 1–3 are within 2 bits of each other (one stack, led by
        // image 2, the most frequent); image 4 differs in every bit.
        let base = 0x5555_5555_5555_5555u64;
        let images: [(i64, u64, u32); 4] = [
            (1, base, 1),
            (2, base ^ 0b01, 4),
            (3, base ^ 0b11, 2),
            (4, !base, 1),
        ];
        for (id, hash, frequency) in images {
            project
                .conn()
                .execute(
                    "INSERT INTO images(id, url, frequency, status, phash) VALUES (?1, ?2, ?3, 'done', ?4)",
                    (id, format!("http://x/{id}.jpg"), frequency, to_column(hash)),
                )
                .unwrap();
            project
                .conn()
                .execute(
                    "INSERT INTO tags(image_id, tag, tag_key, source) VALUES (?1, 'Cat', 'cat', 'import:test')",
                    [id],
                )
                .unwrap();
        }
    }
    graph_command(dir.path(), &["--stack-duplicates", "--hash-distance", "2"]);
    assert_eq!(
        stored_stack_sizes(dir.path()),
        [
            ("http://x/2.jpg".to_string(), 3),
            ("http://x/4.jpg".to_string(), 1)
        ]
    );
    {
        let project = Project::open(dir.path(), Access::Read).unwrap();
        // Image nodes come in image id order: the stack (2) is node 0.
        assert_eq!(load_stack_sizes(&project).unwrap(), [(0, 3)]);
    }
    // Rebuilding without stacking forgets the stacks.
    graph_command(dir.path(), &[]);
    let sizes = stored_stack_sizes(dir.path());
    assert_eq!(sizes.len(), 4);
    assert!(sizes.iter().all(|&(_, size)| size == 1), "{sizes:?}");
}

/// A dark-blue badge (disc and bar) on white, or on a transparent
/// background stored black, as a PNG encoder writes it.
fn badge(w: u32, h: u32, transparent: bool) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let disc = (fx - 0.35).powi(2) + (fy - 0.45).powi(2) < 0.05;
        let bar = (0.55..0.9).contains(&fx) && (0.3..0.6).contains(&fy);
        match (disc || bar, transparent) {
            (true, _) => image::Rgba([20, 40, 140, 255]),
            (false, true) => image::Rgba([0, 0, 0, 0]),
            (false, false) => image::Rgba([255, 255, 255, 255]),
        }
    })
}

fn png_rgba(img: &image::RgbaImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn a_chain_of_close_hashes_is_not_one_stack() {
    // Seven hashes, each 5 bits from the next (within the default 6), the
    // ends 30 bits apart: union-find made them one stack.
    let start = 0x0F0F_0F0F_0F0F_0F0Fu64;
    let chain: Vec<u64> = (0..7)
        .map(|k| (0..k * 5).fold(start, |h, bit| h ^ (1u64 << (bit * 2 + 1))))
        .collect();
    assert!(chain.windows(2).all(|w| distance(w[0], w[1]) == 5));
    assert_eq!(distance(chain[0], chain[6]), 30);
    let images: Vec<Hashed> = chain
        .iter()
        .enumerate()
        .map(|(i, &hash)| Hashed {
            image_id: i as i64 + 1,
            hash,
            frequency: 1,
            colour: None,
            aspect: None,
            grid: None,
        })
        .collect();
    let stacks = find_stacks(&images, DEFAULT_HASH_DISTANCE);
    assert!(!stacks.is_empty(), "neighbours still stack");
    for stack in &stacks {
        let rep = chain[stack.representative as usize - 1];
        for &(id, d) in &stack.members {
            assert_eq!(d, distance(chain[id as usize - 1], rep));
            assert!(d <= DEFAULT_HASH_DISTANCE, "{stack:?}");
        }
    }
    let stack_of = |id: i64| {
        stacks
            .iter()
            .position(|s| s.members.iter().any(|m| m.0 == id))
    };
    assert!(
        stack_of(1).is_none() || stack_of(1) != stack_of(7),
        "{stacks:?}"
    );
}

#[test]
fn real_variants_stack_through_the_fetch_path() {
    let dir = tempfile::tempdir().unwrap();
    let photo = scene(800, 600, 0);
    let resized = image::imageops::resize(&photo, 400, 300, image::imageops::FilterType::Triangle);
    // A light crop: 3 % off every side.
    let cropped = image::imageops::crop_imm(&photo, 24, 18, 752, 564).to_image();
    let mut images = vec![
        fetched(dir.path(), 1, &png(&photo)),
        fetched(dir.path(), 2, &jpeg(&resized, 55)),
        fetched(dir.path(), 3, &jpeg(&cropped, 80)),
        fetched(dir.path(), 4, &jpeg(&photo, 35)),
        // A different photo, and a badge with its transparent copy.
        fetched(dir.path(), 5, &jpeg(&scene(800, 600, 1), 90)),
        fetched(dir.path(), 6, &png_rgba(&badge(300, 200, false))),
        fetched(dir.path(), 7, &png_rgba(&badge(300, 200, true))),
    ];
    images[0].frequency = 3;
    let stacks = find_stacks(&images, DEFAULT_HASH_DISTANCE);
    let ids: Vec<Vec<i64>> = stacks
        .iter()
        .map(|s| {
            let mut ids: Vec<i64> = s.members.iter().map(|m| m.0).collect();
            ids.sort_unstable();
            ids
        })
        .collect();
    assert_eq!(ids, [vec![1, 2, 3, 4], vec![6, 7]], "{images:?}");
}

#[test]
fn the_graph_summary_counts_the_stacked_graph() {
    let dir = tempfile::tempdir().unwrap();
    {
        let project = Project::init(dir.path()).unwrap();
        // 1 and 2 stack (1 bit apart); 3 is far. Tags: 1 cat+dog, 2 cat, 3 dog.
        let base = 0x3333_3333_3333_3333u64;
        for (id, hash) in [(1i64, base), (2, base ^ 1), (3, !base)] {
            project
                .conn()
                .execute(
                    "INSERT INTO images(id, url, status, phash) VALUES (?1, ?2, 'done', ?3)",
                    (id, format!("http://x/{id}.jpg"), to_column(hash)),
                )
                .unwrap();
        }
        for (id, tag, confidence) in [
            (1, "cat", 0.5),
            (1, "dog", 0.5),
            (2, "cat", 0.9),
            (3, "dog", 0.5),
        ] {
            project
                .conn()
                .execute(
                    "INSERT INTO tags(image_id, tag, tag_key, confidence, source) VALUES (?1, ?2, ?2, ?3, 'import:test')",
                    (id, tag, confidence),
                )
                .unwrap();
        }
    }
    let plain = tagscape_ok(&["graph", dir.path().to_str().unwrap()]);
    assert!(
        plain.contains("graph: 3 images, 2 tags, 4 edges"),
        "{plain}"
    );
    let out = tagscape_ok(&["graph", dir.path().to_str().unwrap(), "--stack-duplicates"]);
    // The stack keeps one cat edge (two members had it) and one dog edge.
    assert!(out.contains("graph: 2 images, 2 tags, 3 edges"), "{out}");
    assert!(
        out.contains("2 near-duplicate images stacked into 1 node (hash distance ≤ 6), so 2 image nodes stand for 3 images"),
        "{out}"
    );
    let project = Project::open(dir.path(), Access::Read).unwrap();
    let mut stmt = project
        .conn()
        .prepare(
            "SELECT s.node_id, t.node_id, e.weight FROM graph_edges e
             JOIN graph_nodes s ON s.idx = e.source JOIN graph_nodes t ON t.idx = e.target
             ORDER BY s.node_id, t.node_id",
        )
        .unwrap();
    let edges: Vec<(String, String, f64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Image 1 leads (equal frequencies: the lower id); its cat edge takes
    // the higher weight of the two members'.
    let close = |w: f64, want: f64| (w - want).abs() < 1e-6;
    assert_eq!(edges.len(), 3, "{edges:?}");
    assert!(
        edges[0].0 == "http://x/1.jpg" && edges[0].1 == "cat" && close(edges[0].2, 0.9),
        "{edges:?}"
    );
    assert!(
        edges[1].0 == "http://x/1.jpg" && edges[1].1 == "dog" && close(edges[1].2, 0.5),
        "{edges:?}"
    );
    assert!(
        edges[2].0 == "http://x/3.jpg" && edges[2].1 == "dog",
        "{edges:?}"
    );
    drop(stmt);
    drop(project);
    // --min-tag-degree counts the stacked nodes: cat was on 1 and 2 only,
    // so it is on one node now and goes; dog (1 and 3) stays.
    let out = tagscape_ok(&[
        "graph",
        dir.path().to_str().unwrap(),
        "--stack-duplicates",
        "--min-tag-degree",
        "2",
    ]);
    assert!(out.contains("graph: 2 images, 1 tags, 2 edges"), "{out}");
}

#[test]
fn stored_sizes_and_colours_confirm_a_stack() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::init(dir.path()).unwrap();
    let hash = 0x0F0F_3C3C_5A5A_6666u64;
    // Equal hashes: 1 and 2 alike (a 4:3 grey JPEG), 3 wide, 4 red, 5 a
    // transparent PNG (its mean colour is not comparable: no colour check).
    let rows: [(i64, u32, u32, u32, &str); 5] = [
        (1, 800, 600, 0x80_80_80, "jpg"),
        (2, 400, 300, 0x82_7F_80, "jpg"),
        (3, 1600, 900, 0x80_80_80, "jpg"),
        (4, 800, 600, 0xC0_30_30, "jpg"),
        (5, 800, 600, 0xC0_30_30, "png"),
    ];
    for (id, w, h, colour, ext) in rows {
        project
            .conn()
            .execute(
                "INSERT INTO images(id, url, frequency, status, phash, width, height, mean_color, thumb_ext)
                 VALUES (?1, ?2, ?3, 'done', ?4, ?5, ?6, ?7, ?8)",
                (id, format!("http://x/{id}.jpg"), 6 - id, to_column(hash), w, h, colour, ext),
            )
            .unwrap();
    }
    let stacks = project_stacks(&project, DEFAULT_HASH_DISTANCE).unwrap();
    let members: Vec<Vec<i64>> = stacks
        .iter()
        .map(|s| s.members.iter().map(|m| m.0).collect())
        .collect();
    assert_eq!(members, [vec![1, 2, 5]]);
}

/// A small disc logo in `colour` on white, `w`×`h`.
fn logo(w: u32, h: u32, colour: [u8; 3]) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, (y as f32 / h as f32) * 0.75);
        if (fx - 0.4).powi(2) + (fy - 0.3).powi(2) < 0.1f32.powi(2) {
            image::Rgb(colour)
        } else {
            image::Rgb([255, 255, 255])
        }
    })
}

#[test]
fn the_same_logo_in_another_colour_does_not_stack() {
    let dir = tempfile::tempdir().unwrap();
    let red = logo(800, 600, [170, 60, 60]);
    let blue = logo(800, 600, [60, 60, 170]);
    let red_copy = image::imageops::resize(&red, 500, 375, image::imageops::FilterType::Triangle);
    let mut images = vec![
        fetched(dir.path(), 1, &png(&red)),
        fetched(dir.path(), 2, &jpeg(&blue, 90)),
        fetched(dir.path(), 3, &jpeg(&red_copy, 60)),
    ];
    images[0].frequency = 2;
    // What the hash and the mean colour cannot tell apart ...
    assert!(distance(images[0].hash, images[1].hash) <= DEFAULT_HASH_DISTANCE);
    assert!(tagscape::graph::duplicates::colours_agree(
        images[0].colour,
        images[1].colour
    ));
    let stacks = find_stacks(&images, DEFAULT_HASH_DISTANCE);
    let members: Vec<Vec<i64>> = stacks
        .iter()
        .map(|s| s.members.iter().map(|m| m.0).collect())
        .collect();
    // ... the colour grid does: the red logo stacks with its copy only.
    assert_eq!(members, [vec![1, 3]], "{images:?}");
}

#[test]
fn projects_fetched_before_colour_grids_get_them_from_their_thumbnails() {
    let dir = tempfile::tempdir().unwrap();
    let mut project = Project::init(dir.path()).unwrap();
    // Two logos fetched by an older tagscape: hashes stored, no colour grid.
    let bodies = [
        png(&logo(800, 600, [170, 60, 60])),
        jpeg(&logo(800, 600, [60, 60, 170]), 90),
    ];
    let mut grids = Vec::new();
    for (id, body) in (1i64..).zip(&bodies) {
        let p = process_body(dir.path(), body, &DecodeLimits::default())
            .unwrap()
            .unwrap();
        grids.push(p.colour_grid.unwrap());
        project
            .conn()
            .execute(
                "INSERT INTO images(id, url, frequency, status, phash, width, height, mean_color,
                                    thumb_ext, content_hash)
                 VALUES (?1, ?2, 1, 'done', ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    id,
                    format!("http://x/{id}.png"),
                    to_column(p.phash.unwrap()),
                    p.width,
                    p.height,
                    p.mean_color,
                    p.thumb_ext,
                    &p.content_hash,
                ),
            )
            .unwrap();
    }
    // Without grids, nothing tells them apart.
    assert_eq!(
        project_stacks(&project, DEFAULT_HASH_DISTANCE)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(backfill_hashes(&mut project).unwrap(), 2);
    for (id, fetched) in (1i64..).zip(&grids) {
        let stored: Vec<u8> = project
            .conn()
            .query_row("SELECT colour_grid FROM images WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        // Read back from the JPEG thumbnail, within a few levels of fetch's.
        let stored: [u8; 48] = stored.try_into().unwrap();
        assert!(
            grid_difference(&stored, fetched) <= 3,
            "{stored:?} {fetched:?}"
        );
    }
    assert!(
        project_stacks(&project, DEFAULT_HASH_DISTANCE)
            .unwrap()
            .is_empty()
    );
    // Nothing is left to fill.
    assert_eq!(backfill_hashes(&mut project).unwrap(), 0);
}
