use std::path::PathBuf;

use crate::export::spreadsheet::Formulas;
use crate::export::{ExportFormat, ExportOptions, export};
use crate::project::{Access, Project};

/// Write the network (and its layout) for Gephi and other tools.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape export study --format gephi-csv --out gephi/\n  tagscape export study --format gexf --out study.gexf\n  tagscape export study --format clusters --out clusters.csv --excel --formulas escape\n  tagscape export study --format png --out map.png --width 4000\n  tagscape export study --format png --out clusters.png --width 4000 --hulls --labels\n  tagscape export study --format duplicates --out duplicates.csv\n  tagscape export study --format clusters --out clusters.csv"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// gexf and gephi-csv open in Gephi; graphml for other tools; positions
    /// is the layout as CSV; png is the map as a picture (svg, dzi and video
    /// come later); duplicates lists the groups of near-identical images;
    /// clusters lists the clusters with their tags and hulls.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file; a folder for gephi-csv (nodes.csv and edges.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// Image width in pixels (png, svg, dzi, video).
    #[arg(long)]
    pub width: Option<u32>,
    /// Image height in pixels (png, svg, dzi, video).
    #[arg(long)]
    pub height: Option<u32>,
    /// GEXF: write Gephi's `www.gexf.net` namespace (Gephi reads both; only
    /// the default validates against the official schema).
    #[arg(long)]
    pub gephi_compat: bool,
    /// PNG: draw each cluster's hull, a translucent shape in its colour
    /// (run `tagscape cluster` first).
    #[arg(long)]
    pub hulls: bool,
    /// PNG: draw the cluster names, larger for larger clusters, never
    /// overlapping (run `tagscape cluster` first).
    #[arg(long)]
    pub labels: bool,
    /// CSV formats: start each file with a UTF-8 byte-order mark, so Excel
    /// shows accents, emoji and non-Latin scripts as they are (Gephi, pandas
    /// and LibreOffice read both).
    #[arg(long)]
    pub excel: bool,
    /// CSV formats: `escape` puts an apostrophe before text that starts with
    /// = + - @ (or an apostrophe), so Excel and LibreOffice show it as text
    /// and never run it as a formula (drop one leading apostrophe to get the
    /// value back); `keep` writes cells as they are. Default: keep for
    /// gephi-csv, positions, clusters and duplicates, whose ids must match
    /// the GEXF's. With escape, gephi-csv ids change alike in both files.
    #[arg(long, value_enum, value_name = "escape|keep")]
    pub formulas: Option<Formulas>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    args.format.ensure_built()?;
    if args.format.is_built()
        && args.format != ExportFormat::Png
        && (args.width.is_some() || args.height.is_some())
    {
        tracing::warn!(
            "--width/--height apply to png, svg, dzi and video only; ignored for --format {}",
            args.format
        );
    }
    if args.gephi_compat && args.format != ExportFormat::Gexf {
        tracing::warn!(
            "--gephi-compat applies to --format gexf only; ignored for --format {}",
            args.format
        );
    }
    if (args.hulls || args.labels) && args.format != ExportFormat::Png {
        tracing::warn!(
            "--hulls/--labels apply to --format png only; ignored for --format {}",
            args.format
        );
    }
    if (args.excel || args.formulas.is_some()) && !args.format.is_csv() {
        tracing::warn!(
            "--excel/--formulas apply to the CSV formats only; ignored for --format {}",
            args.format
        );
    }
    let opts = ExportOptions {
        gephi_compat: args.gephi_compat,
        width: args.width,
        height: args.height,
        hulls: args.hulls,
        labels: args.labels,
        excel: args.excel,
        formulas: args.formulas,
    };
    let project = Project::open(&args.dir, Access::Read)?;
    if args.format == ExportFormat::Duplicates {
        // Not the network: its own summary.
        let report = crate::export::duplicates::write(&project, &args.out, opts.csv(args.format))?;
        crate::ui::summary(format_args!("wrote {}: {report}", args.out.display()));
        return Ok(());
    }
    if args.format == ExportFormat::Clusters {
        // Not the network: its own summary.
        let n = crate::export::clusters::write(&project, &args.out, opts.csv(args.format))?;
        crate::ui::summary(format_args!("wrote {}: {n} clusters", args.out.display()));
        return Ok(());
    }
    let report = export(&project, args.format, &args.out, &opts)?;
    crate::ui::summary(report);
    Ok(())
}
