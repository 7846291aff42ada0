//! `tagscape export`: the network (and its layout, when there is one) in the
//! files other tools read — Gephi's spreadsheet import, GEXF 1.3 with the viz
//! namespace and the `image` attribute of Gephi's Image Preview plugin,
//! GraphML, and a plain positions table.
//!
//! Every format reads the same `ExportData` (graph, placements, per-image
//! thumbnail and colour) and writes through `AtomicFile`, so a failed export
//! never leaves a half-written file at `--out`.

pub mod clusters;
pub mod duplicates;
pub mod dzi;
mod gephi_csv;
mod gexf;
mod graphml;
pub mod png;
mod positions;
mod post_attributes;
pub mod spreadsheet;
pub mod svg;
pub mod tables;
pub mod video;
mod xml;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::OptionalExtension;

use self::spreadsheet::{CsvOptions, Formulas};
use crate::graph::{Graph, NodeKind};
use crate::layout::{Placement, load_positions};
use crate::project::Project;
use crate::render::overlay::LabelCount;
use crate::safe_output::{self, OutputFile, Policy};

/// The thumbnail level whose folder is Gephi's "Image directory".
const PREVIEW_LEVEL: u32 = 256;

/// Tags are drawn grey, images in their mean colour (light grey until fetched).
const TAG_COLOR: [u8; 3] = [150, 150, 150];
const UNKNOWN_IMAGE_COLOR: [u8; 3] = [200, 200, 200];

/// The `--format` values of the command-line contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Gexf,
    GephiCsv,
    Graphml,
    Positions,
    Png,
    /// The map as an editable vector page (Inkscape/Illustrator layers).
    Svg,
    /// The same page as a PDF, text kept as text.
    Pdf,
    /// The map as a deep-zoom web page (a folder: index.html, map.dzi, tiles).
    Dzi,
    /// A tour recorded as an MP4 (H.264), through ffmpeg.
    Video,
    /// One still per keyframe of a tour, for slides (a folder of PNGs).
    Frames,
    /// Groups of near-identical images (CSV: group, url, frequency, distance).
    Duplicates,
    /// The clusters (CSV: id, name, caption, size, top tags with scores, hull as WKT).
    Clusters,
    /// Every post (occurrence) of every image: URL, source file, row, the row's columns.
    Posts,
    /// Every image: URL, fetch status and failure, frequency, post counts, size, hash, file, cluster, first post.
    Images,
    /// A folder with a copy of each downloaded original and an index.csv.
    Originals,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Gexf => "gexf",
            ExportFormat::GephiCsv => "gephi-csv",
            ExportFormat::Graphml => "graphml",
            ExportFormat::Positions => "positions",
            ExportFormat::Png => "png",
            ExportFormat::Svg => "svg",
            ExportFormat::Pdf => "pdf",
            ExportFormat::Dzi => "dzi",
            ExportFormat::Video => "video",
            ExportFormat::Frames => "frames",
            ExportFormat::Duplicates => "duplicates",
            ExportFormat::Clusters => "clusters",
            ExportFormat::Posts => "posts",
            ExportFormat::Images => "images",
            ExportFormat::Originals => "originals",
        }
    }

    /// The research-data tables (and the originals folder): not the network,
    /// they read the images and their posts and need no graph.
    pub fn is_table(self) -> bool {
        matches!(
            self,
            ExportFormat::Posts | ExportFormat::Images | ExportFormat::Originals
        )
    }

    /// Whether the format is a CSV table (the ones `--excel` and
    /// `--formulas` apply to).
    pub fn is_csv(self) -> bool {
        matches!(
            self,
            ExportFormat::GephiCsv
                | ExportFormat::Positions
                | ExportFormat::Duplicates
                | ExportFormat::Clusters
                | ExportFormat::Posts
                | ExportFormat::Images
        )
    }

    /// How the format writes cells a spreadsheet would run, unless
    /// `--formulas` says otherwise. The network tables keep their cells as
    /// they are: they are ids and names that Gephi and scripts join on, the
    /// same as in the GEXF and GraphML (an apostrophe would become part of
    /// every such id). Tables of posts and images, whose text comes from
    /// anyone on social media, escape.
    pub fn default_formulas(self) -> Formulas {
        match self {
            ExportFormat::Posts | ExportFormat::Images => Formulas::Escape,
            _ => Formulas::Keep,
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Switches that only some formats read.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// GEXF: write Gephi's own `http://www.gexf.net/1.3` namespace instead of
    /// the official one (Gephi imports both; only the official one validates).
    pub gephi_compat: bool,
    /// Raster outputs: picture width in pixels (png needs it), and height
    /// (derived from the layout's shape when not given).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The picture (png, svg, pdf): hulls and labels (`tagscape cluster`
    /// must have run), title, legend, background; DPI (png only).
    pub png: png::PngStyle,
    /// SVG: images as data URLs instead of files beside the SVG.
    pub embed: bool,
    /// `--out` may be a symbolic link: its target is written (else refused).
    pub follow_symlinks: bool,
    /// CSV formats: start each file with a UTF-8 byte-order mark, so Excel
    /// reads it as UTF-8 (`--excel`).
    pub excel: bool,
    /// CSV formats: `--formulas`; `None` keeps the format's default
    /// (`ExportFormat::default_formulas`).
    pub formulas: Option<Formulas>,
    /// gephi-csv and GEXF: posts' metadata columns written as node attributes
    /// (besides the post counts, always written).
    pub attributes: Vec<String>,
    /// posts, images and originals: only this cluster's images (id or name).
    pub cluster: Option<String>,
    /// posts, images and originals: only the images this search finds.
    pub search: Option<crate::search::Query>,
    /// video and frames: the tour to play (the automatic one when `None`)
    /// and the frame rate.
    pub tour: Option<String>,
    pub fps: Option<u32>,
}

impl ExportOptions {
    /// The CSV switches for `format`.
    pub fn csv(&self, format: ExportFormat) -> CsvOptions {
        CsvOptions {
            excel: self.excel,
            formulas: self.formulas.unwrap_or(format.default_formulas()),
        }
    }

    /// The switches of the research-data tables (`ExportFormat::is_table`).
    pub fn tables(&self, format: ExportFormat) -> tables::TableOptions {
        tables::TableOptions {
            csv: self.csv(format),
            cluster: self.cluster.clone(),
            search: self.search.clone(),
        }
    }
}

/// What an export wrote; its `Display` is the command's summary line.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportReport {
    pub format: ExportFormat,
    /// The files written, in the order they are named in the summary.
    pub files: Vec<PathBuf>,
    pub images: usize,
    pub tags: usize,
    pub edges: usize,
    /// Image nodes with a thumbnail named in the `image` column/attribute.
    pub images_with_thumbnail: usize,
    /// Whether positions and layout sizes were written.
    pub with_layout: bool,
    /// The folder to give Gephi's Image Preview plugin as "Image directory"
    /// (absolute), for the formats that carry the `image` attribute.
    pub image_folder: Option<PathBuf>,
    /// What else the summary says (a picture's cluster labels).
    pub note: Option<String>,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        write!(
            f,
            "wrote {}: {} nodes ({} images, {} tags), {} edges",
            files.join(" and "),
            self.images + self.tags,
            self.images,
            self.tags,
            self.edges
        )?;
        if !self.with_layout && self.format != ExportFormat::Positions {
            f.write_str(", no layout yet")?;
        } else if self.format == ExportFormat::GephiCsv {
            // gephi#2775: the spreadsheet import keeps them as plain columns.
            f.write_str(
                "; Gephi's spreadsheet import ignores x, y and size: use --format gexf for the layout",
            )?;
        }
        if let Some(folder) = &self.image_folder {
            if self.images_with_thumbnail == 0 {
                f.write_str("; no thumbnails yet (run `tagscape fetch` for Image Preview)")?;
            } else {
                write!(f, "; Image Preview folder: {}", folder.display())?;
                if self.images_with_thumbnail < self.images {
                    write!(
                        f,
                        " ({} of {} images have a thumbnail)",
                        self.images_with_thumbnail, self.images
                    )?;
                }
            }
        }
        if let Some(note) = &self.note {
            write!(f, "; {note}")?;
        }
        Ok(())
    }
}

/// Writes `project`'s network in `format` to `out` (a directory for
/// `gephi-csv`, a file otherwise).
pub fn export(
    project: &Project,
    format: ExportFormat,
    out: &Path,
    opts: &ExportOptions,
) -> Result<ExportReport> {
    check_destination(project, format, out, opts)?;
    if format.is_table() {
        bail!("--format {format} is a table of images and posts: use export::tables");
    }
    let data = ExportData::load(project, &opts.attributes)?;
    warn_if_stale(project)?;
    if format == ExportFormat::Positions && data.placements.is_none() {
        bail!(
            "project {} has no layout yet: run `tagscape layout {}` first (or export --format gexf without positions)",
            project.dir().display(),
            project.dir().display()
        );
    }
    let mut note = None;
    let files = match format {
        ExportFormat::GephiCsv => gephi_csv::write(&data, out, opts.csv(format))?,
        ExportFormat::Gexf => {
            let today: String = project
                .conn()
                .query_row("SELECT date('now')", [], |r| r.get(0))?;
            gexf::write(&data, out, &today, opts.gephi_compat)?;
            vec![out.to_path_buf()]
        }
        ExportFormat::Graphml => {
            graphml::write(&data, out)?;
            vec![out.to_path_buf()]
        }
        ExportFormat::Positions => {
            positions::write(&data, out, opts.csv(format))?;
            vec![out.to_path_buf()]
        }
        ExportFormat::Png => {
            let drawn = png::write(project, out, opts.width, opts.height, &opts.png)?;
            tracing::info!(
                "drew {}×{} px in {} tiles: {} images, {} as grey placeholders (no thumbnail)",
                drawn.width,
                drawn.height,
                drawn.tiles,
                drawn.images,
                drawn.placeholders
            );
            if drawn.sources.without_original > 0 {
                tracing::warn!(
                    "{} images are larger on the poster than any source the project still holds (their originals are not in {}): drawn from their largest thumbnails, softer than the poster's scale; keep the originals in the project to draw them sharp",
                    drawn.sources.without_original,
                    project.originals_dir().display()
                );
            }
            let notes: Vec<String> = [
                sources_note(&drawn.sources),
                drawn.labels.as_ref().map(|l| labels_note(l, drawn.width)),
            ]
            .into_iter()
            .flatten()
            .collect();
            note = (!notes.is_empty()).then(|| notes.join("; "));
            vec![out.to_path_buf()]
        }
        ExportFormat::Duplicates => {
            let report = duplicates::write(project, out, opts.csv(format))?;
            tracing::info!("{report}");
            vec![out.to_path_buf()]
        }
        ExportFormat::Clusters => {
            let n = clusters::write(project, out, opts.csv(format))?;
            tracing::info!("{n} clusters");
            vec![out.to_path_buf()]
        }
        ExportFormat::Svg | ExportFormat::Pdf => {
            let (w, h) = (opts.width, opts.height);
            let drawn = if format == ExportFormat::Svg {
                svg::write_svg(project, out, w, h, &opts.png, opts.embed)?
            } else {
                svg::write_pdf(project, out, w, h, &opts.png)?
            };
            let labels = drawn.labels.as_ref().map(|l| labels_note(l, drawn.width));
            note = Some(match labels {
                Some(labels) => format!("{drawn}; {labels}"),
                None => drawn.to_string(),
            });
            let mut files = vec![out.to_path_buf()];
            files.extend(drawn.image_folder);
            files
        }
        ExportFormat::Video | ExportFormat::Frames => {
            let options = video::VideoOptions {
                tour: opts.tour.clone(),
                width: opts.width.unwrap_or(1920),
                height: opts.height.unwrap_or(1080),
                fps: opts.fps.unwrap_or(30),
                style: opts.png.clone(),
            };
            let summary = if format == ExportFormat::Video {
                video::write_video(project, out, &options)?
            } else {
                video::write_stills(project, out, &options)?
            };
            let files = summary
                .video
                .iter()
                .chain(&summary.frames_dir)
                .cloned()
                .collect();
            note = Some(summary.to_string());
            files
        }
        ExportFormat::Dzi => {
            let summary = dzi::write(project, out, opts.width, opts.height, &opts.png)?;
            note = Some(summary.to_string());
            vec![out.to_path_buf()]
        }
        ExportFormat::Posts | ExportFormat::Images | ExportFormat::Originals => {
            unreachable!("tables are refused above")
        }
    };
    let carries_image = matches!(format, ExportFormat::GephiCsv | ExportFormat::Gexf);
    let image_folder = if carries_image {
        let folder = project.thumbs_dir().join(PREVIEW_LEVEL.to_string());
        Some(std::path::absolute(&folder).unwrap_or(folder))
    } else {
        None
    };
    let graph = &data.graph;
    Ok(ExportReport {
        format,
        files,
        images: graph.n_images,
        tags: graph.nodes.len() - graph.n_images,
        edges: graph.edges.len(),
        images_with_thumbnail: data.images.iter().filter(|i| i.thumbnail.is_some()).count(),
        with_layout: data.placements.is_some(),
        image_folder,
        note,
    })
}

/// What the exporters know about one image node beyond the graph.
#[derive(Clone, Debug, Default)]
struct ImageInfo {
    /// The 256 px thumbnail, relative to `thumbs/256/`, `/`-separated.
    thumbnail: Option<String>,
    /// Mean colour as (r, g, b).
    mean_color: Option<[u8; 3]>,
}

/// Everything the exporters read, loaded once.
struct ExportData {
    graph: Graph,
    placements: Option<Vec<Placement>>,
    /// Indexed like the image nodes (`0..graph.n_images`).
    images: Vec<ImageInfo>,
    /// The clusters of `tagscape cluster`, when it ran.
    clusters: Option<crate::cluster::NodeClusters>,
    /// Post counts and chosen metadata columns of the image nodes.
    posts: post_attributes::PostAttributes,
}

impl ExportData {
    fn load(project: &Project, attributes: &[String]) -> Result<ExportData> {
        let graph = Graph::load(project)?;
        let placements = load_positions(project, &graph)?;
        let mut stmt = project
            .conn()
            .prepare("SELECT content_hash, thumb_ext, mean_color FROM images WHERE id = ?1")?;
        let preview_dir = project.thumbs_dir().join(PREVIEW_LEVEL.to_string());
        let mut images = Vec::with_capacity(graph.n_images);
        for node in &graph.nodes[..graph.n_images] {
            let row = match node.image_id {
                Some(id) => stmt
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<i64>>(2)?,
                        ))
                    })
                    .optional()
                    .with_context(|| format!("reading image {} from the project", node.id))?,
                None => None,
            };
            let (hash, ext, color) = row.unwrap_or((None, None, None));
            images.push(ImageInfo {
                thumbnail: hash
                    .zip(ext)
                    .and_then(|(h, e)| find_thumbnail(&preview_dir, &h, &e)),
                mean_color: color.map(|c| {
                    let c = c as u32;
                    [(c >> 16) as u8, (c >> 8) as u8, c as u8]
                }),
            });
        }
        let clusters = crate::cluster::load_node_clusters(project, &graph)?;
        let posts = post_attributes::PostAttributes::load(project, &graph, attributes)?;
        Ok(ExportData {
            graph,
            placements,
            images,
            clusters,
            posts,
        })
    }

    /// The node's size: the layout's when there is one, else from its degree.
    fn size(&self, node: usize) -> f32 {
        match &self.placements {
            Some(p) if p[node].size.is_finite() && p[node].size >= 0.0 => p[node].size,
            _ => degree_size(self.graph.degree(node)),
        }
    }

    /// The label shown for a node: an image's file name (as the recipe strips
    /// the URL to it), a tag as given.
    fn label(&self, node: usize) -> &str {
        &self.graph.nodes[node].label
    }

    /// The node's cluster (`tagscape cluster`), when it has one.
    fn cluster(&self, node: usize) -> Option<&crate::cluster::Cluster> {
        self.clusters.as_ref()?.cluster_of(node)
    }

    /// The node's colour: its cluster's when it has one (as Gephi's
    /// partition colouring would), else an image's mean colour (light grey
    /// until fetched) and grey for tags.
    fn color(&self, node: usize) -> [u8; 3] {
        match (self.cluster(node), self.graph.nodes[node].kind) {
            (Some(c), _) => [(c.color >> 16) as u8, (c.color >> 8) as u8, c.color as u8],
            (None, NodeKind::Tag) => TAG_COLOR,
            (None, NodeKind::Image) => self.images[node].mean_color.unwrap_or(UNKNOWN_IMAGE_COLOR),
        }
    }

    /// The thumbnail path relative to the Image Preview folder (images only).
    fn thumbnail(&self, node: usize) -> Option<&str> {
        self.images.get(node)?.thumbnail.as_deref()
    }
}

/// A size that grows with the number of links, as Gephi's "ranking by
/// degree" would, for exports made before any layout.
fn degree_size(degree: u32) -> f32 {
    4.0 + 2.0 * (degree as f32).sqrt()
}

/// The thumbnail's path inside the Image Preview folder, when fetch made
/// one. The hash and extension come from the store, so they are checked
/// before they become a path.
fn find_thumbnail(level_dir: &Path, hash: &str, ext: &str) -> Option<String> {
    let safe = hash.len() > 2
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(ext, "jpg" | "png");
    let name = crate::fetch::store::thumb_name(hash, ext);
    (safe && level_dir.join(&name).is_file()).then_some(name)
}

/// The output file every exporter writes through: a temporary file renamed
/// over a regular destination when complete, or a device, FIFO or stdout
/// written directly (see [`crate::safe_output`]). Destinations are checked
/// against the export's policy by [`check_destination`] before any exporter
/// runs, so links reaching here were allowed.
/// Every export shows its progress on a terminal: the bytes written.
struct AtomicFile {
    file: OutputFile,
    progress: indicatif::ProgressBar,
}

impl AtomicFile {
    fn create(dest: &Path) -> Result<AtomicFile> {
        let policy = Policy {
            follow_symlinks: true,
            ..Policy::default()
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        Ok(AtomicFile {
            file: OutputFile::create(dest, &policy)?,
            progress: crate::ui::bytes_spinner(&name),
        })
    }

    /// Completes the file. Dropping an unfinished `AtomicFile` deletes the
    /// temporary file instead.
    fn finish(self) -> Result<()> {
        self.progress.finish_and_clear();
        self.file.finish()
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The summary's words on the sources of images drawn larger than their
/// 256 px thumbnails; `None` when there were none.
fn sources_note(c: &crate::render::detail::DetailCounts) -> Option<String> {
    let total = c.level + c.original + c.without_original + c.failed;
    if total == 0 {
        return None;
    }
    let mut parts = vec![format!(
        "{} from the 1024 px level ({} made now from the originals)",
        c.level, c.level_made
    )];
    if c.original > 0 {
        parts.push(format!("{} from their originals", c.original));
    }
    if c.without_original > 0 {
        parts.push(format!(
            "{} from a smaller thumbnail (no original)",
            c.without_original
        ));
    }
    if c.failed > 0 {
        parts.push(format!("{} unreadable (grey)", c.failed));
    }
    Some(format!(
        "{total} images drawn larger than 256 px: {}",
        parts.join(", ")
    ))
}

/// The summary's words on a picture's cluster labels: all drawn, or which
/// found no room in their region and what to do.
fn labels_note(labels: &LabelCount, width: u32) -> String {
    let drawn = labels.wanted - labels.unplaced.len();
    if labels.unplaced.is_empty() {
        return format!("all {drawn} cluster labels drawn");
    }
    let names: Vec<String> = labels
        .unplaced
        .iter()
        .take(5)
        .map(|n| format!("{n:?}"))
        .collect();
    let more = labels.unplaced.len() - names.len();
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{drawn} of {} cluster labels drawn, no room in their region for {}{more}: export wider (e.g. --width {}) or give them shorter names with `tagscape cluster DIR rename ID NAME`",
        labels.wanted,
        names.join(", "),
        width.saturating_mul(2),
    )
}

/// The flag that lets `--out` be a symbolic link.
pub const FOLLOW_SYMLINKS_FLAG: &str = "--follow-symlinks";

/// Refuses an `--out` that would damage something: a symbolic link (unless
/// `--follow-symlinks`), a path inside the project's own store, stdout for
/// the folder format. Run before anything is written.
/// Says on stderr which results are older than the network (the export
/// still runs: an old layout is often what the user wants to see).
pub fn warn_if_stale(project: &Project) -> Result<()> {
    for line in crate::project::stages::stale_results(project.conn(), project.dir())? {
        tracing::warn!("{line}");
    }
    Ok(())
}

pub fn check_destination(
    project: &Project,
    format: ExportFormat,
    out: &Path,
    opts: &ExportOptions,
) -> Result<()> {
    let policy = Policy {
        follow_symlinks: opts.follow_symlinks,
        follow_flag: Some(FOLLOW_SYMLINKS_FLAG),
        protect: Some(project.dir().to_path_buf()),
    };
    if format == ExportFormat::GephiCsv {
        if safe_output::is_stdout(out) {
            bail!(
                "--format gephi-csv writes two files (nodes.csv and edges.csv): give --out a folder, not stdout"
            );
        }
        safe_output::check(out, &policy)?;
        for name in [gephi_csv::NODES_FILE, gephi_csv::EDGES_FILE] {
            safe_output::check(&out.join(name), &policy)?;
        }
        return Ok(());
    }
    if matches!(
        format,
        ExportFormat::Video | ExportFormat::Frames | ExportFormat::Dzi
    ) && safe_output::is_stdout(out)
    {
        bail!(
            "--format {format} writes files: give --out a file (video) or a folder (frames, dzi), not stdout"
        );
    }
    if format == ExportFormat::Originals {
        if safe_output::is_stdout(out) {
            bail!("--format originals copies files into a folder: give --out a folder, not stdout");
        }
        safe_output::check(out, &policy)?;
        return safe_output::check(&out.join(tables::INDEX_FILE), &policy);
    }
    safe_output::check(out, &policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_lookup_needs_the_file_and_rejects_hostile_names() {
        let dir = tempfile::tempdir().unwrap();
        let hash = "ab".to_string() + &"0".repeat(62);
        assert_eq!(find_thumbnail(dir.path(), &hash, "png"), None);
        std::fs::create_dir_all(dir.path().join("ab")).unwrap();
        std::fs::write(dir.path().join("ab").join(format!("{hash}.png")), b"x").unwrap();
        assert_eq!(
            find_thumbnail(dir.path(), &hash, "png"),
            Some(format!("ab/{hash}.png"))
        );
        assert_eq!(find_thumbnail(dir.path(), &hash, "../png"), None);
        assert_eq!(find_thumbnail(dir.path(), "../../etc/passwd", "png"), None);
    }
}
