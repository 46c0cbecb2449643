"""Ablation: each block and design choice of the model on and off, in the same grouped folds.

    CLASSIFIER_DATA=../shared/data python benchmarks/ablation.py [--variants a,b,...] [--out docs/ablation.json]

Every variant is the default config (configs/train.toml) with a few parameters changed; all are
cross-validated on the same grouped folds (the folds of ``classifier.evaluate.grouped_folds``), so
differences are the variants', not the folds'. ``no_new_labels`` drops the labels of the rounds
the annotation loop chose (``LOOP_ROUNDS``) from every training fold but is scored on the same
test units. Prints a table of macro-F1 per language and writes every metric to --out (a file
measured on another number of labeled units is started afresh); ``--update-card`` also puts the
table into the default model's card after each variant.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, clone

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.evaluate import cross_validate  # noqa: E402
from classifier.model_card import refresh_benchmark  # noqa: E402
from classifier.training import build_model, load_units, read_config  # noqa: E402

LOOP_ROUNDS = ("4", "5", "6", "9")  # the rounds `classifier annotate suggest` chose (with random draws beside)
VARIANTS = {
    # name: (what changes, config overrides {table: {key: value}})
    "earlier_design": ("orientation on all units, plain argmax, no embeddings",
                       {"model": {"orientation_scope": "all", "orientation_decision": "argmax"}, "embedding": {"enabled": False}}),
    "default": ("the default config", {}),
    # also the structured orientation alone: it differs from earlier_design only in the orientation
    "no_embedding": ("the default config without the sentence block", {"embedding": {"enabled": False}}),
    "flat_orientation": ("the default config with orientation on all units and plain argmax",
                         {"model": {"orientation_scope": "all", "orientation_decision": "argmax"}}),
    "embedding_x2": ("the sentence block weighted 2", {"model": {"embedding_weight": 2.0}}),
    "embedding_x0.5": ("the sentence block weighted 0.5", {"model": {"embedding_weight": 0.5}}),
    "no_lexicon": ("without the cue lexicon block", {"features": {"lexicon_weight": 0.0}, "model": {"lexicon_weight_grid": []}}),
    "lexicon_weight_1": ("the lexicon block at the featurizer's weight (1) for both heads, not chosen per head",
                         {"model": {"lexicon_weight_grid": []}}),
    "lexicon_by_language_no_embedding": ("the lexicon block shared plus one copy per language, no sentence block",
                                         {"features": {"lexicon_by_language": True}, "embedding": {"enabled": False}}),
    "no_class_weight": ("unweighted classes", {"types": {"class_weight": None}, "orientation": {"class_weight": None}}),
    "no_new_labels": (f"the default config trained without the labels of rounds {', '.join(LOOP_ROUNDS)}, chosen by "
                      "the annotation loop, with the random draws made beside its choices (scored on the same test "
                      "units)", {}),
    "no_written": ("the default config trained without the units written for training (corpus/written; "
                   "scored on the same real test units)", {}),
}
# Variants trained without some of the training units: (label-file column, the values dropped).
TRAINED_WITHOUT = {"no_new_labels": ("round", LOOP_ROUNDS), "no_written": ("fit_only", ("True",))}


class TrainedWithout(BaseEstimator):
    """Fits ``model`` on the training units except those whose ``column`` is one of ``values``; predicts as ``model``."""

    def __init__(self, model=None, column="round", values=LOOP_ROUNDS):
        self.model = model
        self.column = column
        self.values = values

    def fit(self, X, y):
        keep = (~y[self.column].astype(str).isin(self.values)).to_numpy() if self.column in y else np.ones(len(y), bool)
        self.model_ = clone(self.model).fit([t for t, k in zip(X, keep) if k], y[keep].reset_index(drop=True))
        return self

    def predict(self, X):
        return self.model_.predict(X)


AXES = ("types_macro_f1", "primary_macro_f1", "orientation_macro_f1")


def default_from_card(card: dict, n_units: int) -> dict:
    """The default row from a model card of the same labels (the card's CV is the same folds)."""
    trained_on = card["label_counts"]["all"]["units"]
    if trained_on != n_units:
        raise SystemExit(f"--card was trained on {trained_on} units, not the {n_units} labeled now")
    return {"description": VARIANTS["default"][0] + " (from the model card)", "overrides": {},
            "seconds": round(card["cv_seconds"]), **language_rows(card["metrics"]["model"])}


def language_rows(metrics: dict) -> dict:
    """The ablation's figures of one system: macro-F1 per axis and F1 per type, per language slice."""
    return {s: {axis: metrics[s][axis] for axis in AXES} | {"per_type_f1": {t: v["f1"] for t, v in metrics[s]["types"].items()}}
            for s in metrics if s.startswith("lang=")}


def configured(base: dict, overrides: dict) -> dict:
    config = copy.deepcopy(base)
    for table, values in overrides.items():
        config.setdefault(table, {}).update(values)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[1] / "configs" / "train.toml")
    parser.add_argument("--out", type=Path, default=Path("docs/ablation.json"))
    parser.add_argument("--card", type=Path, help="take the default row from this model card's cross-validation "
                        "(it must have been trained on the same labeled units) instead of running it again")
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--update-card", action="store_true",
                        help="also put the table into the card of --model (trained on the same labeled units)")
    args = parser.parse_args()
    base = read_config(args.config)
    units = load_units(base)
    settings = base["evaluation"]
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.update_card:
        trained_on = json.loads((args.model / "model_card.json").read_text())["label_counts"]["all"]["units"]
        if trained_on != len(units):
            raise SystemExit(f"{args.model}: its card was trained on {trained_on} units, not the {len(units)} labeled now")
    if results.get("labeled_units") != len(units):  # rows measured on other labels are not comparable
        results = {}
    results["labeled_units"] = len(units)
    if args.card:
        results["default"] = default_from_card(json.loads(args.card.read_text()), len(units))
    for name in args.variants.split(","):
        if name == "default" and args.card:
            continue
        description, overrides = VARIANTS[name]
        started = time.perf_counter()
        model = build_model(configured(base, overrides))
        if name in TRAINED_WITHOUT:
            model = TrainedWithout(model, *TRAINED_WITHOUT[name])
        evaluation = cross_validate(model, units, n_splits=settings["n_splits"], seed=settings["seed"], baselines={},
                                    n_jobs=settings.get("n_jobs", 1))
        metrics = evaluation["metrics"]["model"]
        results[name] = {"description": description, "overrides": overrides,
                         "seconds": round(time.perf_counter() - started), **language_rows(metrics)}
        print(f"{name:24s} " + "  ".join(f"{s} " + "/".join(f"{results[name][s][a]:.3f}" for a in AXES)
                                         for s in ("lang=en", "lang=zh")) + f"  ({results[name]['seconds']}s)", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        if args.update_card:
            refresh_benchmark(args.model, "ablation", results)


if __name__ == "__main__":
    main()
