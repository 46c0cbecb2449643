import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from classifier.report import (ErrorRates, Filters, analysis_units, bootstrap, build_report, corrected_figures,
                               evidence_examples, raw_figures)
from classifier.report_render import write_charts, write_html, write_tables

from conftest import ROOT

LABELS = ["production", "knowledge", "partnership", "cluster"]


def tagged_documents():
    """Ten hand-made tagged documents: 6 network documents (3 production, 2 knowledge, 1 cluster)."""
    rows = [
        (["production"], "production", "lead_firm"), (["production", "knowledge"], "production", "lead_firm"),
        (["production"], "production", "network"), (["knowledge"], "knowledge", "network"),
        (["knowledge", "partnership"], "knowledge", "network"), (["cluster"], "cluster", "neutral"),
        ([], "none", "neutral"), ([], "none", "neutral"), ([], "none", "neutral"), ([], "none", "neutral"),
    ]
    return pd.DataFrame([{"doc_id": f"d{i}", "title": f"doc {i}", "types": json.dumps(t), "primary": p, "orientation": o,
                          "error": "", "country": "A" if i < 5 else "B", "country_code": "AA" if i < 5 else "BB",
                          "year": 2015 + i, "wave": 2021, "lang": "en", "sme_targeted": i % 2 == 0,
                          "evidence": json.dumps([{"label": t[0], "text": "supply chain links", "start": 0, "end": 18,
                                                   "probability": 0.9, "phrases": [{"phrase": "supply chain", "start": 0, "end": 12}]}] if t else [])}
                         for i, (t, p, o) in enumerate(rows)])


def test_raw_shares_and_counts_on_a_hand_made_table():
    figures = raw_figures(analysis_units(tagged_documents(), None, "documents"))
    assert figures["units"] == 10 and figures["network_units"] == 6
    assert figures["primary_counts"] == {"production": 3, "knowledge": 2, "partnership": 0, "cluster": 1}
    assert figures["primary_share_of_network"]["production"] == pytest.approx(0.5)
    assert figures["primary_share_of_all"]["knowledge"] == pytest.approx(0.2)
    assert figures["type_rate"]["knowledge"] == pytest.approx(0.3) and figures["type_counts"]["partnership"] == 1
    assert figures["orientation_share_of_network"] == pytest.approx({"lead_firm": 2 / 6, "network": 3 / 6, "neutral": 1 / 6})


def test_filters():
    documents = tagged_documents()
    assert len(Filters(sme_only=True).apply(documents)) == 5
    assert len(Filters(countries=("bb",)).apply(documents)) == 5
    assert Filters(year_from=2018, year_to=2020).apply(documents).year.tolist() == [2018, 2019, 2020]
    assert "SME-targeted" in Filters(sme_only=True).describe()


def simulate_documents(rng, n_docs, share, measures_per_doc=3):
    """Documents whose measures share a primary type: production with probability ``share``."""
    rows = []
    for d in range(n_docs):
        label = "production" if rng.random() < share else "knowledge"
        for m in range(measures_per_doc):
            rows.append({"group": f"d{d}", "types": [label], "primary": label, "orientation": "network"})
    return pd.DataFrame(rows)


def test_bootstrap_intervals_cover_the_truth_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    truth, hits, runs = 0.4, 0, 60
    for run in range(runs):
        units = simulate_documents(rng, 80, truth)
        ci = bootstrap(units, raw_figures, replicates=150, seed=run)["primary_share_of_network.production"]
        hits += ci[0] <= truth <= ci[1]
    assert hits / runs >= 0.85


def test_corrected_estimator_recovers_known_prevalence_better_than_raw_counting():
    rng = np.random.default_rng(2)
    classes = ["production", "knowledge", "partnership", "cluster", "none"]
    # a classifier that confuses classes at known rates: P(pred | true), columns = true class
    confusion = np.array([[0.70, 0.10, 0.10, 0.05, 0.05], [0.10, 0.75, 0.10, 0.05, 0.05], [0.05, 0.05, 0.60, 0.05, 0.02],
                          [0.02, 0.02, 0.05, 0.70, 0.03], [0.13, 0.08, 0.15, 0.15, 0.85]])
    def classify(true_labels):
        return [classes[rng.choice(5, p=confusion[:, classes.index(t)])] for t in true_labels]
    # error rates measured on a labeled sample with one prevalence ...
    train_true = rng.choice(classes, 4000, p=[0.1, 0.2, 0.1, 0.1, 0.5])
    train_pred = classify(train_true)
    rates = ErrorRates.from_oof(pd.DataFrame({"primary": train_true, "types": [[t] if t != "none" else [] for t in train_true]}),
                                pd.DataFrame({"primary": train_pred, "types": [[p] if p != "none" else [] for p in train_pred]}))
    # ... applied to a corpus with another prevalence
    prevalence = np.array([0.35, 0.15, 0.05, 0.05, 0.40])
    test_true = rng.choice(classes, 5000, p=prevalence)
    test_pred = classify(test_true)
    units = pd.DataFrame({"primary": test_pred, "types": [[p] if p != "none" else [] for p in test_pred],
                          "orientation": "network", "group": range(5000)})
    corrected = corrected_figures(units, rates)["primary_share_of_all"]
    raw = raw_figures(units)["primary_share_of_all"]
    truth = dict(zip(classes, prevalence))
    corrected_error = sum(abs(corrected[c] - truth[c]) for c in LABELS)
    raw_error = sum(abs(raw[c] - truth[c]) for c in LABELS)
    assert corrected_error < raw_error / 2


def make_report(tmp_path, illustrative=False):
    documents = tagged_documents()
    corpora = {"cn": (documents, None), "oecd": (documents.assign(doc_id=documents.doc_id + "o"), None)}
    report, units = build_report(corpora, "documents", Filters(), rates=None, replicates=50, illustrative=illustrative)
    write_tables(report, tmp_path)
    images = write_charts(report, tmp_path, None)
    write_html(report, tmp_path, images, evidence_examples(units), {})
    return report


def test_report_outputs_contain_every_number_tables_and_images(tmp_path):
    report = make_report(tmp_path, illustrative=True)
    shares = json.loads((tmp_path / "shares.json").read_text())
    assert set(shares["corpora"]) == {"cn", "oecd"}
    assert shares["corpora"]["cn"]["raw"]["primary_counts"]["production"] == 3
    table = pd.read_csv(tmp_path / "shares.csv")
    row = table[(table.corpus == "cn") & (table.measure == "primary_share_of_network") & (table.category == "production")].iloc[0]
    assert row.value == pytest.approx(0.5) and row["count"] == 3 and row.denominator == 6 and row.ci_low <= 0.5 <= row.ci_high
    html = (tmp_path / "report.html").read_text()
    assert html.count("<table") >= 1 and html.count("data:image/png;base64,") == 2
    assert "Illustrative" in html and "<mark>supply chain</mark>" in html and "52.0%" in html
    assert report["comparisons"][0]["corpora"] == ["cn", "oecd"]
    assert (tmp_path / "shares_by_corpus.png").stat().st_size > 1000


def test_report_command_runs_on_the_shipped_sample_when_no_data_is_configured(tiny_model, tmp_path):
    env = {**os.environ, "CLASSIFIER_DATA": str(tmp_path / "nowhere")}
    result = subprocess.run([sys.executable, "-m", "classifier", "report", "--out", str(tmp_path / "r"), "--bootstrap", "30",
                             "--model", str(tiny_model)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "r"
    for name in ("shares.csv", "shares.json", "report.html", "shares_by_corpus.png", "orientation_by_corpus.png"):
        assert (out / name).exists(), name
    assert "illustrative" in result.stderr and json.loads((out / "shares.json").read_text())["illustrative"] is True


def test_unstable_correction_is_flagged_and_the_headline_falls_back_to_raw():
    from classifier.report import corpus_figures

    classes = ["production", "knowledge", "partnership", "cluster", "none"]
    truth = pd.DataFrame({"primary": ["partnership"] * 10 + ["knowledge"] * 10 + classes})
    predicted = pd.DataFrame({"primary": ["knowledge"] * 9 + ["partnership"] + ["knowledge"] * 10 + classes})
    for frame in (truth, predicted):
        frame["types"] = frame.primary.map(lambda p: [] if p == "none" else [p])
    rates = ErrorRates.from_oof(truth, predicted)
    units = analysis_units(tagged_documents(), None, "documents").assign(group=lambda f: f.doc_id)
    figures = corpus_figures(units, rates, replicates=20, seed=0)
    assert figures["headline"] == "raw" and "partnership" in figures["correction_warnings"][0]
    assert "corrected" in figures  # still reported beside the raw estimate
