import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from classifier import report_render
from classifier.report import (Correction, Estimate, Filters, analysis_units, build_report, corpus_estimates,
                               method_text, raw_estimates)
from classifier.report_evidence import evidence_examples
from classifier.report_render import answer_sentences, write_atomic, write_charts, write_html, write_tables

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
                          "scores": scores_of(t, o),
                          "evidence": json.dumps([evidence_item(t[0], i)] if t else [])}
                         for i, (t, p, o) in enumerate(rows)])


def scores_of(types, orientation):
    """Document scores as tagging writes them: a probability per type and per driver."""
    return {**{l: (0.8 if l in types else 0.1) for l in LABELS},
            **{o: (0.7 if o == orientation else 0.15) for o in ("lead_firm", "network", "neutral")}}


def evidence_item(label, i):
    text = f"Programme {i} builds supply chain links between large buyers and SME suppliers in region {i}."
    start = text.index("supply chain")
    return {"label": label, "text": text, "start": 0, "end": len(text), "probability": 0.9,
            "phrases": [{"phrase": "supply chain", "start": start, "end": start + 12}]}


def units_of(documents):
    return analysis_units(documents, None, "documents")


def test_raw_shares_and_counts_on_a_hand_made_table():
    figures, _ = raw_estimates(units_of(tagged_documents()), replicates=50, seed=0)
    primary = figures["primary_share_of_network"]
    assert {l: primary[l].count for l in LABELS} == {"production": 3, "knowledge": 2, "partnership": 0, "cluster": 1}
    assert primary["production"].raw.value == pytest.approx(0.5) and primary["production"].denominator == 6
    assert figures["type_rate"]["knowledge"].raw.value == pytest.approx(0.3) and figures["type_rate"]["partnership"].count == 1
    orientation = {o: f.raw.value for o, f in figures["orientation_share_of_network"].items()}
    assert orientation == pytest.approx({"lead_firm": 2 / 6, "network": 3 / 6, "neutral": 1 / 6})
    assert figures["network_share"]["network"].raw.value == pytest.approx(0.6)
    assert figures["orientation_gap"]["lead_firm - network"].raw.value == pytest.approx(-1 / 6)


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
        figures, _ = raw_estimates(simulate_documents(rng, 80, truth), replicates=200, seed=run)
        low, high = figures["primary_share_of_network"]["production"].raw.ci
        hits += low <= truth <= high
    assert 0.85 <= hits / runs <= 1.0


def test_an_interval_must_contain_its_estimate():
    with pytest.raises(ValueError):
        Estimate(0.5, (0.0, 0.4))
    assert Estimate(0.5, (0.4, 0.6)).ci == (0.4, 0.6)


def synthetic_correction(selection):
    from synthetic_quantities import labeled

    return Correction("en", labeled(np.random.default_rng(3), n=600), selection)


def test_the_benchmark_selection_decides_which_figures_are_corrected_and_lead():
    correction = synthetic_correction({"primary": "PACC", "orientation": "CC"})
    estimates = corpus_estimates("oecd", units_of(tagged_documents()), correction, replicates=20, seed=0)
    figure = estimates.figure("primary_share_of_network", "production")
    assert figure.headline == "corrected" and figure.estimator == "PACC" and figure.best is figure.corrected
    assert figure.raw.value == pytest.approx(0.5) and figure.corrected.value != figure.raw.value
    lead = estimates.figure("orientation_share_of_network", "lead_firm")  # raw counting won: raw leads, no correction
    assert lead.headline == "raw" and lead.corrected is None


def test_a_corpus_without_a_benchmark_selection_is_raw_and_says_why():
    estimates = corpus_estimates("oecd", units_of(tagged_documents()), synthetic_correction({}), replicates=20, seed=0)
    assert estimates.figure("primary_share_of_network", "production").headline == "raw"
    assert "bench_quantify" in estimates.warnings[0]


def test_method_prose_follows_what_the_run_did(monkeypatch):
    from classifier import report

    monkeypatch.setattr(report, "CORRECTION_REPLICATES", 77)
    text = " ".join(method_text(123, {"cn": "measures, corrected with PACC"}))
    assert "123 replicates" in text and "(77 replicates)" in text and "cn: measures, corrected with PACC" in text


def test_a_renamed_corpus_keeps_its_correction(tmp_path):
    report = make_report(tmp_path, corrections={"en": synthetic_correction({"primary": "PACC"})},
                         cn="china", oecd="member_states")
    for name in ("china", "member_states"):
        figure = report.headline.corpora[name].figure("primary_share_of_network", "knowledge")
        assert figure.estimator == "PACC" and figure.headline == "corrected"


def make_report(tmp_path, illustrative=False, corrections=None, **corpus_names):
    documents = tagged_documents()
    names = corpus_names or {"cn": "cn", "oecd": "oecd"}
    corpora = {names["cn"]: (documents, None), names["oecd"]: (documents.assign(doc_id=documents.doc_id + "o"), None)}
    report, units = build_report(corpora, "documents", Filters(), corrections=corrections, replicates=50,
                                 illustrative=illustrative)
    write_tables(report, tmp_path)
    images = write_charts(report, tmp_path, units["sme"][names["oecd"]])
    write_html(report, tmp_path, images, evidence_examples(corpora), {})
    return report


def all_estimates(node):
    """Every (value, ci) pair in shares.json."""
    if isinstance(node, dict):
        if "value" in node and "ci" in node:
            yield node
        for child in node.values():
            yield from all_estimates(child)
    elif isinstance(node, list):
        for child in node:
            yield from all_estimates(child)


def test_shares_json_is_full_precision_and_every_interval_contains_its_estimate(tmp_path):
    make_report(tmp_path, corrections={"en": synthetic_correction({"primary": "PACC"})})
    text = (tmp_path / "shares.json").read_text()
    shares = json.loads(text)  # strict JSON: no NaN
    assert "NaN" not in text and list(shares["views"]) == ["sme", "all"]
    estimates = list(all_estimates(shares))
    assert len(estimates) > 50
    for estimate in estimates:
        if estimate["ci"] is not None:
            assert estimate["ci"][0] <= estimate["value"] <= estimate["ci"][1], estimate
    oecd = shares["views"]["all"]["corpora"]["oecd"]
    assert oecd["figures"]["primary_share_of_network"]["production"]["count"] == 3
    assert "ci" not in oecd  # counts (units, documents, network units) carry no interval
    assert oecd["figures"]["primary_share_of_network"]["production"]["raw"]["value"] == 0.5


def test_shares_csv_has_clean_numbers_comparisons_and_the_reference(tmp_path):
    make_report(tmp_path, corrections={"en": synthetic_correction({"primary": "PACC"})})
    raw_text = (tmp_path / "shares.csv").read_text()
    assert "e-" not in raw_text and "nan" not in raw_text.lower()
    table = pd.read_csv(tmp_path / "shares.csv")
    row = table[(table.view == "all") & (table.corpus == "cn") & (table.family == "primary_share_of_network")
                & (table.category == "production") & (table.estimate == "raw")].iloc[0]
    assert row.value == pytest.approx(0.5) and row["count"] == 3 and row.denominator == 6 and row.ci_low <= 0.5 <= row.ci_high
    assert set(table.estimate) == {"raw", "PACC", "difference", "published"}
    assert table[(table.estimate == "PACC")]["count"].isna().all()  # raw counts are not shown under corrected shares
    reference = table[table.corpus == "OECD 2023 reference"].set_index("category")["value"]
    assert reference.to_dict() == {"production": 0.52, "knowledge": 0.33, "partnership": 0.12, "cluster": 0.03}
    assert (table.corpus == "cn - oecd").any()


def test_html_opens_with_the_answer_and_never_shows_markup_reprs_or_nan(tmp_path):
    report = make_report(tmp_path, illustrative=True, corrections={"en": synthetic_correction({"primary": "PACC"})})
    page = (tmp_path / "report.html").read_text()
    body = page[page.index("<body>"):]
    first, second = answer_sentences(report)
    assert body.index("class='answer'") < body.index("<table")
    assert "52/33/12/3" in first and "lead-firm" in second and "difference" in second
    assert "SME-targeted" in first and "[" in first  # headline view, with intervals
    visible = BeautifulSoup(page, "html.parser").body.get_text(" ")
    assert "{'" not in visible and not re.search(r"\bnan\b", visible, re.I) and "<br" not in visible
    assert "Illustrative" in visible
    assert "<mark>supply chain</mark>" in body and body.count("data:image/png;base64,") == 3
    assert "Noto Sans CJK SC" in page and ":lang(zh)" in page


def test_charts_are_written_as_png_and_svg_and_the_same_report_gives_the_same_files(tmp_path):
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        make_report(tmp_path / run)
    for name in ("shares_by_corpus", "orientation_by_corpus", "shares_by_country"):
        assert (tmp_path / "a" / f"{name}.png").stat().st_size > 1000
        assert "<svg" in (tmp_path / "a" / f"{name}.svg").read_text()[:500]
        for kind in ("png", "svg"):  # charts committed beside a text change only where a figure did
            assert (tmp_path / "a" / f"{name}.{kind}").read_bytes() == (tmp_path / "b" / f"{name}.{kind}").read_bytes()


def test_charts_draw_chinese_labels_with_a_cjk_font(tmp_path, recwarn):
    if report_render.chart_font(lambda m: None) is None:
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk)")
    make_report(tmp_path, cn="中国政策", oecd="经合组织")
    assert not [w for w in recwarn if "missing from font" in str(w.message)]


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch):
    """matplotlib keeps its font list in a cache; fonts-noto-cjk installed later was reported missing for good."""
    import shutil

    from matplotlib import font_manager

    if not shutil.which("fc-list") or not any("CJK" in path or "wqy" in path.lower()
                                              for path in font_manager.findSystemFonts()):
        pytest.skip("no CJK font installed (Debian fonts-noto-cjk)")
    stale = [font for font in font_manager.fontManager.ttflist if font.name not in report_render.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    said = []
    assert report_render.chart_font(said.append) in report_render.CJK_FONTS and not said


def test_a_missing_cjk_font_is_said_on_stderr(monkeypatch):
    monkeypatch.setattr(report_render, "CJK_FONTS", ["No Such Font"])
    said = []
    assert report_render.chart_font(said.append) is None
    assert "fonts-noto-cjk" in said[0]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
    path = write_atomic(tmp_path / "a.txt", "old")
    assert path.stat().st_mode & 0o777 == 0o666 & ~report_render._umask()
    with pytest.raises(TypeError):
        write_atomic(path, object())
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_report_command_runs_on_the_shipped_sample_when_no_data_is_configured(tiny_model, tmp_path):
    env = {**os.environ, "CLASSIFIER_DATA": str(tmp_path / "nowhere")}
    result = subprocess.run([sys.executable, "-m", "classifier", "report", "--out", str(tmp_path / "r"), "--bootstrap", "30",
                             "--model", str(tiny_model)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "r"
    for name in ("shares.csv", "shares.json", "report.html", "shares_by_corpus.png", "orientation_by_corpus.svg"):
        assert (out / name).exists(), name
    assert "illustrative" in result.stderr and json.loads((out / "shares.json").read_text())["illustrative"] is True
    # results to standard output, diagnostics and progress to standard error
    assert result.stdout.startswith("Primary network type of SME-targeted policies") and "OECD 2023" in result.stdout
    assert "tag cn" in result.stderr and "tag cn" not in result.stdout and "report ->" not in result.stdout


def test_report_help_documents_every_option_and_the_data_directory():
    result = subprocess.run([sys.executable, "-m", "classifier", "report", "--help"], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "200"})
    assert "CLASSIFIER_DATA" in result.stdout and "<bool>" not in result.stdout
    assert "documents|measures" in result.stdout  # Enum choices
    for option in ("--year-from <int>", "--year-to <int>", "--seed <int>", "--jobs <int range>", "--wave", "--lang"):
        line = next(l for l in result.stdout.splitlines() if option in l)
        assert line.split(option, 1)[1].strip(), f"{option} has no help text"


def test_unknown_unit_is_refused_by_the_option_parser():
    result = subprocess.run([sys.executable, "-m", "classifier", "report", "--unit", "paragraphs"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "paragraphs" in result.stderr


def test_each_answer_sentence_names_only_the_estimators_of_its_own_figures(tmp_path):
    report = make_report(tmp_path, corrections={"en": synthetic_correction({"primary": "PACC", "orientation": "ACC"})})
    first, second = answer_sentences(report)
    mix = first.split("oecd ", 1)[1]
    assert "PACC-corrected" in mix and "ACC-corrected" not in mix.replace("PACC-corrected", "")
    drivers = second.split("oecd ", 1)[1]
    assert "ACC-corrected" in drivers and "PACC" not in drivers
