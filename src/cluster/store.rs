//! Clusters in the project store: written whole by `tagscape cluster`,
//! changed in place by the annotations, read by the viewer and the exports.
//! Every write is one transaction, so a crash leaves the previous state.

use std::collections::HashMap;

use anyhow::{Context, Result};
use rusqlite::{Transaction, params};

use super::{
    Assignment, Facts, Group, OTHER_NAME, TagScore, UNTAGGED_NAME, color_hex, labels, parse_color,
};
use crate::graph::Graph;
use crate::project::{Project, SQL_NOW};

/// A stored cluster with the user's annotation applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub id: i64,
    /// The user's name, else the automatic one.
    pub name: String,
    pub auto_name: String,
    pub caption: Option<String>,
    /// 0xRRGGBB: the user's colour, else the palette's.
    pub color: u32,
    pub hidden: bool,
    pub is_other: bool,
    /// Images.
    pub size: usize,
    pub tag_count: usize,
    pub core_size: Option<usize>,
    pub outside_hull: Option<usize>,
    pub hull_wkt: Option<String>,
    pub label_at: Option<[f64; 2]>,
    /// All tags, best first.
    pub labels: Vec<TagScore>,
    pub annotation_id: Option<i64>,
}

impl Cluster {
    /// The hull as a polygon (layout coordinates).
    pub fn hull(&self) -> Option<geo::Polygon<f64>> {
        use std::str::FromStr;
        let text = self.hull_wkt.as_deref()?;
        let parsed = wkt::Wkt::<f64>::from_str(text).ok()?;
        geo::Polygon::try_from(parsed).ok()
    }
}

/// How many clusters are stored (0 before `tagscape cluster`).
pub fn cluster_count(project: &Project) -> Result<i64> {
    Ok(project
        .conn()
        .query_row("SELECT count(*) FROM clusters", [], |r| r.get(0))?)
}

/// Every stored cluster, by id.
pub fn load_clusters(project: &Project) -> Result<Vec<Cluster>> {
    let mut stmt = project.conn().prepare(
        "SELECT c.id, c.auto_name, c.auto_color, c.is_other, c.size, c.tag_count, c.core_size,
                c.outside_hull, c.hull_wkt, c.label_x, c.label_y, c.auto_labels, c.annotation_id,
                a.name, a.caption, a.color, COALESCE(a.hidden, 0)
         FROM clusters c LEFT JOIN cluster_annotations a ON a.id = c.annotation_id
         ORDER BY c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            (
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ),
            (
                r.get::<_, Option<f64>>(9)?,
                r.get::<_, Option<f64>>(10)?,
                r.get::<_, String>(11)?,
                r.get::<_, Option<i64>>(12)?,
                r.get::<_, Option<String>>(13)?,
                r.get::<_, Option<String>>(14)?,
                r.get::<_, Option<String>>(15)?,
                r.get::<_, bool>(16)?,
            ),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            (id, auto_name, auto_color, is_other, size, tag_count, core, outside, hull_wkt),
            (lx, ly, auto_labels, annotation_id, name, caption, color, hidden),
        ) = row?;
        let labels: Vec<TagScore> = serde_json::from_str(&auto_labels).with_context(|| {
            format!("cluster {id}'s stored labels are unreadable: run `tagscape cluster` again")
        })?;
        let color = color
            .as_deref()
            .and_then(|c| parse_color(c).ok())
            .or_else(|| parse_color(&auto_color).ok())
            .unwrap_or(super::OTHER_COLOR);
        out.push(Cluster {
            id,
            name: name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| auto_name.clone()),
            auto_name,
            caption,
            color,
            hidden,
            is_other,
            size: size.max(0) as usize,
            tag_count: tag_count.max(0) as usize,
            core_size: core.map(|c| c.max(0) as usize),
            outside_hull: outside.map(|c| c.max(0) as usize),
            hull_wkt,
            label_at: lx.zip(ly).map(|(x, y)| [x, y]),
            labels,
            annotation_id,
        });
    }
    Ok(out)
}

/// The clusters and each graph node's place among them (for exports and
/// the viewer).
#[derive(Clone, Debug, Default)]
pub struct NodeClusters {
    pub clusters: Vec<Cluster>,
    /// Per graph node: index into `clusters`.
    pub of_node: Vec<Option<usize>>,
}

impl NodeClusters {
    pub fn cluster_of(&self, node: usize) -> Option<&Cluster> {
        self.of_node
            .get(node)
            .copied()
            .flatten()
            .map(|i| &self.clusters[i])
    }
}

/// `None` when `tagscape cluster` never ran on this project.
pub fn load_node_clusters(project: &Project, graph: &Graph) -> Result<Option<NodeClusters>> {
    let clusters = load_clusters(project)?;
    if clusters.is_empty() {
        return Ok(None);
    }
    let index: HashMap<i64, usize> = clusters
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let stored = stored_node_clusters(project)?;
    let of_node = graph
        .nodes
        .iter()
        .map(|n| stored.get(&n.id).and_then(|id| index.get(id).copied()))
        .collect();
    Ok(Some(NodeClusters { clusters, of_node }))
}

fn stored_node_clusters(project: &Project) -> Result<HashMap<String, i64>> {
    let mut stmt = project
        .conn()
        .prepare("SELECT node_id, cluster_id FROM node_clusters")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// The stored clusters as an `Assignment` over `graph`'s images, and the
/// stored cluster id of every node (to write only what an edit changes).
pub(crate) fn load_assignment(
    project: &Project,
    graph: &Graph,
) -> Result<(Assignment, Vec<Option<i64>>)> {
    let mut stmt = project
        .conn()
        .prepare("SELECT id, is_other, auto_color, annotation_id FROM clusters ORDER BY id")?;
    let groups: Vec<Group> = stmt
        .query_map([], |r| {
            Ok(Group {
                id: r.get(0)?,
                is_other: r.get(1)?,
                color: parse_color(&r.get::<_, String>(2)?).unwrap_or(super::OTHER_COLOR),
                annotation: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if groups.is_empty() {
        anyhow::bail!(
            "project {} has no clusters yet: run `tagscape cluster {}` first",
            project.dir().display(),
            project.dir().display()
        );
    }
    let index: HashMap<i64, usize> = groups.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    let stored = stored_node_clusters(project)?;
    let node_cluster: Vec<Option<i64>> = graph
        .nodes
        .iter()
        .map(|n| stored.get(&n.id).copied())
        .collect();
    let image_group = node_cluster[..graph.n_images]
        .iter()
        .map(|id| id.and_then(|id| index.get(&id).copied()))
        .collect();
    Ok((
        Assignment {
            groups,
            image_group,
        },
        node_cluster,
    ))
}

/// Image node ids of each group.
pub(crate) fn members_of(graph: &Graph, assignment: &Assignment) -> Vec<Vec<String>> {
    let mut members = vec![Vec::new(); assignment.groups.len()];
    for (i, g) in assignment.image_group.iter().enumerate() {
        if let Some(g) = g {
            members[*g].push(graph.nodes[i].id.clone());
        }
    }
    members
}

/// Replaces every stored cluster (a full `tagscape cluster` run).
pub(crate) fn replace_all(
    project: &mut Project,
    graph: &Graph,
    assignment: &Assignment,
    facts: &Facts,
) -> Result<()> {
    let tx = project.conn_mut().transaction()?;
    tx.execute("DELETE FROM node_clusters", [])?;
    tx.execute("DELETE FROM clusters", [])?;
    let all: Vec<usize> = (0..assignment.groups.len()).collect();
    write_groups(&tx, graph, assignment, facts, &all)?;
    let mut insert =
        tx.prepare("INSERT INTO node_clusters(node_id, cluster_id) VALUES (?1, ?2)")?;
    for (node, id) in node_cluster_ids(graph, assignment, facts)
        .iter()
        .enumerate()
    {
        if let Some(id) = id {
            insert.execute(params![graph.nodes[node].id, id])?;
        }
    }
    drop(insert);
    crate::project::stages::clusters_saved(&tx)?;
    tx.commit().context("saving the clusters")?;
    Ok(())
}

/// Saves an edit: rewrites the clusters `changed` (indices into
/// `assignment`), deletes the clusters `removed` (ids), and moves the nodes
/// whose cluster differs from `before` (stored ids per node).
pub(crate) fn save_edit(
    tx: &Transaction<'_>,
    graph: &Graph,
    assignment: &Assignment,
    facts: &Facts,
    changed: &[usize],
    removed: &[i64],
    before: &[Option<i64>],
) -> Result<()> {
    // Removed first: a kept cluster may take over a removed one's annotation
    // (annotation_id is UNIQUE).
    for id in removed {
        tx.execute("DELETE FROM clusters WHERE id = ?1", [id])?;
    }
    write_groups(tx, graph, assignment, facts, changed)?;
    let after = node_cluster_ids(graph, assignment, facts);
    let mut upsert = tx.prepare(
        "INSERT INTO node_clusters(node_id, cluster_id) VALUES (?1, ?2)
         ON CONFLICT(node_id) DO UPDATE SET cluster_id = excluded.cluster_id",
    )?;
    let mut delete = tx.prepare("DELETE FROM node_clusters WHERE node_id = ?1")?;
    for (node, (new, old)) in after.iter().zip(before).enumerate() {
        let was_removed = old.is_some_and(|o| removed.contains(&o));
        if new == old && !was_removed {
            continue;
        }
        match new {
            Some(id) => upsert.execute(params![graph.nodes[node].id, id])?,
            None => delete.execute([&graph.nodes[node].id])?,
        };
    }
    Ok(())
}

/// The cluster id of every node: images by their group, tags by `facts`.
fn node_cluster_ids(graph: &Graph, assignment: &Assignment, facts: &Facts) -> Vec<Option<i64>> {
    let id_of = |g: Option<usize>| g.map(|g| assignment.groups[g].id);
    let mut ids: Vec<Option<i64>> = assignment.image_group.iter().map(|&g| id_of(g)).collect();
    ids.extend(facts.tag_group.iter().map(|g| id_of(g.map(|g| g as usize))));
    debug_assert_eq!(ids.len(), graph.node_count());
    ids
}

fn write_groups(
    tx: &Transaction<'_>,
    graph: &Graph,
    assignment: &Assignment,
    facts: &Facts,
    which: &[usize],
) -> Result<()> {
    let sizes = assignment.sizes();
    let mut tag_counts = vec![0usize; assignment.groups.len()];
    for g in facts.tag_group.iter().flatten() {
        tag_counts[*g as usize] += 1;
    }
    let members = members_of(graph, assignment);
    let mut tagged = vec![0usize; assignment.groups.len()];
    for (i, g) in assignment.image_group.iter().enumerate() {
        if let Some(g) = g
            && graph.degree(i) > 0
        {
            tagged[*g] += 1;
        }
    }
    let mut upsert = tx.prepare(
        "INSERT INTO clusters(id, auto_name, auto_color, is_other, size, tag_count, core_size,
                              outside_hull, hull_wkt, label_x, label_y, auto_labels, annotation_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET auto_name = excluded.auto_name,
             auto_color = excluded.auto_color, is_other = excluded.is_other,
             size = excluded.size, tag_count = excluded.tag_count,
             core_size = excluded.core_size, outside_hull = excluded.outside_hull,
             hull_wkt = excluded.hull_wkt, label_x = excluded.label_x,
             label_y = excluded.label_y, auto_labels = excluded.auto_labels,
             annotation_id = excluded.annotation_id",
    )?;
    let mut snapshot = tx.prepare(&format!(
        "UPDATE cluster_annotations SET members = ?2, updated_at = {SQL_NOW} WHERE id = ?1"
    ))?;
    for &g in which {
        let group = &assignment.groups[g];
        let ranked = &facts.ranked[g];
        let auto_name = if group.is_other {
            OTHER_NAME.to_string()
        } else {
            let name = labels::auto_name(ranked);
            if name.is_empty() && tagged[g] == 0 {
                UNTAGGED_NAME.to_string()
            } else if name.is_empty() {
                format!("cluster {}", group.id)
            } else {
                name
            }
        };
        let hull = facts.hulls.get(g).and_then(|h| h.as_ref());
        upsert.execute(params![
            group.id,
            auto_name,
            color_hex(group.color),
            group.is_other,
            sizes[g] as i64,
            tag_counts[g] as i64,
            hull.map(|h| h.core_size() as i64),
            hull.map(|h| h.outside as i64),
            hull.map(|h| h.to_wkt()),
            hull.map(|h| h.label_at[0]),
            hull.map(|h| h.label_at[1]),
            serde_json::to_string(ranked)?,
            group.annotation,
        ])?;
        if let Some(a) = group.annotation {
            snapshot.execute(params![a, serde_json::to_string(&members[g])?])?;
        }
    }
    Ok(())
}
