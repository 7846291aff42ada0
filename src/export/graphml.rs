//! GraphML (graphml.graphdrawing.org), written by hand with escaping: the
//! keys are named as Gephi's GraphML importer maps them (`label`, `x`, `y`,
//! `size`, `weight`), the rest become node columns.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::xml::{escape, number};
use super::{AtomicFile, ExportData};

/// Node keys as (id, type); `x`/`y` are declared only with a layout.
const NODE_KEYS: [(&str, &str); 6] = [
    ("label", "string"),
    ("type", "string"),
    ("image", "string"),
    ("frequency", "int"),
    ("degree", "int"),
    ("size", "float"),
];

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
        &[("x", "float"), ("y", "float")]
    } else {
        &[]
    };
    for (id, ty) in NODE_KEYS.iter().chain(layout_keys) {
        writeln!(
            w,
            r#"  <key id="{id}" for="node" attr.name="{id}" attr.type="{ty}"/>"#
        )?;
    }
    writeln!(
        w,
        r#"  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>"#
    )?;
    writeln!(w, r#"  <graph id="G" edgedefault="undirected">"#)?;
    for (i, node) in graph.nodes.iter().enumerate() {
        writeln!(w, r#"    <node id="{}">"#, escape(&node.id))?;
        writeln!(
            w,
            r#"      <data key="label">{}</data>"#,
            escape(data.label(i))
        )?;
        writeln!(w, r#"      <data key="type">{}</data>"#, node.kind.as_str())?;
        if let Some(thumb) = data.thumbnail(i) {
            writeln!(w, r#"      <data key="image">{}</data>"#, escape(thumb))?;
        }
        writeln!(
            w,
            r#"      <data key="frequency">{}</data>"#,
            node.frequency
        )?;
        writeln!(w, r#"      <data key="degree">{}</data>"#, graph.degree(i))?;
        writeln!(
            w,
            r#"      <data key="size">{}</data>"#,
            number(data.size(i))
        )?;
        if let Some(p) = data.placements.as_ref().map(|p| p[i]) {
            writeln!(w, r#"      <data key="x">{}</data>"#, number(p.x))?;
            writeln!(w, r#"      <data key="y">{}</data>"#, number(p.y))?;
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
