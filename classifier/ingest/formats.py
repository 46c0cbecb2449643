"""Single-text formats: plain text, Markdown laws, HTML, PDF and DOCX."""
from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import PurePosixPath

from ..documents import Document, document_id, normalise_text
from .decode import decode_text
from .limits import Budget, InputError
from .reflow import is_hard_wrapped, pdf_pages_to_text, reflow_lines

INFO_END = "<!-- INFO END -->"
ARTICLE_LINE = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条", re.M)
_DATE_IN_NAME = re.compile(r"[(（](\d{4})(?:-(\d{2})-(\d{2}))?[)）]$")
TEXT_SUFFIXES = (".md", ".txt", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".text")


def text_document(corpus: str, rel: str, text: str, **meta) -> Document:
    text = normalise_text(text)
    if not text.strip():
        raise InputError("no text after decoding")
    meta.setdefault("title", title_from_name(rel))
    return Document(corpus=corpus, source=rel, doc_id=document_id(corpus, rel), text=text, kind="text", meta=meta)


def title_from_name(rel: str) -> str:
    stem = PurePosixPath(rel.rsplit("!", 1)[-1]).name
    for suffix in TEXT_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return _DATE_IN_NAME.sub("", stem)


def is_law(text: str) -> bool:
    return INFO_END in text or bool(ARTICLE_LINE.search(text))


def reflow_if_hard_wrapped(text: str) -> str:
    """A law wrapped at a fixed width (fragments of sentences on their own lines) gets its paragraphs back.

    Only the body after the ``<!-- INFO END -->`` marker is reflowed; well-formed
    texts are returned unchanged, byte for byte.
    """
    if not is_law(text):
        return text
    marker = text.find(INFO_END)
    head, body = (text[: marker + len(INFO_END)], text[marker + len(INFO_END):]) if marker >= 0 else ("", text)
    lines = body.split("\n")
    if not is_hard_wrapped(lines):
        return text
    return f"{head}\n\n{reflow_lines(lines)}" if head else reflow_lines(lines)


def read_plain_text(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    text = normalise_text(decode_text(data))
    doc = text_document(corpus, rel, reflow_if_hard_wrapped(text))
    if is_law(doc.text):
        doc.kind = "law"
    return [doc]


def read_markdown(data: bytes, rel: str, corpus: str, budget: Budget) -> list[Document]:
    """Chinese laws as published by LawRefBook: title, promulgation notes, ``<!-- INFO END -->``, body."""
    doc = read_plain_text(data, rel, corpus, budget)[0]
    heading = re.match(r"#\s*(.+)", doc.text)
    if heading:
        doc.meta["title"] = heading.group(1).strip()
    date = _DATE_IN_NAME.search(PurePosixPath(rel).stem)
    if date:
        doc.meta["year"] = int(date.group(1))
        if date.group(2):
            doc.meta["date"] = f"{date.group(1)}-{date.group(2)}-{date.group(3)}"
    parent = PurePosixPath(rel.rsplit("!", 1)[-1]).parent.as_posix()
    if parent != ".":
        doc.meta["category"] = parent
    return [doc]


# ---------------------------------------------------------------- HTML


class _BlockText(HTMLParser):
    """One pass over the page: text of block elements becomes paragraphs, each character read once."""

    BLOCKS = {"p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol",
              "section", "article", "blockquote", "dd", "dt", "header", "footer", "main", "nav", "form", "body"}
    HIDDEN = {"script", "style", "noscript", "template", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.hidden = 0

    def flush(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            self.paragraphs.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS or tag == "br":
            self.flush()

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.hidden:
            self.current.append(data)


def html_to_text(data: bytes) -> str:
    parser = _BlockText()
    parser.feed(decode_text(data))
    parser.close()
    parser.flush()
    if not parser.paragraphs:
        raise InputError("HTML page has no text")
    return "\n\n".join(parser.paragraphs)


def read_html(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    return [text_document(corpus, rel, html_to_text(data))]


# ---------------------------------------------------------------- PDF


def pdf_to_text(data: bytes) -> str:
    """The reflowed text layer; an encrypted PDF is read when its user password is empty."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError("encrypted PDF: a password is needed to read it")
        # Some CID fonts come out with a NUL before every character.
        pages = [(page.extract_text() or "").replace("\x00", "") for page in reader.pages]
    except PdfReadError as exc:
        raise InputError(f"corrupt PDF: {exc}") from exc
    if not any(p.strip() for p in pages):
        raise InputError("PDF has no text layer: OCR is needed (scanned pages are images)")
    return pdf_pages_to_text(pages)


def read_pdf(data: bytes, rel: str, corpus: str, _budget: Budget) -> list[Document]:
    doc = text_document(corpus, rel, pdf_to_text(data))
    if is_law(doc.text):
        doc.kind = "law"
    return [doc]


# ---------------------------------------------------------------- DOCX


def check_zip_container(data: bytes, budget: Budget, what: str) -> None:
    """The archive guard for zip-based formats: declared sizes within the budget and the ratio.

    zipfile never returns more than a member's declared size, so checking the
    declarations bounds what python-docx can decompress (overlapping entries included).
    """
    limits = budget.limits
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise InputError(f"corrupt {what}: {exc}") from exc
    if len(infos) > limits.max_archive_members:
        raise InputError(f"{what} has more than {limits.max_archive_members:,} parts")
    for info in infos:
        if info.file_size > limits.ratio_floor_bytes and \
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise InputError(f"compression bomb guard: {what} part {info.filename} expands more than "
                             f"{limits.max_compression_ratio:g}:1")
    budget.charge(sum(info.file_size for info in infos))


def docx_to_text(data: bytes, budget: Budget | None = None) -> str:
    import docx

    from .limits import DEFAULT_LIMITS

    check_zip_container(data, budget or Budget(DEFAULT_LIMITS), "DOCX")
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


def read_docx(data: bytes, rel: str, corpus: str, budget: Budget) -> list[Document]:
    return [text_document(corpus, rel, docx_to_text(data, budget))]
