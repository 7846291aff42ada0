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
/// Bodies walking the tree together (lanes of the vectorised criterion).
const GROUP: usize = 8;
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
    /// Farthest edge of a node from the mass centre (distance + node size):
    /// under prevent overlap a node closer than this plus its own size may
    /// touch one of the region's nodes, so the region is opened.
    reach: f32,
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
        self.regions = regions;
    }

    /// Body ranges of the leaves, in tree order (they tile `bodies`).
    pub fn leaves(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.regions
            .iter()
            .filter(|r| r.leaf)
            .map(|r| (r.start as usize, r.end as usize))
    }

    /// Repulsion on the bodies `start..end` (one leaf), written to `out`.
    ///
    /// The bodies walk the tree together, [`GROUP`] at a time (the lanes
    /// vectorise): a region is taken as one body at its mass centre when
    /// Gephi's criterion `distance · θ > size` holds for *every* body of the
    /// group, else the walk descends (never less accurate than Gephi's
    /// per-node walk). One-sided: only the group's bodies are pushed, so
    /// groups run in parallel without races and the result does not depend
    /// on scheduling.
    pub fn repulsion_group(
        &self,
        start: usize,
        end: usize,
        kr: f32,
        theta2: f32,
        adjust_sizes: bool,
        out: &mut [[f32; 2]],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above).
            unsafe { self.repulsion_group_avx(start, end, kr, theta2, adjust_sizes, out) };
            return;
        }
        self.repulsion_group_impl(start, end, kr, theta2, adjust_sizes, out);
    }

    /// The same code compiled with 8-wide AVX lanes. No FMA: every operation
    /// rounds as in the SSE build, so results are bit-identical on any x86-64.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn repulsion_group_avx(
        &self,
        start: usize,
        end: usize,
        kr: f32,
        theta2: f32,
        adjust_sizes: bool,
        out: &mut [[f32; 2]],
    ) {
        self.repulsion_group_impl(start, end, kr, theta2, adjust_sizes, out);
    }

    #[inline(always)]
    fn repulsion_group_impl(
        &self,
        start: usize,
        end: usize,
        kr: f32,
        theta2: f32,
        adjust_sizes: bool,
        out: &mut [[f32; 2]],
    ) {
        for first in (start..end).step_by(GROUP) {
            let count = GROUP.min(end - first);
            let mut bx = [0f32; GROUP];
            let mut by = [0f32; GROUP];
            let mut bm = [0f32; GROUP];
            let mut bs = [0f32; GROUP];
            for l in 0..GROUP {
                // Padding lanes copy the first body with no mass: they agree
                // with it on the criterion and add no force.
                let b = &self.bodies[first + if l < count { l } else { 0 }];
                bx[l] = b.x;
                by[l] = b.y;
                bm[l] = if l < count { kr * b.mass } else { 0.0 };
                bs[l] = b.size;
            }
            let mut fx = [0f32; GROUP];
            let mut fy = [0f32; GROUP];
            let mut r = 0usize;
            let n_regions = self.regions.len();
            while r < n_regions {
                let reg = &self.regions[r];
                if reg.end - reg.start > 1 {
                    let mut dx = [0f32; GROUP];
                    let mut dy = [0f32; GROUP];
                    let mut d2 = [0f32; GROUP];
                    let mut far = 0u32;
                    for l in 0..GROUP {
                        dx[l] = bx[l] - reg.cx;
                        dy[l] = by[l] - reg.cy;
                        d2[l] = dx[l] * dx[l] + dy[l] * dy[l];
                        // Prevent overlap: the region force ignores sizes
                        // (Gephi), which underestimates near regions badly
                        // (the pair law is kr·m·m·d/gap²), so a region is
                        // approximated only from twice its reach plus the
                        // node's size: gaps are then at least half the
                        // distance, and no contact is ever approximated.
                        let clear = !adjust_sizes
                            || d2[l] > 4.0 * (reg.reach + bs[l]) * (reg.reach + bs[l]);
                        far += u32::from(d2[l] * theta2 > reg.size2 && clear);
                    }
                    if far == GROUP as u32 {
                        for l in 0..GROUP {
                            let f = bm[l] * reg.mass / d2[l];
                            fx[l] += dx[l] * f;
                            fy[l] += dy[l] * f;
                        }
                        r = reg.next as usize;
                        continue;
                    }
                }
                if reg.leaf {
                    for l in 0..count {
                        let k = first + l;
                        let b = &self.bodies[k];
                        for j in reg.start as usize..reg.end as usize {
                            if j == k {
                                continue;
                            }
                            let o = &self.bodies[j];
                            let f = pair_repulsion(
                                b.node as usize,
                                o.node as usize,
                                b.x - o.x,
                                b.y - o.y,
                                kr * b.mass * o.mass,
                                adjust_sizes.then_some(b.size + o.size),
                            );
                            fx[l] += f[0];
                            fy[l] += f[1];
                        }
                    }
                    r = reg.next as usize;
                } else {
                    r += 1;
                }
            }
            for l in 0..count {
                out[first - start + l] = [fx[l], fy[l]];
            }
        }
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
    let mut reach = 0f32;
    for b in bodies.iter() {
        let d2 = (b.x - cx) * (b.x - cx) + (b.y - cy) * (b.y - cy);
        max_d2 = max_d2.max(d2);
        reach = reach.max(d2.sqrt() + b.size);
    }
    let me = out.len();
    out.push(Region {
        cx,
        cy,
        mass: sm as f32,
        // size = 2·max distance → size² = 4·max d².
        size2: 4.0 * max_d2,
        reach,
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
        let mut f = vec![[0f32; 2]; 100];
        t.repulsion_group(0, 100, 1.0, 1.44, false, &mut f);
        for v in f {
            assert!(v[0].is_finite() && v[1].is_finite());
            assert!(v[0] != 0.0 || v[1] != 0.0);
        }
    }
}
