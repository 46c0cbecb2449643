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


def test_chosen_labels_stand_for_themselves_and_random_ones_for_the_rest_of_their_cell():
    # other:untagged holds 100 initiatives: one chosen (suggest:rare) and two random ones for the other 99
    units = pd.DataFrame({
        "sampling": ["enriched:sme", "enriched:sme", "random:other", "random:other", "suggest:rare", "random:cn",
                     "enriched:cn"],
        "cell": ["sme:tagged", "sme:tagged", "other:untagged", "other:untagged", "other:untagged", None, None],
        "cell_size": [2, 2, 100, 100, 100, np.nan, np.nan],
    })
    assert design_weights(units).tolist() == [1.0, 1.0, 49.5, 49.5, 1.0, 1.0, 0.0]
    assert design_weights(units.drop(columns=["cell", "cell_size"])).tolist() == [1, 1, 1, 1, 0, 1, 0]


def test_chosen_labels_of_a_cell_never_drawn_at_random_stand_for_nothing():
    units = pd.DataFrame({"sampling": ["suggest:rare", "enriched:cn", "random:cn"],
                          "cell": ["cn:out:other", "cn:pool:sme", "cn:pool:sme"], "cell_size": [500, 10, 10]})
    assert design_weights(units).tolist() == [0.0, 1.0, 9.0]
    assert design_weights(units.assign(round="9")).tolist() == [0.0, 1.0, 9.0]  # the same when rounds are known


def test_the_corpus_mix_weights_each_random_label_by_design():
    n = 4
    truth = pd.DataFrame({"unit_id": list("abcd"), "primary": ["knowledge", "none", "none", "none"],
                          "types": [["knowledge"], [], [], []],
                          "orientation": ["network", "neutral", "neutral", "neutral"],
                          "sampling": ["enriched:sme", "random:other", "random:other", "suggest:x"],
                          "design_weight": [1.0, 9.0, 9.0, 0.0]})
    labeled = LabeledPosteriors("en", "documents", pd.DataFrame(index=range(n)), truth, np.arange(n))
    assert labeled.standing_rows().tolist() == [0, 1, 2]
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
    assert labeled.standing_rows(sme_only=True).tolist() == [0, 2, 3]
    assert np.isclose(labeled.corpus_mix("primary", sme_only=True).max(), 2 / 3)
    assert np.isclose(labeled.corpus_mix("primary").max(), 10 / 12)


def chinese_corpus(folder, fixtures_law: str) -> None:
    """Three documents, one per cell: an SME law in the pool, a law outside it about SMEs (named three times,
    title outside the pool's rule) and one outside it about something else."""
    laws = folder / "cn" / "laws"
    laws.mkdir(parents=True)
    (laws / "sme.md").write_text(fixtures_law, encoding="utf-8")
    body = "\n\n".join(f"第{n}条 {text}" for n, text in enumerate(
        ["为了规范合同行为，保护当事人的合法权益，制定本法。", "中小企业与大企业订立合同，应当遵循公平原则。",
         "中小企业的合法权益受法律保护，任何单位不得侵犯中小企业的财产。"], 1))
    (laws / "contract.md").write_text(f"# 示例合同法\n\n<!-- INFO END -->\n\n{body}\n", encoding="utf-8")
    (laws / "roads.md").write_text("# 示例道路交通安全法\n\n<!-- INFO END -->\n\n第一条 为了维护道路交通秩序，预防和减少交通事故，"
                                   "保护人身安全，制定本法。\n\n第二条 车辆驾驶人应当遵守道路交通安全法律、法规的规定。\n",
                                   encoding="utf-8")


def test_chinese_measures_carry_the_cell_of_their_document_and_its_size(tmp_path):
    from classifier.annotate.units import read_units

    chinese_corpus(tmp_path, (FIXTURES / "law_zh.md").read_text(encoding="utf-8"))
    units = read_units([f"cn={tmp_path / 'cn'}"])
    per_doc = units.groupby("doc_id").size()
    keyed = units.groupby("doc_id").head(1)[["unit_id", "doc_id", "start", "end", "text_sha1"]].assign(
        types=[[]] * 3, primary="none", orientation="neutral", sampling="random:cn-sme")
    joined = join_keyed_labels(keyed, tmp_path).set_index("doc_id")
    cells = joined["cell"].to_dict()
    assert cells == {"cn/laws/sme.md": "cn:pool:sme", "cn/laws/contract.md": "cn:out:sme",
                     "cn/laws/roads.md": "cn:out:other"}
    assert joined["cell_size"].to_dict() == {doc: per_doc[doc] for doc in cells}  # candidate measures of the cell
    assert design_weights(joined.reset_index()).tolist() == [float(per_doc[doc]) for doc in joined.index]


def test_the_last_random_draw_of_a_cell_stands_for_its_rest_and_earlier_draws_for_themselves():
    from classifier.sampling import design_roles

    # cn:pool:sme: an early random draw (round 1), a chosen unit (round 4), then a random draw of the rest (round 8)
    units = pd.DataFrame({"sampling": ["random:cn", "random:cn", "suggest:rare", "random:cn-sme", "random:cn-sme"],
                          "cell": ["cn:pool:sme"] * 5, "cell_size": [100] * 5, "round": ["1", "2", "4", "8", "8"]})
    assert design_roles(units).tolist() == ["self", "self", "self", "rest", "rest"]
    assert design_weights(units).tolist() == [1.0, 1.0, 1.0, 48.5, 48.5]  # (100 - 3 known) / 2
    # without rounds every random unit of the cell is one draw
    assert design_roles(units.drop(columns="round")).tolist() == ["rest", "rest", "self", "rest", "rest"]


def test_a_stratum_drawn_again_in_a_later_round_is_a_new_draw_that_can_alone_stand_for_the_rest():
    from classifier.sampling import design_roles

    # round 9 chose a unit from the rest round 8's draw had sampled, then drew the same stratum again from what was left
    units = pd.DataFrame({"sampling": ["random:cn-sme"] * 2 + ["suggest:rare"] + ["random:cn-sme"] * 3,
                          "cell": ["cn:pool:sme"] * 6, "cell_size": [50] * 6, "round": ["8", "8", "9", "9", "9", "9"]})
    # round 8: 50 units, 2 drawn (variance 50*48/2 = 1200); round 9: 47 left, 3 drawn (47*44/3 = 689): round 9 stands
    assert design_roles(units).tolist() == ["self", "self", "self", "rest", "rest", "rest"]
    assert design_weights(units).round(3).tolist() == [1.0, 1.0, 1.0, 15.667, 15.667, 15.667]  # (50 - 3 known) / 3


def test_units_labeled_after_the_standing_draw_stand_for_nothing():
    from classifier.sampling import design_roles

    # other:tagged: round 3 drew 4 of 20 records at random; round 6 drew 1 at random, then chose 2 from the same rest
    # (its random stratum came first); round 9 chose 1 more
    units = pd.DataFrame({"sampling": ["enriched:other"] * 4 + ["random:other", "suggest:rare", "suggest:rare",
                                                                 "suggest:rare"],
                          "cell": ["other:tagged"] * 8, "cell_size": [20] * 8,
                          "round": ["3"] * 4 + ["6", "6", "6", "9"]})
    # round 3: 20 units, 4 drawn (20*16/4 = 80); round 6: 16 left, 1 drawn (16*15/1 = 240): round 3 stands for all 20,
    # the units labeled after it are in the rest it stands for
    assert design_roles(units).tolist() == ["rest"] * 4 + [""] * 4
    assert design_weights(units).tolist() == [5.0] * 4 + [0.0] * 4


def test_a_round_that_drew_at_random_first_leaves_its_choices_to_the_draw():
    from classifier.sampling import RANDOM_DRAWN_FIRST, design_roles

    def roles_and_weights(round_):
        units = pd.DataFrame({"sampling": ["random:cn"] * 3 + ["suggest:rare"] * 2, "cell": ["cn:pool:other"] * 5,
                              "cell_size": [10] * 5, "round": [round_] * 5})
        return design_roles(units).tolist(), design_weights(units).round(3).tolist()

    assert "4" in RANDOM_DRAWN_FIRST and "9" not in RANDOM_DRAWN_FIRST
    # round 4 drew 3 of 10 and then chose 2 of the 7 the draw stands for; round 9 chose 2 and then drew 3 of the 8 left
    assert roles_and_weights("4") == (["rest"] * 3 + [""] * 2, [3.333] * 3 + [0.0] * 2)
    assert roles_and_weights("9") == (["rest"] * 3 + ["self"] * 2, [2.667] * 3 + [1.0] * 2)


def test_labels_without_a_round_come_before_every_round_and_two_strata_of_a_round_are_two_draws():
    from classifier.sampling import design_roles

    units = pd.DataFrame({"sampling": ["random:cn", "suggest:rare", "random:cn", "random:cn-sme", "random:cn-sme"],
                          "cell": ["cn:pool:sme"] * 5, "cell_size": [40] * 5, "round": ["", None, "9", "9", "9"]})
    # round 0 (no round): 1 of 40 drawn (40*39 = 1560); round 9 random:cn: 38 left, 1 drawn (38*37 = 1406);
    # round 9 random:cn-sme: 38 left, 2 drawn (38*36/2 = 684), and the other stratum of its round stands for nothing
    assert design_roles(units).tolist() == ["self", "self", "", "rest", "rest"]
    reordered = units.iloc[::-1].reset_index(drop=True)
    assert design_roles(reordered).tolist() == ["rest", "rest", "", "self", "self"]  # row order changes nothing
