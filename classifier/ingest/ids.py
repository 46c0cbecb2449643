"""The one id rule for documents, whatever path (library, CLI, corpus table) they come from.

* A document's ``source`` names where it came from: ``file``, ``folder/file``,
  ``archive.zip!member``, or ``table#key`` for a table row (``#key`` alone for an
  in-memory table or text list).
* Its ``doc_id`` is ``{corpus}/{source}`` (``{corpus}#key`` for in-memory rows),
  for documents and error rows alike. STIP records are the exception, with ids
  stable across files: ``stip:<initiative>:<wave>``.
* A table row's key is its id exactly as given, as a string (``0`` stays ``0``,
  ``7`` stays ``7``); without an id column the title, else the URL; a row whose
  key cell is empty gets the first 12 hex digits of the SHA-1 of its text. Never
  the row position.
* Ids are unique per input occurrence: the second document with an id already
  seen in the same run (the same file given twice, a repeated row or archive
  member name) gets ``~2`` appended, the third ``~3``, and so on, in reading order.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Iterator

from ..documents import Document, document_id  # noqa: F401  (document_id is part of the rule)

def row_source(rel: str, key: str) -> str:
    return f"{rel}#{key}"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def cell_key(value) -> str:
    """A key cell as a string exactly as given; '' when the cell is empty (None, NaN or blank)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value if isinstance(value, str) else str(value)


class UniqueIds:
    """Remembers the ids of one run and renames repeats ``id~2``, ``id~3`` ..."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def claim(self, doc_id: str) -> str:
        count = self.seen.get(doc_id, 0) + 1
        self.seen[doc_id] = count
        if count == 1:
            return doc_id
        candidate = f"{doc_id}~{count}"
        while candidate in self.seen:
            count += 1
            candidate = f"{doc_id}~{count}"
        self.seen[doc_id] = count
        self.seen[candidate] = 1
        return candidate

    def apply(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            doc.doc_id = self.claim(doc.doc_id)
            yield doc
