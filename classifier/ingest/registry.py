"""The one registry of readers: a file's suffix, else its sniffed content, names its reader.

Every reader takes ``(data, rel, corpus, budget)`` and returns the documents in the
input; containers also get the nesting depth and a way to read their members.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable, Iterator

from ..documents import Document
from . import formats, tables
from .archives import gunzip, read_archive
from .limits import Budget, InputError, time_limit


@dataclass(frozen=True)
class Reader:
    name: str
    suffixes: tuple[str, ...]
    read: Callable | None = None  # leaf readers: (data, rel, corpus, budget) -> list[Document]
    container: str = ""  # "zip", "tar" or "gzip": members are read through the registry again


READERS = (
    Reader("zip archive", (".zip",), container="zip"),
    Reader("tar archive", (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"), container="tar"),
    Reader("gzip file", (".gz",), container="gzip"),  # x.csv.gz: the member is x.csv
    Reader("CSV table", (".csv", ".tsv"), tables.read_csv),
    Reader("JSON table", (".json", ".jsonl", ".ndjson"), tables.read_json),
    Reader("Parquet table", (".parquet",), tables.read_parquet),
    Reader("HTML page", (".html", ".htm", ".xhtml"), formats.read_html),
    Reader("PDF", (".pdf",), formats.read_pdf),
    Reader("DOCX", (".docx",), formats.read_docx),
    Reader("Markdown", (".md", ".markdown"), formats.read_markdown),
    Reader("plain text", (".txt", ".text", ""), formats.read_plain_text),
)
SNIFFED = ((b"%PDF-", ".pdf"), (b"PK\x03\x04", ".zip"), (b"\x1f\x8b", ".gz"), (b"PAR1", ".parquet"))
BY_SUFFIX = {suffix: reader for reader in READERS for suffix in reader.suffixes}
ARCHIVE_SUFFIXES = tuple(s for r in READERS if r.container in ("zip", "tar") for s in r.suffixes)


def suffix_of(rel: str) -> str:
    """The longest registered suffix of the name (``.tar.gz`` before ``.gz``), else its last suffix."""
    name = PurePosixPath(rel.rsplit("!", 1)[-1]).name.lower()
    matches = [s for s in BY_SUFFIX if s and name.endswith(s)]
    return max(matches, key=len) if matches else PurePosixPath(name).suffix


def reader_for(rel: str, data: bytes) -> Reader:
    suffix = suffix_of(rel)
    if suffix in BY_SUFFIX and suffix != "":
        return BY_SUFFIX[suffix]
    sniffed = next((s for magic, s in SNIFFED if data.startswith(magic)), None)
    if sniffed:
        return BY_SUFFIX[sniffed]
    if suffix == "":
        return BY_SUFFIX[""]
    raise InputError(f"unsupported format '{suffix}'")


def dispatch(data: bytes, rel: str, corpus: str, budget: Budget, depth: int, format_name: str = "") -> Iterator[Document]:
    """Documents of one input or member, failures included as error rows.

    ``format_name`` decides the reader when it is not ``rel`` (the content of ``x.csv.gz`` is read as ``x.csv``).
    """
    try:
        yield from _dispatch(data, rel, corpus, budget, depth, format_name or rel)
    except InputError as exc:
        yield Document.failure(corpus, rel, str(exc))
    except Exception as exc:  # a reader library choking on a corrupt file
        yield Document.failure(corpus, rel, f"unreadable {suffix_of(rel) or 'file'}: {type(exc).__name__}: {exc}")


def _dispatch(data: bytes, rel: str, corpus: str, budget: Budget, depth: int, format_name: str) -> Iterator[Document]:
    if not data.strip():
        raise InputError("empty file")
    budget.check_time()
    reader = reader_for(format_name, data)
    if reader.container == "gzip":
        inner = format_name[: -len(".gz")] if format_name.lower().endswith(".gz") else format_name + ".unzipped"
        yield from dispatch(gunzip(data, budget), rel, corpus, budget, depth + 1, inner)
    elif reader.container:
        def members(content: bytes, member_rel: str, member_depth: int) -> Iterator[Document]:
            return dispatch(content, member_rel, corpus, budget, member_depth)

        yield from read_archive(data, rel, corpus, budget, depth, members, reader.container)
    else:
        with time_limit(budget.seconds_left):
            docs = reader.read(data, rel, corpus, budget)
        yield from docs
