"""Which quantifier to trust: share errors and interval coverage on held-out labeled folds.

    python benchmarks/bench_quantify.py [--model models/default] [--samples 40] [--size 500] [--corpus-size 2000]
                                        [--replicates 60]

For each language's labeled units (the model's out-of-fold predictions, so no unit was seen
by the classifier that scored it) and each target (primary type, orientation joint, each
type's presence), documents are split into 5 grouped folds. Each quantifier learns from four
folds and estimates samples drawn from the fifth:

* natural: samples at the held-out fold's own prevalence;
* shifted: samples at prevalences drawn uniformly from the simplex (the artificial-prevalence
  protocol of QuaPy), so a method that only works near the training prevalence shows it;
* corpus: samples at the class mix of the SME-targeted view of the corpora (the report's headline),
  estimated from the labeled units that stand for that view by design (``classifier.sampling``: a
  unit of a cell's standing random draw for its part of the rest of the cell, one labeled before it for itself):
  the labeled units as a whole are enriched for network units, so neither of the others is the mix
  a report's correction meets. Its samples are of ``--corpus-size`` units (2,000: about the size of
  the views a report corrects; a Chinese sample of 500 holds only a few dozen network units).

In every protocol a sample's units of a class are drawn from the units that stand for that class
in the corpora (``LabeledPosteriors.draw_weights``): where a class has at least 100 units standing
for the SME-targeted view, those alone, by design weight; otherwise all its labeled units.
The annotation loop chose many ``none`` units for looking like network units (Chinese: network
mass 0.16 on those, 0.04 on random ones: ``benchmarks/labeled_shares.py``), so drawing every labeled ``none`` unit overstated the
network mass a corpus's ``none`` units leak into the shares among network units (zh primary at the
corpus mix on the round-7 model: 0.163 TVD for PCC that way, 0.123 this way; this script at commits
94fd2a7 and 3ca7f28). The quantifiers learn from the training folds the same way
(``quantify.representative_rows``: each class's representative units, repeated up to its count),
as a report's do, with the SME-targeted view's units: the headline view, where the estimator is
selected (the whole corpora's random units would weigh non-SME STIP records up to 20 times).

Errors are measured on the shares a report states (among network units for primary type and
orientation; the rate for a type): total variation distance (TVD) and mean absolute error
(MAE). Coverage: for corpus-mix samples (natural without random labels) spread over the five
folds, the 95% interval of each headline share (the lead-firm share, every primary share, a
type's rate), built as the report builds it (``quantify.bootstrap_shares`` on the training folds:
labeled documents and the sample resampled; ``quantify.corrected_interval``: widened to the reach
of the estimator's held-out errors, themselves measured at the same mix), is checked against
the sample's true share; the coverage of the resampling alone is printed beside it.

The estimator with the lowest TVD at the corpus protocol (without random labels: natural and
shifted averaged) is selected per language and target and written to
``MODEL/quantification.json``; the report headlines it (raw counting, CC, when nothing beats it).
Averaging natural and shifted, as this benchmark did before, chose estimators that are worst at
the corpus protocol (KDEy-ML for the Chinese lead-firm share: 0.352 TVD there, PCC 0.112, on the
6,060 labels of round 6).

Where the analysed view holds the labeled units that stand for it (the SME-targeted view of the shared
corpora does), the prediction-powered estimate (``classifier.prediction_powered``, PPI) needs no
transfer of error rates: ``evaluate_prediction_powered`` simulates that view (its chosen labels and a
rest of the size its random labels stand for, of which as many units as there are random labels are
labeled) and measures PPI's error and interval coverage there. Where PPI's error is below the selected
quantifier's at the corpus mix, ``selected_with_view_labels`` says PPI, and the report uses it for a
view that holds at least 100 labels drawn at random.
Prints a table per language.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from classifier import prediction_powered  # noqa: E402
from classifier.codebook import LABELS  # noqa: E402
from classifier.quantify import (ESTIMATORS, SELECTION_FILE, TARGETS, FittedQuantifiers, at_present,  # noqa: E402
                                 bootstrap_shares, corrected_interval, estimate_shares, fit_quantifier, flat_shares,
                                 labeled_posteriors, labels_of, posteriors, renormalised, representative_rows,
                                 sample_at_prevalence, shares,
                                 target_classes, total_variation, uniform_prevalences)

PROTOCOLS = ("natural", "shifted", "corpus")


def headline_keys(target: str) -> list[str]:
    """The shares whose intervals are checked: the lead-firm share, every primary share, a type's rate."""
    if target == "orientation":
        return ["orientation_share_of_network.lead_firm"]
    if target == "primary":
        return [f"primary_share_of_network.{label}" for label in LABELS]
    return [f"type_rate.{target.split(':', 1)[1]}"]


def prevalence(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(y, minlength=n_classes) / max(len(y), 1)


def evaluate_target(labeled, target: str, args, rng) -> dict:
    P, y = posteriors(labeled.predicted, target), labels_of(labeled.truth, target)
    n_classes = P.shape[1]
    corpus_like = labeled.corpus_mix(target, sme_only=True)
    standing = labeled.draw_weights(target, sme_only=True)  # a class's units stand for the SME-targeted view's
    errors = {name: {protocol: [] for protocol in PROTOCOLS if protocol != "corpus" or corpus_like is not None}
              for name in ESTIMATORS}
    samples = []  # (fold, train index, sample index) for the coverage check, spread over the folds
    coverage_protocol = "corpus" if corpus_like is not None else "natural"  # intervals are used at the corpus mix
    per_fold = max(1, -(-args.coverage_samples // 5))
    for fold, (train, test) in enumerate(GroupKFold(n_splits=5).split(P, y, labeled.groups)):
        fit_rows = representative_rows(train, y, standing)
        fitted = {name: fit_quantifier(name, P[fit_rows], y[fit_rows]) for name in ESTIMATORS}
        natural = prevalence(y[test], n_classes)
        present = np.array([np.any(y[test] == c) for c in range(n_classes)])
        shifted = uniform_prevalences(n_classes, args.samples, rng) * present
        shifted = shifted / shifted.sum(axis=1, keepdims=True)
        protocols = {"natural": [natural] * args.samples, "shifted": shifted}
        if corpus_like is not None:
            protocols["corpus"] = [at_present(corpus_like, present)] * args.samples
        for protocol, prevalences in protocols.items():
            for p in prevalences:
                size = args.corpus_size if protocol == "corpus" else args.size
                index = test[sample_at_prevalence(y[test], p, size, rng, standing[test])]
                truth = renormalised(prevalence(y[index], n_classes), target)
                if np.isnan(truth).any():
                    continue
                for name, quantify in fitted.items():
                    estimate = renormalised(quantify(P[index]), target)
                    errors[name][protocol].append((total_variation(estimate, truth), absolute_error(estimate, truth)))
                if protocol == coverage_protocol and sum(f == fold for f, _, _ in samples) < per_fold:
                    samples.append((fold, train, index))
    table = {name: {protocol: {"tvd": float(np.mean([e[0] for e in runs])), "mae": float(np.mean([e[1] for e in runs])),
                               "samples": len(runs)} for protocol, runs in by.items()} for name, by in errors.items()}
    score = {name: selection_score(t) for name, t in table.items()}
    selected = min(score, key=score.get)
    table["selected"] = selected
    table["corpus_mix"] = None if corpus_like is None else {"standing_labels": len(labeled.standing_rows(sme_only=True)),
                                                           "prevalence": corpus_like.round(4).tolist()}
    table["coverage"] = {name: coverage(name, target, labeled, samples, args) for name in dict.fromkeys(["CC", selected])}
    table["coverage_resampling_only"] = {name: coverage(name, target, labeled, samples, args, held_out=False)
                                         for name in dict.fromkeys(["CC", selected])}
    table[prediction_powered.PPI] = evaluate_prediction_powered(labeled, target, args, rng)
    ppi = table[prediction_powered.PPI]
    beats = ppi is not None and "corpus" in table[selected] and ppi["corpus"]["tvd"] < table[selected]["corpus"]["tvd"]
    table["selected_with_view_labels"] = prediction_powered.PPI if beats else selected
    return table


def evaluate_prediction_powered(labeled, target: str, args, rng) -> dict | None:
    """The prediction-powered estimate (``classifier.prediction_powered``) of the SME-targeted view, simulated as the
    report meets it: the view is its known labeled units (chosen, or drawn in an earlier random draw) and a rest of
    as many units as the standing draws' labels stand for, drawn from them by design weight; as many of the rest
    as that draw has labels are labeled, at random. Error: against the simulated view's own mix; coverage: of the
    report's interval (``bootstrap``, widened to the reach of ``simulated_errors`` computed from that view's labels
    alone). Nothing is fitted, so no fold is held out: the error is the sampling error of the random labels within
    the design's frame, and the classifier's posteriors only narrow it. It cannot see what the frame leaves out:
    units no draw could pick (Chinese measures under 20 characters; the earlier waves of a STIP initiative, whose
    latest wave alone was drawn, so the STIP simulation is a census with no error), or fold models that read the
    labeled units unlike the final model reads the rest. None without ``MIN_LABELS`` units standing for the rest."""
    P, y = posteriors(labeled.predicted, target), labels_of(labeled.truth, target)
    standing = labeled.standing_rows(sme_only=True)
    if len(standing) < prediction_powered.MIN_LABELS:
        return None
    design = labeled.design_weights()
    for_rest = labeled.stands_for_rest()[standing]
    chosen, random = standing[~for_rest], standing[for_rest]  # known units; those standing for the rest
    rest = int(round(design[random].sum()))
    runs, hits = [], []
    known, pool = (P[chosen], y[chosen]), (P[random], y[random], design[random])
    for k in range(args.samples * 5):
        view_p, view_y, sample = prediction_powered.simulated_view(known, pool, rest, len(random), rng)
        truth_mix = prevalence(view_y, P.shape[1])
        estimate = prediction_powered.prevalence(view_p, sample)
        truth, guess = renormalised(truth_mix, target), renormalised(estimate, target)
        if np.isnan(truth).any():
            continue
        runs.append((total_variation(guess, truth), absolute_error(guess, truth)))
        if k < args.ppi_coverage_samples:
            point, draws = prediction_powered.estimate(target, view_p, sample, args.replicates, args.seed + k)
            errors = pd.DataFrame(prediction_powered.simulated_errors(target, view_p, sample,
                                                                      prediction_powered.SIMULATED_VIEWS, args.seed + k))
            true_shares, draws = flat_shares(shares(target, truth_mix)), pd.DataFrame(draws)
            for key in headline_keys(target):
                interval = corrected_interval(point[key], draws[key], errors[key] if key in errors else [])
                if interval is not None and np.isfinite(true_shares[key]):
                    hits.append(bool(interval[0] - 1e-9 <= true_shares[key] <= interval[1] + 1e-9))
    return {"corpus": {"tvd": float(np.mean([r[0] for r in runs])), "mae": float(np.mean([r[1] for r in runs])),
                       "samples": len(runs)},
            "view": {"chosen": len(chosen), "random": len(random), "rest": rest},
            "coverage": float(np.mean(hits)) if hits else float("nan")}


def selection_score(table: dict) -> float:
    """What an estimator is chosen by: its error at the corpus-like prevalence, the mix a report's correction
    meets (the randomly sampled labels' own); without random labels, the mean of natural and shifted."""
    if "corpus" in table:
        return table["corpus"]["tvd"]
    return (table["natural"]["tvd"] + table["shifted"]["tvd"]) / 2


def absolute_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error of the shares; an estimate with no number counts as wrong by the whole share."""
    errors = np.abs(estimate - truth)
    return float(np.mean(np.where(np.isfinite(errors), errors, np.maximum(truth, 1 - truth))))


def coverage(name: str, target: str, labeled, samples, args, held_out: bool = True) -> float:
    """Share of (sample, headline share) pairs whose truth lies in the report's 95% interval, built as the report
    builds it from the training folds only: ``quantify.bootstrap_shares`` (labeled documents and the sample
    resampled) and, with ``held_out``, ``quantify.corrected_interval``'s reach of the held-out errors."""
    hits, fitted = [], {}
    for fold, train, index in samples:
        if fold not in fitted:
            fitted[fold] = FittedQuantifiers(labeled.subset(train))
        quantifiers, sample = fitted[fold], labeled.subset(index)
        point = flat_shares(estimate_shares(name, target, sample.predicted, quantifiers.labeled, quantifiers))
        draws = pd.DataFrame(bootstrap_shares(name, target, sample.predicted, np.arange(len(index)), quantifiers.labeled,
                                              args.replicates, args.seed, quantifiers))
        errors = pd.DataFrame(quantifiers.held_out_errors(name, target, args.seed, size=len(index), sme_only=True)
                              if held_out else [])
        truth = flat_shares(shares(target, prevalence(labels_of(sample.truth, target), len(target_classes(target)))))
        for key in headline_keys(target):
            interval = corrected_interval(point[key], draws[key], errors[key] if key in errors else [])
            if interval is not None and np.isfinite(truth[key]):
                hits.append(bool(interval[0] - 1e-9 <= truth[key] <= interval[1] + 1e-9))
    return float(np.mean(hits)) if hits else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--samples", type=int, default=40, help="samples per fold and protocol")
    parser.add_argument("--size", type=int, default=500, help="units per sample (natural and shifted)")
    parser.add_argument("--corpus-size", type=int, default=2000,
                        help="units per corpus-mix sample: about the size of the views a report corrects (1,486 "
                             "SME-targeted STIP records, 3,904 measures of SME-targeted Chinese documents), so a "
                             "sample holds enough network units (about 9%% of Chinese measures) for its shares")
    parser.add_argument("--coverage-samples", type=int, default=20, help="samples whose intervals are checked")
    parser.add_argument("--replicates", type=int, default=60, help="bootstrap replicates per coverage check")
    parser.add_argument("--ppi-coverage-samples", type=int, default=80,
                        help="simulated views whose prediction-powered intervals are checked (cheap: nothing is fitted)")
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
        print(f"\n{lang} ({units.unit}, {len(units)} labeled units, {len(units.standing_rows(sme_only=True))} of them standing "
              "by design for the SME-targeted view, "
              f"whose mix is the corpus protocol's): mean TVD natural / shifted / corpus; 95% coverage", file=sys.stderr)
        for target in args.targets.split(","):
            table = evaluate_target(units, target, args, rng)
            results["languages"][lang]["targets"][target] = table
            row = "  ".join(f"{n} " + "/".join(f"{r['tvd']:.3f}" for r in table[n].values()) for n in ESTIMATORS)
            cover = ", ".join(f"{n} {c:.2f} ({table['coverage_resampling_only'][n]:.2f} resampling only)"
                              for n, c in table["coverage"].items())
            print(f"{lang} {target:18s} {row}  -> {table['selected']} (coverage {cover})", flush=True)
            ppi = table[prediction_powered.PPI]
            if ppi is not None:
                print(f"{lang} {target:18s} PPI {ppi['corpus']['tvd']:.3f} at the view ({ppi['view']['chosen']} chosen "
                      f"labels + {ppi['view']['random']} random labels standing for {ppi['view']['rest']:,} units; "
                      f"coverage {ppi['coverage']:.2f}) -> with the view's labels: "
                      f"{table['selected_with_view_labels']}", flush=True)
    results["seconds"] = round(time.perf_counter() - started)
    (args.model / SELECTION_FILE).write_text(json.dumps(results, indent=2) + "\n")
    print(f"selection -> {args.model / SELECTION_FILE} ({results['seconds']} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
