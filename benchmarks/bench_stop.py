"""How fast a ``classifier tag --jobs 2`` run stops, and that no worker survives its parent.

    python benchmarks/bench_stop.py [--documents 20000] [--chunk-size 200] [--model DIR] [--repeat 3]

A synthetic JSON Lines input is tagged with the given (default: the shipped) model.
Once the run has committed its first chunk, it is sent SIGINT (to its process group,
as Ctrl-C in a terminal does), SIGTERM (to the main process, as a scheduler does) or
SIGKILL (to the main process). Printed: seconds from the signal to the exit of the
run (SIGINT/SIGTERM) or to the exit of its last worker (SIGKILL), the exit code, the
workers' resident memory when the signal was sent, and how many workers are alive
10 seconds after the signal.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def write_input(path: Path, documents: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(documents):
            handle.write(json.dumps({"id": f"d{i}", "text": f"大型企业向中小企业采购货物，付款期限最长不超过{i % 90}日。\n\n"
                                     f"Vouchers let {i} SMEs buy R&D services from universities."}, ensure_ascii=False))
            handle.write("\n")


def alive(processes) -> list:
    running = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                running.append(p)
        except psutil.NoSuchProcess:
            pass
    return running


def stop_once(source: Path, out: Path, how: str, chunk_size: int, model: str | None) -> dict:
    args = [sys.executable, "-m", "classifier", "tag", str(source), "--out", str(out), "--jobs", "2",
            "--chunk-size", str(chunk_size)] + (["--model", model] if model else [])
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    parts = out.with_name(out.name + ".parts")
    while process.poll() is None and not list(parts.glob("chunk-*")):
        time.sleep(0.02)
    workers = psutil.Process(process.pid).children(recursive=True)
    rss = [w.memory_info().rss / 2**20 for w in alive(workers)]
    sent = time.perf_counter()
    if how == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(getattr(signal, how))
    process.wait()
    while alive(workers) and time.perf_counter() - sent < 10:
        time.sleep(0.01)
    seconds = time.perf_counter() - sent
    message = process.stderr.read().strip().splitlines()[-1:] if process.stderr else []
    return {"seconds": seconds, "code": process.returncode, "rss": rss, "survivors": len(alive(workers)),
            "message": message[0] if message else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--model")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        write_input(source, args.documents)
        for how in ("SIGINT", "SIGTERM", "SIGKILL"):
            runs = [stop_once(source, Path(tmp) / f"{how}-{i}.jsonl", how, args.chunk_size, args.model)
                    for i in range(args.repeat)]
            times = [r["seconds"] for r in runs]
            what = "last worker gone" if how == "SIGKILL" else "run exited"
            print(f"{how}: {what} after median {statistics.median(times):.2f}s (max {max(times):.2f}s) over {len(runs)} runs; "
                  f"exit codes {sorted({r['code'] for r in runs})}; workers {len(runs[0]['rss'])} x "
                  f"{statistics.mean(runs[0]['rss'] or [0]):.0f} MB; alive after 10s: {sum(r['survivors'] for r in runs)}")
            if how != "SIGKILL":
                print(f"  stderr: {runs[0]['message']}")


if __name__ == "__main__":
    main()
