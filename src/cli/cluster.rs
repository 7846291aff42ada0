//! `tagscape cluster`: detect, label and outline the clusters; with a
//! subcommand, annotate them (each change saved in the project at once).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cluster::{
    ClusterSettings, Method, Network, annotations, load_clusters, parse_color, run_in,
};
use crate::graph::Graph;
use crate::layout::load_positions;
use crate::project::{Access, Project};
use crate::ui;

/// Detect communities (Leiden, seeded), label them by their distinctive
/// tags and outline them in the layout; or annotate them.
///
/// Without a subcommand the clusters are detected again; settings not given
/// come from the project's last run, else the defaults. Names, captions,
/// colours, hidden flags, merges and lassos made before are kept: they
/// follow their group of images, not the cluster number.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape cluster study --resolution 1.0 --seed 42\n  tagscape cluster study list\n  tagscape cluster study rename 3 \"Protest signs\"\n  tagscape cluster study merge 4 7\n  tagscape cluster study lasso --name Memes https://x.org/a.jpg https://x.org/b.jpg"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// leiden (default) or louvain.
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// image-tag (default): the bipartite graph; co-tag: images linked by
    /// the cosine similarity of their tags.
    #[arg(long, value_enum)]
    pub network: Option<Network>,
    /// Modularity resolution: higher gives more, smaller clusters. Default 1.
    #[arg(long, value_parser = super::ranges::float(0.0001, 1000.0))]
    pub resolution: Option<f64>,
    /// Random seed: the same graph and seed give the same clusters. Default 42.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Clusters with fewer images are folded into "other". Default 5.
    #[arg(long, value_parser = super::ranges::count::<usize>((0, u32::MAX as u64)))]
    pub min_size: Option<usize>,
    /// Forget the saved detection settings: start from the defaults (then
    /// the flags given apply).
    #[arg(long)]
    pub reset: bool,
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// List the clusters: id, size, name, top tags, hull.
    #[command(after_help = "Example:\n  tagscape cluster study list")]
    List,
    /// Name a cluster (an empty NAME goes back to the automatic one).
    #[command(after_help = "Example:\n  tagscape cluster study rename 3 \"Protest signs\"")]
    Rename { id: i64, name: String },
    /// Write a caption for a cluster (empty: remove it).
    #[command(
        after_help = "Example:\n  tagscape cluster study caption 3 \"Hand-made signs, mostly March 2024\""
    )]
    Caption { id: i64, text: String },
    /// Colour a cluster, #rrggbb (or `auto` for the palette's).
    #[command(after_help = "Example:\n  tagscape cluster study color 3 \"#e15759\"")]
    Color { id: i64, color: String },
    /// Hide a cluster's hull and label.
    #[command(after_help = "Example:\n  tagscape cluster study hide 9")]
    Hide { id: i64 },
    /// Show a hidden cluster again.
    #[command(after_help = "Example:\n  tagscape cluster study show 9")]
    Show { id: i64 },
    /// Merge clusters into the one with the lowest id.
    #[command(after_help = "Example:\n  tagscape cluster study merge 4 7 12")]
    Merge {
        #[arg(required = true, num_args = 2..)]
        ids: Vec<i64>,
    },
    /// Move images (by URL, as in nodes.csv's Id) into a new cluster.
    #[command(
        after_help = "Example:\n  tagscape cluster study lasso --name Memes --from memes.txt"
    )]
    Lasso {
        /// Name of the new cluster.
        #[arg(long)]
        name: Option<String>,
        /// A file with one image URL per line (added to those given).
        #[arg(long)]
        from: Option<PathBuf>,
        urls: Vec<String>,
    },
}

pub fn run(args: Args) -> Result<()> {
    // Listing only reads: it works while a fetch or the viewer writes.
    let access = if matches!(args.action, Some(Action::List)) {
        Access::Read
    } else {
        Access::Write
    };
    let mut project = Project::open(&args.dir, access)?;
    let Some(action) = args.action else {
        let saved: Option<ClusterSettings> = if args.reset {
            None
        } else {
            project.setting("cluster")?
        };
        let mut settings = saved.unwrap_or_default();
        if let Some(m) = args.method {
            settings.detect.method = m;
        }
        if let Some(n) = args.network {
            settings.detect.network = n;
        }
        if let Some(r) = args.resolution {
            settings.detect.resolution = r;
        }
        if let Some(s) = args.seed {
            settings.detect.seed = s;
        }
        if let Some(m) = args.min_size {
            settings.min_size = m;
        }
        let report = run_in(&mut project, &settings)?;
        ui::summary(report);
        let differences =
            crate::project::setting_differences(&settings, &ClusterSettings::default());
        if let Some(line) = crate::project::non_default_line("cluster", &differences) {
            ui::summary(line);
        }
        return Ok(());
    };
    if args.method.is_some()
        || args.network.is_some()
        || args.resolution.is_some()
        || args.seed.is_some()
        || args.min_size.is_some()
        || args.reset
    {
        anyhow::bail!(
            "--method, --network, --resolution, --seed, --min-size and --reset apply to detection: run `tagscape cluster {}` with them and no subcommand",
            args.dir.display()
        );
    }
    match action {
        Action::List => list(&project)?,
        Action::Rename { id, name } => {
            annotations::rename(&mut project, id, Some(&name))?;
            ui::summary(format_args!("cluster {id} renamed"));
        }
        Action::Caption { id, text } => {
            annotations::set_caption(&mut project, id, Some(&text))?;
            ui::summary(format_args!("cluster {id}: caption saved"));
        }
        Action::Color { id, color } => {
            let rgb = if color.eq_ignore_ascii_case("auto") {
                None
            } else {
                Some(parse_color(&color)?)
            };
            annotations::set_color(&mut project, id, rgb)?;
            ui::summary(format_args!("cluster {id}: colour saved"));
        }
        Action::Hide { id } => {
            annotations::set_hidden(&mut project, id, true)?;
            ui::summary(format_args!("cluster {id} hidden"));
        }
        Action::Show { id } => {
            annotations::set_hidden(&mut project, id, false)?;
            ui::summary(format_args!("cluster {id} shown"));
        }
        Action::Merge { ids } => {
            let graph = Graph::load(&project)?;
            let placements = load_positions(&project, &graph)?;
            let kept = annotations::merge(&mut project, &graph, placements.as_deref(), &ids)?;
            ui::summary(format_args!("merged into cluster {kept}"));
        }
        Action::Lasso { name, from, urls } => {
            let mut urls = urls;
            if let Some(file) = from {
                let text = crate::text_input::read_to_string(&file, crate::text_input::Caps::LIST)
                    .context("give a text file of image URLs, one per line")?;
                urls.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from),
                );
            }
            let graph = Graph::load(&project)?;
            let images = annotations::images_by_id(&graph, &urls)?;
            let placements = load_positions(&project, &graph)?;
            let id = annotations::lasso(
                &mut project,
                &graph,
                placements.as_deref(),
                &images,
                name.as_deref(),
            )?;
            ui::summary(format_args!(
                "{} images moved into the new cluster {id}",
                images.len()
            ));
        }
    }
    Ok(())
}

fn list(project: &Project) -> Result<()> {
    let clusters = load_clusters(project)?;
    if clusters.is_empty() {
        anyhow::bail!(
            "project {} has no clusters yet: run `tagscape cluster {}` first",
            project.dir().display(),
            project.dir().display()
        );
    }
    // Written by hand, not println!, so `| head` ends the listing quietly.
    let mut out = std::io::stdout().lock();
    for c in &clusters {
        let top: Vec<String> = c
            .labels
            .iter()
            .take(5)
            .map(|t| format!("{} ({})", t.tag, ui::Figure(t.score, 2)))
            .collect();
        // Names and tags come from inputs: no escape sequence reaches the terminal.
        let text = format!(
            "{:>4}  {:>6} images  {}{}  [{}]{}",
            c.id,
            c.size,
            c.name,
            if c.hidden { " (hidden)" } else { "" },
            top.join(", "),
            c.outside_hull
                .map(|o| format!("  {o} outside hull"))
                .unwrap_or_default()
        );
        let line = writeln!(out, "{}", crate::terminal::clean_inline(&text));
        if let Err(e) = line {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e).context("writing the cluster list");
        }
    }
    ui::summary(format_args!("{} clusters", clusters.len()));
    Ok(())
}
