"""The bootstrap resamples whole documents: every drawn group comes with all of its rows."""
import numpy as np

from classifier.quantify import group_members, resample_groups


def test_members_are_each_groups_rows_in_order_of_first_appearance():
    groups = np.array(["b", "a", "b", "c", "a", "b"])
    members = group_members(groups)
    assert [m.tolist() for m in members] == [[0, 2, 5], [1, 4], [3]]
    assert group_members(np.array([], dtype=object)) == []


def test_a_resample_is_made_of_whole_groups_as_many_as_there_are():
    groups = np.repeat(np.arange(50), np.arange(1, 51))  # group k has k+1 rows
    members = group_members(groups)
    rows = resample_groups(members, np.random.default_rng(0))
    drawn = groups[rows]
    values, counts = np.unique(drawn, return_counts=True)
    assert all(c % (v + 1) == 0 for v, c in zip(values, counts))  # each drawn group whole, possibly repeated
    assert sum(c // (v + 1) for v, c in zip(values, counts)) == 50


def test_labeled_resamples_are_fitted_once_for_every_view_and_corpus_of_a_language(monkeypatch):
    """A report asks for the same language's corrected intervals once per view and corpus; refitting the
    quantifier (EMQ-BCTS recalibrates) on every labeled resample each time made a report take minutes."""
    import pandas as pd

    from classifier import quantify
    from synthetic_quantities import labeled, units

    rng = np.random.default_rng(3)
    labeled_units = labeled(rng, n=300)
    fitted = quantify.FittedQuantifiers(labeled_units)
    calls = []
    real_fit = quantify.fit_quantifier
    monkeypatch.setattr(quantify, "fit_quantifier", lambda *a: calls.append(a[0]) or real_fit(*a))
    corpora = [units(rng, 200, (0.1, 0.2, 0.1, 0.1, 0.5), (0.3, 0.5, 0.2))[0] for _ in range(2)]
    draws = [quantify.bootstrap_shares("PACC", "orientation", corpus, np.arange(len(corpus)) // 4, labeled_units, 15,
                                       seed=7, fitted=fitted) for corpus in (*corpora, corpora[0])]
    assert len(calls) == 15  # each labeled resample fitted once
    assert draws[0] == draws[2]  # the same corpus and seed: the same intervals
    assert draws[0] != draws[1]
    alone = quantify.bootstrap_shares("PACC", "orientation", corpora[0], np.arange(200) // 4, labeled_units, 15, seed=7)
    assert pd.DataFrame(alone).equals(pd.DataFrame(draws[0]))  # sharing changes no figure
