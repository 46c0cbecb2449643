"""Reflow text whose line breaks are layout, not structure: PDF text layers and hard-wrapped files.

A wrapped line is joined to the line before it unless the line before ends a sentence
(。；：！？ . ; : ! ?), announces a heading, or the line itself starts a unit of
structure (第X编/章/节/条, 一、 （一） 1. （1） ①, a Markdown heading, a bullet). A line
that is only an article marker (``第三条``) is joined to the text after it, and a
line that starts with closing punctuation (``。`` pushed to the next line) to the text
before it. Paragraphs are separated by a blank line. In PDFs a clearly short line also
ends its paragraph, and running headers, footers and page numbers are dropped.
"""
from __future__ import annotations

import re
from collections import Counter

from ..segment import EN_ITEM, ZH_NUM, ZH_PATTERNS

SENTENCE_END = re.compile(r"[。；：！？.;:!?][”’」』\"')）]*$")
CLOSING_START = re.compile(r"^[，。、；：！？）》」』”’,.;:!?)]")
MARKER_ONLY = re.compile(rf"^第[{ZH_NUM}\d]+条(?:之[{ZH_NUM}]+)?$")
HEADING = re.compile(rf"^(?:#+\s|第[{ZH_NUM}\d]+[编章节](?:\s|　|$))")
PAGE_NUMBER = re.compile(
    r"^(?:[-–—－·\s]*\d{1,4}[-–—－·\s]*|第\s*\d+\s*页(?:\s*[/／,，]?\s*共\s*\d+\s*页)?|(?:page\s*)?\d+\s*(?:/|of)\s*\d+)$",
    re.IGNORECASE)
LATIN_END = re.compile(r"[A-Za-z0-9,]$")
LATIN_START = re.compile(r"^[A-Za-z0-9(]")
SHORT_LINE_SHARE = 0.6  # of the widest line: a PDF line this short ends its paragraph
WRAPPED_LINE_MIN_CHARS = 15  # shorter lines without a full stop are headings, names, dates
HARD_WRAPPED_MIN_BREAKS = 3
HARD_WRAPPED_MIN_SHARE = 0.15


def starts_unit(line: str) -> bool:
    return bool(EN_ITEM.match(line) or any(p.match(line) for p in ZH_PATTERNS.values()))


def display_width(line: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in line)


def _joiner(left: str, right: str) -> str:
    return " " if LATIN_END.search(left) and LATIN_START.match(right) else ""


def reflow_lines(lines: list[str], by_width: bool = False) -> str:
    """Paragraphs (joined by blank lines) from lines in reading order (blank lines are ignored)."""
    lines = [line.strip() for line in lines if line.strip()]
    widest = max((display_width(line) for line in lines), default=0)
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        if not paragraphs:
            paragraphs.append(line)
        elif MARKER_ONLY.match(previous):
            paragraphs[-1] += " " + line
        elif CLOSING_START.match(line):
            paragraphs[-1] += line
        elif starts_unit(line) or HEADING.match(previous) or SENTENCE_END.search(previous) \
                or (by_width and display_width(previous) < SHORT_LINE_SHARE * widest):
            paragraphs.append(line)
        else:
            paragraphs[-1] += _joiner(previous, line) + line
        previous = line
    return "\n\n".join(paragraphs)


def pdf_pages_to_text(pages: list[str]) -> str:
    """The reflowed text of a PDF's pages, without running headers, footers and page numbers."""
    page_lines = [[line.strip() for line in page.split("\n") if line.strip()] for page in pages]
    furniture = _running_lines(page_lines)
    kept = [line for lines in page_lines for line in lines
            if not PAGE_NUMBER.match(line) and _shape(line) not in furniture]
    return reflow_lines(kept, by_width=True)


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line)


def _running_lines(page_lines: list[list[str]]) -> set[str]:
    """Lines at the top or bottom of at least half of the pages (2 or more): headers and footers."""
    if len(page_lines) < 2:
        return set()
    edges = Counter(shape for lines in page_lines for shape in {_shape(l) for l in lines[:2] + lines[-2:]})
    return {shape for shape, count in edges.items() if count >= max(2, len(page_lines) / 2)}


def hard_wrapped_breaks(lines: list[str]) -> int:
    """How many line breaks fall inside a sentence (the next line neither starts a unit nor follows an end)."""
    lines = [line.strip() for line in lines if line.strip()]
    return sum(
        1 for line, following in zip(lines, lines[1:])
        if len(line) >= WRAPPED_LINE_MIN_CHARS
        and not (SENTENCE_END.search(line) or starts_unit(line) or line.startswith("<")
                 or starts_unit(following) or CLOSING_START.match(following))
    )


def is_hard_wrapped(lines: list[str]) -> bool:
    """A text wrapped at a fixed width: many breaks inside sentences (well-formed texts have almost none)."""
    breaks = hard_wrapped_breaks(lines)
    count = sum(1 for line in lines if line.strip())
    return breaks >= HARD_WRAPPED_MIN_BREAKS and breaks >= HARD_WRAPPED_MIN_SHARE * count
