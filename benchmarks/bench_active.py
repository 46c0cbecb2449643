"""Does ``suggest`` reach a given macro-F1 with fewer labels than random selection?

Simulated labeling on the repository's labeled corpus, per language: in each grouped fold
(all units of a document together), start from 100 random training units, then add 100 units
per round, chosen either at random or by suggest's scores (rare*2+uncertainty, at most 3 units
per document, no near-duplicates), refit a fast model (PolicyFeaturizer + logistic regression
per head) and score the held-out fold (macro-F1 over the four network types). Prints the
learning curves and the labels each strategy needs to reach a target; draws docs/active_learning.{png,svg}.

    CLASSIFIER_DATA=/work/shared/data python benchmarks/bench_active.py [--rounds 8] [--folds 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from classifier.annotate.suggest import Strategy, combined_score, diverse_top, rare_probability, uncertainty  # noqa: E402
from classifier.classify import label_matrix  # noqa: E402
from classifier.codebook import ORIENTATIONS  # noqa: E402
from classifier.featurize import PolicyFeaturizer  # noqa: E402
from classifier.labels import load_repository_labels  # noqa: E402

STEP = 100
STRATEGY = "rare*2+uncertainty"


def fit_predict(X_train, Y, orientation, X_pool):
    """Type and orientation probabilities from plain logistic regressions (a type never seen: 0)."""
    type_proba = np.zeros((X_pool.shape[0], Y.shape[1]))
    for j in range(Y.shape[1]):
        if 0 < Y[:, j].sum() < len(Y):
            head = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear").fit(X_train, Y[:, j])
            type_proba[:, j] = head.predict_proba(X_pool)[:, 1]
    orientation_proba = np.full((X_pool.shape[0], len(ORIENTATIONS)), 1 / len(ORIENTATIONS))
    seen = sorted(set(orientation))
    if len(seen) > 1:
        head = LogisticRegression(C=4.0, class_weight="balanced", max_iter=300).fit(X_train, orientation)
        for k, cls in enumerate(head.classes_):
            orientation_proba[:, ORIENTATIONS.index(cls)] = head.predict_proba(X_pool)[:, k]
    return type_proba, orientation_proba


def next_batch(strategy: str, pool: pd.DataFrame, proba, rng) -> list[int]:
    if strategy == "random":
        return list(rng.choice(pool.index, size=min(STEP, len(pool)), replace=False))
    scored = pool.assign(uncertainty=uncertainty(*proba), rare=rare_probability(*proba), sme_targeted=False,
                         about_smes=False)
    scored["score"] = combined_score(scored, Strategy.parse(STRATEGY)).to_numpy()
    return list(diverse_top(scored, STEP, per_doc=3, near_duplicate=0.8).index)


def fold_features(units: pd.DataFrame, train_idx, test_idx) -> dict:
    """The fold's features and labels, computed once and shared by both strategies."""
    featurizer = PolicyFeaturizer()
    return {"X": featurizer.fit_transform(units.text.iloc[train_idx].tolist()),
            "X_test": featurizer.transform(units.text.iloc[test_idx].tolist()),
            "Y": label_matrix(units.types.iloc[train_idx]), "orientation": units.orientation.iloc[train_idx].to_numpy(),
            "Y_test": label_matrix(units.types.iloc[test_idx]),
            "pool": units.iloc[train_idx][["doc_id", "text"]].reset_index(drop=True)}


def curve(fold: dict, strategy: str, rounds: int, seed: int) -> list[tuple[int, float]]:
    X, Y, orientation, pool = fold["X"], fold["Y"], fold["orientation"], fold["pool"]
    rng = np.random.default_rng(seed)
    labeled = list(rng.choice(len(pool), size=STEP, replace=False))  # the same start for both strategies
    points = []
    for _ in range(rounds):
        type_test, _ = fit_predict(X[labeled], Y[labeled], orientation[labeled], fold["X_test"])
        points.append((len(labeled), float(f1_score(fold["Y_test"], type_test >= 0.5, average="macro", zero_division=0))))
        rest = pool.drop(index=labeled)
        proba = fit_predict(X[labeled], Y[labeled], orientation[labeled], X[rest.index]) if strategy != "random" else None
        labeled += next_batch(strategy, rest, proba, rng)
    return points


def labels_to_reach(table: pd.DataFrame, target: float) -> float:
    reached = table[table.macro_f1 >= target]
    return float(reached.labels.min()) if len(reached) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "active_learning")
    args = parser.parse_args()
    started = time.perf_counter()
    units = load_repository_labels()
    units["doc_id"] = units["group"]
    rows = []
    for lang, part in units.groupby("lang"):
        part = part.reset_index(drop=True)
        for fold, (train_idx, test_idx) in enumerate(GroupKFold(args.folds).split(part, groups=part.group)):
            features = fold_features(part, train_idx, test_idx)
            for strategy in ("random", "suggest"):
                for n, f1 in curve(features, strategy, args.rounds, args.seed + fold):
                    rows.append({"lang": lang, "fold": fold, "strategy": strategy, "labels": n, "macro_f1": f1})
            print(f"  {lang} fold {fold}: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).groupby(["lang", "strategy", "labels"], as_index=False).macro_f1.mean()
    print(table.pivot_table(index=["lang", "labels"], columns="strategy", values="macro_f1").round(3).to_string())
    for lang, part in table.groupby("lang"):
        target = 0.95 * part[part.strategy == "random"].macro_f1.max()
        need = {s: labels_to_reach(part[part.strategy == s], target) for s in ("random", "suggest")}
        print(f"{lang}: labels to reach macro-F1 {target:.3f} (95% of random's best): "
              f"random {need['random']:.0f}, suggest {need['suggest']:.0f}")
    draw(table, args.out)
    print(f"total {time.perf_counter() - started:.0f}s; curves -> {args.out}.png/.svg")


def draw(table: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = sorted(table.lang.unique())
    fig, axes = plt.subplots(1, len(langs), figsize=(5 * len(langs), 3.6), squeeze=False)
    for ax, lang in zip(axes[0], langs):
        for strategy, style in (("random", "--o"), ("suggest", "-o")):
            part = table[(table.lang == lang) & (table.strategy == strategy)]
            ax.plot(part.labels, part.macro_f1, style, label=strategy if strategy == "random" else f"suggest ({STRATEGY})")
        ax.set(title={"zh": "Chinese measures", "en": "STIP records"}.get(lang, lang), xlabel="labeled units",
               ylabel="macro-F1 (network types), held-out documents")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".png", ".svg"):
        fig.savefig(out.with_suffix(suffix), dpi=120)


if __name__ == "__main__":
    main()
