//! Barnes–Hut quadtree as Gephi builds it (`Region`): each region splits its
//! nodes into four at their **mass centre** (not the cell centre), and its
//! size is twice the largest distance of a node to that centre. A node sees a
//! region as one body when `distance · θ > size` (Gephi's criterion and θ).
//!
//! Stored flat for speed: regions in pre-order in one array, each with a
//! `next` index (the region after its subtree) so traversal needs no stack;
//! bodies copied in tree order, so a leaf's bodies are contiguous and nodes
//! close in space are close in memory (a Morton-like order, rebuilt every
//! iteration from the previous one).

use crate::layout::pair_repulsion;

/// Leaves hold up to this many bodies (their forces are summed exactly).
const LEAF_CAPACITY: usize = 8;
/// Below this many bodies a subtree is built on one thread.
const PARALLEL_BUILD_MIN: usize = 16_384;
/// Deeper than this, a region becomes a leaf whatever its size (guards
/// against degenerate point sets).
const MAX_DEPTH: u32 = 48;

#[derive(Clone, Copy, Debug, Default)]
pub struct Body {
    pub x: f32,
    pub y: f32,
    pub mass: f32,
    pub size: f32,
    pub node: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Region {
    cx: f32,
    cy: f32,
    mass: f32,
    /// size², for the criterion d²·θ² > size².
    size2: f32,
    /// First body in `bodies`.
    start: u32,
    end: u32,
    /// Region after this subtree in pre-order (== regions.len() at the end).
    next: u32,
    leaf: bool,
}

#[derive(Default)]
pub struct QuadTree {
    regions: Vec<Region>,
    /// Bodies in tree order.
    pub bodies: Vec<Body>,
}

impl QuadTree {
    /// Rebuilds the tree over `bodies` (their order is kept as the starting
    /// permutation, so passing the previous iteration's order is cheapest).
    pub fn build(&mut self, bodies: Vec<Body>) {
        self.bodies = bodies;
        self.regions.clear();
        if self.bodies.is_empty() {
            return;
        }
        let regions = build_subtree(&mut self.bodies, 0, 0);
        if std::env::var_os("FA2_PROF").is_some() { use std::sync::atomic::Ordering::Relaxed; eprintln!("regions {} visits {} approx {} pairs {}", regions.len(), VISITS.swap(0,Relaxed), APPROX.swap(0,Relaxed), PAIRS.swap(0,Relaxed)); }
        self.regions = regions;
    }

    /// Repulsion on the body at tree position `k` (one-sided: only this body
    /// is pushed, so bodies can be processed in parallel without races).
    #[inline]
    pub fn repulsion(&self, k: usize, kr: f32, theta2: f32, adjust_sizes: bool) -> [f32; 2] {
        let b = self.bodies[k];
        let (mut fx, mut fy) = (0f32, 0f32);
        let mut r = 0usize;
        let n_regions = self.regions.len();
        while r < n_regions {
            VISITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let reg = &self.regions[r];
            let dx = b.x - reg.cx;
            let dy = b.y - reg.cy;
            let d2 = dx * dx + dy * dy;
            let many = reg.end - reg.start > 1;
            if many && d2 * theta2 > reg.size2 {
                // Region as one body at its mass centre (sizes ignored, as Gephi).
                APPROX.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let f = kr * b.mass * reg.mass / d2;
                fx += dx * f;
                fy += dy * f;
                r = reg.next as usize;
            } else if reg.leaf {
                for j in reg.start as usize..reg.end as usize {
                    if j == k {
                        continue;
                    }
                    PAIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let o = &self.bodies[j];
                    let f = pair_repulsion(
                        b.node as usize,
                        o.node as usize,
                        b.x - o.x,
                        b.y - o.y,
                        kr * b.mass * o.mass,
                        adjust_sizes.then_some(b.size + o.size),
                    );
                    fx += f[0];
                    fy += f[1];
                }
                r = reg.next as usize;
            } else {
                r += 1;
            }
        }
        [fx, fy]
    }
}

/// Builds the regions of `bodies` (which it reorders) with body indices
/// offset by `base`; returns them in pre-order with `next` relative to the
/// returned vector.
fn build_subtree(bodies: &mut [Body], base: u32, depth: u32) -> Vec<Region> {
    let mut out = Vec::new();
    build_into(bodies, base, depth, &mut out);
    out
}

fn build_into(bodies: &mut [Body], base: u32, depth: u32, out: &mut Vec<Region>) {
    let (mut sm, mut sx, mut sy) = (0f64, 0f64, 0f64);
    for b in bodies.iter() {
        let m = f64::from(b.mass);
        sm += m;
        sx += m * f64::from(b.x);
        sy += m * f64::from(b.y);
    }
    let (cx, cy) = ((sx / sm) as f32, (sy / sm) as f32);
    let mut max_d2 = 0f32;
    for b in bodies.iter() {
        let d2 = (b.x - cx) * (b.x - cx) + (b.y - cy) * (b.y - cy);
        max_d2 = max_d2.max(d2);
    }
    let me = out.len();
    out.push(Region {
        cx,
        cy,
        mass: sm as f32,
        // size = 2·max distance → size² = 4·max d².
        size2: 4.0 * max_d2,
        start: base,
        end: base + bodies.len() as u32,
        next: 0,
        leaf: true,
    });
    if bodies.len() > LEAF_CAPACITY && depth < MAX_DEPTH {
        let split_x = partition(bodies, |b| b.x < cx);
        let (left, right) = bodies.split_at_mut(split_x);
        let split_l = partition(left, |b| b.y < cy);
        let split_r = partition(right, |b| b.y < cy);
        let (q0, q1) = left.split_at_mut(split_l);
        let (q2, q3) = right.split_at_mut(split_r);
        let quads = [q0, q1, q2, q3];
        // All bodies in one quadrant (coincident points): stay a leaf.
        if quads.iter().all(|q| q.len() < bodies_len(&quads)) {
            out[me].leaf = false;
            let starts = {
                let mut s = [base; 4];
                for i in 1..4 {
                    s[i] = s[i - 1] + quads[i - 1].len() as u32;
                }
                s
            };
            if bodies_len(&quads) >= PARALLEL_BUILD_MIN {
                // Subtrees are independent: build them in parallel, then
                // append in quadrant order (the result does not depend on
                // scheduling).
                let [q0, q1, q2, q3] = quads;
                let ((a, b), (c, d)) = rayon::join(
                    || {
                        rayon::join(
                            || build_subtree(q0, starts[0], depth + 1),
                            || build_subtree(q1, starts[1], depth + 1),
                        )
                    },
                    || {
                        rayon::join(
                            || build_subtree(q2, starts[2], depth + 1),
                            || build_subtree(q3, starts[3], depth + 1),
                        )
                    },
                );
                for sub in [a, b, c, d] {
                    let offset = out.len() as u32;
                    out.extend(sub.into_iter().map(|mut r| {
                        r.next += offset;
                        r
                    }));
                }
            } else {
                for (q, start) in quads.into_iter().zip(starts) {
                    if !q.is_empty() {
                        build_into(q, start, depth + 1, out);
                    }
                }
            }
        }
    }
    out[me].next = out.len() as u32;
}

fn bodies_len(quads: &[&mut [Body]; 4]) -> usize {
    quads.iter().map(|q| q.len()).sum()
}

/// Moves the bodies for which `pred` holds to the front (deterministic,
/// unstable); returns how many there are.
fn partition(bodies: &mut [Body], pred: impl Fn(&Body) -> bool) -> usize {
    let mut i = 0;
    let mut j = bodies.len();
    loop {
        while i < j && pred(&bodies[i]) {
            i += 1;
        }
        while i < j && !pred(&bodies[j - 1]) {
            j -= 1;
        }
        if i >= j {
            return i;
        }
        bodies.swap(i, j - 1);
        i += 1;
        j -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(points: &[(f32, f32)]) -> Vec<Body> {
        points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| Body {
                x,
                y,
                mass: 1.0,
                size: 1.0,
                node: i as u32,
            })
            .collect()
    }

    #[test]
    fn every_body_is_in_exactly_one_leaf_and_next_skips_subtrees() {
        let pts: Vec<(f32, f32)> = (0..500)
            .map(|i| (((i * 37) % 101) as f32, ((i * 53) % 97) as f32))
            .collect();
        let mut t = QuadTree::default();
        t.build(bodies(&pts));
        let mut covered = vec![0u32; pts.len()];
        for r in t.regions.iter().filter(|r| r.leaf) {
            for k in r.start..r.end {
                covered[t.bodies[k as usize].node as usize] += 1;
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
        // The root's mass is the total mass; its subtree spans all regions.
        assert_eq!(t.regions[0].mass, 500.0);
        assert_eq!(t.regions[0].next as usize, t.regions.len());
        for (i, r) in t.regions.iter().enumerate() {
            assert!(r.next as usize > i);
        }
    }

    #[test]
    fn coincident_points_make_a_leaf_instead_of_recursing() {
        let mut t = QuadTree::default();
        t.build(bodies(&[(1.0, 1.0); 100]));
        assert_eq!(t.regions.len(), 1);
        let f = t.repulsion(0, 1.0, 1.44, false);
        assert!(f[0].is_finite() && f[1].is_finite());
        assert!(f[0] != 0.0 || f[1] != 0.0);
    }
}

pub static VISITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static APPROX: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static PAIRS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
