"""Examples per category for the report: passages that carry the label in the measure itself.

A candidate is an evidence item of a tagged document (the label, its measure and the cue
phrases that triggered it, with offsets) joined to the measure table (``tag --measures``):
it is kept only if the measure itself carries the label, and it is ranked by the measure's
own probability, so that a long record whose title happens to say "cluster" does not
stand for cluster policies. Each passage is shown once in the whole report (no two
excerpts share a run of text), cut at a sentence or word boundary with an ellipsis, and
free of markup.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from math import ceil

import pandas as pd

from .codebook import LABELS
from .codebook import parse_types

EXAMPLE_LABELS = (*LABELS, "lead_firm", "network")
MAX_CHARS = {"zh": 160, "en": 320}  # an excerpt a reader takes in at a glance
MIN_CHARS = {"zh": 20, "en": 60}  # shorter fields are names of programmes, not descriptions of what they do
SENTENCE_END = re.compile(r"[。！？；.!?;\n]")
ZH_PAUSE = re.compile(r"[，、：,]")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Example:
    label: str
    corpus: str
    source: str
    lang: str
    text: str  # clean excerpt, ellipses included
    phrases: tuple[tuple[int, int], ...]  # offsets in ``text`` of the cues that triggered the label
    probability: float  # the measure's own probability of the label


# ---------------------------------------------------------------- markup


def strip_markup(text: str) -> str:
    """Plain text of a fragment that may hold HTML tags or entities (STIP fields carry ``<br/>``)."""
    if "<" in text or "&" in text:
        from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            text = BeautifulSoup(text, "html.parser").get_text(" ")
    return re.sub(r"\s+", " ", text)


def clean_with_spans(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Strip markup while keeping the spans on the same words: every piece between span edges is cleaned alone."""
    edges = sorted({0, len(text), *(e for span in spans for e in span)})
    pieces, position = {}, 0
    cleaned = []
    for start, end in zip(edges, edges[1:]):
        piece = strip_markup(text[start:end])
        pieces[start], pieces[end] = position, position + len(piece)
        cleaned.append(piece)
        position += len(piece)
    return "".join(cleaned), [(pieces[s], pieces[e]) for s, e in spans if pieces[e] > pieces[s]]


# ---------------------------------------------------------------- excerpts


def excerpt(text: str, spans: list[tuple[int, int]], lang: str) -> tuple[str, list[tuple[int, int]]]:
    """At most MAX_CHARS around the first cue, cut at sentence (else word) boundaries, ellipses where cut."""
    limit = MAX_CHARS.get(lang, MAX_CHARS["en"])
    text = text.strip()
    if len(text) <= limit:
        return text, spans
    first = min((s for s, _ in spans), default=0)
    start = _cut_start(text, first, limit, lang)
    end = _cut_end(text, start, limit, lang)
    body = text[start:end].strip()
    offset = start + (len(text[start:end]) - len(text[start:end].lstrip()))
    lead, tail = (ELLIPSIS if start > 0 else ""), (ELLIPSIS if end < len(text) else "")
    shifted = [(s - offset + len(lead), e - offset + len(lead)) for s, e in spans if s >= offset and e <= offset + len(body)]
    return lead + body + tail, shifted


def _cut_start(text: str, first: int, limit: int, lang: str) -> int:
    """The start of the sentence holding the first cue, or a word start shortly before it if that is too far."""
    sentence = max((m.end() for m in SENTENCE_END.finditer(text, 0, first)), default=0)
    if first - sentence < limit // 2:
        return sentence
    near = max(first - limit // 4, 0)
    if lang == "zh":
        return max((m.end() for m in ZH_PAUSE.finditer(text, near, first)), default=near)
    space = text.rfind(" ", near, first)
    return space + 1 if space >= 0 else first


def _cut_end(text: str, start: int, limit: int, lang: str) -> int:
    """The last sentence end within the limit, else the last word boundary (a pause in Chinese)."""
    stop = min(start + limit, len(text))
    if stop == len(text):
        return stop
    ends = [m.end() for m in SENTENCE_END.finditer(text, start, stop)]
    if ends and ends[-1] - start > limit // 3:
        return ends[-1]
    if lang == "zh":
        pauses = [m.start() for m in ZH_PAUSE.finditer(text, start, stop)]
        return pauses[-1] if pauses and pauses[-1] - start > limit // 3 else stop
    space = text.rfind(" ", start, stop)
    return space if space > start else stop


# ---------------------------------------------------------------- choosing examples


def _candidates(corpus: str, documents: pd.DataFrame, measures: pd.DataFrame | None) -> list[Example]:
    by_id = measures.set_index("measure_id").to_dict("index") if measures is not None and len(measures) else {}
    found = []
    for doc in documents[documents["error"].fillna("") == ""].itertuples():
        items = json.loads(doc.evidence) if isinstance(doc.evidence, str) else list(doc.evidence or [])
        for item in items:
            example = _example(corpus, doc, item, by_id.get(item.get("measure_id")), measures is not None)
            if example is not None:
                found.append(example)
    return found


def _example(corpus: str, doc, item: dict, measure: dict | None, have_measures: bool) -> Example | None:
    label = item["label"]
    if label not in EXAMPLE_LABELS or not item.get("phrases"):
        return None  # a passage without the phrase that triggered the label explains nothing
    if have_measures:
        if measure is None or not (label in parse_types(measure["types"]) or measure["orientation"] == label):
            return None
        text, origin, probability = measure["text"], int(measure["start"]), float(measure[f"p_{label}"])
        lang = str(measure.get("lang") or doc.lang)
    else:  # documents tagged without --measures: the evidence item is all there is
        text, origin, probability, lang = item["text"], int(item["start"]), float(item["probability"]), str(doc.lang)
    lang = "zh" if lang.startswith("zh") else "en"
    spans = [(p["start"] - origin, p["end"] - origin) for p in item["phrases"]]
    spans = [(s, e) for s, e in spans if 0 <= s < e <= len(text)]
    clean, spans = clean_with_spans(text, spans)
    if not spans or len(clean.strip()) < MIN_CHARS[lang]:
        return None
    shown, shown_spans = excerpt(clean, spans, lang)
    source = strip_markup(str(doc.title or doc.doc_id)).strip()
    return Example(label, corpus, source, lang, shown, tuple(shown_spans), probability)


SHINGLE = 24  # characters: a shared run this long means the reader sees the same passage again


def _shingles(text: str) -> set[str]:
    """Overlapping runs of letters and digits: the same text reached through two measures or two copies shares them."""
    letters = re.sub(r"\W+", "", text.lower())
    return {letters[i:i + SHINGLE] for i in range(max(len(letters) - SHINGLE + 1, 1))}


def evidence_examples(corpora: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]],
                      per_label: int = 4) -> dict[str, list[Example]]:
    """Per category up to ``per_label`` examples, shared fairly between corpora, each passage once in all."""
    candidates = [e for name, (documents, measures) in corpora.items()
                  if "evidence" in documents for e in _candidates(name, documents, measures)]
    per_corpus = ceil(per_label / max(len(corpora), 1))
    chosen: dict[str, list[Example]] = {label: [] for label in EXAMPLE_LABELS}
    shown: set[str] = set()
    for example in sorted(candidates, key=lambda e: -e.probability):
        picked = chosen[example.label]
        if len(picked) >= per_label or sum(e.corpus == example.corpus for e in picked) >= per_corpus:
            continue
        shingles = _shingles(example.text)
        if shingles & shown:
            continue
        picked.append(example)
        shown |= shingles
    return chosen
