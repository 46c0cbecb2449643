import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pandas as pd
import pytest

from classifier.batch import run_tagging
from classifier.tagger import PolicyClassifier

from conftest import FIXTURES, ROOT


@pytest.fixture(scope="module")
def clf(tiny_model):
    return PolicyClassifier.load(tiny_model)


def test_tag_texts_returns_one_row_per_document_with_labels_scores_and_evidence(clf):
    text = "各位代表：\n\n鼓励大企业向中小企业开放研发设计资源，带动产业链上下游中小企业协同发展。\n\n对小微企业贷款给予贴息支持。"
    docs, measures = clf.tag([text, "Vouchers let SMEs buy R&D services from universities."], measures=True)
    assert list(docs["id"]) == ["0", "1"]
    first = docs.iloc[0]
    assert first.primary in first.types or first.primary == "none"
    assert set(first.scores) == {"production", "knowledge", "partnership", "cluster", "lead_firm", "network", "neutral"}
    assert len(measures) >= 3 and {"p_production", "types", "ood"} <= set(measures.columns)
    for item in first.evidence:  # evidence offsets point at the right text of the document
        assert text[item["start"] : item["end"]] == item["text"][: item["end"] - item["start"]]
        for phrase in item["phrases"]:
            assert text[phrase["start"] : phrase["end"]] == phrase["phrase"]
    assert docs.iloc[1].primary == "knowledge"


def test_learned_part_is_a_scikit_learn_estimator(clf):
    type_proba, orientation_proba = clf.estimator.predict_proba(["Supply chain finance for SME suppliers."])
    assert type_proba.shape == (1, 4) and orientation_proba.shape == (1, 3)
    assert list(clf.estimator.predict(["Loans for SMEs."]).columns[:3]) == ["types", "primary", "orientation"]


def test_documents_far_from_training_data_are_flagged(clf):
    docs = clf.tag(["Les PME peuvent obtenir des subventions pour la recherche collaborative.",
                    "", "Quantum chromodynamics lattice simulations of gluon plasma in the early universe.", "支持中小企业特色产业集群建设公共技术服务平台。"])
    assert docs.ood.tolist() == [True, True, True, False]
    assert "unsupported language" in docs.ood_reason[0] and docs.error[1] == "empty text"
    assert "vocabulary coverage" in docs.ood_reason[2]


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "classifier", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_cli_tags_folders_archives_stip_exports_and_reports_counts(tiny_model, tmp_path):
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "Grants for consortia of SMEs that jointly develop a technology.")
        z.writestr("empty.txt", "")
    result = cli("tag", str(FIXTURES), str(archive), "--out", str(tmp_path / "out.parquet"), "--model", str(tiny_model))
    assert result.returncode == 0, result.stderr
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert "stip:501:2021" in set(out.doc_id) and any(d.endswith("in.zip!a.txt") for d in out.doc_id)
    assert (out.error != "").sum() == 1  # the empty archive member is an error row, not dropped
    assert f"inputs: {len(out)} = tagged {len(out) - 1} + error rows 1" in " ".join(result.stderr.split())


def test_jsonl_contract_keeps_ids_and_adds_labels(tiny_model, tmp_path):
    rows = [{"id": "p-1", "text": "大型企业向中小企业采购货物，付款期限最长不超过60日。"},
            {"id": 42, "text": "Low-interest loans to SMEs.", "lang": "en"}]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = cli("tag", str(source), "--out", str(tmp_path / "out.jsonl"), "--model", str(tiny_model))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [str(r["id"]) for r in out] == ["p-1", "42"]
    for row in out:
        assert isinstance(row["types"], list) and row["primary"] and row["orientation"]
        assert set(row["scores"]) >= {"production", "knowledge", "partnership", "cluster"}


def test_stdin_input(tiny_model, tmp_path):
    result = cli("tag", "-", "--out", str(tmp_path / "o.csv"), "--model", str(tiny_model),
                 input="Vouchers let SMEs buy R&D services from universities.")
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "o.csv").primary.tolist() == ["knowledge"]


def test_csv_output_is_safe_to_open_in_a_spreadsheet(tiny_model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "=HYPERLINK(\"http://x\")", "text": "=1+2 supply chain for SME suppliers"}), encoding="utf-8")
    run_tagging([str(source)], tmp_path / "out.csv", model_path=str(tiny_model), with_measures=True)
    cells = pd.read_csv(tmp_path / "out.csv", dtype=str).iloc[0]
    assert cells["id"].startswith("'=")
    measures = pd.read_csv(tmp_path / "out.measures.csv", dtype=str)
    assert measures.text[0].startswith("'=")


def many_docs(path, n=60):
    path.write_text("\n".join(json.dumps({"id": f"d{i}", "text": f"Grants for consortia of {i} SMEs with universities."})
                              for i in range(n)), encoding="utf-8")


def test_jobs_2_gives_the_same_output_as_jobs_1(tiny_model, tmp_path):
    source = tmp_path / "in.jsonl"
    many_docs(source, 20)
    one = run_tagging([str(source)], tmp_path / "one.parquet", chunk_size=3, jobs=1, model_path=str(tiny_model))
    two = run_tagging([str(source)], tmp_path / "two.parquet", chunk_size=3, jobs=2, model_path=str(tiny_model))
    assert one.documents == two.documents == 20
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "two.parquet"))


def test_resume_after_kill_9_tags_every_input_exactly_once(tiny_model, tmp_path):
    source = tmp_path / "in.jsonl"
    many_docs(source, 80)
    out = tmp_path / "out.jsonl"
    args = [sys.executable, "-m", "classifier", "tag", str(source), "--out", str(out), "--chunk-size", "2",
            "--model", str(tiny_model)]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = tmp_path / "out.jsonl.parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("chunk-*"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(list(parts.glob("chunk-*")))
    assert 3 <= done_before < 40 and not out.exists()  # killed mid-run
    resumed = subprocess.run([*args, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"d{i}" for i in range(80)) and len(ids) == len(set(ids))
    assert f"resumed {done_before}" in " ".join(resumed.stderr.split())


def test_resume_refuses_parts_of_a_different_run(tiny_model, tmp_path):
    source = tmp_path / "in.jsonl"
    many_docs(source, 4)
    run_tagging([str(source)], tmp_path / "o.parquet", chunk_size=2, model_path=str(tiny_model), keep_parts=True)
    with pytest.raises(ValueError, match="other inputs or settings"):
        run_tagging([str(source)], tmp_path / "o.parquet", chunk_size=3, resume=True, model_path=str(tiny_model))


def test_dask_engine_gives_the_same_output_as_the_local_engine(tiny_model, tmp_path):
    from distributed import LocalCluster

    source = tmp_path / "in.jsonl"
    many_docs(source, 12)
    run_tagging([str(source)], tmp_path / "local.parquet", chunk_size=5, model_path=str(tiny_model))
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        summary = run_tagging([str(source)], tmp_path / "dask.parquet", chunk_size=5, model_path=str(tiny_model),
                              engine="dask", scheduler=cluster.scheduler_address)
    assert summary.documents == 12
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "dask.parquet"))


def test_tampered_model_is_refused_with_a_clear_error(tiny_model, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    with open(copy / "model.skops", "ab") as handle:
        handle.write(b"x")
    result = cli("tag", "-", "--out", str(tmp_path / "o.csv"), "--model", str(copy), input="text")
    assert result.returncode == 2 and "does not match the manifest" in " ".join(result.stderr.split())


def test_stip_records_are_labeled_as_whole_records_with_field_evidence(clf):
    from classifier.ingest import iter_documents

    from conftest import FIXTURES

    docs = [d for d in iter_documents(FIXTURES / "stip_mini.csv", "oecd") if d.status == "ok"]
    frame, measures = clf.tag_documents(docs, with_measures=True)
    record = clf.estimator.predict([docs[0].text]).iloc[0]
    row = frame.iloc[0]
    assert row.types == record.types and row.primary == record.primary
    assert row.scores["production"] == round(record.p_production, 4)
    for item in row.evidence:  # evidence points at fields (measures) of the record
        assert item["measure_id"].startswith("stip:501:2021#")


def test_spacy_component_sets_labels_on_docs(tiny_model):
    import spacy

    import classifier.spacy_component  # noqa: F401  (registers the factory)

    nlp = spacy.blank("en")
    nlp.add_pipe("sme_policy_classifier", config={"model_path": str(tiny_model)})
    doc = nlp("Vouchers let SMEs buy R&D services from universities.")
    assert doc._.sme_primary == "knowledge" and "knowledge" in doc._.sme_types
    docs = list(nlp.pipe(["Loans for SMEs.", "Large buyers must pay SME suppliers within 30 days."]))
    assert [d._.sme_orientation for d in docs][0] == "neutral" and set(docs[1]._.sme_scores) >= {"production"}


def test_committed_default_model_loads_verified_and_tags_both_languages():
    clf = PolicyClassifier.load()  # models/default, hash-checked against its manifest
    docs = clf.tag(["大型企业向中小企业采购货物，付款期限最长不超过60日。",
                    "Vouchers let SMEs buy R&D services from universities and public research institutes."])
    assert docs.primary.tolist() == ["production", "knowledge"]
    assert clf.card["codebook_version"] == "1.2" and clf.card["metrics"]["model"]["lang=zh"]["n"] > 1000


def test_a_record_gets_the_same_labels_whatever_container_it_arrives_in(clf, tmp_path):
    """STIP row, JSON Lines row, .txt and .docx of the same programme text: one classification unit, one answer."""
    import docx

    from classifier.ingest import iter_documents

    record = next(d for d in iter_documents(FIXTURES / "stip_mini.csv", "oecd") if d.status == "ok")
    paragraphs = record.text.split("\n\n")
    (tmp_path / "record.txt").write_text(record.text, encoding="utf-8")
    (tmp_path / "record.jsonl").write_text(json.dumps({"id": "r", "text": record.text}) + "\n", encoding="utf-8")
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(tmp_path / "record.docx")
    docs = [record] + [d for name in ("record.txt", "record.jsonl", "record.docx")
                       for d in iter_documents(tmp_path / name, "input") if d.status == "ok"]
    assert len(docs) == 4
    frame = clf.tag_documents(docs)
    labels = frame[["types", "primary", "orientation"]].astype(str).drop_duplicates()
    assert len(labels) == 1, frame[["source", "types", "primary", "orientation"]]
    scores = pd.DataFrame(list(frame["scores"]))
    assert (scores.max() - scores.min()).max() < 1e-6  # the same probabilities, not just the same decision
