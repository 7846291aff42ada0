use std::path::PathBuf;

use anyhow::Result;

use crate::export::{ExportFormat, ExportOptions};
use crate::fetch::FetchOptions;
use crate::pipeline::{PipelineOptions, run_pipeline};
use crate::project::{Access, Project};

use crate::ui;

/// Run the whole pipeline on the embedded sample collection (293 OpenMoji images with tags).
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  tagscape demo --out demo-out --headless\n\n\
Writes the sample to OUT/sample, the project to OUT/project, the Gephi files to\n\
OUT/project/exports and the map to OUT/map.png; opens the viewer when a display exists.")]
pub struct Args {
    /// Where to put the sample, the project and the outputs.
    #[arg(long, default_value = "tagscape-demo")]
    pub out: PathBuf,
    /// Write the map as a PNG instead of opening the viewer.
    #[arg(long)]
    pub headless: bool,
}

/// The demo picture's width in pixels.
const MAP_WIDTH: u32 = 2400;

pub fn run(args: Args) -> Result<()> {
    let sample = crate::demo::extract_sample(&args.out.join("sample"))?;
    let project = args.out.join("project");
    crate::demo::prepare_project(&project)?;
    let outcome = run_pipeline(&PipelineOptions {
        project: project.clone(),
        inputs: vec![sample.images],
        column: Some("image".into()),
        tags: Some(sample.tags),
        fetch: FetchOptions::default(),
        iterations: None,
        backend: None,
    })?;
    if let Some(exports) = &outcome.exports {
        ui::summary(format_args!("Gephi files: {}", exports.display()));
    }
    let map = args.out.join("map.png");
    {
        let project = Project::open(&project, Access::Read)?;
        let opts = ExportOptions {
            width: Some(MAP_WIDTH),
            png: crate::export::png::PngStyle {
                hulls: true,
                labels: true,
                ..Default::default()
            },
            ..Default::default()
        };
        ui::summary(crate::export::export(
            &project,
            ExportFormat::Png,
            &map,
            &opts,
        )?);
    }
    if args.headless || !crate::viewer::display_available() {
        ui::summary(format_args!(
            "demo done: the map is {} (open the project live with `tagscape view {}`)",
            map.display(),
            project.display()
        ));
        return Ok(());
    }
    ui::summary(crate::viewer::open(&project)?);
    Ok(())
}
