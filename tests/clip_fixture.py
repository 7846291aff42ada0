#!/usr/bin/env python3
"""Makes tests/fixtures/clip/: a tiny CLIP with random weights in the Hugging
Face layout, and what the reference implementation (Hugging Face
transformers) computes with it. tests/clip.rs checks tagscape's pure-Rust
CLIP (candle) against these values. Run once; the output is committed.

    python3 -m venv /tmp/clipref
    /tmp/clipref/bin/pip install torch transformers safetensors pillow numpy
    /tmp/clipref/bin/python tests/clip_fixture.py \
        ~/.cargo/registry/src/*/instant-clip-tokenizer-0.1.0/bpe_simple_vocab_16e6.txt

The argument is OpenAI's BPE vocabulary (the file the `instant-clip-tokenizer`
crate bundles, identical to CLIP's `bpe_simple_vocab_16e6.txt.gz`). The tiny
model's tokenizer keeps its first MERGES merges (a valid, shorter BPE); the
full vocabulary is used only to record reference token ids for the
`instant-clip-tokenizer` fallback.

Versions used for the committed fixture: see "versions" in expected.json.
"""
import json
import os
import sys
import tempfile

import numpy as np
import torch
import transformers
from PIL import Image, ImageDraw
from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "clip")
MERGES = 600
# The seven templates the CLIP authors selected for ImageNet (CLIP repository,
# notebooks/Prompt_Engineering_for_ImageNet.ipynb); tagscape uses the same.
TEMPLATES = [
    "itap of a {}.",
    "a bad photo of the {}.",
    "a origami {}.",
    "a photo of the large {}.",
    "a {} in a video game.",
    "art of the {}.",
    "a photo of the small {}.",
]
CONCEPTS = ["cat", "dog", "pizza", "red car", "mountain lake", "protest sign", "sunset", "birthday cake"]
TOKENIZER_TEXTS = [
    "a photo of a cat.",
    "Hello, World! It's 2024 & we're testing CLIP's BPE.",
    "  spaces   and\ttabs  ",
    "café naïve résumé",
]


def bytes_to_unicode():
    """CLIP's simple_tokenizer.bytes_to_unicode."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def clip_vocab(bpe_path, n_merges):
    """vocab.json and merges.txt as CLIP's SimpleTokenizer builds them."""
    lines = open(bpe_path, encoding="utf-8").read().split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1][:n_merges]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return {v: i for i, v in enumerate(vocab)}, merges


def tokenizer_from(bpe_path, n_merges, directory):
    vocab, merges = clip_vocab(bpe_path, n_merges)
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    tok = CLIPTokenizer(vocab=os.path.join(directory, "vocab.json"), merges=os.path.join(directory, "merges.txt"))
    return tok, vocab


def test_images():
    """A drawn 320×240 PNG (lossless: both decoders see the same pixels) and a
    JPEG whose EXIF says "rotate 90° clockwise" (orientation 6)."""
    a = Image.new("RGB", (320, 240))
    px = a.load()
    for y in range(240):
        for x in range(320):
            px[x, y] = ((x * 255) // 319, (y * 255) // 239, ((x + y) * 7) % 256)
    d = ImageDraw.Draw(a)
    d.ellipse((40, 30, 180, 170), fill=(230, 40, 40))
    d.rectangle((200, 60, 300, 220), fill=(20, 60, 200))
    d.line((0, 239, 319, 0), fill=(255, 255, 255), width=5)
    b = Image.new("RGB", (200, 300), (250, 250, 240))
    d = ImageDraw.Draw(b)
    d.polygon([(20, 280), (100, 20), (180, 280)], fill=(30, 140, 60))
    d.rectangle((60, 200, 140, 260), fill=(120, 70, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return a, b, exif


def randomise(model, seed):
    """Random weights large enough that different inputs give clearly
    different embeddings (the default init is nearly constant)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                continue
            if "layer_norm" in name or "layrnorm" in name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1] if p.dim() > 1 else 1
                scale = 1.0 / np.sqrt(fan_in) if p.dim() > 1 else 0.05
                if p.dim() == 4:
                    scale = 1.0 / np.sqrt(p.shape[1] * p.shape[2] * p.shape[3])
                if "embedding" in name:
                    scale = 0.5
                p.copy_(scale * torch.randn(p.shape, generator=g))


def main():
    bpe_path = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    tok, vocab = tokenizer_from(bpe_path, MERGES, OUT)
    tok.save_pretrained(OUT)
    # tagscape reads tokenizer.json; vocab.json/merges.txt stay only if saved.
    for extra in ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"]:
        path = os.path.join(OUT, extra)
        if os.path.exists(path):
            os.remove(path)
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]

    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
            projection_dim=16, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos,
        ),
        vision_config=dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            image_size=224, patch_size=32, hidden_act="quick_gelu", projection_dim=16,
        ),
        projection_dim=16,
    )
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    randomise(model, 1234)
    model.save_pretrained(OUT, safe_serialization=True)

    processor = CLIPImageProcessorPil(
        do_resize=True, size={"shortest_edge": 224}, resample=3, do_center_crop=True,
        crop_size={"height": 224, "width": 224}, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711], do_convert_rgb=True,
    )
    processor.save_pretrained(OUT)
    a, b, exif = test_images()
    a.save(os.path.join(OUT, "image_a.png"))
    b.save(os.path.join(OUT, "image_b.jpg"), quality=92, exif=exif)

    # The reference pipeline: PIL decode, EXIF orientation applied, processor.
    from PIL import ImageOps
    images = [ImageOps.exif_transpose(Image.open(os.path.join(OUT, n))).convert("RGB") for n in ["image_a.png", "image_b.jpg"]]
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    # The 224×224 crops before normalisation, stored losslessly as PNG.
    unnorm = processor(images=images, return_tensors="np", do_normalize=False, do_rescale=False)["pixel_values"]
    crops = []
    for i, arr in enumerate(unnorm):
        u8 = np.clip(np.round(np.asarray(arr, dtype=np.float64)), 0, 255).astype(np.uint8).transpose(1, 2, 0)
        Image.fromarray(u8).save(os.path.join(OUT, f"crop_{i}.png"))
        crops.append(u8)
    # Normalised values at a few places, to check the normalisation step.
    samples = []
    rng = np.random.default_rng(7)
    for _ in range(24):
        i, c, y, x = int(rng.integers(2)), int(rng.integers(3)), int(rng.integers(224)), int(rng.integers(224))
        samples.append({"image": i, "channel": c, "y": y, "x": x, "value": float(pixel_values[i, c, y, x])})

    with torch.no_grad():
        image_features = model.get_image_features(pixel_values=pixel_values)
        if not isinstance(image_features, torch.Tensor):
            image_features = image_features.pooler_output
        prompts = [t.format(c) for c in CONCEPTS for t in TEMPLATES]
        text_features = []
        token_ids = []
        for p in prompts:
            ids = tok(p)["input_ids"]
            token_ids.append(ids)
            f = model.get_text_features(input_ids=torch.tensor([ids]))
            if not isinstance(f, torch.Tensor):
                f = f.pooler_output
            text_features.append(f[0])
        text_features = torch.stack(text_features)
        logit_scale = float(model.logit_scale.exp())

    # Zero-shot: per concept, the mean of its normalised template embeddings,
    # renormalised; softmax over concepts of logit_scale * cosine.
    tf = text_features / text_features.norm(dim=-1, keepdim=True)
    concept_emb = tf.reshape(len(CONCEPTS), len(TEMPLATES), -1).mean(dim=1)
    concept_emb = concept_emb / concept_emb.norm(dim=-1, keepdim=True)
    imf = image_features / image_features.norm(dim=-1, keepdim=True)
    probs = torch.softmax(logit_scale * imf @ concept_emb.T, dim=-1)

    _, full_vocab_merges = None, None
    full_tok, _ = tokenizer_from(bpe_path, 49152 - 256 - 2, tempfile.mkdtemp())
    full_ids = [full_tok(t)["input_ids"] for t in TOKENIZER_TEXTS]

    expected = {
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
        "templates": TEMPLATES,
        "concepts": CONCEPTS,
        "prompts": prompts,
        "prompt_token_ids": token_ids,
        "text_features": text_features.tolist(),
        "image_files": ["image_a.png", "image_b.jpg"],
        "image_features": image_features.tolist(),
        "logit_scale": logit_scale,
        "zero_shot_probabilities": probs.tolist(),
        "normalised_pixel_samples": samples,
        "full_vocabulary_texts": TOKENIZER_TEXTS,
        "full_vocabulary_token_ids": full_ids,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("probabilities", probs.numpy().round(4))
    print("files", sorted((n, os.path.getsize(os.path.join(OUT, n))) for n in os.listdir(OUT)))


if __name__ == "__main__":
    main()
