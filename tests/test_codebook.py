"""The codebook's vocabulary and aggregation rules, written for the mutants a mutmut run left alive
(docs/mutation.md): comma-separated types, problem messages, ties, default arguments, none implies neutral."""
from classifier.codebook import (aggregate_labels, document_orientation, document_types, format_types,
                                 label_problems, parse_types)


def test_types_parse_from_every_stored_form():
    assert parse_types("production,knowledge") == ["production", "knowledge"]
    assert parse_types("production; knowledge") == ["production", "knowledge"]
    assert parse_types('["cluster"]') == ["cluster"] and parse_types("none") == [] and parse_types(None) == []


def test_types_format_as_stored():
    assert format_types(["production", "knowledge"]) == "production;knowledge" and format_types([]) == "none"
    assert parse_types(format_types(["production", "cluster"])) == ["production", "cluster"]


def test_problem_messages_name_what_is_wrong():
    assert label_problems(["x", "y"], "x", "neutral")[0] == "unknown network type 'x', 'y'"
    assert label_problems(["production"], "bogus", "network") == ["unknown primary type 'bogus'"]
    assert label_problems([], "production", "neutral") == ["primary 'production' does not fit types ['none']"]
    assert label_problems(["knowledge"], "production", "network") == [
        "primary 'production' does not fit types ['knowledge']"]


def test_a_tie_in_measure_counts_goes_to_the_type_seen_first():
    assert document_types([["knowledge"], ["production"]]) == (["production", "knowledge"], "knowledge")
    assert document_types([[], ["cluster", "partnership"], ["partnership"]]) == (["partnership", "cluster"], "partnership")


def test_an_orientation_tie_goes_to_network_unless_the_aim_is_lead_firms():
    assert document_orientation(["lead_firm", "network"]) == "network"
    assert document_orientation(["lead_firm", "network"], True) == "lead_firm"
    assert aggregate_labels([["production"], ["production"]], ["lead_firm", "network"])["orientation"] == "network"


def test_no_type_means_neutral_whatever_the_measures_say():
    assert aggregate_labels([[], []], ["lead_firm", "lead_firm"]) == {"types": [], "primary": "none",
                                                                      "orientation": "neutral"}
