"""The corpus table: ingest + segment composed into one row per measure (or per failed input).

Schema (every column always present, in this order; further document metadata follows):

=============  ==============================================================
corpus         corpus name (``oecd``, ``cn``, ...)
source         the file, table row (``file#key``) or archive member (``a.zip!m``)
doc_id         stable document id, derived from source identity (not row order;
               rule in ``classifier.ingest.ids``)
measure_id     ``{doc_id}#{order}``; empty on error rows
order          position of the measure in its document (0-based); -1 on error rows
lang           language of the measure (ISO 639-1, ``und`` when unknown)
doc_lang       language of the whole document
text           the measure's text
start, end     character offsets of the measure in the normalised document text
section        heading the measure stands under (chapter, section), or empty
title ...      document metadata: title, country, country_code, year, wave,
               organisation, category, initiative_id, stip_tags,
               instrument_types, sme_targeted, kind (law, stip or text) ...
               An input table's own columns named like a core column are kept
               as ``input_<name>``; provenance always comes from the reader.
status         ``ok``, ``skipped`` (not a document) or ``failed``
error          empty for good rows, the reason on error rows
=============  ==============================================================
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from .documents import OK, Document
from .ingest import DEFAULT_LIMITS, Limits, iter_specs
from .language import detect_lang
from .segment import segment_document

CORE_COLUMNS = ["corpus", "source", "doc_id", "measure_id", "order", "lang", "doc_lang", "text", "start", "end", "section"]
META_COLUMNS = ["title", "country", "country_code", "year", "wave", "organisation", "category",
                "initiative_id", "stip_tags", "instrument_types", "sme_targeted", "kind"]
TAIL_COLUMNS = ["status", "error"]


def is_sme_targeted(doc: Document) -> bool:
    """The SME-targeted view's rule for one document: its own tag where it has one (STIP: TG31), else
    whether its text is about SMEs (``is_about_smes``)."""
    tagged = doc.meta.get("sme_targeted")
    return bool(tagged) if tagged is not None else is_about_smes(doc.text, str(doc.meta.get("title") or ""))


def document_rows(doc: Document) -> list[dict]:
    """The corpus rows of one document: its measures, or one error row."""
    meta = {k: v for k, v in doc.meta.items() if k not in ("lang",)}
    base = {**meta, "corpus": doc.corpus, "source": doc.source, "doc_id": doc.doc_id, "kind": doc.kind}
    if doc.status != OK:
        return [{**base, "measure_id": "", "order": -1, "lang": "und", "doc_lang": "und", "text": "",
                 "start": -1, "end": -1, "section": "", "status": doc.status, "error": doc.error}]
    doc_lang = doc.meta.get("lang") or detect_lang(doc.text)
    doc.meta.setdefault("lang", doc_lang)
    base["sme_targeted"] = is_sme_targeted(doc)
    return [
        {**base, "measure_id": f"{doc.doc_id}#{m.order}", "order": m.order, "lang": m.lang, "doc_lang": doc_lang,
         "text": m.text, "start": m.start, "end": m.end, "section": m.section, "status": OK, "error": ""}
        for m in segment_document(doc)
    ]


SME_TERMS = re.compile(r"中小企业|小微企业|中小微企业|个体工商户|专精特新|\bSMEs?\b|small and medium|small business|micro.enterprise",
                       re.IGNORECASE)


def is_about_smes(text: str, title: str) -> bool:
    """The documented rule for texts without a target-group tag (STIP has TG31):

    a document is SME-targeted when its title names SMEs (中小企业, 小微企业, 个体工商户,
    专精特新, SME, small business ...) or its text names them at least 3 times.
    """
    return bool(SME_TERMS.search(title)) or len(SME_TERMS.findall(text)) >= 3


def to_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Rows in the documented column order, with stable dtypes."""
    frame = pd.DataFrame.from_records(list(rows))
    for col in CORE_COLUMNS + META_COLUMNS + TAIL_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    extra = [c for c in frame.columns if c not in CORE_COLUMNS + META_COLUMNS + TAIL_COLUMNS]
    frame = frame[CORE_COLUMNS + META_COLUMNS + extra + TAIL_COLUMNS]
    for col in ("order", "start", "end"):
        frame[col] = frame[col].astype("int64")
    frame["sme_targeted"] = frame["sme_targeted"].astype("boolean")
    for col in ("year", "wave"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in frame.columns:
        if frame[col].dtype == object:
            # Mixed objects (ints from one reader, strings from another) cannot go to Parquet.
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, (str, bool)) else str(v))
    return frame


@dataclass
class IngestSummary:
    inputs: Counter = field(default_factory=Counter)  # status -> count of documents/error rows
    measures: Counter = field(default_factory=Counter)  # (corpus, lang) -> measures
    documents: Counter = field(default_factory=Counter)  # (corpus, lang) -> documents
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, doc: Document, rows: list[dict]) -> None:
        self.inputs[doc.status] += 1
        if doc.status != OK:
            self.errors.append((doc.source, doc.error))
            return
        key = (doc.corpus, rows[0]["doc_lang"] if rows else "und")
        self.documents[key] += 1
        self.measures[key] += len(rows)

    @property
    def failed(self) -> int:
        return self.inputs["failed"]


def iter_corpus_rows(
    specs: Iterable[str], limits: Limits = DEFAULT_LIMITS, summary: IngestSummary | None = None,
    on_input: Callable[[str], None] | None = None,
) -> Iterator[list[dict]]:
    """Rows per document for every ``PATH`` or ``NAME=PATH`` spec, streamed."""
    for doc in iter_specs(specs, limits, on_input):
        rows = document_rows(doc)
        if summary is not None:
            summary.add(doc, rows)
        yield rows


def build_corpus(specs: Iterable[str], limits: Limits = DEFAULT_LIMITS, summary: IngestSummary | None = None,
                 on_input: Callable[[str], None] | None = None) -> pd.DataFrame:
    rows = [row for doc_rows in iter_corpus_rows(specs, limits, summary, on_input) for row in doc_rows]
    return to_frame(rows)


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """Parquet, CSV or JSON Lines by suffix; written to a temporary file first so a crash leaves no half file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    elif suffix == ".jsonl":
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    elif suffix == ".csv":
        spreadsheet_safe(frame).to_csv(tmp, index=False)
    else:
        raise ValueError(f"unsupported output format '{out.suffix}' (use .parquet, .jsonl or .csv)")
    tmp.replace(out)


def read_table(path: Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True, dtype={"doc_id": str, "source": str, "corpus": str})
    return pd.read_csv(path, dtype=str, keep_default_na=False)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as formulas get a leading apostrophe.

    Policy text and evidence come from untrusted documents (OWASP: CSV injection).
    """
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return safe
