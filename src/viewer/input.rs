//! Navigation: what the wheel, pinch, drag and keys do to the camera, and
//! the animated fit-to-all. Pure state over [`Camera`] (no winit window),
//! so the maths is tested without a display.

use std::time::{Duration, Instant};

use glam::Vec2;
use winit::event::MouseScrollDelta;
use winit::keyboard::{Key, NamedKey};

use crate::render::{Bounds, Camera};

/// Zoom factor of one wheel notch (a "line").
const WHEEL_STEP: f32 = 1.2;
/// Zoom factor per pixel of smooth (touchpad) scrolling.
const PIXEL_STEP: f32 = 1.004;
/// Zoom factor of one `+`/`-` key press.
const KEY_ZOOM: f32 = 1.25;
/// Fraction of the viewport one arrow/WASD press pans.
const KEY_PAN: f32 = 0.1;
/// Margin left around the map by fit-to-all, in pixels.
pub const FIT_MARGIN: f32 = 24.0;
/// Duration of the fit-to-all animation.
const FIT_DURATION: Duration = Duration::from_millis(450);
/// A press that moved less than this many pixels before release is a click.
const CLICK_SLOP: f32 = 4.0;

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyCommand {
    /// Pan by this fraction of the viewport (screen directions, y down).
    Pan(Vec2),
    /// Zoom about the viewport centre by this factor.
    Zoom(f32),
    FitAll,
    Screenshot,
    /// Play the tour window's tour, or stop it (P).
    PlayTour,
}

/// The command of a key press, or `None` for keys the map does not use.
pub fn key_command(key: &Key) -> Option<KeyCommand> {
    match key {
        Key::Named(NamedKey::ArrowLeft) => Some(KeyCommand::Pan(Vec2::new(-KEY_PAN, 0.0))),
        Key::Named(NamedKey::ArrowRight) => Some(KeyCommand::Pan(Vec2::new(KEY_PAN, 0.0))),
        Key::Named(NamedKey::ArrowUp) => Some(KeyCommand::Pan(Vec2::new(0.0, -KEY_PAN))),
        Key::Named(NamedKey::ArrowDown) => Some(KeyCommand::Pan(Vec2::new(0.0, KEY_PAN))),
        Key::Named(NamedKey::Home) => Some(KeyCommand::FitAll),
        Key::Named(NamedKey::F12) => Some(KeyCommand::Screenshot),
        // Shift+S (an upper-case S) is the screenshot; a plain s pans down
        // with the rest of WASD.
        Key::Character(c) if c.as_str() == "S" => Some(KeyCommand::Screenshot),
        Key::Character(c) => match c.to_lowercase().as_str() {
            "a" => Some(KeyCommand::Pan(Vec2::new(-KEY_PAN, 0.0))),
            "d" => Some(KeyCommand::Pan(Vec2::new(KEY_PAN, 0.0))),
            "w" => Some(KeyCommand::Pan(Vec2::new(0.0, -KEY_PAN))),
            "s" => Some(KeyCommand::Pan(Vec2::new(0.0, KEY_PAN))),
            "+" | "=" => Some(KeyCommand::Zoom(KEY_ZOOM)),
            "-" | "_" => Some(KeyCommand::Zoom(1.0 / KEY_ZOOM)),
            "f" => Some(KeyCommand::FitAll),
            "p" => Some(KeyCommand::PlayTour),
            _ => None,
        },
        _ => None,
    }
}

/// An animation from one camera to another (centre linear, zoom
/// geometric, eased in and out).
#[derive(Clone, Copy, Debug)]
struct Flight {
    from: Camera,
    to: Camera,
    start: Instant,
}

impl Flight {
    fn at(&self, now: Instant) -> (Camera, bool) {
        let t = (now.saturating_duration_since(self.start).as_secs_f32()
            / FIT_DURATION.as_secs_f32())
        .clamp(0.0, 1.0);
        let s = t * t * (3.0 - 2.0 * t);
        let zoom = self.from.zoom * (self.to.zoom / self.from.zoom).powf(s);
        let cam = Camera {
            center: self.from.center.lerp(self.to.center, s),
            zoom,
            viewport: self.to.viewport,
        };
        (cam, t >= 1.0)
    }
}

/// The camera and the pointer state that moves it.
pub struct Navigator {
    pub camera: Camera,
    cursor: Option<Vec2>,
    /// Where the left button went down on the map, and how far it moved since.
    press: Option<(Vec2, f32)>,
    flight: Option<Flight>,
    /// The part of the viewport not covered by panels (pixels, min and
    /// max corner): fit-to-all fills this rectangle.
    pub fit_area: Option<(Vec2, Vec2)>,
}

impl Navigator {
    pub fn new(viewport: Vec2) -> Navigator {
        Navigator {
            camera: Camera::new(viewport),
            cursor: None,
            press: None,
            flight: None,
            fit_area: None,
        }
    }

    /// The camera showing `bounds` in the fit area (or the whole viewport).
    pub fn fitted(&self, bounds: &Bounds) -> Camera {
        let full = (Vec2::ZERO, self.camera.viewport);
        let (min, max) = self.fit_area.unwrap_or(full);
        let mut area = Camera::new((max - min).max(Vec2::ONE));
        area.fit(bounds, FIT_MARGIN);
        // Shift the centre so the bounds' centre lands on the area's centre.
        let offset = (min + max) * 0.5 - self.camera.viewport * 0.5;
        Camera {
            center: area.center - Vec2::new(offset.x, -offset.y) / area.zoom,
            zoom: area.zoom,
            viewport: self.camera.viewport,
        }
    }

    pub fn cursor(&self) -> Option<Vec2> {
        self.cursor
    }

    /// Whether a drag of the map is under way.
    pub fn dragging(&self) -> bool {
        self.press.is_some_and(|(_, moved)| moved >= CLICK_SLOP)
    }

    /// The window was resized: the world point at the centre stays there.
    pub fn set_viewport(&mut self, viewport: Vec2) {
        self.camera.viewport = viewport.max(Vec2::ONE);
    }

    /// The pointer moved to `pos` (pixels); drags the map while the left
    /// button is held. Returns whether the camera changed.
    pub fn cursor_moved(&mut self, pos: Vec2) -> bool {
        let previous = self.cursor.replace(pos);
        let Some((_, moved)) = &mut self.press else {
            return false;
        };
        let Some(previous) = previous else {
            return false;
        };
        let delta = pos - previous;
        *moved += delta.length();
        self.flight = None;
        self.camera.pan_pixels(delta);
        delta != Vec2::ZERO
    }

    pub fn cursor_left(&mut self) {
        self.cursor = None;
    }

    /// Left button pressed on the map.
    pub fn press(&mut self) {
        if let Some(c) = self.cursor {
            self.press = Some((c, 0.0));
        }
    }

    /// Left button released: the click position when the pointer hardly
    /// moved (a click, not a drag).
    pub fn release(&mut self) -> Option<Vec2> {
        let (at, moved) = self.press.take()?;
        (moved < CLICK_SLOP).then_some(at)
    }

    /// Wheel or touchpad scroll: zoom about the cursor (up = in).
    pub fn wheel(&mut self, delta: MouseScrollDelta) {
        let factor = match delta {
            MouseScrollDelta::LineDelta(_, y) => WHEEL_STEP.powf(y),
            MouseScrollDelta::PixelDelta(p) => PIXEL_STEP.powf(p.y as f32),
        };
        self.zoom_at_cursor(factor);
    }

    /// Touchpad pinch: `delta` is the change of scale (positive = in).
    pub fn pinch(&mut self, delta: f64) {
        self.zoom_at_cursor((1.0 + delta as f32).max(0.1));
    }

    fn zoom_at_cursor(&mut self, factor: f32) {
        self.flight = None;
        let anchor = self.cursor.unwrap_or(self.camera.viewport * 0.5);
        self.camera.zoom_about(anchor, factor);
    }

    /// Applies a key command (except screenshots and tours, which the
    /// caller takes).
    pub fn apply(&mut self, command: KeyCommand, all: Option<Bounds>, now: Instant) {
        match command {
            KeyCommand::Pan(fraction) => {
                self.flight = None;
                // Moving the view right means dragging the map left.
                self.camera.pan_pixels(-fraction * self.camera.viewport);
            }
            KeyCommand::Zoom(factor) => {
                self.flight = None;
                self.camera.zoom_about(self.camera.viewport * 0.5, factor);
            }
            KeyCommand::FitAll => {
                if let Some(bounds) = all {
                    self.fly_to_fit(&bounds, now);
                }
            }
            KeyCommand::Screenshot | KeyCommand::PlayTour => {}
        }
    }

    /// Sets the camera to show `bounds` at once (no animation).
    pub fn fit_now(&mut self, bounds: &Bounds) {
        self.flight = None;
        self.camera = self.fitted(bounds);
    }

    /// Starts the animated fit-to-all.
    pub fn fly_to_fit(&mut self, bounds: &Bounds, now: Instant) {
        let to = self.fitted(bounds);
        self.flight = Some(Flight {
            from: self.camera,
            to,
            start: now,
        });
    }

    /// Advances the fit animation; true while it still runs.
    pub fn animate(&mut self, now: Instant) -> bool {
        let Some(flight) = self.flight else {
            return false;
        };
        let (camera, done) = flight.at(now);
        self.camera = camera;
        if done {
            self.flight = None;
        }
        !done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nav() -> Navigator {
        Navigator::new(Vec2::new(800.0, 600.0))
    }

    #[test]
    fn wheel_zooms_about_the_cursor() {
        let mut n = nav();
        n.cursor_moved(Vec2::new(600.0, 150.0));
        let under = n.camera.screen_to_world(Vec2::new(600.0, 150.0));
        n.wheel(MouseScrollDelta::LineDelta(0.0, 2.0));
        // Two notches: 1.2² = 1.44.
        assert!((n.camera.zoom - 1.44).abs() < 1e-5);
        // The world point under the cursor has not moved on screen.
        let s = n.camera.world_to_screen(under);
        assert!((s - Vec2::new(600.0, 150.0)).length() < 1e-3, "{s}");
        n.wheel(MouseScrollDelta::LineDelta(0.0, -2.0));
        assert!((n.camera.zoom - 1.0).abs() < 1e-5);
    }

    #[test]
    fn drag_moves_the_map_with_the_pointer_and_is_not_a_click() {
        let mut n = nav();
        n.camera.zoom = 2.0;
        n.cursor_moved(Vec2::new(100.0, 100.0));
        let grabbed = n.camera.screen_to_world(Vec2::new(100.0, 100.0));
        n.press();
        n.cursor_moved(Vec2::new(130.0, 90.0));
        n.cursor_moved(Vec2::new(160.0, 140.0));
        assert!(n.dragging());
        // The grabbed world point follows the pointer.
        let s = n.camera.world_to_screen(grabbed);
        assert!((s - Vec2::new(160.0, 140.0)).length() < 1e-3, "{s}");
        assert_eq!(n.release(), None);
        // Moving without the button does not pan.
        let before = n.camera;
        n.cursor_moved(Vec2::new(10.0, 10.0));
        assert_eq!(n.camera, before);
    }

    #[test]
    fn a_press_without_movement_is_a_click_at_its_position() {
        let mut n = nav();
        n.cursor_moved(Vec2::new(50.0, 60.0));
        n.press();
        n.cursor_moved(Vec2::new(51.0, 61.0));
        assert_eq!(n.release(), Some(Vec2::new(50.0, 60.0)));
    }

    #[test]
    fn keys_map_to_commands() {
        assert_eq!(
            key_command(&Key::Character("W".into())),
            Some(KeyCommand::Pan(Vec2::new(0.0, -KEY_PAN)))
        );
        assert_eq!(
            key_command(&Key::Character("s".into())),
            Some(KeyCommand::Pan(Vec2::new(0.0, KEY_PAN)))
        );
        assert_eq!(
            key_command(&Key::Character("S".into())),
            Some(KeyCommand::Screenshot)
        );
        assert_eq!(
            key_command(&Key::Character("+".into())),
            Some(KeyCommand::Zoom(KEY_ZOOM))
        );
        assert_eq!(
            key_command(&Key::Named(NamedKey::Home)),
            Some(KeyCommand::FitAll)
        );
        assert_eq!(
            key_command(&Key::Named(NamedKey::F12)),
            Some(KeyCommand::Screenshot)
        );
        assert_eq!(key_command(&Key::Character("x".into())), None);
    }

    #[test]
    fn arrow_right_shows_what_was_right_of_the_view() {
        let mut n = nav();
        n.camera.zoom = 4.0;
        n.apply(
            KeyCommand::Pan(Vec2::new(KEY_PAN, 0.0)),
            None,
            Instant::now(),
        );
        // 10 % of 800 px at 4 px per unit = 20 world units to the right.
        assert!((n.camera.center - Vec2::new(20.0, 0.0)).length() < 1e-4);
        n.apply(
            KeyCommand::Pan(Vec2::new(0.0, -KEY_PAN)),
            None,
            Instant::now(),
        );
        // Up: 10 % of 600 px / 4 = 15 units up (world y is up).
        assert!((n.camera.center - Vec2::new(20.0, 15.0)).length() < 1e-4);
    }

    #[test]
    fn fit_animation_ends_on_the_fitted_camera() {
        let mut n = nav();
        let bounds = Bounds {
            min: Vec2::new(0.0, 0.0),
            max: Vec2::new(376.0, 100.0),
        };
        let t0 = Instant::now();
        n.fly_to_fit(&bounds, t0);
        assert!(n.animate(t0 + FIT_DURATION / 2));
        // Halfway: the zoom lies strictly between start and end.
        let end_zoom = (800.0 - 2.0 * FIT_MARGIN) / 376.0;
        assert!(n.camera.zoom > 1.0 && n.camera.zoom < end_zoom);
        assert!(!n.animate(t0 + FIT_DURATION));
        assert!((n.camera.zoom - end_zoom).abs() < 1e-5);
        assert_eq!(n.camera.center, Vec2::new(188.0, 50.0));
    }

    #[test]
    fn fit_fills_the_area_left_free_by_the_panels() {
        let mut n = nav();
        // A 260 px panel on the left: the free area is x 260..800, y 0..600.
        n.fit_area = Some((Vec2::new(260.0, 0.0), Vec2::new(800.0, 600.0)));
        let bounds = Bounds {
            min: Vec2::new(-10.0, -10.0),
            max: Vec2::new(10.0, 10.0),
        };
        n.fit_now(&bounds);
        // min(540 − 48, 600 − 48) / 20 = 24.6 px per unit.
        assert!((n.camera.zoom - 24.6).abs() < 1e-4);
        // The bounds' corners land inside the free area, centred in it.
        let lo = n.camera.world_to_screen(Vec2::new(-10.0, 10.0));
        let hi = n.camera.world_to_screen(Vec2::new(10.0, -10.0));
        assert!((lo.x - (260.0 + FIT_MARGIN)).abs() < 1e-3, "{lo}");
        assert!((hi.x - (800.0 - FIT_MARGIN)).abs() < 1e-3, "{hi}");
        assert!(((lo.y + hi.y) / 2.0 - 300.0).abs() < 1e-3);
    }
}
