//! How well a drawn map reads, with no ground truth: figures a researcher can
//! quote for any map, computed on plain data (image squares, tag vectors,
//! cluster hulls).
//!
//! * **coverage**: area of the union of the image squares over the area of
//!   their frame (the bounding box of all squares). Exact: a sweep line over
//!   x with a segment tree over the compressed y coordinates, O(n log n).
//! * **covered images**: share of images with more than
//!   [`COVERED_THRESHOLD`] of their own square under the union of the other
//!   squares. Exact: an R-tree finds the squares that overlap each image, and
//!   the same sweep measures the union of those clipped to the image.
//! * **hull overlap**: Σ over pairs of hulls of their intersection area, over
//!   the area of the union of all hulls (0 with fewer than 2 hulls). Can
//!   exceed 1 when three or more hulls pile up. Exact polygon booleans
//!   (`geo`); pairs whose bounding boxes do not meet are skipped.
//! * **neighbourhood agreement**: mean over tagged images of
//!   |k nearest tagged images on the map ∩ k most tag-similar tagged images| / k,
//!   k = [`NEIGHBOURS`] (fewer when there are not enough tagged images).
//!   Tag similarity is the cosine of the weighted tag vectors (compared to
//!   2⁻⁴⁰, so rounding does not split equal cosines); both rankings break
//!   ties by the lower image index. Above [`NEIGHBOURHOOD_SAMPLE`]
//!   tagged images the mean is over a fixed-seed sample of that many, each
//!   with its exact top k over all tagged images: hub tags make the exact
//!   all-pairs similarity quadratic, the sample keeps it linear.
//!
//! Squares with a non-finite coordinate or a non-positive or non-finite half
//! side are not drawn, so they take no part in the two area figures (nor in
//! their denominators); images with no usable tag (after dropping
//! non-positive or non-finite weights) or a non-finite centre take no part in
//! the neighbourhood figure. Every figure is deterministic and never NaN.
//!
//! Speed, measured with a throwaway release binary on 2 cores shared with
//! other builds (load ≈ 4): 100,000 images of half side 0.5 placed uniformly
//! (26% coverage, 37% covered), 3–8 tags each from 2,000 plus one hub tag on
//! 70% of the images, 200 twelve-point hulls: 1.4–1.6 s in all (the two area
//! figures 0.4–0.6 s, hulls 0.03 s, the neighbourhood of 2,000 sampled
//! images the rest). The same at 1,000,000 images: 11–12 s, 0.8 GB peak.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;

use geo::{
    Area, BooleanOps, BoundingRect, Coord, LineString, Orient, Polygon, orient::Direction,
    unary_union,
};
use rand::SeedableRng;
use rand::seq::index::sample;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// An image counts as covered when more than this share of its square lies
/// under other images' squares.
pub const COVERED_THRESHOLD: f64 = 0.3;
/// The project setting the last layout's figures are saved under.
pub const SETTING: &str = "map_quality";
/// Neighbourhood size of the agreement figure.
pub const NEIGHBOURS: usize = 10;
/// Above this many tagged images the neighbourhood figure is averaged over a
/// fixed-seed sample of this many.
pub const NEIGHBOURHOOD_SAMPLE: usize = 2000;
const SAMPLE_SEED: u64 = 0;
/// Cosines are compared after rounding to multiples of 1/this.
const COSINE_GRID: f64 = (1u64 << 40) as f64;

/// One image as drawn: an axis-aligned square centred at (x, y) with half
/// side `half` (map units).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageBox {
    pub x: f64,
    pub y: f64,
    pub half: f64,
}

/// The figures of one map; see the module documentation for definitions.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapQuality {
    /// Share of the frame (bounding box of all image squares) covered by the
    /// union of the squares.
    pub coverage: f64,
    /// Share of drawn images with more than [`COVERED_THRESHOLD`] of their own
    /// square covered by the union of other images' squares.
    pub covered_images: f64,
    /// Σ over pairs of hulls of their intersection area / area of the union
    /// of all hulls (0 with fewer than 2 hulls).
    pub hull_overlap: f64,
    /// Mean over (sampled) tagged images of |k nearest on the map ∩ k most
    /// tag-similar| / k; None with fewer than 2 tagged images.
    pub neighbourhood: Option<f64>,
    /// The k of the neighbourhood figure: [`NEIGHBOURS`], or one less than
    /// the number of tagged images when that is smaller (0 when None).
    pub neighbourhood_k: usize,
    /// How many images the neighbourhood figure was averaged over.
    pub neighbourhood_sample: usize,
    pub images: usize,
}

/// Scores a drawn map. `image_tags[i]` are image `i`'s (tag id, weight)
/// pairs; a tag listed twice has its weights summed. `hulls` are closed
/// polygons as point lists, the first point repeated at the end or not;
/// hulls with fewer than 3 points or no area are ignored.
///
/// # Panics
///
/// When `image_tags` does not hold one entry per image.
pub fn map_quality(
    images: &[ImageBox],
    image_tags: &[Vec<(u32, f32)>],
    hulls: &[Vec<[f64; 2]>],
) -> MapQuality {
    assert_eq!(
        images.len(),
        image_tags.len(),
        "one tag list per image is required"
    );
    let rects: Vec<Option<Rect>> = images.iter().map(drawn_rect).collect();
    let drawn: Vec<Rect> = rects.iter().flatten().copied().collect();
    let ((coverage, covered_images), (hull_overlap, neighbourhood)) = rayon::join(
        || rayon::join(|| coverage(&drawn), || covered_share(&drawn)),
        || {
            rayon::join(
                || hull_overlap(hulls),
                || neighbourhood(images, image_tags, NEIGHBOURS, NEIGHBOURHOOD_SAMPLE),
            )
        },
    );
    MapQuality {
        coverage,
        covered_images,
        // Rounding in the polygon operations can leave a -0.
        hull_overlap: hull_overlap.max(0.0),
        neighbourhood: neighbourhood.agreement,
        neighbourhood_k: neighbourhood.k,
        neighbourhood_sample: neighbourhood.scores.len(),
        images: images.len(),
    }
}

impl fmt::Display for MapQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "map quality: images cover {:.1}% of the area, {:.1}% of images are more than \
             {:.0}% covered by others, hull overlap {:.1}%, ",
            100.0 * self.coverage,
            100.0 * self.covered_images,
            100.0 * COVERED_THRESHOLD,
            100.0 * self.hull_overlap,
        )?;
        match self.neighbourhood {
            Some(a) => write!(
                f,
                "neighbourhood agreement {a:.2} ({k} nearest on the map vs {k} most tag-similar, \
                 {} images)",
                thousands(self.neighbourhood_sample),
                k = self.neighbourhood_k,
            ),
            None => write!(
                f,
                "neighbourhood agreement n/a (fewer than 2 tagged images)"
            ),
        }
    }
}

/// 1911 → "1,911".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// Squares

/// [x0, y0, x1, y1], x0 ≤ x1, y0 ≤ y1.
type Rect = [f64; 4];

fn drawn_rect(b: &ImageBox) -> Option<Rect> {
    let ok = b.x.is_finite() && b.y.is_finite() && b.half.is_finite() && b.half > 0.0;
    ok.then_some([b.x - b.half, b.y - b.half, b.x + b.half, b.y + b.half])
}

fn rect_area(r: &Rect) -> f64 {
    (r[2] - r[0]) * (r[3] - r[1])
}

/// Share of the bounding box of `rects` covered by their union (0 when the
/// box has no area).
fn coverage(rects: &[Rect]) -> f64 {
    let Some(first) = rects.first() else {
        return 0.0;
    };
    let frame = rects.iter().fold(*first, |f, r| {
        [
            f[0].min(r[0]),
            f[1].min(r[1]),
            f[2].max(r[2]),
            f[3].max(r[3]),
        ]
    });
    let frame_area = rect_area(&frame);
    if frame_area > 0.0 && frame_area.is_finite() {
        (UnionSweep::default().area(rects) / frame_area).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Share of `rects` whose area is more than [`COVERED_THRESHOLD`] under the
/// union of the others.
fn covered_share(rects: &[Rect]) -> f64 {
    if rects.is_empty() {
        return 0.0;
    }
    let tree = rect_tree(rects);
    let covered = (0..rects.len())
        .into_par_iter()
        .map_init(
            || (UnionSweep::default(), Vec::new()),
            |(sweep, clipped), i| {
                covered_fraction_above(&tree, rects, i, COVERED_THRESHOLD, sweep, clipped)
            },
        )
        .filter(|&c| c)
        .count();
    covered as f64 / rects.len() as f64
}

type RectItem = GeomWithData<Rectangle<[f64; 2]>, u32>;

fn rect_tree(rects: &[Rect]) -> RTree<RectItem> {
    RTree::bulk_load(
        rects
            .iter()
            .enumerate()
            .map(|(i, r)| {
                GeomWithData::new(
                    Rectangle::from_corners([r[0], r[1]], [r[2], r[3]]),
                    i as u32,
                )
            })
            .collect(),
    )
}

/// The parts of the other rectangles that lie inside `rects[i]` (positive
/// area only), pushed into `out`. Stops early, returning true, as soon as one
/// part alone exceeds `stop_above` of the rectangle's area: in a pile of
/// identical squares the first neighbour settles it.
fn clipped_others(
    tree: &RTree<RectItem>,
    rects: &[Rect],
    i: usize,
    stop_above: f64,
    out: &mut Vec<Rect>,
) -> bool {
    out.clear();
    let r = rects[i];
    let limit = stop_above * rect_area(&r);
    let envelope = AABB::from_corners([r[0], r[1]], [r[2], r[3]]);
    for other in tree.locate_in_envelope_intersecting(envelope) {
        if other.data as usize == i {
            continue;
        }
        let o = &rects[other.data as usize];
        let c = [
            r[0].max(o[0]),
            r[1].max(o[1]),
            r[2].min(o[2]),
            r[3].min(o[3]),
        ];
        if c[2] > c[0] && c[3] > c[1] {
            if rect_area(&c) > limit {
                return true;
            }
            out.push(c);
        }
    }
    false
}

/// Whether more than `threshold` of `rects[i]` lies under the other rectangles.
fn covered_fraction_above(
    tree: &RTree<RectItem>,
    rects: &[Rect],
    i: usize,
    threshold: f64,
    sweep: &mut UnionSweep,
    clipped: &mut Vec<Rect>,
) -> bool {
    clipped_others(tree, rects, i, threshold, clipped)
        || sweep.area(clipped) > threshold * rect_area(&rects[i])
}

/// Share of each rectangle under the union of the others (tests only: the
/// figure itself stops counting once the threshold is passed).
#[cfg(test)]
fn covered_fractions(rects: &[Rect]) -> Vec<f64> {
    let tree = rect_tree(rects);
    let mut sweep = UnionSweep::default();
    let mut clipped = Vec::new();
    (0..rects.len())
        .map(|i| {
            // A stop above 1 never triggers: every part is collected.
            clipped_others(&tree, rects, i, 2.0, &mut clipped);
            sweep.area(&clipped) / rect_area(&rects[i])
        })
        .collect()
}

/// Area of a union of rectangles: a sweep over x with a segment tree over the
/// compressed y coordinates holding, per node, how many rectangles cover the
/// whole node and how much of the node's y range is covered. Buffers are kept
/// between calls (one sweep per thread measures many small sets).
#[derive(Default)]
struct UnionSweep {
    ys: Vec<f64>,
    /// (x, first y slot, last y slot, +1 enters / -1 leaves).
    events: Vec<(f64, u32, u32, i32)>,
    count: Vec<i32>,
    covered: Vec<f64>,
}

impl UnionSweep {
    fn area(&mut self, rects: &[Rect]) -> f64 {
        self.ys.clear();
        for r in rects {
            if r[2] > r[0] && r[3] > r[1] {
                self.ys.push(r[1]);
                self.ys.push(r[3]);
            }
        }
        self.ys.sort_unstable_by(f64::total_cmp);
        self.ys.dedup();
        if self.ys.len() < 2 {
            return 0.0;
        }
        self.events.clear();
        for r in rects {
            if r[2] > r[0] && r[3] > r[1] {
                let lo = self.slot(r[1]);
                let hi = self.slot(r[3]);
                self.events.push((r[0], lo, hi, 1));
                self.events.push((r[2], lo, hi, -1));
            }
        }
        self.events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let segments = self.ys.len() - 1;
        self.count.clear();
        self.count.resize(4 * segments, 0);
        self.covered.clear();
        self.covered.resize(4 * segments, 0.0);
        let events = std::mem::take(&mut self.events);
        let mut area = 0.0;
        let mut prev_x = events[0].0;
        for &(x, lo, hi, delta) in &events {
            area += self.covered[1] * (x - prev_x);
            prev_x = x;
            self.update(1, 0, segments, lo as usize, hi as usize, delta);
        }
        self.events = events;
        area
    }

    fn slot(&self, y: f64) -> u32 {
        // Every y was pushed, so the search always finds it.
        self.ys.partition_point(|&v| v < y) as u32
    }

    /// Adds `delta` to the cover count of segments [l, r) in node `node`,
    /// which spans segments [lo, hi).
    fn update(&mut self, node: usize, lo: usize, hi: usize, l: usize, r: usize, delta: i32) {
        if r <= lo || hi <= l {
            return;
        }
        if l <= lo && hi <= r {
            self.count[node] += delta;
        } else {
            let mid = (lo + hi) / 2;
            self.update(2 * node, lo, mid, l, r, delta);
            self.update(2 * node + 1, mid, hi, l, r, delta);
        }
        self.covered[node] = if self.count[node] > 0 {
            self.ys[hi] - self.ys[lo]
        } else if hi - lo == 1 {
            0.0
        } else {
            self.covered[2 * node] + self.covered[2 * node + 1]
        };
    }
}

// ---------------------------------------------------------------------------
// Hulls

/// A hull as a counter-clockwise polygon, or None when it has fewer than 3
/// distinct points, a non-finite point or no area.
fn hull_polygon(points: &[[f64; 2]]) -> Option<Polygon<f64>> {
    if points
        .iter()
        .any(|p| !p[0].is_finite() || !p[1].is_finite())
    {
        return None;
    }
    let mut coords: Vec<Coord<f64>> = points.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    coords.dedup();
    if coords.len() > 1 && coords.first() == coords.last() {
        coords.pop();
    }
    if coords.len() < 3 {
        return None;
    }
    // unary_union picks its fill rule from the first ring's winding, so all
    // rings must wind the same way.
    let polygon = Polygon::new(LineString::from(coords), vec![]).orient(Direction::Default);
    (polygon.unsigned_area() > 0.0).then_some(polygon)
}

fn hull_overlap(hulls: &[Vec<[f64; 2]>]) -> f64 {
    let polygons: Vec<Polygon<f64>> = hulls.iter().filter_map(|h| hull_polygon(h)).collect();
    if polygons.len() < 2 {
        return 0.0;
    }
    // Pairs whose boxes meet, found by a sweep over the boxes' left edges.
    let mut boxes: Vec<(usize, geo::Rect<f64>)> = polygons
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.bounding_rect().map(|b| (i, b)))
        .collect();
    boxes.sort_by(|a, b| a.1.min().x.total_cmp(&b.1.min().x).then(a.0.cmp(&b.0)));
    let mut pairs = Vec::new();
    for (a, (i, bi)) in boxes.iter().enumerate() {
        for (j, bj) in &boxes[a + 1..] {
            if bj.min().x > bi.max().x {
                break;
            }
            if bj.min().y <= bi.max().y && bi.min().y <= bj.max().y {
                pairs.push((*i, *j));
            }
        }
    }
    let overlap: f64 = pairs
        .par_iter()
        .map(|&(i, j)| polygons[i].intersection(&polygons[j]).unsigned_area())
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let union = unary_union(&polygons).unsigned_area();
    if union > 0.0 && overlap.is_finite() {
        overlap / union
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------
// Neighbourhood

struct Neighbourhood {
    agreement: Option<f64>,
    k: usize,
    /// (image index, its agreement), one per averaged image, by index.
    scores: Vec<(usize, f64)>,
}

/// Unit tag vectors of the tagged images, in CSR form, plus the postings.
struct TagIndex {
    /// Original index of each tagged image, ascending: ranking by the local
    /// index breaks ties by the lower image index.
    ids: Vec<usize>,
    offsets: Vec<usize>,
    /// (dense tag, unit-vector weight), by tag id.
    entries: Vec<(u32, f64)>,
    /// Per dense tag, (local image, weight), by local image.
    postings: Vec<Vec<(u32, f64)>>,
}

impl TagIndex {
    fn new(images: &[ImageBox], image_tags: &[Vec<(u32, f32)>]) -> TagIndex {
        let mut dense = HashMap::<u32, u32>::new();
        let mut ids = Vec::new();
        let mut offsets = vec![0];
        let mut entries = Vec::new();
        let mut vector = Vec::new();
        for (i, tags) in image_tags.iter().enumerate() {
            if !(images[i].x.is_finite() && images[i].y.is_finite()) {
                continue;
            }
            vector.clear();
            vector.extend(
                tags.iter()
                    .filter(|(_, w)| w.is_finite() && *w > 0.0)
                    .map(|&(t, w)| (t, f64::from(w))),
            );
            vector.sort_unstable_by_key(|e| e.0);
            // A tag listed twice counts once with its weights summed.
            vector.dedup_by(|later, first| {
                let same = later.0 == first.0;
                if same {
                    first.1 += later.1;
                }
                same
            });
            let norm = vector.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
            if !(norm > 0.0 && norm.is_finite()) {
                continue;
            }
            ids.push(i);
            for &(t, w) in &vector {
                let next = dense.len() as u32;
                entries.push((*dense.entry(t).or_insert(next), w / norm));
            }
            offsets.push(entries.len());
        }
        let mut postings = vec![Vec::new(); dense.len()];
        for local in 0..ids.len() {
            for &(t, w) in &entries[offsets[local]..offsets[local + 1]] {
                postings[t as usize].push((local as u32, w));
            }
        }
        TagIndex {
            ids,
            offsets,
            entries,
            postings,
        }
    }

    fn vector(&self, local: usize) -> &[(u32, f64)] {
        &self.entries[self.offsets[local]..self.offsets[local + 1]]
    }

    /// The `k` tagged images most similar to `q` by cosine (local indices,
    /// ties by the lower index), through the postings: only images sharing a
    /// tag are scored, the rest have similarity 0 and rank by index after.
    /// `acc` is zero on entry and left so; `touched` is scratch.
    fn most_similar(
        &self,
        q: usize,
        k: usize,
        acc: &mut [f64],
        touched: &mut Vec<u32>,
    ) -> Vec<u32> {
        touched.clear();
        for &(t, w) in self.vector(q) {
            for &(j, wj) in &self.postings[t as usize] {
                // Products are positive, so 0 means not reached yet.
                if acc[j as usize] == 0.0 {
                    touched.push(j);
                }
                acc[j as usize] += w * wj;
            }
        }
        // Ranked on a 2⁻⁴⁰ grid: equal cosines reached by different roundings
        // (parallel vectors of different lengths) still tie, and go by index.
        // One u128 per candidate orders by cosine, then lower index; a heap
        // of the k best turns most of a hub tag's candidates away with one
        // comparison.
        // (Cosines are ≥ 0, so adding ½ and truncating rounds.)
        let rank = |j: u32| {
            let key = (acc[j as usize] * COSINE_GRID + 0.5) as u64;
            (u128::from(key) << 32) | u128::from(u32::MAX - j)
        };
        let mut heap = BinaryHeap::with_capacity(k + 1);
        // Below this an image cannot reach the heap's worst key.
        let mut floor = f64::NEG_INFINITY;
        for &j in touched.iter() {
            if j as usize == q || acc[j as usize] < floor {
                continue;
            }
            let r = rank(j);
            if heap.len() < k {
                heap.push(Reverse(r));
            } else if heap.peek().is_some_and(|worst| r > worst.0) {
                heap.pop();
                heap.push(Reverse(r));
            } else {
                continue;
            }
            if heap.len() == k
                && let Some(Reverse(worst)) = heap.peek()
            {
                floor = ((worst >> 32) as f64 - 1.0) / COSINE_GRID;
            }
        }
        // Ascending Reverse = descending rank: best first.
        let mut best: Vec<u32> = heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(r)| u32::MAX - r as u32)
            .collect();
        let mut j = 0;
        while best.len() < k {
            if j != q && acc[j] == 0.0 {
                best.push(j as u32);
            }
            j += 1;
        }
        for &j in touched.iter() {
            acc[j as usize] = 0.0;
        }
        best
    }
}

/// The `k` tagged images nearest to `q` on the map (local indices, ties by
/// the lower index): rstar yields by increasing distance, so read until the
/// k-th distance is passed and sort what was read.
fn nearest_on_map(
    tree: &RTree<GeomWithData<[f64; 2], u32>>,
    at: [f64; 2],
    q: usize,
    k: usize,
) -> Vec<u32> {
    let mut found: Vec<(f64, u32)> = Vec::with_capacity(k + 4);
    for (item, d2) in tree.nearest_neighbor_iter_with_distance_2(at) {
        if item.data as usize == q {
            continue;
        }
        if found.len() >= k && d2 > found[k - 1].0 {
            break;
        }
        found.push((d2, item.data));
    }
    found.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    found.truncate(k);
    found.into_iter().map(|(_, j)| j).collect()
}

/// The neighbourhood figure with its parameters open (the tests shrink both).
fn neighbourhood(
    images: &[ImageBox],
    image_tags: &[Vec<(u32, f32)>],
    k: usize,
    cap: usize,
) -> Neighbourhood {
    let index = TagIndex::new(images, image_tags);
    let m = index.ids.len();
    let k = k.min(m.saturating_sub(1));
    if m < 2 || k == 0 {
        return Neighbourhood {
            agreement: None,
            k: 0,
            scores: Vec::new(),
        };
    }
    let queries: Vec<usize> = if m > cap {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(SAMPLE_SEED);
        let mut v = sample(&mut rng, m, cap).into_vec();
        v.sort_unstable();
        v
    } else {
        (0..m).collect()
    };
    let centre = |local: usize| [images[index.ids[local]].x, images[index.ids[local]].y];
    let tree = RTree::bulk_load(
        (0..m)
            .map(|l| GeomWithData::new(centre(l), l as u32))
            .collect(),
    );
    let scores: Vec<(usize, f64)> = queries
        .par_iter()
        .map_init(
            || (vec![0.0f64; m], Vec::new()),
            |(acc, touched), &q| {
                let mut near = nearest_on_map(&tree, centre(q), q, k);
                let similar = index.most_similar(q, k, acc, touched);
                near.sort_unstable();
                let shared = similar
                    .iter()
                    .filter(|j| near.binary_search(j).is_ok())
                    .count();
                (index.ids[q], shared as f64 / k as f64)
            },
        )
        .collect();
    let agreement = scores.iter().map(|s| s.1).sum::<f64>() / scores.len() as f64;
    Neighbourhood {
        agreement: Some(agreement),
        k,
        scores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sq(x: f64, y: f64, half: f64) -> ImageBox {
        ImageBox { x, y, half }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn two_squares_overlapping_by_half_and_a_third_apart() {
        // A=[-1,1]², B=[0,2]×[-1,1] share 2 (half of each); C=[9,11]×[-1,1].
        // Union 6 + 4 = 10, frame [-1,11]×[-1,1] = 24; A and B are covered.
        let images = [sq(0.0, 0.0, 1.0), sq(1.0, 0.0, 1.0), sq(10.0, 0.0, 1.0)];
        let q = map_quality(&images, &[vec![], vec![], vec![]], &[]);
        assert!(close(q.coverage, 10.0 / 24.0), "{q:?}");
        assert!(close(q.covered_images, 2.0 / 3.0), "{q:?}");
        assert_eq!(q.neighbourhood, None);
        assert_eq!(q.images, 3);
    }

    #[test]
    fn a_quarter_overlap_is_not_covered() {
        // A=[-1,1]², B=[0,2]²: they share 1 of 4 (25%); union 7, frame 9.
        let images = [sq(0.0, 0.0, 1.0), sq(1.0, 1.0, 1.0)];
        let q = map_quality(&images, &[vec![], vec![]], &[]);
        assert!(close(q.coverage, 7.0 / 9.0), "{q:?}");
        assert_eq!(q.covered_images, 0.0);
    }

    #[test]
    fn a_square_inside_another() {
        // B (area 1) wholly inside A (area 16): B is 100% covered, A 1/16.
        let images = [sq(0.0, 0.0, 2.0), sq(0.5, 0.5, 0.5)];
        let rects: Vec<Rect> = images.iter().filter_map(drawn_rect).collect();
        let f = covered_fractions(&rects);
        assert!(close(f[0], 1.0 / 16.0) && close(f[1], 1.0), "{f:?}");
        let q = map_quality(&images, &[vec![], vec![]], &[]);
        assert!(close(q.coverage, 1.0));
        assert!(close(q.covered_images, 0.5));
    }

    #[test]
    fn covered_counts_the_union_of_the_others_not_their_sum_or_max() {
        // Target [0,10]². Left: [-2.5,2.5]×[1,6] and [-2.5,2.5]×[4,9] give
        // x∈[0,2.5], y∈[1,9] inside: 20 (their sum would be 25).
        let left = [sq(5.0, 5.0, 5.0), sq(0.0, 3.5, 2.5), sq(0.0, 6.5, 2.5)];
        // Right [8,12]×[3,7] adds 8: union 28% (the sum, 33%, would count).
        let mut a = left.to_vec();
        a.push(sq(10.0, 5.0, 2.0));
        let rects: Vec<Rect> = a.iter().filter_map(drawn_rect).collect();
        assert!(close(covered_fractions(&rects)[0], 0.28));
        assert!(!covered_fraction_above(
            &rect_tree(&rects),
            &rects,
            0,
            COVERED_THRESHOLD,
            &mut UnionSweep::default(),
            &mut Vec::new()
        ));
        // Right [7.5,12.5]×[2.5,7.5] adds 12.5: union 32.5%, no single part over
        // 12.5%.
        let mut b = left.to_vec();
        b.push(sq(10.0, 5.0, 2.5));
        let rects: Vec<Rect> = b.iter().filter_map(drawn_rect).collect();
        assert!(close(covered_fractions(&rects)[0], 0.325));
        assert!(covered_fraction_above(
            &rect_tree(&rects),
            &rects,
            0,
            COVERED_THRESHOLD,
            &mut UnionSweep::default(),
            &mut Vec::new()
        ));
    }

    /// Squares with corners on a 1/8 grid, rasterised at 1/64 with pixel
    /// centres on odd multiples of 1/128: no pixel straddles an edge, so the
    /// raster is exact and must agree to rounding.
    #[test]
    fn exact_raster_agrees_on_grid_aligned_squares() {
        use rand::RngExt;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let images: Vec<ImageBox> = (0..40)
            .map(|_| {
                let half = f64::from(rng.random_range(1..=12u32)) / 8.0;
                let x = f64::from(rng.random_range(0..=80u32)) / 8.0;
                let y = f64::from(rng.random_range(0..=80u32)) / 8.0;
                sq(x, y, half)
            })
            .collect();
        let rects: Vec<Rect> = images.iter().filter_map(drawn_rect).collect();
        let step = 1.0 / 64.0;
        let (x0, y0) = (-2.0, -2.0);
        let side = (14.0 / step) as usize;
        let cell = |v: f64, o: f64| ((v - o) / step).round() as usize;
        let mut count = vec![0u16; side * side];
        for r in &rects {
            for py in cell(r[1], y0)..cell(r[3], y0) {
                for px in cell(r[0], x0)..cell(r[2], x0) {
                    count[py * side + px] += 1;
                }
            }
        }
        let (fx0, fy0, fx1, fy1) = rects.iter().fold(
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            |f, r| (f.0.min(r[0]), f.1.min(r[1]), f.2.max(r[2]), f.3.max(r[3])),
        );
        let filled = count.iter().filter(|&&c| c > 0).count() as f64 * step * step;
        let raster_coverage = filled / ((fx1 - fx0) * (fy1 - fy0));
        let exact = coverage(&rects);
        assert!(
            (exact - raster_coverage).abs() < 1e-9,
            "{exact} vs {raster_coverage}"
        );

        // A pixel of square i is under the others when more than one covers it.
        let fractions = covered_fractions(&rects);
        let mut covered = 0;
        for (i, r) in rects.iter().enumerate() {
            let (mut under, mut all) = (0usize, 0usize);
            for py in cell(r[1], y0)..cell(r[3], y0) {
                for px in cell(r[0], x0)..cell(r[2], x0) {
                    all += 1;
                    under += usize::from(count[py * side + px] > 1);
                }
            }
            let raster = under as f64 / all as f64;
            assert!(
                (fractions[i] - raster).abs() < 1e-9,
                "image {i}: {} vs {raster}",
                fractions[i]
            );
            covered += usize::from(raster > COVERED_THRESHOLD);
        }
        assert!(covered > 0 && covered < rects.len(), "fixture should mix");
        assert!(close(
            covered_share(&rects),
            covered as f64 / rects.len() as f64
        ));
    }

    #[test]
    fn undrawable_squares_and_empty_input_give_zero() {
        let q = map_quality(&[], &[], &[]);
        assert_eq!(
            (
                q.coverage,
                q.covered_images,
                q.hull_overlap,
                q.neighbourhood
            ),
            (0.0, 0.0, 0.0, None)
        );
        assert_eq!(q.neighbourhood_sample, 0);
        let images = [
            sq(f64::NAN, 0.0, 1.0),
            sq(0.0, 0.0, 0.0),
            sq(0.0, 0.0, -1.0),
        ];
        let q = map_quality(&images, &[vec![(1, 1.0)], vec![], vec![]], &[]);
        assert_eq!((q.coverage, q.covered_images), (0.0, 0.0));
        assert_eq!(q.neighbourhood, None);
        assert!(q.to_string().contains("n/a"), "{q}");
    }

    #[test]
    fn hulls_two_rectangles_a_degenerate_one_and_one_apart() {
        // [0,4]×[0,2] (closed, clockwise) and [2,6]×[0,2] (open, ccw) share
        // 4; union 12 + 1 (the unit square apart) = 13; the 2-point hull is
        // ignored.
        let hulls = vec![
            vec![[0.0, 0.0], [0.0, 2.0], [4.0, 2.0], [4.0, 0.0], [0.0, 0.0]],
            vec![[2.0, 0.0], [6.0, 0.0], [6.0, 2.0], [2.0, 2.0]],
            vec![[1.0, 1.0], [3.0, 1.0]],
            vec![[10.0, 10.0], [11.0, 10.0], [11.0, 11.0], [10.0, 11.0]],
        ];
        assert!(close(hull_overlap(&hulls), 4.0 / 13.0));
        assert!(close(hull_overlap(&hulls[..2]), 4.0 / 12.0));
        assert_eq!(hull_overlap(&hulls[2..]), 0.0);
        assert_eq!(hull_overlap(&hulls[..1]), 0.0);
    }

    #[test]
    fn hulls_nested_and_piled() {
        // A unit-2 square inside a triangle of area 8: 4 / 8.
        let tri = vec![[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]];
        let square = vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];
        assert!(close(hull_overlap(&[tri, square.clone()]), 0.5));
        // Three identical squares: three pairs of 4 over a union of 4.
        let three = vec![square.clone(), square.clone(), square];
        assert!(close(hull_overlap(&three), 3.0));
    }

    #[test]
    fn neighbourhood_hand_cases() {
        // Map pairs {0,1} and {2,3}; image 4 is untagged and sits on image 0.
        let images = [
            sq(0.0, 0.0, 0.1),
            sq(1.0, 0.0, 0.1),
            sq(10.0, 0.0, 0.1),
            sq(11.0, 0.0, 0.1),
            sq(0.0, 0.0, 0.1),
        ];
        let agree = vec![
            vec![(1, 1.0)],
            vec![(1, 0.5)],
            vec![(2, 1.0)],
            vec![(2, 3.0)],
            vec![],
        ];
        let n = neighbourhood(&images, &agree, 1, 100);
        assert_eq!(n.agreement, Some(1.0));
        assert_eq!(n.scores.len(), 4);
        // Tags pair {0,2} and {1,3} instead: no nearest image is the most similar.
        let disagree = vec![
            vec![(1, 1.0)],
            vec![(2, 1.0)],
            vec![(1, 1.0)],
            vec![(2, 1.0)],
            vec![],
        ];
        assert_eq!(
            neighbourhood(&images, &disagree, 1, 100).agreement,
            Some(0.0)
        );
        // k = 2 in the second layout: image 0's 2 nearest {1, 2}, 2 most
        // similar {2, then 1 by index among the cosine-0}: 1. Image 1:
        // nearest {0, 2}, similar {3, 0}: 1/2. Image 2: nearest {3, 1},
        // similar {0, 1}: 1/2. Image 3: nearest {2, 1}, similar {1, 0}: 1/2.
        let n = neighbourhood(&images, &disagree, 2, 100);
        assert!(
            close(n.agreement.unwrap(), (1.0 + 0.5 + 0.5 + 0.5) / 4.0),
            "{:?}",
            n.scores
        );
    }

    /// Independent reference: all pairs, explicit cosine, full sorts.
    fn brute_force_agreement(
        images: &[ImageBox],
        tags: &[Vec<(u32, f32)>],
        k: usize,
        i: usize,
    ) -> f64 {
        let vector = |i: usize| {
            let mut v = std::collections::BTreeMap::<u32, f64>::new();
            for &(t, w) in &tags[i] {
                if w.is_finite() && w > 0.0 {
                    *v.entry(t).or_default() += f64::from(w);
                }
            }
            v
        };
        let tagged: Vec<usize> = (0..images.len())
            .filter(|&j| !vector(j).is_empty())
            .collect();
        let cos = |a: usize, b: usize| {
            let (va, vb) = (vector(a), vector(b));
            let dot: f64 = va.iter().map(|(t, w)| w * vb.get(t).unwrap_or(&0.0)).sum();
            let na = va.values().map(|w| w * w).sum::<f64>().sqrt();
            let nb = vb.values().map(|w| w * w).sum::<f64>().sqrt();
            dot / (na * nb)
        };
        let others: Vec<usize> = tagged.iter().copied().filter(|&j| j != i).collect();
        let mut by_map = others.clone();
        let d2 =
            |j: usize| (images[i].x - images[j].x).powi(2) + (images[i].y - images[j].y).powi(2);
        by_map.sort_by(|&a, &b| d2(a).total_cmp(&d2(b)).then(a.cmp(&b)));
        let mut by_tags = others;
        // Cosines equal to 1e-9 tie (rounding splits parallel vectors).
        let sim = |j: usize| (cos(i, j) * 1e9).round() as i64;
        by_tags.sort_by(|&a, &b| sim(b).cmp(&sim(a)).then(a.cmp(&b)));
        let shared = by_tags[..k]
            .iter()
            .filter(|j| by_map[..k].contains(j))
            .count();
        shared as f64 / k as f64
    }

    fn random_fixture(n: usize, seed: u64) -> (Vec<ImageBox>, Vec<Vec<(u32, f32)>>) {
        use rand::RngExt;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        let mut images: Vec<ImageBox> = Vec::new();
        let mut tags = Vec::new();
        for i in 0..n {
            // Every fifth image repeats the previous position (distance ties).
            let (x, y) = if i % 5 == 4 {
                (images[i - 1].x, images[i - 1].y)
            } else {
                (rng.random_range(0.0..10.0), rng.random_range(0.0..10.0))
            };
            images.push(sq(x, y, 0.2));
            let mut t: Vec<(u32, f32)> = Vec::new();
            if i % 7 == 3 {
                // untagged
            } else if i % 6 == 5 {
                // The previous vector scaled (similarity ties).
                t = tags.last().cloned().unwrap_or_default();
                t.iter_mut().for_each(|e: &mut (u32, f32)| e.1 *= 2.5);
            } else {
                if rng.random_bool(0.7) {
                    t.push((0, rng.random_range(0.1..1.0))); // the hub tag
                }
                for _ in 0..rng.random_range(0..4) {
                    t.push((rng.random_range(1..12), rng.random_range(0.1..1.0)));
                }
            }
            tags.push(t);
        }
        (images, tags)
    }

    #[test]
    fn neighbourhood_matches_brute_force() {
        let (images, tags) = random_fixture(90, 3);
        for k in [1, 3, 10] {
            let n = neighbourhood(&images, &tags, k, 1000);
            let tagged = (0..images.len())
                .filter(|&i| tags[i].iter().any(|t| t.1 > 0.0))
                .count();
            assert_eq!(n.scores.len(), tagged);
            let mut sum = 0.0;
            for &(i, score) in &n.scores {
                let want = brute_force_agreement(&images, &tags, k, i);
                assert!(close(score, want), "k {k} image {i}: {score} vs {want}");
                sum += want;
            }
            assert!(close(n.agreement.unwrap(), sum / tagged as f64));
        }
    }

    #[test]
    fn neighbourhood_sample_is_fixed_and_exact_per_image() {
        let (images, tags) = random_fixture(120, 5);
        let a = neighbourhood(&images, &tags, 10, 25);
        let b = neighbourhood(&images, &tags, 10, 25);
        assert_eq!(a.scores.len(), 25);
        assert_eq!(a.scores, b.scores);
        for &(i, score) in &a.scores {
            assert!(
                close(score, brute_force_agreement(&images, &tags, 10, i)),
                "image {i}"
            );
        }
    }

    #[test]
    fn display_is_one_line() {
        let q = MapQuality {
            coverage: 0.312,
            covered_images: 0.021,
            hull_overlap: 0.004,
            neighbourhood: Some(0.62),
            neighbourhood_k: 10,
            neighbourhood_sample: 1911,
            images: 1911,
        };
        assert_eq!(
            q.to_string(),
            "map quality: images cover 31.2% of the area, 2.1% of images are more than 30% \
             covered by others, hull overlap 0.4%, neighbourhood agreement 0.62 (10 nearest on \
             the map vs 10 most tag-similar, 1,911 images)"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
