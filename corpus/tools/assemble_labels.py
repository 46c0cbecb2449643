"""Merge annotation batches into the committed label files (ids and labels, never texts).

    python corpus/tools/assemble_labels.py BATCH_DIR... --labels OUT_DIR [--corrections CSV...]

Each BATCH_DIR holds the batch files given to annotators (``*.jsonl``: ids, sampling and
text) and, under ``out/``, the annotators' CSVs of the same name. Corrections (e.g. a
review pass) replace the labels of the units they list. The text is used only to compute
the SHA-1 that lets the loader detect a changed source.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from classifier.codebook import CODEBOOK_VERSION, parse_types
from classifier.labels import text_sha1, validate  # noqa: E402

LABEL_COLUMNS = ["types", "primary", "orientation", "confidence", "rationale"]


def batch_rows(batch: Path, out_dir: Path) -> pd.DataFrame | None:
    units = pd.DataFrame([json.loads(line) for line in open(batch, encoding="utf-8")])
    labels = pd.read_csv(out_dir / f"{batch.stem}.csv", dtype=str, keep_default_na=False)
    if labels.unit_id.tolist() != units.unit_id.tolist():
        if set(labels.unit_id) <= set(units.unit_id):
            print(f"skipped {batch.name}: in progress ({len(labels)}/{len(units)} labeled)", file=sys.stderr)
            return None
        raise SystemExit(f"{batch}: labeled ids differ from the batch's ids")
    merged = units.drop(columns=["title", "country", "section"], errors="ignore").merge(labels, on="unit_id")
    merged["batch"] = batch.stem
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("batch_dirs", type=Path, nargs="+")
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, help="where the annotators' CSVs are (default BATCH_DIR/out)")
    parser.add_argument("--corrections", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    rows = []
    for folder in args.batch_dirs:
        out_dir = args.out_dir or folder / "out"
        for batch in sorted(folder.glob("*_r[0-9]*_b*.jsonl")) + sorted(folder.glob("*_r[0-9]*_all.jsonl")):
            if (out_dir / f"{batch.stem}.csv").exists():
                rows.append(batch_rows(batch, out_dir))
                rows = [r for r in rows if r is not None]
            else:
                print(f"skipped {batch.name}: no labels yet")
    table = pd.concat(rows, ignore_index=True)
    for path in args.corrections:
        fixes = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("unit_id")
        hit = table.unit_id.isin(fixes.index)
        for col in LABEL_COLUMNS:
            table.loc[hit, col] = table.loc[hit, "unit_id"].map(fixes[col])
        table.loc[hit, "reviewed"] = path.stem
        print(f"{path.name}: {int(hit.sum())} labels corrected")
    table["codebook_version"] = CODEBOOK_VERSION
    table["round"] = table.batch.str.extract(r"_r(\d+)_")[0]
    checked = table.assign(types=table["types"].map(parse_types))
    validate(checked, "assembled labels")
    if "reviewed" not in table:
        table["reviewed"] = ""
    table["reviewed"] = table["reviewed"].fillna("")
    args.labels.mkdir(parents=True, exist_ok=True)
    oecd = table[table.unit_id.str.startswith("stip:")].copy()
    oecd["initiative_id"] = oecd.unit_id.str.split(":").str[1]
    oecd["wave"] = oecd.unit_id.str.split(":").str[2]
    oecd_cols = ["unit_id", "initiative_id", "wave", *LABEL_COLUMNS, "sampling", "codebook_version", "round", "batch", "reviewed"]
    oecd.sort_values("unit_id")[oecd_cols].to_csv(args.labels / "oecd_documents.csv", index=False)
    cn = table[~table.unit_id.str.startswith("stip:")].copy()
    cn["text_sha1"] = cn.text.map(text_sha1)
    cn[["start", "end"]] = cn[["start", "end"]].astype(int)
    cn_cols = ["unit_id", "doc_id", "start", "end", "text_sha1", *LABEL_COLUMNS, "sampling", "codebook_version", "round", "batch", "reviewed"]
    cn.sort_values(["doc_id", "start"])[cn_cols].to_csv(args.labels / "cn_measures.csv", index=False)
    print(f"{len(oecd)} OECD documents, {len(cn)} Chinese measures from {cn.doc_id.nunique()} documents -> {args.labels}")


if __name__ == "__main__":
    main()
