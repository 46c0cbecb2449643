"""Tagging throughput, its ratio to the floor, and memory as the input grows.

    python benchmarks/bench_tag.py [DATA_DIR] [--replicate 10] [--model DIR] [--jobs-list 1,2] [--warm] [--skip-memory]

Every run starts from an empty embedding cache (``--warm`` uses the user's), so the figure is
that of a corpus tagged for the first time, sentence encoder included.

1. The floor: reading the same inputs, segmenting them and tokenizing every measure
   with the same spaCy/jieba tokenizers, and nothing else.
2. The whole pipeline (``run_tagging``) on the real corpora with ``--jobs 1`` and
   ``--jobs 2``: measures/s, MB/s (of measure text) and peak memory (the largest
   resident set among the run's processes: with ``--jobs 2`` each worker's), and the
   ratio of its time to the floor's.
3. Memory flatness: the Chinese corpus and the same corpus copied ``--replicate`` times
   are tagged with the same chunk size; peak memory should stay within 20%.

Each measurement runs in a fresh subprocess, so peak memory is the run's own.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def run_floor(specs: list[str]) -> dict:
    from classifier.batch import chunked, iter_input_documents
    from classifier.corpus import document_rows
    from classifier.featurize import tokenize

    started, measures, text_bytes = time.perf_counter(), 0, 0
    for _, chunk in chunked(iter_input_documents(specs), 200):
        texts = [row["text"] for doc in chunk for row in document_rows(doc) if row["status"] == "ok"]
        tokenize(texts)
        measures += len(texts)
        text_bytes += sum(len(t.encode("utf-8")) for t in texts)
    return {"seconds": time.perf_counter() - started, "measures": measures, "text_mb": text_bytes / 1e6, "peak_mb": peak_mb()}


def run_pipeline(specs: list[str], jobs: int, model: str | None) -> dict:
    from classifier.batch import run_tagging

    out = Path(tempfile.mkdtemp()) / "tagged.parquet"
    started = time.perf_counter()
    summary = run_tagging(specs, out, jobs=jobs, model_path=model)
    seconds = time.perf_counter() - started
    shutil.rmtree(out.parent)
    return {"seconds": seconds, "measures": summary.measures, "documents": summary.documents, "peak_mb": peak_mb()}


def in_subprocess(kind: str, specs: list[str], jobs: int = 1, model: str | None = None, warm: bool = False) -> dict:
    """One measurement in a fresh process; with an empty embedding cache unless ``warm`` (a first
    run on a corpus embeds every text the gate hands to the encoder; a second run reads the cache)."""
    args = [sys.executable, __file__, "--child", kind, "--jobs", str(jobs), "--specs", json.dumps(specs)]
    if model:
        args += ["--model", model]
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ if warm else {**os.environ, "CLASSIFIER_CACHE": cache}
        result = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def size_mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for root in paths for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", default=os.environ.get("CLASSIFIER_DATA", "../shared/data"))
    parser.add_argument("--replicate", type=int, default=10)
    parser.add_argument("--model")
    parser.add_argument("--child")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--specs")
    parser.add_argument("--jobs-list", default="1,2", help="the --jobs values to measure the whole pipeline with")
    parser.add_argument("--warm", action="store_true", help="use the user's embedding cache (default: an empty one)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory-flatness measurement")
    args = parser.parse_args()
    if args.child:
        specs = json.loads(args.specs)
        result = run_floor(specs) if args.child == "floor" else run_pipeline(specs, args.jobs, args.model)
        print(json.dumps(result))
        return

    data = Path(args.data)
    specs = [f"oecd={data / 'oecd'}", f"cn={data / 'cn'}"]
    floor = in_subprocess("floor", specs)
    megabytes = floor["text_mb"]  # UTF-8 text of the measures (the inputs on disk are partly gzip-compressed)
    print(f"inputs: {size_mb([data / 'oecd', data / 'cn']):.1f} MB on disk, {megabytes:.1f} MB of measure text")
    print(f"floor (read + segment + tokenize): {floor['measures']:,} measures in {floor['seconds']:.1f}s "
          f"= {floor['measures'] / floor['seconds']:,.0f} measures/s, peak {floor['peak_mb']:,.0f} MB")
    for jobs in (int(j) for j in args.jobs_list.split(",")):
        run = in_subprocess("pipeline", specs, jobs, args.model, args.warm)
        print(f"tag --jobs {jobs}: {run['measures']:,} measures ({run['documents']:,} documents) in {run['seconds']:.1f}s "
              f"= {run['measures'] / run['seconds']:,.0f} measures/s, {megabytes / run['seconds']:.2f} MB/s, "
              f"peak {run['peak_mb']:,.0f} MB; {run['seconds'] / floor['seconds']:.2f}x the floor"
              f" ({'warm' if args.warm else 'empty'} embedding cache)")
    if args.skip_memory:
        return

    with tempfile.TemporaryDirectory() as tmp:
        grown = Path(tmp) / "cn10"
        for copy in range(args.replicate):
            shutil.copytree(data / "cn", grown / f"copy{copy}")
        small = in_subprocess("pipeline", [f"cn={data / 'cn'}"], 1, args.model)
        large = in_subprocess("pipeline", [f"cn={grown}"], 1, args.model)
    growth = large["peak_mb"] / small["peak_mb"] - 1
    print(f"memory: cn corpus {small['measures']:,} measures peak {small['peak_mb']:,.0f} MB; "
          f"{args.replicate}x ({large['measures']:,} measures) peak {large['peak_mb']:,.0f} MB ({growth:+.0%})")


if __name__ == "__main__":
    main()
