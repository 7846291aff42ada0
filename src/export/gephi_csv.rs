//! Gephi's spreadsheet import (FORMATS.md (h)): `edges.csv` and `nodes.csv`
//! as the recipe builds them by hand, written so that Gephi reads back every
//! cell as written. Gephi 0.10 parses them with Apache Commons CSV set up by
//! `SpreadsheetUtils.configureCSVParser` (separator `,`, quote `"`, escape
//! `\`, values trimmed) and types each column from its first 25 rows
//! (`AbstractImporterSpreadsheet`). Hence:
//!
//! - every backslash is doubled: Gephi turns `\n` into a newline, `\t` into
//!   a tab and `\,` into a comma that no longer separates cells (the row is
//!   then refused with its edges);
//! - floats always have a fractional part (`10.0`), or a column whose first
//!   25 values are whole numbers becomes Integer and refuses `22.3` later;
//! - `edges.csv` has `Type` = `Undirected`, or Gephi makes every edge
//!   directed (`ImportEdgesProcess`), unlike the GEXF.
//!
//! Gephi's spreadsheet import keeps `x`, `y` and `size` as plain columns, not
//! as positions (gephi#2775): the GEXF carries the layout.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::spreadsheet::CsvOptions;
use super::{AtomicFile, ExportData};

pub const EDGES_FILE: &str = "edges.csv";
pub const NODES_FILE: &str = "nodes.csv";

/// The recipe's edge table, plus the direction Gephi reads from `Type`.
const EDGE_HEADER: [&str; 4] = ["Source", "Target", "Weight", "Type"];
/// Every edge of the image–tag network is undirected, as in the GEXF.
const UNDIRECTED: &str = "Undirected";
/// The recipe's node columns, always present (`Type`: image or tag).
const NODE_HEADER: [&str; 6] = ["Id", "Label", "Type", "image", "frequency", "degree"];
/// Appended when the project has a layout.
const LAYOUT_HEADER: [&str; 3] = ["x", "y", "size"];
/// Appended when the project has clusters: the id and the name shown.
const CLUSTER_HEADER: [&str; 2] = ["cluster", "cluster_label"];

/// Writes `out/edges.csv` and `out/nodes.csv`; both appear only once both
/// are complete.
pub(super) fn write(data: &ExportData, out: &Path, opts: CsvOptions) -> Result<Vec<PathBuf>> {
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
    let edges = write_edges(data, AtomicFile::create(&edges_path)?, opts)
        .with_context(|| format!("cannot write {}", edges_path.display()))?;
    let nodes = write_nodes(data, AtomicFile::create(&nodes_path)?, opts)
        .with_context(|| format!("cannot write {}", nodes_path.display()))?;
    edges.finish()?;
    nodes.finish()?;
    Ok(vec![nodes_path, edges_path])
}

/// A text cell that Gephi's parser gives back as `text`: formulas handled
/// as `opts` says, then every backslash doubled (Gephi's escape character).
/// Ids go through here too, in both files alike, so edges still meet their
/// nodes whatever the options.
fn text<'a>(opts: &CsvOptions, text: &'a str) -> Cow<'a, str> {
    match opts.formulas.cell(text) {
        cell if cell.contains('\\') => Cow::Owned(cell.replace('\\', r"\\")),
        cell => cell,
    }
}

/// A float cell with a fractional part always (`10.0`, not `10`), so Gephi
/// types the column Double whatever its first 25 values are. Non-finite
/// values are left empty: Gephi would refuse `inf` and demote the column.
fn float(v: f32) -> String {
    if !v.is_finite() {
        return String::new();
    }
    // Rust's Display never uses an exponent and writes whole numbers bare.
    let mut s = v.to_string();
    if !s.contains('.') {
        s.push_str(".0");
    }
    s
}

fn write_edges(data: &ExportData, mut file: AtomicFile, opts: CsvOptions) -> Result<AtomicFile> {
    let graph = &data.graph;
    opts.start(&mut file)?;
    let mut csv = csv::Writer::from_writer(file);
    csv.write_record(EDGE_HEADER)?;
    for e in &graph.edges {
        csv.write_record([
            text(&opts, &graph.nodes[e.source as usize].id).as_ref(),
            text(&opts, &graph.nodes[e.target as usize].id).as_ref(),
            &float(e.weight),
            UNDIRECTED,
        ])?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

fn write_nodes(data: &ExportData, mut file: AtomicFile, opts: CsvOptions) -> Result<AtomicFile> {
    let graph = &data.graph;
    opts.start(&mut file)?;
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
            text(&opts, &node.id).into_owned(),
            text(&opts, data.label(i)).into_owned(),
            node.kind.as_str().to_string(),
            text(&opts, data.thumbnail(i).unwrap_or_default()).into_owned(),
            node.frequency.to_string(),
            graph.degree(i).to_string(),
        ];
        if let Some(p) = data.placements.as_ref().map(|p| p[i]) {
            row.extend([float(p.x), float(p.y), float(data.size(i))]);
        }
        if data.clusters.is_some() {
            let cluster = data.cluster(i);
            row.push(cluster.map(|c| c.id.to_string()).unwrap_or_default());
            row.push(
                cluster
                    .map(|c| text(&opts, &c.name).into_owned())
                    .unwrap_or_default(),
            );
        }
        row.extend(data.posts.cells(i));
        csv.write_record(&row)?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::spreadsheet::Formulas;

    #[test]
    fn floats_always_have_a_fraction_and_non_finite_is_empty() {
        assert_eq!(float(10.0), "10.0");
        assert_eq!(float(-3.0), "-3.0");
        assert_eq!(float(0.25), "0.25");
        assert_eq!(float(22.3), "22.3");
        assert_eq!(float(1e20), "100000000000000000000.0");
        assert_eq!(float(f32::NAN), "");
        assert_eq!(float(f32::INFINITY), "");
    }

    #[test]
    fn backslashes_double_after_formulas_are_handled() {
        let keep = CsvOptions {
            excel: false,
            formulas: Formulas::Keep,
        };
        let escape = CsvOptions {
            formulas: Formulas::Escape,
            ..keep
        };
        assert_eq!(text(&keep, r"C:\new\tab"), r"C:\\new\\tab");
        assert_eq!(text(&keep, r"ends\"), r"ends\\");
        assert_eq!(text(&keep, "=SUM(A1)"), "=SUM(A1)");
        assert_eq!(text(&escape, r"=A1\"), r"'=A1\\");
        assert!(matches!(text(&keep, "plain"), Cow::Borrowed("plain")));
    }
}
