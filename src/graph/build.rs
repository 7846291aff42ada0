//! Building the network from the project's tags, with the user's filters.

use serde::{Deserialize, Serialize};

use super::Graph;
use crate::project::Project;

/// Filters of `tagscape graph`, saved in the project. By default nothing is
/// filtered, as in the recipe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphSettings {
    pub min_confidence: Option<f64>,
    pub top_k: Option<usize>,
    /// Lowercased stop tags.
    pub stop_tags: Vec<String>,
    pub min_tag_degree: Option<usize>,
}

/// What `tagscape graph` reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphSummary {
    pub images: usize,
    pub tags: usize,
    pub edges: usize,
    pub isolated_images: usize,
    pub largest_component: usize,
}

pub fn build_graph(
    _project: &Project,
    _settings: &GraphSettings,
) -> anyhow::Result<(Graph, GraphSummary)> {
    anyhow::bail!("graph building is not built yet")
}
