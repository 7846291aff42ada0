//! Building the network from the project's tags, with the user's filters.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Edge, Graph, Node, NodeKind};
use crate::project::Project;

/// Filters of `tagscape graph`, saved in the project. By default nothing is
/// filtered, as in the recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphSettings {
    /// Which kinds of tags enter the network (`label`; also Google's
    /// `web_entity`, `text`, `safe_search` when asked).
    pub tag_kinds: Vec<String>,
    /// Drop tags scored below this; tags without a score are kept.
    pub min_confidence: Option<f64>,
    /// Keep each image's K most confident tags.
    pub top_k: Option<usize>,
    /// Tags never used (lowercase).
    pub stop_tags: Vec<String>,
    /// Drop tags carried by fewer images (a tag on one image links nothing).
    pub min_tag_degree: Option<usize>,
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            tag_kinds: vec!["label".into()],
            min_confidence: None,
            top_k: None,
            stop_tags: Vec::new(),
            min_tag_degree: None,
        }
    }
}

impl GraphSettings {
    /// Reads a stop-tag list: one tag per line, `#` starts a comment.
    pub fn read_stop_tags(path: &Path) -> Result<Vec<String>> {
        let text = crate::text_input::read_to_string(path, crate::text_input::Caps::LIST)
            .context("--stop-tags: give a text file with one tag per line")?;
        Ok(text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim().to_lowercase())
            .filter(|tag| !tag.is_empty())
            .collect())
    }
}

/// What `tagscape graph` reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphSummary {
    pub images: usize,
    pub tags: usize,
    pub edges: usize,
    pub isolated_images: usize,
    /// Nodes in the largest connected component.
    pub largest_component: usize,
    /// Image–tag pairs removed by the filters.
    pub filtered_edges: usize,
}

impl GraphSummary {
    /// Sets the counts to those of `graph` (e.g. after stacking
    /// near-duplicates), keeping what the filters removed.
    pub fn recount(&mut self, graph: &Graph) {
        self.images = graph.n_images;
        self.tags = graph.node_count() - graph.n_images;
        self.edges = graph.edges.len();
        self.isolated_images = (0..graph.n_images)
            .filter(|&i| graph.degree(i) == 0)
            .count();
        self.largest_component = largest_component(graph);
    }
}

impl std::fmt::Display for GraphSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "graph: {} images, {} tags, {} edges; {} images without tags; largest component {} nodes",
            self.images, self.tags, self.edges, self.isolated_images, self.largest_component
        )?;
        if self.filtered_edges > 0 {
            write!(f, "; {} image–tag pairs filtered out", self.filtered_edges)?;
        }
        Ok(())
    }
}

/// One image–tag pair as stored, merged over sources.
struct Pair {
    image: usize,
    tag_key: String,
    tag: String,
    confidence: Option<f64>,
}

/// Builds the image–tag network from every image of the project and its tags.
pub fn build_graph(project: &Project, settings: &GraphSettings) -> Result<(Graph, GraphSummary)> {
    let conn = project.conn();
    let mut nodes = Vec::new();
    let mut image_index = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, url, frequency FROM images ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        for row in rows {
            let (id, url, frequency) = row?;
            image_index.insert(id, nodes.len());
            nodes.push(Node {
                kind: NodeKind::Image,
                label: file_name_of(&url),
                id: url,
                image_id: Some(id),
                frequency,
            });
        }
    }
    let n_images = nodes.len();

    // Several sources may give the same tag to an image: keep the highest
    // score. Keys are recomputed from the cleaned text (control characters
    // out, trimmed, lowercase), so text stored by an older version, or by a
    // source that lowercased otherwise, still meets its equals.
    let mut pairs: Vec<Pair> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT image_id, tag, MAX(confidence) FROM tags
             WHERE kind IN (SELECT value FROM json_each(?1))
             GROUP BY image_id, tag_key ORDER BY image_id, tag_key",
        )?;
        let kinds = serde_json::to_string(&settings.tag_kinds)?;
        let rows = stmt.query_map([kinds], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<f64>>(2)?,
            ))
        })?;
        for row in rows {
            let (image_id, raw, confidence) = row?;
            let Some(&image) = image_index.get(&image_id) else {
                continue;
            };
            let tag = crate::text::clean(&raw).into_owned();
            if tag.is_empty() {
                continue;
            }
            pairs.push(Pair {
                image,
                tag_key: tag.to_lowercase(),
                tag,
                confidence,
            });
        }
    }
    // Grouped by image, then by key, as the filters expect; a key met twice
    // (only where cleaning made two stored keys one) keeps its best score.
    pairs.sort_by(|a, b| (a.image, &a.tag_key).cmp(&(b.image, &b.tag_key)));
    pairs.dedup_by(|later, kept| {
        let same = later.image == kept.image && later.tag_key == kept.tag_key;
        if same {
            kept.confidence = match (kept.confidence, later.confidence) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        same
    });
    let total_pairs = pairs.len();
    let kept = filter_pairs(pairs, settings);
    let mut filtered_edges = total_pairs - kept.len();

    // Tags: shown in their most common spelling, ordered by key for stable indices.
    let mut spellings: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for p in &kept {
        *spellings
            .entry(&p.tag_key)
            .or_default()
            .entry(&p.tag)
            .or_default() += 1;
    }
    let mut keys: Vec<&str> = spellings.keys().copied().collect();
    keys.sort_unstable();
    // Every id taken so far: the image URLs, then each tag's as it is given.
    let mut taken: HashSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let mut tag_index = HashMap::new();
    let mut tag_nodes = Vec::with_capacity(keys.len());
    for key in keys {
        let shown = spellings[key]
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(s, _)| (*s).to_string())
            .unwrap_or_else(|| key.to_string());
        let id = tag_id(&shown, &mut taken);
        tag_index.insert(key.to_string(), n_images + tag_nodes.len());
        tag_nodes.push(Node {
            kind: NodeKind::Tag,
            id,
            label: shown,
            image_id: None,
            frequency: 0,
        });
    }
    let mut edges = Vec::with_capacity(kept.len());
    for p in &kept {
        let tag = tag_index[&p.tag_key];
        // Images shared more often weigh more in a tag's frequency.
        tag_nodes[tag - n_images].frequency += nodes[p.image].frequency;
        edges.push(Edge {
            source: p.image as u32,
            target: tag as u32,
            weight: p.confidence.unwrap_or(1.0) as f32,
        });
    }
    nodes.extend(tag_nodes);
    let mut graph = Graph::new(nodes, n_images, edges);
    // The last filter, on the graph, so that stacking can apply it again.
    if let Some(min_degree) = settings.min_tag_degree {
        let dropped;
        (graph, dropped) = drop_rare_tags(&graph, min_degree);
        filtered_edges += dropped;
    }

    let mut summary = GraphSummary {
        filtered_edges,
        ..GraphSummary::default()
    };
    summary.recount(&graph);
    Ok((graph, summary))
}

/// What marks a tag id that is not the tag as shown.
const TAG_ID_PREFIX: &str = "tag:";

/// The export id of a tag shown as `shown`, never one of `taken` (which it
/// joins). It is the tag itself, as the recipe has it, unless that could be
/// mistaken for another node: a tag spelled like an image URL would merge
/// with the image in Gephi, so it becomes `tag:<tag>`; and a tag that itself
/// starts with `tag:` always gets the prefix too, so a prefixed id never
/// equals another tag's plain one. Distinct tags thus get distinct ids; the
/// loop only matters for an image URL that starts with `tag:`.
fn tag_id(shown: &str, taken: &mut HashSet<String>) -> String {
    let mut id = if shown.starts_with(TAG_ID_PREFIX) || taken.contains(shown) {
        format!("{TAG_ID_PREFIX}{shown}")
    } else {
        shown.to_string()
    };
    while taken.contains(&id) {
        id.insert_str(0, TAG_ID_PREFIX);
    }
    taken.insert(id.clone());
    id
}

/// Applies stop tags, minimum confidence and top-k, in that order (the
/// minimum tag degree comes last, on the graph: `drop_rare_tags`).
fn filter_pairs(pairs: Vec<Pair>, settings: &GraphSettings) -> Vec<Pair> {
    let stop: std::collections::HashSet<&str> =
        settings.stop_tags.iter().map(String::as_str).collect();
    let mut kept: Vec<Pair> = pairs
        .into_iter()
        .filter(|p| !stop.contains(p.tag_key.as_str()))
        .filter(|p| match (settings.min_confidence, p.confidence) {
            (Some(min), Some(c)) => c >= min,
            _ => true,
        })
        .collect();
    if let Some(k) = settings.top_k {
        // Pairs arrive grouped by image; rank each group by score, ties by tag.
        kept.sort_by(|a, b| {
            a.image
                .cmp(&b.image)
                .then_with(|| {
                    b.confidence
                        .unwrap_or(1.0)
                        .total_cmp(&a.confidence.unwrap_or(1.0))
                })
                .then_with(|| a.tag_key.cmp(&b.tag_key))
        });
        let mut rank = 0;
        let mut last_image = usize::MAX;
        kept.retain(|p| {
            if p.image != last_image {
                last_image = p.image;
                rank = 0;
            }
            rank += 1;
            rank <= k
        });
    }
    kept
}

/// `graph` without the tags on fewer than `min_degree` image nodes, and how
/// many edges went with them: `--min-tag-degree`, applied by `build_graph`
/// and again after stacking near-duplicates, where a tag that only two
/// stacked images shared is left on one node.
pub fn drop_rare_tags(graph: &Graph, min_degree: usize) -> (Graph, usize) {
    let keep: Vec<bool> = (0..graph.node_count())
        .map(|i| graph.nodes[i].kind == NodeKind::Image || graph.degree(i) as usize >= min_degree)
        .collect();
    let mut new_index = vec![u32::MAX; keep.len()];
    let mut nodes = Vec::with_capacity(keep.len());
    for (i, node) in graph.nodes.iter().enumerate() {
        if keep[i] {
            new_index[i] = nodes.len() as u32;
            nodes.push(node.clone());
        }
    }
    let edges: Vec<Edge> = graph
        .edges
        .iter()
        .filter(|e| keep[e.source as usize] && keep[e.target as usize])
        .map(|e| Edge {
            source: new_index[e.source as usize],
            target: new_index[e.target as usize],
            weight: e.weight,
        })
        .collect();
    let dropped = graph.edges.len() - edges.len();
    (Graph::new(nodes, graph.n_images, edges), dropped)
}

/// The file name at the end of a URL, percent-decoded, as the recipe labels
/// images (`…/media/a%20b.jpg?x=1` → `a b.jpg`); the URL itself when it has
/// none. Control characters a decoded name may hold are cleaned out.
pub fn file_name_of(url: &str) -> String {
    let name = url::Url::parse(url)
        .ok()
        .and_then(|parsed| {
            let last = parsed.path_segments()?.next_back()?.to_string();
            (!last.is_empty()).then(|| {
                percent_encoding::percent_decode_str(&last)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
        .unwrap_or_else(|| url.to_string());
    match crate::text::clean(&name) {
        clean if clean.is_empty() => url.to_string(),
        clean => clean.into_owned(),
    }
}

/// Size of the largest connected component (union–find over the edges).
fn largest_component(graph: &Graph) -> usize {
    let n = graph.node_count();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for e in &graph.edges {
        let (a, b) = (
            find(&mut parent, e.source as usize),
            find(&mut parent, e.target as usize),
        );
        if a != b {
            parent[a] = b;
        }
    }
    let mut sizes = vec![0usize; n];
    for i in 0..n {
        let root = find(&mut parent, i);
        sizes[root] += 1;
    }
    sizes.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with images a, b, c and tags given as (image, tag, confidence, source).
    fn project_with(tags: &[(&str, &str, Option<f64>, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::init(dir.path()).unwrap();
        for (url, freq) in [
            ("http://x/a.jpg", 3),
            ("http://x/b.jpg", 1),
            ("http://x/c.jpg", 1),
        ] {
            project
                .conn()
                .execute(
                    "INSERT INTO images(url, frequency) VALUES (?1, ?2)",
                    (url, freq),
                )
                .unwrap();
        }
        for (image, tag, conf, source) in tags {
            project
                .conn()
                .execute(
                    "INSERT INTO tags(image_id, tag, tag_key, confidence, source)
                     SELECT id, ?2, lower(?2), ?3, ?4 FROM images WHERE url = ?1",
                    (format!("http://x/{image}.jpg"), tag, conf, source),
                )
                .unwrap();
        }
        (dir, project)
    }

    fn edge_set(g: &Graph) -> Vec<(String, String, f32)> {
        g.edges
            .iter()
            .map(|e| {
                (
                    g.nodes[e.source as usize].label.clone(),
                    g.nodes[e.target as usize].label.clone(),
                    e.weight,
                )
            })
            .collect()
    }

    #[test]
    fn unfiltered_graph_keeps_everything_and_counts_isolated_images() {
        let (_d, p) = project_with(&[
            ("a", "Cat", Some(0.9), "s"),
            ("a", "cat ", Some(0.5), "t"),
            ("b", "cat", Some(0.4), "s"),
            ("b", "Dog", None, "s"),
        ]);
        let (g, s) = build_graph(&p, &GraphSettings::default()).unwrap();
        // "Cat", "cat " and "cat" are one tag: keys are the cleaned
        // (trimmed) text lowercased, whatever the store's key says; a's two
        // scores merge into the best.
        assert_eq!(s.images, 3);
        assert_eq!(s.isolated_images, 1);
        assert_eq!(s.tags, 2);
        assert_eq!(s.edges, 3);
        // a, b, cat and dog form one component of 4 nodes.
        assert_eq!(s.largest_component, 4);
        let cat = g
            .nodes
            .iter()
            .find(|n| n.label.eq_ignore_ascii_case("cat"))
            .unwrap();
        // Tag frequency sums the frequencies of images carrying it: a (3) + b (1).
        assert_eq!(cat.frequency, 4);
        assert!(edge_set(&g).contains(&("a.jpg".into(), cat.label.clone(), 0.9)));
        // No score means full weight.
        assert!(edge_set(&g).contains(&("b.jpg".into(), "Dog".into(), 1.0)));
    }

    #[test]
    fn tag_ids_are_unique_even_when_tags_look_like_urls_or_prefixed_ids() {
        let (_d, p) = project_with(&[
            ("a", "http://x/b.jpg", Some(0.9), "s"),
            ("a", "tag:http://x/b.jpg", Some(0.9), "s"),
            ("b", "tag:tag:http://x/b.jpg", Some(0.9), "s"),
            ("b", "tag:cat", Some(0.9), "s"),
            ("c", "cat", Some(0.9), "s"),
        ]);
        let (g, _) = build_graph(&p, &GraphSettings::default()).unwrap();
        let id_of = |label: &str| {
            g.nodes
                .iter()
                .find(|n| n.kind == NodeKind::Tag && n.label == label)
                .unwrap()
                .id
                .clone()
        };
        assert_eq!(id_of("cat"), "cat", "plain tags keep their spelling");
        assert_eq!(id_of("http://x/b.jpg"), "tag:http://x/b.jpg");
        assert_eq!(id_of("tag:http://x/b.jpg"), "tag:tag:http://x/b.jpg");
        assert_eq!(
            id_of("tag:tag:http://x/b.jpg"),
            "tag:tag:tag:http://x/b.jpg"
        );
        assert_eq!(id_of("tag:cat"), "tag:tag:cat");
        let ids: HashSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids.len(), g.nodes.len());
    }

    #[test]
    fn tag_ids_never_repeat_one_taken_by_an_odd_image_url() {
        let mut taken: HashSet<String> = ["tag:x".to_string(), "x".to_string()].into();
        assert_eq!(tag_id("x", &mut taken), "tag:tag:x");
        assert_eq!(tag_id("y", &mut taken), "y");
        assert_eq!(tag_id("y", &mut taken), "tag:y");
        assert_eq!(taken.len(), 5);
    }

    #[test]
    fn stored_control_characters_are_cleaned_and_merge_with_their_equals() {
        let (_d, p) = project_with(&[
            ("a", "two\nlines", Some(0.4), "s"),
            ("a", "two lines", Some(0.7), "t"),
            ("b", "bell\u{7}", Some(0.5), "s"),
        ]);
        let (g, s) = build_graph(&p, &GraphSettings::default()).unwrap();
        assert_eq!((s.tags, s.edges), (2, 2));
        let labels: HashSet<&str> = g.nodes[g.n_images..]
            .iter()
            .map(|n| n.id.as_str())
            .collect();
        assert_eq!(labels, HashSet::from(["two lines", "bell"]));
        assert!(edge_set(&g).contains(&("a.jpg".into(), "two lines".into(), 0.7)));
    }

    #[test]
    fn filters_apply_in_order() {
        let (_d, p) = project_with(&[
            ("a", "cat", Some(0.9), "s"),
            ("a", "pet", Some(0.8), "s"),
            ("a", "animal", Some(0.3), "s"),
            ("b", "cat", Some(0.7), "s"),
            ("b", "sofa", Some(0.95), "s"),
            ("b", "pet", Some(0.6), "s"),
            ("c", "pet", Some(0.2), "s"),
        ]);
        let settings = GraphSettings {
            min_confidence: Some(0.5),
            top_k: Some(2),
            stop_tags: vec!["sofa".into()],
            min_tag_degree: Some(2),
            ..Default::default()
        };
        let (g, s) = build_graph(&p, &settings).unwrap();
        // sofa stopped; animal and c/pet below 0.5; top-2 keeps a:{cat,pet}, b:{cat,pet};
        // every remaining tag is on two images.
        let mut edges = edge_set(&g);
        edges.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        assert_eq!(
            edges,
            vec![
                ("a.jpg".into(), "cat".into(), 0.9),
                ("a.jpg".into(), "pet".into(), 0.8),
                ("b.jpg".into(), "cat".into(), 0.7),
                ("b.jpg".into(), "pet".into(), 0.6),
            ]
        );
        assert_eq!(s.filtered_edges, 3);
        assert_eq!(s.isolated_images, 1);
    }

    #[test]
    fn min_tag_degree_drops_single_image_tags() {
        let (_d, p) = project_with(&[
            ("a", "cat", Some(0.9), "s"),
            ("b", "cat", Some(0.9), "s"),
            ("c", "rare", Some(0.9), "s"),
        ]);
        let settings = GraphSettings {
            min_tag_degree: Some(2),
            ..Default::default()
        };
        let (_, s) = build_graph(&p, &settings).unwrap();
        assert_eq!((s.tags, s.edges, s.isolated_images), (1, 2, 1));
    }

    #[test]
    fn only_chosen_tag_kinds_enter() {
        let (_d, p) = project_with(&[
            ("a", "cat", Some(0.9), "g"),
            ("a", "CATS ARE COOL", None, "g/text"),
        ]);
        p.conn()
            .execute("UPDATE tags SET kind = 'text' WHERE source = 'g/text'", [])
            .unwrap();
        let (_, labels) = build_graph(&p, &GraphSettings::default()).unwrap();
        assert_eq!(labels.tags, 1);
        let both = GraphSettings {
            tag_kinds: vec!["label".into(), "text".into()],
            ..Default::default()
        };
        let (_, s) = build_graph(&p, &both).unwrap();
        assert_eq!(s.tags, 2);
    }

    #[test]
    fn file_names_are_taken_from_urls() {
        assert_eq!(
            file_name_of("https://pbs.twimg.com/media/D1t.jpg?name=large"),
            "D1t.jpg"
        );
        assert_eq!(file_name_of("file:///home/u/pics/x.png"), "x.png");
        assert_eq!(file_name_of("https://example.org/"), "https://example.org/");
        assert_eq!(
            file_name_of("file:///tmp/caf%C3%A9%20shot.png"),
            "café shot.png"
        );
        // Decoded control characters would make the label differ by format.
        assert_eq!(file_name_of("https://x.org/a%0Ab%07.jpg"), "a b .jpg");
        assert_eq!(file_name_of("https://x.org/%07"), "https://x.org/%07");
    }

    #[test]
    fn stop_tag_file_ignores_comments_and_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stop.txt");
        std::fs::write(&path, "# generic\nNo Person\n\n illustration # too broad\n").unwrap();
        assert_eq!(
            GraphSettings::read_stop_tags(&path).unwrap(),
            vec!["no person", "illustration"]
        );
    }
}
