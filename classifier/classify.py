"""Stage 4, classify: scikit-learn estimators for the two codebook axes, and the model that joins them.

* :class:`NetworkTypeClassifier`: one calibrated logistic regression per network type
  (multi-label indicator ``y``), or one-vs-rest over the classes of a 1-D ``y``.
* :class:`OrientationClassifier`: a calibrated multinomial logistic regression.
* :class:`PolicyModel`: featurizer (+ optional sentence embeddings) and both heads, with
  the codebook's structure in its decisions:

  - a network type is assigned when its probability reaches its threshold (tuned per
    language on out-of-fold predictions *inside* the training data); the primary type
    is the assigned type of highest weighted probability (weights per language, tuned the
    same way, so a well-calibrated frequent type does not crowd out a rarer one the text is
    mainly about), ``none`` when no type is assigned;
  - orientation is a property of network units (codebook axis 2): its head is trained on
    network units only and estimates P(orientation | network unit); it decides only for
    units with a network type, by a weighted argmax whose weights are also tuned inside
    the training data; ``none`` implies ``neutral``;
  - each head reads the cue lexicon's block at a weight of its own, chosen the same way (the
    cue counts would otherwise crowd out the n-grams of the types head).

Calibration and tuning folds are grouped by document, so no document is on both sides.
Persistence is in :mod:`classifier.persist` (skops: loading never executes code).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .codebook import LABELS, NEUTRAL, NONE, ORIENTATIONS, PRIMARY_CLASSES
from .featurize import PolicyFeaturizer, text_lang

MIN_TUNING_POSITIVES = 20  # fewer positives in a language: that type's threshold is tuned over all languages
THRESHOLD_GRID = np.round(np.arange(0.1, 0.71, 0.05), 2)
ORIENTATION_WEIGHT_GRID = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
PRIMARY_WEIGHT_GRID = (0.5, 0.7, 1.0, 1.4, 2.0, 3.0)  # per type, relative to knowledge (weight 1)
HEADS = ("types", "orientation")  # each head reads the lexicon block at a weight of its own


# ---------------------------------------------------------------- calibrated logistic regression


def fit_only_mask(fit_only, n: int) -> np.ndarray:
    """Which rows only teach the model (written units): never calibrated, tuned or scored on."""
    return np.zeros(n, bool) if fit_only is None else np.asarray(fit_only, bool)


def with_fit_only(splits, fit_only: np.ndarray):
    """Splits of the other rows, mapped back to all rows, with every fit-only row in every training part."""
    scored = np.flatnonzero(~fit_only)
    always = np.flatnonzero(fit_only)
    return [(np.sort(np.concatenate([scored[train], always])), scored[test]) for train, test in splits]


def grouped_splits(y, groups, n_splits: int, seed: int, fit_only=None):
    """Stratified folds grouped by document, each training fold holding every class; None if impossible.

    Fit-only rows are in every training part and never in a calibration part: a calibration learned
    on text written for training would not hold for real text.
    """
    y = np.asarray(y)
    fit_only = fit_only_mask(fit_only, len(y))
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    scored_y, scored_groups = y[~fit_only], groups[~fit_only]
    classes, counts = np.unique(scored_y, return_counts=True)
    folds = int(min(n_splits, counts.min(initial=len(y)), len(np.unique(scored_groups))))
    if folds < 2 or len(classes) < 2 or len(classes) < len(np.unique(y)):
        return None
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = with_fit_only(list(splitter.split(np.zeros(len(scored_y)), scored_y, scored_groups)), fit_only)
    if any(len(np.unique(y[train])) < len(classes) for train, _ in splits):
        return None
    return splits


def fit_calibrated_logit(X, y, groups=None, *, C=4.0, class_weight="balanced", calibration="sigmoid", cv=3,
                         random_state=0, fit_only=None):
    """A logistic regression calibrated on grouped folds; uncalibrated when ``calibration`` is None (a ranking is
    all that is needed) or a class is too rare to split."""
    binary = len(np.unique(y)) == 2
    # liblinear is the faster solver for these sparse binary problems; multi-class needs lbfgs.
    base = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, random_state=random_state,
                              solver="liblinear" if binary else "lbfgs")
    splits = None if calibration is None else grouped_splits(y, groups, cv, random_state, fit_only)
    if splits is None:
        return base.fit(X, y)
    return CalibratedClassifierCV(base, method=calibration, cv=splits).fit(X, y)


class _Constant:
    """The probability of a label that training never (or always) saw: its training rate."""

    def __init__(self, rate: float):
        self.rate = rate

    def positive_proba(self, X) -> np.ndarray:
        return np.full(X.shape[0], self.rate)


def _positive_proba(estimator, X) -> np.ndarray:
    return estimator.positive_proba(X) if isinstance(estimator, _Constant) else estimator.predict_proba(X)[:, 1]


class NetworkTypeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label: one calibrated logistic regression per column of an indicator ``y``.

    With a 1-D ``y`` it is one-vs-rest over the classes (probabilities normalised to sum
    to one), so it also behaves as an ordinary scikit-learn classifier. ``fit`` accepts
    ``groups`` (documents) so calibration folds never split a document, and ``fit_only`` (rows that
    are fitted on but never calibrated on). ``calibration``: scikit-learn's method (``"sigmoid"``,
    ``"isotonic"``) on grouped folds, or None for plain regressions (enough to rank units).
    """

    def __init__(self, C=4.0, class_weight="balanced", calibration="sigmoid", cv=3, random_state=0):
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, groups=None, fit_only=None):
        X, y = validate_data(self, X, y, accept_sparse="csr", multi_output=True, reset=True)
        self.multilabel_ = type_of_target(y) == "multilabel-indicator"
        if self.multilabel_:
            Y = y.astype(int)
            self.classes_ = np.arange(Y.shape[1])
        else:
            check_classification_targets(y)
            self.binarizer_ = LabelBinarizer().fit(y)
            self.classes_ = self.binarizer_.classes_
            Y = self.binarizer_.transform(y)
            if Y.shape[1] == 1 and len(self.classes_) == 2:  # binary: one column is the positive class
                Y = np.column_stack([1 - Y[:, 0], Y[:, 0]])
            elif len(self.classes_) == 1:
                Y = np.ones((len(y), 1), int)
        self.estimators_ = [self._fit_column(X, Y[:, j], groups, fit_only) for j in range(Y.shape[1])]
        return self

    def _fit_column(self, X, y, groups, fit_only):
        if y.min() == y.max():
            return _Constant(float(y.mean()))
        return fit_calibrated_logit(X, y, groups, C=self.C, class_weight=self.class_weight,
                                    calibration=self.calibration, cv=self.cv, random_state=self.random_state,
                                    fit_only=fit_only)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        proba = np.column_stack([_positive_proba(est, X) for est in self.estimators_])
        if not self.multilabel_:
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1 / proba.shape[1]), where=total > 0)
        return proba

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba >= 0.5).astype(int)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags


class OrientationClassifier(ClassifierMixin, BaseEstimator):
    """Single-label: a calibrated multinomial logistic regression over the classes seen in ``y``
    (``calibration`` as in :class:`NetworkTypeClassifier`)."""

    def __init__(self, C=4.0, class_weight="balanced", calibration="sigmoid", cv=3, random_state=0):
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, groups=None, fit_only=None):
        X, y = validate_data(self, X, y, accept_sparse="csr", reset=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:
            self.estimator_ = None
        else:
            self.estimator_ = fit_calibrated_logit(X, y, groups, C=self.C, class_weight=self.class_weight,
                                                   calibration=self.calibration, cv=self.cv,
                                                   random_state=self.random_state, fit_only=fit_only)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if self.estimator_ is None:
            return np.ones((X.shape[0], 1))
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # checks fitting first
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def label_matrix(types) -> np.ndarray:
    """Lists of network types -> (n, 4) 0/1 matrix in ``LABELS`` order."""
    return np.array([[int(label in t) for label in LABELS] for t in types], dtype=int).reshape(-1, len(LABELS))


# ---------------------------------------------------------------- decision rules tuned inside the training data


def tune_type_thresholds(Y: np.ndarray, proba: np.ndarray, domains) -> dict:
    """Per type, the threshold that maximises F1 on out-of-fold probabilities, per language where it has
    at least ``MIN_TUNING_POSITIVES`` positives (else the one over all languages, key ``*``)."""
    domains = np.asarray(domains)

    def best(mask, j):
        scores = [f1_score(Y[mask, j], proba[mask, j] >= t, zero_division=0) for t in THRESHOLD_GRID]
        return float(THRESHOLD_GRID[int(np.argmax(scores))])

    everything = np.ones(len(Y), bool)
    thresholds = {"*": {label: best(everything, j) for j, label in enumerate(LABELS)}}
    for domain in sorted(set(domains.tolist()) - {"*"}):
        mask = domains == domain
        thresholds[domain] = {label: best(mask, j) if Y[mask, j].sum() >= MIN_TUNING_POSITIVES else thresholds["*"][label]
                              for j, label in enumerate(LABELS)}
    return thresholds


def tune_primary_weights(primary: np.ndarray, proba: np.ndarray, thresholds: np.ndarray, domains) -> dict:
    """Per language, weights on the type probabilities for choosing the primary among the assigned
    types that maximise primary macro-F1 (``PRIMARY_CLASSES``) on out-of-fold units; a language with
    fewer than ``MIN_TUNING_POSITIVES`` units carrying two or more types keeps the overall weights (``*``).

    The weights move only the choice among assigned types, never the probabilities or which types
    are assigned; ties keep the weights nearest to equal (the grid is searched from equal weights).
    """
    domains = np.asarray(domains)
    assigned = proba >= thresholds
    grid = np.array(list(product(*(PRIMARY_WEIGHT_GRID if label != "knowledge" else (1.0,) for label in LABELS))))
    grid = grid[np.argsort(np.abs(np.log(grid)).sum(axis=1), kind="stable")]
    truth = np.array([PRIMARY_CLASSES.index(p) for p in primary], dtype=int)

    def best(mask):
        scores = [_macro_f1(truth[mask], _primary_codes(proba[mask], assigned[mask], w)) for w in grid]
        return dict(zip(LABELS, grid[int(np.argmax(scores))].tolist()))  # the first of the best: nearest to equal

    weights = {"*": best(np.ones(len(primary), bool))}
    for domain in sorted(set(domains.tolist()) - {"*"}):
        mask = domains == domain
        weights[domain] = best(mask) if (assigned[mask].sum(axis=1) > 1).sum() >= MIN_TUNING_POSITIVES else weights["*"]
    return weights


def _primary_codes(proba: np.ndarray, assigned: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``primary_types`` as indices into ``PRIMARY_CLASSES`` (the tuning grid scores hundreds of weightings)."""
    return np.where(assigned.any(axis=1), np.argmax(np.where(assigned, proba * w, -1.0), axis=1), PRIMARY_CLASSES.index(NONE))


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over ``PRIMARY_CLASSES`` from integer codes, 0 for a class neither holds (as scikit-learn's
    ``f1_score(..., labels=PRIMARY_CLASSES, zero_division=0)``, about 50x faster)."""
    k = len(PRIMARY_CLASSES)
    hits = np.bincount(truth[truth == predicted], minlength=k)
    total = np.bincount(truth, minlength=k) + np.bincount(predicted, minlength=k)
    return float(np.mean(np.divide(2 * hits, total, out=np.zeros(k), where=total > 0)))


def equal_primary_weights() -> dict:
    """No type favoured: the primary is the most probable assigned type."""
    return {"*": dict.fromkeys(LABELS, 1.0)}


def primary_types(proba: np.ndarray, assigned: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The primary type of each unit: its assigned type of highest weighted probability, ``none`` if none is.
    ``weights``: (4,) or one row per unit."""
    return np.array(PRIMARY_CLASSES, dtype=object)[_primary_codes(proba, assigned, weights)]


def tune_orientation_weights(truth: np.ndarray, proba: np.ndarray) -> dict:
    """Class weights for the orientation argmax that maximise macro-F1 on out-of-fold network units.

    The weights move the decision, never the probabilities (those stay calibrated).
    """
    best, best_score = {o: 1.0 for o in ORIENTATIONS}, -1.0
    for w_lead, w_neutral in product(ORIENTATION_WEIGHT_GRID, ORIENTATION_WEIGHT_GRID):
        weights = {"lead_firm": w_lead, "network": 1.0, "neutral": w_neutral}
        predicted = weighted_argmax(proba, weights)
        score = f1_score(truth, predicted, labels=list(ORIENTATIONS), average="macro", zero_division=0)
        if score > best_score + 1e-9:
            best, best_score = weights, score
    return best


def weighted_argmax(proba: np.ndarray, weights: dict) -> np.ndarray:
    w = np.array([weights[o] for o in ORIENTATIONS])
    return np.array(ORIENTATIONS)[np.argmax(proba * w, axis=1)] if len(proba) else np.array([], dtype=object)


def scale_columns(features, columns: slice | None, factor: float):
    """``features`` with ``columns`` multiplied by ``factor`` (a copy; the same matrix when nothing changes)."""
    if columns is None or factor == 1.0:
        return features
    scale = np.ones(features.shape[1])
    scale[columns] = factor
    return sp.csr_matrix(features @ sp.diags(scale))


def macro_average_precision(truth: np.ndarray, scores: np.ndarray, domains) -> float:
    """Mean over languages of the mean average precision of the columns that hold both classes there: how
    well a head ranks units whatever its thresholds, each language counting alike."""
    domains = np.asarray(domains)
    per_language = []
    for domain in sorted(set(domains.tolist())):
        mask = domains == domain
        columns = [average_precision_score(truth[mask, j], scores[mask, j]) for j in range(truth.shape[1])
                   if 0 < truth[mask, j].sum() < mask.sum()]
        if columns:
            per_language.append(np.mean(columns))
    return float(np.mean(per_language)) if per_language else 0.0


def orientation_matrix(orientation) -> np.ndarray:
    """Orientations -> (n, 3) 0/1 matrix in ``ORIENTATIONS`` order."""
    return (np.asarray(orientation, dtype=object)[:, None] == np.array(ORIENTATIONS, dtype=object)).astype(int)


# ---------------------------------------------------------------- the joint model


@dataclass
class Prediction:
    """What the model says about a batch of texts, with the analysis behind it (cues, vocabulary coverage)."""

    labels: pd.DataFrame  # types, primary, orientation and p_* columns, one row per text
    analysis: object  # featurize.Analysis: features, coverage, cues


@dataclass(frozen=True)
class Targets:
    """What the heads learn from, row-aligned: type matrix, orientation, documents, languages, fit-only rows,
    and the primary type (None when ``y`` has no ``primary`` column)."""

    Y: np.ndarray
    orientation: np.ndarray
    groups: np.ndarray
    domains: np.ndarray
    fit_only: np.ndarray
    primary: np.ndarray | None = None

    @classmethod
    def of(cls, y: pd.DataFrame, texts: list[str]) -> "Targets":
        n = len(texts)
        return cls(Y=label_matrix(y["types"]), orientation=np.asarray(y["orientation"], dtype=object),
                   groups=np.asarray(y["group"]) if "group" in y else np.arange(n),
                   domains=np.array(domains_of(texts)),
                   fit_only=fit_only_mask(y["fit_only"] if "fit_only" in y else None, n),
                   primary=np.asarray(y["primary"], dtype=object) if "primary" in y else None)

    def subset(self, rows) -> "Targets":
        return Targets(self.Y[rows], self.orientation[rows], self.groups[rows], self.domains[rows], self.fit_only[rows],
                       None if self.primary is None else self.primary[rows])


class PolicyModel(BaseEstimator):
    """Texts -> network types, primary type and orientation, with calibrated probabilities.

    ``fit(X, y)``: X is a sequence of texts (or a DataFrame with ``text``); y a DataFrame with
    ``types`` (lists), ``orientation``, optionally ``primary`` (without it the primary is the most
    probable assigned type), ``group`` (the document, for grouped folds) and
    ``fit_only`` (True for units written for training: fitted on, but never used to calibrate the
    heads or to tune thresholds and weights, which must answer to real text).

    ``embedder``: an optional sentence-embedding transformer (:class:`classifier.embed.SentenceEmbedder`)
    whose block, scaled by ``embedding_weight``, is stacked beside the n-gram and lexicon blocks.
    ``embed_band``: None embeds every text; a number trains an n-gram-only gate beside the full model
    and embeds only the texts the gate is unsure about (see :meth:`analyse`): the encoder is slow.
    ``orientation_scope``: ``"network"`` trains the orientation head on network units only
    (P(orientation | network unit)); ``"all"`` on every unit (the earlier design, kept for ablation).
    ``orientation_decision``: ``"tuned"`` (weighted argmax, weights chosen on inner folds) or ``"argmax"``.
    ``tune_folds``: grouped inner folds on which thresholds, primary, orientation and lexicon weights are chosen.
    ``lexicon_weight_grid``: weights for the featurizer's lexicon block, one chosen per head on the inner folds
    (by how well the uncalibrated head ranks, :func:`macro_average_precision`; ties keep the first); None
    reads the block as the featurizer weights it. The cue counts are large beside the unit-length
    n-gram rows, so at weight 1 they can crowd out the n-grams of one head and still help the other.
    """

    def __init__(self, featurizer=None, types=None, orientation=None, embedder=None, embedding_weight=1.0,
                 embed_band=None, orientation_scope="network", orientation_decision="tuned", tune_folds=3,
                 lexicon_weight_grid=None, random_state=0):
        self.featurizer = featurizer
        self.types = types
        self.orientation = orientation
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.embed_band = embed_band
        self.orientation_scope = orientation_scope
        self.orientation_decision = orientation_decision
        self.tune_folds = tune_folds
        self.lexicon_weight_grid = lexicon_weight_grid
        self.random_state = random_state

    # ------------------------------------------------------------ fitting

    def fit(self, X, y: pd.DataFrame):
        texts = _texts(X)
        self.featurizer_ = clone(self.featurizer) if self.featurizer is not None else PolicyFeaturizer()
        self.embedder_ = clone(self.embedder).fit(texts) if self.embedder is not None else None
        ngrams = self.featurizer_.fit_transform(texts)
        targets = Targets.of(y, texts)
        for name, value in self._learn(self._stack(ngrams, texts), targets).items():
            setattr(self, f"{name}_", value)
        if self._gated:  # the n-gram-only model that decides which texts need the encoder (it reads the lexicon
            # block at the full model's weights: choosing them again would cost a third of the fit)
            for name, value in self._learn(ngrams, targets, self.lexicon_weights_).items():
                setattr(self, f"gate_{name}_", value)
        self.classes_ = {"types": list(LABELS), "orientation": list(ORIENTATIONS)}
        return self

    @property
    def _gated(self) -> bool:
        return self.embedder is not None and self.embed_band is not None

    def _learn(self, features, targets: "Targets", lexicon_weights: dict | None = None) -> dict:
        """Both heads on ``features``, with the lexicon weights (unless given), thresholds, primary weights and
        orientation weights tuned on inner folds (on the real units only: the fit-only units are in every
        inner training part). Keys are the fitted attributes' names without the trailing underscore."""
        lexicon_weights, lexicon_scores = ((lexicon_weights, {}) if lexicon_weights is not None
                                           else self._choose_lexicon_weights(features, targets))
        inputs = self._head_inputs(features, lexicon_weights)
        oof_types, oof_orientation, scored = self._inner_oof(inputs, targets)
        real = targets.subset(scored)
        thresholds = tune_type_thresholds(real.Y, oof_types[scored], real.domains)
        primary_weights = (tune_primary_weights(real.primary, oof_types[scored],
                                                per_language(thresholds, real.domains), real.domains)
                           if real.primary is not None else equal_primary_weights())
        networked = real.Y.any(axis=1)
        weights = (tune_orientation_weights(real.orientation[networked], oof_orientation[scored][networked])
                   if self.orientation_decision == "tuned" else {o: 1.0 for o in ORIENTATIONS})
        types, orientation = self._fit_heads(inputs, targets)
        return {"types": types, "orientation": orientation, "thresholds": thresholds,
                "primary_weights": primary_weights, "orientation_weights": weights,
                "lexicon_weights": lexicon_weights, "lexicon_scores": lexicon_scores}

    def _choose_lexicon_weights(self, features, targets: "Targets") -> tuple[dict, dict]:
        """Per head, the weight of ``lexicon_weight_grid`` whose uncalibrated inner out-of-fold probabilities
        rank the real units best (types: every type; orientation: the network units' drivers), with every
        weight's score (keys are the weights as text)."""
        columns = self._lexicon_columns()
        grid = list(self.lexicon_weight_grid or ())
        if not grid or columns is None:
            return dict.fromkeys(HEADS, 1.0), {}
        scores = {head: {} for head in HEADS}
        for weight in grid:
            weighted = scale_columns(features, columns, weight)
            oof_types, oof_orientation, real = self._inner_oof((weighted, weighted), targets, calibrated=False)
            truth = targets.subset(real)
            network = truth.Y.any(axis=1)
            scores["types"][str(weight)] = macro_average_precision(truth.Y, oof_types[real], truth.domains)
            scores["orientation"][str(weight)] = macro_average_precision(
                orientation_matrix(truth.orientation[network]), oof_orientation[real][network], truth.domains[network])
        chosen = {head: float(max(grid, key=lambda w: scores[head][str(w)])) for head in HEADS}  # first of the best
        return chosen, scores

    def _lexicon_columns(self) -> slice | None:
        """Where the featurizer puts its lexicon block (None for a featurizer without one)."""
        columns = getattr(self.featurizer_, "lexicon_columns", None)
        return columns() if callable(columns) else None

    def _head_inputs(self, features, lexicon_weights: dict) -> tuple:
        """(the types head's features, the orientation head's): ``features`` with the lexicon block at each
        head's weight (one copy per distinct weight: tagging reads every batch through here)."""
        columns = self._lexicon_columns()
        scaled = {weight: scale_columns(features, columns, weight) for weight in set(lexicon_weights.values())}
        return tuple(scaled[lexicon_weights[head]] for head in HEADS)

    def _fit_heads(self, inputs: tuple, targets: "Targets", calibrated: bool = True):
        types = clone(self.types) if self.types is not None else NetworkTypeClassifier()
        head = clone(self.orientation) if self.orientation is not None else OrientationClassifier()
        if not calibrated:  # ranking is all the lexicon-weight choice needs
            types.set_params(calibration=None)
            head.set_params(calibration=None)
        types_features, orientation_features = inputs
        types.fit(types_features, targets.Y, groups=targets.groups, fit_only=targets.fit_only)
        scope = targets.Y.any(axis=1) if self.orientation_scope == "network" else np.ones(len(targets.Y), bool)
        head.fit(orientation_features[scope], targets.orientation[scope], groups=targets.groups[scope],
                 fit_only=targets.fit_only[scope])
        return types, head

    def _inner_oof(self, inputs: tuple, targets: "Targets", calibrated: bool = True):
        """Out-of-fold probabilities of both heads on grouped inner folds of the real training units.
        ``inputs``: (the types head's features, the orientation head's)."""
        types_features, orientation_features = inputs
        oof_types = np.zeros(targets.Y.shape)
        oof_orientation = np.zeros((len(targets.Y), len(ORIENTATIONS)))
        real = np.flatnonzero(~targets.fit_only)
        inner = GroupKFold(n_splits=self.tune_folds).split(real, groups=targets.groups[real])
        for train, test in with_fit_only(list(inner), targets.fit_only):
            types, head = self._fit_heads((types_features[train], orientation_features[train]), targets.subset(train),
                                          calibrated)
            oof_types[test] = types.predict_proba(types_features[test])
            oof_orientation[test] = _orientation_columns(head, orientation_features[test])
        return oof_types, oof_orientation, real

    def _stack(self, features, texts):
        if self.embedder_ is None:
            return features
        embeddings = self.embedder_.transform(texts) * self.embedding_weight
        return sp.hstack([features, sp.csr_matrix(embeddings)], format="csr")

    # ------------------------------------------------------------ prediction

    def analyse(self, X, embed: bool = True) -> Prediction:
        """Labels and probabilities with the analysis behind them (cues, vocabulary coverage), in one pass.

        With a sentence encoder and ``embed_band`` set, the n-gram model reads every text first and
        only the texts it is unsure about (a type probability within ``embed_band`` log-odds of its
        threshold, or a close orientation call on a network unit) are embedded and read by the full model; the
        ``embedded`` column says which. ``embed=False`` reads every text with the n-gram model alone
        (for passages shown only as evidence).
        """
        check_is_fitted(self, "types_")
        texts = _texts(X)
        analysis = self.featurizer_.analyse(texts)
        if self.embedder_ is None:
            labels = self._read(self.types_, self.orientation_, analysis.features, texts)
            return Prediction(labels.assign(embedded=False), analysis)
        if not self._gated:
            labels = self._read(self.types_, self.orientation_, self._stack(analysis.features, texts), texts)
            return Prediction(labels.assign(embedded=True), analysis)
        labels = self._read(self.gate_types_, self.gate_orientation_, analysis.features, texts, gate=True)
        unsure = np.flatnonzero(self.unsure(labels, texts)) if embed else np.array([], int)
        labels["embedded"] = False
        if len(unsure):
            chosen = [texts[i] for i in unsure]
            full = self._read(self.types_, self.orientation_, self._stack(analysis.features[unsure], chosen), chosen)
            labels.iloc[unsure, : full.shape[1]] = full.to_numpy(dtype=object)
            labels.loc[unsure, "embedded"] = True
        return Prediction(labels, analysis)

    def _read(self, types, head, features, texts, gate: bool = False) -> pd.DataFrame:
        prefix = "gate_" if gate else ""
        domains = domains_of(texts)
        # A model saved before primary weights existed chose the most probable assigned type: weights 1.
        primary_weights = getattr(self, f"{prefix}primary_weights_", equal_primary_weights())
        # ... and read the lexicon block as the featurizer weights it.
        types_features, orientation_features = self._head_inputs(
            features, getattr(self, f"{prefix}lexicon_weights_", dict.fromkeys(HEADS, 1.0)))
        return decide(types.predict_proba(types_features), _orientation_columns(head, orientation_features),
                      self.threshold_matrix(domains, getattr(self, f"{prefix}thresholds_")),
                      getattr(self, f"{prefix}orientation_weights_"),
                      per_language(primary_weights, domains))

    def unsure(self, labels: pd.DataFrame, texts, band: float | None = None) -> np.ndarray:
        """Texts the n-gram model cannot call: a type near its threshold, or a close call between drivers.

        Distances are in log-odds: with thresholds as low as 0.10, a band of probability would put
        every unit with p near 0 "near" the threshold and send the whole corpus to the encoder.
        """
        band = self.embed_band if band is None else band
        p_types = np.clip(labels[[f"p_{l}" for l in LABELS]].to_numpy(float), 1e-6, 1 - 1e-6)
        thresholds = np.clip(self.threshold_matrix(domains_of(texts), self.gate_thresholds_), 1e-6, 1 - 1e-6)
        near = np.abs(logit(p_types) - logit(thresholds)) < band
        w = np.array([self.gate_orientation_weights_[o] for o in ORIENTATIONS])
        scored = np.sort(np.clip(labels[[f"p_{o}" for o in ORIENTATIONS]].to_numpy(float) * w, 1e-9, None), axis=1)
        close_driver = labels["types"].map(bool).to_numpy() & (np.log(scored[:, -1] / scored[:, -2]) < band)
        return near.any(axis=1) | close_driver

    def readings(self, X) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the n-gram gate's labels, the full model's labels) of every text: what ``analyse`` chooses
        between, for measuring what a band costs (``benchmarks/bench_gate.py``)."""
        check_is_fitted(self, "gate_types_")
        texts = _texts(X)
        features = self.featurizer_.analyse(texts).features
        return (self._read(self.gate_types_, self.gate_orientation_, features, texts, gate=True),
                self._read(self.types_, self.orientation_, self._stack(features, texts), texts))

    def predict_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(type probabilities (n, 4), orientation probabilities given a network unit (n, 3))."""
        labels = self.analyse(X).labels
        return (labels[[f"p_{l}" for l in LABELS]].to_numpy(), labels[[f"p_{o}" for o in ORIENTATIONS]].to_numpy())

    def predict(self, X) -> pd.DataFrame:
        return self.analyse(X).labels

    def threshold_matrix(self, domains, thresholds: dict | None = None) -> np.ndarray:
        """(n, 4) thresholds: each row those of its language, or the overall ones for an unseen language."""
        return per_language(thresholds or self.thresholds_, domains)


def per_language(values: dict, domains) -> np.ndarray:
    """(n, 4) per-type values (thresholds, primary weights) of each row's language, or the overall ones
    (key ``*``) for a language they were not tuned for."""
    return np.array([[values.get(d, values["*"])[label] for label in LABELS] for d in domains]).reshape(-1, 4)


def _orientation_columns(head, features) -> np.ndarray:
    """The head's probabilities in ``ORIENTATIONS`` order (a class it never saw gets 0)."""
    proba = head.predict_proba(features)
    full = np.zeros((features.shape[0], len(ORIENTATIONS)))
    for j, cls in enumerate(head.classes_):
        full[:, ORIENTATIONS.index(cls)] = proba[:, j]
    return full


def domains_of(texts) -> list[str]:
    """The decision domain of each text: its language (thresholds differ between long English records
    and short Chinese measures)."""
    return [text_lang(t) for t in texts]


def _texts(X) -> list[str]:
    return ["" if t is None else str(t) for t in (X["text"] if hasattr(X, "columns") else X)]


def decide(type_proba: np.ndarray, orientation_proba: np.ndarray, thresholds: np.ndarray,
           orientation_weights: dict | None = None, primary_weights: np.ndarray | None = None) -> pd.DataFrame:
    """The codebook's decision rules applied to probabilities; one row per unit.

    ``thresholds`` and ``primary_weights``: (4,) or one row per unit. ``orientation_proba`` is
    P(orientation | network unit): it decides only where a network type is assigned; a unit with
    no type is ``none`` and so ``neutral``.
    """
    assigned = type_proba >= thresholds
    weights = orientation_weights or {o: 1.0 for o in ORIENTATIONS}
    orientation = weighted_argmax(orientation_proba, weights)
    primaries = primary_types(type_proba, assigned, np.ones(len(LABELS)) if primary_weights is None else primary_weights)
    rows = []
    for p_types, p_orientation, mask, driver, primary in zip(type_proba, orientation_proba, assigned, orientation,
                                                             primaries):
        types = [label for label, on in zip(LABELS, mask) if on]
        rows.append({"types": types, "primary": primary, "orientation": str(driver) if types else NEUTRAL,
                     **{f"p_{label}": float(p) for label, p in zip(LABELS, p_types)},
                     **{f"p_{o}": float(p) for o, p in zip(ORIENTATIONS, p_orientation)}})
    return pd.DataFrame(rows, columns=["types", "primary", "orientation", *[f"p_{l}" for l in LABELS],
                                       *[f"p_{o}" for o in ORIENTATIONS]])
