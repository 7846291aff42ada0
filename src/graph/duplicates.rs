//! Stacking near-duplicate images: images whose perceptual hashes (see
//! `fetch::phash`) differ in at most D bits are joined (transitively, by
//! union-find) into one stack, drawn as one node whose frequency is the sum
//! of its members'. A stack's representative is its most frequent member
//! (ties: the first added).
//!
//! Pairs are found with a BK-tree over the distinct hashes (the triangle
//! inequality of the Hamming distance prunes most of the tree), so a
//! hundred thousand images take well under a second at D ≤ 8.

use std::collections::HashMap;

use anyhow::{Context, Result};

use super::{Edge, Graph, Node, NodeKind};
use crate::fetch::phash;
use crate::project::Project;

/// The default `--hash-distance`: variants of one image measured about 7
/// bits apart on average, unrelated images about 30 (notes/CRATES.md).
pub const DEFAULT_HASH_DISTANCE: u32 = 6;

/// An image as stacking sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hashed {
    pub image_id: i64,
    pub hash: u64,
    pub frequency: u32,
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

/// A BK-tree over 64-bit hashes with the Hamming distance.
#[derive(Default)]
struct BkTree {
    /// (hash, children as (distance, node index)).
    nodes: Vec<(u64, Vec<(u32, usize)>)>,
}

impl BkTree {
    fn insert(&mut self, hash: u64) {
        if self.nodes.is_empty() {
            self.nodes.push((hash, Vec::new()));
            return;
        }
        let mut at = 0;
        loop {
            let d = phash::distance(self.nodes[at].0, hash);
            if d == 0 {
                return;
            }
            match self.nodes[at].1.iter().find(|(cd, _)| *cd == d) {
                Some(&(_, child)) => at = child,
                None => {
                    let index = self.nodes.len();
                    self.nodes.push((hash, Vec::new()));
                    self.nodes[at].1.push((d, index));
                    return;
                }
            }
        }
    }

    /// Every stored hash within `max` of `hash`.
    fn within(&self, hash: u64, max: u32, out: &mut Vec<u64>) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            let (h, children) = &self.nodes[at];
            let d = phash::distance(*h, hash);
            if d <= max {
                out.push(*h);
            }
            for &(cd, child) in children {
                if cd + max >= d && cd <= d + max {
                    stack.push(child);
                }
            }
        }
    }
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The stacks among `images` at `max_distance` bits (images alone in their
/// group are not stacks), ordered by their representative's image id.
pub fn find_stacks(images: &[Hashed], max_distance: u32) -> Vec<Stack> {
    // Images with the same hash are one entry of the tree.
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, image) in images.iter().enumerate() {
        by_hash.entry(image.hash).or_default().push(i);
    }
    let mut tree = BkTree::default();
    for &hash in by_hash.keys() {
        tree.insert(hash);
    }
    let mut parent: Vec<usize> = (0..images.len()).collect();
    let mut near = Vec::new();
    for (hash, indices) in &by_hash {
        for w in indices.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
        near.clear();
        tree.within(*hash, max_distance, &mut near);
        for other in &near {
            union(&mut parent, indices[0], by_hash[other][0]);
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..images.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut stacks: Vec<Stack> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|group| {
            let rep = *group
                .iter()
                .max_by(|&&a, &&b| {
                    images[a]
                        .frequency
                        .cmp(&images[b].frequency)
                        .then(images[b].image_id.cmp(&images[a].image_id))
                })
                .unwrap_or(&group[0]);
            let mut members: Vec<(i64, u32)> = group
                .iter()
                .map(|&i| {
                    (
                        images[i].image_id,
                        phash::distance(images[i].hash, images[rep].hash),
                    )
                })
                .collect();
            members.sort_by_key(|&(id, _)| (id != images[rep].image_id, id));
            Stack {
                representative: images[rep].image_id,
                frequency: group.iter().map(|&i| images[i].frequency).sum(),
                members,
            }
        })
        .collect();
    stacks.sort_by_key(|s| s.representative);
    stacks
}

/// Computes the missing hashes of downloaded images from their 256 px
/// thumbnails (projects fetched before hashes existed). Returns how many.
pub fn backfill_hashes(project: &mut Project) -> Result<u64> {
    let missing: Vec<(i64, String, String)> = {
        let mut stmt = project.conn().prepare(
            "SELECT id, content_hash, thumb_ext FROM images
             WHERE status = 'done' AND phash IS NULL AND content_hash IS NOT NULL AND thumb_ext IS NOT NULL",
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
    let hashes: Vec<(i64, Option<u64>)> = {
        use rayon::prelude::*;
        missing
            .par_iter()
            .map(|(id, hash, ext)| {
                bar.inc(1);
                let path = dir.join(crate::fetch::store::thumb_path(level, hash, ext));
                let hashed = image::open(&path).ok().map(|img| phash::perceptual_hash(&img));
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
        let mut update = tx.prepare("UPDATE images SET phash = ?1 WHERE id = ?2")?;
        for (id, hash) in hashes {
            if let Some(hash) = hash {
                update.execute((phash::to_column(hash), id))?;
                done += 1;
            }
        }
    }
    tx.commit()?;
    Ok(done)
}

/// The project's stacks at `max_distance` (images without a hash stay alone).
pub fn project_stacks(project: &Project, max_distance: u32) -> Result<Vec<Stack>> {
    let mut stmt = project
        .conn()
        .prepare("SELECT id, phash, frequency FROM images WHERE phash IS NOT NULL ORDER BY id")?;
    let images: Vec<Hashed> = stmt
        .query_map([], |r| {
            Ok(Hashed {
                image_id: r.get(0)?,
                hash: phash::from_column(r.get(1)?),
                frequency: r.get(2)?,
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
        }
    }

    #[test]
    fn stacks_are_transitive_and_led_by_the_most_frequent() {
        // 1–2 differ in 3 bits, 2–3 in 3 bits (1–3 in 6), 4 is far from all.
        let images = [
            h(1, 0b0000_0000, 1),
            h(2, 0b0000_0111, 5),
            h(3, 0b0011_1111, 2),
            h(4, u64::MAX, 9),
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
    }

    #[test]
    fn bk_tree_matches_brute_force() {
        // A deterministic spread of hashes; pairs within 10 bits found by
        // the tree are exactly those a double loop finds.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut hashes = Vec::new();
        for i in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Every fourth hash is a near copy of the one before.
            let hash = if i % 4 == 3 {
                hashes[i - 1] ^ (x & 0x0101)
            } else {
                x
            };
            hashes.push(hash);
        }
        let mut tree = BkTree::default();
        for &hash in &hashes {
            tree.insert(hash);
        }
        for &q in hashes.iter().take(50) {
            let mut found = Vec::new();
            tree.within(q, 10, &mut found);
            found.sort_unstable();
            found.dedup();
            let mut brute: Vec<u64> = hashes
                .iter()
                .copied()
                .filter(|&o| phash::distance(o, q) <= 10)
                .collect();
            brute.sort_unstable();
            brute.dedup();
            assert_eq!(found, brute);
        }
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
