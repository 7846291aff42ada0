//! The local CLIP backend against the reference implementation: a tiny CLIP
//! with random weights (tests/fixtures/clip, made by tests/clip_fixture.py
//! with Hugging Face transformers) must give the same embeddings, token ids,
//! preprocessed pixels and zero-shot ranking as transformers did.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde_json::Value;
use tagscape::tagging::clip::model::Clip;
use tagscape::tagging::clip::preprocess::{decode_upright, normalise, resize_and_crop};
use tagscape::tagging::clip::tokenize::ClipTokenizer;
use tagscape::tagging::clip::vocabulary::{ConceptEmbeddings, TEMPLATES, Vocabulary, dot};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

/// The reference's 224×224 crops (before normalisation), stored as PNG.
fn reference_crops() -> Vec<image::RgbImage> {
    (0..2)
        .map(|i| {
            image::open(fixture().join(format!("crop_{i}.png")))
                .unwrap()
                .to_rgb8()
        })
        .collect()
}

fn load() -> Clip {
    Clip::load(&fixture(), &Device::Cpu).unwrap()
}

#[test]
fn image_and_text_embeddings_match_transformers() {
    let e = expected();
    let clip = load();
    let pixels: Vec<Vec<f32>> = reference_crops().iter().map(normalise).collect();
    let ours = clip.image_features(&pixels, false).unwrap();
    for (i, want) in e["image_features"].as_array().unwrap().iter().enumerate() {
        let c = cosine(&ours[i], &floats(want));
        assert!(c >= 0.9999, "image {i}: cosine {c}");
    }
    let prompts: Vec<Vec<u32>> = e["prompt_token_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(ids)
        .collect();
    let ours = clip.text_features(&prompts, false).unwrap();
    for (i, want) in e["text_features"].as_array().unwrap().iter().enumerate() {
        let c = cosine(&ours[i], &floats(want));
        assert!(c >= 0.9999, "prompt {i} ({}): cosine {c}", e["prompts"][i]);
    }
    let scale = e["logit_scale"].as_f64().unwrap() as f32;
    assert!((clip.logit_scale - scale).abs() < 1e-4 * scale);
}

#[test]
fn tokenizers_match_transformers() {
    let e = expected();
    // The folder's tokenizer.json (the tiny model's shortened BPE).
    let tokenizer = ClipTokenizer::for_folder(&fixture()).unwrap();
    for (prompt, want) in e["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(e["prompt_token_ids"].as_array().unwrap())
    {
        assert_eq!(
            tokenizer.encode(prompt.as_str().unwrap(), 77).unwrap(),
            ids(want),
            "{prompt}"
        );
    }
    // The bundled OpenAI vocabulary, against transformers' CLIPTokenizer on the full BPE.
    let openai = ClipTokenizer::openai();
    for (text, want) in e["full_vocabulary_texts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(e["full_vocabulary_token_ids"].as_array().unwrap())
    {
        assert_eq!(
            openai.encode(text.as_str().unwrap(), 77).unwrap(),
            ids(want),
            "{text}"
        );
    }
    // Too long: cut to the context, the end-of-text token kept.
    let long = openai.encode(&"cat ".repeat(100), 77).unwrap();
    assert_eq!(long.len(), 77);
    assert_eq!(long[76], 49407);
}

#[test]
fn preprocessing_matches_clip_image_processor() {
    let e = expected();
    let crops = reference_crops();
    for (i, name) in e["image_files"].as_array().unwrap().iter().enumerate() {
        let bytes = std::fs::read(fixture().join(name.as_str().unwrap())).unwrap();
        let ours = resize_and_crop(&decode_upright(&bytes).unwrap(), 224).unwrap();
        assert_eq!(ours.dimensions(), (224, 224));
        let diffs: Vec<i32> = ours
            .as_raw()
            .iter()
            .zip(crops[i].as_raw())
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .collect();
        let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
        let off = diffs.iter().filter(|&&d| d > 2).count() as f64 / diffs.len() as f64;
        // Same bicubic filter as Pillow (Catmull-Rom, antialiased). Pillow
        // rounds and clips to 8 bits between its horizontal and vertical
        // passes; fast_image_resize keeps more precision, so values may differ
        // by a level or two, and by more only at the overshoot of hard edges
        // (the test image's drawn shapes): under 1 % of values here. A wrong
        // orientation, crop offset, size or filter moves most pixels by tens
        // of levels.
        assert!(mean < 0.25, "{name}: mean difference {mean:.3} levels");
        assert!(
            off < 0.01,
            "{name}: {:.3} % of values differ by more than 2 levels",
            off * 100.0
        );
        eprintln!(
            "{name}: mean difference {mean:.3} levels, {:.3} % above 2",
            off * 100.0
        );
    }
    // Normalisation, against the processor's output values.
    for s in e["normalised_pixel_samples"].as_array().unwrap() {
        let (img, c, y, x) = (
            s["image"].as_u64().unwrap() as usize,
            s["channel"].as_u64().unwrap() as usize,
            s["y"].as_u64().unwrap() as usize,
            s["x"].as_u64().unwrap() as usize,
        );
        let ours = normalise(&crops[img])[c * 224 * 224 + y * 224 + x];
        let want = s["value"].as_f64().unwrap() as f32;
        assert!((ours - want).abs() < 1e-5, "{s}: {ours}");
    }
}

#[test]
fn zero_shot_ranking_matches_transformers() {
    let e = expected();
    let templates: Vec<&str> = e["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(templates, TEMPLATES);
    let concepts: Vec<&str> = e["concepts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vocabulary.txt");
    std::fs::write(
        &path,
        format!("# test vocabulary\n{}\n", concepts.join("\n")),
    )
    .unwrap();
    let vocabulary = Vocabulary::read(&path).unwrap();
    assert_eq!(vocabulary.concepts, concepts);

    let clip = load();
    let concept_embeddings = ConceptEmbeddings::compute(&clip, &vocabulary).unwrap();
    let pixels: Vec<Vec<f32>> = reference_crops().iter().map(normalise).collect();
    let images = clip.embed_images(&pixels).unwrap();
    for (i, want) in e["zero_shot_probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let want = floats(want);
        let ours = concept_embeddings.probabilities(&images[i], clip.logit_scale);
        let rank = |p: &[f32]| {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
            order
        };
        assert_eq!(rank(&ours), rank(&want), "image {i}: {ours:?} vs {want:?}");
        for (o, w) in ours.iter().zip(&want) {
            assert!((o - w).abs() < 1e-3, "image {i}: {ours:?} vs {want:?}");
        }
        // Tags: the most probable concepts above the threshold, best first.
        let tags = concept_embeddings.tags(&images[i], clip.logit_scale, 0.05, 3);
        let names: Vec<&str> = tags.iter().map(|&(c, _)| concepts[c]).collect();
        let expected_names: Vec<&str> = rank(&want)
            .into_iter()
            .filter(|&c| want[c] >= 0.05)
            .take(3)
            .map(|c| concepts[c])
            .collect();
        assert_eq!(names, expected_names);
    }
}

#[test]
fn a_folder_without_weights_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let error = match Clip::load(dir.path(), &Device::Cpu) {
        Ok(_) => panic!("loaded a model without weights"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("model.safetensors is missing"), "{error}");
    assert!(error.contains("openai/clip-vit-base-patch32"), "{error}");
}
