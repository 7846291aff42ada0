//! The layout as a plain table, `id,type,label,x,y,size,cluster`, for
//! scripts and other tools. `cluster` is the id of `tagscape cluster`
//! (empty before it ran, and for nodes in no cluster).

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::spreadsheet::CsvOptions;
use super::{AtomicFile, ExportData};

const HEADER: [&str; 7] = ["id", "type", "label", "x", "y", "size", "cluster"];

pub(super) fn write(data: &ExportData, out: &Path, opts: CsvOptions) -> Result<()> {
    let Some(placements) = &data.placements else {
        bail!("the project has no layout yet: run `tagscape layout DIR` first");
    };
    let mut file = AtomicFile::create(out)?;
    opts.start(&mut file)
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut csv = csv::Writer::from_writer(file);
    let written: Result<()> = (|| {
        csv.write_record(HEADER)?;
        for (i, (node, p)) in data.graph.nodes.iter().zip(placements).enumerate() {
            csv.write_record([
                opts.formulas.cell(&node.id).as_ref(),
                node.kind.as_str(),
                &opts.formulas.cell(data.label(i)),
                &p.x.to_string(),
                &p.y.to_string(),
                &data.size(i).to_string(),
                &data
                    .cluster(i)
                    .map(|c| c.id.to_string())
                    .unwrap_or_default(),
            ])?;
        }
        Ok(())
    })();
    written.with_context(|| format!("cannot write {}", out.display()))?;
    let file = csv
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", out.display()))?;
    file.finish()
}
