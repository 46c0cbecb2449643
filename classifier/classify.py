"""Stage 4, classify: scikit-learn estimators for the two codebook axes, and their persistence.

* :class:`NetworkTypeClassifier` - one calibrated probability per network type (multi-label).
* :class:`OrientationClassifier` - a calibrated distribution over lead_firm / network / neutral.
* :class:`PolicyModel` - featurizer + both heads, with the codebook's decision rules:
  a type is assigned when its probability reaches its threshold; the primary type is
  the most probable assigned type, ``none`` when no type is assigned; ``none``
  implies ``neutral`` (codebook axis 2, rule 3).

Models are saved with joblib next to a manifest holding their SHA-256; loading
verifies the hash first and refuses a file that does not match, since unpickling
runs code.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

from .featurize import LABELS, ORIENTATIONS, PolicyFeaturizer, text_lang

NONE = "none"
MIN_TUNING_POSITIVES = 20  # fewer positives in a domain: that type's threshold is tuned over all domains


def _fit_calibrated(X, y, C: float, cv: int, method: str, seed: int, solver: str = "liblinear"):
    """A logistic regression calibrated by cross-validation; uncalibrated when a class is too rare to split."""
    # liblinear is the faster solver for these sparse binary problems; multi-class needs lbfgs.
    base = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed, solver=solver)
    folds = min(cv, min(np.sum(y == c) for c in np.unique(y)))
    if folds < 2:
        return base.fit(X, y)
    return CalibratedClassifierCV(base, method=method, cv=int(folds)).fit(X, y)


class NetworkTypeClassifier(BaseEstimator, ClassifierMixin):
    """Multi-label: one calibrated logistic regression per network type.

    ``fit(X, Y, groups=None, domains=None)`` takes features and an (n, 4) 0/1 matrix in
    the order of ``LABELS``. ``thresholds``: None (0.5 each), a dict per type, or
    ``"tuned"``: each type's threshold maximises F1 on out-of-fold probabilities of the
    training data (folds grouped by document when ``groups`` is given), separately per
    domain (the text's language: long English records and short Chinese measures are
    scored on different scales) when the domain has at least ``MIN_TUNING_POSITIVES``
    examples of the type, else over all domains (key ``"*"``).
    """

    def __init__(self, C=4.0, calibration="sigmoid", cv=3, thresholds=None, random_state=0):
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.thresholds = thresholds
        self.random_state = random_state

    def fit(self, X, Y, groups=None, domains=None):
        Y = np.asarray(Y)
        self.classes_ = np.array(LABELS)
        self.estimators_ = [self._fit_one(X, Y[:, j]) for j in range(Y.shape[1])]
        if self.thresholds == "tuned":
            self.thresholds_ = self._tuned_thresholds(X, Y, groups, domains)
        else:
            self.thresholds_ = {"*": {label: float((self.thresholds or {}).get(label, 0.5)) for label in LABELS}}
        return self

    def _fit_one(self, X, y):
        if y.min() == y.max():  # a label never (or always) seen: constant prior
            return float(y.mean())
        return _fit_calibrated(X, y, self.C, self.cv, self.calibration, self.random_state)

    def _tuned_thresholds(self, X, Y, groups, domains) -> dict:
        from sklearn.metrics import f1_score
        from sklearn.model_selection import GroupKFold

        groups = np.arange(len(Y)) if groups is None else np.asarray(groups)
        domains = np.full(len(Y), "*") if domains is None else np.asarray(domains)
        oof = np.zeros(Y.shape, dtype=float)
        for train, test in GroupKFold(n_splits=self.cv).split(X, Y, groups):
            for j in range(Y.shape[1]):
                est = self._fit_one(X[train], Y[train, j])
                oof[test, j] = est if isinstance(est, float) else est.predict_proba(X[test])[:, 1]
        grid = np.round(np.arange(0.1, 0.71, 0.05), 2)

        def best(mask, j):
            return float(grid[int(np.argmax([f1_score(Y[mask, j], oof[mask, j] >= t, zero_division=0) for t in grid]))])

        everything = np.ones(len(Y), bool)
        thresholds = {"*": {label: best(everything, j) for j, label in enumerate(LABELS)}}
        for domain in sorted(set(domains) - {"*"}):
            mask = domains == domain
            thresholds[domain] = {label: best(mask, j) if Y[mask, j].sum() >= MIN_TUNING_POSITIVES else thresholds["*"][label]
                                  for j, label in enumerate(LABELS)}
        return thresholds

    def predict_proba(self, X) -> np.ndarray:
        columns = [np.full(X.shape[0], est) if isinstance(est, float) else est.predict_proba(X)[:, 1]
                   for est in self.estimators_]
        return np.column_stack(columns)

    def threshold_matrix(self, domains) -> np.ndarray:
        """(n, 4) thresholds: each row those of its domain, or the overall ones for an unseen domain."""
        return np.array([[self.thresholds_.get(d, self.thresholds_["*"])[label] for label in LABELS] for d in domains])

    def predict(self, X, domains=None) -> np.ndarray:
        domains = np.full(X.shape[0], "*") if domains is None else domains
        return (self.predict_proba(X) >= self.threshold_matrix(domains)).astype(int)


class OrientationClassifier(BaseEstimator, ClassifierMixin):
    """Single-label over ``ORIENTATIONS``: a calibrated multinomial logistic regression."""

    def __init__(self, C=4.0, calibration="sigmoid", cv=3, random_state=0):
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = np.array(ORIENTATIONS)
        self.estimator_ = _fit_calibrated(X, y, self.C, self.cv, self.calibration, self.random_state, "lbfgs")
        return self

    def predict_proba(self, X) -> np.ndarray:
        proba = self.estimator_.predict_proba(X)
        full = np.zeros((X.shape[0], len(ORIENTATIONS)))
        for j, cls in enumerate(self.estimator_.classes_):
            full[:, ORIENTATIONS.index(cls)] = proba[:, j]
        return full

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def label_matrix(types: pd.Series) -> np.ndarray:
    """Lists of network types -> (n, 4) 0/1 matrix in ``LABELS`` order."""
    return np.array([[int(label in t) for label in LABELS] for t in types])


class PolicyModel(BaseEstimator):
    """Texts -> network types, primary type and orientation, with calibrated probabilities.

    ``fit(X, y)``: X is a sequence of texts (or a DataFrame with ``text``); y a DataFrame
    with ``types`` (lists) and ``orientation``. The heads stay separate estimators, so
    each can be cross-validated or replaced on its own.
    """

    def __init__(self, featurizer=None, types=None, orientation=None):
        self.featurizer = featurizer
        self.types = types
        self.orientation = orientation

    def fit(self, X, y: pd.DataFrame):
        self.featurizer_ = clone(self.featurizer) if self.featurizer is not None else PolicyFeaturizer()
        self.types_ = clone(self.types) if self.types is not None else NetworkTypeClassifier()
        self.orientation_ = clone(self.orientation) if self.orientation is not None else OrientationClassifier()
        features = self.featurizer_.fit_transform(X)
        groups = y["group"].to_numpy() if "group" in y else None
        self.types_.fit(features, label_matrix(y["types"]), groups=groups, domains=domains_of(_texts(X)))
        self.orientation_.fit(features, np.asarray(y["orientation"]))
        return self

    def predict_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(type probabilities (n, 4), orientation probabilities (n, 3))."""
        return self.proba_from_features(self.featurizer_.transform(X))

    def proba_from_features(self, features) -> tuple[np.ndarray, np.ndarray]:
        return self.types_.predict_proba(features), self.orientation_.predict_proba(features)

    def predict(self, X) -> pd.DataFrame:
        type_proba, orientation_proba = self.predict_proba(X)
        return self.decide(type_proba, orientation_proba, _texts(X))

    def decide(self, type_proba, orientation_proba, texts) -> pd.DataFrame:
        return decide(type_proba, orientation_proba, self.types_.threshold_matrix(domains_of(texts)))


def domains_of(texts) -> list[str]:
    """The threshold domain of each text: its script's language (zh or en)."""
    return [text_lang(t) for t in texts]


def _texts(X) -> list[str]:
    return [str(t) for t in (X["text"] if hasattr(X, "columns") else X)]


def decide(type_proba: np.ndarray, orientation_proba: np.ndarray, thresholds: np.ndarray) -> pd.DataFrame:
    """The codebook's decision rules applied to probabilities; one row per unit."""
    assigned = type_proba >= thresholds  # thresholds: (4,) or one row per unit
    rows = []
    for p_types, p_orientation, mask in zip(type_proba, orientation_proba, assigned):
        types = [label for label, on in zip(LABELS, mask) if on]
        primary = LABELS[int(np.argmax(np.where(mask, p_types, -1)))] if types else NONE
        orientation = ORIENTATIONS[int(np.argmax(p_orientation))] if types else "neutral"
        rows.append({"types": types, "primary": primary, "orientation": orientation,
                     **{f"p_{label}": float(p) for label, p in zip(LABELS, p_types)},
                     **{f"p_{o}": float(p) for o, p in zip(ORIENTATIONS, p_orientation)}})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- persistence


class ModelIntegrityError(RuntimeError):
    """A model file whose hash does not match its manifest (or has no manifest)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model, directory: Path, name: str = "model.joblib", extra: dict | None = None) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    joblib.dump(model, path, compress=3)
    manifest = {"file": name, "sha256": file_sha256(path), **(extra or {})}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path


def load_model(directory: Path):
    """Load a saved model after checking its SHA-256 against ``manifest.json``."""
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise ModelIntegrityError(f"{directory}: no manifest.json; refusing to unpickle an unverified model")
    manifest = json.loads(manifest_path.read_text())
    path = directory / manifest["file"]
    if not path.exists():
        raise ModelIntegrityError(f"{path}: model file named in the manifest is missing")
    actual = file_sha256(path)
    if actual != manifest["sha256"]:
        raise ModelIntegrityError(f"{path}: SHA-256 {actual[:16]}... does not match the manifest "
                                  f"({manifest['sha256'][:16]}...); refusing to load it")
    return joblib.load(path)
