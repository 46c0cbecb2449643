"""EC-OECD STIP Compass flat exports: one document per initiative and wave, its fields as measures."""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from ..documents import SKIPPED, Document, Segment, normalise_text
from .decode import clean_markup
from .limits import InputError

STIP_TEXT_FIELDS = ("ShortDescription", *(f"Objectives{i}" for i in range(1, 7)), "Background")
STIP_HEADER_START = "InitiativeID|"
_FLAG = re.compile(r"^(TH|TG)\d+$|^F\d+:V\d+$")
_WANTED = ["InitiativeID", "SurveyYear", "NameEnglish", *STIP_TEXT_FIELDS, "InstrumentDescription",
           "InstrumentTypeLabel", "CountryLabel", "CountryCode", "StartDateYear", "NameResponsibleOrganisation"]


def is_stip_export(text: str) -> bool:
    return text.startswith(STIP_HEADER_START)


def read_stip(text: str, rel: str, corpus: str) -> list[Document]:
    """Row 1 after the header is a label row (column code -> human label); each further
    row is one initiative x instrument, so rows are grouped by initiative."""
    table = pd.read_csv(io.StringIO(text), sep="|", dtype=str, keep_default_na=False, skiprows=[1])
    return stip_documents(table, rel, corpus)


def stip_numeric_id(uri: str) -> str:
    """The stable numeric id at the end of an initiative URI (same across waves)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


class _FieldText:
    """Joins record fields into one document text, remembering each field's span."""

    def __init__(self):
        self.parts: list[str] = []
        self.segments: list[Segment] = []
        self.length = 0

    def add(self, field: str, value: str, measure: bool = True) -> None:
        value = normalise_text(clean_markup(value or ""))
        if not value:
            return
        if self.parts:
            self.length += 2  # the blank line that joins fields
        if measure:
            self.segments.append(Segment(self.length, self.length + len(value), field))
        self.parts.append(value)
        self.length += len(value)

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


def stip_documents(table: pd.DataFrame, rel: str, corpus: str) -> list[Document]:
    if table.empty:
        raise InputError("STIP export has no records (header only)")
    table = table.fillna("").astype(str)
    flag_cols = [c for c in table.columns if _FLAG.match(c)]
    # Tags are per instrument row; an initiative carries a tag if any of its instruments does.
    flagged = (table[flag_cols] == "1").groupby(table["InitiativeID"], sort=False).any()
    flag_names = np.array(flag_cols, dtype=object)
    flags_of = {uri: ";".join(sorted(flag_names[row.astype(bool)])) for uri, row in zip(flagged.index, flagged.to_numpy())}
    # Plain dicts: pandas sub-frames per initiative made this stage 20x slower.
    records: dict[str, list[dict]] = {}
    for record in table[[c for c in _WANTED if c in table.columns]].to_dict("records"):
        records.setdefault(record["InitiativeID"], []).append(record)
    return [_stip_document(uri, rows, flags_of[uri], rel, corpus) for uri, rows in records.items()]


def _stip_document(uri: str, rows: list[dict], flags: str, rel: str, corpus: str) -> Document:
    first = rows[0]
    wave = str(first.get("SurveyYear", "")).strip()
    numeric = stip_numeric_id(uri)
    fields = _FieldText()
    fields.add("NameEnglish", first.get("NameEnglish", ""), measure=False)
    for name in STIP_TEXT_FIELDS:
        fields.add(name, first.get(name, ""))
    for description in dict.fromkeys(r.get("InstrumentDescription", "") for r in rows):
        fields.add("InstrumentDescription", description)
    if not fields.segments and fields.parts:
        fields.segments.append(Segment(0, len(fields.parts[0]), "NameEnglish"))  # a record that is only a name
    meta = {
        "title": clean_markup(first.get("NameEnglish", "")),
        "country": first.get("CountryLabel", ""),
        "country_code": first.get("CountryCode", ""),
        "year": _int_or_none(first.get("StartDateYear")),
        "wave": _int_or_none(wave),
        "organisation": first.get("NameResponsibleOrganisation", ""),
        "initiative_id": numeric,
        "stip_tags": flags,
        "instrument_types": ";".join(sorted({r.get("InstrumentTypeLabel") for r in rows} - {"", None})),
        "sme_targeted": "TG31" in flags.split(";"),
        "lang": "en",
    }
    doc = Document(corpus=corpus, source=f"{rel}#{numeric}", doc_id=f"stip:{numeric}:{wave}",
                   text=fields.text, kind="stip", meta=meta, segments=fields.segments)
    if not fields.segments:
        doc.status, doc.error = SKIPPED, "empty STIP record: neither a name nor a description"
    return doc


def _int_or_none(value) -> int | None:
    try:
        return int(str(value).strip()[:4])
    except (TypeError, ValueError):
        return None
