from classifier.aggregate import aggregate_document, aims_at_lead_firms
from classifier.codebook import document_orientation, document_types, label_problems
from classifier.featurize import Lexicon, default_lexicon


def test_types_are_the_union_and_primary_the_most_frequent():
    types, primary = document_types([["knowledge"], [], ["production", "knowledge"], ["production"], ["production"]])
    assert types == ["production", "knowledge"] and primary == "production"


def test_primary_tie_goes_to_the_earlier_measure():
    assert document_types([["cluster"], ["knowledge"]])[1] == "cluster"
    assert document_types([["knowledge"], ["cluster"]])[1] == "knowledge"


def test_no_typed_measure_means_none_and_neutral():
    assert aggregate_document([[], []], ["neutral", "neutral"], "", default_lexicon()) == \
        {"types": [], "primary": "none", "orientation": "neutral"}


def test_orientation_majority_of_non_neutral_measures():
    assert document_orientation(["neutral", "neutral", "lead_firm"]) == "lead_firm"
    assert document_orientation(["network", "network", "lead_firm", "neutral"]) == "network"
    assert document_orientation(["neutral"]) == "neutral"


def test_orientation_tie_goes_to_lead_firm_only_when_the_aim_is_large_firm_leadership():
    tie = ["lead_firm", "network"]
    lexicon = default_lexicon()
    assert aggregate_document([["production"]] * 2, tie, "关于促进中小企业发展的若干措施", lexicon)["orientation"] == "network"
    assert aggregate_document([["production"]] * 2, tie, "关于促进大中小企业融通创新的实施方案", lexicon)["orientation"] == "lead_firm"
    assert aggregate_document([["production"]] * 2, tie, "Lead firm supplier development programme", lexicon)["orientation"] == "lead_firm"


def test_the_tie_break_reads_the_title_with_the_models_own_lexicon():
    own = Lexicon([{"concept": "anchor", "label": "lead_firm", "phrase": "flagship"}])
    assert aims_at_lead_firms("Flagship supplier programme", own)
    assert not aims_at_lead_firms("Flagship supplier programme", default_lexicon())


def test_label_problems_name_each_breach_of_the_codebook():
    assert label_problems(["production"], "production", "lead_firm") == []
    assert label_problems([], "none", "neutral") == []
    assert "type none requires orientation neutral" in label_problems([], "none", "network")
    assert any("does not fit" in p for p in label_problems(["knowledge"], "cluster", "network"))
    assert any("does not fit" in p for p in label_problems(["knowledge"], "none", "network"))
    assert any("unknown network type" in p for p in label_problems(["supply"], "supply", "network"))
    assert any("unknown orientation" in p for p in label_problems(["knowledge"], "knowledge", "lead"))
