"""What the encoder gate costs: macro-F1 and encoder load at each band, from one grouped cross-validation.

    CLASSIFIER_DATA=../shared/data python benchmarks/bench_gate.py [--bands 0,0.25,...] [--out docs/gate.json] [--corpus-only]

The default model (configs/train.toml) is fitted once per grouped fold of the real labeled units (the folds
of ``classifier.evaluate.grouped_folds``, with the units written for training in every training fold and never
scored, as in ``train.py``; before commit 0fcb901 they were folded and scored like real text); its n-gram gate
and its full model (n-grams + sentence block) both read every test unit (``PolicyModel.readings``), so the
labels at any band are the gate's where the gate is sure and the full model's where it is not, exactly as ``analyse`` decides.
Band ``inf`` is the encoder on every unit; band 0 is the n-gram model alone.

Beside the labeled folds, the gate of the committed model reads a sample of the real corpora
(Chinese measures, and STIP records read whole) to give the share each band sends to the encoder,
and the encoder's rate is timed on texts of each kind with an empty cache; together they give the
encoder's projected share of a full tagging run. The band is a speed budget: choose it from the
corpus load, and read the cost in the labeled folds; it is not tuned on them.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.evaluate import grouped_folds, real_and_written, score_slices, training_part  # noqa: E402
from classifier.model_card import refresh_benchmark  # noqa: E402
from classifier.training import build_model, load_units, read_config  # noqa: E402

AXES = ("types_macro_f1", "primary_macro_f1", "orientation_macro_f1")
BANDS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, math.inf)


def fold_readings(units: pd.DataFrame, written: pd.DataFrame, config: dict) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Out-of-fold gate and full labels of every real unit, and each fold's fitted model with its test rows. The
    units written for training are in every training fold and never read, as in ``evaluate.cross_validate``."""
    model = build_model(config)
    gate, full, fitted = [None] * len(units), [None] * len(units), []
    settings = config["evaluation"]
    for fold, (train_idx, test_idx) in enumerate(grouped_folds(units, settings["n_splits"], settings["seed"])):
        train, test = training_part(units, written, train_idx), units.iloc[test_idx]
        estimator = clone(model).fit(train["text"].tolist(), train)
        g, f = estimator.readings(test["text"].tolist())
        for i, a, b in zip(test_idx, g.to_dict("records"), f.to_dict("records")):
            gate[i], full[i] = a, b
        fitted.append((estimator, test_idx))
        print(f"fold {fold + 1}/{settings['n_splits']}", file=sys.stderr, flush=True)
    return pd.DataFrame(gate), pd.DataFrame(full), fitted


def at_band(units, gate, full, fitted, band: float) -> tuple[pd.DataFrame, np.ndarray]:
    """The labels ``analyse`` gives at ``band``, and which units it would embed."""
    embedded = np.zeros(len(units), bool)
    for estimator, test_idx in fitted:
        texts = units["text"].iloc[test_idx].tolist()
        embedded[test_idx] = (np.ones(len(test_idx), bool) if math.isinf(band)
                              else estimator.unsure(gate.iloc[test_idx].reset_index(drop=True), texts, band))
    chosen = gate.copy()
    chosen[embedded] = full[embedded].to_numpy()
    return chosen, embedded


def corpus_sample(data: Path, size: int, seed: int = 0) -> dict[str, list[str]]:
    """Texts as the tagger embeds them: Chinese measures, and STIP records read whole."""
    from classifier.batch import iter_input_documents
    from classifier.corpus import document_rows
    from classifier.tagger import classified_whole

    sample = {}
    for name, whole in (("cn", False), ("oecd", True)):
        texts = []
        for doc in iter_input_documents([f"{name}={data / name}"]):
            if whole:
                texts += [doc.text] if classified_whole(doc) else []
            else:
                texts += [row["text"] for row in document_rows(doc) if row["status"] == "ok"]
        random.Random(seed).shuffle(texts)
        sample[name] = (len(texts), texts[:size])
    return sample


def encoder_rate(texts: list[str]) -> float:
    """Texts per second of the encoder on one core, with an empty cache."""
    from classifier.embed import EmbeddingCache, embed

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        embed(texts, EmbeddingCache(Path(tmp) / "e.sqlite"))
        return len(texts) / (time.perf_counter() - started)


def corpus_load(data: Path, model_dir: Path, bands, size: int) -> dict:
    from classifier.persist import load_model

    model = load_model(model_dir)
    load = {}
    for name, (population, texts) in corpus_sample(data, size).items():
        gate = model.analyse(texts, embed=False).labels  # the n-gram gate's reading
        rate = encoder_rate(texts[:40 if name == "cn" else 16])
        shares = {str(b): float(1.0 if math.isinf(b) else model.unsure(gate, texts, b).mean()) for b in bands}
        load[name] = {"units": population, "sample": len(texts), "encoder_per_s": round(rate, 2),
                      "embedded_share": shares,
                      "encoder_core_seconds": {b: round(s * population / rate) for b, s in shares.items()}}
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[1] / "configs" / "train.toml")
    parser.add_argument("--bands", default=",".join(str(b) for b in BANDS))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("docs/gate.json"))
    parser.add_argument("--corpus-only", action="store_true",
                        help="only the corpus load of each band with the committed model (about a minute; no CV)")
    parser.add_argument("--update-card", action="store_true",
                        help="also put the figures into the card of --model (trained on the same labeled units)")
    args = parser.parse_args()
    bands = [float(b) for b in args.bands.split(",")]
    load = corpus_load(args.data, args.model, bands, args.sample)
    if args.corpus_only:
        for name, row in load.items():
            print(f"{name}: {row['units']:,} units, encoder {row['encoder_per_s']} texts/s; " + ", ".join(
                f"band {b}: {row['embedded_share'][str(b)]:.1%} embedded, ~{row['encoder_core_seconds'][str(b)]:,} core-s"
                for b in bands))
        return
    config = read_config(args.config)
    everything = load_units(config)
    units, written = real_and_written(everything)
    gate, full, fitted = fold_readings(units, written, config)
    results = {"labeled_units": len(units), "written_units": len(written), "corpus": load, "bands": {}}
    for band in bands:
        labels, embedded = at_band(units, gate, full, fitted, band)
        metrics = score_slices(units, labels)
        row = {s: {a: metrics[s][a] for a in AXES} | {"embedded_share": float(embedded[units["lang"] == s[5:]].mean())}
               for s in ("lang=en", "lang=zh")}
        results["bands"][str(band)] = row
        cost = ", ".join(f"{n} {load[n]['embedded_share'][str(band)]:.0%} of units, "
                         f"~{load[n]['encoder_core_seconds'][str(band)]:,} encoder core-s" for n in load)
        print(f"band {band:>4}: " + "  ".join(f"{s} " + "/".join(f"{row[s][a]:.3f}" for a in AXES)
                                               + f" (embedded {row[s]['embedded_share']:.0%})" for s in row)
              + f"  | corpora: {cost}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.update_card:
        trained_on = json.loads((args.model / "model_card.json").read_text())["label_counts"]["all"]["units"]
        if trained_on != len(everything):
            raise SystemExit(f"{args.model}: its card was trained on {trained_on} units, the gate on {len(everything)}")
        refresh_benchmark(args.model, "encoder_gate", results)


if __name__ == "__main__":
    main()
