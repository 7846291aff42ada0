use std::path::PathBuf;

use crate::export::png::Background;
use crate::export::spreadsheet::Formulas;
use crate::export::tables::{self, Only};
use crate::export::{ExportFormat, ExportOptions, check_destination, export};
use crate::project::{Access, Project};
use crate::safe_output::is_stdout;

/// Write the network (and its layout) for Gephi and other tools.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape export study --format gephi-csv --out gephi/\n  tagscape export study --format gexf --out study.gexf\n  tagscape export study --format clusters --out clusters.csv --excel --formulas escape\n  tagscape export study --format png --out map.png --width 4000\n  tagscape export study --format png --out clusters.png --width 4000 --hulls --labels\n  tagscape export study --format png --out poster.png --width 30000 --dpi 300 --hulls --labels --legend --title \"Protest images, 2020\"\n  tagscape export study --format svg --out map.svg --hulls --labels --legend\n  tagscape export study --format pdf --out map.pdf --width 3000 --dpi 300 --hulls --labels --title \"Protest images, 2020\"\n  tagscape export study --format video --out talk.mp4 --hulls --labels\n  tagscape export study --format frames --tour intro --out slides/\n  tagscape export study --format duplicates --out duplicates.csv\n  tagscape export study --format positions --out - | head\n  tagscape export study --format posts --out posts.csv\n  tagscape export study --format images --cluster 3 --out cluster-3.csv --excel\n  tagscape export study --format originals --cluster \"Protest signs\" --out signs/\n  tagscape export study --format posts --search \"user:alice date:2020-03..2020-06\" --out alice.csv\n  tagscape export study --format gephi-csv --attributes from_user_name,hashtags --out gephi/"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// gexf and gephi-csv open in Gephi; graphml for other tools; positions
    /// is the layout as CSV; png is the map as a picture; svg is the map as
    /// an editable vector page (Inkscape/Illustrator layers: images, hulls,
    /// labels, captions, legend, title) and pdf the same page as a PDF; dzi
    /// is a deep-zoom web page (a folder); video records a tour (MP4) and
    /// frames writes one still per keyframe; duplicates lists the groups of near-identical
    /// images; clusters lists the clusters with their tags and hulls; posts
    /// lists every occurrence of every image (source file, row, the row's
    /// columns); images lists every image with its fetch status, failure
    /// reason, HTTP status, counts and first post; originals copies the
    /// downloaded originals into a folder.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file; a folder for gephi-csv (nodes.csv and edges.csv),
    /// originals and frames. `-` (or a device such as /dev/stdout, or a FIFO) is written
    /// directly, the summary then goes to stderr; a regular file appears only
    /// when complete. Paths inside the project's store are refused.
    #[arg(long)]
    pub out: PathBuf,
    /// Let --out be a symbolic link and write to its target (refused
    /// otherwise, so a link is never replaced by surprise).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Image width in pixels (png, svg, pdf, dzi, video); svg and pdf
    /// default to 1600.
    #[arg(long, value_parser = super::ranges::count::<u32>(super::ranges::PIXELS))]
    pub width: Option<u32>,
    /// Image height in pixels (png, svg, pdf, dzi, video).
    #[arg(long, value_parser = super::ranges::count::<u32>(super::ranges::PIXELS))]
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
    /// PNG, SVG, PDF: the picture's background; transparent keeps an alpha
    /// channel (SVG, PDF: no background rectangle).
    #[arg(long, value_enum, default_value_t)]
    pub background: Background,
    /// PNG: dots per inch recorded in the file, so print software sizes the
    /// poster (e.g. --width 11811 --dpi 300 prints 1 m wide); SVG, PDF: the
    /// page's printed size (width / dpi inches).
    #[arg(long)]
    pub dpi: Option<u32>,
    /// PNG, SVG, PDF: a title above the map, with the collection's attribution line
    /// (how many images from which inputs, drawn by tagscape, the date).
    #[arg(long)]
    pub title: Option<String>,
    /// PNG, SVG, PDF: a key of the clusters' colours and names beside the map.
    #[arg(long)]
    pub legend: bool,
    /// CSV formats: start each file with a UTF-8 byte-order mark, so Excel
    /// shows accents, emoji and non-Latin scripts as they are (Gephi, pandas
    /// and LibreOffice read both).
    #[arg(long)]
    pub excel: bool,
    /// CSV formats: `escape` puts an apostrophe before text that starts with
    /// = + - @ (or an apostrophe), so Excel and LibreOffice show it as text
    /// and never run it as a formula (drop one leading apostrophe to get the
    /// value back); `keep` writes cells as they are. Default: escape for
    /// posts and images (text from anyone on social media); keep for
    /// gephi-csv, positions, clusters and duplicates, whose ids must match
    /// the GEXF's. With escape, gephi-csv ids change alike in both files.
    #[arg(long, value_enum, value_name = "escape|keep")]
    pub formulas: Option<Formulas>,
    /// gephi-csv and gexf: metadata columns of the posts to add as node
    /// attributes (each image's distinct values, joined with `; `). The
    /// counts posts, users, first_date and last_date are always written.
    #[arg(long, value_name = "COL,COL", value_delimiter = ',')]
    pub attributes: Vec<String>,
    /// posts, images and originals: only the images of this cluster (its id
    /// or its name, see `tagscape cluster DIR list`).
    #[arg(long, value_name = "ID|NAME")]
    pub cluster: Option<String>,
    /// posts, images and originals: only the images a search finds, e.g.
    /// "user:alice date:2020-03..2020-06" or "tag:cat lang=de" (terms
    /// combine with AND; see the README's "Searching" section).
    #[arg(long, value_name = "QUERY")]
    pub search: Option<String>,
    /// video and frames: the tour to play (see `tagscape tour DIR list`);
    /// default: the project's `auto` tour, else the automatic one (the whole
    /// map, the largest clusters with their names as captions, the map).
    #[arg(long, value_name = "NAME")]
    pub tour: Option<String>,
    /// video: frames per second (default 30); the video has exactly
    /// duration × fps frames, however long each takes to draw.
    #[arg(long, value_parser = super::ranges::count::<u32>(super::ranges::FPS))]
    pub fps: Option<u32>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let picture = matches!(
        args.format,
        ExportFormat::Png
            | ExportFormat::Svg
            | ExportFormat::Pdf
            | ExportFormat::Dzi
            | ExportFormat::Video
            | ExportFormat::Frames
    );
    let recording = matches!(args.format, ExportFormat::Video | ExportFormat::Frames);
    if (args.tour.is_some() || args.fps.is_some()) && !recording {
        tracing::warn!(
            "--tour/--fps apply to --format video and frames only; ignored for --format {}",
            args.format
        );
    }
    if !picture && (args.width.is_some() || args.height.is_some()) {
        tracing::warn!(
            "--width/--height apply to png, svg, pdf, dzi and video only; ignored for --format {}",
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
            "--hulls/--labels apply to --format png, svg, pdf, video and frames only; ignored for --format {}",
            args.format
        );
    }
    if args.embed && args.format != ExportFormat::Svg {
        tracing::warn!(
            "--embed applies to --format svg only (a PDF always embeds its images); ignored for --format {}",
            args.format
        );
    }
    if (args.dpi.is_some()
        || args.background != Background::White
        || args.title.is_some()
        || args.legend)
        && !picture
    {
        tracing::warn!(
            "--dpi/--background/--title/--legend apply to --format png, svg and pdf only; ignored for --format {}",
            args.format
        );
    }
    if (args.excel || args.formulas.is_some()) && !args.format.is_csv() {
        tracing::warn!(
            "--excel/--formulas apply to the CSV formats only; ignored for --format {}",
            args.format
        );
    }
    if (args.cluster.is_some() || args.search.is_some()) && !args.format.is_table() {
        tracing::warn!(
            "--cluster/--search apply to --format posts, images and originals only; ignored for --format {}",
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
        png: crate::export::png::PngStyle {
            hulls: args.hulls,
            labels: args.labels,
            background: args.background,
            dpi: args.dpi,
            title: args.title,
            legend: args.legend,
            ..Default::default()
        },
        embed: args.embed,
        follow_symlinks: args.follow_symlinks,
        excel: args.excel,
        formulas: args.formulas,
        attributes,
        cluster: args.cluster,
        search: args
            .search
            .as_deref()
            .map(crate::search::Query::parse)
            .transpose()?,
        tour: args.tour,
        fps: args.fps,
    };
    let project = Project::open(&args.dir, Access::Read)?;
    check_destination(&project, args.format, &args.out, &opts)?;
    // The export itself may be going to stdout: then the summary goes to stderr.
    let summary = |line: &dyn std::fmt::Display| {
        if is_stdout(&args.out) {
            crate::ui::note(line);
        } else {
            crate::ui::summary(line);
        }
    };
    if args.format.is_table() {
        let tables = opts.tables(args.format);
        let report = match args.format {
            ExportFormat::Posts => tables::write_posts(&project, &args.out, &tables)?,
            ExportFormat::Images => {
                tables::write_images(&project, &args.out, &tables, Only::Selected)?
            }
            _ => tables::write_originals(&project, &args.out, &tables)?,
        };
        summary(&report);
        return Ok(());
    }
    if args.format == ExportFormat::Duplicates {
        // Not the network: its own summary.
        let report = crate::export::duplicates::write(&project, &args.out, opts.csv(args.format))?;
        summary(&format_args!("wrote {}: {report}", args.out.display()));
        return Ok(());
    }
    if args.format == ExportFormat::Clusters {
        // Not the network: its own summary.
        let n = crate::export::clusters::write(&project, &args.out, opts.csv(args.format))?;
        summary(&format_args!("wrote {}: {n} clusters", args.out.display()));
        return Ok(());
    }
    let report = export(&project, args.format, &args.out, &opts)?;
    summary(&report);
    Ok(())
}
