//! The map: ForceAtlas2 inside each region, regions packed side by side,
//! images that fill the picture without covering each other.
//!
//! Plain ForceAtlas2 on a whole collection gives a picture that reads only
//! when the collection happens to suit it: isolated images and far tags set
//! the frame, clusters overlap in the middle, images cover each other. The
//! map stages fix each of these in turn (`layout::run` sequences them):
//!
//! 1. [`regions`]: which nodes share a region (a drawn cluster, or one
//!    connected piece of what no cluster holds); untagged images apart;
//! 2. ForceAtlas2 on each region's own subgraph ([`subgraph`]), so every
//!    region is a ForceAtlas2 map of its part of the network;
//! 3. [`fit_region`]: the region scaled so its images fill it, then its
//!    overlaps removed ([`overlap`]), or, for a large region of same-size
//!    images, each image snapped onto its own grid cell ([`snap`]);
//! 4. [`arrange`]: the regions, as discs, packed around the largest one,
//!    related ones side by side, none overlapping another;
//! 5. [`compose`]: everything in map coordinates, with the untagged images
//!    in one grid at the right margin.

pub mod arrange;
pub mod overlap;
pub mod regions;
pub mod snap;

use crate::graph::Graph;
use overlap::{Shape, remove_overlaps};
pub use regions::{Regions, affinities};

/// Share of a region's disc that its squares are scaled to fill before
/// overlap removal (which then spreads the dense cores a little).
const FILL: f64 = 0.7;
/// Nodes beyond this quantile of the distance from the region's centre are
/// pulled in towards it (ForceAtlas2 leaves long tails of loosely attached
/// images, which would make the region's disc mostly empty).
const TAIL_QUANTILE: f64 = 0.85;
/// How much of their distance beyond that quantile tail nodes keep.
const TAIL_KEEP: f64 = 0.3;
/// Tightening: rounds, and the shrink factor of each.
const TIGHTEN_ROUNDS: usize = 12;
const SHRINK: f64 = 0.85;

/// Free space between two images, as a share of the image half-size.
pub const IMAGE_GAP: f64 = 0.12;
/// Free space between two regions, in image half-sizes (room for hulls).
pub const REGION_GAP: f64 = 1.5;

/// The subgraph induced by `nodes` (ascending), images first as in every
/// graph; edges to nodes outside are dropped (they pull regions together
/// through [`affinities`] instead).
pub fn subgraph(graph: &Graph, nodes: &[u32]) -> Graph {
    let mut local = vec![u32::MAX; graph.node_count()];
    for (k, &v) in nodes.iter().enumerate() {
        local[v as usize] = k as u32;
    }
    let n_images = nodes.partition_point(|&v| (v as usize) < graph.n_images);
    let sub_nodes = nodes
        .iter()
        .map(|&v| graph.nodes[v as usize].clone())
        .collect();
    let edges = graph
        .edges
        .iter()
        .filter(|e| local[e.source as usize] != u32::MAX && local[e.target as usize] != u32::MAX)
        .map(|e| crate::graph::Edge {
            source: local[e.source as usize],
            target: local[e.target as usize],
            weight: e.weight,
        })
        .collect();
    Graph::new(sub_nodes, n_images, edges)
}

/// A region at map scale, centred on its centroid.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedRegion {
    pub positions: Vec<[f64; 2]>,
    /// The disc holding every square of the region.
    pub radius: f64,
    /// Overlapping pairs at map scale that the overlap removal separated.
    pub overlaps: usize,
    /// Its images were snapped onto a grid ([`snap`]).
    pub snapped: bool,
    /// The region's images as squares (offset from its centre, half-side).
    pub squares: arrange::Squares,
}

/// Scales a region's ForceAtlas2 positions so its images (half-sizes
/// `half`, `gap` apart) fill about [`FILL`] of its disc, pulls its tail in,
/// removes the overlaps, then tightens it: rounds of shrinking by
/// [`SHRINK`] and removing overlaps again close the empty space ForceAtlas2
/// leaves where the graph is sparse, while dense parts, already touching,
/// keep their arrangement. ForceAtlas2's own scale is arbitrary (it follows
/// the repulsion and the graph's size), so only the shape of its layout is
/// kept. Tags are not drawn on the map by default: they take no room, and
/// each goes to the weighted centre of its images in the region.
/// `grid` snaps images of one size onto a grid whatever their number.
pub fn fit_region(
    sub: &Graph,
    raw: &[[f32; 2]],
    half: &[f64],
    gap: f64,
    grid: bool,
) -> FittedRegion {
    let images = sub.n_images;
    let mut p: Vec<[f64; 2]> = raw[..images]
        .iter()
        .map(|q| [f64::from(q[0]), f64::from(q[1])])
        .collect();
    let image_half = &half[..images];
    let mut overlaps = 0;
    let snapped =
        (grid || images >= snap::SNAP_MIN_IMAGES) && image_half.iter().all(|&h| h == image_half[0]);
    if images > 0 {
        recentre(&mut p);
        let area: f64 = image_half
            .iter()
            .map(|h| (2.0 * h + gap).powi(2))
            .sum::<f64>()
            / FILL;
        // A uniform disc of radius R has an RMS radius of R/√2.
        let target_rms = (area / std::f64::consts::PI).sqrt() / std::f64::consts::SQRT_2;
        let rms = (p.iter().map(|q| q[0] * q[0] + q[1] * q[1]).sum::<f64>() / images as f64).sqrt();
        let scale = if rms > 0.0 && rms.is_finite() {
            target_rms / rms
        } else {
            1.0
        };
        for q in &mut p {
            q[0] *= scale;
            q[1] *= scale;
        }
        pull_tail_in(&mut p);
        if snapped {
            // A hair over the spacing, so recentring's rounding never
            // brings two cells under it.
            snap::snap_to_grid(&mut p, (2.0 * image_half[0] + gap) * (1.0 + 1e-9));
        } else {
            overlaps = remove_overlaps(&mut p, image_half, gap, Shape::Square).overlaps_before;
            for _ in 0..TIGHTEN_ROUNDS {
                for q in &mut p {
                    q[0] *= SHRINK;
                    q[1] *= SHRINK;
                }
                remove_overlaps(&mut p, image_half, gap, Shape::Square);
            }
        }
        recentre(&mut p);
    }
    let radius = p
        .iter()
        .zip(image_half)
        .map(|(q, h)| q[0].hypot(q[1]) + h * std::f64::consts::SQRT_2)
        .fold(0.0, f64::max);
    let squares = p.iter().copied().zip(image_half.iter().copied()).collect();
    for tag in images..sub.node_count() {
        let (mut x, mut y, mut total) = (0.0, 0.0, 0.0);
        for (image, w) in sub.neighbors(tag) {
            let w = if w.is_finite() && w > 0.0 {
                f64::from(w)
            } else {
                1e-6
            };
            x += p[image as usize][0] * w;
            y += p[image as usize][1] * w;
            total += w;
        }
        p.push(if total > 0.0 {
            [x / total, y / total]
        } else {
            [0.0, 0.0]
        });
    }
    FittedRegion {
        positions: p,
        radius,
        overlaps,
        snapped,
        squares,
    }
}

/// Moves the nodes beyond the [`TAIL_QUANTILE`] distance from the centre
/// radially inwards, keeping [`TAIL_KEEP`] of their distance past it: the
/// order along each ray is kept, the disc shrinks.
fn pull_tail_in(p: &mut [[f64; 2]]) {
    let mut r: Vec<f64> = p.iter().map(|q| q[0].hypot(q[1])).collect();
    r.sort_by(f64::total_cmp);
    let Some(&limit) = r.get(((r.len() as f64 - 1.0) * TAIL_QUANTILE) as usize) else {
        return;
    };
    for q in p.iter_mut() {
        let d = q[0].hypot(q[1]);
        if d > limit && d > 0.0 {
            let k = (limit + (d - limit) * TAIL_KEEP) / d;
            q[0] *= k;
            q[1] *= k;
        }
    }
}

fn recentre(p: &mut [[f64; 2]]) {
    let n = p.len().max(1) as f64;
    let cx = p.iter().map(|q| q[0]).sum::<f64>() / n;
    let cy = p.iter().map(|q| q[1]).sum::<f64>() / n;
    for q in p {
        q[0] -= cx;
        q[1] -= cy;
    }
}

/// Positions of `n` squares of half-size `half` in rows, `gap` apart,
/// centred on the origin, as close to square as the count allows.
pub fn grid(n: usize, half: f64, gap: f64) -> Vec<[f64; 2]> {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    let rows = n.div_ceil(cols);
    let step = 2.0 * half + gap;
    (0..n)
        .map(|k| {
            let (row, col) = (k / cols, k % cols);
            [
                (col as f64 - (cols - 1) as f64 / 2.0) * step,
                ((rows - 1) as f64 / 2.0 - row as f64) * step,
            ]
        })
        .collect()
}

/// Every node's place on the map: each fitted region moved to its place
/// among the others, the untagged images in a grid right of the rest.
/// `half` is every graph node's half-size.
pub fn compose(
    node_count: usize,
    regions: &Regions,
    fitted: &[FittedRegion],
    affinity: &[(u32, u32, f64)],
    half: &[f64],
    image_half: f64,
    seed: u64,
) -> Vec<[f32; 2]> {
    let radius: Vec<f64> = fitted.iter().map(|f| f.radius).collect();
    let squares: Vec<arrange::Squares> = fitted.iter().map(|f| f.squares.clone()).collect();
    let centres = arrange::arrange(&squares, &radius, affinity, REGION_GAP * image_half, seed);
    let mut out = vec![[0.0f64; 2]; node_count];
    for ((members, fit), c) in regions.members.iter().zip(fitted).zip(&centres) {
        for (&v, q) in members.iter().zip(&fit.positions) {
            out[v as usize] = [c[0] + q[0], c[1] + q[1]];
        }
    }
    if !regions.untagged.is_empty() {
        let block_half = regions
            .untagged
            .iter()
            .map(|&v| half[v as usize])
            .fold(0.0, f64::max);
        let cells = grid(regions.untagged.len(), block_half, IMAGE_GAP * block_half);
        let (x0, y_mid) = if regions.members.is_empty() {
            (0.0, 0.0)
        } else {
            // Right of the regions' bounding box, vertically centred on it.
            let placed = regions.members.iter().flatten().map(|&v| v as usize);
            let (mut right, mut lo, mut hi) = (f64::MIN, f64::MAX, f64::MIN);
            for v in placed {
                right = right.max(out[v][0] + half[v]);
                lo = lo.min(out[v][1] - half[v]);
                hi = hi.max(out[v][1] + half[v]);
            }
            let width = cells.iter().map(|q| q[0]).fold(0.0, f64::max);
            (
                right + REGION_GAP * image_half * 2.0 + width + block_half,
                (lo + hi) / 2.0,
            )
        };
        for (&v, q) in regions.untagged.iter().zip(&cells) {
            out[v as usize] = [x0 + q[0], y_mid + q[1]];
        }
    }
    out.iter().map(|q| [q[0] as f32, q[1] as f32]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_square_and_gap_apart() {
        let g = grid(10, 1.0, 0.5);
        assert_eq!(g.len(), 10);
        // 4 columns, 3 rows, step 2.5, centred.
        assert_eq!(g[0], [-3.75, 2.5]);
        assert_eq!(g[3], [3.75, 2.5]);
        assert_eq!(g[9], [-1.25, -2.5]);
        assert_eq!(grid(1, 5.0, 1.0), vec![[0.0, 0.0]]);
    }

    /// `images` images and `tags` tags; image `i` carries tag `i % tags`.
    fn images_with_one_tag_each(images: usize, tags: usize) -> Graph {
        use crate::graph::{Edge, Node, NodeKind};
        let node = |kind, id: String| Node {
            kind,
            label: id.clone(),
            id,
            image_id: None,
            frequency: 1,
        };
        let mut nodes: Vec<Node> = (0..images)
            .map(|i| node(NodeKind::Image, format!("i{i}")))
            .collect();
        nodes.extend((0..tags).map(|t| node(NodeKind::Tag, format!("t{t}"))));
        let edges = (0..images)
            .map(|i| Edge {
                source: i as u32,
                target: (images + i % tags) as u32,
                weight: 1.0,
            })
            .collect();
        Graph::new(nodes, images, edges)
    }

    #[test]
    fn a_fitted_region_has_no_overlaps_and_holds_its_images() {
        // 200 images in a sparse FA2-like spiral, one tag carried by all.
        let raw: Vec<[f32; 2]> = (0..201)
            .map(|k| {
                let a = k as f32 * 2.399;
                let r = 1.0 + k as f32;
                [r * a.cos(), r * a.sin()]
            })
            .collect();
        let sub = images_with_one_tag_each(200, 1);
        let mut half = vec![10.0; 200];
        half.push(3.0);
        let fit = fit_region(&sub, &raw, &half, 1.0, false);
        assert_eq!(
            overlap::count_overlaps(&fit.positions[..200], &half[..200], 1.0, Shape::Square),
            0
        );
        for q in &fit.positions[..200] {
            assert!(q[0].hypot(q[1]) + 10.0 * std::f64::consts::SQRT_2 <= fit.radius + 1e-9);
        }
        // The tag sits at its images' centre, which is the region's.
        assert!(fit.positions[200][0].hypot(fit.positions[200][1]) < 1e-6);
        // Tight, not sparse: the squares cover a good share of the disc.
        let covered = 200.0 * 400.0 / (std::f64::consts::PI * fit.radius * fit.radius);
        assert!(covered > 0.45, "squares cover {covered:.2} of the disc");
    }

    #[test]
    fn a_large_region_of_one_size_is_snapped_to_a_full_grid() {
        // 1500 images in rings around three heavy tags, with empty holes
        // where the tags sit (what ForceAtlas2 gives): snapped, no overlap,
        // and the holes are gone.
        let n = 1500;
        let mut raw: Vec<[f32; 2]> = (0..n)
            .map(|k| {
                let centre = [[-60.0, 0.0], [60.0, 0.0], [0.0, 90.0]][k % 3];
                let a = k as f32 * 2.399;
                let r = 25.0 + (k / 3) as f32 * 0.05;
                [centre[0] + r * a.cos(), centre[1] + r * a.sin()]
            })
            .collect();
        raw.extend([[-60.0, 0.0], [60.0, 0.0], [0.0, 90.0]]);
        let sub = images_with_one_tag_each(n, 3);
        let mut half = vec![10.0; n];
        half.extend([3.0; 3]);
        let fit = fit_region(&sub, &raw, &half, 1.0, false);
        assert!(fit.snapped);
        assert_eq!(
            overlap::count_overlaps(&fit.positions[..n], &half[..n], 1.0, Shape::Square),
            0
        );
        // A disc of 21-unit cells: the squares cover (20/21)² of it, less
        // its ragged rim.
        let covered = n as f64 * 400.0 / (std::f64::consts::PI * fit.radius * fit.radius);
        assert!(covered > 0.75, "squares cover {covered:.2} of the disc");
        // Each tag's images still sit together: on the side of their ring.
        let mean_x = |t: usize| {
            (0..n)
                .filter(|i| i % 3 == t)
                .map(|i| fit.positions[i][0])
                .sum::<f64>()
                / 500.0
        };
        assert!(
            mean_x(0) < -100.0 && mean_x(1) > 100.0,
            "{} {}",
            mean_x(0),
            mean_x(1)
        );
        // Images of different sizes keep the overlap removal.
        half[0] = 14.0;
        assert!(!fit_region(&sub, &raw, &half, 1.0, false).snapped);
    }
}
