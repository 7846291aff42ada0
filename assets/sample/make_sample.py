#!/usr/bin/env python3
"""Rebuild tagscape's embedded sample collection from the `openmoji` npm package.

Run once by a maintainer; the output (images/*.png, tags.csv, images.csv) is
committed so that `tagscape demo` needs nothing at run time.

    npm pack openmoji@17.0.0 && tar xzf openmoji-17.0.0.tgz
    python3 assets/sample/make_sample.py package assets/sample   # needs rsvg-convert (librsvg2-bin)

Selection: emoji without skin-tone variants from subgroups that make visual
themes (animals, plants, food, drink, transport, weather), at most
PER_SUBGROUP each, in OpenMoji's own order. Tags are OpenMoji's published
tags: the Unicode CLDR keywords (`tags`) plus OpenMoji's own (`openmoji_tags`).
They carry no scores, so the table leaves confidence empty.
"""
import csv
import json
import subprocess
import sys
from pathlib import Path

SUBGROUPS = [
    "animal-mammal", "animal-bird", "animal-marine", "animal-bug", "animal-reptile",
    "plant-flower", "plant-other",
    "food-fruit", "food-vegetable", "food-prepared", "food-asian", "food-sweet", "drink",
    "transport-ground", "transport-air", "transport-water", "sky-weather",
]
PER_SUBGROUP = 22
SIZE = 256


def main(package: Path, out: Path) -> None:
    emoji = json.loads((package / "data" / "openmoji.json").read_text())
    chosen = []
    for subgroup in SUBGROUPS:
        members = [e for e in emoji if e["subgroups"] == subgroup and not e["skintone"]]
        chosen.extend(members[:PER_SUBGROUP])
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    with open(out / "images.csv", "w", newline="") as f_images, open(out / "tags.csv", "w", newline="") as f_tags:
        img_w = csv.writer(f_images, lineterminator="\n")
        tag_w = csv.writer(f_tags, lineterminator="\n")
        img_w.writerow(["image", "annotation", "group", "subgroup", "author", "hexcode"])
        tag_w.writerow(["image", "tag", "confidence"])
        for e in chosen:
            name = f"{e['hexcode']}.png"
            subprocess.run(
                ["rsvg-convert", "-w", str(SIZE), "-h", str(SIZE),
                 str(package / "color" / "svg" / f"{e['hexcode']}.svg"), "-o", str(images / name)],
                check=True,
            )
            img_w.writerow([f"images/{name}", e["annotation"], e["group"], e["subgroups"],
                            e["openmoji_author"], e["hexcode"]])
            tags = []
            for field in ("tags", "openmoji_tags"):
                for t in e[field].split(","):
                    t = t.strip()
                    if t and t.lower() not in (x.lower() for x in tags):
                        tags.append(t)
            for t in tags:
                tag_w.writerow([f"images/{name}", t, ""])
    print(f"{len(chosen)} images written to {images}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
