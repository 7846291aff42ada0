//! Where each region goes: regions are rigid sets of image squares, pulled
//! towards the regions they share tags with and towards the centre, and
//! never overlapping another region's squares.
//!
//! The start is a ForceAtlas2 layout of the region graph (one node per
//! region, edges weighted by the tags they share), so related regions start
//! side by side, separated as discs (their footprints). Then rounds of
//! compaction: every region moves a step towards the weighted centre of its
//! neighbours and towards the centre of the map, as far as it can go
//! without any of its squares meeting another region's, so an elongated
//! region can sit in another's hollow. Regions with nothing in common with the rest
//! (other components of the network) are pulled only towards the centre,
//! so they pack around the largest region instead of drifting away, whatever
//! ForceAtlas2's gravity.

use crate::layout::map::overlap::{Shape, remove_overlaps};
use crate::layout::{CpuFa2, Fa2Backend, ForceAtlas2Settings, LayoutInput, random_positions};

/// Compaction rounds.
const ROUNDS: usize = 120;
/// Step towards the neighbours' weighted centre, per round.
const PULL: f64 = 0.15;
/// Step towards the map's centre, per round.
const GRAVITY: f64 = 0.08;
/// The directions a compaction step tries, as (cos, sin) of the turn: 0°,
/// ±30°, ±60°.
const TURNS: [(f64, f64); 5] = [
    (1.0, 0.0),
    (0.866_025_403_784_438_6, 0.5),
    (0.866_025_403_784_438_6, -0.5),
    (0.5, 0.866_025_403_784_438_6),
    (0.5, -0.866_025_403_784_438_6),
];
/// ForceAtlas2 iterations of the region graph.
const START_ITERATIONS: usize = 300;

/// The squares of one region relative to its centre: (offset, half-side).
pub type Squares = Vec<([f64; 2], f64)>;

/// Centres for regions of `squares`, inside discs of radius `radius`, the
/// squares of different regions kept `gap` apart. `affinity` lists
/// (a, b, weight) with a < b.
pub fn arrange(
    squares: &[Squares],
    radius: &[f64],
    affinity: &[(u32, u32, f64)],
    gap: f64,
    seed: u64,
) -> Vec<[f64; 2]> {
    let m = radius.len();
    match m {
        0 => return Vec::new(),
        1 => return vec![[0.0, 0.0]],
        _ => {}
    }
    let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
    for &(a, b, w) in affinity {
        neighbours[a as usize].push((b as usize, w));
        neighbours[b as usize].push((a as usize, w));
    }
    let mut p = start_positions(&neighbours, radius, seed);
    // Centre on the largest region: the map grows around it.
    let largest = (0..m)
        .max_by(|&a, &b| radius[a].total_cmp(&radius[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    let origin = p[largest];
    for q in &mut p {
        q[0] -= origin[0];
        q[1] -= origin[1];
    }
    remove_overlaps(&mut p, radius, gap, Shape::Disc);
    // Compaction, one region at a time (each sees the others' latest
    // places): the step is taken whole, or halved until it collides with no
    // other region; regions never overlap at any point.
    let mut grid = SquareGrid::new(squares, &p, gap);
    for _ in 0..ROUNDS {
        for u in 0..m {
            let total: f64 = neighbours[u].iter().map(|&(_, w)| w).sum();
            let mut step = [-GRAVITY * p[u][0], -GRAVITY * p[u][1]];
            if total > 0.0 {
                let (mut cx, mut cy) = (0.0, 0.0);
                for &(v, w) in &neighbours[u] {
                    cx += p[v][0] * w / total;
                    cy += p[v][1] * w / total;
                }
                step[0] += PULL * (cx - p[u][0]);
                step[1] += PULL * (cy - p[u][1]);
            }
            // Straight on, else sliding past what blocks the way (turned
            // up to 60°, still getting closer), each whole or shortened.
            'moves: for fraction in [1.0, 0.5, 0.25, 0.125] {
                for (cos, sin) in TURNS {
                    let d = [
                        (step[0] * cos - step[1] * sin) * fraction,
                        (step[0] * sin + step[1] * cos) * fraction,
                    ];
                    let to = [p[u][0] + d[0], p[u][1] + d[1]];
                    if !grid.collides(u, to, &p) {
                        grid.remove(u, p[u]);
                        p[u] = to;
                        grid.insert(u, to);
                        break 'moves;
                    }
                }
            }
        }
    }
    p
}

/// Every square of every region in a uniform grid, to test a region's move
/// against the others' squares.
struct SquareGrid {
    cell: f64,
    cells: std::collections::HashMap<(i64, i64), Vec<u32>>,
    /// Per square: its region, offset from the region's centre, extent
    /// (half-side plus half the gap).
    owner: Vec<u32>,
    offset: Vec<[f64; 2]>,
    extent: Vec<f64>,
    /// Per region: its squares.
    of_region: Vec<std::ops::Range<usize>>,
}

impl SquareGrid {
    fn new(squares: &[Squares], centres: &[[f64; 2]], gap: f64) -> SquareGrid {
        let mut grid = SquareGrid {
            cell: 1.0,
            cells: Default::default(),
            owner: Vec::new(),
            offset: Vec::new(),
            extent: Vec::new(),
            of_region: Vec::new(),
        };
        for (r, list) in squares.iter().enumerate() {
            let first = grid.owner.len();
            for &(q, h) in list {
                grid.owner.push(r as u32);
                grid.offset.push(q);
                grid.extent.push(h.max(0.0) + gap / 2.0);
            }
            grid.of_region.push(first..grid.owner.len());
        }
        // Two of the largest extents: a square's overlaps lie in the 3×3
        // cells around its own.
        grid.cell = 2.0 * grid.extent.iter().copied().fold(1e-9, f64::max);
        for (r, c) in centres.iter().enumerate() {
            grid.insert(r, *c);
        }
        grid
    }

    fn key(&self, p: [f64; 2]) -> (i64, i64) {
        (
            (p[0] / self.cell).floor() as i64,
            (p[1] / self.cell).floor() as i64,
        )
    }

    fn insert(&mut self, region: usize, centre: [f64; 2]) {
        for s in self.of_region[region].clone() {
            let at = [centre[0] + self.offset[s][0], centre[1] + self.offset[s][1]];
            self.cells.entry(self.key(at)).or_default().push(s as u32);
        }
    }

    fn remove(&mut self, region: usize, centre: [f64; 2]) {
        for s in self.of_region[region].clone() {
            let at = [centre[0] + self.offset[s][0], centre[1] + self.offset[s][1]];
            let key = self.key(at);
            if let Some(list) = self.cells.get_mut(&key) {
                list.retain(|&t| t != s as u32);
            }
        }
    }

    /// Whether `region` centred at `centre` would overlap another region.
    fn collides(&self, region: usize, centre: [f64; 2], centres: &[[f64; 2]]) -> bool {
        self.of_region[region].clone().any(|s| {
            let at = [centre[0] + self.offset[s][0], centre[1] + self.offset[s][1]];
            let (kx, ky) = self.key(at);
            (kx - 1..=kx + 1).any(|x| {
                (ky - 1..=ky + 1).any(|y| {
                    self.cells.get(&(x, y)).is_some_and(|list| {
                        list.iter().any(|&t| {
                            let t = t as usize;
                            let other = self.owner[t] as usize;
                            if other == region {
                                return false;
                            }
                            let c = centres[other];
                            let reach = self.extent[s] + self.extent[t];
                            (c[0] + self.offset[t][0] - at[0]).abs() < reach
                                && (c[1] + self.offset[t][1] - at[1]).abs() < reach
                        })
                    })
                })
            })
        })
    }
}

/// ForceAtlas2 (Gephi's settings) on the region graph, scaled so that linked
/// regions start about one footprint apart.
fn start_positions(neighbours: &[Vec<(usize, f64)>], radius: &[f64], seed: u64) -> Vec<[f64; 2]> {
    let m = neighbours.len();
    let mut offsets = vec![0u32];
    let mut adjacent = Vec::new();
    let mut attraction = Vec::new();
    let max_w = neighbours
        .iter()
        .flatten()
        .map(|&(_, w)| w)
        .fold(0.0f64, f64::max);
    for list in neighbours {
        for &(v, w) in list {
            adjacent.push(v as u32);
            attraction.push((w / max_w) as f32);
        }
        offsets.push(adjacent.len() as u32);
    }
    let input = LayoutInput {
        mass: (0..m).map(|u| 1.0 + neighbours[u].len() as f32).collect(),
        sizes: vec![1.0; m],
        offsets,
        neighbors: adjacent,
        attraction,
    };
    let settings = ForceAtlas2Settings::for_graph(m);
    let mut fa2 = CpuFa2::new(&input, &settings, random_positions(m, seed));
    for _ in 0..START_ITERATIONS {
        if fa2.step().is_err() {
            break;
        }
    }
    let positions = fa2
        .positions()
        .unwrap_or_else(|_| random_positions(m, seed));
    let raw: Vec<[f64; 2]> = positions
        .iter()
        .map(|q| [f64::from(q[0]), f64::from(q[1])])
        .collect();
    // Scale: the median linked pair at the sum of its radii.
    let mut ratios: Vec<f64> = Vec::new();
    for (u, list) in neighbours.iter().enumerate() {
        for &(v, _) in list.iter().filter(|&&(v, _)| v > u) {
            let d = (raw[u][0] - raw[v][0]).hypot(raw[u][1] - raw[v][1]);
            if d > 0.0 {
                ratios.push((radius[u] + radius[v]) / d);
            }
        }
    }
    let scale = if ratios.is_empty() {
        let mean_r = radius.iter().sum::<f64>() / m as f64;
        let rms = (raw.iter().map(|q| q[0] * q[0] + q[1] * q[1]).sum::<f64>() / m as f64).sqrt();
        if rms > 0.0 { 2.0 * mean_r / rms } else { 1.0 }
    } else {
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    };
    raw.iter()
        .map(|q| [q[0] * scale, q[1] * scale])
        .filter(|q| q[0].is_finite() && q[1].is_finite())
        .chain(std::iter::repeat([0.0, 0.0]))
        .take(m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One square inscribed in each disc: packing the squares keeps the
    /// discs apart too only if the pushes work, which the tests check.
    fn discs_as_squares(r: &[f64]) -> Vec<Squares> {
        r.iter().map(|&x| vec![([0.0, 0.0], x)]).collect()
    }

    fn disc_overlaps(p: &[[f64; 2]], r: &[f64], gap: f64) -> usize {
        let mut n = 0;
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let d = (p[i][0] - p[j][0]).hypot(p[i][1] - p[j][1]);
                n += usize::from(d < r[i] + r[j] + gap - 1e-6);
            }
        }
        n
    }

    #[test]
    fn unrelated_discs_pack_tightly_around_the_largest() {
        // 30 discs with no affinity at all: nothing holds them but the packing.
        let r: Vec<f64> = (0..30)
            .map(|i| if i == 0 { 50.0 } else { 5.0 + (i % 7) as f64 })
            .collect();
        let sq = discs_as_squares(&r);
        let p = arrange(&sq, &r, &[], 2.0, 1);
        assert_eq!(disc_overlaps(&p, &r, 2.0), 0);
        assert_eq!(p, arrange(&sq, &r, &[], 2.0, 1), "same seed, same map");
        // Every disc ends within a bounded packing: the discs' total area
        // fits in a circle a little wider than its area-equivalent one.
        let area: f64 = r
            .iter()
            .map(|x| std::f64::consts::PI * (x + 1.0).powi(2))
            .sum();
        let bound = 2.0 * (area / std::f64::consts::PI).sqrt();
        for (q, x) in p.iter().zip(&r) {
            let reach = q[0].hypot(q[1]) + x;
            assert!(reach < bound, "a disc reaches {reach}, bound {bound}");
        }
    }

    #[test]
    fn linked_discs_end_next_to_each_other() {
        // Two pairs, strongly linked inside, weakly across.
        let r = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0];
        let affinity = [
            (0, 1, 10.0),
            (2, 3, 10.0),
            (4, 5, 10.0),
            (1, 2, 0.1),
            (3, 4, 0.1),
        ];
        let p = arrange(&discs_as_squares(&r), &r, &affinity, 1.0, 3);
        assert_eq!(disc_overlaps(&p, &r, 1.0), 0);
        let d = |a: usize, b: usize| (p[a][0] - p[b][0]).hypot(p[a][1] - p[b][1]);
        // Touching discs are 21 apart; linked ones end within half a
        // radius of touching.
        for (a, b) in [(0, 1), (2, 3), (4, 5)] {
            assert!(d(a, b) < 26.0 + 5.0, "linked {a}-{b} at {}", d(a, b));
        }
    }
}
