//! SVG images rasterised by resvg, as hostile input: nothing outside the
//! document is ever read (no files, no URLs, no fonts it names by path), and
//! the work is bounded before rendering (element count after `<use>`
//! expansion, embedded rasters, pattern tiles).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use image::RgbaImage;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, ImageKind, Node, Paint};

use super::Failure;
use super::sniff::{self, Format};
use super::thumbnail::{DecodeLimits, fit};

/// Elements an SVG may hold once every `<use>` is expanded: a real drawing
/// has thousands; a `<use>` chain ten deep makes billions out of a few lines.
pub const MAX_NODES: u64 = 1_000_000;

/// Bytes the parsed document and its render tree take per byte of SVG text,
/// at most (a path-heavy 4 MB drawing took about 14): what decoding reserves.
const TREE_BYTES_PER_BYTE: u64 = 16;

/// What decoding `bytes` may take at its peak, for the shared budget.
pub fn decode_memory(bytes: &[u8], target: u32) -> u64 {
    let canvas = u64::from(target) * u64::from(target) * 4;
    // The canvas, its straight-alpha copy and layers up to 4× the canvas.
    (bytes.len() as u64).saturating_mul(TREE_BYTES_PER_BYTE) + canvas * 6
}

/// The rasterised image (longest side at most `target`, never more than the
/// SVG's own size) and the SVG's own size in pixels.
pub fn rasterise(
    bytes: &[u8],
    limits: &DecodeLimits,
    target: u32,
) -> Result<(RgbaImage, u32, u32), Failure> {
    let needed = decode_memory(bytes, target);
    if needed > limits.max_alloc {
        return Err(Failure::new(
            "too_many_pixels",
            format!(
                "parsing the {} KB SVG could take {} MB, more than the {} MB allowed",
                bytes.len() >> 10,
                needed >> 20,
                limits.max_alloc >> 20
            ),
        ));
    }
    let bad = |what: String| Failure::new("decode_error", format!("the SVG {what}"));
    let text = std::str::from_utf8(bytes)
        .map_err(|e| bad(format!("is not UTF-8 text (at byte {})", e.valid_up_to())))?;
    let xml = roxmltree::ParsingOptions {
        // Entities are expanded with roxmltree's own limits (billion laughs).
        allow_dtd: true,
        nodes_limit: u32::try_from(MAX_NODES).unwrap_or(u32::MAX),
    };
    let doc = roxmltree::Document::parse_with_options(text.trim_start_matches('\u{feff}'), xml)
        .map_err(|e| bad(format!("does not parse: {e}")))?;
    let expanded = expanded_nodes(&doc);
    if expanded > MAX_NODES {
        return Err(Failure::new(
            "too_many_pixels",
            format!("the SVG expands to more than {MAX_NODES} elements (through <use> references)"),
        ));
    }
    let options = options();
    let tree = usvg::Tree::from_xmltree(&doc, &options)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    drop(doc);
    let size = tree.size();
    // Its own size, as a raster of that many pixels would have.
    let side = |v: f32| (v.ceil() as u32).max(1);
    let (width, height) = (side(size.width()), side(size.height()));
    let (w, h) = fit(width, height, target);
    let mut pixmap = Pixmap::new(w, h).ok_or_else(|| bad(format!("has a size of {w}×{h}")))?;
    let transform = Transform::from_scale(w as f32 / size.width(), h as f32 / size.height());
    let tile_limit = (u64::from(w) * u64::from(h) * 4).max(1 << 20);
    check_patterns(tree.root(), transform, tile_limit)?;
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    let mut rgba = pixmap.take();
    // tiny-skia keeps premultiplied alpha; the pyramid wants straight alpha.
    for px in rgba.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a != 0 && a != 255 {
            for c in &mut px[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
    let image = RgbaImage::from_raw(w, h, rgba).ok_or_else(|| bad("canvas size".into()))?;
    Ok((image, width, height))
}

/// Options that keep the renderer inside the document: `<image>` links to
/// files or URLs are dropped, embedded rasters only kept when their header
/// is small, nested SVGs dropped; text uses the system fonts, loaded once.
fn options() -> usvg::Options<'static> {
    let limits = DecodeLimits {
        max_pixels: 16_000_000,
        max_alloc: 64 << 20,
    };
    usvg::Options {
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_string: Box::new(|_, _| None),
            resolve_data: Box::new(move |_, data, _| embedded_raster(data, &limits)),
        },
        fontdb: fonts(),
        ..usvg::Options::default()
    }
}

/// An embedded (`data:`) raster resvg may decode: its format by its bytes,
/// its size from its header within `limits` (resvg decodes it at full size).
fn embedded_raster(data: Arc<Vec<u8>>, limits: &DecodeLimits) -> Option<ImageKind> {
    let format = sniff::sniff(&data)?;
    let (w, h) =
        image::ImageReader::with_format(std::io::Cursor::new(&data[..]), format.image_format()?)
            .into_dimensions()
            .ok()?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels || pixels * 4 > limits.max_alloc {
        return None;
    }
    Some(match format {
        Format::Jpeg => ImageKind::JPEG(data),
        Format::Png => ImageKind::PNG(data),
        Format::Gif => ImageKind::GIF(data),
        Format::Webp => ImageKind::WEBP(data),
        _ => return None,
    })
}

/// The system fonts, for SVG text (loading them takes a moment: once).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

/// Elements of the document once every `<use>` is replaced by what it
/// references (as usvg does), saturating. References that loop count once.
fn expanded_nodes(doc: &roxmltree::Document) -> u64 {
    let ids: HashMap<&str, roxmltree::NodeId> = doc
        .descendants()
        .filter_map(|n| Some((n.attribute("id")?, n.id())))
        .collect();
    let target = |n: roxmltree::Node| -> Option<roxmltree::NodeId> {
        if !n.has_tag_name("use") {
            return None;
        }
        let href = n
            .attribute(("http://www.w3.org/1999/xlink", "href"))
            .or_else(|| n.attribute("href"))?;
        ids.get(href.trim().strip_prefix('#')?).copied()
    };
    // An explicit stack: documents may nest deeper than the thread's stack.
    let mut size: HashMap<roxmltree::NodeId, u64> = HashMap::new();
    let mut open = HashSet::new();
    let mut stack = vec![(doc.root_element().id(), false)];
    while let Some((id, children_done)) = stack.pop() {
        let node = doc.get_node(id).expect("an id of this document");
        let edges = node
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.id())
            .chain(target(node));
        if children_done {
            let total = edges.fold(1u64, |sum, c| {
                sum.saturating_add(size.get(&c).copied().unwrap_or(0))
            });
            size.insert(id, total);
            open.remove(&id);
        } else if !size.contains_key(&id) && open.insert(id) {
            stack.push((id, true));
            // A node still open is a loop: it adds nothing (usvg skips it).
            stack.extend(
                edges
                    .filter(|c| !size.contains_key(c) && !open.contains(c))
                    .map(|c| (c, false)),
            );
        }
    }
    size.get(&doc.root_element().id()).copied().unwrap_or(1)
}

/// Refuses a pattern whose tile, at the scale it is drawn, would be larger
/// than `limit` bytes: resvg renders a whole tile before tiling it, so a
/// `patternTransform="scale(1000)"` would otherwise allocate gigabytes.
fn check_patterns(group: &usvg::Group, ts: Transform, limit: u64) -> Result<(), Failure> {
    for node in group.children() {
        match node {
            Node::Group(g) => {
                let ts = ts.pre_concat(g.transform());
                check_patterns(g, ts, limit)?;
                if let Some(mask) = g.mask() {
                    check_patterns(mask.root(), ts, limit)?;
                }
                for filter in g.filters() {
                    for primitive in filter.primitives() {
                        if let usvg::filter::Kind::Image(image) = primitive.kind() {
                            check_patterns(image.root(), ts, limit)?;
                        }
                    }
                }
            }
            Node::Path(path) => {
                let paints = [
                    path.fill().map(|f| f.paint()),
                    path.stroke().map(|s| s.paint()),
                ];
                for paint in paints.into_iter().flatten() {
                    if let Paint::Pattern(pattern) = paint {
                        let (sx, sy) = ts.pre_concat(pattern.transform()).get_scale();
                        let rect = pattern.rect();
                        let tile =
                            f64::from(rect.width() * sx) * f64::from(rect.height() * sy) * 4.0;
                        if tile > limit as f64 {
                            return Err(Failure::new(
                                "too_many_pixels",
                                format!(
                                    "an SVG pattern would be drawn as a {} MB tile",
                                    (tile / f64::from(1 << 20)).round()
                                ),
                            ));
                        }
                        check_patterns(pattern.root(), Transform::from_scale(sx, sy), limit)?;
                    }
                }
            }
            Node::Text(text) => check_patterns(text.flattened(), ts, limit)?,
            Node::Image(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_chains_are_counted_as_expanded() {
        let mut svg = String::from(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><g id="l0"><rect width="1" height="1"/></g>"#,
        );
        for level in 1..=9 {
            svg.push_str(&format!(r#"<g id="l{level}">"#));
            for _ in 0..10 {
                svg.push_str(&format!(r##"<use xlink:href="#l{}"/>"##, level - 1));
            }
            svg.push_str("</g>");
        }
        svg.push_str(
            r##"<use href="#l9"/><use href="#loop"/><g id="loop"><use href="#loop"/></g></svg>"##,
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(expanded_nodes(&doc) > 1_000_000_000);
        let failure =
            rasterise(svg.as_bytes(), &DecodeLimits::default(), 256).expect_err("refused");
        assert_eq!(failure.reason, "too_many_pixels");
        let small = r##"<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><rect width="1" height="1"/></g><use href="#a"/></svg>"##;
        let doc = roxmltree::Document::parse(small).unwrap();
        // svg, g, rect, use + its copy of g and rect.
        assert_eq!(expanded_nodes(&doc), 6);
    }
}
