"""Tagging archives at scale: streamed chunks, worker processes or Dask, atomic parts and resume.

The documents of the inputs are read as a stream and cut into chunks of
``chunk_size`` documents. The stream order is deterministic (sorted folder walks,
file order inside tables and archives), so chunk *k* always holds the same
documents. Each chunk is tagged by a worker and written atomically as
``OUT.parts/chunk-<k>.parquet`` (temporary file + rename). A run that dies at any
moment, even ``kill -9``, leaves only complete parts; ``--resume`` skips them, so
every input ends up tagged exactly once. When all chunks are done, the parts are
streamed into the final output, also written atomically.

Memory is bounded by the chunk size and the number of chunks in flight
(``2 x jobs``), not by the size of the archive.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .corpus import spreadsheet_safe
from .documents import Document
from .ingest import DEFAULT_LIMITS, iter_documents, parse_spec
from .tagger import PolicyClassifier, documents_from_texts

JSON_COLUMNS = ("types", "scores", "evidence")
MEASURE_COLUMNS = ["doc_id", "measure_id", "order", "lang", "start", "end", "text", "types", "primary", "orientation",
                   "p_production", "p_knowledge", "p_partnership", "p_cluster", "p_lead_firm", "p_network", "p_neutral",
                   "ood", "ood_reason"]


# ---------------------------------------------------------------- inputs


def iter_input_documents(inputs: Iterable[str], stdin=None) -> Iterator[Document]:
    """Documents from every input: ``-`` (text on stdin), or anything ``ingest`` reads.

    A JSON Lines file of ``{"id", "text"}`` rows is a table: each row one document, its id kept.
    """
    for spec in inputs:
        if spec == "-":
            text = (stdin or sys.stdin).read()
            yield from documents_from_texts(pd.DataFrame({"id": ["stdin"], "text": [text]}), corpus="stdin")
            continue
        corpus, path = parse_spec(spec)
        yield from iter_documents(path, corpus, DEFAULT_LIMITS)


def count_documents(inputs: Iterable[str]) -> int | None:
    """How many documents (and error rows) the inputs hold, for a progress bar with an ETA.

    A quick reading pass without segmentation or tagging; unknown (None) for stdin.
    """
    if "-" in inputs:
        return None
    return sum(1 for _ in iter_input_documents(inputs))


def chunked(documents: Iterable[Document], size: int) -> Iterator[tuple[int, list[Document]]]:
    iterator = iter(documents)
    for index in itertools.count():
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield index, chunk


# ---------------------------------------------------------------- one chunk (runs in a worker)

_WORKER_MODEL: dict = {}


def _classifier(model_path: str | None) -> PolicyClassifier:
    key = model_path or ""
    if key not in _WORKER_MODEL:
        _WORKER_MODEL[key] = PolicyClassifier.load(model_path)
    return _WORKER_MODEL[key]


def tag_chunk(index: int, documents: list[Document], parts_dir: str, model_path: str | None, with_measures: bool) -> dict:
    """Tag one chunk and write its part files atomically; returns counts for the progress report."""
    frame, measures = _classifier(model_path).tag_documents(documents, with_measures=True)
    parts = Path(parts_dir)
    _write_atomic(_for_parquet(frame), parts / f"chunk-{index:06d}.parquet")
    if with_measures:
        _write_atomic(_for_parquet(measures.reindex(columns=MEASURE_COLUMNS)), parts / f"measures-{index:06d}.parquet")
    return {"index": index, "documents": len(frame), "errors": int((frame["error"] != "").sum()),
            "measures": int(frame["n_measures"].sum())}


def _for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    """One stable schema for every chunk: nested values as JSON text, explicit dtypes even for all-null columns."""
    frame = frame.copy()
    for col in frame.columns:
        values = frame[col]
        if col in JSON_COLUMNS or (values.dtype == object and values.map(lambda v: isinstance(v, (list, dict))).any()):
            frame[col] = values.map(lambda v: json.dumps(v, ensure_ascii=False)).astype("string")
        elif col in ("year", "wave"):
            frame[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif col in ("ood", "sme_targeted"):
            frame[col] = values.astype("boolean")
        elif values.dtype == object or str(values.dtype) in ("str", "string"):
            frame[col] = values.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)).astype("string")
    return frame


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


# ---------------------------------------------------------------- runs


@dataclass
class RunSummary:
    documents: int = 0
    errors: int = 0
    measures: int = 0
    chunks_done: int = 0
    chunks_skipped: int = 0

    @property
    def tagged(self) -> int:
        return self.documents - self.errors


def parts_dir_for(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _run_key(inputs: list[str], chunk_size: int, model_path: str | None, with_measures: bool) -> str:
    spec = json.dumps({"inputs": inputs, "chunk_size": chunk_size, "model": str(model_path or ""),
                       "measures": with_measures}, sort_keys=True)
    return hashlib.sha256(spec.encode()).hexdigest()


def prepare_parts(out: Path, key: str, resume: bool) -> Path:
    """The parts folder of this run; a resumed run must have the same inputs and settings."""
    parts = parts_dir_for(out)
    marker = parts / "RUN"
    if parts.exists() and not resume:
        shutil.rmtree(parts)
    if parts.exists() and marker.exists() and marker.read_text() != key:
        raise ValueError(f"{parts} belongs to a run with other inputs or settings; rerun without --resume to start over")
    parts.mkdir(parents=True, exist_ok=True)
    marker.write_text(key)
    return parts


def run_tagging(inputs: list[str], out: Path, *, chunk_size: int = 200, jobs: int = 1, resume: bool = False,
                with_measures: bool = False, model_path: str | None = None, engine: str = "local",
                scheduler: str | None = None, stdin=None, on_chunk: Callable[[dict], None] | None = None) -> RunSummary:
    out = Path(out)
    key = _run_key(inputs, chunk_size, model_path, with_measures)
    parts = prepare_parts(out, key, resume)
    summary = RunSummary()
    done = {int(p.stem.split("-")[1]) for p in parts.glob("chunk-*.parquet")}
    pending = ((i, chunk) for i, chunk in chunked(iter_input_documents(inputs, stdin), chunk_size) if i not in done)
    submit = _dask_submitter(scheduler) if engine == "dask" else _local_submitter(jobs)
    with submit as pool:
        for result in pool.map_bounded(pending, str(parts), model_path, with_measures, window=2 * max(jobs, 1)):
            summary.chunks_done += 1
            if on_chunk:
                on_chunk(result)
    summary.chunks_skipped = len(done)
    _collect(parts, out, with_measures, summary)
    return summary


def _collect(parts: Path, out: Path, with_measures: bool, summary: RunSummary) -> None:
    """Stream the parts, in chunk order, into the final output (atomically)."""
    files = sorted(parts.glob("chunk-*.parquet"))
    summary.documents = summary.errors = summary.measures = 0
    for path in files:
        table = pq.read_table(path, columns=["error", "n_measures"]).to_pandas()
        summary.documents += len(table)
        summary.errors += int((table["error"] != "").sum())
        summary.measures += int(table["n_measures"].sum())
    write_parts(files, out)
    if with_measures:
        write_parts(sorted(parts.glob("measures-*.parquet")), measures_path(out))


def measures_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.measures{out.suffix}")


def write_parts(files: list[Path], out: Path) -> None:
    """Concatenate part files into ``out`` (.parquet, .jsonl or .csv) one part at a time."""
    tmp = out.with_name(f".{out.name}.tmp")
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".jsonl", ".csv"):
        raise ValueError(f"unsupported output format '{out.suffix}' (use .parquet, .jsonl or .csv)")
    writer = None
    with open(tmp, "wb") as handle:
        for number, path in enumerate(files):
            frame = pq.read_table(path).to_pandas()
            if suffix == ".parquet":
                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(handle, table.schema)
                writer.write_table(table.cast(writer.schema))
            elif suffix == ".jsonl":
                for col in JSON_COLUMNS:
                    if col in frame:
                        frame[col] = frame[col].map(json.loads)
                handle.write(frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8"))
            else:
                handle.write(spreadsheet_safe(frame).to_csv(index=False, header=number == 0).encode("utf-8"))
        if writer:
            writer.close()
    if suffix == ".parquet" and writer is None:
        pd.DataFrame().to_parquet(tmp)
    tmp.replace(out)


# ---------------------------------------------------------------- engines


class _local_submitter:
    """Chunks tagged in this process (jobs=1) or in worker processes, with a bounded window in flight."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = None

    def __enter__(self):
        if self.jobs > 1:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        return self

    def __exit__(self, *exc):
        if self.pool:
            self.pool.shutdown(cancel_futures=True)

    def map_bounded(self, chunks, parts, model_path, with_measures, window):
        if self.pool is None:
            for index, docs in chunks:
                yield tag_chunk(index, docs, parts, model_path, with_measures)
            return
        yield from _bounded(lambda i, d: self.pool.submit(tag_chunk, i, d, parts, model_path, with_measures),
                            chunks, window, lambda fs: wait(fs, return_when=FIRST_COMPLETED)[0])


class _dask_submitter:
    """The same chunks as tasks on an existing Dask cluster (``--scheduler ADDRESS``)."""

    def __init__(self, scheduler: str | None):
        if not scheduler:
            raise ValueError("--engine dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
        self.scheduler = scheduler

    def __enter__(self):
        from distributed import Client

        self.client = Client(self.scheduler)
        return self

    def __exit__(self, *exc):
        self.client.close()

    def map_bounded(self, chunks, parts, model_path, with_measures, window):
        from distributed import wait as dask_wait

        yield from _bounded(lambda i, d: self.client.submit(tag_chunk, i, d, parts, model_path, with_measures, pure=False),
                            chunks, window, lambda fs: dask_wait(fs, return_when="FIRST_COMPLETED").done)


def _bounded(submit, chunks, window: int, wait_some):
    """Keep at most ``window`` chunks in flight; yield results as they complete."""
    in_flight = set()
    for index, docs in chunks:
        in_flight.add(submit(index, docs))
        if len(in_flight) >= window:
            finished = wait_some(in_flight)
            for future in finished:
                in_flight.discard(future)
                yield future.result()
    while in_flight:
        finished = wait_some(in_flight)
        for future in finished:
            in_flight.discard(future)
            yield future.result()
