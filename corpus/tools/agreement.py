"""Inter-annotator agreement of the repository's labels (first vs second annotations).

Kept for the commands in corpus/README.md; the library does the work:

    python corpus/tools/agreement.py [--disagreements OUT.csv]
    python -m classifier annotate agreement [A.csv B.csv]     # the same, or any two files
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from classifier.annotate.cli import app  # noqa: E402

if __name__ == "__main__":
    app(["agreement", *sys.argv[1:]])
