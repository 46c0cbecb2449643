"""Peak memory and time of ingest on hostile inputs made here (targets: under 1 GB and 30 s each).

    python benchmarks/bench_hostile.py

Each input is read in a fresh process, so the peak resident memory printed is that input's alone.
"""
from __future__ import annotations

import bz2
import gzip
import io
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this worktree's package, not an installed one
GB = 1024**3


def zip_of(members: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zeros_zip(size: int) -> bytes:
    """A deflated member of ``size`` zero bytes, streamed so that making it costs no memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("zeros.txt", "w", force_zip64=True) as out:
        chunk = b"0" * 2**20
        for _ in range(size // len(chunk)):
            out.write(chunk)
    return buffer.getvalue()


def tar_of(name: str, size: int, mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        info = tarfile.TarInfo(name)
        info.size = size
        archive.addfile(info, _Zeros(size))
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"0" * n


def hostile_inputs(folder: Path) -> dict[str, Path]:
    big = zeros_zip(4 * GB)
    files = {
        "zip bomb, one 4 GB member": ("bomb.zip", big),
        "nested zip bomb (4 levels x 10 members)": ("nested.zip", _nested(zip_of({"z.txt": b"0" * 50_000_000}), 3)),
        "overlapping members (same data x 5,000)": ("overlap.zip", _overlapping(5000)),
        "DOCX bomb (4 GB part)": ("bomb.docx", big),
        "tar.gz bomb (4 GB member)": ("bomb.tar.gz", tar_of("z.txt", 4 * GB, "w:gz")),
        "tar.bz2 bomb (1 GB member)": ("bomb.tar.bz2", tar_of("z.txt", GB, "w:bz2")),
        "csv.gz bomb (4 GB)": ("bomb.csv.gz", _gzip_zeros(4 * GB)),
        "one 90 MB line of text": ("line.txt", b"Vouchers let small firms buy research. " * 2_300_000),
        "700 KB HTML nested 20,000 deep": ("deep.html", b"<div><p>" * 20_000 + b"text" * 100_000 + b"</p></div>" * 20_000),
    }
    paths = {}
    for label, (name, data) in files.items():
        (folder / name).write_bytes(data)
        paths[label] = folder / name
    os.mkfifo(folder / "fifo")
    paths["FIFO on the command line"] = folder / "fifo"
    paths["/dev/zero on the command line"] = Path("/dev/zero")
    return paths


def _nested(inner: bytes, levels: int) -> bytes:
    for _ in range(levels):
        inner = zip_of({f"m{i}.zip": inner for i in range(10)})
    return inner


def _overlapping(copies: int) -> bytes:
    """Many central-directory entries pointing at one compressed member (the Fifield construction, simplified)."""
    single = zip_of({"a.txt": b"0" * 20_000_000})
    archive = zipfile.ZipFile(io.BytesIO(single))
    info = archive.infolist()[0]
    end = single.rfind(b"PK\x05\x06")
    central = single[archive.start_dir:end]
    entries = b"".join(central.replace(b"a.txt", f"{i:05d}"[:5].encode()) for i in range(copies))
    tail = bytearray(single[end:])
    tail[8:10] = tail[10:12] = (copies & 0xFFFF).to_bytes(2, "little")
    tail[12:16] = len(entries).to_bytes(4, "little")
    del info
    return single[: archive.start_dir] + entries + bytes(tail)


def _gzip_zeros(size: int) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as out:
        chunk = b"0" * 2**20
        for _ in range(size // len(chunk)):
            out.write(chunk)
    return buffer.getvalue()


def measure(path: str) -> None:
    """Child process: ingest one input, print its rows, seconds and peak memory."""
    from classifier.corpus import build_corpus

    started = time.perf_counter()
    table = build_corpus([f"h={path}"])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    errors = table[table.status != "ok"].error.str.slice(0, 70).unique()
    print(f"{seconds:.1f}\t{peak:.0f}\t{len(table)}\t{'; '.join(errors[:2]) or 'read'}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        measure(sys.argv[2])
        return
    print(f"{'input':44} {'seconds':>8} {'peak MB':>8} {'rows':>6}  outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in hostile_inputs(Path(tmp)).items():
            out = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True, text=True,
                                 cwd=ROOT, timeout=120)
            seconds, peak, rows, outcome = (out.stdout.strip().split("\t") + ["", "", "", out.stderr[-200:]])[:4]
            print(f"{label:44} {seconds:>8} {peak:>8} {rows:>6}  {outcome}")


if __name__ == "__main__":
    main()
