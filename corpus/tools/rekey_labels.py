"""Re-key Chinese measure labels after a reader change moved their text (e.g. reflow of hard-wrapped laws).

    CLASSIFIER_DATA=../shared/data python corpus/tools/rekey_labels.py [corpus/labels/cn_measures.csv]

For every label whose span no longer matches its ``text_sha1``, the labeled text is
taken from the document as it was read before (decoded and normalised, without
reflow), checked against ``text_sha1``, and found again in the new document text:
exactly, else ignoring whitespace. ``start``, ``end`` and ``text_sha1`` are rewritten,
``unit_id`` is kept. Labels that cannot be placed are listed on standard error and
left as they were. The file is rewritten in place.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from classifier.documents import OK, normalise_text  # noqa: E402
from classifier.ingest import decode_text, iter_documents  # noqa: E402
from classifier.labels import LABEL_DIR, data_dir, text_sha1  # noqa: E402


def old_text(root: Path, doc_id: str) -> str | None:
    """The document text as read before reflow: decoded and normalised bytes of its file."""
    path = root / doc_id.split("/", 1)[1]
    return normalise_text(decode_text(path.read_bytes())) if path.is_file() else None


def find_span(needle: str, haystack: str) -> tuple[int, int] | None:
    """Where ``needle`` is in ``haystack``: exactly, else with any whitespace between its characters."""
    at = haystack.find(needle)
    if at >= 0:
        return at, at + len(needle)
    chars = [re.escape(ch) for ch in needle if not ch.isspace()]
    match = re.search(r"\s*".join(chars), haystack) if chars else None
    return (match.start(), match.end()) if match else None


def rekey(labels: pd.DataFrame, root: Path) -> tuple[pd.DataFrame, list[str]]:
    docs = {d.doc_id: d for d in iter_documents(root / "cn", "cn") if d.status == OK and d.doc_id in set(labels.doc_id)}
    labels, unplaced, moved = labels.copy(), [], 0
    for i, row in labels.iterrows():
        new = docs.get(row.doc_id)
        start, end = int(row.start), int(row.end)
        if new is not None and text_sha1(new.text[start:end]) == row.text_sha1:
            continue
        before = old_text(root / "cn", row.doc_id)
        if new is None or before is None or text_sha1(before[start:end]) != row.text_sha1:
            unplaced.append(f"{row.unit_id}: labeled text not found in the old document")
            continue
        span = find_span(before[start:end], new.text)
        if span is None:
            unplaced.append(f"{row.unit_id}: labeled text not found in the new document")
            continue
        labels.loc[i, ["start", "end", "text_sha1"]] = [str(span[0]), str(span[1]), text_sha1(new.text[span[0]:span[1]])]
        moved += 1
    print(f"{moved} labels re-keyed, {len(unplaced)} not placed", file=sys.stderr)
    return labels, unplaced


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LABEL_DIR / "cn_measures.csv"
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    updated, unplaced = rekey(labels, data_dir())
    for problem in unplaced:
        print(problem, file=sys.stderr)
    updated.to_csv(path, index=False)


if __name__ == "__main__":
    main()
