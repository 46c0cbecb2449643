"""The card shows the saved benchmark tables (ablation, encoder gate) it was written with."""
from classifier.model_card import ablation_lines, gate_lines

ROW = {"types_macro_f1": 0.61, "primary_macro_f1": 0.58, "orientation_macro_f1": 0.70}


def test_ablation_rows_are_listed_and_the_label_count_is_stated():
    ablation = {"labeled_units": 4680, "no_embedding": {"description": "without the sentence block",
                                                        "lang=en": ROW, "lang=zh": ROW | {"orientation_macro_f1": 0.72}}}
    text = "\n".join(ablation_lines(ablation))
    assert "on 4,680 labeled units" in text
    assert "| no_embedding | without the sentence block | 0.610/0.580/0.700 | 0.610/0.580/0.720 |" in text
    assert ablation_lines(None) == []


def test_gate_rows_show_accuracy_and_the_corpus_load_of_each_band():
    corpus = {n: {"embedded_share": {"0.5": share}, "encoder_core_seconds": {"0.5": seconds}}
              for n, share, seconds in (("cn", 0.043, 41), ("oecd", 0.169, 1310))}
    gate = {"labeled_units": 4680, "corpus": corpus,
            "bands": {"0.5": {"lang=en": ROW | {"embedded_share": 0.2}, "lang=zh": ROW | {"embedded_share": 0.05}}}}
    text = "\n".join(gate_lines(gate))
    assert "| 0.5 | 0.610/0.580/0.700 | 0.610/0.580/0.700 | 20% | 5% | 4%, 41 s | 17%, 1,310 s |" in text


def test_a_refreshed_benchmark_enters_the_card_and_nothing_else_changes(tmp_path):
    import json

    from classifier.model_card import refresh_benchmark, render_markdown

    from classifier.labels import REPO_ROOT

    card = json.loads((REPO_ROOT / "models" / "default" / "model_card.json").read_text())
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    corpus = {n: {"embedded_share": {"0.5": 0.05}, "encoder_core_seconds": {"0.5": 9}} for n in ("cn", "oecd")}
    gate = {"labeled_units": 10, "corpus": corpus, "bands": {"0.5": {"lang=en": ROW | {"embedded_share": 0.2},
                                                                     "lang=zh": ROW | {"embedded_share": 0.05}}}}
    refresh_benchmark(tmp_path, "encoder_gate", gate)
    saved = json.loads((tmp_path / "model_card.json").read_text())
    assert saved == card | {"encoder_gate": gate}
    assert (tmp_path / "model_card.md").read_text() == render_markdown(saved)
    assert "## Encoder gate (one grouped CV on 10 labeled units" in render_markdown(saved)


def test_the_card_states_each_heads_lexicon_weight_and_the_rounded_scores_behind_it():
    import json

    from classifier.labels import REPO_ROOT
    from classifier.model_card import render_markdown

    card = json.loads((REPO_ROOT / "models" / "default" / "model_card.json").read_text())
    card |= {"lexicon_weights": {"types": 0.1, "orientation": 0.3},
             "lexicon_scores": {"types": {"0.3": 0.61234, "0.1": 0.64321}, "orientation": {"0.3": 0.8, "0.1": 0.7}}}
    line = next(l for l in render_markdown(card).splitlines() if l.startswith("- Lexicon block weight per head"))
    assert "{'types': 0.1, 'orientation': 0.3}" in line and "'types': {'0.3': 0.612, '0.1': 0.643}" in line
    older = {k: v for k, v in card.items() if k not in ("lexicon_weights", "lexicon_scores")}
    assert "none (the featurizer weight)" in render_markdown(older)
