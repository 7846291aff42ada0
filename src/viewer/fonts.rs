//! System fonts as egui fallbacks, so tag and cluster names in any script
//! read in the panels: egui's built-in fonts cover Latin, Greek, Cyrillic
//! and some symbols only. The map's labels do not need this (cosmic-text
//! finds fallbacks by itself). Colour emoji stay boxes in the panels (egui
//! draws outline fonts only); the map draws them.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};
use glyphon::fontdb;

/// Families tried in order, each added when the system has it: Arabic,
/// Hebrew and many symbols (fonts-dejavu-core), then CJK
/// (fonts-noto-cjk, else fonts-droid-fallback).
const FALLBACKS: &[&str] = &[
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "WenQuanYi Micro Hei",
];

/// An egui context whose fonts fall back to the system's (see the module).
pub fn egui_context() -> egui::Context {
    let ctx = egui::Context::default();
    let (fonts, found) = with_system_fallbacks();
    tracing::debug!("panel font fallbacks: {found:?}");
    ctx.set_fonts(fonts);
    ctx
}

/// egui's default fonts followed by the [`FALLBACKS`] found on the system;
/// also the names of those found.
pub fn with_system_fallbacks() -> (FontDefinitions, Vec<&'static str>) {
    let mut defs = FontDefinitions::default();
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    let mut found = Vec::new();
    for &family in FALLBACKS {
        let query = fontdb::Query {
            families: &[fontdb::Family::Name(family)],
            ..Default::default()
        };
        let Some(data) = db.query(&query).and_then(|id| {
            db.with_face_data(id, |bytes, index| {
                FontData::from_blob(Arc::new(bytes.to_vec()), index)
            })
        }) else {
            continue;
        };
        defs.font_data.insert(family.to_string(), Arc::new(data));
        for list in [FontFamily::Proportional, FontFamily::Monospace] {
            defs.families
                .entry(list)
                .or_default()
                .push(family.to_string());
        }
        found.push(family);
    }
    (defs, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_have_glyphs_for_cjk_and_arabic_names() {
        let (defs, found) = with_system_fallbacks();
        assert!(
            found.contains(&"DejaVu Sans")
                && found
                    .iter()
                    .any(|f| f.contains("CJK") || f.contains("Droid") || f.contains("WenQuanYi")),
            "found only {found:?}: install fonts-dejavu-core and fonts-droid-fallback"
        );
        // egui's own fonts come first, so Latin text looks as before.
        let proportional = &defs.families[&FontFamily::Proportional];
        let default = &FontDefinitions::default().families[&FontFamily::Proportional];
        assert_eq!(&proportional[..default.len()], &default[..]);

        let names = "動物 宇宙と月 حيوانات";
        let has = |defs: FontDefinitions| {
            let ctx = egui::Context::default();
            ctx.set_fonts(defs);
            let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
            output.textures_delta.clear();
            ctx.fonts_mut(|f| f.has_glyphs(&egui::FontId::proportional(14.0), names))
        };
        assert!(!has(FontDefinitions::default()), "egui alone has no CJK");
        assert!(has(defs));
    }
}
