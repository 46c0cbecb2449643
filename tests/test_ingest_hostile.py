"""Hostile and awkward inputs: each gets an error row (or a clear message) and the rest of the batch is kept."""
import io
import json
import os
import struct
import zipfile

import pandas as pd
import pytest

from classifier.corpus import build_corpus, document_rows, to_frame, write_table
from classifier.ingest import Limits, documents_from_table, iter_documents, iter_specs, read_bytes, read_stdin
from classifier.language import detect_lang
from classifier.segment import MAX_MEASURE_HARD_CHARS

from conftest import FIXTURES
from test_ingest import LAW, PROGRAMME, make_tar, make_zip

GOOD = PROGRAMME.encode()


def batch(tmp_path, name, data, **kw):
    """A folder with a good file and the hostile one; returns {source: (status, error)} of its corpus table."""
    (tmp_path / "good.txt").write_bytes(GOOD)
    (tmp_path / name).write_bytes(data)
    return rows_by_source(build_corpus([f"x={tmp_path}"], **kw))


def rows_by_source(table):
    return {row.source: (row.status, row.error) for row in table.drop_duplicates("source").itertuples()}


def assert_kept_and_failed(rows, source, reason):
    assert rows["good.txt"][0] == "ok"
    assert rows[source][0] == "failed" and reason in rows[source][1], rows[source]


# ---------------------------------------------------------------- structure


def test_single_object_json_is_one_document():
    docs = list(read_bytes(json.dumps({"id": "a", "text": "Vouchers for SMEs."}, indent=2).encode(), "one.json", "t"))
    assert [(d.doc_id, d.status) for d in docs] == [("t/one.json#a", "ok")]


def test_one_language_rule():
    assert detect_lang("第1条 2023-2025年 GDP 5.2%, CPI上涨") == "zh"
    assert detect_lang("Innovation vouchers for small firms.") == "en"
    assert detect_lang("2023 5.2%") == "und"


def test_library_and_cli_give_the_same_row_keys(tmp_path):
    rows = [{"id": "甲", "text": "推动产业链协同。"}, {"id": 7, "text": "Vouchers."}]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    from_file = [d.doc_id for d in iter_documents(tmp_path / "t.jsonl", "input")]
    from_frame = [d.doc_id for d in documents_from_table(pd.DataFrame(rows))]
    assert from_file == ["input/t.jsonl#甲", "input/t.jsonl#7"] and from_frame == ["input#甲", "input#7"]
    failed = list(read_bytes(b"", "x/empty.txt", "cn"))[0]
    assert failed.doc_id == "cn/x/empty.txt"


# ---------------------------------------------------------------- nothing lost, nothing merged


def test_corpus_table_is_a_first_class_input(tmp_path):
    table = build_corpus([f"fx={FIXTURES}"])
    write_table(table, tmp_path / "corpus.parquet")
    again = build_corpus([f"fx={tmp_path / 'corpus.parquet'}"])
    columns = ["doc_id", "measure_id", "start", "end", "text", "status"]
    assert again[columns].reset_index(drop=True).equals(table[columns].reset_index(drop=True))
    assert set(again.source) == set(table.source) and set(again.corpus) == {"fx"}


def test_input_columns_named_like_provenance_do_not_overwrite_it():
    rows = [{"id": "a", "doc_id": "x", "source": "elsewhere", "corpus": "other", "text": "Vouchers for SMEs."}]
    doc = documents_from_table(pd.DataFrame(rows))[0]
    row = document_rows(doc)[0]
    assert (row["doc_id"], row["source"], row["corpus"]) == ("input#a", "#a", "input")
    assert row["input_source"] == "elsewhere" and row["input_corpus"] == "other"


@pytest.mark.parametrize("name,data,reason", [
    ("empty.zip", make_zip({}), "empty archive"),
    ("empty.tar", make_tar({}, mode="w"), "empty archive"),
    ("header.csv", b"id,text\n", "no rows"),
    ("stip.csv", b"InitiativeID|NameEnglish|ShortDescription\nInitiativeID|Name|Short description\n", "no records"),
], ids=["zip", "tar", "csv", "stip"])
def test_empty_containers_and_tables_are_error_rows(tmp_path, name, data, reason):
    assert_kept_and_failed(batch(tmp_path, name, data), name, reason)


def test_fifo_and_unreadable_folder_are_error_rows(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_bytes(GOOD)
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if str(p).endswith("locked") else real_scandir(p))
    rows = batch(tmp_path, "other.txt", GOOD)
    assert_kept_and_failed(rows, "pipe.txt", "not a regular file")
    assert_kept_and_failed(rows, "locked", "unreadable folder")


def test_fifo_and_device_on_the_command_line_do_not_hang(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "good.txt").write_bytes(GOOD)
    docs = list(iter_specs([str(tmp_path / "fifo"), "/dev/zero", str(tmp_path / "good.txt")]))
    assert [d.status for d in docs] == ["failed", "failed", "ok"]
    assert all("not a regular file" in d.error for d in docs[:2])


def zip_with_bad_members() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a_encrypted.txt", GOOD)
        archive.writestr("b_deflate64.txt", GOOD)
        archive.writestr("c_corrupt.txt", GOOD)
        archive.writestr("d_good.txt", GOOD)
    data = bytearray(buffer.getvalue())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    for info in archive.infolist():  # patch local and central headers in place
        if info.filename == "a_encrypted.txt":
            _patch_flag(data, info, 0x1)
        elif info.filename == "b_deflate64.txt":
            _patch_method(data, info, 9)
        elif info.filename == "c_corrupt.txt":
            data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF  # flip a content byte: CRC error
    return bytes(data)


def _central_offset(data: bytearray, info) -> int:
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_len].decode() == info.filename:
            return at
        at = data.find(b"PK\x01\x02", at + 1)
    raise AssertionError(info.filename)


def _patch_flag(data, info, flag):
    for offset in (info.header_offset + 6, _central_offset(data, info) + 8):
        struct.pack_into("<H", data, offset, struct.unpack("<H", data[offset : offset + 2])[0] | flag)


def _patch_method(data, info, method):
    for offset in (info.header_offset + 8, _central_offset(data, info) + 10):
        struct.pack_into("<H", data, offset, method)


def test_good_zip_members_after_bad_ones_are_read(tmp_path):
    rows = batch(tmp_path, "bad.zip", zip_with_bad_members())
    assert rows["bad.zip!d_good.txt"][0] == "ok" and rows["good.txt"][0] == "ok"
    assert "encrypted" in rows["bad.zip!a_encrypted.txt"][1]
    assert "unsupported compression" in rows["bad.zip!b_deflate64.txt"][1]
    assert "corrupt" in rows["bad.zip!c_corrupt.txt"][1]


# ---------------------------------------------------------------- one input does not stop the batch


def test_a_measure_over_a_million_characters_is_split_below_spacy_max_length(tmp_path):
    huge = ("Vouchers let small firms buy research services. " * 25_000).encode()  # 1.2 M characters, one line
    table = build_corpus([f"x={_write(tmp_path, {'huge.txt': huge, 'good.txt': GOOD})}"])
    measures = table[table.source == "huge.txt"]
    assert len(measures) > 10 and (measures.text.str.len() <= MAX_MEASURE_HARD_CHARS).all()
    assert "".join(measures.text) == huge.decode().strip()  # cut between sentences, nothing lost
    assert (table[table.source == "good.txt"].status == "ok").all()


def _write(folder, files):
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_file_name_that_is_not_utf8_gets_a_printable_source(tmp_path):
    bad_name = os.fsdecode(b"caf\xe9.txt")
    (tmp_path / bad_name).write_bytes(GOOD)
    table = build_corpus([f"x={_write(tmp_path, {'good.txt': GOOD})}"])
    write_table(table, tmp_path / "out.parquet")  # would raise on a lone surrogate
    assert set(table.source) == {"caf\\xe9.txt", "good.txt"} and (table.status == "ok").all()


def test_unreadable_file_is_an_error_row():
    docs = list(iter_specs(["/proc/self/mem", str(FIXTURES / "programme_en.txt")]))
    assert docs[0].status == "failed" and "unreadable" in docs[0].error and docs[1].status == "ok"


def test_non_utf8_standard_input_is_decoded():
    docs = read_stdin(io.BytesIO("中小企业融通发展。".encode("gb18030")))
    assert docs[0].status == "ok" and docs[0].text == "中小企业融通发展。"


# ---------------------------------------------------------------- ids


def test_ids_are_kept_exactly_as_given_and_repeats_get_a_suffix(tmp_path):
    lines = [{"id": 0, "text": "a"}, {"id": "", "text": "b"}, {"text": "c"}, {"id": 7, "text": "d"},
             {"id": 2**53 + 1, "text": "e"}, {"id": 7, "text": "f"}, {"id": "x", "text": "g"}]
    data = "\n".join(json.dumps(r) for r in lines).encode()
    docs = list(read_bytes(data, "t.jsonl", "t"))
    keys = [d.doc_id.split("#", 1)[1] for d in docs]
    assert keys[0] == "0" and keys[3] == "7" and keys[4] == str(2**53 + 1) and keys[5] == "7~2" and keys[6] == "x"
    assert len(keys[1]) == 12 and len(keys[2]) == 12  # no id: the text's hash, not the position
    assert docs[0].meta["input_id"] == "0" and docs[4].meta["input_id"] == "9007199254740993"


def test_the_same_file_twice_and_repeated_member_names_are_not_pooled(tmp_path):
    (tmp_path / "a.txt").write_bytes(GOOD)
    twice = build_corpus([f"x={tmp_path / 'a.txt'}", f"x={tmp_path / 'a.txt'}"])
    assert sorted(twice.doc_id.unique()) == ["x/a.txt", "x/a.txt~2"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m.txt", GOOD)
        archive.writestr("m.txt", LAW.encode())
    docs = list(read_bytes(buffer.getvalue(), "dup.zip", "t"))
    assert [d.doc_id for d in docs] == ["t/dup.zip!m.txt", "t/dup.zip!m.txt~2"]


def test_bad_rows_are_rejected_alone_naming_the_line():
    csv_data = b'id,text\n1,good one\n2,too,many,fields\n3,good two\n'
    docs = list(read_bytes(csv_data, "t.csv", "t"))
    assert [d.status for d in docs] == ["ok", "failed", "ok"] and "line 3" in docs[1].error
    jsonl = b'{"id": "a", "text": ["a", "list"]}\n{"id": "b", "text": "bad \\ud800 surrogate"}\n{"id": "c", "text": "fine"}\n'
    docs = list(read_bytes(jsonl, "t.jsonl", "t"))
    assert [d.status for d in docs] == ["failed", "failed", "ok"]
    assert "line 1" in docs[0].error and "list" in docs[0].error and "surrogate" in docs[1].error
    to_frame(r for d in docs for r in document_rows(d)).to_parquet(io.BytesIO())


# ---------------------------------------------------------------- bombs


def test_one_budget_for_all_levels_of_one_input(tmp_path):
    small = Limits(max_input_bytes=3_500_000, max_file_bytes=3_000_000)
    text = bytes(range(32, 127)) * 10_000  # ~1 MB, barely compressible
    nested = make_zip({"inner.zip": make_zip({"a.txt": text, "b.txt": text}), "c.txt": text, "d.txt": text, "e.txt": text},
                    zipfile.ZIP_STORED)
    rows = batch(tmp_path, "nested.zip", nested, limits=small)
    assert any("size budget exhausted" in e for s, e in rows.values())
    assert any(e.startswith("not read: size budget") for s, e in rows.values())
    assert rows["good.txt"][0] == "ok"


@pytest.mark.parametrize("name,make", [
    ("bomb.tar.gz", lambda: make_tar({"zeros.txt": b"0" * 30_000_000}, mode="w:gz")),
    ("bomb.tar.bz2", lambda: make_tar({"zeros.txt": b"0" * 30_000_000}, mode="w:bz2")),
    ("bomb.csv.gz", lambda: __import__("gzip").compress(b"id,text\n" + b"0" * 30_000_000)),
], ids=["tar.gz", "tar.bz2", "csv.gz"])
def test_every_compressed_container_has_the_ratio_guard(tmp_path, name, make):
    rows = batch(tmp_path, name, make())
    assert rows["good.txt"][0] == "ok"
    assert any(s == "failed" and "bomb guard" in e for s, e in rows.values()), rows


def test_docx_bomb_is_refused_before_python_docx_opens_it(tmp_path):
    bomb = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b" " * 50_000_000})
    assert_kept_and_failed(batch(tmp_path, "bomb.docx", bomb), "bomb.docx", "bomb guard")
