"""Text fidelity: PDFs and hard-wrapped laws keep their articles, markup is cleaned, languages stay true."""
import io
import re
from pathlib import Path

import pytest

from classifier.corpus import build_corpus, document_rows
from classifier.documents import Document
from classifier.ingest import decode_text, html_to_text, read_bytes

from conftest import FIXTURES

CJK_FONTS = [p for p in (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
                         Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")) if p.exists()]
ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇\d]+条")


def synthetic_law(articles: int = 24) -> str:
    """A law written here: chapters, long articles with numbered points, a second paragraph now and then."""
    lines = ["# 示例省促进中小企业协作发展条例", "", "<!-- INFO END -->", ""]
    numerals = "一二三四五六七八九十"
    for n in range(1, articles + 1):
        if n % 8 == 1:
            lines += [f"## 第{numerals[n // 8]}章 协作发展", ""]
        chinese = numerals[n - 1] if n <= 10 else f"{'二' if n >= 20 else ''}十{numerals[n % 10 - 1] if n % 10 else ''}"
        body = ("县级以上人民政府应当鼓励大企业向中小企业开放研发设计、检验检测、试验验证等资源，"
                "推动产业链上下游企业协同创新，支持中小企业参与产业集群建设并共享公共技术服务平台。")
        lines += [f"第{chinese}条 {body}", ""]
        if n % 3 == 0:
            lines += ["（一）建立供需对接机制；", "", "（二）完善公共服务体系。", ""]
    return "\n".join(lines)


def law_pdf(text: str, width_mm: float) -> bytes:
    from fpdf import FPDF

    class Pdf(FPDF):
        def header(self):
            self.set_font("cjk", size=8)
            self.cell(0, 5, "示例省人民代表大会常务委员会公报", new_x="LMARGIN", new_y="NEXT")
            self.set_font("cjk", size=10)

        def footer(self):
            self.set_y(-12)
            self.set_font("cjk", size=8)
            self.cell(0, 5, f"- {self.page_no()} -", align="C")

    pdf = Pdf(format=(width_mm, 200))
    pdf.add_font("cjk", fname=str(CJK_FONTS[0]))
    pdf.set_font("cjk", size=10)
    pdf.add_page()
    for line in text.split("\n"):
        if line.strip() and not line.startswith("<!--"):
            pdf.multi_cell(0, 6, line.lstrip("# "), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.mark.skipif(not CJK_FONTS, reason="no CJK font installed (apt-get install fonts-noto-cjk)")
@pytest.mark.parametrize("width_mm", [90, 140, 210])
def test_chinese_law_printed_to_pdf_keeps_its_articles(width_mm):
    law = synthetic_law()
    expected = [line.split(" ", 1)[0] for line in law.split("\n") if ARTICLE.match(line)]
    doc = next(read_bytes(law_pdf(law, width_mm), "law.pdf", "t"))
    rows = document_rows(doc)
    found = [r["text"].split(" ", 1)[0] for r in rows if ARTICLE.match(r["text"])]
    recall = len(set(found) & set(expected)) / len(expected)
    assert recall >= 0.95, (recall, [r["text"][:30] for r in rows][:10])
    assert "公报" not in doc.text and not re.search(r"^- \d+ -$", doc.text, re.M)  # running header, page numbers
    assert all("县级以上人民政府应当鼓励大企业向中小企业开放研发设计" in r["text"] for r in rows if ARTICLE.match(r["text"]))


def test_pdf_without_text_layer_says_ocr_is_needed():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50, style="F")  # a scan is an image: no text
    docs = list(read_bytes(bytes(pdf.output()), "scan.pdf", "t"))
    assert docs[0].status == "failed" and "OCR" in docs[0].error


def test_encrypted_pdf_with_empty_user_password_is_read():
    from pypdf import PdfWriter
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Innovation vouchers let small firms buy research services.")
    writer = PdfWriter(clone_from=io.BytesIO(bytes(pdf.output())))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    doc = next(read_bytes(out.getvalue(), "locked.pdf", "t"))
    assert doc.status == "ok" and "Innovation vouchers" in doc.text


def test_utf16_without_bom_is_text():
    notice = (FIXTURES / "notice_zh.txt").read_text(encoding="utf-8")
    for codec in ("utf-16-le", "utf-16-be"):
        assert decode_text(notice.encode(codec)) == notice


def test_html_nested_blocks_are_extracted_once_and_deep_nesting_is_linear():
    html = "<table><tr><td><p>First paragraph.</p><p>Second.</p></td></tr></table><ul><li><p>Item.</p></li></ul>"
    assert html_to_text(html.encode()) == "First paragraph.\n\nSecond.\n\nItem."
    deep = ("<div>" * 20_000 + "<p>deep text</p>" + "</div>" * 20_000).encode()
    assert html_to_text(deep) == "deep text"


def test_stip_markup_is_cleaned_at_ingest():
    header = "InitiativeID|SurveyYear|NameEnglish|ShortDescription|Background"
    row = "http://stip.oecd.org/2021/data/policyInitiatives/77|2021|A &amp; B|Line one<br/>Line two<p>Para</p>|R&amp;D <b>grants</b>"
    data = "\n".join([header, "InitiativeID|Survey|Name|Short|Background", row]).encode()
    doc = next(read_bytes(data, "stip.csv", "oecd"))
    assert doc.meta["title"] == "A & B"
    assert "<" not in doc.text and "&amp;" not in doc.text
    assert "Line one\nLine two" in doc.text and "R&D grants" in doc.text


def test_english_paragraph_in_a_chinese_law_is_a_measure_of_its_own_language():
    text = ("第一条 为了促进中小企业协作发展，制定本条例。\n"
            "This English paragraph is a translation note that explains the article to foreign investors.\n"
            "第二条 支持中小企业参与产业集群建设。")
    rows = document_rows(Document(corpus="t", source="a.txt", doc_id="t/a.txt", text=text))
    assert [r["lang"] for r in rows] == ["zh", "en", "zh"]
    assert rows[1]["text"].startswith("This English paragraph")


def test_hard_wrapped_markdown_law_gets_its_paragraphs_back_and_well_formed_laws_are_unchanged():
    law = synthetic_law(6)
    wrapped_lines = []
    for line in law.split("\n"):
        if ARTICLE.match(line):
            body = line.split(" ", 1)[1]  # article markers lost, body wrapped every 19 characters
            wrapped_lines += [body[i : i + 19] for i in range(0, len(body), 19)] + [""]
        else:
            wrapped_lines.append(line)
    wrapped = next(read_bytes("\n".join(wrapped_lines).encode(), "wrapped.md", "t"))
    assert "县级以上人民政府应当鼓励大企业向中小企业开放研发设计、检验检测、试验验证等资源，推动产业链" in wrapped.text
    well_formed = next(read_bytes(law.encode(), "law.md", "t"))
    assert well_formed.text == law.strip("\n")
    table = build_corpus([f"fx={FIXTURES}"])
    assert (table.status == "ok").all()
