"""Stage 5, aggregate: measure labels -> document labels, by the codebook's "Aggregation" rules.

The rules themselves live in :mod:`classifier.codebook`; this stage applies them to a
document's measures. The one judgement the rules leave to the reader, whether a
document's stated aim is large-firm leadership (it breaks orientation ties), is read
from its title with the lexicon of the model that tagged it (e.g. 龙头企业,
大中小企业融通, "lead firm"), so a model trained with another lexicon uses its own.
"""
from __future__ import annotations

from typing import Sequence

from .codebook import aggregate_labels


def aims_at_lead_firms(title: str, lexicon) -> bool:
    return any(cue.label == "lead_firm" for cue in lexicon.find(title or ""))


def aggregate_document(measure_types: Sequence[Sequence[str]], measure_orientations: Sequence[str], title: str,
                       lexicon) -> dict:
    """Document types, primary type and orientation from its measures (in reading order)."""
    return aggregate_labels(measure_types, measure_orientations, aims_at_lead_firms(title, lexicon))
