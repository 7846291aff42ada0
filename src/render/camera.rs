//! The 2D camera: which part of the layout plane the viewport shows.
//!
//! World coordinates are the layout's (Gephi's): x to the right, **y up**.
//! Screen coordinates are pixels from the top-left corner of the target,
//! y down. `zoom` is in pixels per world unit.

use bytemuck::{Pod, Zeroable};
use glam::Vec2;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// The world point at the centre of the viewport.
    pub center: Vec2,
    /// Pixels per world unit.
    pub zoom: f32,
    /// Viewport size in pixels.
    pub viewport: Vec2,
}

/// An axis-aligned world rectangle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: Vec2,
    pub max: Vec2,
}

impl Bounds {
    /// The smallest rectangle holding every `(center, half extent)` box;
    /// `None` for an empty iterator or when no value is finite.
    pub fn of_boxes(boxes: impl IntoIterator<Item = (Vec2, Vec2)>) -> Option<Bounds> {
        let mut min = Vec2::splat(f32::INFINITY);
        let mut max = Vec2::splat(f32::NEG_INFINITY);
        for (c, h) in boxes {
            if c.is_finite() && h.is_finite() {
                min = min.min(c - h);
                max = max.max(c + h);
            }
        }
        (min.x <= max.x && min.y <= max.y).then_some(Bounds { min, max })
    }

    pub fn size(&self) -> Vec2 {
        self.max - self.min
    }

    pub fn center(&self) -> Vec2 {
        (self.min + self.max) * 0.5
    }

    pub fn intersects(&self, other: &Bounds) -> bool {
        self.min.x <= other.max.x
            && other.min.x <= self.max.x
            && self.min.y <= other.max.y
            && other.min.y <= self.max.y
    }
}

impl Camera {
    pub fn new(viewport: Vec2) -> Camera {
        Camera {
            center: Vec2::ZERO,
            zoom: 1.0,
            viewport,
        }
    }

    pub fn world_to_screen(&self, p: Vec2) -> Vec2 {
        let d = (p - self.center) * self.zoom;
        Vec2::new(self.viewport.x * 0.5 + d.x, self.viewport.y * 0.5 - d.y)
    }

    pub fn screen_to_world(&self, s: Vec2) -> Vec2 {
        let d = Vec2::new(s.x - self.viewport.x * 0.5, self.viewport.y * 0.5 - s.y);
        self.center + d / self.zoom
    }

    /// Multiplies the zoom by `factor` keeping the world point under the
    /// screen point `anchor` where it is (wheel zoom around the cursor).
    pub fn zoom_about(&mut self, anchor: Vec2, factor: f32) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let before = self.screen_to_world(anchor);
        self.zoom *= factor;
        let after = self.screen_to_world(anchor);
        self.center += before - after;
    }

    /// Moves the view by a screen-space drag of `delta` pixels.
    pub fn pan_pixels(&mut self, delta: Vec2) {
        self.center += Vec2::new(-delta.x, delta.y) / self.zoom;
    }

    /// Centres `bounds` and zooms so it fills the viewport less `margin`
    /// pixels on every side (aspect kept: the tighter axis decides).
    pub fn fit(&mut self, bounds: &Bounds, margin: f32) {
        let m = Vec2::splat(margin);
        self.fit_into(bounds, m, self.viewport - m);
    }

    /// Zooms so `bounds` fills the screen rectangle `[lo, hi]` (aspect
    /// kept) and centres it there.
    pub fn fit_into(&mut self, bounds: &Bounds, lo: Vec2, hi: Vec2) {
        let avail = (hi - lo).max(Vec2::ONE);
        let size = bounds.size().max(Vec2::splat(f32::EPSILON));
        self.zoom = (avail.x / size.x).min(avail.y / size.y);
        if !self.zoom.is_finite() || self.zoom <= 0.0 {
            self.zoom = 1.0;
        }
        let at = (lo + hi) * 0.5;
        let off = Vec2::new(at.x - self.viewport.x * 0.5, self.viewport.y * 0.5 - at.y);
        self.center = bounds.center() - off / self.zoom;
    }

    /// The world rectangle the viewport shows.
    pub fn visible(&self) -> Bounds {
        let half = self.viewport * 0.5 / self.zoom;
        Bounds {
            min: self.center - half,
            max: self.center + half,
        }
    }

    /// The camera of the sub-rectangle `[x0, x0+w) × [y0, y0+h)` (pixels) of
    /// this camera's viewport: what a band or tile of a large image shows.
    pub fn sub_view(&self, x0: f32, y0: f32, w: f32, h: f32) -> Camera {
        let c = self.screen_to_world(Vec2::new(x0 + w * 0.5, y0 + h * 0.5));
        Camera {
            center: c,
            zoom: self.zoom,
            viewport: Vec2::new(w, h),
        }
    }

    pub(crate) fn uniform(&self, highlight: [f32; 4]) -> CameraUniform {
        CameraUniform {
            center: self.center.to_array(),
            scale: [
                2.0 * self.zoom / self.viewport.x,
                2.0 * self.zoom / self.viewport.y,
            ],
            viewport: self.viewport.to_array(),
            zoom: self.zoom,
            _pad: 0.0,
            highlight,
        }
    }
}

/// Mirrors `Camera` in the shaders (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(crate) struct CameraUniform {
    pub center: [f32; 2],
    /// World → clip: clip = (p − center) · scale.
    pub scale: [f32; 2],
    pub viewport: [f32; 2],
    pub zoom: f32,
    pub _pad: f32,
    /// Premultiplied colour of highlighted sprites' borders.
    pub highlight: [f32; 4],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_screen_round_trip_and_y_up() {
        let cam = Camera {
            center: Vec2::new(10.0, 20.0),
            zoom: 2.0,
            viewport: Vec2::new(200.0, 100.0),
        };
        // The centre maps to the middle; +y world goes up the screen.
        assert_eq!(
            cam.world_to_screen(Vec2::new(10.0, 20.0)),
            Vec2::new(100.0, 50.0)
        );
        assert_eq!(
            cam.world_to_screen(Vec2::new(15.0, 25.0)),
            Vec2::new(110.0, 40.0)
        );
        let p = Vec2::new(-3.5, 7.25);
        assert!((cam.screen_to_world(cam.world_to_screen(p)) - p).length() < 1e-4);
    }

    #[test]
    fn zoom_about_keeps_the_anchor_fixed() {
        let mut cam = Camera::new(Vec2::new(400.0, 300.0));
        let anchor = Vec2::new(300.0, 100.0);
        let under = cam.screen_to_world(anchor);
        cam.zoom_about(anchor, 2.5);
        assert_eq!(cam.zoom, 2.5);
        assert!((cam.world_to_screen(under) - anchor).length() < 1e-3);
        // Hand computed: the anchor is (100, 50) world at zoom 1; after
        // zooming 2.5×, centre = anchor − (100, 50)/2.5 = (60, 30).
        assert!((cam.center - Vec2::new(60.0, 30.0)).length() < 1e-4);
    }

    #[test]
    fn fit_uses_the_tighter_axis() {
        let mut cam = Camera::new(Vec2::new(220.0, 120.0));
        cam.fit(
            &Bounds {
                min: Vec2::new(0.0, 0.0),
                max: Vec2::new(100.0, 20.0),
            },
            10.0,
        );
        // x: 200 px / 100 = 2, y: 100 px / 20 = 5 → 2.
        assert_eq!(cam.zoom, 2.0);
        assert_eq!(cam.center, Vec2::new(50.0, 10.0));
    }

    #[test]
    fn sub_view_shows_the_same_pixels() {
        let cam = Camera {
            center: Vec2::new(1.0, 2.0),
            zoom: 3.0,
            viewport: Vec2::new(300.0, 200.0),
        };
        let band = cam.sub_view(0.0, 150.0, 300.0, 50.0);
        let p = Vec2::new(4.0, -20.0);
        let full = cam.world_to_screen(p);
        let local = band.world_to_screen(p);
        assert!((full - Vec2::new(local.x, local.y + 150.0)).length() < 1e-3);
    }
}
