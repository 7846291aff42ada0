//! The level-of-detail thumbnail atlas.
//!
//! Each level (16, 64 and 256 px cells, the thumbnail pyramid `fetch`
//! writes) is one 2D texture array cut into a grid of fixed-size cells,
//! allocated once at its byte budget: GPU memory stays bounded whatever the
//! collection size. A cell holds one thumbnail at its own size in the top-left
//! corner (aspect kept; the shader samples only that rectangle).
//!
//! Every frame the renderer says which images it wants at which level
//! ([`Atlas::request`]); resident ones are marked used, missing ones are
//! queued for the [`Loader`]'s worker threads, which decode pyramid files
//! and send premultiplied pixels back. [`Atlas::receive`] uploads what has
//! arrived (never waiting for disk), evicting the least recently used cell
//! not used this frame. Until a level arrives a coarser resident one (down to
//! the image's mean colour) stands in ([`Atlas::entry`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use lru::LruCache;

/// Cell sizes, coarse to fine; also the pyramid levels on disk.
pub const LEVEL_CELLS: [u32; 3] = [16, 64, 256];
/// No texture: the sprite is drawn in its (mean or placeholder) colour.
pub const COLOR_ONLY: u8 = 0;

/// Level codes: 0 = colour only, `i + 1` = `LEVEL_CELLS[i]`.
pub fn level_cell(level: u8) -> Option<u32> {
    LEVEL_CELLS.get(usize::from(level).checked_sub(1)?).copied()
}

/// The level an image needs when its longest side covers `pixels` on screen:
/// the smallest cell at least that large; colour alone below 4 px.
pub fn level_for_pixels(pixels: f32) -> u8 {
    if pixels.is_nan() || pixels < 4.0 {
        return COLOR_ONLY;
    }
    for (i, &cell) in LEVEL_CELLS.iter().enumerate() {
        if pixels <= cell as f32 {
            return i as u8 + 1;
        }
    }
    LEVEL_CELLS.len() as u8
}

const MIB: u64 = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct AtlasConfig {
    /// GPU bytes per level, in `LEVEL_CELLS` order.
    pub budget: [u64; 3],
    /// Decoding threads.
    pub workers: usize,
    /// Side of one texture-array layer in pixels (capped by the device).
    pub layer_side: u32,
    /// Bytes uploaded per frame at most, so a burst of arrivals never stalls
    /// a frame (the rest waits for the next one).
    pub upload_per_frame: u64,
}

impl Default for AtlasConfig {
    /// 256 MiB in all: what a laptop GPU spares next to the window and the
    /// layout (768 cells of 256 px, 3072 of 64 px, 16384 of 16 px).
    fn default() -> Self {
        AtlasConfig::with_total_budget(256 * MIB)
    }
}

impl AtlasConfig {
    /// Splits `bytes` 1/16, 3/16, 12/16 over the 16, 64 and 256 px levels.
    pub fn with_total_budget(bytes: u64) -> AtlasConfig {
        AtlasConfig {
            budget: [bytes / 16, bytes * 3 / 16, bytes * 12 / 16],
            workers: std::thread::available_parallelism()
                .map(|n| n.get().clamp(1, 4))
                .unwrap_or(2),
            layer_side: 2048,
            upload_per_frame: 32 * MIB,
        }
    }
}

/// Where an image's pyramid files are: `dir/thumbs/<level>/<2 hex>/<hash>.<ext>`.
#[derive(Clone, Debug)]
pub struct ThumbKey {
    pub hash: String,
    pub ext: String,
}

/// The thumbnails of the images, indexed like the image sprites.
#[derive(Clone, Debug, Default)]
pub struct ThumbFiles {
    pub project_dir: PathBuf,
    pub keys: Vec<Option<ThumbKey>>,
}

impl ThumbFiles {
    pub fn path(&self, image: u32, cell: u32) -> Option<PathBuf> {
        let key = self.keys.get(image as usize)?.as_ref()?;
        // Names come from the store's hex hash; anything else is not a file of ours.
        if key.hash.len() < 3
            || !key.hash.bytes().all(|b| b.is_ascii_hexdigit())
            || !matches!(key.ext.as_str(), "jpg" | "png")
        {
            return None;
        }
        Some(
            self.project_dir
                .join(crate::fetch::store::thumb_path(cell, &key.hash, &key.ext)),
        )
    }
}

/// One level's texture array and its cache of cells.
struct LevelCache {
    cell: u32,
    per_row: u32,
    per_layer: u32,
    /// Layer size in pixels.
    width: u32,
    height: u32,
    capacity: u32,
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    /// image → slot, least recently used first.
    lru: LruCache<u32, u32>,
    /// Frame each slot was last wanted in.
    last_used: Vec<u64>,
    free: Vec<u32>,
}

impl LevelCache {
    fn new(
        device: &wgpu::Device,
        cell: u32,
        budget: u64,
        layer_side: u32,
        max_layers: u32,
    ) -> Self {
        let cap = budget / (u64::from(cell) * u64::from(cell) * 4);
        let max_per_side = u64::from((layer_side / cell).max(1));
        let per_row = ((cap as f64).sqrt().ceil() as u64).clamp(1, max_per_side);
        // A budget smaller than a full layer gets a layer of just that many
        // rows; a larger one gets whole square layers.
        let rows = (cap / per_row).min(max_per_side);
        let per_layer = per_row * rows.max(1);
        let layers = (cap / per_layer).min(u64::from(max_layers));
        let capacity = (layers * per_layer) as u32;
        let (per_row, rows) = (per_row as u32, rows as u32);
        let (width, height, depth) = if capacity == 0 {
            (1, 1, 1)
        } else {
            (per_row * cell, rows * cell, layers as u32)
        };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("atlas level"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: depth,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor {
            dimension: Some(wgpu::TextureViewDimension::D2Array),
            ..Default::default()
        });
        LevelCache {
            cell,
            per_row,
            per_layer: per_layer as u32,
            width,
            height,
            capacity,
            texture,
            view,
            lru: LruCache::unbounded(),
            last_used: vec![0; capacity as usize],
            free: (0..capacity).rev().collect(),
        }
    }

    fn gpu_bytes(&self) -> u64 {
        if self.capacity == 0 {
            return 0;
        }
        u64::from(self.capacity) * u64::from(self.cell) * u64::from(self.cell) * 4
    }
}

/// Pixels decoded by a worker: premultiplied RGBA8, at most one cell.
struct Decoded {
    image: u32,
    level: u8,
    result: Result<(u32, u32, Vec<u8>), String>,
}

#[derive(Default)]
struct LoaderState {
    jobs: VecDeque<(u32, u8)>,
    decoding: HashSet<(u32, u8)>,
    shutdown: bool,
}

struct LoaderShared {
    state: Mutex<LoaderState>,
    wake: Condvar,
}

/// Worker threads decoding pyramid files, newest wishes first.
struct Loader {
    shared: Arc<LoaderShared>,
    results: Receiver<Decoded>,
    workers: Vec<JoinHandle<()>>,
}

impl Loader {
    fn new(files: Arc<ThumbFiles>, workers: usize) -> Loader {
        let shared = Arc::new(LoaderShared {
            state: Mutex::new(LoaderState::default()),
            wake: Condvar::new(),
        });
        let (tx, results) = mpsc::channel();
        let workers = (0..workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                let files = files.clone();
                let tx: Sender<Decoded> = tx.clone();
                std::thread::Builder::new()
                    .name(format!("atlas-loader-{i}"))
                    .spawn(move || worker(&shared, &files, &tx))
                    .expect("spawning a thread only fails when the OS is out of resources")
            })
            .collect();
        Loader {
            shared,
            results,
            workers,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LoaderState> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.lock().shutdown = true;
        self.shared.wake.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn worker(shared: &LoaderShared, files: &ThumbFiles, tx: &Sender<Decoded>) {
    loop {
        let job = {
            let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if state.shutdown {
                    return;
                }
                if let Some(job) = state.jobs.pop_front() {
                    state.decoding.insert(job);
                    break job;
                }
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let (image, level) = job;
        let result = match level_cell(level).and_then(|cell| Some((cell, files.path(image, cell)?)))
        {
            Some((cell, path)) => {
                decode_thumbnail(&path, cell).map_err(|e| format!("{}: {e}", path.display()))
            }
            None => Err("no thumbnail in the project".to_string()),
        };
        if tx
            .send(Decoded {
                image,
                level,
                result,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Reads one pyramid file into premultiplied RGBA8 no larger than `cell`.
pub fn decode_thumbnail(path: &std::path::Path, cell: u32) -> Result<(u32, u32, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let img = image::load_from_memory(&bytes).map_err(|e| e.to_string())?;
    let mut rgba = img.into_rgba8();
    if rgba.width() > cell || rgba.height() > cell {
        // Not what fetch writes, but a cell must never overflow into its neighbour.
        let (w, h) = crate::fetch::thumbnail::fit(rgba.width(), rgba.height(), cell);
        rgba = image::imageops::resize(&rgba, w, h, image::imageops::FilterType::Triangle);
    }
    let (w, h) = rgba.dimensions();
    let mut px = rgba.into_raw();
    premultiply(&mut px);
    Ok((w, h, px))
}

/// Straight-alpha RGBA8 pixels to premultiplied, in place (what the
/// renderer blends).
pub fn premultiply(px: &mut [u8]) {
    for p in px.chunks_exact_mut(4) {
        let a = u16::from(p[3]);
        for c in &mut p[..3] {
            *c = ((u16::from(*c) * a + 127) / 255) as u8;
        }
    }
}

/// What an image's sprite shows: `[location, thumbnail size]` as the shader
/// reads it. Location: level code in bits 30–31, layer in 14–25, cell in 0–13.
pub type Entry = [u32; 2];
pub const COLOR_ENTRY: Entry = [0, 0];

/// Residency of one level, for tests and `bench render`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelStats {
    pub cell: u32,
    pub capacity: u32,
    pub resident: u32,
}

pub struct Atlas {
    queue: wgpu::Queue,
    levels: Vec<LevelCache>,
    files: Arc<ThumbFiles>,
    loader: Loader,
    /// Per image and level: the slot and thumbnail size when resident.
    resident: HashMap<(u32, u8), (u32, u32, u32)>,
    failed: HashSet<u32>,
    /// Wishes of the last `request`, by (image, level).
    wanted: HashSet<(u32, u8)>,
    /// Decoded but not yet uploaded (over this frame's upload allowance).
    arrived: VecDeque<Decoded>,
    frame: u64,
    upload_per_frame: u64,
    logged_failures: usize,
}

impl Atlas {
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        config: &AtlasConfig,
        files: ThumbFiles,
    ) -> Atlas {
        let limits = device.limits();
        let layer_side = config
            .layer_side
            .min(limits.max_texture_dimension_2d)
            .max(LEVEL_CELLS[2]);
        let levels = LEVEL_CELLS
            .iter()
            .zip(config.budget)
            .map(|(&cell, budget)| {
                LevelCache::new(
                    device,
                    cell,
                    budget,
                    layer_side,
                    limits.max_texture_array_layers,
                )
            })
            .collect();
        let files = Arc::new(files);
        Atlas {
            queue: queue.clone(),
            levels,
            loader: Loader::new(files.clone(), config.workers),
            files,
            resident: HashMap::new(),
            failed: HashSet::new(),
            wanted: HashSet::new(),
            arrived: VecDeque::new(),
            frame: 0,
            upload_per_frame: config.upload_per_frame,
            logged_failures: 0,
        }
    }

    /// The texture-array views, in `LEVEL_CELLS` order (for the sprite bind group).
    pub fn views(&self) -> [&wgpu::TextureView; 3] {
        [
            &self.levels[0].view,
            &self.levels[1].view,
            &self.levels[2].view,
        ]
    }

    /// Per level: cells per row, layer width and height in pixels.
    pub fn layout(&self) -> [[u32; 3]; 3] {
        std::array::from_fn(|i| {
            let l = &self.levels[i];
            [l.per_row, l.width, l.height]
        })
    }

    pub fn gpu_bytes(&self) -> u64 {
        self.levels.iter().map(LevelCache::gpu_bytes).sum()
    }

    pub fn stats(&self) -> [LevelStats; 3] {
        std::array::from_fn(|i| LevelStats {
            cell: self.levels[i].cell,
            capacity: self.levels[i].capacity,
            resident: self.levels[i].lru.len() as u32,
        })
    }

    pub fn is_resident(&self, image: u32, level: u8) -> bool {
        self.resident.contains_key(&(image, level))
    }

    /// Whether the image's thumbnail is missing or unreadable (drawn as a placeholder).
    pub fn has_failed(&self, image: u32) -> bool {
        self.failed.contains(&image)
    }

    /// Whether the image has thumbnail files at all.
    pub fn has_thumbnail(&self, image: u32) -> bool {
        matches!(self.files.keys.get(image as usize), Some(Some(_)))
    }

    /// Starts a frame: `wants` are (image, level) pairs, most important
    /// first. Wishes beyond a level's capacity are lowered to the next
    /// coarser level (so every wish can be satisfied); returns the wishes as
    /// adjusted. Resident ones are marked used; missing ones replace the
    /// loader's queue.
    pub fn request(&mut self, wants: &[(u32, u8)]) -> Vec<(u32, u8)> {
        self.frame += 1;
        let mut taken = [0u32; 3];
        let mut adjusted = Vec::with_capacity(wants.len());
        self.wanted.clear();
        let mut jobs = VecDeque::new();
        let decoding = self.loader.lock().decoding.clone();
        for &(image, mut level) in wants {
            if self.failed.contains(&image) || !self.has_thumbnail(image) {
                adjusted.push((image, COLOR_ONLY));
                continue;
            }
            while level > COLOR_ONLY
                && taken[usize::from(level) - 1] >= self.levels[usize::from(level) - 1].capacity
            {
                level -= 1;
            }
            adjusted.push((image, level));
            if level == COLOR_ONLY {
                continue;
            }
            let li = usize::from(level) - 1;
            taken[li] += 1;
            self.wanted.insert((image, level));
            if let Some(&(slot, _, _)) = self.resident.get(&(image, level)) {
                let cache = &mut self.levels[li];
                cache.lru.promote(&image);
                cache.last_used[slot as usize] = self.frame;
            } else if !decoding.contains(&(image, level)) {
                jobs.push_back((image, level));
            }
        }
        self.loader.lock().jobs = jobs;
        self.loader.shared.wake.notify_all();
        adjusted
    }

    /// Uploads what the workers have decoded (up to the per-frame
    /// allowance), without waiting. Returns the images whose drawing changed
    /// because a cell was evicted or a thumbnail failed (their entries must
    /// be recomputed even when they are not wanted this frame).
    pub fn receive(&mut self) -> Vec<u32> {
        let mut touched = Vec::new();
        while let Ok(d) = self.loader.results.try_recv() {
            self.arrived.push_back(d);
        }
        let mut uploaded = 0u64;
        while uploaded < self.upload_per_frame {
            let Some(d) = self.arrived.pop_front() else {
                break;
            };
            self.loader.lock().decoding.remove(&(d.image, d.level));
            match d.result {
                Err(e) => {
                    if self.failed.insert(d.image) {
                        self.log_failure(&e);
                        touched.push(d.image);
                        for level in 1..=LEVEL_CELLS.len() as u8 {
                            if let Some(evicted) = self.evict_image(d.image, level) {
                                touched.push(evicted);
                            }
                        }
                    }
                }
                Ok((w, h, px)) => {
                    if !self.wanted.contains(&(d.image, d.level))
                        || self.is_resident(d.image, d.level)
                    {
                        continue; // The view moved on; it will be asked for again if needed.
                    }
                    let Some(slot) = self.take_slot(d.level, &mut touched) else {
                        continue;
                    };
                    uploaded += px.len() as u64;
                    self.upload(d.level, slot, w, h, &px);
                    let cache = &mut self.levels[usize::from(d.level) - 1];
                    cache.lru.put(d.image, slot);
                    cache.last_used[slot as usize] = self.frame;
                    self.resident.insert((d.image, d.level), (slot, w, h));
                    touched.push(d.image);
                }
            }
        }
        touched
    }

    /// Blocks until every wish of the last `request` is resident or failed
    /// (exports; interactive frames never call this).
    pub fn wait_for_requested(&mut self, timeout: Duration) -> Vec<u32> {
        let deadline = std::time::Instant::now() + timeout;
        let mut touched = Vec::new();
        loop {
            touched.extend(self.receive());
            let pending = self.wanted.iter().any(|&(image, level)| {
                !self.is_resident(image, level) && !self.failed.contains(&image)
            });
            if !pending {
                return touched;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                tracing::warn!(
                    "thumbnails still loading after {timeout:?}; drawing coarser levels for the rest"
                );
                return touched;
            }
            match self.loader.results.recv_timeout(deadline - now) {
                Ok(d) => self.arrived.push_back(d),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return touched,
            }
        }
    }

    /// What the sprite of `image` shows when it needs `level`: that level
    /// if resident, else the nearest coarser resident one, else the nearest
    /// finer one, else its colour.
    pub fn entry(&self, image: u32, level: u8) -> Entry {
        if level == COLOR_ONLY {
            return COLOR_ENTRY;
        }
        let n = LEVEL_CELLS.len() as u8;
        let order = (1..=level).rev().chain(level + 1..=n);
        for l in order {
            if let Some(&(slot, w, h)) = self.resident.get(&(image, l)) {
                let cache = &self.levels[usize::from(l) - 1];
                let (layer, cell) = (slot / cache.per_layer, slot % cache.per_layer);
                return [u32::from(l) << 30 | layer << 14 | cell, w | h << 16];
            }
        }
        COLOR_ENTRY
    }

    fn take_slot(&mut self, level: u8, touched: &mut Vec<u32>) -> Option<u32> {
        let cache = &mut self.levels[usize::from(level) - 1];
        if let Some(slot) = cache.free.pop() {
            return Some(slot);
        }
        let (&victim, &slot) = cache.lru.peek_lru()?;
        if cache.last_used[slot as usize] >= self.frame {
            return None; // Everything resident is on screen: keep it.
        }
        cache.lru.pop_lru();
        self.resident.remove(&(victim, level));
        touched.push(victim);
        Some(slot)
    }

    fn evict_image(&mut self, image: u32, level: u8) -> Option<u32> {
        let (slot, _, _) = self.resident.remove(&(image, level))?;
        let cache = &mut self.levels[usize::from(level) - 1];
        cache.lru.pop(&image);
        cache.free.push(slot);
        Some(image)
    }

    fn upload(&self, level: u8, slot: u32, w: u32, h: u32, px: &[u8]) {
        let cache = &self.levels[usize::from(level) - 1];
        let (layer, cell) = (slot / cache.per_layer, slot % cache.per_layer);
        self.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &cache.texture,
                mip_level: 0,
                origin: wgpu::Origin3d {
                    x: (cell % cache.per_row) * cache.cell,
                    y: (cell / cache.per_row) * cache.cell,
                    z: layer,
                },
                aspect: wgpu::TextureAspect::All,
            },
            px,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(w * 4),
                rows_per_image: Some(h),
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
    }

    fn log_failure(&mut self, error: &str) {
        // Once per image, and only the first few in full: a project with
        // thousands of missing files should not flood the terminal.
        self.logged_failures += 1;
        if self.logged_failures <= 10 {
            tracing::warn!(
                "thumbnail unreadable, drawing a placeholder ({error}); run `tagscape fetch` again to rebuild it"
            );
        } else {
            tracing::debug!("thumbnail unreadable, drawing a placeholder ({error})");
        }
    }

    /// How many thumbnails could not be read so far.
    pub fn failed_count(&self) -> usize {
        self.failed.len()
    }
}

/// The default (laptop) budget, for help texts.
pub fn default_budget_mib() -> u64 {
    AtlasConfig::default().budget.iter().sum::<u64>() / MIB
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_screen_size() {
        assert_eq!(level_for_pixels(0.5), COLOR_ONLY);
        assert_eq!(level_for_pixels(f32::NAN), COLOR_ONLY);
        assert_eq!(level_for_pixels(4.0), 1);
        assert_eq!(level_for_pixels(16.0), 1);
        assert_eq!(level_for_pixels(16.5), 2);
        assert_eq!(level_for_pixels(64.0), 2);
        assert_eq!(level_for_pixels(65.0), 3);
        assert_eq!(level_for_pixels(5000.0), 3);
        assert_eq!(level_cell(0), None);
        assert_eq!(level_cell(3), Some(256));
    }

    #[test]
    fn decode_premultiplies_and_fits_the_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        image::RgbaImage::from_pixel(40, 20, image::Rgba([200, 100, 50, 128]))
            .save(&path)
            .unwrap();
        let (w, h, px) = decode_thumbnail(&path, 16).unwrap();
        assert_eq!((w, h), (16, 8));
        // 200·128/255 = 100.4 → 100; 100·128/255 = 50.2 → 50; 50·128/255 = 25.1 → 25.
        assert_eq!(&px[..4], &[100, 50, 25, 128]);
        assert!(decode_thumbnail(&dir.path().join("none.png"), 16).is_err());
    }
}
