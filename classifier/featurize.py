"""Stage 3, featurize: tokens, character n-grams and the shared bilingual cue lexicon.

Tokenization is spaCy's: ``spacy.blank("en")`` and ``spacy.blank("zh")`` with the
jieba segmenter (offline, its dictionary ships with the package). The lexicon
(``classifier/data/lexicon.csv``) maps Chinese and English cue phrases to shared
concepts (``supply_chain`` fires on 供应链 and on "supply chain"), so that what the
model learns from one language carries over to the other. It is data, not code.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .language import is_chinese
from .segment import CJK

LEXICON_FILE = "lexicon.csv"
LANGUAGE_BLOCKS = ("zh", "en")  # the values of text_lang: one copy of the lexicon block each


# ---------------------------------------------------------------- tokenization


def blank_pipeline(lang: str):
    """A new blank spaCy pipeline (tokenizer only); Chinese uses jieba, which works offline."""
    import logging

    import jieba
    import spacy

    jieba.setLogLevel(logging.WARNING)
    if lang == "zh":
        return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    return spacy.blank("en")


@lru_cache(maxsize=None)
def spacy_pipeline(lang: str):
    """The shared tokenizer pipeline of a language (never add components to it)."""
    return blank_pipeline(lang)


def text_lang(text: str) -> str:
    """Which tokenizer (and decision thresholds) a text needs: ``zh`` by the package's one language
    rule (:func:`classifier.language.is_chinese`), else ``en``."""
    return "zh" if is_chinese(text) else "en"


def tokenize(texts: Sequence[str], batch_size: int = 256) -> list[list[str]]:
    """Lower-cased word tokens without punctuation or spaces, streamed through ``nlp.pipe`` per language."""
    langs = [text_lang(t) for t in texts]
    tokens: list[list[str] | None] = [None] * len(texts)
    for lang in set(langs):
        index = [i for i, l in enumerate(langs) if l == lang]
        docs = spacy_pipeline(lang).pipe((texts[i] for i in index), batch_size=batch_size)
        for i, doc in zip(index, docs):
            tokens[i] = [t.lower_ for t in doc if not (t.is_punct or t.is_space)]
    return tokens  # type: ignore[return-value]


# ---------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class Cue:
    concept: str
    label: str  # network type, orientation, or none
    phrase: str
    start: int
    end: int


class Lexicon:
    """Bilingual cue phrases grouped into concepts; matching returns the phrases with offsets.

    English phrases match at a word start (``universit`` finds universities); phrases
    written in capitals (GVC, FDI) match case-sensitively as whole words; Chinese
    phrases match as substrings, longest first.
    """

    def __init__(self, rows: Iterable[dict]):
        self.rows = [dict(r) for r in rows]
        self.concepts = sorted({r["concept"] for r in self.rows})
        self.label_of = {r["concept"]: r["label"] for r in self.rows}
        self._by_phrase = {}
        latin, chinese, acronyms = [], [], []
        for row in self.rows:
            phrase = row["phrase"]
            if phrase.isupper() and phrase.isascii():
                self._by_phrase[phrase] = row["concept"]
                acronyms.append(phrase)
            else:
                self._by_phrase[phrase.lower()] = row["concept"]
                (latin if phrase[0].isascii() else chinese).append(phrase.lower())
        # Trie-shaped alternations: the regex engine then tries one branch per character
        # instead of every phrase at every position (the lexicon was the slowest step of tagging).
        self._latin = re.compile(r"\b" + _trie_pattern(latin), re.IGNORECASE) if latin else None
        self._chinese = re.compile(_trie_pattern(chinese)) if chinese else None
        self._sensitive = re.compile(r"\b" + _trie_pattern(acronyms) + r"s?\b") if acronyms else None

    def __getstate__(self):
        # Pickled as its data only: compiled patterns are rebuilt on load, so a saved
        # model keeps its own lexicon while the matching code can improve.
        return {"rows": self.rows}

    def __setstate__(self, state):
        self.__init__(state["rows"])

    @classmethod
    def load(cls, path: Path | None = None) -> "Lexicon":
        source = Path(path) if path else Path(__file__).parent / "data" / LEXICON_FILE
        with source.open(encoding="utf-8") as handle:
            return cls(csv.DictReader(handle))

    def find(self, text: str) -> list[Cue]:
        cues = []
        for pattern in (self._latin, self._chinese if CJK.search(text) else None):
            if pattern is None:
                continue
            for match in pattern.finditer(text):
                concept = self._by_phrase[match.group(0).lower()]
                end = match.end()
                if match.group(0).isascii():  # a stem such as "universit" is shown as the whole word it starts
                    while end < len(text) and text[end].isalnum():
                        end += 1
                cues.append(Cue(concept, self.label_of[concept], text[match.start() : end], match.start(), end))
        if self._sensitive is not None:
            for match in self._sensitive.finditer(text):
                concept = self._by_phrase[match.group(0).rstrip("s")]
                cues.append(Cue(concept, self.label_of[concept], match.group(0), match.start(), match.end()))
        return sorted(cues, key=lambda c: c.start)

    @property
    def labels(self) -> list[str]:
        """The labels the concepts point to, in column order."""
        return sorted(set(self.label_of.values()))

    @property
    def width(self) -> int:
        """Columns of :meth:`counts_of`: one per concept, then one per label."""
        return len(self.concepts) + len(self.labels)

    def counts_of(self, cues_per_text: Sequence[list[Cue]]) -> sp.csr_matrix:
        """Per text: log(1 + count) of each concept, then of each label the concepts point to."""
        columns = {c: i for i, c in enumerate(self.concepts)}
        labels = self.labels
        label_col = {l: len(columns) + i for i, l in enumerate(labels)}
        rows, cols, values = [], [], []
        for row, cues in enumerate(cues_per_text):
            tally: dict[int, int] = {}
            for cue in cues:
                for col in (columns[cue.concept], label_col[cue.label]):
                    tally[col] = tally.get(col, 0) + 1
            for col, count in tally.items():
                rows.append(row)
                cols.append(col)
                values.append(np.log1p(count))
        return sp.csr_matrix((values, (rows, cols)), shape=(len(cues_per_text), self.width))


def _trie_pattern(phrases: Iterable[str]) -> str:
    """One regex alternation shaped as a trie; the longest phrase wins where phrases share a prefix."""
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(trie)


@lru_cache(maxsize=4)
def default_lexicon(path: str | None = None) -> Lexicon:
    return Lexicon.load(Path(path) if path else None)


# ---------------------------------------------------------------- the featurizer


def _pre_tokenized(tokens):
    """Identity analyzer: the tokens come from spaCy (a module-level function so it pickles)."""
    return tokens


class PolicyFeaturizer(TransformerMixin, BaseEstimator):
    """Texts -> [word n-gram TF-IDF | character n-gram TF-IDF | lexicon concept counts].

    Word n-grams use spaCy tokens (jieba for Chinese); character n-grams catch
    Chinese compounds the segmenter splits and English morphology; the lexicon
    block is weighted by ``lexicon_weight``.

    ``lexicon_by_language``: False gives one lexicon block that both languages share, so a concept
    carries one weight in both; True adds a copy of the block per text language (``LANGUAGE_BLOCKS``;
    the copy of the other language is zero), so a concept has a shared weight plus a deviation per
    language (feature augmentation, Daume III 2007): a cue such as "cluster" may mark the codebook's
    type reliably in Chinese measures and loosely in English programme records.
    """

    def __init__(self, word_ngram_range=(1, 2), char_ngram_range=(2, 4), min_df=2, max_word_features=60000,
                 max_char_features=80000, lexicon_weight=1.0, lexicon_path=None, lexicon_by_language=False):
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.lexicon_weight = lexicon_weight
        self.lexicon_path = lexicon_path
        self.lexicon_by_language = lexicon_by_language

    def _vectorizers(self):
        words = TfidfVectorizer(analyzer=_pre_tokenized, min_df=self.min_df, max_features=self.max_word_features,
                                sublinear_tf=True)
        # _pre_tokenized yields unigrams; n-grams are formed here so the analyzer stays trivial.
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), min_df=self.min_df,
                                max_features=self.max_char_features, sublinear_tf=True, lowercase=True)
        return words, chars

    def _word_ngrams(self, token_lists):
        low, high = self.word_ngram_range
        grams = []
        for tokens in token_lists:
            seq = []
            for n in range(low, high + 1):
                seq.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
            grams.append(seq)
        return grams

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        texts = _as_texts(X)
        self.words_, self.chars_ = self._vectorizers()
        words = self.words_.fit_transform(self._word_ngrams(tokenize(texts)))
        chars = self.chars_.fit_transform(texts)
        for vectorizer in (self.words_, self.chars_):
            # The pruned-terms set is only for introspection and would triple the saved model; plain
            # int indices (not numpy scalars) let skops store the vocabulary as one JSON object.
            vectorizer.stop_words_ = None
            vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        self.lexicon_ = default_lexicon(str(self.lexicon_path) if self.lexicon_path else None)
        return self._stack(words, chars, [self.lexicon_.find(text) for text in texts], texts)

    def transform(self, X):
        return self.analyse(X).features

    def __sklearn_tags__(self):
        # Texts in, not a numeric 2-D array: scikit-learn's generic checks that feed numbers do not apply.
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def analyse(self, X) -> "Analysis":
        """Features plus what tagging reports beside them, from one pass of tokenization and cue matching."""
        check_is_fitted(self, "words_")
        texts = _as_texts(X)
        tokens = tokenize(texts)
        cues = [self.lexicon_.find(text) for text in texts]
        words = self.words_.transform(self._word_ngrams(tokens))
        features = self._stack(words, self.chars_.transform(texts), cues, texts)
        return Analysis(features, self._coverage(tokens), cues)

    def _stack(self, words, chars, cues, texts):
        """[word n-grams | character n-grams | weighted lexicon concept counts (| one copy per language)]."""
        return sp.hstack([words, chars, self._lexicon_block(cues, texts) * self.lexicon_weight], format="csr")

    @property
    def _by_language(self) -> bool:
        return getattr(self, "lexicon_by_language", False)  # absent from models saved before it existed

    def lexicon_columns(self) -> slice:
        """Where the (weighted) lexicon block sits among the features: after the word and character n-grams."""
        check_is_fitted(self, "lexicon_")
        start = len(self.words_.vocabulary_) + len(self.chars_.vocabulary_)
        copies = 1 + len(LANGUAGE_BLOCKS) if self._by_language else 1
        return slice(start, start + copies * self.lexicon_.width)

    def _lexicon_block(self, cues, texts):
        counts = self.lexicon_.counts_of(cues)
        if not self._by_language:
            return counts
        langs = np.array([text_lang(t) for t in texts])
        return sp.hstack([counts, *(sp.diags((langs == lang).astype(float)) @ counts for lang in LANGUAGE_BLOCKS)],
                         format="csr")

    def _coverage(self, token_lists) -> np.ndarray:
        vocabulary = self.words_.vocabulary_
        shares = []
        for tokens in token_lists:
            words = [t for t in tokens if any(ch.isalnum() for ch in t)]
            shares.append(sum(t in vocabulary for t in words) / len(words) if words else 0.0)
        return np.array(shares)


@dataclass
class Analysis:
    features: sp.csr_matrix
    coverage: np.ndarray  # share of known word tokens per text
    cues: list  # lexicon cues per text


def _as_texts(X) -> list[str]:
    if hasattr(X, "columns"):
        X = X["text"]
    return ["" if t is None else str(t) for t in X]
