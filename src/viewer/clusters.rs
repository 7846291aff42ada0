//! The cluster panel and lasso: lists the clusters (size, name, top tags),
//! flies to one on click, and edits them — rename, caption, colour, hide,
//! merge two, lasso images into a new one. The panel only edits its own
//! state and returns [`ClusterAction`]s; the app saves each at once through
//! [`crate::cluster::annotations`] and refreshes the overlay.

use egui::{Color32, RichText};
use geo::{Contains, LineString, Point, Polygon};
use glam::Vec2;

use crate::cluster::Cluster;
use crate::render::Bounds;

/// Top tags shown under a cluster's name.
const TAGS_SHOWN: usize = 3;
/// A lasso point is recorded once the pointer moved this far (pixels).
const LASSO_STEP_PX: f32 = 3.0;

/// What the user asked of the clusters this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterAction {
    FlyTo(i64),
    /// `None` brings back the automatic name.
    Rename(i64, Option<String>),
    Caption(i64, Option<String>),
    Color(i64, u32),
    Hide(i64, bool),
    Merge(i64, i64),
}

/// The panel's state between frames.
#[derive(Default)]
pub struct ClusterPanel {
    pub clusters: Vec<Cluster>,
    /// The cluster being edited (its fields below).
    selected: Option<i64>,
    name: String,
    caption: String,
    /// The second cluster of a merge.
    merge_with: Option<i64>,
    /// Lasso mode: a left drag on the map draws a polygon.
    pub lasso_mode: bool,
    /// The polygon being drawn, in screen pixels.
    pub lasso: Vec<Vec2>,
    /// The last error or result, shown in the panel.
    pub note: Option<String>,
}

impl ClusterPanel {
    /// New cluster list (after a save); keeps the selection when it still exists.
    pub fn set_clusters(&mut self, clusters: Vec<Cluster>) {
        self.clusters = clusters;
        if let Some(id) = self.selected {
            match self.clusters.iter().find(|c| c.id == id) {
                Some(c) => {
                    self.name = c.name.clone();
                    self.caption = c.caption.clone().unwrap_or_default();
                }
                None => self.selected = None,
            }
        }
        if self
            .merge_with
            .is_some_and(|m| !self.clusters.iter().any(|c| c.id == m))
        {
            self.merge_with = None;
        }
    }

    fn select(&mut self, c: &Cluster) {
        self.selected = Some(c.id);
        self.name = c.name.clone();
        self.caption = c.caption.clone().unwrap_or_default();
        self.merge_with = None;
    }

    /// The panel (right side). Empty clusters: a hint to run `tagscape cluster`.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<ClusterAction> {
        let mut actions = Vec::new();
        egui::Panel::right("clusters")
            .resizable(true)
            .default_size(280.0)
            .show(ui, |ui| {
                ui.heading("Clusters");
                if self.clusters.is_empty() {
                    ui.label("No clusters yet: run `tagscape cluster DIR`, then reopen the map.");
                    return;
                }
                ui.toggle_value(&mut self.lasso_mode, "Lasso: drag around images")
                    .on_hover_text("The images inside become a new cluster");
                if !self.lasso_mode {
                    self.lasso.clear();
                }
                if let Some(note) = &self.note {
                    ui.label(RichText::new(note).italics());
                }
                ui.separator();
                self.editor(ui, &mut actions);
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let list = self.clusters.clone();
                    for c in &list {
                        self.row(ui, c, &mut actions);
                    }
                });
            });
        actions
    }

    fn row(&mut self, ui: &mut egui::Ui, c: &Cluster, actions: &mut Vec<ClusterAction>) {
        let [r, g, b] = rgb_bytes(c.color);
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 2.0, Color32::from_rgb(r, g, b));
            let mut text = RichText::new(format!("{} ({})", c.name, c.size));
            if c.hidden {
                text = text.weak();
            }
            let selected = self.selected == Some(c.id);
            if ui.selectable_label(selected, text).clicked() {
                self.select(c);
                actions.push(ClusterAction::FlyTo(c.id));
            }
        });
        let tags: Vec<&str> = c
            .labels
            .iter()
            .take(TAGS_SHOWN)
            .map(|t| t.tag.as_str())
            .collect();
        if !tags.is_empty() {
            ui.label(RichText::new(tags.join(" · ")).small().weak());
        }
    }

    fn editor(&mut self, ui: &mut egui::Ui, actions: &mut Vec<ClusterAction>) {
        let Some(id) = self.selected else {
            ui.label("Click a cluster to fly to it and edit it.");
            ui.separator();
            return;
        };
        let Some(c) = self.clusters.iter().find(|c| c.id == id).cloned() else {
            return;
        };
        ui.label(RichText::new(format!("Cluster {id}: {} images", c.size)).strong());
        ui.horizontal(|ui| {
            ui.label("Name");
            let edit = ui.text_edit_singleline(&mut self.name);
            if edit.lost_focus() && self.name != c.name {
                let name = self.name.trim();
                actions.push(ClusterAction::Rename(
                    id,
                    (!name.is_empty()).then(|| name.to_string()),
                ));
            }
        });
        ui.label("Caption");
        let edit = ui.add(egui::TextEdit::multiline(&mut self.caption).desired_rows(2));
        if edit.lost_focus() && Some(self.caption.as_str()) != c.caption.as_deref() {
            let caption = self.caption.trim();
            actions.push(ClusterAction::Caption(
                id,
                (!caption.is_empty()).then(|| caption.to_string()),
            ));
        }
        ui.horizontal(|ui| {
            let mut rgb = rgb_bytes(c.color);
            if ui.color_edit_button_srgb(&mut rgb).changed() {
                let [r, g, b] = rgb;
                actions.push(ClusterAction::Color(
                    id,
                    (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b),
                ));
            }
            let mut hidden = c.hidden;
            if ui.checkbox(&mut hidden, "Hidden").changed() {
                actions.push(ClusterAction::Hide(id, hidden));
            }
        });
        ui.horizontal(|ui| {
            let chosen = self
                .merge_with
                .and_then(|m| self.clusters.iter().find(|c| c.id == m))
                .map_or("merge with…".to_string(), |m| m.name.clone());
            egui::ComboBox::from_id_salt("merge with")
                .selected_text(chosen)
                .show_ui(ui, |ui| {
                    for other in self.clusters.iter().filter(|o| o.id != id) {
                        ui.selectable_value(
                            &mut self.merge_with,
                            Some(other.id),
                            format!("{} ({})", other.name, other.size),
                        );
                    }
                });
            if ui
                .add_enabled(self.merge_with.is_some(), egui::Button::new("Merge"))
                .clicked()
                && let Some(other) = self.merge_with
            {
                actions.push(ClusterAction::Merge(id, other));
            }
        });
        ui.separator();
    }

    /// Lasso input: the pointer at `at` while the button is held.
    pub fn lasso_point(&mut self, at: Vec2) {
        if self
            .lasso
            .last()
            .is_none_or(|p| p.distance(at) >= LASSO_STEP_PX)
        {
            self.lasso.push(at);
        }
    }

    /// Draws the lasso being dragged over the map.
    pub fn paint_lasso(&self, ctx: &egui::Context, pixels_per_point: f32) {
        if self.lasso.len() < 2 {
            return;
        }
        let points: Vec<egui::Pos2> = self
            .lasso
            .iter()
            .map(|p| egui::pos2(p.x / pixels_per_point, p.y / pixels_per_point))
            .collect();
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("tagscape lasso"),
        ));
        painter.add(egui::Shape::closed_line(
            points,
            egui::Stroke::new(1.5, Color32::from_rgb(0xff, 0x88, 0x00)),
        ));
    }
}

fn rgb_bytes(rgb: u32) -> [u8; 3] {
    [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8]
}

/// The images (indices into `positions`, the first `n_images`) inside the
/// closed polygon `lasso` (world coordinates).
pub fn images_inside(lasso: &[Vec2], positions: &[Vec2], n_images: usize) -> Vec<usize> {
    if lasso.len() < 3 {
        return Vec::new();
    }
    let ring: LineString<f64> = lasso
        .iter()
        .map(|p| (f64::from(p.x), f64::from(p.y)))
        .collect();
    let polygon = Polygon::new(ring, Vec::new());
    positions
        .iter()
        .take(n_images)
        .enumerate()
        .filter(|(_, p)| polygon.contains(&Point::new(f64::from(p.x), f64::from(p.y))))
        .map(|(i, _)| i)
        .collect()
}

/// The world rectangle to fly to for `cluster`: its hull's bounds, else
/// its label anchor with a small margin.
pub fn cluster_bounds(cluster: &Cluster) -> Option<Bounds> {
    use geo::BoundingRect;
    if let Some(rect) = cluster.hull().and_then(|h| h.bounding_rect()) {
        return Some(Bounds {
            min: Vec2::new(rect.min().x as f32, rect.min().y as f32),
            max: Vec2::new(rect.max().x as f32, rect.max().y as f32),
        });
    }
    let [x, y] = cluster.label_at?;
    let c = Vec2::new(x as f32, y as f32);
    Some(Bounds {
        min: c - Vec2::splat(10.0),
        max: c + Vec2::splat(10.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lasso_selects_the_images_inside_its_polygon_only() {
        // A triangle (0,0) (10,0) (0,10): (1,1) and (4,4) inside, (6,6) and
        // (-1,1) outside; node 4 is a tag inside it and is never picked.
        let lasso = [
            Vec2::new(0.0, 0.0),
            Vec2::new(10.0, 0.0),
            Vec2::new(0.0, 10.0),
        ];
        let positions = [
            Vec2::new(1.0, 1.0),
            Vec2::new(6.0, 6.0),
            Vec2::new(4.0, 4.0),
            Vec2::new(-1.0, 1.0),
            Vec2::new(2.0, 2.0),
        ];
        assert_eq!(images_inside(&lasso, &positions, 4), vec![0, 2]);
        assert!(images_inside(&lasso[..2], &positions, 4).is_empty());
    }
}
