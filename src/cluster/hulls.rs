//! Where a cluster sits in the layout: its core region and the hull drawn
//! around it.
//!
//! A cluster found in the network can be scattered in the picture (a few of
//! its images pulled elsewhere by their other tags). Its core is found
//! robustly:
//!
//! 1. the density peak: the members binned on a grid over their bounding
//!    box (about √n cells a side), smoothed with a 3×3 box, the fullest cell;
//!    the centre is the mean of the members in that cell;
//! 2. each member's distance d to the centre; the core is the members with
//!    `d ≤ median(d) + k · 1.4826 · MAD(d)` (`CORE_MADS` = k = 2; 1.4826·MAD
//!    estimates a standard deviation without being pulled by the outliers).
//!
//! The hull is the concave hull of the core's thumbnails: the four corners
//! of every core sprite (a square of half-side `size`, which holds the
//! thumbnail whatever its aspect), so the outline follows the pictures
//! instead of being inflated everywhere by the largest one. It is simplified
//! by Ramer–Douglas–Peucker with tolerance ε and buffered (geo's `Buffer`,
//! round joins) by a small margin `pad` (a quarter of the median sprite
//! half-size); ε ≤ pad/2 keeps every corner inside, as RDP moves the
//! boundary by at most ε. A hull that comes out invalid (degenerate cores:
//! one point, points on a line) is replaced by the convex hull of the
//! buffered corners.

use geo::{
    Area, Buffer, ConcaveHull, Contains, ConvexHull, Coord, InteriorPoint, Intersects, MultiPoint,
    MultiPolygon, Point, Polygon, Simplify, Validation, concave_hull::ConcaveHullOptions,
};

/// The `k` of the core threshold `median + k · 1.4826 · MAD`.
pub const CORE_MADS: f64 = 2.0;

/// One member of a cluster in layout space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Member {
    pub x: f64,
    pub y: f64,
    /// The sprite's half-size (the layout's node size).
    pub size: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hull {
    pub polygon: Polygon<f64>,
    /// Per member: inside the core.
    pub core: Vec<bool>,
    /// Where the cluster's label goes: the density peak, moved inside the
    /// hull when the peak falls outside it.
    pub label_at: [f64; 2],
    /// Members (core or not) whose position is outside the hull.
    pub outside: usize,
}

impl Hull {
    pub fn core_size(&self) -> usize {
        self.core.iter().filter(|&&c| c).count()
    }

    pub fn to_wkt(&self) -> String {
        use wkt::ToWkt;
        self.polygon.wkt_string()
    }
}

/// The core and hull of one cluster; `None` without members or with
/// non-finite positions only.
pub fn hull(members: &[Member]) -> Option<Hull> {
    let finite: Vec<usize> = (0..members.len())
        .filter(|&i| members[i].x.is_finite() && members[i].y.is_finite())
        .collect();
    if finite.is_empty() {
        return None;
    }
    let centre = density_peak(members, &finite);
    let distance: Vec<f64> = finite
        .iter()
        .map(|&i| (members[i].x - centre.x).hypot(members[i].y - centre.y))
        .collect();
    let threshold = robust_threshold(&distance);
    let mut core = vec![false; members.len()];
    for (k, &i) in finite.iter().enumerate() {
        core[i] = distance[k] <= threshold;
    }
    let core_sizes: Vec<f64> = (0..members.len())
        .filter(|&i| core[i])
        .map(|i| members[i].size)
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    // A cluster drawn as dots (no size) still gets a visible margin.
    let pad = if core_sizes.is_empty() {
        1.0
    } else {
        0.25 * median(core_sizes)
    };
    let corners: Vec<Coord<f64>> = (0..members.len())
        .filter(|&i| core[i])
        .flat_map(|i| {
            let Member { x, y, size } = members[i];
            let s = if size.is_finite() && size > 0.0 {
                size
            } else {
                0.0
            };
            [(-s, -s), (s, -s), (s, s), (-s, s)].map(|(dx, dy)| Coord {
                x: x + dx,
                y: y + dy,
            })
        })
        .collect();
    let polygon = core_polygon(&corners, pad);
    let label_at = if polygon.contains(&Point::from(centre)) {
        [centre.x, centre.y]
    } else {
        polygon
            .interior_point()
            .map_or([centre.x, centre.y], |p| [p.x(), p.y()])
    };
    let outside = finite
        .iter()
        .filter(|&&i| !polygon.intersects(&Point::new(members[i].x, members[i].y)))
        .count()
        + (members.len() - finite.len());
    Some(Hull {
        polygon,
        core,
        label_at,
        outside,
    })
}

/// `median + CORE_MADS · 1.4826 · MAD` of the distances.
fn robust_threshold(distance: &[f64]) -> f64 {
    let median = median(distance.to_vec());
    let deviations: Vec<f64> = distance.iter().map(|d| (d - median).abs()).collect();
    let mad = median_of(deviations);
    median + CORE_MADS * 1.4826 * mad
}

fn median(values: Vec<f64>) -> f64 {
    median_of(values)
}

fn median_of(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The mean of the members in the fullest cell of a smoothed grid histogram.
fn density_peak(members: &[Member], finite: &[usize]) -> Coord<f64> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &i in finite {
        x0 = x0.min(members[i].x);
        y0 = y0.min(members[i].y);
        x1 = x1.max(members[i].x);
        y1 = y1.max(members[i].y);
    }
    let side = ((finite.len() as f64).sqrt().ceil() as usize).clamp(1, 64);
    let span = (x1 - x0).max(y1 - y0).max(f64::MIN_POSITIVE);
    let cell_of = |v: f64, lo: f64| (((v - lo) / span * side as f64) as usize).min(side - 1);
    let mut counts = vec![0u32; side * side];
    for &i in finite {
        counts[cell_of(members[i].y, y0) * side + cell_of(members[i].x, x0)] += 1;
    }
    let mut best = (0u32, 0usize);
    for cy in 0..side {
        for cx in 0..side {
            let mut smoothed = 0;
            for ny in cy.saturating_sub(1)..=(cy + 1).min(side - 1) {
                for nx in cx.saturating_sub(1)..=(cx + 1).min(side - 1) {
                    smoothed += counts[ny * side + nx];
                }
            }
            // Strictly greater: ties keep the first cell, so it is deterministic.
            if smoothed > best.0 {
                best = (smoothed, cy * side + cx);
            }
        }
    }
    let (peak_y, peak_x) = (best.1 / side, best.1 % side);
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for &i in finite {
        let (cx, cy) = (cell_of(members[i].x, x0), cell_of(members[i].y, y0));
        if cx.abs_diff(peak_x) <= 1 && cy.abs_diff(peak_y) <= 1 {
            sx += members[i].x;
            sy += members[i].y;
            n += 1.0;
        }
    }
    Coord {
        x: sx / n,
        y: sy / n,
    }
}

/// Concave hull → simplified → padded; falls back to the convex hull of the
/// padded points whenever that chain yields an invalid polygon or one that
/// misses a core point.
fn core_polygon(points: &[Coord<f64>], pad: f64) -> Polygon<f64> {
    let multipoint: MultiPoint<f64> = points.iter().map(|&c| Point::from(c)).collect();
    let contains_all = |p: &Polygon<f64>| p.is_valid() && points.iter().all(|c| p.intersects(c));
    if points.len() >= 3 {
        let concave = multipoint.concave_hull_with_options(ConcaveHullOptions {
            concavity: 2.0,
            // Do not carve notches narrower than a few margins.
            length_threshold: 4.0 * pad,
        });
        let simplified = concave.simplify(pad / 2.0);
        let base = if simplified.is_valid() && simplified.unsigned_area() > 0.0 {
            simplified
        } else {
            concave
        };
        if base.is_valid()
            && base.unsigned_area() > 0.0
            && let Some(padded) = largest(base.buffer(pad))
            && contains_all(&padded)
        {
            return padded;
        }
    }
    multipoint.buffer(pad).convex_hull()
}

fn largest(multi: MultiPolygon<f64>) -> Option<Polygon<f64>> {
    multi
        .into_iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_ignores_a_far_outlier() {
        // Distances 1..=9 and one at 1000: median 5.5, MAD 2.5.
        let mut d: Vec<f64> = (1..=9).map(f64::from).collect();
        d.push(1000.0);
        let t = robust_threshold(&d);
        assert!((t - (5.5 + CORE_MADS * 1.4826 * 2.5)).abs() < 1e-9, "{t}");
    }

    #[test]
    fn a_single_member_gets_a_small_valid_hull() {
        let h = hull(&[Member {
            x: 3.0,
            y: 4.0,
            size: 2.0,
        }])
        .unwrap();
        assert!(h.polygon.is_valid());
        assert!(h.polygon.contains(&Point::new(3.0, 4.0)));
        assert_eq!(h.outside, 0);
        assert_eq!(h.core_size(), 1);
    }

    #[test]
    fn collinear_members_still_get_a_valid_hull() {
        let members: Vec<Member> = (0..10)
            .map(|i| Member {
                x: f64::from(i),
                y: 0.0,
                size: 0.5,
            })
            .collect();
        let h = hull(&members).unwrap();
        assert!(h.polygon.is_valid());
        assert_eq!(h.outside, 0);
    }
}
