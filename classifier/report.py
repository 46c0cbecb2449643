"""Stage 6, report: category shares per corpus, with uncertainty, error correction and comparison.

Input: tagged documents and measures (``classifier tag --measures``) of one or more named
corpora. Per corpus and view (SME-targeted documents, the headline; all policies beside
it), for the chosen unit (documents or measures), four families of figures:

* primary network type: shares among network units;
* orientation (lead_firm / network / neutral) among network units, and the lead-firm
  minus network gap;
* rate at which each network type appears at all (multi-label);
* network share: units with any network type.

Every figure is a typed :class:`Figure` holding the raw (classify and count) estimate
with its 95% interval and counts, optionally a corrected estimate with its interval and
estimator name, and which of the two is the headline. Everything the renderer prints
reads from these objects. The correction sits behind ONE function,
:func:`corpus_estimates`, so that another estimator can replace it.

Uncertainty: percentile bootstrap intervals that resample documents (a measure never
leaves its document), only for shares and differences (counts get no interval).
"""
from __future__ import annotations

import contextlib

import json
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from .codebook import LABELS, ORIENTATIONS, PRIMARY_CLASSES, parse_types

# OECD SME and Entrepreneurship Outlook 2023: mapping of 601 national policies supporting
# SME network expansion, shares by network type.
OECD_2023_REFERENCE = {"production": 0.52, "knowledge": 0.33, "partnership": 0.12, "cluster": 0.03}
OECD_2023_SOURCE = "OECD SME and Entrepreneurship Outlook 2023 (601 national policies supporting SME network expansion)"
OECD_2023_POLICIES = 601
LEVEL = 0.95

# Figure families: name -> (categories, denominator). Every share is a ratio of two unit counts.
NETWORK, ALL = "network units", "all units"
FAMILIES = {
    "primary_share_of_network": (LABELS, NETWORK),
    "orientation_share_of_network": (ORIENTATIONS, NETWORK),
    "type_rate": (LABELS, ALL),
    "network_share": (("network",), ALL),
}
GAP_FAMILY, GAP = "orientation_gap", "lead_firm - network"  # a difference of two shares, in share points


class ReportError(ValueError):
    """A report that cannot be made from its inputs (named in the message)."""


# ---------------------------------------------------------------- the typed result


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (``None`` when it cannot be given honestly)."""

    value: float
    ci: tuple[float, float] | None = None

    def __post_init__(self):
        if self.ci is not None and not (self.ci[0] <= self.value <= self.ci[1]):
            raise ValueError(f"interval {self.ci} does not contain its estimate {self.value}")


@dataclass(frozen=True)
class Figure:
    """One share of one corpus: raw estimate with counts, optionally a corrected one, and the headline."""

    family: str
    category: str
    count: int | None  # units predicted in the category (None for differences)
    denominator: int  # units the share is of
    raw: Estimate
    corrected: Estimate | None = None
    estimator: str | None = None  # name of the corrected estimator, e.g. "ACC"
    headline: str = "raw"  # "raw" or "corrected"

    @property
    def best(self) -> Estimate:
        return self.corrected if self.headline == "corrected" and self.corrected is not None else self.raw


@dataclass
class CorpusEstimates:
    corpus: str
    units: int
    documents: int
    network_units: int
    figures: dict[str, dict[str, Figure]]  # family -> category -> figure
    warnings: list[str] = field(default_factory=list)
    read_out_of_fold: int = 0  # labeled units among them, read with their out-of-fold predictions

    def figure(self, family: str, category: str) -> Figure:
        return self.figures[family][category]

    def estimators_of(self, families) -> set[str]:
        """What leads in these families of figures: each corrected figure's estimator, or ``raw``."""
        return {f.estimator if f.headline == "corrected" else "raw" for name in families for f in self.figures[name].values()}


@dataclass
class Comparison:
    """Two corpora: chi-square of primary-type counts among network units, and differences of shares."""

    corpora: tuple[str, str]
    chi2: float
    dof: int | None
    p_value: float
    differences: dict[str, dict[str, Estimate]]  # family -> category -> (a - b), raw estimates


@dataclass
class View:
    name: str  # "sme" or "all"
    title: str
    filters: str
    corpora: dict[str, CorpusEstimates]
    comparisons: list[Comparison]


@dataclass
class Report:
    unit: str
    illustrative: bool
    views: dict[str, View]  # the headline view first
    method: list[str]
    replicates: int
    seed: int
    reference: dict = field(default_factory=lambda: {"source": OECD_2023_SOURCE, "policies": OECD_2023_POLICIES,
                                                     "primary_share_of_network": OECD_2023_REFERENCE})

    @property
    def headline(self) -> View:
        return next(iter(self.views.values()))

    def to_json(self) -> dict:
        """Full precision; NaN (a share of nothing) becomes null."""
        return _json_safe(asdict(self))


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


# ---------------------------------------------------------------- units


def analysis_units(documents: pd.DataFrame, measures: pd.DataFrame | None, unit: str) -> pd.DataFrame:
    """One row per unit of analysis with ``group`` (its document), types, primary and orientation."""
    if unit == "documents":
        frame = documents[documents["error"].fillna("") == ""].copy()
    elif unit == "measures":
        if measures is None:
            raise ReportError("unit 'measures' needs the measure table (tag with --measures)")
        frame = measures.copy()
    else:
        raise ReportError("unit must be 'documents' or 'measures'")
    frame["group"] = frame["doc_id"]
    frame["types"] = _type_lists(frame["types"])
    return frame.reset_index(drop=True)


def _type_lists(column: pd.Series) -> pd.Series:
    """An object column of plain lists: mapping an Arrow string column would yield Arrow lists (numpy arrays)."""
    return pd.Series([parse_types(v) for v in column], index=column.index, dtype=object)


# ---------------------------------------------------------------- raw shares, vectorised bootstrap


def _indicators(units: pd.DataFrame) -> pd.DataFrame:
    """0/1 columns per unit whose sums give every count a raw figure needs."""
    networked = units["types"].map(bool).to_numpy()
    columns = {NETWORK: networked, ALL: np.ones(len(units), bool)}
    for label in LABELS:
        columns[f"primary_share_of_network.{label}"] = networked & (units["primary"] == label).to_numpy()
        columns[f"type_rate.{label}"] = units["types"].map(lambda t, l=label: l in t).to_numpy(bool)
    for o in ORIENTATIONS:
        columns[f"orientation_share_of_network.{o}"] = networked & (units["orientation"] == o).to_numpy()
    columns["network_share.network"] = networked
    return pd.DataFrame(columns).astype(int)


def group_counts(units: pd.DataFrame) -> pd.DataFrame:
    """Indicator sums per group (document): a bootstrap replicate is a weighted sum of these rows."""
    return _indicators(units).groupby(units["group"].to_numpy(), sort=False).sum()


def _ratios(sums: pd.DataFrame) -> pd.DataFrame:
    """Shares (and the lead-firm gap) from count sums; rows are replicates."""
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for family, (categories, denominator) in FAMILIES.items():
            for c in categories:
                out[f"{family}.{c}"] = sums[f"{family}.{c}"] / sums[denominator].where(sums[denominator] > 0)
    out[f"{GAP_FAMILY}.{GAP}"] = out["orientation_share_of_network.lead_firm"] - out["orientation_share_of_network.network"]
    return pd.DataFrame(out)


def bootstrap_ratios(counts: pd.DataFrame, replicates: int, seed: int, batch: int = 100) -> pd.DataFrame:
    """Replicate ratios: groups drawn with replacement (multinomial weights), ``replicates`` rows."""
    rng = np.random.default_rng(seed)
    n = len(counts)
    matrix = counts.to_numpy(float)
    draws = []
    for start in range(0, replicates, batch):
        weights = rng.multinomial(n, np.full(n, 1 / n), size=min(batch, replicates - start)) if n else np.zeros((0, 0))
        draws.append(pd.DataFrame(weights @ matrix if n else np.zeros((len(weights), matrix.shape[1])),
                                  columns=counts.columns))
    return _ratios(pd.concat(draws, ignore_index=True)) if draws else _ratios(counts.iloc[:0])


def percentile_interval(point: float, draws: pd.Series, level: float = LEVEL) -> tuple[float, float] | None:
    """Percentile interval of the draws, or None when there is none or it does not contain the point."""
    values = draws.dropna().to_numpy()
    if point != point or not len(values):
        return None
    alpha = (1 - level) / 2
    low, high = (float(v) for v in np.quantile(values, [alpha, 1 - alpha]))
    return (low, high) if low <= point <= high else None


def raw_estimates(units: pd.DataFrame, replicates: int, seed: int) -> tuple[dict[str, dict[str, Figure]], list[str]]:
    """Classify-and-count figures with bootstrap intervals (documents resampled)."""
    counts = group_counts(units)
    totals = counts.sum()
    points = _ratios(totals.to_frame().T).iloc[0]
    draws = bootstrap_ratios(counts, replicates, seed)
    figures: dict[str, dict[str, Figure]] = {}
    warnings = []
    for key, point in points.items():
        family, category = key.split(".", 1)
        ci = percentile_interval(float(point), draws[key])
        if ci is None and point == point and replicates:
            warnings.append(f"{key}: the bootstrap interval does not contain the estimate; no interval given")
        if family == GAP_FAMILY:
            count, denominator = None, int(totals[NETWORK])
        else:
            count, denominator = int(totals[key]), int(totals[FAMILIES[family][1]])
        figures.setdefault(family, {})[category] = Figure(family, category, count, denominator, Estimate(float(point), ci))
    return figures, warnings


# ---------------------------------------------------------------- error correction (ACC)
# Everything from here to corpus_estimates is the correction that classifier/quantify.py replaces.


@dataclass
class Correction:
    """What corrects one corpus: the labeled out-of-fold units of its language and the benchmark's choices."""

    lang: str
    labeled: object  # quantify.LabeledPosteriors
    selection: dict  # target -> estimator name chosen by benchmarks/bench_quantify.py
    # target -> the estimator chosen for a view holding labels that stand for it by design: "PPI" where the benchmark
    # found the prediction-powered estimate closer to the truth than the selected quantifier (prediction_powered)
    with_view_labels: dict = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return self.labeled.unit

    @cached_property
    def fitted(self):
        """The quantifiers its labels give, fitted once for every view and corpus of the language."""
        from .quantify import FittedQuantifiers

        return FittedQuantifiers(self.labeled)

    @cached_property
    def out_of_fold(self) -> pd.DataFrame:
        """The labeled units' out-of-fold readings (labels and p_* columns), indexed by unit id; built once for
        every view and corpus of the language."""
        if "unit_id" not in self.labeled.truth:
            return pd.DataFrame()
        predicted = self.labeled.predicted.assign(types=_type_lists(self.labeled.predicted["types"]))
        return predicted.set_index(self.labeled.truth["unit_id"].to_numpy())


CORRECTION_REPLICATES = 200  # corrected intervals refit the quantifier per replicate: fewer replicates than raw


def corrections_from_model(model_path: Path) -> dict[str, Correction]:
    """Per language, the labeled out-of-fold units and selected estimators saved beside the model."""
    from .quantify import labeled_posteriors, read_selection

    selection = read_selection(model_path).get("languages", {})

    def chosen(lang: str, key: str) -> dict:
        return {t: v[key] for t, v in selection.get(lang, {}).get("targets", {}).items() if key in v}

    return {lang: Correction(lang, labeled, chosen(lang, "selected"), chosen(lang, "selected_with_view_labels"))
            for lang, labeled in labeled_posteriors(model_path).items()}


def corpus_lang(documents: pd.DataFrame) -> str:
    """A corpus's language: that of most of its documents."""
    langs = documents.loc[documents["error"].fillna("") == "", "lang"] if "lang" in documents else pd.Series(dtype=str)
    return str(langs.mode().iloc[0]) if len(langs.mode()) else "und"


def _with_correction(figures: dict[str, dict[str, Figure]], units: pd.DataFrame, correction: Correction,
                     replicates: int, seed: int, view: Filters | None = None) -> list[str]:
    """Adds the benchmark-selected estimates beside the raw ones; they lead where they beat raw counting. In a view
    whose labels stand for it by design (``Filters.labeled_by_design``), a target whose benchmark found the
    prediction-powered estimate (``PPI``) closer than the selected quantifier takes it wherever the analysed units
    hold enough labels standing for the view."""
    from .prediction_powered import PPI
    from .quantify import TARGETS, corpus_posteriors, estimate_shares, flat_shares

    if not correction.selection:
        return [f"no quantification benchmark for language '{correction.lang}' beside the model "
                "(run benchmarks/bench_quantify.py): raw counts only"]
    view = view or Filters()
    warnings = []
    scored = corpus_posteriors(units)
    standing = labels_standing_for(units, correction) if view.labeled_by_design else None
    for target in TARGETS:
        name = correction.selection.get(target, "CC")
        if standing is not None and correction.with_view_labels.get(target) == PPI:
            name = PPI
            point, intervals = _prediction_powered(target, scored, standing, replicates, seed)
        elif name == "CC":
            continue  # raw counting is what the benchmark found best: the raw figure is the headline
        else:
            point = flat_shares(estimate_shares(name, target, scored, correction.labeled, correction.fitted))
            intervals = _corrected_intervals(name, target, point, scored, units, correction, replicates, seed,
                                             view.sme_only)
        failed = sorted(key for key, value in point.items() if value != value)
        if failed:  # an estimator that returns no number never takes the headline from the raw figure
            warnings.append(f"{name} gave no estimate of {', '.join(failed)} for language '{correction.lang}': "
                            "the raw figures are the headline there")
        for key, value in point.items():
            if value != value:
                continue
            family, category = key.split(".", 1)
            if intervals.get(key) is None and replicates:
                warnings.append(f"corrected {key}: no bootstrap draw gave a number; no interval given")
            figures[family][category] = replace(figures[family][category],
                                                corrected=Estimate(float(value), intervals.get(key)),
                                                estimator=name, headline="corrected")
    return warnings


def _corrected_intervals(name: str, target: str, point: dict, scored: pd.DataFrame, units: pd.DataFrame,
                         correction: Correction, replicates: int, seed: int, sme_only: bool = False) -> dict:
    """Per share, the bootstrap interval (corpus and labeled documents resampled) widened by held-out errors."""
    from .quantify import bootstrap_shares

    if not replicates:
        return {}
    draws = pd.DataFrame(bootstrap_shares(name, target, scored, units["group"].to_numpy(), correction.labeled,
                                          min(replicates, CORRECTION_REPLICATES), seed, correction.fitted))
    errors = pd.DataFrame(correction.fitted.held_out_errors(name, target, seed, size=len(scored), sme_only=sme_only))
    return _intervals(point, draws, errors)


def _intervals(point: dict, draws: pd.DataFrame, errors: pd.DataFrame) -> dict:
    """Per share, the bootstrap's percentile interval, widened to the reach of held-out errors where there are any."""
    from .quantify import corrected_interval

    return {key: corrected_interval(value, draws[key], errors[key] if key in errors else [], LEVEL,
                                    bounds=(-1.0, 1.0) if key.startswith(GAP_FAMILY) else (0.0, 1.0))
            for key, value in point.items() if key in draws}


def labels_standing_for(units: pd.DataFrame, correction: Correction):
    """The analysed units that are labeled units standing for the view by design (``classifier.sampling``:
    ``design_roles``, ``design_weights``; the units themselves, ``labeled_unit``, not copies of their text): rows,
    truth, design weights and whether each stands for the rest of its cell; None when fewer than
    ``prediction_powered.MIN_LABELS`` stand for the rest (the units nobody labeled).

    Only a view labeled by design asks for them (``Filters.labeled_by_design``: the SME-targeted view, whose every
    design cell was drawn at random; the Chinese measures outside the pool and the SME view never were)."""
    from .prediction_powered import MIN_LABELS

    labeled = correction.labeled
    if "unit_id" not in labeled.truth or "labeled_unit" not in units:
        return None
    position = pd.Series(np.arange(len(labeled)), index=labeled.truth["unit_id"].to_numpy())
    found = units["labeled_unit"].map(position)
    rows = np.flatnonzero(found.notna().to_numpy())
    at = found.iloc[rows].astype(int).to_numpy()
    weights, rest = labeled.design_weights()[at], labeled.stands_for_rest()[at]
    standing = weights > 0
    if np.count_nonzero(rest & standing) < MIN_LABELS:
        return None
    return rows[standing], labeled.truth.iloc[at[standing]], weights[standing], rest[standing]


def _prediction_powered(target: str, scored: pd.DataFrame, standing, replicates: int,
                        seed: int) -> tuple[dict, dict]:
    """Flat shares and intervals of a target from the view's posteriors and the labels standing for it."""
    from .prediction_powered import SIMULATED_VIEWS, LabeledSample, estimate, simulated_errors
    from .quantify import labels_of, posteriors

    rows, truth, weights, rest = standing
    sample = LabeledSample(rows, labels_of(truth, target), weights, rest)
    scores = posteriors(scored, target)
    point, draws = estimate(target, scores, sample, min(replicates, CORRECTION_REPLICATES), seed)
    if not replicates:
        return point, {}
    errors = pd.DataFrame(simulated_errors(target, scores, sample, SIMULATED_VIEWS, seed))
    return point, _intervals(point, pd.DataFrame(draws), errors)


def corpus_estimates(name: str, units: pd.DataFrame, correction: Correction | None, replicates: int,
                     seed: int, view: Filters | None = None) -> CorpusEstimates:
    """THE estimation boundary: raw figures with intervals, plus corrected ones where the corpus's unit has labels
    (``view``: the filters the units passed; the SME-targeted view's class mix is the one the correction's errors
    are drawn at, and where its labels stand for it by design PPI may lead)."""
    figures, warnings = raw_estimates(units, replicates, seed)
    if correction is not None and len(units):
        warnings += _with_correction(figures, units, correction, replicates, seed, view)
    network = figures["network_share"]["network"]
    out_of_fold = int(units["read_out_of_fold"].sum()) if "read_out_of_fold" in units else 0
    return CorpusEstimates(name, network.denominator, int(units["group"].nunique()), network.count, figures, warnings,
                           out_of_fold)


# ---------------------------------------------------------------- comparison


def compare(units_by_corpus: dict[str, pd.DataFrame], replicates: int, seed: int) -> list[Comparison]:
    """Pairwise: chi-square of primary-type counts among network units and raw differences of shares (bootstrap)."""
    names = list(units_by_corpus)
    counts = {name: group_counts(units) for name, units in units_by_corpus.items()}
    results = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            table = np.array([[counts[n][f"primary_share_of_network.{l}"].sum() for l in LABELS] for n in (a, b)])
            chi2, dof, p_value = _chi_square(table)
            results.append(Comparison((a, b), chi2, dof, p_value, _differences(counts[a], counts[b], replicates, seed)))
    return results


def _chi_square(table: np.ndarray) -> tuple[float, int | None, float]:
    used = table.sum(axis=0) > 0
    if used.sum() < 2 or not (table.sum(axis=1) > 0).all():
        return float("nan"), None, float("nan")
    chi2, p_value, dof, _ = chi2_contingency(table[:, used])
    return float(chi2), int(dof), float(p_value)


def _differences(counts_a: pd.DataFrame, counts_b: pd.DataFrame, replicates: int, seed: int) -> dict:
    point = _ratios(counts_a.sum().to_frame().T).iloc[0] - _ratios(counts_b.sum().to_frame().T).iloc[0]
    draws = bootstrap_ratios(counts_a, replicates, seed) - bootstrap_ratios(counts_b, replicates, seed + 1)
    out: dict[str, dict[str, Estimate]] = {}
    for key in ("primary_share_of_network", "orientation_share_of_network", GAP_FAMILY):
        for column in [c for c in point.index if c.startswith(key + ".")]:
            out.setdefault(key, {})[column.split(".", 1)[1]] = Estimate(float(point[column]),
                                                                        percentile_interval(float(point[column]), draws[column]))
    return out


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    sme_only: bool = False
    countries: tuple = ()
    year_from: int | None = None
    year_to: int | None = None
    waves: tuple = ()
    langs: tuple = ()

    @property
    def labeled_by_design(self) -> bool:
        """Whether the labels standing for the SME-targeted view by design stand for this view too: a filter on
        countries, years or languages keeps a part of it whose labels are a part of them, but a wave filter keeps
        the records of one wave, of which the labeled ones (each initiative's latest wave) are no random sample."""
        return self.sme_only and not self.waves

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
            parts.append(SME_RULE)
        if self.countries:
            parts.append(f"countries: {', '.join(self.countries)}")
        if self.year_from is not None or self.year_to is not None:
            parts.append(f"years {self.year_from or '…'}–{self.year_to or '…'}")
        if self.waves:
            parts.append(f"STIP waves: {', '.join(map(str, self.waves))}")
        if self.langs:
            parts.append(f"languages: {', '.join(self.langs)}")
        return "; ".join(parts) or "none"


SME_RULE = ("SME-targeted documents only (STIP: target group TG31; other texts: title names SMEs "
            "or the text names them at least 3 times)")


# ---------------------------------------------------------------- assembling a report


def method_text(replicates: int, corrected: dict[str, str], out_of_fold: dict[str, int] | None = None) -> list[str]:
    """The method section, with what this run actually did (``corrected``: corpus -> how it was corrected;
    ``out_of_fold``: corpus -> labeled units read with their out-of-fold predictions)."""
    from .prediction_powered import MIN_LABELS
    from .quantify import ESTIMATORS, HELD_OUT_SPLITS

    how = "; ".join(f"{c}: {h}" for c, h in corrected.items()) or "no corpus in this run"
    read = "; ".join(f"{c}: {n:,}" for c, n in (out_of_fold or {}).items() if n) or "none in this run"
    return [
        "Documents are split into measures; every measure is classified (network types with calibrated "
        "probabilities, orientation given a network unit) and documents are labeled by the codebook's aggregation "
        "rules; English documents of programme-record size are classified whole, as their labels were given.",
        "Raw figures count predicted labels (classify and count). Corrected figures are QuaPy quantifiers "
        f"({', '.join(name for name in ESTIMATORS if name != 'CC')}; BCTS is bias-corrected temperature scaling, PCC "
        "the mean of calibrated probabilities) that learn the classifier's errors and calibration from its grouped "
        "cross-validated predictions on the labeled units of the corpus's language. They apply only at the unit those labels are at "
        "(Chinese: measures; English: programme records). For each language and target the estimator is the one "
        "benchmarks/bench_quantify.py found closest to the truth on held-out labeled folds at the class mix of the "
        "SME-targeted view of the corpora (from the labels standing for it, weighted by the sampling design; not the "
        "enriched labeled set's); where raw counting won, the raw "
        f"figure leads. This run: {how}.",
        "Where the benchmark found it closer still, a figure of the SME-targeted view is prediction-powered (PPI): "
        "the mean of the calibrated probabilities over the view's units, plus the mean of (truth - probability) over "
        f"its labeled units (at least {MIN_LABELS} of them from the random draw standing for a cell's rest), each "
        "weighted by the sampling design: a unit of a cell's standing draw stands for its part of the rest of the "
        "cell, every unit labeled before that draw (chosen, or from an earlier draw) for itself, and those labeled "
        "after it, which it already stands for, for nothing. The labels correct the classifier on the "
        "very units analysed, so no error rate learned on other texts has to carry over; what is assumed is that the "
        "out-of-fold readings of the labeled units err as the final model's readings of the rest do. Its interval "
        "is about the analysed view itself, not about policies like it: it resamples the standing draws' labels (with a "
        "finite-population correction), as what is uncertain is which of the view's other units they are, and is "
        "widened where needed to reach the estimate's errors on views simulated from the same labels.",
        "The model was trained on the labeled units, so it reads them better than unseen text; where an analysed "
        "corpus contains labeled units they are read with their out-of-fold (cross-validated) predictions, so that "
        f"the whole corpus is unseen text to the classifier, as the error rates behind a correction are (labeled units "
        f"read out-of-fold: {read}).",
        f"{LEVEL:.0%} intervals are percentile bootstrap intervals that resample documents (all measures of a document "
        f"move together), {replicates:,} replicates for raw figures; corrected figures resample the labeled documents "
        f"behind the correction too ({min(replicates, CORRECTION_REPLICATES):,} replicates), so a correction learned from "
        "few labels gets a wide interval; it is widened where needed to reach the estimate plus or minus the 95% "
        f"quantile of the estimator's errors on labeled documents it was not fitted on ({HELD_OUT_SPLITS} random "
        "splits holding out a fifth, drawn at the class mix of the labels standing for the view (SME-targeted or "
        "all, each weighted by how many units of its corpus it stands for) and to the corpus's size), "
        "so it also carries how far the correction transfers to new documents. Counts "
        "are exact and carry no interval; a raw interval that would not contain its estimate is not given.",
        "Corpora are compared with a chi-square test of the primary-type counts among network units and bootstrap "
        "intervals for the differences in shares (raw estimates).",
    ]


LABELED = "labeled"  # the unit choice "each corpus at the unit its language's labels are at"


def corpus_unit(unit: str, correction: Correction | None) -> str:
    if unit != LABELED:
        return unit
    return correction.unit if correction is not None else "documents"


def build_view(name: str, corpora: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]], unit: str, filters: Filters,
               corrections: dict[str, Correction], replicates: int, seed: int) -> tuple[View, dict[str, pd.DataFrame]]:
    units_by_corpus, estimates = {}, {}
    for corpus, (documents, measures) in corpora.items():
        kept = filters.apply(documents)
        kept_measures = measures[measures["doc_id"].isin(kept["doc_id"])] if measures is not None else None
        correction = corrections.get(corpus_lang(documents))
        chosen = corpus_unit(unit, correction)
        units = analysis_units(kept, kept_measures, chosen)
        if chosen == "measures":  # measures inherit their document's metadata (country, year ...)
            units = units.join(kept.set_index("doc_id")[["country"]], on="doc_id")
        usable = correction if correction is not None and correction.unit == chosen else None
        if usable is not None:  # only the labels' own unit can hold labeled units
            units = read_labeled_out_of_fold(units, usable, chosen)
        units_by_corpus[corpus] = units
        estimates[corpus] = corpus_estimates(corpus, units, usable, replicates, seed, filters)
    title = "SME-targeted policies" if filters.sme_only else "all policies"
    view = View(name, title, filters.describe(), estimates, compare(units_by_corpus, replicates, seed))
    return view, units_by_corpus


def read_labeled_out_of_fold(units: pd.DataFrame, correction: Correction, unit: str) -> pd.DataFrame:
    """Analysed units that are labeled units, or carry a labeled unit's exact text, take that unit's out-of-fold
    reading (``read_out_of_fold`` marks them; ``labeled_unit`` names the labeled unit a unit *is*, copies aside).

    The model was trained on the labeled units, so its reading of them (and of their copies elsewhere in a
    corpus) is better than of any other text; the error rates behind a correction are those of unseen text
    (out-of-fold). Reading them out-of-fold too makes the whole corpus unseen text to the classifier, as the
    correction assumes.
    """
    from .quantify import corpus_posteriors

    units = corpus_posteriors(units)
    oof = correction.out_of_fold
    labeled_as = labeled_units_among(units, correction, unit)
    units["labeled_unit"] = labeled_as
    if "text" in units:  # a copy of a labeled text (the same article in another regulation) reads as its original
        originals = dict(zip(units["text"][labeled_as.notna()], labeled_as.dropna()))
        labeled_as = labeled_as.fillna(units["text"].map(originals))
    hit = labeled_as.notna().to_numpy()
    units["read_out_of_fold"] = hit
    if hit.any():
        readings = oof.loc[labeled_as[hit]]
        for column in [c for c in readings.columns if c in units.columns]:
            units[column] = units[column].astype(object)
            units.loc[hit, column] = pd.Series(list(readings[column]), index=units.index[hit], dtype=object)
        probabilities = [c for c in readings.columns if c.startswith("p_") and c in units.columns]
        units[probabilities] = units[probabilities].astype(float)
    return units


def labeled_units_among(units: pd.DataFrame, correction: Correction, unit: str) -> pd.Series:
    """Per analysed unit, the id of the labeled unit it is (NaN: none). Measures are found by their document and
    the hash of their text where the labels record it: a measure's number can change with the segmenter (labels of
    rounds 1-2 number the measures of an older segmentation; training joins them by span and hash), and matching
    numbers alone gave labels of the SME-targeted Chinese view another measure's text. Documents by id."""
    from .labels import text_sha1

    truth = correction.labeled.truth
    ids = analysed_ids(units, unit)
    if unit == "measures" and "text" in units and "text_sha1" in truth and "doc_id" in units:
        labeled = dict(zip(zip(correction.labeled.groups.astype(str), truth["text_sha1"]), truth["unit_id"]))
        keys = zip(units["doc_id"].astype(str), units["text"].map(text_sha1))
        return pd.Series([labeled.get(key, np.nan) for key in keys], index=units.index, dtype=object)
    return ids.where(ids.isin(correction.out_of_fold.index))


def analysed_ids(units: pd.DataFrame, unit: str) -> pd.Series:
    """The ids analysed units are labeled under: a measure's at the measure unit, else its document's."""
    return units["measure_id" if unit == "measures" and "measure_id" in units else "doc_id"]


def build_report(corpora: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]], unit: str = LABELED,
                 filters: Filters | None = None, corrections: dict[str, Correction] | None = None, replicates: int = 1000,
                 seed: int = 0, illustrative: bool = False, all_policies: bool = True) -> tuple[Report, dict]:
    """The SME-targeted view (headline) and, unless ``all_policies`` is off, the all-policy view beside it.

    Returns the report and, per view, the filtered units per corpus.
    """
    filters = filters or Filters()
    corrections = corrections or {}
    wanted = {"sme": replace(filters, sme_only=True)}
    if all_policies:
        wanted["all"] = replace(filters, sme_only=False)
    views, units = {}, {}
    for name, view_filters in wanted.items():
        views[name], units[name] = build_view(name, corpora, unit, view_filters, corrections, replicates, seed)
    # "network units": with --unit labeled each corpus has its own unit, which the method section names
    noun = "units" if unit == LABELED else unit
    widest = views.get("all") or views["sme"]
    out_of_fold = {c: e.read_out_of_fold for c, e in widest.corpora.items()}
    return Report(noun, illustrative, views, method_text(replicates, corrected_how(corpora, unit, corrections),
                                                         out_of_fold), replicates, seed), units


def corrected_how(corpora: dict, unit: str, corrections: dict[str, Correction]) -> dict[str, str]:
    from .prediction_powered import PPI

    how = {}
    for corpus, (documents, _) in corpora.items():
        correction = corrections.get(corpus_lang(documents))
        chosen = corpus_unit(unit, correction)
        if correction is None:
            how[corpus] = f"{chosen}, raw only (no labeled units of its language)"
        elif correction.unit != chosen:
            how[corpus] = f"{chosen}, raw only (its language's labels are {correction.unit})"
        else:
            picked = sorted(set(correction.selection.values()) - {"CC"})
            how[corpus] = f"{chosen}, corrected with {', '.join(picked) or 'none (raw counting was best)'}"
            if PPI in correction.with_view_labels.values():
                how[corpus] += f" ({PPI} in the SME-targeted view wherever it holds enough labels standing for it)"
    return how


def oecd_like_units(units_by_corpus: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The units of the first corpus that records countries (the country chart's input)."""
    return next((u for u in units_by_corpus.values() if "country" in u and u["country"].fillna("").ne("").any()), None)


# ---------------------------------------------------------------- running a report end to end


@dataclass
class ReportRun:
    report: Report
    units: dict  # view -> corpus -> units
    corpora: dict  # corpus -> (documents, measures)
    paths: list[Path]


def default_corpora(specs: list[str], say: Callable[[str], None]) -> tuple[dict[str, Path], bool]:
    """Named corpora from NAME=PATH specs; else the real corpora of the data directory; else the shipped sample."""
    from .ingest import parse_spec
    from .labels import REPO_ROOT, data_dir

    if specs:
        return {parse_spec(s)[0]: Path(parse_spec(s)[1]) for s in specs}, False
    data = data_dir()
    if (data / "cn").is_dir() and (data / "oecd").is_dir():
        say(f"no --corpus given: reporting on the real corpora in {data}")
        return {"cn": data / "cn", "oecd": data / "oecd"}, False
    sample = REPO_ROOT / "corpus" / "sample"
    say(f"no data directory ({data}, set CLASSIFIER_DATA) and no --corpus: reporting on the illustrative "
        f"sample corpus {sample}")
    return {"cn": sample / "cn", "oecd": sample / "oecd"}, True


def load_or_tag(name: str, path: Path, out: Path, jobs: int, model: Path | None, track=None,
                say: Callable[[str], None] = lambda message: None):
    """A tagged table (with its .measures sibling) is read as it is; anything else is tagged first.

    The tagging resumes what an interrupted report left, and reuses a table tagged from the same
    inputs and settings; when the inputs changed, the corpus is tagged again. ``track(name)`` is a
    context manager yielding an object with ``start(documents, kept)`` and ``advance(chunk_result)``
    (the CLI's progress bar).
    """
    from .batch import RunMismatch, measures_path, run_tagging

    path = Path(path)
    if path.is_file() and path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        if "primary" in frame.columns:
            sibling = measures_path(path)
            return frame, pd.read_parquet(sibling) if sibling.exists() else None
    target = out / "tagged" / f"{name}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    with (track or _silent)(f"tag {name}") as documents:

        def tag_corpus(resume: bool):
            return run_tagging([f"{name}={path}"], target, jobs=jobs, resume=resume, with_measures=True,
                               model_path=str(model) if model else None, on_start=documents.start,
                               on_chunk=documents.advance)

        try:
            summary = tag_corpus(resume=True)
        except RunMismatch:
            say(f"{name}: inputs or settings changed since {target} was tagged: tagging again")
            summary = tag_corpus(resume=False)
    if summary.reused:
        say(f"{name}: reusing {target} (tagged from the same inputs and settings)")
    return pd.read_parquet(target), pd.read_parquet(measures_path(target))


class _NoProgress:
    def start(self, documents: int, kept: int) -> None:
        pass

    def advance(self, result: dict) -> None:
        pass


@contextlib.contextmanager
def _silent(name: str):
    yield _NoProgress()


def run_report(corpus_specs: list[str], out: Path, *, unit: str = LABELED, filters: Filters | None = None,
               all_policies: bool = True, replicates: int = 1000, seed: int = 0, jobs: int = 1,
               model: Path | None = None, say: Callable[[str], None] = lambda message: None, track=None) -> ReportRun:
    """Everything ``classifier report`` does: tag (or read) the corpora, estimate, write tables, charts and HTML."""
    from .report_evidence import evidence_examples
    from .report_render import write_outputs
    from .tagger import model_dir

    specs, illustrative = default_corpora(corpus_specs, say)
    out.mkdir(parents=True, exist_ok=True)
    corpora = {name: load_or_tag(name, path, out, jobs, model, track, say) for name, path in specs.items()}
    corrections = corrections_from_model(model_dir(model))
    report, units = build_report(corpora, unit, filters, corrections, replicates, seed, illustrative, all_policies)
    headline_filters = replace(filters or Filters(), sme_only=True)
    examples = evidence_examples({name: (headline_filters.apply(d), m) for name, (d, m) in corpora.items()})
    card_path = model_dir(model) / "model_card.json"
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.exists() else {}
    paths = write_outputs(report, out, oecd_like_units(units[report.headline.name]), examples, card, say)
    return ReportRun(report, units, corpora, paths)
