"""Bytes of unknown encoding to text; markup in text fields to plain text; printable names."""
from __future__ import annotations

import html
import os
import re

from .limits import InputError

LEGACY_CHINESE = {"gb2312", "gbk", "gb18030", "hz", "cp936"}
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: BOMs, UTF-16 without BOM, strict UTF-8, then a charset detector.

    Chinese files in GB2312/GBK are decoded as GB18030, their superset, so that
    characters outside the narrower tables are not lost.
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec)
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data[:4096]:
        raise InputError("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:200_000])
    best = matches.best()
    if best is not None:
        # Short texts leave the detector undecided between CJK codecs: among equally good ones, prefer Chinese.
        best = next((m for m in matches if m.chaos <= best.chaos and m.encoding in LEGACY_CHINESE), best)
    if best is None:
        raise InputError("unknown text encoding (not UTF-8, UTF-16 or a detectable legacy encoding)")
    encoding = best.encoding.lower().replace("-", "_")
    if encoding in LEGACY_CHINESE:
        encoding = "gb18030"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError(f"undecodable text (detected {best.encoding}): {exc}") from exc
    if _control_ratio(text) > 0.05:
        raise InputError(f"binary or garbled content (detected encoding {best.encoding})")
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text written without a BOM (Windows tools do): NUL bytes on one side of ASCII characters."""
    head = data[:4096]
    if len(data) % 2 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    # ASCII characters put their NUL on one side; Han characters (U+4E00 ...) rarely add one on the other.
    codec = "utf-16-le" if odd >= 2 * max(even, 1) else "utf-16-be" if even >= 2 * max(odd, 1) else None
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if _control_ratio(text) < 0.01 else None


def _control_ratio(text: str) -> float:
    sample = text[:20_000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(sample))


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_LINE_BREAK_TAG = re.compile(r"<br\s*/?>|</?(?:p|div|li|ul|ol|tr|h[1-6])(?:\s[^<>]*)?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def clean_markup(value: str) -> str:
    """Plain text of a field that may carry HTML (STIP exports do): tags removed, entities unescaped.

    ``<br>`` and block tags (``<p>``, ``<li>`` ...) become line breaks; text without
    tags or entities is returned unchanged.
    """
    if "<" not in value and "&" not in value:
        return value
    if not _TAG.search(value) and not _ENTITY.search(value):
        return value
    text = _LINE_BREAK_TAG.sub("\n", value)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n\n", text).strip()


def printable_name(name: str) -> str:
    """A file or member name as valid UTF-8: bytes that were not UTF-8 show as ``\\xNN``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
