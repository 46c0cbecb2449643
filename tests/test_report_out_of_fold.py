"""Labeled units of an analysed corpus are read with their out-of-fold predictions, as the correction assumes."""
import numpy as np
import pandas as pd

from classifier.quantify import LabeledPosteriors
from classifier.report import Correction, Filters, build_report, read_labeled_out_of_fold
from test_report import tagged_documents, units_of


def out_of_fold_correction(ids):
    """A correction whose labeled units are ``ids``, each read out-of-fold as a knowledge/network unit."""
    n = len(ids)
    predicted = pd.DataFrame({"p_production": [0.05] * n, "p_knowledge": [0.9] * n, "p_partnership": [0.05] * n,
                              "p_cluster": [0.05] * n, "p_lead_firm": [0.1] * n, "p_network": [0.8] * n,
                              "p_neutral": [0.1] * n, "types": ["knowledge"] * n, "primary": ["knowledge"] * n,
                              "orientation": ["network"] * n})
    truth = pd.DataFrame({"unit_id": ids, "types": "knowledge", "primary": "knowledge", "orientation": "network"})
    return Correction("en", LabeledPosteriors("en", "documents", predicted, truth, np.arange(n)), {})


def test_labeled_units_take_their_out_of_fold_reading_and_the_rest_keep_theirs():
    units = units_of(tagged_documents())
    read = read_labeled_out_of_fold(units, out_of_fold_correction(["d0", "d9", "not-in-corpus"]), "documents")
    assert read["read_out_of_fold"].tolist() == [True] + [False] * 8 + [True]
    assert read.loc[0, "primary"] == "knowledge" and read.loc[9, "types"] == ["knowledge"]
    assert read.loc[0, "p_knowledge"] == 0.9 and read["p_knowledge"].dtype == float
    assert read.loc[1:8, "primary"].tolist() == units.loc[1:8, "primary"].tolist()
    assert read.loc[1, "p_production"] == 0.8  # from the tagged scores


def test_the_report_counts_and_says_how_many_labeled_units_it_read_out_of_fold():
    documents = tagged_documents()
    report, _ = build_report({"oecd": (documents, None)}, "documents", Filters(),
                             corrections={"en": out_of_fold_correction(["d0", "d1"])}, replicates=20)
    estimates = report.views["all"].corpora["oecd"]
    assert estimates.read_out_of_fold == 2
    assert estimates.figure("primary_share_of_network", "knowledge").count == 4  # d0 and d1 now knowledge
    assert "labeled units read out-of-fold: oecd: 2" in " ".join(report.method)


def test_each_view_draws_its_held_out_errors_at_its_own_mix(monkeypatch):
    from classifier.quantify import FittedQuantifiers
    from test_report import synthetic_correction

    asked = []
    real = FittedQuantifiers.held_out_errors
    monkeypatch.setattr(FittedQuantifiers, "held_out_errors",
                        lambda self, *a, **k: asked.append(k.get("sme_only")) or real(self, *a, **k))
    build_report({"oecd": (tagged_documents(), None)}, "documents", Filters(),
                 corrections={"en": synthetic_correction({"primary": "PACC"})}, replicates=20)
    assert set(asked) == {True, False}


def test_a_copy_of_a_labeled_text_reads_as_its_original():
    units = units_of(tagged_documents()).assign(text=[f"text {i}" for i in range(10)], measure_id=[f"m{i}" for i in range(10)])
    units.loc[5, "text"] = "text 0"  # m5 repeats the labeled m0 word for word
    read = read_labeled_out_of_fold(units, out_of_fold_correction(["m0"]), "measures")
    assert read["read_out_of_fold"].tolist() == [True, False, False, False, False, True, False, False, False, False]
    assert read.loc[5, "primary"] == "knowledge" and read.loc[5, "p_knowledge"] == 0.9
