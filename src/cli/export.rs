use std::path::PathBuf;

use crate::export::tables::{self, Only, TableOptions};
use crate::export::{ExportFormat, ExportOptions, export};
use crate::project::{Access, Project};

/// Write the network (and its layout) for Gephi and other tools.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape export study --format gephi-csv --out gephi/\n  tagscape export study --format gexf --out study.gexf\n  tagscape export study --format png --out map.png --width 4000\n  tagscape export study --format png --out clusters.png --width 4000 --hulls --labels\n  tagscape export study --format duplicates --out duplicates.csv\n  tagscape export study --format clusters --out clusters.csv\n  tagscape export study --format posts --out posts.csv\n  tagscape export study --format images --cluster 3 --out cluster-3.csv --excel\n  tagscape export study --format originals --cluster \"Protest signs\" --out signs/\n  tagscape export study --format gephi-csv --attributes from_user_name,hashtags --out gephi/"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// gexf and gephi-csv open in Gephi; graphml for other tools; positions
    /// is the layout as CSV; png is the map as a picture (svg, dzi and video
    /// come later); duplicates lists the groups of near-identical images;
    /// clusters lists the clusters with their tags and hulls; posts lists
    /// every occurrence of every image (source file, row, the row's
    /// columns); images lists every image with its fetch status, failure
    /// reason, HTTP status, counts and first post; originals copies the
    /// downloaded originals into a folder.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file; a folder for gephi-csv (nodes.csv and edges.csv) and
    /// originals.
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
    /// gephi-csv and gexf: metadata columns of the posts to add as node
    /// attributes (each image's distinct values, joined with `; `). The
    /// counts posts, users, first_date and last_date are always written.
    #[arg(long, value_name = "COL,COL", value_delimiter = ',')]
    pub attributes: Vec<String>,
    /// posts, images and originals: only the images of this cluster (its id
    /// or its name, see `tagscape cluster DIR list`).
    #[arg(long, value_name = "ID|NAME")]
    pub cluster: Option<String>,
    /// posts and images: write cells starting with = + - @ as they are. By
    /// default they get a leading ' so spreadsheets show them as text
    /// instead of running them as formulas.
    #[arg(long)]
    pub keep_formulas: bool,
    /// posts and images: start the file with a UTF-8 byte order mark, so
    /// Excel opens it as UTF-8.
    #[arg(long)]
    pub excel: bool,
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
    let for_tables = args.format.is_table();
    if args.cluster.is_some() && !for_tables {
        tracing::warn!(
            "--cluster applies to --format posts, images and originals only; ignored for --format {}",
            args.format
        );
    }
    if (args.keep_formulas || args.excel)
        && !matches!(args.format, ExportFormat::Posts | ExportFormat::Images)
    {
        tracing::warn!(
            "--keep-formulas/--excel apply to --format posts and images only; ignored for --format {}",
            args.format
        );
    }
    let attributes: Vec<String> = args
        .attributes
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if !attributes.is_empty() && !matches!(args.format, ExportFormat::GephiCsv | ExportFormat::Gexf)
    {
        tracing::warn!(
            "--attributes applies to --format gephi-csv and gexf only; ignored for --format {}",
            args.format
        );
    }
    let opts = ExportOptions {
        gephi_compat: args.gephi_compat,
        width: args.width,
        height: args.height,
        hulls: args.hulls,
        labels: args.labels,
        attributes,
        tables: TableOptions {
            keep_formulas: args.keep_formulas,
            excel: args.excel,
            cluster: args.cluster.clone(),
        },
    };
    let project = Project::open(&args.dir, Access::Read)?;
    if for_tables {
        let report = match args.format {
            ExportFormat::Posts => tables::write_posts(&project, &args.out, &opts.tables)?,
            ExportFormat::Images => {
                tables::write_images(&project, &args.out, &opts.tables, Only::Selected)?
            }
            _ => tables::write_originals(&project, &args.out, &opts.tables)?,
        };
        crate::ui::summary(report);
        return Ok(());
    }
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
