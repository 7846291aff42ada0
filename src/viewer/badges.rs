//! Count badges on stacked near-duplicates: a node built by
//! `tagscape graph --stack-duplicates` from several images is drawn as one
//! thumbnail with "×N" at its top-right corner.
//!
//! Only the stacked nodes are looked at each frame (their list is read once
//! from the project), so the cost does not grow with the number of images.

use anyhow::Result;
use egui::{Color32, CornerRadius, FontId, Painter, Rect, pos2, vec2};
use glam::Vec2;

use crate::graph::duplicates;
use crate::project::Project;
use crate::render::Camera;
use crate::render::scene::{FLAG_HIDDEN, SpriteInstance};

/// Images smaller than this on screen (longest side, physical pixels) get
/// no badge: it would cover them.
pub const MIN_IMAGE_PX: f32 = 24.0;

/// One badge to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Badge {
    /// The image node.
    pub node: u32,
    /// Images in its stack.
    pub count: u32,
    /// The top-right corner of the image on screen (physical pixels).
    pub corner: Vec2,
}

/// The stacked image nodes of the map.
#[derive(Clone, Debug, Default)]
pub struct StackBadges {
    /// (image node, images in the stack), only stacks (size > 1).
    stacked: Vec<(u32, u32)>,
}

impl StackBadges {
    /// `stacked`: (image node, stack size) pairs; sizes of 1 are dropped.
    pub fn new(mut stacked: Vec<(u32, u32)>) -> StackBadges {
        stacked.retain(|&(_, size)| size > 1);
        StackBadges { stacked }
    }

    /// The stacks of the project's stored graph.
    pub fn load(project: &Project) -> Result<StackBadges> {
        Ok(StackBadges::new(duplicates::load_stack_sizes(project)?))
    }

    pub fn is_empty(&self) -> bool {
        self.stacked.is_empty()
    }

    /// The badges of the stacked images that `camera` shows at least
    /// `MIN_IMAGE_PX` large. `positions` are the nodes' world positions,
    /// `sprites` the images' sprites (sprite `i` is image node `i`).
    pub fn visible(
        &self,
        camera: &Camera,
        positions: &[Vec2],
        sprites: &[SpriteInstance],
    ) -> Vec<Badge> {
        let mut out = Vec::new();
        for &(node, count) in &self.stacked {
            let (Some(&center), Some(sprite)) =
                (positions.get(node as usize), sprites.get(node as usize))
            else {
                continue;
            };
            if sprite.flags & FLAG_HIDDEN != 0 || 2.0 * sprite.size * camera.zoom < MIN_IMAGE_PX {
                continue;
            }
            let half = sprite.half_extent() * camera.zoom;
            let c = camera.world_to_screen(center);
            // Screen y grows downwards: the top edge is above the centre.
            let (min, max) = (c - half, c + half);
            let on_screen = max.x >= 0.0
                && max.y >= 0.0
                && min.x <= camera.viewport.x
                && min.y <= camera.viewport.y;
            if on_screen && c.is_finite() {
                // Kept inside the viewport, so an image larger than the
                // window still shows its badge.
                out.push(Badge {
                    node,
                    count,
                    corner: Vec2::new(max.x.min(camera.viewport.x), min.y.max(0.0)),
                });
            }
        }
        out
    }

    /// Draws the visible badges with `painter` (whose clip rectangle should
    /// be the map's free area, in points).
    pub fn paint(
        &self,
        painter: &Painter,
        camera: &Camera,
        positions: &[Vec2],
        sprites: &[SpriteInstance],
        pixels_per_point: f32,
    ) {
        if self.stacked.is_empty() {
            return;
        }
        let font = FontId::proportional(11.0);
        let pad = vec2(4.0, 1.0);
        for badge in self.visible(camera, positions, sprites) {
            let galley =
                painter.layout_no_wrap(format!("×{}", badge.count), font.clone(), Color32::WHITE);
            let size = galley.size() + 2.0 * pad;
            // Inside the image, its top-right corner against the image's.
            let corner = pos2(
                badge.corner.x / pixels_per_point,
                badge.corner.y / pixels_per_point,
            );
            let rect = Rect::from_min_size(pos2(corner.x - size.x - 2.0, corner.y + 2.0), size);
            painter.rect_filled(
                rect,
                CornerRadius::same((size.y * 0.5) as u8),
                Color32::from_rgba_unmultiplied(20, 20, 20, 210),
            );
            painter.galley(rect.min + pad, galley, Color32::WHITE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_only_for_visible_large_enough_stacks() {
        // Zoom 2 px/unit, 200×100 px viewport centred on world (0, 0):
        // world (x, y) is at screen (100 + 2x, 50 − 2y).
        let camera = Camera {
            center: Vec2::ZERO,
            zoom: 2.0,
            viewport: Vec2::new(200.0, 100.0),
        };
        let positions = vec![
            Vec2::new(10.0, 5.0),   // 0: stack of 3, on screen
            Vec2::new(0.0, 0.0),    // 1: stack of 2, too small
            Vec2::new(-20.0, 0.0),  // 2: not a stack
            Vec2::new(500.0, 0.0),  // 3: stack of 4, off screen
            Vec2::new(-45.0, 30.0), // 4: stack of 5, hidden
            Vec2::new(-52.0, 0.0),  // 5: stack of 2, centre off screen, right part on it
        ];
        let sprites = vec![
            // Half size 10, wide 2:1 → half extent (10, 5) → 40×20 px.
            SpriteInstance::new(0, 10.0, 2.0, 0),
            // Half size 5 → 20 px < 24.
            SpriteInstance::new(1, 5.0, 1.0, 0),
            SpriteInstance::new(2, 10.0, 1.0, 0),
            SpriteInstance::new(3, 10.0, 1.0, 0),
            SpriteInstance {
                flags: FLAG_HIDDEN,
                ..SpriteInstance::new(4, 10.0, 1.0, 0)
            },
            // Tall 1:2 → half extent (3, 6) → 12×24 px: just large enough.
            SpriteInstance::new(5, 6.0, 0.5, 0),
        ];
        let badges = StackBadges::new(vec![(0, 3), (1, 2), (2, 1), (3, 4), (4, 5), (5, 2)]);
        let found = badges.visible(&camera, &positions, &sprites);
        assert_eq!(
            found,
            vec![
                // Centre (120, 40); right edge 120 + 20, top 40 − 10.
                Badge {
                    node: 0,
                    count: 3,
                    corner: Vec2::new(140.0, 30.0),
                },
                // Centre (−4, 50): spans x −10..2, so its right edge shows.
                Badge {
                    node: 5,
                    count: 2,
                    corner: Vec2::new(2.0, 38.0),
                },
            ]
        );
        // Zoomed in 10×: node 1 (now 200 px, centre (100, 50)) gets its
        // badge; node 0 (centre (300, −50), x 100..500, y −150..50) and
        // node 1 (x 0..200, y −50..150) both reach past the top-right of
        // the viewport, so their corners are clamped to (200, 0); node 5
        // (centre x −940) leaves the screen.
        let close = Camera {
            zoom: 20.0,
            ..camera
        };
        let found = badges.visible(&close, &positions, &sprites);
        assert_eq!(
            found,
            vec![
                Badge {
                    node: 0,
                    count: 3,
                    corner: Vec2::new(200.0, 0.0),
                },
                Badge {
                    node: 1,
                    count: 2,
                    corner: Vec2::new(200.0, 0.0),
                },
            ]
        );
    }
}
