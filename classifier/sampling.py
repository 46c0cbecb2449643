"""The sampling design of the labeled units: which were drawn at random, from which part of a corpus.

Labels were drawn in strata (``sampling`` in the label files; corpus/README.md): some at random,
some enriched (cue words, STIP network tags) and some chosen by the annotation loop. Only units
drawn at random within a known part of their corpus tell what the corpus itself holds, and each
must count for the share of the corpus its part is: STIP records were drawn in four cells (SME
initiatives or not x carrying a network-related STIP tag or not), with the tagged SME cell taken
whole and the untagged cells at random, so an unweighted mix of the random labels under-counts
network records.

The design weight of a unit is the number of corpus records of its cell over the number of labels
drawn at random in that cell (0 for units not drawn at random); Chinese measures were drawn at
random from one pool (``random:cn``), so each weighs 1.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

import numpy as np
import pandas as pd

RANDOM_STRATUM = "random:"  # the prefix of every stratum sampled at random from a corpus (or a cell of it)
# Strata drawn at random within one STIP cell (enriched:sme took the whole cell in round 1).
CELL_STRATA = ("enriched:sme", "enriched:other")
# The STIP tags of network-related themes and instruments that defined the enriched cells.
NETWORK_TAGS = ("TH47", "TH42", "TH43", "TH36", "F61:V428", "F63:V438", "F73:V59", "F73:V60")


def has_network_tag(tags: str) -> bool:
    return any(tag in str(tags or "").split(";") for tag in NETWORK_TAGS)


def stip_cell(meta: dict) -> str:
    """The design cell of a STIP record: ``sme|other`` x ``tagged|untagged``."""
    return f"{'sme' if meta.get('sme_targeted') else 'other'}:{'tagged' if has_network_tag(meta.get('stip_tags')) else 'untagged'}"


def latest_wave_cells(records: Iterable[tuple[str, int | None, dict]]) -> Counter:
    """Records per cell, counting each initiative once (its latest wave), as units were drawn."""
    latest: dict[str, tuple[int, dict]] = {}
    for initiative, wave, meta in records:
        if initiative not in latest or (wave or 0) >= latest[initiative][0]:
            latest[initiative] = (wave or 0, meta)
    return Counter(stip_cell(meta) for _, meta in latest.values())


def drawn_at_random(sampling: pd.Series) -> np.ndarray:
    sampling = sampling.astype(str)
    return (sampling.str.startswith(RANDOM_STRATUM) | sampling.isin(CELL_STRATA)).to_numpy()


def design_weights(units: pd.DataFrame) -> np.ndarray:
    """Per unit: corpus records of its cell / random labels in the cell (1 without a cell; 0 if not drawn at random).

    ``units`` has ``sampling`` and, for STIP records, ``cell`` and ``cell_size`` (records of that cell).
    """
    random = drawn_at_random(units["sampling"])
    weights = random.astype(float)
    if "cell" not in units:
        return weights
    cells = units["cell"].where(random)
    drawn = cells.map(cells.value_counts())
    celled = random & cells.notna().to_numpy()
    weights[celled] = (units["cell_size"].to_numpy(float)[celled] / drawn.to_numpy(float)[celled])
    return weights
