//! The GPU ForceAtlas2 (wgpu compute shaders) checked on whatever adapter is
//! present: in CI that is Mesa's lavapipe (package mesa-vulkan-drivers).
//! References are computed here from Gephi's formulas
//! (shared/bench/fa2/README.md) or by the CPU backend.

use std::sync::{Arc, OnceLock};

use tagscape::gpu::GpuContext;
use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::gpu::{GpuFa2, Repulsion};
use tagscape::layout::speed::GlobalSpeed;
use tagscape::layout::{
    CpuFa2, Fa2Backend, ForceAtlas2Settings, LayoutInput, exact_repulsion, quality,
    random_positions, synthetic,
};

/// One device for the whole test binary (tests run in parallel threads).
fn ctx() -> Arc<GpuContext> {
    static CTX: OnceLock<Arc<GpuContext>> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::new_headless() {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => {
            panic!("{e:#} (the GPU tests need an adapter; on CI install mesa-vulkan-drivers)")
        }
    })
    .clone()
}

/// splitmix64: a tiny deterministic generator for test data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Bipartite image–tag graph: each image carries 1..=max_tags distinct tags,
/// popular tags much more often (hubs), weights in (0, 1].
/// With `hub`, every image also carries tag 0 (a row long enough for the
/// GPU's one-workgroup-per-hub attraction path when images > 2048).
fn random_graph_with_hub(
    images: usize,
    tags: usize,
    max_tags: usize,
    seed: u64,
    hub: bool,
) -> Graph {
    let mut rng = Rng(seed);
    let mut nodes = Vec::new();
    for i in 0..images {
        nodes.push(Node {
            kind: NodeKind::Image,
            id: format!("img{i}"),
            label: format!("img{i}"),
            image_id: Some(i as i64),
            frequency: 1,
        });
    }
    for t in 0..tags {
        nodes.push(Node {
            kind: NodeKind::Tag,
            id: format!("tag{t}"),
            label: format!("tag{t}"),
            image_id: None,
            frequency: 1,
        });
    }
    let mut edges = Vec::new();
    for i in 0..images {
        let k = 1 + rng.below(max_tags);
        let mut chosen: Vec<usize> = Vec::new();
        if hub && tags > 0 {
            chosen.push(0);
        }
        while chosen.len() < (k + usize::from(hub)).min(tags) {
            // Squared uniform: low tag indices are hubs.
            let u = rng.unit();
            let t = ((u * u) * tags as f32) as usize % tags;
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        for t in chosen {
            edges.push(Edge {
                source: i as u32,
                target: (images + t) as u32,
                weight: 0.05 + 0.95 * rng.unit(),
            });
        }
    }
    Graph::new(nodes, images, edges)
}

fn random_graph(images: usize, tags: usize, max_tags: usize, seed: u64) -> Graph {
    random_graph_with_hub(images, tags, max_tags, seed, false)
}

/// Clustered positions (Gaussian blobs of different spreads, plus a uniform
/// background), closer to a real layout than a uniform square.
fn clustered_positions(n: usize, seed: u64) -> Vec<[f32; 2]> {
    let mut rng = Rng(seed);
    let centres: Vec<([f32; 2], f32)> = (0..12)
        .map(|_| {
            (
                [rng.unit() * 400.0 - 200.0, rng.unit() * 400.0 - 200.0],
                2.0 + rng.unit() * 30.0,
            )
        })
        .collect();
    (0..n)
        .map(|_| {
            if rng.below(10) == 0 {
                return [rng.unit() * 600.0 - 300.0, rng.unit() * 600.0 - 300.0];
            }
            let (c, s) = centres[rng.below(centres.len())];
            // Box–Muller.
            let r = (-2.0 * (1.0 - rng.unit()).ln()).sqrt() * s;
            let a = rng.unit() * std::f32::consts::TAU;
            [c[0] + r * a.cos(), c[1] + r * a.sin()]
        })
        .collect()
}

fn rel_err(a: [f32; 2], b: [f32; 2]) -> f64 {
    let dx = f64::from(a[0]) - f64::from(b[0]);
    let dy = f64::from(a[1]) - f64::from(b[1]);
    let nb = (f64::from(b[0]).powi(2) + f64::from(b[1]).powi(2)).sqrt();
    (dx * dx + dy * dy).sqrt() / nb.max(1e-30)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn all_finite(p: &[[f32; 2]]) -> bool {
    p.iter().all(|v| v[0].is_finite() && v[1].is_finite())
}

#[test]
fn exact_repulsion_matches_cpu_pair_sum() {
    let graph = random_graph(1200, 300, 12, 1);
    let n = graph.node_count();
    let mut positions = random_positions(n, 7);
    // Some coincident nodes: they must repel along the shared fixed direction.
    for k in 0..20 {
        positions[k * 3 + 1] = positions[k * 3];
    }
    for adjust_sizes in [false, true] {
        let settings = ForceAtlas2Settings {
            adjust_sizes,
            barnes_hut_optimize: false,
            ..Default::default()
        };
        let sizes: Vec<f32> = (0..n).map(|i| 0.2 + (i % 7) as f32 * 0.3).collect();
        let (input, _) = LayoutInput::new(&graph, sizes, &settings);
        let mut gpu = GpuFa2::new(ctx(), &input, &settings, &positions).unwrap();
        let got = gpu.repulsion_forces(Repulsion::Exact).unwrap();
        let want = exact_repulsion(
            &positions,
            &input.mass,
            adjust_sizes.then_some(&input.sizes[..]),
            settings.scaling_ratio,
        );
        let mut worst = 0f64;
        for i in 0..n {
            worst = worst.max(rel_err(got[i], want[i]));
        }
        // f32 sums of ~1500 terms in another order than the f64 reference.
        assert!(
            worst < 2e-3,
            "adjust_sizes={adjust_sizes}: worst relative error {worst}"
        );
    }
}

/// Total force from Gephi's formulas (README), written independently of the
/// crate: weights used as they are (influence 1), mass = 1 + degree.
fn reference_total_force(
    graph: &Graph,
    positions: &[[f32; 2]],
    settings: &ForceAtlas2Settings,
) -> Vec<[f32; 2]> {
    let n = graph.node_count();
    let mass: Vec<f32> = (0..n).map(|i| 1.0 + graph.degree(i) as f32).collect();
    let mut f = exact_repulsion(positions, &mass, None, settings.scaling_ratio);
    for i in 0..n {
        let [x, y] = positions[i];
        let d = (x * x + y * y).sqrt();
        if d > 0.0 {
            let k = if settings.strong_gravity_mode {
                mass[i] * settings.gravity
            } else {
                mass[i] * settings.gravity / d
            };
            f[i][0] -= x * k;
            f[i][1] -= y * k;
        }
    }
    for e in &graph.edges {
        let (a, b) = (e.source as usize, e.target as usize);
        let dx = positions[b][0] - positions[a][0];
        let dy = positions[b][1] - positions[a][1];
        let d = (dx * dx + dy * dy).sqrt();
        let mut k = if settings.lin_log_mode {
            e.weight * (1.0 + d).ln() / d
        } else {
            e.weight
        };
        if settings.outbound_attraction_distribution {
            // Divided by the source's (image's) mass, times the mean mass.
            let mean = mass.iter().sum::<f32>() / n as f32;
            k *= mean / mass[a];
        }
        // Both ends, once each.
        f[a][0] += dx * k;
        f[a][1] += dy * k;
        f[b][0] -= dx * k;
        f[b][1] -= dy * k;
    }
    f
}

#[test]
fn total_forces_match_gephi_formulas() {
    // Tag 0 has 2500 edges: summed by the GPU's per-hub workgroup path.
    let graph = random_graph_with_hub(2500, 200, 6, 2, true);
    assert!(graph.degree(2500) > 2048);
    let n = graph.node_count();
    let positions = random_positions(n, 3);
    for (lin_log_mode, strong_gravity_mode, outbound_attraction_distribution) in [
        (false, false, false),
        (true, true, false),
        (false, false, true),
    ] {
        let settings = ForceAtlas2Settings {
            lin_log_mode,
            strong_gravity_mode,
            outbound_attraction_distribution,
            barnes_hut_optimize: false,
            gravity: 1.5,
            ..Default::default()
        };
        let (input, _) = LayoutInput::new(&graph, vec![1.0; n], &settings);
        let mut gpu = GpuFa2::new(ctx(), &input, &settings, &positions).unwrap();
        let got = gpu.total_forces().unwrap();
        let want = reference_total_force(&graph, &positions, &settings);
        let mut errs: Vec<f64> = (0..n).map(|i| rel_err(got[i], want[i])).collect();
        errs.sort_by(f64::total_cmp);
        let worst = errs[n - 1];
        assert!(
            worst < 5e-3,
            "linlog={lin_log_mode} strong={strong_gravity_mode} hubs={outbound_attraction_distribution}: worst {worst}"
        );
    }
}

#[test]
fn one_step_follows_gephi_adaptive_speed() {
    let graph = random_graph(500, 120, 8, 4);
    let n = graph.node_count();
    let positions = random_positions(n, 5);
    let settings = ForceAtlas2Settings {
        barnes_hut_optimize: false,
        ..Default::default()
    };
    let (input, _) = LayoutInput::new(&graph, vec![1.0; n], &settings);
    let mut gpu = GpuFa2::new(ctx(), &input, &settings, &positions).unwrap();
    // Two steps so the second has a non-zero previous force.
    let mut speed = GlobalSpeed::default();
    let mut old = vec![[0f32; 2]; n];
    let mut pos = positions.clone();
    for step in 0..2 {
        let f = gpu.total_forces().unwrap();
        let (mut swing, mut traction) = (0f64, 0f64);
        for i in 0..n {
            let m = f64::from(input.mass[i]);
            let s =
                f64::from(((f[i][0] - old[i][0]).powi(2) + (f[i][1] - old[i][1]).powi(2)).sqrt());
            let t =
                f64::from(((f[i][0] + old[i][0]).powi(2) + (f[i][1] + old[i][1]).powi(2)).sqrt());
            swing += m * s;
            traction += 0.5 * m * t;
        }
        let want_speed = speed.update(swing, traction, n, f64::from(settings.jitter_tolerance));
        let stats = gpu.step().unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-3 * b.abs().max(1e-9);
        assert!(
            close(f64::from(stats.swing), swing),
            "step {step}: swing {} vs {swing}",
            stats.swing
        );
        assert!(
            close(f64::from(stats.traction), traction),
            "step {step}: traction"
        );
        assert!(
            close(f64::from(stats.speed), want_speed),
            "step {step}: speed {} vs {want_speed}",
            stats.speed
        );
        let got = gpu.positions().unwrap();
        for i in 0..n {
            let s = ((f[i][0] - old[i][0]).powi(2) + (f[i][1] - old[i][1]).powi(2)).sqrt();
            let sp = want_speed as f32;
            let factor = sp / (1.0 + (sp * input.mass[i] * s).sqrt());
            let want = [pos[i][0] + f[i][0] * factor, pos[i][1] + f[i][1] * factor];
            let moved = ((want[0] - pos[i][0]).powi(2) + (want[1] - pos[i][1]).powi(2)).sqrt();
            let err = ((got[i][0] - want[0]).powi(2) + (got[i][1] - want[1]).powi(2)).sqrt();
            assert!(
                err <= 1e-3 * moved.max(1e-3) + 1e-4 * want[0].abs().max(want[1].abs()),
                "step {step} node {i}: {got:?} vs {want:?}",
                got = got[i]
            );
        }
        pos = got;
        old = f;
    }
}

#[test]
fn tree_repulsion_error_on_20k_nodes() {
    // 16k images, 4k tags with hubs: masses up to thousands.
    let graph = random_graph(16_000, 4_000, 20, 6);
    let n = graph.node_count();
    assert_eq!(n, 20_000);
    let positions = clustered_positions(n, 9);
    let settings = ForceAtlas2Settings::default();
    let (input, _) = LayoutInput::new(&graph, vec![1.0; n], &settings);
    let mut gpu = GpuFa2::new(ctx(), &input, &settings, &positions).unwrap();
    let exact = gpu.repulsion_forces(Repulsion::Exact).unwrap();
    let tree = gpu.repulsion_forces(Repulsion::Tree).unwrap();
    let mut errs: Vec<f64> = (0..n).map(|i| rel_err(tree[i], exact[i])).collect();
    errs.sort_by(f64::total_cmp);
    let (median, p99) = (percentile(&errs, 0.5), percentile(&errs, 0.99));
    eprintln!(
        "tree vs exact, θ = {}: median {median:.5}, p99 {p99:.5}, max {:.5}",
        settings.barnes_hut_theta,
        errs[n - 1]
    );
    assert!(median <= 0.02, "median relative error {median}");
    assert!(p99 <= 0.10, "99th percentile relative error {p99}");
    // A smaller θ opens more cells: it must be more accurate.
    let fine = ForceAtlas2Settings {
        barnes_hut_theta: 0.5,
        ..settings
    };
    let mut gpu = GpuFa2::new(ctx(), &input, &fine, &positions).unwrap();
    let tree = gpu.repulsion_forces(Repulsion::Tree).unwrap();
    let mut errs_fine: Vec<f64> = (0..n).map(|i| rel_err(tree[i], exact[i])).collect();
    errs_fine.sort_by(f64::total_cmp);
    assert!(
        percentile(&errs_fine, 0.5) < median,
        "θ = 0.5 not more accurate than θ = 1.2"
    );
}

#[test]
fn degenerate_inputs_stay_finite() {
    // Isolated nodes (tags nobody carries), zero-weight edges, everything
    // at one point, both repulsion kernels, every force variant.
    let mut graph = random_graph(300, 80, 6, 8);
    let n = graph.node_count();
    for w in graph.adjacency_weight.iter_mut().step_by(3) {
        *w = 0.0;
    }
    let starts: [Vec<[f32; 2]>; 2] = [vec![[0.0, 0.0]; n], {
        let mut p = random_positions(n, 1);
        p[..n / 2].fill([1.0, 1.0]);
        p
    }];
    for start in &starts {
        for (bh, adjust_sizes, lin_log_mode, strong_gravity_mode) in [
            (true, false, false, false),
            (false, false, false, false),
            (true, true, true, false),
            (false, true, false, true),
        ] {
            let settings = ForceAtlas2Settings {
                barnes_hut_optimize: bh,
                adjust_sizes,
                lin_log_mode,
                strong_gravity_mode,
                edge_weight_influence: 0.5,
                ..Default::default()
            };
            let (input, _) = LayoutInput::new(&graph, vec![1.0; n], &settings);
            let mut gpu = GpuFa2::new(ctx(), &input, &settings, start).unwrap();
            let stats = gpu.run(30).unwrap();
            let p = gpu.positions().unwrap();
            assert!(all_finite(&p), "non-finite positions with {settings:?}");
            assert!(
                stats.speed.is_finite() && stats.swing.is_finite(),
                "{stats:?}"
            );
            // Coincident nodes were pulled apart.
            assert!(
                p[0] != p[1],
                "coincident nodes did not separate with {settings:?}"
            );
        }
    }
    // A single node and an empty graph.
    for size in [0usize, 1] {
        let g = random_graph(size, 0, 1, 1);
        let settings = ForceAtlas2Settings::default();
        let (input, _) = LayoutInput::new(&g, vec![], &settings);
        let mut gpu = GpuFa2::new(ctx(), &input, &settings, &vec![[3.0, 4.0]; size]).unwrap();
        gpu.run(5).unwrap();
        let p = gpu.positions().unwrap();
        assert_eq!(p.len(), size);
        assert!(all_finite(&p));
    }
}

fn bits(p: &[[f32; 2]]) -> Vec<u32> {
    p.iter()
        .flat_map(|v| [v[0].to_bits(), v[1].to_bits()])
        .collect()
}

#[test]
fn two_runs_from_one_start_are_bit_identical() {
    // Barnes–Hut on (2,000 nodes): the tree build sorts nodes into cells
    // with integer atomics, whose order varies between runs; every float sum
    // must still be taken in a fixed order.
    let data = synthetic::generate(&synthetic::SyntheticSpec::new(1000));
    let graph = &data.graph;
    let n = graph.node_count();
    let settings = ForceAtlas2Settings::for_graph(n);
    assert!(settings.barnes_hut_optimize);
    let (input, _) = LayoutInput::new(graph, vec![1.0; n], &settings);
    let start = random_positions(n, 11);
    let run = || {
        let mut gpu = GpuFa2::new(ctx(), &input, &settings, &start).unwrap();
        gpu.run(200).unwrap();
        gpu.positions().unwrap()
    };
    let first = bits(&run());
    for attempt in 1..3 {
        let again = bits(&run());
        let differ = first.iter().zip(&again).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "run {attempt}: {differ} of {} coordinates differ from the first run",
            first.len()
        );
    }
    assert_ne!(first, bits(&start), "the layout did not move");
}

#[test]
fn gpu_and_cpu_layouts_agree() {
    // Quality is compared over several starts, never one start against a
    // threshold: one start's kNN10n lands anywhere in a band ~0.02 wide.
    // Measured on lavapipe and the CPU backend (300 iterations, seeds 1–5):
    //   kNN10n  CPU 0.844–0.862 (mean 0.852), GPU 0.838–0.858 (mean 0.852)
    //   sil     CPU 0.333–0.366 (mean 0.343), GPU 0.336–0.352 (mean 0.341)
    //   common 10-NN, same start: 0.57–0.85 (mean 0.67)
    // so the means are compared with a margin of one spread (about four
    // standard errors of a difference of means), and each start only has to
    // clear a floor well below the band, which a broken kernel (≈ 0) fails.
    let data = synthetic::generate(&synthetic::SyntheticSpec::new(1000));
    let graph = &data.graph;
    let n = graph.node_count();
    let images = graph.n_images;
    let settings = ForceAtlas2Settings::for_graph(n);
    let (input, _) = LayoutInput::new(graph, vec![1.0; n], &settings);
    let iterations = 300;
    let seeds = [1u64, 2, 3, 4, 5];
    let (mut q_cpu, mut q_gpu) = (Vec::new(), Vec::new());
    let mut shares = Vec::new();
    for &seed in &seeds {
        let start = random_positions(n, seed);
        let mut cpu = CpuFa2::new(&input, &settings, start.clone());
        for _ in 0..iterations {
            cpu.step().unwrap();
        }
        let cpu_pos = cpu.positions().unwrap();
        let mut gpu = GpuFa2::new(ctx(), &input, &settings, &start).unwrap();
        gpu.run(iterations).unwrap();
        let gpu_pos = gpu.positions().unwrap();
        assert!(all_finite(&gpu_pos), "seed {seed}");
        q_cpu.push(quality::score(&cpu_pos[..images], &data.clusters));
        q_gpu.push(quality::score(&gpu_pos[..images], &data.clusters));
        shares.push(common_neighbours(&cpu_pos[..images], &gpu_pos[..images]));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let spread = |v: &[f64]| {
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - v.iter().copied().fold(f64::INFINITY, f64::min)
    };
    let field = |q: &[quality::Quality], f: fn(&quality::Quality) -> f64| -> Vec<f64> {
        q.iter().map(f).collect()
    };
    let (knn_cpu, knn_gpu) = (field(&q_cpu, |q| q.knn10n), field(&q_gpu, |q| q.knn10n));
    let (sil_cpu, sil_gpu) = (field(&q_cpu, |q| q.sil), field(&q_gpu, |q| q.sil));
    for (k, seed) in seeds.iter().enumerate() {
        eprintln!(
            "seed {seed}: kNN10n cpu {:.4} gpu {:.4}, sil cpu {:.4} gpu {:.4}, common 10-NN {:.3}",
            knn_cpu[k], knn_gpu[k], sil_cpu[k], sil_gpu[k], shares[k]
        );
    }
    eprintln!(
        "kNN10n mean cpu {:.4} gpu {:.4} (spread {:.4} / {:.4}); sil mean cpu {:.4} gpu {:.4} (spread {:.4} / {:.4})",
        mean(&knn_cpu),
        mean(&knn_gpu),
        spread(&knn_cpu),
        spread(&knn_gpu),
        mean(&sil_cpu),
        mean(&sil_gpu),
        spread(&sil_cpu),
        spread(&sil_gpu)
    );
    for k in 0..seeds.len() {
        assert!(
            knn_gpu[k] >= 0.80 && sil_gpu[k] >= 0.28,
            "seed {}: GPU layout quality {:?}",
            seeds[k],
            q_gpu[k]
        );
    }
    assert!(mean(&knn_gpu) >= 0.83, "GPU mean kNN10n {}", mean(&knn_gpu));
    assert!(
        mean(&knn_gpu) >= mean(&knn_cpu) - 0.02,
        "mean kNN10n GPU {} vs CPU {}",
        mean(&knn_gpu),
        mean(&knn_cpu)
    );
    assert!(
        mean(&sil_gpu) >= mean(&sil_cpu) - 0.03,
        "mean silhouette GPU {} vs CPU {}",
        mean(&sil_gpu),
        mean(&sil_cpu)
    );
    // Structure: each image's 10 nearest images, mostly the same in both.
    assert!(mean(&shares) >= 0.5, "share of common 10-NN {shares:?}");
}

/// Share of each image's 10 nearest images (by position) common to layouts `a` and `b`.
fn common_neighbours(a: &[[f32; 2]], b: &[[f32; 2]]) -> f64 {
    let images = a.len();
    let knn = |p: &[[f32; 2]], i: usize| -> Vec<usize> {
        let mut d: Vec<(f32, usize)> = (0..images)
            .filter(|&j| j != i)
            .map(|j| ((p[i][0] - p[j][0]).powi(2) + (p[i][1] - p[j][1]).powi(2), j))
            .collect();
        d.sort_by(|x, y| x.0.total_cmp(&y.0));
        d[..10].iter().map(|x| x.1).collect()
    };
    let mut shared = 0usize;
    for i in 0..images {
        let x = knn(a, i);
        let y = knn(b, i);
        shared += x.iter().filter(|j| y.contains(j)).count();
    }
    shared as f64 / (images * 10) as f64
}

/// RMS distance of the nodes from their centroid: the layout's extent.
fn rms_radius(p: &[[f32; 2]]) -> f64 {
    let n = p.len() as f64;
    let cx = p.iter().map(|q| f64::from(q[0])).sum::<f64>() / n;
    let cy = p.iter().map(|q| f64::from(q[1])).sum::<f64>() / n;
    (p.iter()
        .map(|q| (f64::from(q[0]) - cx).powi(2) + (f64::from(q[1]) - cy).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

#[test]
fn prevent_overlap_keeps_swing_bounded_and_the_layout_in_proportion() {
    // As the CPU test of the same name: prevent overlap switched on for a
    // laid-out 300-image map (about the demo's 1,166 nodes) with the default
    // sizes. Gephi's unbounded contact forces ran it at a swing per node in
    // the tens of millions (the viewer showed 2.8 million). Measured on
    // lavapipe: ≤ 1.7·10³, extent ×1.10, overlapping pairs 1826 → 65.
    let data = synthetic::generate(&synthetic::SyntheticSpec::new(300));
    let graph = &data.graph;
    let n = graph.node_count();
    let sizes = tagscape::layout::node_sizes(graph, &Default::default());
    let plain = ForceAtlas2Settings::for_graph(n);
    let (input, _) = LayoutInput::new(graph, sizes.clone(), &plain);
    let mut gpu = GpuFa2::new(ctx(), &input, &plain, &random_positions(n, 3)).unwrap();
    gpu.run(200).unwrap();
    let before = gpu.positions().unwrap();
    let overlap = ForceAtlas2Settings {
        adjust_sizes: true,
        ..plain
    };
    let mut gpu = GpuFa2::new(ctx(), &input, &overlap, &before).unwrap();
    gpu.run(250).unwrap();
    let mut worst = 0f64;
    for _ in 0..50 {
        worst = worst.max(f64::from(gpu.step().unwrap().swing) / n as f64);
    }
    let after = gpu.positions().unwrap();
    assert!(all_finite(&after));
    let overlaps = |p: &[[f32; 2]]| {
        let mut count = 0usize;
        for i in 0..n {
            for j in i + 1..n {
                let d = f64::from(p[i][0] - p[j][0]).hypot(f64::from(p[i][1] - p[j][1]));
                count += usize::from(d < f64::from(sizes[i] + sizes[j]));
            }
        }
        count
    };
    let growth = rms_radius(&after) / rms_radius(&before);
    let (o_before, o_after) = (overlaps(&before), overlaps(&after));
    eprintln!(
        "swing/node ≤ {worst:.0} over the last 50 iterations, extent ×{growth:.3}, overlapping pairs {o_before} → {o_after}"
    );
    assert!(worst <= 3e4, "swing per node {worst}");
    assert!((1.0..=1.6).contains(&growth), "extent ×{growth}");
    assert!(o_after * 5 <= o_before, "overlaps {o_before} → {o_after}");
}

#[test]
fn missing_adapter_is_one_clear_line() {
    // Vulkan only, with no Vulkan driver: no adapter at all. A private
    // runtime dir keeps libwayland's probe from printing its own "error:".
    let runtime = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args([
            "bench",
            "layout",
            "--images",
            "50",
            "--iterations",
            "1",
            "--backend",
            "gpu",
        ])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        errors,
        [
            "error: no GPU adapter found: install a Vulkan driver (Debian/Ubuntu: apt-get install mesa-vulkan-drivers) or use --backend cpu"
        ],
        "stderr: {stderr}"
    );
}
