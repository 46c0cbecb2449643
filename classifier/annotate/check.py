"""Likely label errors, for a second reading: confident learning on out-of-fold probabilities.

For each axis, a class's confidence threshold is the mean out-of-fold probability the model
gives that class on the units labeled with it (Northcutt et al., confident learning). A unit
is suspect when the probability of its given label is below that label's threshold while
another class reaches its own threshold; suspects are ranked by the margin
p(suggested) - p(given). Each network type is a yes/no decision; the orientation has three
classes and is checked on the units labeled with a network type only: its probabilities are
P(orientation | network unit) (codebook axis 2), and a unit without a type is ``neutral`` by rule,
so only its types can be wrong (read unconditionally, a ``none`` unit whose text names firms and
universities looked like a confident ``network`` error). (cleanlab's ``find_label_issues``
implements the full method; it is AGPL-3.0, so this small confident-joint version is used instead.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..codebook import LABELS, ORIENTATIONS
from ..codebook import parse_types
from ..quantify import read_out_of_fold
from ..tagger import model_dir

ISSUE_COLUMNS = ["unit_id", "corpus", "axis", "given", "suggested", "p_given", "p_suggested", "margin"]


def confident_issues(given: np.ndarray, proba: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """Rows (index, given, suggested, probabilities, margin) for units whose label looks wrong."""
    thresholds = np.array([proba[given == k, k].mean() if (given == k).any() else 1.0 for k in range(len(classes))])
    rows = []
    for i, (label, p) in enumerate(zip(given, proba)):
        confident = [k for k in range(len(classes)) if k != label and p[k] >= thresholds[k]]
        if p[label] < thresholds[label] and confident:
            other = max(confident, key=lambda k: p[k])
            rows.append({"index": i, "given": classes[label], "suggested": classes[other], "p_given": p[label],
                         "p_suggested": p[other], "margin": p[other] - p[label]})
    return pd.DataFrame(rows, columns=["index", "given", "suggested", "p_given", "p_suggested", "margin"])


def find_label_issues(predictions: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Suspect labels over all axes, most suspect first."""
    joined = truth.merge(predictions[["unit_id", *[f"p_{c}" for c in (*LABELS, *ORIENTATIONS)]]], on="unit_id")
    types = joined["types"].map(parse_types)
    parts = []
    for label in LABELS:
        p = joined[f"p_{label}"].to_numpy(float)
        found = confident_issues(types.map(lambda t: int(label in t)).to_numpy(), np.c_[1 - p, p], ["no", "yes"])
        parts.append(found.assign(axis=label))
    network = np.flatnonzero(types.map(bool).to_numpy())
    orientation = joined["orientation"].map(ORIENTATIONS.index).to_numpy()[network]
    proba = joined[[f"p_{o}" for o in ORIENTATIONS]].to_numpy(float)[network]
    found = confident_issues(orientation, proba, list(ORIENTATIONS))
    parts.append(found.assign(axis="orientation", index=network[found["index"].astype(int)]))
    issues = pd.concat(parts, ignore_index=True)
    issues["unit_id"] = joined["unit_id"].to_numpy()[issues["index"].astype(int)]
    issues["corpus"] = joined["corpus"].to_numpy()[issues["index"].astype(int)] if "corpus" in joined else ""
    issues[["p_given", "p_suggested", "margin"]] = issues[["p_given", "p_suggested", "margin"]].astype(float).round(3)
    return issues.sort_values("margin", ascending=False, kind="stable")[ISSUE_COLUMNS].reset_index(drop=True)


def with_evidence(issues: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Adds each suspect unit's text, current labels, rationale and the codebook cues found in it."""
    from ..featurize import default_lexicon

    lexicon = default_lexicon()
    keep = [c for c in ("unit_id", "types", "primary", "orientation", "rationale", "text") if c in units]
    merged = issues.merge(units[keep], on="unit_id", how="left")
    merged["types"] = merged["types"].map(lambda t: ";".join(t) if isinstance(t, list) else t)
    merged["cues"] = merged["text"].fillna("").map(
        lambda text: "; ".join(sorted({f"{c.label}:{c.phrase}" for c in lexicon.find(text)})))
    return merged


def check_labels(model: str | Path | None = None, units: pd.DataFrame | None = None,
                 given: pd.DataFrame | None = None) -> pd.DataFrame:
    """Suspect labels from a model directory's out-of-fold predictions.

    ``given``: labels to check (default: those the model was cross-validated on); ``units``:
    labeled texts, for the evidence.
    """
    directory = model_dir(model)
    predictions, truth = read_out_of_fold(directory)
    if given is not None:  # current labels, scored against the same out-of-fold probabilities
        truth = given[["unit_id", "types", "primary", "orientation"]].merge(truth[["unit_id", "corpus"]], on="unit_id")
    issues = find_label_issues(predictions, truth)
    return with_evidence(issues, units) if units is not None else issues
