"""Tagging archives at scale: streamed chunks, worker processes or Dask, atomic parts and resume.

The documents of the inputs are read as a stream and cut into chunks of
``chunk_size`` documents. The stream order is deterministic (sorted folder walks,
file order inside tables and archives), so chunk *k* always holds the same
documents. Each chunk is tagged by a worker and committed as one unit: its part
files (``documents.parquet``, ``measures.parquet``) are written into a hidden
temporary folder that is then renamed to ``OUT.parts/chunk-<k>/``. A run that dies
at any moment, even ``kill -9``, leaves only complete chunks; ``--resume`` skips
them (after checking that their files can be read), so every input ends up tagged
exactly once. When all chunks are done, the parts are streamed into the final
output, also written atomically, and the parts folder is removed.

A run is keyed on its settings and on the identity of its inputs (every file with
its size and modification time; the text itself for stdin), so a resume after the
inputs changed is refused instead of mixing two different streams. One run at a
time holds the lock of an output.

Stopping: workers die with the run (``PR_SET_PDEATHSIG`` on Linux plus a watchdog
thread on the parent's pid), and :func:`stop_signals_raise` turns SIGINT/SIGTERM into
:class:`Interrupted`, on which in-flight chunks are abandoned (their temporary
folders removed) and the workers terminated at once.

Memory is bounded by the chunk size and the number of chunks in flight
(``2 x jobs``), not by the size of the archive.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import io
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .corpus import spreadsheet_safe
from .documents import Document
from .codebook import LABELS, ORIENTATIONS
from .ingest import DEFAULT_LIMITS, iter_documents, parse_spec
from .tagger import PolicyClassifier, documents_from_texts

STDOUT = "-"
OUTPUT_SUFFIXES = (".parquet", ".jsonl", ".csv")
JSON_COLUMNS = ("types", "scores", "evidence")
SCORE_KEYS = (*LABELS, *ORIENTATIONS)
MEASURE_COLUMNS = ["doc_id", "measure_id", "order", "lang", "start", "end", "text", "types", "primary", "orientation",
                   "p_production", "p_knowledge", "p_partnership", "p_cluster", "p_lead_firm", "p_network", "p_neutral",
                   "ood", "ood_reason", "embedded"]
RUN_METADATA_KEY = b"classifier_run"  # Parquet schema metadata: the run key an output was made by


class RunError(ValueError):
    """A run that cannot start as asked (wrong output, locked output, changed inputs); the message says why."""


class RunMismatch(RunError):
    """A resume asked for parts that were made from other inputs or settings."""


# ---------------------------------------------------------------- stopping


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the run stops, finished chunks stay for a resume."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell convention: 130 for SIGINT, 143 for SIGTERM


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_signals_raise():
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread while inside this block."""
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init(parent_pid: int) -> None:
    """Workers never outlive the run, and leave stopping to the parent.

    SIGINT from a terminal reaches the whole process group; the parent decides what
    happens, so workers ignore it. The parent's SIGTERM handler (inherited through
    fork) is reset so that terminating a worker simply ends it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True, name="parent-watchdog").start()


def _exit_when_orphaned(parent_pid: int, interval: float = 0.5) -> None:
    """The portable fallback: an orphan is re-parented, so its parent pid changes."""
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(1)


# ---------------------------------------------------------------- inputs


def read_stdin(inputs: Iterable[str], stdin=None) -> str | None:
    """The text of ``-`` (read once: it is both hashed into the run key and tagged)."""
    return (stdin or sys.stdin).read() if STDOUT in inputs else None


def iter_input_documents(inputs: Iterable[str], stdin_text: str | None = None) -> Iterator[Document]:
    """Documents from every input: ``-`` (text on stdin), or anything ``ingest`` reads.

    A JSON Lines file of ``{"id", "text"}`` rows is a table: each row one document, its id kept.
    Text on stdin is one document; its measures are separated by blank lines.
    """
    for spec in inputs:
        if spec == STDOUT:
            yield from documents_from_texts(pd.DataFrame({"id": ["stdin"], "text": [stdin_text or ""]}), corpus="stdin")
            continue
        corpus, path = parse_spec(spec)
        yield from iter_documents(path, corpus, DEFAULT_LIMITS)


def count_documents(inputs: Iterable[str], stdin_text: str | None = None) -> int:
    """How many documents (and error rows) the inputs hold, for a progress bar with an ETA.

    A quick reading pass without segmentation or tagging.
    """
    return sum(1 for _ in iter_input_documents(inputs, stdin_text))


def input_identity(inputs: list[str], stdin_text: str | None) -> list:
    """What the inputs are, cheaply: every file with its size and modification time (or the stdin text's hash)."""
    identity = []
    for spec in inputs:
        if spec == STDOUT:
            identity.append([spec, hashlib.sha256((stdin_text or "").encode()).hexdigest()])
            continue
        _, path = parse_spec(spec)
        files = sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()) if path.is_dir() else [path]
        identity.append([spec, [[f.relative_to(path).as_posix() if path.is_dir() else f.name, *_size_and_mtime(f)]
                                for f in files]])
    return identity


def _size_and_mtime(path: Path) -> list[int]:
    try:
        stat = path.stat()
    except OSError:  # missing or a broken link: the reader reports it as an error row
        return [-1, -1]
    return [stat.st_size, stat.st_mtime_ns]


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
    """Tag one chunk and commit its part files as one unit; returns counts for the progress report."""
    frame, measures = _classifier(model_path).tag_documents(documents, with_measures=True)
    files = {"documents": _for_parquet(frame)}
    if with_measures:
        files["measures"] = _for_parquet(measures.reindex(columns=MEASURE_COLUMNS))
    commit_chunk(Path(parts_dir), index, files)
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


# ---------------------------------------------------------------- the parts folder


def chunk_dir(parts: Path, index: int) -> Path:
    return parts / f"chunk-{index:06d}"


def commit_chunk(parts: Path, index: int, files: dict[str, pd.DataFrame]) -> None:
    """Write all part files of a chunk into a hidden folder, then rename it: a chunk is there whole or not at all."""
    final = chunk_dir(parts, index)
    staging = parts / f".{final.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name, frame in files.items():
        frame.to_parquet(staging / f"{name}.parquet", index=False)
    try:
        staging.rename(final)
    except OSError:  # another writer (an abandoned Dask task) committed the same chunk first
        shutil.rmtree(staging, ignore_errors=True)
        if not final.is_dir():
            raise


def chunk_rows(folder: Path, names: tuple[str, ...]) -> int | None:
    """Documents in a committed chunk, or None when one of its files is missing or cannot be read (truncated)."""
    try:
        counts = [pq.read_metadata(folder / f"{name}.parquet").num_rows for name in names]
    except (OSError, pa.ArrowException):
        return None
    return counts[0]


def part_names(with_measures: bool) -> tuple[str, ...]:
    return ("documents", "measures") if with_measures else ("documents",)


def finished_chunks(parts: Path, with_measures: bool) -> dict[int, int]:
    """Chunk index -> documents, for chunks whose files are all readable; broken chunks are removed to be redone."""
    remove_staging(parts)  # left by a killed run
    done = {}
    for folder in sorted(parts.glob("chunk-*")):
        rows = chunk_rows(folder, part_names(with_measures)) if folder.is_dir() else None
        if rows is None:
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
            continue
        done[int(folder.name.split("-")[1])] = rows
    return done


def parts_dir_for(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


@contextlib.contextmanager
def locked(parts: Path, out: Path):
    """Hold the lock of an output for the whole run; a second run on the same ``--out`` is refused."""
    while True:
        parts.mkdir(parents=True, exist_ok=True)
        path = parts / "LOCK"
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise RunError(f"another run (pid {holder}) is writing {out}; wait for it to finish or choose another --out")
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break  # not a lock file that the previous holder removed after we opened it
        handle.close()
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        handle.close()


def _run_settings(chunk_size: int, model_path: str | None, with_measures: bool) -> dict:
    """What a run's output depends on besides its inputs; the model by its file's SHA-256, so a retrained model
    at the same path is never answered with the old model's tags."""
    return {"chunk_size": chunk_size, "model": str(model_path or ""), "model_sha256": _model_sha256(model_path),
            "measures": with_measures}


def _model_sha256(model_path: str | None) -> str:
    from .persist import MANIFEST, read_manifest
    from .tagger import model_dir

    directory = model_dir(model_path)
    return read_manifest(directory)["sha256"] if (directory / MANIFEST).exists() else ""


def _run_key(identity: list, settings: dict) -> str:
    return hashlib.sha256(json.dumps([identity, settings], sort_keys=True).encode()).hexdigest()


def prepare_parts(parts: Path, key: str, resume: bool, settings: dict) -> None:
    """Empty the parts folder for a new run; a resumed run must have the same inputs and settings."""
    marker = parts / "RUN"
    if resume and marker.exists():
        before = _read_marker(marker)
        if before.get("key") != key:
            changed = [k for k in settings if before.get("settings", {}).get(k) != settings[k]] or ["input files"]
            raise RunMismatch(f"cannot resume: {parts} belongs to a run with other inputs or settings "
                           f"({', '.join(changed)} changed since); rerun without --resume to start over")
    if not (resume and marker.exists()):  # a new run, or parts of unknown origin
        for item in parts.iterdir():
            if item.name != "LOCK":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    marker.write_text(json.dumps({"key": key, "settings": settings}))


def _read_marker(marker: Path) -> dict:
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):  # unreadable, or written by an older version
        return {}


def remove_staging(parts: Path) -> None:
    """Temporary folders of chunks that were being written when the run stopped."""
    for staging in parts.glob(".chunk-*.tmp"):
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- runs


@dataclass
class RunSummary:
    documents: int = 0
    errors: int = 0
    measures: int = 0
    chunks_done: int = 0
    chunks_skipped: int = 0
    reused: bool = False  # the output was already complete for these inputs and settings

    @property
    def tagged(self) -> int:
        return self.documents - self.errors


def check_output(out: Path | str, with_measures: bool, resume: bool) -> Path | None:
    """Refuse an output the run cannot write, before any work; None means JSON Lines on stdout."""
    if str(out) == STDOUT:
        if with_measures or resume:
            raise RunError("--out - (JSON Lines on standard output) cannot be combined with --measures or --resume; "
                           "write to a file for those")
        return None
    out = Path(out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise RunError(f"unsupported output format '{out.suffix}' for {out} (use .parquet, .jsonl or .csv, or - for stdout)")
    if out.is_dir():
        raise RunError(f"--out {out} is a folder; give a file name such as {out / 'tagged.parquet'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def refuse_output_inside_inputs(inputs: list[str], out: Path) -> None:
    """The run's own output and parts must not become its inputs (tagged on the next resume, or mid-run)."""
    targets = [out.resolve(), parts_dir_for(out).resolve()]
    for spec in inputs:
        if spec == STDOUT:
            continue
        source = parse_spec(spec)[1].resolve()
        if any(t == source or (source.is_dir() and t.is_relative_to(source)) for t in targets):
            raise RunError(f"--out {out} is inside the input {source}: the run would tag its own output; "
                           "write it outside the input folders")


def run_tagging(inputs: list[str], out: Path | str, *, chunk_size: int = 200, jobs: int = 1, resume: bool = False,
                with_measures: bool = False, model_path: str | None = None, engine: str = "local",
                scheduler: str | None = None, stdin=None, keep_parts: bool = False,
                on_start: Callable[[int, int], None] | None = None,
                on_chunk: Callable[[dict], None] | None = None) -> RunSummary:
    """Tag every input into ``out`` (a file, or ``-`` for JSON Lines on stdout).

    ``on_start(documents, kept)`` is called once the run really starts work (not when
    the output is reused), with the documents of the inputs and those already tagged in
    chunks a resume keeps; ``on_chunk`` once per chunk tagged.
    """
    target = check_output(out, with_measures, resume)
    if target is not None:
        refuse_output_inside_inputs(inputs, target)
    stdin_text = read_stdin(inputs, stdin)
    settings = _run_settings(chunk_size, model_path, with_measures)
    key = _run_key(input_identity(inputs, stdin_text), settings)
    if target is not None and resume and output_is_current(target, key, with_measures):
        return summary_of_output(target)
    with _parts_folder(target) as parts, locked(parts, target or Path(STDOUT)):
        prepare_parts(parts, key, resume, settings)
        try:
            summary = _tag_pending(inputs, stdin_text, parts, chunk_size, jobs, with_measures, model_path, engine,
                                   scheduler, on_start, on_chunk)
        except BaseException:  # stopped or failed: finished chunks stay, nothing half-written does
            remove_staging(parts)
            raise
        _collect(parts, target, with_measures, summary, key)
        if target is not None and not keep_parts:
            shutil.rmtree(parts)
    return summary


@contextlib.contextmanager
def _parts_folder(target: Path | None):
    """``OUT.parts`` next to the output; a throw-away folder when the output is stdout (nothing to resume)."""
    if target is not None:
        yield parts_dir_for(target)
        return
    with tempfile.TemporaryDirectory(prefix="classifier-tag-") as tmp:
        yield Path(tmp)


def _tag_pending(inputs, stdin_text, parts, chunk_size, jobs, with_measures, model_path, engine, scheduler,
                 on_start, on_chunk) -> RunSummary:
    summary = RunSummary()
    on_chunk = on_chunk or (lambda result: None)
    done = finished_chunks(parts, with_measures)
    summary.chunks_skipped = len(done)
    if on_start:
        on_start(count_documents(inputs, stdin_text), sum(done.values()))
    pending = ((i, chunk) for i, chunk in chunked(iter_input_documents(inputs, stdin_text), chunk_size) if i not in done)
    submitter = _dask_submitter(scheduler, jobs) if engine == "dask" else _local_submitter(jobs)
    with submitter as pool:
        for result in pool.map_bounded(pending, str(parts), model_path, with_measures, window=2 * max(jobs, 1)):
            summary.chunks_done += 1
            on_chunk(result)
    return summary


def _collect(parts: Path, target: Path | None, with_measures: bool, summary: RunSummary, key: str) -> None:
    """Stream the parts, in chunk order, into the final output (atomically)."""
    folders = sorted(p for p in parts.glob("chunk-*") if p.is_dir())
    files = [folder / "documents.parquet" for folder in folders]
    _count_into(summary, files)
    write_parts(files, target, key)
    if with_measures:
        write_parts([folder / "measures.parquet" for folder in folders], measures_path(target), key)


def _count_into(summary: RunSummary, files: list[Path]) -> None:
    summary.documents = summary.errors = summary.measures = 0
    for path in files:
        table = pq.read_table(path, columns=["error", "n_measures"]).to_pandas()
        summary.documents += len(table)
        summary.errors += int((table["error"] != "").sum())
        summary.measures += int(table["n_measures"].sum())


def output_is_current(out: Path, key: str, with_measures: bool) -> bool:
    """A Parquet output (and its measures) made by a run with the same key needs no work."""
    paths = [out, measures_path(out)] if with_measures else [out]
    if out.suffix.lower() != ".parquet" or not all(p.exists() for p in paths):
        return False
    try:
        return all((pq.read_schema(p).metadata or {}).get(RUN_METADATA_KEY) == key.encode() for p in paths)
    except (OSError, pa.ArrowException):
        return False


def summary_of_output(out: Path) -> RunSummary:
    summary = RunSummary(reused=True)
    _count_into(summary, [out])
    return summary


def measures_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}.measures{out.suffix}")


def write_parts(files: list[Path], out: Path | None, key: str = "") -> None:
    """Concatenate part files into ``out`` (.parquet, .jsonl or .csv; None: JSON Lines on stdout) one part at a time."""
    if out is None:
        _write_rows(files, sys.stdout.buffer, ".jsonl", key)
        sys.stdout.buffer.flush()
        return
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "wb") as handle:
            _write_rows(files, handle, out.suffix.lower(), key)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # an interrupted write leaves no half file


def _write_rows(files: list[Path], handle: io.BufferedIOBase, suffix: str, key: str) -> None:
    writer = None
    for number, path in enumerate(files):
        frame = pq.read_table(path).to_pandas()
        if suffix == ".parquet":
            table = pa.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), RUN_METADATA_KEY: key.encode()})
            writer = writer or pq.ParquetWriter(handle, table.schema)
            writer.write_table(table.cast(writer.schema))
        elif suffix == ".jsonl":
            handle.write(_decode_json_columns(frame).to_json(orient="records", lines=True, force_ascii=False).encode("utf-8"))
        else:
            handle.write(spreadsheet_safe(flatten_scores(frame)).to_csv(index=False, header=number == 0).encode("utf-8"))
    if writer:
        writer.close()
    elif suffix == ".parquet":
        handle.write(_empty_parquet())


def _empty_parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame().to_parquet(buffer)
    return buffer.getvalue()


def _decode_json_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for col in JSON_COLUMNS:
        if col in frame:
            frame[col] = frame[col].map(json.loads)
    return frame


def flatten_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV cells hold plain values: the ``scores`` object becomes ``score_production``, ... columns in its place."""
    if "scores" not in frame:
        return frame
    position = frame.columns.get_loc("scores")
    scores = frame.pop("scores").map(json.loads)
    for offset, name in enumerate(SCORE_KEYS):
        frame.insert(position + offset, f"score_{name}", scores.map(lambda s, n=name: s.get(n)))
    return frame


# ---------------------------------------------------------------- engines


def quiet_feeder_race(hook):
    """``hook`` (a ``threading.excepthook``) without one known race of CPython's process pool at shutdown: the queue
    feeder thread, failing to send a work item to terminated workers, wakes the manager thread through a pipe the
    manager has just closed, and dies of ``OSError: [Errno 9] Bad file descriptor``. Nothing is lost (the item was
    abandoned with the run), but its traceback came after the stop's last line on standard error, which says what is
    kept and how to resume; every other exception still reaches ``hook``."""

    def excepthook(args):
        feeder = args.thread is not None and args.thread.name == "QueueFeederThread"
        if not (feeder and isinstance(args.exc_value, OSError) and args.exc_value.errno == errno.EBADF):
            hook(args)

    return excepthook


class _local_submitter:
    """Chunks tagged in this process (jobs=1) or in worker processes, with a bounded window in flight."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = None

    def __enter__(self):
        if self.jobs > 1:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_worker_init, initargs=(os.getpid(),))
        return self

    def __exit__(self, exc_type, *exc):
        if not self.pool:
            return
        if exc_type is None:
            self.pool.shutdown(cancel_futures=True)
            return
        # Stopping (or failing): chunks in flight are abandoned, not awaited. The executor has
        # no public way to end busy workers before Python 3.14, hence its process table.
        threading.excepthook = quiet_feeder_race(threading.excepthook)
        workers = list(getattr(self.pool, "_processes", {}).values())
        for process in workers:
            process.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            process.join(timeout=5)

    def map_bounded(self, chunks, parts, model_path, with_measures, window):
        if self.pool is None:
            for index, docs in chunks:
                yield tag_chunk(index, docs, parts, model_path, with_measures)
            return
        yield from _bounded(lambda i, d: self.pool.submit(tag_chunk, i, d, parts, model_path, with_measures),
                            chunks, window, lambda fs: wait(fs, return_when=FIRST_COMPLETED)[0])


class _dask_submitter:
    """The same chunks as Dask tasks: on the cluster at ``--scheduler ADDRESS``, or on a local cluster of ``jobs``
    worker processes started (and closed) by the run. A cluster given by address is left running."""

    def __init__(self, scheduler: str | None, jobs: int):
        self.scheduler = scheduler
        self.jobs = jobs
        self.cluster = None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if not self.scheduler:
            self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
        self.client = Client(self.scheduler or self.cluster)
        return self

    def __exit__(self, *exc):
        self.client.close()  # cancels this client's tasks
        if self.cluster is not None:
            self.cluster.close()

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
            yield from _collect_some(in_flight, wait_some)
    while in_flight:
        yield from _collect_some(in_flight, wait_some)


def _collect_some(in_flight: set, wait_some):
    """Wait until some of the futures in flight finish; take them out and yield their results."""
    for future in wait_some(in_flight):
        in_flight.discard(future)
        yield future.result()
