//! `export --format svg` and `--format pdf`: the map as a vector page for
//! Inkscape, Illustrator and papers — the recipe's last step, annotating in
//! a vector editor.
//!
//! The page has the PNG export's framing (same margins, same camera) and
//! five named layers (`inkscape:groupmode="layer"`), bottom to top: images,
//! hulls, labels, captions, legend. Hulls are paths; labels, captions and
//! the legend are real `<text>`. Every layer is written even when not asked
//! for: the parts left off (`--hulls`, `--labels`, `--legend`) are hidden
//! layers, one click away in the editor's layer panel.
//!
//! Images are linked (`xlink:href`, which Inkscape ≤ 1.2 and Illustrator
//! need) to copies of the 256 px thumbnails in a folder beside the SVG, or
//! embedded as data URLs (`--embed`). The PDF is the embedded page converted
//! by svg2pdf, with text kept as text.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use glam::Vec2;

use crate::cluster::{Cluster, color_hex};
use crate::project::Project;
use crate::render::hulls::{FILL_ALPHA, OUTLINE_ALPHA, OUTLINE_PX};
use crate::render::labels::font_px;
use crate::render::{Camera, Scene};

use super::AtomicFile;
use super::png::{MARGIN, derived_height, overlay_scale};
use super::xml::escape as xml_escape;

/// Page width when `--width` is not given: a screen's, where labels and
/// outlines have their on-screen size.
pub const DEFAULT_WIDTH: u32 = 1600;
/// The thumbnail level copied or embedded.
const IMAGE_LEVEL: u32 = 256;
/// Text colour and halo, as the renderer's labels.
const TEXT_RGB: u32 = 0x1a1a1a;
const HALO_RGB: u32 = 0xffffff;
const HALO_PX: f32 = 1.5;
/// Font families asked for, in order (the system's fallback does the rest).
const FONT_FAMILY: &str = "DejaVu Sans, Noto Sans, Arial, Helvetica, sans-serif";
/// Layer names, bottom to top (the editor's layer panel shows them).
pub const LAYERS: [&str; 5] = ["Images", "Hulls", "Labels", "Captions", "Legend"];

/// What the page shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageOptions {
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Show the hull and label layers (both are written either way).
    pub hulls: bool,
    pub labels: bool,
    /// Show the legend layer.
    pub legend: bool,
    /// Images as data URLs instead of files beside the SVG.
    pub embed: bool,
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorSummary {
    pub width: u32,
    pub height: u32,
    pub images: usize,
    /// Images drawn as a grey rectangle (no thumbnail).
    pub placeholders: usize,
    /// Cluster labels on the page (visible, named clusters).
    pub labels: usize,
    /// The folder of linked thumbnails, when images are linked.
    pub image_folder: Option<PathBuf>,
}

impl std::fmt::Display for VectorSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}×{} px page, layers {}",
            self.width,
            self.height,
            LAYERS.join(", ")
        )?;
        if self.placeholders > 0 {
            write!(
                f,
                "; {} of {} images as grey rectangles (no thumbnail yet: run `tagscape fetch`)",
                self.placeholders, self.images
            )?;
        }
        write!(f, "; {} cluster labels as text", self.labels)
    }
}

/// How the page refers to each image.
enum ImageRefs<'a> {
    /// Copy into this folder; href relative to the SVG.
    Linked {
        folder: &'a Path,
        href_prefix: String,
    },
    Embedded,
}

/// Writes the SVG page to `out`.
pub fn write_svg(project: &Project, out: &Path, opts: &PageOptions) -> Result<VectorSummary> {
    let (folder, href_prefix) = if opts.embed {
        (None, String::new())
    } else {
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "map".into());
        let name = format!("{stem}_images");
        let folder = out.with_file_name(&name);
        (Some(folder), format!("{name}/"))
    };
    let refs = match &folder {
        Some(folder) => ImageRefs::Linked {
            folder,
            href_prefix,
        },
        None => ImageRefs::Embedded,
    };
    let (svg, mut summary) = page(project, opts, &refs)?;
    summary.image_folder = folder;
    let mut file = AtomicFile::create(out)?;
    file.write_all(svg.as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    Ok(summary)
}

/// Writes the same page as a PDF (images embedded, text as text).
pub fn write_pdf(project: &Project, out: &Path, opts: &PageOptions) -> Result<VectorSummary> {
    let (svg, summary) = page(project, opts, &ImageRefs::Embedded)?;
    let pdf = svg_to_pdf(&svg)?;
    let mut file = AtomicFile::create(out)?;
    file.write_all(&pdf)
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    Ok(summary)
}

/// Converts an SVG page (self-contained: embedded images) to PDF bytes.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>> {
    use svg2pdf::usvg;
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    if options.fontdb.is_empty() {
        tracing::warn!(
            "no system font found: the PDF's labels are left out (install fonts-dejavu-core)"
        );
    }
    let tree = usvg::Tree::from_str(svg, &options).context("the SVG page does not parse")?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("cannot convert the page to PDF: {e}"))
}

/// The SVG text of the page, and what it holds.
fn page(
    project: &Project,
    opts: &PageOptions,
    refs: &ImageRefs,
) -> Result<(String, VectorSummary)> {
    let width = opts.width.unwrap_or(DEFAULT_WIDTH);
    if width == 0 || opts.height == Some(0) {
        bail!("--width and --height must be at least 1 pixel");
    }
    let scene = Scene::from_project(project)?;
    let Some(bounds) = scene.bounds(false) else {
        bail!(
            "project {} has no images to draw: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        );
    };
    let height = opts
        .height
        .unwrap_or_else(|| derived_height(bounds.size(), width));
    let mut camera = Camera::new(Vec2::new(width as f32, height as f32));
    camera.fit(&bounds, (MARGIN * width as f32).round());
    let scale = overlay_scale(width);
    let clusters = crate::cluster::load_clusters(project)?;
    if (opts.hulls || opts.labels || opts.legend) && clusters.is_empty() {
        tracing::warn!(
            "--hulls/--labels/--legend: project {} has no clusters yet, so none are drawn: run `tagscape cluster {}` first",
            project.dir().display(),
            project.dir().display()
        );
    }

    let mut svg = String::with_capacity(256 * scene.sprites.len() + 4096);
    let _ = write!(
        svg,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
            "xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" ",
            "width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n",
            "<rect id=\"background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
        ),
        w = width,
        h = height
    );

    let (images_layer, placeholders) = images_layer(&scene, &camera, refs)?;
    layer(&mut svg, LAYERS[0], true, &images_layer);
    layer(
        &mut svg,
        LAYERS[1],
        opts.hulls,
        &hulls_layer(&clusters, &camera, scale),
    );
    let shown = shown_clusters(&clusters);
    layer(
        &mut svg,
        LAYERS[2],
        opts.labels,
        &labels_layer(&shown, &camera, scale),
    );
    layer(
        &mut svg,
        LAYERS[3],
        opts.labels,
        &captions_layer(&shown, &camera, scale),
    );
    layer(
        &mut svg,
        LAYERS[4],
        opts.legend,
        &legend_layer(&shown, width, scale),
    );
    svg.push_str("</svg>\n");
    Ok((
        svg,
        VectorSummary {
            width,
            height,
            images: scene.sprites.len(),
            placeholders,
            labels: shown.len(),
            image_folder: None,
        },
    ))
}

/// One named layer; a hidden one stays in the file for the editor.
fn layer(svg: &mut String, name: &str, visible: bool, body: &str) {
    let id = name.to_lowercase();
    let style = if visible {
        ""
    } else {
        " style=\"display:none\""
    };
    let _ = writeln!(
        svg,
        "<g id=\"{id}\" inkscape:groupmode=\"layer\" inkscape:label=\"{name}\"{style}>"
    );
    svg.push_str(body);
    svg.push_str("</g>\n");
}

/// Each image at its place with its drawn half-size (the thumbnail keeps
/// its aspect inside the box, as the renderer draws it).
fn images_layer(scene: &Scene, camera: &Camera, refs: &ImageRefs) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut placeholders = 0;
    if let ImageRefs::Linked { folder, .. } = refs {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the image folder {}", folder.display()))?;
    }
    for (i, sprite) in scene.sprites.iter().enumerate() {
        let Some(&center) = scene.positions.get(sprite.node as usize) else {
            continue;
        };
        let half = sprite.half_extent() * camera.zoom;
        let c = camera.world_to_screen(center);
        let (x, y, w, h) = (c.x - half.x, c.y - half.y, 2.0 * half.x, 2.0 * half.y);
        let source = scene
            .thumbs
            .path(i as u32, IMAGE_LEVEL)
            .filter(|p| p.is_file());
        let href = match (source, refs) {
            (None, _) => None,
            (Some(path), ImageRefs::Embedded) => {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read the thumbnail {}", path.display()))?;
                let mime = if path.extension().is_some_and(|e| e == "png") {
                    "image/png"
                } else {
                    "image/jpeg"
                };
                let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                Some(format!("data:{mime};base64,{data}"))
            }
            (
                Some(path),
                ImageRefs::Linked {
                    folder,
                    href_prefix,
                },
            ) => {
                // Names are the store's hex hashes (checked by ThumbFiles::path).
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let dest = folder.join(&name);
                if !dest.is_file() {
                    std::fs::copy(&path, &dest).with_context(|| {
                        format!("cannot copy {} to {}", path.display(), dest.display())
                    })?;
                }
                Some(format!("{href_prefix}{name}"))
            }
        };
        match href {
            Some(href) => {
                let _ = writeln!(
                    out,
                    "<image x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" xlink:href=\"{}\"/>",
                    xml_escape(&href)
                );
            }
            None => {
                placeholders += 1;
                let rgb = unpack_rgb(sprite.color);
                let _ = writeln!(
                    out,
                    "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"{}\"/>",
                    color_hex(rgb)
                );
            }
        }
    }
    Ok((out, placeholders))
}

/// The sprite colour (premultiplied 0xAABBGGRR, opaque) as 0xRRGGBB.
fn unpack_rgb(abgr: u32) -> u32 {
    let r = abgr & 0xff;
    let g = (abgr >> 8) & 0xff;
    let b = (abgr >> 16) & 0xff;
    r << 16 | g << 8 | b
}

/// Each visible cluster's hull as a filled, outlined path.
fn hulls_layer(clusters: &[Cluster], camera: &Camera, scale: f32) -> String {
    let mut out = String::new();
    for c in clusters.iter().filter(|c| !c.hidden && !c.is_other) {
        let Some(polygon) = c.hull() else { continue };
        let mut d = String::new();
        let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
        for ring in rings {
            for (k, p) in ring.coords().enumerate() {
                let s = camera.world_to_screen(Vec2::new(p.x as f32, p.y as f32));
                let _ = write!(
                    d,
                    "{}{:.2},{:.2} ",
                    if k == 0 { "M" } else { "L" },
                    s.x,
                    s.y
                );
            }
            d.push_str("Z ");
        }
        let color = color_hex(c.color);
        let _ = writeln!(
            out,
            "<path id=\"hull-{}\" d=\"{}\" fill=\"{color}\" fill-opacity=\"{FILL_ALPHA}\" fill-rule=\"evenodd\" stroke=\"{color}\" stroke-opacity=\"{OUTLINE_ALPHA}\" stroke-width=\"{:.2}\" stroke-linejoin=\"miter\"><title>{}</title></path>",
            c.id,
            d.trim_end(),
            OUTLINE_PX * scale,
            xml_escape(c.name.trim())
        );
    }
    out
}

/// The visible, named clusters with a label anchor, largest first (the
/// renderer's labels).
fn shown_clusters(clusters: &[Cluster]) -> Vec<&Cluster> {
    let mut shown: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| !c.hidden && !c.is_other && c.label_at.is_some())
        .filter(|c| !c.name.trim().is_empty())
        .collect();
    shown.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    shown
}

/// A `<text>` with a halo (a stroke painted under the fill).
fn text(out: &mut String, id: &str, at: Vec2, px: f32, anchor: &str, body: &str, scale: f32) {
    let _ = writeln!(
        out,
        "<text id=\"{id}\" x=\"{:.2}\" y=\"{:.2}\" font-family=\"{FONT_FAMILY}\" font-size=\"{px:.2}\" text-anchor=\"{anchor}\" dominant-baseline=\"central\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{:.2}\" stroke-linejoin=\"round\" paint-order=\"stroke\">{}</text>",
        at.x,
        at.y,
        color_hex(TEXT_RGB),
        color_hex(HALO_RGB),
        2.0 * HALO_PX * scale,
        xml_escape(body)
    );
}

fn label_anchor(c: &Cluster, camera: &Camera) -> Option<Vec2> {
    let [x, y] = c.label_at?;
    Some(camera.world_to_screen(Vec2::new(x as f32, y as f32)))
}

/// Each cluster's name at its label anchor, sized by its image count.
fn labels_layer(shown: &[&Cluster], camera: &Camera, scale: f32) -> String {
    let mut out = String::new();
    for c in shown {
        let Some(at) = label_anchor(c, camera) else {
            continue;
        };
        let px = font_px(c.size) * scale;
        text(
            &mut out,
            &format!("label-{}", c.id),
            at,
            px,
            "middle",
            c.name.trim(),
            scale,
        );
    }
    out
}

/// Each cluster's caption (when it has one) under its name.
fn captions_layer(shown: &[&Cluster], camera: &Camera, scale: f32) -> String {
    let mut out = String::new();
    for c in shown {
        let Some(caption) = c
            .caption
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        let Some(at) = label_anchor(c, camera) else {
            continue;
        };
        let name_px = font_px(c.size) * scale;
        let px = (name_px * 0.55).max(10.0 * scale);
        let below = at + Vec2::new(0.0, 0.5 * name_px + 0.8 * px);
        text(
            &mut out,
            &format!("caption-{}", c.id),
            below,
            px,
            "middle",
            caption,
            scale,
        );
    }
    out
}

/// A key of cluster colours and names in the top-left corner.
fn legend_layer(shown: &[&Cluster], width: u32, scale: f32) -> String {
    let mut out = String::new();
    if shown.is_empty() {
        return out;
    }
    let px = 13.0 * scale;
    let line = 1.5 * px;
    let pad = (MARGIN * width as f32 * 0.5).max(8.0);
    let longest = shown
        .iter()
        .map(|c| c.name.trim().chars().count())
        .max()
        .unwrap_or(0);
    // A box wide enough for the longest name at an average glyph width.
    let box_w = 2.0 * px + 0.6 * px * longest as f32 + px;
    let box_h = line * shown.len() as f32 + px;
    let _ = writeln!(
        out,
        "<rect x=\"{pad:.2}\" y=\"{pad:.2}\" width=\"{box_w:.2}\" height=\"{box_h:.2}\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\" stroke-width=\"{:.2}\"/>",
        scale
    );
    for (k, c) in shown.iter().enumerate() {
        let y = pad + 0.5 * px + line * (k as f32 + 0.5);
        let _ = writeln!(
            out,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{px:.2}\" height=\"{px:.2}\" fill=\"{}\"/>",
            pad + 0.5 * px,
            y - 0.5 * px,
            color_hex(c.color)
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.2}\" y=\"{y:.2}\" font-family=\"{FONT_FAMILY}\" font-size=\"{px:.2}\" dominant-baseline=\"central\" fill=\"{}\">{}</text>",
            pad + 2.0 * px,
            color_hex(TEXT_RGB),
            xml_escape(c.name.trim())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sprite_colour_unpacks_to_rgb() {
        let packed = crate::render::scene::pack_rgba(0x123456, 255);
        assert_eq!(unpack_rgb(packed), 0x123456);
    }
}
