//! The whole pipeline in one go, for `tagscape run` and `tagscape demo`:
//! the same stages the single commands run, in order, each printing its
//! summary. Every stage leaves its work in the project, so an interrupted run
//! resumes where it stopped when started again.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::export::{ExportFormat, ExportOptions};
use crate::fetch::FetchOptions;
use crate::graph::{Graph, GraphSettings, build_graph};
use crate::layout::{BackendKind, LayoutSettings, map_quality};
use crate::project::{Access, Project};
use crate::tagging::{ImportOptions, TagFormat};
use crate::ui;

/// What `run` and `demo` are asked to do.
pub struct PipelineOptions {
    pub project: PathBuf,
    pub inputs: Vec<PathBuf>,
    pub column: Option<String>,
    pub tags: Option<PathBuf>,
    pub fetch: FetchOptions,
    /// ForceAtlas2 iterations; the project's saved setting (or 500) when `None`.
    pub iterations: Option<u32>,
    pub backend: Option<BackendKind>,
}

/// Where the pipeline left its results.
pub struct PipelineOutcome {
    /// `None` when the project has no tags yet, so no network was built.
    pub exports: Option<PathBuf>,
    /// Images downloaded (now or by an earlier run) and images that failed,
    /// for the exit status.
    pub fetched: u64,
    pub failed: u64,
}

pub fn run_pipeline(opts: &PipelineOptions) -> Result<PipelineOutcome> {
    let mut project = Project::init(&opts.project)?;
    ui::summary(crate::collect::add_inputs(
        &mut project,
        &opts.inputs,
        opts.column.as_deref(),
    )?);
    let fetched = crate::fetch::fetch_and_merge(&mut project, &opts.fetch)?;
    ui::summary(&fetched);
    if let Some(path) = crate::export::tables::write_failures(&project)? {
        ui::summary(format_args!(
            "failed images listed in {} (reason, HTTP status, first post)",
            path.display()
        ));
    }
    let (fetched, failed) = (
        fetched.fetched + fetched.already_done,
        fetched.failed_total(),
    );
    if let Some(tags) = &opts.tags {
        ui::summary(crate::tagging::import_tags(
            &mut project,
            tags,
            TagFormat::Auto,
            &ImportOptions::default(),
        )?);
    }
    let tagged: i64 = project
        .conn()
        .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))?;
    if tagged == 0 {
        ui::summary(format_args!(
            "no tags in {} yet: import a tag table with `tagscape import-tags {} FILE`, then run again",
            opts.project.display(),
            opts.project.display()
        ));
        return Ok(PipelineOutcome {
            exports: None,
            fetched,
            failed,
        });
    }
    // Keep the filters the user chose with `tagscape graph` earlier, if any.
    let settings: GraphSettings = project.setting("graph")?.unwrap_or_default();
    let (graph, summary) = build_graph(&project, &settings)?;
    graph.save(&mut project)?;
    project.set_setting("graph", &settings)?;
    ui::summary(summary);
    // Communities before the layout, which makes each one a region; the
    // project's last `tagscape cluster` settings (and the user's
    // annotations) are kept.
    let cluster_settings: crate::cluster::ClusterSettings =
        project.setting("cluster")?.unwrap_or_default();
    ui::summary(crate::cluster::run_in(&mut project, &cluster_settings)?);
    let mut layout = crate::layout::saved_settings(&project)?;
    if let Some(iterations) = opts.iterations {
        layout.iterations = iterations;
    }
    lay_out(&mut project, &graph, &layout, opts.backend, false)?;
    drop(project);
    let exports = write_exports(&opts.project)?;
    Ok(PipelineOutcome {
        exports: Some(exports),
        fetched,
        failed,
    })
}

/// The layout and the stages that depend on positions (the clusters' hulls
/// and label places), each printing its summary: `tagscape layout`, `run`
/// and `demo` all come through here.
pub fn lay_out(
    project: &mut Project,
    graph: &Graph,
    settings: &LayoutSettings,
    backend: Option<BackendKind>,
    resume: bool,
) -> Result<()> {
    let (report, placed) = crate::layout::run_layout(project, graph, settings, backend, resume)?;
    ui::summary(report);
    ui::summary(after_layout(project, graph, &placed)?);
    Ok(())
}

/// What the stages after the layout made of new positions.
pub struct AfterLayout {
    /// Members outside their hull; `None` when the project has no clusters.
    pub hulls_outside: Option<usize>,
    pub quality: map_quality::MapQuality,
}

impl std::fmt::Display for AfterLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(outside) = self.hulls_outside {
            writeln!(
                f,
                "cluster hulls redrawn for the new layout; {outside} members outside their hull"
            )?;
        }
        write!(f, "{}", self.quality)
    }
}

/// Redraws the clusters' hulls and label places for `placed` (positions
/// just saved), then measures the map and saves its quality figures: after
/// a layout, an undo, or the viewer's Map and Undo.
pub fn after_layout(
    project: &mut Project,
    graph: &Graph,
    placed: &[crate::layout::Placement],
) -> Result<AfterLayout> {
    let hulls_outside = crate::cluster::refresh_hulls(project, graph, placed)?;
    let quality = measure_map(project, graph, placed)?;
    project.set_setting(map_quality::SETTING, &quality)?;
    Ok(AfterLayout {
        hulls_outside,
        quality,
    })
}

/// The map quality figures of `placed` with the project's stored hulls.
pub fn measure_map(
    project: &Project,
    graph: &Graph,
    placed: &[crate::layout::Placement],
) -> Result<map_quality::MapQuality> {
    let hulls: Vec<Vec<[f64; 2]>> = crate::cluster::load_clusters(project)?
        .iter()
        .filter_map(|c| c.hull())
        .map(|h| h.exterior().coords().map(|c| [c.x, c.y]).collect())
        .collect();
    Ok(measure_placements(graph, placed, &hulls))
}

/// The map quality figures of `placed` (images first, as in `graph`) with
/// the clusters' `hulls`.
pub fn measure_placements(
    graph: &Graph,
    placed: &[crate::layout::Placement],
    hulls: &[Vec<[f64; 2]>],
) -> map_quality::MapQuality {
    let images: Vec<map_quality::ImageBox> = placed[..graph.n_images]
        .iter()
        .map(|p| map_quality::ImageBox {
            x: f64::from(p.x),
            y: f64::from(p.y),
            half: f64::from(p.size),
        })
        .collect();
    let tags: Vec<Vec<(u32, f32)>> = (0..graph.n_images)
        .map(|i| {
            graph
                .neighbors(i)
                .map(|(t, w)| (t - graph.n_images as u32, w))
                .collect()
        })
        .collect();
    map_quality::map_quality(&images, &tags, hulls)
}

/// Writes the Gephi files and the positions table into `PROJECT/exports/`.
fn write_exports(dir: &Path) -> Result<PathBuf> {
    let project = Project::open(dir, Access::Read)?;
    let out = dir.join("exports");
    std::fs::create_dir_all(&out)?;
    let opts = ExportOptions::default();
    for (format, path) in [
        (ExportFormat::Gexf, out.join("network.gexf")),
        (ExportFormat::GephiCsv, out.join("gephi")),
        (ExportFormat::Positions, out.join("positions.csv")),
    ] {
        ui::summary(crate::export::export(&project, format, &path, &opts)?);
    }
    Ok(out)
}
