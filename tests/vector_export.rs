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
use tagscape::export::png::PngStyle;
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

/// Hulls and labels on; `framed` adds a title and the legend.
fn options(embed: bool, framed: bool) -> ExportOptions {
    ExportOptions {
        width: Some(WIDTH),
        png: PngStyle {
            hulls: true,
            labels: true,
            legend: framed,
            title: framed.then(|| "Harbours and forests".to_string()),
            ..Default::default()
        },
        embed,
        ..Default::default()
    }
}

fn export_to(project: &Project, format: ExportFormat, out: &Path, embed: bool, framed: bool) {
    export(project, format, out, &options(embed, framed)).unwrap();
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

/// An element: tag name, attributes and text.
type Element = (String, Vec<(String, String)>, String);

/// Every element of an XML document.
fn elements(xml: &str) -> Vec<Element> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out: Vec<Element> = Vec::new();
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
                let name = e.name().as_ref().to_string();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
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
                    out[i].2.push_str(&t.xml10_content());
                }
            }
            quick_xml::events::Event::GeneralRef(r) => {
                if let Some(&i) = open.last() {
                    let name = r.xml10_content();
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

/// The XML of layer `label` (up to the next layer) and whether it is shown.
fn layer<'a>(xml: &'a str, label: &str) -> (&'a str, bool) {
    let start = xml
        .find(&format!("inkscape:label=\"{label}\""))
        .unwrap_or_else(|| panic!("no layer {label}"));
    let open = xml[..start].rfind("<g ").unwrap();
    let end = xml[start..]
        .find("inkscape:groupmode=\"layer\"")
        .map_or_else(
            || xml.rfind("</svg>").unwrap(),
            |next| xml[..start + next].rfind("<g ").unwrap(),
        );
    let tag_end = start + xml[start..].find('>').unwrap();
    let hidden = xml[open..tag_end].contains("display:none");
    (&xml[open..end], !hidden)
}

/// The text of every `<text>` and `<tspan>` of `xml`.
fn texts(xml: &str) -> Vec<String> {
    elements(xml)
        .into_iter()
        .filter(|(n, _, t)| (n == "text" || n == "tspan") && !t.is_empty())
        .map(|(_, _, t)| t)
        .collect()
}

#[test]
fn svg_has_named_layers_text_labels_and_linked_images() {
    let tmp = tempfile::tempdir().unwrap();
    let mut project = two_cluster_project(&tmp.path().join("study"));
    let harbour = load_clusters(&project)
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Harbour")
        .unwrap();
    annotations::set_caption(&mut project, harbour.id, Some("Boats <moored>")).unwrap();
    let out = tmp.path().join("page").join("map.svg");
    export_to(&project, ExportFormat::Svg, &out, false, true);
    let xml = std::fs::read_to_string(&out).unwrap();
    let els = elements(&xml);

    let layers: Vec<&str> = els
        .iter()
        .filter(|(n, a, _)| n == "g" && attr(a, "inkscape:groupmode") == Some("layer"))
        .filter_map(|(_, a, _)| attr(a, "inkscape:label"))
        .collect();
    assert_eq!(layers, LAYERS);
    for name in ["Images", "Hulls", "Labels", "Legend", "Title"] {
        assert!(layer(&xml, name).1, "layer {name} hidden");
    }

    let (labels, _) = layer(&xml, "Labels");
    let mut names = texts(labels);
    names.sort();
    assert_eq!(names, ["Forest & Moss", "Harbour"]);
    // The caption under its cluster's name, escaped.
    let (captions, shown) = layer(&xml, "Captions");
    assert!(shown);
    assert_eq!(texts(captions), ["Boats <moored>"]);
    let y = |xml: &str, id: &str| -> f32 {
        let el = elements(xml)
            .into_iter()
            .find(|(n, a, _)| n == "text" && attr(a, "id") == Some(id))
            .unwrap_or_else(|| panic!("no text {id}"));
        attr(&el.1, "y").unwrap().parse().unwrap()
    };
    let name_y = y(labels, &format!("label-{}", harbour.id));
    let caption_y = y(captions, &format!("caption-{}", harbour.id));
    assert!(caption_y > name_y + 10.0, "{caption_y} vs {name_y}");
    let legend = texts(layer(&xml, "Legend").0);
    assert!(legend.contains(&"Harbour (12)".to_string()), "{legend:?}");
    assert!(
        legend.contains(&"Forest & Moss (12)".to_string()),
        "{legend:?}"
    );
    assert_eq!(legend.first().map(String::as_str), Some("Clusters"));
    let title = texts(layer(&xml, "Title").0);
    assert_eq!(title[0], "Harbours and forests");
    assert!(
        title[1].starts_with("24 images · map: tagscape"),
        "{title:?}"
    );

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

#[test]
fn parts_not_asked_for_are_hidden_layers_and_take_no_room() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let plain = ExportOptions {
        width: Some(WIDTH),
        embed: true,
        ..Default::default()
    };
    let out = tmp.path().join("plain.svg");
    export(&project, ExportFormat::Svg, &out, &plain).unwrap();
    let xml = std::fs::read_to_string(&out).unwrap();
    for name in ["Hulls", "Labels", "Legend"] {
        let (body, shown) = layer(&xml, name);
        assert!(!shown, "layer {name} shown");
        assert!(
            body.contains("<path") || body.contains("<text"),
            "{name} empty"
        );
    }
    assert!(layer(&xml, "Images").1);
    // The hidden legend keeps no room: the map fills the width, so the page
    // is taller than one whose shown legend narrows the map.
    let height = |xml: &str| -> u32 {
        let svg = elements(xml)
            .into_iter()
            .find(|(n, _, _)| n == "svg")
            .unwrap();
        attr(&svg.1, "height").unwrap().parse().unwrap()
    };
    let mut with_legend = plain.clone();
    with_legend.png.legend = true;
    let beside = tmp.path().join("legend.svg");
    export(&project, ExportFormat::Svg, &beside, &with_legend).unwrap();
    let beside_xml = std::fs::read_to_string(&beside).unwrap();
    assert!(layer(&beside_xml, "Legend").1);
    assert!(
        height(&xml) > height(&beside_xml),
        "{} vs {}",
        height(&xml),
        height(&beside_xml)
    );
}

#[test]
fn bad_sizes_and_unwritable_destinations_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let zero = ExportOptions {
        width: Some(0),
        ..Default::default()
    };
    for format in [ExportFormat::Svg, ExportFormat::Pdf] {
        let err = export(&project, format, &tmp.path().join("x"), &zero).unwrap_err();
        assert!(format!("{err:#}").contains("--width"), "{err:#}");
    }
    // A folder that cannot exist: its parent is a file.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"").unwrap();
    let out = blocker.join("map.svg");
    for format in [ExportFormat::Svg, ExportFormat::Pdf] {
        let err = export(&project, format, &out, &options(false, false)).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains(&blocker.display().to_string()), "{msg}");
    }
    assert!(!tmp.path().join("blocker_images").exists());
}

/// Share of pixels that differ by more than `tolerance` in some channel
/// along with all their eight neighbours — areas that differ, not the thin
/// lines where the two rasterisers antialias an edge or a glyph apart — and
/// the mean absolute difference per channel.
fn agreement(a: &image::RgbaImage, b: &image::RgbaImage, tolerance: u8) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (w, h) = a.dimensions();
    let mut differs = vec![false; (w * h) as usize];
    let mut diff = 0u64;
    for (x, y, p) in a.enumerate_pixels() {
        let q = b.get_pixel(x, y);
        let d: Vec<u8> = (0..3).map(|c| p.0[c].abs_diff(q.0[c])).collect();
        diff += d.iter().map(|&v| u64::from(v)).sum::<u64>();
        differs[(y * w + x) as usize] = d.iter().any(|&v| v > tolerance);
    }
    let mut solid = 0usize;
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let all =
                (y - 1..=y + 1).all(|ny| (x - 1..=x + 1).all(|nx| differs[(ny * w + nx) as usize]));
            solid += usize::from(all);
        }
    }
    let n = f64::from(w * h);
    (solid as f64 / n, diff as f64 / (3.0 * n))
}

#[test]
fn svg_renders_close_to_the_png_export_linked_and_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    for framed in [false, true] {
        let png = tmp.path().join(format!("map-{framed}.png"));
        export_to(&project, ExportFormat::Png, &png, false, framed);
        // Kept beside the SVGs' renderings, to look at when this fails.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vector-tests");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&png, dir.join(png.file_name().unwrap())).unwrap();
        let png = image::open(&png).unwrap().to_rgba8();

        let linked = tmp.path().join(format!("linked-{framed}.svg"));
        export_to(&project, ExportFormat::Svg, &linked, false, framed);
        let embedded = tmp
            .path()
            .join("alone")
            .join(format!("embedded-{framed}.svg"));
        export_to(&project, ExportFormat::Svg, &embedded, true, framed);
        assert!(
            !tmp.path()
                .join("alone")
                .join(format!("embedded-{framed}_images"))
                .exists()
        );
        assert!(
            std::fs::read_to_string(&embedded)
                .unwrap()
                .contains("xlink:href=\"data:image/png;base64,")
        );

        for svg in [&linked, &embedded] {
            let drawn = render_svg(svg);
            assert_eq!(drawn.dimensions(), png.dimensions(), "{}", svg.display());
            let name: PathBuf = svg.with_extension("png").file_name().unwrap().into();
            drawn.save(dir.join(name)).unwrap();
            // Images, hulls and outlines match; edges and glyphs are
            // antialiased differently by the two rasterisers.
            let (solid, mean) = agreement(&drawn, &png, 24);
            assert!(
                solid < 0.002 && mean < 4.0,
                "{}: {solid:.4} of pixels in areas that differ, mean difference {mean:.2}",
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
            // Dark text pixels (labels, title, legend) in the same rows.
            let dark_rows = |img: &image::RgbaImage| -> Vec<bool> {
                (0..img.height())
                    .map(|y| {
                        (0..img.width()).any(|x| img.get_pixel(x, y).0[..3].iter().all(|&c| c < 60))
                    })
                    .collect()
            };
            let (a, b) = (dark_rows(&drawn), dark_rows(&png));
            let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
            assert!(
                same * 100 >= a.len() * 95,
                "{}: dark rows agree on {same} of {}",
                svg.display(),
                a.len()
            );
        }
    }
}

#[test]
fn pdf_opens_and_its_text_holds_the_cluster_names() {
    let tmp = tempfile::tempdir().unwrap();
    let project = two_cluster_project(&tmp.path().join("study"));
    let out = tmp.path().join("map.pdf");
    let mut opts = options(false, true);
    opts.png.dpi = Some(100);
    export(&project, ExportFormat::Pdf, &out, &opts).unwrap();
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
    for words in [
        "Harbour",
        "Forest & Moss",
        "Harbours and forests",
        "Clusters",
    ] {
        assert!(text.contains(words), "{words:?} not in {text:?}");
    }
    let info = std::process::Command::new("pdfinfo")
        .arg(&out)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Pages:           1"), "{info}");
    // 800 px at 100 dpi: 8 inches, 576 pt wide.
    let size = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .unwrap_or_else(|| panic!("{info}"));
    let width: f64 = size.split_whitespace().next().unwrap().parse().unwrap();
    assert!((width - 576.0).abs() < 0.5, "{size}");
}
