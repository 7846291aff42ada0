//! `tagscape bench duplicates`: stacking near-duplicates on generated
//! images — time of the hash index against all pairs, peak memory, the real
//! variants found and the false merges.
//!
//! The images are small (32 px wide) drawings of the kinds a collection
//! holds — photos, screenshots, logos on white, near-flat backgrounds,
//! memes with text bars — each original different from every other, and
//! for one original in `--variant-every` a few known variants (resized,
//! recompressed as JPEG, lightly cropped, a logo's transparent copy). They
//! are hashed with the production hash as they are drawn, in parallel, and
//! dropped; only the hashes are kept, so a million images fit.

use std::io::Cursor;
use std::time::Instant;

use anyhow::{Result, bail};
use image::buffer::ConvertBuffer;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::fetch::{phash, thumbnail};
use crate::graph::duplicates::{self, DEFAULT_HASH_DISTANCE, Hashed, Search, Stack};

/// Flags of `tagscape bench duplicates`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Distinct generated images (their variants come on top).
    #[arg(long, default_value_t = 100_000)]
    pub images: usize,
    /// Hashes at most D bits apart stack, as `tagscape graph --hash-distance`.
    #[arg(long, value_name = "D", default_value_t = DEFAULT_HASH_DISTANCE)]
    pub hash_distance: u32,
    /// One image in this many gets 1–3 variants.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub variant_every: usize,
    /// Time the all-pairs baseline up to this many images (it is quadratic).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub all_pairs_up_to: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a generated image shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Photo,
    Screenshot,
    Logo,
    Flat,
    Meme,
}

const KINDS: [Kind; 5] = [
    Kind::Photo,
    Kind::Screenshot,
    Kind::Logo,
    Kind::Flat,
    Kind::Meme,
];

/// How a variant was made from its original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    Resized,
    Recompressed,
    Cropped,
    /// A logo on a transparent background (its original is on white).
    Transparent,
}

const VARIANTS: [Variant; 4] = [
    Variant::Resized,
    Variant::Recompressed,
    Variant::Cropped,
    Variant::Transparent,
];

/// One hashed image: which original it shows, and how it was varied.
#[derive(Clone, Copy)]
struct Sample {
    hash: u64,
    /// The mean colour as `project_stacks` sees it (`None`: transparent).
    colour: Option<u32>,
    aspect: f32,
    grid: phash::ColourGrid,
    original: u32,
    variant: Option<Variant>,
    kind: Kind,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub originals: usize,
    pub variants: usize,
    pub hash_distance: u32,
    pub generate_s: f64,
    pub index_s: f64,
    /// `None` above `--all-pairs-up-to`.
    pub all_pairs_s: Option<f64>,
    pub stacks: usize,
    pub stacked_images: usize,
    /// Images left alone for an uninformative hash (`duplicates::informative`).
    pub uninformative: usize,
    /// Variants stacked with their original, of all variants; and by how
    /// they were made: (how, stacked, made).
    pub true_merges: usize,
    pub true_by_variant: Vec<(Variant, usize, usize)>,
    /// Stacks holding images of more than one original, and the images in
    /// them not of the representative's original.
    pub mixed_stacks: usize,
    pub false_merges: usize,
    /// Of those, images whose original differs from the representative's
    /// original by at least `CLEARLY_DIFFERENT` levels on average (two
    /// generated originals can come out alike by chance: a small disc at
    /// the same place in nearly the same colour).
    pub clearly_different: usize,
    /// False merges by the kind of the wrongly stacked image.
    pub false_by_kind: Vec<(Kind, usize)>,
    pub peak_mb: Option<f64>,
}

pub fn run(opts: &Options) -> Result<()> {
    let r = measure(opts)?;
    if opts.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "machine: {} ({cores} cores), {} build",
        super::cpu_model(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "images: {} distinct + {} variants, generated and hashed in {:.1} s",
        r.originals, r.variants, r.generate_s
    );
    match r.all_pairs_s {
        Some(all) => println!(
            "stacking at distance ≤ {}: index {:.2} s, all pairs {:.2} s ({:.1}× faster)",
            r.hash_distance,
            r.index_s,
            all,
            all / r.index_s.max(1e-9)
        ),
        None => println!(
            "stacking at distance ≤ {}: index {:.2} s (all pairs not run above {} images)",
            r.hash_distance, r.index_s, opts.all_pairs_up_to
        ),
    }
    println!(
        "stacks: {} holding {} images ({} left alone for an uninformative hash)",
        r.stacks, r.stacked_images, r.uninformative
    );
    let by_variant: Vec<String> = r
        .true_by_variant
        .iter()
        .map(|(v, found, made)| format!("{v:?} {found}/{made}").to_lowercase())
        .collect();
    println!(
        "real variants stacked with their original: {} of {} ({})",
        r.true_merges,
        r.variants,
        by_variant.join(", ")
    );
    let by_kind: Vec<String> = r
        .false_by_kind
        .iter()
        .map(|(k, n)| format!("{k:?} {n}").to_lowercase())
        .collect();
    println!(
        "false merges: {} images of another original in {} mixed stacks ({}); {} of them clearly different (mean difference ≥ {CLEARLY_DIFFERENT} levels)",
        r.false_merges,
        r.mixed_stacks,
        by_kind.join(", "),
        r.clearly_different
    );
    if let Some(mb) = r.peak_mb {
        println!("peak memory (VmHWM): {mb:.0} MB");
    }
    Ok(())
}

pub fn measure(opts: &Options) -> Result<Report> {
    if opts.images < 2 {
        bail!("--images must be at least 2");
    }
    if opts.variant_every == 0 {
        bail!("--variant-every must be at least 1 (1: every image gets variants)");
    }
    if opts.hash_distance > 32 {
        bail!("--hash-distance must be at most 32 of the 64 bits");
    }
    let t = Instant::now();
    let bar = crate::ui::progress(opts.images as u64, "images");
    let samples: Vec<Sample> = (0..opts.images)
        .into_par_iter()
        .flat_map_iter(|i| {
            bar.inc(1);
            generate(opts.seed, i as u32, opts.variant_every)
        })
        .collect();
    bar.finish_and_clear();
    let generate_s = t.elapsed().as_secs_f64();
    let images: Vec<Hashed> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| Hashed {
            image_id: i as i64,
            hash: s.hash,
            colour: s.colour,
            aspect: Some(s.aspect),
            grid: Some(s.grid),
            // Originals are shared more often than their variants, and not
            // all alike, so representatives and ties both occur.
            frequency: if s.variant.is_some() {
                1
            } else {
                1 + s.original % 3
            },
        })
        .collect();
    let t = Instant::now();
    let stacks = duplicates::find_stacks(&images, opts.hash_distance);
    let index_s = t.elapsed().as_secs_f64();
    let all_pairs_s = if images.len() <= opts.all_pairs_up_to {
        let t = Instant::now();
        let baseline = duplicates::find_stacks_by(&images, opts.hash_distance, Search::AllPairs);
        let s = t.elapsed().as_secs_f64();
        if baseline != stacks {
            bail!("the index and all pairs found different stacks: a bug, please report it");
        }
        Some(s)
    } else {
        None
    };
    let mut report = score(opts.seed, &samples, &stacks);
    report.uninformative = samples
        .iter()
        .filter(|s| !duplicates::informative(s.hash))
        .count();
    report.hash_distance = opts.hash_distance;
    report.generate_s = generate_s;
    report.index_s = index_s;
    report.all_pairs_s = all_pairs_s;
    report.peak_mb = super::peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    Ok(report)
}

/// The merge figures of `stacks` over `samples` (image id = sample index).
fn score(seed: u64, samples: &[Sample], stacks: &[Stack]) -> Report {
    let mut stack_of = vec![usize::MAX; samples.len()];
    for (k, stack) in stacks.iter().enumerate() {
        for &(id, _) in &stack.members {
            stack_of[id as usize] = k;
        }
    }
    // Where each original's own (non-variant) image is.
    let mut original_at = vec![usize::MAX; samples.len()];
    for (i, s) in samples.iter().enumerate() {
        if s.variant.is_none() {
            original_at[s.original as usize] = i;
        }
    }
    let variants = samples.iter().filter(|s| s.variant.is_some()).count();
    let mut true_by_variant: Vec<(Variant, usize, usize)> =
        VARIANTS.iter().map(|&v| (v, 0, 0)).collect();
    for (i, s) in samples.iter().enumerate() {
        let Some(slot) = true_by_variant.iter_mut().find(|t| Some(t.0) == s.variant) else {
            continue;
        };
        slot.2 += 1;
        if stack_of[i] != usize::MAX && stack_of[i] == stack_of[original_at[s.original as usize]] {
            slot.1 += 1;
        }
    }
    let true_merges = true_by_variant.iter().map(|t| t.1).sum();
    let (mut mixed_stacks, mut false_merges, mut clearly_different) = (0, 0, 0);
    let mut false_by_kind: Vec<(Kind, usize)> = KINDS.iter().map(|&k| (k, 0)).collect();
    for stack in stacks {
        let lead = samples[stack.representative as usize].original;
        let mut foreign = 0;
        for &(id, _) in &stack.members {
            let s = &samples[id as usize];
            if s.original != lead {
                foreign += 1;
                if pixel_difference(seed, lead, s.original) >= CLEARLY_DIFFERENT {
                    clearly_different += 1;
                }
                if let Some(slot) = false_by_kind.iter_mut().find(|(k, _)| *k == s.kind) {
                    slot.1 += 1;
                }
            }
        }
        false_merges += foreign;
        mixed_stacks += usize::from(foreign > 0);
    }
    Report {
        originals: samples.len() - variants,
        variants,
        hash_distance: 0,
        generate_s: 0.0,
        index_s: 0.0,
        all_pairs_s: None,
        stacks: stacks.len(),
        uninformative: 0,
        stacked_images: stacks.iter().map(|s| s.members.len()).sum(),
        true_merges,
        true_by_variant,
        mixed_stacks,
        false_merges,
        clearly_different,
        false_by_kind,
        peak_mb: None,
    }
}

/// The mean absolute difference (levels of 0–255, over the RGB channels) of
/// two originals drawn at one size from which a false merge counts as
/// clearly different.
const CLEARLY_DIFFERENT: f64 = 8.0;

/// How far apart originals `a` and `b` look: both drawn again, scaled to
/// 16×16, the mean absolute difference of their channels.
fn pixel_difference(seed: u64, a: u32, b: u32) -> f64 {
    let small = |index| {
        let image = original(seed, index).image;
        image::imageops::resize(&image, 16, 16, image::imageops::FilterType::Triangle)
    };
    let (a, b) = (small(a), small(b));
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Image width; heights give 16:9, 4:3 and square pictures.
const WIDTH: u32 = 32;
const HEIGHTS: [u32; 3] = [18, 24, 32];

type Rng = rand_pcg::Pcg64Mcg;

/// Original `index` and its variants, hashed.
/// A drawn original: what it shows, its pixels, its logo (to draw the
/// transparent copy), and the generator, to go on with its variants.
struct Original {
    kind: Kind,
    image: RgbImage,
    logo: Option<LogoSpec>,
    rng: Rng,
}

/// Original `index`, the same every time it is drawn.
fn original(seed: u64, index: u32) -> Original {
    let mut rng = Rng::seed_from_u64(seed ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let roll: f64 = rng.random();
    let kind = match roll {
        r if r < 0.45 => Kind::Photo,
        r if r < 0.65 => Kind::Screenshot,
        r if r < 0.80 => Kind::Logo,
        r if r < 0.90 => Kind::Flat,
        _ => Kind::Meme,
    };
    let height = HEIGHTS[rng.random_range(0..HEIGHTS.len())];
    let logo = (kind == Kind::Logo).then(|| LogoSpec::random(&mut rng));
    let image = match (kind, &logo) {
        (_, Some(spec)) => draw_logo(spec, height, true).convert(),
        (Kind::Screenshot, _) => screenshot(&mut rng, height),
        (Kind::Flat, _) => flat(&mut rng, height),
        (Kind::Meme, _) => meme(&mut rng, height),
        _ => photo(&mut rng, height),
    };
    Original {
        kind,
        image,
        logo,
        rng,
    }
}

/// Original `index` and its variants, hashed.
fn generate(seed: u64, index: u32, variant_every: usize) -> Vec<Sample> {
    let Original {
        kind,
        image,
        logo,
        mut rng,
    } = original(seed, index);
    let height = image.height();
    let sample = |picture: &DynamicImage, variant| {
        let (hash, grid) = phash::signature(picture);
        Sample {
            hash,
            colour: (!picture.color().has_alpha())
                .then(|| thumbnail::mean_rgb(picture.to_rgb8().as_raw(), false)),
            aspect: picture.width() as f32 / picture.height() as f32,
            grid,
            original: index,
            variant,
            kind,
        }
    };
    let mut out = vec![sample(&DynamicImage::ImageRgb8(image.clone()), None)];
    if (index as usize).is_multiple_of(variant_every) {
        let count = rng.random_range(1..=3);
        for _ in 0..count {
            let how: usize = rng.random_range(0..if logo.is_some() { 4 } else { 3 });
            let copy = match (how, &logo) {
                (0, _) => {
                    let scale = rng.random_range(0.55..0.85);
                    let w = ((WIDTH as f64 * scale).round() as u32).max(9);
                    let h = ((height as f64 * scale).round() as u32).max(8);
                    DynamicImage::ImageRgb8(image::imageops::resize(
                        &image,
                        w,
                        h,
                        image::imageops::FilterType::Triangle,
                    ))
                }
                (1, _) => recompressed(&image, rng.random_range(40..80)),
                (2, _) | (_, None) => {
                    // A light crop: 1 px (3 %) off two to four sides.
                    let (l, t) = (1, rng.random_range(0..=1));
                    let (r, b) = (rng.random_range(0..=1), 1);
                    DynamicImage::ImageRgb8(
                        image::imageops::crop_imm(&image, l, t, WIDTH - l - r, height - t - b)
                            .to_image(),
                    )
                }
                (_, Some(spec)) => DynamicImage::ImageRgba8(draw_logo(spec, height, false)),
            };
            out.push(sample(&copy, Some(VARIANTS[how.min(3)])));
        }
    }
    out
}

fn random_colour(rng: &mut Rng) -> [f32; 3] {
    [
        rng.random_range(0.0..255.0),
        rng.random_range(0.0..255.0),
        rng.random_range(0.0..255.0),
    ]
}

fn rgb(c: [f32; 3]) -> Rgb<u8> {
    Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
}

fn lerp(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}

/// A sky gradient over a wavy horizon and ground, with a few discs and boxes.
fn photo(rng: &mut Rng, height: u32) -> RgbImage {
    let (sky_top, sky_low) = (random_colour(rng), random_colour(rng));
    let (ground_l, ground_r) = (random_colour(rng), random_colour(rng));
    let horizon = rng.random_range(0.35..0.8f32);
    let amplitude = rng.random_range(0.0..0.2f32);
    let frequency = rng.random_range(1.0..9.0f32);
    let phase = rng.random_range(0.0..6.3f32);
    let shapes: Vec<(bool, [f32; 4], [f32; 3])> = (0..rng.random_range(1..=4))
        .map(|_| {
            (
                rng.random_bool(0.5),
                [
                    rng.random_range(0.0..1.0),
                    rng.random_range(0.0..1.0),
                    rng.random_range(0.05..0.3),
                    rng.random_range(0.05..0.3),
                ],
                random_colour(rng),
            )
        })
        .collect();
    RgbImage::from_fn(WIDTH, height, |x, y| {
        let (fx, fy) = (x as f32 / WIDTH as f32, y as f32 / height as f32);
        for (disc, [cx, cy, rx, ry], colour) in &shapes {
            let inside = if *disc {
                (fx - cx).powi(2) + (fy - cy).powi(2) < rx * rx
            } else {
                (fx - cx).abs() < *rx && (fy - cy).abs() < *ry
            };
            if inside {
                return rgb(*colour);
            }
        }
        if fy > horizon + amplitude * (fx * frequency + phase).sin() {
            rgb(lerp(ground_l, ground_r, fx))
        } else {
            rgb(lerp(sky_top, sky_low, fy))
        }
    })
}

fn fill(image: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for y in y0..(y0 + h).min(image.height()) {
        for x in x0..(x0 + w).min(image.width()) {
            image.put_pixel(x, y, colour);
        }
    }
}

/// Lines of dark "words" on a light page (or light on dark), maybe under a coloured bar.
fn screenshot(rng: &mut Rng, height: u32) -> RgbImage {
    let dark_mode = rng.random_bool(0.2);
    let page = if dark_mode {
        rng.random_range(15..45u8)
    } else {
        rng.random_range(225..=255u8)
    };
    let ink = if dark_mode {
        rng.random_range(180..240u8)
    } else {
        rng.random_range(0..90u8)
    };
    let mut image = RgbImage::from_pixel(WIDTH, height, Rgb([page; 3]));
    let bar = rng.random_range(0..=5u32);
    if bar > 0 {
        fill(&mut image, 0, 0, WIDTH, bar, rgb(random_colour(rng)));
    }
    let spacing = rng.random_range(3..=5u32);
    let margin = rng.random_range(1..=4u32);
    let mut y = bar + rng.random_range(1..=3);
    while y + 1 < height {
        let end = rng.random_range(WIDTH / 3..=WIDTH - margin);
        let mut x = margin;
        while x < end {
            let word = rng.random_range(2..=6u32);
            fill(&mut image, x, y, word.min(end - x), 1, Rgb([ink; 3]));
            x += word + rng.random_range(1..=2);
        }
        y += spacing;
    }
    image
}

/// A colour with at most a faint gradient: solid backgrounds, blank slides.
fn flat(rng: &mut Rng, height: u32) -> RgbImage {
    let base = random_colour(rng);
    let amplitude = if rng.random_bool(0.5) {
        0.0
    } else {
        rng.random_range(0.0..10.0f32)
    };
    let angle = rng.random_range(0.0..6.3f32);
    let (dx, dy) = (angle.cos(), angle.sin());
    RgbImage::from_fn(WIDTH, height, |x, y| {
        let t = (x as f32 / WIDTH as f32 - 0.5) * dx + (y as f32 / height as f32 - 0.5) * dy;
        rgb(base.map(|c| c + amplitude * t))
    })
}

/// A photo between a top and a bottom caption bar.
fn meme(rng: &mut Rng, height: u32) -> RgbImage {
    let mut image = photo(rng, height);
    let (bar, ink) = if rng.random_bool(0.5) {
        (Rgb([255; 3]), Rgb([0; 3]))
    } else {
        (Rgb([0; 3]), Rgb([255; 3]))
    };
    let depth = (height / 5).max(3);
    for y0 in [0, height - depth] {
        fill(&mut image, 0, y0, WIDTH, depth, bar);
        let mut x = rng.random_range(2..8u32);
        let end = WIDTH - rng.random_range(2..8u32);
        while x < end {
            let word = rng.random_range(2..=5u32);
            fill(&mut image, x, y0 + depth / 2, word.min(end - x), 1, ink);
            x += word + 1;
        }
    }
    image
}

/// One or two shapes in one colour, drawn with anti-aliased edges.
struct LogoSpec {
    colour: [u8; 3],
    /// (kind 0 disc / 1 ring / 2 square / 3 triangle, centre x, centre y, size), as fractions.
    shapes: Vec<(u8, f32, f32, f32)>,
}

impl LogoSpec {
    fn random(rng: &mut Rng) -> LogoSpec {
        LogoSpec {
            colour: random_colour(rng).map(|c| c as u8),
            shapes: (0..rng.random_range(1..=2))
                .map(|_| {
                    (
                        rng.random_range(0..4u8),
                        rng.random_range(0.3..0.7),
                        rng.random_range(0.3..0.7),
                        rng.random_range(0.12..0.35),
                    )
                })
                .collect(),
        }
    }

    fn covers(&self, fx: f32, fy: f32) -> bool {
        self.shapes.iter().any(|&(kind, cx, cy, s)| {
            let (dx, dy) = (fx - cx, fy - cy);
            match kind {
                0 => dx * dx + dy * dy < s * s,
                1 => ((dx * dx + dy * dy).sqrt() - s * 0.75).abs() < s * 0.25,
                2 => dx.abs() < s && dy.abs() < s,
                _ => dy < s && dy > -s && dx.abs() < (s - dy) * 0.5,
            }
        })
    }
}

/// The logo on white (`opaque`), or on a transparent background whose
/// pixels are stored black, as many PNG encoders store them.
fn draw_logo(spec: &LogoSpec, height: u32, opaque: bool) -> RgbaImage {
    RgbaImage::from_fn(WIDTH, height, |x, y| {
        // Coverage from 4×4 subsamples: the edge pixels are partly transparent.
        let mut hits = 0u32;
        for sy in 0..4 {
            for sx in 0..4 {
                let fx = (x as f32 + (sx as f32 + 0.5) / 4.0) / WIDTH as f32;
                let fy = (y as f32 + (sy as f32 + 0.5) / 4.0) / height as f32;
                hits += u32::from(spec.covers(fx, fy));
            }
        }
        let alpha = (hits * 255 / 16) as u8;
        if opaque {
            let a = u32::from(alpha);
            let c = spec
                .colour
                .map(|v| ((u32::from(v) * a + 255 * (255 - a) + 127) / 255) as u8);
            Rgba([c[0], c[1], c[2], 255])
        } else if alpha == 0 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([spec.colour[0], spec.colour[1], spec.colour[2], alpha])
        }
    })
}

/// `image` saved as a JPEG at `quality` and decoded again.
fn recompressed(image: &RgbImage, quality: u8) -> DynamicImage {
    let mut bytes = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    match image
        .write_with_encoder(encoder)
        .ok()
        .and_then(|()| image::load_from_memory(bytes.get_ref()).ok())
    {
        Some(decoded) => decoded,
        None => DynamicImage::ImageRgb8(image.clone()),
    }
}
