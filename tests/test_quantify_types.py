"""Per-type corrections (target ``type:<label>``): the adjusted rate of each network type beats raw counting.

Kills mutants that swap the two binary rates of a type's correction: the present/absent posterior columns,
the present/absent labels, or the class read out as the rate.
"""
import numpy as np
import pytest

from classifier.codebook import LABELS, parse_types
from classifier.quantify import estimate_shares

from synthetic_quantities import labeled, units

CORPUS_PRIMARY = (0.35, 0.15, 0.15, 0.05, 0.30)  # shifted from the labeled prevalence (0.1, 0.2, 0.1, 0.1, 0.5)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(5)
    corpus, truth = units(rng, 4000, CORPUS_PRIMARY, (0.45, 0.45, 0.10))
    return labeled(rng), corpus, truth


@pytest.mark.parametrize("label", LABELS)
def test_acc_type_rate_is_closer_to_the_truth_than_raw_counting(world, label):
    labeled_units, corpus, truth = world
    true_rate = truth["types"].map(lambda t: label in parse_types(t)).mean()
    raw_rate = corpus["types"].map(lambda t: label in parse_types(t)).mean()
    estimate = estimate_shares("ACC", f"type:{label}", corpus, labeled_units)["type_rate"][label]
    assert abs(estimate - true_rate) < abs(raw_rate - true_rate), (label, true_rate, raw_rate, estimate)
    assert abs(estimate - true_rate) < 0.02


def test_the_under_read_type_is_corrected_upwards(world):
    """The synthetic classifier under-reads partnership (as the real one does): raw counting halves it."""
    labeled_units, corpus, truth = world
    true_rate = (truth.primary == "partnership").mean()
    raw_rate = corpus["types"].map(lambda t: "partnership" in parse_types(t)).mean()
    estimate = estimate_shares("ACC", "type:partnership", corpus, labeled_units)["type_rate"]["partnership"]
    assert raw_rate < 0.7 * true_rate and estimate > raw_rate + 0.5 * (true_rate - raw_rate)


@pytest.mark.parametrize("label", LABELS)
def test_classify_and_count_of_a_type_is_its_raw_rate(world, label):
    """CC reads the posterior columns as they are: swapping 'present' and 'absent' there makes it count the
    complement (ACC, which inverts the learned error rates, would hide such a swap)."""
    labeled_units, corpus, _ = world
    raw_rate = corpus["types"].map(lambda t: label in parse_types(t)).mean()
    assert estimate_shares("CC", f"type:{label}", corpus, labeled_units)["type_rate"][label] == pytest.approx(raw_rate)
