//! The perceptual hash of an image, computed from its largest thumbnail at
//! fetch time: near-identical images (the same meme re-encoded, resized,
//! lightly cropped or recompressed) get hashes a few bits apart, so
//! `tagscape graph --stack-duplicates` can stack them.
//!
//! A gradient hash on 8×8 (image_hasher's `Gradient`): each bit says whether
//! brightness rises from one pixel to the next in a 9×8 grey copy. In our
//! evaluation (notes/CRATES.md) variants of one image were 7 bits apart on
//! average, unrelated images about 30.
//!
//! The hash reads brightness steps only, so the same shape in another
//! colour (a red logo and a blue one on white) hashes alike. A coarse
//! colour grid (`signature`), stored beside it, lets stacking check
//! what the hash cannot see.

use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};

/// What stacking compares of an (upright) image: its 64-bit perceptual
/// hash and its colour grid. Transparency is composited over white first,
/// as the map draws it: a transparent PNG and its white-backed JPEG re-post
/// look alike and must compare alike (the hash reads only the colour
/// channels, where transparent pixels are often stored black).
pub fn signature(image: &DynamicImage) -> (u64, ColourGrid) {
    let flattened;
    let opaque = if image.color().has_alpha() {
        flattened = DynamicImage::ImageRgb8(over_white(&image.to_rgba8()));
        &flattened
    } else {
        image
    };
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(8, 8)
        .to_hasher();
    let mut bytes = [0u8; 8];
    for (b, h) in bytes.iter_mut().zip(hasher.hash_image(opaque).as_bytes()) {
        *b = *h;
    }
    (u64::from_be_bytes(bytes), colour_grid(&opaque.to_rgb8()))
}

fn over_white(rgba: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        image::Rgb([0, 1, 2].map(|c| ((u32::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8))
    })
}

/// The signature of a packed 8-bit RGB or RGBA buffer (a thumbnail level,
/// not premultiplied).
pub fn signature_pixels(
    buffer: &[u8],
    width: u32,
    height: u32,
    rgba: bool,
) -> Option<(u64, ColourGrid)> {
    let image = if rgba {
        DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, buffer.to_vec())?)
    } else {
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, buffer.to_vec())?)
    };
    Some(signature(&image))
}

/// Cells a side of the colour grid.
pub const GRID: usize = 4;

/// The mean colour of each cell of a `GRID`×`GRID` grid laid over an image
/// (RGB, row by row), composited over white as `perceptual_hash` is.
pub type ColourGrid = [u8; GRID * GRID * 3];

/// The colour grid of an opaque picture: each cell the area-weighted mean
/// of the pixels under it, so a grid does not depend on the picture's size,
/// only on where its colours are. Coarse on purpose: a light crop moves
/// content by an eighth of a cell, and recompression changes a cell's mean
/// by a level or two.
fn colour_grid(rgb: &image::RgbImage) -> ColourGrid {
    let (xs, ys) = (cell_weights(rgb.width()), cell_weights(rgb.height()));
    let mut sums = [0f64; GRID * GRID * 3];
    let mut areas = [0f64; GRID * GRID];
    for (x, y, px) in rgb.enumerate_pixels() {
        for &(cy, wy) in &ys[y as usize] {
            for &(cx, wx) in &xs[x as usize] {
                let cell = cy * GRID + cx;
                let w = wx * wy;
                areas[cell] += w;
                for c in 0..3 {
                    sums[cell * 3 + c] += w * f64::from(px.0[c]);
                }
            }
        }
    }
    let mut grid = [255u8; GRID * GRID * 3];
    for (i, value) in grid.iter_mut().enumerate() {
        if areas[i / 3] > 0.0 {
            *value = (sums[i] / areas[i / 3]).round().clamp(0.0, 255.0) as u8;
        }
    }
    grid
}

/// For each of `len` pixels along an axis, the grid cells it overlaps and
/// by how much (cell c spans [c·len/GRID, (c+1)·len/GRID) in pixels).
fn cell_weights(len: u32) -> Vec<Vec<(usize, f64)>> {
    let scale = GRID as f64 / f64::from(len.max(1));
    (0..len)
        .map(|p| {
            let (start, end) = (f64::from(p) * scale, f64::from(p + 1) * scale);
            let mut cells = Vec::with_capacity(2);
            let mut cell = start.floor();
            while cell < end && (cell as usize) < GRID {
                let overlap = end.min(cell + 1.0) - start.max(cell);
                if overlap > 0.0 {
                    cells.push((cell as usize, overlap));
                }
                cell += 1.0;
            }
            cells
        })
        .collect()
}

/// The largest difference, in levels of one channel, between two grids' cells.
pub fn grid_difference(a: &ColourGrid, b: &ColourGrid) -> u32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| u32::from(x.abs_diff(y)))
        .max()
        .unwrap_or(0)
}

/// `images.colour_grid` holds a grid as its 48 bytes; anything else reads as none.
pub fn grid_from_column(bytes: &[u8]) -> Option<ColourGrid> {
    bytes.try_into().ok()
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

    #[test]
    fn a_colour_grid_averages_each_quarter_over_white() {
        // 6×4: the left half red, the right half transparent; the 6 px do
        // not split evenly into 4 cells, so columns 1 and 4 are shared.
        let (w, h) = (6u32, 4u32);
        let mut rgba = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                rgba.extend(if x < 3 {
                    [255, 0, 0, 255]
                } else {
                    [0, 0, 0, 0]
                });
            }
        }
        let grid = signature_pixels(&rgba, w, h, true).unwrap().1;
        for row in 0..GRID {
            let cell = |c: usize| &grid[(row * GRID + c) * 3..(row * GRID + c) * 3 + 3];
            assert_eq!(cell(0), [255, 0, 0]);
            assert_eq!(cell(1), [255, 0, 0]);
            assert_eq!(cell(2), [255, 255, 255]);
            assert_eq!(cell(3), [255, 255, 255]);
        }
        // A red stripe in the first of 8 columns covers half of cell 0.
        let mut rgb = Vec::new();
        for _ in 0..8 {
            for x in 0..8 {
                rgb.extend(if x == 0 { [255, 0, 0] } else { [255, 255, 255] });
            }
        }
        let grid = signature_pixels(&rgb, 8, 8, false).unwrap().1;
        assert_eq!(&grid[0..3], [255, 128, 128]);
        assert_eq!(&grid[3..6], [255, 255, 255]);
        assert_eq!(grid_difference(&grid, &[255; GRID * GRID * 3]), 127);
    }

    fn pattern(w: u32, h: u32, shift: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            let v = (((x * 8 / w) + (y * 8 / h) * 3 + shift) * 37 % 256) as u8;
            image::Rgb([v, v / 2, 255 - v])
        }))
    }

    #[test]
    fn resizing_keeps_the_hash_close_and_other_images_are_far() {
        let a = signature(&pattern(256, 192, 0)).0;
        let a_small =
            signature(&pattern(256, 192, 0).resize(97, 73, image::imageops::FilterType::Triangle))
                .0;
        let b = signature(&pattern(256, 192, 5)).0;
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
        let a = signature_pixels(&rgba, w, h, true).unwrap().0;
        let b = signature_pixels(&rgb, w, h, false).unwrap().0;
        assert_eq!(distance(a, b), 0);
        // Read as black, the background would have made them far apart.
        let black: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let c = signature_pixels(&black, w, h, false).unwrap().0;
        assert!(distance(b, c) > 6, "{}", distance(b, c));
    }

    #[test]
    fn the_column_keeps_every_bit() {
        for h in [0u64, 1, u64::MAX, 0x8000_0000_0000_0001] {
            assert_eq!(from_column(to_column(h)), h);
        }
    }
}
