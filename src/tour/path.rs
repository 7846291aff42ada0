//! The camera path between two views: van Wijk and Nuij's "smooth and
//! efficient zooming and panning" (InfoVis 2003) — zoom out, travel, zoom
//! in, along the path that is shortest in their metric for the trade-off
//! `rho` between zooming and panning (√2 is about what viewers prefer).
//!
//! A view is a centre `c` and a width `w` (world units across the
//! viewport). With `u1 = |c1 − c0|`:
//!
//! - `b_i = (w1² − w0² + (−1)^i ρ⁴ u1²) / (2 w_i ρ² u1)`, `r_i = −asinh(b_i)`
//! - path length `S = (r1 − r0) / ρ`
//! - `u(s) = (w0 / ρ²)(cosh r0 · tanh(ρ s + r0) − sinh r0)`, `w(s) = w0 cosh r0 / cosh(ρ s + r0)`
//!
//! When the centres (nearly) coincide the formulas divide by zero; the path
//! is then a pure zoom, `w(s) = w0 e^(±ρ s)`, `S = |ln(w1 / w0)| / ρ`.

use glam::DVec2;

/// The zoom/pan trade-off; √2 as in MapLibre and Leaflet (1.42).
pub const RHO: f64 = std::f64::consts::SQRT_2;

/// Centres closer than this fraction of the wider view count as equal.
const SAME_CENTRE: f64 = 1e-9;

/// What the camera shows: a world centre and a width in world units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub center: DVec2,
    pub width: f64,
}

/// The optimal path from one view to another.
#[derive(Clone, Copy, Debug)]
pub struct ZoomPath {
    from: View,
    to: View,
    rho: f64,
    /// Distance between the centres.
    u1: f64,
    r0: f64,
    /// Path length in the metric of the paper (≥ 0).
    length: f64,
    /// Pure zoom about one centre: ±1 (zoom out / in), 0 when the views are equal.
    zoom_sign: f64,
}

impl ZoomPath {
    /// The path from `from` to `to`; widths must be positive and finite.
    pub fn new(from: View, to: View, rho: f64) -> ZoomPath {
        let (w0, w1) = (from.width, to.width);
        let u1 = from.center.distance(to.center);
        let mut path = ZoomPath {
            from,
            to,
            rho,
            u1,
            r0: 0.0,
            length: 0.0,
            zoom_sign: 0.0,
        };
        if u1 <= SAME_CENTRE * w0.max(w1) {
            let ratio = (w1 / w0).ln();
            path.length = ratio.abs() / rho;
            path.zoom_sign = ratio.signum() * f64::from(ratio != 0.0);
            path.u1 = 0.0;
            return path;
        }
        let rho2 = rho * rho;
        let b = |w: f64, sign: f64| {
            (w1 * w1 - w0 * w0 + sign * rho2 * rho2 * u1 * u1) / (2.0 * w * rho2 * u1)
        };
        let r0 = -b(w0, 1.0).asinh();
        let r1 = -b(w1, -1.0).asinh();
        path.r0 = r0;
        path.length = ((r1 - r0) / rho).abs();
        path
    }

    /// Length `S`; the travel takes `S / V` at velocity `V`.
    pub fn length(&self) -> f64 {
        self.length
    }

    /// The view at fraction `t` ∈ [0, 1] of the path; exactly the end views at 0 and 1.
    pub fn at(&self, t: f64) -> View {
        if t <= 0.0 || self.length == 0.0 {
            return if t >= 1.0 { self.to } else { self.from };
        }
        if t >= 1.0 {
            return self.to;
        }
        let s = t * self.length;
        let w0 = self.from.width;
        if self.u1 == 0.0 {
            return View {
                center: self.from.center,
                width: w0 * (self.zoom_sign * self.rho * s).exp(),
            };
        }
        let (rho, r0) = (self.rho, self.r0);
        let u = (w0 / (rho * rho)) * (r0.cosh() * (rho * s + r0).tanh() - r0.sinh());
        let w = w0 * r0.cosh() / (rho * s + r0).cosh();
        View {
            center: self.from.center + (self.to.center - self.from.center) * (u / self.u1),
            width: w,
        }
    }
}

/// Slow in, slow out (cubic), so the camera neither jumps into motion nor
/// stops dead at a keyframe (the path itself has no such ease).
pub fn ease_in_out(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    if t < 0.5 {
        4.0 * t * t * t
    } else {
        1.0 - (-2.0 * t + 2.0).powi(3) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(x: f64, y: f64, w: f64) -> View {
        View {
            center: DVec2::new(x, y),
            width: w,
        }
    }

    #[test]
    fn the_path_starts_and_ends_exactly_at_its_views() {
        let a = view(-3.0, 7.5, 12.0);
        let b = view(400.0, -250.0, 3.0);
        let path = ZoomPath::new(a, b, RHO);
        assert_eq!(path.at(0.0), a);
        assert_eq!(path.at(1.0), b);
        // The formulas themselves also land on the end (not only the clamp).
        let near_end = path.at(1.0 - 1e-9);
        assert!(near_end.center.distance(b.center) < 1e-4, "{near_end:?}");
        assert!((near_end.width - b.width).abs() < 1e-4, "{near_end:?}");
    }

    #[test]
    fn between_distant_views_the_zoom_goes_out_then_in_monotonically() {
        let a = view(0.0, 0.0, 10.0);
        let b = view(1000.0, 0.0, 10.0);
        let path = ZoomPath::new(a, b, RHO);
        let widths: Vec<f64> = (0..=200).map(|k| path.at(k as f64 / 200.0).width).collect();
        let peak = widths
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .map(|(i, _)| i)
            .unwrap();
        assert!(widths[peak] > 10.0 * a.width, "peak width {}", widths[peak]);
        assert!(widths[..=peak].windows(2).all(|w| w[1] >= w[0]));
        assert!(widths[peak..].windows(2).all(|w| w[1] <= w[0]));
        // Equal widths: symmetric, the widest view half-way.
        assert!((peak as i64 - 100).abs() <= 1, "peak at {peak}");
        // The centre moves monotonically from one to the other.
        let xs: Vec<f64> = (0..=200)
            .map(|k| path.at(k as f64 / 200.0).center.x)
            .collect();
        assert!(xs.windows(2).all(|w| w[1] >= w[0]));
    }

    #[test]
    fn equal_centres_give_a_finite_pure_zoom() {
        let a = view(5.0, 5.0, 100.0);
        let b = view(5.0, 5.0, 1.0);
        for (from, to) in [(a, b), (b, a)] {
            let path = ZoomPath::new(from, to, RHO);
            let s = path.length();
            assert!(s.is_finite() && s > 0.0, "{s}");
            // S = |ln(w1 / w0)| / ρ.
            assert!((s - (100.0f64).ln() / RHO).abs() < 1e-12);
            let mid = path.at(0.5);
            assert_eq!(mid.center, from.center);
            assert!((mid.width - 10.0).abs() < 1e-9, "{mid:?}");
        }
        let same = ZoomPath::new(a, a, RHO);
        assert_eq!(same.length(), 0.0);
        assert_eq!(same.at(0.5), a);
    }

    #[test]
    fn easing_keeps_its_ends_and_is_monotone() {
        assert_eq!(ease_in_out(0.0), 0.0);
        assert_eq!(ease_in_out(1.0), 1.0);
        assert!((ease_in_out(0.5) - 0.5).abs() < 1e-12);
        let v: Vec<f64> = (0..=100).map(|k| ease_in_out(k as f64 / 100.0)).collect();
        assert!(v.windows(2).all(|w| w[1] >= w[0]));
        assert!(v[5] < 0.05 && v[95] > 0.95);
    }
}
