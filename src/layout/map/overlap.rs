//! Overlap removal: squares (the images and tag dots of one region) and
//! discs (the regions themselves) pushed apart until none covers another.
//!
//! Each pass finds the overlapping pairs by sweep and prune (boxes sorted by
//! their left edge), then moves both members of every pair apart by the
//! overlap, the larger one less (weights by area), as Noverlap and PRISM do
//! after a force layout: a pair separates along the axis of least
//! penetration for squares, along the line of centres for discs, so the
//! layout's neighbourhoods stay where they were. Displacements are summed in
//! pair order and applied together (Jacobi), so the result does not depend on
//! thread scheduling. Passes that still leave overlaps after
//! [`PASSES_BEFORE_SPREAD`] also spread the whole set a little about its
//! centroid, which always ends in a set without overlaps.

use crate::layout::coincident_direction;

/// Passes of pure pushing before the set is also spread out.
pub const PASSES_BEFORE_SPREAD: usize = 60;
/// Factor of the spread per pass once pushing alone does not finish.
const SPREAD: f64 = 1.02;
/// Never more passes than this (spreading ends every case long before).
const MAX_PASSES: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// Axis-aligned square of half-side `half`.
    Square,
    /// Disc of radius `half`.
    Disc,
}

/// What a removal did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Removal {
    pub passes: usize,
    /// Overlapping pairs before the first pass.
    pub overlaps_before: usize,
}

/// Moves `positions` until no two shapes of half-size `half[i]` plus `gap`
/// (the free space kept between two neighbours) overlap.
pub fn remove_overlaps(
    positions: &mut [[f64; 2]],
    half: &[f64],
    gap: f64,
    shape: Shape,
) -> Removal {
    assert_eq!(positions.len(), half.len(), "one size per position");
    let n = positions.len();
    let mut removal = Removal::default();
    if n < 2 {
        return removal;
    }
    let extent: Vec<f64> = half.iter().map(|h| h.max(0.0) + gap / 2.0).collect();
    let weight: Vec<f64> = extent.iter().map(|e| e * e + 1e-12).collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut shift = vec![[0.0f64; 2]; n];
    for pass in 0..MAX_PASSES {
        let pairs = overlapping_pairs(positions, &extent, shape, &mut order);
        if pass == 0 {
            removal.overlaps_before = pairs.len();
        }
        if pairs.is_empty() {
            removal.passes = pass;
            return removal;
        }
        shift.iter_mut().for_each(|s| *s = [0.0; 2]);
        for &(i, j) in &pairs {
            let push = separation(i, j, positions, &extent, shape);
            let share_i = weight[j] / (weight[i] + weight[j]);
            let share_j = 1.0 - share_i;
            shift[i][0] -= push[0] * share_i;
            shift[i][1] -= push[1] * share_i;
            shift[j][0] += push[0] * share_j;
            shift[j][1] += push[1] * share_j;
        }
        for (p, s) in positions.iter_mut().zip(&shift) {
            p[0] += s[0];
            p[1] += s[1];
        }
        if pass >= PASSES_BEFORE_SPREAD {
            spread(positions, SPREAD);
        }
    }
    removal.passes = MAX_PASSES;
    removal
}

/// Pairs (i < j) whose shapes overlap, found by sweep and prune on x.
fn overlapping_pairs(
    positions: &[[f64; 2]],
    extent: &[f64],
    shape: Shape,
    order: &mut [usize],
) -> Vec<(usize, usize)> {
    order.sort_by(|&a, &b| {
        (positions[a][0] - extent[a])
            .total_cmp(&(positions[b][0] - extent[b]))
            .then(a.cmp(&b))
    });
    let mut pairs = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let right = positions[i][0] + extent[i];
        for &j in &order[k + 1..] {
            if positions[j][0] - extent[j] >= right {
                break;
            }
            if overlaps(i, j, positions, extent, shape) {
                pairs.push((i.min(j), i.max(j)));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

fn overlaps(i: usize, j: usize, p: &[[f64; 2]], extent: &[f64], shape: Shape) -> bool {
    let reach = extent[i] + extent[j];
    let dx = p[j][0] - p[i][0];
    let dy = p[j][1] - p[i][1];
    match shape {
        Shape::Square => dx.abs() < reach && dy.abs() < reach,
        Shape::Disc => dx * dx + dy * dy < reach * reach,
    }
}

/// The vector by which j must move away from i (i the other way) to touch.
fn separation(i: usize, j: usize, p: &[[f64; 2]], extent: &[f64], shape: Shape) -> [f64; 2] {
    let reach = extent[i] + extent[j];
    let dx = p[j][0] - p[i][0];
    let dy = p[j][1] - p[i][1];
    let (ux, uy) = if dx == 0.0 && dy == 0.0 {
        let d = coincident_direction(j, i);
        (f64::from(d[0]), f64::from(d[1]))
    } else {
        (dx, dy)
    };
    match shape {
        Shape::Square => {
            let ox = reach - dx.abs();
            let oy = reach - dy.abs();
            // Along the axis that needs the shorter move; a tiny margin so
            // the pair does not stay exactly touching through rounding.
            if ox <= oy {
                [ox.copysign(ux) * (1.0 + 1e-9), 0.0]
            } else {
                [0.0, oy.copysign(uy) * (1.0 + 1e-9)]
            }
        }
        Shape::Disc => {
            let d = (ux * ux + uy * uy).sqrt();
            let depth = reach - (dx * dx + dy * dy).sqrt();
            [ux / d * depth * (1.0 + 1e-9), uy / d * depth * (1.0 + 1e-9)]
        }
    }
}

/// Scales positions by `factor` about their centroid.
fn spread(positions: &mut [[f64; 2]], factor: f64) {
    let n = positions.len() as f64;
    let cx = positions.iter().map(|p| p[0]).sum::<f64>() / n;
    let cy = positions.iter().map(|p| p[1]).sum::<f64>() / n;
    for p in positions {
        p[0] = cx + (p[0] - cx) * factor;
        p[1] = cy + (p[1] - cy) * factor;
    }
}

/// Overlapping pairs of `positions` with `half` sizes and `gap` (for tests
/// and the map's own check).
pub fn count_overlaps(positions: &[[f64; 2]], half: &[f64], gap: f64, shape: Shape) -> usize {
    let extent: Vec<f64> = half.iter().map(|h| h.max(0.0) + gap / 2.0).collect();
    let mut order: Vec<usize> = (0..positions.len()).collect();
    overlapping_pairs(positions, &extent, shape, &mut order).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force_overlaps(p: &[[f64; 2]], half: &[f64], shape: Shape) -> usize {
        let mut n = 0;
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let dx = (p[i][0] - p[j][0]).abs();
                let dy = (p[i][1] - p[j][1]).abs();
                let r = half[i] + half[j];
                let hit = match shape {
                    Shape::Square => dx < r && dy < r,
                    Shape::Disc => dx * dx + dy * dy < r * r,
                };
                n += usize::from(hit);
            }
        }
        n
    }

    fn lcg_points(n: usize, spread: f64, seed: u64) -> Vec<[f64; 2]> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * spread
        };
        (0..n).map(|_| [next(), next()]).collect()
    }

    #[test]
    fn sweep_finds_exactly_the_brute_force_pairs() {
        let p = lcg_points(400, 100.0, 7);
        let half: Vec<f64> = (0..400).map(|i| 1.0 + (i % 5) as f64).collect();
        for shape in [Shape::Square, Shape::Disc] {
            assert_eq!(
                count_overlaps(&p, &half, 0.0, shape),
                brute_force_overlaps(&p, &half, shape)
            );
        }
    }

    #[test]
    fn a_dense_pile_ends_without_overlaps_and_keeps_its_order() {
        let mut p = lcg_points(500, 30.0, 3);
        let before = p.clone();
        let half = vec![1.0; 500];
        let r = remove_overlaps(&mut p, &half, 0.1, Shape::Square);
        assert!(r.overlaps_before > 100, "{r:?}");
        assert_eq!(brute_force_overlaps(&p, &vec![1.05; 500], Shape::Square), 0);
        // Left-to-right order mostly kept: of pairs well apart in x before,
        // almost none swap.
        let mut kept = 0;
        let mut total = 0;
        for i in 0..500 {
            for j in 0..500 {
                if before[j][0] - before[i][0] > 5.0 {
                    total += 1;
                    kept += usize::from(p[j][0] > p[i][0]);
                }
            }
        }
        assert!(kept as f64 / total as f64 > 0.95, "{kept}/{total}");
    }

    #[test]
    fn coincident_discs_separate_deterministically() {
        let mut a = vec![[5.0, 5.0]; 6];
        let mut b = a.clone();
        let half = [1.0, 2.0, 1.0, 3.0, 1.0, 1.0];
        remove_overlaps(&mut a, &half, 0.0, Shape::Disc);
        remove_overlaps(&mut b, &half, 0.0, Shape::Disc);
        assert_eq!(a, b);
        assert_eq!(brute_force_overlaps(&a, &half, Shape::Disc), 0);
    }
}
