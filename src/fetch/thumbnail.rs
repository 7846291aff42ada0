//! Decoding an original (with limits against decompression bombs and its EXIF
//! orientation applied) into the level-of-detail pyramid and the mean colour.
//!
//! JPEGs, most of any collection, are decoded by libjpeg-turbo at 1/2, 1/4 or
//! 1/8 scale in the IDCT (see `jpeg`) when the largest thumbnail needs no
//! more: a 2000×1500 photo becomes 500×375 without ever existing at full
//! size. Opaque levels are encoded as JPEG by libjpeg-turbo too.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage, RgbaImage};

use super::phash;
use super::sniff::{self, Format};
use super::{Failure, jpeg};

/// Longest side of each pyramid level, largest first. A level is never larger
/// than the image itself (small images are not upscaled).
pub const LEVELS: [u32; 3] = [256, 64, 16];

/// Bounds on what decoding one image may take: an image past them fails as
/// `too_many_pixels` before its pixels are allocated. By area and bytes, not
/// by side: a 40000×300 panorama is small, a 19000×19000 square is not.
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits {
    /// Pixels of the image (width × height).
    pub max_pixels: u64,
    /// Bytes decoding may allocate at its peak (see `decode_memory`).
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 400_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// The most decoding `bytes` can allocate at once, from the header alone:
/// what `fetch` reserves from the memory budget all decodes share. An image
/// the decoders cannot read (or not an image at all) needs nothing: its
/// failure is found by `make_thumbnails`.
pub fn decode_memory(bytes: &[u8], format: Format) -> u64 {
    if format == Format::Svg {
        return super::svg::decode_memory(bytes, LEVELS[0]);
    }
    if format == Format::Ico
        && let Some(png) = ico_png(bytes)
    {
        return decode_memory(png, Format::Png);
    }
    if matches!(format, Format::Avif | Format::Heic) {
        return super::external::declared_size(bytes)
            .map_or(0, |(w, h)| super::external::decode_memory(w, h));
    }
    if format == Format::Jpeg
        && let Some(header) = jpeg::read_header(bytes)
    {
        // Covers the fast path's coefficients and the general decode.
        return jpeg::working_memory(header);
    }
    let Some(image_format) = format.image_format() else {
        return 0;
    };
    ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_decoder()
        .map_or(0, |mut decoder| {
            let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
            general_memory(&decoder, orientation)
        })
}

/// Peak bytes of `decode_full`: the decoder's own buffer, then either its
/// rotated copy (EXIF orientation) or its 8-bit RGB(A) conversion next to it.
/// A 19000×19000 grey TIFF is 361 MB decoded but 1.4 GB converted.
fn general_memory(decoder: &impl ImageDecoder, orientation: Orientation) -> u64 {
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    let native = decoder.total_bytes();
    let color = decoder.color_type();
    let converted = if matches!(color, image::ColorType::Rgb8 | image::ColorType::Rgba8) {
        0
    } else {
        pixels * if color.has_alpha() { 4 } else { 3 }
    };
    let rotated = match orientation {
        Orientation::NoTransforms => 0,
        _ => native,
    };
    native.saturating_add(converted.max(rotated))
}

/// The pyramid of one image, encoded and ready to store.
pub struct Thumbnails {
    /// Size of the original after its EXIF orientation is applied.
    pub width: u32,
    pub height: u32,
    /// Alpha-weighted mean of the pixels, 0xRRGGBB.
    pub mean_color: u32,
    /// `jpg` for opaque images, `png` when some pixel is not fully opaque.
    pub extension: &'static str,
    /// `(longest side asked for, width, height, encoded bytes)`, in `LEVELS` order.
    pub levels: Vec<(u32, u32, u32, Vec<u8>)>,
    /// Perceptual hash of the largest level (see `phash`), for stacking near-duplicates.
    pub phash: Option<u64>,
    /// Colour grid of the largest level (`phash::signature`), checked beside the hash.
    pub colour_grid: Option<phash::ColourGrid>,
}

/// Pixels of a decoded (possibly DCT-downscaled) image, oriented.
struct Decoded {
    pixels: DynamicImage,
    /// Full size of the oriented original (the pixels may be smaller).
    width: u32,
    height: u32,
}

/// Decodes `bytes` (already sniffed as `format`) and builds the pyramid.
pub fn make_thumbnails(
    bytes: &[u8],
    format: Format,
    limits: &DecodeLimits,
) -> Result<Thumbnails, Failure> {
    make_thumbnails_with(bytes, format, limits, true)
}

/// `make_thumbnails`, optionally without JPEG DCT scaling (full-size decode):
/// the baseline `tagscape bench fetch` compares against.
pub fn make_thumbnails_with(
    bytes: &[u8],
    format: Format,
    limits: &DecodeLimits,
    dct_scaling: bool,
) -> Result<Thumbnails, Failure> {
    let decoded = decode(bytes, format, limits, LEVELS[0], dct_scaling)?;
    let opaque = match &decoded.pixels {
        DynamicImage::ImageRgb8(_) => true,
        DynamicImage::ImageRgba8(rgba) => rgba.pixels().all(|p| p.0[3] == 255),
        other => !other.color().has_alpha(),
    };
    let (pixel_type, src_w, src_h, buffer) = if opaque {
        let rgb = decoded.pixels.into_rgb8();
        (PixelType::U8x3, rgb.width(), rgb.height(), rgb.into_raw())
    } else {
        let rgba = decoded.pixels.into_rgba8();
        (
            PixelType::U8x4,
            rgba.width(),
            rgba.height(),
            rgba.into_raw(),
        )
    };
    let mut current = Image::from_vec_u8(src_w, src_h, buffer, pixel_type)
        .map_err(|e| Failure::new("decode_error", format!("unusable pixel buffer: {e}")))?;

    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let mut levels = Vec::with_capacity(LEVELS.len());
    let mut mean_color = 0;
    let mut signature = None;
    for (i, &level) in LEVELS.iter().enumerate() {
        // Each level is made from the one above it: cheaper, and as sharp.
        let (w, h) = fit(decoded.width, decoded.height, level);
        if (w, h) != (current.width(), current.height()) {
            let mut next = Image::new(w, h, pixel_type);
            resizer
                .resize(&current, &mut next, &options)
                .map_err(|e| Failure::new("decode_error", format!("resizing failed: {e}")))?;
            current = next;
        }
        if i == 0 {
            mean_color = mean_rgb(current.buffer(), pixel_type == PixelType::U8x4);
            signature =
                phash::signature_pixels(current.buffer(), w, h, pixel_type == PixelType::U8x4);
        }
        levels.push((level, w, h, encode(&current, opaque)?));
    }
    Ok(Thumbnails {
        width: decoded.width,
        height: decoded.height,
        mean_color,
        extension: if opaque { "jpg" } else { "png" },
        levels,
        phash: signature.map(|s| s.0),
        colour_grid: signature.map(|s| s.1),
    })
}

/// The level made on demand, from the stored original, for posters whose
/// images are drawn larger than the largest pyramid level; stored beside
/// the others (`thumbs/1024/…`) once made.
pub const POSTER_LEVEL: u32 = 1024;

/// An original's pixels with the longest side at most `max_side` (never
/// upscaled), oriented, as straight-alpha RGBA8: decoded under `limits`
/// (JPEGs at the smallest DCT scale that covers `max_side`), then resized
/// with Lanczos3. What a poster draws an image from when it is larger on
/// the poster than the pyramid's levels.
pub fn decode_rgba_at(
    bytes: &[u8],
    format: Format,
    limits: &DecodeLimits,
    max_side: u32,
) -> Result<RgbaImage, Failure> {
    let decoded = decode(bytes, format, limits, max_side, true)?;
    resize_rgba(
        decoded.pixels.into_rgba8(),
        decoded.width,
        decoded.height,
        max_side,
    )
}

/// `rgba` (of an image `width`×`height` at full size) at
/// `fit(width, height, max_side)`, Lanczos3; as it is when already that size.
pub fn resize_rgba(
    rgba: RgbaImage,
    width: u32,
    height: u32,
    max_side: u32,
) -> Result<RgbaImage, Failure> {
    let (w, h) = fit(width, height, max_side);
    if (w, h) == rgba.dimensions() {
        return Ok(rgba);
    }
    let failed = |e: String| Failure::new("decode_error", format!("resizing failed: {e}"));
    let (sw, sh) = rgba.dimensions();
    let src = Image::from_vec_u8(sw, sh, rgba.into_raw(), PixelType::U8x4)
        .map_err(|e| failed(e.to_string()))?;
    let mut dst = Image::new(w, h, PixelType::U8x4);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| failed(e.to_string()))?;
    RgbaImage::from_raw(w, h, dst.into_vec()).ok_or_else(|| failed("buffer size".into()))
}

/// A pyramid level file of `rgba` in the pyramid's format for the image:
/// JPEG when its thumbnails are `jpg` (opaque), PNG otherwise.
pub fn encode_level(rgba: &RgbaImage, extension: &str) -> Result<Vec<u8>, Failure> {
    use image::buffer::ConvertBuffer;
    let (w, h) = rgba.dimensions();
    let opaque = extension == "jpg";
    let (buffer, pixel_type) = if opaque {
        let rgb: RgbImage = rgba.convert();
        (rgb.into_raw(), PixelType::U8x3)
    } else {
        (rgba.as_raw().clone(), PixelType::U8x4)
    };
    let image = Image::from_vec_u8(w, h, buffer, pixel_type)
        .map_err(|e| Failure::new("decode_error", format!("unusable pixel buffer: {e}")))?;
    encode(&image, opaque)
}

/// The size of a `level` thumbnail of a `width`×`height` image: the longest
/// side becomes `level` (never more than the image), the aspect ratio is kept.
pub fn fit(width: u32, height: u32, level: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= level {
        return (width, height);
    }
    let scale = |side: u32| ((side as f64 * level as f64 / longest as f64).round() as u32).max(1);
    (scale(width), scale(height))
}

/// The pixels of an original in a format `image` cannot decode by itself
/// (SVG, AVIF, HEIC), oriented, with the longest side at most `max_side`:
/// what `tag` sends of them.
pub fn decode_external(
    bytes: &[u8],
    format: Format,
    max_side: u32,
) -> Result<DynamicImage, Failure> {
    Ok(decode(bytes, format, &DecodeLimits::default(), max_side, true)?.pixels)
}

fn decode(
    bytes: &[u8],
    format: Format,
    limits: &DecodeLimits,
    target: u32,
    dct_scaling: bool,
) -> Result<Decoded, Failure> {
    if format == Format::Jpeg {
        if sniff::jpeg_is_truncated(bytes) {
            return Err(Failure::new(
                "truncated",
                "the JPEG ends before its end-of-image marker",
            ));
        }
        if dct_scaling && let Some(decoded) = decode_jpeg_scaled(bytes, limits, target)? {
            return Ok(decoded);
        }
    }
    if format == Format::Svg {
        // Vector: drawn at the size the largest level needs, never larger.
        let (pixels, width, height) = super::svg::rasterise(bytes, limits, target)?;
        return Ok(Decoded {
            pixels: DynamicImage::ImageRgba8(pixels),
            width,
            height,
        });
    }
    if format == Format::Ico
        && let Some(png) = ico_png(bytes)
    {
        return decode_full(png, Format::Png, limits);
    }
    if matches!(format, Format::Avif | Format::Heic) {
        let (png, scaled_from) = super::external::decode_to_png(bytes, format, limits, target)?;
        let mut decoded = decode_full(&png, Format::Png, limits)?;
        if let Some((w, h)) = scaled_from {
            // Scaled by the tool: the original's size is the declared one,
            // turned the way the picture came out (a rotation property).
            let turned = w != h && (decoded.width > decoded.height) != (w > h);
            (decoded.width, decoded.height) = if turned { (h, w) } else { (w, h) };
        }
        return Ok(decoded);
    }
    decode_full(bytes, format, limits)
}

/// The PNG inside an icon, when its largest picture is one. `image`'s ICO
/// decoder refuses what browsers show: PNGs that are not RGBA, and PNGs
/// whose size differs from the directory's (one byte per side, so often
/// wrong past 256); the PNG itself is then decoded directly.
pub fn ico_png(bytes: &[u8]) -> Option<&[u8]> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let count = usize::from(u16_at(4)?);
    // (area, bits per pixel) of the best entry so far, and its PNG if it is one.
    let mut best_score = None;
    let mut best_png = None;
    for entry in (0..count).map(|i| 6 + 16 * i) {
        let side = |at: usize| match bytes.get(at) {
            Some(0) => Some(256u64),
            other => other.map(|&v| u64::from(v)),
        };
        let (Some(w), Some(h), Some(bits), Some(len), Some(offset)) = (
            side(entry),
            side(entry + 1),
            u16_at(entry + 6),
            u32_at(entry + 8),
            u32_at(entry + 12),
        ) else {
            break;
        };
        let start = offset as usize;
        let Some(data) = bytes.get(start..start.saturating_add(len as usize)) else {
            continue;
        };
        let png = data.starts_with(b"\x89PNG\r\n\x1a\n").then_some(data);
        // A PNG's real size is in its header (IHDR: width, height at 16..24).
        let area = match png.and_then(|p| p.get(16..24)) {
            Some(ihdr) => {
                let dim =
                    |i: usize| u64::from(u32::from_be_bytes(ihdr[i..i + 4].try_into().unwrap()));
                dim(0) * dim(4)
            }
            None => w * h,
        };
        let score = (area, bits);
        if best_score.is_none_or(|s| score > s) {
            (best_score, best_png) = (Some(score), png);
        }
    }
    best_png
}

/// The fast JPEG path: libjpeg-turbo decoding at the smallest 1/2ⁿ scale
/// that still covers the largest level. `Ok(None)` sends the image to the
/// general decoder (CMYK, a header or data libjpeg-turbo rejects, or an image
/// whose decoding could take more memory than the limits allow).
fn decode_jpeg_scaled(
    bytes: &[u8],
    limits: &DecodeLimits,
    target: u32,
) -> Result<Option<Decoded>, Failure> {
    let Some(header) = jpeg::read_header(bytes) else {
        return Ok(None);
    };
    let (w, h) = (header.width, header.height);
    check_area(w, h, limits)?;
    if jpeg::working_memory(header) > limits.max_alloc {
        return Ok(None);
    }
    let denominator = jpeg::scale_denominator(w, h, target);
    let Some(scaled) = jpeg::decode_scaled(bytes, header, denominator) else {
        return Ok(None);
    };
    let Some(rgb) = RgbImage::from_raw(scaled.width, scaled.height, scaled.pixels) else {
        return Ok(None);
    };
    let orientation = jpeg::exif_orientation(bytes);
    let mut pixels = DynamicImage::ImageRgb8(rgb);
    pixels.apply_orientation(orientation);
    let (width, height) = oriented(w, h, orientation);
    Ok(Some(Decoded {
        pixels,
        width,
        height,
    }))
}

/// Any supported format through `image`, with its limits and orientation.
fn decode_full(bytes: &[u8], format: Format, limits: &DecodeLimits) -> Result<Decoded, Failure> {
    let Some(image_format) = format.image_format() else {
        return Err(Failure::new(
            "unsupported_format",
            format!("{} images cannot be decoded by this build", format.name()),
        ));
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    // No side limits (`image` defaults to none): area and bytes are checked below.
    let mut image_limits = image::Limits::no_limits();
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(decode_failure)?;
    let (w, h) = decoder.dimensions();
    check_area(w, h, limits)?;
    // Not every `image` decoder enforces `max_alloc` (the JPEG one does not),
    // and none counts the conversion to RGB: the whole peak is checked here,
    // from the header, for all of them.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let needed = general_memory(&decoder, orientation);
    if needed > limits.max_alloc {
        return Err(Failure::new(
            "too_many_pixels",
            format!(
                "decoding the {w}×{h} image would take {} MB (its pixels and their RGB copy), more than the {} MB allowed",
                needed >> 20,
                limits.max_alloc >> 20
            ),
        ));
    }
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(decode_failure)?;
    pixels.apply_orientation(orientation);
    let pixels = if pixels.color().has_alpha() {
        DynamicImage::ImageRgba8(pixels.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(pixels.into_rgb8())
    };
    let (width, height) = (pixels.width(), pixels.height());
    Ok(Decoded {
        pixels,
        width,
        height,
    })
}

pub(crate) fn check_area(w: u32, h: u32, limits: &DecodeLimits) -> Result<(), Failure> {
    if w == 0 || h == 0 {
        return Err(Failure::new(
            "decode_error",
            format!("the image declares a size of {w}×{h} pixels"),
        ));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(Failure::new(
            "too_many_pixels",
            format!(
                "the image declares {w}×{h} pixels ({} megapixels), more than the {} megapixels allowed",
                pixels / 1_000_000,
                limits.max_pixels / 1_000_000
            ),
        ));
    }
    Ok(())
}

fn oriented(w: u32, h: u32, orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (h, w),
        _ => (w, h),
    }
}

fn decode_failure(error: ImageError) -> Failure {
    match error {
        ImageError::Limits(e) => Failure::new("too_many_pixels", e.to_string()),
        ImageError::Unsupported(e) => Failure::new("unsupported_format", e.to_string()),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Failure::new("truncated", format!("the image data ends early: {e}"))
        }
        other => Failure::new("decode_error", other.to_string()),
    }
}

/// The alpha-weighted mean of packed RGB(A) pixels, 0xRRGGBB (as stored in `images.mean_color`).
pub fn mean_rgb(buffer: &[u8], has_alpha: bool) -> u32 {
    let channels = if has_alpha { 4 } else { 3 };
    let mut sums = [0u64; 3];
    let mut weight = 0u64;
    for px in buffer.chunks_exact(channels) {
        let a = if has_alpha { u64::from(px[3]) } else { 1 };
        for c in 0..3 {
            sums[c] += u64::from(px[c]) * a;
        }
        weight += a;
    }
    if weight == 0 {
        return 0;
    }
    let channel = |c: usize| ((sums[c] + weight / 2) / weight) as u32;
    (channel(0) << 16) | (channel(1) << 8) | channel(2)
}

/// Quality of the JPEG thumbnails.
const JPEG_QUALITY: i32 = 85;

fn encode(level: &Image<'_>, opaque: bool) -> Result<Vec<u8>, Failure> {
    let failed =
        |e: String| Failure::new("decode_error", format!("encoding a thumbnail failed: {e}"));
    let (w, h) = (level.width(), level.height());
    if opaque {
        return jpeg::encode_rgb(level.buffer(), w, h, JPEG_QUALITY).map_err(failed);
    }
    let Some(rgba) = RgbaImage::from_raw(w, h, level.buffer().to_vec()) else {
        return Err(Failure::new("decode_error", "thumbnail buffer size"));
    };
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(rgba)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| failed(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(2000, 1500, 256), (256, 192));
        assert_eq!(fit(1500, 2000, 64), (48, 64));
        assert_eq!(fit(300, 200, 256), (256, 171)); // 200·256/300 = 170.67
        assert_eq!(fit(100, 50, 256), (100, 50));
        assert_eq!(fit(10000, 10, 16), (16, 1));
    }

    /// A `w`×`h` JPEG, left half red and right half blue.
    fn halves_jpeg(w: u32, h: u32) -> Vec<u8> {
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                if i % w < w / 2 {
                    [255, 0, 0]
                } else {
                    [0, 0, 255]
                }
            })
            .collect();
        jpeg::encode_rgb(&rgb, w, h, 90).expect("encodes")
    }

    #[test]
    fn scaled_and_full_decodes_make_the_same_pyramid() {
        let bytes = halves_jpeg(1200, 800);
        let limits = DecodeLimits::default();
        let fast = make_thumbnails_with(&bytes, Format::Jpeg, &limits, true).expect("fast");
        let full = make_thumbnails_with(&bytes, Format::Jpeg, &limits, false).expect("full");
        assert_eq!((fast.width, fast.height), (1200, 800));
        assert_eq!((full.width, full.height), (1200, 800));
        let sizes = |t: &Thumbnails| t.levels.iter().map(|l| (l.0, l.1, l.2)).collect::<Vec<_>>();
        assert_eq!(
            sizes(&fast),
            vec![(256, 256, 171), (64, 64, 43), (16, 16, 11)]
        );
        assert_eq!(sizes(&fast), sizes(&full));
        // Half red, half blue: the mean is about (128, 0, 128) either way.
        for t in [&fast, &full] {
            let (r, g, b) = (
                t.mean_color >> 16,
                (t.mean_color >> 8) & 0xFF,
                t.mean_color & 0xFF,
            );
            assert!(
                r.abs_diff(128) < 8 && g < 8 && b.abs_diff(128) < 8,
                "{:06x}",
                t.mean_color
            );
        }
        // Every level is a JPEG that decodes at the size recorded for it.
        for (_, w, h, data) in &fast.levels {
            let decoded = image::load_from_memory(data).expect("a decodable level");
            assert_eq!((decoded.width(), decoded.height()), (*w, *h));
        }
    }

    #[test]
    fn jpegs_libjpeg_turbo_will_not_take_go_the_general_way() {
        // CMYK (written by libjpeg-turbo as YCCK): the fast path declines it,
        // so the result is exactly the general decoder's.
        let (w, h) = (48usize, 32usize);
        let cmyk = vec![0u8; w * h * 4]; // no ink: white
        let mut compressor = turbojpeg::Compressor::new().expect("a compressor");
        compressor.set_subsamp(turbojpeg::Subsamp::None);
        let bytes = compressor
            .compress_to_vec(turbojpeg::Image {
                pixels: cmyk.as_slice(),
                width: w,
                pitch: w * 4,
                height: h,
                format: turbojpeg::PixelFormat::CMYK,
            })
            .expect("encodes CMYK");
        assert!(jpeg::read_header(&bytes).is_none());
        let limits = DecodeLimits::default();
        let fast = make_thumbnails_with(&bytes, Format::Jpeg, &limits, true);
        let full = make_thumbnails_with(&bytes, Format::Jpeg, &limits, false);
        match (fast, full) {
            (Ok(fast), Ok(full)) => {
                assert_eq!((fast.width, fast.height), (48, 32));
                assert_eq!(fast.mean_color, full.mean_color);
            }
            (Err(fast), Err(full)) => assert_eq!(fast.reason, full.reason),
            _ => panic!("the fast path and the general decoder disagree on a CMYK JPEG"),
        }
    }

    #[test]
    fn decoder_memory_is_checked_before_the_fast_path_decodes() {
        // 1000×1000 is within the side limits, but libjpeg-turbo could need
        // 6 MB of coefficients and the full decode 3 MB: with 1 MB allowed,
        // neither decodes it.
        let bytes = halves_jpeg(1000, 1000);
        let limits = DecodeLimits {
            max_alloc: 1024 * 1024,
            ..DecodeLimits::default()
        };
        let failure = make_thumbnails(&bytes, Format::Jpeg, &limits)
            .err()
            .expect("refused");
        assert_eq!(failure.reason, "too_many_pixels");
        // Past the area limit, it fails from the header alone.
        let limits = DecodeLimits {
            max_pixels: 999_999,
            ..DecodeLimits::default()
        };
        let failure = make_thumbnails(&bytes, Format::Jpeg, &limits)
            .err()
            .expect("refused");
        assert_eq!(failure.reason, "too_many_pixels");
    }

    #[test]
    fn mean_weights_by_alpha() {
        // One opaque red pixel and one transparent green one: the mean is red.
        let px = [255, 0, 0, 255, 0, 255, 0, 0];
        assert_eq!(mean_rgb(&px, true), 0xFF0000);
        // Red and blue, opaque: (255 + 0) / 2 rounds to 128 = 0x80.
        let px = [255, 0, 0, 0, 0, 255];
        assert_eq!(mean_rgb(&px, false), 0x800080);
    }
}
