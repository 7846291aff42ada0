//! Which network each later stage's results were made from, so that an
//! export or the viewer of stale results says so instead of mixing a new
//! network with an old layout or old clusters.
//!
//! Every `tagscape graph` gives the network a new generation number; the
//! layout and the clusters record the generation they were made from. The
//! stamps live in the `settings` table under `stage_versions`, written in the
//! same transaction as the results they describe. Projects made before the
//! stamps existed have none, and are never called stale.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

const KEY: &str = "stage_versions";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Stamps {
    /// The network's generation: one more at each `tagscape graph`.
    graph: Option<u64>,
    /// The generation the saved layout was computed on.
    layout: Option<u64>,
    /// The generation the clusters were found on.
    clusters: Option<u64>,
}

fn read(conn: &Connection) -> Result<Stamps> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [KEY], |r| {
            r.get(0)
        })
        .optional()?;
    // Unreadable stamps only cost the warning: never fail a stage on them.
    Ok(raw
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

fn write(conn: &Connection, stamps: &Stamps) -> Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (KEY, serde_json::to_string(stamps)?),
    )?;
    Ok(())
}

/// A new network was saved (call inside its transaction).
pub fn graph_saved(conn: &Connection) -> Result<()> {
    let mut stamps = read(conn)?;
    stamps.graph = Some(stamps.graph.map_or(1, |g| g + 1));
    write(conn, &stamps)
}

/// A layout of the current network was saved.
pub fn layout_saved(conn: &Connection) -> Result<()> {
    let mut stamps = read(conn)?;
    stamps.layout = stamps.graph;
    write(conn, &stamps)
}

/// Clusters of the current network were saved.
pub fn clusters_saved(conn: &Connection) -> Result<()> {
    let mut stamps = read(conn)?;
    stamps.clusters = stamps.graph;
    write(conn, &stamps)
}

/// One line per stale result of the project at `dir`, naming the command
/// that brings it up to date; empty when everything matches the network.
pub fn stale_results(conn: &Connection, dir: &std::path::Path) -> Result<Vec<String>> {
    let stamps = read(conn)?;
    let Some(graph) = stamps.graph else {
        return Ok(Vec::new());
    };
    let dir = dir.display();
    let mut lines = Vec::new();
    if stamps.layout.is_some_and(|l| l != graph) {
        lines.push(format!(
            "the layout was made before the network was last rebuilt: new nodes have no position and removed ones are left out; run `tagscape layout {dir}`"
        ));
    }
    if stamps.clusters.is_some_and(|c| c != graph) {
        lines.push(format!(
            "the clusters were found before the network was last rebuilt: run `tagscape cluster {dir}`"
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        conn
    }

    #[test]
    fn a_rebuilt_network_makes_the_layout_and_clusters_stale_until_rerun() {
        let conn = settings();
        let dir = std::path::Path::new("study");
        assert!(stale_results(&conn, dir).unwrap().is_empty());
        graph_saved(&conn).unwrap();
        layout_saved(&conn).unwrap();
        clusters_saved(&conn).unwrap();
        assert!(stale_results(&conn, dir).unwrap().is_empty());

        graph_saved(&conn).unwrap();
        let lines = stale_results(&conn, dir).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("tagscape layout study"), "{lines:?}");
        assert!(lines[1].contains("tagscape cluster study"), "{lines:?}");

        layout_saved(&conn).unwrap();
        let lines = stale_results(&conn, dir).unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("tagscape cluster study"), "{lines:?}");
        clusters_saved(&conn).unwrap();
        assert!(stale_results(&conn, dir).unwrap().is_empty());
    }

    #[test]
    fn results_older_than_the_stamps_are_not_called_stale() {
        let conn = settings();
        // A project whose layout predates the stamps: no layout stamp.
        graph_saved(&conn).unwrap();
        graph_saved(&conn).unwrap();
        assert!(
            stale_results(&conn, std::path::Path::new("p"))
                .unwrap()
                .is_empty()
        );
    }
}
