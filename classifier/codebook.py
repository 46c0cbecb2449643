"""The codebook (``corpus/codebook.md``, a copy of ``../shared/codebook.md``) as code, defined once.

Every stage imports its vocabulary and rules from here: the labels of both axes, the
codebook version recorded with every label, the check that a label row is coherent,
and the aggregation rules that turn measure labels into document labels.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Sequence

CODEBOOK_VERSION = "1.2"

# Axis 1: network types (multi-label); ``none`` when a unit carries none of them.
LABELS = ("production", "knowledge", "partnership", "cluster")
NONE = "none"
PRIMARY_CLASSES = (*LABELS, NONE)

# Axis 2: orientation (single label); ``neutral`` is implied by ``none`` (axis 2, rule 3).
ORIENTATIONS = ("lead_firm", "network", "neutral")
NEUTRAL = "neutral"
DRIVERS = ("lead_firm", "network")  # the non-neutral orientations: who drives the network


def parse_types(value) -> list[str]:
    """A list of network types from any stored form: a list or array, JSON text, or ``a;b`` / ``none``."""
    if value is None:
        return []
    if isinstance(value, str) and value.startswith("["):
        value = json.loads(value)
    if isinstance(value, str):
        items = [v.strip() for v in value.replace(",", ";").split(";") if v.strip()]
    else:
        items = [str(v) for v in value]
    return [] if items in ([], [NONE]) else items


def format_types(types: Sequence[str]) -> str:
    """The stored form of a type list: ``a;b``, or ``none``."""
    return ";".join(types) if types else NONE


def label_problems(types: Sequence[str], primary: str, orientation: str) -> list[str]:
    """Why a label (types, primary, orientation) breaks the codebook; empty when it is coherent."""
    problems = []
    unknown = [t for t in types if t not in LABELS]
    if unknown:
        problems.append(f"unknown network type {', '.join(map(repr, unknown))}")
    if orientation not in ORIENTATIONS:
        problems.append(f"unknown orientation {orientation!r}")
    if primary not in PRIMARY_CLASSES:
        problems.append(f"unknown primary type {primary!r}")
    elif (primary == NONE) != (not types) or (types and primary not in types):
        problems.append(f"primary {primary!r} does not fit types {list(types) or [NONE]}")
    if not types and orientation != NEUTRAL:
        problems.append("type none requires orientation neutral")
    return problems


# ---------------------------------------------------------------- aggregation (codebook, "Aggregation")


def document_types(measure_types: Sequence[Sequence[str]]) -> tuple[list[str], str]:
    """(types in codebook order, primary) from the measures' types in reading order.

    Types are the union of the measures'; the primary type is the one the most measures
    carry, ties to the type whose first measure comes earlier; ``none`` if no measure has a type.
    """
    counts: Counter = Counter()
    first_seen: dict[str, int] = {}
    for position, types in enumerate(measure_types):
        for label in types:
            counts[label] += 1
            first_seen.setdefault(label, position)
    if not counts:
        return [], NONE
    primary = min(counts, key=lambda label: (-counts[label], first_seen[label]))
    return [label for label in LABELS if label in counts], primary


def document_orientation(measure_orientations: Sequence[str], aims_at_lead_firms: bool = False) -> str:
    """The majority of the non-neutral measures; ``neutral`` if all are neutral.

    A tie goes to ``lead_firm`` only when the document's stated aim is large-firm leadership.
    """
    votes = Counter(o for o in measure_orientations if o != NEUTRAL)
    if not votes:
        return NEUTRAL
    if votes["lead_firm"] == votes["network"]:
        return "lead_firm" if aims_at_lead_firms else "network"
    return votes.most_common(1)[0][0]


def aggregate_labels(measure_types: Sequence[Sequence[str]], measure_orientations: Sequence[str],
                     aims_at_lead_firms: bool = False) -> dict:
    """Document labels from its measures' labels; ``none`` implies ``neutral``."""
    types, primary = document_types(measure_types)
    orientation = document_orientation(measure_orientations, aims_at_lead_firms) if types else NEUTRAL
    return {"types": types, "primary": primary, "orientation": orientation}
