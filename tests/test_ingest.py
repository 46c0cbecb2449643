import gzip
import io
import json
import os
import tarfile
import zipfile

import pandas as pd
import pytest

from classifier.corpus import CORE_COLUMNS, build_corpus, read_table, write_table
from classifier.ingest import Limits, decode_text, iter_documents, parse_spec, read_bytes

from conftest import FIXTURES, data_dir, requires_data

LAW = (FIXTURES / "law_zh.md").read_text(encoding="utf-8")
NOTICE = (FIXTURES / "notice_zh.txt").read_text(encoding="utf-8")
PROGRAMME = (FIXTURES / "programme_en.txt").read_text(encoding="utf-8")


def docs_of(data: bytes, name: str, **kw):
    return list(read_bytes(data, name, "t", **kw))


def one_doc(data: bytes, name: str):
    docs = docs_of(data, name)
    assert len(docs) == 1, [d.error for d in docs]
    assert docs[0].status == "ok", docs[0].error
    return docs[0]


# ---------------------------------------------------------------- readers


def test_markdown_law_metadata_and_kind():
    doc = one_doc(LAW.encode(), "经济法/示例条例(2024-01-01).md")
    assert doc.kind == "law"
    assert doc.meta["title"] == "示例市促进中小企业协作发展条例"
    assert doc.meta["year"] == 2024 and doc.meta["category"] == "经济法"
    assert doc.doc_id == "t/经济法/示例条例(2024-01-01).md"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk", "utf-16", "utf-8-sig"])
def test_plain_text_in_every_encoding_decodes_to_the_same_text(encoding):
    doc = one_doc(NOTICE.encode(encoding), "notice.txt")
    assert "融通发展" in doc.text and doc.text == one_doc(NOTICE.encode("utf-8"), "notice.txt").text


def test_html_keeps_blocks_and_drops_scripts():
    html = f"<html><head><title>x</title><script>var a='产业链';</script></head><body><h1>标题</h1><p>{NOTICE.splitlines()[2]}</p><ul><li>First item.</li></ul></body></html>"
    doc = one_doc(html.encode("utf-8"), "page.html")
    assert "var a" not in doc.text and "融通发展" in doc.text and "First item." in doc.text


def test_pdf_made_in_the_test_is_read_from_its_text_layer(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for paragraph in PROGRAMME.split("\n\n"):
        pdf.multi_cell(0, 6, paragraph.replace("\u2011", "-"))
        pdf.ln(4)
    doc = one_doc(bytes(pdf.output()), "programme.pdf")
    assert "innovation vouchers" in doc.text and "cluster management" in doc.text


def test_docx_made_in_the_test_is_read_with_paragraphs():
    import docx

    document = docx.Document()
    for paragraph in NOTICE.split("\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    doc = one_doc(buffer.getvalue(), "notice.docx")
    assert "（一）坚持协同发展" in doc.text


def test_jsonl_csv_and_parquet_tables_give_one_document_per_row(tmp_path):
    rows = [{"id": "a1", "title": "甲", "text": "推动产业链上下游协同。"}, {"id": "b2", "title": "乙", "text": "Vouchers for SMEs."}]
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    frame = pd.DataFrame(rows)
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    for data, name in ((jsonl, "t.jsonl"), (frame.to_csv(index=False).encode(), "t.csv"), (parquet.getvalue(), "t.parquet")):
        docs = docs_of(data, name)
        assert [d.doc_id for d in docs] == [f"t/{name}#a1", f"t/{name}#b2"]
        assert docs[1].text == "Vouchers for SMEs." and docs[0].meta["title"] == "甲"


def test_table_ids_do_not_depend_on_row_order():
    rows = [{"title": "甲", "text": "一"}, {"title": "乙", "text": "二"}]
    forward = {d.text: d.doc_id for d in docs_of(pd.DataFrame(rows).to_csv(index=False).encode(), "t.csv")}
    backward = {d.text: d.doc_id for d in docs_of(pd.DataFrame(rows[::-1]).to_csv(index=False).encode(), "t.csv")}
    assert forward == backward


def test_invalid_json_line_is_an_error_row_and_the_rest_is_read():
    data = b'{"id": 1, "text": "good"}\n{broken\n{"id": 2, "text": "also good"}\n'
    docs = docs_of(data, "t.jsonl")
    assert sorted(d.status for d in docs) == ["failed", "ok", "ok"]
    assert "line 2" in next(d.error for d in docs if d.status == "failed")


def test_stip_export_one_document_per_initiative_with_fields_as_measures():
    table = build_corpus([f"oecd={FIXTURES / 'stip_mini.csv'}"])
    assert set(table.doc_id) == {"stip:501:2021", "stip:502:2021", "stip:503:2021"}
    supplier = table[table.doc_id == "stip:501:2021"]
    assert supplier.section.tolist() == ["ShortDescription", "Objectives1", "Background", "InstrumentDescription", "InstrumentDescription"]
    first = supplier.iloc[0]
    assert first.country == "Testland" and first.wave == 2021 and first.year == 2015 and bool(first.sme_targeted)
    assert set(first.stip_tags.split(";")) == {"TG31", "TG32"}
    assert "Networking and collaborative platforms" in first.instrument_types
    cluster = table[table.doc_id == "stip:502:2021"].iloc[0]
    assert "TH47" in cluster.stip_tags and "F61:V428" in cluster.stip_tags
    name_only = table[table.doc_id == "stip:503:2021"]
    assert name_only.text.tolist() == ["Empty Record"]


def test_offsets_point_into_the_normalised_document_text():
    docs = list(iter_documents(FIXTURES, "fx"))
    table = build_corpus([f"fx={FIXTURES}"])
    for doc in docs:
        if doc.status != "ok":
            continue
        for row in table[table.doc_id == doc.doc_id].itertuples():
            assert doc.text[row.start : row.end] == row.text


# ---------------------------------------------------------------- folders, archives and hostile input


def make_zip(members: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_tar(members: dict, mode="w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_zip_and_tar_members_are_read_recursively_in_memory():
    inner = make_zip({"law.md": LAW.encode()})
    data = make_tar({"a/notice.txt": NOTICE.encode("gb18030"), "b/inner.zip": inner, "c/en.txt": PROGRAMME.encode()})
    docs = docs_of(data, "bundle.tar.gz")
    assert [d.status for d in docs] == ["ok"] * 3
    assert {d.source for d in docs} == {"bundle.tar.gz!a/notice.txt", "bundle.tar.gz!b/inner.zip!law.md", "bundle.tar.gz!c/en.txt"}


def test_hostile_archive_members_are_refused_and_the_rest_read():
    data = make_zip({"../../evil.txt": b"pwned", "/etc/passwd.txt": b"root", "ok.txt": PROGRAMME.encode()})
    docs = docs_of(data, "hostile.zip")
    by_source = {d.source: d for d in docs}
    assert by_source["hostile.zip!ok.txt"].status == "ok"
    assert "path traversal" in by_source["hostile.zip!../../evil.txt"].error
    assert "absolute path" in by_source["hostile.zip!/etc/passwd.txt"].error
    # Members are read in memory (nothing is extracted to disk): a refused member's content is in no document.
    assert [d.status for d in docs].count("ok") == 1 and not any("pwned" in d.text for d in docs)


def test_symlink_in_tar_is_not_followed():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("link.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    docs = docs_of(buffer.getvalue(), "links.tar")
    assert docs[0].status == "failed" and "link" in docs[0].error


def test_zip_bomb_is_refused():
    bomb = make_zip({"bomb.txt": b"0" * 20_000_000})
    docs = docs_of(bomb, "bomb.zip")
    assert docs[0].status == "failed" and "compression bomb guard" in docs[0].error


def test_archive_member_limits():
    data = make_zip({f"m{i}.txt": PROGRAMME.encode() for i in range(5)})
    docs = docs_of(data, "many.zip", limits=Limits(max_archive_members=3))
    assert sum(d.status == "ok" for d in docs) == 3
    assert "more than 3 members" in docs[-1].error


def test_truncated_archives_keep_what_was_read_and_name_the_failure():
    tar = make_tar({"a.txt": PROGRAMME.encode(), "b.txt": NOTICE.encode() * 200}, mode="w:gz")
    docs = docs_of(tar[: len(tar) // 2], "cut.tar.gz")
    assert docs[-1].status == "failed" and "cut.tar.gz" == docs[-1].source and "truncated" in docs[-1].error
    zipped = make_zip({"a.txt": PROGRAMME.encode()})
    assert "corrupt or truncated zip" in docs_of(zipped[:40], "cut.zip")[0].error


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n ", "empty file"),
        ("binary.txt", bytes(range(256)) * 10, "binary"),
        ("mystery.txt", bytes(range(128, 256)) * 50, "unknown text encoding"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "PDF"),
        ("corrupt.docx", b"PK\x03\x04 not really a docx", "DOCX"),
        ("picture.png", b"\x89PNG\r\n\x1a\n....", "unsupported format"),
    ],
)
def test_bad_inputs_become_error_rows_naming_the_reason(name, data, reason):
    docs = docs_of(data, name)
    assert len(docs) == 1 and docs[0].status == "failed"
    assert reason in docs[0].error and docs[0].source == name


def test_huge_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024**2)
    docs = list(iter_documents(tmp_path, "t"))
    assert docs[0].status == "failed" and "too large" in docs[0].error


def test_nothing_is_dropped_inputs_equal_documents_plus_error_rows(tmp_path):
    (tmp_path / "good.txt").write_text(PROGRAMME, encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF broken")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "law.md").write_text(LAW, encoding="utf-8")
    table = build_corpus([f"x={tmp_path}"])
    per_input = table.groupby("source").status.first()
    assert len(per_input) == 4
    assert per_input.to_dict() == {"bad.pdf": "failed", "empty.txt": "failed", "good.txt": "ok", "sub/law.md": "ok"}
    assert (table[table.status == "ok"].error == "").all()


def test_corpus_table_schema_and_round_trip(tmp_path):
    table = build_corpus([f"fx={FIXTURES}"])
    assert list(table.columns[: len(CORE_COLUMNS)]) == CORE_COLUMNS
    assert {"title", "country", "year", "status", "error"} <= set(table.columns)
    for suffix in (".parquet", ".jsonl", ".csv"):
        write_table(table, tmp_path / f"c{suffix}")
        back = read_table(tmp_path / f"c{suffix}")
        assert len(back) == len(table) and list(back.columns) == list(table.columns)


def test_corpus_name_defaults_to_the_folder_name():
    assert parse_spec(str(FIXTURES)) == ("fixtures", FIXTURES)
    assert parse_spec(f"cn={FIXTURES}")[0] == "cn"


# ---------------------------------------------------------------- real corpora


@requires_data
def test_real_stip_exports_give_every_distinct_initiative():
    table = build_corpus([f"oecd={data_dir() / 'oecd'}"])
    assert table.initiative_id.nunique() == 9672
    documents = table.drop_duplicates("doc_id")
    assert documents.doc_id.str.match(r"^stip:\d+:(2017|2019|2021)$").all()
    assert (documents.status == "ok").sum() > 17_000
    assert documents[documents.sme_targeted.fillna(False)].initiative_id.nunique() == 844


@requires_data
def test_real_gb18030_notices_decode_to_chinese():
    local = sorted((data_dir() / "cn" / "local").iterdir())
    for path in local:
        text = decode_text(path.read_bytes())
        assert "的" in text and "\ufffd" not in text, path.name
