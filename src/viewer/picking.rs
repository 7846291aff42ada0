//! Which image is under the pointer: an R-tree (rstar) over the image
//! rectangles in world coordinates, so hover and click cost a tree descent
//! whatever the number of images. Rebuilt on a worker thread whenever the
//! positions change (a live layout's periodic readback).

use std::sync::mpsc::{Receiver, TryRecvError, channel};

use glam::Vec2;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::render::SpriteInstance;
use crate::render::scene::FLAG_HIDDEN;

type Entry = GeomWithData<Rectangle<[f32; 2]>, u32>;

#[derive(Default)]
pub struct Picker {
    tree: RTree<Entry>,
}

impl Picker {
    /// The index of every visible sprite at `positions[sprite.node]`.
    pub fn build(positions: &[Vec2], sprites: &[SpriteInstance]) -> Picker {
        let entries = sprites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.flags & FLAG_HIDDEN == 0)
            .filter_map(|(i, s)| {
                let p = *positions.get(s.node as usize)?;
                let h = s.half_extent();
                (p.is_finite() && h.is_finite()).then(|| {
                    Entry::new(
                        Rectangle::from_corners((p - h).to_array(), (p + h).to_array()),
                        i as u32,
                    )
                })
            })
            .collect();
        Picker {
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The image whose rectangle holds the world point `p`; where several
    /// overlap, the one drawn last (highest index: it is on top).
    pub fn pick(&self, p: Vec2) -> Option<u32> {
        if !p.is_finite() {
            return None;
        }
        self.tree
            .locate_all_at_point(p.to_array())
            .map(|e| e.data)
            .max()
    }
}

/// Builds pickers off the main thread: at most one build runs; a request
/// made meanwhile replaces any older waiting one.
#[derive(Default)]
pub struct PickerBuilder {
    running: Option<Receiver<Picker>>,
    waiting: Option<(Vec<Vec2>, Vec<SpriteInstance>)>,
}

impl PickerBuilder {
    pub fn request(&mut self, positions: Vec<Vec2>, sprites: Vec<SpriteInstance>) {
        if self.running.is_some() {
            self.waiting = Some((positions, sprites));
        } else {
            self.start(positions, sprites);
        }
    }

    fn start(&mut self, positions: Vec<Vec2>, sprites: Vec<SpriteInstance>) {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(Picker::build(&positions, &sprites));
        });
        self.running = Some(rx);
    }

    /// A finished picker, if one is ready (starts the waiting request).
    pub fn poll(&mut self) -> Option<Picker> {
        let rx = self.running.as_ref()?;
        let done = match rx.try_recv() {
            Ok(picker) => Some(picker),
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => None,
        };
        self.running = None;
        if let Some((positions, sprites)) = self.waiting.take() {
            self.start(positions, sprites);
        }
        done
    }

    pub fn busy(&self) -> bool {
        self.running.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Brute force: the highest sprite index whose rectangle holds `p`.
    fn reference(positions: &[Vec2], sprites: &[SpriteInstance], p: Vec2) -> Option<u32> {
        sprites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.flags & FLAG_HIDDEN == 0)
            .filter(|(_, s)| {
                let c = positions[s.node as usize];
                let h = s.half_extent();
                (p.x - c.x).abs() <= h.x && (p.y - c.y).abs() <= h.y
            })
            .map(|(i, _)| i as u32)
            .max()
    }

    #[test]
    fn picks_the_same_image_as_a_brute_force_scan() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let n: usize = 2000;
        let positions: Vec<Vec2> = (0..n)
            .map(|_| {
                Vec2::new(
                    rng.random_range(-500.0..500.0),
                    rng.random_range(-500.0..500.0),
                )
            })
            .collect();
        let mut sprites: Vec<SpriteInstance> = (0..n)
            .map(|i| {
                SpriteInstance::new(
                    i as u32,
                    rng.random_range(1.0..15.0),
                    rng.random_range(0.3..3.0),
                    0,
                )
            })
            .collect();
        for s in sprites.iter_mut().step_by(7) {
            s.flags |= FLAG_HIDDEN;
        }
        let picker = Picker::build(&positions, &sprites);
        assert_eq!(picker.len(), n - n.div_ceil(7));
        let mut hits = 0;
        for _ in 0..5000 {
            let p = Vec2::new(
                rng.random_range(-520.0..520.0),
                rng.random_range(-520.0..520.0),
            );
            let expected = reference(&positions, &sprites, p);
            hits += usize::from(expected.is_some());
            assert_eq!(picker.pick(p), expected, "at {p}");
        }
        // The sample covers both hits and misses.
        assert!(hits > 500 && hits < 4500, "{hits}");
    }

    #[test]
    fn keeps_the_aspect_and_prefers_the_one_on_top() {
        // A wide image (half extents 10 × 5) under a small one at (8, 0).
        let positions = [Vec2::ZERO, Vec2::new(8.0, 0.0)];
        let sprites = [
            SpriteInstance::new(0, 10.0, 2.0, 0),
            SpriteInstance::new(1, 1.0, 1.0, 0),
        ];
        let picker = Picker::build(&positions, &sprites);
        assert_eq!(picker.pick(Vec2::new(-9.0, 4.0)), Some(0));
        assert_eq!(
            picker.pick(Vec2::new(0.0, 6.0)),
            None,
            "above the wide image"
        );
        assert_eq!(picker.pick(Vec2::new(8.5, 0.5)), Some(1));
        assert_eq!(picker.pick(Vec2::new(f32::NAN, 0.0)), None);
    }

    #[test]
    fn the_builder_delivers_the_latest_request() {
        let mut builder = PickerBuilder::default();
        let sprites = vec![SpriteInstance::new(0, 1.0, 1.0, 0)];
        builder.request(vec![Vec2::ZERO], sprites.clone());
        builder.request(vec![Vec2::new(100.0, 0.0)], sprites);
        let mut last = None;
        let start = std::time::Instant::now();
        while builder.busy() && start.elapsed().as_secs() < 10 {
            if let Some(p) = builder.poll() {
                last = Some(p);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let last = last.expect("a picker");
        assert_eq!(last.pick(Vec2::new(100.0, 0.0)), Some(0));
        assert_eq!(last.pick(Vec2::ZERO), None);
    }
}
