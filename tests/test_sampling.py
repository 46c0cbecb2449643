"""The sampling design: random labels count for the share of the corpus their cell is."""
import shutil

import numpy as np
import pandas as pd

from classifier.labels import join_keyed_labels
from classifier.quantify import LabeledPosteriors
from classifier.sampling import design_weights, latest_wave_cells, stip_cell
from conftest import FIXTURES


def test_a_record_is_placed_in_its_cell_by_target_group_and_network_tags():
    assert stip_cell({"sme_targeted": True, "stip_tags": "TG31;TH47"}) == "sme:tagged"
    assert stip_cell({"sme_targeted": True, "stip_tags": "TG31"}) == "sme:untagged"
    assert stip_cell({"sme_targeted": False, "stip_tags": "F73:V59"}) == "other:tagged"
    assert stip_cell({"sme_targeted": False, "stip_tags": None}) == "other:untagged"


def test_cells_count_each_initiative_once_at_its_latest_wave():
    records = [("1", 2019, {"stip_tags": "TH47"}), ("1", 2021, {"stip_tags": ""}), ("2", 2021, {"stip_tags": "TH42"})]
    assert latest_wave_cells(records) == {"other:untagged": 1, "other:tagged": 1}


def test_design_weights_scale_random_labels_to_their_cells_size():
    units = pd.DataFrame({
        "sampling": ["enriched:sme", "enriched:sme", "random:other", "random:other", "suggest:rare", "random:cn",
                     "enriched:cn"],
        "cell": ["sme:tagged", "sme:tagged", "other:untagged", "other:untagged", "other:untagged", None, None],
        "cell_size": [2, 2, 100, 100, 100, np.nan, np.nan],
    })
    assert design_weights(units).tolist() == [1.0, 1.0, 50.0, 50.0, 0.0, 1.0, 0.0]
    assert design_weights(units.drop(columns=["cell", "cell_size"])).tolist() == [1, 1, 1, 1, 0, 1, 0]


def test_the_corpus_mix_weights_each_random_label_by_design():
    n = 4
    truth = pd.DataFrame({"unit_id": list("abcd"), "primary": ["knowledge", "none", "none", "none"],
                          "types": [["knowledge"], [], [], []],
                          "orientation": ["network", "neutral", "neutral", "neutral"],
                          "sampling": ["enriched:sme", "random:other", "random:other", "suggest:x"],
                          "design_weight": [1.0, 9.0, 9.0, 0.0]})
    labeled = LabeledPosteriors("en", "documents", pd.DataFrame(index=range(n)), truth, np.arange(n))
    assert labeled.random_rows().tolist() == [0, 1, 2]
    mix = labeled.corpus_mix("primary")
    assert np.isclose(mix.sum(), 1) and np.isclose(mix.max(), 18 / 19) and np.isclose(sorted(mix)[-2], 1 / 19)


def test_labeled_stip_records_carry_their_cell_and_its_size(tmp_path):
    (tmp_path / "oecd").mkdir()
    shutil.copy(FIXTURES / "stip_mini.csv", tmp_path / "oecd" / "stip_mini.csv")
    labels = pd.DataFrame({"unit_id": ["stip:502:2021", "stip:503:2021"], "types": [["cluster"], []],
                           "primary": ["cluster", "none"], "orientation": ["network", "neutral"],
                           "sampling": ["enriched:sme", "random:other"]})
    joined = join_keyed_labels(labels, tmp_path).set_index("unit_id")
    assert joined.loc["stip:502:2021", "cell"] == "sme:tagged" and joined.loc["stip:502:2021", "cell_size"] == 1
    assert joined.loc["stip:503:2021", "cell"] == "other:untagged" and joined.loc["stip:503:2021", "cell_size"] == 1
    assert design_weights(joined).tolist() == [1.0, 1.0]


def test_the_sme_view_mix_counts_only_random_labels_of_sme_targeted_documents():
    truth = pd.DataFrame({"unit_id": list("abcd"), "primary": ["knowledge", "none", "none", "knowledge"],
                          "types": [["knowledge"], [], [], ["knowledge"]],
                          "orientation": ["network", "neutral", "neutral", "network"],
                          "sampling": ["random:sme", "random:other", "random:sme", "random:sme"],
                          "design_weight": [1.0, 9.0, 1.0, 1.0], "sme_targeted": [True, False, True, True]})
    labeled = LabeledPosteriors("en", "documents", pd.DataFrame(index=range(4)), truth, np.arange(4))
    assert labeled.random_rows(sme_only=True).tolist() == [0, 2, 3]
    assert np.isclose(labeled.corpus_mix("primary", sme_only=True).max(), 2 / 3)
    assert np.isclose(labeled.corpus_mix("primary").max(), 10 / 12)
