"""Resume, concurrent runs and the tag command's output contract."""
import fcntl
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import typer.main

from classifier.batch import RunError, RunMismatch, chunk_dir, parts_dir_for, run_tagging
from classifier.cli import app

from conftest import ROOT


def write_docs(path, n, start=0):
    path.write_text("\n".join(json.dumps({"id": f"d{i}", "text": f"Grants for consortia of {i} SMEs with universities."
                                          f"\n\nSupply chain finance for {i} suppliers."}) for i in range(start, start + n)),
                    encoding="utf-8")


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "classifier", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_a_chunk_with_a_missing_or_truncated_part_is_tagged_again(tiny_model, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_docs(source, 8)
    run = dict(chunk_size=2, with_measures=True, model_path=str(tiny_model), keep_parts=True)
    first = run_tagging([str(source)], out, **run)
    expected = out.read_bytes(), (tmp_path / "out.measures.jsonl").read_bytes()
    parts = parts_dir_for(out)
    (chunk_dir(parts, 1) / "measures.parquet").unlink()  # what kill -9 between two part files used to leave
    truncated = chunk_dir(parts, 2) / "documents.parquet"
    truncated.write_bytes(truncated.read_bytes()[:100])
    starts = []
    resumed = run_tagging([str(source)], out, resume=True, on_start=lambda total, kept: starts.append((total, kept)), **run)
    assert (resumed.chunks_skipped, resumed.chunks_done) == (2, 2)
    assert starts == [(8, 4)]  # progress counts documents, the kept ones apart
    assert (out.read_bytes(), (tmp_path / "out.measures.jsonl").read_bytes()) == expected
    assert resumed.measures == first.measures == len(pd.read_json(tmp_path / "out.measures.jsonl", lines=True))


def test_resume_is_refused_when_the_input_folder_changed(tiny_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text(f"Loans for {i} SMEs.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = dict(chunk_size=1, model_path=str(tiny_model), keep_parts=True)
    run_tagging([str(folder)], out, **run)
    assert run_tagging([str(folder)], out, resume=True, **run).chunks_skipped == 3  # unchanged: nothing redone
    (folder / "0a.txt").write_text("Vouchers for SMEs.", encoding="utf-8")  # shifts every later document
    with pytest.raises(RunMismatch, match="input files changed"):
        run_tagging([str(folder)], out, resume=True, **run)


def test_a_second_run_on_the_same_output_is_refused(tiny_model, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_docs(source, 2)
    parts = parts_dir_for(out)
    parts.mkdir()
    with open(parts / "LOCK", "w") as lock:  # a run in progress holds this lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("12345")
        lock.flush()
        result = cli("tag", str(source), "--out", str(out), "--model", str(tiny_model))
    assert result.returncode == 2 and "another run (pid 12345) is writing" in " ".join(result.stderr.split())
    assert (parts / "LOCK").exists() and not out.exists()


@pytest.mark.parametrize("out_name", ["in/out.jsonl", "out.txt", "in"])
def test_an_output_the_run_cannot_write_is_refused_before_any_work(tiny_model, tmp_path, out_name):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Loans for SMEs.", encoding="utf-8")
    started = []
    with pytest.raises(RunError, match="inside the input|unsupported output format|is a folder"):
        run_tagging([str(folder)], tmp_path / out_name, model_path=str(tiny_model), on_start=lambda *a: started.append(a))
    assert started == [] and sorted(p.name for p in folder.iterdir()) == ["a.txt"]


def test_a_complete_output_is_reused_by_a_resume(tiny_model, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    write_docs(source, 4)
    first = run_tagging([str(source)], out, chunk_size=2, with_measures=True, model_path=str(tiny_model))
    assert not parts_dir_for(out).exists()  # removed after success
    before = out.stat().st_mtime_ns
    again = run_tagging([str(source)], out, chunk_size=2, with_measures=True, model_path=str(tiny_model), resume=True)
    assert again.reused and again.documents == first.documents == 4 and out.stat().st_mtime_ns == before
    write_docs(source, 5)
    assert not run_tagging([str(source)], out, chunk_size=2, with_measures=True, model_path=str(tiny_model),
                           resume=True).reused  # no stale reuse: the new input is tagged
    assert len(pd.read_parquet(out)) == 5


def test_a_retrained_model_at_the_same_path_tags_again(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    source, out = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    write_docs(source, 3)
    run_tagging([str(source)], out, chunk_size=2, model_path=str(model))
    assert run_tagging([str(source)], out, chunk_size=2, model_path=str(model), resume=True).reused
    manifest = json.loads((model / "manifest.json").read_text())
    (model / "manifest.json").write_text(json.dumps({**manifest, "sha256": "0" * 64}))  # as a retrained model's
    again = run_tagging([str(source)], out, chunk_size=2, model_path=str(model), resume=True)
    assert not again.reused and again.documents == 3  # tagged again, not answered with the old model's tags


def test_jsonl_on_stdout_with_diagnostics_on_stderr(tiny_model, tmp_path):
    source = tmp_path / "in.jsonl"
    write_docs(source, 3)
    result = cli("tag", str(source), "--out", "-", "--model", str(tiny_model), "--chunk-size", "2")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["d0", "d1", "d2"]
    assert "inputs: 3 = tagged 3" in " ".join(result.stderr.split())
    assert not list(tmp_path.glob("*.parts")) and not (ROOT / "-.parts").exists()


def test_csv_output_has_one_column_per_score(tiny_model, tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.csv"
    write_docs(source, 3)
    run_tagging([str(source)], out, chunk_size=2, model_path=str(tiny_model))
    table = pd.read_csv(out)
    assert "scores" not in table and len(table) == 3
    scores = table[[c for c in table if c.startswith("score_")]]
    assert list(scores) == [f"score_{k}" for k in ("production", "knowledge", "partnership", "cluster", "lead_firm",
                                                    "network", "neutral")]
    assert scores.notna().all().all() and ((scores >= 0) & (scores <= 1)).all().all()


def test_every_option_has_help_and_flags_show_no_value_type():
    command = typer.main.get_command(app)
    for name in ("tag", "report", "ingest"):
        params = command.commands[name].params
        assert all(p.help for p in params), [p.name for p in params if not p.help]
        help_text = cli(name, "--help").stdout
        assert "<bool>" not in help_text and "--help" in help_text


def test_report_reuses_a_corpus_tagged_from_the_same_inputs_and_retags_a_changed_one(tiny_model, tmp_path):
    from classifier.report import load_or_tag

    said = []

    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(2):
        (folder / f"{i}.txt").write_text(f"Loans for {i} SMEs.", encoding="utf-8")
    first, _ = load_or_tag("c", folder, tmp_path / "report", 1, tiny_model, say=said.append)
    again, measures = load_or_tag("c", folder, tmp_path / "report", 1, tiny_model, say=said.append)
    assert any(m.startswith("c: reusing") for m in said) and again.equals(first) and len(measures) == 2
    said.clear()
    (folder / "2.txt").write_text("Vouchers for SMEs.", encoding="utf-8")
    changed, _ = load_or_tag("c", folder, tmp_path / "report", 1, tiny_model, say=said.append)
    assert len(changed) == 3 and not any("reusing" in m for m in said)


def test_dask_engine_closes_the_cluster_it_started_and_leaves_a_given_one_running(tiny_model, tmp_path):
    import psutil
    from distributed import Client, LocalCluster

    source = tmp_path / "in.jsonl"
    write_docs(source, 4)
    def helpers():  # multiprocessing's resource tracker lives as long as this process: not a Dask worker
        return {p.pid for p in psutil.Process().children(recursive=True)
                if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline())}

    before = helpers()
    own = run_tagging([str(source)], tmp_path / "own.jsonl", chunk_size=2, jobs=1, engine="dask",
                      model_path=str(tiny_model))
    assert own.documents == 4 and helpers() <= before
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        run_tagging([str(source)], tmp_path / "given.jsonl", chunk_size=2, engine="dask",
                    scheduler=cluster.scheduler_address, model_path=str(tiny_model))
        with Client(cluster) as client:
            assert client.submit(sum, [1, 2]).result() == 3  # still serving
    assert (tmp_path / "own.jsonl").read_bytes() == (tmp_path / "given.jsonl").read_bytes()
