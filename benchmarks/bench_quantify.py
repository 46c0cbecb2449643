"""Which quantifier to trust: share errors and interval coverage on held-out labeled folds.

    python benchmarks/bench_quantify.py [--model models/default] [--samples 40] [--size 500] [--replicates 60]

For each language's labeled units (the model's out-of-fold predictions, so no unit was seen
by the classifier that scored it) and each target (primary type, orientation joint, each
type's presence), documents are split into 5 grouped folds. Each quantifier learns from four
folds and estimates samples drawn from the fifth:

* natural: samples at the held-out fold's own prevalence;
* shifted: samples at prevalences drawn uniformly from the simplex (the artificial-prevalence
  protocol of QuaPy), so a method that only works near the training prevalence shows it.

Errors are measured on the shares a report states (among network units for primary type and
orientation; the rate for a type): total variation distance (TVD) and mean absolute error
(MAE). Coverage: for a subset of samples, the 95% bootstrap interval (resampling the labeled
documents and the sample) of the headline share is checked against the sample's true share.

The estimator with the lowest mean TVD (natural and shifted averaged) is selected per language
and target and written to ``MODEL/quantification.json``; the report headlines it (raw counting,
CC, when nothing beats it). Prints a table per language.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from classifier.quantify import (ESTIMATORS, SELECTION_FILE, TARGETS, fit_quantifier, labeled_posteriors,  # noqa: E402
                                 labels_of, posteriors, renormalised, sample_at_prevalence, total_variation,
                                 uniform_prevalences)

HEADLINE_SHARE = {"orientation": 0, "primary": None}  # coverage checked on lead_firm, and on every primary share


def prevalence(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(y, minlength=n_classes) / max(len(y), 1)


def evaluate_target(labeled, target: str, args, rng) -> dict:
    P, y = posteriors(labeled.predicted, target), labels_of(labeled.truth, target)
    n_classes = P.shape[1]
    errors = {name: {"natural": [], "shifted": []} for name in ESTIMATORS}
    samples = []  # (train index, sample index, true shares) for the coverage check
    for train, test in GroupKFold(n_splits=5).split(P, y, labeled.groups):
        fitted = {name: fit_quantifier(name, P[train], y[train]) for name in ESTIMATORS}
        natural = prevalence(y[test], n_classes)
        present = np.array([np.any(y[test] == c) for c in range(n_classes)])
        shifted = uniform_prevalences(n_classes, args.samples, rng) * present
        shifted = shifted / shifted.sum(axis=1, keepdims=True)
        for protocol, prevalences in (("natural", [natural] * args.samples), ("shifted", shifted)):
            for p in prevalences:
                index = test[sample_at_prevalence(y[test], p, args.size, rng)]
                truth = renormalised(prevalence(y[index], n_classes), target)
                if np.isnan(truth).any():
                    continue
                for name, quantify in fitted.items():
                    estimate = renormalised(quantify(P[index]), target)
                    errors[name][protocol].append((total_variation(estimate, truth), absolute_error(estimate, truth)))
                if protocol == "natural" and len(samples) < args.coverage_samples:
                    samples.append((train, index, truth))
    table = {name: {protocol: {"tvd": float(np.mean([e[0] for e in runs])), "mae": float(np.mean([e[1] for e in runs])),
                               "samples": len(runs)} for protocol, runs in by.items()} for name, by in errors.items()}
    score = {name: (t["natural"]["tvd"] + t["shifted"]["tvd"]) / 2 for name, t in table.items()}
    selected = min(score, key=score.get)
    table["selected"] = selected
    table["coverage"] = {name: coverage(name, target, P, y, labeled.groups, samples, args, rng)
                         for name in dict.fromkeys(["CC", selected])}
    return table


def absolute_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error of the shares; an estimate with no number counts as wrong by the whole share."""
    errors = np.abs(estimate - truth)
    return float(np.mean(np.where(np.isfinite(errors), errors, np.maximum(truth, 1 - truth))))


def coverage(name: str, target: str, P, y, groups, samples, args, rng) -> float:
    """Share of (sample, category) pairs whose true share lies in the 95% bootstrap interval."""
    hits = []
    for train, index, truth in samples:
        train_groups = groups[train]
        codes = np.unique(train_groups, return_inverse=True)[1]
        members = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
        draws = []
        for _ in range(args.replicates):
            calib = train[np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])]
            sample = index[rng.integers(0, len(index), len(index))]
            draws.append(renormalised(fit_quantifier(name, P[calib], y[calib])(P[sample]), target))
        low, high = np.nanpercentile(np.array(draws), [2.5, 97.5], axis=0)
        which = [HEADLINE_SHARE[target]] if HEADLINE_SHARE.get(target) is not None else range(len(truth))
        hits += [bool(low[j] - 1e-9 <= truth[j] <= high[j] + 1e-9) for j in which]
    return float(np.mean(hits)) if hits else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--samples", type=int, default=40, help="samples per fold and protocol")
    parser.add_argument("--size", type=int, default=500, help="units per sample")
    parser.add_argument("--coverage-samples", type=int, default=20, help="samples whose intervals are checked")
    parser.add_argument("--replicates", type=int, default=60, help="bootstrap replicates per coverage check")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    labeled = labeled_posteriors(args.model)
    if not labeled:
        raise SystemExit(f"{args.model}: no out-of-fold predictions with groups; run `python train.py` first")
    started = time.perf_counter()
    results = {"protocol": {k: v for k, v in vars(args).items() if k != "model"}, "languages": {}}
    for lang, units in sorted(labeled.items()):
        results["languages"][lang] = {"unit": units.unit, "labeled_units": len(units), "targets": {}}
        print(f"\n{lang} ({units.unit}, {len(units)} labeled units): mean TVD natural / shifted; 95% coverage",
              file=sys.stderr)
        for target in args.targets.split(","):
            table = evaluate_target(units, target, args, rng)
            results["languages"][lang]["targets"][target] = table
            row = "  ".join(f"{n} {table[n]['natural']['tvd']:.3f}/{table[n]['shifted']['tvd']:.3f}" for n in ESTIMATORS)
            cover = ", ".join(f"{n} {c:.2f}" for n, c in table["coverage"].items())
            print(f"{lang} {target:18s} {row}  -> {table['selected']} (coverage {cover})", flush=True)
    results["seconds"] = round(time.perf_counter() - started)
    (args.model / SELECTION_FILE).write_text(json.dumps(results, indent=2) + "\n")
    print(f"selection -> {args.model / SELECTION_FILE} ({results['seconds']} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
