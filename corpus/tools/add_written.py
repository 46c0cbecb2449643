"""Keep the units written for training that an independent blind reading labels the same way.

    python corpus/tools/add_written.py POOL.jsonl BLIND.csv [BLIND.csv ...] --round 7

POOL.jsonl holds the written units (``id``, ``lang``, ``text``, the writer's ``types``,
``primary``, ``orientation``, ``rationale``, ``rule``, ``writer``); each BLIND.csv holds another
annotator's reading of some of them (``unit_id``, ``types``, ``primary``, ``orientation``), made
from the text alone. A unit is kept when both readings give the same type set, primary type and
orientation: a text whose label two readers of the codebook do not agree on teaches the model
nothing reliable. Writes ``corpus/written/r<round>_units.jsonl`` (the kept units, what training
reads) and ``corpus/written/r<round>_readings.csv`` (both readings of every unit, and the
decision), and prints the agreement (Cohen's kappa per language) and what was kept.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from classifier.annotate.agreement import AXES, kappas  # noqa: E402
from classifier.codebook import CODEBOOK_VERSION, format_types, parse_types  # noqa: E402
from classifier.labels import validate  # noqa: E402

WRITTEN_DIR = ROOT / "corpus" / "written"
KEPT_FIELDS = ["id", "lang", "text", "types", "primary", "orientation", "rationale", "rule", "writer", "round",
               "codebook_version"]


def read_pool(path: Path) -> pd.DataFrame:
    pool = pd.DataFrame([json.loads(line) for line in open(path, encoding="utf-8")])
    if pool["id"].duplicated().any():
        raise SystemExit(f"{path}: duplicate ids")
    return validate(pool.assign(unit_id=pool["id"], types=pool["types"].map(parse_types),
                                codebook_version=CODEBOOK_VERSION), str(path))


def read_blind(paths: list[Path]) -> pd.DataFrame:
    blind = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True)
    blind["types"] = blind["types"].map(parse_types)
    return validate(blind.assign(codebook_version=CODEBOOK_VERSION), "blind readings")


def readings(pool: pd.DataFrame, blind: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(pool["id"]) - set(blind["unit_id"]))
    if missing:
        raise SystemExit(f"{len(missing)} written units have no blind reading, e.g. {missing[:3]}")
    both = pool.merge(blind[["unit_id", *AXES]], on="unit_id", suffixes=("_1", "_2"))
    both["types_1"], both["types_2"] = both["types_1"].map(sorted), both["types_2"].map(sorted)
    both["kept"] = ((both["types_1"] == both["types_2"]) & (both["primary_1"] == both["primary_2"])
                    & (both["orientation_1"] == both["orientation_2"]))
    return both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pool", type=Path)
    parser.add_argument("blind", type=Path, nargs="+")
    parser.add_argument("--round", type=int, required=True)
    parser.add_argument("--out", type=Path, default=WRITTEN_DIR)
    args = parser.parse_args()
    both = readings(read_pool(args.pool), read_blind(args.blind))
    for lang, part in both.groupby("lang"):
        k = kappas(part)
        print(f"{lang}: {len(part)} written, {int(part.kept.sum())} kept; writer vs blind kappa "
              + ", ".join(f"{axis} {k['kappa_' + axis]:.3f}" for axis in ("primary", "orientation", "any_network_type")))
    kept = both[both.kept].rename(columns={"types_1": "types", "primary_1": "primary", "orientation_1": "orientation"})
    kept = kept.assign(types=kept["types"].map(format_types), round=args.round, codebook_version=CODEBOOK_VERSION)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / f"r{args.round}_units.jsonl", "w", encoding="utf-8") as out:
        for row in kept.sort_values("id")[KEPT_FIELDS].to_dict("records"):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    table = both.drop(columns=["text", "unit_id", "codebook_version"])
    for side in ("_1", "_2"):
        table["types" + side] = table["types" + side].map(format_types)
    table.sort_values("id").to_csv(args.out / f"r{args.round}_readings.csv", index=False)
    print(kept.groupby(["lang", "primary", "orientation"]).size().to_string())


if __name__ == "__main__":
    main()
