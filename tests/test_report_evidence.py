"""Examples per category: label carried by the measure, each passage once, clean cuts, markup removed."""
import json

import pandas as pd

from classifier.report_evidence import MAX_CHARS, clean_with_spans, evidence_examples, excerpt
from classifier.report_render import highlight

ZH = ("第五条 支持龙头企业发挥链主作用，带动上下游中小企业进入供应链，开展订单对接和协作配套。"
      + "各级人民政府应当为中小企业提供公共服务，简化审批程序，降低制度性交易成本，" * 4
      + "并加强监督检查。")
EN = ("The agency funds SME programmes of many kinds across the country. " * 4
      + "Vouchers let SMEs buy R&D services from universities and public research institutes.<br/>"
      + "Applications are open all year and are assessed within a month by independent experts. " * 4)


def phrase(text, word, offset=0):
    start = text.index(word)
    return {"phrase": word, "start": offset + start, "end": offset + start + len(word)}


def measure(measure_id, doc_id, text, types, orientation="network", start=0, lang="en", **p):
    probabilities = {f"p_{k}": p.get(k, 0.1) for k in ("production", "knowledge", "partnership", "cluster",
                                                         "lead_firm", "network", "neutral")}
    return {"measure_id": measure_id, "doc_id": doc_id, "start": start, "text": text, "types": json.dumps(types),
            "orientation": orientation, "lang": lang, **probabilities}


def corpus(documents, measures):
    docs = pd.DataFrame([{"doc_id": d, "title": title, "lang": lang, "error": "", "evidence": json.dumps(items)}
                         for d, title, lang, items in documents])
    return docs, pd.DataFrame(measures)


def test_markup_is_removed_and_the_cue_stays_on_its_words():
    text = "Support for<br/>SME clusters &amp; networks"
    clean, spans = clean_with_spans(text, [(text.index("clusters"), text.index("clusters") + 8)])
    assert clean == "Support for SME clusters & networks"
    assert [clean[s:e] for s, e in spans] == ["clusters"]


def test_long_english_passages_are_cut_at_sentence_boundaries_with_an_ellipsis():
    clean, spans = clean_with_spans(EN, [(EN.index("universities"), EN.index("universities") + 12)])
    shown, shown_spans = excerpt(clean, spans, "en")
    assert len(shown) <= MAX_CHARS["en"] + 2 and shown.startswith("…") and shown.endswith("…")
    assert shown[1:].startswith("Vouchers") and shown[:-1].rstrip().endswith(".")  # whole sentences
    assert [shown[s:e] for s, e in shown_spans] == ["universities"]


def test_long_chinese_passages_are_cut_at_a_pause_with_an_ellipsis():
    spans = [(ZH.index("链主"), ZH.index("链主") + 2)]
    shown, shown_spans = excerpt(ZH, spans, "zh")
    assert shown.endswith("…") and len(shown) <= MAX_CHARS["zh"] + 1
    body = shown[:-1]
    assert ZH[ZH.index(body) + len(body)] in "。；，、：" and [shown[s:e] for s, e in shown_spans] == ["链主"]


def test_examples_carry_the_label_in_the_measure_and_each_passage_appears_once():
    knowledge = measure("a#1", "a", EN, ["knowledge"], knowledge=0.8)
    copy = measure("b#1", "b", EN, ["knowledge"], knowledge=0.7)  # the same passage in another record
    title = measure("c#0", "c", "Hospital Cluster Pilot Project: an overview of health services for the region.",
                    [], cluster=0.99)  # the measure itself does not carry 'cluster'
    chinese = measure("z#1", "z", ZH, ["production"], "lead_firm", lang="zh", production=0.9, lead_firm=0.8)
    docs = [("a", "Vouchers", "en", [{"label": "knowledge", "measure_id": "a#1", "probability": 0.99, "start": 0,
                                      "text": EN[:300], "phrases": [phrase(EN, "universities")]},
                                     {"label": "network", "measure_id": "a#1", "probability": 0.9, "start": 0,
                                      "text": EN[:300], "phrases": [phrase(EN, "universities")]}]),
            ("b", "Vouchers again", "en", [{"label": "knowledge", "measure_id": "b#1", "probability": 0.99, "start": 0,
                                            "text": EN[:300], "phrases": [phrase(EN, "universities")]}]),
            ("c", "Hospital Cluster", "en", [{"label": "cluster", "measure_id": "c#0", "probability": 1.0, "start": 0,
                                              "text": "x", "phrases": [phrase(title["text"], "Cluster")]}]),
            ("z", "示例措施<br/>", "zh", [{"label": "production", "measure_id": "z#1", "probability": 0.5, "start": 0,
                                         "text": ZH[:300], "phrases": [phrase(ZH, "链主"), phrase(ZH, "供应链")]},
                                        {"label": "lead_firm", "measure_id": "z#1", "probability": 0.5, "start": 0,
                                         "text": ZH[:300], "phrases": [phrase(ZH, "龙头企业")]}])]
    examples = evidence_examples({"oecd": corpus(docs, [knowledge, copy, title, chinese])})
    assert [e.source for e in examples["knowledge"]] == ["Vouchers"]  # the copy in record b is not shown again
    assert examples["network"] == [] and examples["cluster"] == []  # same passage; off-topic title
    assert examples["knowledge"][0].probability == 0.8  # the measure's own probability, not the record's
    (production,) = examples["production"]
    assert production.source == "示例措施" and [production.text[s:e] for s, e in production.phrases] == ["链主", "供应链"]
    assert "<mark>链主</mark>" in highlight(production.text, production.phrases)
    assert examples["lead_firm"] == []  # the same Chinese passage is not repeated under another label
