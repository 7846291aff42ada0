use std::path::PathBuf;

use crate::export::{ExportFormat, ExportOptions, export};
use crate::project::{Access, Project};

/// Write the network (and its layout) for Gephi and other tools.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape export study --format gephi-csv --out gephi/\n  tagscape export study --format gexf --out study.gexf\n  tagscape export study --format png --out map.png --width 4000\n  tagscape export study --format png --out clusters.png --width 4000 --hulls --labels\n  tagscape export study --format svg --out map.svg --hulls --labels\n  tagscape export study --format pdf --out map.pdf --hulls --labels\n  tagscape export study --format duplicates --out duplicates.csv\n  tagscape export study --format clusters --out clusters.csv"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// gexf and gephi-csv open in Gephi; graphml for other tools; positions
    /// is the layout as CSV; png is the map as a picture; svg is the map as
    /// an editable vector page (Inkscape/Illustrator layers: images, hulls,
    /// labels, captions, legend) and pdf the same page as a PDF (dzi and
    /// video come later); duplicates lists the groups of near-identical
    /// images; clusters lists the clusters with their tags and hulls.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file; a folder for gephi-csv (nodes.csv and edges.csv).
    #[arg(long)]
    pub out: PathBuf,
    /// Image width in pixels (png, svg, pdf, dzi, video); svg and pdf
    /// default to 1600.
    #[arg(long)]
    pub width: Option<u32>,
    /// Image height in pixels (png, svg, pdf, dzi, video).
    #[arg(long)]
    pub height: Option<u32>,
    /// GEXF: write Gephi's `www.gexf.net` namespace (Gephi reads both; only
    /// the default validates against the official schema).
    #[arg(long)]
    pub gephi_compat: bool,
    /// SVG: embed the images as data URLs (one self-contained file) instead
    /// of linking copies in a folder beside the SVG (OUT_images/).
    #[arg(long)]
    pub embed: bool,
    /// PNG, SVG, PDF: draw each cluster's hull, a translucent shape in its colour
    /// (run `tagscape cluster` first).
    #[arg(long)]
    pub hulls: bool,
    /// PNG, SVG, PDF: draw the cluster names, larger for larger clusters, never
    /// overlapping (run `tagscape cluster` first).
    #[arg(long)]
    pub labels: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    args.format.ensure_built()?;
    let picture = matches!(
        args.format,
        ExportFormat::Png | ExportFormat::Svg | ExportFormat::Pdf
    );
    if args.format.is_built() && !picture && (args.width.is_some() || args.height.is_some()) {
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
    if (args.hulls || args.labels) && !picture {
        tracing::warn!(
            "--hulls/--labels apply to --format png, svg and pdf only; ignored for --format {}",
            args.format
        );
    }
    if args.embed && args.format != ExportFormat::Svg {
        tracing::warn!(
            "--embed applies to --format svg only (a PDF always embeds its images); ignored for --format {}",
            args.format
        );
    }
    let opts = ExportOptions {
        gephi_compat: args.gephi_compat,
        width: args.width,
        height: args.height,
        hulls: args.hulls,
        labels: args.labels,
        embed: args.embed,
    };
    let project = Project::open(&args.dir, Access::Read)?;
    if args.format == ExportFormat::Duplicates {
        // Not the network: its own summary.
        let report = crate::export::duplicates::write(&project, &args.out)?;
        crate::ui::summary(format_args!("wrote {}: {report}", args.out.display()));
        return Ok(());
    }
    if args.format == ExportFormat::Clusters {
        // Not the network: its own summary.
        let n = crate::export::clusters::write(&project, &args.out)?;
        crate::ui::summary(format_args!("wrote {}: {n} clusters", args.out.display()));
        return Ok(());
    }
    let report = export(&project, args.format, &args.out, &opts)?;
    crate::ui::summary(report);
    Ok(())
}
