"""Stage 6, report: category shares per corpus, with uncertainty, error correction and comparison.

Input: tagged documents and measures (``classifier tag --measures``) of one or more named
corpora. Figures per corpus, for the chosen unit (documents or measures):

* primary network type: shares among network units and among all units;
* rate at which each network type appears at all (multi-label);
* orientation shares (lead_firm / network / neutral) among network units;
* counts beside every share.

Uncertainty: percentile bootstrap intervals that resample documents (a measure
never leaves its document). Error correction: raw counts of predicted labels are
biased when the classifier errs, so beside them stand shares corrected with the
error rates measured in cross-validation (adjusted classify-and-count, ACC, solved
with QuaPy). The headline uses the ACC-corrected estimate. Comparison: differences
between corpora with bootstrap intervals and a chi-square test of the primary-type
distributions among network units.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from .codebook import LABELS, ORIENTATIONS, PRIMARY_CLASSES
from .codebook import parse_types
# OECD SME and Entrepreneurship Outlook 2023: mapping of 601 national policies supporting
# SME network expansion, shares by network type.
OECD_2023_REFERENCE = {"production": 0.52, "knowledge": 0.33, "partnership": 0.12, "cluster": 0.03}
OECD_2023_SOURCE = "OECD SME and Entrepreneurship Outlook 2023 (601 national policies supporting SME network expansion)"


# ---------------------------------------------------------------- units


def analysis_units(documents: pd.DataFrame, measures: pd.DataFrame | None, unit: str) -> pd.DataFrame:
    """One row per unit of analysis with ``group`` (its document), types, primary and orientation."""
    if unit == "documents":
        frame = documents[documents["error"].fillna("") == ""].copy()
        frame["group"] = frame["doc_id"]
    elif unit == "measures":
        if measures is None:
            raise ValueError("unit 'measures' needs the measure table (tag with --measures)")
        frame = measures.copy()
        frame["group"] = frame["doc_id"]
    else:
        raise ValueError("unit must be 'documents' or 'measures'")
    frame["types"] = _type_lists(frame["types"])
    return frame.reset_index(drop=True)


def _type_lists(column: pd.Series) -> pd.Series:
    """An object column of plain lists: mapping an Arrow string column would yield Arrow lists (numpy arrays)."""
    return pd.Series([parse_types(v) for v in column], index=column.index, dtype=object)


# ---------------------------------------------------------------- point estimates


def raw_figures(units: pd.DataFrame) -> dict:
    """Counts and shares of predicted labels (classify and count)."""
    n = len(units)
    networked = units[units["types"].map(bool)]
    n_net = len(networked)
    primary_counts = networked["primary"].value_counts()
    orientation_counts = networked["orientation"].value_counts()
    appears = {label: int(units["types"].map(lambda t, l=label: l in t).sum()) for label in LABELS}
    return {
        "units": n,
        "documents": int(units["group"].nunique()),
        "network_units": n_net,
        "network_share": _share(n_net, n),
        "primary_counts": {label: int(primary_counts.get(label, 0)) for label in LABELS},
        "primary_share_of_network": {label: _share(primary_counts.get(label, 0), n_net) for label in LABELS},
        "primary_share_of_all": {label: _share(primary_counts.get(label, 0), n) for label in LABELS},
        "type_counts": appears,
        "type_rate": {label: _share(count, n) for label, count in appears.items()},
        "orientation_counts": {o: int(orientation_counts.get(o, 0)) for o in ORIENTATIONS},
        "orientation_share_of_network": {o: _share(orientation_counts.get(o, 0), n_net) for o in ORIENTATIONS},
    }


def _share(count, total) -> float:
    return float(count) / total if total else float("nan")


@dataclass
class ErrorRates:
    """Cross-validated behaviour of the classifier: P(predicted | true) per axis."""

    primary: np.ndarray  # (5, 5) QuaPy orientation: entry (i, j) = P(pred_i | true_j), over PRIMARY_CLASSES
    types_tpr: dict
    types_fpr: dict

    @classmethod
    def from_oof(cls, truth: pd.DataFrame, predicted: pd.DataFrame) -> "ErrorRates":
        from quapy.method.aggregative import ACC

        primary = ACC.getPteCondEstim(list(PRIMARY_CLASSES), truth["primary"].to_numpy(), predicted["primary"].to_numpy())
        tpr, fpr = {}, {}
        for label in LABELS:
            y = truth["types"].map(lambda t, l=label: l in t).to_numpy()
            p = predicted["types"].map(lambda t, l=label: l in t).to_numpy()
            tpr[label] = float(p[y].mean()) if y.any() else 1.0
            fpr[label] = float(p[~y].mean()) if (~y).any() else 0.0
        return cls(primary, tpr, fpr)


MIN_RECALL_FOR_CORRECTION = 0.3  # below this a class is mostly read as another; inverting the rates is unstable


def correction_warnings(rates: ErrorRates) -> list[str]:
    """Why an ACC correction cannot be trusted: classes the classifier rarely recovers."""
    warnings = []
    for j, label in enumerate(PRIMARY_CLASSES):
        recall = rates.primary[j, j]
        if recall < MIN_RECALL_FOR_CORRECTION:
            confused = PRIMARY_CLASSES[int(np.argmax(np.where(np.arange(len(PRIMARY_CLASSES)) == j, -1, rates.primary[:, j])))]
            warnings.append(f"primary '{label}' is recovered in only {recall:.0%} of cross-validated cases "
                            f"(mostly predicted as '{confused}'), so the correction of its share is unstable")
    return warnings


def corrected_figures(units: pd.DataFrame, rates: ErrorRates) -> dict:
    """ACC: solve q = M p for the true prevalences p given predicted prevalences q and error rates M."""
    from quapy.functional import solve_adjustment_binary
    from quapy.method.aggregative import ACC

    n = len(units)
    q = np.array([(units["primary"] == c).mean() for c in PRIMARY_CLASSES]) if n else np.zeros(len(PRIMARY_CLASSES))
    p = ACC.solve_adjustment(rates.primary, q, method="invariant-ratio", solver="minimize") if n else q
    p = np.clip(p, 0, 1)
    p = p / p.sum() if p.sum() else p
    primary_all = dict(zip(PRIMARY_CLASSES, map(float, p)))
    network_mass = 1 - primary_all["none"]
    rate = {}
    for label in LABELS:
        observed = float(units["types"].map(lambda t, l=label: l in t).mean()) if n else float("nan")
        rate[label] = float(solve_adjustment_binary(observed, rates.types_tpr[label], rates.types_fpr[label], clip=True))
    return {
        "primary_share_of_all": {label: primary_all[label] for label in LABELS},
        "primary_share_of_network": {label: (primary_all[label] / network_mass if network_mass > 0 else float("nan"))
                                     for label in LABELS},
        "network_share": network_mass,
        "type_rate": rate,
    }


# ---------------------------------------------------------------- bootstrap


def bootstrap(units: pd.DataFrame, statistic, replicates: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile intervals of every number in ``statistic(units)``, resampling documents (groups)."""
    rng = np.random.default_rng(seed)
    resample = group_resampler(units)
    samples = [_flatten(statistic(resample(rng))) for _ in range(replicates)]
    alpha = (1 - level) / 2
    frame = pd.DataFrame(samples)
    low, high = frame.quantile(alpha), frame.quantile(1 - alpha)
    return {key: (float(low[key]), float(high[key])) for key in frame.columns}


def _flatten(figures: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)):
            flat[f"{prefix}{key}"] = value
    return flat


# ---------------------------------------------------------------- filters


@dataclass
class Filters:
    sme_only: bool = False
    countries: tuple = ()
    year_from: int | None = None
    year_to: int | None = None
    waves: tuple = ()
    langs: tuple = ()

    def apply(self, documents: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=documents.index)
        if self.sme_only:
            keep &= documents["sme_targeted"].fillna(False).astype(bool)
        if self.countries:
            wanted = {c.lower() for c in self.countries}
            keep &= documents["country"].fillna("").str.lower().isin(wanted) | documents["country_code"].fillna("").str.lower().isin(wanted)
        year = pd.to_numeric(documents.get("year"), errors="coerce")
        if self.year_from is not None:
            keep &= year >= self.year_from
        if self.year_to is not None:
            keep &= year <= self.year_to
        if self.waves:
            keep &= pd.to_numeric(documents.get("wave"), errors="coerce").isin(self.waves)
        if self.langs:
            keep &= documents["lang"].isin(self.langs)
        return documents[keep]

    def describe(self) -> str:
        parts = []
        if self.sme_only:
            parts.append("SME-targeted documents only (STIP: target group TG31; other texts: title names SMEs "
                         "or the text names them at least 3 times)")
        if self.countries:
            parts.append(f"countries: {', '.join(self.countries)}")
        if self.year_from is not None or self.year_to is not None:
            parts.append(f"years {self.year_from or '…'}–{self.year_to or '…'}")
        if self.waves:
            parts.append(f"STIP waves: {', '.join(map(str, self.waves))}")
        if self.langs:
            parts.append(f"languages: {', '.join(self.langs)}")
        return "; ".join(parts) or "none"


# ---------------------------------------------------------------- the report


def corpus_figures(units: pd.DataFrame, rates: ErrorRates | None, replicates: int, seed: int) -> dict:
    raw = raw_figures(units)
    figures = {"raw": raw, "raw_ci": bootstrap(units, raw_figures, replicates, seed) if len(units) else {}}
    figures["correction_warnings"] = correction_warnings(rates) if rates is not None else []
    if rates is not None:
        figures["corrected"] = corrected_figures(units, rates)
        figures["corrected_ci"] = bootstrap(units, lambda u: corrected_figures(u, rates), replicates, seed) if len(units) else {}
    # The corrected estimate leads only where the error rates can be inverted reliably.
    figures["headline"] = "corrected" if rates is not None and not figures["correction_warnings"] else "raw"
    return figures


def compare(units_by_corpus: dict[str, pd.DataFrame], replicates: int, seed: int) -> list[dict]:
    """Pairwise: difference of primary shares among network units (bootstrap CI) and a chi-square test."""
    names = list(units_by_corpus)
    results = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ua, ub = units_by_corpus[a], units_by_corpus[b]
            table = np.array([[figures["primary_counts"][l] for l in LABELS] for figures in (raw_figures(ua), raw_figures(ub))])
            used = table.sum(axis=0) > 0
            chi2, pvalue, dof, _ = chi2_contingency(table[:, used]) if used.sum() >= 2 and (table.sum(axis=1) > 0).all() else (float("nan"),) * 4
            diffs = _difference_ci(ua, ub, replicates, seed)
            results.append({"corpora": [a, b], "chi2": float(chi2), "dof": dof if isinstance(dof, float) else int(dof),
                            "p_value": float(pvalue), "counts": {a: table[0].tolist(), b: table[1].tolist()},
                            "difference_primary_share_of_network": diffs})
    return results


def _difference_ci(ua: pd.DataFrame, ub: pd.DataFrame, replicates: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    shares_a, shares_b = raw_figures(ua)["primary_share_of_network"], raw_figures(ub)["primary_share_of_network"]
    point = {l: shares_a[l] - shares_b[l] for l in LABELS}
    draws = {l: [] for l in LABELS}
    resample_a, resample_b = group_resampler(ua), group_resampler(ub)
    for _ in range(replicates):
        fa = raw_figures(resample_a(rng))["primary_share_of_network"]
        fb = raw_figures(resample_b(rng))["primary_share_of_network"]
        for l in LABELS:
            draws[l].append(fa[l] - fb[l])
    return {l: {"difference": point[l], "ci": [float(np.nanpercentile(draws[l], 2.5)), float(np.nanpercentile(draws[l], 97.5))]}
            for l in LABELS}


def group_resampler(units: pd.DataFrame):
    """A function rng -> a bootstrap sample of ``units`` that draws whole groups (documents) with replacement."""
    codes, uniques = pd.factorize(units["group"])
    members = [np.flatnonzero(codes == k) for k in range(len(uniques))]

    def resample(rng) -> pd.DataFrame:
        chosen = rng.integers(0, len(members), len(members))
        return units.iloc[np.concatenate([members[k] for k in chosen]) if members else np.array([], int)]

    return resample


# The unit each corpus's labels (and so its measured error rates) are at.
LABELED_UNIT = {"oecd": "documents", "cn": "measures"}


def error_rates_from_model(model_path: Path, unit: str | None = None) -> dict[str, ErrorRates]:
    """Per corpus, the cross-validated error rates saved beside the model.

    With ``unit``, only corpora whose labels are at that unit: error rates measured on
    Chinese measures do not describe documents aggregated from many measures.
    """
    oof_path = Path(model_path) / "oof_predictions.csv"
    labels_path = Path(model_path) / "oof_truth.csv"
    if not oof_path.exists() or not labels_path.exists():
        return {}
    predicted = pd.read_csv(oof_path, dtype=str, keep_default_na=False)
    truth = pd.read_csv(labels_path, dtype=str, keep_default_na=False)
    for frame in (predicted, truth):
        frame["types"] = _type_lists(frame["types"])
    merged = truth.merge(predicted, on="unit_id", suffixes=("", "_pred"))
    pred = merged[["types_pred", "primary_pred"]].rename(columns=lambda c: c.replace("_pred", ""))
    rates = {}
    for corpus, part in merged.groupby("corpus"):
        if unit is None or LABELED_UNIT.get(corpus) == unit:
            rates[corpus] = ErrorRates.from_oof(part, pred.loc[part.index])
    return rates


# ---------------------------------------------------------------- assembling a report

METHOD = [
    "Documents are split into measures; every measure is classified (network types with calibrated probabilities, "
    "orientation) and documents are labeled by the codebook's aggregation rules (union of types, most frequent "
    "primary type, majority orientation of non-neutral measures).",
    "Raw figures count predicted labels (classify and count). Corrected figures apply adjusted classify-and-count "
    "(ACC): the misclassification rates P(predicted | true) measured in grouped cross-validation of the model "
    "(models/default/oof_*.csv) are inverted with QuaPy's invariant-ratio solver for the primary type and the "
    "binary ACC formula for each type's rate. Error rates are those of the corpus's own labeled units, so the "
    "correction is applied only at that unit (OECD: documents; Chinese: measures); elsewhere the headline is the "
    "raw estimate. ACC can reach the boundary (0%) when a class's predicted rate is below its false-positive rate. "
    "Orientation shares are raw. Where a class is recovered in fewer than 30% of cross-validated cases the "
    "inversion is unstable (it can move that class's share almost anywhere); the report then says so and "
    "headlines the raw estimate, with the corrected one beside it.",
    "95% intervals are percentile bootstrap intervals that resample documents (all measures of a document move "
    "together); corrected estimates are recomputed in every replicate.",
    "Corpora are compared with a chi-square test of the primary-type counts among network units and bootstrap "
    "intervals for the difference in shares.",
]


def build_report(corpora: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]], unit: str = "documents",
                 filters: Filters | None = None, rates: dict[str, ErrorRates] | None = None, replicates: int = 1000,
                 seed: int = 0, illustrative: bool = False) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Figures per corpus and comparisons; also returns the filtered units per corpus."""
    filters = filters or Filters()
    rates = rates or {}
    units_by_corpus, figures = {}, {}
    for name, (documents, measures) in corpora.items():
        kept = filters.apply(documents)
        kept_measures = measures[measures["doc_id"].isin(kept["doc_id"])] if measures is not None else None
        units = analysis_units(kept, kept_measures, unit)
        if unit == "measures":  # measures inherit their document's metadata (country, year ...)
            meta = kept.set_index("doc_id")[["country"]]
            units = units.join(meta, on="doc_id")
        units_by_corpus[name] = units
        figures[name] = corpus_figures(units, rates.get(name), replicates, seed)
    report = {
        "unit": unit, "filters": filters.describe(), "illustrative": illustrative,
        "headline": {name: f["headline"] for name, f in figures.items()},
        "corpora": figures, "comparisons": compare(units_by_corpus, replicates, seed),
        "reference": {"source": OECD_2023_SOURCE, "primary_share_of_network": OECD_2023_REFERENCE},
        "method": METHOD, "bootstrap_replicates": replicates, "seed": seed,
    }
    return report, units_by_corpus


def evidence_examples(units_by_corpus: dict[str, pd.DataFrame], per_label: int = 3) -> dict[str, list[dict]]:
    """For each category, the most confident evidence passages across corpora (for the HTML report)."""
    examples: dict[str, list[dict]] = {label: [] for label in (*LABELS, "lead_firm", "network")}
    for name, units in units_by_corpus.items():
        if "evidence" not in units:
            continue
        for row in units.itertuples():
            items = json.loads(row.evidence) if isinstance(row.evidence, str) else (row.evidence or [])
            for item in items:
                if item["label"] in examples:
                    phrases = [{"start": p["start"] - item["start"], "end": p["end"] - item["start"]} for p in item["phrases"]]
                    examples[item["label"]].append({"text": item["text"], "phrases": phrases, "probability": item["probability"],
                                                    "source": f"{name}: {row.title or row.doc_id}"})
    return {label: sorted(items, key=lambda i: -i["probability"])[:per_label] for label, items in examples.items()}
