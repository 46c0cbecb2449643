"""Stage 1, ingest: read policy documents from files, folders, archives and tables.

Every input yields at least one :class:`Document`; an input that cannot be read
yields a document whose ``status`` is ``failed`` (or ``skipped`` for files that
are not documents, such as a metadata manifest) and whose ``error`` says why.
Nothing is dropped silently: inputs = documents + error rows.

Modules: ``registry`` (suffix or sniffed type -> reader), ``formats`` (text,
Markdown, HTML, PDF, DOCX), ``tables`` (CSV, JSON, Parquet, DataFrames, corpus
tables), ``stip`` (STIP Compass exports), ``archives`` (zip, tar, gzip),
``decode`` (encodings, markup), ``reflow`` (wrapped lines), ``ids`` (the id rule),
``limits`` (what one input may cost).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..documents import SKIPPED, Document
from .archives import HIDDEN_OR_META
from .decode import clean_markup, decode_text, printable_name
from .formats import docx_to_text, html_to_text, pdf_to_text
from .ids import UniqueIds
from .limits import DEFAULT_LIMITS, Budget, InputError, Limits
from .registry import READERS, dispatch, reader_for
from .stip import STIP_TEXT_FIELDS, read_stip, stip_numeric_id
from .tables import documents_from_table

__all__ = [
    "DEFAULT_LIMITS", "Limits", "InputError", "READERS", "STIP_TEXT_FIELDS", "clean_markup", "count_inputs",
    "decode_text", "docx_to_text", "documents_from_table", "html_to_text", "iter_documents", "iter_specs",
    "parse_spec", "pdf_to_text", "read_bytes", "read_stdin", "read_stip", "reader_for", "stip_numeric_id",
]


def parse_spec(spec: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH``; the corpus name defaults to the last folder name of PATH."""
    if "=" in spec and not Path(spec).exists():
        name, _, path = spec.partition("=")
        return name, Path(path)
    path = Path(spec)
    resolved = path.resolve()
    name = resolved.name if resolved.is_dir() else resolved.parent.name
    return name or "corpus", path


def iter_specs(specs: Iterable[str], limits: Limits = DEFAULT_LIMITS,
               on_input: Callable[[str], None] | None = None) -> Iterator[Document]:
    """Documents of every ``PATH`` or ``NAME=PATH`` spec, ids unique across all of them."""
    ids = UniqueIds()
    for spec in specs:
        corpus, path = parse_spec(spec)
        yield from iter_documents(path, corpus, limits, on_input, ids)


def iter_documents(path: Path, corpus: str, limits: Limits = DEFAULT_LIMITS,
                   on_input: Callable[[str], None] | None = None, ids: UniqueIds | None = None) -> Iterator[Document]:
    """All documents under ``path`` (a file, a folder walked recursively, or an archive)."""
    path = Path(path)
    ids = ids or UniqueIds()
    if not path.exists() and not path.is_symlink():
        yield from ids.apply([Document.failure(corpus, printable_name(str(path)), "no such file or folder")])
    elif path.is_dir():
        for entry, rel, problem in _walk(path):
            if problem:
                yield from ids.apply([Document.failure(corpus, rel, problem)])
            else:
                yield from ids.apply(_read_file(entry, rel, corpus, limits, on_input))
    else:
        yield from ids.apply(_read_file(path, printable_name(path.name), corpus, limits, on_input))


def count_inputs(path: Path) -> int:
    """How many entries a walk of ``path`` will visit (for progress bars)."""
    path = Path(path)
    return sum(1 for _ in _walk(path)) if path.is_dir() else 1


def _walk(root: Path) -> Iterator[tuple[Path, str, str]]:
    """(path, name relative to root, problem) for every non-folder entry, sorted; unreadable folders are entries too."""
    def walk(folder: Path) -> Iterator[tuple[Path, str, str]]:
        rel = printable_name(folder.relative_to(root).as_posix())
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield folder, rel, f"unreadable folder: {exc.strerror or exc}"
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                yield from walk(path)
            else:
                yield path, printable_name(path.relative_to(root).as_posix()), ""

    yield from walk(root)


def _read_file(file: Path, rel: str, corpus: str, limits: Limits, on_input) -> Iterator[Document]:
    if on_input:
        on_input(rel)
    if HIDDEN_OR_META.search(rel):
        yield Document.failure(corpus, rel, "not a document (hidden file, README or manifest)", SKIPPED)
        return
    if file.is_symlink():
        yield Document.failure(corpus, rel, "symbolic link not followed")
        return
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file (FIFO, device or socket): not read")
        if info.st_size > limits.max_file_bytes:
            raise InputError(f"file too large ({info.st_size:,} bytes > limit {limits.max_file_bytes:,})")
        with open(file, "rb") as handle:  # the size can change after stat: never read past the limit
            data = handle.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise InputError(f"file too large (more than the limit of {limits.max_file_bytes:,} bytes)")
    except InputError as exc:
        yield Document.failure(corpus, rel, str(exc))
        return
    except OSError as exc:
        yield Document.failure(corpus, rel, f"unreadable file: {exc.strerror or exc}")
        return
    yield from read_bytes(data, rel, corpus, limits)


def read_bytes(data: bytes, rel: str, corpus: str, limits: Limits = DEFAULT_LIMITS, depth: int = 0) -> Iterator[Document]:
    """Documents in one input given as bytes; ``rel`` names it (its suffix, else its content, decides the reader).

    The input gets a fresh budget (size, ratio, time) shared by everything inside it.
    """
    yield from UniqueIds().apply(dispatch(data, rel, corpus, Budget(limits), depth))


def read_stdin(stream, corpus: str = "stdin", name: str = "stdin") -> list[Document]:
    """The text on standard input as one document (bytes of any encoding; ``sys.stdin`` or its buffer)."""
    data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return list(read_bytes(data, name, corpus))
