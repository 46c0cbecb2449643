"""Tables (CSV/TSV, JSON, JSON Lines, Parquet, in-memory DataFrames): one document per row.

A bad row (wrong number of fields, invalid JSON, a list where text belongs, a lone
surrogate) is an error row naming its line; the other rows are kept. A corpus table
written by ``classifier ingest`` is recognised and its documents rebuilt.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from ..documents import OK, SKIPPED, Document, Segment, document_id, normalise_text
from .decode import decode_text, has_lone_surrogate
from .ids import UniqueIds, cell_key, row_source, text_key
from .limits import Budget, InputError
from .stip import is_stip_export, read_stip, stip_documents

csv.field_size_limit(1 << 30)

TEXT_COLUMNS = ("text", "content", "body", "fulltext", "full_text")
ID_COLUMNS = ("id", "doc_id")
TITLE_COLUMNS = ("title", "name", "nameenglish")
URL_COLUMNS = ("url", "uri", "link")
# Provenance columns of the corpus table: an input's own column of that name is kept as input_<name>.
RESERVED = {"corpus", "source", "doc_id", "measure_id", "order", "doc_lang", "text", "start", "end", "section",
            "status", "error", "kind", "input_id"}
EMPTY_TEXT = "empty text"
CORPUS_TABLE = {"corpus", "source", "doc_id", "measure_id", "order", "start", "end", "text", "status"}


@dataclass
class Row:
    where: str  # "line 3" or "row 3": how a user finds the row in the input
    record: dict | None
    problem: str = ""


# ---------------------------------------------------------------- readers


def read_csv(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    text = decode_text(data)
    if is_stip_export(text):
        return read_stip(text, rel, corpus)
    first_line = text.split("\n", 1)[0]
    sep = "\t" if rel.lower().endswith((".tsv", ".tsv.gz")) else ("|" if first_line.count("|") > first_line.count(",") else ",")
    columns, rows = csv_rows(text, sep)
    return documents_from_rows(columns, rows, rel, corpus)


def csv_rows(text: str, sep: str) -> tuple[list[str], list[Row]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = next(reader, [])
    rows, line = [], reader.line_num + 1
    try:
        for fields in reader:
            if fields:
                if len(fields) == len(header):
                    rows.append(Row(f"line {line}", dict(zip(header, fields))))
                else:
                    rows.append(Row(f"line {line}", None, f"expected {len(header)} fields, found {len(fields)}"))
            line = reader.line_num + 1
    except csv.Error as exc:  # e.g. an unterminated quote: the rest of the file cannot be split into rows
        rows.append(Row(f"line {line}", None, f"malformed CSV, rest of the file not read: {exc}"))
    return header, rows


def read_json(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    """JSON (an object or a list of objects) or JSON Lines; numbers are kept as written (ids stay exact)."""
    text = decode_text(data)
    try:
        value = json.loads(text, parse_int=str, parse_float=str)
    except json.JSONDecodeError as exc:
        if re.search(r"\.json(\.gz)?$", rel.lower()):
            raise InputError(f"invalid JSON: {exc}") from exc
        rows = json_lines_rows(text)
    else:
        items = value if isinstance(value, list) else [value]
        rows = [Row(f"row {i}", item if isinstance(item, dict) else {"text": item}) for i, item in enumerate(items, 1)]
    columns = list(dict.fromkeys(c for row in rows if row.record for c in row.record))
    return documents_from_rows(columns, rows, rel, corpus)


def json_lines_rows(text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_int=str, parse_float=str)
        except json.JSONDecodeError as exc:
            rows.append(Row(f"line {number}", None, f"invalid JSON: {exc.msg}"))
            continue
        rows.append(Row(f"line {number}", item if isinstance(item, dict) else {"text": item}))
    return rows


def read_parquet(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    rows = [Row(f"row {i}", record) for i, record in enumerate(table.to_pylist(), 1)]
    return documents_from_rows(table.column_names, rows, rel, corpus)


def documents_from_table(table: pd.DataFrame | Sequence[str], corpus: str = "input", source: str = "") -> list[Document]:
    """Documents from an in-memory table (``text`` plus optional ``id``, ``title``, ``lang`` ...) or a list of texts.

    The ids follow the rule of :mod:`classifier.ingest.ids`, as for a file read by the CLI:
    row ``id`` ``"甲"`` becomes ``input#甲`` here and ``input/t.jsonl#甲`` from the file t.jsonl.
    A plain list of texts has no ids of its own: a text's id is its index in the list (``"0"``, ``"1"`` ...).
    """
    if isinstance(table, pd.DataFrame):
        frame = table
    else:
        texts = list(table)
        frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})
    rows = [Row(f"row {i}", record) for i, record in enumerate(frame.to_dict("records"), 1)]
    if not rows:
        return []
    return list(UniqueIds().apply(documents_from_rows([str(c) for c in frame.columns], rows, source, corpus)))


# ---------------------------------------------------------------- rows to documents


def pick(columns: Iterable[str], wanted: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def documents_from_rows(columns: list[str], rows: list[Row], rel: str, corpus: str) -> list[Document]:
    if not rows:
        raise InputError("table has no rows (header only)")
    if CORPUS_TABLE <= set(columns):
        return rebuild_corpus_documents(rows, rel, corpus)
    text_col = pick(columns, TEXT_COLUMNS)
    if text_col is None:
        if "InitiativeID" in columns:
            return stip_documents(pd.DataFrame([r.record for r in rows if r.record]), rel, corpus)
        return [Document.failure(corpus, rel, f"table has no text column (looked for {', '.join(TEXT_COLUMNS)})", SKIPPED)]
    key_col = pick(columns, ID_COLUMNS) or pick(columns, TITLE_COLUMNS) or pick(columns, URL_COLUMNS)
    return [_row_document(row, text_col, key_col, pick(columns, ID_COLUMNS), rel, corpus) for row in rows]


def _row_document(row: Row, text_col: str, key_col: str | None, id_col: str | None, rel: str, corpus: str) -> Document:
    if row.record is None:
        return Document.failure(corpus, f"{rel}:{row.where}", f"{row.where}: {row.problem}")
    record = row.record
    raw = record.get(text_col)
    text = raw if isinstance(raw, str) else "" if raw is None or raw != raw else raw
    key = cell_key(record.get(key_col)) if key_col else ""
    if not isinstance(key, str) or not key:
        key = text_key(text if isinstance(text, str) else repr(text))
    source = row_source(rel, key) if rel else f"#{key}"
    problem = _row_problem(record, text, text_col)
    if problem:
        failure = Document.failure(corpus, source, problem if problem == EMPTY_TEXT else f"{row.where}: {problem}")
        failure.meta = {"input_id": cell_key(record.get(id_col))} if id_col and not problem.startswith("invalid Unicode") else {}
        return failure
    meta = {_meta_key(c): _plain(v) for c, v in record.items() if c != text_col}
    if pick(record, TITLE_COLUMNS):
        meta["title"] = _plain(record[pick(record, TITLE_COLUMNS)])
    if id_col:
        meta["input_id"] = cell_key(record.get(id_col))
    if meta.get("lang") in ("", None):
        meta.pop("lang", None)
    return Document(corpus=corpus, source=source, doc_id=document_id(corpus, source), text=normalise_text(text), meta=meta)


def _row_problem(record: dict, text, text_col: str) -> str:
    if isinstance(text, (list, dict)):
        return f"column '{text_col}' holds a {type(text).__name__}, not text"
    if not isinstance(text, str):
        return f"column '{text_col}' holds {type(text).__name__} {text!r}, not text"
    for column, value in record.items():
        if isinstance(value, str) and has_lone_surrogate(value):
            return f"invalid Unicode (lone surrogate) in column '{column}'"
    if not text.strip():
        return EMPTY_TEXT
    return ""


def _meta_key(column) -> str:
    key = str(column).lower()
    return f"input_{key}" if key in RESERVED else key


def _plain(value):
    """Table cells as JSON-friendly scalars (numpy types and NaN do not survive Parquet mixing)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


# ---------------------------------------------------------------- corpus tables


def rebuild_corpus_documents(rows: list[Row], rel: str, corpus: str) -> list[Document]:
    """The documents of a corpus table, with the ids, offsets and measures it records.

    Text between measures (headings, blank lines) is not in the table; it becomes
    line breaks so that every offset still points at its measure's text.
    """
    by_doc: dict[str, list[dict]] = {}
    docs = []
    for row in rows:
        if row.record is None:
            docs.append(Document.failure(corpus, f"{rel}:{row.where}", f"{row.where}: {row.problem}"))
        else:
            by_doc.setdefault(str(row.record["doc_id"]), []).append(row.record)
    for doc_id, records in by_doc.items():
        try:
            docs.append(_rebuilt_document(doc_id, records))
        except (ValueError, TypeError) as exc:
            docs.append(Document.failure(corpus, f"{rel}#{doc_id}", f"corpus table rows of {doc_id} are inconsistent: {exc}"))
    return docs


def _rebuilt_document(doc_id: str, records: list[dict]) -> Document:
    first = records[0]
    skip = CORPUS_TABLE | {"doc_lang", "lang", "section", "error", "kind"}
    meta = {k: _plain(v) for k, v in first.items() if k not in skip and _plain(v) not in (None, "")}
    if isinstance(meta.get("sme_targeted"), str):
        meta["sme_targeted"] = {"true": True, "false": False}.get(meta["sme_targeted"].lower())
    if first.get("doc_lang") not in (None, "", "und"):
        meta["lang"] = first["doc_lang"]
    kind = first.get("kind") or ("stip" if doc_id.startswith("stip:") else "text")
    status = first.get("status") or OK
    doc = Document(corpus=str(first["corpus"]), source=str(first["source"]), doc_id=doc_id, kind=kind, meta=meta,
                   status=status, error=str(first.get("error") or ""))
    if status != OK:
        return doc
    measures = sorted(records, key=lambda r: int(r["start"]))
    pieces, segments, position = [], [], 0
    for m in measures:
        start, end, text = int(m["start"]), int(m["end"]), str(m["text"])
        if start < position or end - start != len(text):
            raise ValueError(f"measure {m['measure_id']} overlaps another or its offsets do not fit its text")
        gap = start - position
        title = str(meta.get("title") or "")
        pieces.append(title + "\n\n" if position == 0 and gap == len(title) + 2 and title else "\n" * gap)
        pieces.append(text)
        segments.append(Segment(start, end, str(m.get("section") or ""), str(m.get("lang") or "")))
        position = end
    doc.text = "".join(pieces)
    order = sorted(range(len(measures)), key=lambda i: int(measures[i]["order"]))
    doc.segments = [segments[i] for i in order]
    return doc
