//! `tagscape export`: GEXF valid against the official GEXF 1.3 RELAX NG
//! schema, Gephi CSVs with exactly the recipe's headers, GraphML and the
//! positions table, on a small project with ids that need escaping.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/gephi.rs"]
mod gephi;
use cli::{tagscape, tagscape_ok};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event;
use tagscape::export::{ExportFormat, ExportOptions, export};
use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::{Placement, save_positions};
use tagscape::project::Project;

const H1: &str = "ab3f0c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21";
const H2: &str = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d";

// Ids that need quoting in CSV and escaping in XML.
const URL_TRICKY: &str = r#"https://example.org/media/we"ird.jpg?a=1&b="2""#;
const URL_LOCAL: &str = "file:///data/caf%C3%A9%20shot.png";
const URL_FAILED: &str = "https://example.org/gone.gif";
const URL_UNTAGGED: &str = "https://example.org/alone.jpg";
const TAG_MARKUP: &str = "a<b, c";
const TAG_UNICODE: &str = "Straße 東京";
const TAG_PLAIN: &str = "crowd";
/// Gephi's CSV parser reads `\` as an escape character.
const TAG_BACKSLASH: &str = r"C:\new\tab\";

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    out: PathBuf,
    /// (source id, target id, weight) as built.
    edges: Vec<(&'static str, &'static str, f32)>,
    ids: Vec<&'static str>,
    placements: Vec<Placement>,
}

/// Images 0..4 (two with thumbnails, one failed, one without tags), tags 4..8.
fn fixture() -> (Fixture, Project) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut project = Project::init(&dir).unwrap();

    let images = [
        (URL_TRICKY, Some(H1), Some("jpg"), Some(0xEFAD42_i64), 3),
        (URL_LOCAL, Some(H2), Some("png"), Some(0x102030), 1),
        (URL_FAILED, None, None, None, 2),
        (URL_UNTAGGED, None, None, None, 1),
    ];
    let mut image_ids = Vec::new();
    for (url, hash, ext, color, frequency) in images {
        project
            .conn()
            .execute(
                "INSERT INTO images(url, frequency, status, content_hash, thumb_ext, mean_color)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    url,
                    frequency,
                    if hash.is_some() { "done" } else { "failed" },
                    hash,
                    ext,
                    color,
                ),
            )
            .unwrap();
        image_ids.push(project.conn().last_insert_rowid());
    }
    // The 256 px thumbnails: a JPEG for H1, a PNG (alpha) for H2; the 64 px
    // level alone must not count.
    let level = project.thumbs_dir().join("256");
    std::fs::create_dir_all(level.join("ab")).unwrap();
    std::fs::create_dir_all(level.join("0c")).unwrap();
    std::fs::write(level.join("ab").join(format!("{H1}.jpg")), b"jpeg").unwrap();
    std::fs::write(level.join("0c").join(format!("{H2}.png")), b"png").unwrap();
    let small = project.thumbs_dir().join("64").join("0c");
    std::fs::create_dir_all(&small).unwrap();

    let ids = vec![
        URL_TRICKY,
        URL_LOCAL,
        URL_FAILED,
        URL_UNTAGGED,
        TAG_MARKUP,
        TAG_UNICODE,
        TAG_PLAIN,
        TAG_BACKSLASH,
    ];
    let frequencies = [3, 1, 2, 1, 2, 1, 3, 1];
    let nodes: Vec<Node> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Node {
            kind: if i < 4 {
                NodeKind::Image
            } else {
                NodeKind::Tag
            },
            id: id.to_string(),
            // As `tagscape graph` labels nodes: images by their file name.
            label: if i < 4 {
                tagscape::graph::file_name_of(id)
            } else {
                id.to_string()
            },
            image_id: image_ids.get(i).copied(),
            frequency: frequencies[i],
        })
        .collect();
    let edges = vec![
        (URL_TRICKY, TAG_MARKUP, 0.9734_f32),
        (URL_TRICKY, TAG_PLAIN, 0.5),
        (URL_TRICKY, TAG_UNICODE, 0.25),
        (URL_LOCAL, TAG_MARKUP, 0.75),
        (URL_LOCAL, TAG_PLAIN, 0.125),
        (URL_FAILED, TAG_PLAIN, 1.0),
        (URL_FAILED, TAG_BACKSLASH, 0.6),
    ];
    let index = |id: &str| ids.iter().position(|x| *x == id).unwrap() as u32;
    let graph_edges = edges
        .iter()
        .map(|(s, t, w)| Edge {
            source: index(s),
            target: index(t),
            weight: *w,
        })
        .collect();
    let graph = Graph::new(nodes, 4, graph_edges);
    graph.save(&mut project).unwrap();
    let placements: Vec<Placement> = (0..ids.len())
        .map(|i| Placement {
            x: i as f32 * 10.5 - 20.0,
            y: -(i as f32) * 3.25,
            size: 1.0 + i as f32,
        })
        .collect();
    (
        Fixture {
            _tmp: tmp,
            dir,
            out,
            edges,
            ids,
            placements,
        },
        project,
    )
}

fn add_layout(fx: &Fixture, project: &mut Project) {
    let graph = Graph::load(project).unwrap();
    save_positions(project, &graph, &fx.placements).unwrap();
}

/// Two clusters as `tagscape cluster` stores them: 1 holds the tricky image
/// and two tags, 2 the local image and the Unicode tag; the rest none.
const CLUSTERS: [(i64, &str, &str, [u8; 3]); 2] = [
    (1, "crowd & <markup>", "#efad42", [0xef, 0xad, 0x42]),
    (2, "東京 \u{202E}rtl", "#1f77b4", [0x1f, 0x77, 0xb4]),
];

fn cluster_of(id: &str) -> Option<usize> {
    match id {
        URL_TRICKY | TAG_MARKUP | TAG_PLAIN => Some(0),
        URL_LOCAL | TAG_UNICODE => Some(1),
        _ => None,
    }
}

fn add_clusters(fx: &Fixture, project: &Project) {
    for (id, name, color, _) in CLUSTERS {
        project
            .conn()
            .execute(
                "INSERT INTO clusters(id, auto_name, auto_color, size, tag_count, auto_labels)
                 VALUES (?1, ?2, ?3, 1, 1, '[]')",
                (id, name, color),
            )
            .unwrap();
    }
    for id in &fx.ids {
        if let Some(c) = cluster_of(id) {
            project
                .conn()
                .execute(
                    "INSERT INTO node_clusters(node_id, cluster_id) VALUES (?1, ?2)",
                    (id, CLUSTERS[c].0),
                )
                .unwrap();
        }
    }
}

/// The colour every export gives a node: its cluster's, else the image's
/// mean colour (light grey unfetched), grey for tags.
fn expected_color(id: &str) -> [u8; 3] {
    match (cluster_of(id), id) {
        (Some(c), _) => CLUSTERS[c].3,
        (None, URL_FAILED | URL_UNTAGGED) => [200, 200, 200],
        (None, _) => [150, 150, 150],
    }
}

/// Degrees counted from the literal edge list.
fn expected_degrees(fx: &Fixture) -> BTreeMap<&'static str, usize> {
    let mut d: BTreeMap<&str, usize> = fx.ids.iter().map(|id| (*id, 0)).collect();
    for (s, t, _) in &fx.edges {
        *d.get_mut(s).unwrap() += 1;
        *d.get_mut(t).unwrap() += 1;
    }
    d
}

fn expected_thumbnail(id: &str) -> &'static str {
    match id {
        URL_TRICKY => "ab/ab3f0c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21.jpg",
        URL_LOCAL => "0c/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d.png",
        _ => "",
    }
}

fn expected_label(id: &str) -> &str {
    match id {
        URL_TRICKY => r#"we"ird.jpg"#,
        URL_LOCAL => "café shot.png",
        URL_FAILED => "gone.gif",
        URL_UNTAGGED => "alone.jpg",
        tag => tag,
    }
}

fn xmllint(args: &[&str], file: &Path) -> std::process::Output {
    match Command::new("xmllint").args(args).arg(file).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is not installed: install libxml2-utils (apt-get install libxml2-utils); CI installs it"
        ),
        Err(e) => panic!("cannot run xmllint: {e}"),
    }
}

fn assert_valid_gexf(file: &Path) {
    let rng = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gexf-1.3/gexf.rng");
    let out = xmllint(&["--noout", "--relaxng", rng.to_str().unwrap()], file);
    assert!(
        out.status.success(),
        "{} does not validate against the GEXF 1.3 RNG:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_well_formed(file: &Path) {
    let out = xmllint(&["--noout"], file);
    assert!(
        out.status.success(),
        "{} is not well-formed XML:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An XML element: its local name and its attributes, unescaped.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    /// For a `<data>`/leaf element: its text.
    text: String,
    /// Index of the enclosing `<node>`/`<edge>` element, if any.
    parent: Option<usize>,
}

/// Every element of an XML file in document order, with the nearest
/// enclosing `node`/`edge` recorded, through quick-xml's reader.
fn parse_xml(file: &Path) -> Vec<Element> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut out: Vec<Element> = Vec::new();
    let mut stack: Vec<(usize, bool)> = Vec::new(); // (element index, is node/edge)
    loop {
        let event = reader.read_event().unwrap();
        let (start, empty) = match &event {
            Event::Start(s) => (Some(s.clone()), false),
            Event::Empty(s) => (Some(s.clone()), true),
            _ => (None, false),
        };
        if let Some(s) = start {
            let name = s.local_name().as_ref().to_string();
            let attrs = s
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        a.key.local_name().as_ref().to_string(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            let parent = stack
                .iter()
                .rev()
                .find(|(_, owner)| *owner)
                .map(|(i, _)| *i);
            let owner = name == "node" || name == "edge";
            out.push(Element {
                name,
                attrs,
                text: String::new(),
                parent,
            });
            if !empty {
                stack.push((out.len() - 1, owner));
            }
            continue;
        }
        match event {
            Event::Text(t) => {
                if let Some((i, _)) = stack.last() {
                    out[*i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((i, _)) = stack.last() {
                    let name = r.xml10_content().into_owned();
                    let resolved = match name.as_str() {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        _ => r.resolve_char_ref().unwrap().unwrap().to_string(),
                    };
                    out[*i].text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The records of a Gephi CSV as Gephi's parser gives them (empty cells as "").
fn gephi_rows(path: &Path) -> Vec<Vec<String>> {
    let sheet = gephi::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    sheet
        .records
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

fn first_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn gexf_validates_and_carries_ids_images_and_viz() {
    let (fx, mut project) = fixture();
    let degrees = expected_degrees(&fx);

    for with_layout in [false, true] {
        if with_layout {
            add_layout(&fx, &mut project);
        }
        let file = fx.out.join(format!("study-{with_layout}.gexf"));
        let report = export(
            &project,
            ExportFormat::Gexf,
            &file,
            &ExportOptions::default(),
        )
        .unwrap();
        assert_valid_gexf(&file);
        assert_eq!((report.images, report.tags, report.edges), (4, 4, 7));
        assert_eq!(report.images_with_thumbnail, 2);
        assert_eq!(report.with_layout, with_layout);

        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(r#"xmlns="http://gexf.net/1.3""#));
        assert!(text.contains(r#"xmlns:viz="http://gexf.net/1.3/viz""#));
        assert!(!text.contains("xsi:"));
        assert!(text.contains(&format!(
            "<creator>tagscape {}</creator>",
            env!("CARGO_PKG_VERSION")
        )));

        let elements = parse_xml(&file);
        let nodes: Vec<usize> = (0..elements.len())
            .filter(|&i| elements[i].name == "node")
            .collect();
        let ids: BTreeSet<String> = nodes
            .iter()
            .map(|&i| elements[i].attrs["id"].clone())
            .collect();
        let expected_ids: BTreeSet<String> = fx.ids.iter().map(|id| id.to_string()).collect();
        assert_eq!(ids, expected_ids);

        // The node attribute declared with id exactly "image"; none named
        // `type`, which sigma.js reads as its node program.
        assert!(elements.iter().any(|e| e.name == "attribute"
            && e.attrs["id"] == "image"
            && e.attrs["type"] == "string"));
        assert!(
            !elements.iter().any(|e| e.name == "attribute"
                && (e.attrs["id"] == "type" || e.attrs["title"] == "type")),
            "a node attribute named type"
        );
        assert!(
            elements
                .iter()
                .any(|e| e.name == "attribute" && e.attrs["id"] == "kind")
        );

        for (k, id) in fx.ids.iter().enumerate() {
            let node = nodes
                .iter()
                .copied()
                .find(|&i| elements[i].attrs["id"] == *id)
                .unwrap();
            assert_eq!(elements[node].attrs["label"], expected_label(id));
            let child = |name: &str| {
                elements
                    .iter()
                    .filter(|e| e.parent == Some(node) && e.name == name)
                    .collect::<Vec<_>>()
            };
            let attvalues: BTreeMap<&str, &str> = child("attvalue")
                .iter()
                .map(|e| (e.attrs["for"].as_str(), e.attrs["value"].as_str()))
                .collect();
            let is_image = k < 4;
            assert_eq!(attvalues["kind"], if is_image { "image" } else { "tag" });
            assert!(!attvalues.contains_key("type"));
            assert_eq!(attvalues["degree"], degrees[id].to_string());
            assert_eq!(
                attvalues["frequency"],
                [3, 1, 2, 1, 2, 1, 3, 1][k].to_string()
            );
            assert_eq!(
                attvalues.get("image").copied().unwrap_or(""),
                expected_thumbnail(id)
            );
            assert_eq!(attvalues.get("url").copied(), is_image.then_some(*id));

            let color = &child("color")[0].attrs;
            let rgb = (
                color["r"].as_str(),
                color["g"].as_str(),
                color["b"].as_str(),
            );
            match *id {
                URL_TRICKY => assert_eq!(rgb, ("239", "173", "66")),
                URL_LOCAL => assert_eq!(rgb, ("16", "32", "48")),
                _ if !is_image => assert_eq!(rgb.0, rgb.1, "tags are grey"),
                _ => {}
            }

            let size: f32 = child("size")[0].attrs["value"].parse().unwrap();
            let positions = child("position");
            if with_layout {
                let p = fx.placements[k];
                assert_eq!(size, p.size);
                assert_eq!(positions.len(), 1);
                assert_eq!(positions[0].attrs["x"].parse::<f32>().unwrap(), p.x);
                assert_eq!(positions[0].attrs["y"].parse::<f32>().unwrap(), p.y);
            } else {
                assert!(positions.is_empty(), "no positions without a layout");
                assert!(size > 0.0);
            }
        }
        // Without a layout sizes grow with degree: "crowd" (3 images) is
        // larger than the untagged image.
        if !with_layout {
            let size_of = |id: &str| -> f32 {
                let node = nodes
                    .iter()
                    .copied()
                    .find(|&i| elements[i].attrs["id"] == id)
                    .unwrap();
                elements
                    .iter()
                    .find(|e| e.parent == Some(node) && e.name == "size")
                    .unwrap()
                    .attrs["value"]
                    .parse()
                    .unwrap()
            };
            assert!(size_of(TAG_PLAIN) > size_of(URL_UNTAGGED));
        }

        let edges: BTreeSet<(String, String, String)> = elements
            .iter()
            .filter(|e| e.name == "edge")
            .map(|e| {
                (
                    e.attrs["source"].clone(),
                    e.attrs["target"].clone(),
                    e.attrs["weight"].clone(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String, String)> = fx
            .edges
            .iter()
            .map(|(s, t, w)| (s.to_string(), t.to_string(), w.to_string()))
            .collect();
        assert_eq!(edges, expected);
    }

    // Gephi's own namespace: well-formed, not meant to validate.
    let compat = fx.out.join("compat.gexf");
    export(
        &project,
        ExportFormat::Gexf,
        &compat,
        &ExportOptions {
            gephi_compat: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_well_formed(&compat);
    let text = std::fs::read_to_string(&compat).unwrap();
    assert!(text.contains(r#"xmlns="http://www.gexf.net/1.3""#));
    assert!(text.contains(r#"xmlns:viz="http://www.gexf.net/1.3/viz""#));

    // Only the finished file is left in the output folder.
    let names: BTreeSet<String> = std::fs::read_dir(&fx.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["compat.gexf", "study-false.gexf", "study-true.gexf"]
            .map(String::from)
            .into()
    );
}

#[test]
fn gephi_csv_has_the_recipe_headers_and_round_trips() {
    let (fx, mut project) = fixture();
    let degrees = expected_degrees(&fx);

    for with_layout in [false, true] {
        if with_layout {
            add_layout(&fx, &mut project);
        }
        let folder = fx.out.join(format!("gephi-{with_layout}"));
        let report = export(
            &project,
            ExportFormat::GephiCsv,
            &folder,
            &ExportOptions::default(),
        )
        .unwrap();
        let summary = report.to_string();
        let preview = std::path::absolute(project.thumbs_dir().join("256")).unwrap();
        assert!(
            summary.contains(&format!("Image Preview folder: {}", preview.display())),
            "{summary}"
        );
        assert!(
            summary.contains("8 nodes (4 images, 4 tags), 7 edges"),
            "{summary}"
        );

        let edges_csv = folder.join("edges.csv");
        let nodes_csv = folder.join("nodes.csv");
        assert_eq!(first_line(&edges_csv), "Source,Target,Weight,Type");
        assert_eq!(
            first_line(&nodes_csv),
            if with_layout {
                "Id,Label,Type,image,frequency,degree,x,y,size,posts,users,first_date,last_date"
            } else {
                "Id,Label,Type,image,frequency,degree,posts,users,first_date,last_date"
            }
        );

        // Read as Gephi reads them (`\` is its escape character).
        let edge_rows = gephi_rows(&edges_csv);
        assert_eq!(edge_rows.len(), fx.edges.len());
        let got: BTreeSet<(String, String, String, String)> = edge_rows
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
            .collect();
        let expected: BTreeSet<(String, String, String, String)> = fx
            .edges
            .iter()
            .map(|(s, t, w)| {
                let w = if w.fract() == 0.0 {
                    format!("{w}.0")
                } else {
                    w.to_string()
                };
                (s.to_string(), t.to_string(), w, "Undirected".to_string())
            })
            .collect();
        assert_eq!(got, expected, "each edge once, ids intact");

        let node_rows = gephi_rows(&nodes_csv);
        assert_eq!(node_rows.len(), 4 + 4);
        for (k, id) in fx.ids.iter().enumerate() {
            let row = node_rows.iter().find(|r| r[0] == *id).unwrap();
            assert_eq!(row[1], expected_label(id));
            assert_eq!(row[2], if k < 4 { "image" } else { "tag" });
            assert_eq!(row[3], expected_thumbnail(id));
            assert_eq!(row[4], [3, 1, 2, 1, 2, 1, 3, 1][k].to_string());
            assert_eq!(row[5], degrees[id].to_string());
            if with_layout {
                let p = fx.placements[k];
                let xs: Vec<f32> = row[6..9].iter().map(|v| v.parse().unwrap()).collect();
                assert_eq!(xs, vec![p.x, p.y, p.size]);
                assert!(row[6..9].iter().all(|v| v.contains('.')), "{row:?}");
            } else {
                assert_eq!(row.len(), 10);
            }
            // No posts were added to this fixture: images count 0, tags nothing.
            let counts = &row[row.len() - 4..];
            let want = if k < 4 {
                ["0", "0", "", ""]
            } else {
                ["", "", "", ""]
            };
            assert_eq!(counts, want);
        }
        // The image column resolves against the Image Preview folder.
        for id in [URL_TRICKY, URL_LOCAL] {
            assert!(preview.join(expected_thumbnail(id)).is_file());
        }
    }
}

#[test]
fn graphml_is_well_formed_with_every_node_and_edge() {
    let (fx, mut project) = fixture();
    add_layout(&fx, &mut project);
    let file = fx.out.join("study.graphml");
    export(
        &project,
        ExportFormat::Graphml,
        &file,
        &ExportOptions::default(),
    )
    .unwrap();
    assert_well_formed(&file);
    let elements = parse_xml(&file);
    let keys: BTreeSet<&str> = elements
        .iter()
        .filter(|e| e.name == "key")
        .map(|e| e.attrs["attr.name"].as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "label",
            "kind",
            "image",
            "url",
            "frequency",
            "degree",
            "x",
            "y",
            "size",
            "r",
            "g",
            "b",
            "posts",
            "users",
            "first_date",
            "last_date",
            "weight"
        ])
    );
    let nodes: Vec<usize> = (0..elements.len())
        .filter(|&i| elements[i].name == "node")
        .collect();
    assert_eq!(nodes.len(), 8);
    let edges: BTreeSet<(String, String, String)> = (0..elements.len())
        .filter(|&i| elements[i].name == "edge")
        .map(|i| {
            let weight = elements
                .iter()
                .find(|e| e.parent == Some(i) && e.name == "data")
                .unwrap()
                .text
                .clone();
            (
                elements[i].attrs["source"].clone(),
                elements[i].attrs["target"].clone(),
                weight,
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = fx
        .edges
        .iter()
        .map(|(s, t, w)| (s.to_string(), t.to_string(), w.to_string()))
        .collect();
    assert_eq!(edges, expected);
    for (k, id) in fx.ids.iter().enumerate() {
        let node = nodes
            .iter()
            .copied()
            .find(|&i| elements[i].attrs["id"] == *id)
            .unwrap();
        let data: BTreeMap<&str, &str> = elements
            .iter()
            .filter(|e| e.parent == Some(node) && e.name == "data")
            .map(|e| (e.attrs["key"].as_str(), e.text.as_str()))
            .collect();
        assert_eq!(data["label"], expected_label(id));
        assert_eq!(
            data.get("image").copied().unwrap_or(""),
            expected_thumbnail(id)
        );
        assert_eq!(data["x"].parse::<f32>().unwrap(), fx.placements[k].x);
    }
}

#[test]
fn positions_need_a_layout_then_list_every_node() {
    let (fx, mut project) = fixture();
    let file = fx.out.join("positions.csv");
    let err = export(
        &project,
        ExportFormat::Positions,
        &file,
        &ExportOptions::default(),
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains(&format!("run `tagscape layout {}`", fx.dir.display())),
        "{err:#}"
    );
    assert!(!file.exists());

    add_layout(&fx, &mut project);
    export(
        &project,
        ExportFormat::Positions,
        &file,
        &ExportOptions::default(),
    )
    .unwrap();
    let (header, rows) = read_csv(&file);
    assert_eq!(
        header,
        ["id", "type", "label", "x", "y", "size", "cluster"].map(String::from)
    );
    assert_eq!(rows.len(), fx.ids.len());
    for (k, id) in fx.ids.iter().enumerate() {
        let row = rows.iter().find(|r| r[0] == *id).unwrap();
        let p = fx.placements[k];
        assert_eq!(row[1], if k < 4 { "image" } else { "tag" });
        assert_eq!(row[2], expected_label(id));
        assert_eq!(row[3].parse::<f32>().unwrap(), p.x);
        assert_eq!(row[4].parse::<f32>().unwrap(), p.y);
        assert_eq!(row[5].parse::<f32>().unwrap(), p.size);
        assert_eq!(row[6], "");
    }
}

#[test]
fn cli_writes_the_summary_and_refuses_pictures_without_a_layout() {
    let (fx, project) = fixture();
    drop(project); // the command opens the project itself
    let dir = fx.dir.to_str().unwrap();

    let file = fx.out.join("study.gexf");
    let stdout = tagscape_ok(&[
        "export",
        dir,
        "--format",
        "gexf",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        stdout.starts_with(&format!(
            "wrote {}: 8 nodes (4 images, 4 tags), 7 edges",
            file.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("Image Preview folder: "), "{stdout}");
    assert_valid_gexf(&file);

    // The fixture has no layout: the pictures say how to make one, in one line.
    for format in ["png", "dzi", "video"] {
        let out = tagscape(&[
            "export",
            dir,
            "--format",
            format,
            "--out",
            fx.out.join("x").to_str().unwrap(),
            "--width",
            "600",
        ]);
        assert_eq!(out.status.code(), Some(1), "--format {format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("run `tagscape layout {dir}` first")),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    assert!(!fx.out.join("x").exists());
}

/// Per node id: the `<data>` of a GraphML node, or the attvalues plus the
/// viz size, position and colour of a GEXF node, by name.
fn xml_node_fields(file: &Path, gexf: bool) -> BTreeMap<String, BTreeMap<String, String>> {
    let elements = parse_xml(file);
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (i, e) in elements.iter().enumerate() {
        if e.name != "node" {
            continue;
        }
        let mut fields = BTreeMap::new();
        for child in elements.iter().filter(|c| c.parent == Some(i)) {
            match (gexf, child.name.as_str()) {
                (false, "data") => {
                    fields.insert(child.attrs["key"].clone(), child.text.clone());
                }
                (true, "attvalue") => {
                    fields.insert(child.attrs["for"].clone(), child.attrs["value"].clone());
                }
                (true, "size") => {
                    fields.insert("size".into(), child.attrs["value"].clone());
                }
                (true, "position") => {
                    fields.insert("x".into(), child.attrs["x"].clone());
                    fields.insert("y".into(), child.attrs["y"].clone());
                }
                (true, "color") => {
                    for c in ["r", "g", "b"] {
                        fields.insert(c.into(), child.attrs[c].clone());
                    }
                }
                _ => {}
            }
        }
        if gexf {
            fields.insert("label".into(), e.attrs["label"].clone());
        }
        assert!(
            out.insert(e.attrs["id"].clone(), fields).is_none(),
            "{}: node id {} twice",
            file.display(),
            e.attrs["id"]
        );
    }
    out
}

#[test]
fn graphml_carries_what_the_gexf_carries() {
    let (fx, mut project) = fixture();
    add_layout(&fx, &mut project);
    add_clusters(&fx, &project);
    let graphml = fx.out.join("study.graphml");
    let gexf = fx.out.join("study.gexf");
    for (format, file) in [
        (ExportFormat::Graphml, &graphml),
        (ExportFormat::Gexf, &gexf),
    ] {
        export(&project, format, file, &ExportOptions::default()).unwrap();
    }
    assert_well_formed(&graphml);
    let from_graphml = xml_node_fields(&graphml, false);
    let from_gexf = xml_node_fields(&gexf, true);
    assert_eq!(from_graphml, from_gexf, "the same fields, values and ids");
    for id in &fx.ids {
        let fields = &from_graphml[*id];
        let is_image = fx.ids.iter().position(|x| x == id).unwrap() < 4;
        assert_eq!(
            fields.get("url").map(String::as_str),
            is_image.then_some(*id)
        );
        assert_eq!(fields["kind"], if is_image { "image" } else { "tag" });
        assert!(!fields.contains_key("type"));
        let rgb = ["r", "g", "b"].map(|c| fields[c].parse::<u8>().unwrap());
        assert_eq!(rgb, expected_color(id), "{id}");
        match cluster_of(id) {
            Some(c) => {
                assert_eq!(fields["cluster"], CLUSTERS[c].0.to_string());
                assert_eq!(fields["cluster_label"], CLUSTERS[c].1);
            }
            None => assert!(!fields.contains_key("cluster"), "{id}"),
        }
    }
    let keys: BTreeSet<String> = parse_xml(&graphml)
        .into_iter()
        .filter(|e| e.name == "key")
        .map(|e| e.attrs["attr.name"].clone())
        .collect();
    assert!(
        keys.contains("cluster") && keys.contains("cluster_label"),
        "{keys:?}"
    );
}

/// The pinned graphology + graphology-gexf of tests/fixtures/graphology,
/// installed once with `npm ci` into the cargo target dir (not the repo).
fn graphology() -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graphology");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graphology-gexf-0.13.2");
    let installed = |dir: &Path| {
        dir.join("node_modules/graphology-gexf/package.json")
            .is_file()
    };
    if installed(&cache) {
        return cache;
    }
    for tool in ["node", "npm"] {
        match Command::new(tool).arg("--version").output() {
            Ok(out) if out.status.success() => {}
            _ => panic!(
                "{tool} is not installed: run `make test` (scripts/install-deps.sh installs nodejs and npm), or apt-get install nodejs npm"
            ),
        }
    }
    // Installed beside the cache and renamed into place, so a run that
    // stops half-way never leaves a cache that looks complete.
    let staging = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(fixtures.join(file), staging.path().join(file)).unwrap();
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(staging.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "npm ci of graphology-gexf failed (npm's registry must be reachable): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let staged = staging.keep();
    if std::fs::rename(&staged, &cache).is_err() {
        // Another run got there first.
        let _ = std::fs::remove_dir_all(&staged);
    }
    assert!(
        installed(&cache),
        "graphology-gexf missing from {}",
        cache.display()
    );
    cache
}

#[test]
fn gexf_loads_in_graphology_with_every_attribute_intact() {
    let (fx, mut project) = fixture();
    add_layout(&fx, &mut project);
    add_clusters(&fx, &project);
    let file = fx.out.join("study.gexf");
    export(
        &project,
        ExportFormat::Gexf,
        &file,
        &ExportOptions::default(),
    )
    .unwrap();

    let modules = graphology().join("node_modules");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graphology/load-gexf.js");
    let out = Command::new("node")
        .arg(&script)
        .arg(&file)
        .env("NODE_PATH", &modules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "graphology-gexf cannot load the GEXF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(loaded["type"], "undirected");

    let degrees = expected_degrees(&fx);
    let nodes = loaded["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), fx.ids.len());
    for (k, id) in fx.ids.iter().enumerate() {
        let node = nodes.iter().find(|n| n["key"] == *id).unwrap();
        let attrs = node["attributes"].as_object().unwrap();
        assert!(!attrs.contains_key("type"), "sigma.js would read {attrs:?}");
        let is_image = k < 4;
        let p = fx.placements[k];
        let [r, g, b] = expected_color(id);
        let mut expected: BTreeMap<&str, serde_json::Value> = BTreeMap::from([
            ("label", expected_label(id).into()),
            ("kind", (if is_image { "image" } else { "tag" }).into()),
            ("frequency", [3, 1, 2, 1, 2, 1, 3, 1][k].into()),
            ("degree", degrees[id].into()),
            ("size", f64::from(p.size).into()),
            ("x", f64::from(p.x).into()),
            ("y", f64::from(p.y).into()),
            ("z", 0.0.into()),
            ("color", format!("rgb({r},{g},{b})").into()),
        ]);
        if is_image {
            expected.insert("url", (*id).into());
            // The fixture's images have no posts: the counts are still written.
            expected.insert("posts", 0.into());
            expected.insert("users", 0.into());
        }
        if !expected_thumbnail(id).is_empty() {
            expected.insert("image", expected_thumbnail(id).into());
        }
        if let Some(c) = cluster_of(id) {
            expected.insert("cluster", CLUSTERS[c].0.into());
            expected.insert("cluster_label", CLUSTERS[c].1.into());
        }
        let got: BTreeSet<&str> = attrs.keys().map(String::as_str).collect();
        assert_eq!(got, expected.keys().copied().collect(), "{id}");
        for (name, value) in &expected {
            let same = match (value.as_f64(), attrs[*name].as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => *value == attrs[*name],
            };
            assert!(
                same,
                "{id}: {name} is {} in graphology, wrote {value}",
                attrs[*name]
            );
        }
    }
    let edges: BTreeSet<(String, String, String)> = loaded["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["undirected"], true);
            (
                e["source"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
                (e["attributes"]["weight"].as_f64().unwrap() as f32).to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = fx
        .edges
        .iter()
        .map(|(s, t, w)| (s.to_string(), t.to_string(), w.to_string()))
        .collect();
    assert_eq!(edges, expected);
}

/// A project built as a user would: `init`, `add` the URLs, `import-tags`
/// the (image, tag) rows, `graph`.
fn pipeline_project(tmp: &Path, urls: &[&str], tags: &[(&str, &str)]) -> PathBuf {
    let dir = tmp.join("study");
    let list = tmp.join("urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();
    let table = tmp.join("tags.csv");
    let mut w = csv::Writer::from_path(&table).unwrap();
    w.write_record(["image", "tag", "confidence"]).unwrap();
    for (image, tag) in tags {
        w.write_record([image, tag, "0.5"]).unwrap();
    }
    w.flush().unwrap();
    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    tagscape_ok(&["add", d, list.to_str().unwrap()]);
    tagscape_ok(&[
        "import-tags",
        d,
        table.to_str().unwrap(),
        "--format",
        "long",
    ]);
    tagscape_ok(&["graph", d]);
    dir
}

/// (format, node ids, edges as (source id, target label)).
type ExportIds = (String, BTreeSet<String>, BTreeSet<(String, String)>);

/// Each export's node ids (every one once) and edges as (source id, the
/// target node's label), read as the tool for each format reads it.
fn ids_and_edges(dir: &Path, out: &Path) -> Vec<ExportIds> {
    let d = dir.to_str().unwrap();
    let mut found = Vec::new();
    for (format, name) in [
        ("gephi-csv", "gephi"),
        ("gexf", "g.gexf"),
        ("graphml", "g.graphml"),
    ] {
        let path = out.join(name);
        tagscape_ok(&[
            "export",
            d,
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut edges = BTreeSet::new();
        let mut unique = |id: String, label: String| {
            assert!(
                labels.insert(id.clone(), label).is_none(),
                "{format}: id {id:?} twice"
            );
        };
        if format == "gephi-csv" {
            for row in gephi_rows(&path.join("nodes.csv")) {
                unique(row[0].clone(), row[1].clone());
            }
            for row in gephi_rows(&path.join("edges.csv")) {
                edges.insert((row[0].clone(), row[1].clone()));
            }
        } else {
            let elements = parse_xml(&path);
            for (i, e) in elements.iter().enumerate() {
                if e.name == "node" {
                    let label = match e.attrs.get("label") {
                        Some(l) => l.clone(),
                        None => elements
                            .iter()
                            .find(|c| {
                                c.parent == Some(i)
                                    && c.attrs.get("key").is_some_and(|k| k == "label")
                            })
                            .unwrap()
                            .text
                            .clone(),
                    };
                    unique(e.attrs["id"].clone(), label);
                } else if e.name == "edge" {
                    edges.insert((e.attrs["source"].clone(), e.attrs["target"].clone()));
                }
            }
        }
        let edges: BTreeSet<(String, String)> = edges
            .into_iter()
            .map(|(s, t)| {
                let label = labels
                    .get(&t)
                    .unwrap_or_else(|| panic!("{format}: edge to a missing node {t:?}"));
                assert!(
                    labels.contains_key(&s),
                    "{format}: edge from a missing node {s:?}"
                );
                (s, label.clone())
            })
            .collect();
        found.push((format.to_string(), labels.keys().cloned().collect(), edges));
    }
    found
}

#[test]
fn colliding_tag_ids_build_a_graph_with_unique_ids_in_every_export() {
    let tmp = tempfile::tempdir().unwrap();
    let a = "https://example.org/a.jpg";
    let b = "https://example.org/b.jpg";
    let as_url = b.to_string();
    let prefixed = format!("tag:{b}");
    let twice = format!("tag:tag:{b}");
    let tags: Vec<(&str, &str)> = vec![
        (a, &as_url),
        (a, &prefixed),
        (b, &prefixed),
        (b, &twice),
        (a, "cat"),
        (b, "tag:cat"),
    ];
    let dir = pipeline_project(tmp.path(), &[a, b], &tags);
    let out = tmp.path().join("out");
    let expected_edges: BTreeSet<(String, String)> = tags
        .iter()
        .map(|(i, t)| (i.to_string(), t.to_string()))
        .collect();
    let found = ids_and_edges(&dir, &out);
    for (format, ids, edges) in &found {
        assert_eq!(ids.len(), 2 + 5, "{format}: {ids:?}");
        assert_eq!(
            edges, &expected_edges,
            "{format}: edges reach the right nodes"
        );
        assert!(ids.contains(a) && ids.contains(b), "{format}");
    }
    assert_eq!(found[0].1, found[1].1, "nodes.csv and GEXF ids");
    assert_eq!(found[1].1, found[2].1, "GEXF and GraphML ids");
    // The tag spelled like an image stays apart from it, and plain tags
    // keep their own spelling as id.
    assert!(found[0].1.contains("cat"));
    assert!(found[0].1.contains(&format!("tag:{b}")));
}

#[test]
fn control_characters_are_cleaned_at_import_so_ids_match_in_every_export() {
    let tmp = tempfile::tempdir().unwrap();
    let a = "https://example.org/a.jpg";
    let b = "https://example.org/b.jpg";
    let tags = [
        (a, "bell\u{7}tag"),
        (b, "bell tag"),
        (a, "two\u{1b}\u{7}words"),
        (b, "del\u{7f}\u{85}c1"),
    ];
    let dir = pipeline_project(tmp.path(), &[a, b], &tags);
    let found = ids_and_edges(&dir, &tmp.path().join("out"));
    let expected_tags: BTreeSet<String> =
        ["bell tag", "two words", "del c1"].map(String::from).into();
    for (format, ids, edges) in &found {
        let tags: BTreeSet<String> = ids
            .iter()
            .filter(|id| !id.starts_with("https:"))
            .cloned()
            .collect();
        assert_eq!(tags, expected_tags, "{format}");
        assert!(
            edges.contains(&(a.to_string(), "bell tag".to_string())),
            "{format}: {edges:?}"
        );
        assert!(
            edges.contains(&(b.to_string(), "bell tag".to_string())),
            "{format}: {edges:?}"
        );
    }
    assert_eq!(found[0].1, found[1].1);
    assert_eq!(found[1].1, found[2].1);
}
