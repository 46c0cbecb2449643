from classifier.documents import Document, normalise_text
from classifier.segment import detect_lang, segment_chinese, segment_document, segment_english

from conftest import FIXTURES


def test_chinese_law_splits_on_articles_and_keeps_chapters_as_context():
    text = normalise_text((FIXTURES / "law_zh.md").read_text(encoding="utf-8"))
    doc = Document("t", "law_zh.md", "t/law_zh.md", text=text, kind="law")
    measures = segment_document(doc)
    assert [m.text[:3] for m in measures] == ["第一条", "第二条", "第三条", "第四条"]
    # the second paragraph of 第二条 belongs to it, not to a measure of its own
    assert "支付款项" in measures[1].text
    assert measures[2].section == "## 第二章 集群发展"
    assert not any("第一章" in m.text for m in measures)
    for m in measures:
        assert text[m.start : m.end] == m.text and m.lang == "zh"


def test_chinese_notice_splits_numbered_points_and_keeps_preamble():
    text = normalise_text((FIXTURES / "notice_zh.txt").read_text(encoding="utf-8"))
    measures = segment_chinese(text)
    starts = [m.text[:4] for m in measures]
    assert starts == ["为进一步", "（一）坚", "（二）坚", "1.对组", "2.对新", "本措施自"]
    assert measures[1].section == "一、总体要求"  # a heading is context, not a measure
    assert measures[3].section == "二、支持措施"


def test_chinese_plain_paragraphs_and_lead_sentences():
    text = "各位代表：\n\n过去一年，我们推动产业链上下游协同发展，成效明显。\n\n四是扩大就业。\n\n实施就业优先政策，加强职业技能培训。"
    measures = segment_chinese(text)
    assert [m.text[:4] for m in measures] == ["过去一年", "实施就业"]
    assert measures[1].section == "四是扩大就业。"


def test_english_paragraphs_and_bullets():
    text = normalise_text((FIXTURES / "programme_en.txt").read_text(encoding="utf-8"))
    measures = segment_english(text)
    assert measures[0].text.startswith("The programme supports")
    bullets = [m for m in measures if m.text.startswith("- ")]
    assert len(bullets) == 3
    assert measures[-1].text.startswith("Low-interest loans")
    assert all(text[m.start : m.end] == m.text for m in measures)
    assert measures[0].section == "Regional Innovation Partnerships Programme"


def test_english_hard_wrapped_paragraph_stays_one_measure():
    text = "Grants support consortia of SMEs\nthat jointly develop new products\nwith universities."
    assert len(segment_english(text)) == 1


def test_language_detection():
    assert detect_lang("支持中小企业特色产业集群建设公共技术服务平台") == "zh"
    assert detect_lang("Vouchers let SMEs buy R&D services from universities.") == "en"
    assert detect_lang("Les PME peuvent obtenir des subventions pour la recherche collaborative avec les universités.") == "fr"
    assert detect_lang("12345 ...") == "und"


def test_mixed_document_gets_language_per_measure():
    doc = Document("t", "mixed.txt", "t/mixed", text="本条例适用于中小企业之间的合作与交流活动。\n\nThe programme funds SME consortia with universities.")
    langs = [m.lang for m in segment_document(doc)]
    assert langs == ["zh", "en"]


def test_text_of_only_a_heading_is_one_measure():
    doc = Document("t", "x.txt", "t/x", text="中小企业")
    measures = segment_document(doc)
    assert len(measures) == 1 and measures[0].text == "中小企业"
