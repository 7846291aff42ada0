//! Near-duplicates: an image and its re-encoded, resized copy get close
//! perceptual hashes at fetch time and stack; a different image does not.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;

use std::io::Cursor;

use tagscape::fetch::phash::distance;
use tagscape::fetch::phash::to_column;
use tagscape::fetch::process_body;
use tagscape::fetch::thumbnail::DecodeLimits;
use tagscape::graph::duplicates::{
    DEFAULT_HASH_DISTANCE, Hashed, Stack, find_stacks, load_stack_sizes,
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
        },
        Hashed {
            image_id: 2,
            hash: h_copy,
            frequency: 7,
        },
        Hashed {
            image_id: 3,
            hash: h_other,
            frequency: 1,
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
        let images: [(i64, u64, u32); 4] =
            [(1, 0b00, 1), (2, 0b01, 4), (3, 0b11, 2), (4, u64::MAX, 1)];
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
