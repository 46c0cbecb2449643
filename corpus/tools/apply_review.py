"""Apply a second reading of committed labels (e.g. of `classifier annotate check` suspects).

    python corpus/tools/apply_review.py REVIEW.csv --name check_review

REVIEW.csv: unit_id, decision (keep/change), types, primary, orientation, rule. Changed rows
replace the labels of their units in corpus/labels/*.csv and mark them ``reviewed = NAME``; every
reviewed row (kept or changed) is appended to corpus/labels/second/NAME.csv, so a unit is not
re-read twice. An id that is in no label file, or an invalid label, stops before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from classifier.codebook import parse_types  # noqa: E402
from classifier.labels import LABEL_DIR, validate  # noqa: E402

LABEL_FILES = ("oecd_documents.csv", "cn_measures.csv")
AXES = ["types", "primary", "orientation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("review", type=Path)
    parser.add_argument("--name", default="check_review")
    args = parser.parse_args()
    review = pd.read_csv(args.review, dtype=str, keep_default_na=False)
    validate(review.assign(types=review["types"].map(parse_types)), args.review.name)
    tables = {name: pd.read_csv(LABEL_DIR / name, dtype=str, keep_default_na=False) for name in LABEL_FILES}
    known = set().union(*(set(t.unit_id) for t in tables.values()))
    unknown = sorted(set(review.unit_id) - known)
    if unknown:
        raise SystemExit(f"{args.review}: {len(unknown)} ids in no label file, e.g. {unknown[0]}; nothing written")
    changes = review[review["decision"] == "change"].set_index("unit_id")
    for name, table in tables.items():
        hit = table.unit_id.isin(changes.index)
        for column in AXES:
            table.loc[hit, column] = table.loc[hit, "unit_id"].map(changes[column])
        table.loc[hit, "reviewed"] = args.name
        table.to_csv(LABEL_DIR / name, index=False)
        print(f"{name}: {int(hit.sum())} labels changed", file=sys.stderr)
    log = LABEL_DIR / "second" / f"{args.name}.csv"
    rows = review.assign(changed=(review["decision"] == "change").map({True: "yes", False: "no"}))
    rows = rows[["unit_id", *AXES, "changed", "rule"]]
    if log.exists():
        rows = pd.concat([pd.read_csv(log, dtype=str, keep_default_na=False), rows], ignore_index=True)
    rows.to_csv(log, index=False)
    print(f"{log.name}: {len(rows)} reviewed rows", file=sys.stderr)


if __name__ == "__main__":
    main()
