//! The tour window: choose a tour, add the current view as a keyframe (with
//! a caption and a cluster to highlight), reorder, edit and delete
//! keyframes, save the tour in the project, and play it. Playing moves the
//! camera along the tour's timeline (`crate::tour::Timeline`), the same one
//! the video export records. The window only edits its state and returns
//! [`TourAction`]s; the app applies them.

use std::time::Instant;

use egui::RichText;

use crate::tour::{AUTO_NAME, Keyframe, Moment, Timeline, Tour};

/// What the user asked of the tour window this frame.
#[derive(Clone, Debug, PartialEq)]
pub enum TourAction {
    /// Append the current view as a keyframe (caption and cluster from the window).
    AddView,
    /// Load the tour of this name (`auto`: the automatic one).
    Load(String),
    Save,
    Play,
    Stop,
}

/// A tour being played: its timeline on the window's shape and when it began.
pub struct Playback {
    pub timeline: Timeline,
    started: Instant,
}

impl Playback {
    pub fn new(tour: &Tour, aspect: f64, now: Instant) -> Playback {
        Playback {
            timeline: Timeline::new(tour, aspect),
            started: now,
        }
    }

    /// What to show at `now`; `None` once the tour is over.
    pub fn moment(&self, now: Instant) -> Option<Moment> {
        let t = now.duration_since(self.started).as_secs_f64();
        if t > self.timeline.duration() {
            return None;
        }
        self.timeline.at(t)
    }
}

pub struct TourPanel {
    /// Saved tours, by name.
    pub names: Vec<String>,
    pub tour: Tour,
    /// Edited since loaded or saved.
    pub dirty: bool,
    /// Caption and cluster for the next added view.
    pub caption: String,
    pub cluster: Option<String>,
    /// Name under which "Save" writes (a copy of the automatic tour needs one).
    pub save_as: String,
    pub cluster_names: Vec<String>,
    pub playing: Option<Playback>,
    pub note: Option<String>,
}

impl TourPanel {
    pub fn new(names: Vec<String>, tour: Tour, cluster_names: Vec<String>) -> TourPanel {
        let save_as = if tour.name == AUTO_NAME {
            "talk".to_string()
        } else {
            tour.name.clone()
        };
        TourPanel {
            names,
            tour,
            dirty: false,
            caption: String::new(),
            cluster: None,
            save_as,
            cluster_names,
            playing: None,
            note: None,
        }
    }

    /// The keyframe for the current view, with the window's caption and cluster.
    pub fn keyframe_here(&self, mut keyframe: Keyframe) -> Keyframe {
        let caption = self.caption.trim();
        keyframe.caption = (!caption.is_empty()).then(|| caption.to_string());
        keyframe.cluster = self.cluster.clone();
        keyframe
    }

    pub fn show(&mut self, ctx: &egui::Context) -> Vec<TourAction> {
        let mut actions = Vec::new();
        egui::Window::new("Tour")
            .default_open(false)
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(270.0, -40.0))
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    egui::ComboBox::from_id_salt("tour name")
                        .selected_text(&self.tour.name)
                        .show_ui(ui, |ui| {
                            let all = std::iter::once(AUTO_NAME.to_string())
                                .chain(self.names.iter().cloned());
                            for name in all {
                                if ui.selectable_label(name == self.tour.name, &name).clicked() {
                                    actions.push(TourAction::Load(name));
                                }
                            }
                        });
                    if self.playing.is_some() {
                        if ui.button("Stop").clicked() {
                            actions.push(TourAction::Stop);
                        }
                    } else if ui
                        .add_enabled(!self.tour.keyframes.is_empty(), egui::Button::new("Play"))
                        .clicked()
                    {
                        actions.push(TourAction::Play);
                    }
                });
                ui.separator();
                let mut edit: Option<Edit> = None;
                let last = self.tour.keyframes.len().saturating_sub(1);
                egui::ScrollArea::vertical()
                    .max_height(260.0)
                    .show(ui, |ui| {
                        for (i, k) in self.tour.keyframes.iter_mut().enumerate() {
                            ui.horizontal(|ui| {
                                ui.label(format!("{}.", i + 1));
                                let mut caption = k.caption.clone().unwrap_or_default();
                                let field = ui.add(
                                    egui::TextEdit::singleline(&mut caption)
                                        .hint_text("caption")
                                        .desired_width(140.0),
                                );
                                if field.changed() {
                                    k.caption = (!caption.trim().is_empty()).then_some(caption);
                                    edit = Some(Edit::Changed);
                                }
                                // A fixed width keeps the buttons in columns.
                                let cluster = k.cluster.as_deref().unwrap_or("");
                                ui.add_sized(
                                    [90.0, 18.0],
                                    egui::Label::new(RichText::new(cluster).small()).truncate(),
                                )
                                .on_hover_text(cluster);
                                if ui
                                    .add_enabled(i > 0, egui::Button::new("↑").small())
                                    .clicked()
                                {
                                    edit = Some(Edit::Move(i, i - 1));
                                }
                                if ui
                                    .add_enabled(i < last, egui::Button::new("↓").small())
                                    .clicked()
                                {
                                    edit = Some(Edit::Move(i, i + 1));
                                }
                                if ui.small_button("✕").on_hover_text("Delete").clicked() {
                                    edit = Some(Edit::Delete(i));
                                }
                            });
                        }
                    });
                match edit {
                    Some(Edit::Move(from, to)) => self.tour.move_keyframe(from, to),
                    Some(Edit::Delete(i)) => {
                        self.tour.keyframes.remove(i);
                    }
                    Some(Edit::Changed) | None => {}
                }
                self.dirty |= edit.is_some();
                ui.separator();
                ui.add(
                    egui::TextEdit::singleline(&mut self.caption)
                        .hint_text("caption for the next view")
                        .desired_width(f32::INFINITY),
                );
                ui.horizontal(|ui| {
                    egui::ComboBox::from_id_salt("tour cluster")
                        .selected_text(self.cluster.as_deref().unwrap_or("no highlight"))
                        .show_ui(ui, |ui| {
                            if ui
                                .selectable_label(self.cluster.is_none(), "no highlight")
                                .clicked()
                            {
                                self.cluster = None;
                            }
                            for name in &self.cluster_names {
                                let on = self.cluster.as_deref() == Some(name.as_str());
                                if ui.selectable_label(on, name).clicked() {
                                    self.cluster = Some(name.clone());
                                }
                            }
                        });
                    if ui
                        .button("Add this view")
                        .on_hover_text("The map as it is on screen now becomes the next keyframe")
                        .clicked()
                    {
                        actions.push(TourAction::AddView);
                    }
                });
                ui.horizontal(|ui| {
                    ui.add(egui::TextEdit::singleline(&mut self.save_as).desired_width(100.0));
                    let label = if self.dirty { "Save *" } else { "Save" };
                    if ui
                        .button(label)
                        .on_hover_text("Saved in the project's tours/ as JSON")
                        .clicked()
                    {
                        actions.push(TourAction::Save);
                    }
                });
                if let Some(note) = &self.note {
                    ui.label(RichText::new(note).small());
                }
            });
        actions
    }
}

enum Edit {
    Move(usize, usize),
    Delete(usize),
    Changed,
}

/// Paints a playing tour's caption near the bottom of `area`, faded by its
/// opacity, on a light band so it reads over the images.
pub fn paint_caption(ctx: &egui::Context, area: egui::Rect, caption: &str, alpha: f32) {
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("tour caption"),
    ));
    let font = egui::FontId::proportional(26.0);
    let ink = egui::Color32::from_black_alpha((alpha * 230.0) as u8);
    let galley = painter.layout_no_wrap(caption.to_string(), font, ink);
    let at = egui::pos2(
        area.center().x - galley.size().x / 2.0,
        area.max.y - galley.size().y - 36.0,
    );
    let band = egui::Rect::from_min_size(at, galley.size()).expand(10.0);
    painter.rect_filled(
        band,
        6.0,
        egui::Color32::from_white_alpha((alpha * 200.0) as u8),
    );
    painter.galley(at, galley, ink);
}
