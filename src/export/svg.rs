//! `export --format svg` and `--format pdf`: the map as a vector page for
//! Inkscape, Illustrator and papers — the recipe's last step, annotating in
//! a vector editor.
//!
//! The page is the PNG export's picture: the same frame, title, legend,
//! background and camera ([`super::png::page`]), the cluster labels where
//! the PNG's label placement puts them ([`LabelSet`]). It has six named
//! layers (`inkscape:groupmode="layer"`), bottom to top: images, hulls,
//! labels, captions, legend, title. Hulls are paths; labels, captions, the
//! legend and the title are real `<text>`. Every layer is written even when
//! not asked for: the parts left off (`--hulls`, `--labels`, `--legend`)
//! are hidden layers, one click away in the editor's layer panel (a legend
//! not asked for takes no room, so it lies over the map's top right).
//!
//! Images are linked (`xlink:href`, which Inkscape ≤ 1.2 and Illustrator
//! need) to copies of the 256 px thumbnails in a folder beside the SVG, or
//! embedded as data URLs (`--embed`, and always for stdout). The PDF is the
//! embedded page converted by svg2pdf, text kept as text. With `--dpi` the
//! page has a physical size (millimetres), so both print at that size.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;
use glam::Vec2;
use glyphon::{Buffer, FontSystem, fontdb};

use crate::cluster::{Cluster, color_hex};
use crate::project::Project;
use crate::render::hulls::{FILL_ALPHA, MITER_LIMIT, OUTLINE_ALPHA, OUTLINE_PX};
use crate::render::labels::{DrawnLabel, HALO_PX, HALO_RGB, LabelSet, TEXT_RGB, cluster_specs};
use crate::render::overlay::LabelCount;
use crate::render::poster_text;
use crate::render::{Camera, Scene};
use crate::safe_output::is_stdout;

use super::AtomicFile;
use super::png::{Background, PngStyle, TextBlock, load_clusters, page};
use super::xml::escape as xml_escape;

/// Page width when `--width` is not given: a screen's, where labels and
/// outlines have their on-screen size.
pub const DEFAULT_WIDTH: u32 = 1600;
/// The thumbnail level copied or embedded.
const IMAGE_LEVEL: u32 = 256;
/// What a viewer without the shaping font falls back to.
const FALLBACK_FAMILY: &str = "sans-serif";
/// CSS pixels per inch: the PDF page's unit (a 1600 px page is 1200 pt wide).
const CSS_DPI: f32 = 96.0;
/// Layer names, bottom to top (the editor's layer panel shows them).
pub const LAYERS: [&str; 6] = ["Images", "Hulls", "Labels", "Captions", "Legend", "Title"];

/// What was written.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSummary {
    pub width: u32,
    pub height: u32,
    /// The page's printed size in millimetres (`--dpi`).
    pub millimetres: Option<(f32, f32)>,
    pub images: usize,
    /// Images drawn as a flat rectangle (no thumbnail).
    pub placeholders: usize,
    /// The cluster labels asked for (`--labels`) and how many found room.
    pub labels: Option<LabelCount>,
    /// The folder of linked thumbnails, when images are linked.
    pub image_folder: Option<PathBuf>,
}

impl std::fmt::Display for VectorSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{} px page", self.width, self.height)?;
        if let Some((w, h)) = self.millimetres {
            write!(f, " ({w:.0} × {h:.0} mm)")?;
        }
        write!(f, ", layers {}", LAYERS.join(", "))?;
        if let Some(name) = self.image_folder.as_ref().and_then(|p| p.file_name()) {
            write!(
                f,
                "; ship {} with the page (or give --embed for one file)",
                name.to_string_lossy()
            )?;
        }
        if self.placeholders > 0 {
            write!(
                f,
                "; {} of {} images as flat rectangles (no thumbnail yet: run `tagscape fetch`)",
                self.placeholders, self.images
            )?;
        }
        Ok(())
    }
}

/// How a label's halo is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Halo {
    /// A clone (`<use>`) of the text, stroked, under it: every editor and
    /// renderer draws it, and editing the name edits the halo.
    Clone,
    /// One `<text>` stroked under its fill (`paint-order`, SVG 2): what the
    /// PDF gets, so its text is there once (Illustrator and cairo ignore
    /// `paint-order` and paint the stroke over the letters).
    PaintOrder,
}

/// How the page refers to each image.
enum ImageRefs {
    /// Copied into `folder`; hrefs are `href_prefix` + file name.
    Linked {
        folder: PathBuf,
        href_prefix: String,
    },
    Embedded,
}

/// Writes the SVG page to `out`; images embedded when `embed` (or when
/// `out` is stdout, which has no folder beside it).
pub fn write_svg(
    project: &Project,
    out: &Path,
    width: Option<u32>,
    height: Option<u32>,
    style: &PngStyle,
    embed: bool,
) -> Result<VectorSummary> {
    let refs = if embed || is_stdout(out) {
        ImageRefs::Embedded
    } else {
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "map".into());
        let name = format!("{stem}_images");
        ImageRefs::Linked {
            folder: out.with_file_name(&name),
            href_prefix: format!("{name}/"),
        }
    };
    // Opened first: an unwritable --out fails before any image is copied.
    let mut file = AtomicFile::create(out)?;
    let (svg, mut summary) = page_svg(project, width, height, style, &refs, Halo::Clone)?;
    if let ImageRefs::Linked { folder, .. } = refs {
        summary.image_folder = Some(folder);
    }
    file.write_all(svg.as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    Ok(summary)
}

/// Writes the same page as a PDF (images embedded, text as text).
pub fn write_pdf(
    project: &Project,
    out: &Path,
    width: Option<u32>,
    height: Option<u32>,
    style: &PngStyle,
) -> Result<VectorSummary> {
    let mut file = AtomicFile::create(out)?;
    let (svg, summary) = page_svg(
        project,
        width,
        height,
        style,
        &ImageRefs::Embedded,
        Halo::PaintOrder,
    )?;
    let pdf = svg_to_pdf(&svg)?;
    file.write_all(&pdf)
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()?;
    Ok(summary)
}

/// Converts an SVG page (self-contained: embedded images) to PDF bytes.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>> {
    use svg2pdf::usvg;
    let mut options = usvg::Options {
        dpi: CSS_DPI,
        ..usvg::Options::default()
    };
    options.fontdb_mut().load_system_fonts();
    if options.fontdb.is_empty() {
        tracing::warn!(
            "no system font found: the PDF's text is left out (install fonts-dejavu-core)"
        );
    }
    let tree = usvg::Tree::from_str(svg, &options).context("the SVG page does not parse")?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: CSS_DPI },
    )
    .map_err(|e| anyhow::anyhow!("cannot convert the page to PDF: {e}"))
}

/// The SVG text of the page, and what it holds.
fn page_svg(
    project: &Project,
    width: Option<u32>,
    height: Option<u32>,
    style: &PngStyle,
    refs: &ImageRefs,
    halo: Halo,
) -> Result<(String, VectorSummary)> {
    let width = width.unwrap_or(DEFAULT_WIDTH);
    let scene = Scene::from_project(project)?;
    let Some(bounds) = scene.bounds(false) else {
        anyhow::bail!(
            "project {} has no images to draw: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        );
    };
    // All of them: the parts not asked for are hidden layers.
    let clusters = load_clusters(project, style, true)?;
    // The title and legend are shaped as the PNG shapes them, on the CPU.
    let mut fonts: Option<FontSystem> = None;
    let page = page(project, &bounds, width, height, style, &clusters, |spans| {
        let fonts = fonts.get_or_insert_with(FontSystem::new);
        fonts.db().faces().next()?;
        Some(poster_text::shape(fonts, spans))
    })?;
    let mut fonts = fonts.unwrap_or_else(FontSystem::new);
    // A legend not asked for: shaped all the same, over the map's top right.
    let legend = match &page.legend {
        Some(_) => None,
        None if clusters.is_empty() => None,
        None if fonts.db().faces().next().is_none() => None,
        None => {
            let spans = super::png::legend_spans(&clusters, page.scale, page.ink);
            let (shaped, size) = poster_text::shape(&mut fonts, &spans);
            let margin = super::png::margin(page.width);
            Some(TextBlock {
                spans,
                shaped,
                size,
                at: Vec2::new(page.width as f32 - margin - size.x, margin),
            })
        }
    };
    let labels = LabelSet::new(cluster_specs(&clusters), page.scale);
    let (w, h) = (page.width, page.height);
    let millimetres = style.dpi.map(|dpi| {
        let mm = |px: u32| px as f32 * 25.4 / dpi as f32;
        (mm(w), mm(h))
    });
    let (size_w, size_h) = match millimetres {
        Some((mw, mh)) => (format!("{mw:.3}mm"), format!("{mh:.3}mm")),
        None => (w.to_string(), h.to_string()),
    };

    let mut svg = String::with_capacity(256 * scene.sprites.len() + 4096);
    let _ = writeln!(
        svg,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
            "xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" ",
            "width=\"{sw}\" height=\"{sh}\" viewBox=\"0 0 {w} {h}\">"
        ),
        sw = size_w,
        sh = size_h,
        w = w,
        h = h
    );
    if let Some(fill) = background_fill(style.background) {
        let _ = writeln!(
            svg,
            "<rect id=\"background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"/>"
        );
    }
    let (images, placeholders) = images_layer(&scene, &page.camera, refs)?;
    layer(&mut svg, LAYERS[0], true, &images);
    layer(
        &mut svg,
        LAYERS[1],
        style.hulls,
        &hulls_layer(&clusters, &page.camera, page.scale),
    );
    let drawn = labels
        .as_ref()
        .map(|set| set.drawn(&page.camera, Some(page.label_area)))
        .unwrap_or_default();
    let label_fonts = labels.as_ref().map(LabelSet::font_system);
    layer(
        &mut svg,
        LAYERS[2],
        style.labels,
        &labels_layer(&drawn, &clusters, label_fonts, page.scale, halo),
    );
    layer(
        &mut svg,
        LAYERS[3],
        style.labels,
        &captions_layer(&drawn, &clusters, label_fonts, page.scale, halo),
    );
    let mut legend_text = String::new();
    if let Some(block) = page.legend.as_ref().or(legend.as_ref()) {
        text_block(&mut legend_text, block, &fonts);
    }
    layer(&mut svg, LAYERS[4], style.legend, &legend_text);
    let mut title_text = String::new();
    if let Some(block) = &page.title {
        text_block(&mut title_text, block, &fonts);
    }
    layer(&mut svg, LAYERS[5], page.title.is_some(), &title_text);
    svg.push_str("</svg>\n");

    let label_count = match &labels {
        Some(set) if style.labels => Some(LabelCount {
            wanted: set.located(),
            unplaced: set.unplaced(&page.camera, Some(page.label_area)),
        }),
        _ => None,
    };
    Ok((
        svg,
        VectorSummary {
            width: w,
            height: h,
            millimetres,
            images: scene.sprites.len(),
            placeholders,
            labels: label_count,
            image_folder: None,
        },
    ))
}

/// The page's background colour; `None` for a transparent page.
fn background_fill(background: Background) -> Option<String> {
    let (rgb, alpha) = background.clear();
    (alpha > 0.0).then(|| color_hex(rgb))
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

/// Each image at its place with its drawn size (the box has the image's
/// aspect, never under a pixel, as the sprite shader draws it).
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
        let half = (sprite.half_extent() * camera.zoom).max(Vec2::splat(0.5));
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
                    "<image x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" preserveAspectRatio=\"none\" xlink:href=\"{}\"/>",
                    xml_escape(&href)
                );
            }
            None => {
                placeholders += 1;
                let _ = writeln!(
                    out,
                    "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"{}\"/>",
                    color_hex(unpack_rgb(sprite.color))
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

/// Each visible cluster's hull as a filled path outlined as the renderer
/// outlines it (centred on the edge, mitred).
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
            "<path id=\"hull-{}\" d=\"{}\" fill=\"{color}\" fill-opacity=\"{FILL_ALPHA}\" fill-rule=\"evenodd\" stroke=\"{color}\" stroke-opacity=\"{OUTLINE_ALPHA}\" stroke-width=\"{:.2}\" stroke-linejoin=\"miter\" stroke-miterlimit=\"{MITER_LIMIT}\"><title>{}</title></path>",
            c.id,
            d.trim_end(),
            OUTLINE_PX * scale,
            xml_escape(c.name.trim())
        );
    }
    out
}

/// `'Family', sans-serif` for the font that shaped `glyph_font`.
fn font_family(fonts: Option<&FontSystem>, glyph_font: Option<fontdb::ID>) -> String {
    let name = fonts
        .zip(glyph_font)
        .and_then(|(f, id)| f.db().face(id))
        .and_then(|face| face.families.first())
        .map(|(name, _)| name.replace(['\'', '"'], ""));
    match name {
        Some(name) => xml_escape(&format!("'{name}', {FALLBACK_FAMILY}")).into_owned(),
        None => FALLBACK_FAMILY.into(),
    }
}

/// The first line's baseline below its top, and the font of its first glyph.
fn first_line(buffer: &Buffer) -> (f32, Option<fontdb::ID>) {
    buffer.layout_runs().next().map_or((0.0, None), |run| {
        (run.line_y, run.glyphs.first().map(|g| g.font_id))
    })
}

/// A centred text with a halo, as the renderer draws labels.
struct HaloText<'a> {
    id: &'a str,
    center_x: f32,
    baseline: f32,
    px: f32,
    family: &'a str,
    body: &'a str,
}

impl HaloText<'_> {
    fn write(&self, out: &mut String, scale: f32, halo: Halo) {
        let Self {
            id,
            center_x,
            baseline,
            px,
            family,
            body,
        } = self;
        let (ink, glow) = (color_hex(TEXT_RGB), color_hex(HALO_RGB));
        let stroke = format!(
            "stroke=\"{glow}\" stroke-width=\"{:.2}\" stroke-linejoin=\"round\"",
            2.0 * HALO_PX * scale
        );
        let text = |attrs: &str| {
            format!(
                "<text id=\"{id}\" x=\"{center_x:.2}\" y=\"{baseline:.2}\" font-family=\"{family}\" font-size=\"{px:.2}\" text-anchor=\"middle\"{attrs}>{}</text>",
                xml_escape(body)
            )
        };
        let _ = match halo {
            Halo::PaintOrder => writeln!(
                out,
                "{}",
                text(&format!(" fill=\"{ink}\" {stroke} paint-order=\"stroke\""))
            ),
            // The text takes its fill from the group, the clone its own.
            Halo::Clone => writeln!(
                out,
                "<g fill=\"{ink}\"><use xlink:href=\"#{id}\" fill=\"{glow}\" {stroke}/>{}</g>",
                text("")
            ),
        };
    }
}

/// The text a label's buffer holds.
fn buffer_text(buffer: &Buffer) -> String {
    let lines: Vec<&str> = buffer.lines.iter().map(|l| l.text()).collect();
    lines.join(" ")
}

/// Each placed cluster name where the PNG draws it.
fn labels_layer(
    drawn: &[DrawnLabel<'_>],
    clusters: &[Cluster],
    fonts: Option<&FontSystem>,
    scale: f32,
    halo: Halo,
) -> String {
    let mut out = String::new();
    for label in drawn {
        let (baseline, font) = first_line(label.buffer);
        // A label's key is its cluster's index (`cluster_specs`).
        let id = clusters.get(label.key).map_or(0, |c| c.id);
        HaloText {
            id: &format!("label-{id}"),
            center_x: label.top_left.x + label.size.x * label.shrink * 0.5,
            baseline: label.top_left.y + baseline * label.shrink,
            px: label.px * label.shrink,
            family: &font_family(fonts, font),
            body: &buffer_text(label.buffer),
        }
        .write(&mut out, scale, halo);
    }
    out
}

/// Each placed cluster's caption (when it has one) under its name.
fn captions_layer(
    drawn: &[DrawnLabel<'_>],
    clusters: &[Cluster],
    fonts: Option<&FontSystem>,
    scale: f32,
    halo: Halo,
) -> String {
    let mut out = String::new();
    for label in drawn {
        // A label's key is its cluster's index (`cluster_specs`).
        let Some(cluster) = clusters.get(label.key) else {
            continue;
        };
        let Some(caption) = cluster
            .caption
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        let px = (label.px * label.shrink * 0.55).max(10.0 * scale);
        let bottom = label.top_left.y + label.size.y * label.shrink;
        HaloText {
            id: &format!("caption-{}", cluster.id),
            center_x: label.top_left.x + label.size.x * label.shrink * 0.5,
            baseline: bottom + px,
            px,
            family: &font_family(fonts, first_line(label.buffer).1),
            body: caption,
        }
        .write(&mut out, scale, halo);
    }
    out
}

/// A block of poster text (title, legend) line by line as the PNG lays it
/// out: one `<text>` per line, one `<tspan>` per run of one span.
fn text_block(out: &mut String, block: &TextBlock<Buffer>, fonts: &FontSystem) {
    for run in block.shaped.layout_runs() {
        let glyphs = run.glyphs;
        let family = font_family(Some(fonts), glyphs.first().map(|g| g.font_id));
        let mut line = String::new();
        let mut i = 0;
        while i < glyphs.len() {
            let span_index = glyphs[i].metadata;
            let j = i + glyphs[i..]
                .iter()
                .take_while(|g| g.metadata == span_index)
                .count();
            let part = &glyphs[i..j];
            i = j;
            let start = part.iter().map(|g| g.start).min().unwrap_or(0);
            let end = part.iter().map(|g| g.end).max().unwrap_or(0);
            let text = run.text.get(start..end).unwrap_or("").trim_end();
            let Some(span) = block.spans.get(span_index) else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            let x = part.iter().map(|g| g.x).fold(f32::INFINITY, f32::min);
            let _ = write!(
                line,
                "<tspan x=\"{:.2}\" font-size=\"{:.2}\"{} fill=\"{}\">{}</tspan>",
                block.at.x + x,
                span.px,
                if span.bold {
                    " font-weight=\"bold\""
                } else {
                    ""
                },
                color_hex(span.rgb),
                xml_escape(text)
            );
        }
        if !line.is_empty() {
            let _ = writeln!(
                out,
                "<text y=\"{:.2}\" font-family=\"{family}\" xml:space=\"preserve\">{line}</text>",
                block.at.y + run.line_y
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::poster_text::Span;

    #[test]
    fn sprite_colour_unpacks_to_rgb() {
        let packed = crate::render::scene::pack_rgba(0x123456, 255);
        assert_eq!(unpack_rgb(packed), 0x123456);
    }

    #[test]
    fn a_transparent_page_has_no_background() {
        assert_eq!(
            background_fill(Background::White).as_deref(),
            Some("#ffffff")
        );
        assert_eq!(
            background_fill(Background::Dark).as_deref(),
            Some("#1e1e1e")
        );
        assert_eq!(background_fill(Background::Transparent), None);
    }

    #[test]
    fn poster_text_becomes_lines_of_spans_where_the_png_puts_them() {
        let mut fonts = FontSystem::new();
        if fonts.db().faces().next().is_none() {
            panic!("this test needs a system font (fonts-dejavu-core)");
        }
        let spans = vec![
            Span {
                text: "Clusters\n".into(),
                px: 15.0,
                rgb: 0x1a1a1a,
                bold: true,
            },
            Span {
                text: "■ ".into(),
                px: 15.0,
                rgb: 0xff0000,
                bold: false,
            },
            Span {
                text: "Boats & <sea> (3)\n".into(),
                px: 15.0,
                rgb: 0x1a1a1a,
                bold: false,
            },
        ];
        let (shaped, size) = poster_text::shape(&mut fonts, &spans);
        let block = TextBlock {
            spans,
            shaped,
            size,
            at: Vec2::new(100.0, 50.0),
        };
        let mut out = String::new();
        text_block(&mut out, &block, &fonts);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].contains("font-weight=\"bold\"") && lines[0].contains(">Clusters<"));
        assert!(
            lines[1].contains("fill=\"#ff0000\">■</tspan>"),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains(">Boats &amp; &lt;sea&gt; (3)</tspan>"));
        // The name's run starts right of the swatch, both from the block's left.
        let xs: Vec<f32> = lines[1]
            .split("x=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        assert_eq!(xs.len(), 2);
        assert!(
            (xs[0] - 100.0).abs() < 0.01 && xs[1] > xs[0] + 5.0,
            "{xs:?}"
        );
        // The second line's baseline is lower than the first's, both inside the block.
        let ys: Vec<f32> = lines
            .iter()
            .map(|l| {
                let s = &l[l.find("y=\"").unwrap() + 3..];
                s[..s.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert!(
            ys[0] > 50.0 && ys[1] > ys[0] && ys[1] < 50.0 + size.y,
            "{ys:?}"
        );
    }
}
