//! Near-duplicates: an image and its re-encoded, resized copy get close
//! perceptual hashes at fetch time and stack; a different image does not.

use std::io::Cursor;

use tagscape::fetch::phash::distance;
use tagscape::fetch::process_body;
use tagscape::fetch::thumbnail::DecodeLimits;
use tagscape::graph::duplicates::{DEFAULT_HASH_DISTANCE, Hashed, Stack, find_stacks};

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
