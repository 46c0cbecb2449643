"""Summarise a blind check review: how often the two readers and the adjudication kept the old labels.

    python corpus/tools/review_summary.py corpus/review/r26

The folder holds ``units.csv`` (unit_id, set, old_types, old_primary, old_orientation: the labels before
the review), ``reader_a.csv`` and ``reader_b.csv`` (the blind readings) and ``review.csv`` (the
adjudicated decisions, the input of ``apply_review.py``). Prints one row per set and language.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from classifier.codebook import parse_types  # noqa: E402

AXES = ("types", "primary", "orientation")


def labels(frame: pd.DataFrame, prefix: str = "") -> pd.Series:
    """One comparable key per unit: its sorted types, primary and orientation."""
    types = frame[f"{prefix}types"].map(lambda t: ";".join(sorted(parse_types(t))))
    return types + "|" + frame[f"{prefix}primary"] + "|" + frame[f"{prefix}orientation"]


def summary(folder: Path) -> pd.DataFrame:
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False).set_index("unit_id")
    a = pd.read_csv(folder / "reader_a.csv", dtype=str, keep_default_na=False).set_index("unit_id").loc[units.index]
    b = pd.read_csv(folder / "reader_b.csv", dtype=str, keep_default_na=False).set_index("unit_id").loc[units.index]
    review = pd.read_csv(folder / "review.csv", dtype=str, keep_default_na=False).set_index("unit_id").loc[units.index]
    old, first, second = labels(units, "old_"), labels(a), labels(b)
    table = pd.DataFrame({"set": units["set"], "lang": units.index.map(lambda u: "en" if u.startswith("stip:") else "zh"),
                          "readers_agree": first == second, "both_keep_old": (first == old) & (second == old),
                          "changed": review["decision"] == "change"})
    return table.groupby(["set", "lang"]).agg(units=("changed", "size"), readers_agree=("readers_agree", "sum"),
                                              both_keep_old=("both_keep_old", "sum"), changed=("changed", "sum"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    print(summary(parser.parse_args().folder).to_string())


if __name__ == "__main__":
    main()
