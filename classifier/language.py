"""The one language rule of the package (ingest, segmentation and featurization all use it).

``detect_lang(text)`` returns ``"zh"``, ``"en"``, another ISO 639-1 code, or ``"und"``:

1. Look at the first ``SAMPLE_CHARS`` characters. Letters are characters of any
   script; digits, punctuation, symbols and spaces do not count.
2. No letters at all: ``"und"`` (numbers, punctuation or an empty text).
3. Chinese when Han characters make up at least ``ZH_MIN_HAN_SHARE`` of the letters.
   One Han character is a word while a Latin word takes about five letters, so
   ``第1条 2023-2025年 GDP 5.2%, CPI`` (3 Han of 9 letters) is Chinese.
4. Otherwise the language identifier py3langid decides among ``LANGUAGES`` (widely
   written languages: unrestricted, it calls short English sentences Nigerian Pidgin).

``is_chinese(text)`` is rule 3 alone: the cheap test a tokenizer needs.
"""
from __future__ import annotations

import re

SAMPLE_CHARS = 2000
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "ru", "ja", "ko", "ar", "zh", "pl", "sv", "da", "fi", "no",
             "cs", "tr", "vi", "id", "el", "hu", "ro", "he", "th", "uk", "hi")
ZH_MIN_HAN_SHARE = 0.2
HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
LETTER = re.compile(r"[^\W\d_]")


def han_share(text: str) -> float | None:
    """Share of Han characters among the letters of the sample; None when it has no letters."""
    sample = text[:SAMPLE_CHARS]
    letters = len(LETTER.findall(sample))
    return len(HAN.findall(sample)) / letters if letters else None


def is_chinese(text: str) -> bool:
    share = han_share(text)
    return share is not None and share >= ZH_MIN_HAN_SHARE


def detect_lang(text: str) -> str:
    share = han_share(text)
    if share is None:
        return "und"
    if share >= ZH_MIN_HAN_SHARE:
        return "zh"
    from py3langid.langid import rank

    return next(lang for lang, _ in rank(text[:SAMPLE_CHARS]) if lang in LANGUAGES)
