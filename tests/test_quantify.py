import numpy as np
import pytest

from classifier.quantify import (ESTIMATORS, JOINT_CLASSES, estimate_shares, bootstrap_shares, labels_of,
                                 posteriors, renormalised, total_variation)

from synthetic_quantities import labeled, true_shares, units

CORPUS_PRIMARY = (0.35, 0.15, 0.15, 0.05, 0.30)  # far from the labeled prevalence (0.1, 0.2, 0.1, 0.1, 0.5)
CORPUS_DRIVERS = (0.45, 0.45, 0.10)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(5)
    corpus, truth = units(rng, 4000, CORPUS_PRIMARY, CORPUS_DRIVERS)
    return labeled(rng), corpus, truth


def raw_shares(corpus):
    network = corpus[corpus.primary != "none"]
    return {"primary": np.array([(network.primary == l).mean() for l in ("production", "knowledge", "partnership", "cluster")]),
            "orientation": np.array([(network.orientation == o).mean() for o in ("lead_firm", "network", "neutral")])}


SHIFT_CORRECTING = [n for n in ESTIMATORS if not n.startswith(("CC", "PCC"))]  # PCC assumes the labeled prevalence


@pytest.mark.parametrize("name", SHIFT_CORRECTING)
def test_each_estimator_recovers_shifted_shares_better_than_raw_counting(world, name):
    labeled_units, corpus, truth = world
    want, raw = true_shares(truth), raw_shares(corpus)
    primary = estimate_shares(name, "primary", corpus, labeled_units)["primary_share_of_network"]
    orientation = estimate_shares(name, "orientation", corpus, labeled_units)["orientation_share_of_network"]
    got = {"primary": np.array(list(primary.values())), "orientation": np.array(list(orientation.values()))}
    for target in ("primary", "orientation"):
        assert total_variation(got[target], want[target]) < 0.7 * total_variation(raw[target], want[target]), target


def test_classify_and_count_is_exactly_the_raw_share(world):
    labeled_units, corpus, _ = world
    primary = estimate_shares("CC", "primary", corpus, labeled_units)["primary_share_of_network"]
    raw = raw_shares(corpus)["primary"]
    # CC counts the argmax of the primary posterior, which the synthetic decision matches wherever a type is assigned
    assert total_variation(np.array(list(primary.values())), raw) < 0.05


def test_targets_are_built_from_the_codebook_structure(world):
    labeled_units, corpus, truth = world
    P = posteriors(corpus, "orientation")
    assert P.shape == (len(corpus), len(JOINT_CLASSES)) and np.allclose(P.sum(axis=1), 1)
    joint = labels_of(truth, "orientation")
    assert set(np.unique(joint)) <= set(range(4)) and (joint[truth.primary.to_numpy() == "none"] == 0).all()
    assert np.allclose(renormalised(np.array([0.5, 0.1, 0.3, 0.1]), "orientation"), [0.2, 0.6, 0.2])


def test_bootstrap_intervals_cover_the_truth_in_a_small_simulation():
    """Over independent worlds with a pure shift of the drivers, the 90% interval (labels and corpus resampled)
    holds the true lead-firm share about as often as it should; at this size it can only catch gross failure
    (an interval from the corpus alone, ignoring the labels' uncertainty, covers far less)."""
    hits = []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        corpus, truth = units(rng, 600, (0.1, 0.2, 0.1, 0.1, 0.5), CORPUS_DRIVERS)
        labeled_units = labeled(rng, n=900)
        draws = bootstrap_shares("PACC", "orientation", corpus, np.arange(len(corpus)) // 2, labeled_units, 40, seed)
        lead = [d["orientation_share_of_network.lead_firm"] for d in draws]
        low, high = np.percentile(lead, [5, 95])
        hits.append(low <= true_shares(truth)["orientation"][0] <= high)
    assert np.mean(hits) >= 0.75


def test_emq_bcts_gives_a_number_on_scores_rounded_to_zero(world):
    """Tagged documents store scores rounded to four decimals, so many p_lead_firm are exactly 0.0; BCTS
    recalibration takes logarithms, and a single zero made EMQ-BCTS return NaN for the whole corpus."""
    labeled_units, corpus, truth = world
    rounded = corpus.copy()
    columns = [c for c in corpus if c.startswith("p_")]
    rounded[columns] = rounded[columns].round(4)
    rounded.loc[rounded.index[:50], "p_lead_firm"] = 0.0
    for target in ("primary", "orientation"):
        P = posteriors(rounded, target)
        assert (P > 0).all() and np.allclose(P.sum(axis=1), 1), target
    shares = estimate_shares("EMQ-BCTS", "orientation", rounded, labeled_units)["orientation_share_of_network"]
    got = np.array(list(shares.values()))
    assert np.isfinite(got).all()
    assert total_variation(got, true_shares(truth)["orientation"]) < 0.7 * total_variation(
        raw_shares(corpus)["orientation"], true_shares(truth)["orientation"])


def test_pcc_is_unbiased_where_raw_counting_is_not_when_posteriors_are_calibrated():
    """Without prior shift, the mean of calibrated posteriors is the expected share, while counting argmaxes
    over-counts the classes the classifier favours (here the common ones)."""
    from classifier.quantify import fit_quantifier

    rng = np.random.default_rng(11)
    P = rng.dirichlet(np.full(5, 0.6) * np.array([1, 2, 1, 0.5, 4]), size=6000)
    y = np.array([rng.choice(5, p=row) for row in P])  # labels drawn from the posteriors: calibrated by construction
    labeled, sample = slice(0, 3000), slice(3000, None)
    truth = np.bincount(y[sample], minlength=5) / 3000
    pcc = fit_quantifier("PCC", P[labeled], y[labeled])(P[sample])
    cc = fit_quantifier("CC", P[labeled], y[labeled])(P[sample])
    assert total_variation(pcc, truth) < 0.02 < total_variation(cc, truth)


def test_pcc_bcts_learns_the_recalibration_from_the_labels_where_plain_pcc_cannot():
    """Overconfident posteriors (sharpened by a temperature) bias the plain mean; recalibrating them on the
    labeled units first (BCTS) removes most of the bias, and so the labels, resampled, move its intervals."""
    from classifier.quantify import fit_quantifier

    rng = np.random.default_rng(12)
    calibrated = rng.dirichlet(np.full(5, 0.6) * np.array([1, 2, 1, 0.5, 4]), size=6000)
    y = np.array([rng.choice(5, p=row) for row in calibrated])
    sharp = calibrated ** 3 / (calibrated ** 3).sum(axis=1, keepdims=True)
    labeled, sample = slice(0, 3000), slice(3000, None)
    truth = np.bincount(y[sample], minlength=5) / 3000
    pcc = fit_quantifier("PCC", sharp[labeled], y[labeled])(sharp[sample])
    recalibrated = fit_quantifier("PCC-BCTS", sharp[labeled], y[labeled])(sharp[sample])
    assert total_variation(recalibrated, truth) < 0.5 * total_variation(pcc, truth)
    assert total_variation(recalibrated, truth) < 0.03


def test_an_estimate_with_no_number_is_the_worst_share_error_not_a_perfect_one():
    assert total_variation(np.array([np.nan, np.nan, np.nan]), np.array([0.2, 0.5, 0.3])) == 1.0
    assert total_variation(np.array([0.2, 0.5, 0.3]), np.array([0.3, 0.5, 0.2])) == pytest.approx(0.1)


def test_a_corrected_interval_reaches_as_far_as_the_held_out_errors_and_never_narrows_the_bootstrap():
    from classifier.quantify import corrected_interval

    narrow = np.linspace(0.29, 0.31, 200)  # the resampling alone: +-1 point
    errors = np.r_[np.full(96, 0.05), np.full(4, -0.2)]  # held-out errors: 96% within 5 points
    low, high = corrected_interval(0.3, narrow, errors, level=0.95)
    assert low == pytest.approx(0.25) and high == pytest.approx(0.35)
    wide = np.linspace(0.1, 0.5, 201)
    assert corrected_interval(0.3, wide, errors, level=0.95) == pytest.approx((0.11, 0.49), abs=1e-9)
    assert corrected_interval(0.3, narrow, [], level=0.95) == pytest.approx((0.2905, 0.3095), abs=1e-4)
    assert corrected_interval(float("nan"), narrow, errors) is None and corrected_interval(0.3, [np.nan], errors) is None


def test_held_out_errors_come_from_documents_the_estimator_was_not_fitted_on(monkeypatch):
    from classifier import quantify

    rng = np.random.default_rng(8)
    units_ = labeled(rng, n=900)  # three units per document
    seen = []

    def memorising_fit(name, P, y):
        fitted_rows = {tuple(row) for row in P}

        def estimate(Q):
            seen.append((np.mean([tuple(row) in fitted_rows for row in Q]), len(Q), len(P)))
            return np.bincount(y, minlength=P.shape[1]) / len(y)
        return estimate

    monkeypatch.setattr(quantify, "fit_quantifier", memorising_fit)
    errors = quantify.FittedQuantifiers(units_).held_out_errors("PACC", "orientation", seed=1)
    assert len(errors) == quantify.HELD_OUT_SPLITS and len(seen) == quantify.HELD_OUT_SPLITS
    assert all(overlap == 0 and (held + fitted) == 900 and held % 3 == 0 for overlap, held, fitted in seen)
    assert 0.15 < np.mean([held / 900 for _, held, _ in seen]) < 0.25
    assert any(abs(e["orientation_share_of_network.lead_firm"]) > 0 for e in errors)


def test_a_widened_interval_stays_within_what_a_share_or_a_difference_can_be():
    from classifier.quantify import corrected_interval

    errors = np.full(50, 0.3)
    assert corrected_interval(0.1, np.linspace(0.05, 0.15, 50), errors) == pytest.approx((0.0, 0.4))
    assert corrected_interval(-0.9, np.linspace(-0.95, -0.85, 50), errors, bounds=(-1, 1)) == pytest.approx((-1.0, -0.6))


def test_kdey_bootstrap_from_cached_kernels_equals_quapy_refitted_per_replicate(world):
    """The report's KDEy-ML replicates reuse one kernel matrix; each must be what QuaPy's KDEyML, fitted on that
    replicate's labeled resample and applied to its corpus resample, returns."""
    from classifier.quantify import CORPUS_STREAM, FittedQuantifiers, group_members, resample_groups
    labeled_units, corpus, _ = world
    corpus = corpus.iloc[:400].reset_index(drop=True)
    groups = np.arange(len(corpus)) // 4
    fast = bootstrap_shares("KDEy-ML", "orientation", corpus, groups, labeled_units, 4, seed=3)
    fitted = FittedQuantifiers(labeled_units)
    rng = np.random.default_rng([3, CORPUS_STREAM])  # the stream bootstrap_shares draws the corpus from
    members, P = group_members(groups), posteriors(corpus, "orientation")
    for k, quantify in enumerate(fitted.replicates("KDEy-ML", "orientation", 4, seed=3)):
        slow = quantify(P[resample_groups(members, rng)])
        got = np.array([fast[k][f"orientation_share_of_network.{o}"] for o in ("lead_firm", "network", "neutral")])
        assert np.allclose(got, renormalised(slow, "orientation"), atol=1e-6)
    assert len({round(d["orientation_share_of_network.lead_firm"], 6) for d in fast}) > 1  # replicates differ


def test_shares_among_network_units_never_leave_zero_to_one():
    """1 - 0.9 is 0.0999...98 in floating point: a lone network class's share came out at 1.0000000000000002,
    outside its own interval clipped to [0, 1], and the real-corpora report stopped."""
    from classifier.quantify import shares
    orientation = shares("orientation", np.array([0.9, 0.0, 0.1, 0.0]))["orientation_share_of_network"]
    primary = shares("primary", np.array([0.0, 0.1, 0.0, 0.0, 0.9]))["primary_share_of_network"]
    assert orientation["network"] == 1.0 and primary["knowledge"] == 1.0


def test_kdey_on_distinct_rows_equals_quapys_kdeyml_on_the_whole_sample():
    """KDEy-ML scores each distinct row of a sample once and counts its repeats; QuaPy's KDEyML, fitted on the
    same labeled posteriors, scores every row: the class mix must be the same."""
    from quapy.method._kdey import KDEyML

    from classifier.quantify import KDEY_BANDWIDTH, Posteriors, fit_quantifier
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 300)
    P = np.clip(np.eye(3)[y] * 0.6 + rng.dirichlet(np.ones(3), 300) * 0.4, 1e-6, None)
    P = P / P.sum(axis=1, keepdims=True)
    sample = P[rng.choice(300, 900)]  # drawn with replacement: rows repeat, as in the held-out samples
    quapy = KDEyML(classifier=Posteriors(3).fit(None), fit_classifier=False, val_split=None,
                   bandwidth=KDEY_BANDWIDTH, random_state=0).fit(P, y)
    ours = fit_quantifier("KDEy-ML", P, y)(sample)
    assert np.allclose(ours, quapy.quantify(sample), atol=1e-4)
    assert len(np.unique(sample, axis=0)) < len(sample)
