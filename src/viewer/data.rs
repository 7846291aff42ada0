//! What the viewer knows about the network besides the draw data: tags by
//! degree, tag completion, an image's tags and its row in the project
//! (URL, frequency, metadata, files), read on demand.

use std::path::PathBuf;

use anyhow::{Context, Result};
use rusqlite::OptionalExtension;

use crate::graph::Graph;
use crate::project::Project;

/// Level (longest side, px) of the thumbnail shown on hover.
pub const HOVER_LEVEL: u32 = 256;

pub struct MapData {
    pub graph: Graph,
    /// Tag node indices, highest degree first (ties by label).
    pub tags_by_degree: Vec<u32>,
    /// Lower-case label of every tag, indexed by `node - n_images`.
    lower_labels: Vec<String>,
    /// The posts' columns, read on the first hover.
    post_columns: std::sync::OnceLock<crate::posts::PostColumns>,
}

/// One image's row, for the hover card and the detail panel.
#[derive(Clone, Debug, Default)]
pub struct ImageInfo {
    pub url: String,
    pub frequency: i64,
    /// The source row's other columns, as given.
    pub metadata: Vec<(String, String)>,
    /// The downloaded original, when there is one.
    pub original: Option<PathBuf>,
    /// The hover-size thumbnail, when there is one.
    pub thumbnail: Option<PathBuf>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The image's tags, strongest edge first: (label, weight).
    pub tags: Vec<(String, f32)>,
    /// What its posts add up to (count, distinct users, first and last date).
    pub posts: crate::posts::PostSummary,
    /// Its posts' distinct users, in the order the posts were added (at most `MAX_LISTED`).
    pub users: Vec<String>,
    /// Links that open its posts (at most `MAX_LISTED`).
    pub links: Vec<String>,
}

/// How many users and links of one image the detail panel lists.
pub const MAX_LISTED: usize = 50;

impl MapData {
    pub fn new(graph: Graph) -> MapData {
        let n_images = graph.n_images;
        let mut tags_by_degree: Vec<u32> =
            (n_images..graph.node_count()).map(|i| i as u32).collect();
        tags_by_degree.sort_by(|&a, &b| {
            graph
                .degree(b as usize)
                .cmp(&graph.degree(a as usize))
                .then_with(|| {
                    graph.nodes[a as usize]
                        .label
                        .cmp(&graph.nodes[b as usize].label)
                })
        });
        let lower_labels = graph.nodes[n_images..]
            .iter()
            .map(|n| n.label.to_lowercase())
            .collect();
        MapData {
            post_columns: std::sync::OnceLock::new(),
            graph,
            tags_by_degree,
            lower_labels,
        }
    }

    pub fn n_images(&self) -> usize {
        self.graph.n_images
    }

    pub fn n_tags(&self) -> usize {
        self.graph.node_count() - self.graph.n_images
    }

    pub fn label(&self, node: u32) -> &str {
        &self.graph.nodes[node as usize].label
    }

    /// Tags whose label starts with `typed` (case-insensitive), then those
    /// containing it, each group by degree; at most `limit`.
    pub fn complete(&self, typed: &str, limit: usize) -> Vec<u32> {
        let typed = typed.trim().to_lowercase();
        if typed.is_empty() {
            return Vec::new();
        }
        let label = |t: u32| &self.lower_labels[t as usize - self.graph.n_images];
        let prefix = self
            .tags_by_degree
            .iter()
            .copied()
            .filter(|&t| label(t).starts_with(&typed));
        let inside = self
            .tags_by_degree
            .iter()
            .copied()
            .filter(|&t| !label(t).starts_with(&typed) && label(t).contains(&typed));
        prefix.chain(inside).take(limit).collect()
    }

    /// The tag whose label is `typed` (case-insensitive).
    pub fn tag_named(&self, typed: &str) -> Option<u32> {
        let typed = typed.trim().to_lowercase();
        self.lower_labels
            .iter()
            .position(|l| *l == typed)
            .map(|i| (i + self.graph.n_images) as u32)
    }

    /// The images carrying `tag`.
    pub fn images_of(&self, tag: u32) -> impl Iterator<Item = u32> + '_ {
        self.graph.neighbors(tag as usize).map(|(i, _)| i)
    }

    /// The tags of `image`, strongest edge first, then by tag degree.
    pub fn tags_of(&self, image: u32) -> Vec<(String, f32)> {
        let mut tags: Vec<(u32, f32)> = self.graph.neighbors(image as usize).collect();
        tags.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then_with(|| {
                self.graph
                    .degree(b.0 as usize)
                    .cmp(&self.graph.degree(a.0 as usize))
            })
        });
        tags.into_iter()
            .map(|(t, w)| (self.label(t).to_string(), w))
            .collect()
    }

    /// The project row of image node `image`.
    /// The image's post figures, users and links.
    fn read_posts(&self, project: &Project, id: i64, info: &mut ImageInfo) -> Result<()> {
        let columns = match self.post_columns.get() {
            Some(c) => c,
            None => {
                let loaded = crate::posts::PostColumns::load(project.conn())?;
                self.post_columns.get_or_init(|| loaded)
            }
        };
        let posts = crate::posts::posts_of(project.conn(), columns, id)?;
        let mut summary = crate::posts::SummaryBuilder::default();
        for post in &posts {
            summary.add(columns, post);
            if let Some(user) = columns.user(post)
                && info.users.len() < MAX_LISTED
                && !info.users.iter().any(|u| u == user)
            {
                info.users.push(user.to_string());
            }
            if let Some(link) = columns.link(post)
                && info.links.len() < MAX_LISTED
                && !info.links.contains(&link)
            {
                info.links.push(link);
            }
        }
        info.posts = summary.finish();
        Ok(())
    }

    pub fn image_info(&self, project: &Project, image: u32) -> Result<ImageInfo> {
        let node = &self.graph.nodes[image as usize];
        let mut info = ImageInfo {
            url: node.id.clone(),
            frequency: i64::from(node.frequency),
            tags: self.tags_of(image),
            ..Default::default()
        };
        let Some(id) = node.image_id else {
            return Ok(info);
        };
        type Row = (
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
        );
        let row: Option<Row> = project
            .conn()
            .query_row(
                "SELECT url, frequency, metadata, file, content_hash, thumb_ext, width, height FROM images WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .optional()
            .with_context(|| format!("reading image {} from the project", node.id))?;
        let Some((url, frequency, metadata, file, hash, ext, width, height)) = row else {
            return Ok(info);
        };
        info.url = url;
        info.frequency = frequency;
        info.width = width;
        info.height = height;
        info.metadata = metadata
            .as_deref()
            .and_then(|m| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(m).ok()
            })
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect()
            })
            .unwrap_or_default();
        info.original = file.map(|f| project.resolve(&f));
        self.read_posts(project, id, &mut info)?;
        info.thumbnail = match (hash, ext) {
            (Some(h), Some(e)) => Some(project.dir().join(crate::fetch::store::thumb_path(
                HOVER_LEVEL,
                &h,
                &e,
            ))),
            _ => None,
        };
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node, NodeKind};

    fn graph() -> Graph {
        let node = |kind, id: &str| Node {
            kind,
            id: id.into(),
            label: id.into(),
            image_id: None,
            frequency: 1,
        };
        let nodes = vec![
            node(NodeKind::Image, "i0"),
            node(NodeKind::Image, "i1"),
            node(NodeKind::Image, "i2"),
            node(NodeKind::Tag, "Cat"),
            node(NodeKind::Tag, "catwalk"),
            node(NodeKind::Tag, "bobcat"),
            node(NodeKind::Tag, "dog"),
        ];
        let e = |source, target, weight| Edge {
            source,
            target,
            weight,
        };
        // Degrees: Cat 1, catwalk 2, bobcat 3, dog 1.
        Graph::new(
            nodes,
            3,
            vec![
                e(0, 3, 0.9),
                e(0, 4, 0.5),
                e(1, 4, 0.7),
                e(0, 5, 0.2),
                e(1, 5, 0.3),
                e(2, 5, 0.4),
                e(2, 6, 0.8),
            ],
        )
    }

    #[test]
    fn completion_puts_prefix_matches_first_each_by_degree() {
        let data = MapData::new(graph());
        // Prefix "cat": catwalk (degree 2) before Cat (1); then "bobcat" (contains).
        assert_eq!(data.complete("CAT", 10), vec![4, 3, 5]);
        assert_eq!(data.complete("cat", 2), vec![4, 3]);
        assert!(data.complete("  ", 10).is_empty());
        assert_eq!(data.tag_named(" cat "), Some(3));
        assert_eq!(data.tag_named("ca"), None);
    }

    #[test]
    fn tags_by_degree_and_of_an_image() {
        let data = MapData::new(graph());
        assert_eq!(data.tags_by_degree, vec![5, 4, 3, 6]);
        let tags: Vec<String> = data.tags_of(0).into_iter().map(|t| t.0).collect();
        assert_eq!(tags, ["Cat", "catwalk", "bobcat"]);
        let mut carrying: Vec<u32> = data.images_of(5).collect();
        carrying.sort();
        assert_eq!(carrying, [0, 1, 2]);
    }
}
