"""Two models' out-of-fold predictions scored on the labeled units both were cross-validated on.

    python benchmarks/compare_models.py OLD_MODEL_DIR NEW_MODEL_DIR

A new labeling round changes the cross-validation set as well as the model: the units the
annotation loop chose are harder than the rest, so the new card's figures mix a better model with
a harder test. This scores both models on their shared units only (and the new model on the units
only it has), per language, with the card's own metrics. An earlier model directory comes from git:

    mkdir -p /tmp/old && git archive REV models/default | tar -x -C /tmp/old   # -> /tmp/old/models/default

Both sets of predictions are out-of-fold, but each from its own run's folds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.codebook import parse_types  # noqa: E402
from classifier.evaluate import score  # noqa: E402
from classifier.quantify import read_out_of_fold  # noqa: E402

AXES = ("types_macro_f1", "primary_macro_f1", "orientation_macro_f1")


def out_of_fold(model_dir: Path) -> pd.DataFrame:
    """Truth and prediction per labeled unit, one row each (columns ``*_true`` and ``*_pred``)."""
    predicted, truth = read_out_of_fold(model_dir)
    joined = truth[["unit_id", "lang", "types", "primary", "orientation"]].merge(
        predicted[["unit_id", "types", "primary", "orientation"]], on="unit_id", suffixes=("_true", "_pred"))
    for side in ("true", "pred"):
        joined[f"types_{side}"] = joined[f"types_{side}"].map(parse_types)
    return joined


def figures(rows: pd.DataFrame) -> dict[str, tuple]:
    result = {}
    for lang, part in rows.groupby("lang"):
        side = {s: part[[f"{a}_{s}" for a in ("types", "primary", "orientation")]].set_axis(
            ["types", "primary", "orientation"], axis=1).reset_index(drop=True) for s in ("true", "pred")}
        metrics = score(side["true"], side["pred"])
        result[lang] = (len(part), *(metrics[a] for a in AXES))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    old, new = out_of_fold(args.old), out_of_fold(args.new)
    shared = new.unit_id.isin(old.unit_id)
    if not shared.any():
        raise SystemExit(f"{args.old} and {args.new} share no labeled unit")
    rows = {"old model, shared units": figures(old[old.unit_id.isin(new.unit_id)]),
            "new model, shared units": figures(new[shared]),
            "new model, new units only": figures(new[~shared]) if (~shared).any() else {}}
    print("| model and units | lang | n | types macro-F1 | primary macro-F1 | orientation macro-F1 |")
    print("|---|---|---|---|---|---|")
    for name, per_lang in rows.items():
        for lang, (n, *values) in per_lang.items():
            print(f"| {name} | {lang} | {n} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    print("\n" + changed_predictions(old, new[shared]))


def changed_predictions(old: pd.DataFrame, new: pd.DataFrame) -> str:
    """How many shared units the new model labels otherwise than the old, per axis."""
    both = old.merge(new, on="unit_id", suffixes=("_old", "_new"))
    moved = {axis: int((both[f"{axis}_pred_old"].map(str) != both[f"{axis}_pred_new"].map(str)).sum())
             for axis in ("types", "primary", "orientation")}
    return f"of {len(both):,} shared units, predicted otherwise: " + ", ".join(f"{a} {n:,}" for a, n in moved.items())


if __name__ == "__main__":
    main()
