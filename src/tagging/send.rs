//! How an image travels to a backend: as its public URL, or as the bytes of
//! the downloaded original (or of a resized copy), with the EXIF orientation
//! applied first because the vendors ignore it (Clarifai says so).

use std::io::Cursor;
use std::path::Path;

use base64::Engine;
use image::{DynamicImage, ImageDecoder, ImageReader, metadata::Orientation};

use crate::fetch::sniff::{Format, sniff};

/// `--send`: what goes in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMode {
    /// The public URL when the image has an http(s) one and the backend can
    /// fetch it, the downloaded bytes otherwise.
    Auto,
    /// The public URL (images without one are sent as bytes).
    Url,
    /// The downloaded original, or a resized copy (see `--max-side`).
    Bytes,
}

/// One image as a backend receives it.
#[derive(Clone, Debug)]
pub enum Payload {
    Url(String),
    Bytes { mime: &'static str, data: Vec<u8> },
}

impl Payload {
    /// Plain base64 of the bytes (no `data:` prefix), `None` for URLs.
    pub fn base64(&self) -> Option<String> {
        match self {
            Payload::Url(_) => None,
            Payload::Bytes { data, .. } => {
                Some(base64::engine::general_purpose::STANDARD.encode(data))
            }
        }
    }

    /// A `data:` URI for the bytes, or the URL itself.
    pub fn uri(&self) -> String {
        match self {
            Payload::Url(url) => url.clone(),
            Payload::Bytes { mime, .. } => {
                format!("data:{mime};base64,{}", self.base64().unwrap_or_default())
            }
        }
    }
}

/// An image to tag, as the store knows it.
#[derive(Clone, Debug)]
pub struct ImageRef {
    pub id: i64,
    pub url: String,
    /// The downloaded original, relative to the project directory.
    pub file: Option<String>,
    pub byte_size: Option<u64>,
}

impl ImageRef {
    pub fn is_public(&self) -> bool {
        self.url.starts_with("http://") || self.url.starts_with("https://")
    }

    /// Whether this image goes as its URL under `mode`.
    pub fn goes_as_url(&self, mode: SendMode, backend_fetches_urls: bool) -> bool {
        match mode {
            SendMode::Auto => backend_fetches_urls && self.is_public(),
            SendMode::Url => self.is_public(),
            SendMode::Bytes => false,
        }
    }

    /// Roughly how many bytes this image adds to a request, before it is
    /// prepared (used to keep batches under the vendors' request size limits).
    /// Base64 grows the bytes by 4/3; resized copies are smaller, so this is
    /// an upper bound for them.
    pub fn estimated_request_bytes(&self, as_url: bool) -> u64 {
        if as_url {
            self.url.len() as u64 + 64
        } else {
            self.byte_size.unwrap_or(0) * 4 / 3 + 64
        }
    }
}

/// Why an image could not be prepared (nothing was sent, nothing billed).
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareError {
    pub code: &'static str,
    pub message: String,
}

/// The payload for `image`. `max_side` > 0 shrinks larger images so their
/// longer side is `max_side` pixels; 0 sends the original size.
pub fn prepare(
    project_dir: &Path,
    image: &ImageRef,
    as_url: bool,
    max_side: u32,
) -> Result<Payload, PrepareError> {
    if as_url {
        return Ok(Payload::Url(image.url.clone()));
    }
    let Some(file) = &image.file else {
        return Err(PrepareError {
            code: "not_downloaded",
            message: format!(
                "{} has not been downloaded: run `tagscape fetch` first, or send URLs with --send url",
                image.url
            ),
        });
    };
    let path = project_dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| PrepareError {
        code: "unreadable_image",
        message: format!(
            "cannot read {}: {e}; run `tagscape fetch` again to restore it",
            path.display()
        ),
    })?;
    encode_for_sending(bytes, max_side).map_err(|message| PrepareError {
        code: "unreadable_image",
        message: format!("{}: {message}", path.display()),
    })
}

/// The bytes to send: the original itself when it is upright, small enough
/// and in a format every vendor takes; otherwise decoded, turned upright,
/// shrunk and re-encoded (JPEG, or PNG when it has transparency).
pub fn encode_for_sending(mut bytes: Vec<u8>, max_side: u32) -> Result<Payload, String> {
    let mut format = sniff(&bytes).ok_or("not an image format tagscape knows")?;
    if format == Format::Ico
        && let Some(png) = crate::fetch::thumbnail::ico_png(&bytes)
    {
        // The icon's PNG itself (what fetch decoded; see `ico_png`).
        (bytes, format) = (png.to_vec(), Format::Png);
    }
    if matches!(format, Format::Svg | Format::Avif | Format::Heic) {
        // No vendor takes these everywhere: drawn or decoded as for the
        // thumbnails, at the size asked for (2048 px when any size will do).
        let side = if max_side == 0 { 2048 } else { max_side };
        let image =
            crate::fetch::thumbnail::decode_external(&bytes, format, side).map_err(|f| f.detail)?;
        return encode_pixels(image);
    }
    let image_format = format
        .image_format()
        .ok_or_else(|| format!("{} images cannot be decoded by this build", format.name()))?;
    let decoder = |bytes| {
        ImageReader::with_format(Cursor::new(bytes), image_format)
            .into_decoder()
            .map_err(|e| e.to_string())
    };
    let (orientation, (width, height)) = {
        let mut header = decoder(&bytes[..])?;
        (
            header.orientation().unwrap_or(Orientation::NoTransforms),
            header.dimensions(),
        )
    };
    let fits = max_side == 0 || width.max(height) <= max_side;
    let widely_accepted = matches!(
        format,
        Format::Jpeg | Format::Png | Format::Webp | Format::Gif
    );
    if orientation == Orientation::NoTransforms && fits && widely_accepted {
        let mime = match format {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            _ => "image/gif",
        };
        return Ok(Payload::Bytes { mime, data: bytes });
    }
    let mut image = DynamicImage::from_decoder(decoder(&bytes[..])?).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    if !fits {
        image = image.resize(max_side, max_side, image::imageops::FilterType::Triangle);
    }
    encode_pixels(image)
}

/// `image` as JPEG, or PNG when it has transparency.
fn encode_pixels(image: DynamicImage) -> Result<Payload, String> {
    let mut out = Cursor::new(Vec::new());
    let mime = if image.color().has_alpha() {
        image
            .write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        "image/png"
    } else {
        let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        rgb.write_with_encoder(encoder).map_err(|e| e.to_string())?;
        "image/jpeg"
    };
    Ok(Payload::Bytes {
        mime,
        data: out.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` JPEG whose left half is black and right half white.
    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    /// `jpeg` with an EXIF APP1 segment saying `orientation`, inserted after SOI.
    fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        // TIFF header (little endian), one IFD entry: 0x0112 SHORT 1 = orientation.
        let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0];
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn decode(payload: &Payload) -> DynamicImage {
        match payload {
            Payload::Bytes { data, .. } => image::load_from_memory(data).unwrap(),
            Payload::Url(_) => panic!("expected bytes"),
        }
    }

    #[test]
    fn upright_small_original_is_sent_unchanged() {
        let original = jpeg(40, 20);
        match encode_for_sending(original.clone(), 1024).unwrap() {
            Payload::Bytes { mime, data } => {
                assert_eq!(mime, "image/jpeg");
                assert_eq!(data, original);
            }
            Payload::Url(_) => panic!("expected bytes"),
        }
    }

    #[test]
    fn exif_rotation_is_applied() {
        // Orientation 6: the stored pixels must be turned 90° clockwise to
        // display upright, so 40×20 becomes 20×40 and the black left half
        // becomes the top half.
        let rotated = with_exif_orientation(&jpeg(40, 20), 6);
        let out = decode(&encode_for_sending(rotated, 0).unwrap()).to_luma8();
        assert_eq!(out.dimensions(), (20, 40));
        assert!(out.get_pixel(10, 5).0[0] < 40, "top should be black");
        assert!(out.get_pixel(10, 35).0[0] > 215, "bottom should be white");
    }

    #[test]
    fn large_images_are_shrunk_keeping_the_aspect_ratio() {
        let out = decode(&encode_for_sending(jpeg(400, 100), 100).unwrap());
        assert_eq!((out.width(), out.height()), (100, 25));
    }

    #[test]
    fn svgs_are_sent_drawn_at_the_size_asked_for() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="800" height="400" fill="red"/></svg>"#;
        let out = decode(&encode_for_sending(svg.to_vec(), 400).unwrap()).to_rgb8();
        assert_eq!(out.dimensions(), (400, 200));
        assert_eq!(out.get_pixel(200, 100).0, [255, 0, 0]);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(encode_for_sending(b"<html>nope</html>".to_vec(), 0).is_err());
    }

    #[test]
    fn payload_uris() {
        let p = Payload::Bytes {
            mime: "image/png",
            data: vec![1, 2, 3],
        };
        assert_eq!(p.base64().unwrap(), "AQID");
        assert_eq!(p.uri(), "data:image/png;base64,AQID");
        assert_eq!(
            Payload::Url("http://x/a.jpg".into()).uri(),
            "http://x/a.jpg"
        );
    }
}
