//! The egui panels around the map: search with tag completion, view
//! toggles, the live layout's controls and settings, the tags by degree
//! with hide toggles, the no-layout banner and the status bar. They only
//! edit [`Panels`] and return [`Action`]s; the app applies them.

use egui::{Color32, RichText};

use crate::layout::ForceAtlas2Settings;
use crate::viewer::data::MapData;

/// Tag suggestions shown under the search box.
const COMPLETIONS: usize = 8;

/// The search box's tooltip: the query language of `crate::search`.
const SEARCH_HELP: &str = "Type a tag to highlight its images, or press Enter to search:\n\
  tag:NAME   the image carries the tag\n\
  user:NAME   a post by that user\n\
  date:2020-03..2020-06   a post dated in the range (YYYY, YYYY-MM, YYYY-MM-DD)\n\
  text:WORDS   a post containing the words\n\
  COLUMN:VALUE   a post whose column contains the value (COLUMN=VALUE: the whole cell)\n\
  cluster:ID|NAME   the cluster's images\n\
  a bare word   in a tag or a post\n\
Terms combine with AND; post terms hold on one and the same post.";

/// What the user asked for this frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Highlight the images of this tag and dim the rest (`None`: clear).
    Highlight(Option<u32>),
    /// Run the query in the search box (`crate::search`) and highlight
    /// what it finds.
    Search,
    /// Write the searched images, their posts and originals to a folder.
    ExportSelection,
    /// The set of hidden tags changed.
    HiddenChanged,
    /// Start the live layout from random positions (no layout yet).
    StartLayout,
    RunLayout,
    /// Lay the map out (clusters as regions, no overlaps) and show it.
    MapLayout,
    /// Put the layout before the last one back.
    UndoLayout,
    /// ForceAtlas2 settings back to the defaults.
    ResetSettings,
    /// Pause, and save the positions in the project.
    PauseLayout,
    SettingsChanged,
    FitAll,
    Screenshot,
}

/// The live layout as the panel shows it.
pub struct LayoutView {
    pub running: bool,
    pub iterations: u64,
    /// Global swing per node at the last readback.
    pub swing_per_node: Option<f32>,
    pub saved_note: Option<String>,
    /// The map quality line of the last layout, if any.
    pub quality: Option<String>,
}

/// Figures of the status bar.
pub struct Status<'a> {
    pub adapter: &'a str,
    pub fps: f32,
    pub frame_ms: f32,
    pub visible: usize,
    pub waiting: usize,
    /// Cluster labels (shown, wanted) in the last frame.
    pub cluster_labels: Option<(usize, usize)>,
}

/// What the last metadata search found, as the panel shows it.
pub struct SearchView {
    /// "12 images (15 matching posts)", or the query's error.
    pub result: Result<String, String>,
    /// Images found (0 disables the export).
    pub found: usize,
    /// Where the last export of the selection went, or why it failed.
    pub exported: Option<String>,
}

pub struct Panels {
    pub search: String,
    pub highlighted: Option<u32>,
    /// The metadata search shown under the box, while one is active.
    pub searched: Option<SearchView>,
    /// Results older than the network (`project::stages`), shown on top.
    pub stale: Vec<String>,
    pub show_tags: bool,
    pub tag_labels: bool,
    pub show_edges: bool,
    pub dark: bool,
    /// Per node: whether the tag is hidden (images are never hidden here).
    pub hidden: Vec<bool>,
    pub settings: ForceAtlas2Settings,
    pub iterations_per_frame: usize,
}

impl Panels {
    pub fn new(nodes: usize, settings: ForceAtlas2Settings, iterations_per_frame: usize) -> Panels {
        Panels {
            search: String::new(),
            highlighted: None,
            searched: None,
            stale: Vec::new(),
            show_tags: false,
            tag_labels: true,
            show_edges: false,
            dark: false,
            hidden: vec![false; nodes],
            settings,
            iterations_per_frame,
        }
    }

    /// Everything around the map. `layout` is `None` while no layout runs
    /// or exists; `has_layout` says whether positions exist at all.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        data: &MapData,
        status: &Status,
        layout: Option<&LayoutView>,
        has_layout: bool,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(status.adapter);
                ui.separator();
                ui.label(format!("{:.0} fps ({:.1} ms)", status.fps, status.frame_ms));
                ui.separator();
                ui.label(format!(
                    "{} images · {} tags · {} edges",
                    data.n_images(),
                    data.n_tags(),
                    data.graph.edges.len()
                ));
                ui.separator();
                ui.label(format!("{} on screen", status.visible));
                if status.waiting > 0 {
                    ui.separator();
                    ui.label(format!("{} thumbnails loading", status.waiting));
                }
                if let Some((shown, wanted)) = status.cluster_labels
                    && shown < wanted
                {
                    ui.separator();
                    ui.label(format!(
                        "{shown} of {wanted} cluster labels shown: zoom in for the others"
                    ))
                    .on_hover_text("Labels that would cover a larger cluster's label wait until the regions are farther apart on screen");
                }
            });
        });
        if !self.stale.is_empty() {
            egui::Panel::top("stale results").show(ui, |ui| {
                for line in &self.stale {
                    ui.colored_label(Color32::from_rgb(170, 90, 0), line);
                }
            });
        }
        if !has_layout {
            egui::Panel::top("no layout").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new("This project has no layout yet.").strong());
                    if ui.button("Lay out the map").clicked() {
                        actions.push(Action::MapLayout);
                    }
                    ui.label("(each cluster a region, images never covering each other), or");
                    if ui.button("Live ForceAtlas2").clicked() {
                        actions.push(Action::StartLayout);
                    }
                    ui.label("(Gephi's, on the GPU from random positions; Pause saves it)");
                });
            });
        }
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| {
                self.search_box(ui, data, &mut actions);
                ui.separator();
                self.view_toggles(ui, &mut actions);
                if let Some(layout) = layout {
                    ui.separator();
                    self.layout_controls(ui, layout, &mut actions);
                }
                ui.separator();
                self.tag_list(ui, data, &mut actions);
            });
        actions
    }

    fn search_box(&mut self, ui: &mut egui::Ui, data: &MapData, actions: &mut Vec<Action>) {
        ui.label("Search tags and posts").on_hover_text(SEARCH_HELP);
        let edit = ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("tag, or user:alice date:2020-03..")
                .desired_width(f32::INFINITY),
        );
        let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if edit.changed() {
            let exact = data.tag_named(&self.search);
            if exact != self.highlighted {
                self.highlighted = exact;
                actions.push(Action::Highlight(exact));
            }
        }
        if entered && self.highlighted.is_none() && !self.search.trim().is_empty() {
            actions.push(Action::Search);
        }
        if let Some(searched) = &self.searched {
            match &searched.result {
                Ok(found) => {
                    ui.label(format!("{found} match"));
                }
                Err(e) => {
                    ui.colored_label(Color32::from_rgb(180, 40, 40), e);
                }
            }
            let mut clear = false;
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(searched.found > 0, egui::Button::new("Export selection"))
                    .on_hover_text("Their images and posts as CSV, and their originals, in a folder of the project's exports/")
                    .clicked()
                {
                    actions.push(Action::ExportSelection);
                }
                clear = ui.small_button("Clear").clicked();
            });
            if let Some(note) = &searched.exported {
                ui.label(RichText::new(note).small());
            }
            if clear {
                self.search.clear();
                self.searched = None;
                actions.push(Action::Highlight(None));
            }
            return;
        }
        if self.highlighted.is_none() {
            for tag in data.complete(&self.search, COMPLETIONS) {
                let text = format!("{} ({})", data.label(tag), data.graph.degree(tag as usize));
                if ui.selectable_label(false, text).clicked() {
                    self.search = data.label(tag).to_string();
                    self.highlighted = Some(tag);
                    actions.push(Action::Highlight(Some(tag)));
                }
            }
            if !self.search.trim().is_empty() {
                ui.label(RichText::new("Enter searches tags and posts").small());
            }
        } else if let Some(tag) = self.highlighted {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} images carry \"{}\"",
                    data.graph.degree(tag as usize),
                    data.label(tag)
                ));
                if ui.small_button("Clear").clicked() {
                    self.search.clear();
                    self.highlighted = None;
                    actions.push(Action::Highlight(None));
                }
            });
        }
    }

    fn view_toggles(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.checkbox(&mut self.show_tags, "Tag nodes");
        ui.add_enabled(
            self.show_tags,
            egui::Checkbox::new(&mut self.tag_labels, "Tag labels"),
        );
        ui.checkbox(&mut self.show_edges, "Edges");
        ui.checkbox(&mut self.dark, "Dark background");
        ui.horizontal(|ui| {
            if ui.button("Fit all (F)").clicked() {
                actions.push(Action::FitAll);
            }
            if ui.button("Screenshot (Shift+S)").clicked() {
                actions.push(Action::Screenshot);
            }
        });
    }

    fn layout_controls(
        &mut self,
        ui: &mut egui::Ui,
        layout: &LayoutView,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Layout").strong());
            if ui
                .button("Map")
                .on_hover_text(
                    "Each cluster a region, components packed, no image covering another",
                )
                .clicked()
            {
                actions.push(Action::MapLayout);
            }
            if ui
                .button("Undo")
                .on_hover_text("Put the layout before the last one back")
                .clicked()
            {
                actions.push(Action::UndoLayout);
            }
        });
        if let Some(quality) = &layout.quality {
            ui.label(RichText::new(quality).small());
        }
        ui.horizontal(|ui| {
            ui.label("Live ForceAtlas2 (plain)");
            if layout.running {
                if ui.button("Pause").clicked() {
                    actions.push(Action::PauseLayout);
                }
            } else if ui.button("Run").clicked() {
                actions.push(Action::RunLayout);
            }
        });
        let mut line = format!("{} iterations", layout.iterations);
        if let Some(s) = layout.swing_per_node {
            line.push_str(&format!(", swing/node {s:.3}"));
        }
        ui.label(line);
        if let Some(note) = &layout.saved_note {
            ui.label(RichText::new(note).small());
        }
        ui.add(egui::Slider::new(&mut self.iterations_per_frame, 1..=50).text("iterations/frame"));
        let before = self.settings.clone();
        egui::CollapsingHeader::new("ForceAtlas2 settings")
            .default_open(false)
            .show(ui, |ui| {
                let s = &mut self.settings;
                ui.add(
                    egui::Slider::new(&mut s.scaling_ratio, 0.01..=1000.0)
                        .logarithmic(true)
                        .text("scaling"),
                );
                ui.add(
                    egui::Slider::new(&mut s.gravity, 0.0..=100.0)
                        .logarithmic(true)
                        .text("gravity"),
                );
                ui.checkbox(&mut s.strong_gravity_mode, "strong gravity");
                ui.checkbox(&mut s.lin_log_mode, "LinLog mode");
                ui.checkbox(&mut s.outbound_attraction_distribution, "dissuade hubs");
                ui.add(
                    egui::Slider::new(&mut s.edge_weight_influence, 0.0..=2.0)
                        .text("edge weight influence"),
                );
                ui.checkbox(&mut s.normalize_edge_weights, "normalize edge weights");
                ui.checkbox(&mut s.adjust_sizes, "prevent overlap");
                ui.checkbox(
                    &mut s.barnes_hut_optimize,
                    "approximate repulsion (Barnes–Hut)",
                );
                ui.add(egui::Slider::new(&mut s.barnes_hut_theta, 0.1..=3.0).text("θ"));
                ui.add(
                    egui::Slider::new(&mut s.jitter_tolerance, 0.01..=10.0)
                        .logarithmic(true)
                        .text("tolerance (speed)"),
                );
                if ui.button("Reset to defaults").clicked() {
                    actions.push(Action::ResetSettings);
                }
            });
        if self.settings != before {
            actions.push(Action::SettingsChanged);
        }
    }

    fn tag_list(&mut self, ui: &mut egui::Ui, data: &MapData, actions: &mut Vec<Action>) {
        ui.label(RichText::new("Tags by degree").strong());
        ui.label(
            RichText::new("Untick to hide a tag: its dot, label and edges go, and its edges stop attracting in the live layout.")
                .small()
                .color(Color32::GRAY),
        );
        let row = ui.text_style_height(&egui::TextStyle::Body);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row, data.tags_by_degree.len(), |ui, range| {
                for &tag in &data.tags_by_degree[range] {
                    let mut visible = !self.hidden[tag as usize];
                    let text = format!("{} ({})", data.label(tag), data.graph.degree(tag as usize));
                    if ui.checkbox(&mut visible, text).changed() {
                        self.hidden[tag as usize] = !visible;
                        actions.push(Action::HiddenChanged);
                    }
                }
            });
    }
}
