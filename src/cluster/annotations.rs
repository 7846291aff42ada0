//! The user's corrections of the clusters: rename, caption, colour, hide,
//! merge, and lasso images into a new cluster. Each is saved in the project
//! at once, in one transaction.
//!
//! An annotation is a row of `cluster_annotations`, keyed by its own id and
//! holding the image members of its group at the last change, because
//! cluster ids are renumbered by every `tagscape cluster` run. A re-run
//! (`reattach`) first replays the structural edits in the order they were
//! made — a lasso moves exactly the images lassoed; a merge joins again the
//! new clusters that lie at least half inside the merged group — and then
//! attaches the remaining annotations to the new clusters by membership
//! overlap: Jaccard ≥ `MIN_JACCARD`, best pairs first, one-to-one.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, bail};
use rusqlite::{OptionalExtension, Transaction, params};

use super::store::{self, load_assignment};
use super::{Assignment, Group, PALETTE, compute_facts, image_index};
use crate::graph::Graph;
use crate::layout::Placement;
use crate::project::{Project, SQL_NOW};

/// The overlap needed to carry an annotation over to a re-detected cluster.
pub const MIN_JACCARD: f64 = 0.5;
/// The share of a re-detected cluster that must lie inside a merged group
/// for a replayed merge to take it in.
pub const MERGE_CONTAINMENT: f64 = 0.5;

pub fn rename(project: &mut Project, cluster: i64, name: Option<&str>) -> Result<()> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    annotate(project, cluster, "name", name.map(|n| n.to_string()))
}

pub fn set_caption(project: &mut Project, cluster: i64, caption: Option<&str>) -> Result<()> {
    let caption = caption.map(str::trim).filter(|c| !c.is_empty());
    annotate(project, cluster, "caption", caption.map(|c| c.to_string()))
}

/// `None` goes back to the palette's colour.
pub fn set_color(project: &mut Project, cluster: i64, rgb: Option<u32>) -> Result<()> {
    annotate(project, cluster, "color", rgb.map(super::color_hex))
}

pub fn set_hidden(project: &mut Project, cluster: i64, hidden: bool) -> Result<()> {
    let tx = project.conn_mut().transaction()?;
    let a = ensure_annotation(&tx, cluster)?;
    tx.execute(
        &format!(
            "UPDATE cluster_annotations SET hidden = ?2, updated_at = {SQL_NOW} WHERE id = ?1"
        ),
        params![a, hidden],
    )?;
    tx.commit().context("saving the annotation")?;
    Ok(())
}

fn annotate(
    project: &mut Project,
    cluster: i64,
    column: &str,
    value: Option<String>,
) -> Result<()> {
    // `column` is one of ours, never user input.
    debug_assert!(matches!(column, "name" | "caption" | "color"));
    let tx = project.conn_mut().transaction()?;
    let a = ensure_annotation(&tx, cluster)?;
    tx.execute(
        &format!(
            "UPDATE cluster_annotations SET {column} = ?2, updated_at = {SQL_NOW} WHERE id = ?1"
        ),
        params![a, value],
    )?;
    tx.commit().context("saving the annotation")?;
    Ok(())
}

/// The annotation of `cluster`, created (with the cluster's current image
/// members) when it has none.
fn ensure_annotation(tx: &Transaction<'_>, cluster: i64) -> Result<i64> {
    let existing: Option<Option<i64>> = tx
        .query_row(
            "SELECT annotation_id FROM clusters WHERE id = ?1",
            [cluster],
            |r| r.get(0),
        )
        .optional()?;
    match existing {
        None => bail!("there is no cluster {cluster}: list them with `tagscape cluster DIR list`"),
        Some(Some(a)) => Ok(a),
        Some(None) => {
            let members: Vec<String> = tx
                .prepare(
                    "SELECT nc.node_id FROM node_clusters nc
                     JOIN graph_nodes g ON g.node_id = nc.node_id AND g.kind = 'image'
                     WHERE nc.cluster_id = ?1 ORDER BY g.idx",
                )?
                .query_map([cluster], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let a = insert_annotation(tx, "detected", &members, &[])?;
            tx.execute(
                "UPDATE clusters SET annotation_id = ?2 WHERE id = ?1",
                params![cluster, a],
            )?;
            Ok(a)
        }
    }
}

fn insert_annotation(
    tx: &Transaction<'_>,
    kind: &str,
    members: &[String],
    lasso: &[String],
) -> Result<i64> {
    tx.execute(
        &format!(
            "INSERT INTO cluster_annotations(kind, members, lasso, created_at, updated_at)
             VALUES (?1, ?2, ?3, {SQL_NOW}, {SQL_NOW})"
        ),
        params![
            kind,
            serde_json::to_string(members)?,
            serde_json::to_string(lasso)?
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Merges the clusters `ids` into the one with the lowest id (a regular
/// cluster before "other"); returns its id. Names, captions and colours
/// come from the kept cluster, else from the first merged one that has them.
pub fn merge(
    project: &mut Project,
    graph: &Graph,
    placements: Option<&[Placement]>,
    ids: &[i64],
) -> Result<i64> {
    let (mut assignment, before) = load_assignment(project, graph)?;
    let mut picked: Vec<usize> = Vec::new();
    for id in ids {
        let Some(g) = assignment.groups.iter().position(|g| g.id == *id) else {
            bail!("there is no cluster {id}: list them with `tagscape cluster DIR list`");
        };
        if !picked.contains(&g) {
            picked.push(g);
        }
    }
    if picked.len() < 2 {
        bail!("merging needs two different clusters (got {ids:?})");
    }
    picked.sort_by_key(|&g| (assignment.groups[g].is_other, assignment.groups[g].id));
    let keep = picked[0];
    let absorbed: Vec<usize> = picked[1..].to_vec();
    for g in assignment.image_group.iter_mut() {
        if g.is_some_and(|g| absorbed.contains(&g)) {
            *g = Some(keep);
        }
    }
    let removed: Vec<i64> = absorbed.iter().map(|&g| assignment.groups[g].id).collect();
    let old_annotations: Vec<i64> = picked
        .iter()
        .filter_map(|&g| assignment.groups[g].annotation)
        .collect();
    let keep_id = assignment.groups[keep].id;
    assignment.groups[keep].is_other = false;
    assignment.drop_empty();
    let keep = assignment
        .groups
        .iter()
        .position(|g| g.id == keep_id)
        .context("the kept cluster vanished while merging")?;
    let facts = compute_facts(graph, placements, &assignment, |g| g == keep);

    let tx = project.conn_mut().transaction()?;
    let merged = merged_annotation(&tx, &old_annotations)?;
    for a in &old_annotations {
        tx.execute("DELETE FROM cluster_annotations WHERE id = ?1", [a])?;
    }
    assignment.groups[keep].annotation = Some(merged);
    store::save_edit(&tx, graph, &assignment, &facts, &[keep], &removed, &before)?;
    tx.commit().context("saving the merge")?;
    Ok(keep_id)
}

/// A new `merged` annotation combining `sources` (in order: the first one
/// that sets a field wins; lassos are joined).
fn merged_annotation(tx: &Transaction<'_>, sources: &[i64]) -> Result<i64> {
    let merged = insert_annotation(tx, "merged", &[], &[])?;
    let mut lasso: Vec<String> = Vec::new();
    let (mut name, mut caption, mut color, mut hidden) = (None, None, None, None);
    for a in sources {
        let (n, c, col, h, l): (Option<String>, Option<String>, Option<String>, bool, String) = tx
            .query_row(
                "SELECT name, caption, color, hidden, lasso FROM cluster_annotations WHERE id = ?1",
                [a],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        name = name.or(n);
        caption = caption.or(c);
        color = color.or(col);
        hidden = hidden.or(Some(h));
        let l: Vec<String> = serde_json::from_str(&l).unwrap_or_default();
        for id in l {
            if !lasso.contains(&id) {
                lasso.push(id);
            }
        }
    }
    tx.execute(
        "UPDATE cluster_annotations SET name = ?2, caption = ?3, color = ?4, hidden = ?5, lasso = ?6
         WHERE id = ?1",
        params![
            merged,
            name,
            caption,
            color,
            hidden.unwrap_or(false),
            serde_json::to_string(&lasso)?
        ],
    )?;
    Ok(merged)
}

/// Moves the image nodes `images` (graph indices) into a new cluster named
/// `name` (or automatically); returns its id. Clusters left empty are removed.
pub fn lasso(
    project: &mut Project,
    graph: &Graph,
    placements: Option<&[Placement]>,
    images: &[usize],
    name: Option<&str>,
) -> Result<i64> {
    let mut chosen: Vec<usize> = Vec::new();
    for &i in images {
        if i >= graph.n_images {
            bail!("node {i} is not an image of the graph: lasso images only");
        }
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    if chosen.is_empty() {
        bail!("the lasso holds no images: draw it around some images");
    }
    chosen.sort_unstable();
    let (mut assignment, before) = load_assignment(project, graph)?;
    let new_id = assignment.next_id();
    let new_index = assignment.groups.len();
    let mut touched: HashSet<usize> = HashSet::new();
    for &i in &chosen {
        if let Some(g) = assignment.image_group[i] {
            touched.insert(g);
        }
        assignment.image_group[i] = Some(new_index);
    }
    assignment.groups.push(Group {
        id: new_id,
        is_other: false,
        color: PALETTE[(new_id as usize).saturating_sub(1) % PALETTE.len()],
        annotation: None,
    });
    let sizes = assignment.sizes();
    let emptied: Vec<usize> = touched.iter().copied().filter(|&g| sizes[g] == 0).collect();
    let removed: Vec<i64> = emptied.iter().map(|&g| assignment.groups[g].id).collect();
    let orphaned: Vec<i64> = emptied
        .iter()
        .filter_map(|&g| assignment.groups[g].annotation)
        .collect();
    let touched_ids: Vec<i64> = touched
        .iter()
        .filter(|g| !emptied.contains(g))
        .map(|&g| assignment.groups[g].id)
        .chain([new_id])
        .collect();
    assignment.drop_empty();
    let changed: Vec<usize> = assignment
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| touched_ids.contains(&g.id))
        .map(|(i, _)| i)
        .collect();
    let facts = compute_facts(graph, placements, &assignment, |g| changed.contains(&g));
    let members: Vec<String> = chosen.iter().map(|&i| graph.nodes[i].id.clone()).collect();

    let tx = project.conn_mut().transaction()?;
    let a = insert_annotation(&tx, "lasso", &members, &members)?;
    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
        tx.execute(
            "UPDATE cluster_annotations SET name = ?2 WHERE id = ?1",
            params![a, name],
        )?;
    }
    // An emptied cluster's annotation has nothing left to describe.
    for o in &orphaned {
        tx.execute("DELETE FROM cluster_annotations WHERE id = ?1", [o])?;
    }
    let new_index = assignment
        .groups
        .iter()
        .position(|g| g.id == new_id)
        .context("the lassoed cluster vanished")?;
    assignment.groups[new_index].annotation = Some(a);
    store::save_edit(&tx, graph, &assignment, &facts, &changed, &removed, &before)?;
    tx.commit().context("saving the lasso")?;
    Ok(new_id)
}

/// One stored annotation, as a re-run sees it.
struct Stored {
    id: i64,
    kind: String,
    members: Vec<usize>,
    lasso: Vec<usize>,
}

/// After a fresh detection: replays the lassos and merges, then attaches
/// the other annotations by overlap. Returns (attached, left unattached).
pub(crate) fn reattach(
    project: &Project,
    graph: &Graph,
    assignment: &mut Assignment,
) -> Result<(usize, usize)> {
    let index = image_index(graph);
    let resolve = |json: &str| -> Vec<usize> {
        let ids: Vec<String> = serde_json::from_str(json).unwrap_or_default();
        let mut out: Vec<usize> = ids
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let mut stmt = project
        .conn()
        .prepare("SELECT id, kind, members, lasso FROM cluster_annotations ORDER BY id")?;
    let stored: Vec<Stored> = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|(id, kind, members, lasso)| Stored {
            id,
            kind,
            members: resolve(&members),
            lasso: resolve(&lasso),
        })
        .collect();

    // Replay, in the order the user made them.
    for a in &stored {
        if !a.lasso.is_empty() {
            let g = assignment.groups.len();
            assignment.groups.push(Group {
                id: assignment.next_id(),
                is_other: false,
                color: PALETTE[g % PALETTE.len()],
                annotation: (a.kind == "lasso").then_some(a.id),
            });
            for &i in &a.lasso {
                assignment.image_group[i] = Some(g);
            }
        }
        if a.kind == "merged" {
            let sizes = assignment.sizes();
            let mut count = vec![0usize; assignment.groups.len()];
            for &i in &a.members {
                if let Some(g) = assignment.image_group[i] {
                    count[g] += 1;
                }
            }
            let parts: Vec<usize> = (0..assignment.groups.len())
                .filter(|&g| {
                    assignment.groups[g].annotation.is_none()
                        && sizes[g] > 0
                        && count[g] as f64 >= MERGE_CONTAINMENT * sizes[g] as f64
                })
                .collect();
            if let Some(&keep) = parts
                .iter()
                .min_by_key(|&&g| (assignment.groups[g].is_other, g))
            {
                for g in assignment.image_group.iter_mut() {
                    if g.is_some_and(|g| parts.contains(&g)) {
                        *g = Some(keep);
                    }
                }
                assignment.groups[keep].is_other =
                    parts.iter().all(|&g| assignment.groups[g].is_other);
                assignment.groups[keep].annotation = Some(a.id);
            }
        }
    }
    assignment.drop_empty();

    // Attach the rest by Jaccard overlap, best pairs first, one-to-one.
    let bound: HashSet<i64> = assignment
        .groups
        .iter()
        .filter_map(|g| g.annotation)
        .collect();
    let sizes = assignment.sizes();
    let mut candidates: Vec<(f64, i64, usize)> = Vec::new();
    for a in stored.iter().filter(|a| !bound.contains(&a.id)) {
        let mut overlap: HashMap<usize, usize> = HashMap::new();
        for &i in &a.members {
            if let Some(g) = assignment.image_group[i] {
                *overlap.entry(g).or_default() += 1;
            }
        }
        for (g, n) in overlap {
            let union = a.members.len() + sizes[g] - n;
            let jaccard = n as f64 / union as f64;
            if jaccard >= MIN_JACCARD && assignment.groups[g].annotation.is_none() {
                candidates.push((jaccard, a.id, g));
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut taken: HashSet<i64> = HashSet::new();
    for (_, a, g) in candidates {
        if !taken.contains(&a) && assignment.groups[g].annotation.is_none() {
            assignment.groups[g].annotation = Some(a);
            taken.insert(a);
        }
    }
    let attached = bound.len() + taken.len();
    Ok((attached, stored.len() - attached))
}

/// Image node indices for the URLs (node ids) given; names the first unknown one.
pub fn images_by_id(graph: &Graph, ids: &[String]) -> Result<Vec<usize>> {
    let index = image_index(graph);
    ids.iter()
        .map(|id| {
            index.get(id.as_str()).copied().with_context(|| {
                format!(
                    "{id} is not an image of the graph: give image URLs as in nodes.csv's Id column"
                )
            })
        })
        .collect()
}
