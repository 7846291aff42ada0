//! Loading a CLIP checkpoint in the Hugging Face layout (`config.json`,
//! `model.safetensors`, optionally `tokenizer.json`) into candle's CLIP, and
//! running its two towers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use candle_transformers::models::clip::{ClipConfig, ClipModel, div_l2_norm};
use serde::Deserialize;

use super::tokenize::ClipTokenizer;

/// Where to get weights, for messages and `tagscape models`.
pub const DEFAULT_REPO: &str = "openai/clip-vit-base-patch32";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";

#[derive(Deserialize)]
struct HfConfig {
    text_config: HfTower,
    vision_config: HfTower,
    projection_dim: Option<usize>,
    logit_scale_init_value: Option<f32>,
}

/// The fields of `text_config` / `vision_config` candle's CLIP needs;
/// missing ones take the values of transformers' `CLIPTextConfig` /
/// `CLIPVisionConfig` defaults (ViT-B/32).
#[derive(Deserialize)]
struct HfTower {
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    projection_dim: Option<usize>,
    hidden_act: Option<String>,
    // text
    vocab_size: Option<usize>,
    max_position_embeddings: Option<usize>,
    // vision
    image_size: Option<usize>,
    patch_size: Option<usize>,
    num_channels: Option<usize>,
}

/// A checkpoint's architecture, read from its `config.json`.
#[derive(Clone, Debug)]
pub struct Architecture {
    pub clip: ClipConfig,
}

impl Architecture {
    pub fn read(dir: &Path) -> Result<Architecture> {
        let path = dir.join(CONFIG_FILE);
        let text = crate::text_input::read_to_string(&path, crate::text_input::Caps::CONFIG)
            .context("the weights folder needs the model's config.json (see `tagscape models`)")?;
        let config: HfConfig = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a CLIP config (it needs text_config and vision_config): download config.json from {DEFAULT_REPO} or your model's page",
                path.display()
            )
        })?;
        Architecture::from_hf(config).with_context(|| format!("in {}", path.display()))
    }

    fn from_hf(c: HfConfig) -> Result<Architecture> {
        for (tower, act) in [
            ("text_config", &c.text_config.hidden_act),
            ("vision_config", &c.vision_config.hidden_act),
        ] {
            if let Some(act) = act
                && act != "quick_gelu"
            {
                bail!(
                    "{tower}.hidden_act is {act:?}: tagscape runs OpenAI-style CLIP models (quick_gelu), e.g. {DEFAULT_REPO}"
                );
            }
        }
        let projection = c.projection_dim.unwrap_or(512);
        let t = &c.text_config;
        let v = &c.vision_config;
        let text = ClipTextConfig {
            vocab_size: t.vocab_size.unwrap_or(49408),
            embed_dim: t.hidden_size.unwrap_or(512),
            activation: Activation::QuickGelu,
            intermediate_size: t.intermediate_size.unwrap_or(2048),
            max_position_embeddings: t.max_position_embeddings.unwrap_or(77),
            pad_with: None,
            num_hidden_layers: t.num_hidden_layers.unwrap_or(12),
            num_attention_heads: t.num_attention_heads.unwrap_or(8),
            projection_dim: t.projection_dim.unwrap_or(projection),
        };
        let vision = ClipVisionConfig {
            embed_dim: v.hidden_size.unwrap_or(768),
            activation: Activation::QuickGelu,
            intermediate_size: v.intermediate_size.unwrap_or(3072),
            num_hidden_layers: v.num_hidden_layers.unwrap_or(12),
            num_attention_heads: v.num_attention_heads.unwrap_or(12),
            projection_dim: v.projection_dim.unwrap_or(projection),
            num_channels: v.num_channels.unwrap_or(3),
            image_size: v.image_size.unwrap_or(224),
            patch_size: v.patch_size.unwrap_or(32),
        };
        if vision.patch_size == 0 || !vision.image_size.is_multiple_of(vision.patch_size) {
            bail!(
                "vision_config: image_size {} is not a multiple of patch_size {}",
                vision.image_size,
                vision.patch_size
            );
        }
        for (name, dim, heads) in [
            ("text_config", text.embed_dim, text.num_attention_heads),
            (
                "vision_config",
                vision.embed_dim,
                vision.num_attention_heads,
            ),
        ] {
            if heads == 0 || !dim.is_multiple_of(heads) {
                bail!("{name}: hidden_size {dim} is not a multiple of num_attention_heads {heads}");
            }
        }
        if text.projection_dim != vision.projection_dim {
            bail!(
                "the text and vision projections differ ({} vs {}): not a CLIP model",
                text.projection_dim,
                vision.projection_dim
            );
        }
        Ok(Architecture {
            clip: ClipConfig {
                image_size: vision.image_size,
                text_config: text,
                vision_config: vision,
                logit_scale_init_value: c.logit_scale_init_value.unwrap_or(2.6592),
            },
        })
    }

    pub fn image_size(&self) -> u32 {
        self.clip.vision_config.image_size as u32
    }

    pub fn embedding_dim(&self) -> usize {
        self.clip.text_config.projection_dim
    }

    pub fn context_length(&self) -> usize {
        self.clip.text_config.max_position_embeddings
    }

    /// Every tensor candle's CLIP reads, with its shape (`logit_scale` is
    /// optional: the config's initial value is used without it).
    pub fn expected_tensors(&self) -> Vec<(String, Vec<usize>)> {
        let t = &self.clip.text_config;
        let v = &self.clip.vision_config;
        let mut out = vec![
            (
                "text_model.embeddings.token_embedding.weight".to_string(),
                vec![t.vocab_size, t.embed_dim],
            ),
            (
                "text_model.embeddings.position_embedding.weight".into(),
                vec![t.max_position_embeddings, t.embed_dim],
            ),
            (
                "text_model.final_layer_norm.weight".into(),
                vec![t.embed_dim],
            ),
            ("text_model.final_layer_norm.bias".into(), vec![t.embed_dim]),
            (
                "vision_model.embeddings.class_embedding".into(),
                vec![v.embed_dim],
            ),
            (
                "vision_model.embeddings.patch_embedding.weight".into(),
                vec![v.embed_dim, v.num_channels, v.patch_size, v.patch_size],
            ),
            (
                "vision_model.embeddings.position_embedding.weight".into(),
                vec![(v.image_size / v.patch_size).pow(2) + 1, v.embed_dim],
            ),
            ("vision_model.pre_layrnorm.weight".into(), vec![v.embed_dim]),
            ("vision_model.pre_layrnorm.bias".into(), vec![v.embed_dim]),
            (
                "vision_model.post_layernorm.weight".into(),
                vec![v.embed_dim],
            ),
            ("vision_model.post_layernorm.bias".into(), vec![v.embed_dim]),
            (
                "visual_projection.weight".into(),
                vec![v.projection_dim, v.embed_dim],
            ),
            (
                "text_projection.weight".into(),
                vec![t.projection_dim, t.embed_dim],
            ),
        ];
        let towers = [
            (
                "text_model",
                t.num_hidden_layers,
                t.embed_dim,
                t.intermediate_size,
            ),
            (
                "vision_model",
                v.num_hidden_layers,
                v.embed_dim,
                v.intermediate_size,
            ),
        ];
        for (tower, layers, d, inner) in towers {
            for l in 0..layers {
                let p = format!("{tower}.encoder.layers.{l}");
                for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                    out.push((format!("{p}.self_attn.{proj}.weight"), vec![d, d]));
                    out.push((format!("{p}.self_attn.{proj}.bias"), vec![d]));
                }
                for norm in ["layer_norm1", "layer_norm2"] {
                    out.push((format!("{p}.{norm}.weight"), vec![d]));
                    out.push((format!("{p}.{norm}.bias"), vec![d]));
                }
                out.push((format!("{p}.mlp.fc1.weight"), vec![inner, d]));
                out.push((format!("{p}.mlp.fc1.bias"), vec![inner]));
                out.push((format!("{p}.mlp.fc2.weight"), vec![d, inner]));
                out.push((format!("{p}.mlp.fc2.bias"), vec![d]));
            }
        }
        out
    }
}

/// What `tagscape models check` finds wrong with a folder's tensors.
pub fn tensor_problems(
    architecture: &Architecture,
    tensors: &HashMap<String, Tensor>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, shape) in architecture.expected_tensors() {
        match tensors.get(&name) {
            None => problems.push(format!("{name} is missing")),
            Some(t) if t.dims() != shape.as_slice() => problems.push(format!(
                "{name} has shape {:?}, config.json implies {shape:?}",
                t.dims()
            )),
            Some(_) => {}
        }
    }
    if let Some(t) = tensors.get("logit_scale")
        && t.elem_count() != 1
    {
        problems.push(format!(
            "logit_scale has shape {:?}, expected a scalar",
            t.dims()
        ));
    }
    problems
}

/// Reads `model.safetensors` of `dir` (any float dtype; used as f32).
pub fn read_tensors(dir: &Path) -> Result<HashMap<String, Tensor>> {
    let path = dir.join(WEIGHTS_FILE);
    if !path.exists() {
        bail!(
            "{} is missing: download model.safetensors from https://huggingface.co/{DEFAULT_REPO} (or your model's page) into {} (see `tagscape models`)",
            path.display(),
            dir.display()
        );
    }
    candle_core::safetensors::load(&path, &Device::Cpu).with_context(|| {
        format!(
            "cannot read {}: not a safetensors file, or truncated; download it again",
            path.display()
        )
    })
}

/// A loaded CLIP model ready to embed images and texts.
pub struct Clip {
    pub dir: PathBuf,
    pub architecture: Architecture,
    pub tokenizer: ClipTokenizer,
    model: ClipModel,
    device: Device,
    /// exp(logit_scale): the temperature CLIP was trained with (100 for OpenAI's).
    pub logit_scale: f32,
    /// blake3 of the weights file, hex (what tags and embeddings are filed under).
    pub weights_hash: String,
}

impl Clip {
    pub fn load(dir: &Path, device: &Device) -> Result<Clip> {
        let architecture = Architecture::read(dir)?;
        let tensors = read_tensors(dir)?;
        let problems = tensor_problems(&architecture, &tensors);
        if !problems.is_empty() {
            bail!(
                "{} does not match {}: {}{}; run `tagscape models check {}`",
                dir.join(WEIGHTS_FILE).display(),
                CONFIG_FILE,
                problems[..problems.len().min(3)].join("; "),
                if problems.len() > 3 {
                    format!(" (and {} more)", problems.len() - 3)
                } else {
                    String::new()
                },
                dir.display()
            );
        }
        let weights_hash = hash_file(&dir.join(WEIGHTS_FILE))?;
        let logit_scale = match tensors.get("logit_scale") {
            Some(t) => t
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?
                .first()
                .copied()
                .unwrap_or(architecture.clip.logit_scale_init_value),
            None => architecture.clip.logit_scale_init_value,
        }
        .exp();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let model = ClipModel::new(vb, &architecture.clip)
            .map_err(|e| anyhow!("building the CLIP model from {}: {e}", dir.display()))?;
        let tokenizer = ClipTokenizer::for_folder(dir)?;
        Ok(Clip {
            dir: dir.to_path_buf(),
            architecture,
            tokenizer,
            model,
            device: device.clone(),
            logit_scale,
            weights_hash,
        })
    }

    /// L2-normalised image embeddings of preprocessed images (each
    /// `3 × size × size` values, see `preprocess`).
    pub fn embed_images(&self, pixels: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        self.image_features(pixels, true)
    }

    /// The image tower's projected output (normalised or not).
    pub fn image_features(&self, pixels: &[Vec<f32>], normalised: bool) -> Result<Vec<Vec<f32>>> {
        if pixels.is_empty() {
            return Ok(Vec::new());
        }
        let size = self.architecture.clip.vision_config.image_size;
        let channels = self.architecture.clip.vision_config.num_channels;
        let mut flat = Vec::with_capacity(pixels.len() * channels * size * size);
        for p in pixels {
            if p.len() != channels * size * size {
                bail!(
                    "an image has {} values, the model takes {channels}×{size}×{size}",
                    p.len()
                );
            }
            flat.extend_from_slice(p);
        }
        let input = Tensor::from_vec(flat, (pixels.len(), channels, size, size), &self.device)?;
        let mut features = self.model.get_image_features(&input)?;
        if normalised {
            features = div_l2_norm(&features)?;
        }
        Ok(features.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }

    /// The text tower's projected output for token sequences (each with its
    /// start- and end-of-text tokens), normalised or not. Sequences are
    /// padded with id 0 after the end-of-text token: the causal mask keeps
    /// padding out of the end-of-text position, whose output is the feature.
    pub fn text_features(&self, ids: &[Vec<u32>], normalised: bool) -> Result<Vec<Vec<f32>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let len = ids.iter().map(Vec::len).max().unwrap_or(0);
        let vocab = self.architecture.clip.text_config.vocab_size as u32;
        let mut flat = Vec::with_capacity(ids.len() * len);
        for seq in ids {
            if let Some(bad) = seq.iter().find(|&&id| id >= vocab) {
                bail!(
                    "token id {bad} is outside the model's vocabulary of {vocab}: the tokenizer does not belong to these weights (put the model's tokenizer.json in {})",
                    self.dir.display()
                );
            }
            // candle takes the end-of-text position as the highest id.
            let end = seq.iter().copied().max().unwrap_or(0);
            if seq.last() != Some(&end) {
                bail!(
                    "the tokenizer's end-of-text token is not the highest id: not a CLIP tokenizer (put the model's tokenizer.json in {})",
                    self.dir.display()
                );
            }
            flat.extend_from_slice(seq);
            flat.extend(std::iter::repeat_n(0u32, len - seq.len()));
        }
        let input = Tensor::from_vec(flat, (ids.len(), len), &self.device)?;
        let mut features = self.model.get_text_features(&input)?;
        if normalised {
            features = div_l2_norm(&features)?;
        }
        Ok(features.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }

    /// L2-normalised embeddings of texts.
    pub fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let context = self.architecture.context_length();
        let ids = texts
            .iter()
            .map(|t| self.tokenizer.encode(t, context))
            .collect::<Result<Vec<_>>>()?;
        self.text_features(&ids, true)
    }
}

/// The device to run on: `cpu`, `cuda`, `metal`, or `auto` (a GPU when this
/// build has candle's CUDA or Metal support and one is present).
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).map_err(|e| {
            anyhow!("no CUDA device: {e}; this build needs candle's CUDA support (cargo build --features candle-core/cuda), or use --device cpu")
        }),
        "metal" => Device::new_metal(0).map_err(|e| {
            anyhow!("no Metal device: {e}; this build needs candle's Metal support (cargo build --features candle-core/metal), or use --device cpu")
        }),
        "auto" => {
            if candle_core::utils::cuda_is_available() {
                Ok(Device::new_cuda(0)?)
            } else if candle_core::utils::metal_is_available() {
                Ok(Device::new_metal(0)?)
            } else {
                Ok(Device::Cpu)
            }
        }
        other => bail!("--device {other:?} is unknown: give cpu, cuda, metal or auto"),
    }
}

fn hash_file(path: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    hasher
        .update_reader(file)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hasher.finalize().to_hex().to_string())
}
