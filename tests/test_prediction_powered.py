"""Prediction-powered shares: a view's mean posterior corrected by the residuals of the labels standing for it."""
import numpy as np
import pandas as pd
import pytest

from classifier import prediction_powered
from classifier.prediction_powered import LabeledSample, bootstrap, prevalence
from classifier.quantify import LabeledPosteriors
from classifier.report import Correction, Filters, build_report
from test_report import tagged_documents

TRUE_MIX = np.array([0.1, 0.2, 0.7])


def biased_view(rng, n=4000):
    """Units of three classes whose posteriors lean to classes 0 and 1 whatever the unit is: counting them is wrong."""
    y = rng.choice(3, n, p=TRUE_MIX)
    posteriors = 0.5 * np.eye(3)[y] + 0.5 * np.array([0.4, 0.4, 0.2])
    return y, posteriors


def random_labels(rng, y, n_labeled):
    rows = rng.choice(len(y), n_labeled, replace=False)
    return LabeledSample(rows, y[rows], np.full(n_labeled, len(y) / n_labeled), np.ones(n_labeled, bool))


def test_random_labels_correct_a_biased_classifier_that_counting_cannot():
    rng = np.random.default_rng(0)
    ppi_errors, pcc_errors = [], []
    for _ in range(30):
        y, posteriors = biased_view(rng)
        truth = np.bincount(y, minlength=3) / len(y)
        ppi_errors.append(np.abs(prevalence(posteriors, random_labels(rng, y, 400)) - truth).max())
        pcc_errors.append(np.abs(posteriors.mean(axis=0) - truth).max())
    assert np.mean(ppi_errors) < 0.02 < 0.2 < np.mean(pcc_errors)


def test_a_census_gives_the_labeled_mix_whatever_the_posteriors():
    y = np.array([0, 0, 1, 2, 2, 2])
    posteriors = np.tile([0.9, 0.05, 0.05], (6, 1))
    census = LabeledSample(np.arange(6), y, np.ones(6), np.ones(6, bool))
    assert prevalence(posteriors, census) == pytest.approx([2 / 6, 1 / 6, 3 / 6])


def test_chosen_units_count_as_themselves_and_random_ones_for_the_rest():
    # 100 chosen units, all class 0 and read as class 2; a rest of 900 class-2 units, 90 of them labeled at random
    y = np.r_[np.zeros(100, int), np.full(900, 2)]
    posteriors = np.tile([0.0, 0.0, 1.0], (1000, 1))
    posteriors[100:] = [0.3, 0.0, 0.7]  # the rest read wrongly too
    rows = np.r_[np.arange(100), 100 + np.arange(0, 900, 10)]
    sample = LabeledSample(rows, y[rows], np.r_[np.ones(100), np.full(90, 10.0)], np.r_[np.zeros(100, bool), np.ones(90, bool)])
    assert prevalence(posteriors, sample) == pytest.approx([0.1, 0.0, 0.9])


def test_a_correction_below_zero_is_kept_a_mix():
    y = np.array([2, 2, 2, 2])
    posteriors = np.tile([0.02, 0.0, 0.98], (4, 1))
    posteriors[0] = [0.5, 0.0, 0.5]  # the one labeled unit leaks most: its residual pushes class 0 below zero
    estimate = prevalence(posteriors, LabeledSample(np.array([0]), y[:1], np.array([4.0]), np.array([True])))
    assert estimate.min() >= 0 and estimate.sum() == pytest.approx(1)


def test_intervals_cover_the_truth_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    hits = []
    for seed in range(40):
        y, posteriors = biased_view(rng, n=2000)
        sample = random_labels(rng, y, 200)
        draws = np.array(bootstrap(posteriors, sample, 200, seed))[:, 0]
        low, high = np.quantile(draws, [0.025, 0.975])
        hits.append(low <= np.mean(y == 0) <= high)
    assert 0.85 <= np.mean(hits) <= 1.0


def test_a_view_labeled_whole_or_by_choice_leaves_nothing_to_resample():
    y, posteriors = biased_view(np.random.default_rng(4), n=300)
    census = LabeledSample(np.arange(300), y, np.ones(300), np.ones(300, bool))
    chosen = LabeledSample(np.arange(100), y[:100], np.ones(100), np.zeros(100, bool))
    for sample in (census, chosen):
        assert np.allclose(bootstrap(posteriors, sample, 20, 0), prevalence(posteriors, sample))


def test_the_more_of_the_view_is_labeled_the_narrower_the_interval():
    y, posteriors = biased_view(np.random.default_rng(5), n=1000)
    rng = np.random.default_rng(6)
    widths = []
    for n_labeled in (100, 500, 900):
        draws = np.array(bootstrap(posteriors, random_labels(rng, y, n_labeled), 200, 0))[:, 0]
        widths.append(np.subtract(*np.quantile(draws, [0.975, 0.025])))
    assert widths[0] > widths[1] > widths[2] > 0


def test_simulated_errors_vanish_for_a_census_and_centre_on_zero_for_a_sample():
    from classifier.prediction_powered import simulated_errors

    y, posteriors = biased_view(np.random.default_rng(7), n=1000)
    census = LabeledSample(np.arange(1000), y, np.ones(1000), np.ones(1000, bool))
    assert all(abs(v) < 1e-12 for e in simulated_errors("primary", np.pad(posteriors, ((0, 0), (0, 2))), census, 5, 0)
               for v in e.values())
    present = (y == 1).astype(int)  # a type's presence: absent / present
    binary = np.column_stack([1 - posteriors[:, 1], posteriors[:, 1]])
    sample = random_labels(np.random.default_rng(8), present, 100)
    errors = pd.DataFrame(simulated_errors("type:knowledge", binary, sample, 200, 0))["type_rate.knowledge"]
    assert abs(errors.mean()) < 0.01 < errors.std()


def test_a_class_the_random_labels_missed_still_widens_the_simulated_errors():
    from classifier.prediction_powered import simulated_errors

    # 50 chosen production units; the 950 others none, 100 of them labeled at random: no random production unit,
    # yet the rest could hold a few that the draw missed
    y = np.r_[np.zeros(50, int), np.full(950, 4)]
    posteriors = np.tile([0.05, 0.0, 0.0, 0.0, 0.95], (1000, 1))
    rows = np.r_[np.arange(50), 50 + np.arange(0, 950, 9.5).astype(int)]
    sample = LabeledSample(rows, y[rows], np.r_[np.ones(50), np.full(100, 9.5)], np.r_[np.zeros(50, bool),
                                                                                        np.ones(100, bool)])
    errors = pd.DataFrame(simulated_errors("primary", posteriors, sample, 100, 0))
    assert errors["network_share.network"].abs().max() > 1e-3


def test_the_bootstrap_moves_only_with_its_seed():
    y, posteriors = biased_view(np.random.default_rng(2), n=500)
    sample = random_labels(np.random.default_rng(3), y, 50)
    first, again = (bootstrap(posteriors, sample, 5, 7) for _ in range(2))
    other = bootstrap(posteriors, sample, 5, 8)
    assert np.allclose(first, again) and not np.allclose(first, other)


# ---------------------------------------------------------------- in the report


def census_correction(ids, with_view_labels, sampling="random:sme"):
    """Labels of the SME-targeted test documents, each drawn at random (design weight 1), read out-of-fold as
    production units; the truth says otherwise."""
    n = len(ids)
    predicted = pd.DataFrame({"p_production": [0.9] * n, "p_knowledge": [0.05] * n, "p_partnership": [0.05] * n,
                              "p_cluster": [0.05] * n, "p_lead_firm": [0.1] * n, "p_network": [0.8] * n,
                              "p_neutral": [0.1] * n, "types": ["production"] * n, "primary": ["production"] * n,
                              "orientation": ["network"] * n})
    primary = (["knowledge", "knowledge", "cluster"] + ["none"] * n)[:n]
    truth = pd.DataFrame({"unit_id": ids, "types": [p if p != "none" else "" for p in primary], "primary": primary,
                          "orientation": [("neutral" if p == "none" else "network") for p in primary],
                          "sampling": sampling,
                          "design_weight": 1.0, "sme_targeted": "True"})
    return Correction("en", LabeledPosteriors("en", "documents", predicted, truth, np.arange(n)), {"primary": "PCC"},
                      with_view_labels)


def primary_figures(ids, with_view_labels, monkeypatch, minimum=3, sampling="random:sme"):
    monkeypatch.setattr(prediction_powered, "MIN_LABELS", minimum)
    report, _ = build_report({"oecd": (tagged_documents(), None)}, "documents", Filters(),
                             corrections={"en": census_correction(ids, with_view_labels, sampling)}, replicates=20)
    return {view: report.views[view].corpora["oecd"].figures["primary_share_of_network"] for view in ("sme", "all")}


def test_the_sme_view_takes_the_labels_where_the_benchmark_chose_them(monkeypatch):
    sme_documents = ["d0", "d2", "d4", "d6", "d8"]  # every SME-targeted test document, labeled: a census
    figures = primary_figures(sme_documents, {"primary": "PPI"}, monkeypatch)
    sme, everything = figures["sme"], figures["all"]
    assert {f.estimator for f in sme.values()} == {"PPI"}
    assert sme["knowledge"].corrected.value == pytest.approx(2 / 3) and sme["production"].corrected.value == 0
    assert sme["knowledge"].headline == "corrected" and sme["knowledge"].corrected.ci is not None
    assert {f.estimator for f in everything.values()} == {"PCC"}  # the all-policy view has no design behind it


def test_too_few_random_labels_or_no_benchmark_choice_leave_the_quantifier(monkeypatch):
    few = primary_figures(["d0", "d2"], {"primary": "PPI"}, monkeypatch)
    unchosen = primary_figures(["d0", "d2", "d4", "d6", "d8"], {"primary": "PCC"}, monkeypatch)
    # chosen labels stand only for themselves: without random ones, nothing stands for the rest of the view
    chosen_only = primary_figures(["d0", "d2", "d4"], {"primary": "PPI"}, monkeypatch, sampling="suggest:rare")
    estimators = [{f.estimator for f in figures["sme"].values()} for figures in (few, unchosen, chosen_only)]
    assert estimators == [{"PCC"}] * 3


def test_a_labeled_measure_is_found_by_its_text_when_its_number_has_moved():
    from classifier.labels import text_sha1
    from classifier.report import labeled_units_among

    units = pd.DataFrame({"doc_id": ["law"] * 3, "measure_id": ["law#1", "law#2", "law#3"],
                          "text": ["第一条 总则。", "第二条 支持中小企业与大企业协作配套。", "第三条 附则。"]})
    # labeled as law#1 under an older segmentation that did not split off the heading: the text is law#2's
    truth = pd.DataFrame({"unit_id": ["law#1"], "text_sha1": [text_sha1(units.loc[1, "text"])], "types": "production",
                          "primary": "production", "orientation": "lead_firm"})
    predicted = pd.DataFrame({"p_production": [0.9], "types": ["production"], "primary": ["production"],
                              "orientation": ["lead_firm"]})
    correction = Correction("zh", LabeledPosteriors("zh", "measures", predicted, truth, np.array(["law"])), {})
    found = labeled_units_among(units, correction, "measures")
    assert found.isna().tolist() == [True, False, True] and found[1] == "law#1"


def subset_correction(n_labeled: int):
    """Labels of the first ``n_labeled`` SME-targeted test documents, drawn at random (each standing for 5 / n of the
    view), read out-of-fold with posteriors that differ per unit."""
    ids = ["d0", "d2", "d4", "d6", "d8"][:n_labeled]
    p_knowledge = [0.9, 0.2, 0.6, 0.1, 0.3][:n_labeled]
    predicted = pd.DataFrame({"p_production": 0.05, "p_knowledge": p_knowledge, "p_partnership": 0.05,
                              "p_cluster": 0.05, "p_lead_firm": 0.1, "p_network": 0.8, "p_neutral": 0.1,
                              "types": "knowledge", "primary": "knowledge", "orientation": "network"})
    primary = ["knowledge", "none", "knowledge", "none", "production"][:n_labeled]
    truth = pd.DataFrame({"unit_id": ids, "types": [p if p != "none" else "" for p in primary], "primary": primary,
                          "orientation": [("neutral" if p == "none" else "network") for p in primary],
                          "sampling": "random:sme", "design_weight": 5 / n_labeled, "sme_targeted": "True"})
    return Correction("en", LabeledPosteriors("en", "documents", predicted, truth, np.arange(n_labeled)),
                      {"type:knowledge": "PCC"}, {"type:knowledge": "PPI"})


def knowledge_rate(monkeypatch, filters=Filters(), n_labeled=3):
    monkeypatch.setattr(prediction_powered, "MIN_LABELS", 2)
    report, units = build_report({"oecd": (tagged_documents(), None)}, "documents", filters,
                                 corrections={"en": subset_correction(n_labeled)}, replicates=20)
    return report.views["sme"].corpora["oecd"].figure("type_rate", "knowledge"), units["sme"]["oecd"]


def test_the_report_rectifies_the_view_mean_by_each_labeled_units_own_residual(monkeypatch):
    from classifier.quantify import posteriors

    figure, units = knowledge_rate(monkeypatch)
    assert figure.estimator == "PPI"
    knowledge = posteriors(units, "type:knowledge")[:, 1]  # d0, d2, d4 read out-of-fold: 0.9, 0.2, 0.6
    residuals = np.array([1 - 0.9, 0 - 0.2, 1 - 0.6])
    assert figure.corrected.value == pytest.approx(knowledge.mean() + residuals.mean())


def test_a_wave_filter_leaves_the_quantifier(monkeypatch):
    figure, _ = knowledge_rate(monkeypatch, Filters(waves=(2021,)))
    assert figure.estimator == "PCC"


def test_the_report_widens_the_interval_to_the_simulated_errors(monkeypatch):
    monkeypatch.setattr(prediction_powered, "simulated_errors",
                        lambda target, *args: [{"type_rate.knowledge": 0.3}, {"type_rate.knowledge": -0.3}])
    figure, _ = knowledge_rate(monkeypatch)
    low, high = figure.corrected.ci
    assert low <= figure.corrected.value - 0.29 or low == 0.0
    assert high >= min(1.0, figure.corrected.value + 0.29)


def test_the_bootstrap_spread_is_the_finite_population_standard_error():
    rng = np.random.default_rng(9)
    y, posteriors = biased_view(rng, n=3000)
    # 1,000 chosen units known; 1,000 of the other 2,000 drawn at random: f = 1,000 / 2,000
    random_rows = 1000 + rng.choice(2000, 1000, replace=False)
    rows = np.r_[np.arange(1000), random_rows]
    sample = LabeledSample(rows, y[rows], np.r_[np.ones(1000), np.full(1000, 2.0)],
                           np.r_[np.zeros(1000, bool), np.ones(1000, bool)])
    draws = np.array(bootstrap(posteriors, sample, 2000, 0))[:, 0]
    residuals = (y[random_rows] == 0) - posteriors[random_rows, 0]
    share_of_rest = 2000 / 3000  # the random labels' residual mean moves the rest's part of the estimate
    expected = share_of_rest * np.sqrt((1 - 0.5) * residuals.var() / 1000)
    assert draws.std() == pytest.approx(expected, rel=0.1)
