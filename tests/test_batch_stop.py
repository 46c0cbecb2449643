"""A real ``classifier tag --jobs 2`` run stopped by SIGKILL, SIGINT (terminal Ctrl-C) and SIGTERM."""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from classifier.batch import run_tagging

from conftest import ROOT

DOCUMENTS = 200
CHUNK_SIZE = 4


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("stop") / "in.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"d{i}", "text": f"Grants for consortia of {i} SMEs with universities."
                                          f"\n\nLoans to suppliers of lead firm {i}."}) for i in range(DOCUMENTS)),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(source, tiny_model, tmp_path_factory):
    """The output of an uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "out.jsonl"
    run_tagging([str(source)], out, chunk_size=CHUNK_SIZE, with_measures=True, model_path=str(tiny_model))
    return out


def tag_args(source, out, model):
    return [sys.executable, "-m", "classifier", "tag", str(source), "--out", str(out), "--jobs", "2",
            "--chunk-size", str(CHUNK_SIZE), "--measures", "--model", str(model)]


def start_run(source, out, model):
    """The run, in its own session (like a job in a terminal), once it has committed chunks with both workers up."""
    process = subprocess.Popen(tag_args(source, out, model), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    parts = out.with_name(out.name + ".parts")
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        workers = psutil.Process(process.pid).children(recursive=True)
        if len(workers) >= 2 and len(list(parts.glob("chunk-*"))) >= 4:
            return process, workers
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"the run did not get going: {process.communicate()[1][-2000:]}")


def still_running(processes):
    """Processes that have not exited (a zombie has exited: it only waits for its new parent to reap it)."""
    alive = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_no_worker_outlives_a_killed_run(source, tiny_model, tmp_path):
    process, workers = start_run(source, tmp_path / "out.jsonl", tiny_model)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 10
    while still_running(workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not still_running(workers)
    process.communicate()


@pytest.mark.parametrize("stop, code, name", [("terminal", 130, "SIGINT"), ("scheduler", 143, "SIGTERM")])
def test_a_stopped_run_exits_with_the_signal_and_resumes_to_the_same_output(source, reference, tiny_model, tmp_path,
                                                                           stop, code, name):
    out = tmp_path / "out.jsonl"
    process, workers = start_run(source, out, tiny_model)
    if stop == "terminal":  # Ctrl-C reaches the whole foreground process group, workers included
        os.killpg(process.pid, signal.SIGINT)
    else:  # a scheduler signals the main process only
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    message = stderr.strip().splitlines()[-1]
    assert message.startswith(f"interrupted by {name}:") and message.endswith(" ".join(tag_args(source, out, tiny_model)[3:]) + " --resume")
    assert "Traceback" not in stderr
    assert not still_running(workers)
    parts = out.with_name(out.name + ".parts")
    assert not out.exists() and not list(parts.glob(".*.tmp"))  # nothing half-written that looks finished
    kept = len(list(parts.glob("chunk-*")))
    assert 0 < kept < DOCUMENTS / CHUNK_SIZE

    resumed = subprocess.run([*tag_args(source, out, tiny_model), "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {kept}" in " ".join(resumed.stderr.split())
    assert out.read_bytes() == reference.read_bytes()
    measures = "out.measures.jsonl"
    assert (tmp_path / measures).read_bytes() == (reference.parent / measures).read_bytes()
    assert not parts.exists()


def test_only_the_pool_feeders_bad_descriptor_race_is_kept_off_stderr_at_a_stop():
    import errno
    import threading

    from classifier.batch import quiet_feeder_race

    seen = []
    hook = quiet_feeder_race(seen.append)
    feeder, other = threading.Thread(name="QueueFeederThread"), threading.Thread(name="worker")

    def raised(exc, thread):
        return threading.ExceptHookArgs([type(exc), exc, None, thread])

    hook(raised(OSError(errno.EBADF, "Bad file descriptor"), feeder))
    assert seen == []
    for args in (raised(OSError(errno.EPIPE, "Broken pipe"), feeder), raised(ValueError("x"), feeder),
                 raised(OSError(errno.EBADF, "Bad file descriptor"), other)):
        hook(args)
    assert len(seen) == 3
