//! The screenshot key: the map as the window shows it (its size, camera,
//! toggles and highlights; without the panels) drawn once more into a
//! texture, read back and saved as a PNG in the project directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use crate::gpu::GpuContext;
use crate::render::{FrameOptions, OffscreenTarget, Renderer};

/// Draws the current frame of `renderer` (already prepared for this
/// frame's camera) at `width`×`height` and returns tightly packed RGBA rows.
pub fn capture(
    ctx: &GpuContext,
    renderer: &Renderer,
    opts: &FrameOptions,
    width: u32,
    height: u32,
) -> Result<Vec<u8>> {
    let device = &ctx.device;
    let queue = &ctx.queue;
    let format = renderer.format();
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("screenshot"),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    let target = OffscreenTarget {
        texture,
        view,
        width,
        height,
    };
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("screenshot"),
    });
    renderer.encode(&mut encoder, &target.view, opts);
    queue.submit([encoder.finish()]);
    let mut pixels = target.read_rgba(device, queue)?;
    match format {
        wgpu::TextureFormat::Rgba8Unorm => {}
        wgpu::TextureFormat::Bgra8Unorm => {
            for px in pixels.chunks_exact_mut(4) {
                px.swap(0, 2);
            }
        }
        other => {
            return Err(anyhow!(
                "screenshots of a {other:?} window are not supported: please report your GPU"
            ));
        }
    }
    Ok(pixels)
}

/// The first free `screenshot-NNN.png` in `dir`.
pub fn next_path(dir: &Path) -> PathBuf {
    (1u32..)
        .map(|i| dir.join(format!("screenshot-{i:03}.png")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join("screenshot.png"))
}

/// Writes `rgba` as a PNG at `path`.
pub fn save(path: &Path, rgba: Vec<u8>, width: u32, height: u32) -> Result<()> {
    let image = image::RgbaImage::from_raw(width, height, rgba)
        .ok_or_else(|| anyhow!("screenshot buffer does not match {width}×{height}"))?;
    image.save(path).with_context(|| {
        format!(
            "cannot write the screenshot {}: check the folder's permissions and free space",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_path_skips_existing_files() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(next_path(tmp.path()), tmp.path().join("screenshot-001.png"));
        std::fs::write(tmp.path().join("screenshot-001.png"), b"x").unwrap();
        assert_eq!(next_path(tmp.path()), tmp.path().join("screenshot-002.png"));
    }
}
