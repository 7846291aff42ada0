//! What a downloaded body really is, judged by its magic bytes only: servers
//! routinely send HTML error pages as `image/jpeg`, and URLs lie about types.

/// An image container recognised from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    Ico,
    /// Rasterised by resvg (see `svg`).
    Svg,
    /// Decoded by an external tool when installed (see `external`).
    Avif,
    Heic,
    /// Recognised but not decodable by this build (JPEG XL).
    Unsupported(&'static str),
}

impl Format {
    /// The name stored in `images.format` and used as the original's extension.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Ico => "ico",
            Format::Svg => "svg",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Unsupported(name) => name,
        }
    }

    /// File extension of the stored original.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Tiff => "tif",
            other => other.name(),
        }
    }

    pub fn image_format(self) -> Option<image::ImageFormat> {
        Some(match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Gif => image::ImageFormat::Gif,
            Format::Webp => image::ImageFormat::WebP,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Ico => image::ImageFormat::Ico,
            Format::Svg | Format::Avif | Format::Heic | Format::Unsupported(_) => return None,
        })
    }
}

/// The format of `bytes`, or `None` when they are not an image we know.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if starts(b"BM") && bytes.len() >= 26 {
        Some(Format::Bmp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some(Format::Tiff)
    } else if starts(&[0, 0, 1, 0]) && bytes.len() >= 22 {
        Some(Format::Ico)
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        Some(Format::Unsupported("jxl"))
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // ISO base media: the brand says which still-image format it carries.
        match &bytes[8..12] {
            b"avif" | b"avis" => Some(Format::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some(Format::Heic),
            // The generic HEIF brands: the compatible brands that follow say
            // whether the pictures inside are AV1 or HEVC.
            b"mif1" | b"msf1" => Some(if compatible_brands(bytes).any(|b| b == b"avif") {
                Format::Avif
            } else {
                Format::Heic
            }),
            _ => None,
        }
    } else if is_svg(bytes) {
        Some(Format::Svg)
    } else {
        None
    }
}

/// The compatible brands of an ISO base media `ftyp` box (after the major
/// brand and the minor version).
fn compatible_brands(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, 256).min(bytes.len());
    bytes.get(16..end).unwrap_or_default().chunks_exact(4)
}

/// SVG is text: an `<svg` root, possibly after an XML declaration, comments
/// or a doctype, within the first kilobyte.
fn is_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    (head.starts_with("<svg") || head.starts_with("<?xml") || head.starts_with("<!--"))
        && head.contains("<svg")
}

/// Whether a JPEG stops before its end-of-image marker. Decoders fill a cut
/// JPEG with grey without complaint, so a cut transfer would otherwise be kept
/// as a half-grey image. Looks for EOI after the first start-of-scan (segments
/// before it, such as an EXIF thumbnail, may hold their own EOI).
pub fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    let mut pos = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes 0xFF.
        while pos < bytes.len() && bytes[pos] == 0xFF && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if pos + 4 > bytes.len() || bytes[pos] != 0xFF {
            return true;
        }
        let marker = bytes[pos + 1];
        let length = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        if marker == 0xDA {
            let scan = &bytes[(pos + 2 + length).min(bytes.len())..];
            // EOI normally ends the file: search from the end, so a complete
            // file costs a few bytes instead of a pass over the whole scan.
            return !scan.windows(2).rev().any(|w| w == [0xFF, 0xD9]);
        }
        if marker == 0xD9 {
            return false;
        }
        pos += 2 + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_bytes_not_names() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0\0\0"), Some(Format::Avif));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"),
            Some(Format::Avif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"),
            Some(Format::Heic)
        );
        assert_eq!(sniff(b"<!DOCTYPE html><html>"), None);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some(Format::Svg)
        );
        // An HTML page that embeds an SVG icon is still not an image.
        assert_eq!(sniff(b"<html><body><svg></svg></body></html>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xFF\xD8"), None);
    }

    #[test]
    fn truncation_is_judged_after_the_scan() {
        // SOI, an APP1 holding a stray EOI (as EXIF thumbnails do), SOS, data.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0x00, 0x00];
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02, 0x11, 0x22, 0x33]);
        assert!(jpeg_is_truncated(&jpeg));
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert!(!jpeg_is_truncated(&jpeg));
        assert!(jpeg_is_truncated(&[0xFF, 0xD8, 0xFF]));
    }
}
