"""Stage 6a, quantify: category shares corrected for classifier error, with honest intervals.

Counting predicted labels (classify and count, CC) is biased whenever the classifier
errs. The quantifiers here (QuaPy) learn the classifier's behaviour from its
out-of-fold predictions on the labeled corpus (``models/<model>/oof_*.csv``) and
estimate the true shares of an unlabeled corpus:

* ``CC``: classify and count (the raw figure);
* ``PCC``: probabilistic classify and count (the mean of the calibrated posteriors): unbiased
  where the corpus's classes are read as in the labeled units, biased under strong prior shift;
* ``PCC-BCTS``: PCC on posteriors recalibrated (BCTS) on the labeled units, so that resampling
  the labeled units moves it and its intervals carry the calibration's uncertainty;
* ``ACC``: adjusted classify and count (misclassification rates inverted);
* ``PACC``: its probabilistic version;
* ``EMQ-BCTS``: expectation maximisation (SLD) on posteriors recalibrated with
  bias-corrected temperature scaling, as QuaPy recommends;
* ``KDEy-ML``: kernel-density mixture of the posteriors, maximum likelihood.

Three targets, each a single-label problem built from the model's outputs:

* ``primary``: the primary type over five classes (four types and ``none``); shares
  among network units are the four types renormalised;
* ``orientation``: the joint of network and driver, over ``none``, and network units
  that are ``lead_firm``, ``network`` or ``neutral``; the orientation shares among
  network units are the last three renormalised (the lead-firm share of the question);
* ``type:<label>``: each network type present or not (binary).

Which estimator a report headlines is chosen per language and target by
``benchmarks/bench_quantify.py`` and saved beside the model (``quantification.json``);
the corrected figure leads only where the benchmark found it beats raw counting.
Intervals come from a bootstrap that resamples the analysed corpus's documents *and*
the labeled documents behind the error rates, so a correction learned from few labels
gets a wide interval instead of a confident wrong number.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from .codebook import LABELS, NONE, ORIENTATIONS, parse_types
from .sampling import STANDS_FOR_REST, drawn_at_random

ESTIMATORS = ("CC", "PCC", "PCC-BCTS", "ACC", "PACC", "EMQ-BCTS", "KDEy-ML")
SELECTION_FILE = "quantification.json"
JOINT_CLASSES = (NONE, *ORIENTATIONS)  # the orientation target: none, or a network unit with its driver
TARGETS = ("primary", "orientation", *[f"type:{label}" for label in LABELS])
# Units of a class standing for the corpus (any labeled unit of a cell drawn at random) before they alone
# stand for how the corpus's units of that class read (``LabeledPosteriors.draw_weights``): enough that a fifth of
# them (a held-out fold) still holds about twenty.
REPRESENTATIVE_MIN = 100


def target_classes(target: str) -> tuple[str, ...]:
    if target == "primary":
        return (*LABELS, NONE)
    if target == "orientation":
        return JOINT_CLASSES
    return ("absent", "present")


# ---------------------------------------------------------------- posteriors and labels per target


def _type_matrix(frame: pd.DataFrame) -> np.ndarray:
    return frame[[f"p_{label}" for label in LABELS]].to_numpy(float)


def posteriors(frame: pd.DataFrame, target: str) -> np.ndarray:
    """(n, classes) probabilities of a target from the model's p_* columns.

    The type probabilities are independent per type; P(no type) is taken as the product of
    their complements and the rest split in proportion to them. Orientation probabilities are
    P(driver | network unit), so the joint is P(network) x P(driver | network).
    """
    types = _clipped(_type_matrix(frame))
    p_none = np.prod(1 - types, axis=1, keepdims=True)
    if target == "primary":
        return _strictly_positive(np.hstack([(1 - p_none) * types / types.sum(axis=1, keepdims=True), p_none]))
    if target == "orientation":
        drivers = _clipped(frame[[f"p_{o}" for o in ORIENTATIONS]].to_numpy(float))
        drivers = drivers / drivers.sum(axis=1, keepdims=True)
        return _strictly_positive(np.hstack([p_none, (1 - p_none) * drivers]))
    j = LABELS.index(target.split(":", 1)[1])
    return np.column_stack([1 - types[:, j], types[:, j]])


FLOOR = 1e-6  # no posterior is exactly 0 or 1


def _clipped(p: np.ndarray) -> np.ndarray:
    return np.clip(p, FLOOR, 1 - FLOOR)


def _strictly_positive(p: np.ndarray) -> np.ndarray:
    """Rows kept off zero and summing to one: tagged documents store scores rounded to four decimals, so a
    p_lead_firm of 0.0 is common, and BCTS recalibration takes logarithms (a single 0 made EMQ-BCTS return NaN)."""
    p = np.clip(p, FLOOR, None)
    return p / p.sum(axis=1, keepdims=True)


def labels_of(frame: pd.DataFrame, target: str) -> np.ndarray:
    """Class indices of a target from label columns (types, primary, orientation): truth or prediction."""
    types = frame["types"].map(parse_types)
    if target == "primary":
        return frame["primary"].map(target_classes("primary").index).to_numpy()
    if target == "orientation":
        joint = [NONE if not t else o for t, o in zip(types, frame["orientation"])]
        return np.array([JOINT_CLASSES.index(j) for j in joint])
    label = target.split(":", 1)[1]
    return types.map(lambda t: int(label in t)).to_numpy()


# ---------------------------------------------------------------- QuaPy on posteriors already computed


class Posteriors(ClassifierMixin, BaseEstimator):
    """A fitted 'classifier' whose input is already its posterior matrix (out-of-fold predictions).

    QuaPy's aggregative quantifiers then learn only their aggregation from the labeled
    out-of-fold posteriors, and never retrain the policy model.
    """

    def __init__(self, n_classes: int = 2):
        self.n_classes = n_classes

    def fit(self, X, y=None):
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X):
        return np.asarray(X, float)

    def predict(self, X):
        return np.asarray(X, float).argmax(axis=1)


KDEY_BANDWIDTH = 0.1  # of KDEy-ML's Gaussian kernels on the posteriors


def _quapy_method(name: str, n_classes: int, P: np.ndarray, y: np.ndarray):
    from quapy.method.aggregative import ACC, CC, EMQ, PACC, PCC

    clf = Posteriors(n_classes).fit(None)
    common = {"classifier": clf, "fit_classifier": False}
    if name == "CC":
        return CC(**common)
    if name == "PCC":
        return PCC(**common)
    if name == "ACC":
        return ACC(**common, val_split=None)
    if name == "PACC":
        return PACC(**common, val_split=None)
    if name in ("EMQ-BCTS", "PCC-BCTS"):
        # BCTS is fitted on the labeled posteriors themselves (they are out-of-fold, so honest);
        # a calibration that cannot be fitted falls back to the posteriors as they are.
        emq = EMQ(**common, val_split=(P, y), exact_train_prev=False, calib="bcts", on_calib_error="backup")
        return emq if name == "EMQ-BCTS" else _RecalibratedPCC(emq)
    raise ValueError(f"unknown estimator {name!r}; choose from {', '.join(ESTIMATORS)}")


class _RecalibratedPCC:
    """The mean of posteriors recalibrated as EMQ-BCTS recalibrates them, without EMQ's prior-shift iterations."""

    def __init__(self, emq):
        self.emq = emq

    def fit(self, P, y):
        self.emq.fit(P, y)
        return self

    def quantify(self, Q):
        recalibrate = getattr(self.emq, "calibration_function", None) or (lambda p: p)
        return np.asarray(recalibrate(np.asarray(Q, float)), float).mean(axis=0)


def fit_quantifier(name: str, P: np.ndarray, y: np.ndarray):
    """A quantifier that turns a sample's posteriors into class prevalences, learned from labeled (P, y)."""
    n_classes = P.shape[1]
    if name == "CC":
        return lambda Q: np.bincount(Q.argmax(axis=1), minlength=n_classes) / max(len(Q), 1)
    present = np.unique(y)
    if len(present) < 2:  # nothing to learn a correction from: counting is all there is
        return fit_quantifier("CC", P, y)
    if name == "KDEy-ML":
        return kdey_quantifier(P, y, n_classes)
    method = _quapy_method(name, n_classes, P, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        method.fit(P, y)

    def quantify(Q: np.ndarray) -> np.ndarray:
        if not len(Q):
            return np.full(n_classes, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate = np.asarray(method.quantify(Q), float)
        return estimate / estimate.sum() if estimate.sum() > 0 else estimate

    return quantify


# ---------------------------------------------------------------- labeled out-of-fold units


@dataclass
class LabeledPosteriors:
    """Out-of-fold predictions of the labeled units of one language, with their truth and documents."""

    lang: str
    unit: str  # the unit those labels are at ("documents" or "measures")
    predicted: pd.DataFrame  # p_* columns, types, primary, orientation
    truth: pd.DataFrame  # types, primary, orientation (and sampling: the stratum each unit was drawn from)
    groups: np.ndarray  # the document of each unit

    def __len__(self) -> int:
        return len(self.truth)

    def design_weights(self) -> np.ndarray:
        """How many units of its corpus each unit stands for (``classifier.sampling``; 0: none)."""
        if "design_weight" in self.truth:
            return self.truth["design_weight"].fillna(0).to_numpy(float)
        if "sampling" in self.truth:  # out-of-fold files written before design weights: random strata weigh alike
            return drawn_at_random(self.truth["sampling"]).astype(float)
        return np.zeros(len(self.truth))

    def stands_for_rest(self) -> np.ndarray:
        """Per unit, whether it stands for the rest of its cell (``classifier.sampling.design_roles``); out-of-fold
        files written before roles: whether it was drawn at random."""
        if "design_role" in self.truth:
            return self.truth["design_role"].astype(str).eq(STANDS_FOR_REST).to_numpy()
        return drawn_at_random(self.truth["sampling"]) if "sampling" in self.truth else np.zeros(len(self), bool)

    def standing_rows(self, sme_only: bool = False) -> np.ndarray:
        """The units that stand for a part of their corpus (``classifier.sampling.design_roles``): a cell's last
        random draw, each for an equal part of the rest of its cell, and every other labeled unit of a cell drawn
        at random, each for itself. Weighted by design, their class mix estimates a corpus's own, the prevalence a
        report's correction meets. ``sme_only``: those whose document is in the SME-targeted view."""
        drawn = self.design_weights() > 0
        if sme_only and "sme_targeted" in self.truth:
            drawn &= self.truth["sme_targeted"].astype(str).str.lower().eq("true").to_numpy()
        return np.flatnonzero(drawn)

    def draw_weights(self, target: str, sme_only: bool = False) -> np.ndarray:
        """Per unit, its weight when units stand for the corpus's units of their class: in the samples the
        benchmark and the held-out errors draw, and in what a quantifier learns from (``representative_rows``).

        Many labeled units were chosen for being hard: the annotation loop picked ``none`` measures the model read
        as network (Chinese: network mass 0.16 on those, 0.04 on the ``none`` measures drawn at random), so a
        sample of every labeled ``none`` unit, each alike, leaks more network mass than a corpus's do: the chosen
        ones are a small part of the corpus's ``none`` units. Where a class has at least ``REPRESENTATIVE_MIN``
        units that stand for a part of the corpora (``sme_only``: of the SME-targeted view), those alone stand for
        it, each by its design weight; a rarer class is stood for by all its units alike.
        """
        classes, standing, design = labels_of(self.truth, target), self.standing_rows(sme_only), self.design_weights()
        weights = np.ones(len(classes))
        for c in np.unique(classes[standing]):
            drawn = standing[classes[standing] == c]
            if len(drawn) >= REPRESENTATIVE_MIN:
                weights[classes == c] = 0.0
                weights[drawn] = design[drawn]
        return weights

    def corpus_mix(self, target: str, sme_only: bool = False) -> np.ndarray | None:
        """The class mix of a target in the corpora (``sme_only``: in their SME-targeted view), from the units that
        stand for them weighted by design; None without any."""
        rows = self.standing_rows(sme_only)
        if not len(rows):
            return None
        classes = labels_of(self.truth.iloc[rows], target)
        mix = np.bincount(classes, weights=self.design_weights()[rows], minlength=len(target_classes(target)))
        return mix / mix.sum()

    def subset(self, index: np.ndarray) -> "LabeledPosteriors":
        return LabeledPosteriors(self.lang, self.unit, self.predicted.iloc[index].reset_index(drop=True),
                                 self.truth.iloc[index].reset_index(drop=True), self.groups[index])


def labeled_posteriors(model_dir: Path) -> dict[str, LabeledPosteriors]:
    """Per language, the out-of-fold predictions saved beside a model (empty when there are none).

    The unit of each language's labels comes from the model card (``labeled_units``), not from a
    corpus name: a user's corpus is corrected by the labels of its own language.
    """
    model_dir = Path(model_dir)
    if not all((model_dir / name).exists() for name in OUT_OF_FOLD_FILES):
        return {}
    predicted, truth = read_out_of_fold(model_dir)
    if "group" not in truth or "p_production" not in predicted:
        return {}
    joined = truth.merge(predicted, on="unit_id", suffixes=("", "_pred"))
    units = labeled_units(model_dir)
    result = {}
    for lang, part in joined.groupby("lang"):
        part = part.reset_index(drop=True)
        pred = part[[c for c in part.columns if c.startswith("p_")]].assign(
            types=part["types_pred"], primary=part["primary_pred"], orientation=part["orientation_pred"])
        truth_columns = ["unit_id", "types", "primary", "orientation"] + [
            column for column in ("sampling", "design_weight", "design_role", "sme_targeted", "text_sha1")
            if column in part]
        result[lang] = LabeledPosteriors(lang, units.get(lang, "documents"), pred, part[truth_columns],
                                         part["group"].to_numpy())
    return result


OUT_OF_FOLD_FILES = ("oof_predictions.csv", "oof_truth.csv")  # written beside a model by train.py


def read_out_of_fold(model_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A model's out-of-fold predictions (probabilities as numbers) and their truth (text), ids as strings."""
    predictions, truth = (Path(model_dir) / name for name in OUT_OF_FOLD_FILES)
    return (pd.read_csv(predictions, dtype={"unit_id": str}, keep_default_na=False),
            pd.read_csv(truth, dtype=str, keep_default_na=False))


def labeled_units(model_dir: Path) -> dict[str, str]:
    card = Path(model_dir) / "model_card.json"
    if card.exists():
        return json.loads(card.read_text(encoding="utf-8")).get("labeled_units", {}) or {}
    return {}


def read_selection(model_dir: Path) -> dict:
    """The benchmark's choice of headline estimator per language and target (``{}`` when never run)."""
    path = Path(model_dir) / SELECTION_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


# ---------------------------------------------------------------- shares of a corpus


def shares(target: str, prevalence: np.ndarray) -> dict[str, dict[str, float]]:
    """Report families from a target's prevalence vector."""
    classes = target_classes(target)
    p = dict(zip(classes, prevalence))
    # network mass as the sum of its parts, not 1 - p(none): a part over a sum that holds it is never above 1
    # (1 - 0.9 is 0.0999...98, and a share of 1.0000000000000002 falls outside any interval clipped to [0, 1])
    if target == "primary":
        network = sum(p[l] for l in LABELS)
        return {"primary_share_of_network": {l: p[l] / network if network > 0 else np.nan for l in LABELS},
                "network_share": {"network": network}}
    if target == "orientation":
        network = sum(p[o] for o in ORIENTATIONS)
        share = {o: p[o] / network if network > 0 else np.nan for o in ORIENTATIONS}
        return {"orientation_share_of_network": share,
                "orientation_gap": {"lead_firm - network": share["lead_firm"] - share["network"]}}
    return {"type_rate": {target.split(":", 1)[1]: p["present"]}}


def flat_shares(figures: dict, prefix: str = "") -> dict[str, float]:
    """``{"family.category": value}`` from the nested families of :func:`shares`."""
    flat = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update(flat_shares(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float, np.floating)):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def estimate_shares(name: str, target: str, corpus: pd.DataFrame, labeled: LabeledPosteriors,
                    fitted: "FittedQuantifiers | None" = None) -> dict:
    fitted = fitted or FittedQuantifiers(labeled)
    return shares(target, fitted.point(name, target)(posteriors(corpus, target)))


def group_members(groups: np.ndarray) -> list[np.ndarray]:
    """The row indices of each group (in order of first appearance), computed once per bootstrap."""
    codes, _ = pd.factorize(groups)
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if len(order) else []


def resample_groups(members: list[np.ndarray], rng) -> np.ndarray:
    """Rows of a bootstrap sample of whole groups (documents), drawn with replacement."""
    chosen = rng.integers(0, len(members), len(members))
    return np.concatenate([members[k] for k in chosen]) if members else np.array([], int)


# Separate random streams: the labeled resamples depend on the seed alone, so every view and corpus of a
# language shares them (and their fitted quantifiers), while each corpus draws its own documents.
LABELED_STREAM, CORPUS_STREAM, HELD_OUT_STREAM = 1, 0, 2
HELD_OUT_SPLITS = 40  # random document splits behind the held-out errors that widen corrected intervals
HELD_OUT_SHARE = 0.2


class FittedQuantifiers:
    """The quantifiers one language's labels give, each fitted once: on all labeled units (the point estimate)
    and on every bootstrap resample of the labeled documents (the intervals).

    Fitting (EMQ-BCTS recalibrates on every resample) is what a report spends its time on; the views
    (SME-targeted, all policies) and the corpora of one language reuse the same fitted quantifiers.
    """

    def __init__(self, labeled: LabeledPosteriors):
        self.labeled = labeled
        self._members = group_members(labeled.groups)
        self._fitted: dict[tuple, list] = {}
        self._targets: dict[str, tuple] = {}  # target -> labeled (posteriors, classes)
        self._draw_weights: dict[tuple, np.ndarray] = {}  # (target, sme_only) -> LabeledPosteriors.draw_weights
        self._resamples: dict[int, tuple] = {}  # seed -> (its random stream, the resamples drawn so far)

    def point(self, name: str, target: str):
        return self._fit(name, target, None)[0]

    def replicates(self, name: str, target: str, count: int, seed: int) -> list:
        fitted = self._fit(name, target, seed)
        while len(fitted) < count:
            fitted.append(self._fit_on(name, target, self.labeled_resample(seed, len(fitted))))
        return fitted[:count]

    def held_out_errors(self, name: str, target: str, seed: int, splits: int = HELD_OUT_SPLITS,
                        size: int | None = None, sme_only: bool = False) -> list[dict]:
        """The estimator's errors on labeled documents it was not fitted on (flat shares, estimate - truth).

        Each of ``splits`` random splits holds out a fifth of the labeled documents and fits on the rest; the
        held-out units are drawn (with replacement) at the class mix of the view analysed
        (``LabeledPosteriors.corpus_mix``, ``sme_only``: the SME-targeted view's; the fifth's own mix without
        labels standing for a view), each class from the units that stand for it
        (``LabeledPosteriors.draw_weights``), to ``size`` units, the size of the sample the correction is for (the
        analysed corpus's; None: the fifth's size). So the errors carry that size's sampling noise as well as what the bootstrap cannot see: the
        classifier reads a new set of documents differently from the labeled ones, so a correction transfers
        imperfectly.
        """
        key = (name, target, "held-out", seed, splits, size, sme_only)
        if key not in self._fitted:
            rng = np.random.default_rng([seed, HELD_OUT_STREAM, size or 0])
            view = self.labeled.corpus_mix(target, sme_only), self.draw_weights(target, sme_only)
            self._fitted[key] = [self._held_out_error(target, quantify, test_rows, view, size, rng)
                                 for quantify, test_rows in self._held_out_fits(name, target, seed, splits)]
        return self._fitted[key]

    def _held_out_fits(self, name: str, target: str, seed: int, splits: int) -> list:
        """Per split, the quantifier fitted on four fifths of the labeled documents and the held-out rows."""
        key = (name, target, "held-out fits", seed, splits)
        if key not in self._fitted:
            rng, fits = np.random.default_rng([seed, HELD_OUT_STREAM]), []
            for _ in range(splits):
                held = rng.random(len(self._members)) < HELD_OUT_SHARE
                fit_rows, test_rows = (np.concatenate([m for m, h in zip(self._members, held) if h == side]
                                                      or [np.array([], int)]) for side in (False, True))
                fits.append((self._fit_on(name, target, fit_rows), test_rows))
            self._fitted[key] = fits
        return self._fitted[key]

    def _held_out_error(self, target: str, quantify, test_rows: np.ndarray, view: tuple, size: int | None,
                        rng) -> dict:
        """``view``: the class mix (None: the held-out units' own) and the draw weights of the view analysed."""
        (mix, weights), (P, y) = view, self.labeled_data(target)
        if len(test_rows):  # the errors a correction makes at the corpora's mix and size, not the labeled set's
            own = np.bincount(y[test_rows], minlength=P.shape[1])
            at = at_present(own if mix is None else mix, own > 0)
            test_rows = test_rows[sample_at_prevalence(y[test_rows], at, size or len(test_rows), rng,
                                                       weights[test_rows])]
        estimate = flat_shares(shares(target, quantify(P[test_rows])))
        truth = flat_shares(shares(target, np.bincount(y[test_rows], minlength=P.shape[1]) / max(len(test_rows), 1)))
        return {k: estimate[k] - truth[k] for k in estimate}

    def _fit(self, name: str, target: str, seed: int | None) -> list:
        key = (name, target, seed)
        if key not in self._fitted:
            self._fitted[key] = [self._fit_on(name, target, np.arange(len(self.labeled)))] if seed is None else []
        return self._fitted[key]

    def labeled_data(self, target: str) -> tuple[np.ndarray, np.ndarray]:
        """The labeled units' posteriors and classes for a target, computed once."""
        if target not in self._targets:
            self._targets[target] = posteriors(self.labeled.predicted, target), labels_of(self.labeled.truth, target)
        return self._targets[target]

    def _fit_on(self, name: str, target: str, rows: np.ndarray):
        P, y = self.labeled_data(target)
        rows = self.fit_rows(target, rows)
        return fit_quantifier(name, P[rows], y[rows])

    def fit_rows(self, target: str, rows: np.ndarray) -> np.ndarray:
        """The rows a quantifier learns from: ``rows`` with each class stood for by its representative units in
        the SME-targeted view, the headline, where ``benchmarks/bench_quantify.py`` selects the estimator (one fit
        serves every view of a language)."""
        return representative_rows(rows, self.labeled_data(target)[1], self.draw_weights(target, sme_only=True))

    def draw_weights(self, target: str, sme_only: bool) -> np.ndarray:
        """``LabeledPosteriors.draw_weights``, computed once per target and view."""
        if (target, sme_only) not in self._draw_weights:
            self._draw_weights[target, sme_only] = self.labeled.draw_weights(target, sme_only)
        return self._draw_weights[target, sme_only]

    def labeled_resample(self, seed: int, k: int) -> np.ndarray:
        """The labeled rows of the k-th resample of the labeled documents for a seed (the same for every target,
        view and corpus; ``replicates`` are fitted on them)."""
        rng, drawn = self._resamples.setdefault(seed, (np.random.default_rng([seed, LABELED_STREAM]), []))
        while len(drawn) <= k:
            drawn.append(resample_groups(self._members, rng))
        return drawn[k]


def bootstrap_shares(name: str, target: str, corpus: pd.DataFrame, corpus_groups: np.ndarray,
                     labeled: LabeledPosteriors, replicates: int, seed: int,
                     fitted: FittedQuantifiers | None = None) -> list[dict]:
    """Replicate shares (flat), each from resampled corpus documents and resampled labeled documents."""
    fitted = fitted or FittedQuantifiers(labeled)
    rng = np.random.default_rng([seed, CORPUS_STREAM])
    corpus_members = group_members(corpus_groups)
    corpus_p = posteriors(corpus, target)  # once: selecting rows of a wide frame per replicate was the slow part
    if name == "KDEy-ML":
        kdey = KernelKDEy(corpus_p, *fitted.labeled_data(target))
        return [flat_shares(shares(target, kdey.quantify(fitted.fit_rows(target, fitted.labeled_resample(seed, k)),
                                                         resample_groups(corpus_members, rng))))
                for k in range(replicates)]
    return [flat_shares(shares(target, quantify(corpus_p[resample_groups(corpus_members, rng)])))
            for quantify in fitted.replicates(name, target, replicates, seed)]


class KernelKDEy:
    """KDEy-ML's bootstrap replicates on one corpus, with the kernels between the corpus's posteriors and the
    labeled posteriors computed once.

    QuaPy's KDEyML fits a Gaussian KDE per class and evaluates it on every posterior of the sample: for one
    replicate on the OECD records that is over a second, and a report needs hundreds. A KDE fitted on a
    resample of the labeled units is the kernel sum over the original units, each weighted by how often it
    was drawn, so every replicate's class densities are one matrix product here; the likelihood is then
    maximised by QuaPy's own optimiser, as ``KDEyML.aggregate`` does. The results equal QuaPy's.
    """

    EPSILON = 1e-12  # as KDEyML.aggregate

    def __init__(self, corpus_p: np.ndarray, P: np.ndarray, y: np.ndarray, bandwidth: float = KDEY_BANDWIDTH):
        self.corpus_p, self.n_classes = np.asarray(corpus_p, float), P.shape[1]
        self.kernels = gaussian_kernels(self.corpus_p, np.asarray(P, float), bandwidth)  # (corpus, labeled)
        self.onehot = np.eye(self.n_classes)[y]  # (labeled, classes)

    def quantify(self, labeled_rows: np.ndarray, corpus_rows: np.ndarray) -> np.ndarray:
        drawn = np.bincount(labeled_rows, minlength=len(self.onehot))[:, None] * self.onehot
        per_class = drawn.sum(axis=0)
        if not len(corpus_rows):
            return np.full(self.n_classes, np.nan)
        if (per_class > 0).sum() < 2:  # as fit_quantifier: nothing to learn a correction from, so count
            return fit_quantifier("CC", self.onehot, None)(self.corpus_p[corpus_rows])
        densities = (self.kernels @ (drawn / np.maximum(per_class, 1)))[corpus_rows]  # an absent class: density 0
        return kdey_maximum_likelihood(densities)


def kdey_quantifier(P: np.ndarray, y: np.ndarray, n_classes: int) -> Callable[[np.ndarray], np.ndarray]:
    """KDEy-ML learned from labeled (P, y), as QuaPy's KDEyML computes it: a Gaussian KDE of the posteriors per
    class (bandwidth ``KDEY_BANDWIDTH``) and the class mix maximising the sample's likelihood under their
    mixture (QuaPy's optimiser). A sample's densities are computed once per distinct row, each row's
    log-likelihood counted as often as the row occurs: the held-out errors draw samples of a corpus's size (up
    to 15,307 measures) from a fifth of the labeled units, and QuaPy's KDE scored every repeat (91 s of a
    report)."""
    P, onehot = np.asarray(P, float), np.eye(n_classes)[y]
    per_class_weights = onehot / np.maximum(onehot.sum(axis=0), 1)  # an absent class: density 0

    def quantify(Q: np.ndarray) -> np.ndarray:
        if not len(Q):
            return np.full(n_classes, np.nan)
        distinct, counts = np.unique(np.asarray(Q, float), axis=0, return_counts=True)
        return kdey_maximum_likelihood(class_densities(distinct, P, per_class_weights), counts)

    return quantify


def kdey_maximum_likelihood(densities: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """The class mix maximising sum(count * log(densities @ mix)), by QuaPy's optimiser (as ``KDEyML.aggregate``)."""
    from quapy.functional import optim_minimize

    counts = np.ones(len(densities)) if counts is None else np.asarray(counts, float)

    def neg_loglikelihood(prevalence):
        return -np.sum(counts * np.log(densities @ prevalence + KernelKDEy.EPSILON))

    estimate = np.asarray(optim_minimize(neg_loglikelihood, densities.shape[1]), float)
    return estimate / estimate.sum() if estimate.sum() > 0 else estimate


def class_densities(X: np.ndarray, P: np.ndarray, weights: np.ndarray, bandwidth: float = KDEY_BANDWIDTH,
                    chunk: int = 4096) -> np.ndarray:
    """The kernel density of each class at every row of X: Gaussian kernels against P weighted by ``weights``
    (labeled units x classes), a chunk of rows at a time so that no (X, P) matrix is held whole."""
    return np.vstack([gaussian_kernels(X[start:start + chunk], P, bandwidth) @ weights
                      for start in range(0, len(X), chunk)]) if len(X) else np.zeros((0, weights.shape[1]))


def gaussian_kernels(X: np.ndarray, P: np.ndarray, bandwidth: float, chunk: int = 4096) -> np.ndarray:
    """The normalised Gaussian kernel of every row of X against every row of P (scikit-learn's KernelDensity's)."""
    norm = (2 * np.pi * bandwidth ** 2) ** (-P.shape[1] / 2)
    p_sq = (P ** 2).sum(axis=1)
    out = np.empty((len(X), len(P)))
    for start in range(0, len(X), chunk):
        x = X[start:start + chunk]
        distance = np.maximum((x ** 2).sum(axis=1)[:, None] + p_sq[None, :] - 2 * x @ P.T, 0)
        out[start:start + chunk] = norm * np.exp(-distance / (2 * bandwidth ** 2))
    return out


def corrected_interval(point: float, draws: np.ndarray, errors: np.ndarray, level: float = 0.95,
                       bounds: tuple[float, float] = (0.0, 1.0)) -> tuple | None:
    """The interval of a corrected share: the bootstrap's percentile interval, widened where needed to reach
    ``point`` +- the ``level`` quantile of the estimator's held-out errors (:meth:`FittedQuantifiers.held_out_errors`).

    Resampling alone misses that the classifier reads new documents differently from the labeled ones: on the
    benchmark's held-out samples its intervals held the Chinese shares' truth in 15-60% of cases. The held-out
    errors carry that; where the bootstrap is already wider, it stands. The interval stays within ``bounds``
    (a share's; a difference of shares has (-1, 1)).
    """
    draws, errors = np.asarray(draws, float), np.asarray(errors, float)
    draws, errors = draws[np.isfinite(draws)], np.abs(errors[np.isfinite(errors)])
    if not np.isfinite(point) or not len(draws):
        return None
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    reach = float(np.quantile(errors, level)) if len(errors) else 0.0
    return float(max(bounds[0], min(low, point - reach))), float(min(bounds[1], max(high, point + reach)))


def corpus_posteriors(units: pd.DataFrame) -> pd.DataFrame:
    """The p_* columns of analysed units: measure rows carry them, document rows hold them in ``scores``."""
    if "p_production" in units:
        return units
    scores = units["scores"].map(lambda s: json.loads(s) if isinstance(s, str) else (s or {}))
    columns = {f"p_{c}": scores.map(lambda s, c=c: float(s.get(c, np.nan))) for c in (*LABELS, *ORIENTATIONS)}
    return units.assign(**columns)


# ---------------------------------------------------------------- the validation protocol (benchmark)


def sample_at_prevalence(y: np.ndarray, prevalence: np.ndarray, size: int, rng,
                         weights: np.ndarray | None = None) -> np.ndarray:
    """Indices of a sample of ``size`` units drawn with replacement at the given class prevalence; within a
    class, in proportion to ``weights`` (``LabeledPosteriors.draw_weights``) where any of its units has one."""
    counts = rng.multinomial(size, prevalence)
    index = []
    for c, k in enumerate(counts):
        if k:
            members = np.flatnonzero(y == c)
            w = None if weights is None else np.asarray(weights, float)[members]
            index.append(rng.choice(members, k, p=w / w.sum() if w is not None and w.sum() > 0 else None))
    return np.concatenate(index) if index else np.array([], int)


def representative_rows(rows: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``rows`` with the units of each class replaced by its weighted ones (``LabeledPosteriors.draw_weights``),
    each repeated in proportion to its weight (largest remainders) up to the class's count in ``rows``: a
    quantifier then learns how the corpus's units of a class read, at the labeled set's class counts (a
    recalibration depends on them). Deterministic, so a fit is the same on every run."""
    rows = np.asarray(rows, int)
    kept = []
    for c in np.unique(y[rows]):
        members = rows[y[rows] == c]
        w = weights[members]
        if w.sum() <= 0 or np.all(w == w[0]):
            kept.append(members)
            continue
        quota = len(members) * w / w.sum()
        copies = np.floor(quota).astype(int)
        short = len(members) - copies.sum()
        copies[np.argsort(copies - quota, kind="stable")[:short]] += 1  # the largest remainders first
        kept.append(np.repeat(members, copies))
    return np.concatenate(kept) if kept else rows


def at_present(p: np.ndarray, present: np.ndarray) -> np.ndarray:
    """A prevalence restricted to the classes a set of units has (a sample cannot draw an absent class)."""
    p = np.asarray(p, float) * present
    return p / p.sum() if p.sum() > 0 else present / present.sum()


def uniform_prevalences(n_classes: int, count: int, rng) -> np.ndarray:
    """Prevalence vectors drawn uniformly from the simplex (QuaPy's artificial-prevalence protocol draws
    a grid of them; at five classes a random draw covers it at far less cost)."""
    return rng.dirichlet(np.ones(n_classes), size=count)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Half the L1 distance of two share vectors; an estimate with no number is the worst, 1 (it once scored 0)."""
    distance = 0.5 * np.sum(np.abs(np.asarray(p, float) - np.asarray(q, float)))
    return float(distance) if np.isfinite(distance) else 1.0


def renormalised(prevalence: np.ndarray, target: str) -> np.ndarray:
    """The shares a report states: among network units for primary and orientation, the rate for a type."""
    classes = target_classes(target)
    if target in ("primary", "orientation"):
        keep = [i for i, c in enumerate(classes) if c != NONE]
        mass = prevalence[keep].sum()
        return prevalence[keep] / mass if mass > 0 else np.full(len(keep), np.nan)
    return prevalence[1:]


def say_nothing(message: str) -> None:
    pass


ProgressFn = Callable[[str], None]
