//! Gephi's spreadsheet import (FORMATS.md (h)): `edges.csv` and `nodes.csv`
//! exactly as the recipe builds them by hand, so "Import spreadsheet" takes
//! them as they are (edges first, then nodes with "Append to existing
//! workspace").

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{AtomicFile, ExportData};

pub const EDGES_FILE: &str = "edges.csv";
pub const NODES_FILE: &str = "nodes.csv";

/// The recipe's edge table; nothing else, so it matches it header for header.
const EDGE_HEADER: [&str; 3] = ["Source", "Target", "Weight"];
/// The recipe's node columns, always present.
const NODE_HEADER: [&str; 6] = ["Id", "Label", "Type", "image", "frequency", "degree"];
/// Appended when the project has a layout.
const LAYOUT_HEADER: [&str; 3] = ["x", "y", "size"];
/// Appended when the project has clusters: the id and the name shown.
const CLUSTER_HEADER: [&str; 2] = ["cluster", "cluster_label"];

/// Writes `out/edges.csv` and `out/nodes.csv`; both appear only once both
/// are complete.
pub(super) fn write(data: &ExportData, out: &Path) -> Result<Vec<PathBuf>> {
    if out.is_file() {
        bail!(
            "{} is a file: --format gephi-csv writes nodes.csv and edges.csv into a folder, give --out a folder (e.g. gephi/)",
            out.display()
        );
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the folder {}", out.display()))?;
    let edges_path = out.join(EDGES_FILE);
    let nodes_path = out.join(NODES_FILE);
    let edges = write_edges(data, AtomicFile::create(&edges_path)?)
        .with_context(|| format!("cannot write {}", edges_path.display()))?;
    let nodes = write_nodes(data, AtomicFile::create(&nodes_path)?)
        .with_context(|| format!("cannot write {}", nodes_path.display()))?;
    edges.finish()?;
    nodes.finish()?;
    Ok(vec![nodes_path, edges_path])
}

fn write_edges(data: &ExportData, file: AtomicFile) -> Result<AtomicFile> {
    let graph = &data.graph;
    let mut csv = csv::Writer::from_writer(file);
    csv.write_record(EDGE_HEADER)?;
    for e in &graph.edges {
        csv.write_record([
            graph.nodes[e.source as usize].id.as_str(),
            graph.nodes[e.target as usize].id.as_str(),
            &e.weight.to_string(),
        ])?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

fn write_nodes(data: &ExportData, file: AtomicFile) -> Result<AtomicFile> {
    let graph = &data.graph;
    let mut csv = csv::Writer::from_writer(file);
    let mut header: Vec<&str> = NODE_HEADER.to_vec();
    if data.placements.is_some() {
        header.extend(LAYOUT_HEADER);
    }
    if data.clusters.is_some() {
        header.extend(CLUSTER_HEADER);
    }
    header.extend(data.posts.headers());
    csv.write_record(&header)?;
    for (i, node) in graph.nodes.iter().enumerate() {
        let mut row = vec![
            node.id.clone(),
            data.label(i).to_string(),
            node.kind.as_str().to_string(),
            data.thumbnail(i).unwrap_or_default().to_string(),
            node.frequency.to_string(),
            graph.degree(i).to_string(),
        ];
        if let Some(p) = data.placements.as_ref().map(|p| p[i]) {
            row.extend([p.x.to_string(), p.y.to_string(), data.size(i).to_string()]);
        }
        if data.clusters.is_some() {
            let cluster = data.cluster(i);
            row.push(cluster.map(|c| c.id.to_string()).unwrap_or_default());
            row.push(cluster.map(|c| c.name.clone()).unwrap_or_default());
        }
        row.extend(data.posts.cells(i));
        csv.write_record(&row)?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}
