//! AVIF and HEIC, which no decoder this build can link reads (see
//! CRATES.md): decoded by `ffmpeg` (AVIF) or libheif's `heif-convert` (both)
//! as child processes, when installed, into a PNG that the ordinary decoder
//! then reads under the same limits. Without them the image fails with
//! `unsupported_format`, naming the package to install.
//!
//! The tools are found on the PATH, or where `TAGSCAPE_FFMPEG` and
//! `TAGSCAPE_HEIF_CONVERT` say (a custom build; the tests point them at a
//! missing file to check the failure).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Failure;
use super::sniff::Format;
use super::thumbnail::{DecodeLimits, fit};

/// Longest one decode may run; a hostile file must not hold a worker forever.
const TIMEOUT: Duration = Duration::from_secs(60);

/// An external decoder.
struct Tool {
    name: &'static str,
    env: &'static str,
}

const FFMPEG: Tool = Tool {
    name: "ffmpeg",
    env: "TAGSCAPE_FFMPEG",
};

const HEIF_CONVERT: Tool = Tool {
    name: "heif-convert",
    env: "TAGSCAPE_HEIF_CONVERT",
};

impl Tool {
    fn program(&self) -> std::ffi::OsString {
        std::env::var_os(self.env)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| self.name.into())
    }
}

/// The largest picture size (`ispe`) an AVIF/HEIC file declares in its
/// `meta` box: what decoding it takes, known before any tool runs.
pub fn declared_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut pos = 0usize;
    let mut best: Option<(u32, u32)> = None;
    while pos + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let (header, size) = match size {
            0 => (8, bytes.len() - pos),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(
                    bytes.get(pos + 8..pos + 16)?.try_into().ok()?,
                ))
                .ok()?,
            ),
            n => (8, n),
        };
        if size < header {
            return best;
        }
        let end = pos.saturating_add(size).min(bytes.len());
        if &bytes[pos + 4..pos + 8] == b"meta" {
            // Property boxes sit a few levels down (iprp/ipco); their
            // 20-byte layout is fixed: size, "ispe", version+flags, w, h.
            let meta = &bytes[pos..end];
            for at in 4..=meta.len().saturating_sub(16) {
                if &meta[at..at + 4] == b"ispe" {
                    let w = u32::from_be_bytes(meta[at + 8..at + 12].try_into().ok()?);
                    let h = u32::from_be_bytes(meta[at + 12..at + 16].try_into().ok()?);
                    let area = |s: (u32, u32)| u64::from(s.0) * u64::from(s.1);
                    if best.is_none_or(|b| area((w, h)) > area(b)) {
                        best = Some((w, h));
                    }
                }
            }
            return best;
        }
        pos = end;
    }
    best
}

/// Bytes decoding a `w`×`h` picture this way takes in this process (the
/// PNG the tool writes, decoded, and its RGBA copy).
pub fn decode_memory(w: u32, h: u32) -> u64 {
    u64::from(w) * u64::from(h) * 8
}

/// A PNG from a tool and, when the tool scaled it, the size it was scaled from.
pub type ToolPicture = (Vec<u8>, Option<(u32, u32)>);

/// A PNG of the picture in `bytes`, at most `target` on its longest side
/// when the tool can scale (ffmpeg), else full size, and the picture's size.
pub fn decode_to_png(
    bytes: &[u8],
    format: Format,
    limits: &DecodeLimits,
    target: u32,
) -> Result<ToolPicture, Failure> {
    let kind = format.name().to_ascii_uppercase();
    let (w, h) = declared_size(bytes).ok_or_else(|| {
        Failure::new(
            "decode_error",
            format!("the {kind} file declares no picture size (no ispe box)"),
        )
    })?;
    super::thumbnail::check_area(w, h, limits)?;
    if decode_memory(w, h) > limits.max_alloc {
        return Err(Failure::new(
            "too_many_pixels",
            format!(
                "decoding the {w}×{h} {kind} image would take {} MB, more than the {} MB allowed",
                decode_memory(w, h) >> 20,
                limits.max_alloc >> 20
            ),
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| {
        Failure::new(
            "decode_error",
            format!("cannot make a temporary folder to decode the {kind} image: {e}"),
        )
    })?;
    let input = dir.path().join(format!("in.{}", format.extension()));
    std::fs::write(&input, bytes).map_err(|e| {
        Failure::new(
            "decode_error",
            format!("cannot write the {kind} image to a temporary file: {e}"),
        )
    })?;
    let output = dir.path().join("out.png");
    let (tw, th) = fit(w, h, target);
    // AVIF: ffmpeg first (it scales while decoding), then libheif.
    let tools: &[&Tool] = match format {
        Format::Avif => &[&FFMPEG, &HEIF_CONVERT],
        _ => &[&HEIF_CONVERT],
    };
    let mut failure = None;
    for tool in tools {
        let mut cmd = Command::new(tool.program());
        if tool.name == "ffmpeg" {
            // The demuxer forced and only local files: a file that merely
            // starts like an AVIF cannot make ffmpeg read a playlist or a URL.
            cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"])
                .args(["-protocol_whitelist", "file", "-f", "mov", "-i"])
                .arg(&input)
                .args(["-frames:v", "1", "-vf"])
                .arg(format!(
                    "scale=w={tw}:h={th}:force_original_aspect_ratio=decrease"
                ))
                .args(["-y"])
                .arg(&output);
        } else {
            cmd.arg(&input).arg(&output);
        }
        let failed = |detail: String| {
            Failure::new(
                "decode_error",
                format!("{} could not decode the {kind} image: {detail}", tool.name),
            )
        };
        match run(cmd, tool) {
            Ok(()) => {}
            // The next tool, if any, may be installed or do better.
            Err(Missing) => continue,
            Err(Failed(detail)) => {
                failure = Some(failed(detail));
                continue;
            }
        }
        let png = match read_output(&output, limits) {
            Ok(png) => png,
            Err(detail) => {
                failure = Some(failed(format!("it wrote no picture ({detail})")));
                continue;
            }
        };
        if tool.name == "ffmpeg" {
            // ffmpeg 5 reads only the first tile of a tiled (grid) AVIF:
            // a picture of another shape than declared is not this image.
            let got = image::ImageReader::with_format(
                std::io::Cursor::new(&png),
                image::ImageFormat::Png,
            )
            .into_dimensions()
            .unwrap_or((0, 0));
            let close =
                |a: (u32, u32), b: (u32, u32)| a.0.abs_diff(b.0) <= 1 && a.1.abs_diff(b.1) <= 1;
            if !close(got, (tw, th)) && !close(got, (th, tw)) {
                failure = Some(failed(format!(
                    "it made a {}×{} picture of a {w}×{h} image (a tiled AVIF?)",
                    got.0, got.1
                )));
                continue;
            }
            return Ok((png, Some((w, h))));
        }
        return Ok((png, None));
    }
    Err(failure.unwrap_or_else(|| missing(format)))
}

fn missing(format: Format) -> Failure {
    let detail = match format {
        Format::Avif => {
            "AVIF images need ffmpeg (or heif-convert): apt-get install ffmpeg, then fetch --retry-failed"
        }
        _ => {
            "HEIC images need heif-convert: apt-get install libheif-examples, then fetch --retry-failed"
        }
    };
    Failure::new("unsupported_format", detail)
}

enum RunError {
    /// The program is not installed.
    Missing,
    /// It ran and failed: why, in one short line.
    Failed(String),
}
use RunError::{Failed, Missing};

/// Runs `cmd` to its end or `TIMEOUT`, whichever comes first.
fn run(mut cmd: Command, tool: &Tool) -> Result<(), RunError> {
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Missing),
        Err(e) => return Err(Failed(format!("cannot start {}: {e}", tool.name))),
    };
    // Read stderr as it comes, so a chatty tool never blocks on a full pipe.
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut text);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(Failed(format!("it took more than {} s", TIMEOUT.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Failed(format!("cannot wait for {}: {e}", tool.name))),
        }
    };
    let stderr = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    // The tool's last words, short and without control characters.
    let said = String::from_utf8_lossy(&stderr);
    let said: String = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    Err(Failed(if said.is_empty() {
        format!("exit status {status}")
    } else {
        format!("{status}: {said}")
    }))
}

/// The PNG a tool wrote (heif-convert numbers it `out-1.png` when the file
/// holds several pictures), no larger than decoding may take.
fn read_output(output: &Path, limits: &DecodeLimits) -> Result<Vec<u8>, String> {
    let numbered = output.with_file_name("out-1.png");
    let path = if output.exists() { output } else { &numbered };
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > limits.max_alloc {
        return Err(format!("a {} MB PNG, more than allowed", len >> 20));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_size_is_the_largest_ispe_in_meta() {
        let ispe = |w: u32, h: u32| {
            let mut b = vec![0, 0, 0, 20];
            b.extend_from_slice(b"ispe\0\0\0\0");
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&h.to_be_bytes());
            b
        };
        let mut meta_body = b"\0\0\0\0".to_vec();
        meta_body.extend(ispe(512, 512));
        meta_body.extend(ispe(4032, 3024));
        let mut file = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        file.extend_from_slice(&((meta_body.len() + 8) as u32).to_be_bytes());
        file.extend_from_slice(b"meta");
        file.extend(meta_body);
        assert_eq!(declared_size(&file), Some((4032, 3024)));
        assert_eq!(declared_size(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), None);
    }
}
