"""The annotation loop: suggest, export/import round trips as the tools write them, check, agreement."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classifier.annotate import agreement, check, formats, suggest
from classifier.annotate.units import labeled_keys, read_units, unlabeled
from classifier.labels import load_user_labels, text_sha1

TEXTS = {
    "u1": "支持龙头企业带动配套中小企业进入供应链。",
    "u2": "Vouchers let SMEs buy R&D services from universities.",
    "u3": "对小微企业贷款给予贴息。",
    "u4": "=Clusters of SMEs share testing equipment in one industrial park.",  # formula-like start
}
GOLD = {  # types, primary, orientation
    "u1": (["production"], "production", "lead_firm"),
    "u2": (["knowledge"], "knowledge", "network"),
    "u3": ([], "none", "neutral"),
    "u4": (["cluster", "knowledge"], "cluster", "network"),
}


def unit(uid, text=None, **extra):
    text = TEXTS[uid] if text is None else text
    return {"unit_id": uid, "doc_id": "cn/doc", "start": 0, "end": len(text), "text_sha1": text_sha1(text),
            "codebook_version": "1.2", "title": "t", "sampling": "suggest:rare", "text": text, **extra}


def label_studio_task(task_id, data, choices, cancelled=False):
    """A task as Label Studio's JSON export writes it (ids, timestamps, annotation metadata)."""
    result = [{"id": f"r{task_id}{name}", "from_name": name, "to_name": "text", "type": "choices", "origin": "manual",
               "value": {"choices": values}} for name, values in choices.items()]
    result.append({"id": f"r{task_id}x", "from_name": "rationale", "to_name": "text", "type": "textarea",
                   "value": {"text": ["supplier upgrading by a lead firm"]}})
    return {"id": task_id, "data": data, "project": 3, "created_at": "2025-01-01T10:00:00Z",
            "annotations": [{"id": 100 + task_id, "completed_by": {"id": 1, "email": "coder@example.org"},
                             "result": result, "was_cancelled": cancelled, "ground_truth": False,
                             "lead_time": 12.5, "task": task_id}],
            "predictions": [], "drafts": [], "meta": {}}


def gold_choices(uid):
    types, primary, orientation = GOLD[uid]
    return {"types": types or ["none"], "primary": [primary], "orientation": [orientation]}


def imported_labels(out: Path) -> dict:
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    return {r.unit_id: (sorted(t for t in r.types.split(";") if t != "none"), r.primary, r.orientation)
            for r in frame.itertuples()}


def test_label_studio_export_imports_to_the_same_labels(tmp_path):
    tasks = [label_studio_task(i, unit(uid), gold_choices(uid)) for i, uid in enumerate(TEXTS, start=1)]
    export = tmp_path / "project-3-at-2025.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    result = formats.import_labels(export, tmp_path / "labels" / "r4.csv")
    assert result.errors == []
    assert imported_labels(tmp_path / "labels" / "r4.csv") == {u: (sorted(t), p, o) for u, (t, p, o) in GOLD.items()}
    row = pd.read_csv(tmp_path / "labels" / "r4.csv", dtype=str).set_index("unit_id").loc["u1"]
    assert row.rationale == "supplier upgrading by a lead firm" and row.annotator == "coder@example.org"
    assert row.text_sha1 == text_sha1(TEXTS["u1"]) and row.codebook_version == "1.2"


def test_doccano_export_imports_to_the_same_labels(tmp_path):
    lines = []
    for i, uid in enumerate(TEXTS, start=1):
        types, primary, orientation = GOLD[uid]
        record = unit(uid)
        labels = [f"type:{t}" for t in types or ["none"]] + [f"primary:{primary}", f"orientation:{orientation}"]
        lines.append(json.dumps({"id": i, "text": record.pop("text"), "label": labels, "Comments": [], **record},
                                ensure_ascii=False))
    path = tmp_path / "all.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = formats.import_labels(path, tmp_path / "r4.csv")
    assert result.errors == []
    assert imported_labels(tmp_path / "r4.csv") == {u: (sorted(t), p, o) for u, (t, p, o) in GOLD.items()}


def test_bad_rows_are_reported_with_their_line_and_the_good_rows_kept(tmp_path):
    good = unit("u1")
    rows = [
        {**good, "label": ["type:production", "primary:production", "orientation:lead_firm"]},   # line 1: good
        {**unit("u2"), "label": ["type:knowledge", "primary:cluster", "orientation:network"]},    # 2: primary not a type
        {**unit("u3"), "label": ["type:none", "primary:none", "orientation:network"]},            # 3: none must be neutral
        {**unit("u4"), "label": ["type:synergy", "primary:none", "orientation:neutral"]},         # 4: unknown type
        {**unit("u5", "文本"), "text": "改过的文本", "label": ["type:none", "primary:none", "orientation:neutral"]},  # 5: hash
        {**unit("u6", "其他文本"), "codebook_version": "", "label": ["type:none", "primary:none", "orientation:neutral"]},
        {**good, "label": ["type:production", "primary:production", "orientation:lead_firm"]},   # 7: duplicate
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = formats.import_labels(path, tmp_path / "r4.csv")
    reasons = {line: reason for _, line, reason in result.errors}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "primary 'cluster'" in reasons[2] and "neutral" in reasons[3] and "synergy" in reasons[4]
    assert "text_sha1" in reasons[5] and "codebook_version" in reasons[6] and "duplicate of line 1" in reasons[7]
    assert all(source == str(path) for source, _, _ in result.errors)
    assert list(pd.read_csv(tmp_path / "r4.csv").unit_id) == ["u1"]


def test_label_studio_errors_name_the_line_of_the_task(tmp_path):
    tasks = [label_studio_task(1, unit("u1"), gold_choices("u1")),
             label_studio_task(2, unit("u2"), {"types": ["knowledge"], "primary": ["none"], "orientation": ["network"]}),
             label_studio_task(3, unit("u3"), gold_choices("u3"), cancelled=True)]
    export = tmp_path / "export.json"
    text = json.dumps(tasks, indent=2)
    export.write_text(text, encoding="utf-8")
    result = formats.import_labels(export, tmp_path / "r4.csv")
    starts = [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith("  {")]
    assert [(line, reason.split(" ")[0]) for _, line, reason in result.errors] == [(starts[1], "primary"), (starts[2], "not")]
    assert list(result.rows.unit_id) == ["u1"]


def test_existing_labels_are_not_overwritten_without_replace(tmp_path):
    out = tmp_path / "r4.csv"
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({**unit("u1"), "label": ["type:production", "primary:production", "orientation:lead_firm"]}) + "\n")
    formats.import_labels(first, out)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps({**unit("u1"), "label": ["type:none", "primary:none", "orientation:neutral"]}) + "\n")
    result = formats.import_labels(changed, out)
    assert result.skipped and imported_labels(out)["u1"][1] == "production"
    formats.import_labels(changed, out, replace=True)
    assert imported_labels(out)["u1"][1] == "none"
    (tmp_path / "other.csv").write_text("unit_id,types\nu2,knowledge\n")  # a sibling label file holds u2
    other = tmp_path / "u2.jsonl"
    other.write_text(json.dumps({**unit("u2"), "label": ["type:none", "primary:none", "orientation:neutral"]}) + "\n")
    assert formats.import_labels(other, out, replace=True).skipped == [("u2", "already labeled in other.csv")]


def test_csv_sheet_round_trip_keeps_keys_and_formula_like_text(tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(unit(u), ensure_ascii=False) + "\n" for u in TEXTS), encoding="utf-8")
    sheet = tmp_path / "sheet.csv"
    formats.export_batch(batch, "csv", sheet)
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert frame.text.iloc[3].startswith("'=")  # spreadsheets do not run it
    for i, uid in enumerate(frame.unit_id):
        types, primary, orientation = GOLD[uid]
        frame.loc[i, ["types", "primary", "orientation"]] = [";".join(types) or "none", primary, orientation]
    frame.to_csv(sheet, index=False)
    result = formats.import_labels(sheet, tmp_path / "r4.csv", batch=batch)
    assert result.errors == []
    assert imported_labels(tmp_path / "r4.csv") == {u: (sorted(t), p, o) for u, (t, p, o) in GOLD.items()}


def test_label_studio_export_has_predictions_and_config(tmp_path, tiny_model):
    from classifier.tagger import PolicyClassifier

    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(unit(u), ensure_ascii=False) + "\n" for u in TEXTS), encoding="utf-8")
    written = formats.export_batch(batch, "label-studio", tmp_path / "tasks.json", PolicyClassifier.load(tiny_model))
    tasks = json.loads(written[0].read_text())
    assert [t["data"]["unit_id"] for t in tasks] == list(TEXTS)
    prediction = tasks[0]["predictions"][0]
    assert {r["from_name"] for r in prediction["result"]} == {"types", "primary", "orientation"}
    assert 0 <= prediction["score"] <= 1 and prediction["model_version"]
    assert 'name="types" toName="text" choice="multiple"' in written[1].read_text()


# ---------------------------------------------------------------- suggest


def pool(n_docs=4, per_doc=6):
    rows = []
    for d in range(n_docs):
        for k in range(per_doc):
            text = f"第{k}条 支持龙头企业带动配套中小企业进入供应链，文件{d}编号{k}。" if k % 2 else f"第{k}条 对小微企业{d}-{k}贷款给予贴息和担保，另有规定{d * 7 + k}。"
            rows.append({"unit_id": f"cn/d{d}#{k}", "kind": "measure", "doc_id": f"cn/d{d}", "start": 0, "end": len(text),
                         "text_sha1": text_sha1(text), "title": "t", "section": "", "country": "", "initiative_id": "",
                         "wave": None, "sme_targeted": d < 2, "about_smes": d < 2, "sme_pool": d < 2, "text": text})
    return pd.DataFrame(rows)


def test_suggest_caps_units_per_document_and_records_how(tiny_model):
    from classifier.tagger import PolicyClassifier

    batch = suggest.suggest(pool(), 8, "rare*2+uncertainty", seed=7, clf=PolicyClassifier.load(tiny_model), per_doc=2,
                            near_duplicate=1.01)
    assert len(batch) == 8 and batch.groupby("doc_id").size().max() == 2
    assert set(batch.sampling) == {"suggest:rare+uncertainty"} and set(batch.strategy) == {"rare*2+uncertainty"}
    assert set(batch.seed) == {7}


def test_suggest_drops_near_duplicates(tiny_model):
    from classifier.tagger import PolicyClassifier

    units = pool(n_docs=1, per_doc=2)
    copy = units.iloc[[1]].assign(unit_id="cn/copy#1", doc_id="cn/copy")
    units = pd.concat([units, copy], ignore_index=True)
    batch = suggest.suggest(units, 3, "uncertainty", seed=0, clf=PolicyClassifier.load(tiny_model), near_duplicate=0.9)
    assert len(batch) == 2 and not {"cn/d0#1", "cn/copy#1"} <= set(batch.unit_id)


def test_random_stratum_draws_only_from_the_sme_pool_reproducibly():
    first = suggest.suggest(pool(), 5, "random", seed=3)
    assert first.unit_id.str.startswith(("cn/d0", "cn/d1")).all() and set(first.sampling) == {"random:cn"}
    assert list(first.unit_id) == list(suggest.suggest(pool(), 5, "random", seed=3).unit_id)
    assert set(suggest.suggest(pool(), 5, "random-other", seed=3).sampling) == {"random:other"}


def test_random_sme_draws_from_the_sme_targeted_view_in_the_pool_or_not():
    units = pool().assign(sme_pool=lambda f: f.doc_id.isin(["cn/d0", "cn/d2"]))  # the pool and the view differ
    batch = suggest.suggest(units, 12, "random-sme", seed=1)
    assert set(batch.doc_id) == {"cn/d0", "cn/d1"} and set(batch.sampling) == {"random:cn-sme"}
    assert set(suggest.suggest(units, 12, "random", seed=1).doc_id) == {"cn/d0", "cn/d2"}


def test_unknown_strategy_term_is_an_error():
    with pytest.raises(ValueError, match="unknown strategy term 'novelty'"):
        suggest.Strategy.parse("rare+novelty")


def test_labeled_units_and_initiatives_are_never_suggested(tmp_path):
    labels = tmp_path / "labels"
    (labels / "second").mkdir(parents=True)
    (labels / "cn.csv").write_text(f"unit_id,text_sha1\ncn/d0#0,x\ncn/elsewhere#3,{pool().text_sha1[1]}\nstip:9:2019,\n")
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"unit_id": "cn/d1#2", "text_sha1": "y"}) + "\n")
    records = pd.DataFrame([{**pool().iloc[0].to_dict(), "unit_id": "stip:9:2021", "kind": "stip", "initiative_id": "9"}])
    units = pd.concat([pool(), records], ignore_index=True)
    left = set(unlabeled(units, labeled_keys(labels, [batch])).unit_id)
    assert not {"cn/d0#0", "cn/d0#1", "cn/d1#2", "stip:9:2021"} & left and "cn/d0#2" in left


def test_imported_keyed_labels_join_to_texts_of_the_data_dir(tmp_path, fixtures):
    (tmp_path / "cn" / "laws").mkdir(parents=True)
    (tmp_path / "cn" / "laws" / "law.md").write_text((fixtures / "law_zh.md").read_text(encoding="utf-8"), encoding="utf-8")
    units = read_units([f"cn={tmp_path / 'cn'}"]).head(2)
    keyed = units[["unit_id", "doc_id", "start", "end", "text_sha1"]].assign(
        types="none", primary="none", orientation="neutral", codebook_version="1.2")
    keyed.to_csv(tmp_path / "r4.csv", index=False)
    joined = load_user_labels(tmp_path / "r4.csv", data=tmp_path)
    assert list(joined.text) == list(units.text) and set(joined.lang) == {"zh"}
    assert list(joined.group) == list(units.doc_id)


# ---------------------------------------------------------------- check and agreement


def test_confident_learning_finds_the_flipped_label():
    rng = np.random.default_rng(0)
    p = np.r_[rng.uniform(0.7, 0.95, 20), rng.uniform(0.02, 0.2, 20)]
    given = np.r_[np.ones(20, int), np.zeros(20, int)]
    given[3], p[3] = 0, 0.97  # the model is sure unit 3 is "yes"
    issues = check.confident_issues(given, np.c_[1 - p, p], ["no", "yes"])
    assert list(issues["index"]) == [3] and issues.suggested.iloc[0] == "yes"


def test_find_label_issues_ranks_by_margin():
    predictions = pd.DataFrame({"unit_id": ["a", "b", "c", "d"], "p_production": [0.7, 0.8, 0.1, 0.05],
                                "p_knowledge": 0.1, "p_partnership": 0.1, "p_cluster": 0.1,
                                "p_lead_firm": 0.1, "p_network": 0.1, "p_neutral": 0.8})
    truth = pd.DataFrame({"unit_id": ["a", "b", "c", "d"], "corpus": "cn", "types": ["production", "", "", ""],
                          "primary": ["production", "none", "none", "none"], "orientation": "neutral"})
    issues = check.find_label_issues(predictions, truth)
    assert issues[issues.axis == "production"].unit_id.tolist() == ["b"]


def test_orientation_is_checked_on_network_units_only():
    # p_* of orientation are P(orientation | network unit): for a unit without a type they say nothing
    ids = list("abcdefghi")
    predictions = pd.DataFrame({"unit_id": ids, "p_production": [0.9] * 5 + [0.05] * 4, "p_knowledge": 0.05,
                                "p_partnership": 0.05, "p_cluster": 0.05, "p_lead_firm": 0.01,
                                "p_network": [0.9, 0.9, 0.9, 0.95, 0.19, 0.99, 0.99, 0.2, 0.2],
                                "p_neutral": [0.09, 0.09, 0.09, 0.04, 0.8, 0.0, 0.0, 0.79, 0.79]})
    truth = pd.DataFrame({"unit_id": ids, "corpus": "cn", "types": ["production"] * 5 + [""] * 4,
                          "primary": ["production"] * 5 + ["none"] * 4,
                          "orientation": ["network"] * 3 + ["neutral"] * 6})
    issues = check.find_label_issues(predictions, truth)
    flagged = issues[issues.axis == "orientation"]
    assert flagged.unit_id.tolist() == ["d"] and flagged.suggested.tolist() == ["network"]


def test_agreement_kappa_and_disagreements():
    a = pd.DataFrame({"unit_id": ["1", "2", "3", "4"], "types": ["production", "none", "knowledge", "none"],
                      "primary": ["production", "none", "knowledge", "none"], "orientation": ["lead_firm", "neutral", "network", "neutral"]})
    b = a.copy()
    b.loc[2, ["types", "primary", "orientation"]] = ["none", "none", "neutral"]
    pairs = agreement.pair_up(a, b)
    table = agreement.kappa_table(pairs)
    assert table.loc["kappa_production", "all"] == 1.0 and table.loc["kappa_knowledge", "all"] == 0.0
    assert list(agreement.disagreements(pairs).unit_id) == ["3"]


def test_rare_score_needs_a_network_before_a_lead_firm_and_ranks_each_class():
    from classifier.annotate.suggest import rare_probability
    # columns: production, knowledge, partnership, cluster; orientation: lead_firm, network, neutral
    types = np.array([[0.01, 0.01, 0.01, 0.01],   # no network, but P(lead_firm | network) high
                      [0.10, 0.60, 0.05, 0.01],   # a network unit that may rely on a lead firm
                      [0.02, 0.05, 0.02, 0.30],   # the likeliest cluster unit
                      [0.02, 0.70, 0.03, 0.02]])  # a common knowledge unit
    orientation = np.array([[0.95, 0.03, 0.02], [0.60, 0.30, 0.10], [0.05, 0.90, 0.05], [0.05, 0.90, 0.05]])
    score = rare_probability(types, orientation)
    assert score[1] > score[0]  # P(lead_firm) = P(network) x P(lead_firm | network)
    assert score[2] == score.max()  # the top cluster unit reaches the top though its probability is 0.30
    assert score[3] < score[1] and score[3] < score[2]


def test_repository_agreement_pairs_first_labels_with_second_annotations_only(tmp_path):
    """Adjudication and review files hold final labels: they are not second annotations, and the first
    annotator's own labels are put back from every adjudication file that records them."""
    second = tmp_path / "second"
    second.mkdir()
    head = "unit_id,types,primary,orientation\n"
    (tmp_path / "cn_measures.csv").write_text(head + "a,knowledge,knowledge,network\nb,none,none,neutral\n")
    (second / "r6_cn_double.csv").write_text(head + "a,none,none,neutral\nb,none,none,neutral\n")
    (second / "r6_adjudication.csv").write_text("unit_id,first_types,first_primary,first_orientation,types,primary,"
                                               "orientation,decision\na,none,none,neutral,knowledge,knowledge,network,B\n")
    (second / "check_review.csv").write_text(head + "b,cluster,cluster,neutral\n")
    pairs = agreement.repository_pairs(tmp_path)
    assert sorted(pairs.unit_id) == ["a", "b"]  # one pair per unit: neither final-label file is a second annotator
    assert (pairs.primary_1 == pairs.primary_2).all()  # a's first label was none, as its second
