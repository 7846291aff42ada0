//! GraphML (graphml.graphdrawing.org), written by hand with escaping. It
//! carries what the GEXF carries: the keys are named as Gephi's GraphML
//! importer maps them (`label`, `x`, `y`, `size`, `r`/`g`/`b` for the colour,
//! `weight`), the rest become node columns (`kind`, `image`, `url`,
//! `frequency`, `degree`, `cluster`, `cluster_label`). Image or tag is `kind`,
//! not `type`, for the reasons gexf.rs gives.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::xml::{escape, number};
use super::{AtomicFile, ExportData};
use crate::graph::NodeKind;

/// Node keys as (id, type), always declared.
const NODE_KEYS: [(&str, &str); 10] = [
    ("label", "string"),
    ("kind", "string"),
    ("image", "string"),
    ("url", "string"),
    ("frequency", "int"),
    ("degree", "int"),
    ("size", "float"),
    ("r", "int"),
    ("g", "int"),
    ("b", "int"),
];
/// Declared only with a layout.
const LAYOUT_KEYS: [(&str, &str); 2] = [("x", "float"), ("y", "float")];
/// Declared only when the project has clusters.
const CLUSTER_KEYS: [(&str, &str); 2] = [("cluster", "int"), ("cluster_label", "string")];

pub(super) fn write(data: &ExportData, out: &Path) -> Result<()> {
    let mut file = AtomicFile::create(out)?;
    write_to(&mut file, data).with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()
}

fn write_to(w: &mut impl Write, data: &ExportData) -> Result<()> {
    let graph = &data.graph;
    w.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
"#,
    )?;
    let layout_keys: &[(&str, &str)] = if data.placements.is_some() {
        &LAYOUT_KEYS
    } else {
        &[]
    };
    let cluster_keys: &[(&str, &str)] = if data.clusters.is_some() {
        &CLUSTER_KEYS
    } else {
        &[]
    };
    for (id, ty) in NODE_KEYS.iter().chain(layout_keys).chain(cluster_keys) {
        writeln!(
            w,
            r#"  <key id="{id}" for="node" attr.name="{id}" attr.type="{ty}"/>"#
        )?;
    }
    // The posts' counts and chosen columns, as in the GEXF.
    for (id, kind) in data.posts.gexf_attributes() {
        let ty = if kind == "integer" { "int" } else { kind };
        writeln!(
            w,
            r#"  <key id="{0}" for="node" attr.name="{0}" attr.type="{ty}"/>"#,
            escape(id)
        )?;
    }
    writeln!(
        w,
        r#"  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>"#
    )?;
    writeln!(w, r#"  <graph id="G" edgedefault="undirected">"#)?;
    for (i, node) in graph.nodes.iter().enumerate() {
        let id = escape(&node.id);
        writeln!(w, r#"    <node id="{id}">"#)?;
        let mut data_line =
            |key: &str, value: &str| writeln!(w, r#"      <data key="{key}">{value}</data>"#);
        data_line("label", &escape(data.label(i)))?;
        data_line("kind", node.kind.as_str())?;
        if let Some(thumb) = data.thumbnail(i) {
            data_line("image", &escape(thumb))?;
        }
        if node.kind == NodeKind::Image {
            data_line("url", &id)?;
        }
        data_line("frequency", &node.frequency.to_string())?;
        data_line("degree", &graph.degree(i).to_string())?;
        data_line("size", &number(data.size(i)))?;
        let [r, g, b] = data.color(i);
        data_line("r", &r.to_string())?;
        data_line("g", &g.to_string())?;
        data_line("b", &b.to_string())?;
        if let Some(p) = data.placements.as_ref().map(|p| p[i]) {
            data_line("x", &number(p.x))?;
            data_line("y", &number(p.y))?;
        }
        if let Some(c) = data.cluster(i) {
            data_line("cluster", &c.id.to_string())?;
            data_line("cluster_label", &escape(&c.name))?;
        }
        if data.posts.has(i) {
            for (name, value) in data.posts.headers().iter().zip(data.posts.cells(i)) {
                if !value.is_empty() {
                    data_line(&escape(name), &escape(&value))?;
                }
            }
        }
        w.write_all(b"    </node>\n")?;
    }
    for e in &graph.edges {
        writeln!(
            w,
            r#"    <edge source="{}" target="{}"><data key="weight">{}</data></edge>"#,
            escape(&graph.nodes[e.source as usize].id),
            escape(&graph.nodes[e.target as usize].id),
            number(e.weight)
        )?;
    }
    w.write_all(b"  </graph>\n</graphml>\n")?;
    Ok(())
}
