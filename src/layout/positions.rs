//! Node positions and sizes in the project store, keyed by node Id so that
//! re-building the graph keeps the layout of nodes that remain.

use anyhow::Result;
use rusqlite::OptionalExtension;

use crate::graph::Graph;
use crate::project::Project;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    pub x: f32,
    pub y: f32,
    pub size: f32,
}

/// Each node's position paired with its size.
pub fn placements(positions: impl IntoIterator<Item = [f32; 2]>, sizes: &[f32]) -> Vec<Placement> {
    positions
        .into_iter()
        .zip(sizes)
        .map(|([x, y], &size)| Placement { x, y, size })
        .collect()
}

/// Positions for every node of `graph`, or `None` when the project has no
/// layout for some node (never laid out, or nodes added since).
pub fn load_positions(project: &Project, graph: &Graph) -> Result<Option<Vec<Placement>>> {
    let mut stmt = project
        .conn()
        .prepare("SELECT x, y, size FROM positions WHERE node_id = ?1")?;
    let mut out = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let found = stmt
            .query_row([&node.id], |r| {
                Ok(Placement {
                    x: r.get::<_, f64>(0)? as f32,
                    y: r.get::<_, f64>(1)? as f32,
                    size: r.get::<_, f64>(2)? as f32,
                })
            })
            .optional()?;
        match found {
            Some(p) => out.push(p),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// Saves the positions of every node of `graph` in one transaction; the
/// layout they replace is kept for [`undo_positions`].
pub fn save_positions(
    project: &mut Project,
    graph: &Graph,
    placements: &[Placement],
) -> Result<()> {
    anyhow::ensure!(
        placements.len() == graph.nodes.len(),
        "one placement per node"
    );
    let tx = project.conn_mut().transaction()?;
    tx.execute_batch(
        "DELETE FROM previous_positions;
         INSERT INTO previous_positions SELECT node_id, x, y, size FROM positions;",
    )?;
    {
        let mut upsert = tx.prepare(
            "INSERT INTO positions(node_id, x, y, size) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(node_id) DO UPDATE SET x = excluded.x, y = excluded.y, size = excluded.size",
        )?;
        for (node, p) in graph.nodes.iter().zip(placements) {
            upsert.execute((&node.id, f64::from(p.x), f64::from(p.y), f64::from(p.size)))?;
        }
    }
    crate::project::stages::layout_saved(&tx)?;
    tx.commit()?;
    Ok(())
}

/// Puts the layout before the last one back (and keeps the last one, so a
/// second undo redoes). `false` when there is nothing to undo.
pub fn undo_positions(project: &mut Project) -> Result<bool> {
    let tx = project.conn_mut().transaction()?;
    let previous: i64 =
        tx.query_row("SELECT count(*) FROM previous_positions", [], |r| r.get(0))?;
    if previous == 0 {
        return Ok(false);
    }
    tx.execute_batch(
        "CREATE TEMP TABLE swap AS SELECT * FROM positions;
         DELETE FROM positions;
         INSERT INTO positions SELECT node_id, x, y, size FROM previous_positions;
         DELETE FROM previous_positions;
         INSERT INTO previous_positions SELECT node_id, x, y, size FROM swap;
         DROP TABLE swap;",
    )?;
    tx.commit()?;
    Ok(true)
}
