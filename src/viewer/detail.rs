//! The hover card and the detail panel, and the worker thread that decodes
//! their pictures (the hover thumbnail, the full-resolution original) so
//! the frame never waits for a disk read or a large JPEG decode.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use egui::{Color32, RichText, TextureHandle, TextureOptions};
use lru::LruCache;

use crate::viewer::data::ImageInfo;

/// Which picture a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Hover,
    Detail,
}

struct Request {
    purpose: Purpose,
    image: u32,
    path: PathBuf,
    max_side: u32,
}

struct Decoded {
    purpose: Purpose,
    image: u32,
    result: Result<egui::ColorImage, String>,
}

/// Decodes pictures on one worker thread. Requests queued while it is
/// busy collapse to the newest one per purpose (the pointer moved on).
pub struct PictureLoader {
    tx: Sender<Request>,
    rx: Receiver<Decoded>,
}

fn decode(path: &std::path::Path, max_side: u32) -> Result<egui::ColorImage, String> {
    let img = image::ImageReader::open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?
        .with_guessed_format()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .decode()
        .map_err(|e| format!("cannot decode {}: {e}", path.display()))?;
    // Only pictures past the GPU's texture limit are reduced.
    let img = if img.width() > max_side || img.height() > max_side {
        img.thumbnail(max_side, max_side)
    } else {
        img
    };
    let rgba = img.to_rgba8();
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    ))
}

impl PictureLoader {
    /// Starts the worker; `wake` is called after each decoded picture (to
    /// ask the window for a redraw).
    pub fn new(wake: impl Fn() + Send + 'static) -> PictureLoader {
        let (tx, requests) = channel::<Request>();
        let (done, rx) = channel();
        std::thread::Builder::new()
            .name("viewer pictures".into())
            .spawn(move || {
                while let Ok(first) = requests.recv() {
                    let mut latest: [Option<Request>; 2] = [None, None];
                    let mut keep = |r: Request| {
                        let slot = r.purpose as usize;
                        latest[slot] = Some(r);
                    };
                    keep(first);
                    while let Ok(r) = requests.try_recv() {
                        keep(r);
                    }
                    // The detail panel first: the user clicked for it.
                    for r in latest.into_iter().rev().flatten() {
                        let result = decode(&r.path, r.max_side);
                        if done
                            .send(Decoded {
                                purpose: r.purpose,
                                image: r.image,
                                result,
                            })
                            .is_err()
                        {
                            return;
                        }
                        wake();
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::warn!("no picture loader thread: {e}"));
        PictureLoader { tx, rx }
    }

    pub fn request(&self, purpose: Purpose, image: u32, path: PathBuf, max_side: u32) {
        let _ = self.tx.send(Request {
            purpose,
            image,
            path,
            max_side,
        });
    }

    fn results(&self) -> impl Iterator<Item = Decoded> + '_ {
        self.rx.try_iter()
    }
}

/// A picture shown by the card or the panel.
enum Picture {
    None,
    Loading,
    Ready(TextureHandle),
    Failed(String),
}

/// The open detail panel.
pub struct Detail {
    pub image: u32,
    pub info: ImageInfo,
    picture: Picture,
}

/// Hover and detail state.
pub struct ImageViews {
    loader: PictureLoader,
    /// Hover thumbnails already on the GPU (by image).
    hover_pictures: LruCache<u32, TextureHandle>,
    hover_failed: LruCache<u32, String>,
    hover: Option<(u32, ImageInfo)>,
    pub detail: Option<Detail>,
    max_side: u32,
}

impl ImageViews {
    pub fn new(loader: PictureLoader, max_texture_side: u32) -> ImageViews {
        let cap = NonZeroUsize::new(64).unwrap_or(NonZeroUsize::MIN);
        ImageViews {
            loader,
            hover_pictures: LruCache::new(cap),
            hover_failed: LruCache::new(cap),
            hover: None,
            detail: None,
            max_side: max_texture_side,
        }
    }

    /// The image under the pointer changed (`None`: none).
    pub fn set_hover(&mut self, hovered: Option<(u32, ImageInfo)>) {
        if let Some((image, info)) = &hovered
            && !self.hover_pictures.contains(image)
            && !self.hover_failed.contains(image)
            && let Some(path) = &info.thumbnail
        {
            self.loader
                .request(Purpose::Hover, *image, path.clone(), self.max_side);
        }
        self.hover = hovered;
    }

    pub fn hovered(&self) -> Option<u32> {
        self.hover.as_ref().map(|h| h.0)
    }

    /// Opens the detail panel of `image`, loading its original.
    pub fn open_detail(&mut self, image: u32, info: ImageInfo) {
        let picture = match &info.original {
            Some(path) => {
                self.loader
                    .request(Purpose::Detail, image, path.clone(), self.max_side);
                Picture::Loading
            }
            None => Picture::None,
        };
        self.detail = Some(Detail {
            image,
            info,
            picture,
        });
    }

    /// Turns decoded pictures into textures.
    pub fn receive(&mut self, ctx: &egui::Context) {
        let decoded: Vec<Decoded> = self.loader.results().collect();
        for d in decoded {
            match (d.purpose, d.result) {
                (Purpose::Hover, Ok(img)) => {
                    let tex =
                        ctx.load_texture(format!("hover {}", d.image), img, TextureOptions::LINEAR);
                    self.hover_pictures.put(d.image, tex);
                }
                (Purpose::Hover, Err(e)) => {
                    self.hover_failed.put(d.image, e);
                }
                (Purpose::Detail, result) => {
                    if let Some(detail) = self.detail.as_mut().filter(|x| x.image == d.image) {
                        detail.picture = match result {
                            Ok(img) => Picture::Ready(ctx.load_texture(
                                format!("original {}", d.image),
                                img,
                                TextureOptions::LINEAR,
                            )),
                            Err(e) => Picture::Failed(e),
                        };
                    }
                }
            }
        }
    }

    /// The hover card next to the pointer (`pos` in points).
    pub fn show_hover(&mut self, ctx: &egui::Context, pos: egui::Pos2) {
        let Some((image, info)) = &self.hover else {
            return;
        };
        let picture = self.hover_pictures.get(image).cloned();
        let failed = self.hover_failed.peek(image).cloned();
        egui::Area::new(egui::Id::unique("hover card"))
            .fixed_pos(pos + egui::vec2(16.0, 16.0))
            .order(egui::Order::Tooltip)
            .interactable(false)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(300.0);
                    match (&picture, &failed, &info.thumbnail) {
                        (Some(tex), _, _) => {
                            ui.add(
                                egui::Image::from_texture(tex).max_size(egui::vec2(256.0, 256.0)),
                            );
                        }
                        (None, Some(e), _) => {
                            ui.label(RichText::new(e).color(Color32::GRAY).small());
                        }
                        (None, None, Some(_)) => {
                            ui.spinner();
                        }
                        (None, None, None) => {
                            ui.label(RichText::new("no thumbnail").color(Color32::GRAY));
                        }
                    }
                    info_lines(ui, info, 8, 6);
                });
            });
    }

    /// The detail panel (right side); returns false when the user closed it.
    pub fn show_detail(&mut self, ui: &mut egui::Ui) -> bool {
        let Some(detail) = &self.detail else {
            return true;
        };
        let mut open = true;
        egui::Panel::right("detail")
            .resizable(true)
            .default_size(420.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Image");
                    if ui.button("Close").clicked() {
                        open = false;
                    }
                });
                egui::ScrollArea::vertical().show(ui, |ui| {
                    match &detail.picture {
                        Picture::Ready(tex) => {
                            let w = ui.available_width();
                            ui.add(egui::Image::from_texture(tex).max_width(w));
                        }
                        Picture::Loading => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label("loading the original…");
                            });
                        }
                        Picture::Failed(e) => {
                            ui.label(RichText::new(e).color(Color32::LIGHT_RED));
                        }
                        Picture::None => {
                            ui.label("The original was not downloaded (run `tagscape fetch`).");
                        }
                    }
                    ui.hyperlink_to("Open the URL", &detail.info.url);
                    info_lines(ui, &detail.info, usize::MAX, usize::MAX);
                    post_links(ui, &detail.info);
                });
            });
        if !open {
            self.detail = None;
        }
        open
    }
}

/// URL, size, frequency, tags and metadata (up to `max_tags` and `max_meta`).
fn info_lines(ui: &mut egui::Ui, info: &ImageInfo, max_tags: usize, max_meta: usize) {
    ui.label(RichText::new(&info.url).small());
    let mut line = format!("frequency {}", info.frequency);
    if let (Some(w), Some(h)) = (info.width, info.height) {
        line.push_str(&format!(" · {w}×{h} px"));
    }
    ui.label(line);
    if let Some(posts) = posts_line(info) {
        ui.label(posts);
    }
    if !info.tags.is_empty() {
        let shown: Vec<&str> = info
            .tags
            .iter()
            .take(max_tags)
            .map(|t| t.0.as_str())
            .collect();
        let more = info.tags.len().saturating_sub(shown.len());
        let mut text = shown.join(", ");
        if more > 0 {
            text.push_str(&format!(" (+{more})"));
        }
        ui.label(RichText::new(text).strong());
    }
    for (k, v) in info.metadata.iter().take(max_meta) {
        let v: String = v.chars().take(200).collect();
        ui.label(RichText::new(format!("{k}: {v}")).small());
    }
}

/// "3 posts · 2 users · 2019-03-14 to 2019-03-16", when the image has posts.
pub fn posts_line(info: &ImageInfo) -> Option<String> {
    let p = &info.posts;
    if p.posts == 0 {
        return None;
    }
    let mut line = crate::collect::plural(p.posts, "post", "posts");
    if p.users > 0 {
        line.push_str(&format!(
            " · {}",
            crate::collect::plural(p.users, "user", "users")
        ));
    }
    let day = |d: &String| d.get(..10).unwrap_or(d).to_string();
    match (&p.first_date, &p.last_date) {
        (Some(a), Some(b)) if day(a) == day(b) => line.push_str(&format!(" · {}", day(a))),
        (Some(a), Some(b)) => line.push_str(&format!(" · {} to {}", day(a), day(b))),
        _ => {}
    }
    Some(line)
}

/// The detail panel's users and the links that open each post, each with a
/// button that copies it (for machines without a browser).
fn post_links(ui: &mut egui::Ui, info: &ImageInfo) {
    if !info.users.is_empty() {
        let more = info.posts.users.saturating_sub(info.users.len() as u64);
        let mut text = format!("users: {}", info.users.join(", "));
        if more > 0 {
            text.push_str(&format!(" (+{more})"));
        }
        ui.label(RichText::new(text).small());
    }
    if info.links.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Posts").strong());
    for link in &info.links {
        ui.horizontal(|ui| {
            if ui.small_button("copy").clicked() {
                ui.ctx().copy_text(link.clone());
            }
            ui.hyperlink_to(RichText::new(link).small(), link);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_line_gives_count_users_and_date_range() {
        let mut info = ImageInfo::default();
        assert_eq!(posts_line(&info), None);
        info.posts = crate::posts::PostSummary {
            posts: 3,
            users: 2,
            first_date: Some("2019-03-14 08:00:00".into()),
            last_date: Some("2019-03-16 09:30:00".into()),
        };
        assert_eq!(
            posts_line(&info).as_deref(),
            Some("3 posts · 2 users · 2019-03-14 to 2019-03-16")
        );
        info.posts.posts = 1;
        info.posts.users = 1;
        info.posts.first_date = info.posts.last_date.clone();
        assert_eq!(
            posts_line(&info).as_deref(),
            Some("1 post · 1 user · 2019-03-16")
        );
    }

    #[test]
    fn the_loader_decodes_on_its_thread_and_reports_failures() {
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("a.png");
        image::RgbaImage::from_pixel(40, 10, image::Rgba([10, 20, 30, 255]))
            .save(&good)
            .unwrap();
        let bad = tmp.path().join("b.png");
        std::fs::write(&bad, b"not a picture").unwrap();
        let loader = PictureLoader::new(|| {});
        loader.request(Purpose::Detail, 1, good, 16);
        let mut got = Vec::new();
        let start = std::time::Instant::now();
        while got.is_empty() && start.elapsed().as_secs() < 10 {
            got.extend(loader.results());
        }
        let img = got.remove(0).result.unwrap();
        // 40×10 reduced to fit 16 px: 16×4, aspect kept.
        assert_eq!(img.size, [16, 4]);
        assert_eq!(img.pixels[0], Color32::from_rgb(10, 20, 30));
        loader.request(Purpose::Hover, 2, bad, 16);
        let start = std::time::Instant::now();
        while got.is_empty() && start.elapsed().as_secs() < 10 {
            got.extend(loader.results());
        }
        assert!(got[0].result.as_ref().unwrap_err().contains("b.png"));
    }
}
