#!/usr/bin/env python3
"""Assembles assets/vocabulary/concepts.txt, tagscape's default CLIP vocabulary,
from class lists shipped in two openly licensed PyPI wheels (see README.md):

    pip download mmdet==3.3.0 clip-benchmark==1.6.2 --no-deps -d wheels
    python3 build_vocabulary.py wheels/mmdet-3.3.0-py3-none-any.whl \
        wheels/clip_benchmark-1.6.2-py2.py3-none-any.whl > concepts.txt

Nothing is written by hand: the concepts are the datasets' class names, with
LVIS's underscores turned into spaces, lowercased, and duplicates removed
(first occurrence wins, in the order of SOURCES below).
"""
import ast
import json
import sys
import zipfile

# (wheel index, file in the wheel, class in that file or JSON key, name)
SOURCES = [
    (0, "mmdet/datasets/coco.py", "CocoDataset", "COCO"),
    (0, "mmdet/datasets/lvis.py", "LVISV1Dataset", "LVIS v1"),
    (0, "mmdet/datasets/objects365.py", "Objects365V2Dataset", "Objects365 v2"),
    (1, "clip_benchmark/datasets/en_classnames.json", "imagenet1k", "ImageNet-1k (CLIP's cleaned names)"),
    (1, "clip_benchmark/datasets/en_classnames.json", "fer2013", "FER2013 facial expressions"),
]


def metainfo_classes(source, class_name):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    getattr(t, "id", None) == "METAINFO" for t in statement.targets
                ):
                    value = statement.value
                    if isinstance(value, ast.Call):  # dict(classes=..., ...)
                        for keyword in value.keywords:
                            if keyword.arg == "classes":
                                return list(ast.literal_eval(keyword.value))
                    return list(ast.literal_eval(value)["classes"])
    raise SystemExit(f"no METAINFO classes for {class_name}")


def main():
    wheels = [zipfile.ZipFile(path) for path in sys.argv[1:3]]
    seen = set()
    for wheel, path, key, name in SOURCES:
        text = wheels[wheel].read(path).decode("utf-8")
        if path.endswith(".json"):
            names = json.loads(text)[key]
        else:
            names = metainfo_classes(text, key)
        added = 0
        for raw in names:
            concept = " ".join(raw.replace("_", " ").split()).lower()
            if concept and concept not in seen:
                seen.add(concept)
                print(concept)
                added += 1
        print(f"{name}: {len(names)} classes, {added} new", file=sys.stderr)


if __name__ == "__main__":
    main()
