"""Stage 5, aggregate: measure labels -> document labels, as the codebook's "Aggregation" says.

* Document network types = union of its measures' types (``none`` only if no measure has one).
* Primary type = the type carried by the most measures; ties go to the type whose
  first measure comes earlier; ``none`` if no measure has a type.
* Orientation = the majority of the non-neutral measures; ``neutral`` if all are
  neutral; a tie goes to ``lead_firm`` only when the document's stated aim is
  large-firm leadership (here: its title names lead or large firms, e.g. 龙头企业,
  大中小企业融通, "lead firm"), else to ``network``.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

from .featurize import LABELS, default_lexicon

NONE = "none"


def document_types(measure_types: Sequence[Sequence[str]]) -> tuple[list[str], str]:
    """(types in codebook order, primary) from the measures' types in reading order."""
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


def aims_at_lead_firms(title: str) -> bool:
    return any(cue.label == "lead_firm" for cue in default_lexicon().find(title or ""))


def document_orientation(measure_orientations: Sequence[str], title: str = "") -> str:
    votes = Counter(o for o in measure_orientations if o != "neutral")
    if not votes:
        return "neutral"
    if votes["lead_firm"] == votes["network"]:
        return "lead_firm" if aims_at_lead_firms(title) else "network"
    return votes.most_common(1)[0][0]


def aggregate_document(measure_types: Sequence[Sequence[str]], measure_orientations: Sequence[str], title: str = "") -> dict:
    types, primary = document_types(measure_types)
    orientation = document_orientation(measure_orientations, title) if types else "neutral"
    return {"types": types, "primary": primary, "orientation": orientation}
