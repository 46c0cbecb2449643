"""Labeled units standing for a corpus's: the annotation loop chose many `none` units for looking like network
units, so samples and fits draw a class from its units sampled at random where there are enough of them."""
import numpy as np
import pandas as pd

from classifier import quantify
from classifier.quantify import (REPRESENTATIVE_MIN, FittedQuantifiers, LabeledPosteriors, labels_of, posteriors,
                                 representative_rows, sample_at_prevalence)


def units(n_random_none: int, n_chosen_none: int = 50, n_network: int = 60, sme: bool = True) -> LabeledPosteriors:
    """`none` units drawn at random (weight 2, little network mass), `none` units the annotation loop chose
    (much network mass) and knowledge units, a few of them random."""
    n = n_random_none + n_chosen_none + n_network
    primary = ["none"] * (n_random_none + n_chosen_none) + ["knowledge"] * n_network
    sampling = (["random:cn"] * n_random_none + ["suggest:uncertainty"] * n_chosen_none
                + ["random:cn"] * 5 + ["enriched:cn"] * (n_network - 5))
    weight = [2.0] * n_random_none + [0.0] * n_chosen_none + [2.0] * 5 + [0.0] * (n_network - 5)
    knowledge = np.r_[np.full(n_random_none, 0.05), np.full(n_chosen_none, 0.6), np.full(n_network, 0.8)]
    predicted = pd.DataFrame({"p_production": 0.01, "p_knowledge": knowledge, "p_partnership": 0.01,
                              "p_cluster": 0.01, "p_lead_firm": 0.2, "p_network": 0.6, "p_neutral": 0.2,
                              "types": "knowledge", "primary": "knowledge", "orientation": "network"})
    truth = pd.DataFrame({"unit_id": [f"u{i}" for i in range(n)], "types": primary, "primary": primary,
                          "orientation": "network", "sampling": sampling, "design_weight": weight,
                          "sme_targeted": str(sme)})
    return LabeledPosteriors("zh", "measures", predicted, truth, np.arange(n) // 2)


def recording(fit, fitted_on: list, checked_on: list):
    """``fit_quantifier`` that records the posteriors each quantifier learns from and each sample it estimates."""
    def recording_fit(name, P, y):
        fitted_on.append(P)
        estimate = fit(name, P, y)
        return lambda Q: checked_on.append(Q) or estimate(Q)
    return recording_fit


def test_a_class_with_enough_random_units_is_stood_for_by_them_alone():
    labeled = units(n_random_none=REPRESENTATIVE_MIN)
    weights = labeled.draw_weights("primary")
    none = labeled.truth["primary"].eq("none").to_numpy()
    random = labeled.truth["sampling"].eq("random:cn").to_numpy()
    assert np.all(weights[none & random] == 2.0) and np.all(weights[none & ~random] == 0)
    assert np.all(weights[~none] == 1.0)  # five random knowledge units are too few: all of them, alike


def test_too_few_random_units_leave_the_class_to_all_its_units():
    labeled = units(n_random_none=REPRESENTATIVE_MIN - 1)
    assert np.all(labeled.draw_weights("primary") == 1.0)


def test_only_the_views_random_units_stand_for_it():
    labeled = units(n_random_none=REPRESENTATIVE_MIN, sme=False)
    assert np.all(labeled.draw_weights("primary", sme_only=True) == 1.0)
    assert not np.all(labeled.draw_weights("primary") == 1.0)


def test_a_sample_draws_a_class_from_its_weighted_units():
    y = np.array([0, 0, 0, 1, 1])
    weights = np.array([0.0, 1.0, 3.0, 0.0, 0.0])  # class 1: no weighted unit, so all of them alike
    drawn = sample_at_prevalence(y, np.array([0.5, 0.5]), 4000, np.random.default_rng(0), weights)
    first = drawn[y[drawn] == 0]
    assert set(first) == {1, 2} and abs(np.mean(first == 2) - 0.75) < 0.03
    assert set(drawn[y[drawn] == 1]) == {3, 4}


def test_representative_rows_keep_each_class_count_in_proportion_to_the_weights():
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    weights = np.array([0.0, 1.0, 3.0, 0.0, 1.0, 1.0, 1.0])
    rows = representative_rows(np.arange(7), y, weights)
    assert np.bincount(y[rows]).tolist() == [4, 3]
    assert sorted(rows[y[rows] == 0].tolist()) == [1, 2, 2, 2]
    assert sorted(rows[y[rows] == 1].tolist()) == [4, 5, 6]
    assert np.array_equal(rows, representative_rows(np.arange(7), y, weights))  # deterministic
    repeated = representative_rows(np.array([1, 1, 2, 4]), y, weights)  # a bootstrap resample's repeated rows
    assert np.bincount(y[repeated]).tolist() == [3, 1] and set(repeated[y[repeated] == 0]) <= {1, 2}


def test_quantifiers_learn_from_and_are_checked_on_the_units_standing_for_the_corpus(monkeypatch):
    """Chosen `none` units are neither in what a quantifier learns from nor in the held-out samples whose errors
    widen a report's intervals."""
    labeled = units(n_random_none=REPRESENTATIVE_MIN + 50)
    chosen = posteriors(labeled.predicted, "primary")[REPRESENTATIVE_MIN + 50]  # the first chosen unit's posteriors
    fitted_on, checked_on = [], []
    monkeypatch.setattr(quantify, "fit_quantifier", recording(quantify.fit_quantifier, fitted_on, checked_on))
    FittedQuantifiers(labeled).held_out_errors("PCC-BCTS", "primary", seed=0, splits=3, size=400, sme_only=True)
    assert len(fitted_on) == 3 and len(checked_on) == 3
    for P in fitted_on + checked_on:
        assert len(P) and not np.any(np.isclose(P, chosen).all(axis=1))
    assert all(len(Q) == 400 for Q in checked_on)


def test_a_fit_keeps_the_labeled_class_counts():
    labeled = units(n_random_none=REPRESENTATIVE_MIN + 50, n_chosen_none=70)
    rows = FittedQuantifiers(labeled).fit_rows("primary", np.arange(len(labeled)))
    y = labels_of(labeled.truth, "primary")
    assert np.array_equal(np.bincount(y[rows], minlength=5), np.bincount(y, minlength=5))


def test_the_benchmark_samples_and_fits_the_units_standing_for_the_corpus(monkeypatch):
    import argparse
    from test_quantify_protocols import bench_quantify

    bench = bench_quantify()
    labeled = units(n_random_none=5 * REPRESENTATIVE_MIN, n_chosen_none=200, n_network=100)
    chosen = posteriors(labeled.predicted, "primary")[5 * REPRESENTATIVE_MIN]
    seen = []
    monkeypatch.setattr(bench, "fit_quantifier", recording(bench.fit_quantifier, seen, seen))
    monkeypatch.setattr(bench, "ESTIMATORS", ("PCC",))
    monkeypatch.setattr(bench, "coverage", lambda *args, **kwargs: float("nan"))
    args = argparse.Namespace(samples=2, size=100, corpus_size=200, coverage_samples=0, replicates=2,
                              ppi_coverage_samples=0)
    bench.evaluate_target(labeled, "primary", args, np.random.default_rng(0))
    assert len(seen) > 5 + 5 * 2  # a fit per fold, then the samples of three protocols
    assert all(len(P) and not np.any(np.isclose(P, chosen).all(axis=1)) for P in seen)
