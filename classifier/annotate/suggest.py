"""Which units to label next: active-learning scores, a diversity-aware pick, and a random stratum.

Score terms (each turned into a percentile rank over the pool, so that terms on different
scales weigh alike; a strategy is ``term[*weight]+term...``, e.g. ``rare*2+uncertainty``):

``uncertainty``   how unsure the calibrated model is: the highest binary entropy over the network
                  types, or the orientation entropy weighted by the chance that any type applies
                  (orientation is only decided when a type is present)
``disagreement``  how far the model's reading is from the codebook's cue lexicon alone
``rare``          the highest probability of a rare class (production, partnership, cluster, lead_firm)
``sme``           1 for units about SMEs: STIP TG31 in any wave, or a text that names SMEs
                  (``corpus.is_about_smes``: in the title, or at least 3 times)

Diversity: at most ``per_doc`` units of one document, and no unit whose character n-grams
are near-identical (cosine >= ``near_duplicate``) to one already picked, so ten copies of one
article from ten provincial regulations do not fill a batch.

``random`` draws uniformly from the SME pool (Chinese: SME-relevant documents as in rounds 1-3;
STIP: SME-targeted initiatives), ``random-other`` from the rest, and ``random-sme`` from the
SME-targeted view the report headlines (``corpus.is_sme_targeted``; Chinese: documents about SMEs,
in the pool or not), so estimates can be reweighted by the cells of the sampling design
(``classifier.sampling``).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer

from ..evaluate import dictionary_predict
from ..codebook import LABELS, ORIENTATIONS
from ..codebook import CODEBOOK_VERSION
from ..sampling import RANDOM_STRATUM

RARE_CLASSES = ("production", "partnership", "cluster", "lead_firm")
TERMS = ("uncertainty", "disagreement", "rare", "sme")
RANDOM_STRATEGIES = ("random", "random-other", "random-sme")
BATCH_FIELDS = ["unit_id", "doc_id", "start", "end", "text_sha1", "title", "section", "country", "wave",
                "sme_targeted", "sampling", "strategy", "seed", "codebook_version", "text"]


@dataclass(frozen=True)
class Strategy:
    weights: dict[str, float]

    @classmethod
    def parse(cls, spec: str) -> "Strategy":
        weights = {}
        for part in spec.replace(" ", "").split("+"):
            name, _, weight = part.partition("*")
            if name not in TERMS:
                raise ValueError(f"unknown strategy term {name!r} in {spec!r} (terms: {', '.join(TERMS)}; "
                                 f"or one of {', '.join(RANDOM_STRATEGIES)})")
            weights[name] = float(weight or 1)
        return cls(weights)

    @property
    def sampling(self) -> str:
        return "suggest:" + "+".join(self.weights)


# ---------------------------------------------------------------- scores


def binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def normalised_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1)
    return -(p * np.log(p)).sum(axis=1) / np.log(p.shape[1])


def uncertainty(type_proba: np.ndarray, orientation_proba: np.ndarray) -> np.ndarray:
    p_any = type_proba.max(axis=1)
    return np.maximum(binary_entropy(type_proba).max(axis=1), normalised_entropy(orientation_proba) * p_any)


def rare_probability(type_proba: np.ndarray, orientation_proba: np.ndarray) -> np.ndarray:
    """How likely each unit is to be of a rare class, ranked within each class.

    ``orientation_proba`` is P(orientation | network unit), so a lead-firm unit must first be a
    network unit: P(lead_firm) = P(any type) x P(lead_firm | network). Each class's probability is
    turned into its percentile rank before the maximum is taken, so that every rare class gets its
    share of the top of the ranking instead of the most frequent of them taking it all.
    """
    rare = [type_proba[:, LABELS.index(c)] for c in RARE_CLASSES if c in LABELS]
    lead_firm = type_proba.max(axis=1) * orientation_proba[:, ORIENTATIONS.index("lead_firm")]
    columns = np.column_stack(rare + [lead_firm])
    return pd.DataFrame(columns).rank(pct=True).max(axis=1).to_numpy()


def model_scores(texts: list[str], clf) -> pd.DataFrame:
    """The model's reading of each text with the score terms that depend on it."""
    decided = clf.estimator.predict(texts)
    type_proba = decided[[f"p_{label}" for label in LABELS]].to_numpy()
    orientation_proba = decided[[f"p_{o}" for o in ORIENTATIONS]].to_numpy()
    decided["uncertainty"] = uncertainty(type_proba, orientation_proba)
    decided["rare"] = rare_probability(type_proba, orientation_proba)
    decided["disagreement"] = disagreement(decided, dictionary_predict(texts))
    return decided


def disagreement(model: pd.DataFrame, lexicon: pd.DataFrame) -> np.ndarray:
    """Mean of: type-set Jaccard distance, primary differs, orientation differs."""
    def jaccard_distance(a, b):
        a, b = set(a), set(b)
        return len(a ^ b) / len(a | b) if a | b else 0.0

    types = np.array([jaccard_distance(a, b) for a, b in zip(model["types"], lexicon["types"])])
    primary = (model["primary"].to_numpy() != lexicon["primary"].to_numpy()).astype(float)
    orientation = (model["orientation"].to_numpy() != lexicon["orientation"].to_numpy()).astype(float)
    return (types + primary + orientation) / 3


def combined_score(scored: pd.DataFrame, strategy: Strategy) -> pd.Series:
    terms = scored.assign(sme=(scored["sme_targeted"].astype(bool) | scored["about_smes"].astype(bool)).astype(float))
    total = sum(weight * terms[name].rank(pct=True) for name, weight in strategy.weights.items())
    return total / sum(strategy.weights.values())


# ---------------------------------------------------------------- selection


def diverse_top(scored: pd.DataFrame, n: int, per_doc: int, near_duplicate: float) -> pd.DataFrame:
    """The best-scoring units, greedily, skipping over-represented documents and near-duplicates."""
    ranked = scored.sort_values("score", ascending=False, kind="stable")
    ranked = ranked.head(max(30 * n, 1000))  # diversity is only checked where picks can come from
    vectors = HashingVectorizer(analyzer="char", ngram_range=(2, 4), n_features=2**20).transform(ranked["text"])
    picked, per_document = [], {}
    for position, (index, doc_id) in enumerate(zip(ranked.index, ranked["doc_id"])):
        if len(picked) == n:
            break
        if per_document.get(doc_id, 0) >= per_doc:
            continue
        if picked and (vectors[[p for _, p in picked]] @ vectors[position].T).max() >= near_duplicate:
            continue
        picked.append((index, position))
        per_document[doc_id] = per_document.get(doc_id, 0) + 1
    if len(picked) < n:
        print(f"suggest: only {len(picked)} diverse units for the {n} asked", file=sys.stderr)
    return ranked.loc[[index for index, _ in picked]]


def suggest(units: pd.DataFrame, n: int, strategy: str, seed: int, clf=None, per_doc: int = 3,
            near_duplicate: float = 0.8) -> pd.DataFrame:
    """The batch rows for ``n`` units of the (unlabeled) pool, with how each was chosen."""
    if strategy in RANDOM_STRATEGIES:
        chosen = random_stratum(units, n, seed, strategy)
        sampling = pd.Series([random_sampling_name(u, strategy) for u in chosen["unit_id"]],
                             index=chosen.index, dtype=object)
    else:
        plan = Strategy.parse(strategy)
        scored = pd.concat([units.reset_index(drop=True), model_scores(units["text"].tolist(), clf)], axis=1)
        scored["score"] = combined_score(scored, plan)
        chosen = diverse_top(scored, n, per_doc, near_duplicate)
        sampling = pd.Series(plan.sampling, index=chosen.index)
    batch = chosen.assign(sampling=sampling, strategy=strategy, seed=seed, codebook_version=CODEBOOK_VERSION)
    return batch[BATCH_FIELDS].reset_index(drop=True)


def random_stratum(units: pd.DataFrame, n: int, seed: int, strategy: str) -> pd.DataFrame:
    pool = units[random_pool(units, strategy)]
    if len(pool) < n:
        print(f"suggest: the pool of {strategy} holds only {len(pool)} units for the {n} asked", file=sys.stderr)
    return pool.sample(min(n, len(pool)), random_state=seed)


def random_pool(units: pd.DataFrame, strategy: str) -> pd.Series:
    """The units a random strategy draws from (uniformly)."""
    if strategy == "random-sme":
        return units["sme_targeted"].astype(bool)
    return units["sme_pool"] == (strategy == "random")


def random_sampling_name(unit_id: str, strategy: str) -> str:
    """The stratum a random draw records (for reweighting): random:cn / random:sme / random:other, as in
    rounds 1-3, and random:cn-sme for Chinese measures drawn from the SME-targeted view."""
    if strategy == "random-other":
        return f"{RANDOM_STRATUM}other"
    if unit_id.startswith("stip:"):
        return f"{RANDOM_STRATUM}sme"
    return f"{RANDOM_STRATUM}cn-sme" if strategy == "random-sme" else f"{RANDOM_STRATUM}cn"


# ---------------------------------------------------------------- batch files

MEASURE_ONLY, RECORD_ONLY = ("section",), ("country", "wave")


def batch_records(batch: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: plain Python values, and only the fields that apply to the unit's kind."""
    records = []
    for row in batch.astype(object).where(batch.notna(), None).to_dict("records"):
        drop = MEASURE_ONLY if row["unit_id"].startswith("stip:") else RECORD_ONLY
        records.append({k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items() if k not in drop})
    return records


def write_batch(batch: pd.DataFrame, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for record in batch_records(batch):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def class_mix(batch: pd.DataFrame, clf) -> dict:
    """What the model predicts for a batch: units per type, primary and orientation."""
    if batch.empty:
        return {"units": 0}
    predicted = clf.estimator.predict(batch["text"].tolist())
    return {"units": len(batch),
            "types": {label: int(predicted["types"].map(lambda t: label in t).sum()) for label in LABELS},
            "none": int(predicted["types"].map(len).eq(0).sum()),
            "primary": predicted["primary"].value_counts().to_dict(),
            "orientation": predicted["orientation"].value_counts().to_dict(),
            "sampling": batch["sampling"].value_counts().to_dict(),
            "documents": int(batch["doc_id"].nunique())}
