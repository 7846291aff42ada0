//! When a layout has converged, measured so the same threshold fits every
//! graph size.
//!
//! Gephi's global swing grows with the graph (it is a mass-weighted sum of
//! force changes, and masses grow with degree): on the planted-cluster
//! graphs the swing per node settles near 10² at 1k images, 10⁴ at 10k and
//! 10⁶ at 100k, and keeps spiking because the adaptive speed never lets the
//! layout rest. What does settle at every size is how far the nodes still
//! travel relative to the layout's own extent, so that is what
//! `--until-converged` watches.

/// Iterations between two convergence checks. Each check reads positions
/// back (from the GPU too), and over ten iterations a node's jitter largely
/// cancels, leaving its real drift.
pub const WINDOW: u32 = 10;

/// Default threshold of [`relative_movement`] over one [`WINDOW`]: nodes
/// moved on average less than 0.3% of the layout's RMS radius. Reached
/// after 200–300 iterations on the planted-cluster graphs from 1k to 100k
/// images, once their quality scores have plateaued.
pub const DEFAULT_MOVEMENT: f32 = 0.003;

/// Mean distance the nodes moved from `before` to `after`, divided by the
/// RMS distance of `after` from its centroid: dimensionless, so independent
/// of the graph's size and of the layout's scale. 0 for an empty or
/// single-point layout.
pub fn relative_movement(before: &[[f32; 2]], after: &[[f32; 2]]) -> f64 {
    let n = after.len().min(before.len());
    if n == 0 {
        return 0.0;
    }
    let nf = n as f64;
    let (mut cx, mut cy) = (0.0f64, 0.0f64);
    for p in &after[..n] {
        cx += f64::from(p[0]);
        cy += f64::from(p[1]);
    }
    let (cx, cy) = (cx / nf, cy / nf);
    let mut radius_sq = 0.0f64;
    let mut moved = 0.0f64;
    for (a, b) in after[..n].iter().zip(before) {
        radius_sq += (f64::from(a[0]) - cx).powi(2) + (f64::from(a[1]) - cy).powi(2);
        moved += (f64::from(a[0]) - f64::from(b[0])).hypot(f64::from(a[1]) - f64::from(b[1]));
    }
    let rms = (radius_sq / nf).sqrt();
    if rms > 0.0 { moved / nf / rms } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize, r: f32) -> Vec<[f32; 2]> {
        (0..n)
            .map(|i| {
                let a = i as f32 * std::f32::consts::TAU / n as f32;
                [r * a.cos(), r * a.sin()]
            })
            .collect()
    }

    #[test]
    fn still_layouts_have_not_moved() {
        let p = ring(50, 10.0);
        assert_eq!(relative_movement(&p, &p), 0.0);
        assert_eq!(relative_movement(&[], &[]), 0.0);
        // Every node at one point: no extent to compare with, and no NaN.
        assert_eq!(relative_movement(&[[1.0, 1.0]; 3], &[[1.0, 1.0]; 3]), 0.0);
    }

    #[test]
    fn movement_is_relative_to_the_layout_extent_not_its_scale_or_place() {
        // Each node moved by 1 on a ring of radius 100: 1% of the radius.
        let before = ring(200, 100.0);
        let after: Vec<[f32; 2]> = before.iter().map(|p| [p[0] + 1.0, p[1]]).collect();
        let m = relative_movement(&before, &after);
        assert!((m - 0.01).abs() < 1e-4, "{m}");
        // The same picture ten times larger and elsewhere: the same figure.
        let scale = |v: &[[f32; 2]]| -> Vec<[f32; 2]> {
            v.iter()
                .map(|p| [p[0] * 10.0 - 5e3, p[1] * 10.0 + 7e3])
                .collect()
        };
        let m10 = relative_movement(&scale(&before), &scale(&after));
        assert!((m10 - m).abs() < 1e-4, "{m10} vs {m}");
        // Twice the move, twice the figure.
        let far: Vec<[f32; 2]> = before.iter().map(|p| [p[0] + 2.0, p[1]]).collect();
        assert!((relative_movement(&before, &far) - 2.0 * m).abs() < 1e-4);
    }
}
