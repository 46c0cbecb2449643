"""Agreement between two annotators: Cohen's kappa per axis and per network type, and where they differ."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from ..codebook import LABELS
from ..codebook import parse_types
from ..labels import LABEL_DIR

AXES = ("types", "primary", "orientation")


def read_labels(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def pair_up(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Units labeled in both, with ``_1``/``_2`` columns and the corpus of each unit."""
    columns = ["unit_id", *AXES]
    pairs = first[columns].merge(second[columns], on="unit_id", suffixes=("_1", "_2"))
    pairs["corpus"] = pairs.unit_id.map(lambda u: "oecd" if u.startswith("stip:") else "cn")
    for side in ("_1", "_2"):
        pairs["types" + side] = pairs["types" + side].map(parse_types)
    return pairs


def is_second_annotation(path: Path) -> bool:
    """Files in ``second/`` that are independent second labels, not adjudications or review passes (final labels)."""
    return "adjudication" not in path.stem and path.stem != "check_review"


def repository_pairs(label_dir: Path = LABEL_DIR) -> pd.DataFrame:
    """First labels (before adjudication) against the independent second annotations in ``second/``.

    Agreement is measured on the first annotator's own labels: the label files carry adjudicated labels, so
    every adjudication file that records them (``first_*`` columns) puts them back.
    """
    first = pd.concat([read_labels(p) for p in sorted(label_dir.glob("*.csv"))])
    for path in sorted((label_dir / "second").glob("*adjudication*.csv")):
        original = read_labels(path).set_index("unit_id")
        if not all(f"first_{col}" in original for col in AXES):
            continue
        hit = first.unit_id.isin(original.index)
        for col in AXES:
            first.loc[hit, col] = first.loc[hit, "unit_id"].map(original[f"first_{col}"])
    second = pd.concat([read_labels(p) for p in sorted((label_dir / "second").glob("*.csv")) if is_second_annotation(p)])
    return pair_up(first, second)


def kappa(a, b) -> float:
    """Cohen's kappa; 1.0 when both annotators gave one and the same value throughout (kappa is undefined)."""
    a, b = list(a), list(b)
    return 1.0 if len(set(a) | set(b)) == 1 else float(cohen_kappa_score(a, b))


def kappas(pairs: pd.DataFrame) -> dict:
    result = {"units": len(pairs)}
    for label in LABELS:
        result[f"kappa_{label}"] = kappa(pairs.types_1.map(lambda t: label in t), pairs.types_2.map(lambda t: label in t))
    result["kappa_any_network_type"] = kappa(pairs.types_1.map(bool), pairs.types_2.map(bool))
    result["kappa_primary"] = kappa(pairs.primary_1, pairs.primary_2)
    result["kappa_orientation"] = kappa(pairs.orientation_1, pairs.orientation_2)
    result["agreement_primary"] = float((pairs.primary_1 == pairs.primary_2).mean())
    result["agreement_orientation"] = float((pairs.orientation_1 == pairs.orientation_2).mean())
    return result


def kappa_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """One column per slice: all units, then each corpus."""
    return pd.DataFrame({name: kappas(part) for name, part in [("all", pairs), *pairs.groupby("corpus")]})


def disagreements(pairs: pd.DataFrame) -> pd.DataFrame:
    differ = ((pairs.primary_1 != pairs.primary_2) | (pairs.orientation_1 != pairs.orientation_2)
              | (pairs.types_1.map(sorted) != pairs.types_2.map(sorted)))
    table = pairs[differ].copy()
    for side in ("_1", "_2"):
        table["types" + side] = table["types" + side].map(lambda t: ";".join(t) or "none")
    return table.reset_index(drop=True)


def disagreement_counts(pairs: pd.DataFrame, axis: str = "primary") -> pd.DataFrame:
    """Cross-table of the two annotators' values on one axis (rows: first, columns: second)."""
    return pd.crosstab(pairs[f"{axis}_1"], pairs[f"{axis}_2"], rownames=["first"], colnames=["second"])
