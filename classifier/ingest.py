"""Stage 1, ingest: read policy documents from files, folders, archives and tables.

Every input yields at least one :class:`Document`; an input that cannot be read
yields a document whose ``status`` is ``failed`` (or ``skipped`` for files that
are not documents, such as a metadata manifest) and whose ``error`` says why.
Nothing is dropped silently: inputs = documents + error rows.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from .documents import FAILED, SKIPPED, Document, Segment, normalise_text

csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile or accidental input from exhausting the machine."""

    max_file_bytes: int = 100 * 1024**2  # one document file or table
    max_archive_members: int = 20_000
    max_archive_bytes: int = 2 * 1024**3  # sum of uncompressed members
    max_compression_ratio: float = 200.0  # zip bomb guard, per member
    max_archive_depth: int = 3  # archives inside archives


DEFAULT_LIMITS = Limits()

TEXT_COLUMNS = ("text", "content", "body", "fulltext", "full_text")
TITLE_COLUMNS = ("title", "name", "nameenglish")
ID_COLUMNS = ("id", "doc_id")
URL_COLUMNS = ("url", "uri", "link")
STIP_TEXT_FIELDS = ("ShortDescription", *(f"Objectives{i}" for i in range(1, 7)), "Background")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
HIDDEN_OR_META = re.compile(r"(^|/)(\.|__MACOSX/|README(\.[a-z]+)?$|manifest\.csv$)", re.IGNORECASE)


class InputError(Exception):
    """An input that cannot be read; the message names the reason."""


# ---------------------------------------------------------------- entry points


def parse_spec(spec: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH``; the corpus name defaults to the last folder name of PATH."""
    if "=" in spec and not Path(spec).exists():
        name, _, path = spec.partition("=")
        return name, Path(path)
    path = Path(spec)
    resolved = path.resolve()
    name = resolved.name if resolved.is_dir() else resolved.parent.name
    return name or "corpus", path


def iter_documents(
    path: Path, corpus: str, limits: Limits = DEFAULT_LIMITS, on_input: Callable[[str], None] | None = None
) -> Iterator[Document]:
    """All documents under ``path`` (a file, a folder walked recursively, or an archive)."""
    path = Path(path)
    if not path.exists():
        yield Document.failure(corpus, str(path), "no such file or folder")
        return
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
            rel = file.relative_to(path).as_posix()
            yield from _read_file(file, rel, corpus, limits, on_input)
    else:
        yield from _read_file(path, path.name, corpus, limits, on_input)


def count_inputs(path: Path) -> int:
    """How many files a walk of ``path`` will visit (for progress bars)."""
    path = Path(path)
    if path.is_dir():
        return sum(1 for p in path.rglob("*") if p.is_file() or p.is_symlink())
    return 1


# ---------------------------------------------------------------- files


def _read_file(file: Path, rel: str, corpus: str, limits: Limits, on_input) -> Iterator[Document]:
    if on_input:
        on_input(rel)
    if HIDDEN_OR_META.search(rel):
        yield Document.failure(corpus, rel, "not a document (hidden file, README or manifest)", SKIPPED)
        return
    if file.is_symlink():
        yield Document.failure(corpus, rel, "symbolic link not followed")
        return
    size = file.stat().st_size
    if size > limits.max_file_bytes:
        yield Document.failure(corpus, rel, f"file too large ({size:,} bytes > limit {limits.max_file_bytes:,})")
        return
    yield from read_bytes(file.read_bytes(), rel, corpus, limits)


def read_bytes(data: bytes, rel: str, corpus: str, limits: Limits = DEFAULT_LIMITS, depth: int = 0) -> Iterator[Document]:
    """Documents in one input given as bytes; ``rel`` names it (and decides its format by suffix)."""
    try:
        yield from _dispatch(data, rel, corpus, limits, depth)
    except InputError as exc:
        yield Document.failure(corpus, rel, str(exc))
    except Exception as exc:  # a reader library choking on a corrupt file
        yield Document.failure(corpus, rel, f"unreadable {_suffix(rel) or 'file'}: {type(exc).__name__}: {exc}")


def _suffix(rel: str) -> str:
    name = rel.lower()
    for multi in (".csv.gz", ".jsonl.gz", ".tar.gz", ".tar.bz2", ".tar.xz"):
        if name.endswith(multi):
            return multi
    return PurePosixPath(name).suffix


def _dispatch(data: bytes, rel: str, corpus: str, limits: Limits, depth: int) -> Iterator[Document]:
    suffix = _suffix(rel)
    if not data.strip():
        raise InputError("empty file")
    if suffix in ARCHIVE_SUFFIXES:
        yield from _read_archive(data, rel, corpus, limits, depth)
    elif suffix in (".csv", ".csv.gz", ".tsv"):
        yield from _read_csv(_gunzip(data, limits) if suffix.endswith(".gz") else data, rel, corpus)
    elif suffix in (".jsonl", ".jsonl.gz", ".ndjson", ".json"):
        yield from _read_json(_gunzip(data, limits) if suffix.endswith(".gz") else data, rel, corpus)
    elif suffix == ".parquet":
        yield from _documents_from_table(pd.read_parquet(io.BytesIO(data)), rel, corpus)
    elif suffix in (".html", ".htm", ".xhtml"):
        yield _text_document(corpus, rel, html_to_text(data))
    elif suffix == ".pdf":
        yield _text_document(corpus, rel, pdf_to_text(data))
    elif suffix == ".docx":
        yield _text_document(corpus, rel, docx_to_text(data))
    elif suffix in (".md", ".markdown"):
        yield _markdown_document(corpus, rel, decode_text(data))
    elif suffix in (".txt", ".text", ""):
        yield _text_document(corpus, rel, decode_text(data))
    else:
        raise InputError(f"unsupported format '{suffix}'")


def _gunzip(data: bytes, limits: Limits) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        out = stream.read(limits.max_archive_bytes + 1)
    if len(out) > limits.max_archive_bytes:
        raise InputError(f"gzip expands beyond {limits.max_archive_bytes:,} bytes")
    return out


# ---------------------------------------------------------------- decoding


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: BOMs, then strict UTF-8, then a charset detector.

    Chinese files in GB2312/GBK are decoded as GB18030, their superset, so that
    characters outside the narrower tables are not lost.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    if b"\x00" in data[:4096]:
        raise InputError("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise InputError("unknown text encoding (not UTF-8, UTF-16 or a detectable legacy encoding)")
    encoding = best.encoding.lower().replace("-", "_")
    if encoding in {"gb2312", "gbk", "gb18030", "hz", "big5", "cp936"}:
        encoding = "gb18030" if encoding != "big5" else "big5"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"undecodable text (detected {best.encoding}): {exc}") from exc
    if _control_ratio(text) > 0.05:
        raise InputError(f"binary or garbled content (detected encoding {best.encoding})")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:20_000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(sample))


def html_to_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    # Block elements end paragraphs; joining their text with blank lines keeps measures apart.
    blocks = [el.get_text(" ", strip=True) for el in soup.find_all(["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "pre"])]
    blocks = [b for b in blocks if b]
    text = "\n\n".join(blocks) if blocks else soup.get_text("\n", strip=True)
    if not text.strip():
        raise InputError("HTML page has no text")
    return text


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfReadError as exc:
        raise InputError(f"corrupt PDF: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError("PDF has no text layer (scanned images need OCR first)")
    return text


def docx_to_text(data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise InputError(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            paragraphs.extend(c.text.strip() for c in row.cells if c.text.strip())
    if not paragraphs:
        raise InputError("DOCX has no text")
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------- single-text documents


def _text_document(corpus: str, rel: str, text: str, **meta) -> Document:
    text = normalise_text(text)
    if not text.strip():
        raise InputError("no text after decoding")
    meta.setdefault("title", _title_from_name(rel))
    return Document(corpus=corpus, source=rel, doc_id=f"{corpus}/{rel}", text=text, kind="text", meta=meta)


_DATE_IN_NAME = re.compile(r"[(（](\d{4})(?:-(\d{2})-(\d{2}))?[)）]$")


def _title_from_name(rel: str) -> str:
    stem = PurePosixPath(rel).name
    for suffix in (".md", ".txt", ".markdown", ".html", ".htm", ".pdf", ".docx"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return _DATE_IN_NAME.sub("", stem)


def _markdown_document(corpus: str, rel: str, text: str) -> Document:
    """Chinese laws as published by LawRefBook: title, promulgation notes, ``<!-- INFO END -->``, body."""
    doc = _text_document(corpus, rel, text)
    heading = re.match(r"#\s*(.+)", doc.text)
    if heading:
        doc.meta["title"] = heading.group(1).strip()
    date = _DATE_IN_NAME.search(PurePosixPath(rel).stem)
    if date:
        doc.meta["year"] = int(date.group(1))
        if date.group(2):
            doc.meta["date"] = f"{date.group(1)}-{date.group(2)}-{date.group(3)}"
    parent = PurePosixPath(rel).parent.as_posix()
    if parent != ".":
        doc.meta["category"] = parent
    if "<!-- INFO END -->" in doc.text or re.search(r"^第[一二三四五六七八九十百零〇\d]+条", doc.text, re.M):
        doc.kind = "law"
    return doc


# ---------------------------------------------------------------- tables


def _read_csv(data: bytes, rel: str, corpus: str) -> Iterator[Document]:
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    if first_line.startswith("InitiativeID|"):
        yield from read_stip(text, rel, corpus)
        return
    sep = "\t" if rel.lower().endswith(".tsv") else ("|" if first_line.count("|") > first_line.count(",") else ",")
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    yield from _documents_from_table(table, rel, corpus)


def _read_json(data: bytes, rel: str, corpus: str) -> Iterator[Document]:
    text = decode_text(data)
    stripped = text.lstrip()
    if stripped.startswith("["):
        records = json.loads(stripped)
    else:
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                yield Document.failure(corpus, f"{rel}:{number}", f"invalid JSON on line {number}: {exc.msg}")
    records = [r if isinstance(r, dict) else {"text": r} for r in records]
    yield from _documents_from_table(pd.DataFrame.from_records(records), rel, corpus)


def _pick(columns: Iterable[str], wanted: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def _row_keys(table: pd.DataFrame, text_col: str) -> list[str]:
    """Stable per-row keys derived from the row's identity, never from its position.

    The first unique column of: an id, the title (readable), the URL; else a hash of the text.
    """
    for col in (_pick(table.columns, ID_COLUMNS), _pick(table.columns, TITLE_COLUMNS), _pick(table.columns, URL_COLUMNS)):
        if col is not None:
            keys = table[col].astype(str)
            if keys.is_unique and (keys != "").all():
                return keys.tolist()
    keys, seen = [], {}
    for value in table[text_col].astype(str):
        digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        keys.append(digest if seen[digest] == 1 else f"{digest}-{seen[digest]}")
    return keys


def _documents_from_table(table: pd.DataFrame, rel: str, corpus: str) -> Iterator[Document]:
    text_col = _pick(table.columns, TEXT_COLUMNS)
    if text_col is None:
        if "InitiativeID" in table.columns:
            yield from _stip_documents(table, rel, corpus)
            return
        yield Document.failure(corpus, rel, f"table has no text column (looked for {', '.join(TEXT_COLUMNS)})", SKIPPED)
        return
    id_col = _pick(table.columns, ID_COLUMNS)
    title_col = _pick(table.columns, TITLE_COLUMNS)
    keys = _row_keys(table, text_col)
    meta_cols = [c for c in table.columns if c != text_col]
    for key, (_, row) in zip(keys, table.iterrows()):
        source = f"{rel}#{key}"
        raw = row[text_col]
        if not isinstance(raw, str) or not raw.strip():
            yield Document.failure(corpus, source, "row has empty text")
            continue
        meta = {c.lower(): _plain(row[c]) for c in meta_cols}
        if title_col:
            meta["title"] = _plain(row[title_col])
        if id_col:
            meta["input_id"] = _plain(row[id_col])
        doc = Document(corpus=corpus, source=source, doc_id=f"{corpus}/{source}", text=normalise_text(raw), meta=meta)
        if "lang" in meta and meta["lang"] in ("", None):
            del meta["lang"]
        yield doc


def _plain(value):
    """Table cells as JSON-friendly scalars (numpy types and NaN do not survive Parquet mixing)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


# ---------------------------------------------------------------- STIP Compass exports


def read_stip(text: str, rel: str, corpus: str) -> Iterator[Document]:
    """One document per initiative and wave from an EC-OECD STIP Compass flat export.

    Row 1 after the header is a label row (column code -> human label); each
    further row is one initiative x instrument, so rows are grouped by initiative.
    """
    table = pd.read_csv(io.StringIO(text), sep="|", dtype=str, keep_default_na=False, skiprows=[1])
    yield from _stip_documents(table, rel, corpus)


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
        value = normalise_text(value or "")
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


def _stip_documents(table: pd.DataFrame, rel: str, corpus: str) -> Iterator[Document]:
    flag_cols = [c for c in table.columns if re.match(r"^(TH|TG)\d+$|^F\d+:V\d+$", c)]
    # Tags are per instrument row; an initiative carries a tag if any of its instruments does.
    flagged = (table[flag_cols] == "1").groupby(table["InitiativeID"], sort=False).any()
    flag_names = np.array(flag_cols)
    flags_of = {uri: ";".join(sorted(flag_names[row])) for uri, row in zip(flagged.index, flagged.to_numpy())}
    # Plain dicts: pandas sub-frames per initiative made this stage 20x slower.
    wanted = ["InitiativeID", "SurveyYear", "NameEnglish", *STIP_TEXT_FIELDS, "InstrumentDescription",
              "InstrumentTypeLabel", "CountryLabel", "CountryCode", "StartDateYear", "NameResponsibleOrganisation"]
    records: dict[str, list[dict]] = {}
    for record in table[[c for c in wanted if c in table.columns]].to_dict("records"):
        records.setdefault(record["InitiativeID"], []).append(record)
    for uri, rows in records.items():
        yield _stip_document(uri, rows, flags_of[uri], rel, corpus)


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
        "title": first.get("NameEnglish", ""),
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


# ---------------------------------------------------------------- archives


def _read_archive(data: bytes, rel: str, corpus: str, limits: Limits, depth: int) -> Iterator[Document]:
    """Members are read in memory, never extracted, so hostile names cannot write anywhere."""
    if depth >= limits.max_archive_depth:
        raise InputError(f"archive nested deeper than {limits.max_archive_depth} levels")
    members = _zip_members if _suffix(rel) == ".zip" else _tar_members
    total = 0
    for count, (name, read) in enumerate(members(data, rel, limits), 1):
        member_rel = f"{rel}!{name}"
        if count > limits.max_archive_members:
            yield Document.failure(corpus, rel, f"archive has more than {limits.max_archive_members:,} members; rest not read")
            return
        problem = _unsafe_member_name(name)
        if problem:
            yield Document.failure(corpus, member_rel, problem)
            continue
        if HIDDEN_OR_META.search(name):
            yield Document.failure(corpus, member_rel, "not a document (hidden file, README or manifest)", SKIPPED)
            continue
        try:
            content = read(min(limits.max_file_bytes, limits.max_archive_bytes - total))
        except InputError as exc:
            yield Document.failure(corpus, member_rel, str(exc))
            continue
        total += len(content)
        yield from read_bytes(content, member_rel, corpus, limits, depth + 1)


def _unsafe_member_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return "unsafe archive member: absolute path"
    if ".." in path.parts:
        return "unsafe archive member: path traversal ('..')"
    return ""


def _bounded_read(stream, budget: int) -> bytes:
    """Read at most ``budget`` bytes; a member that would exceed it is refused, not truncated."""
    try:
        content = stream.read(budget + 1)
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise InputError(f"corrupt or truncated archive member: {exc}") from exc
    if len(content) > budget:
        raise InputError(f"archive member expands beyond the size limit ({budget:,} bytes)")
    return content


def _zip_members(data: bytes, rel: str, limits: Limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"corrupt or truncated zip archive: {exc}") from exc
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.compress_size and info.file_size / info.compress_size > limits.max_compression_ratio:
            def refuse(_budget, info=info):
                raise InputError(f"zip bomb guard: compression ratio {info.file_size / info.compress_size:,.0f}:1")
            yield info.filename, refuse
            continue

        def read(budget, info=info):
            if info.file_size > budget:
                raise InputError(f"archive member too large ({info.file_size:,} bytes > {budget:,})")
            with archive.open(info) as stream:
                return _bounded_read(stream, budget)

        yield info.filename, read


def _tar_members(data: bytes, rel: str, limits: Limits):
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"corrupt or truncated tar archive: {exc}") from exc
    try:
        for info in archive:
            if info.isdir():
                continue
            if not info.isfile():
                def refuse(_budget, info=info):
                    raise InputError("archive member is a link or device, not followed")
                yield info.name, refuse
                continue

            def read(budget, info=info):
                if info.size > budget:
                    raise InputError(f"archive member too large ({info.size:,} bytes > {budget:,})")
                return _bounded_read(archive.extractfile(info), budget)

            yield info.name, read
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise InputError(f"corrupt or truncated tar archive: {exc}") from exc

