//! Large regions of same-size images snapped onto a square grid, as PixPlot
//! and rasterfairy do: every image gets a cell of a disc of cells, so the
//! region is filled without holes and no image covers another.
//!
//! Overlap removal (pushing overlapping pairs apart) keeps a small region's
//! shape, but in a region of thousands of images its pushes travel a few
//! images per pass: the empty rings ForceAtlas2 leaves around heavy tags
//! stay, and the region keeps a third of its disc empty. Snapping instead
//! assigns cells by recursive bisection: points and cells are both split
//! at their median along the longer side of the cells, and each half of the
//! points goes to the same half of the cells. Left stays left and top stays
//! top at every scale, so neighbourhoods survive, in O(n log² n).

/// Regions with at least this many images (all of one size) are snapped.
pub const SNAP_MIN_IMAGES: usize = 1000;

/// The `n` cells of a square grid of `pitch` nearest the origin: a disc of
/// cells (ties broken by position, so the set is a function of `n`).
pub fn disc_cells(n: usize, pitch: f64) -> Vec<[f64; 2]> {
    if n == 0 {
        return Vec::new();
    }
    let k = ((n as f64 / std::f64::consts::PI).sqrt().ceil() as i64) + 2;
    let mut cells: Vec<(i64, i64)> = (-k..=k)
        .flat_map(|i| (-k..=k).map(move |j| (i, j)))
        .collect();
    cells.sort_by_key(|&(i, j)| (i * i + j * j, i, j));
    cells.truncate(n);
    cells
        .into_iter()
        .map(|(i, j)| [i as f64 * pitch, j as f64 * pitch])
        .collect()
}

/// Moves every point of `points` onto its own cell of a disc of grid cells
/// `pitch` apart (centred on the origin), keeping their arrangement.
pub fn snap_to_grid(points: &mut [[f64; 2]], pitch: f64) {
    let cells = disc_cells(points.len(), pitch);
    let mut by_point: Vec<usize> = (0..points.len()).collect();
    let mut by_cell: Vec<usize> = (0..cells.len()).collect();
    let mut cell_of = vec![0usize; points.len()];
    bisect(points, &mut by_point, &cells, &mut by_cell, &mut cell_of);
    for (p, &c) in points.iter_mut().zip(&cell_of) {
        *p = cells[c];
    }
}

/// Pairs `pts` (indices into `points`) with `cls` (indices into `cells`),
/// as many of each: median splits along the cells' longer axis.
fn bisect(
    points: &[[f64; 2]],
    pts: &mut [usize],
    cells: &[[f64; 2]],
    cls: &mut [usize],
    cell_of: &mut [usize],
) {
    if pts.len() == 1 {
        cell_of[pts[0]] = cls[0];
        return;
    }
    if pts.is_empty() {
        return;
    }
    let extent = |axis: usize| {
        let (lo, hi) = cls.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &c| {
            (lo.min(cells[c][axis]), hi.max(cells[c][axis]))
        });
        hi - lo
    };
    let axis = usize::from(extent(1) > extent(0));
    let other = 1 - axis;
    // Ties by the other coordinate, then by index: the same input always
    // gives the same map.
    pts.sort_by(|&a, &b| {
        points[a][axis]
            .total_cmp(&points[b][axis])
            .then(points[a][other].total_cmp(&points[b][other]))
            .then(a.cmp(&b))
    });
    cls.sort_by(|&a, &b| {
        cells[a][axis]
            .total_cmp(&cells[b][axis])
            .then(cells[a][other].total_cmp(&cells[b][other]))
    });
    let mid = pts.len() / 2;
    let (p_lo, p_hi) = pts.split_at_mut(mid);
    let (c_lo, c_hi) = cls.split_at_mut(mid);
    bisect(points, p_lo, cells, c_lo, cell_of);
    bisect(points, p_hi, cells, c_hi, cell_of);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cells_are_a_disc_of_distinct_grid_points() {
        let cells = disc_cells(100, 2.0);
        assert_eq!(cells.len(), 100);
        let mut keys: Vec<(i64, i64)> = cells
            .iter()
            .map(|c| ((c[0] / 2.0) as i64, (c[1] / 2.0) as i64))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 100);
        // 100 cells of area 4 make a disc of radius √(400/π) ≈ 11.3.
        let r = cells.iter().map(|c| c[0].hypot(c[1])).fold(0.0, f64::max);
        assert!(r < 13.0, "radius {r}");
    }

    #[test]
    fn snapping_fills_the_grid_and_keeps_the_arrangement() {
        // Two blobs far apart with an empty ring between: after snapping
        // every point sits on its own cell, and the two blobs are still on
        // their own sides.
        let mut pts: Vec<[f64; 2]> = Vec::new();
        for i in 0..300 {
            let a = i as f64 * 2.399_963;
            let r = (i as f64).sqrt();
            let cx = if i % 2 == 0 { -100.0 } else { 100.0 };
            pts.push([cx + r * a.cos(), r * a.sin()]);
        }
        let before = pts.clone();
        snap_to_grid(&mut pts, 1.0);
        let mut keys: Vec<(i64, i64)> = pts
            .iter()
            .map(|p| (p[0].round() as i64, p[1].round() as i64))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 300, "two points share a cell");
        for (a, b) in before.iter().zip(&pts) {
            let kept = if a[0] < 0.0 { b[0] <= 0.0 } else { b[0] >= 0.0 };
            assert!(kept, "{a:?} moved to the other side: {b:?}");
        }
        // Deterministic.
        let mut again = before.clone();
        snap_to_grid(&mut again, 1.0);
        assert_eq!(again, pts);
    }
}
