//! The whole pipeline in one go, for `tagscape run` and `tagscape demo`:
//! the same stages the single commands run, in order, each printing its
//! summary. Every stage leaves its work in the project, so an interrupted run
//! resumes where it stopped when started again.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::export::{ExportFormat, ExportOptions};
use crate::fetch::FetchOptions;
use crate::graph::{GraphSettings, build_graph};
use crate::layout::BackendKind;
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
}

pub fn run_pipeline(opts: &PipelineOptions) -> Result<PipelineOutcome> {
    let mut project = Project::init(&opts.project)?;
    ui::summary(crate::collect::add_inputs(
        &mut project,
        &opts.inputs,
        opts.column.as_deref(),
    )?);
    ui::summary(crate::fetch::fetch_images(&mut project, &opts.fetch)?);
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
        return Ok(PipelineOutcome { exports: None });
    }
    // Keep the filters the user chose with `tagscape graph` earlier, if any.
    let settings: GraphSettings = project.setting("graph")?.unwrap_or_default();
    let (graph, summary) = build_graph(&project, &settings)?;
    graph.save(&mut project)?;
    project.set_setting("graph", &settings)?;
    ui::summary(summary);
    let mut layout = crate::layout::saved_settings(&project)?;
    if let Some(iterations) = opts.iterations {
        layout.iterations = iterations;
    }
    ui::summary(crate::layout::run_layout(
        &mut project,
        &layout,
        opts.backend,
        false,
    )?);
    // Clusters after the layout, so they get hulls; the project's last
    // `tagscape cluster` settings (and the user's annotations) are kept.
    let cluster_settings: crate::cluster::ClusterSettings =
        project.setting("cluster")?.unwrap_or_default();
    ui::summary(crate::cluster::run_in(&mut project, &cluster_settings)?);
    drop(project);
    let exports = write_exports(&opts.project)?;
    Ok(PipelineOutcome {
        exports: Some(exports),
    })
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
