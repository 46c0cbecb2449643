from classifier.aggregate import aggregate_document, document_orientation, document_types


def test_types_are_the_union_and_primary_the_most_frequent():
    types, primary = document_types([["knowledge"], [], ["production", "knowledge"], ["production"], ["production"]])
    assert types == ["production", "knowledge"] and primary == "production"


def test_primary_tie_goes_to_the_earlier_measure():
    assert document_types([["cluster"], ["knowledge"]])[1] == "cluster"
    assert document_types([["knowledge"], ["cluster"]])[1] == "knowledge"


def test_no_typed_measure_means_none_and_neutral():
    assert aggregate_document([[], []], ["neutral", "neutral"]) == {"types": [], "primary": "none", "orientation": "neutral"}


def test_orientation_majority_of_non_neutral_measures():
    assert document_orientation(["neutral", "neutral", "lead_firm"]) == "lead_firm"
    assert document_orientation(["network", "network", "lead_firm", "neutral"]) == "network"
    assert document_orientation(["neutral"]) == "neutral"


def test_orientation_tie_goes_to_lead_firm_only_when_the_aim_is_large_firm_leadership():
    tie = ["lead_firm", "network"]
    assert document_orientation(tie, title="关于促进中小企业发展的若干措施") == "network"
    assert document_orientation(tie, title="关于促进大中小企业融通创新的实施方案") == "lead_firm"
    assert document_orientation(tie, title="Lead firm supplier development programme") == "lead_firm"
