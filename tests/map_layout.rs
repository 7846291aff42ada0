//! The map (the default layout): components packed, clusters as regions,
//! images that never cover each other, on graphs shaped as real
//! collections are, not only on the planted ones.

#[path = "support/cli.rs"]
mod cli;
use cli::tagscape_ok;

use std::sync::atomic::AtomicBool;

use geo::{Area, BooleanOps, Contains, Point};
use tagscape::cluster::ClusterSettings;
use tagscape::graph::{Edge, Graph, Node, NodeKind};
use tagscape::layout::{
    BackendKind, ForceAtlas2Settings, LayoutSettings, Placement, detected_groups, lay_out_map,
    lay_out_plain, quality, random_positions, synthetic,
};

fn node(kind: NodeKind, id: String) -> Node {
    Node {
        kind,
        label: id.clone(),
        id,
        image_id: None,
        frequency: 1,
    }
}

fn settings(n: usize, iterations: u32) -> LayoutSettings {
    LayoutSettings {
        fa2: ForceAtlas2Settings::for_graph(n),
        iterations,
        ..Default::default()
    }
}

fn map_of(graph: &Graph, iterations: u32, seed: u64) -> (Vec<Placement>, Vec<Option<u32>>) {
    let (groups, clusters) = detected_groups(graph, &ClusterSettings::default()).unwrap();
    let mut s = settings(graph.node_count(), iterations);
    s.seed = seed;
    let start = random_positions(graph.node_count(), seed);
    let (placed, _) = lay_out_map(
        graph,
        &groups,
        clusters,
        &s,
        BackendKind::Cpu,
        start,
        &AtomicBool::new(false),
    )
    .unwrap();
    (placed, groups)
}

/// 30 tagged components — a big one (150 images on 12 tags), 19 small ones
/// of 2 to 6 images on their own tags, 10 single images with a tag of
/// their own — and 40 images with no tag at all.
fn many_components() -> Graph {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut tags: Vec<(String, Vec<u32>)> = Vec::new();
    let mut image = 0u32;
    let mut add_component =
        |images: u32, tag_count: u32, name: &str, tags: &mut Vec<(String, Vec<u32>)>| {
            // Every image carries the component's first tag (so it is one
            // component); image k also carries tag 1 + k mod (tag_count − 1).
            let first = image;
            image += images;
            for t in 0..tag_count {
                let carriers = (first..first + images)
                    .filter(|i| t == 0 || 1 + (i - first) % (tag_count - 1) == t)
                    .collect();
                tags.push((format!("{name}-t{t}"), carriers));
            }
        };
    add_component(150, 12, "big", &mut tags);
    for c in 0..19 {
        add_component(2 + c % 5, 2, &format!("small{c}"), &mut tags);
    }
    for c in 0..10 {
        add_component(1, 1, &format!("single{c}"), &mut tags);
    }
    let tagged = image;
    let images = tagged + 40;
    for i in 0..images {
        nodes.push(node(NodeKind::Image, format!("img{i}")));
    }
    for (k, (name, carriers)) in tags.iter().enumerate() {
        nodes.push(node(NodeKind::Tag, name.clone()));
        for &i in carriers {
            edges.push(Edge {
                source: i,
                target: images + k as u32,
                weight: 0.9,
            });
        }
    }
    edges.sort_by_key(|e| (e.source, e.target));
    edges.dedup_by_key(|e| (e.source, e.target));
    Graph::new(nodes, images as usize, edges)
}

/// Share of the image squares covered by more than 30% by other images,
/// by brute force over pairs (the fixtures are small): the sum of pairwise
/// intersections bounds the covered area from above, so this count can
/// only over-report.
fn covered_share(placed: &[Placement], images: usize) -> f64 {
    let mut covered = 0;
    for i in 0..images {
        let a = placed[i];
        let mut area = 0.0f64;
        for (j, b) in placed[..images].iter().enumerate() {
            if j == i {
                continue;
            }
            let ox = (a.size + b.size - (a.x - b.x).abs())
                .min(2.0 * a.size)
                .max(0.0);
            let oy = (a.size + b.size - (a.y - b.y).abs())
                .min(2.0 * a.size)
                .max(0.0);
            area += f64::from(ox * oy);
        }
        if area > 0.3 * f64::from(4.0 * a.size * a.size) {
            covered += 1;
        }
    }
    covered as f64 / images as f64
}

#[test]
fn components_and_isolated_images_pack_around_the_largest_one() {
    let g = many_components();
    let (a, _) = map_of(&g, 200, 5);
    let (b, _) = map_of(&g, 200, 5);
    assert_eq!(a, b, "same seed, same map");
    let n = g.n_images;
    // A bounded packing: every node inside a circle whose area is a small
    // multiple of the images' own area (plain ForceAtlas2 flings small
    // components and isolated images far away).
    let area: f32 = a[..n].iter().map(|p| 4.0 * p.size * p.size).sum();
    let (cx, cy) = (
        a[..n].iter().map(|p| p.x).sum::<f32>() / n as f32,
        a[..n].iter().map(|p| p.y).sum::<f32>() / n as f32,
    );
    let bound = (8.0 * area / std::f32::consts::PI).sqrt();
    for (i, p) in a.iter().enumerate() {
        let r = (p.x - cx).hypot(p.y - cy);
        assert!(
            r < bound,
            "node {i} at {r:.0} from the centre, bound {bound:.0}"
        );
    }
    assert_eq!(covered_share(&a, n), 0.0);
    // The 40 untagged images form one block: a grid right of everything else.
    let untagged: Vec<&Placement> = (0..n)
        .filter(|&i| g.degree(i) == 0)
        .map(|i| &a[i])
        .collect();
    assert_eq!(untagged.len(), 40);
    let rest_right = (0..g.node_count())
        .filter(|&i| i >= n || g.degree(i) > 0)
        .map(|i| a[i].x + a[i].size)
        .fold(f32::MIN, f32::max);
    assert!(untagged.iter().all(|p| p.x - p.size > rest_right));
    let xs: std::collections::BTreeSet<i64> = untagged.iter().map(|p| p.x.round() as i64).collect();
    assert_eq!(xs.len(), 7, "a 7-column grid for 40 images: {xs:?}");
}

#[test]
fn planted_clusters_become_separate_regions_that_read_better_than_plain() {
    let data = synthetic::generate(&synthetic::SyntheticSpec::new(1000));
    let g = &data.graph;
    let n = g.node_count();
    let iterations = 300;
    let (map, groups) = map_of(g, iterations, 42);
    let s = LayoutSettings {
        plain: true,
        size: tagscape::layout::SizeSettings::gephi(),
        ..settings(n, iterations)
    };
    let (plain, _) = lay_out_plain(
        g,
        &s,
        BackendKind::Cpu,
        random_positions(n, 42),
        &AtomicBool::new(false),
    )
    .unwrap();
    let images =
        |p: &[Placement]| -> Vec<[f32; 2]> { p[..g.n_images].iter().map(|q| [q.x, q.y]).collect() };
    let q_map = quality::score(&images(&map), &data.clusters);
    let q_plain = quality::score(&images(&plain), &data.clusters);
    eprintln!(
        "planted kNN10n: map {:.3}, plain {:.3}",
        q_map.knn10n, q_plain.knn10n
    );
    assert!(
        q_map.knn10n >= q_plain.knn10n,
        "map {q_map:?} vs plain {q_plain:?}"
    );

    // Hulls of the drawn clusters, as `tagscape cluster` draws them.
    let clusters = groups.iter().flatten().max().map_or(0, |&c| c as usize + 1);
    let hulls: Vec<tagscape::cluster::hulls::Hull> = (0..clusters as u32)
        .map(|c| {
            let members: Vec<_> = (0..g.n_images)
                .filter(|&i| groups[i] == Some(c))
                .map(|i| tagscape::cluster::hulls::Member {
                    x: f64::from(map[i].x),
                    y: f64::from(map[i].y),
                    size: f64::from(map[i].size),
                })
                .collect();
            tagscape::cluster::hulls::hull(&members).unwrap()
        })
        .collect();
    assert!(clusters >= 15, "{clusters} clusters");
    let union = hulls
        .iter()
        .fold(geo::MultiPolygon::new(vec![]), |u, h| u.union(&h.polygon));
    let mut intersections = 0.0;
    for a in 0..hulls.len() {
        for b in a + 1..hulls.len() {
            intersections += hulls[a]
                .polygon
                .intersection(&hulls[b].polygon)
                .unsigned_area();
        }
    }
    let share = intersections / union.unsigned_area();
    assert!(
        share <= 0.05,
        "hull intersections {share:.3} of their union"
    );
    // Each label lies inside its own cluster's hull and no other.
    for (c, h) in hulls.iter().enumerate() {
        let at = Point::new(h.label_at[0], h.label_at[1]);
        assert!(
            h.polygon.contains(&at),
            "label of cluster {c} outside its hull"
        );
        for (d, other) in hulls.iter().enumerate() {
            assert!(
                d == c || !other.polygon.contains(&at),
                "label of {c} inside {d}"
            );
        }
    }
    assert!(covered_share(&map, g.n_images) <= 0.05);
}

#[test]
fn overlap_removal_clears_a_pile_and_keeps_neighbourhoods() {
    use tagscape::layout::map::overlap::{Shape, remove_overlaps};
    // 1,000 images of half-size 10 thrown into a square where they cover
    // each other many times over.
    let start = random_positions(1000, 9);
    let mut p: Vec<[f64; 2]> = start
        .iter()
        .map(|q| [f64::from(q[0]) * 8.0, f64::from(q[1]) * 8.0])
        .collect();
    let before = p.clone();
    let half = vec![10.0; 1000];
    let removal = remove_overlaps(&mut p, &half, 1.0, Shape::Square);
    assert!(removal.overlaps_before > 1000, "{removal:?}");
    let placed: Vec<Placement> = p
        .iter()
        .map(|q| Placement {
            x: q[0] as f32,
            y: q[1] as f32,
            size: 10.0,
        })
        .collect();
    assert_eq!(covered_share(&placed, 1000), 0.0);
    let knn = |pts: &[[f64; 2]], i: usize| -> Vec<usize> {
        let mut d: Vec<(f64, usize)> = (0..pts.len())
            .filter(|&j| j != i)
            .map(|j| ((pts[i][0] - pts[j][0]).hypot(pts[i][1] - pts[j][1]), j))
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0));
        d[..10].iter().map(|x| x.1).collect()
    };
    let kept: usize = (0..1000)
        .map(|i| {
            let a = knn(&before, i);
            knn(&p, i).iter().filter(|j| a.contains(j)).count()
        })
        .sum();
    let share = kept as f64 / 10_000.0;
    eprintln!("10 nearest neighbours kept through overlap removal: {share:.3}");
    assert!(
        share >= 0.5,
        "only {share:.3} of the 10 nearest neighbours kept"
    );
}

#[test]
fn no_edges_give_a_grid_and_one_image_a_one_image_map() {
    let g = Graph::new(
        (0..9)
            .map(|i| node(NodeKind::Image, format!("img{i}")))
            .collect(),
        9,
        vec![],
    );
    let (p, _) = map_of(&g, 50, 1);
    let xs: std::collections::BTreeSet<i64> = p.iter().map(|q| q.x.round() as i64).collect();
    let ys: std::collections::BTreeSet<i64> = p.iter().map(|q| q.y.round() as i64).collect();
    assert_eq!((xs.len(), ys.len()), (3, 3), "a 3×3 grid: {p:?}");
    assert_eq!(covered_share(&p, 9), 0.0);

    let one = Graph::new(
        vec![
            node(NodeKind::Image, "a".into()),
            node(NodeKind::Tag, "t".into()),
        ],
        1,
        vec![Edge {
            source: 0,
            target: 1,
            weight: 1.0,
        }],
    );
    let (p, _) = map_of(&one, 50, 1);
    assert!(p.iter().all(|q| q.x.is_finite() && q.y.is_finite()));
    assert!(
        p[0].size > p[1].size,
        "the image is drawn larger than its tag dot"
    );
}

#[test]
fn keyword_shaped_collections_fill_the_picture() {
    // The shape that failed as plain ForceAtlas2: most tags used once, a hub
    // tag, a dense block and five untagged images.
    let data = synthetic::keywords(1000, 3);
    let g = &data.graph;
    let (p, _) = map_of(g, 200, 42);
    let n = g.n_images;
    assert!(covered_share(&p, n) <= 0.05);
    // The images' squares fill a good share of their bounding box (plain
    // ForceAtlas2 left 0.1% of the picture covered).
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for q in &p[..n] {
        lo = [lo[0].min(q.x - q.size), lo[1].min(q.y - q.size)];
        hi = [hi[0].max(q.x + q.size), hi[1].max(q.y + q.size)];
    }
    let frame = f64::from((hi[0] - lo[0]) * (hi[1] - lo[1]));
    let images: f64 = p[..n]
        .iter()
        .map(|q| f64::from(4.0 * q.size * q.size))
        .sum();
    eprintln!("images' squares: {:.3} of the frame", images / frame);
    assert!(
        images / frame >= 0.25,
        "images fill {:.3} of the frame",
        images / frame
    );
}

/// A project at `dir/p` holding a keyword-shaped graph of 600 images (five
/// untagged, many single-image components), without thumbnails.
fn keyword_project(dir: &std::path::Path) -> std::path::PathBuf {
    let proj = dir.join("p");
    let mut project = tagscape::project::Project::init(&proj).unwrap();
    synthetic::keywords(600, 8)
        .graph
        .save(&mut project)
        .unwrap();
    proj
}

#[test]
fn the_default_png_frames_the_images_of_a_collection_with_outliers() {
    // Keyword tags, five untagged images and many single-image components:
    // as plain ForceAtlas2 this export was 0.1% ink. Images have no
    // thumbnails here, so each is drawn as a grey square.
    let dir = tempfile::tempdir().unwrap();
    let proj = keyword_project(dir.path());
    let p = proj.to_str().unwrap();
    let out = tagscape_ok(&["layout", p, "--backend", "cpu", "--iterations", "100"]);
    assert!(out.contains("map quality: images cover"), "{out}");
    assert!(out.contains("5 untagged images in a grid"), "{out}");
    let png = dir.path().join("map.png");
    tagscape_ok(&[
        "export",
        p,
        "--format",
        "png",
        "--width",
        "800",
        "--out",
        png.to_str().unwrap(),
    ]);
    let img = image::open(&png).unwrap().into_rgb8();
    let ink = img
        .pixels()
        .filter(|px| px.0.iter().any(|&c| c < 240))
        .count();
    let share = ink as f64 / f64::from(img.width() * img.height());
    eprintln!("non-white pixels: {share:.3}");
    assert!(share >= 0.2, "only {share:.3} of the picture is not white");

    // --undo brings the map back after a plain layout replaced it, with its
    // hulls and quality figures measured again.
    let positions = || {
        let project =
            tagscape::project::Project::open(&proj, tagscape::project::Access::Read).unwrap();
        let graph = Graph::load(&project).unwrap();
        tagscape::layout::load_positions(&project, &graph)
            .unwrap()
            .unwrap()
    };
    let map = positions();
    tagscape_ok(&[
        "layout",
        p,
        "--backend",
        "cpu",
        "--plain",
        "--iterations",
        "20",
    ]);
    assert_ne!(positions(), map);
    let undone = tagscape_ok(&["layout", p, "--undo"]);
    assert!(undone.contains("map quality: images cover"), "{undone}");
    assert_eq!(positions(), map);
}

#[test]
fn every_cluster_label_is_drawn_or_the_summary_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let proj = keyword_project(dir.path());
    let p = proj.to_str().unwrap();
    tagscape_ok(&["cluster", p]);
    tagscape_ok(&["layout", p, "--backend", "cpu", "--iterations", "100"]);
    let export = |width: &str| {
        let png = dir.path().join(format!("map-{width}.png"));
        tagscape_ok(&[
            "export",
            p,
            "--format",
            "png",
            "--width",
            width,
            "--hulls",
            "--labels",
            "--out",
            png.to_str().unwrap(),
        ])
    };
    // A picture of a screen's width names every drawn cluster.
    let out = export("1600");
    assert!(out.contains("cluster labels drawn"), "{out}");
    assert!(
        out.contains("; all ") && !out.contains("no room"),
        "labels dropped at 1600 px: {out}"
    );
    // A thumbnail-sized picture cannot: the summary names those left out
    // and says what to do.
    let out = export("200");
    assert!(out.contains("no room in their region for \""), "{out}");
    assert!(out.contains("export wider (e.g. --width 400)"), "{out}");
}
