"""Append one annotation round to the committed label files (ids and labels, never texts).

    python corpus/tools/add_round.py ROUND_DIR --round 4 [--second NAME...] [--corrections CSV...]

ROUND_DIR holds the batch files given to annotators (``work/*.jsonl``: ids, offsets, sampling
and text) and their labels (``labels/NAME.csv``, columns unit_id, types, primary, orientation,
confidence, rationale). Batches named with ``--second`` are independent second annotations: they
go to ``corpus/labels/second/r<round>_<name>.csv``. Corrections (the adjudication) replace the
first labels of the units they list. A unit already in the label files is refused, never
overwritten; the text is used only for the SHA-1 that lets the loader detect a changed source.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from classifier.codebook import CODEBOOK_VERSION, parse_types  # noqa: E402
from classifier.labels import LABEL_DIR, text_sha1, validate  # noqa: E402

LABEL_COLUMNS = ["types", "primary", "orientation", "confidence", "rationale"]
OECD_COLUMNS = ["unit_id", "initiative_id", "wave", *LABEL_COLUMNS, "sampling", "codebook_version", "round", "batch", "reviewed"]
CN_COLUMNS = ["unit_id", "doc_id", "start", "end", "text_sha1", *LABEL_COLUMNS, "sampling", "codebook_version", "round",
              "batch", "reviewed"]


def batch_labels(folder: Path, name: str) -> pd.DataFrame:
    units = pd.DataFrame([json.loads(line) for line in open(folder / "work" / f"{name}.jsonl", encoding="utf-8")])
    labels = pd.read_csv(folder / "labels" / f"{name}.csv", dtype=str, keep_default_na=False)
    if labels.unit_id.tolist() != units.unit_id.tolist():
        raise SystemExit(f"{name}: the labeled ids are not the batch's ids in the batch's order")
    return units.merge(labels, on="unit_id").assign(batch=f"r{ROUND}_{name}")


def main() -> None:
    global ROUND
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--round", type=int, required=True)
    parser.add_argument("--second", nargs="*", default=[])
    parser.add_argument("--corrections", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    ROUND = args.round
    names = sorted(p.stem for p in (args.folder / "labels").glob("*.csv"))
    first = pd.concat([batch_labels(args.folder, n) for n in names if n not in args.second], ignore_index=True)
    first["reviewed"] = ""
    for path in args.corrections:
        fixes = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("unit_id")
        hit = first.unit_id.isin(fixes.index)
        for col in ("types", "primary", "orientation"):
            first.loc[hit, col] = first.loc[hit, "unit_id"].map(fixes[col])
        first.loc[hit, "reviewed"] = path.stem
        print(f"{path.name}: {int(hit.sum())} labels set by adjudication", file=sys.stderr)
    first["codebook_version"], first["round"] = CODEBOOK_VERSION, str(args.round)
    validate(first.assign(types=first["types"].map(parse_types)), "round labels")
    stip = first.unit_id.str.startswith("stip:")
    oecd, cn = first[stip].copy(), first[~stip].copy()
    oecd["initiative_id"] = oecd.unit_id.str.split(":").str[1]
    oecd["wave"] = oecd.unit_id.str.split(":").str[2]
    cn["text_sha1"] = cn.text.map(text_sha1)
    for frame, path, columns, key in ((oecd, LABEL_DIR / "oecd_documents.csv", OECD_COLUMNS, ["unit_id"]),
                                      (cn, LABEL_DIR / "cn_measures.csv", CN_COLUMNS, ["doc_id", "start"])):
        existing = pd.read_csv(path, dtype=str, keep_default_na=False)
        clash = sorted(set(existing.unit_id) & set(frame.unit_id))
        if clash:
            raise SystemExit(f"{path.name}: {len(clash)} units already labeled, e.g. {clash[0]}; nothing written")
        merged = pd.concat([existing, frame[columns].astype(str)], ignore_index=True)
        merged = merged.assign(_start=pd.to_numeric(merged.get("start", 0), errors="coerce")).sort_values(
            [key[0], "_start"] if len(key) > 1 else key).drop(columns="_start")
        merged[columns].to_csv(path, index=False)
        print(f"{path.name}: +{len(frame)} -> {len(merged)}", file=sys.stderr)
    for name in args.second:
        second = batch_labels(args.folder, name)[["unit_id", *LABEL_COLUMNS]]
        second.to_csv(LABEL_DIR / "second" / f"r{args.round}_{name}.csv", index=False)
        print(f"second annotations r{args.round}_{name}: {len(second)}", file=sys.stderr)


ROUND = 0

if __name__ == "__main__":
    main()
