//! Running ForceAtlas2 on a project: start positions, the backend, the
//! iterations (Ctrl-C stops and keeps the last positions), saving.
//! `tagscape layout`, `run` and `demo` all come through here.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::graph::Graph;
use crate::layout::{
    BackendKind, Fa2Backend, ForceAtlas2Settings, LayoutInput, LayoutSettings, Placement,
    convergence, gpu_available, load_positions, map, map_sizes, new_backend, node_sizes,
    placements, random_positions, random_positions_sized, save_positions,
};
use crate::project::Project;
use crate::ui;

/// The project's saved layout settings, else [`default_settings`].
pub fn saved_settings(project: &Project) -> Result<LayoutSettings> {
    if let Some(saved) = project.setting("layout")? {
        return Ok(saved);
    }
    default_settings(project)
}

/// The defaults: the map, with Gephi's ForceAtlas2 defaults for the size of
/// the project's graph.
pub fn default_settings(project: &Project) -> Result<LayoutSettings> {
    let nodes: i64 = project
        .conn()
        .query_row("SELECT count(*) FROM graph_nodes", [], |r| r.get(0))?;
    Ok(LayoutSettings {
        fa2: ForceAtlas2Settings::for_graph(nodes as usize),
        ..Default::default()
    })
}

/// What a layout run did; `Display` is the summary line.
#[derive(Clone, Debug)]
pub struct LayoutReport {
    /// ForceAtlas2 iterations (on the map: of the region that ran longest).
    pub iterations: u32,
    pub elapsed: Duration,
    pub backend: &'static str,
    /// Of the whole graph (plain) or of the largest region (map).
    pub swing_per_node: f64,
    /// Relative movement over the last convergence window (NaN unless
    /// `--until-converged` ran a whole window).
    pub movement: f64,
    pub nodes: usize,
    pub interrupted: bool,
    pub converged: bool,
    /// How the map was composed; `None` for plain ForceAtlas2.
    pub map: Option<MapSummary>,
}

/// The map stages' part of a layout run.
#[derive(Clone, Debug, PartialEq)]
pub struct MapSummary {
    pub regions: usize,
    /// Regions that are drawn clusters (the rest: pieces no cluster holds).
    pub cluster_regions: usize,
    /// The clusters came from the project (`tagscape cluster`), not a fresh
    /// detection.
    pub stored_clusters: bool,
    pub untagged: usize,
    /// Overlapping pairs the overlap removal separated.
    pub overlaps_removed: usize,
    /// Large regions whose images were snapped onto a grid instead.
    pub snapped: usize,
}

impl fmt::Display for LayoutReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.interrupted {
            " (interrupted; last positions saved, resume with --continue)".to_string()
        } else if self.converged {
            format!(" (converged: movement {:.4})", self.movement)
        } else if self.movement.is_finite() {
            format!(
                " (not converged: movement {:.4}; raise --iterations)",
                self.movement
            )
        } else {
            String::new()
        };
        let per = if self.map.is_some() {
            " per region"
        } else {
            ""
        };
        write!(
            f,
            "layout: {} iterations{per}{how} in {:.1} s ({} backend), final swing/node {:.4}, {} nodes placed",
            self.iterations,
            self.elapsed.as_secs_f64(),
            self.backend,
            if self.swing_per_node.is_finite() {
                self.swing_per_node
            } else {
                0.0
            },
            self.nodes
        )?;
        match &self.map {
            None => f.write_str(" (plain ForceAtlas2)"),
            Some(m) => {
                let source = if m.stored_clusters {
                    "the project's clusters"
                } else {
                    "communities detected now"
                };
                write!(
                    f,
                    "\nmap: {} regions ({} from {source}, {} for images in no cluster), overlaps removed ({} pairs)",
                    m.regions,
                    m.cluster_regions,
                    m.regions - m.cluster_regions,
                    m.overlaps_removed
                )?;
                if m.snapped > 0 {
                    write!(
                        f,
                        ", {} snapped onto a grid of their images",
                        crate::collect::plural(m.snapped as u64, "large region", "large regions")
                    )?;
                }
                if m.untagged > 0 {
                    write!(
                        f,
                        ", {} untagged images in a grid at the right margin",
                        m.untagged
                    )?;
                }
                if m.regions == 0 && m.untagged > 0 {
                    f.write_str(" (the graph has no edges: no image carries a tag)")?;
                }
                Ok(())
            }
        }
    }
}

/// `--backend` given, or gpu on a hardware adapter, else cpu with a notice
/// (on a software Vulkan driver the CPU backend is the faster one).
fn choose_backend(asked: Option<BackendKind>) -> Result<BackendKind> {
    match asked {
        Some(BackendKind::Cpu) => Ok(BackendKind::Cpu),
        Some(BackendKind::Gpu) => {
            if gpu_available() {
                Ok(BackendKind::Gpu)
            } else {
                bail!(
                    "no GPU adapter found for --backend gpu: use --backend cpu, or install a Vulkan driver (e.g. mesa-vulkan-drivers)"
                )
            }
        }
        None if crate::gpu::GpuContext::hardware_adapter_available() => Ok(BackendKind::Gpu),
        None => {
            tracing::info!(
                "no hardware GPU adapter: laying out on the CPU (force the GPU backend with --backend gpu)"
            );
            Ok(BackendKind::Cpu)
        }
    }
}

/// Start positions: saved ones with `--continue` (non-finite ones replaced),
/// else random from the seed (spread for the node `sizes` under prevent overlap).
fn start_positions(
    project: &Project,
    graph: &Graph,
    resume: bool,
    seed: u64,
    sizes: Option<&[f32]>,
) -> Result<Vec<[f32; 2]>> {
    let random = match sizes {
        Some(sizes) => random_positions_sized(sizes, seed),
        None => random_positions(graph.node_count(), seed),
    };
    if !resume {
        return Ok(random);
    }
    let Some(saved) = load_positions(project, graph)? else {
        bail!(
            "{} has no saved layout for every node of the graph: run `tagscape layout {}` without --continue first",
            project.dir().display(),
            project.dir().display()
        );
    };
    let mut replaced = 0usize;
    let start = saved
        .iter()
        .zip(random)
        .map(|(p, r)| {
            if p.x.is_finite() && p.y.is_finite() {
                [p.x, p.y]
            } else {
                replaced += 1;
                r
            }
        })
        .collect();
    if replaced > 0 {
        tracing::warn!(
            "{replaced} saved positions were not finite numbers; those nodes start at random positions"
        );
    }
    Ok(start)
}

/// Lays out the project's graph with `settings` and saves positions, sizes
/// and the settings. `resume` starts from the saved positions. The map
/// (the default) needs the images' clusters: the project's, else
/// communities detected now with its cluster settings.
pub fn run_layout(
    project: &mut Project,
    graph: &Graph,
    settings: &LayoutSettings,
    backend: Option<BackendKind>,
    resume: bool,
) -> Result<(LayoutReport, Vec<Placement>)> {
    let kind = choose_backend(backend)?;
    // Plain prevent overlap starts spread for the node sizes (the map
    // removes overlaps at its own scale, after ForceAtlas2).
    let start_sizes =
        (settings.plain && settings.fa2.adjust_sizes).then(|| node_sizes(graph, &settings.size));
    let start = start_positions(
        project,
        graph,
        resume,
        settings.seed,
        start_sizes.as_deref(),
    )?;
    project
        .set_setting("layout", settings)
        .context("saving the layout settings")?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Only one handler per process; if one exists, Ctrl-C ends the
        // process as usual (the last saved layout is kept).
        if let Err(e) = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst)) {
            tracing::debug!("no Ctrl-C handler: {e}");
        }
    }
    let (placed, report) = if settings.plain {
        lay_out_plain(graph, settings, kind, start, &stop)?
    } else {
        let (groups, clusters, stored) = image_groups(project, graph)?;
        let mut laid_out = lay_out_map(graph, &groups, clusters, settings, kind, start, &stop)?;
        if let Some(m) = laid_out.1.map.as_mut() {
            m.stored_clusters = stored;
        }
        laid_out
    };
    if let Some(i) = placed
        .iter()
        .position(|p| !(p.x.is_finite() && p.y.is_finite()))
    {
        bail!(
            "internal error: the {} layout produced a non-finite position for node {} ({}); nothing was saved — please report it, and try --backend cpu",
            report.backend,
            i,
            graph.nodes[i].id
        );
    }
    save_positions(project, graph, &placed)?;
    Ok((report, placed))
}

/// Gephi's ForceAtlas2 over the whole graph.
pub fn lay_out_plain(
    graph: &Graph,
    settings: &LayoutSettings,
    kind: BackendKind,
    start: Vec<[f32; 2]>,
    stop: &AtomicBool,
) -> Result<(Vec<Placement>, LayoutReport)> {
    let sizes = node_sizes(graph, &settings.size);
    let input = layout_input(graph, sizes.clone(), &settings.fa2);
    let mut backend = new_backend(kind, &input, &settings.fa2, start)?;
    let bar = ui::progress(u64::from(settings.iterations), "layout");
    let started = Instant::now();
    let run = iterate(backend.as_mut(), settings, stop, |done, message| {
        bar.set_position(u64::from(done));
        bar.set_message(message);
    })?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let placed = placements(backend.positions()?, &sizes);
    Ok((
        placed,
        LayoutReport {
            iterations: run.done,
            elapsed,
            backend: backend.name(),
            swing_per_node: run.swing_per_node,
            movement: run.movement,
            nodes: graph.node_count(),
            interrupted: stop.load(Ordering::SeqCst),
            converged: run.converged,
            map: None,
        },
    ))
}

/// Regions below this many nodes run on the CPU even with the GPU backend:
/// setting up the GPU pipelines costs more than they take.
const GPU_MIN_NODES: usize = 2000;
/// Regions of fewer nodes get exact repulsion (n² pairs per iteration is
/// cheap there); larger ones Barnes–Hut, as Gephi always does.
const BARNES_HUT_MIN_NODES: usize = 300;

/// The map: ForceAtlas2 inside each region, regions fitted and packed.
/// `groups[i]` is image i's drawn cluster, numbered below `clusters`.
pub fn lay_out_map(
    graph: &Graph,
    groups: &[Option<u32>],
    clusters: usize,
    settings: &LayoutSettings,
    kind: BackendKind,
    start: Vec<[f32; 2]>,
    stop: &AtomicBool,
) -> Result<(Vec<Placement>, LayoutReport)> {
    let sizes = map_sizes(graph, &settings.size);
    let half: Vec<f64> = sizes.iter().map(|&s| f64::from(s)).collect();
    let image_half = f64::from(settings.size.min_size.max(f32::EPSILON));
    let regions = map::regions::regions(graph, groups, clusters);
    let cluster_regions = regions.members.iter().filter(|m| {
        m.first()
            .and_then(|&v| groups.get(v as usize).copied().flatten())
            .is_some()
    });
    let cluster_regions = cluster_regions.count();

    let total: u64 = regions.members.iter().map(|m| m.len() as u64).sum::<u64>()
        * u64::from(settings.iterations);
    let bar = ui::progress(total, "layout regions");
    let started = Instant::now();
    let mut done_before = 0u64;
    let mut fitted = Vec::with_capacity(regions.members.len());
    let mut report = LayoutReport {
        iterations: 0,
        elapsed: Duration::ZERO,
        backend: "cpu",
        swing_per_node: f64::NAN,
        movement: f64::NAN,
        nodes: graph.node_count(),
        interrupted: false,
        converged: true,
        map: None,
    };
    let mut overlaps_removed = 0;
    let mut snapped = 0;
    for (r, members) in regions.members.iter().enumerate() {
        let sub = map::subgraph(graph, members);
        let n = sub.node_count();
        let sub_half: Vec<f64> = members.iter().map(|&v| half[v as usize]).collect();
        let loose = regions.loose == Some(r as u32);
        // The loose images go onto a grid from their start: ForceAtlas2 has
        // nothing to arrange among images that share no tag.
        let raw = if n < 3 || loose || stop.load(Ordering::SeqCst) {
            members.iter().map(|&v| start[v as usize]).collect()
        } else {
            let mut fa2 = settings.fa2.clone();
            // The map removes overlaps at its own scale afterwards.
            fa2.adjust_sizes = false;
            // Exact repulsion costs n² per iteration: only for small regions.
            fa2.barnes_hut_optimize &= n >= BARNES_HUT_MIN_NODES;
            let input = layout_input(&sub, vec![1.0; n], &fa2);
            let sub_kind = if kind == BackendKind::Gpu && n >= GPU_MIN_NODES {
                BackendKind::Gpu
            } else {
                BackendKind::Cpu
            };
            let sub_start = members.iter().map(|&v| start[v as usize]).collect();
            let mut backend = new_backend(sub_kind, &input, &fa2, sub_start)?;
            let count = regions.members.len();
            let run = iterate(backend.as_mut(), settings, stop, |done, message| {
                bar.set_position(done_before + n as u64 * u64::from(done));
                bar.set_message(format!("region {}/{count}: {message}", r + 1));
            })?;
            report.iterations = report.iterations.max(run.done);
            report.converged &= run.converged || !run.movement.is_finite();
            if r == 0 {
                report.swing_per_node = run.swing_per_node;
                report.movement = run.movement;
            }
            if sub_kind == BackendKind::Gpu {
                report.backend = "gpu";
            }
            backend.positions()?
        };
        done_before += n as u64 * u64::from(settings.iterations);
        let fit = map::fit_region(&sub, &raw, &sub_half, map::IMAGE_GAP * image_half, loose);
        overlaps_removed += fit.overlaps;
        snapped += usize::from(fit.snapped && !loose);
        fitted.push(fit);
    }
    bar.finish_and_clear();
    let affinity = map::affinities(graph, &regions.of_node);
    let positions = map::compose(
        graph.node_count(),
        &regions,
        &fitted,
        &affinity,
        &half,
        image_half,
        settings.seed,
    );
    report.elapsed = started.elapsed();
    report.interrupted = stop.load(Ordering::SeqCst);
    report.converged &= settings.until_converged && !report.interrupted;
    report.map = Some(MapSummary {
        regions: regions.members.len(),
        cluster_regions,
        stored_clusters: false,
        untagged: regions.untagged.len(),
        overlaps_removed,
        snapped,
    });
    Ok((placements(positions, &sizes), report))
}

/// Each image's drawn cluster (numbered from 0, "other" left out), how many
/// there are, and whether they are the project's stored clusters (which
/// carry the user's merges and lassos) or detected now, with the project's
/// cluster settings, because `tagscape cluster` has not run yet.
fn image_groups(project: &Project, graph: &Graph) -> Result<(Vec<Option<u32>>, usize, bool)> {
    if let Some(stored) = crate::cluster::load_node_clusters(project, graph)? {
        let mut index = vec![None; stored.clusters.len()];
        let mut k = 0u32;
        for (i, c) in stored.clusters.iter().enumerate() {
            if !c.is_other {
                index[i] = Some(k);
                k += 1;
            }
        }
        let groups = stored.of_node[..graph.n_images]
            .iter()
            .map(|c| c.and_then(|c| index[c]))
            .collect();
        return Ok((groups, k as usize, true));
    }
    let settings: crate::cluster::ClusterSettings = project.setting("cluster")?.unwrap_or_default();
    let (groups, drawn) = detected_groups(graph, &settings)?;
    Ok((groups, drawn, false))
}

/// Communities detected on `graph` with `settings`, those of at least
/// `min_size` images numbered from 0 (the largest first), as the map's
/// drawn clusters.
pub fn detected_groups(
    graph: &Graph,
    settings: &crate::cluster::ClusterSettings,
) -> Result<(Vec<Option<u32>>, usize)> {
    let detection = crate::cluster::detect::detect(graph, &settings.detect)?;
    let mut sizes = vec![0usize; detection.count];
    for &c in &detection.image_community {
        sizes[c as usize] += 1;
    }
    // Communities are numbered by decreasing size: the drawn ones come first.
    let drawn = sizes
        .iter()
        .filter(|&&s| s >= settings.min_size.max(1))
        .count();
    let groups = detection
        .image_community
        .iter()
        .enumerate()
        .map(|(i, &c)| ((c as usize) < drawn && graph.degree(i) > 0).then_some(c))
        .collect();
    Ok((groups, drawn))
}

/// The ForceAtlas2 input, warning once about unusable weights.
fn layout_input(graph: &Graph, sizes: Vec<f32>, fa2: &ForceAtlas2Settings) -> LayoutInput {
    let (input, bad) = LayoutInput::new(graph, sizes, fa2);
    if bad > 0 {
        tracing::warn!(
            "{bad} edges have a negative or non-numeric weight; they do not attract (weight 0)"
        );
    }
    input
}

/// How one ForceAtlas2 run ended.
struct Iterated {
    done: u32,
    swing_per_node: f64,
    movement: f64,
    converged: bool,
}

/// Steps `backend` up to `settings.iterations` times, stopping early on
/// Ctrl-C or, with `until_converged`, once the nodes have settled.
/// `tick(done, message)` reports progress.
fn iterate(
    backend: &mut dyn Fa2Backend,
    settings: &LayoutSettings,
    stop: &AtomicBool,
    mut tick: impl FnMut(u32, String),
) -> Result<Iterated> {
    let n = backend.positions()?.len();
    let mut run = Iterated {
        done: 0,
        swing_per_node: f64::NAN,
        movement: f64::NAN,
        converged: false,
    };
    // Positions at the start of the current convergence window.
    let mut window_start = if settings.until_converged {
        Some(backend.positions()?)
    } else {
        None
    };
    while run.done < settings.iterations && !stop.load(Ordering::SeqCst) {
        let stats = backend.step()?;
        run.done += 1;
        run.swing_per_node = f64::from(stats.swing) / n.max(1) as f64;
        if let Some(before) = window_start.as_mut()
            && run.done.is_multiple_of(convergence::WINDOW)
        {
            let now = backend.positions()?;
            run.movement = convergence::relative_movement(before, &now);
            *before = now;
            run.converged = run.movement < f64::from(settings.convergence_movement);
        }
        tick(
            run.done,
            if run.movement.is_nan() {
                format!("swing/node {:.3}", run.swing_per_node)
            } else {
                format!(
                    "swing/node {:.3}, movement {:.4}",
                    run.swing_per_node, run.movement
                )
            },
        );
        if run.converged {
            break;
        }
    }
    Ok(run)
}
