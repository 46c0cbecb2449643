"""Labeled units: the label files in ``corpus/labels`` joined to texts read from a data directory.

The repository stores labels keyed by stable ids, never the texts. OECD labels are
per STIP document (``stip:<initiative>:<wave>``); Chinese labels are per measure,
keyed by document id and character span, with a SHA-1 of the measure text so that a
changed source or segmenter is detected instead of silently training on other text.
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from .codebook import CODEBOOK_VERSION, label_problems, parse_types
from .corpus import is_sme_targeted
from .documents import OK
from .ingest import iter_documents
from .sampling import candidate_measures, cn_cell, latest_wave_cells, stip_cell

REPO_ROOT = Path(__file__).resolve().parents[1]
LABEL_DIR = REPO_ROOT / "corpus" / "labels"


class LabelError(ValueError):
    """Labels that do not fit the codebook or cannot be joined to their texts."""


def data_dir(path: str | Path | None = None) -> Path:
    """``CLASSIFIER_DATA`` if set, else ``../shared/data`` beside the repository."""
    return Path(path or os.environ.get("CLASSIFIER_DATA") or REPO_ROOT.parent / "shared" / "data")


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def validate(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Codebook consistency of every row (see ``codebook.label_problems``) and its codebook version."""
    problems = []
    versions = frame["codebook_version"] if "codebook_version" in frame else pd.Series([CODEBOOK_VERSION] * len(frame))
    for row, version in zip(frame.itertuples(), versions):
        problems += [f"{row.unit_id}: {p}" for p in label_problems(row.types, row.primary, row.orientation)]
        if str(version) != CODEBOOK_VERSION:
            problems.append(f"{row.unit_id}: labeled against codebook {version!r}, this is codebook {CODEBOOK_VERSION}")
    if problems:
        raise LabelError(f"{where}: {len(problems)} invalid labels, e.g. " + "; ".join(problems[:5]))
    return frame


def read_label_file(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["types"] = frame["types"].map(parse_types)
    return validate(frame, str(path))


def load_repository_labels(data: str | Path | None = None, label_dir: Path = LABEL_DIR) -> pd.DataFrame:
    """All committed labels joined to their texts from the data directory.

    Columns: unit_id, corpus, lang, group (the document, for grouped CV), text,
    types, primary, orientation, sampling, plus the label file's own columns.
    """
    root = data_dir(data)
    frames = []
    oecd_file, cn_file = label_dir / "oecd_documents.csv", label_dir / "cn_measures.csv"
    if oecd_file.exists():
        frames.append(_join_oecd(read_label_file(oecd_file), root / "oecd"))
    if cn_file.exists():
        frames.append(_join_cn(read_label_file(cn_file), root / "cn"))
    if not frames:
        raise LabelError(f"no label files in {label_dir}")
    return pd.concat(frames, ignore_index=True)


def _readable_documents(folder: Path, corpus: str):
    if not folder.is_dir():
        raise LabelError(f"data folder {folder} not found: set CLASSIFIER_DATA to the folder holding oecd/ and cn/")
    return (d for d in iter_documents(folder, corpus) if d.status == OK)


def _stip_records(folder: Path, wanted: set[str]) -> tuple[dict, dict]:
    """The wanted STIP records by id, and how many initiatives each design cell of the corpus holds."""
    docs, records = {}, []
    for doc in _readable_documents(folder, "oecd"):
        records.append((doc.meta.get("initiative_id"), doc.meta.get("wave"), doc.meta))
        if doc.doc_id in wanted:
            docs[doc.doc_id] = doc
    return docs, dict(latest_wave_cells(records))


def _missing(ids: list[str], where: Path) -> None:
    if ids:
        raise LabelError(f"{len(ids)} labeled ids not found in {where}, e.g. {', '.join(ids[:5])}")


def _join_oecd(labels: pd.DataFrame, folder: Path) -> pd.DataFrame:
    docs, cell_sizes = _stip_records(folder, set(labels.unit_id))
    _missing([u for u in labels.unit_id if u not in docs], folder)
    cells = [stip_cell(docs[u].meta) for u in labels.unit_id]
    return labels.assign(
        corpus="oecd", lang="en", unit="documents", text=[docs[u].text for u in labels.unit_id],
        group=["stip:" + u.split(":")[1] for u in labels.unit_id],  # all waves of an initiative together
        cell=cells, cell_size=[cell_sizes.get(c, 0) for c in cells],  # the sampling design (classifier.sampling)
        sme_targeted=[is_sme_targeted(docs[u]) for u in labels.unit_id],
    )


def _cn_documents(folder: Path, wanted: set[str]) -> tuple[dict, dict]:
    """The wanted Chinese documents by id, and how many candidate measures each design cell of the corpus holds."""
    docs, cells = {}, Counter()
    for doc in _readable_documents(folder, "cn"):
        cells[cn_cell(doc)] += len(candidate_measures(doc))
        if doc.doc_id in wanted:
            docs[doc.doc_id] = doc
    return docs, dict(cells)


def _join_cn(labels: pd.DataFrame, folder: Path) -> pd.DataFrame:
    # Label doc ids carry the corpus prefix used at labeling time ("cn/...").
    docs, cell_sizes = _cn_documents(folder, set(labels.doc_id))
    _missing(sorted({d for d in labels.doc_id if d not in docs}), folder)
    texts, stale = [], []
    for row in labels.itertuples():
        text = docs[row.doc_id].text[int(row.start) : int(row.end)]
        if text_sha1(text) != row.text_sha1:
            stale.append(row.unit_id)
        texts.append(text)
    if stale:
        raise LabelError(f"{len(stale)} labeled measures no longer match their text (source or segmenter changed), "
                         f"e.g. {', '.join(stale[:3])}")
    cells = [cn_cell(docs[d]) for d in labels.doc_id]
    return labels.assign(corpus="cn", lang="zh", unit="measures", text=texts, group=labels.doc_id,
                         cell=cells, cell_size=[cell_sizes.get(c, 0) for c in cells],  # the sampling design
                         sme_targeted=[is_sme_targeted(docs[d]) for d in labels.doc_id])


def load_user_labels(path: Path, data: str | Path | None = None) -> pd.DataFrame:
    """A user's labels: texts with their labels, or a file keyed by unit id (``classifier annotate import``).

    With texts: CSV or JSON Lines with ``text``, ``types``, ``primary``, ``orientation``;
    optional ``id``, ``lang``, ``group`` (document, for grouped CV; defaults to the row).
    Keyed by ``unit_id`` without ``text``: joined to the data directory's texts exactly as the
    repository's label files are (STIP records by id; measures by span and text hash).
    """
    path = Path(path)
    frame = pd.read_json(path, lines=True, dtype=False) if path.suffix in (".jsonl", ".ndjson") else \
        pd.read_csv(path, dtype=str, keep_default_na=False)
    if "text" not in frame and "unit_id" in frame:
        return join_keyed_labels(validate(frame.assign(types=frame["types"].map(parse_types)), str(path)), data)
    missing = {"text", "types", "primary", "orientation"} - set(frame.columns)
    if missing:
        raise LabelError(f"{path}: missing columns {sorted(missing)}")
    frame["types"] = frame["types"].map(parse_types)
    frame["unit_id"] = frame["id"].astype(str) if "id" in frame else [f"{path.name}#{i}" for i in range(len(frame))]
    frame["group"] = frame["group"].astype(str) if "group" in frame else frame["unit_id"]
    frame["corpus"] = frame.get("corpus", path.stem)
    if "lang" not in frame:
        from .featurize import text_lang

        frame["lang"] = frame.text.map(text_lang)
    frame["sampling"] = frame.get("sampling", "user")
    frame["unit"] = frame.get("unit", "documents")  # a user's labeled texts are whole documents unless they say so
    return validate(frame, str(path))


WRITTEN_FIELDS = ("id", "lang", "text", "types", "primary", "orientation")


def load_written_units(path: Path) -> pd.DataFrame:
    """Units written for training (``corpus/written``): original text with its codebook labels.

    They are ``fit_only``: the model learns from them, but they are never calibrated on, tuned on,
    scored or used for error rates, so every figure stays agreement on real policy text. A Chinese
    unit is a measure, an English one a whole record, as in the real label files.
    """
    path = Path(path)
    frame = pd.read_json(path, lines=True, dtype=False)
    missing = set(WRITTEN_FIELDS) - set(frame.columns)
    if missing:
        raise LabelError(f"{path}: missing fields {sorted(missing)}")
    frame["types"] = frame["types"].map(parse_types)
    frame = frame.rename(columns={"id": "unit_id"})
    frame = frame.assign(corpus="written", group=frame["unit_id"], sampling="written", fit_only=True,
                         unit=frame["lang"].map({"zh": "measures"}).fillna("documents"))
    return validate(frame, str(path))


def join_keyed_labels(labels: pd.DataFrame, data: str | Path | None = None) -> pd.DataFrame:
    """Labels keyed by unit id (STIP records and measures mixed) joined to their texts."""
    root = data_dir(data)
    records = labels.unit_id.astype(str).str.startswith("stip:")
    frames = []
    if records.any():
        frames.append(_join_oecd(labels[records].reset_index(drop=True), root / "oecd"))
    if (~records).any():
        frames.append(_join_cn(labels[~records].reset_index(drop=True), root / "cn"))
    return pd.concat(frames, ignore_index=True)
