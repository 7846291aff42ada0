//! `tagscape layout`: ForceAtlas2 on the project's graph, positions and sizes
//! saved to the project (and so to every export).

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::layout::{
    BackendKind, LayoutSettings, SizeBy, SizeSettings, default_settings, load_positions,
    saved_settings, undo_positions,
};
use crate::pipeline::lay_out;
use crate::project::{Access, Project};
use crate::ui;

/// Lay the graph out with ForceAtlas2 (Gephi's algorithm and settings).
///
/// Settings not given on the command line come from the project's last
/// layout run, else Gephi's defaults; the settings used are saved.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape layout study --iterations 1000 --seed 7 --size-by frequency\n  tagscape layout study --continue --until-converged --backend cpu\n  tagscape layout study --plain --lin-log --gravity 0.5   # Gephi's ForceAtlas2 as is"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Iterations to run (the cap with --until-converged). Default 500.
    #[arg(long, visible_alias = "max-iterations", value_parser = super::ranges::count::<u32>(super::ranges::ITERATIONS))]
    pub iterations: Option<u32>,
    /// Seed of the random start positions.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop once the layout has settled: over the last 10 iterations the
    /// nodes moved on average less than --convergence-movement times the
    /// layout's radius (a threshold that fits every graph size).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub until_converged: Option<bool>,
    /// Threshold for --until-converged, as a fraction of the layout's RMS
    /// radius moved in 10 iterations. Default 0.003.
    #[arg(long, allow_negative_numbers = true)]
    pub convergence_movement: Option<f32>,
    /// Start from the saved positions instead of random ones.
    #[arg(long = "continue")]
    pub resume: bool,
    /// Put the layout before the last one back (a second --undo redoes);
    /// runs no layout.
    #[arg(long, conflicts_with = "resume")]
    pub undo: bool,
    /// Forget the saved layout settings: start from the defaults (then the
    /// flags given apply).
    #[arg(long)]
    pub reset: bool,
    /// gpu (default when a GPU adapter exists) or cpu.
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Scaling (kr): repulsion strength. Gephi: 2 (10 below 100 nodes).
    #[arg(long, allow_negative_numbers = true)]
    pub scaling: Option<f32>,
    /// Gravity toward the centre. Gephi: 1.
    #[arg(long, allow_negative_numbers = true)]
    pub gravity: Option<f32>,
    /// Strong gravity mode (gravity grows with distance).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub strong_gravity: Option<bool>,
    /// LinLog mode (attraction w·log(1+d)): tighter clusters.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub lin_log: Option<bool>,
    /// Dissuade hubs (outbound attraction distribution).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub dissuade_hubs: Option<bool>,
    /// Edge weight influence: weight^x (0 ignores weights). Gephi: 1.
    #[arg(long, allow_negative_numbers = true)]
    pub edge_weight_influence: Option<f32>,
    /// Prevent overlap (node sizes enter the forces). Plain mode only: the
    /// map always removes overlaps after ForceAtlas2, at its own scale.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub prevent_overlap: Option<bool>,
    /// Gephi's plain ForceAtlas2 over the whole graph with Gephi's sizes
    /// (by degree, 10–50, images and tags ranked together), for Gephi's
    /// exact look and numbers, instead of the map (each cluster a region,
    /// components packed, images one size and never covering each other).
    /// Saved: `--plain false` returns to the map.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub plain: Option<bool>,
    /// Barnes–Hut approximation (Gephi: on from 1000 nodes).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", conflicts_with = "no_barnes_hut")]
    pub barnes_hut: Option<bool>,
    /// Exact O(n²) repulsion instead of Barnes–Hut.
    #[arg(long)]
    pub no_barnes_hut: bool,
    /// Barnes–Hut θ (Gephi's: a region counts as one body when distance·θ > its size). Gephi: 1.2.
    #[arg(long, allow_negative_numbers = true)]
    pub theta: Option<f32>,
    /// Jitter tolerance (higher: faster, less precise). Gephi: 1.
    #[arg(long, allow_negative_numbers = true)]
    pub jitter_tolerance: Option<f32>,
    /// Min–max normalise edge weights into [0, 1].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub normalize_weights: Option<bool>,
    /// Image size (the half-side of its square): uniform (the map's
    /// default: every image --min-size), frequency (how often it was
    /// shared) or degree (tags carried; plain mode's default, where tags
    /// are ranked with the images as in Gephi).
    #[arg(long, value_enum)]
    pub size_by: Option<SizeBy>,
    /// Smallest node size. Default 10.
    #[arg(long, allow_negative_numbers = true)]
    pub min_size: Option<f32>,
    /// Largest node size. Default 30 on the map, 50 plain.
    #[arg(long, allow_negative_numbers = true)]
    pub max_size: Option<f32>,
}

/// Saved settings (or Gephi's defaults for this graph) overridden by the flags given.
fn resolve_settings(args: &Args, mut s: LayoutSettings) -> Result<LayoutSettings> {
    if let Some(plain) = args.plain
        && plain != s.plain
    {
        // Switching mode switches to that mode's sizes (flags given win).
        s.plain = plain;
        s.size = if plain {
            SizeSettings::gephi()
        } else {
            SizeSettings::default()
        };
    }
    let f = &mut s.fa2;
    macro_rules! set {
        ($field:expr, $value:expr) => {
            if let Some(v) = $value {
                $field = v;
            }
        };
    }
    set!(f.scaling_ratio, args.scaling);
    set!(f.gravity, args.gravity);
    set!(f.strong_gravity_mode, args.strong_gravity);
    set!(f.lin_log_mode, args.lin_log);
    set!(f.outbound_attraction_distribution, args.dissuade_hubs);
    set!(f.edge_weight_influence, args.edge_weight_influence);
    set!(f.adjust_sizes, args.prevent_overlap);
    set!(f.barnes_hut_optimize, args.barnes_hut);
    if args.no_barnes_hut {
        f.barnes_hut_optimize = false;
    }
    set!(f.barnes_hut_theta, args.theta);
    set!(f.jitter_tolerance, args.jitter_tolerance);
    set!(f.normalize_edge_weights, args.normalize_weights);
    set!(s.size.size_by, args.size_by);
    set!(s.size.min_size, args.min_size);
    set!(s.size.max_size, args.max_size);
    set!(s.iterations, args.iterations);
    set!(s.seed, args.seed);
    set!(s.until_converged, args.until_converged);
    set!(s.convergence_movement, args.convergence_movement);
    check_settings(&s)?;
    Ok(s)
}

/// What a numeric setting must be for the layout to work.
#[derive(Clone, Copy)]
enum Range {
    /// > 0 (a zero scaling, θ or tolerance stalls or divides by zero).
    Positive,
    /// ≥ 0 (zero switches the term off).
    NonNegative,
}

/// Refuses settings that cannot work, naming the flag: one line, e.g.
/// "--scaling must be a positive number (got -1)". Also catches bad values
/// in saved settings, which these flags override.
fn check_settings(s: &LayoutSettings) -> Result<()> {
    use Range::{NonNegative, Positive};
    let f = &s.fa2;
    let checks = [
        ("--scaling", f.scaling_ratio, Positive),
        ("--gravity", f.gravity, NonNegative),
        (
            "--edge-weight-influence",
            f.edge_weight_influence,
            NonNegative,
        ),
        ("--theta", f.barnes_hut_theta, Positive),
        ("--jitter-tolerance", f.jitter_tolerance, Positive),
        ("--min-size", s.size.min_size, NonNegative),
        ("--max-size", s.size.max_size, NonNegative),
        ("--convergence-movement", s.convergence_movement, Positive),
    ];
    // A saved 0 (from before `--iterations` was range-checked) ran nothing.
    if s.iterations == 0 {
        bail!("--iterations must be at least 1 (got 0; `--reset` returns to the defaults)");
    }
    for (flag, value, range) in checks {
        // NaN fails both comparisons; infinity is refused explicitly.
        let (ok, what) = match range {
            Positive => (value > 0.0, "a positive number"),
            NonNegative => (value >= 0.0, "zero or a positive number"),
        };
        if !ok || !value.is_finite() {
            bail!("{flag} must be {what} (got {value})");
        }
    }
    if s.size.max_size < s.size.min_size {
        bail!(
            "--max-size must be at least --min-size (got {} < {})",
            s.size.max_size,
            s.size.min_size
        );
    }
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    let graph = crate::graph::Graph::load(&project)?;
    if args.undo {
        return undo(&mut project, &graph);
    }
    let saved = if args.reset {
        default_settings(&project)?
    } else {
        saved_settings(&project)?
    };
    let settings = resolve_settings(&args, saved)?;
    lay_out(&mut project, &graph, &settings, args.backend, args.resume)?;
    let defaults = default_settings(&project)?;
    if let Some(line) = crate::project::non_default_line(
        "layout",
        &crate::project::setting_differences(&settings, &defaults),
    ) {
        ui::summary(line);
    }
    Ok(())
}

fn undo(project: &mut Project, graph: &crate::graph::Graph) -> Result<()> {
    if !undo_positions(project)? {
        bail!(
            "{} has no earlier layout to go back to: --undo puts back the layout before the last `tagscape layout`",
            project.dir().display()
        );
    }
    let Some(placed) = load_positions(project, graph)? else {
        bail!(
            "the earlier layout of {} does not cover the current graph (it was rebuilt since): run `tagscape layout {}`",
            project.dir().display(),
            project.dir().display()
        );
    };
    ui::summary(
        "layout: the previous layout is back (--undo again returns to the one just replaced)",
    );
    ui::summary(crate::pipeline::after_layout(project, graph, &placed)?);
    Ok(())
}
