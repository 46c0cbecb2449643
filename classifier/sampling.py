"""The sampling design of the labeled units: which were drawn at random, from which part of a corpus.

Labels were drawn in strata (``sampling`` in the label files; corpus/README.md): some at random,
some enriched (cue words, STIP network tags) and some chosen by the annotation loop. Only units
drawn at random within a known part of their corpus tell what the corpus itself holds, and each
must count for the share of the corpus its part is: STIP records were drawn in four cells (SME
initiatives or not x carrying a network-related STIP tag or not), with the tagged SME cell taken
whole and the untagged cells at random, so an unweighted mix of the random labels under-counts
network records.

Chinese measures were drawn at random from one pool (``random:cn``: documents whose title names
SME-relevant policy, and all local notices and work reports) and, from round 8, from the SME-targeted
view the report headlines (``random:cn-sme``: documents about SMEs, ``corpus.is_sme_targeted``, in the
pool or not). Their cells are pool membership x that view: ``cn:pool:sme``, ``cn:pool:other``,
``cn:out:sme`` and ``cn:out:other`` (never drawn at random, so no mix stands for it).

Labeled units that were chosen (cue words, the annotation loop) are part of the corpus too, and the random
draws came from what was left: a chosen unit stands for itself and a random one for an equal part of the rest
of its cell (``design_weights``). Weighting only the random ones by whole cells would estimate the mix of the
units nobody chose: in the SME-targeted Chinese view 3.8% network measures, where the view, whose 857 chosen
labeled measures are 30% network, holds 9.5% (``python benchmarks/labeled_shares.py`` prints both).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

import numpy as np
import pandas as pd

from .corpus import document_rows, is_sme_targeted
from .documents import OK

RANDOM_STRATUM = "random:"  # the prefix of every stratum sampled at random from a corpus (or a cell of it)
# Strata drawn at random within one STIP cell (enriched:sme took the whole cell in round 1).
CELL_STRATA = ("enriched:sme", "enriched:other")
# The STIP tags of network-related themes and instruments that defined the enriched cells.
NETWORK_TAGS = ("TH47", "TH42", "TH43", "TH36", "F61:V428", "F63:V438", "F73:V59", "F73:V60")

# A candidate measure: shorter ones are headings or fragments, not provisions.
MIN_MEASURE_CHARS = 20
# The Chinese pool of ``random:cn``, as corpus/tools/sample_units.py drew it in rounds 1-3 and
# ``classifier annotate suggest --strategy random`` since: titles naming SME-relevant policy ...
CN_POOL_TITLE = re.compile("中小企业|小微企业|个体工商户|民营经济|科技成果|科学技术进步|营商环境|产业|工业|制造业|创新")
CN_POOL_SOURCES = ("local/", "reports/")  # ... and all local notices and work reports


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


def in_cn_pool(title: str, source: str) -> bool:
    return bool(CN_POOL_TITLE.search(title or "")) or str(source).startswith(CN_POOL_SOURCES)


def cn_cell(doc) -> str:
    """The design cell of a Chinese document's measures: ``cn:pool|out`` x ``sme|other``."""
    pool = "pool" if in_cn_pool(str(doc.meta.get("title") or ""), doc.source) else "out"
    return f"cn:{pool}:{'sme' if is_sme_targeted(doc) else 'other'}"


def candidate_measures(doc) -> list[dict]:
    """The corpus rows of a document that are candidate units (measures read whole, long enough)."""
    return [row for row in document_rows(doc) if row["status"] == OK and len(row["text"]) >= MIN_MEASURE_CHARS]


def drawn_at_random(sampling: pd.Series) -> np.ndarray:
    sampling = sampling.astype(str)
    return (sampling.str.startswith(RANDOM_STRATUM) | sampling.isin(CELL_STRATA)).to_numpy()


def design_weights(units: pd.DataFrame) -> np.ndarray:
    """Per labeled unit, how many units of its corpus it stands for when labels estimate a corpus's mix.

    A unit chosen (by cue words or the annotation loop) stands for itself, 1: its truth is known, and the units drawn
    at random were drawn from the rest of its cell (``annotate suggest`` never offers a labeled unit again). A unit
    drawn at random stands for an equal part of the rest of its cell: (cell size - chosen labels in the cell) /
    random labels in the cell, and never for less than itself. A chosen unit of a cell never drawn at random stands
    for nothing, as the rest of that cell has no labels to stand for it. Without a cell (labels from before the
    design, units written for training): 1 drawn at random, 0 chosen (no corpus part it belongs to is known).

    ``units`` has ``sampling`` and, for STIP records and Chinese measures, ``cell`` and ``cell_size`` (the
    initiatives or candidate measures of that cell).
    """
    random = drawn_at_random(units["sampling"])
    weights = random.astype(float)
    if "cell" not in units:
        return weights
    has_cell = units["cell"].notna().to_numpy()
    chosen = pd.Series(units["cell"].where(has_cell & ~random)).value_counts()
    drawn = pd.Series(units["cell"].where(has_cell & random)).value_counts()
    rest = units["cell_size"].to_numpy(float) - units["cell"].map(chosen).fillna(0).to_numpy(float)
    per_random = np.maximum(rest / units["cell"].map(drawn).to_numpy(float), 1.0)
    weights[has_cell & random] = per_random[has_cell & random]
    # a chosen unit stands for itself only where random labels stand for the rest of its cell: alone, the chosen
    # units of a cell never drawn at random (``cn:out:other``) would stand for a cell they were picked from
    weights[has_cell & ~random & units["cell"].isin(drawn.index).to_numpy()] = 1.0
    return weights
