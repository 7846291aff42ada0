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
mod gephi_csv;
mod gexf;
mod graphml;
mod png;
mod positions;
mod post_attributes;
pub mod tables;
mod xml;

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::OptionalExtension;

use crate::graph::Graph;
use crate::layout::{Placement, load_positions};
use crate::project::Project;

/// The thumbnail level whose folder is Gephi's "Image directory".
const PREVIEW_LEVEL: u32 = 256;

/// The `--format` values of the command-line contract. The raster, deep-zoom
/// and video outputs belong to the renderer of a later issue; they are listed
/// here so the contract is visible and answer "not built yet" until then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Gexf,
    GephiCsv,
    Graphml,
    Positions,
    Png,
    Svg,
    Dzi,
    Video,
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
            ExportFormat::Dzi => "dzi",
            ExportFormat::Video => "video",
            ExportFormat::Duplicates => "duplicates",
            ExportFormat::Clusters => "clusters",
            ExportFormat::Posts => "posts",
            ExportFormat::Images => "images",
            ExportFormat::Originals => "originals",
        }
    }

    /// Whether this version can write the format.
    pub fn is_built(self) -> bool {
        matches!(
            self,
            ExportFormat::Gexf
                | ExportFormat::GephiCsv
                | ExportFormat::Graphml
                | ExportFormat::Positions
                | ExportFormat::Png
                | ExportFormat::Duplicates
                | ExportFormat::Clusters
                | ExportFormat::Posts
                | ExportFormat::Images
                | ExportFormat::Originals
        )
    }

    /// The research-data tables (and the originals folder): not the network,
    /// they read the images and their posts and need no graph.
    pub fn is_table(self) -> bool {
        matches!(
            self,
            ExportFormat::Posts | ExportFormat::Images | ExportFormat::Originals
        )
    }

    /// The "not built yet" answer for the formats of later issues.
    pub fn ensure_built(self) -> Result<()> {
        if !self.is_built() {
            bail!(
                "`--format {self}` is not built yet in this version: use --format gexf and Gephi's Preview"
            );
        }
        Ok(())
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
    /// PNG: draw the clusters' hulls and their labels (`tagscape cluster`
    /// must have run).
    pub hulls: bool,
    pub labels: bool,
    /// gephi-csv and GEXF: posts' metadata columns written as node attributes
    /// (besides the post counts, always written).
    pub attributes: Vec<String>,
    /// posts, images and originals: which cluster, formulas, BOM.
    pub tables: tables::TableOptions,
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
    format.ensure_built()?;
    if format.is_table() {
        bail!("--format {format} is a table of images and posts: use export::tables");
    }
    let data = ExportData::load(project, &opts.attributes)?;
    if format == ExportFormat::Positions && data.placements.is_none() {
        bail!(
            "project {} has no layout yet: run `tagscape layout {}` first (or export --format gexf without positions)",
            project.dir().display(),
            project.dir().display()
        );
    }
    let files = match format {
        ExportFormat::GephiCsv => gephi_csv::write(&data, out)?,
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
            positions::write(&data, out)?;
            vec![out.to_path_buf()]
        }
        ExportFormat::Png => {
            let drawn = png::write(
                project,
                out,
                opts.width,
                opts.height,
                opts.hulls,
                opts.labels,
            )?;
            tracing::info!(
                "drew {}×{} px: {} images, {} as grey placeholders (no thumbnail)",
                drawn.width,
                drawn.height,
                drawn.images,
                drawn.placeholders
            );
            vec![out.to_path_buf()]
        }
        ExportFormat::Duplicates => {
            let report = duplicates::write(project, out)?;
            tracing::info!("{report}");
            vec![out.to_path_buf()]
        }
        ExportFormat::Clusters => {
            let n = clusters::write(project, out)?;
            tracing::info!("{n} clusters");
            vec![out.to_path_buf()]
        }
        ExportFormat::Svg
        | ExportFormat::Dzi
        | ExportFormat::Video
        | ExportFormat::Posts
        | ExportFormat::Images
        | ExportFormat::Originals => {
            format.ensure_built()?;
            bail!("--format {format} has no writer")
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

/// A file written next to its destination and moved over it only when
/// complete, so readers never see half an export.
struct AtomicFile {
    dest: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    fn create(dest: &Path) -> Result<AtomicFile> {
        if dest.is_dir() {
            bail!(
                "{} is a directory: give --out a file name (e.g. {}/network.gexf)",
                dest.display(),
                dest.display()
            );
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".tagscape-export-");
        // Exports are for sharing: readable by others as any new file would
        // be (tempfile's default is owner-only).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let tmp = builder
            .tempfile_in(&parent)
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            writer: BufWriter::new(tmp),
        })
    }

    /// Flushes and renames over the destination. Dropping an unfinished
    /// `AtomicFile` deletes the temporary file instead.
    fn finish(self) -> Result<()> {
        let dest = self.dest;
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", dest.display()))?;
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("cannot write {}", dest.display()))?;
        tmp.persist(&dest)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
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

    #[test]
    fn unfinished_atomic_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.gexf");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"whole").unwrap();
        f.finish().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
    }
}
