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
    BackendKind, ForceAtlas2Settings, LayoutInput, LayoutSettings, convergence, gpu_available,
    load_positions, new_backend, node_sizes, placements, random_positions, save_positions,
};
use crate::project::Project;
use crate::ui;

/// The project's saved layout settings, else Gephi's defaults for the size
/// of its graph.
pub fn saved_settings(project: &Project) -> Result<LayoutSettings> {
    if let Some(saved) = project.setting("layout")? {
        return Ok(saved);
    }
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
    pub iterations: u32,
    pub elapsed: Duration,
    pub backend: &'static str,
    pub swing_per_node: f64,
    /// Relative movement over the last convergence window (NaN unless
    /// `--until-converged` ran a whole window).
    pub movement: f64,
    /// Members outside their hull after the clusters' hulls were redrawn
    /// for the new positions; `None` when the project has no clusters.
    pub hulls_outside: Option<usize>,
    pub nodes: usize,
    pub interrupted: bool,
    pub converged: bool,
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
        write!(
            f,
            "layout: {} iterations{how} in {:.1} s ({:.2} ms/iteration, {} backend), final swing/node {:.4}, {} nodes placed",
            self.iterations,
            self.elapsed.as_secs_f64(),
            self.elapsed.as_secs_f64() * 1e3 / f64::from(self.iterations.max(1)),
            self.backend,
            self.swing_per_node,
            self.nodes
        )?;
        if let Some(outside) = self.hulls_outside {
            write!(
                f,
                "\ncluster hulls redrawn for the new layout; {outside} members outside their hull"
            )?;
        }
        Ok(())
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
/// else random from the seed.
fn start_positions(
    project: &Project,
    graph: &Graph,
    resume: bool,
    seed: u64,
) -> Result<Vec<[f32; 2]>> {
    let random = random_positions(graph.node_count(), seed);
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
/// and the settings. `resume` starts from the saved positions.
pub fn run_layout(
    project: &mut Project,
    settings: &LayoutSettings,
    backend: Option<BackendKind>,
    resume: bool,
) -> Result<LayoutReport> {
    let graph = Graph::load(project)?;
    let n = graph.node_count();
    let kind = choose_backend(backend)?;
    let sizes = node_sizes(&graph, &settings.size);
    let (input, bad) = LayoutInput::new(&graph, sizes.clone(), &settings.fa2);
    if bad > 0 {
        tracing::warn!(
            "{bad} edges have a negative or non-numeric weight; they do not attract (weight 0)"
        );
    }
    let start = start_positions(project, &graph, resume, settings.seed)?;
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

    let mut backend = new_backend(kind, &input, &settings.fa2, start)?;
    let bar = ui::progress(u64::from(settings.iterations), "layout");
    let started = Instant::now();
    let mut done = 0u32;
    let mut swing_per_node = f64::NAN;
    let mut movement = f64::NAN;
    let mut converged = false;
    // Positions at the start of the current convergence window.
    let mut window_start = if settings.until_converged {
        Some(backend.positions()?)
    } else {
        None
    };
    while done < settings.iterations {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stats = backend.step()?;
        done += 1;
        swing_per_node = f64::from(stats.swing) / n.max(1) as f64;
        if let Some(before) = window_start.as_mut()
            && done.is_multiple_of(convergence::WINDOW)
        {
            let now = backend.positions()?;
            movement = convergence::relative_movement(before, &now);
            *before = now;
            if movement < f64::from(settings.convergence_movement) {
                converged = true;
            }
        }
        bar.set_position(u64::from(done));
        bar.set_message(if movement.is_nan() {
            format!("swing/node {swing_per_node:.3}")
        } else {
            format!("swing/node {swing_per_node:.3}, movement {movement:.4}")
        });
        if converged {
            break;
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let positions = backend.positions()?;
    if let Some(i) = positions
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        bail!(
            "internal error: the {} layout produced a non-finite position for node {} ({}); nothing was saved — please report it, and try --backend cpu",
            backend.name(),
            i,
            graph.nodes[i].id
        );
    }
    let placed = placements(positions, &sizes);
    save_positions(project, &graph, &placed)?;
    // Hulls drawn around the old positions would be wrong now.
    let hulls_outside = crate::cluster::refresh_hulls(project, &graph, &placed)?;
    Ok(LayoutReport {
        iterations: done,
        elapsed,
        backend: backend.name(),
        swing_per_node,
        movement,
        hulls_outside,
        nodes: n,
        interrupted: stop.load(Ordering::SeqCst),
        converged,
    })
}
