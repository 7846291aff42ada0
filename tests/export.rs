//! `tagscape export`: GEXF valid against the official GEXF 1.3 RELAX NG
//! schema, Gephi CSVs with exactly the recipe's headers, GraphML and the
//! positions table, on a small project with ids that need escaping.

#[path = "support/cli.rs"]
mod cli;
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
/// Holds U+0007, which XML 1.0 cannot carry: GEXF and GraphML drop it.
const TAG_BELL: &str = "bell\u{7}tag";

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
        TAG_BELL,
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
        (URL_FAILED, TAG_BELL, 0.6),
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

/// What an id becomes in XML output: U+0007 has no representation there.
fn xml_id(id: &str) -> String {
    id.replace('\u{7}', "")
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
        let expected_ids: BTreeSet<String> = fx.ids.iter().map(|id| xml_id(id)).collect();
        assert_eq!(ids, expected_ids);

        // The node attribute declared with id exactly "image".
        assert!(elements.iter().any(|e| e.name == "attribute"
            && e.attrs["id"] == "image"
            && e.attrs["type"] == "string"));

        for (k, id) in fx.ids.iter().enumerate() {
            let node = nodes
                .iter()
                .copied()
                .find(|&i| elements[i].attrs["id"] == xml_id(id))
                .unwrap();
            assert_eq!(elements[node].attrs["label"], xml_id(expected_label(id)));
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
            assert_eq!(attvalues["type"], if is_image { "image" } else { "tag" });
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
            .map(|(s, t, w)| (xml_id(s), xml_id(t), w.to_string()))
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
        assert_eq!(first_line(&edges_csv), "Source,Target,Weight");
        assert_eq!(
            first_line(&nodes_csv),
            if with_layout {
                "Id,Label,Type,image,frequency,degree,x,y,size,posts,users,first_date,last_date"
            } else {
                "Id,Label,Type,image,frequency,degree,posts,users,first_date,last_date"
            }
        );

        let (_, edge_rows) = read_csv(&edges_csv);
        assert_eq!(edge_rows.len(), fx.edges.len());
        let got: BTreeSet<(String, String, String)> = edge_rows
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect();
        let expected: BTreeSet<(String, String, String)> = fx
            .edges
            .iter()
            .map(|(s, t, w)| (s.to_string(), t.to_string(), w.to_string()))
            .collect();
        assert_eq!(got, expected, "each edge once, ids intact");

        let (_, node_rows) = read_csv(&nodes_csv);
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
            "type",
            "image",
            "frequency",
            "degree",
            "x",
            "y",
            "size",
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
        .map(|(s, t, w)| (xml_id(s), xml_id(t), w.to_string()))
        .collect();
    assert_eq!(edges, expected);
    for (k, id) in fx.ids.iter().enumerate() {
        let node = nodes
            .iter()
            .copied()
            .find(|&i| elements[i].attrs["id"] == xml_id(id))
            .unwrap();
        let data: BTreeMap<&str, &str> = elements
            .iter()
            .filter(|e| e.parent == Some(node) && e.name == "data")
            .map(|e| (e.attrs["key"].as_str(), e.text.as_str()))
            .collect();
        assert_eq!(data["label"], xml_id(expected_label(id)));
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
fn cli_writes_the_summary_and_refuses_formats_not_built() {
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

    for format in ["svg", "dzi", "video"] {
        let out = tagscape(&[
            "export",
            dir,
            "--format",
            format,
            "--out",
            fx.out.join("x").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "--format {format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not built yet in this version")
                && stderr.contains("use --format gexf and Gephi's Preview"),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    assert!(!fx.out.join("x").exists());
}
