import sqlite3
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from classifier import embed
from classifier.embed import EmbeddingCache, encoder_input, text_key

TEXTS = ["大型企业向中小企业采购货物，付款期限最长不超过60日。", "Vouchers let SMEs buy R&D services from universities."]


class CountingEncoder:
    """Stands in for the e5 encoder where a test counts how often texts are embedded."""

    def __init__(self):
        self.calls = []
        self.real = embed._encoder()

    def passage(self, texts):
        self.calls.extend(texts)
        return self.real.passage(texts)


def test_miss_then_hit_embeds_each_text_once(tmp_path, monkeypatch):
    encoder = CountingEncoder()
    monkeypatch.setattr(embed, "_encoder", lambda: encoder)
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    first = embed.embed(TEXTS + TEXTS[:1], cache)  # a repeated text is embedded once
    assert len(encoder.calls) == 2 and first.shape == (3, 384)
    again = embed.embed(TEXTS, cache)
    assert len(encoder.calls) == 2  # all hits
    np.testing.assert_array_equal(again, first[:2])
    assert np.allclose(first[0], first[2])
    # the cache key is the exact encoder input: whitespace does not make a new entry
    embed.embed(["  大型企业向中小企业采购货物，付款期限最长不超过60日。\n"], cache)
    assert len(encoder.calls) == 2


def test_a_corrupt_entry_is_recomputed_not_trusted(tmp_path, monkeypatch):
    encoder = CountingEncoder()
    monkeypatch.setattr(embed, "_encoder", lambda: encoder)
    path = tmp_path / "e.sqlite"
    good = embed.embed(TEXTS, EmbeddingCache(path))
    key = text_key(encoder_input(TEXTS[0]))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE embedding SET vector = ? WHERE key = ?", (b"\x00\x01garbage", key))
    again = embed.embed(TEXTS, EmbeddingCache(path))
    assert encoder.calls[-1] == encoder_input(TEXTS[0]) and len(encoder.calls) == 3
    np.testing.assert_allclose(again, good, atol=1e-6)
    with sqlite3.connect(path) as connection:  # and the entry was repaired
        assert len(connection.execute("SELECT vector FROM embedding WHERE key = ?", (key,)).fetchone()[0]) == 384 * 4


def _embed_in_worker(args):
    path, texts = args
    return embed.embed(texts, EmbeddingCache(path)).shape[0]


def test_concurrent_writers_share_one_cache(tmp_path):
    path = tmp_path / "e.sqlite"
    texts = [f"Programme {i} links SME suppliers with buyers." for i in range(12)]
    jobs = [(path, texts[i::3]) for i in range(3)] + [(path, texts)]
    with ProcessPoolExecutor(2) as pool:
        assert list(pool.map(_embed_in_worker, jobs)) == [4, 4, 4, 12]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM embedding").fetchone()[0] == 12


def test_cache_set_up_waits_out_a_lock_and_raises_other_errors():
    import sqlite3

    from classifier.embed import _set_up

    class Flaky:
        def __init__(self, failures, message):
            self.failures, self.message, self.statements = failures, message, []

        def execute(self, statement):
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError(self.message)
            self.statements.append(statement)

    locked = Flaky(2, "database is locked")
    _set_up(locked)
    assert locked.statements[0] == "PRAGMA journal_mode=WAL" and len(locked.statements) == 2
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _set_up(Flaky(1, "disk I/O error"))
