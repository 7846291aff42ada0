//! The bipartite image–tag network.
//!
//! `tagscape graph` builds it from the project's images and tags (with the
//! filters of `GraphSettings`) and stores it; later stages load it. In memory
//! it is a node list (images first, then tags), the edge list (image → tag,
//! each edge once) and a CSR adjacency over both directions, the compact form
//! the layout's CPU and GPU kernels consume.

mod build;
pub mod duplicates;
pub mod knn;

pub use build::{GraphSettings, GraphSummary, build_graph, drop_rare_tags, file_name_of};

use anyhow::{Context, Result, bail};

use crate::project::Project;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Image,
    Tag,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Image => "image",
            NodeKind::Tag => "tag",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// The Id in exports: the image URL, or the tag as shown.
    pub id: String,
    pub label: String,
    /// `images.id` for image nodes.
    pub image_id: Option<i64>,
    /// How often the URL occurred in the inputs (images); images carrying it (tags).
    pub frequency: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// Index of the image node.
    pub source: u32,
    /// Index of the tag node.
    pub target: u32,
    pub weight: f32,
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Images in `0..n_images`, tags after them.
    pub nodes: Vec<Node>,
    pub n_images: usize,
    /// Image → tag, each once, sorted by (source, target).
    pub edges: Vec<Edge>,
    /// CSR: the neighbours of node `i` are `adjacency[offsets[i]..offsets[i+1]]`.
    pub offsets: Vec<u32>,
    pub adjacency: Vec<u32>,
    pub adjacency_weight: Vec<f32>,
}

impl Graph {
    /// Builds the CSR from nodes and edges (edges are sorted and must be unique).
    pub fn new(nodes: Vec<Node>, n_images: usize, mut edges: Vec<Edge>) -> Graph {
        edges.sort_by_key(|e| (e.source, e.target));
        let n = nodes.len();
        let mut degree = vec![0u32; n];
        for e in &edges {
            degree[e.source as usize] += 1;
            degree[e.target as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u32);
        for d in &degree {
            offsets.push(offsets.last().copied().unwrap_or(0) + d);
        }
        let total = *offsets.last().unwrap_or(&0) as usize;
        let mut adjacency = vec![0u32; total];
        let mut adjacency_weight = vec![0f32; total];
        let mut cursor: Vec<u32> = offsets[..n].to_vec();
        for e in &edges {
            for (from, to) in [(e.source, e.target), (e.target, e.source)] {
                let slot = cursor[from as usize] as usize;
                adjacency[slot] = to;
                adjacency_weight[slot] = e.weight;
                cursor[from as usize] += 1;
            }
        }
        Graph {
            nodes,
            n_images,
            edges,
            offsets,
            adjacency,
            adjacency_weight,
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn degree(&self, node: usize) -> u32 {
        self.offsets[node + 1] - self.offsets[node]
    }

    /// Indices of the nodes adjacent to `node`, with edge weights.
    pub fn neighbors(&self, node: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let range = self.offsets[node] as usize..self.offsets[node + 1] as usize;
        self.adjacency[range.clone()]
            .iter()
            .copied()
            .zip(self.adjacency_weight[range].iter().copied())
    }

    /// Stores the graph in the project, replacing the previous one. Node ids
    /// are the exports' ids, so they must be unique: a graph that breaks this
    /// is refused with the id at fault before anything is replaced.
    pub fn save(&self, project: &mut Project) -> Result<()> {
        let mut seen = std::collections::HashSet::with_capacity(self.nodes.len());
        if let Some(dup) = self.nodes.iter().find(|n| !seen.insert(n.id.as_str())) {
            bail!(
                "two nodes of the graph have the id {:?}, which exports need unique; the previous graph of {} is kept: please report this, with the inputs that hold {:?}",
                dup.id,
                project.dir().display(),
                dup.label
            );
        }
        let dir = project.dir().to_path_buf();
        self.save_rows(project).with_context(|| {
            format!(
                "cannot store the graph in project {}: check that the disk has room and the folder is writable, then run `tagscape graph {}` again",
                dir.display(),
                dir.display()
            )
        })
    }

    fn save_rows(&self, project: &mut Project) -> Result<()> {
        let tx = project.conn_mut().transaction()?;
        tx.execute("DELETE FROM graph_edges", [])?;
        tx.execute("DELETE FROM graph_nodes", [])?;
        {
            let mut insert_node = tx.prepare(
                "INSERT INTO graph_nodes(idx, kind, node_id, label, image_id, degree, frequency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (i, node) in self.nodes.iter().enumerate() {
                insert_node.execute((
                    i as i64,
                    node.kind.as_str(),
                    &node.id,
                    &node.label,
                    node.image_id,
                    self.degree(i),
                    node.frequency,
                ))?;
            }
            let mut insert_edge =
                tx.prepare("INSERT INTO graph_edges(source, target, weight) VALUES (?1, ?2, ?3)")?;
            for e in &self.edges {
                insert_edge.execute((e.source, e.target, f64::from(e.weight)))?;
            }
        }
        crate::project::stages::graph_saved(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Loads the graph last built by `tagscape graph`.
    pub fn load(project: &Project) -> Result<Graph> {
        let dir = project.dir();
        let rows = Self::load_rows(project).with_context(|| {
            format!(
                "cannot read the graph of project {}: run `tagscape graph {}` again",
                dir.display(),
                dir.display()
            )
        })?;
        let Some((nodes, n_images, edges)) = rows else {
            bail!(
                "project {} has no graph yet: run `tagscape graph {}` first",
                dir.display(),
                dir.display()
            );
        };
        let n = nodes.len() as u32;
        if let Some(bad) = edges.iter().find(|e| e.source >= n || e.target >= n) {
            bail!(
                "the stored graph of project {} is inconsistent (edge {} -> {} names a missing node): run `tagscape graph {}` again",
                dir.display(),
                bad.source,
                bad.target,
                dir.display()
            );
        }
        Ok(Graph::new(nodes, n_images, edges))
    }

    /// The stored nodes, image count and edges; `None` when there is no graph.
    #[allow(clippy::type_complexity)]
    fn load_rows(project: &Project) -> Result<Option<(Vec<Node>, usize, Vec<Edge>)>> {
        let conn = project.conn();
        let mut stmt = conn.prepare(
            "SELECT idx, kind, node_id, label, image_id, frequency FROM graph_nodes ORDER BY idx",
        )?;
        let mut nodes = Vec::new();
        let mut n_images = 0;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        for row in rows {
            let (idx, kind, id, label, image_id, frequency) = row?;
            if idx as usize != nodes.len() {
                bail!("the stored graph is inconsistent (node {idx} out of order)");
            }
            let kind = match kind.as_str() {
                "image" => {
                    n_images += 1;
                    NodeKind::Image
                }
                _ => NodeKind::Tag,
            };
            nodes.push(Node {
                kind,
                id,
                label,
                image_id,
                frequency,
            });
        }
        if nodes.is_empty() {
            return Ok(None);
        }
        let mut stmt = conn.prepare("SELECT source, target, weight FROM graph_edges")?;
        let edges = stmt
            .query_map([], |r| {
                Ok(Edge {
                    source: r.get(0)?,
                    target: r.get(1)?,
                    weight: r.get::<_, f64>(2)? as f32,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some((nodes, n_images, edges)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: NodeKind, id: &str) -> Node {
        Node {
            kind,
            id: id.into(),
            label: id.into(),
            image_id: None,
            frequency: 1,
        }
    }

    #[test]
    fn csr_lists_each_edge_from_both_ends() {
        let nodes = vec![
            node(NodeKind::Image, "a"),
            node(NodeKind::Image, "b"),
            node(NodeKind::Tag, "cat"),
            node(NodeKind::Tag, "dog"),
        ];
        let edges = vec![
            Edge {
                source: 1,
                target: 2,
                weight: 0.5,
            },
            Edge {
                source: 0,
                target: 2,
                weight: 0.9,
            },
            Edge {
                source: 0,
                target: 3,
                weight: 0.7,
            },
        ];
        let g = Graph::new(nodes, 2, edges);
        assert_eq!(g.offsets, vec![0, 2, 3, 5, 6]);
        assert_eq!(g.neighbors(0).collect::<Vec<_>>(), vec![(2, 0.9), (3, 0.7)]);
        assert_eq!(g.neighbors(2).collect::<Vec<_>>(), vec![(0, 0.9), (1, 0.5)]);
        assert_eq!(g.degree(3), 1);
    }

    #[test]
    fn saving_duplicate_ids_is_refused_with_the_id_and_keeps_the_old_graph() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = Project::init(dir.path()).unwrap();
        let good = Graph::new(vec![node(NodeKind::Tag, "cat")], 0, vec![]);
        good.save(&mut project).unwrap();
        let twice = Graph::new(
            vec![node(NodeKind::Tag, "tag:x"), node(NodeKind::Tag, "tag:x")],
            0,
            vec![],
        );
        let err = format!("{:#}", twice.save(&mut project).unwrap_err());
        assert!(err.contains(r#"the id "tag:x""#), "{err}");
        assert!(!err.contains("UNIQUE"), "{err}");
        assert_eq!(Graph::load(&project).unwrap().nodes, good.nodes);
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = Project::init(dir.path()).unwrap();
        let nodes = vec![
            node(NodeKind::Image, "http://x/a.jpg"),
            node(NodeKind::Tag, "Cat"),
        ];
        let g = Graph::new(
            nodes,
            1,
            vec![Edge {
                source: 0,
                target: 1,
                weight: 0.25,
            }],
        );
        g.save(&mut project).unwrap();
        let back = Graph::load(&project).unwrap();
        assert_eq!(back.nodes, g.nodes);
        assert_eq!(back.edges, g.edges);
        assert_eq!(back.n_images, 1);
    }
}
