"""Stage 2, segment: split a document into measures, per language.

Chinese: articles (第X条) when a text has them, else numbered points
(一、 （一） 1. （1）), else paragraphs. Chapter and section headings are context
(the ``section`` of the measures under them), not measures. English:
paragraphs and bullet or numbered items. A STIP record arrives with its fields
already marked as segments. Offsets always index the document's normalised text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import Document, Measure
from .language import HAN as CJK  # noqa: F401  (featurize imports it from here)
from .language import detect_lang, is_chinese

# Longer multi-paragraph units are split back into paragraphs: a 5,000-character
# "point" of a work report is a chapter, not one provision.
MAX_MEASURE_CHARS = 1500
HEADING_MAX_CHARS = {"zh": 40, "en": 90}
LEAD_SENTENCE_MAX_CHARS = {"zh": 20, "en": 0}

ZH_NUM = "一二三四五六七八九十百千零〇两"
ZH_PATTERNS = {
    "chapter": re.compile(rf"^(?:#+\s|第[{ZH_NUM}\d]+[编章节](?:\s|　|$))"),
    "article": re.compile(rf"^第[{ZH_NUM}\d]+条(?:之[{ZH_NUM}]+)?(?:\s|　|$)"),
    "point1": re.compile(rf"^[{ZH_NUM}]+[、．.]"),
    "point2": re.compile(rf"^[（(][{ZH_NUM}]+[）)]"),
    "point3": re.compile(r"^\d{1,2}[、．.](?!\d)"),
    "point4": re.compile(r"^(?:[（(]\d{1,2}[）)]|[①-⑳])"),
}
EN_ITEM = re.compile(r"^(?:[-*•·▪◦‣]\s+|\d{1,2}[.)]\s+|\(?[a-z]\)\s+|\(?[ivx]{1,4}\)\s+)", re.IGNORECASE)
SENTENCE_END = tuple("。；;！？!?.:：")
# spaCy refuses texts over nlp.max_length (1,000,000 characters, error E088); a measure
# longer than this is cut at sentence ends well below it.
MAX_MEASURE_HARD_CHARS = 100_000
SENTENCE_BREAK = re.compile(r"(?<=[。；！？!?;])|(?<=\.)\s")
FOREIGN_LINE_MIN_LETTERS = 20  # a shorter Latin line inside Chinese text is a name or a term, not a paragraph


# ---------------------------------------------------------------- lines


@dataclass
class Line:
    start: int
    end: int
    text: str
    kind: str  # chapter | article | point1..4 | item | plain
    after_blank: bool = False  # a blank line precedes it


def _lines(text: str, start: int = 0) -> list[Line]:
    """Non-empty lines with their offsets; leading indentation is not part of a measure."""
    lines, pos, blank = [], start, False
    for raw in text[start:].split("\n"):
        stripped = raw.strip()
        if stripped:
            begin = pos + raw.index(stripped[0])
            lines.append(Line(begin, begin + len(stripped), stripped, "plain", blank))
        blank = not stripped
        pos += len(raw) + 1
    return lines


def _is_heading(line: Line, lang: str, following: Line | None = None) -> bool:
    """Short lines that announce what follows rather than provide anything themselves.

    Very short lines count even with a full stop when a longer paragraph follows:
    work reports open paragraphs with lead sentences such as 四是积极扩大就业和再就业。
    """
    if line.text.startswith("#"):
        return True
    if len(line.text) <= LEAD_SENTENCE_MAX_CHARS[lang] and following is not None and len(following.text) > 2 * len(line.text):
        return True
    return len(line.text) <= HEADING_MAX_CHARS[lang] and not line.text.endswith(SENTENCE_END) and "。" not in line.text


# ---------------------------------------------------------------- assembling measures


class _Builder:
    """Accumulates lines into measures, tracking the current section heading."""

    def __init__(self, text: str, lang_hint: str):
        self.text, self.lang_hint = text, lang_hint
        self.spans: list[tuple[int, int, str]] = []
        self.open: list[Line] = []
        self.section = ""

    def start(self, line: Line) -> None:
        self.close()
        self.open = [line]

    def extend(self, line: Line) -> None:
        self.open.append(line)

    def heading(self, line: Line) -> None:
        self.close()
        self.section = line.text

    def close(self) -> None:
        if not self.open:
            return
        group, self.open = self.open, []
        if group[-1].end - group[0].start > MAX_MEASURE_CHARS and len(group) > 1:
            for line in group:
                self.spans.append((line.start, line.end, self.section))
        else:
            self.spans.append((group[0].start, group[-1].end, self.section))

    def measures(self) -> list[Measure]:
        self.close()
        return [
            Measure(order=i, start=s, end=e, text=self.text[s:e], lang=detect_lang(self.text[s:e]), section=sec)
            for i, (s, e, sec) in enumerate(self.spans)
        ]


def segment_chinese(text: str, body_start: int = 0) -> list[Measure]:
    lines = _lines(text, body_start)
    for line in lines:
        line.kind = next((k for k, p in ZH_PATTERNS.items() if p.match(line.text)), "plain")
    present = {line.kind for line in lines}
    if "article" in present:
        split_at = {"article"}
    else:
        split_at = {k for k in ("point1", "point2", "point3") if k in present} or ({"point4"} & present)
    builder = _Builder(text, "zh")
    for line, following in zip(lines, lines[1:] + [None]):
        if line.kind == "chapter":
            builder.heading(line)
        elif line.kind in split_at:
            if line.kind != "article" and _is_heading(line, "zh", following):
                builder.heading(line)
            else:
                builder.start(line)
        elif _is_foreign_paragraph(line):
            builder.start(line)  # an English paragraph in a Chinese text is a measure of its own language
            builder.close()
        elif builder.open and (split_at == {"article"} or not line.after_blank):
            # A further paragraph of the same article; in notices, points continue only
            # without a blank line (a closing clause after a blank line stands alone).
            builder.extend(line)
        elif _is_heading(line, "zh", following):
            builder.heading(line)
        else:
            builder.start(line)  # preamble and unnumbered paragraphs are measures of their own
            builder.close()
    return builder.measures()


def _is_foreign_paragraph(line: Line) -> bool:
    return not is_chinese(line.text) and sum(ch.isalpha() for ch in line.text) >= FOREIGN_LINE_MIN_LETTERS


def segment_english(text: str) -> list[Measure]:
    builder = _Builder(text, "en")
    for block in _blocks(text):
        if len(block) == 1 and _is_heading(block[0], "en") and not EN_ITEM.match(block[0].text):
            builder.heading(block[0])
            continue
        items = [line for line in block if EN_ITEM.match(line.text)]
        one_per_line = len(block) > 1 and sum(len(l.text) > 120 for l in block) > len(block) / 2
        if items or one_per_line:
            for line in block:
                if EN_ITEM.match(line.text) or one_per_line or not builder.open:
                    builder.start(line)
                else:
                    builder.extend(line)
            builder.close()
        else:  # a hard-wrapped paragraph
            builder.start(block[0])
            for line in block[1:]:
                builder.extend(line)
            builder.close()
    return builder.measures()


def _blocks(text: str) -> list[list[Line]]:
    """Runs of lines separated by blank lines."""
    blocks, current, previous_end = [], [], None
    for line in _lines(text):
        if previous_end is not None and "\n\n" in text[previous_end : line.start]:
            blocks.append(current)
            current = []
        current.append(line)
        previous_end = line.end
    if current:
        blocks.append(current)
    return blocks


def segment_document(doc: Document) -> list[Measure]:
    """The measures of one readable document, in reading order."""
    if doc.segments is not None:
        measures = [
            Measure(order=i, start=s.start, end=s.end, text=doc.text[s.start : s.end],
                    lang=s.lang or doc.meta.get("lang") or detect_lang(doc.text[s.start : s.end]), section=s.section)
            for i, s in enumerate(doc.segments)
        ]
        return split_long_measures(measures)
    lang = doc.meta.get("lang") or detect_lang(doc.text)
    if lang == "zh":
        body_start = 0
        if doc.kind == "law":
            marker = doc.text.find("<!-- INFO END -->")
            body_start = marker + len("<!-- INFO END -->") if marker >= 0 else 0
        measures = segment_chinese(doc.text, body_start)
    else:
        measures = segment_english(doc.text)
    if not measures and doc.text.strip():
        # All headings (e.g. a one-line text): the whole text is the one measure rather than nothing.
        start = len(doc.text) - len(doc.text.lstrip())
        measures = [Measure(0, start, len(doc.text.rstrip()), doc.text.strip(), lang)]
    return split_long_measures(measures)


def split_long_measures(measures: list[Measure], limit: int = MAX_MEASURE_HARD_CHARS) -> list[Measure]:
    """Measures over ``limit`` characters cut at the last sentence end before it (else at ``limit``)."""
    if all(m.end - m.start <= limit for m in measures):
        return measures
    out = []
    for m in measures:
        start = m.start
        while m.end - start > limit:
            window = m.text[start - m.start : start - m.start + limit]
            ends = [b.end() for b in SENTENCE_BREAK.finditer(window) if b.end() > 0]
            cut = start + (ends[-1] if ends and ends[-1] > limit // 2 else limit)
            out.append(Measure(0, start, cut, m.text[start - m.start : cut - m.start], m.lang, m.section))
            start = cut
        out.append(Measure(0, start, m.end, m.text[start - m.start :], m.lang, m.section))
    for order, measure in enumerate(out):
        measure.order = order
    return out
