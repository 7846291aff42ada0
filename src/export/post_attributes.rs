//! The node attributes that come from the images' posts, for nodes.csv and
//! the GEXF: always the counts (posts, distinct users, first and last
//! date), and the metadata columns chosen with `--attributes COL,COL`, each
//! image's distinct values of that column over its posts joined with `; `
//! (TCAT's own list separator), in the order the posts were added.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use crate::graph::Graph;
use crate::posts::{PostColumns, PostSummary, SummaryBuilder, for_each_post};
use crate::project::Project;

/// The count columns, always written: (name, GEXF type).
pub const COUNT_COLUMNS: [(&str, &str); 4] = [
    ("posts", "integer"),
    ("users", "integer"),
    ("first_date", "string"),
    ("last_date", "string"),
];

/// Names the network exports use for their own columns and attributes; a
/// chosen column with one of these names is written as `post_NAME`.
const RESERVED: &[&str] = &[
    "id",
    "label",
    "type",
    "kind",
    "image",
    "url",
    "frequency",
    "degree",
    "x",
    "y",
    "size",
    "cluster",
    "cluster_label",
    "posts",
    "users",
    "first_date",
    "last_date",
];

/// One image node's post figures and chosen values.
#[derive(Clone, Debug, Default)]
pub struct NodePosts {
    pub summary: PostSummary,
    /// One per chosen attribute.
    pub values: Vec<String>,
}

/// The post attributes of every image node.
#[derive(Clone, Debug, Default)]
pub struct PostAttributes {
    /// Column / attribute names of the chosen columns, as written.
    pub names: Vec<String>,
    /// Indexed like the image nodes (`0..graph.n_images`).
    nodes: Vec<NodePosts>,
}

impl PostAttributes {
    /// Reads every post once, in image order, keeping only the figures of
    /// the graph's image nodes. `chosen` names must be columns of the posts.
    pub fn load(project: &Project, graph: &Graph, chosen: &[String]) -> Result<PostAttributes> {
        let columns = PostColumns::load(project.conn())?;
        let wanted = columns.resolve(chosen, "--attributes")?;
        let node_of: HashMap<i64, usize> = graph.nodes[..graph.n_images]
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.image_id.map(|id| (id, i)))
            .collect();
        let mut nodes = vec![NodePosts::default(); graph.n_images];
        let mut current: Option<(usize, SummaryBuilder, Vec<Vec<String>>)> = None;
        let flush = |current: Option<(usize, SummaryBuilder, Vec<Vec<String>>)>,
                     nodes: &mut Vec<NodePosts>| {
            if let Some((node, summary, values)) = current {
                nodes[node] = NodePosts {
                    summary: summary.finish(),
                    values: values.into_iter().map(|v| v.join("; ")).collect(),
                };
            }
        };
        let mut seen: Vec<HashSet<String>> = vec![HashSet::new(); wanted.len()];
        for_each_post(project.conn(), &columns, |post| {
            let Some(&node) = node_of.get(&post.image_id) else {
                return Ok(());
            };
            if current.as_ref().is_none_or(|(n, _, _)| *n != node) {
                flush(current.take(), &mut nodes);
                seen.iter_mut().for_each(HashSet::clear);
                current = Some((
                    node,
                    SummaryBuilder::default(),
                    vec![Vec::new(); wanted.len()],
                ));
            }
            let (_, summary, values) = current.as_mut().expect("set above");
            summary.add(&columns, &post);
            for (k, &col) in wanted.iter().enumerate() {
                let value = post.values[col].trim();
                if !value.is_empty() && seen[k].insert(value.to_string()) {
                    values[k].push(value.to_string());
                }
            }
            Ok(())
        })?;
        flush(current, &mut nodes);
        let names = wanted
            .iter()
            .map(|&col| {
                let name = &columns.names[col];
                if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                    format!("post_{name}")
                } else {
                    name.clone()
                }
            })
            .collect();
        Ok(PostAttributes { names, nodes })
    }

    /// The header names after the network's own columns: counts, then chosen.
    pub fn headers(&self) -> Vec<&str> {
        COUNT_COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .chain(self.names.iter().map(String::as_str))
            .collect()
    }

    /// The cells of `node` under `headers()`: empty for tag nodes.
    pub fn cells(&self, node: usize) -> Vec<String> {
        match self.nodes.get(node) {
            None => vec![String::new(); COUNT_COLUMNS.len() + self.names.len()],
            Some(p) => {
                let s = &p.summary;
                [
                    s.posts.to_string(),
                    s.users.to_string(),
                    s.first_date.clone().unwrap_or_default(),
                    s.last_date.clone().unwrap_or_default(),
                ]
                .into_iter()
                .chain(p.values.iter().cloned())
                .collect()
            }
        }
    }

    /// The GEXF attribute declarations: (id, type).
    pub fn gexf_attributes(&self) -> Vec<(&str, &str)> {
        COUNT_COLUMNS
            .iter()
            .copied()
            .chain(self.names.iter().map(|n| (n.as_str(), "string")))
            .collect()
    }

    /// Whether `node` is an image node with figures.
    pub fn has(&self, node: usize) -> bool {
        node < self.nodes.len()
    }
}
