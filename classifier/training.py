"""A training run described by a config file: labeled units -> cross-validation -> final fit -> model card.

``python train.py`` and ``classifier train`` both call :func:`run_training`. The config
(``configs/train.toml``) names each estimator's parameters directly: its ``[features]``,
``[embedding]``, ``[types]``, ``[orientation]`` and ``[model]`` tables are passed to
``PolicyFeaturizer``, ``SentenceEmbedder``, ``NetworkTypeClassifier``,
``OrientationClassifier`` and ``PolicyModel`` as keyword arguments, so a new parameter
needs no code here. The same config, labels, data and package versions give the same
model and the same metrics.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from .classify import NetworkTypeClassifier, OrientationClassifier, PolicyModel
from .codebook import CODEBOOK_VERSION, LABELS, ORIENTATIONS, format_types
from .embed import SentenceEmbedder
from .evaluate import BASELINES, cross_validate
from .featurize import PolicyFeaturizer
from .labels import REPO_ROOT, load_repository_labels, load_user_labels, load_written_units, text_sha1
from .model_card import write_model_card
from .persist import save_model
from .sampling import design_roles, design_weights

DEFAULT_CONFIG = REPO_ROOT / "configs" / "train.toml"


class TrainingError(ValueError):
    """A training run that cannot start: no labels, duplicate ids, a config that does not fit."""


def model_dir_of(config: dict) -> Path:
    """Where a run writes its model unless told otherwise: the config's ``output.model_dir``."""
    return REPO_ROOT / config.get("output", {}).get("model_dir", "models/default")


def read_config(path: Path | str = DEFAULT_CONFIG) -> dict:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def _tuples(params: dict) -> dict:
    """TOML has arrays, scikit-learn wants tuples for ranges."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in params.items()}


def _make(estimator, table: str, params: dict):
    """``estimator(**params)``, or a TrainingError naming the config table and the keys it does not take."""
    unknown = sorted(set(params) - set(estimator().get_params(deep=False)))
    if unknown:
        raise TrainingError(f"config table [{table}]: {estimator.__name__} has no parameter(s) {', '.join(unknown)}")
    return estimator(**params)


def build_model(config: dict) -> PolicyModel:
    """The estimator the config describes; its tables are the estimators' keyword arguments."""
    seed = config.get("evaluation", {}).get("seed", 0)
    embedding = dict(config.get("embedding", {}))
    use_embedding = embedding.pop("enabled", False)
    return _make(PolicyModel, "model", {
        "featurizer": _make(PolicyFeaturizer, "features", _tuples(config.get("features", {}))),
        "types": _make(NetworkTypeClassifier, "types", {"random_state": seed, **config.get("types", {})}),
        "orientation": _make(OrientationClassifier, "orientation", {"random_state": seed, **config.get("orientation", {})}),
        "embedder": _make(SentenceEmbedder, "embedding", embedding) if use_embedding else None,
        "random_state": seed, **config.get("model", {}),
    })


def load_units(config: dict, extra: list[Path] = (), use_repository: bool = True) -> pd.DataFrame:
    """Every labeled unit of the run, in a fixed order (row order never depends on file order)."""
    data = config.get("data", {})
    frames = [load_repository_labels()] if use_repository and data.get("repository_labels", True) else []
    frames += [load_user_labels(Path(path)) for path in [*data.get("extra_labels", []), *extra]]
    if not frames:
        raise TrainingError("no labeled data: keep repository labels or pass --labels FILE")
    frames += [load_written_units(REPO_ROOT / path) for path in data.get("written_units", [])]
    units = pd.concat(frames, ignore_index=True)
    units["fit_only"] = units["fit_only"].fillna(False).astype(bool) if "fit_only" in units else False
    duplicated = units.unit_id[units.unit_id.duplicated()]
    if len(duplicated):
        raise TrainingError(f"duplicate unit ids in the labels, e.g. {duplicated.iloc[0]}")
    return units.sort_values("unit_id").reset_index(drop=True)


def data_hash(units: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for row in units.itertuples():
        digest.update(f"{row.unit_id}\t{row.text}\t{';'.join(row.types)}\t{row.primary}\t{row.orientation}\n".encode())
    return digest.hexdigest()


def label_counts(units: pd.DataFrame) -> dict:
    counts = {}
    for corpus, part in [("all", units), *units.groupby("corpus")]:
        counts[corpus] = {
            "units": int(len(part)),
            "documents": int(part["group"].nunique()),
            "types": {label: int(part["types"].map(lambda t: label in t).sum()) for label in LABELS},
            "none": int(part["types"].map(len).eq(0).sum()),
            "orientation": {o: int((part["orientation"] == o).sum()) for o in ORIENTATIONS},
            "sampling": part["sampling"].value_counts().to_dict(),
        }
    return counts


BENCHMARK_DIR = REPO_ROOT / "docs"


def read_benchmark(name: str) -> dict | None:
    """A benchmark's saved figures for the card (``docs/ablation.json`` from ``benchmarks/ablation.py``,
    ``docs/gate.json`` from ``benchmarks/bench_gate.py``), when it has been run."""
    path = BENCHMARK_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def labeled_units(units: pd.DataFrame) -> dict[str, str]:
    """The unit each language's labels are at: Chinese measures; English whole records (documents).

    The report corrects a corpus only at this unit (its error rates were measured there).
    """
    found = {}
    for lang, part in units.groupby("lang"):
        kinds = set(part["unit"].fillna("documents")) if "unit" in part else {"documents"}
        found[str(lang)] = kinds.pop() if len(kinds) == 1 else "mixed"
    return found


@dataclass
class TrainingRun:
    units: int
    model_dir: Path
    fit_seconds: float
    cv_seconds: float | None
    metrics: dict | None = field(default=None, repr=False)


def run_training(config: dict, out: Path, extra_labels: list[Path] = (), use_repository: bool = True,
                 evaluate: bool = True, say: Callable[[str], None] = print) -> TrainingRun:
    """Cross-validate (grouped, with baselines in the same folds), fit on everything, write model and card."""
    model = build_model(config)  # a config that does not fit fails before any data is read
    units = load_units(config, list(extra_labels), use_repository)
    say(f"{len(units)} labeled units ({units.groupby('corpus').size().to_dict()})")
    evaluation, cv_seconds = None, None
    if evaluate:
        started = time.perf_counter()
        settings = config.get("evaluation", {})
        baselines = {name: BASELINES[name] for name in settings.get("baselines", [])}
        evaluation = cross_validate(model, units, n_splits=settings.get("n_splits", 5), seed=settings.get("seed", 0),
                                    baselines=baselines, progress=lambda msg: say(f"  cross-validation {msg}"),
                                    n_jobs=settings.get("n_jobs", 1), refit=True)
        model, fit_seconds = evaluation["fitted"], evaluation["fit_seconds"]
        cv_seconds = time.perf_counter() - started
        say(f"cross-validation and final fit: {cv_seconds:.0f}s")
    else:
        started = time.perf_counter()
        model.fit(units["text"].tolist(), units)
        fit_seconds = time.perf_counter() - started
        say(f"final fit: {fit_seconds:.0f}s")
    info = {
        "codebook_version": CODEBOOK_VERSION,
        "training_data_sha256": data_hash(units),
        "label_counts": label_counts(units),
        "thresholds": model.thresholds_,
        "primary_weights": model.primary_weights_,
        "orientation_weights": model.orientation_weights_,
        "lexicon_weights": model.lexicon_weights_,
        "lexicon_scores": model.lexicon_scores_,
        "config": config,
        "fit_seconds": round(fit_seconds, 1),
        "cv_seconds": round(cv_seconds, 1) if cv_seconds is not None else None,
        "labeled_units": labeled_units(units),
        "ablation": read_benchmark("ablation"),
        "encoder_gate": read_benchmark("gate"),
        "python": platform.python_version(),
        "trained_on": "repository labels" + (" + user labels" if extra_labels else "") if use_repository else "user labels",
    }
    out = Path(out)
    save_model(model, out, extra={"codebook_version": CODEBOOK_VERSION, "training_data_sha256": info["training_data_sha256"]})
    if evaluation is not None:
        write_out_of_fold(evaluation["oof"], units, out)
    write_model_card(out, info, evaluation["metrics"] if evaluation else None)
    say(f"model and card -> {out}")
    return TrainingRun(len(units), out, fit_seconds, cv_seconds, evaluation["metrics"] if evaluation else None)


def write_out_of_fold(oof: pd.DataFrame, units: pd.DataFrame, out: Path) -> None:
    """Out-of-fold predictions and the labels they are scored against (ids and a hash of the text, no text), with
    each unit's design weight and role (``classifier.sampling``: how many units of its corpus it stands for, and
    whether those are itself or the rest of its cell) and whether its document is in the SME-targeted view. The
    hash finds a labeled measure in a corpus whose segmentation has since numbered its measures differently.

    The report's quantification learns the classifier's error rates from them.
    """
    oof.assign(types=oof["types"].map(format_types)).to_csv(out / "oof_predictions.csv", index=False)
    scored = units.set_index("unit_id").loc[oof["unit_id"]].reset_index()  # written units are never scored
    truth = scored[["unit_id", "corpus", "lang", "group", "primary", "orientation", "sampling"]
                   + [c for c in ("sme_targeted",) if c in scored]]
    truth.assign(types=scored["types"].map(format_types), design_weight=design_weights(scored).round(4),
                 design_role=design_roles(scored), text_sha1=scored["text"].map(text_sha1)).to_csv(
        out / "oof_truth.csv", index=False)
