//! Local zero-shot tagging with a CLIP model (`tagscape tag --with clip`),
//! in pure Rust (candle). Each image is embedded once; its tags are the
//! vocabulary's concepts whose softmax probability (CLIP's logit scale over
//! the whole vocabulary) reaches the threshold, at most top-k of them. The
//! embedding goes into the answer kept for audit and into `embeddings`, where
//! `tagscape graph --similarity knn` finds it.

pub mod model;
pub mod preprocess;
pub mod tokenize;
pub mod vocabulary;

use std::sync::Arc;

use anyhow::Result;
use base64::Engine;
use rayon::prelude::*;
use rusqlite::params;

use self::model::Clip;
use self::vocabulary::{ConceptEmbeddings, from_blob, to_blob};
use super::send::Payload;
use super::tagger::{CallError, ImageOutcome, Prepared, Tag, Tagger, TaggerInfo};
use crate::project::{Project, SQL_NOW};

/// Images per forward pass of the image tower.
pub const DEFAULT_BATCH: usize = 32;

pub struct Settings {
    /// Lowest probability kept as a tag.
    pub threshold: f32,
    /// Tags per image, at most.
    pub top_k: usize,
}

/// The CLIP backend: the model, the vocabulary's concept embeddings and
/// what the runner needs to know.
pub struct ClipTagger {
    info: TaggerInfo,
    inner: Arc<Inner>,
}

struct Inner {
    clip: Clip,
    concepts: ConceptEmbeddings,
    settings: Settings,
}

/// What the embeddings of `clip` are filed under: the weights folder's name
/// and the start of the weights' hash (a renamed copy of the same weights
/// shares it only if the name matches; a changed file never does).
pub fn embedding_key(clip: &Clip) -> String {
    let name = clip
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clip".to_string());
    format!("{name}@{}", &clip.weights_hash[..12])
}

/// The runner's description of a CLIP run. The model key adds the
/// vocabulary (it changes the tags); threshold and top-k do not (re-tag with
/// `--force` to apply new ones).
pub fn info(embedding_key: &str, vocabulary_key: &str) -> TaggerInfo {
    TaggerInfo {
        backend: "clip",
        model: format!("{embedding_key}:vocab-{}", &vocabulary_key[..8]),
        max_batch: DEFAULT_BATCH,
        max_request_bytes: None,
        fetches_urls: false,
        default_rate: None,
    }
}

impl ClipTagger {
    pub fn new(
        info: TaggerInfo,
        clip: Clip,
        concepts: ConceptEmbeddings,
        settings: Settings,
    ) -> ClipTagger {
        ClipTagger {
            info,
            inner: Arc::new(Inner {
                clip,
                concepts,
                settings,
            }),
        }
    }
}

impl Tagger for ClipTagger {
    fn info(&self) -> &TaggerInfo {
        &self.info
    }

    async fn tag(&self, images: &[Prepared]) -> Result<Vec<ImageOutcome>, CallError> {
        let inner = self.inner.clone();
        let images = images.to_vec();
        match tokio::task::spawn_blocking(move || inner.tag_batch(&images)).await {
            Ok(result) => result,
            Err(e) => Err(CallError::Fatal(anyhow::anyhow!(
                "the CLIP worker stopped: {e}"
            ))),
        }
    }
}

impl Inner {
    fn tag_batch(&self, images: &[Prepared]) -> Result<Vec<ImageOutcome>, CallError> {
        let size = self.clip.architecture.image_size();
        // Decoding and resizing in parallel; the model batches the rest.
        let pixels: Vec<Result<Vec<f32>, String>> = images
            .par_iter()
            .map(|image| match &image.payload {
                Payload::Bytes { data, .. } => {
                    preprocess::preprocess(data, size).map_err(|e| format!("{e:#}"))
                }
                Payload::Url(url) => Err(format!(
                    "{url} has not been downloaded: run `tagscape fetch` first"
                )),
            })
            .collect();
        let ok: Vec<Vec<f32>> = pixels
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let embeddings = self
            .clip
            .embed_images(&ok)
            .map_err(|e| CallError::Fatal(e.context("running the CLIP image model")))?;
        let mut embeddings = embeddings.into_iter();
        let mut outcomes = Vec::with_capacity(images.len());
        for p in pixels {
            match p {
                Err(message) => outcomes.push(ImageOutcome::Failed {
                    code: "unreadable_image".into(),
                    message,
                    transient: false,
                }),
                Ok(_) => {
                    let embedding = embeddings.next().unwrap_or_default();
                    outcomes.push(self.outcome(&embedding));
                }
            }
        }
        Ok(outcomes)
    }

    fn outcome(&self, embedding: &[f32]) -> ImageOutcome {
        let s = &self.settings;
        let scored = self
            .concepts
            .tags(embedding, self.clip.logit_scale, s.threshold, s.top_k);
        let tags: Vec<Tag> = scored
            .iter()
            .map(|&(i, p)| Tag::label(self.concepts.concepts[i].clone(), Some(f64::from(p))))
            .collect();
        let response = serde_json::json!({
            "tags": scored.iter().map(|&(i, p)| serde_json::json!({
                "concept": self.concepts.concepts[i],
                "probability": p,
            })).collect::<Vec<_>>(),
            "threshold": s.threshold,
            "top_k": s.top_k,
            "logit_scale": self.clip.logit_scale,
            "embedding_f32le_base64": base64::engine::general_purpose::STANDARD.encode(to_blob(embedding)),
        });
        ImageOutcome::Tagged {
            tags,
            response,
            model_version: None,
        }
    }
}

/// Copies the embeddings of CLIP answers filed under `tag_model` into
/// `embeddings` (under `embedding_key`) where an image has none yet. Run
/// after each tagging run; an interrupted one is caught up by the next.
pub fn store_embeddings(
    project: &mut Project,
    tag_model: &str,
    embedding_key: &str,
) -> Result<u64> {
    let tx = project.conn_mut().transaction()?;
    let mut stored = 0;
    {
        let mut select = tx.prepare(
            "SELECT r.image_id, r.response FROM tag_responses r
             WHERE r.backend = 'clip' AND r.model = ?1
               AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.image_id = r.image_id AND e.model = ?2)",
        )?;
        let mut insert = tx.prepare(&format!(
            "INSERT INTO embeddings(image_id, model, dim, vector, created_at) VALUES (?1, ?2, ?3, ?4, {SQL_NOW})"
        ))?;
        let rows = select.query_map(params![tag_model, embedding_key], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        for row in rows {
            let (image_id, packed) = row?;
            let json: serde_json::Value =
                serde_json::from_slice(&super::tagger::decompress(&packed)?)?;
            let Some(encoded) = json["embedding_f32le_base64"].as_str() else {
                continue;
            };
            let blob = base64::engine::general_purpose::STANDARD.decode(encoded)?;
            let dim = from_blob(&blob).len();
            insert.execute(params![image_id, embedding_key, dim as i64, blob])?;
            stored += 1;
        }
    }
    tx.commit()?;
    Ok(stored)
}

/// Image embeddings of one model: its key and (image id, unit vector) pairs.
pub struct StoredEmbeddings {
    pub model: String,
    pub vectors: Vec<(i64, Vec<f32>)>,
}

/// Every stored embedding of `model` (or of the most used model when
/// `None`), by image id.
pub fn load_embeddings(project: &Project, model: Option<&str>) -> Result<StoredEmbeddings> {
    let conn = project.conn();
    let model = match model {
        Some(m) => m.to_string(),
        None => conn
            .query_row(
                "SELECT model FROM embeddings GROUP BY model ORDER BY count(*) DESC, model LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "the project has no image embeddings: run `tagscape tag {} --with clip --weights DIR` first",
                    project.dir().display()
                )
            })?,
    };
    let mut stmt =
        conn.prepare("SELECT image_id, vector FROM embeddings WHERE model = ?1 ORDER BY image_id")?;
    let rows = stmt.query_map([&model], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, blob) = row?;
        out.push((id, from_blob(&blob)));
    }
    Ok(StoredEmbeddings {
        model,
        vectors: out,
    })
}
