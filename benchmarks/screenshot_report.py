"""Screenshot of report.html in headless Chromium, for docs/report/.

    python benchmarks/screenshot_report.py                       # the illustrative sample report
    python benchmarks/screenshot_report.py report/report.html    # a report made before (e.g. the real corpora)

Prints the path written. Needs Debian chromium and chromium-driver, and selenium (dev extra).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, screenshot  # noqa: E402

MAX_HEIGHT = 2600  # pixels: the answer, the tables and the first chart


def sample_report(folder: Path) -> Path:
    """The report of the shipped sample corpus (no data directory)."""
    empty = folder / "no-data"
    empty.mkdir()
    subprocess.run([sys.executable, "-m", "classifier", "report", "--out", str(folder / "r"), "--bootstrap", "200"],
                   cwd=ROOT, check=True, env={**os.environ, "CLASSIFIER_DATA": str(empty)}, stdout=subprocess.DEVNULL)
    return folder / "r" / "report.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", nargs="?", type=Path, help="report.html to capture (default: build the sample report)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report" / "report.png", help="PNG to write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        page = args.report or sample_report(Path(folder))
        with chromium() as driver:
            shot = screenshot(driver, page, args.out)
    from PIL import Image

    with Image.open(shot) as image:
        image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT))).save(shot, optimize=True)
    print(shot)


if __name__ == "__main__":
    main()
