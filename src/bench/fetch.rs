//! `tagscape bench fetch`: (a) thumbnail throughput on ~2000×1500 JPEGs, one
//! thread and all cores, against a baseline measured in the same run (the
//! same pipeline with a full-size decode instead of DCT scaling); (b) fetch
//! throughput and peak memory for many small images from a local server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use image::{Rgb, RgbImage};
use rayon::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fetch::jpeg;
use crate::fetch::sniff::{self, Format};
use crate::fetch::thumbnail::{self, DecodeLimits};
use crate::fetch::{FetchOptions, fetch_images};
use crate::project::Project;

/// Flags of `tagscape bench fetch`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// JPEGs of 2000×1500 px to thumbnail (generated once into the work dir).
    #[arg(long, default_value_t = 1000)]
    pub images: usize,
    /// Thumbnail the JPEGs in this folder instead of generated ones.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
    /// Small images downloaded from a local server (0 skips this part).
    #[arg(long, default_value_t = 10_000)]
    pub downloads: usize,
    /// Downloads in flight during the download part.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Where generated images and the scratch project go (default: a fresh
    /// folder in the system temp dir, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

pub fn run(opts: &Options) -> Result<()> {
    let (work, remove_after) = match &opts.work_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("tagscape-bench-fetch-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&work)
        .with_context(|| format!("cannot create the work dir {}", work.display()))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {} ({cores} cores)", super::cpu_model());

    // Downloads first, so the peak memory it reports is its own.
    let result = (|| {
        if opts.downloads > 0 {
            bench_downloads(&work, opts.downloads, opts.concurrency)?;
        }
        if opts.images > 0 || opts.local_dir.is_some() {
            let files = match &opts.local_dir {
                Some(dir) => jpegs_in(dir)?,
                None => generate_jpegs(&work.join("jpegs"), opts.images)?,
            };
            bench_thumbnails(&files, cores)?;
        }
        Ok(())
    })();
    if remove_after {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

// ---------------------------------------------------------------- thumbnails

fn bench_thumbnails(files: &[PathBuf], cores: usize) -> Result<()> {
    if files.is_empty() {
        bail!("no JPEG files to thumbnail: pass --images N or a --local-dir with .jpg files");
    }
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "thumbnails: {} JPEGs, {:.0} KB on average; pyramid {:?} px, each file read, decoded, resized, encoded",
        files.len(),
        bytes as f64 / files.len() as f64 / 1024.0,
        thumbnail::LEVELS
    );
    println!(
        "  (images/s are wall-clock; \"per CPU-s\" divides by the CPU time the process used, \
         which other load on the machine does not inflate)"
    );
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut rates = Vec::new();
    for (name, dct) in [
        ("DCT-scaled decode", true),
        ("full decode (baseline)", false),
    ] {
        let one = single.install(|| time_thumbnails(files, dct, false))?;
        let all = time_thumbnails(files, dct, true)?;
        println!(
            "  {name:<24} 1 thread: {:7.1} images/s ({:6.1} per CPU-s) | {cores} threads: {:7.1} images/s = {:6.1} per core ({:6.1} per CPU-s)",
            one.wall,
            one.cpu,
            all.wall,
            all.wall / cores as f64,
            all.cpu
        );
        rates.push((one, all));
    }
    println!(
        "  speedup of DCT scaling over the baseline: {:.2}× on 1 thread, {:.2}× on {cores} (per CPU-s: {:.2}×, {:.2}×)",
        rates[0].0.wall / rates[1].0.wall,
        rates[0].1.wall / rates[1].1.wall,
        rates[0].0.cpu / rates[1].0.cpu,
        rates[0].1.cpu / rates[1].1.cpu
    );
    single.install(|| decode_only(files))
}

/// Where the time goes, on one thread: decoding alone, DCT-scaled, at 1/8
/// (the entropy decoding every scale pays: all coefficients are Huffman-decoded
/// even when only DC ones are used) and full size.
fn decode_only(files: &[PathBuf]) -> Result<()> {
    let contents: Vec<Vec<u8>> = files
        .iter()
        .take(200)
        .map(std::fs::read)
        .collect::<std::io::Result<_>>()?;
    let turbo = |fixed_denominator: Option<u32>| -> Result<Rate> {
        let clock = Clock::start();
        for bytes in &contents {
            let header = jpeg::read_header(bytes).context("libjpeg-turbo cannot read a header")?;
            let denominator = fixed_denominator.unwrap_or_else(|| {
                jpeg::scale_denominator(header.width, header.height, thumbnail::LEVELS[0])
            });
            jpeg::decode_scaled(bytes, header, denominator)
                .context("libjpeg-turbo cannot decode a generated JPEG")?;
        }
        Ok(clock.rate(contents.len()))
    };
    let scaled = turbo(None)?;
    let eighth = turbo(Some(8))?;
    let clock = Clock::start();
    for bytes in &contents {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)?;
    }
    let full = clock.rate(contents.len());
    let ms = |rate: &Rate| {
        format!(
            "{:.2} ms ({:.2} ms CPU)",
            1000.0 / rate.wall,
            1000.0 / rate.cpu
        )
    };
    println!(
        "  decoding alone, 1 thread, per image: DCT-scaled (libjpeg-turbo) {}, at 1/8 {}, full (image/zune-jpeg) {}",
        ms(&scaled),
        ms(&eighth),
        ms(&full)
    );
    Ok(())
}

/// Images per second of wall-clock time and per second of the process's CPU time.
struct Rate {
    wall: f64,
    cpu: f64,
}

struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: process_cpu_seconds(),
        }
    }

    fn rate(&self, images: usize) -> Rate {
        let wall = images as f64 / self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, process_cpu_seconds()) {
            (Some(start), Some(end)) if end > start => images as f64 / (end - start),
            _ => f64::NAN,
        };
        Rate { wall, cpu }
    }
}

/// User + system CPU time of this process (Linux `/proc/self/stat`, in
/// clock ticks of 10 ms); `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// Decode + pyramid + encode rates, reading each file.
fn time_thumbnails(files: &[PathBuf], dct_scaling: bool, parallel: bool) -> Result<Rate> {
    let limits = DecodeLimits::default();
    let one = |path: &PathBuf| -> Result<()> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let format = sniff::sniff(&bytes).unwrap_or(Format::Jpeg);
        thumbnail::make_thumbnails_with(&bytes, format, &limits, dct_scaling)
            .map_err(|f| anyhow::anyhow!("{}: {} ({})", path.display(), f.reason, f.detail))?;
        Ok(())
    };
    let clock = Clock::start();
    if parallel {
        files.par_iter().try_for_each(one)?;
    } else {
        files.iter().try_for_each(one)?;
    }
    Ok(clock.rate(files.len()))
}

fn jpegs_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Photo-like 2000×1500 JPEGs (q 85): smooth gradients, shapes and grain, so
/// that their sizes (~0.5 MB) and decoding cost resemble camera pictures.
/// Made once: files already in `dir` are reused.
fn generate_jpegs(dir: &Path, count: usize) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let files: Vec<PathBuf> = (0..count)
        .map(|i| dir.join(format!("photo-{i:05}.jpg")))
        .collect();
    let started = Instant::now();
    files
        .par_iter()
        .enumerate()
        .filter(|(_, path)| !path.is_file())
        .try_for_each(|(i, path)| -> Result<()> {
            let image = synthetic_photo(2000, 1500, i as u64);
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
                .encode_image(&image)?;
            std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
            Ok(())
        })?;
    eprintln!(
        "prepared {count} JPEGs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(files)
}

fn synthetic_photo(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64: enough randomness for texture, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let base = [next() % 256, next() % 256, next() % 256].map(|c| c as f32);
    let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..12)
        .map(|_| {
            (
                (next() % w as u64) as f32,
                (next() % h as u64) as f32,
                100.0 + (next() % 400) as f32,
                [next() % 256, next() % 256, next() % 256].map(|c| c as f32),
            )
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let mut px = [
            base[0] * (1.0 - fx / w as f32 * 0.5),
            base[1] * (0.5 + fy / h as f32 * 0.5),
            base[2] * 0.8 + 20.0 * ((fx * 0.01).sin() + (fy * 0.013).cos()),
        ];
        for (cx, cy, r, colour) in &blobs {
            let d2 = (fx - cx).powi(2) + (fy - cy).powi(2);
            if d2 < r * r {
                let t = 0.6 * (1.0 - d2 / (r * r));
                for c in 0..3 {
                    px[c] = px[c] * (1.0 - t) + colour[c] * t;
                }
            }
        }
        // Luma-like grain of ±8 levels, the same on all channels as sensor
        // noise after a camera's processing mostly is.
        let noise = (next() % 17) as f32 - 8.0;
        Rgb(px.map(|c| (c + noise).clamp(0.0, 255.0) as u8))
    })
}

// ----------------------------------------------------------------- downloads

fn bench_downloads(work: &Path, count: usize, concurrency: usize) -> Result<()> {
    let base = {
        let image = synthetic_photo(320, 240, 42);
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&image)?;
        out
    };
    let port = start_server(Arc::new(base.clone()))?;
    let dir = work.join("download-project");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let mut project = Project::init(&dir)?;
    {
        let tx = project.conn_mut().transaction()?;
        {
            let mut insert = tx.prepare("INSERT INTO images(url) VALUES (?1)")?;
            for i in 0..count {
                insert.execute([format!("http://127.0.0.1:{port}/img/{i}.jpg")])?;
            }
        }
        tx.commit()?;
    }
    let options = FetchOptions {
        concurrency,
        per_host: concurrency,
        timeout: Duration::from_secs(60),
        ..FetchOptions::default()
    };
    let before = super::peak_rss_kb();
    let start = Instant::now();
    let report = fetch_images(&mut project, &options)?;
    let seconds = start.elapsed().as_secs_f64();
    let after = super::peak_rss_kb();
    if report.fetched != count as u64 {
        bail!("the download benchmark lost images: {report}");
    }
    println!(
        "downloads: {count} distinct {:.0} KB JPEGs (320×240) from a local keep-alive server, concurrency {concurrency}",
        base.len() as f64 / 1024.0
    );
    println!(
        "  {:.0} images/s ({seconds:.2} s, downloaded, hashed, decoded, thumbnailed, committed); peak memory (VmHWM) {} MB, {} MB before",
        count as f64 / seconds,
        after.map_or("?".into(), |k| (k / 1024).to_string()),
        before.map_or("?".into(), |k| (k / 1024).to_string()),
    );
    let _ = std::io::stdout().flush();
    Ok(())
}

/// A minimal keep-alive HTTP/1.1 server answering `/img/<n>.jpg` with the
/// base JPEG made distinct by a comment segment holding `n`.
fn start_server(base: Arc<Vec<u8>>) -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, base.clone()));
            }
        });
    });
    Ok(port)
}

async fn serve_connection(mut stream: tokio::net::TcpStream, base: Arc<Vec<u8>>) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..end]).to_string();
        pending.drain(..end);
        let target = head.split_whitespace().nth(1).unwrap_or("");
        let n = target
            .trim_start_matches("/img/")
            .trim_end_matches(".jpg")
            .to_string();
        // SOI, then a COM segment with the number, then the rest.
        let mut body = Vec::with_capacity(base.len() + 32);
        body.extend_from_slice(&base[..2]);
        body.extend_from_slice(&[0xFF, 0xFE]);
        body.extend_from_slice(&((n.len() + 2) as u16).to_be_bytes());
        body.extend_from_slice(n.as_bytes());
        body.extend_from_slice(&base[2..]);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
    }
}
