//! Clusters: communities of the image–tag network (`detect`), named by their
//! most distinctive tags (`labels`), outlined in the layout (`hulls`), and
//! corrected by the user (`annotations`).
//!
//! `tagscape cluster` runs [`run`]: detect, fold clusters below `min_size`
//! into one "other" cluster, replay the user's merges and lassos, re-attach
//! their names, captions, colours and hidden flags by membership overlap,
//! then label, outline and store everything in one transaction. Cluster ids
//! are `1..` by decreasing size, so they change between runs; annotations are
//! keyed by their own id and follow their group, never a number.

pub mod annotations;
pub mod detect;
pub mod hulls;
pub mod labels;
mod store;

use std::collections::HashMap;
use std::fmt;

use anyhow::{Context, Result, bail};

pub use detect::{DetectSettings, Method, Network};
pub use labels::TagScore;
pub use store::{Cluster, NodeClusters, load_clusters, load_node_clusters};

/// Per image node (the first `images` nodes of the graph): the name of its
/// cluster, if any, for highlighting a tour's cluster.
pub fn image_cluster_names(
    project: &crate::project::Project,
    images: usize,
) -> anyhow::Result<Vec<Option<String>>> {
    let graph = crate::graph::Graph::load(project)?;
    let Some(clusters) = load_node_clusters(project, &graph)? else {
        return Ok(vec![None; images]);
    };
    Ok((0..images)
        .map(|i| clusters.cluster_of(i).map(|c| c.name.clone()))
        .collect())
}

use crate::graph::Graph;
use crate::layout::{Placement, load_positions};
use crate::project::{Access, Project};

/// Distinct colours, mid-saturation so that a translucent fill and its
/// outline read on white and on dark backgrounds (Tableau 10, then the
/// D3/Vega category10 hues); cycled beyond 20 clusters.
pub const PALETTE: [u32; 20] = [
    0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f,
    0x1f77b4, 0x17becf, 0xbcbd22, 0x8c564b, 0xe377c2, 0x9467bd, 0xd62728, 0x2ca02c, 0xff7f0e,
    0x6b6ecf, 0xbd9e39,
];
/// The colour of the "other" cluster.
pub const OTHER_COLOR: u32 = 0x9e9e9e;
/// The name of the cluster that gathers those below `--min-size`.
pub const OTHER_NAME: &str = "other";
/// The colour and name of the cluster of images without tags.
pub const UNTAGGED_COLOR: u32 = 0x7f7f7f;
pub const UNTAGGED_NAME: &str = "untagged images";

pub fn color_hex(rgb: u32) -> String {
    format!("#{:06x}", rgb & 0xff_ffff)
}

/// Parses `#rrggbb` (or `rrggbb`).
pub fn parse_color(text: &str) -> Result<u32> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("colour {text:?} is not #rrggbb: give it as e.g. #e15759");
    }
    Ok(u32::from_str_radix(hex, 16)?)
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterSettings {
    pub detect: DetectSettings,
    /// Clusters with fewer images are folded into "other" (1 keeps all).
    pub min_size: usize,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            detect: DetectSettings::default(),
            min_size: 5,
        }
    }
}

/// What `tagscape cluster` did; `Display` is its summary line.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterReport {
    /// Clusters stored, "other" included.
    pub clusters: usize,
    /// Images per stored cluster, largest first ("other" excluded).
    pub sizes: Vec<usize>,
    /// Communities folded into "other" and the images they held.
    pub folded: usize,
    pub folded_images: usize,
    /// Modularity of the detected partition on the network it ran on.
    pub modularity: f64,
    /// Modularity on the image–tag graph of what was stored (after folding
    /// and the user's merges and lassos).
    pub stored_modularity: f64,
    pub images: usize,
    pub edges: usize,
    /// Hulls were computed (the project has a layout).
    pub with_hulls: bool,
    /// Members outside their cluster's hull, over all clusters.
    pub outside_hull: usize,
    pub annotations_attached: usize,
    pub annotations_unmatched: usize,
}

impl fmt::Display for ClusterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.sizes.iter().take(8).map(|s| s.to_string()).collect();
        let more = if self.sizes.len() > 8 { ", …" } else { "" };
        write!(
            f,
            "{} clusters of {} images (sizes {}{more}), modularity {}",
            self.clusters,
            self.images,
            if shown.is_empty() {
                "-".to_string()
            } else {
                shown.join(", ")
            },
            crate::ui::Figure(self.modularity, 3)
        )?;
        if (self.stored_modularity - self.modularity).abs() > 5e-4 {
            write!(
                f,
                " ({} as stored, after folding small clusters and replaying merges and lassos)",
                crate::ui::Figure(self.stored_modularity, 3)
            )?;
        }
        if self.edges == 0 {
            f.write_str("; the graph has no edges, every image is alone")?;
        }
        if self.folded > 0 {
            write!(
                f,
                "; {} small clusters ({} images) folded into \"{OTHER_NAME}\"",
                self.folded, self.folded_images
            )?;
        }
        if self.with_hulls {
            write!(f, "; {} members outside their hull", self.outside_hull)?;
        } else {
            f.write_str(
                "; no layout yet: `tagscape layout` makes each cluster a region of the map and draws its hull",
            )?;
        }
        if self.annotations_attached + self.annotations_unmatched > 0 {
            write!(f, "; {} annotations re-attached", self.annotations_attached)?;
            if self.annotations_unmatched > 0 {
                write!(
                    f,
                    ", {} kept unattached (no cluster overlaps them by half)",
                    self.annotations_unmatched
                )?;
            }
        }
        Ok(())
    }
}

/// One cluster as the computation sees it, before it is stored.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub id: i64,
    pub is_other: bool,
    pub color: u32,
    pub annotation: Option<i64>,
}

/// Clusters and the group of every image (`None`: in no cluster).
#[derive(Clone, Debug, Default)]
pub(crate) struct Assignment {
    pub groups: Vec<Group>,
    pub image_group: Vec<Option<usize>>,
}

impl Assignment {
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.groups.len()];
        for g in self.image_group.iter().flatten() {
            sizes[*g] += 1;
        }
        sizes
    }

    pub fn next_id(&self) -> i64 {
        self.groups.iter().map(|g| g.id).max().unwrap_or(0) + 1
    }

    /// Drops groups without images, renumbering `image_group`.
    pub fn drop_empty(&mut self) {
        let sizes = self.sizes();
        let mut new_index = vec![None; self.groups.len()];
        let mut kept = Vec::new();
        for (i, g) in std::mem::take(&mut self.groups).into_iter().enumerate() {
            if sizes[i] > 0 {
                new_index[i] = Some(kept.len());
                kept.push(g);
            }
        }
        self.groups = kept;
        for g in &mut self.image_group {
            *g = g.and_then(|i| new_index[i]);
        }
    }

    pub fn image_cluster_u32(&self) -> Vec<Option<u32>> {
        self.image_group
            .iter()
            .map(|g| g.map(|g| g as u32))
            .collect()
    }
}

/// Labels, tag assignment and hulls of every group.
pub(crate) struct Facts {
    pub ranked: Vec<Vec<TagScore>>,
    pub tag_group: Vec<Option<u32>>,
    pub hulls: Vec<Option<hulls::Hull>>,
}

pub(crate) fn compute_facts(
    graph: &Graph,
    placements: Option<&[Placement]>,
    assignment: &Assignment,
    hulls_for: impl Fn(usize) -> bool,
) -> Facts {
    let image_cluster = assignment.image_cluster_u32();
    let ranked = labels::rank_tags(graph, &image_cluster, assignment.groups.len());
    let tag_group = detect::assign_tags(graph, &image_cluster);
    let mut members: Vec<Vec<hulls::Member>> = vec![Vec::new(); assignment.groups.len()];
    if let Some(p) = placements {
        for (i, g) in assignment.image_group.iter().enumerate() {
            if let (Some(g), Some(p)) = (g, p.get(i)) {
                members[*g].push(hulls::Member {
                    x: f64::from(p.x),
                    y: f64::from(p.y),
                    size: f64::from(p.size),
                });
            }
        }
    }
    let hulls = members
        .iter()
        .enumerate()
        .map(|(g, m)| {
            // "other" gathers unrelated small communities scattered over
            // the map: one outline around them would cover everything.
            if placements.is_some() && hulls_for(g) && !assignment.groups[g].is_other {
                hulls::hull(m)
            } else {
                None
            }
        })
        .collect();
    Facts {
        ranked,
        tag_group,
        hulls,
    }
}

/// Recomputes every stored cluster's core, hull and label place for new
/// `placements` (the layout moved since `tagscape cluster`), keeping the
/// membership and the annotations. Returns how many members now fall
/// outside their hull, or `None` when the project has no clusters.
pub fn refresh_hulls(
    project: &mut Project,
    graph: &Graph,
    placements: &[Placement],
) -> Result<Option<usize>> {
    if store::cluster_count(project)? == 0 {
        return Ok(None);
    }
    let (assignment, before) = store::load_assignment(project, graph)?;
    let facts = compute_facts(graph, Some(placements), &assignment, |_| true);
    let all: Vec<usize> = (0..assignment.groups.len()).collect();
    let tx = project.conn_mut().transaction()?;
    store::save_edit(&tx, graph, &assignment, &facts, &all, &[], &before)?;
    tx.commit().context("saving the clusters' new hulls")?;
    Ok(Some(facts.hulls.iter().flatten().map(|h| h.outside).sum()))
}

/// `tagscape cluster DIR`: detects, labels, outlines and stores the clusters.
pub fn run(dir: &std::path::Path, settings: &ClusterSettings) -> Result<ClusterReport> {
    let mut project = Project::open(dir, Access::Write)?;
    run_in(&mut project, settings)
}

pub fn run_in(project: &mut Project, settings: &ClusterSettings) -> Result<ClusterReport> {
    let graph = Graph::load(project)?;
    let placements = load_positions(project, &graph)?;
    let detection = detect::detect(&graph, &settings.detect)?;

    // Fold the communities below min_size into one "other" cluster; images
    // without any tag (each a community of its own) form one cluster, which
    // the map lays out as one block.
    let untagged = |i: usize| graph.degree(i) == 0;
    let mut sizes = vec![0usize; detection.count];
    for (i, &c) in detection.image_community.iter().enumerate() {
        if !untagged(i) {
            sizes[c as usize] += 1;
        }
    }
    let min_size = settings.min_size.max(1);
    let mut groups = Vec::new();
    let mut community_group = vec![0usize; detection.count];
    let mut folded = 0;
    let mut folded_images = 0;
    for (c, &n) in sizes.iter().enumerate() {
        if n >= min_size {
            community_group[c] = groups.len();
            groups.push(Group {
                id: groups.len() as i64 + 1,
                is_other: false,
                color: PALETTE[groups.len() % PALETTE.len()],
                annotation: None,
            });
        } else if n > 0 {
            folded += 1;
            folded_images += n;
        }
    }
    if folded > 0 {
        let other = groups.len();
        groups.push(Group {
            id: other as i64 + 1,
            is_other: true,
            color: OTHER_COLOR,
            annotation: None,
        });
        for (c, &n) in sizes.iter().enumerate() {
            if n < min_size {
                community_group[c] = other;
            }
        }
    }
    let untagged_group = (0..graph.n_images).any(untagged).then(|| {
        groups.push(Group {
            id: groups.len() as i64 + 1,
            is_other: false,
            color: UNTAGGED_COLOR,
            annotation: None,
        });
        groups.len() - 1
    });
    let mut assignment = Assignment {
        groups,
        image_group: detection
            .image_community
            .iter()
            .enumerate()
            .map(|(i, &c)| match untagged_group {
                Some(g) if untagged(i) => Some(g),
                _ => Some(community_group[c as usize]),
            })
            .collect(),
    };
    assignment.drop_empty();

    let (attached, unmatched) = annotations::reattach(project, &graph, &mut assignment)?;
    let facts = compute_facts(&graph, placements.as_deref(), &assignment, |_| true);
    let stored_modularity = detect::bipartite_modularity(&graph, &assignment.image_cluster_u32());
    store::replace_all(project, &graph, &assignment, &facts)?;
    project.set_setting("cluster", settings)?;

    let final_sizes = assignment.sizes();
    let mut listed: Vec<usize> = assignment
        .groups
        .iter()
        .zip(&final_sizes)
        .filter(|(g, _)| !g.is_other)
        .map(|(_, &n)| n)
        .collect();
    listed.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ClusterReport {
        clusters: assignment.groups.len(),
        sizes: listed,
        folded,
        folded_images,
        modularity: detection.modularity,
        stored_modularity,
        images: graph.n_images,
        edges: graph.edges.len(),
        with_hulls: placements.is_some(),
        outside_hull: facts.hulls.iter().flatten().map(|h| h.outside).sum(),
        annotations_attached: attached,
        annotations_unmatched: unmatched,
    })
}

/// Index of every image node by its node id.
pub(crate) fn image_index(graph: &Graph) -> HashMap<&str, usize> {
    graph.nodes[..graph.n_images]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect()
}
