//! `tagscape bench map`: the map against plain ForceAtlas2 on the same graph
//! and start, in one run: time, map quality figures and agreement with the
//! planted clusters. `--save DIR` writes the graph, the map and its clusters
//! as a project, so `tagscape export DIR --format png` shows the picture.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Result;

use crate::cluster::ClusterSettings;
use crate::layout::{
    BackendKind, ForceAtlas2Settings, LayoutSettings, Placement, detected_groups, lay_out_map,
    lay_out_plain, map_quality, quality, random_positions, save_positions, synthetic,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// gen_graph.py's planted clusters (vision-API-like tags, a hub tag).
    Planted,
    /// Keyword tagging: most tags used once, a hub, a dense block, untagged images.
    Keywords,
}

#[derive(clap::Args, Debug)]
pub struct Options {
    #[arg(long, default_value_t = 10_000)]
    pub images: usize,
    #[arg(long, value_enum, default_value_t = Shape::Planted)]
    pub shape: Shape,
    #[arg(long, default_value_t = 500)]
    pub iterations: u32,
    #[arg(long, value_enum, default_value_t = BackendKind::Cpu)]
    pub backend: BackendKind,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the graph, the map and its clusters as a project here.
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// With --save: give every image a generated picture (a JPEG in its
    /// planted cluster's hue, striped by its index), stored as a
    /// fetched original with its thumbnail pyramid, so exports draw real
    /// thumbnails instead of grey placeholders.
    #[arg(long, requires = "save")]
    pub thumbnails: bool,
    /// With --thumbnails: the pictures' longest side in pixels (1600 makes
    /// originals that posters draw from their 1024 px level or themselves).
    #[arg(long, default_value_t = 96, value_parser = clap::value_parser!(u32).range(16..=8192), requires = "thumbnails")]
    pub picture_size: u32,
}

pub fn run(opts: &Options) -> Result<()> {
    let data = match opts.shape {
        Shape::Planted => synthetic::generate(&synthetic::SyntheticSpec::new(opts.images)),
        Shape::Keywords => synthetic::keywords(opts.images, opts.seed),
    };
    let graph = &data.graph;
    let n = graph.node_count();
    println!(
        "bench map: {:?} graph, {} images, {} nodes, {} edges, {} iterations, {} backend; machine: {}",
        opts.shape,
        graph.n_images,
        n,
        graph.edges.len(),
        opts.iterations,
        match opts.backend {
            BackendKind::Cpu => "cpu",
            BackendKind::Gpu => "gpu",
        },
        crate::bench::cpu_model()
    );
    let base = LayoutSettings {
        fa2: ForceAtlas2Settings::for_graph(n),
        iterations: opts.iterations,
        seed: opts.seed,
        ..Default::default()
    };
    let start = random_positions(n, opts.seed);
    let stop = AtomicBool::new(false);

    let plain_settings = LayoutSettings {
        plain: true,
        size: crate::layout::SizeSettings::gephi(),
        ..base.clone()
    };
    let t = Instant::now();
    let (plain, _) = lay_out_plain(graph, &plain_settings, opts.backend, start.clone(), &stop)?;
    let plain_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (groups, clusters) = detected_groups(graph, &ClusterSettings::default())?;
    let detect_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (map, report) = lay_out_map(graph, &groups, clusters, &base, opts.backend, start, &stop)?;
    let map_s = t.elapsed().as_secs_f64();
    println!("{report}");

    for (name, placed, secs) in [("plain ForceAtlas2", &plain, plain_s), ("map", &map, map_s)] {
        let positions: Vec<[f32; 2]> = placed[..graph.n_images]
            .iter()
            .map(|p| [p.x, p.y])
            .collect();
        let q = quality::score(&positions, &data.clusters);
        let figures = figures(graph, placed, &groups, clusters);
        println!(
            "{name}: {secs:.2} s; planted clusters kNN10n {:.3}, silhouette {:.3}\n  {figures}",
            q.knn10n, q.sil
        );
    }
    println!(
        "time: map {map_s:.2} s + community detection {detect_s:.2} s vs plain {plain_s:.2} s: ratio {:.2} ({:.2} with detection)",
        map_s / plain_s,
        (map_s + detect_s) / plain_s
    );
    if let Some(dir) = &opts.save {
        let mut project = crate::project::Project::init(dir)?;
        if opts.thumbnails {
            let mut graph = graph.clone();
            let t = Instant::now();
            add_thumbnails(&mut project, &mut graph, &data.clusters, opts.picture_size)?;
            println!(
                "thumbnails: {} images in {:.1} s",
                graph.n_images,
                t.elapsed().as_secs_f64()
            );
            graph.save(&mut project)?;
        } else {
            graph.save(&mut project)?;
        }
        project.set_setting("layout", &base)?;
        save_positions(&mut project, graph, &map)?;
        crate::ui::summary(crate::cluster::run_in(
            &mut project,
            &ClusterSettings::default(),
        )?);
        println!(
            "saved: tagscape export {} --format png --width 3000 --out map.png",
            dir.display()
        );
    }
    Ok(())
}

/// Gives each image node of `graph` an image row with a generated picture
/// (original and pyramid written to the store as `fetch` does), in its
/// planted cluster's hue (`clusters`, per image) and striped by its index.
fn add_thumbnails(
    project: &mut crate::project::Project,
    graph: &mut crate::graph::Graph,
    clusters: &[u32],
    side: u32,
) -> Result<()> {
    use rayon::prelude::*;
    let dir = project.dir().to_path_buf();
    let limits = crate::fetch::thumbnail::DecodeLimits::default();
    let processed: Vec<crate::fetch::Processed> = (0..graph.n_images)
        .into_par_iter()
        .map(|i| {
            let cluster = clusters.get(i).copied().unwrap_or(0);
            let bytes = bench_picture(i, cluster, side)?;
            match crate::fetch::process_body(&dir, &bytes, &limits)? {
                Ok(p) => Ok(p),
                Err(f) => anyhow::bail!("generated picture {i}: {}", f.detail),
            }
        })
        .collect::<Result<_>>()?;
    let tx = project.conn_mut().transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO images(url, status, content_hash, file, format, width, height, mean_color, byte_size, thumb_ext)
             VALUES (?1, 'done', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (node, p) in graph.nodes.iter_mut().zip(&processed) {
            insert.execute(rusqlite::params![
                format!("https://bench.invalid/{}.jpg", node.id),
                p.content_hash,
                p.file,
                p.format,
                p.width,
                p.height,
                p.mean_color,
                p.byte_size as i64,
                p.thumb_ext,
            ])?;
            node.image_id = Some(tx.last_insert_rowid());
        }
    }
    tx.commit()?;
    Ok(())
}

/// A `side` × ¾`side` (or ¾`side` × `side`) JPEG: the cluster's hue,
/// stripes whose spacing (4 to 16 px) and direction follow the image's
/// index, so no two neighbours look alike.
fn bench_picture(index: usize, cluster: u32, side: u32) -> Result<Vec<u8>> {
    let short = (side * 3 / 4).max(1);
    let (w, h) = if index.is_multiple_of(3) {
        (short, side)
    } else {
        (side, short)
    };
    let hue = (cluster as f32 * 0.618_034).fract();
    let rgb = |t: f32| -> [u8; 3] {
        // A hue wheel, lighter and darker along the stripes.
        let c = |shift: f32| {
            let v = ((hue + shift) * std::f32::consts::TAU).cos() * 0.5 + 0.5;
            ((0.25 + 0.6 * v) * (0.6 + 0.4 * t) * 255.0) as u8
        };
        [c(0.0), c(1.0 / 3.0), c(2.0 / 3.0)]
    };
    let period = 4 + (index % 13) as u32;
    let diagonal = index.is_multiple_of(2);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let along = if diagonal { x + y } else { x };
            let t = if (along / period).is_multiple_of(2) {
                1.0
            } else {
                0.0
            };
            pixels.extend_from_slice(&rgb(t));
        }
    }
    crate::fetch::jpeg::encode_rgb(&pixels, w, h, 85).map_err(|e| anyhow::anyhow!(e))
}

/// The map quality figures, with a hull around each drawn group.
fn figures(
    graph: &crate::graph::Graph,
    placed: &[Placement],
    groups: &[Option<u32>],
    clusters: usize,
) -> map_quality::MapQuality {
    let mut members: Vec<Vec<crate::cluster::hulls::Member>> = vec![Vec::new(); clusters];
    for (i, g) in groups.iter().enumerate() {
        if let Some(g) = g {
            members[*g as usize].push(crate::cluster::hulls::Member {
                x: f64::from(placed[i].x),
                y: f64::from(placed[i].y),
                size: f64::from(placed[i].size),
            });
        }
    }
    let hulls: Vec<Vec<[f64; 2]>> = members
        .iter()
        .filter_map(|m| crate::cluster::hulls::hull(m))
        .map(|h| h.polygon.exterior().coords().map(|c| [c.x, c.y]).collect())
        .collect();
    crate::pipeline::measure_placements(graph, placed, &hulls)
}
