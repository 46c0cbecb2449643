"""The class mix a correction is validated at: the randomly sampled labels', not the enriched labeled set's."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from classifier.quantify import labeled_posteriors

ROOT = Path(__file__).resolve().parents[1]


def write_oof(directory: Path, sampling: list[str] | None, design_weight: list[float] | None = None,
              primary: list[str] | None = None) -> None:
    n = len(sampling or ["x"] * 4)
    ids = [f"u{i}" for i in range(n)]
    predicted = pd.DataFrame({"types": ["knowledge"] * n, "primary": ["knowledge"] * n, "orientation": ["network"] * n,
                              **{f"p_{c}": [0.25] * n for c in ("production", "knowledge", "partnership", "cluster")},
                              **{f"p_{o}": [1 / 3] * n for o in ("lead_firm", "network", "neutral")},
                              "unit_id": ids})
    truth = pd.DataFrame({"unit_id": ids, "corpus": "cn", "lang": "zh", "group": [f"d{i // 2}" for i in range(n)],
                          "primary": primary or "none", "orientation": "neutral", "types": primary or "none"})
    if sampling is not None:
        truth["sampling"] = sampling
    if design_weight is not None:
        truth["design_weight"] = design_weight
    predicted.to_csv(directory / "oof_predictions.csv", index=False)
    truth.to_csv(directory / "oof_truth.csv", index=False)


def test_standing_rows_are_the_units_sampled_at_random(tmp_path):
    write_oof(tmp_path, ["random:cn", "enriched:cn", "suggest:rare+uncertainty", "random:other"])
    labeled = labeled_posteriors(tmp_path)["zh"]
    assert labeled.standing_rows().tolist() == [0, 3]
    assert labeled.subset(np.array([3, 1])).standing_rows().tolist() == [0]


def test_the_corpus_mix_read_beside_a_model_is_weighted_by_design(tmp_path):
    write_oof(tmp_path, ["enriched:sme", "random:other", "random:other", "suggest:x"], [1.0, 9.0, 9.0, 0.0],
              primary=["knowledge", "none", "none", "knowledge"])
    labeled = labeled_posteriors(tmp_path)["zh"]
    assert labeled.standing_rows().tolist() == [0, 1, 2]
    mix = labeled.corpus_mix("primary")
    assert np.isclose(mix.max(), 18 / 19) and np.isclose(sorted(mix)[-2], 1 / 19)


def test_labels_without_strata_have_no_standing_rows(tmp_path):
    write_oof(tmp_path, None)
    assert labeled_posteriors(tmp_path)["zh"].standing_rows().tolist() == []


def bench_quantify():
    spec = importlib.util.spec_from_file_location("bench_quantify", ROOT / "benchmarks" / "bench_quantify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_estimator_is_chosen_at_the_corpus_mix_when_there_is_one():
    bench = bench_quantify()
    good_on_average = {"natural": {"tvd": 0.05}, "shifted": {"tvd": 0.10}, "corpus": {"tvd": 0.30}}
    good_at_corpus = {"natural": {"tvd": 0.06}, "shifted": {"tvd": 0.30}, "corpus": {"tvd": 0.10}}
    assert bench.selection_score(good_at_corpus) < bench.selection_score(good_on_average)
    del good_on_average["corpus"], good_at_corpus["corpus"]  # no random labels: natural and shifted averaged
    assert bench.selection_score(good_on_average) < bench.selection_score(good_at_corpus)
    from classifier.quantify import at_present
    assert np.allclose(at_present(np.array([0.5, 0.3, 0.2]), np.array([True, False, True])), [5 / 7, 0, 2 / 7])


def test_held_out_errors_are_measured_at_the_mix_of_the_random_labels(monkeypatch):
    """The errors that widen a corrected interval are drawn at the corpora's class mix (estimated by the labels
    sampled at random), not at the enriched labeled set's."""
    from classifier import quantify
    from synthetic_quantities import labeled

    units = labeled(np.random.default_rng(1), n=600)
    truth = units.truth.copy()
    truth["sampling"] = np.where(np.arange(len(truth)) % 3 == 0, "random:cn", "enriched:cn")
    units = quantify.LabeledPosteriors(units.lang, units.unit, units.predicted, truth, units.groups)
    fitted = quantify.FittedQuantifiers(units)
    y = quantify.labels_of(truth, "orientation")
    want = np.bincount(y[units.standing_rows()], minlength=4) / len(units.standing_rows())
    drawn_at = []
    real = quantify.sample_at_prevalence
    monkeypatch.setattr(quantify, "sample_at_prevalence", lambda labels, p, size, rng, weights=None:
                        drawn_at.append((p, size)) or real(labels, p, size, rng, weights))
    assert np.allclose(units.corpus_mix("orientation"), want)
    errors = fitted.held_out_errors("PCC", "orientation", seed=0, splits=3, size=777)
    assert len(errors) == 3 and len(drawn_at) == 3
    assert all(np.allclose(p, want, atol=0.05) and size == 777 for p, size in drawn_at)  # the analysed corpus's size
