//! `layout::map_quality` through its public API, each figure against an
//! independent computation: a raster for the two area figures, hand-computed
//! polygons for the hulls, all pairs with explicit cosine for the
//! neighbourhood.

use rand::{RngExt, SeedableRng};
use tagscape::layout::map_quality::{
    COVERED_THRESHOLD, ImageBox, MapQuality, NEIGHBOURHOOD_SAMPLE, NEIGHBOURS, map_quality,
};

fn untagged(n: usize) -> Vec<Vec<(u32, f32)>> {
    vec![Vec::new(); n]
}

/// Squares at arbitrary real positions, rasterised by pixel centres at step
/// `H`. A pixel can be misjudged only where an edge crosses it, so the area
/// of a rectilinear region measured on the raster is off by at most
/// H × its perimeter + H² per corner: the tolerances below.
#[test]
fn area_figures_agree_with_a_raster() {
    const H: f64 = 1.0 / 300.0;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
    let images: Vec<ImageBox> = (0..60)
        .map(|_| ImageBox {
            x: rng.random_range(0.0..16.0),
            y: rng.random_range(0.0..16.0),
            half: rng.random_range(0.3..1.2),
        })
        .collect();
    let q = map_quality(&images, &untagged(images.len()), &[]);

    let (ox, oy) = (-2.0, -2.0);
    let side = (20.0 / H) as usize;
    // First pixel whose centre is at or after v.
    let pixel = |v: f64, o: f64| ((v - o) / H - 0.5).ceil().max(0.0) as usize;
    let span = |b: &ImageBox| {
        (
            pixel(b.x - b.half, ox)..pixel(b.x + b.half, ox),
            pixel(b.y - b.half, oy)..pixel(b.y + b.half, oy),
        )
    };
    let mut count = vec![0u8; side * side];
    for b in &images {
        let (xs, ys) = span(b);
        for py in ys {
            for px in xs.clone() {
                count[py * side + px] += 1;
            }
        }
    }

    // Coverage.
    let frame = images
        .iter()
        .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |f, b| {
            [
                f[0].min(b.x - b.half),
                f[1].min(b.y - b.half),
                f[2].max(b.x + b.half),
                f[3].max(b.y + b.half),
            ]
        });
    let frame_area = (frame[2] - frame[0]) * (frame[3] - frame[1]);
    let filled = count.iter().filter(|&&c| c > 0).count() as f64 * H * H;
    let edges: f64 = images.iter().map(|b| 8.0 * b.half).sum();
    let tolerance = (H * edges + 4.0 * H * H * images.len() as f64) / frame_area;
    assert!(
        (q.coverage - filled / frame_area).abs() <= tolerance,
        "coverage {} vs raster {} (± {tolerance})",
        q.coverage,
        filled / frame_area
    );
    assert!(q.coverage > 0.2 && q.coverage < 0.9, "{q:?}");

    // Covered share: an image's pixel is under the others when two or more
    // squares hold it. Images whose raster fraction is within the tolerance
    // of the threshold may go either way.
    let (mut covered, mut ambiguous) = (0usize, 0usize);
    for b in &images {
        let (xs, ys) = span(b);
        let (mut under, mut all) = (0usize, 0usize);
        for py in ys {
            for px in xs.clone() {
                all += 1;
                under += usize::from(count[py * side + px] > 1);
            }
        }
        let fraction = under as f64 / all as f64;
        // The region under the others is bounded by this square's edges and
        // the others' edges clipped to it.
        let clipped: Vec<f64> = images
            .iter()
            .filter(|o| !std::ptr::eq(*o, b))
            .filter_map(|o| {
                let w = (o.x + o.half).min(b.x + b.half) - (o.x - o.half).max(b.x - b.half);
                let h = (o.y + o.half).min(b.y + b.half) - (o.y - o.half).max(b.y - b.half);
                (w > 0.0 && h > 0.0).then_some(2.0 * (w + h))
            })
            .collect();
        let own = 8.0 * b.half;
        let corners = 4.0 * ((clipped.len() + 1) * (clipped.len() + 1)) as f64;
        let error_under = H * (own + clipped.iter().sum::<f64>()) + corners * H * H;
        let error_all = H * own + 4.0 * H * H;
        let area = 4.0 * b.half * b.half;
        let tolerance = (error_under + error_all) / (area - error_all);
        if (fraction - COVERED_THRESHOLD).abs() <= tolerance {
            ambiguous += 1;
        } else if fraction > COVERED_THRESHOLD {
            covered += 1;
        }
    }
    let n = images.len() as f64;
    assert!(
        ambiguous <= 6,
        "raster too coarse for this fixture: {ambiguous}"
    );
    assert!(
        covered >= 5 && covered + ambiguous < images.len() - 5,
        "fixture should mix: {covered} covered, {ambiguous} ambiguous"
    );
    let share = q.covered_images;
    assert!(
        share >= covered as f64 / n - 1e-12 && share <= (covered + ambiguous) as f64 / n + 1e-12,
        "covered share {share} vs raster {covered} (+{ambiguous} ambiguous) of {n}"
    );
}

#[test]
fn two_squares_half_overlapping_and_one_nested() {
    // [0,2]² and [1,3]×[0,2] share half of each: union 6 in a 3×2 frame.
    let pair = [
        ImageBox {
            x: 1.0,
            y: 1.0,
            half: 1.0,
        },
        ImageBox {
            x: 2.0,
            y: 1.0,
            half: 1.0,
        },
    ];
    let q = map_quality(&pair, &untagged(2), &[]);
    assert!(
        (q.coverage - 1.0).abs() < 1e-12 && (q.covered_images - 1.0).abs() < 1e-12,
        "{q:?}"
    );
    // Add [10,18]² far right: union 6 + 64 over a frame of 18×8; the big
    // square is not covered.
    let mut three = pair.to_vec();
    three.push(ImageBox {
        x: 14.0,
        y: 4.0,
        half: 4.0,
    });
    // And a unit square inside the big one: it is, the big one (1/64) is not.
    three.push(ImageBox {
        x: 14.5,
        y: 4.5,
        half: 0.5,
    });
    let q = map_quality(&three, &untagged(4), &[]);
    assert!((q.coverage - 70.0 / 144.0).abs() < 1e-12, "{q:?}");
    assert!((q.covered_images - 0.75).abs() < 1e-12, "{q:?}");
}

#[test]
fn hull_overlap_of_two_rectangles() {
    // [0,5]×[0,2] and [3,7]×[1,4]: intersection [3,5]×[1,2] = 2; union
    // 10 + 12 − 2 = 20. The second repeats its first point, the first not.
    let hulls = vec![
        vec![[0.0, 0.0], [5.0, 0.0], [5.0, 2.0], [0.0, 2.0]],
        vec![[3.0, 1.0], [3.0, 4.0], [7.0, 4.0], [7.0, 1.0], [3.0, 1.0]],
        vec![[0.0, 0.0], [1.0, 1.0]],
    ];
    let q = map_quality(&[], &[], &hulls);
    assert!((q.hull_overlap - 0.1).abs() < 1e-12, "{q:?}");
    // Touching along an edge shares no area.
    let touching = vec![
        vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        vec![[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0]],
    ];
    assert_eq!(map_quality(&[], &[], &touching).hull_overlap, 0.0);
}

/// All pairs, explicit cosine over merged positive weights, full sorts with
/// ties by index.
fn brute_force(images: &[ImageBox], tags: &[Vec<(u32, f32)>]) -> (f64, usize) {
    use std::collections::BTreeMap;
    let vectors: Vec<BTreeMap<u32, f64>> = tags
        .iter()
        .map(|t| {
            let mut v = BTreeMap::new();
            for &(id, w) in t {
                if w > 0.0 {
                    *v.entry(id).or_insert(0.0) += f64::from(w);
                }
            }
            v
        })
        .collect();
    let tagged: Vec<usize> = (0..images.len())
        .filter(|&i| !vectors[i].is_empty())
        .collect();
    let norm: Vec<f64> = vectors
        .iter()
        .map(|v| v.values().map(|w| w * w).sum::<f64>().sqrt())
        .collect();
    let cos = |a: usize, b: usize| {
        let dot: f64 = vectors[a]
            .iter()
            .map(|(t, w)| w * vectors[b].get(t).copied().unwrap_or(0.0))
            .sum();
        dot / (norm[a] * norm[b])
    };
    let k = NEIGHBOURS.min(tagged.len() - 1);
    let mut total = 0.0;
    for &i in &tagged {
        let others: Vec<usize> = tagged.iter().copied().filter(|&j| j != i).collect();
        let mut by_map: Vec<(f64, usize)> = others
            .iter()
            .map(|&j| {
                (
                    (images[i].x - images[j].x).powi(2) + (images[i].y - images[j].y).powi(2),
                    j,
                )
            })
            .collect();
        // Cosines equal to 1e-9 tie (rounding splits parallel vectors).
        let mut by_tags: Vec<(i64, usize)> = others
            .iter()
            .map(|&j| ((cos(i, j) * 1e9).round() as i64, j))
            .collect();
        by_map.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        by_tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let near: Vec<usize> = by_map[..k].iter().map(|e| e.1).collect();
        total += by_tags[..k].iter().filter(|e| near.contains(&e.1)).count() as f64 / k as f64;
    }
    (total / tagged.len() as f64, tagged.len())
}

/// Clustered map whose tags partly follow the clusters, with a hub tag on
/// 70% of the images, untagged images, repeated positions and scaled tag
/// vectors (ties on both sides).
fn fixture(n: usize, seed: u64) -> (Vec<ImageBox>, Vec<Vec<(u32, f32)>>) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut images: Vec<ImageBox> = Vec::new();
    let mut tags: Vec<Vec<(u32, f32)>> = Vec::new();
    for i in 0..n {
        let cluster = rng.random_range(0..6u32);
        let (x, y) = if i % 9 == 8 {
            (images[i - 1].x, images[i - 1].y)
        } else {
            (
                f64::from(cluster % 3) * 10.0 + rng.random_range(-3.0..3.0),
                f64::from(cluster / 3) * 10.0 + rng.random_range(-3.0..3.0),
            )
        };
        images.push(ImageBox { x, y, half: 0.4 });
        let mut t = Vec::new();
        if i % 11 == 10 {
            // untagged
        } else if i % 8 == 7 {
            // The previous vector, scaled: parallel, so equal cosines.
            t = tags[i - 1].iter().map(|&(id, w)| (id, 3.0 * w)).collect();
        } else {
            if rng.random_bool(0.7) {
                t.push((900, rng.random_range(0.2..1.0)));
            }
            if rng.random_bool(0.6) {
                t.push((cluster, rng.random_range(0.2..1.0)));
            }
            for _ in 0..rng.random_range(0..3) {
                t.push((rng.random_range(10..40), rng.random_range(0.2..1.0)));
            }
            if rng.random_bool(0.1) {
                t.push((5000, 0.0)); // a zero weight carries nothing
            }
        }
        tags.push(t);
    }
    (images, tags)
}

#[test]
fn neighbourhood_agrees_with_brute_force() {
    let (images, tags) = fixture(240, 2);
    let q = map_quality(&images, &tags, &[]);
    let (want, tagged) = brute_force(&images, &tags);
    assert_eq!(q.neighbourhood_sample, tagged);
    assert_eq!(q.neighbourhood_k, NEIGHBOURS);
    let got = q.neighbourhood.expect("tagged images");
    assert!((got - want).abs() < 1e-12, "{got} vs brute force {want}");
    assert!(
        want > 0.05 && want < 0.95,
        "fixture should be neither: {want}"
    );
}

#[test]
fn few_tagged_images_shrink_k_and_none_gives_none() {
    let images: Vec<ImageBox> = (0..4)
        .map(|i| ImageBox {
            x: f64::from(i),
            y: 0.0,
            half: 0.1,
        })
        .collect();
    // Three tagged images: k = 2, so each image's 2 others are both lists.
    let tags = vec![vec![(1, 1.0)], vec![(2, 1.0)], vec![], vec![(1, 1.0)]];
    let q = map_quality(&images, &tags, &[]);
    assert_eq!(
        (q.neighbourhood, q.neighbourhood_k, q.neighbourhood_sample),
        (Some(1.0), 2, 3)
    );
    let one = vec![vec![], vec![(2, 1.0)], vec![], vec![]];
    let q = map_quality(&images, &one, &[]);
    assert_eq!(
        (q.neighbourhood, q.neighbourhood_k, q.neighbourhood_sample),
        (None, 0, 0)
    );
    assert!(q.to_string().contains("neighbourhood agreement n/a"), "{q}");
}

#[test]
fn large_maps_are_sampled_deterministically() {
    let (images, tags) = fixture(NEIGHBOURHOOD_SAMPLE + 400, 4);
    let a = map_quality(&images, &tags, &[]);
    let b = map_quality(&images, &tags, &[]);
    assert_eq!(a, b);
    assert_eq!(a.neighbourhood_sample, NEIGHBOURHOOD_SAMPLE);
    // The sample mean stays near the exact mean over all images.
    let (all, _) = brute_force(&images, &tags);
    let got = a.neighbourhood.unwrap();
    assert!((got - all).abs() < 0.05, "sample {got} vs all {all}");
}

#[test]
fn serialises_without_nan() {
    let q = map_quality(&[], &[], &[]);
    let json = serde_json::to_string(&q).unwrap();
    let back: MapQuality = serde_json::from_str(&json).unwrap();
    assert_eq!(back, q);
    assert!(
        !json.contains("NaN") && json.contains("\"neighbourhood\":null"),
        "{json}"
    );
}
