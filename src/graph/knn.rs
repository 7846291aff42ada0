//! The image–image k-nearest-neighbour graph (`tagscape graph --similarity
//! knn`): each image linked to the K images whose CLIP embeddings are most
//! similar (cosine), an alternative to the image–tag network that needs no
//! vocabulary. Exact: every pair is compared, by blocks of rows through a
//! matrix product (candle's multi-threaded CPU kernel), with each row's
//! top K kept; 50 000 images of 512 dimensions is 1.3 TFLOP, a minute or so
//! on two cores.

use std::collections::HashMap;

use anyhow::{Result, bail};
use candle_core::{Device, Tensor};

use super::{Edge, Graph, Node, NodeKind};
use crate::project::Project;

/// Rows compared against all others per matrix product.
const BLOCK: usize = 1024;

/// The K nearest neighbours of every vector (unit vectors: the dot product
/// is the cosine), as undirected edges `(i, j, similarity)` with `i < j`:
/// an edge exists when either end has the other among its K nearest.
/// Ties are broken by the lower index.
pub fn knn_edges(vectors: &[Vec<f32>], k: usize) -> Result<Vec<(u32, u32, f32)>> {
    let n = vectors.len();
    if n < 2 || k == 0 {
        return Ok(Vec::new());
    }
    let dim = vectors[0].len();
    if let Some(bad) = vectors.iter().position(|v| v.len() != dim) {
        bail!(
            "embedding {bad} has {} dimensions, the first has {dim}: the project mixes models",
            vectors[bad].len()
        );
    }
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    let all = Tensor::from_vec(flat, (n, dim), &Device::Cpu)?;
    let all_t = all.t()?.contiguous()?;
    let k = k.min(n - 1);
    let mut best: HashMap<(u32, u32), f32> = HashMap::new();
    let mut start = 0;
    while start < n {
        let rows = BLOCK.min(n - start);
        let similarities = all
            .narrow(0, start, rows)?
            .matmul(&all_t)?
            .to_vec2::<f32>()?;
        for (r, row) in similarities.iter().enumerate() {
            let i = start + r;
            let mut order: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            let by_similarity = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
            if k < order.len() {
                order.select_nth_unstable_by(k - 1, by_similarity);
                order.truncate(k);
            }
            for j in order {
                let key = (i.min(j) as u32, i.max(j) as u32);
                best.insert(key, row[j]);
            }
        }
        start += rows;
    }
    let mut edges: Vec<(u32, u32, f32)> = best.into_iter().map(|((a, b), s)| (a, b, s)).collect();
    edges.sort_by_key(|&(a, b, _)| (a, b));
    Ok(edges)
}

/// What `tagscape graph --similarity knn` reports.
#[derive(Clone, Debug, PartialEq)]
pub struct KnnSummary {
    pub model: String,
    pub images: usize,
    pub edges: usize,
    /// Images of the project without an embedding for the model (left out).
    pub without_embedding: usize,
    pub k: usize,
}

impl std::fmt::Display for KnnSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "graph (knn, k = {}, {}): {} images, {} edges",
            self.k, self.model, self.images, self.edges
        )?;
        if self.without_embedding > 0 {
            write!(
                f,
                "; {} images left out (no embedding: run `tagscape tag --with clip`)",
                self.without_embedding
            )?;
        }
        Ok(())
    }
}

/// The images-only graph of the project's embeddings (of `model`, or the
/// model most images have): nodes are the embedded images, edges their K
/// nearest neighbours weighted by cosine similarity (non-positive
/// similarities are dropped: ForceAtlas2 needs positive weights).
pub fn build_knn_graph(
    project: &Project,
    k: usize,
    model: Option<&str>,
) -> Result<(Graph, KnnSummary)> {
    if k == 0 {
        bail!("--k 0 would link nothing: give at least 1, e.g. --k 10");
    }
    let stored = crate::tagging::clip::load_embeddings(project, model)?;
    let (model, embedded) = (stored.model, stored.vectors);
    let mut info: HashMap<i64, (String, u32)> = HashMap::new();
    {
        let mut stmt = project
            .conn()
            .prepare("SELECT id, url, frequency FROM images")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        for row in rows {
            let (id, url, frequency) = row?;
            info.insert(id, (url, frequency));
        }
    }
    let total_images = info.len();
    let mut nodes = Vec::with_capacity(embedded.len());
    let mut vectors = Vec::with_capacity(embedded.len());
    for (id, vector) in embedded {
        let Some((url, frequency)) = info.remove(&id) else {
            continue;
        };
        nodes.push(Node {
            kind: NodeKind::Image,
            label: url.rsplit('/').next().unwrap_or(&url).to_string(),
            id: url,
            image_id: Some(id),
            frequency,
        });
        vectors.push(vector);
    }
    if nodes.len() > 50_000 {
        tracing::warn!(
            "exact kNN over {} images compares every pair: this takes a while",
            nodes.len()
        );
    }
    let edges: Vec<Edge> = knn_edges(&vectors, k)?
        .into_iter()
        .filter(|&(_, _, s)| s > 0.0)
        .map(|(source, target, weight)| Edge {
            source,
            target,
            weight,
        })
        .collect();
    let n = nodes.len();
    let graph = Graph::new(nodes, n, edges);
    let summary = KnnSummary {
        model,
        images: n,
        edges: graph.edges.len(),
        without_embedding: total_images - n,
        k,
    };
    Ok((graph, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn neighbours_match_brute_force() {
        // Points on a circle at angles 0, 10, 25, 90, 180, 200 degrees.
        let angles = [0f32, 10.0, 25.0, 90.0, 180.0, 200.0];
        let vectors: Vec<Vec<f32>> = angles
            .iter()
            .map(|a| unit(&[a.to_radians().cos(), a.to_radians().sin()]))
            .collect();
        let edges = knn_edges(&vectors, 1).unwrap();
        // Nearest: 0→10, 10→0, 25→10, 90→25, 180→200, 200→180.
        let pairs: Vec<(u32, u32)> = edges.iter().map(|&(a, b, _)| (a, b)).collect();
        assert_eq!(pairs, [(0, 1), (1, 2), (2, 3), (4, 5)]);
        let cos10 = 10f32.to_radians().cos();
        assert!((edges[0].2 - cos10).abs() < 1e-5);
    }

    #[test]
    fn k_is_capped_by_the_number_of_other_images() {
        let vectors = vec![unit(&[1.0, 0.0]), unit(&[0.0, 1.0]), unit(&[1.0, 1.0])];
        assert_eq!(knn_edges(&vectors, 10).unwrap().len(), 3);
    }
}
