//! GEXF 1.3 with the viz namespace, as FORMATS.md (g) specifies: valid
//! against the official RELAX NG schema (no `www.` in the namespaces, no
//! `xsi:schemaLocation`), with the node attribute whose id is exactly `image`
//! that Gephi's Image Preview plugin reads.
//!
//! No node attribute is called `type`: sigma.js (and so Gephi Lite) reads
//! `type` as the program that draws a node and fails on `image`/`tag`
//! (gephi-lite#56), and igraph keeps `type` for bipartite graphs. It is
//! `kind` here and in the GraphML; the Gephi CSV keeps the recipe's `Type`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::xml::{escape, number};
use super::{AtomicFile, ExportData};
use crate::graph::NodeKind;

const NS: &str = "http://gexf.net/1.3";
const NS_VIZ: &str = "http://gexf.net/1.3/viz";
/// What Gephi 0.9/0.10 writes; its importer ignores namespaces anyway.
const NS_GEPHI: &str = "http://www.gexf.net/1.3";
const NS_VIZ_GEPHI: &str = "http://www.gexf.net/1.3/viz";

/// Writes `data` as GEXF to `out`; `today` is the `lastmodifieddate`.
pub(super) fn write(data: &ExportData, out: &Path, today: &str, gephi_compat: bool) -> Result<()> {
    let mut file = AtomicFile::create(out)?;
    write_to(&mut file, data, today, gephi_compat)
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()
}

fn write_to(w: &mut impl Write, data: &ExportData, today: &str, gephi_compat: bool) -> Result<()> {
    let graph = &data.graph;
    let (ns, ns_viz) = if gephi_compat {
        (NS_GEPHI, NS_VIZ_GEPHI)
    } else {
        (NS, NS_VIZ)
    };
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<gexf xmlns="{ns}" xmlns:viz="{ns_viz}" version="1.3">"#
    )?;
    writeln!(
        w,
        r#"  <meta lastmodifieddate="{}"><creator>tagscape {}</creator></meta>"#,
        escape(today),
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(w, r#"  <graph defaultedgetype="undirected" mode="static">"#)?;
    w.write_all(
        br#"    <attributes class="node" mode="static">
      <attribute id="image" title="image" type="string"/>
      <attribute id="kind" title="kind" type="string"/>
      <attribute id="frequency" title="frequency" type="integer"/>
      <attribute id="degree" title="degree" type="integer"/>
      <attribute id="url" title="url" type="string"/>
"#,
    )?;
    if data.clusters.is_some() {
        w.write_all(
            br#"      <attribute id="cluster" title="cluster" type="integer"/>
      <attribute id="cluster_label" title="cluster_label" type="string"/>
"#,
        )?;
    }
    for (id, kind) in data.posts.gexf_attributes() {
        writeln!(
            w,
            r#"      <attribute id="{0}" title="{0}" type="{kind}"/>"#,
            escape(id)
        )?;
    }
    w.write_all(b"    </attributes>\n")?;
    writeln!(w, r#"    <nodes count="{}">"#, graph.nodes.len())?;
    let bar = crate::ui::progress((graph.nodes.len() + graph.edges.len()) as u64, "gexf");
    for (i, node) in graph.nodes.iter().enumerate() {
        let id = escape(&node.id);
        writeln!(
            w,
            r#"      <node id="{id}" label="{}">"#,
            escape(data.label(i))
        )?;
        w.write_all(b"        <attvalues>")?;
        if let Some(thumb) = data.thumbnail(i) {
            write!(w, r#"<attvalue for="image" value="{}"/>"#, escape(thumb))?;
        }
        write!(
            w,
            r#"<attvalue for="kind" value="{}"/><attvalue for="frequency" value="{}"/><attvalue for="degree" value="{}"/>"#,
            node.kind.as_str(),
            node.frequency,
            graph.degree(i)
        )?;
        if node.kind == NodeKind::Image {
            write!(w, r#"<attvalue for="url" value="{id}"/>"#)?;
        }
        let cluster = data.cluster(i);
        if let Some(c) = cluster {
            write!(
                w,
                r#"<attvalue for="cluster" value="{}"/><attvalue for="cluster_label" value="{}"/>"#,
                c.id,
                escape(&c.name)
            )?;
        }
        if data.posts.has(i) {
            let names = data.posts.headers();
            for (name, value) in names.iter().zip(data.posts.cells(i)) {
                if !value.is_empty() {
                    write!(
                        w,
                        r#"<attvalue for="{}" value="{}"/>"#,
                        escape(name),
                        escape(&value)
                    )?;
                }
            }
        }
        w.write_all(b"</attvalues>\n")?;
        writeln!(w, r#"        <viz:size value="{}"/>"#, number(data.size(i)))?;
        if let Some(p) = data.placements.as_ref().map(|p| p[i]) {
            writeln!(
                w,
                r#"        <viz:position x="{}" y="{}" z="0"/>"#,
                number(p.x),
                number(p.y)
            )?;
        }
        let [r, g, b] = data.color(i);
        writeln!(w, r#"        <viz:color r="{r}" g="{g}" b="{b}"/>"#)?;
        w.write_all(b"      </node>\n")?;
        bar.inc(1);
    }
    w.write_all(b"    </nodes>\n")?;
    writeln!(w, r#"    <edges count="{}">"#, graph.edges.len())?;
    for (k, e) in graph.edges.iter().enumerate() {
        writeln!(
            w,
            r#"      <edge id="{k}" source="{}" target="{}" weight="{}"/>"#,
            escape(&graph.nodes[e.source as usize].id),
            escape(&graph.nodes[e.target as usize].id),
            number(e.weight)
        )?;
        bar.inc(1);
    }
    w.write_all(b"    </edges>\n  </graph>\n</gexf>\n")?;
    bar.finish_and_clear();
    Ok(())
}
