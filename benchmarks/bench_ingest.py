"""Ingestion throughput and peak memory on the real corpora.

    python benchmarks/bench_ingest.py [DATA_DIR]

Prints documents/s, measures/s, MB/s (bytes of input files as stored) and the
peak resident memory of this process.
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

from classifier.corpus import IngestSummary, build_corpus


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CLASSIFIER_DATA", "../shared/data"))
    specs = [f"oecd={data / 'oecd'}", f"cn={data / 'cn'}"]
    size = sum(p.stat().st_size for name in ("oecd", "cn") for p in (data / name).rglob("*") if p.is_file())
    summary = IngestSummary()
    started = time.perf_counter()
    table = build_corpus(specs, summary=summary)
    seconds = time.perf_counter() - started
    documents = sum(summary.documents.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"inputs: {data} ({size / 1e6:.1f} MB on disk)")
    print(f"documents: {documents:,}  measures: {len(table):,}  seconds: {seconds:.1f}")
    print(f"throughput: {documents / seconds:,.0f} documents/s, {len(table) / seconds:,.0f} measures/s, {size / 1e6 / seconds:.2f} MB/s")
    print(f"peak memory (RSS): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
