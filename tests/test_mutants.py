"""Tests written for mutants an earlier mutation experiment left alive: each fails when its rule is broken.

The mutant each test kills is named in its docstring; docs/mutation.md lists how they were checked.
"""
import gzip
import random

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from classifier.codebook import LABELS
from classifier.ingest import Limits, read_bytes
from classifier.report import Filters, _chi_square, compare
from classifier.segment import MAX_MEASURE_CHARS, segment_chinese, split_long_measures
from classifier.documents import Measure

# ---------------------------------------------------------------- report: comparison between corpora


def units(primaries):
    """Analysis units, one per document: the primary type (or none) of each."""
    return pd.DataFrame({"group": [f"d{i}" for i in range(len(primaries))],
                         "types": [[p] if p != "none" else [] for p in primaries],
                         "primary": primaries,
                         "orientation": ["network" if p != "none" else "neutral" for p in primaries]})


def test_difference_between_corpora_is_a_minus_b_with_an_interval_around_it():
    """Mutant: the sign of the bootstrap draws (or the point) of ``_differences`` flipped."""
    a = units(["production"] * 8 + ["none"] * 2)
    b = units(["production"] * 2 + ["knowledge"] * 6 + ["none"] * 2)
    (comparison,) = compare({"a": a, "b": b}, replicates=200, seed=0)
    assert comparison.corpora == ("a", "b")
    production = comparison.differences["primary_share_of_network"]["production"]
    assert production.value == pytest.approx(1.0 - 0.25)
    assert production.ci is not None and 0 < production.ci[0] <= 0.75 <= production.ci[1]
    knowledge = comparison.differences["primary_share_of_network"]["knowledge"]
    assert knowledge.value == pytest.approx(-0.75) and knowledge.ci is not None and knowledge.ci[1] < 0


def test_chi_square_is_scipys_on_the_used_columns():
    """Mutant: ``_chi_square`` returning 0 (or its statistic replaced)."""
    table = np.array([[10, 5, 0, 3], [2, 8, 0, 6]])
    chi2, p_value, dof, _ = chi2_contingency(table[:, [0, 1, 3]])
    assert _chi_square(table) == pytest.approx((chi2, dof, p_value))
    assert chi2 > 5  # a table this uneven is far from independence: 0 is not a possible answer
    a = units(["production"] * 10 + ["knowledge"] * 5 + ["cluster"] * 3)
    b = units(["production"] * 2 + ["knowledge"] * 8 + ["cluster"] * 6)
    (comparison,) = compare({"a": a, "b": b}, replicates=10, seed=0)
    assert (comparison.chi2, comparison.dof, comparison.p_value) == pytest.approx((chi2, dof, p_value))


# ---------------------------------------------------------------- report: filters


def documents():
    return pd.DataFrame({"doc_id": ["a", "b", "c", "d"], "wave": [2019, 2021, 2021, None],
                         "lang": ["en", "zh", "en", "zh"]})


def test_wave_filter_keeps_the_named_waves_only():
    """Mutant: the wave condition inverted (``~isin``) or ignored."""
    assert Filters(waves=(2021,)).apply(documents()).doc_id.tolist() == ["b", "c"]
    assert Filters(waves=(2019,)).apply(documents()).doc_id.tolist() == ["a"]


def test_language_filter_keeps_the_named_languages_only():
    """Mutant: the language condition inverted or ignored."""
    assert Filters(langs=("zh",)).apply(documents()).doc_id.tolist() == ["b", "d"]
    assert Filters(langs=("en", "zh")).apply(documents()).doc_id.tolist() == ["a", "b", "c", "d"]


# ---------------------------------------------------------------- classify: per-language thresholds


def test_each_language_gets_its_own_thresholds(tiny_model):
    """Mutant: ``PolicyModel.threshold_matrix`` using the overall (``*``) thresholds, or another language's."""
    from classifier.persist import load_model

    model = load_model(tiny_model)
    model.thresholds_ = {"*": {label: 1.01 for label in LABELS}, "en": {label: 1.01 for label in LABELS},
                         "zh": {label: 0.0 for label in LABELS}}
    predicted = model.predict(["大型企业向中小企业采购货物，付款期限最长不超过60日。",
                               "Vouchers let SMEs buy R&D services from universities."])
    assert predicted.types.tolist() == [list(LABELS), []]
    assert model.threshold_matrix(["zh", "en", "fr"]).tolist() == [[0.0] * 4, [1.01] * 4, [1.01] * 4]


# ---------------------------------------------------------------- segment: long measures are split


PARAGRAPH = "鼓励大型企业向中小企业开放供应链资源，推动产业链上下游协同发展，完善配套服务体系。" * 10  # 410 characters


def article(paragraphs: int) -> str:
    return "第一条 " + "\n".join([PARAGRAPH] * paragraphs) + "\n第二条 " + PARAGRAPH[:100]


def test_an_article_over_the_measure_limit_is_split_into_its_paragraphs():
    """Mutant: the ``MAX_MEASURE_CHARS`` split of a multi-paragraph unit disabled."""
    assert len(article(5)) > MAX_MEASURE_CHARS > len(article(2))
    assert len(segment_chinese(article(2))) == 2  # under the limit: the article stays one measure
    measures = segment_chinese(article(5))
    assert len(measures) == 6 and all(m.end - m.start <= MAX_MEASURE_CHARS for m in measures)


def test_a_measure_over_the_hard_limit_is_cut_at_sentence_ends_and_nothing_is_lost():
    """Mutant: ``split_long_measures`` returning its input."""
    text = "Vouchers let small firms buy research services. " * 40  # 1,960 characters
    measures = split_long_measures([Measure(0, 0, len(text), text, "en")], limit=500)
    assert len(measures) >= 4 and all(m.end - m.start <= 500 for m in measures)
    assert "".join(m.text for m in measures) == text and [m.order for m in measures] == list(range(len(measures)))
    assert all(m.text.endswith(". ") for m in measures[:-1])


# ---------------------------------------------------------------- ingest: the gzip size bound


def barely_compressible(size: int) -> bytes:
    rng = random.Random(0)
    return "".join(rng.choice("abcdefghij ") for _ in range(size)).encode()


@pytest.mark.parametrize("limits,reason", [
    (Limits(max_file_bytes=400_000), "expands beyond the size limit"),
    (Limits(max_input_bytes=600_000), "size budget exhausted"),
], ids=["file-limit", "input-budget"])
def test_a_gzip_file_over_the_decompression_budget_is_an_error_row(limits, reason):
    """Mutant: ``gunzip`` decompressing without a cap (e.g. ``gzip.decompress``)."""
    data = gzip.compress(barely_compressible(800_000))
    assert len(data) < 400_000  # the file itself is within the limits: only what it expands to is not
    docs = list(read_bytes(data, "notes.txt.gz", "t", limits=limits))
    assert len(docs) == 1 and docs[0].status == "failed" and reason in docs[0].error, docs
    assert docs[0].source == "notes.txt.gz"
    ok = list(read_bytes(gzip.compress(barely_compressible(100_000)), "small.txt.gz", "t", limits=limits))
    assert [d.status for d in ok] == ["ok"]
