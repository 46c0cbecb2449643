"""The records that flow between stages: a document read from some input, and its measures.

Kept free of any stage logic so that every stage can import it without cycles.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

OK, SKIPPED, FAILED = "ok", "skipped", "failed"

# Zero-width characters and BOMs carry no meaning but break regexes and offsets.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalise_text(text: str) -> str:
    """The canonical form every offset refers to: NFC, Unix newlines, no invisible marks.

    Full-width punctuation is kept as it is: Chinese numbering （一） relies on it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    # Trailing spaces per line are layout noise from PDFs and Windows tools.
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def document_id(corpus: str, source: str) -> str:
    """``{corpus}/{source}``, or ``{corpus}#key`` for a row of an in-memory table (rule: ``ingest.ids``)."""
    return f"{corpus}{source}" if source.startswith("#") else f"{corpus}/{source}"


@dataclass
class Segment:
    """A span of a document's text that is known in advance to be one measure (e.g. a STIP field)."""

    start: int
    end: int
    section: str = ""
    lang: str = ""  # known language of the span (e.g. rebuilt from a corpus table), else detected


@dataclass
class Document:
    """One policy document, or the record of an input that could not be read (``status`` != ok)."""

    corpus: str
    source: str
    doc_id: str
    text: str = ""
    kind: str = "text"  # law | stip | text: decides how the document is segmented
    meta: dict = field(default_factory=dict)
    segments: list[Segment] | None = None
    status: str = OK
    error: str = ""

    @classmethod
    def failure(cls, corpus: str, source: str, reason: str, status: str = FAILED) -> "Document":
        return cls(corpus=corpus, source=source, doc_id=document_id(corpus, source), status=status, error=reason)


@dataclass
class Measure:
    """One self-contained provision: the unit most labels are given at."""

    order: int
    start: int
    end: int
    text: str
    lang: str
    section: str = ""
