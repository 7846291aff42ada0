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

    /// The tile `[x0, x0+w) × [y0, y0+h)` (whole pixels) of this camera's
    /// viewport: what a band or tile of a large picture shows. The tile's
    /// centre is worked out in f64 from the whole picture's camera; the f32
    /// centre the tile's camera carries and what rounding left out are both
    /// given to the shaders, which subtract them one after the other. So
    /// every tile of a 30000 px poster draws on the global pixel grid to
    /// within f32 precision *relative to the tile*, however far from the
    /// layout's origin the map lies: tiles meet without sub-pixel drift.
    pub fn tile(&self, x0: u32, y0: u32, w: u32, h: u32) -> Tile {
        let zoom = f64::from(self.zoom);
        // The tile's centre, in pixels from the picture's centre (y down).
        let dx = f64::from(x0) + 0.5 * f64::from(w) - 0.5 * f64::from(self.viewport.x);
        let dy = f64::from(y0) + 0.5 * f64::from(h) - 0.5 * f64::from(self.viewport.y);
        let center = glam::DVec2::new(
            f64::from(self.center.x) + dx / zoom,
            f64::from(self.center.y) - dy / zoom,
        );
        let rounded = center.as_vec2();
        Tile {
            camera: Camera {
                center: rounded,
                zoom: self.zoom,
                viewport: Vec2::new(w as f32, h as f32),
            },
            center_lo: (center - rounded.as_dvec2()).as_vec2(),
        }
    }

    pub(crate) fn uniform(&self, highlight: [f32; 4], center_lo: Vec2) -> CameraUniform {
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
            center_lo: center_lo.to_array(),
            _pad2: [0.0; 2],
        }
    }
}

/// One tile of a large picture (see [`Camera::tile`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tile {
    /// The tile's camera, its centre rounded to f32 (what CPU-side layers use).
    pub camera: Camera,
    /// The tile's exact centre less `camera.center`, in world units.
    pub center_lo: Vec2,
}

/// Mirrors `Camera` in the shaders (64 bytes).
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
    /// Subtracted after `center`: a tile's centre to more than f32 precision.
    pub center_lo: [f32; 2],
    pub _pad2: [f32; 2],
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
    fn a_tile_shows_the_same_pixels() {
        let cam = Camera {
            center: Vec2::new(1.0, 2.0),
            zoom: 3.0,
            viewport: Vec2::new(300.0, 200.0),
        };
        let band = cam.tile(0, 150, 300, 50).camera;
        let p = Vec2::new(4.0, -20.0);
        let full = cam.world_to_screen(p);
        let local = band.world_to_screen(p);
        assert!((full - Vec2::new(local.x, local.y + 150.0)).length() < 1e-3);
    }

    /// Where the shaders put world point `p` in `tile`, step by step in
    /// f32 as they do: `((p − centre) − centre_lo) · zoom`, y down, plus half
    /// the viewport.
    fn shader_pixel(tile: &Tile, p: Vec2) -> glam::DVec2 {
        let local = (p - tile.camera.center - tile.center_lo) * tile.camera.zoom;
        let v = tile.camera.viewport;
        glam::DVec2::new(
            f64::from(0.5 * v.x + local.x),
            f64::from(0.5 * v.y - local.y),
        )
    }

    #[test]
    fn tiles_of_a_huge_poster_stay_on_the_global_pixel_grid() {
        // A 200000 px poster of a map laid out far from the origin (packed
        // components can be), in tiles of 16384 px.
        let mut cam = Camera::new(Vec2::new(200_000.0, 190_000.0));
        cam.fit(
            &Bounds {
                min: Vec2::new(41_000.0, -37_000.0),
                max: Vec2::new(44_000.0, -34_100.0),
            },
            600.0,
        );
        let (c, z) = (cam.center.as_dvec2(), f64::from(cam.zoom));
        let mut worst: f64 = 0.0;
        for ty in 0..12u32 {
            for tx in 0..13u32 {
                let (x0, y0) = (tx * 16_384, ty * 16_384);
                let tile = cam.tile(x0, y0, 16_384, 16_384);
                for (fx, fy) in [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0), (0.3, 0.7), (0.9, 0.1)] {
                    // A layout position (f32) near that point of the tile,
                    // and where it belongs on the whole picture, in f64.
                    let at = glam::DVec2::new(
                        f64::from(x0) + fx * 16_384.0,
                        f64::from(y0) + fy * 16_384.0,
                    );
                    let p = (c + glam::DVec2::new(at.x - 100_000.0, 95_000.0 - at.y) / z).as_vec2();
                    let pd = p.as_dvec2();
                    let want =
                        glam::DVec2::new(100_000.0 + (pd.x - c.x) * z, 95_000.0 - (pd.y - c.y) * z);
                    let got =
                        shader_pixel(&tile, p) + glam::DVec2::new(f64::from(x0), f64::from(y0));
                    worst = worst.max((got - want).abs().max_element());
                }
            }
        }
        // The centre alone, rounded to f32 at 44000 (steps of 0.004 world
        // units, 0.25 px at this zoom), put tiles up to 0.13 px off the
        // grid; with what the rounding left out they are within f32
        // precision of a tile's own extent.
        assert!(
            worst < 0.01,
            "tiles drift {worst} px off the global pixel grid"
        );
    }
}
