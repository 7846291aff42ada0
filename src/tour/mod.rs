//! Tours: named sequences of keyframes (a camera view, an optional caption,
//! an optional cluster to highlight) to present the map with: what the
//! viewer's tour window and the video export play. The keyframes are kept in
//! the project, and [`Timeline`] says where the camera is at any moment.
//!
//! A tour is saved as human-readable JSON in the project, `tours/NAME.json`,
//! so it can be read, diffed and edited by hand. Clusters are named, not
//! numbered: cluster ids change each time `tagscape cluster` runs, names
//! follow the user's annotations. A project without a tour of its own has an
//! automatic one ([`automatic`]): the whole map, each of the largest clusters
//! with its name as caption, then the whole map again.
//!
//! Playing is [`Timeline`]: a hold at each keyframe (its caption fading in
//! and out), then the travel to the next along [`path::ZoomPath`], eased.

pub mod path;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use geo::BoundingRect;
use glam::{DVec2, Vec2};
use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::project::Project;
use crate::render::{Bounds, Camera};
use path::{RHO, View, ZoomPath, ease_in_out};

/// The name under which the automatic tour is shown and played.
pub const AUTO_NAME: &str = "auto";
/// Folder of the tours, inside the project.
pub const TOURS_DIR: &str = "tours";
/// Clusters the automatic tour visits, largest first.
pub const AUTO_CLUSTERS: usize = 6;
/// Seconds the camera rests at a keyframe unless the keyframe says otherwise.
pub const DEFAULT_HOLD_S: f64 = 3.0;
/// Path length travelled per second (the paper's V).
pub const VELOCITY: f64 = 1.2;
/// A travel never takes less (or more) than this, however near (or far).
const MIN_TRAVEL_S: f64 = 1.0;
const MAX_TRAVEL_S: f64 = 6.0;
/// Seconds a caption takes to fade in, and out.
pub const CAPTION_FADE_S: f64 = 0.6;
/// Room around a cluster's hull when the automatic tour frames it.
const CLUSTER_MARGIN: f32 = 0.15;
/// Room around the whole map (as the PNG export's margin, on both sides).
const MAP_MARGIN: f32 = 0.06;

/// `x` as the shortest decimal that reads back as the same `f32` (the
/// layout's precision), so tour files say 44.32407, not 44.324066162109375.
fn widen(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

/// One stop of a tour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyframe {
    /// World point at the centre of the view.
    pub center: [f64; 2],
    /// World rectangle the view must show (fitted to any window's shape).
    pub width: f64,
    pub height: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Name of the cluster to highlight here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Seconds to rest here (default [`DEFAULT_HOLD_S`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<f64>,
}

impl Keyframe {
    /// The keyframe showing what `camera` shows.
    pub fn from_camera(camera: &Camera) -> Keyframe {
        Keyframe {
            center: [widen(camera.center.x), widen(camera.center.y)],
            width: widen(camera.viewport.x / camera.zoom),
            height: widen(camera.viewport.y / camera.zoom),
            caption: None,
            cluster: None,
            hold_seconds: None,
        }
    }

    /// The keyframe framing `bounds` with `margin` (fraction of its size) around it.
    pub fn framing(bounds: &Bounds, margin: f32) -> Keyframe {
        let size = (bounds.size() * (1.0 + margin)).max(Vec2::splat(f32::EPSILON));
        let c = bounds.center();
        Keyframe {
            center: [widen(c.x), widen(c.y)],
            width: widen(size.x),
            height: widen(size.y),
            caption: None,
            cluster: None,
            hold_seconds: None,
        }
    }

    /// The view on a viewport of `aspect` (width / height): the whole
    /// rectangle, the tighter axis deciding.
    pub fn view(&self, aspect: f64) -> View {
        View {
            center: DVec2::from_array(self.center),
            width: self.width.max(self.height * aspect),
        }
    }

    pub fn hold(&self) -> f64 {
        self.hold_seconds
            .filter(|h| h.is_finite() && *h >= 0.0)
            .unwrap_or(DEFAULT_HOLD_S)
    }

    fn check(&self, number: usize) -> Result<()> {
        let ok = self.center.iter().all(|v| v.is_finite())
            && self.width.is_finite()
            && self.height.is_finite()
            && self.width > 0.0
            && self.height > 0.0;
        if !ok {
            bail!(
                "keyframe {number} has no valid view (centre {:?}, size {} × {}): centre must be finite and the size positive",
                self.center,
                self.width,
                self.height
            );
        }
        Ok(())
    }
}

/// A named tour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tour {
    pub name: String,
    pub keyframes: Vec<Keyframe>,
}

impl Tour {
    /// Moves keyframe `from` to place `to` (the others keep their order);
    /// out-of-range indices change nothing.
    pub fn move_keyframe(&mut self, from: usize, to: usize) {
        if from < self.keyframes.len() && to < self.keyframes.len() {
            let k = self.keyframes.remove(from);
            self.keyframes.insert(to, k);
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a tour always serialises") + "\n"
    }

    /// Parses a tour file's text; `source` names it in errors.
    pub fn from_json(text: &str, source: &Path) -> Result<Tour> {
        let tour: Tour = serde_json::from_str(text).with_context(|| {
            format!(
                "{} is not a tour file (JSON with a name and keyframes)",
                source.display()
            )
        })?;
        for (i, k) in tour.keyframes.iter().enumerate() {
            k.check(i + 1)
                .with_context(|| format!("in {}", source.display()))?;
        }
        Ok(tour)
    }
}

/// Tour names become file names: letters, digits, `-`, `_` and `.`, not
/// starting with a dot, and not the automatic tour's.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "tour name {name:?} is not usable: use 1 to 64 letters, digits, '-', '_' or '.' (e.g. talk-2026)"
        );
    }
    if name == AUTO_NAME {
        bail!("\"{AUTO_NAME}\" is the automatic tour's name: give your tour another (e.g. talk)");
    }
    Ok(())
}

/// The file of tour `name` in `project_dir`.
pub fn tour_path(project_dir: &Path, name: &str) -> PathBuf {
    project_dir.join(TOURS_DIR).join(format!("{name}.json"))
}

/// The project's own tours, by name.
pub fn list(project_dir: &Path) -> Result<Vec<Tour>> {
    let dir = project_dir.join(TOURS_DIR);
    let mut tours = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tours),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        let is_tour = path.extension().is_some_and(|e| e == "json")
            && path
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| check_name(s).is_ok());
        if is_tour {
            tours.push(read(&path)?);
        }
    }
    tours.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tours)
}

fn read(path: &Path) -> Result<Tour> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut tour = Tour::from_json(&text, path)?;
    // The file's name is the tour's: a name edited by hand inside the file
    // cannot make `list` show a tour that `show` then cannot find.
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        tour.name = stem.to_string();
    }
    Ok(tour)
}

/// Tour `name` of the project, `None` when it has none of that name.
pub fn load(project_dir: &Path, name: &str) -> Result<Option<Tour>> {
    let path = tour_path(project_dir, name);
    if !path.exists() {
        return Ok(None);
    }
    read(&path).map(Some)
}

/// Saves `tour` (replacing its file whole: written beside it, then renamed).
pub fn save(project_dir: &Path, tour: &Tour) -> Result<PathBuf> {
    check_name(&tour.name)?;
    let path = tour_path(project_dir, &tour.name);
    let dir = project_dir.join(TOURS_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    use std::io::Write;
    tmp.write_all(tour.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(&path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Deletes tour `name`; false when there was none.
pub fn delete(project_dir: &Path, name: &str) -> Result<bool> {
    let path = tour_path(project_dir, name);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// The automatic tour: the whole map, each of the `AUTO_CLUSTERS` largest
/// visible clusters with a hull (its name as caption, highlighted), then
/// the whole map.
pub fn automatic(map: &Bounds, clusters: &[Cluster]) -> Tour {
    let mut whole = Keyframe::framing(map, MAP_MARGIN);
    whole.hold_seconds = Some(2.0);
    let mut shown: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| !c.hidden && !c.is_other && !c.name.trim().is_empty())
        .collect();
    shown.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    let mut keyframes = vec![whole.clone()];
    for c in shown {
        if keyframes.len() > AUTO_CLUSTERS {
            break;
        }
        let Some(rect) = c.hull().and_then(|h| h.bounding_rect()) else {
            continue;
        };
        let bounds = Bounds {
            min: Vec2::new(rect.min().x as f32, rect.min().y as f32),
            max: Vec2::new(rect.max().x as f32, rect.max().y as f32),
        };
        let mut k = Keyframe::framing(&bounds, CLUSTER_MARGIN);
        let name = c.name.trim().to_string();
        k.caption = Some(match c.caption.as_deref().map(str::trim) {
            Some(caption) if !caption.is_empty() => format!("{name}: {caption}"),
            _ => name.clone(),
        });
        k.cluster = Some(name);
        keyframes.push(k);
    }
    keyframes.push(whole);
    Tour {
        name: AUTO_NAME.into(),
        keyframes,
    }
}

/// Tour `name`, or the automatic one for `auto` (or no name) when the project
/// has no tour of that name.
pub fn load_or_automatic(project: &Project, name: Option<&str>) -> Result<Tour> {
    let dir = project.dir();
    match name {
        Some(name) if name != AUTO_NAME => load(dir, name)?.with_context(|| {
            format!(
                "project {} has no tour {name:?}: see `tagscape tour {} list`",
                dir.display(),
                dir.display()
            )
        }),
        _ => {
            let scene = crate::render::Scene::from_project(project)?;
            let Some(map) = scene.bounds(false) else {
                bail!(
                    "project {} has no images to tour: add some with `tagscape add` and run the pipeline",
                    dir.display()
                );
            };
            Ok(automatic(&map, &crate::cluster::load_clusters(project)?))
        }
    }
}

/// Keyframes whose cluster no longer exists keep their view and caption and
/// lose their highlight; one warning line each says which.
pub fn drop_missing_clusters(tour: &mut Tour, clusters: &[Cluster]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, k) in tour.keyframes.iter_mut().enumerate() {
        let Some(name) = k.cluster.as_deref() else {
            continue;
        };
        let exists = clusters.iter().any(|c| c.name.trim() == name.trim());
        if !exists {
            warnings.push(format!(
                "tour {:?}, keyframe {}: no cluster named {name:?} any more, so none is highlighted there (give it another with `tagscape tour DIR add {} --cluster NAME --at {} --replace`)",
                tour.name,
                i + 1,
                tour.name,
                i + 1
            ));
            k.cluster = None;
        }
    }
    warnings
}

/// What the camera and overlay show at one moment of a tour.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub view: View,
    /// The caption shown and its opacity (0..1).
    pub caption: Option<(String, f32)>,
    /// The cluster highlighted.
    pub cluster: Option<String>,
    /// The keyframe the camera is at or last left.
    pub keyframe: usize,
}

/// A tour laid out in time for a viewport of one shape.
#[derive(Clone, Debug)]
pub struct Timeline {
    keyframes: Vec<Keyframe>,
    views: Vec<View>,
    /// Travel from keyframe i to i + 1.
    paths: Vec<ZoomPath>,
    travel_s: Vec<f64>,
}

impl Timeline {
    /// `tour` on a viewport `aspect` (width / height) wide.
    pub fn new(tour: &Tour, aspect: f64) -> Timeline {
        let keyframes = tour.keyframes.clone();
        let views: Vec<View> = keyframes.iter().map(|k| k.view(aspect)).collect();
        let paths: Vec<ZoomPath> = views
            .windows(2)
            .map(|w| ZoomPath::new(w[0], w[1], RHO))
            .collect();
        let travel_s = paths
            .iter()
            .map(|p| {
                if p.length() == 0.0 {
                    0.0
                } else {
                    (p.length() / VELOCITY).clamp(MIN_TRAVEL_S, MAX_TRAVEL_S)
                }
            })
            .collect();
        Timeline {
            keyframes,
            views,
            paths,
            travel_s,
        }
    }

    /// Seconds the whole tour takes (finite: every hold and travel is).
    pub fn duration(&self) -> f64 {
        self.keyframes.iter().map(Keyframe::hold).sum::<f64>() + self.travel_s.iter().sum::<f64>()
    }

    /// When the camera arrives at keyframe `i` (summed as [`Timeline::at`]
    /// walks the tour, so it finds exactly that keyframe then).
    pub fn arrival(&self, i: usize) -> f64 {
        let mut start = 0.0;
        for k in 0..i {
            start += self.keyframes[k].hold();
            start += self.travel_s[k];
        }
        start
    }

    /// What is shown `time` seconds into the tour (clamped to its ends);
    /// `None` for a tour without keyframes.
    pub fn at(&self, time: f64) -> Option<Moment> {
        let last = self.keyframes.len().checked_sub(1)?;
        let time = time.max(0.0);
        let mut start = 0.0;
        for (i, k) in self.keyframes.iter().enumerate() {
            let hold = k.hold();
            let leave = start + hold;
            if time <= leave || i == last {
                let fade = |x: f64| (x / CAPTION_FADE_S).clamp(0.0, 1.0);
                let alpha = fade(time - start).min(fade(leave - time)) as f32;
                return Some(Moment {
                    view: self.views[i],
                    caption: k.caption.clone().map(|c| (c, alpha)),
                    cluster: k.cluster.clone(),
                    keyframe: i,
                });
            }
            let travel = self.travel_s[i];
            let next = leave + travel;
            if time < next {
                return Some(Moment {
                    view: self.paths[i].at(ease_in_out((time - leave) / travel)),
                    caption: None,
                    cluster: None,
                    keyframe: i,
                });
            }
            start = next;
        }
        None
    }
}

/// The camera showing `view` on a viewport of `viewport` pixels.
pub fn camera_for(view: &View, viewport: Vec2) -> Camera {
    Camera {
        center: Vec2::new(view.center.x as f32, view.center.y as f32),
        zoom: (f64::from(viewport.x) / view.width) as f32,
        viewport,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_move_and_keep_the_others_order() {
        let k = |c: &str| Keyframe {
            center: [0.0, 0.0],
            width: 1.0,
            height: 1.0,
            caption: Some(c.into()),
            cluster: None,
            hold_seconds: None,
        };
        let mut tour = Tour {
            name: "t".into(),
            keyframes: vec![k("a"), k("b"), k("c")],
        };
        let order = |t: &Tour| -> Vec<String> {
            t.keyframes
                .iter()
                .map(|k| k.caption.clone().unwrap())
                .collect()
        };
        tour.move_keyframe(2, 0);
        assert_eq!(order(&tour), ["c", "a", "b"]);
        tour.move_keyframe(0, 1);
        assert_eq!(order(&tour), ["a", "c", "b"]);
        tour.move_keyframe(1, 7);
        assert_eq!(order(&tour), ["a", "c", "b"]);
    }

    fn key(x: f64, y: f64, w: f64, caption: Option<&str>) -> Keyframe {
        Keyframe {
            center: [x, y],
            width: w,
            height: w * 0.5,
            caption: caption.map(String::from),
            cluster: None,
            hold_seconds: None,
        }
    }

    fn tour() -> Tour {
        Tour {
            name: "talk".into(),
            keyframes: vec![
                key(0.0, 0.0, 1000.0, None),
                key(300.0, -40.0, 80.0, Some("Harbour & sea")),
                key(-250.0, 120.0, 60.0, Some("Forest")),
                key(-250.0, 120.0, 600.0, None),
            ],
        }
    }

    #[test]
    fn json_round_trips_and_is_readable() {
        let mut t = tour();
        t.keyframes[1].cluster = Some("Harbour".into());
        t.keyframes[2].hold_seconds = Some(1.5);
        let json = t.to_json();
        assert!(json.contains("\"caption\": \"Harbour & sea\""), "{json}");
        assert!(json.lines().count() > 10, "pretty-printed: {json}");
        assert_eq!(Tour::from_json(&json, Path::new("t.json")).unwrap(), t);
    }

    #[test]
    fn a_bad_file_names_itself_and_the_keyframe() {
        let err = Tour::from_json("{", Path::new("tours/x.json")).unwrap_err();
        assert!(format!("{err:#}").contains("tours/x.json"), "{err:#}");
        let mut t = tour();
        t.keyframes[2].width = 0.0;
        let err = Tour::from_json(&t.to_json(), Path::new("tours/talk.json")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("keyframe 3") && msg.contains("tours/talk.json"),
            "{msg}"
        );
    }

    #[test]
    fn store_saves_lists_loads_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list(dir.path()).unwrap().is_empty());
        let path = save(dir.path(), &tour()).unwrap();
        assert_eq!(path, dir.path().join("tours/talk.json"));
        assert_eq!(load(dir.path(), "talk").unwrap(), Some(tour()));
        assert_eq!(list(dir.path()).unwrap(), vec![tour()]);
        assert!(delete(dir.path(), "talk").unwrap());
        assert!(!delete(dir.path(), "talk").unwrap());
        assert_eq!(load(dir.path(), "talk").unwrap(), None);
    }

    #[test]
    fn names_that_are_not_file_names_are_refused() {
        for bad in ["", "../x", "a/b", ".hidden", "auto", "tab\t"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        check_name("talk-2026_v1.2").unwrap();
    }

    #[test]
    fn playing_passes_through_every_keyframe_exactly() {
        let t = tour();
        let timeline = Timeline::new(&t, 16.0 / 9.0);
        for (i, k) in t.keyframes.iter().enumerate() {
            let at = timeline.arrival(i);
            let m = timeline.at(at).unwrap();
            assert_eq!(m.view, k.view(16.0 / 9.0), "keyframe {i}");
            // And still there at the end of its hold.
            let end = timeline.at(at + k.hold()).unwrap();
            assert_eq!(end.view, k.view(16.0 / 9.0), "keyframe {i}");
        }
        assert!(timeline.duration().is_finite());
        let last = timeline.at(timeline.duration() + 100.0).unwrap();
        assert_eq!(last.keyframe, 3);
        // Keyframes 3 and 4 share a centre: a pure zoom of finite length.
        let zoom_travel = timeline.arrival(3) - timeline.arrival(2) - t.keyframes[2].hold();
        assert!(zoom_travel.is_finite() && zoom_travel >= MIN_TRAVEL_S);
    }

    /// Views differ by less than `tol` (relative to the wider width).
    fn close(a: View, b: View, tol: f64) -> bool {
        let scale = a.width.max(b.width);
        a.center.distance(b.center) <= tol * scale && (a.width - b.width).abs() <= tol * scale
    }

    #[test]
    fn the_camera_arrives_at_each_keyframe_without_a_jump() {
        let t = tour();
        let aspect = 16.0 / 9.0;
        let timeline = Timeline::new(&t, aspect);
        for i in 1..t.keyframes.len() {
            // Just before the arrival the travel is already (almost) there,
            // and just after leaving the previous keyframe it has barely moved.
            let arrive = timeline.arrival(i);
            let before = timeline.at(arrive - 1e-6).unwrap();
            assert!(before.caption.is_none(), "still travelling");
            assert!(
                close(before.view, t.keyframes[i].view(aspect), 1e-6),
                "keyframe {i}: {:?}",
                before.view
            );
            let leave = timeline.arrival(i - 1) + t.keyframes[i - 1].hold();
            let after = timeline.at(leave + 1e-6).unwrap();
            assert!(close(after.view, t.keyframes[i - 1].view(aspect), 1e-6));
        }
    }

    #[test]
    fn between_distant_keyframes_the_played_zoom_goes_out_then_in() {
        let t = tour();
        let aspect = 2.0;
        let timeline = Timeline::new(&t, aspect);
        // Keyframes 2 and 3: narrow views 550 units apart.
        let (a, b) = (t.keyframes[1].view(aspect), t.keyframes[2].view(aspect));
        let leave = timeline.arrival(1) + t.keyframes[1].hold();
        let arrive = timeline.arrival(2);
        let widths: Vec<f64> = (1..200)
            .map(|k| {
                let time = leave + (arrive - leave) * f64::from(k) / 200.0;
                timeline.at(time).unwrap().view.width
            })
            .collect();
        let peak = widths
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .map(|(i, _)| i)
            .unwrap();
        assert!(
            widths[peak] > 3.0 * a.width.max(b.width),
            "{}",
            widths[peak]
        );
        assert!(peak > 10 && peak < widths.len() - 10, "peak at {peak}");
        assert!(widths[..=peak].windows(2).all(|w| w[1] >= w[0]));
        assert!(widths[peak..].windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn nearly_equal_centres_give_finite_durations_like_a_pure_zoom() {
        let aspect = 1.0;
        for gap in [0.0, 1e-12, 1e-7, 1e-3] {
            let t = Tour {
                name: "zoom".into(),
                keyframes: vec![
                    key(10.0, 10.0, 1000.0, None),
                    key(10.0 + gap, 10.0, 2.0, None),
                ],
            };
            let timeline = Timeline::new(&t, aspect);
            let d = timeline.duration();
            assert!(d.is_finite(), "gap {gap}: {d}");
            let travel = d - 2.0 * DEFAULT_HOLD_S;
            assert!(
                (MIN_TRAVEL_S..=MAX_TRAVEL_S).contains(&travel),
                "gap {gap}: {travel}"
            );
            // The path's length is the pure zoom's, |ln(w1 / w0)| / ρ.
            let path = ZoomPath::new(
                t.keyframes[0].view(aspect),
                t.keyframes[1].view(aspect),
                RHO,
            );
            let pure = (1000.0f64 / 2.0).ln() / RHO;
            assert!(
                (path.length() - pure).abs() < 1e-3 * pure,
                "gap {gap}: {}",
                path.length()
            );
            let mid = timeline
                .at(timeline.arrival(1) - 0.5 * travel)
                .unwrap()
                .view;
            assert!(mid.width.is_finite() && mid.width > 2.0 && mid.width < 1000.0);
        }
        // The same view twice: no travel at all.
        let same = Tour {
            name: "still".into(),
            keyframes: vec![key(1.0, 1.0, 5.0, None), key(1.0, 1.0, 5.0, None)],
        };
        assert_eq!(
            Timeline::new(&same, aspect).duration(),
            2.0 * DEFAULT_HOLD_S
        );
    }

    #[test]
    fn a_tour_file_is_named_by_its_file() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), &tour()).unwrap();
        let renamed = tour_path(dir.path(), "talk-copy");
        std::fs::copy(tour_path(dir.path(), "talk"), &renamed).unwrap();
        let names: Vec<String> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["talk", "talk-copy"]);
        assert_eq!(
            load(dir.path(), "talk-copy").unwrap().unwrap().name,
            "talk-copy"
        );
    }

    #[test]
    fn views_from_the_layout_are_written_at_its_precision() {
        let camera = Camera {
            center: Vec2::new(44.324066, -0.1),
            zoom: 3.0,
            viewport: Vec2::new(1000.0, 500.0),
        };
        let k = Keyframe::from_camera(&camera);
        assert_eq!(k.center, [44.324066, -0.1]);
        assert_eq!(k.width as f32, 1000.0f32 / 3.0);
        let json = serde_json::to_string(&k).unwrap();
        assert!(json.contains("[44.324066,-0.1]"), "{json}");
    }

    #[test]
    fn the_view_fits_the_keyframe_rectangle_on_any_viewport() {
        let k = key(0.0, 0.0, 100.0, None); // 100 × 50
        assert_eq!(k.view(2.0).width, 100.0);
        assert_eq!(k.view(4.0).width, 200.0); // the height decides
        let cam = camera_for(&k.view(1.0), Vec2::new(400.0, 400.0));
        assert_eq!(cam.zoom, 4.0);
        let back = Keyframe::from_camera(&cam);
        assert_eq!((back.width, back.height), (100.0, 100.0));
    }

    #[test]
    fn captions_fade_in_and_out_during_the_hold() {
        let t = tour();
        let timeline = Timeline::new(&t, 2.0);
        let arrive = timeline.arrival(1);
        let alpha = |dt: f64| timeline.at(arrive + dt).unwrap().caption.map(|c| c.1);
        assert_eq!(alpha(0.0), Some(0.0));
        assert!(alpha(CAPTION_FADE_S).unwrap() > 0.999);
        assert!((alpha(CAPTION_FADE_S / 2.0).unwrap() - 0.5).abs() < 0.01);
        assert_eq!(alpha(DEFAULT_HOLD_S / 2.0), Some(1.0));
        assert!(alpha(DEFAULT_HOLD_S - 0.1).unwrap() < 0.5);
        // While travelling, no caption.
        assert_eq!(alpha(DEFAULT_HOLD_S + 0.5), None);
    }

    #[test]
    fn a_removed_cluster_is_skipped_with_a_warning() {
        let mut t = tour();
        t.keyframes[1].cluster = Some("Harbour".into());
        t.keyframes[2].cluster = Some("Forest".into());
        let forest = Cluster {
            name: "Forest".into(),
            ..test_cluster()
        };
        let warnings = drop_missing_clusters(&mut t, &[forest]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("keyframe 2") && warnings[0].contains("\"Harbour\""));
        assert_eq!(t.keyframes[1].cluster, None);
        assert_eq!(t.keyframes[1].caption.as_deref(), Some("Harbour & sea"));
        assert_eq!(t.keyframes[2].cluster.as_deref(), Some("Forest"));
        // Still plays through all four keyframes.
        assert_eq!(Timeline::new(&t, 1.0).at(1e9).unwrap().keyframe, 3);
    }

    fn test_cluster() -> Cluster {
        Cluster {
            id: 1,
            name: String::new(),
            auto_name: String::new(),
            caption: None,
            color: 0,
            hidden: false,
            is_other: false,
            size: 10,
            tag_count: 0,
            core_size: None,
            outside_hull: None,
            hull_wkt: None,
            label_at: None,
            labels: Vec::new(),
            annotation_id: None,
        }
    }

    #[test]
    fn the_automatic_tour_frames_the_map_then_the_largest_clusters() {
        let map = Bounds {
            min: Vec2::new(-100.0, -50.0),
            max: Vec2::new(100.0, 50.0),
        };
        let square = |x0: f64| {
            format!(
                "POLYGON(({x0} 0,{} 0,{} 10,{x0} 10,{x0} 0))",
                x0 + 10.0,
                x0 + 10.0
            )
        };
        let clusters = vec![
            Cluster {
                id: 1,
                name: "Small".into(),
                size: 5,
                hull_wkt: Some(square(50.0)),
                ..test_cluster()
            },
            Cluster {
                id: 2,
                name: "Big".into(),
                size: 50,
                caption: Some("boats".into()),
                hull_wkt: Some(square(-60.0)),
                ..test_cluster()
            },
            Cluster {
                id: 3,
                name: "other".into(),
                size: 99,
                is_other: true,
                hull_wkt: Some(square(0.0)),
                ..test_cluster()
            },
        ];
        let t = automatic(&map, &clusters);
        let captions: Vec<Option<&str>> =
            t.keyframes.iter().map(|k| k.caption.as_deref()).collect();
        assert_eq!(captions, [None, Some("Big: boats"), Some("Small"), None]);
        assert_eq!(t.keyframes[1].cluster.as_deref(), Some("Big"));
        assert_eq!(t.keyframes[1].center, [-55.0, 5.0]);
        assert_eq!(t.keyframes[0], t.keyframes[3]);
        assert_eq!(t.keyframes[0].center, [0.0, 0.0]);
        assert!(t.keyframes[0].width > 200.0);
    }
}
