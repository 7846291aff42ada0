//! Stacking near-duplicate images: images whose perceptual hashes (see
//! `fetch::phash`) differ in at most D bits, and whose mean colours and
//! shapes agree, become one stack, drawn as one node whose frequency is the
//! sum of its members'. A stack's representative is its most frequent member (ties:
//! the lowest image id), and every member is within D of it (see
//! `find_stacks_by` for why there is no chaining, and `informative` and
//! `confirms` for the checks that keep different pictures apart).
//!
//! Neighbours are found with a multi-index hash over the distinct hashes
//! (`ChunkIndex`), so a query looks at a few buckets instead of every hash.

use std::collections::HashMap;

use anyhow::{Context, Result};

use super::{Edge, Graph, Node, NodeKind};
use crate::fetch::phash::{self, ColourGrid};
use crate::project::Project;

/// The default `--hash-distance`: variants of one image measured about 7
/// bits apart on average, unrelated images about 30 (notes/CRATES.md).
pub const DEFAULT_HASH_DISTANCE: u32 = 6;

/// An image as stacking sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hashed {
    pub image_id: i64,
    pub hash: u64,
    pub frequency: u32,
    /// The mean colour (0xRRGGBB) of an opaque image; `None` when unknown
    /// or transparent (see `colours_agree`).
    pub colour: Option<u32>,
    /// Width / height of the original; `None` when unknown.
    pub aspect: Option<f32>,
    /// The colour grid (`phash::signature`); `None` when unknown.
    pub grid: Option<ColourGrid>,
}

/// A group of near-identical images (two or more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    pub representative: i64,
    /// Every member, the representative included, with its hash distance to
    /// the representative; the representative first, then by image id.
    pub members: Vec<(i64, u32)>,
    /// Sum of the members' frequencies.
    pub frequency: u32,
}

/// Multi-index hashing (Norouzi, Punjani and Fleet 2012) over distinct
/// hashes: the 64 bits in four 16-bit chunks (`chunk`); two hashes at most D bits
/// apart differ in at most D / 4 bits in at least one chunk, so a query
/// only reads, in each chunk's table, the buckets of chunk values within
/// D / 4 of its own.
///
/// Three chunks of 21–22 bits, as the paper advises for a million hashes,
/// read 4 times fewer candidates there, but a query then reads 762 buckets
/// scattered over 8–16 MB of offsets instead of 68, and took longer (49 s
/// against 44 s in `tagscape bench duplicates --images 1000000`).
struct ChunkIndex {
    /// Per chunk, by chunk value.
    tables: Vec<Table>,
    /// The query that last saw each hash, so a hash found in two chunks counts once.
    seen: Vec<u32>,
    query: u32,
}

/// One chunk's buckets: bucket v is `starts[v]..starts[v + 1]` of `hashes`
/// and `positions` (the hash's place among the distinct hashes). The hashes
/// are copied into the buckets so a query reads them in order: looked up
/// through their positions, nearly every candidate was a cache miss, and
/// the index took 3.5 times as long at a million images.
struct Table {
    starts: Vec<u32>,
    hashes: Vec<u64>,
    positions: Vec<u32>,
}

const CHUNKS: u32 = 4;

/// Chunk `c` of `hash`: bits c, c + 4, c + 8, ... Interleaved rather than
/// contiguous, because contiguous bits are rows of the hash's 8×8 grid, and
/// the blank margins of screenshots and logos make whole rows 0: one bucket
/// then held a fifth of the images and every query read it.
fn chunk(hash: u64, c: u32) -> usize {
    let mut value = 0;
    for k in 0..16 {
        value |= ((hash >> (c + CHUNKS * k)) & 1) << k;
    }
    value as usize
}

impl ChunkIndex {
    fn new(hashes: &[u64]) -> ChunkIndex {
        let tables = (0..CHUNKS)
            .map(|c| {
                let mut starts = vec![0u32; 65_537];
                for &h in hashes {
                    starts[chunk(h, c) + 1] += 1;
                }
                for v in 1..starts.len() {
                    starts[v] += starts[v - 1];
                }
                let mut next = starts.clone();
                let mut table = Table {
                    starts,
                    hashes: vec![0; hashes.len()],
                    positions: vec![0; hashes.len()],
                };
                for (i, &h) in hashes.iter().enumerate() {
                    let slot = &mut next[chunk(h, c)];
                    table.hashes[*slot as usize] = h;
                    table.positions[*slot as usize] = i as u32;
                    *slot += 1;
                }
                table
            })
            .collect();
        ChunkIndex {
            tables,
            seen: vec![u32::MAX; hashes.len()],
            query: 0,
        }
    }

    /// The positions (in the hashes given to `new`) of every stored hash within `max` of `hash`.
    fn within(&mut self, hash: u64, max: u32, out: &mut Vec<usize>) {
        self.query = self.query.wrapping_add(1);
        let radius = max / CHUNKS;
        let mut values = Vec::new();
        for (c, table) in (0..CHUNKS).zip(&self.tables) {
            values.clear();
            chunk_values_within(chunk(hash, c) as u16, radius, &mut values);
            for &v in &values {
                let bucket =
                    table.starts[v as usize] as usize..table.starts[v as usize + 1] as usize;
                let found = table.hashes[bucket.clone()]
                    .iter()
                    .zip(&table.positions[bucket]);
                for (&other, &i) in found {
                    let i = i as usize;
                    if phash::distance(other, hash) <= max && self.seen[i] != self.query {
                        self.seen[i] = self.query;
                        out.push(i);
                    }
                }
            }
        }
    }
}

/// Every 16-bit value within `radius` bits of `value`: by flipping bits
/// for small radii, else by testing all 65,536.
fn chunk_values_within(value: u16, radius: u32, out: &mut Vec<u16>) {
    if radius >= 3 {
        out.extend((0..=u16::MAX).filter(|&v| (v ^ value).count_ones() <= radius));
        return;
    }
    out.push(value);
    for a in 0..16 {
        if radius >= 1 {
            out.push(value ^ (1 << a));
        }
        if radius >= 2 {
            for b in a + 1..16 {
                out.push(value ^ (1 << a) ^ (1 << b));
            }
        }
    }
}

/// Above this many images stacking shows a progress bar.
const PROGRESS_FROM: usize = 20_000;

/// Hashes with fewer 0 bits or fewer 1 bits than this say too little to
/// stack on (see `informative`).
pub const MIN_INFORMATIVE_BITS: u32 = 10;

/// Whether `hash` carries enough bits to stack on: a flat or nearly flat
/// picture (a solid background, a blank page, a plain sky over a flat
/// ground) has almost no brightness steps, so its gradient hash is nearly
/// all 0s (or all 1s for a steady ramp) whatever it shows, and two hashes
/// with p and q bits set are at most p + q apart: with fewer than 10, such
/// pictures often came within the default 6 bits of each other.
pub fn informative(hash: u64) -> bool {
    let ones = hash.count_ones();
    ones.min(64 - ones) >= MIN_INFORMATIVE_BITS
}

/// Mean colours (0xRRGGBB) further apart than this in any channel do not
/// stack: the gradient hash reads brightness steps only, so it cannot tell
/// a red logo from a blue one. Resizing, recompressing and a light crop
/// keep the mean within a few levels: in `tagscape bench duplicates`, 24
/// levels let 5 times as many different images stack as 6, and 6 found 1 %
/// fewer of the real variants.
pub const MAX_COLOUR_DIFFERENCE: u32 = 6;

/// Whether two images' mean colours allow them to stack (`None`: unknown, or
/// the image is transparent, whose stored mean leaves out the transparent
/// pixels that its white-backed copy shows: no check then).
pub fn colours_agree(a: Option<u32>, b: Option<u32>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    [16, 8, 0]
        .iter()
        .all(|&shift| ((a >> shift) & 0xFF).abs_diff((b >> shift) & 0xFF) <= MAX_COLOUR_DIFFERENCE)
}

/// Aspect ratios further apart than this factor do not stack: the hash is
/// taken on the picture squeezed to 9×8, so it cannot tell a square image
/// from a wide one, while resizing and recompressing keep the ratio and a
/// light crop (3 % off each side) changes it by less than 7 %.
pub const MAX_ASPECT_RATIO: f32 = 1.1;

/// Whether two images' aspect ratios allow them to stack (unknown: no check).
pub fn shapes_agree(a: Option<f32>, b: Option<f32>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    a.max(b) <= a.min(b) * MAX_ASPECT_RATIO
}

/// Colour grids whose cells differ by more than this in any channel do not
/// stack. A small logo barely moves the mean colour, so the same shape in
/// another colour passed `colours_agree`; in one cell of a 4×4 grid it
/// shows. A light crop shifts content by an eighth of a cell, which at a
/// sharp edge changes that cell by up to 32 levels: in `tagscape bench
/// duplicates` (100k images) 24 kept 96 % of the variants the hash found
/// (every resized, recompressed and transparent copy, 79 % of the crops)
/// and let 5 of 259 clearly different images through; 32 kept 99 % and let 14 through.
pub const MAX_GRID_DIFFERENCE: u32 = 24;

/// Whether two images' colour grids allow them to stack (unknown: no check).
pub fn grids_agree(a: Option<&ColourGrid>, b: Option<&ColourGrid>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    phash::grid_difference(a, b) <= MAX_GRID_DIFFERENCE
}

/// The checks independent of the hash that a member must pass against its
/// representative: what the hash does not see (colour, where it is, shape) must agree.
pub fn confirms(lead: &Hashed, other: &Hashed) -> bool {
    colours_agree(lead.colour, other.colour)
        && grids_agree(lead.grid.as_ref(), other.grid.as_ref())
        && shapes_agree(lead.aspect, other.aspect)
}

/// How `find_stacks_by` finds the hashes near a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// The multi-index hash (what `tagscape graph` uses).
    Index,
    /// Every hash against every other: the baseline `tagscape bench duplicates` times the index against.
    AllPairs,
}

/// The stacks among `images` at `max_distance` bits (images alone in their
/// group are not stacks), ordered by their representative's image id.
pub fn find_stacks(images: &[Hashed], max_distance: u32) -> Vec<Stack> {
    find_stacks_by(images, max_distance, Search::Index)
}

/// `find_stacks` with the neighbours found by `search`.
///
/// Leader clustering: the images are taken in order of frequency (then
/// image id); each one not yet in a stack leads a new one and takes every
/// image not yet in a stack within `max_distance` of it that passes
/// `confirms`. So every member is within `max_distance` of its
/// representative, and a chain of small steps (A ~ B ~ C ...) never joins
/// images that are far apart, as union-find did (at 100k generated images
/// it put 29 % of them in stacks with other pictures). Images with uninformative hashes (`informative`) stay
/// alone; exact copies were already merged at fetch by their bytes.
pub fn find_stacks_by(images: &[Hashed], max_distance: u32, search: Search) -> Vec<Stack> {
    // Images with the same hash are one entry of the index: `groups[d]`
    // holds the images of `distinct[d]` not yet in a stack.
    let mut position: HashMap<u64, usize> = HashMap::new();
    let (mut distinct, mut groups): (Vec<u64>, Vec<Vec<usize>>) = (Vec::new(), Vec::new());
    for (i, image) in images.iter().enumerate() {
        if informative(image.hash) {
            let d = *position.entry(image.hash).or_insert_with(|| {
                distinct.push(image.hash);
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[d].push(i);
        }
    }
    let mut index = ChunkIndex::new(if search == Search::Index {
        &distinct
    } else {
        &[]
    });
    let mut order: Vec<usize> = groups.iter().flatten().copied().collect();
    order.sort_by(|&a, &b| {
        images[b]
            .frequency
            .cmp(&images[a].frequency)
            .then(images[a].image_id.cmp(&images[b].image_id))
    });
    let bar = if order.len() >= PROGRESS_FROM {
        crate::ui::progress(order.len() as u64, "stacking")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut taken = vec![false; images.len()];
    let mut near = Vec::new();
    let mut stacks = Vec::new();
    for &lead in &order {
        bar.inc(1);
        if taken[lead] {
            continue;
        }
        let hash = images[lead].hash;
        near.clear();
        match search {
            Search::Index => index.within(hash, max_distance, &mut near),
            Search::AllPairs => near.extend(
                (0..distinct.len()).filter(|&d| phash::distance(distinct[d], hash) <= max_distance),
            ),
        }
        let mut group = Vec::new();
        for &d in &near {
            // Taken images leave their group, so images that share a hash
            // but not a colour (one logo in many colours) are not read again
            // by every lead among them.
            groups[d].retain(|&i| {
                if !taken[i] && confirms(&images[lead], &images[i]) {
                    taken[i] = true;
                    group.push(i);
                }
                !taken[i]
            });
        }
        if group.len() < 2 {
            continue;
        }
        let lead_id = images[lead].image_id;
        let mut members: Vec<(i64, u32)> = group
            .iter()
            .map(|&i| (images[i].image_id, phash::distance(images[i].hash, hash)))
            .collect();
        members.sort_by_key(|&(id, _)| (id != lead_id, id));
        stacks.push(Stack {
            representative: lead_id,
            frequency: group.iter().map(|&i| images[i].frequency).sum(),
            members,
        });
    }
    bar.finish_and_clear();
    stacks.sort_by_key(|s| s.representative);
    stacks
}

/// Computes the missing hashes and colour grids of downloaded images from
/// their 256 px thumbnails (projects fetched before they were stored).
/// Returns how many images got them.
pub fn backfill_hashes(project: &mut Project) -> Result<u64> {
    let missing: Vec<(i64, String, String)> = {
        let mut stmt = project.conn().prepare(
            "SELECT id, content_hash, thumb_ext FROM images
             WHERE status = 'done' AND (phash IS NULL OR colour_grid IS NULL)
               AND content_hash IS NOT NULL AND thumb_ext IS NOT NULL",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    if missing.is_empty() {
        return Ok(0);
    }
    let dir = project.dir().to_path_buf();
    let level = crate::fetch::thumbnail::LEVELS[0];
    let bar = crate::ui::progress(missing.len() as u64, "hashes");
    let hashes: Vec<(i64, Option<(u64, ColourGrid)>)> = {
        use rayon::prelude::*;
        missing
            .par_iter()
            .map(|(id, hash, ext)| {
                bar.inc(1);
                let path = dir.join(crate::fetch::store::thumb_path(level, hash, ext));
                let hashed = image::open(&path).ok().map(|img| phash::signature(&img));
                if hashed.is_none() {
                    tracing::warn!(
                        "no perceptual hash for image {id}: cannot read {} (run `tagscape fetch` again)",
                        path.display()
                    );
                }
                (*id, hashed)
            })
            .collect()
    };
    bar.finish_and_clear();
    let tx = project.conn_mut().transaction()?;
    let mut done = 0;
    {
        // A hash stored at fetch was taken before the thumbnail's JPEG
        // encoding: it is kept.
        let mut update = tx.prepare(
            "UPDATE images SET phash = coalesce(phash, ?1), colour_grid = ?2 WHERE id = ?3",
        )?;
        for (id, hashed) in hashes {
            if let Some((hash, grid)) = hashed {
                update.execute((phash::to_column(hash), &grid[..], id))?;
                done += 1;
            }
        }
    }
    tx.commit()?;
    Ok(done)
}

/// The project's stacks at `max_distance` (images without a hash stay alone).
pub fn project_stacks(project: &Project, max_distance: u32) -> Result<Vec<Stack>> {
    let mut stmt = project.conn().prepare(
        "SELECT id, phash, frequency, CASE WHEN thumb_ext = 'jpg' THEN mean_color END,
                CASE WHEN width > 0 AND height > 0 THEN CAST(width AS REAL) / height END,
                colour_grid
             FROM images WHERE phash IS NOT NULL ORDER BY id",
    )?;
    let images: Vec<Hashed> = stmt
        .query_map([], |r| {
            Ok(Hashed {
                image_id: r.get(0)?,
                hash: phash::from_column(r.get(1)?),
                frequency: r.get(2)?,
                // Only opaque images get JPEG thumbnails (`thumbnail::Thumbnails`).
                colour: r.get(3)?,
                aspect: r.get::<_, Option<f64>>(4)?.map(|a| a as f32),
                grid: r
                    .get::<_, Option<Vec<u8>>>(5)?
                    .and_then(|b| phash::grid_from_column(&b)),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(find_stacks(&images, max_distance))
}

/// `graph` with each stack's images merged into its representative's node:
/// frequency summed, tags united (an edge keeps its highest weight), tag
/// frequencies recounted. Works on image–tag and image–image graphs.
pub fn stack_graph(graph: &Graph, stacks: &[Stack]) -> Graph {
    let into = merge_targets(graph, stacks);
    let mut new_index = vec![usize::MAX; graph.nodes.len()];
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    let mut n_images = 0;
    for (i, node) in graph.nodes.iter().enumerate() {
        if into[i] == i {
            new_index[i] = nodes.len();
            let mut node = node.clone();
            if node.kind == NodeKind::Tag {
                node.frequency = 0;
            } else {
                node.frequency = 0;
                n_images += 1;
            }
            nodes.push(node);
        }
    }
    for (i, node) in graph.nodes[..graph.n_images].iter().enumerate() {
        nodes[new_index[into[i]]].frequency += node.frequency;
    }
    let mut weights: HashMap<(u32, u32), f32> = HashMap::new();
    for e in &graph.edges {
        let (a, b) = (
            new_index[into[e.source as usize]] as u32,
            new_index[into[e.target as usize]] as u32,
        );
        if a == b {
            continue; // two members of one stack linked to each other (kNN graphs)
        }
        let key = if graph.nodes[e.target as usize].kind == NodeKind::Image {
            (a.min(b), a.max(b))
        } else {
            (a, b)
        };
        let w = weights.entry(key).or_insert(e.weight);
        *w = w.max(e.weight);
    }
    let mut edges: Vec<Edge> = weights
        .into_iter()
        .map(|((source, target), weight)| Edge {
            source,
            target,
            weight,
        })
        .collect();
    edges.sort_by_key(|e| (e.source, e.target));
    // A tag's frequency: the summed frequency of the (stacked) images carrying it.
    for e in &edges {
        if nodes[e.target as usize].kind == NodeKind::Tag {
            let f = nodes[e.source as usize].frequency;
            nodes[e.target as usize].frequency += f;
        }
    }
    Graph::new(nodes, n_images, edges)
}

/// For each node of `graph`, the node it merges into when `stacks` are
/// stacked (itself when it stays). Stack members missing from the graph
/// (e.g. images without tags) are skipped.
fn merge_targets(graph: &Graph, stacks: &[Stack]) -> Vec<usize> {
    let index: HashMap<i64, usize> = graph.nodes[..graph.n_images]
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.image_id.map(|id| (id, i)))
        .collect();
    let mut into: Vec<usize> = (0..graph.nodes.len()).collect();
    for stack in stacks {
        let Some(&rep) = index.get(&stack.representative) else {
            continue;
        };
        for (id, _) in &stack.members {
            if let Some(&i) = index.get(id) {
                into[i] = rep;
            }
        }
    }
    into
}

/// The node id of every node of `stack_graph(graph, stacks)` that stands
/// for more than one image of `graph`, with how many (members absent from
/// `graph` do not count: they are not drawn either).
pub fn stack_sizes(graph: &Graph, stacks: &[Stack]) -> Vec<(String, u32)> {
    let into = merge_targets(graph, stacks);
    let mut count = vec![0u32; graph.n_images];
    for &target in &into[..graph.n_images] {
        count[target] += 1;
    }
    count
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 1)
        .map(|(i, &c)| (graph.nodes[i].id.clone(), c))
        .collect()
}

/// Records the stack sizes of the graph just saved (`Graph::save` resets
/// every node to 1).
pub fn save_stack_sizes(project: &mut Project, sizes: &[(String, u32)]) -> Result<()> {
    let tx = project.conn_mut().transaction()?;
    {
        let mut update = tx.prepare("UPDATE graph_nodes SET stack_size = ?1 WHERE node_id = ?2")?;
        for (node_id, size) in sizes {
            update.execute((size, node_id))?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The stored graph's stacked nodes: (node index, images in the stack),
/// by node index; empty when the graph was built without stacking.
pub fn load_stack_sizes(project: &Project) -> Result<Vec<(u32, u32)>> {
    let mut stmt = project
        .conn()
        .prepare("SELECT idx, stack_size FROM graph_nodes WHERE stack_size > 1 ORDER BY idx")?;
    let sizes = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()
        .context("reading the stored graph's stack sizes")?;
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(image_id: i64, hash: u64, frequency: u32) -> Hashed {
        Hashed {
            image_id,
            hash,
            frequency,
            colour: None,
            aspect: None,
            grid: None,
        }
    }

    /// A hash with 32 bits set: informative.
    const BASE: u64 = 0x5555_5555_5555_5555;

    #[test]
    fn stacks_are_led_by_the_most_frequent_and_hold_what_is_near_it() {
        // 1–2 differ in 3 bits, 2–3 in 3 bits (1–3 in 6), 4 is far from all.
        let images = [
            h(1, BASE, 1),
            h(2, BASE ^ 0b0000_0111, 5),
            h(3, BASE ^ 0b0011_1111, 2),
            h(4, !BASE, 9),
        ];
        let stacks = find_stacks(&images, 3);
        assert_eq!(
            stacks,
            vec![Stack {
                representative: 2,
                members: vec![(2, 0), (1, 3), (3, 3)],
                frequency: 8,
            }]
        );
        assert!(find_stacks(&images, 2).is_empty());
        // Led by image 1 instead, 3 is 6 bits from the leader: no longer taken.
        let led_by_1 = [h(1, BASE, 9), images[1], images[2]];
        let stacks = find_stacks(&led_by_1, 3);
        assert_eq!(stacks.len(), 1);
        assert_eq!(stacks[0].members, [(1, 0), (2, 3)]);
    }

    #[test]
    fn uninformative_hashes_never_stack() {
        // Flat pictures of any colour hash to 0 (or near it); steady ramps to
        // all ones. Each pair here is within 6 bits.
        let images = [
            h(1, 0, 1),
            h(2, 0, 1),
            h(3, 0b111, 1),
            h(4, u64::MAX, 1),
            h(5, u64::MAX ^ 0b1, 1),
        ];
        assert!(find_stacks(&images, 6).is_empty());
        assert!(!informative(1 << 40 | 0xFF));
        assert!(informative(BASE));
    }

    #[test]
    fn different_mean_colours_keep_equal_hashes_apart() {
        let coloured = |id, colour| Hashed {
            colour,
            ..h(id, BASE, 1)
        };
        let red_and_blue = [coloured(1, Some(0xC0_20_20)), coloured(2, Some(0x20_20_C0))];
        assert!(find_stacks(&red_and_blue, 6).is_empty());
        // A few levels apart (a recompressed copy), or one transparent: they stack.
        let close = [coloured(1, Some(0xC0_20_20)), coloured(2, Some(0xC4_1D_22))];
        assert_eq!(find_stacks(&close, 6).len(), 1);
        let transparent = [coloured(1, Some(0xC0_20_20)), coloured(2, None)];
        assert_eq!(find_stacks(&transparent, 6).len(), 1);
    }

    #[test]
    fn different_shapes_keep_equal_hashes_apart() {
        let shaped = |id, aspect| Hashed {
            aspect,
            ..h(id, BASE, 1)
        };
        // 4:3 and 16:9 squeezed to 9×8 can hash alike.
        assert!(
            find_stacks(
                &[shaped(1, Some(4.0 / 3.0)), shaped(2, Some(16.0 / 9.0))],
                6
            )
            .is_empty()
        );
        // A light crop of the 4:3 one, or an image of unknown size: they stack.
        let cropped = Some(4.0 * 0.94 / (3.0 * 0.97));
        assert_eq!(
            find_stacks(&[shaped(1, Some(4.0 / 3.0)), shaped(2, cropped)], 6).len(),
            1
        );
        assert_eq!(
            find_stacks(&[shaped(1, Some(4.0 / 3.0)), shaped(2, None)], 6).len(),
            1
        );
    }

    #[test]
    fn the_index_matches_brute_force() {
        // A deterministic spread of hashes with clusters of near copies;
        // for several distances the index finds exactly what a scan finds.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut hashes = Vec::new();
        for i in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let hash = if i % 4 != 0 {
                hashes[i - 1] ^ (x & 0x0101_0010_0400_8001) ^ (1 << (x % 64))
            } else {
                x
            };
            hashes.push(hash);
        }
        let mut distinct = hashes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut index = ChunkIndex::new(&distinct);
        for max in [0, 3, 6, 7, 10, 13, 20] {
            for &q in hashes.iter().step_by(7) {
                let mut found = Vec::new();
                index.within(q, max, &mut found);
                found.sort_unstable();
                let brute: Vec<usize> = (0..distinct.len())
                    .filter(|&d| phash::distance(distinct[d], q) <= max)
                    .collect();
                assert_eq!(found, brute, "max {max}");
            }
        }
        let images: Vec<Hashed> = hashes
            .iter()
            .enumerate()
            .map(|(i, &hash)| h(i as i64, hash, 1 + (i % 3) as u32))
            .collect();
        assert_eq!(
            find_stacks_by(&images, 6, Search::Index),
            find_stacks_by(&images, 6, Search::AllPairs)
        );
    }

    #[test]
    fn stacking_merges_nodes_and_sums_frequencies() {
        let image = |id: i64, f: u32| Node {
            kind: NodeKind::Image,
            id: format!("u{id}"),
            label: String::new(),
            image_id: Some(id),
            frequency: f,
        };
        let tag = |name: &str| Node {
            kind: NodeKind::Tag,
            id: name.into(),
            label: name.into(),
            image_id: None,
            frequency: 0,
        };
        // images 1 (freq 2) and 2 (freq 3) stack; 3 stays. Tags: cat, dog.
        let nodes = vec![
            image(1, 2),
            image(2, 3),
            image(3, 1),
            tag("cat"),
            tag("dog"),
        ];
        let edges = vec![
            Edge {
                source: 0,
                target: 3,
                weight: 0.5,
            },
            Edge {
                source: 1,
                target: 3,
                weight: 0.9,
            },
            Edge {
                source: 1,
                target: 4,
                weight: 0.4,
            },
            Edge {
                source: 2,
                target: 4,
                weight: 1.0,
            },
        ];
        let graph = Graph::new(nodes, 3, edges);
        let stack = Stack {
            representative: 2,
            members: vec![(2, 0), (1, 4)],
            frequency: 5,
        };
        let stacked = stack_graph(&graph, std::slice::from_ref(&stack));
        // u2 stands for images 1 and 2.
        assert_eq!(stack_sizes(&graph, &[stack]), [("u2".to_string(), 2)]);
        assert_eq!(stacked.n_images, 2);
        let ids: Vec<&str> = stacked.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["u2", "u3", "cat", "dog"]);
        let freq: Vec<u32> = stacked.nodes.iter().map(|n| n.frequency).collect();
        // u2 = 2 + 3; cat on the stack (5); dog on the stack and u3 (5 + 1).
        assert_eq!(freq, [5, 1, 5, 6]);
        let edges: Vec<(u32, u32, f32)> = stacked
            .edges
            .iter()
            .map(|e| (e.source, e.target, e.weight))
            .collect();
        assert_eq!(edges, [(0, 2, 0.9), (0, 3, 0.4), (1, 3, 1.0)]);
    }
}
