//! Layout quality against a known clustering of the images, as
//! `shared/bench/fa2/quality.py` scores the peers (so figures compare):
//!
//! * `knn10`: mean share of each image's 10 nearest other images (Euclidean,
//!   layout space) that belong to its cluster; `knn10n` the same normalised
//!   by chance, (knn10 − c)/(1 − c) with c = Σ n_c(n_c − 1) / (N(N − 1));
//! * `sil`: the silhouette of the images by cluster, exact up to
//!   [`SILHOUETTE_SAMPLE`] images, above that on a fixed-seed random sample
//!   of that many.
//!
//! All are invariant to translation, rotation and uniform scaling.

use std::num::NonZero;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use rand::SeedableRng;
use rand::seq::index::sample;
use rayon::prelude::*;
use serde::Serialize;

pub const K: usize = 10;
pub const SILHOUETTE_SAMPLE: usize = 10_000;
const SAMPLE_SEED: u64 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Quality {
    pub knn10: f64,
    pub knn10n: f64,
    pub sil: f64,
}

/// Scores `positions` (one per image) against `clusters` (one per image).
/// Non-finite coordinates give NaN scores (reported, never dropped).
pub fn score(positions: &[[f32; 2]], clusters: &[u32]) -> Quality {
    assert_eq!(positions.len(), clusters.len(), "one cluster per image");
    let n = positions.len();
    let nan = Quality {
        knn10: f64::NAN,
        knn10n: f64::NAN,
        sil: f64::NAN,
    };
    if n < 2
        || positions
            .iter()
            .any(|p| !p[0].is_finite() || !p[1].is_finite())
    {
        return nan;
    }
    let knn = knn_share(positions, clusters);
    let chance = chance_share(clusters);
    let knn10n = if chance < 1.0 {
        (knn - chance) / (1.0 - chance)
    } else {
        f64::NAN
    };
    Quality {
        knn10: knn,
        knn10n,
        sil: silhouette(positions, clusters),
    }
}

/// Expected same-cluster share of a random neighbour.
fn chance_share(clusters: &[u32]) -> f64 {
    let mut counts = std::collections::HashMap::<u32, u64>::new();
    for &c in clusters {
        *counts.entry(c).or_default() += 1;
    }
    let n = clusters.len() as f64;
    counts
        .values()
        .map(|&c| c as f64 * (c as f64 - 1.0))
        .sum::<f64>()
        / (n * (n - 1.0))
}

fn knn_share(positions: &[[f32; 2]], clusters: &[u32]) -> f64 {
    let points: Vec<[f64; 2]> = positions
        .iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect();
    let Ok(tree) = ImmutableKdTree::<f64, 2>::new_from_slice(&points) else {
        return f64::NAN;
    };
    let k = K.min(points.len() - 1);
    let Some(want) = NonZero::new(k + 1) else {
        return f64::NAN;
    };
    let total: f64 = (0..points.len())
        .into_par_iter()
        .map(|i| {
            let found = tree
                .query(&points[i])
                .nearest_n::<SquaredEuclidean<f64>>(want)
                .execute();
            // Drop the image itself (by identity: duplicates may come first).
            let same = found
                .iter()
                .map(|r| r.item as usize)
                .filter(|&j| j != i)
                .take(k)
                .filter(|&j| clusters[j] == clusters[i])
                .count();
            same as f64 / k as f64
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    total / points.len() as f64
}

/// Mean silhouette (Euclidean) of the images, on a fixed sample above the cap.
fn silhouette(positions: &[[f32; 2]], clusters: &[u32]) -> f64 {
    let idx: Vec<usize> = if positions.len() > SILHOUETTE_SAMPLE {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(SAMPLE_SEED);
        let mut v = sample(&mut rng, positions.len(), SILHOUETTE_SAMPLE).into_vec();
        v.sort_unstable();
        v
    } else {
        (0..positions.len()).collect()
    };
    // Dense cluster labels over the sample.
    let mut labels: Vec<u32> = idx.iter().map(|&i| clusters[i]).collect();
    let mut distinct = labels.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return f64::NAN;
    }
    for l in &mut labels {
        *l = distinct.binary_search(l).unwrap_or(0) as u32;
    }
    let n_clusters = distinct.len();
    let mut sizes = vec![0usize; n_clusters];
    for &l in &labels {
        sizes[l as usize] += 1;
    }
    let pts: Vec<[f64; 2]> = idx
        .iter()
        .map(|&i| [f64::from(positions[i][0]), f64::from(positions[i][1])])
        .collect();
    let values: Vec<f64> = (0..pts.len())
        .into_par_iter()
        .map(|a| {
            let own = labels[a] as usize;
            if sizes[own] < 2 {
                return 0.0; // sklearn: silhouette 0 for singleton clusters
            }
            let mut sums = vec![0f64; n_clusters];
            for (b, p) in pts.iter().enumerate() {
                let (dx, dy) = (pts[a][0] - p[0], pts[a][1] - p[1]);
                sums[labels[b] as usize] += (dx * dx + dy * dy).sqrt();
            }
            let intra = sums[own] / (sizes[own] - 1) as f64;
            let nearest = (0..n_clusters)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sums[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let denom = intra.max(nearest);
            if denom > 0.0 {
                (nearest - intra) / denom
            } else {
                0.0
            }
        })
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_clusters_score_one_and_chance_is_zero_for_a_mix() {
        // Two tight clusters of 11 images far apart.
        let mut pos = Vec::new();
        let mut cl = Vec::new();
        for c in 0..2u32 {
            for i in 0..11 {
                pos.push([c as f32 * 1000.0 + i as f32 * 0.1, (i % 3) as f32 * 0.1]);
                cl.push(c);
            }
        }
        let q = score(&pos, &cl);
        assert_eq!(q.knn10, 1.0);
        assert_eq!(q.knn10n, 1.0);
        assert!(q.sil > 0.99, "{q:?}");
        // chance: 2·11·10 / (22·21) = 10/21.
        assert!((chance_share(&cl) - 10.0 / 21.0).abs() < 1e-12);
    }

    #[test]
    fn silhouette_matches_a_hand_computed_case() {
        // Points on a line: cluster 0 at 0 and 1, cluster 1 at 4.
        // a(0)=1, b(0)=4 → 0.75; a(1)=1, b(1)=3 → 2/3; singleton → 0.
        let pos = [[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]];
        let s = silhouette(&pos, &[0, 0, 1]);
        assert!((s - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-12, "{s}");
    }

    #[test]
    fn non_finite_positions_give_nan() {
        let q = score(&[[0.0, f32::NAN], [1.0, 1.0]], &[0, 1]);
        assert!(q.knn10.is_nan() && q.sil.is_nan());
    }
}
