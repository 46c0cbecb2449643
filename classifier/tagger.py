"""Tag policy texts: measures are classified, then aggregated into documents with their evidence.

``PolicyClassifier`` is the library entry point::

    from classifier.tagger import PolicyClassifier
    clf = PolicyClassifier.load()              # the default model in models/default
    clf.tag(["鼓励大企业向中小企业开放资源……", "Vouchers let SMEs buy R&D services."])

The learned part stays a scikit-learn estimator (``clf.estimator``: ``predict``,
``predict_proba``) for use in pipelines and cross-validation.

Classification unit (:func:`classified_whole`): English documents of record size are
classified whole, as their labels were given; everything else measure by measure, with
document labels aggregated by the codebook's rules. A document's network-type score is
then the highest probability any of its measures has; its orientation distribution the
mean over the measures that carry a network type (over all measures when none does).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .aggregate import aggregate_document
from .corpus import document_rows, is_about_smes
from .codebook import LABELS, ORIENTATIONS
from .documents import OK, Document
from .featurize import text_lang
from .ingest import documents_from_table
from .labels import REPO_ROOT
from .persist import load_model

DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "default"
SUPPORTED_LANGS = ("zh", "en")
MIN_VOCABULARY_COVERAGE = 0.5  # below this share of known words a text is far from the training data
EVIDENCE_MEASURES = 2  # measures quoted as evidence per label
META_COLUMNS = ["country", "country_code", "year", "wave", "organisation", "category", "sme_targeted"]
DOCUMENT_COLUMNS = ["id", "doc_id", "corpus", "source", "title", "lang", "types", "primary", "orientation", "scores",
                    "evidence", "n_measures", "ood", "ood_reason", *META_COLUMNS, "error"]


def model_dir(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("CLASSIFIER_MODEL") or DEFAULT_MODEL_DIR)


class PolicyClassifier:
    """A trained model plus the codebook's aggregation and the evidence behind each label."""

    def __init__(self, estimator, path: Path | None = None):
        self.estimator = estimator
        self.path = path

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PolicyClassifier":
        """Load (and hash-verify) a model directory; default ``models/default`` or ``$CLASSIFIER_MODEL``."""
        directory = model_dir(path)
        return cls(load_model(directory), directory)

    @property
    def card(self) -> dict:
        card = self.path / "model_card.json" if self.path else None
        return json.loads(card.read_text()) if card and card.exists() else {}

    # ------------------------------------------------------------ measures

    def tag_measures(self, measures: pd.DataFrame, evidence_only=None) -> pd.DataFrame:
        """Adds types, primary, orientation, probabilities, cues and the OOD flag to measure rows.

        ``evidence_only``: a mask of measures whose document is classified whole; they are read by
        the n-gram model alone (never embedded), since they only serve as evidence.
        """
        measures = measures.reset_index(drop=True)
        texts = measures["text"].fillna("").tolist()
        if not texts:
            return measures.assign(types=[], primary=[], orientation=[], cues=[], ood=[], ood_reason=[])
        mask = np.zeros(len(texts), bool) if evidence_only is None else np.asarray(evidence_only, bool)
        decided, cues, coverage = [None] * len(texts), [None] * len(texts), np.zeros(len(texts))
        for embed in (True, False):
            index = np.flatnonzero(mask != embed)
            if not len(index):
                continue
            prediction = self.estimator.analyse([texts[i] for i in index], embed=embed)  # one pass per group
            for row, i in zip(prediction.labels.to_dict("records"), index):
                decided[i] = row
            for found, i in zip(prediction.analysis.cues, index):
                cues[i] = found
            coverage[index] = prediction.analysis.coverage
        tagged = pd.concat([measures, pd.DataFrame(decided)], axis=1)
        tagged["cues"] = [[c.__dict__ for c in found] for found in cues]
        reasons = [ood_reason(t, lang, cov) for t, lang, cov in zip(texts, measures.get("lang", ["und"] * len(texts)), coverage)]
        tagged["ood"] = [bool(r) for r in reasons]
        tagged["ood_reason"] = reasons
        tagged["vocabulary_coverage"] = coverage.round(3)
        return tagged

    # ------------------------------------------------------------ documents

    def tag_documents(self, documents: Iterable[Document], with_measures: bool = False):
        """One output row per document (error rows included); optionally the measure rows too."""
        docs = list(documents)
        rows = [row for doc in docs for row in document_rows(doc)]
        table = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=["doc_id", "status"])
        good = table[table["status"] == OK]
        whole = {doc.doc_id for doc in docs if classified_whole(doc)}
        tagged = self.tag_measures(good, good["doc_id"].isin(whole).to_numpy()) if len(good) else good
        by_doc: dict[str, list[dict]] = {}
        for record in tagged.to_dict("records"):  # plain dicts: per-document DataFrames were the slow part
            by_doc.setdefault(record["doc_id"], []).append(record)
        records = self.tag_records([doc for doc in docs if doc.doc_id in whole])
        lexicon = self.estimator.featurizer_.lexicon_
        out = [document_result(doc, by_doc.get(doc.doc_id), records.get(doc.doc_id), lexicon) for doc in docs]
        frame = pd.DataFrame(out, columns=DOCUMENT_COLUMNS)
        return (frame, tagged) if with_measures else frame

    def tag_records(self, docs: list[Document]) -> dict[str, dict]:
        """Whole-document labels for the documents :func:`classified_whole` picks.

        English labels, and the model's evaluation, are per programme record; such a
        document's labels come from the whole text, while its parts (the measures) still
        carry their own labels and serve as evidence.
        """
        if not docs:
            return {}
        texts = [doc.text for doc in docs]
        predicted = self.estimator.predict(texts)
        return {doc.doc_id: row for doc, row in zip(docs, predicted.to_dict("records"))}

    def tag(self, texts: Sequence[str] | pd.DataFrame, measures: bool = False):
        """Tag raw texts (or a DataFrame with ``text`` and optional ``id``/``lang``/``title``)."""
        return self.tag_documents(documents_from_texts(texts), with_measures=measures)


# English labels are whole programme records (STIP initiatives: 99.9% are below 11,200
# characters); an English text up to this size is read as one record, a longer one
# (a law, a strategy) by its measures.
RECORD_MAX_CHARS = 12_000


def classified_whole(doc: Document) -> bool:
    """The classification-unit rule, the same whatever container a text arrives in.

    Chinese labels are measures, so Chinese documents are classified measure by measure
    and aggregated; English labels are whole records, so an English document of record
    size is classified whole, whether it came as a STIP row, a JSON Lines row, a .txt,
    .docx or PDF.
    """
    return doc.status == OK and len(doc.text) <= RECORD_MAX_CHARS and text_lang(doc.text) == "en"


def documents_from_texts(texts: Sequence[str] | pd.DataFrame, corpus: str = "input") -> list[Document]:
    return documents_from_table(texts, corpus=corpus)  # the one id rule: classifier.ingest.ids


def ood_reason(text: str, lang: str, coverage: float) -> str:
    """Why a text is far from the training data, or '' when it is not."""
    if not text.strip():
        return "empty text"
    if lang not in SUPPORTED_LANGS:
        return f"unsupported language '{lang}'"
    if coverage < MIN_VOCABULARY_COVERAGE:
        return f"low vocabulary coverage ({coverage:.0%})"
    return ""


def document_result(doc: Document, measures: list[dict] | None, record: dict | None, lexicon) -> dict:
    base = {"id": doc.meta.get("input_id") or doc.doc_id, "doc_id": doc.doc_id, "corpus": doc.corpus,
            "source": doc.source, "title": str(doc.meta.get("title") or ""), "lang": doc.meta.get("lang", "und"),
            **{key: doc.meta.get(key) for key in META_COLUMNS}}
    if base["sme_targeted"] is None and doc.status == OK:
        base["sme_targeted"] = is_about_smes(doc.text, base["title"])
    if doc.status != OK or not measures:
        return {**base, "types": [], "primary": "none", "orientation": "neutral", "scores": {}, "evidence": [],
                "n_measures": 0, "ood": True, "ood_reason": doc.error or "no measures",
                "error": doc.error or "no measures"}
    if record is not None:  # labeled and evaluated as a whole record
        labels = {key: record[key] for key in ("types", "primary", "orientation")}
        type_scores = {label: round(float(record[f"p_{label}"]), 4) for label in LABELS}
        orientation_scores = {o: round(float(record[f"p_{o}"]), 4) for o in ORIENTATIONS}
    else:
        labels = aggregate_document([m["types"] for m in measures], [m["orientation"] for m in measures], base["title"],
                                    lexicon)
        type_scores = {label: round(max(m[f"p_{label}"] for m in measures), 4) for label in LABELS}
        basis = [m for m in measures if m["types"]] or measures
        orientation_scores = {o: round(float(np.mean([m[f"p_{o}"] for m in basis])), 4) for o in ORIENTATIONS}
    ood_share = float(np.mean([m["ood"] for m in measures]))
    return {**base, **labels, "scores": {**type_scores, **orientation_scores},
            "evidence": evidence_for(labels, measures), "n_measures": len(measures),
            "ood": ood_share > 0.5, "ood_reason": _majority_reason(measures) if ood_share > 0.5 else "", "error": ""}


def _majority_reason(measures: list[dict]) -> str:
    reasons = [m["ood_reason"].split(" (")[0] for m in measures if m["ood"]]
    return max(set(reasons), key=reasons.count) if reasons else ""


def evidence_for(labels: dict, measures: list[dict]) -> list[dict]:
    """For each assigned label: the measures that most strongly carry it and the cue phrases in them.

    Offsets (``start``/``end``) index the document's normalised text, like the measures'.
    """
    evidence = []
    wanted = [(label, f"p_{label}", lambda r, l=label: l in r["types"]) for label in labels["types"]]
    if labels["orientation"] != "neutral":
        o = labels["orientation"]
        wanted.append((o, f"p_{o}", lambda r, o=o: r["orientation"] == o))
    for label, column, carries in wanted:
        # Measures that carry the label; for a whole-record label, else the field that scores highest.
        rows = [r for r in measures if carries(r)] or sorted(measures, key=lambda r: -r[column])[:1]
        for row in sorted(rows, key=lambda r: -r[column])[:EVIDENCE_MEASURES]:
            phrases = [{"phrase": c["phrase"], "start": int(row["start"]) + c["start"], "end": int(row["start"]) + c["end"]}
                       for c in row["cues"] if c["label"] == label]
            evidence.append({"label": label, "measure_id": row["measure_id"], "probability": round(float(row[column]), 4),
                             "start": int(row["start"]), "end": int(row["end"]), "text": row["text"][:300],
                             "phrases": phrases})
    return evidence
