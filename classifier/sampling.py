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

Labeled units that were chosen (cue words, the annotation loop) are part of the corpus too, and every draw
came from what was left: one random draw of a cell stands for the rest of the cell, the units labeled before it
for themselves and those labeled after it for nothing (``design_roles``, ``design_weights``). Weighting the random ones alone by whole cells estimated the
mix of the units nobody chose: in the SME-targeted Chinese view 3.8% network measures, where the view holds 8.9%
(``python benchmarks/labeled_shares.py``, and at commit 0e313ec).
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


# A labeled unit's part in the design (``design_roles``): it stands for an equal part of the rest of its cell, for
# itself, or (without a role) for nothing.
STANDS_FOR_REST, STANDS_FOR_ITSELF = "rest", "self"
# Rounds whose random draws were made before that round's choices: docs/active_learning.md's commands of rounds 4-6
# drew the random stratum first and excluded it when suggesting. In the other rounds the choices came first (the
# cue-word strata of rounds 1-3, corpus/tools/sample_units.py; round 9 drew its random measures last).
RANDOM_DRAWN_FIRST = ("4", "5", "6")


def design_roles(units: pd.DataFrame) -> np.ndarray:
    """Per labeled unit, what it stands for when labels estimate a corpus's mix.

    Every draw excluded the units labeled before it (``annotate suggest`` never offers a labeled unit again), so a
    random draw (a random stratum in one round) is a random sample of what its cell held besides every unit labeled
    before it, and with those known units it stands for the whole cell. One draw per cell does so, its standing draw
    (``_standing_draw``): its units stand for the rest of the cell (``STANDS_FOR_REST``), the units labeled before it
    for themselves (``STANDS_FOR_ITSELF``), and those labeled after it for nothing: the draw already stands for them,
    and the loop took them from the rest it sampled (network-looking units, so counting them again would inflate
    network shares). Without rounds all random units of a cell are one draw and every other unit of the cell is
    known. A chosen unit of a cell never drawn at random stands for nothing, as no label stands for the rest of that
    cell; without a cell (labels from before the design, units written for training) a random unit stands for the
    rest and a chosen one for nothing.
    """
    random = drawn_at_random(units["sampling"])
    if "cell" not in units:
        return np.where(random, STANDS_FOR_REST, "")
    has_cell = units["cell"].notna().to_numpy()
    drawn = random & has_cell
    in_drawn_cell = has_cell & units["cell"].isin(units["cell"][drawn]).to_numpy()
    if "round" not in units:
        standing, before = random, ~random
    else:
        standing, before = _standing_draw(units, drawn)
    return np.where(random & ~has_cell | in_drawn_cell & standing, STANDS_FOR_REST,
                    np.where(in_drawn_cell & before, STANDS_FOR_ITSELF, ""))


def _standing_draw(units: pd.DataFrame, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, whether it belongs to its cell's standing draw and whether it was labeled before that draw.

    Each draw k of a cell, with the n_k units it drew and the N_k units the cell held besides those labeled before it,
    gives an unbiased mix of the cell; its sampling variance goes as N_k (N_k - n_k) / n_k. The standing draw is the
    one with the least (the latest on a tie), chosen from the design's sizes alone, never from labels: in the
    SME-targeted Chinese view, round 9's, drawn after every choice; in ``other:tagged``, round 3's 100
    ``enriched:other`` records rather than the 3 ``random:other`` records of round 6, which the loop drew before
    choosing from the same rest."""
    rounds = pd.to_numeric(units["round"], errors="coerce").fillna(0).to_numpy()  # no round: before round 1
    draws = units["sampling"].astype(str).to_numpy()
    cells, cell_sizes = units["cell"].to_numpy(), units["cell_size"].to_numpy(float)
    standing, before = np.zeros(len(units), bool), np.zeros(len(units), bool)
    for cell in pd.unique(cells[drawn]):
        in_cell = cells == cell
        best = None
        for draw_round, stratum in sorted(set(zip(rounds[in_cell & drawn], draws[in_cell & drawn]))):
            members = in_cell & drawn & (rounds == draw_round) & (draws == stratum)
            earlier = in_cell & ~members & _labeled_before(rounds, draw_round, drawn)
            size, drawn_here = cell_sizes[in_cell][0] - np.count_nonzero(earlier), np.count_nonzero(members)
            variance = size * max(size - drawn_here, 0.0) / drawn_here
            if best is None or variance <= best[0]:
                best = (variance, members, earlier)
        standing |= best[1]
        before |= best[2]
    return standing, before


def _labeled_before(rounds: np.ndarray, draw_round: float, drawn: np.ndarray) -> np.ndarray:
    """Which units were labeled before a random draw of ``draw_round``: those of earlier rounds and, unless that round
    drew at random first (``RANDOM_DRAWN_FIRST``), the units it chose."""
    chosen_first = str(int(draw_round)) not in RANDOM_DRAWN_FIRST
    return (rounds < draw_round) | ((rounds == draw_round) & ~drawn & chosen_first)


def design_weights(units: pd.DataFrame) -> np.ndarray:
    """Per labeled unit, how many units of its corpus it stands for (``design_roles``): 1 for itself; for the rest of
    its cell an equal part of it, (cell size - units standing for themselves in the cell) / units of its standing
    draw, and never less than itself; 1 for a random unit without a cell; 0 for nothing.

    ``units`` has ``sampling`` and, for STIP records and Chinese measures, ``cell`` and ``cell_size`` (the
    initiatives or candidate measures of that cell), and ``round`` where labels record it.
    """
    roles = design_roles(units)
    weights = (roles != "").astype(float)
    if "cell" not in units:
        return weights
    rest = (roles == STANDS_FOR_REST) & units["cell"].notna().to_numpy()
    known = units["cell"].map(units["cell"][roles == STANDS_FOR_ITSELF].value_counts()).fillna(0).to_numpy(float)
    standing = units["cell"].map(units["cell"][rest].value_counts()).to_numpy(float)
    weights[rest] = np.maximum((units["cell_size"].to_numpy(float)[rest] - known[rest]) / standing[rest], 1.0)
    return weights
