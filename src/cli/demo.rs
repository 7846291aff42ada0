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
OUT/project/exports, the map to OUT/map.png, a poster with legend to OUT/poster.png,\n\
the editable OUT/map.svg, the web map OUT/site/index.html and the automatic tour as\n\
OUT/tour.mp4 (PNG frames without ffmpeg); opens the viewer when a display exists.")]
pub struct Args {
    /// Where to put the sample, the project and the outputs.
    #[arg(long, default_value = "tagscape-demo")]
    pub out: PathBuf,
    /// Write the map as a PNG instead of opening the viewer.
    #[arg(long)]
    pub headless: bool,
}

/// The demo picture's width in pixels (the README's picture), the poster's
/// (20 inches at 300 dpi) and the web map's.
const MAP_WIDTH: u32 = 2400;
const POSTER_WIDTH: u32 = 6000;
const SITE_WIDTH: u32 = 8192;

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
        let clusters = crate::export::png::PngStyle {
            hulls: true,
            labels: true,
            ..Default::default()
        };
        let with_legend = crate::export::png::PngStyle {
            legend: true,
            title: Some("tagscape demo: 293 OpenMoji images by their tags".into()),
            dpi: Some(300),
            ..clusters.clone()
        };
        // The outputs of the tutorial, each as a user would ask for it.
        let outputs = [
            (
                ExportFormat::Png,
                map.clone(),
                Some(MAP_WIDTH),
                clusters.clone(),
            ),
            (
                ExportFormat::Png,
                args.out.join("poster.png"),
                Some(POSTER_WIDTH),
                with_legend.clone(),
            ),
            (
                ExportFormat::Svg,
                args.out.join("map.svg"),
                Some(MAP_WIDTH),
                with_legend,
            ),
            (
                ExportFormat::Dzi,
                args.out.join("site"),
                Some(SITE_WIDTH),
                clusters.clone(),
            ),
            (
                ExportFormat::Video,
                args.out.join("tour.mp4"),
                Some(1280),
                clusters,
            ),
        ];
        for (format, out, width, png) in outputs {
            let opts = ExportOptions {
                width,
                height: (format == ExportFormat::Video).then_some(720),
                fps: (format == ExportFormat::Video).then_some(25),
                png,
                ..Default::default()
            };
            ui::summary(crate::export::export(&project, format, &out, &opts)?);
        }
    }
    if args.headless || !crate::viewer::display_available() {
        ui::summary(format_args!(
            "demo done: the map is {}, with a poster, an SVG, a web map (site/index.html) and a tour video beside it (open the project live with `tagscape view {}`)",
            map.display(),
            project.display()
        ));
        return Ok(());
    }
    ui::summary(crate::viewer::open(&project)?);
    Ok(())
}
