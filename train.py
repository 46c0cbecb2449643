"""Train and evaluate the classifier from a config file; write the model and its card.

    python train.py                                  # configs/train.toml -> models/default
    python train.py --labels my_labels.csv --no-repository-labels --out models/mine
    python train.py --skip-eval                      # fit only (no cross-validation)

The same config, labels, data and package versions give the same model and metrics.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd

from classifier.classify import NetworkTypeClassifier, OrientationClassifier, PolicyModel, save_model
from classifier.evaluate import BASELINES, cross_validate
from classifier.featurize import LABELS, ORIENTATIONS, PolicyFeaturizer
from classifier.labels import CODEBOOK_VERSION, load_repository_labels, load_user_labels
from classifier.model_card import write_model_card

ROOT = Path(__file__).resolve().parent


def build_model(config: dict) -> PolicyModel:
    features, types, orientation = config["features"], config["types"], config["orientation"]
    seed = config["evaluation"]["seed"]
    return PolicyModel(
        featurizer=PolicyFeaturizer(
            word_ngram_range=tuple(features["word_ngram_range"]), char_ngram_range=tuple(features["char_ngram_range"]),
            min_df=features["min_df"], max_word_features=features["max_word_features"],
            max_char_features=features["max_char_features"], lexicon_weight=features["lexicon_weight"]),
        types=NetworkTypeClassifier(C=types["C"], calibration=types["calibration"], cv=types["cv"],
                                    thresholds=types["thresholds"], random_state=seed),
        orientation=OrientationClassifier(C=orientation["C"], calibration=orientation["calibration"],
                                          cv=orientation["cv"], random_state=seed),
    )


def load_units(config: dict, extra: list[Path], use_repository: bool) -> pd.DataFrame:
    frames = [load_repository_labels()] if use_repository else []
    frames += [load_user_labels(path) for path in [*map(Path, config["data"]["extra_labels"]), *extra]]
    if not frames:
        raise SystemExit("no labeled data: keep repository labels or pass --labels FILE")
    units = pd.concat(frames, ignore_index=True)
    duplicated = units.unit_id[units.unit_id.duplicated()]
    if len(duplicated):
        raise SystemExit(f"duplicate unit ids in the labels, e.g. {duplicated.iloc[0]}")
    return units.sort_values("unit_id").reset_index(drop=True)  # row order never depends on file order


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "train.toml")
    parser.add_argument("--labels", type=Path, nargs="*", default=[], help="extra label files: texts with labels, or keyed by unit id (classifier annotate import)")
    parser.add_argument("--no-repository-labels", action="store_true", help="train on --labels only")
    parser.add_argument("--out", type=Path, help="model directory (default: config output.model_dir)")
    parser.add_argument("--skip-eval", action="store_true", help="fit only, without cross-validation")
    args = parser.parse_args()
    config = tomllib.loads(args.config.read_text())
    out = args.out or ROOT / config["output"]["model_dir"]

    units = load_units(config, args.labels, config["data"]["repository_labels"] and not args.no_repository_labels)
    print(f"{len(units)} labeled units ({units.groupby('corpus').size().to_dict()})", flush=True)
    model = build_model(config)
    evaluation = None
    if not args.skip_eval:
        started = time.perf_counter()
        baselines = {name: BASELINES[name] for name in config["evaluation"]["baselines"]}
        evaluation = cross_validate(model, units, n_splits=config["evaluation"]["n_splits"],
                                    seed=config["evaluation"]["seed"], baselines=baselines,
                                    progress=lambda msg: print(f"  cross-validation {msg}", flush=True))
        print(f"cross-validation: {time.perf_counter() - started:.0f}s", flush=True)
    started = time.perf_counter()
    model.fit(units["text"].tolist(), units)
    fit_seconds = time.perf_counter() - started
    print(f"final fit: {fit_seconds:.0f}s", flush=True)

    info = {
        "codebook_version": CODEBOOK_VERSION,
        "training_data_sha256": data_hash(units),
        "label_counts": label_counts(units),
        "thresholds": model.types_.thresholds_,
        "config": config,
        "fit_seconds": round(fit_seconds, 1),
        "python": platform.python_version(),
        "trained_on": "repository labels" if not args.no_repository_labels else "user labels",
    }
    save_model(model, out, extra={"codebook_version": CODEBOOK_VERSION, "training_data_sha256": info["training_data_sha256"]})
    if evaluation is not None:
        # Out-of-fold predictions and the labels they are scored against (ids, no text):
        # the report's error-rate correction is estimated from them.
        oof = evaluation["oof"].assign(types=evaluation["oof"]["types"].map(";".join))
        oof.to_csv(out / "oof_predictions.csv", index=False)
        truth = units[["unit_id", "corpus", "lang", "primary", "orientation"]].assign(types=units["types"].map(";".join))
        truth.to_csv(out / "oof_truth.csv", index=False)
    write_model_card(out, info, evaluation["metrics"] if evaluation else None)
    print(f"model and card -> {out}")


if __name__ == "__main__":
    sys.exit(main())
