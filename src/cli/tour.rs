//! `tagscape tour`: list, show, add to and remove the project's tours
//! (`PROJECT/tours/NAME.json`, also editable by hand).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::project::{Access, Project};
use crate::render::Bounds;
use crate::tour::{self, AUTO_NAME, Keyframe, Timeline, Tour};
use crate::ui;

/// Manage tours: named keyframes (a view, a caption, a cluster to
/// highlight) to present the map with; `show` gives when the camera
/// reaches each. `tagscape view DIR --tour NAME` plays one (P in the
/// viewer), `tagscape export DIR --format video --tour NAME` records it.
///
/// A project without a tour of its own has the automatic tour "auto": the
/// whole map, each of the largest clusters with its name, the whole map.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape tour study list\n  tagscape tour study show auto\n  tagscape tour study add talk --whole-map --caption \"2,000 images of the protest\"\n  tagscape tour study add talk --cluster \"Protest signs\" --caption \"Signs\"\n  tagscape tour study add talk --center 120,-40 --width 300 --height 200\n  tagscape tour study remove talk --keyframe 2\n  tagscape tour study remove talk"
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// The tours, with their keyframes and durations.
    List,
    /// One tour's keyframes (`auto`: the automatic tour); --json prints its file.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a keyframe to a tour (made when new): a cluster, the whole map or
    /// an explicit view.
    Add {
        name: String,
        /// Frame this cluster (by name) and highlight it.
        #[arg(long, conflicts_with_all = ["whole_map", "center"])]
        cluster: Option<String>,
        /// Frame the whole map.
        #[arg(long, conflicts_with = "center")]
        whole_map: bool,
        /// View centre in layout coordinates, X,Y.
        #[arg(long, value_parser = parse_point, requires_all = ["width", "height"])]
        center: Option<[f64; 2]>,
        /// View width and height in layout units (with --center).
        #[arg(long)]
        width: Option<f64>,
        #[arg(long)]
        height: Option<f64>,
        /// Text shown while the camera rests here.
        #[arg(long)]
        caption: Option<String>,
        /// Seconds to rest here (default 3).
        #[arg(long)]
        hold: Option<f64>,
        /// Insert as keyframe N (1 = first) instead of appending; replaces
        /// keyframe N with --replace.
        #[arg(long)]
        at: Option<usize>,
        #[arg(long, requires = "at")]
        replace: bool,
    },
    /// Remove a tour, or one keyframe of it.
    Remove {
        name: String,
        /// The keyframe to remove (1 = first).
        #[arg(long)]
        keyframe: Option<usize>,
    },
}

fn parse_point(text: &str) -> Result<[f64; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let nums: Vec<f64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    match nums[..] {
        [x, y] if parts.len() == 2 && x.is_finite() && y.is_finite() => Ok([x, y]),
        _ => Err(format!("{text:?} is not X,Y (e.g. 120,-40)")),
    }
}

pub fn run(args: Args) -> Result<()> {
    // Adding and removing rewrite a tour file: one writer at a time, so two
    // `tour add` runs never lose each other's keyframe.
    let access = match args.action {
        Action::List | Action::Show { .. } => Access::Read,
        Action::Add { .. } | Action::Remove { .. } => Access::Write,
    };
    let project = Project::open(&args.dir, access)?;
    let dir = project.dir().to_path_buf();
    match args.action {
        Action::List => {
            let tours = tour::list(&dir)?;
            if tours.is_empty() {
                let auto = tour::load_or_automatic(&project, None)?;
                ui::summary(format_args!(
                    "no tours of its own yet; the automatic tour \"{AUTO_NAME}\": {}",
                    describe(&auto)
                ));
            }
            for t in &tours {
                ui::summary(format_args!("{}: {}", t.name, describe(t)));
            }
        }
        Action::Show { name, json } => {
            let mut t = tour::load_or_automatic(&project, Some(&name))?;
            if json {
                print!("{}", t.to_json());
                return Ok(());
            }
            let clusters = crate::cluster::load_clusters(&project)?;
            for w in tour::drop_missing_clusters(&mut t, &clusters) {
                tracing::warn!("{w}");
            }
            let timeline = Timeline::new(&t, 16.0 / 9.0);
            ui::summary(format_args!("{}: {}", t.name, describe(&t)));
            for (i, k) in t.keyframes.iter().enumerate() {
                let mut line = format!(
                    "{:>3}  at {:>5.1} s  centre {:.1},{:.1}  {:.1} × {:.1}",
                    i + 1,
                    timeline.arrival(i),
                    k.center[0],
                    k.center[1],
                    k.width,
                    k.height
                );
                if let Some(c) = &k.cluster {
                    line += &format!("  cluster {c:?}");
                }
                if let Some(c) = &k.caption {
                    line += &format!("  caption {c:?}");
                }
                ui::summary(line);
            }
        }
        Action::Add {
            name,
            cluster,
            whole_map,
            center,
            width,
            height,
            caption,
            hold,
            at,
            replace,
        } => {
            tour::check_name(&name)?;
            let mut key = match (&cluster, center) {
                (Some(cluster), _) => cluster_keyframe(&project, cluster)?,
                (None, Some(center)) => {
                    let (width, height) = (width.unwrap_or(0.0), height.unwrap_or(0.0));
                    if !(width > 0.0 && height > 0.0 && width.is_finite() && height.is_finite()) {
                        bail!(
                            "--width and --height must be positive layout units, e.g. --width 300 --height 200"
                        );
                    }
                    Keyframe {
                        center,
                        width,
                        height,
                        caption: None,
                        cluster: None,
                        hold_seconds: None,
                    }
                }
                (None, None) if whole_map => tour::automatic(&map_bounds(&project)?, &[])
                    .keyframes
                    .remove(0),
                (None, None) => bail!(
                    "say what the keyframe shows: --cluster NAME, --whole-map, or --center X,Y --width W --height H"
                ),
            };
            if let Some(h) = hold {
                if !(h.is_finite() && h >= 0.0) {
                    bail!("--hold must be seconds, 0 or more (e.g. --hold 2.5)");
                }
                key.hold_seconds = Some(h);
            } else if whole_map {
                key.hold_seconds = None;
            }
            key.caption = caption.or(key.caption).filter(|c| !c.trim().is_empty());
            let mut t = tour::load(&dir, &name)?.unwrap_or(Tour {
                name: name.clone(),
                keyframes: Vec::new(),
            });
            let n = t.keyframes.len();
            let index = match at {
                None => n,
                Some(a) if a >= 1 && (a <= n || (!replace && a == n + 1)) => a - 1,
                Some(a) => bail!(
                    "--at {a}: tour {name:?} has {n} keyframes; give 1 to {}",
                    if replace { n } else { n + 1 }
                ),
            };
            if replace {
                t.keyframes[index] = key;
            } else {
                t.keyframes.insert(index, key);
            }
            let path = tour::save(&dir, &t)?;
            ui::summary(format_args!(
                "{} keyframe {} of tour {name:?} ({}); saved {}",
                if replace { "replaced" } else { "added" },
                index + 1,
                describe(&t),
                path.display()
            ));
        }
        Action::Remove { name, keyframe } => {
            tour::check_name(&name)?;
            match keyframe {
                None => {
                    if !tour::delete(&dir, &name)? {
                        bail!(
                            "project {} has no tour {name:?}: see `tagscape tour {} list`",
                            dir.display(),
                            dir.display()
                        );
                    }
                    ui::summary(format_args!("removed tour {name:?}"));
                }
                Some(k) => {
                    let mut t = tour::load(&dir, &name)?.with_context(|| {
                        format!(
                            "project {} has no tour {name:?}: see `tagscape tour {} list`",
                            dir.display(),
                            dir.display()
                        )
                    })?;
                    if k == 0 || k > t.keyframes.len() {
                        bail!(
                            "--keyframe {k}: tour {name:?} has {} keyframes; give 1 to {}",
                            t.keyframes.len(),
                            t.keyframes.len()
                        );
                    }
                    t.keyframes.remove(k - 1);
                    tour::save(&dir, &t)?;
                    ui::summary(format_args!(
                        "removed keyframe {k} of tour {name:?} ({})",
                        describe(&t)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// "N keyframes, S s".
fn describe(t: &Tour) -> String {
    let timeline = Timeline::new(t, 16.0 / 9.0);
    format!(
        "{} keyframes, {:.1} s at 16:9",
        t.keyframes.len(),
        timeline.duration()
    )
}

fn map_bounds(project: &Project) -> Result<Bounds> {
    let scene = crate::render::Scene::from_project(project)?;
    scene.bounds(false).with_context(|| {
        format!(
            "project {} has no images to tour: add some with `tagscape add` and run the pipeline",
            project.dir().display()
        )
    })
}

/// The automatic tour's keyframe of cluster `name`.
fn cluster_keyframe(project: &Project, name: &str) -> Result<Keyframe> {
    let clusters = crate::cluster::load_clusters(project)?;
    let Some(cluster) = clusters.iter().find(|c| c.name.trim() == name.trim()) else {
        let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).take(8).collect();
        bail!(
            "project {} has no cluster named {name:?} (some are: {}): see `tagscape cluster {} list`",
            project.dir().display(),
            names.join(", "),
            project.dir().display()
        );
    };
    let only = std::slice::from_ref(cluster);
    let auto = tour::automatic(&map_bounds(project)?, only);
    auto.keyframes
        .into_iter()
        .find(|k| k.cluster.is_some())
        .with_context(|| format!("cluster {name:?} has no hull to frame (hidden, \"other\", or too small): run `tagscape cluster` again or give --center"))
}
