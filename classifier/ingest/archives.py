"""Containers: zip, tar (plain, gzip, bzip2, xz) and gzip files, read in memory, never extracted.

Every member is a document or an error row. All members of one input share one
:class:`Budget`: bytes decompressed at every nesting level count against it, and a
member that breaks a limit is refused without stopping its siblings. When the
budget itself is spent, the members not yet read each get an error row (zip) or
one row says the rest was not read (tar: its members are only known by reading).
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile
import zipfile
from pathlib import PurePosixPath
from typing import Callable, Iterator

from ..documents import SKIPPED, Document
from .decode import printable_name
from .limits import Budget, BudgetExhausted, InputError, read_capped

HIDDEN_OR_META = re.compile(r"(^|/)(\.|__MACOSX/|README(\.[a-z]+)?$|manifest\.csv$)", re.IGNORECASE)
MAGIC = ((b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f)), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile))

ReadMember = Callable[[bytes, str, int], Iterator[Document]]  # (content, rel, depth) -> documents


def gunzip(data: bytes, budget: Budget) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        try:
            return read_capped(stream, budget, budget.limits.max_file_bytes, len(data), "gzip stream")
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"corrupt or truncated gzip file: {exc}") from exc


def unsafe_member_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return "unsafe archive member: absolute path"
    if ".." in path.parts:
        return "unsafe archive member: path traversal ('..')"
    return ""


def read_archive(data: bytes, rel: str, corpus: str, budget: Budget, depth: int, read_member: ReadMember,
                 kind: str) -> Iterator[Document]:
    limits = budget.limits
    if depth >= limits.max_archive_depth:
        raise InputError(f"archive nested deeper than {limits.max_archive_depth} levels")
    members = zip_members(data) if kind == "zip" else tar_members(data, budget)
    count = 0
    for name, read in members:
        count += 1
        member_rel = f"{rel}!{printable_name(name)}"
        if count > limits.max_archive_members:
            yield Document.failure(corpus, rel, f"archive has more than {limits.max_archive_members:,} members; rest not read")
            return
        problem = unsafe_member_name(name)
        if problem or HIDDEN_OR_META.search(name):
            yield Document.failure(corpus, member_rel, problem or "not a document (hidden file, README or manifest)",
                                   SKIPPED if not problem else "failed")
            continue
        try:
            content = read(budget)
        except BudgetExhausted as exc:
            yield Document.failure(corpus, member_rel, str(exc))
            yield from _not_read(members, rel, corpus, str(exc))
            return
        except InputError as exc:
            yield Document.failure(corpus, member_rel, str(exc))
            continue
        yield from read_member(content, member_rel, depth + 1)
    if count == 0:
        yield Document.failure(corpus, rel, "empty archive: no files in it")


def _not_read(members, rel: str, corpus: str, reason: str) -> Iterator[Document]:
    if isinstance(members, _ZipMembers):
        for name, _ in members:
            yield Document.failure(corpus, f"{rel}!{printable_name(name)}", f"not read: {reason}")
    else:
        yield Document.failure(corpus, rel, f"rest of the archive not read: {reason}")


class _ZipMembers:
    def __init__(self, archive: zipfile.ZipFile):
        self.infos = iter([i for i in archive.infolist() if not i.is_dir()])
        self.archive = archive

    def __iter__(self):
        return self

    def __next__(self):
        info = next(self.infos)
        return info.filename, lambda budget, info=info: self._read(info, budget)

    def _read(self, info: zipfile.ZipInfo, budget: Budget) -> bytes:
        if info.flag_bits & 0x1:
            raise InputError("encrypted archive member: a password is needed to read it")
        if info.file_size > budget.limits.max_file_bytes:
            raise InputError(f"archive member too large ({info.file_size:,} bytes > {budget.limits.max_file_bytes:,})")
        try:
            with self.archive.open(info) as stream:
                return read_capped(stream, budget, budget.limits.max_file_bytes, info.compress_size, "archive member")
        except (InputError, MemoryError):
            raise
        except NotImplementedError as exc:
            raise InputError(f"unsupported compression in archive member: {exc}") from exc
        except Exception as exc:  # CRC errors, truncated data, bad headers: this member only
            raise InputError(f"corrupt or truncated archive member: {type(exc).__name__}: {exc}") from exc


def zip_members(data: bytes) -> _ZipMembers:
    try:
        return _ZipMembers(zipfile.ZipFile(io.BytesIO(data)))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InputError(f"corrupt or truncated zip archive: {exc}") from exc


class _Charged(io.RawIOBase):
    """A decompressing stream that charges every byte it yields to the budget and the ratio guard."""

    def __init__(self, stream, budget: Budget, compressed_size: int):
        self.stream, self.budget, self.compressed_size, self.total = stream, budget, compressed_size, 0

    def readable(self):
        return True

    def read(self, n=-1):
        chunk = self.stream.read(n)
        self.total += len(chunk)
        limits = self.budget.limits
        if self.total > limits.ratio_floor_bytes and self.total > limits.max_compression_ratio * max(self.compressed_size, 1):
            raise BudgetExhausted(f"compression bomb guard: archive expands more than {limits.max_compression_ratio:g}:1")
        self.budget.charge(len(chunk))
        return chunk


def tar_members(data: bytes, budget: Budget) -> Iterator[tuple[str, Callable]]:
    """Streamed (``r|``): tarfile cannot seek, so every byte it skips or reads passes the budget."""
    opener = next((open_ for magic, open_ in MAGIC if data.startswith(magic)), None)
    raw = opener(io.BytesIO(data)) if opener else io.BytesIO(data)
    try:
        archive = tarfile.open(fileobj=_Charged(raw, budget, len(data)), mode="r|")
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError) as exc:
        raise InputError(f"corrupt or truncated tar archive: {exc}") from exc
    try:
        for info in archive:
            if info.isdir():
                continue
            if not info.isfile():
                yield info.name, _refuse("archive member is a link or device, not followed")
                continue
            yield info.name, lambda budget, info=info: _tar_read(archive, info, budget)
    except BudgetExhausted:
        raise
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, ValueError) as exc:
        raise InputError(f"corrupt or truncated tar archive: {exc}") from exc


def _refuse(reason: str):
    def read(_budget):
        raise InputError(reason)
    return read


def _tar_read(archive: tarfile.TarFile, info: tarfile.TarInfo, budget: Budget) -> bytes:
    limit = budget.limits.max_file_bytes
    if info.size > limit:
        raise InputError(f"archive member too large ({info.size:,} bytes > {limit:,})")
    try:
        return archive.extractfile(info).read(limit + 1)  # bytes already charged by the stream
    except BudgetExhausted:
        raise
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError) as exc:
        raise InputError(f"corrupt or truncated archive member: {exc}") from exc
