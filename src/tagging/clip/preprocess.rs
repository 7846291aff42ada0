//! CLIP's image preprocessing, as `CLIPImageProcessor` does it: the EXIF
//! orientation applied, RGB, the shortest side resized to the model's input
//! size with bicubic (Pillow's, a = −0.5, antialiased when shrinking), a
//! centre crop to a square, then each channel scaled to 0–1 and normalised
//! with the mean and standard deviation of CLIP's training images.

use std::io::Cursor;

use anyhow::{Context, Result, anyhow};
use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

/// `image_mean` of OpenAI's CLIP preprocessor (RGB).
pub const CLIP_MEAN: [f64; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// `image_std` of OpenAI's CLIP preprocessor (RGB).
pub const CLIP_STD: [f64; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Decodes an image file's bytes, turned upright by its EXIF orientation,
/// as 8-bit RGB (an alpha channel is dropped, as Pillow's `convert("RGB")`).
pub fn decode_upright(bytes: &[u8]) -> Result<RgbImage> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .context("reading the image")?;
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .context("not an image format this build decodes")?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).context("decoding the image")?;
    image.apply_orientation(orientation);
    Ok(image.to_rgb8())
}

/// The `size`×`size` crop CLIP sees, before normalisation: the shortest side
/// resized to `size` (the other to `⌊size · long / short⌋`, as transformers
/// computes it), then the centre cut out (offsets rounded down).
pub fn resize_and_crop(image: &RgbImage, size: u32) -> Result<RgbImage> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(anyhow!("the image is empty ({w}×{h} pixels)"));
    }
    let (short, long) = (w.min(h) as u64, w.max(h) as u64);
    let scaled_long = ((size as u64 * long) / short).max(size as u64) as u32;
    let (rw, rh) = if w <= h {
        (size, scaled_long)
    } else {
        (scaled_long, size)
    };
    let source = Image::from_vec_u8(w, h, image.as_raw().clone(), PixelType::U8x3)
        .map_err(|e| anyhow!("unusable pixel buffer: {e}"))?;
    let mut resized = Image::new(rw, rh, PixelType::U8x3);
    // Catmull-Rom is Pillow's BICUBIC (a = −0.5), with the same support
    // scaling when shrinking.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    Resizer::new()
        .resize(&source, &mut resized, &options)
        .map_err(|e| anyhow!("resizing failed: {e}"))?;
    let resized = RgbImage::from_raw(rw, rh, resized.into_vec())
        .ok_or_else(|| anyhow!("resizing gave a buffer of the wrong size"))?;
    let left = (rw - size) / 2;
    let top = (rh - size) / 2;
    Ok(image::imageops::crop_imm(&resized, left, top, size, size).to_image())
}

/// Channels-first (3 × H × W) normalised values of an RGB crop.
pub fn normalise(crop: &RgbImage) -> Vec<f32> {
    let (w, h) = crop.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in crop.pixels().enumerate() {
        for c in 0..3 {
            let value = f64::from(pixel.0[c]) / 255.0;
            out[c * plane + i] = ((value - CLIP_MEAN[c]) / CLIP_STD[c]) as f32;
        }
    }
    out
}

/// The model input for one image file: decode, orient, resize, crop, normalise.
pub fn preprocess(bytes: &[u8], size: u32) -> Result<Vec<f32>> {
    let image = decode_upright(bytes)?;
    Ok(normalise(&resize_and_crop(&image, size)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_centred_on_the_long_side() {
        // 40×20, left half black, right half white: resized to 32×16 then
        // cropped to 16×16 from x = 8, so the left half of the crop is black.
        let img = RgbImage::from_fn(40, 20, |x, _| {
            if x < 20 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let crop = resize_and_crop(&img, 16).unwrap();
        assert_eq!(crop.dimensions(), (16, 16));
        assert_eq!(crop.get_pixel(2, 8).0, [0, 0, 0]);
        assert_eq!(crop.get_pixel(13, 8).0, [255, 255, 255]);
    }

    #[test]
    fn normalisation_uses_clip_mean_and_std() {
        let crop = RgbImage::from_pixel(2, 1, image::Rgb([255, 0, 128]));
        let v = normalise(&crop);
        assert_eq!(v.len(), 6);
        let expected = |x: f64, mean: f64, std: f64| ((x - mean) / std) as f32;
        assert!((v[0] - expected(1.0, 0.481_454_66, 0.268_629_54)).abs() < 1e-5);
        assert!((v[2] - expected(0.0, 0.457_827_5, 0.261_302_58)).abs() < 1e-5);
        assert!((v[4] - expected(128.0 / 255.0, 0.408_210_73, 0.275_777_11)).abs() < 1e-5);
    }
}
