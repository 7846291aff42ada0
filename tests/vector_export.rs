//! `export --format svg|pdf`: the vector page of a two-cluster project. The
//! SVG has the five named Inkscape layers, the cluster names as `<text>`,
//! images linked to copies beside it (or embedded with `--embed`), and
//! rendered with resvg it is close to the PNG export of the same project;
//! the PDF opens in poppler and its text holds the cluster names.
//!
//! The PNG comparison needs a Vulkan driver (`mesa-vulkan-drivers`); the PDF
//! test needs `pdftotext` (`poppler-utils`); labels need a system font
//! (`fonts-dejavu-core`).

use std::path::{Path, PathBuf};

use tagscape::cluster::{ClusterSettings, annotations, load_clusters};
use tagscape::export::svg::LAYERS;
use tagscape::export::{ExportFormat, ExportOptions, export};
use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::{Placement, save_positions};
use tagscape::project::Project;
use tagscape::render::LEVEL_CELLS;

const WIDTH: u32 = 800;

fn node(kind: NodeKind, id: &str, image_id: Option<i64>) -> Node {
    Node {
        kind,
        id: id.into(),
        label: id.into(),
        image_id,
        frequency: 1,
    }
}

/// Two groups of 12 images sharing no tag, in a 4×3 grid each: red
/// "harbour" images on the left, blue "forest" images on the right,
/// clustered and renamed "Harbour" and "Forest & Moss" (an ampersand the
/// SVG must escape).
fn two_cluster_project(dir: &Path) -> Project {
    let mut project = Project::init(dir).unwrap();
    let groups: [(&str, [&str; 3], f32, [u8; 3]); 2] = [
        ("harbour", ["harbour", "boat", "sea"], -200.0, [220, 60, 40]),
        ("forest", ["forest", "tree", "moss"], 110.0, [40, 80, 220]),
    ];
    let mut nodes = Vec::new();
    let mut placements = Vec::new();
    for (g, (name, _, x0, rgb)) in groups.iter().enumerate() {
        for k in 0..12 {
            let i = g * 12 + k;
            let hash = format!("{:064x}", i + 1);
            for level in LEVEL_CELLS {
                let (w, h) = tagscape::fetch::thumbnail::fit(300, 300, level);
                let path = project
                    .dir()
                    .join(tagscape::fetch::store::thumb_path(level, &hash, "png"));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                image::RgbImage::from_pixel(w, h, image::Rgb(*rgb))
                    .save(&path)
                    .unwrap();
            }
            let url = format!("https://example.org/{name}/{k}.jpg");
            let mean = i64::from(rgb[0]) << 16 | i64::from(rgb[1]) << 8 | i64::from(rgb[2]);
            project
                .conn()
                .execute(
                    "INSERT INTO images(url, status, content_hash, thumb_ext, width, height, mean_color) VALUES (?1, 'done', ?2, 'png', 300, 300, ?3)",
                    (&url, &hash, mean),
                )
                .unwrap();
            let id = project.conn().last_insert_rowid();
            nodes.push(node(NodeKind::Image, &url, Some(id)));
            placements.push(Placement {
                x: x0 + 30.0 * (k % 4) as f32,
                y: -30.0 + 30.0 * (k / 4) as f32,
                size: 10.0,
            });
        }
    }
    let mut edges = Vec::new();
    for (g, (_, tags, x0, _)) in groups.iter().enumerate() {
        for tag in tags {
            let t = nodes.len();
            nodes.push(node(NodeKind::Tag, tag, None));
            placements.push(Placement {
                x: x0 + 45.0,
                y: 0.0,
                size: 2.0,
            });
            for k in 0..12 {
                edges.push(Edge {
                    source: (g * 12 + k) as u32,
                    target: t as u32,
                    weight: 1.0,
                });
            }
        }
    }
    let graph = Graph::new(nodes, 24, edges);
    graph.save(&mut project).unwrap();
    save_positions(&mut project, &graph, &placements).unwrap();
    let settings = ClusterSettings {
        min_size: 1,
        ..ClusterSettings::default()
    };
    tagscape::cluster::run_in(&mut project, &settings).unwrap();
    for c in load_clusters(&project).unwrap() {
        let first = c.labels.first().map(|t| t.tag.clone()).unwrap_or_default();
        let name = if ["harbour", "boat", "sea"].contains(&first.as_str()) {
            "Harbour"
        } else {
            "Forest & Moss"
        };
        annotations::rename(&mut project, c.id, Some(name)).unwrap();
    }
    project
}

fn export_to(project: &Project, format: ExportFormat, out: &Path, embed: bool) {
    let opts = ExportOptions {
        width: Some(WIDTH),
        hulls: true,
        labels: true,
        embed,
        ..Default::default()
    };
    export(project, format, out, &opts).unwrap();
}

/// The SVG rendered by resvg at its own size, images resolved beside it.
fn render_svg(path: &Path) -> image::RgbaImage {
    let mut options = resvg::usvg::Options {
        resources_dir: path.parent().map(Path::to_path_buf),
        ..Default::default()
    };
    options.fontdb_mut().load_system_fonts();
    let text = std::fs::read_to_string(path).unwrap();
    let tree = resvg::usvg::Tree::from_str(&text, &options).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, Default::default(), &mut pixmap.as_mut());
    // tiny-skia's pixels are premultiplied; the page is opaque (white background).
    image::RgbaImage::from_raw(size.width(), size.height(), pixmap.take()).unwrap()
}

/// (tag name, attributes, text) of every element of an XML document.
fn elements(xml: &str) -> Vec<(String, Vec<(String, String)>, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out: Vec<(String, Vec<(String, String)>, String)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            ev @ (quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                let (e, is_start) = match &ev {
                    quick_xml::events::Event::Start(e) => (e, true),
                    quick_xml::events::Event::Empty(e) => (e, false),
                    _ => unreachable!(),
                };
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().unwrap().into_owned(),
                        )
                    })
                    .collect();
                out.push((name, attrs, String::new()));
                if is_start {
                    open.push(out.len() - 1);
                }
            }
            quick_xml::events::Event::Text(t) => {
                if let Some(&i) = open.last() {
                    out[i].2.push_str(&t.decode().unwrap());
                }
            }
            quick_xml::events::Event::GeneralRef(r) => {
                if let Some(&i) = open.last() {
                    let name = r.decode().unwrap();
                    out[i].2.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unexpected entity {other}"),
                    });
                }
            }
            quick_xml::events::Event::End(_) => {
                open.pop();
            }
            _ => {}
        }
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn svg_has_named_layers_text_labels_and_linked_images() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let out = tmp.path().join("page").join("map.svg");
    export_to(&project, ExportFormat::Svg, &out, false);
    let xml = std::fs::read_to_string(&out).unwrap();
    let els = elements(&xml);

    let layers: Vec<&str> = els
        .iter()
        .filter(|(n, a, _)| n == "g" && attr(a, "inkscape:groupmode") == Some("layer"))
        .filter_map(|(_, a, _)| attr(a, "inkscape:label"))
        .collect();
    assert_eq!(layers, LAYERS);

    let texts: Vec<&str> = els
        .iter()
        .filter(|(n, _, _)| n == "text")
        .map(|(_, _, t)| t.as_str())
        .collect();
    assert!(texts.contains(&"Harbour"), "{texts:?}");
    assert!(texts.contains(&"Forest & Moss"), "{texts:?}");

    let hulls = els
        .iter()
        .filter(|(n, a, _)| n == "path" && attr(a, "d").is_some_and(|d| d.starts_with('M')))
        .count();
    assert_eq!(hulls, 2);

    let hrefs: Vec<&str> = els
        .iter()
        .filter(|(n, _, _)| n == "image")
        .filter_map(|(_, a, _)| attr(a, "xlink:href"))
        .collect();
    assert_eq!(hrefs.len(), 24);
    for href in &hrefs {
        assert!(href.starts_with("map_images/"), "{href}");
        let file = out.parent().unwrap().join(href);
        assert!(file.is_file(), "{} missing", file.display());
    }
}

/// Share of pixels whose channels all lie within `tolerance` of the other
/// picture's, and the mean absolute difference per channel.
fn agreement(a: &image::RgbaImage, b: &image::RgbaImage, tolerance: u8) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut close = 0usize;
    let mut diff = 0u64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d: Vec<u8> = (0..3).map(|c| p.0[c].abs_diff(q.0[c])).collect();
        diff += d.iter().map(|&v| u64::from(v)).sum::<u64>();
        if d.iter().all(|&v| v <= tolerance) {
            close += 1;
        }
    }
    let n = (a.width() * a.height()) as f64;
    (close as f64 / n, diff as f64 / (3.0 * n))
}

#[test]
fn svg_renders_close_to_the_png_export_linked_and_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let png = tmp.path().join("map.png");
    export_to(&project, ExportFormat::Png, &png, false);
    let png = image::open(&png).unwrap().to_rgba8();

    let linked = tmp.path().join("linked.svg");
    export_to(&project, ExportFormat::Svg, &linked, false);
    let embedded = tmp.path().join("alone").join("embedded.svg");
    export_to(&project, ExportFormat::Svg, &embedded, true);
    assert!(!tmp.path().join("alone").join("embedded_images").exists());
    assert!(
        std::fs::read_to_string(&embedded)
            .unwrap()
            .contains("xlink:href=\"data:image/png;base64,")
    );

    for svg in [&linked, &embedded] {
        let drawn = render_svg(svg);
        assert_eq!(drawn.dimensions(), png.dimensions());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vector-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let name: PathBuf = svg.with_extension("png").file_name().unwrap().into();
        drawn.save(dir.join(name)).unwrap();
        // Images, hulls and outlines match; text and antialiased edges differ
        // between the two rasterisers.
        let (share, mean) = agreement(&drawn, &png, 24);
        assert!(
            share > 0.97 && mean < 4.0,
            "{}: {share:.4} of pixels close, mean difference {mean:.2}",
            svg.display()
        );
        // The red and the blue images are where the PNG has them.
        let red = |img: &image::RgbaImage| {
            img.pixels()
                .filter(|p| p.0[0] > 180 && p.0[1] < 110 && p.0[2] < 100)
                .count()
        };
        let (r_svg, r_png) = (red(&drawn), red(&png));
        assert!(r_png > 2000, "{r_png} red pixels in the PNG");
        assert!(
            r_svg.abs_diff(r_png) * 20 < r_png,
            "{r_svg} red pixels in the SVG, {r_png} in the PNG"
        );
    }
}

#[test]
fn pdf_opens_and_its_text_holds_the_cluster_names() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let out = tmp.path().join("map.pdf");
    export_to(&project, ExportFormat::Pdf, &out, false);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let run = std::process::Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("{e} (this test needs pdftotext: apt-get install poppler-utils)")
        });
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("Harbour"), "{text:?}");
    assert!(text.contains("Forest & Moss"), "{text:?}");
    let info = std::process::Command::new("pdfinfo")
        .arg(&out)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Pages:           1"), "{info}");
}
