"""Bounds on what one input may cost, and the budget that enforces them while it is read."""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass


class InputError(Exception):
    """An input that cannot be read; the message names the reason."""


class BudgetExhausted(InputError):
    """The input used up its size or time budget: nothing more of it is read."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile or accidental input from exhausting the machine.

    "One input" is one file or folder entry given to ingest, with everything inside it
    (archive members, nested archives, the parts of a DOCX).
    """

    max_file_bytes: int = 100 * 1024**2  # one document file, table or archive member
    max_input_bytes: int = 1024**3  # all bytes decompressed from one input, at every level
    max_compression_ratio: float = 200.0  # any compressed stream (zip/gzip/bz2/xz member, DOCX part)
    ratio_floor_bytes: int = 1024**2  # small streams may compress better than that (repeated text)
    max_archive_members: int = 20_000  # per archive
    max_archive_depth: int = 3  # archives inside archives
    max_input_seconds: float = 20.0  # wall time spent reading one input


DEFAULT_LIMITS = Limits()
CHUNK_BYTES = 1024**2


class Budget:
    """What one input may still spend: decompressed bytes and wall time, shared by all its levels."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used = 0
        self.deadline = time.monotonic() + limits.max_input_seconds

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.max_input_bytes:
            raise BudgetExhausted(f"size budget exhausted: more than {self.limits.max_input_bytes:,} bytes "
                                  "decompressed from this input")
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExhausted(f"time limit: reading this input took more than {self.limits.max_input_seconds:g} s")

    @property
    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


def read_capped(stream, budget: Budget, cap: int, compressed_size: int | None, what: str) -> bytes:
    """Stream ``stream`` to its end in chunks, refusing it as soon as a limit is crossed.

    ``compressed_size`` (when the stream is decompressed) arms the ratio guard; every
    byte is charged to the input's budget, so nested and overlapping containers cannot
    multiply what one input costs.
    """
    limits, chunks, total = budget.limits, [], 0
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            raise InputError(f"{what} expands beyond the size limit ({cap:,} bytes)")
        if compressed_size is not None and total > limits.ratio_floor_bytes \
                and total > limits.max_compression_ratio * max(compressed_size, 1):
            raise InputError(f"compression bomb guard: {what} expands more than "
                             f"{limits.max_compression_ratio:g}:1")
        budget.charge(len(chunk))
        chunks.append(chunk)


@contextmanager
def time_limit(seconds: float):
    """Interrupt pure-Python parsing (PDF, HTML, DOCX) that runs past ``seconds``.

    Signals only reach the main thread; elsewhere (Dask threads) only the
    cooperative checks of :class:`Budget` apply.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(_signum, _frame):
        raise BudgetExhausted(f"time limit: reading this input took more than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
