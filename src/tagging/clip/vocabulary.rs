//! The concepts CLIP chooses tags from, their prompt-ensemble text
//! embeddings (cached in the project per model and vocabulary), and
//! zero-shot scoring.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::params;

use super::model::Clip;
use crate::project::Project;

/// tagscape's default vocabulary: class names of COCO, LVIS, Objects365,
/// ImageNet-1k and FER2013 (see assets/vocabulary/README.md).
pub const DEFAULT_VOCABULARY: &str = include_str!("../../../assets/vocabulary/concepts.txt");

/// The seven prompt templates the CLIP authors selected for ImageNet
/// (CLIP repository, notebooks/Prompt_Engineering_for_ImageNet.ipynb).
pub const TEMPLATES: [&str; 7] = [
    "itap of a {}.",
    "a bad photo of the {}.",
    "a origami {}.",
    "a photo of the large {}.",
    "a {} in a video game.",
    "art of the {}.",
    "a photo of the small {}.",
];

/// Prompts encoded per forward pass of the text tower.
const TEXT_BATCH: usize = 256;

/// Concepts, one per tag, in the order of their file.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    pub concepts: Vec<String>,
    /// blake3 of the concepts and templates: the text-embedding cache key.
    pub key: String,
    /// Where it came from, for messages.
    pub origin: String,
}

impl Vocabulary {
    pub fn default_vocabulary() -> Vocabulary {
        Vocabulary::parse(DEFAULT_VOCABULARY, "the default vocabulary")
    }

    /// A text file: one concept per line, `#` starts a comment, blank lines
    /// and repeats (case-insensitive) ignored.
    pub fn read(path: &Path) -> Result<Vocabulary> {
        let text = crate::text_input::read_to_string(path, crate::text_input::Caps::LIST)
            .context("the vocabulary: give a UTF-8 text file with one concept per line")?;
        let vocabulary = Vocabulary::parse(&text, &path.display().to_string());
        if vocabulary.concepts.is_empty() {
            bail!(
                "the vocabulary {} has no concepts: write one concept per line (e.g. \"cat\")",
                path.display()
            );
        }
        Ok(vocabulary)
    }

    fn parse(text: &str, origin: &str) -> Vocabulary {
        let mut seen = std::collections::HashSet::new();
        let concepts: Vec<String> = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
            .filter(|c| !c.is_empty() && seen.insert(c.to_lowercase()))
            .collect();
        let mut hasher = blake3::Hasher::new();
        for t in TEMPLATES {
            hasher.update(t.as_bytes()).update(b"\n");
        }
        hasher.update(b"\0");
        for c in &concepts {
            hasher.update(c.as_bytes()).update(b"\n");
        }
        Vocabulary {
            concepts,
            key: hasher.finalize().to_hex().to_string(),
            origin: origin.to_string(),
        }
    }
}

/// One unit vector per concept: the mean of its templates' normalised text
/// embeddings, renormalised (the CLIP paper's prompt ensembling).
pub struct ConceptEmbeddings {
    pub concepts: Vec<String>,
    pub dim: usize,
    /// `concepts.len() × dim`, row-major.
    pub vectors: Vec<f32>,
}

impl ConceptEmbeddings {
    pub fn compute(clip: &Clip, vocabulary: &Vocabulary) -> Result<ConceptEmbeddings> {
        let dim = clip.architecture.embedding_dim();
        let prompts: Vec<String> = vocabulary
            .concepts
            .iter()
            .flat_map(|c| TEMPLATES.iter().map(move |t| t.replace("{}", c)))
            .collect();
        let progress = crate::ui::progress(prompts.len() as u64, "text embeddings");
        let mut embedded = Vec::with_capacity(prompts.len());
        for chunk in prompts.chunks(TEXT_BATCH) {
            embedded.extend(clip.embed_texts(chunk)?);
            progress.inc(chunk.len() as u64);
        }
        progress.finish_and_clear();
        let mut vectors = Vec::with_capacity(vocabulary.concepts.len() * dim);
        for group in embedded.chunks(TEMPLATES.len()) {
            let mut mean = vec![0f32; dim];
            for v in group {
                for (m, x) in mean.iter_mut().zip(v) {
                    *m += x;
                }
            }
            normalise(&mut mean);
            vectors.extend(mean);
        }
        Ok(ConceptEmbeddings {
            concepts: vocabulary.concepts.clone(),
            dim,
            vectors,
        })
    }

    /// The cached embeddings for this model and vocabulary, computed and
    /// stored when missing.
    pub fn cached(
        project: &mut Project,
        model_key: &str,
        clip: &Clip,
        vocabulary: &Vocabulary,
    ) -> Result<ConceptEmbeddings> {
        if let Some(found) = Self::load(project, model_key, vocabulary)? {
            return Ok(found);
        }
        let computed = Self::compute(clip, vocabulary)?;
        let tx = project.conn_mut().transaction()?;
        tx.execute(
            "DELETE FROM text_embeddings WHERE model = ?1 AND vocabulary = ?2",
            params![model_key, vocabulary.key],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO text_embeddings(model, vocabulary, position, concept, vector)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (i, concept) in computed.concepts.iter().enumerate() {
                let row = &computed.vectors[i * computed.dim..(i + 1) * computed.dim];
                insert.execute(params![
                    model_key,
                    vocabulary.key,
                    i as i64,
                    concept,
                    to_blob(row)
                ])?;
            }
        }
        tx.commit()?;
        Ok(computed)
    }

    fn load(
        project: &Project,
        model_key: &str,
        vocabulary: &Vocabulary,
    ) -> Result<Option<ConceptEmbeddings>> {
        let mut stmt = project.conn().prepare(
            "SELECT concept, vector FROM text_embeddings
             WHERE model = ?1 AND vocabulary = ?2 ORDER BY position",
        )?;
        let rows = stmt.query_map(params![model_key, vocabulary.key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut concepts = Vec::new();
        let mut vectors = Vec::new();
        let mut dim = 0;
        for row in rows {
            let (concept, blob) = row?;
            let v = from_blob(&blob);
            dim = v.len();
            concepts.push(concept);
            vectors.extend(v);
        }
        if concepts.len() != vocabulary.concepts.len() || dim == 0 {
            return Ok(None);
        }
        Ok(Some(ConceptEmbeddings {
            concepts,
            dim,
            vectors,
        }))
    }

    /// Zero-shot probabilities of every concept for one normalised image
    /// embedding: softmax over the vocabulary of `logit_scale · cosine`.
    pub fn probabilities(&self, image: &[f32], logit_scale: f32) -> Vec<f32> {
        let logits: Vec<f32> = self
            .vectors
            .chunks(self.dim)
            .map(|c| logit_scale * dot(c, image))
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        exp.into_iter().map(|e| e / sum).collect()
    }

    /// The `top_k` most probable concepts scoring at least `threshold`, best
    /// first, as (concept index, probability).
    pub fn tags(
        &self,
        image: &[f32],
        logit_scale: f32,
        threshold: f32,
        top_k: usize,
    ) -> Vec<(usize, f32)> {
        let mut scored: Vec<(usize, f32)> = self
            .probabilities(image, logit_scale)
            .into_iter()
            .enumerate()
            .filter(|(_, p)| *p >= threshold)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(top_k);
        scored
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn normalise(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

/// Little-endian f32s, as stored in `embeddings.vector`.
pub fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn from_blob(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_vocabulary_has_a_few_thousand_unique_concepts() {
        let v = Vocabulary::default_vocabulary();
        assert!(v.concepts.len() > 2000, "{}", v.concepts.len());
        assert!(v.concepts.iter().any(|c| c == "dog"));
    }

    #[test]
    fn softmax_and_threshold() {
        // Two concepts at right angles; the image is the first one.
        let e = ConceptEmbeddings {
            concepts: vec!["a".into(), "b".into()],
            dim: 2,
            vectors: vec![1.0, 0.0, 0.0, 1.0],
        };
        let p = e.probabilities(&[1.0, 0.0], 2.0);
        // e^2 / (e^2 + e^0)
        let expected = (2f32).exp() / ((2f32).exp() + 1.0);
        assert!((p[0] - expected).abs() < 1e-6);
        assert_eq!(e.tags(&[1.0, 0.0], 2.0, 0.5, 5), vec![(0, p[0])]);
        assert_eq!(e.tags(&[1.0, 0.0], 2.0, 0.0, 1).len(), 1);
    }

    #[test]
    fn blobs_round_trip() {
        let v = vec![1.5f32, -0.25, 3.0e-7];
        assert_eq!(from_blob(&to_blob(&v)), v);
    }
}
