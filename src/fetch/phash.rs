//! The perceptual hash of an image, computed from its largest thumbnail at
//! fetch time: near-identical images (the same meme re-encoded, resized,
//! lightly cropped or recompressed) get hashes a few bits apart, so
//! `tagscape graph --stack-duplicates` can stack them.
//!
//! A gradient hash on 8×8 (image_hasher's `Gradient`): each bit says whether
//! brightness rises from one pixel to the next in a 9×8 grey copy. In our
//! evaluation (notes/CRATES.md) variants of one image were 7 bits apart on
//! average, unrelated images about 30.

use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};

/// The 64-bit hash of an (upright) image. Transparency is composited over
/// white first, as the map draws it: a transparent PNG and its white-backed
/// JPEG re-post look alike and must hash alike (the hash reads only the
/// colour channels, where transparent pixels are often stored black).
pub fn perceptual_hash(image: &DynamicImage) -> u64 {
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(8, 8)
        .to_hasher();
    let hash = if image.color().has_alpha() {
        hasher.hash_image(&DynamicImage::ImageRgb8(over_white(&image.to_rgba8())))
    } else {
        hasher.hash_image(image)
    };
    let mut bytes = [0u8; 8];
    for (b, h) in bytes.iter_mut().zip(hash.as_bytes()) {
        *b = *h;
    }
    u64::from_be_bytes(bytes)
}

fn over_white(rgba: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        image::Rgb([0, 1, 2].map(|c| ((u32::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8))
    })
}

/// The hash of a packed 8-bit RGB or RGBA buffer (a thumbnail level, not
/// premultiplied).
pub fn hash_pixels(buffer: &[u8], width: u32, height: u32, rgba: bool) -> Option<u64> {
    let image = if rgba {
        DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, buffer.to_vec())?)
    } else {
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, buffer.to_vec())?)
    };
    Some(perceptual_hash(&image))
}

/// Bits that differ between two hashes.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// `images.phash` holds the bits as a signed 64-bit integer (SQLite's).
pub fn to_column(hash: u64) -> i64 {
    hash as i64
}

pub fn from_column(value: i64) -> u64 {
    value as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: u32, h: u32, shift: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            let v = (((x * 8 / w) + (y * 8 / h) * 3 + shift) * 37 % 256) as u8;
            image::Rgb([v, v / 2, 255 - v])
        }))
    }

    #[test]
    fn resizing_keeps_the_hash_close_and_other_images_are_far() {
        let a = perceptual_hash(&pattern(256, 192, 0));
        let a_small = perceptual_hash(&pattern(256, 192, 0).resize(
            97,
            73,
            image::imageops::FilterType::Triangle,
        ));
        let b = perceptual_hash(&pattern(256, 192, 5));
        assert!(distance(a, a_small) <= 6, "{}", distance(a, a_small));
        assert!(distance(a, b) > 12, "{}", distance(a, b));
    }

    #[test]
    fn a_transparent_image_hashes_like_its_white_backed_copy() {
        // A dark disc on a transparent background (transparent pixels are
        // stored as black, as many PNG encoders do), and the same disc
        // flattened onto white as a JPEG re-post would be.
        let (w, h) = (64u32, 48u32);
        let inside = |x: u32, y: u32| (x as i32 - 28).pow(2) + (y as i32 - 22).pow(2) < 300;
        let mut rgba = Vec::new();
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                if inside(x, y) {
                    rgba.extend([40, 80, 120, 255]);
                    rgb.extend([40, 80, 120]);
                } else {
                    rgba.extend([0, 0, 0, 0]);
                    rgb.extend([255, 255, 255]);
                }
            }
        }
        let a = hash_pixels(&rgba, w, h, true).unwrap();
        let b = hash_pixels(&rgb, w, h, false).unwrap();
        assert_eq!(distance(a, b), 0);
        // Read as black, the background would have made them far apart.
        let black: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let c = hash_pixels(&black, w, h, false).unwrap();
        assert!(distance(b, c) > 6, "{}", distance(b, c));
    }

    #[test]
    fn the_column_keeps_every_bit() {
        for h in [0u64, 1, u64::MAX, 0x8000_0000_0000_0001] {
            assert_eq!(from_column(to_column(h)), h);
        }
    }
}
