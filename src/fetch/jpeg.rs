//! JPEG through libjpeg-turbo (the system `libturbojpeg`, SIMD Huffman and
//! IDCT): the header read alone, decoding at 1/2, 1/4 or 1/8 scale inside the
//! IDCT, the EXIF orientation, and encoding the thumbnails.
//!
//! Every libjpeg-turbo failure comes back as `None` or `Err`, never a panic;
//! `thumbnail` then falls back to the general decoder, which records the
//! image's failure as it would without this fast path.

use image::metadata::Orientation;
use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, Subsamp};

/// What the frame header says, read without decoding any pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
}

/// The header of a JPEG that libjpeg-turbo can decode to RGB: `None` for
/// CMYK and YCCK (Adobe) JPEGs and for anything it cannot parse, including
/// data that ends before a frame header (which it reports as a 0×0 image,
/// as for a tables-only stream).
pub fn read_header(bytes: &[u8]) -> Option<Header> {
    let header = Decompressor::new().ok()?.read_header(bytes).ok()?;
    if matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK)
        || header.width == 0
        || header.height == 0
    {
        return None;
    }
    Some(Header {
        width: u32::try_from(header.width).ok()?,
        height: u32::try_from(header.height).ok()?,
    })
}

/// Bytes libjpeg-turbo may hold while decoding a `header` image at any
/// scale: a progressive JPEG keeps every DCT coefficient of the whole frame
/// (2 bytes each, at most 3 full-resolution components), whatever the output
/// size. Checked against the decode limits before decoding.
pub fn working_memory(header: Header) -> u64 {
    u64::from(header.width) * u64::from(header.height) * 3 * 2
}

/// The smallest IDCT scale, as the denominator of 1/1, 1/2, 1/4 or 1/8, whose
/// output still has `target` pixels on its longest side (or is the full image
/// when that is smaller). Only powers of two: libjpeg-turbo has SIMD IDCTs
/// for them, and its other M/8 factors would save little resizing.
pub fn scale_denominator(width: u32, height: u32, target: u32) -> u32 {
    let longest = width.max(height);
    [8, 4, 2]
        .into_iter()
        .find(|&d| scaled(longest, d) >= target)
        .unwrap_or(1)
}

/// A side of the image decoded at 1/`denominator` (libjpeg-turbo's TJSCALED:
/// rounded up).
pub fn scaled(side: u32, denominator: u32) -> u32 {
    side.div_ceil(denominator)
}

/// Pixels decoded at a reduced scale, as stored (not yet oriented).
pub struct ScaledRgb {
    pub width: u32,
    pub height: u32,
    /// Packed 8-bit RGB, `width * height * 3` bytes; grey JPEGs are expanded.
    pub pixels: Vec<u8>,
}

/// Decodes `bytes` (whose header is `header`) at 1/`denominator` scale.
/// `None` on any libjpeg-turbo error or warning (corrupt or damaged data).
pub fn decode_scaled(bytes: &[u8], header: Header, denominator: u32) -> Option<ScaledRgb> {
    let width = scaled(header.width, denominator);
    let height = scaled(header.height, denominator);
    let (w, h) = (usize::try_from(width).ok()?, usize::try_from(height).ok()?);
    let mut pixels = vec![0u8; w.checked_mul(h)?.checked_mul(3)?];
    // libjpeg-turbo picks the largest scaling factor whose output fits in
    // the given size: asked for exactly the 1/denominator size, it uses it.
    let output = Image {
        pixels: pixels.as_mut_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: PixelFormat::RGB,
    };
    Decompressor::new().ok()?.decompress(bytes, output).ok()?;
    Some(ScaledRgb {
        width,
        height,
        pixels,
    })
}

/// The orientation in the JPEG's EXIF segment (APP1 "Exif"), or none.
pub fn exif_orientation(bytes: &[u8]) -> Orientation {
    exif_chunk(bytes)
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

/// The TIFF data of the first APP1 segment that holds EXIF, looked for in
/// the segments before the first scan.
fn exif_chunk(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 2; // after SOI
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        match marker {
            // Fill byte: the marker is one further.
            0xFF => pos += 1,
            // Start of scan or end of image: no EXIF before the pixels.
            0xDA | 0xD9 => return None,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let length = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
                let payload = bytes.get(pos + 4..pos + 2 + length.max(2))?;
                if marker == 0xE1
                    && let Some(tiff) = payload.strip_prefix(b"Exif\0\0")
                {
                    return Some(tiff);
                }
                pos += 2 + length;
            }
        }
    }
    None
}

/// Encodes packed 8-bit RGB as a JPEG of `quality`, with 4:2:0 chroma (as
/// `image`'s encoder did before: the same sizes, several times faster).
pub fn encode_rgb(pixels: &[u8], width: u32, height: u32, quality: i32) -> Result<Vec<u8>, String> {
    let (w, h) = (width as usize, height as usize);
    if pixels.len() != w * h * 3 {
        return Err(format!("{} bytes for {width}×{height} RGB", pixels.len()));
    }
    let mut compressor = Compressor::new().map_err(|e| e.to_string())?;
    compressor.set_quality(quality);
    compressor.set_subsamp(Subsamp::Sub2x2);
    compressor
        .compress_to_vec(Image {
            pixels,
            width: w,
            pitch: w * 3,
            height: h,
            format: PixelFormat::RGB,
        })
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_power_of_two_scale_that_covers_the_target() {
        // 2000/8 = 250 < 256, 2000/4 = 500: a quarter.
        assert_eq!(scale_denominator(2000, 1500, 256), 4);
        // 4000/8 = 500 ≥ 256: an eighth.
        assert_eq!(scale_denominator(3000, 4000, 256), 8);
        // 600/2 = 300 ≥ 256 but 600/4 = 150 is not: a half.
        assert_eq!(scale_denominator(600, 400, 256), 2);
        // 300/2 = 150 < 256: full size.
        assert_eq!(scale_denominator(300, 200, 256), 1);
        assert_eq!(scale_denominator(100, 50, 256), 1);
        // Rounded up as libjpeg-turbo does: 2049/8 = 256.125 → 257.
        assert_eq!(scaled(2049, 8), 257);
        assert_eq!(scale_denominator(2041, 10, 256), 8); // ceil(255.125) = 256
        assert_eq!(scale_denominator(2040, 10, 256), 4); // 255
    }

    #[test]
    fn finds_exif_after_other_segments_and_stops_at_the_scan() {
        let tiff = b"MM\0*\0\0\0\x08";
        let mut jpeg = vec![0xFF, 0xD8];
        // APP0 JFIF, a fill byte, then APP1 that is XMP (not EXIF), then EXIF.
        jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x07, b'J', b'F', b'I', b'F', 0]);
        jpeg.push(0xFF);
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, b'h', b't', b't', b'p']);
        let length = (2 + 6 + tiff.len()) as u16;
        jpeg.extend_from_slice(&[0xFF, 0xE1]);
        jpeg.extend_from_slice(&length.to_be_bytes());
        jpeg.extend_from_slice(b"Exif\0\0");
        jpeg.extend_from_slice(tiff);
        assert_eq!(exif_chunk(&jpeg), Some(&tiff[..]));

        // The same EXIF after the start of scan is scan data, not metadata.
        let mut late = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
        late.extend_from_slice(&jpeg[2..]);
        assert_eq!(exif_chunk(&late), None);
        // A segment length past the end of the data.
        assert_eq!(
            exif_chunk(&[0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, b'E']),
            None
        );
        assert_eq!(exif_chunk(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn decodes_at_the_asked_scale_and_encodes_back() {
        // A 64×48 frame: left half red, right half blue, encoded by libjpeg-turbo.
        let (w, h) = (64u32, 48u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                if i % w < w / 2 {
                    [255, 0, 0]
                } else {
                    [0, 0, 255]
                }
            })
            .collect();
        let jpeg = encode_rgb(&rgb, w, h, 90).expect("encodes");
        let header = read_header(&jpeg).expect("a header");
        assert_eq!(
            header,
            Header {
                width: 64,
                height: 48
            }
        );
        let quarter = decode_scaled(&jpeg, header, 4).expect("decodes");
        assert_eq!((quarter.width, quarter.height), (16, 12));
        assert_eq!(quarter.pixels.len(), 16 * 12 * 3);
        // Away from the edge between the halves, the colours survive.
        let px = |x: usize, y: usize| &quarter.pixels[(y * 16 + x) * 3..][..3];
        assert!(px(2, 6)[0] > 200 && px(2, 6)[2] < 60, "{:?}", px(2, 6));
        assert!(px(13, 6)[2] > 200 && px(13, 6)[0] < 60, "{:?}", px(13, 6));

        // Damaged data is an error, not a panic: cut inside the scan.
        assert!(decode_scaled(&jpeg[..jpeg.len() / 2], header, 4).is_none());
        assert!(read_header(b"\xFF\xD8\xFF\xE0 not a jpeg").is_none());
        assert!(read_header(b"\xFF\xD8").is_none());
        assert!(read_header(b"GIF89a").is_none());
        assert!(encode_rgb(&rgb[1..], w, h, 90).is_err());
    }
}
