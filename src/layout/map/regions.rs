//! Which nodes share a region of the map.
//!
//! A drawn cluster is one region: its images and the tags that weigh most
//! in it (`cluster::detect::assign_tags`). Images in no drawn cluster (the
//! small communities folded into "other", or a project without clusters)
//! form one region per connected piece of what is left, so unrelated small
//! groups are not pulled into one blob; the pieces of a single image (no
//! tag shared with any image outside the clusters) share one region, so they
//! do not scatter between the clusters. Images without any tag go to the
//! untagged block instead of a region.

use crate::cluster::detect::assign_tags;
use crate::graph::Graph;

/// The regions of a map and the images that have no tag.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Regions {
    /// Node indices of each region, ascending; drawn clusters first (in
    /// cluster order), then the leftover pieces by decreasing size.
    pub members: Vec<Vec<u32>>,
    /// Per graph node: its region, `None` for untagged images.
    pub of_node: Vec<Option<u32>>,
    /// Images without tags, ascending.
    pub untagged: Vec<u32>,
    /// The region of the images that share no tag with any image outside
    /// the clusters (the last one), laid out as a grid: how they sit
    /// among themselves means nothing.
    pub loose: Option<u32>,
}

/// `image_group[i]`: the drawn cluster (0-based) of image `i`, if any.
pub fn regions(graph: &Graph, image_group: &[Option<u32>], clusters: usize) -> Regions {
    let n = graph.node_count();
    let tag_group = assign_tags(graph, image_group);
    let group_of = |node: usize| -> Option<u32> {
        if node < graph.n_images {
            image_group.get(node).copied().flatten()
        } else {
            tag_group[node - graph.n_images]
        }
    };
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); clusters];
    let mut untagged = Vec::new();
    let mut leftover = Vec::new();
    for node in 0..n {
        if node < graph.n_images && graph.degree(node) == 0 {
            untagged.push(node as u32);
        } else if let Some(g) = group_of(node).filter(|&g| (g as usize) < clusters) {
            members[g as usize].push(node as u32);
        } else {
            leftover.push(node);
        }
    }
    members.retain(|m| !m.is_empty());

    // Connected pieces of the leftover nodes, through leftover nodes only.
    let mut is_leftover = vec![false; n];
    for &v in &leftover {
        is_leftover[v] = true;
    }
    let mut seen = vec![false; n];
    let mut pieces: Vec<Vec<u32>> = Vec::new();
    for &start in &leftover {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut piece = vec![start as u32];
        let mut k = 0;
        while k < piece.len() {
            let v = piece[k] as usize;
            k += 1;
            for (w, _) in graph.neighbors(v) {
                let w = w as usize;
                if is_leftover[w] && !seen[w] {
                    seen[w] = true;
                    piece.push(w as u32);
                }
            }
        }
        piece.sort_unstable();
        pieces.push(piece);
    }
    // Largest first; ties by first node, so the order is a function of the graph.
    pieces.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    // A piece holding one image shares no tag with any other image outside
    // the clusters (it hangs only on tags of its own and on tags a cluster
    // holds, such as a hub). Alone, each would be a region of one image
    // wedged between clusters, breaking their edges; together they are one
    // block of unrelated images beside the map.
    let is_loose = |piece: &Vec<u32>| {
        piece
            .iter()
            .filter(|&&v| (v as usize) < graph.n_images)
            .count()
            == 1
    };
    let (loose, related): (Vec<Vec<u32>>, Vec<Vec<u32>>) = pieces.into_iter().partition(is_loose);
    members.extend(related);
    let loose = (!loose.is_empty()).then(|| {
        let mut block: Vec<u32> = loose.into_iter().flatten().collect();
        block.sort_unstable();
        members.push(block);
        (members.len() - 1) as u32
    });

    let mut of_node = vec![None; n];
    for (r, m) in members.iter().enumerate() {
        for &v in m {
            of_node[v as usize] = Some(r as u32);
        }
    }
    Regions {
        members,
        of_node,
        untagged,
        loose,
    }
}

/// Total edge weight between every pair of regions (a < b), sorted:
/// what pulls two regions next to each other.
pub fn affinities(graph: &Graph, of_node: &[Option<u32>]) -> Vec<(u32, u32, f64)> {
    let mut pairs: std::collections::BTreeMap<(u32, u32), f64> = Default::default();
    for e in &graph.edges {
        let (Some(a), Some(b)) = (of_node[e.source as usize], of_node[e.target as usize]) else {
            continue;
        };
        if a != b && e.weight.is_finite() && e.weight > 0.0 {
            *pairs.entry((a.min(b), a.max(b))).or_default() += f64::from(e.weight);
        }
    }
    pairs.into_iter().map(|((a, b), w)| (a, b, w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, NodeKind};

    fn node(kind: NodeKind, id: &str) -> Node {
        Node {
            kind,
            id: id.into(),
            label: id.into(),
            image_id: None,
            frequency: 1,
        }
    }

    /// Images 0..6, tags 6..10. Cluster 0: images 0,1 with tag 6.
    /// Leftover: images 2,3 joined by tag 7; image 4 alone with tag 8;
    /// image 5 untagged. Tag 9 links image 4 to cluster 0's image 0.
    fn fixture() -> Graph {
        let mut nodes: Vec<Node> = (0..6)
            .map(|i| node(NodeKind::Image, &format!("i{i}")))
            .collect();
        nodes.extend((6..10).map(|t| node(NodeKind::Tag, &format!("t{t}"))));
        let e = |s, t, w| Edge {
            source: s,
            target: t,
            weight: w,
        };
        Graph::new(
            nodes,
            6,
            vec![
                e(0, 6, 1.0),
                e(1, 6, 1.0),
                e(2, 7, 1.0),
                e(3, 7, 1.0),
                e(4, 8, 1.0),
                e(4, 9, 0.5),
                e(0, 9, 0.9),
            ],
        )
    }

    #[test]
    fn clusters_leftover_pieces_and_untagged_images() {
        let g = fixture();
        let groups = [Some(0), Some(0), None, None, None, None];
        let r = regions(&g, &groups, 1);
        // Tag 9 weighs most in cluster 0 (image 0 at 0.9, image 4 is in none).
        assert_eq!(r.members[0], vec![0, 1, 6, 9]);
        assert_eq!(r.members[1], vec![2, 3, 7]);
        assert_eq!(r.members[2], vec![4, 8]);
        assert_eq!(r.members.len(), 3);
        assert_eq!(r.loose, Some(2));
        assert_eq!(r.untagged, vec![5]);
        assert_eq!(r.of_node[5], None);
        // Image 4 → tag 9 crosses from region 2 into region 0.
        assert_eq!(affinities(&g, &r.of_node), vec![(0, 2, 0.5)]);
    }

    #[test]
    fn images_that_share_no_tag_outside_the_clusters_share_one_region() {
        // Images 0,1 (cluster 0, tag 4); images 2 and 3 each with a tag of
        // their own (5, 6) and the cluster's tag 4, as a hub.
        let mut nodes: Vec<Node> = (0..4)
            .map(|i| node(NodeKind::Image, &format!("i{i}")))
            .collect();
        nodes.extend((4..7).map(|t| node(NodeKind::Tag, &format!("t{t}"))));
        let e = |s, t| Edge {
            source: s,
            target: t,
            weight: 1.0,
        };
        let g = Graph::new(
            nodes,
            4,
            vec![e(0, 4), e(1, 4), e(2, 4), e(3, 4), e(2, 5), e(3, 6)],
        );
        let r = regions(&g, &[Some(0), Some(0), None, None], 1);
        assert_eq!(r.members, vec![vec![0, 1, 4], vec![2, 3, 5, 6]]);
        assert_eq!(r.loose, Some(1));
        assert_eq!(affinities(&g, &r.of_node), vec![(0, 1, 2.0)]);
    }

    #[test]
    fn without_clusters_every_component_is_a_region() {
        let g = fixture();
        let r = regions(&g, &[None; 6], 0);
        // {0,1,4,6,8,9} through tags 6 and 9, then {2,3,7}.
        assert_eq!(r.members, vec![vec![0, 1, 4, 6, 8, 9], vec![2, 3, 7]]);
        assert_eq!(r.loose, None);
        assert!(affinities(&g, &r.of_node).is_empty());
    }
}
