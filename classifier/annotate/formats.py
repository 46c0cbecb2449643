"""Batches out to labeling tools, labels back in.

Export: Label Studio tasks (the model's labels as pre-annotations, plus the labeling config),
doccano JSON Lines (text classification: ``text`` and a ``label`` list) and a spreadsheet (CSV,
one column per axis). Every row carries its unit id, text hash and codebook version.

Import: the same three formats, as the tools write them, back into a label file keyed by
unit id (the columns of ``corpus/labels``). Every row is validated on its own; a bad row is
reported with its file, line and reason, and the good rows are kept.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

from ..codebook import LABELS, ORIENTATIONS, PRIMARY_CLASSES
from ..codebook import label_problems, parse_types
from ..labels import text_sha1
from .suggest import model_scores

TYPE_CHOICES = (*LABELS, "none")
CONFIDENCES = ("high", "medium", "low")
KEY_FIELDS = ["unit_id", "doc_id", "start", "end", "text_sha1", "codebook_version"]
CONTEXT_FIELDS = ["title", "section", "country", "wave", "sampling", "strategy", "seed"]
LABEL_COLUMNS = ["types", "primary", "orientation", "confidence", "rationale"]
OUTPUT_COLUMNS = [*KEY_FIELDS[:5], *LABEL_COLUMNS, "sampling", "codebook_version", "batch", "annotator"]
# doccano has one flat label set, so each label names its axis.
DOCCANO_PREFIX = {"types": "type", "primary": "primary", "orientation": "orientation", "confidence": "confidence"}


def read_batch(path: Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True, dtype=False)


def unit_data(row: dict) -> dict:
    return {k: row.get(k) for k in [*KEY_FIELDS, *CONTEXT_FIELDS, "text"] if row.get(k) is not None}


# ---------------------------------------------------------------- export


def label_studio_config() -> str:
    """The labeling interface: the text, the network types (several), the primary type, the orientation."""
    def choices(name, values, kind, required=True):
        options = "\n".join(f'    <Choice value={quoteattr(v)}/>' for v in values)
        return (f'  <Header value="{name}"/>\n  <Choices name="{name}" toName="text" choice="{kind}" '
                f'required="{str(required).lower()}" showInline="true">\n{options}\n  </Choices>')

    return "\n".join([
        "<View>", '  <Header value="$title"/>', '  <Text name="text" value="$text"/>',
        choices("types", TYPE_CHOICES, "multiple"), choices("primary", PRIMARY_CLASSES, "single-radio"),
        choices("orientation", ORIENTATIONS, "single-radio"), choices("confidence", CONFIDENCES, "single-radio", False),
        '  <Header value="rationale (at most 15 words)"/>',
        '  <TextArea name="rationale" toName="text" maxSubmissions="1" editable="true"/>', "</View>", ""])


def choice_result(name: str, values: list[str]) -> dict:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}


def label_studio_tasks(batch: pd.DataFrame, clf, model_version: str) -> list[dict]:
    """One task per unit, with the model's reading as a prediction to correct (``score``: 1 - uncertainty)."""
    reading = model_scores(batch["text"].tolist(), clf)
    tasks = []
    for row, predicted in zip(batch.to_dict("records"), reading.to_dict("records")):
        result = [choice_result("types", predicted["types"] or ["none"]), choice_result("primary", [predicted["primary"]]),
                  choice_result("orientation", [predicted["orientation"]])]
        tasks.append({"data": unit_data(row), "predictions": [
            {"model_version": model_version, "score": round(1 - float(predicted["uncertainty"]), 4), "result": result}]})
    return tasks


def doccano_records(batch: pd.DataFrame) -> list[dict]:
    """doccano text classification rows; the unit's keys ride along as metadata columns."""
    return [{**unit_data(row), "label": []} for row in batch.to_dict("records")]


def sheet_frame(batch: pd.DataFrame) -> pd.DataFrame:
    """The spreadsheet: keys and context first, the text, then empty label columns to fill."""
    rows = [{**{k: row.get(k, "") for k in [*KEY_FIELDS, *CONTEXT_FIELDS, "text"]}, **dict.fromkeys(LABEL_COLUMNS, "")}
            for row in batch.to_dict("records")]
    return pd.DataFrame(rows, columns=[*KEY_FIELDS, *CONTEXT_FIELDS, "text", *LABEL_COLUMNS])


def model_version_of(clf) -> str:
    manifest = Path(clf.path or ".") / "manifest.json"
    digest = json.loads(manifest.read_text()).get("sha256", "")[:12] if manifest.exists() else "unknown"
    return f"{Path(clf.path or 'model').name}:{digest}"


def export_batch(batch_path: Path, fmt: str, out: Path, clf=None) -> list[Path]:
    """Write the batch for a labeling tool; returns the files written."""
    from ..corpus import spreadsheet_safe

    batch = read_batch(batch_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "label-studio":
        out.write_text(json.dumps(label_studio_tasks(batch, clf, model_version_of(clf)), ensure_ascii=False, indent=1),
                       encoding="utf-8")
        config = out.with_suffix(".xml")
        config.write_text(label_studio_config(), encoding="utf-8")
        return [out, config]
    if fmt == "doccano":
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in doccano_records(batch)), encoding="utf-8")
        return [out]
    if fmt == "csv":
        spreadsheet_safe(sheet_frame(batch)).to_csv(out, index=False)
        return [out]
    raise ValueError(f"unknown format {fmt!r} (label-studio, doccano or csv)")


# ---------------------------------------------------------------- import


@dataclass
class RawLabel:
    """One unit's labels as a tool wrote them, before validation."""

    line: int
    data: dict
    labels: dict  # axis -> list of chosen values
    annotator: str = ""
    problem: str = ""  # set when the row could not even be read


@dataclass
class ImportResult:
    rows: pd.DataFrame
    errors: list[tuple[str, int, str]]  # (file, line, reason)
    skipped: list[tuple[str, str]]  # (unit id, why it was not written)


def json_array_with_lines(text: str) -> list[tuple[int, object]]:
    """The elements of a JSON array with the line each starts on (so errors can name it)."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    items = []
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return items
        item, end = decoder.raw_decode(text, position)
        items.append((text.count("\n", 0, position) + 1, item))
        position = end


def read_label_studio(path: Path) -> list[RawLabel]:
    """A Label Studio JSON export: tasks with ``data`` and ``annotations[].result[]``."""
    raws = []
    for line, task in json_array_with_lines(Path(path).read_text(encoding="utf-8")):
        annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        data = task.get("data", {})
        if len(annotations) != 1:
            problem = "not annotated" if not annotations else \
                f"{len(annotations)} annotations of one task: export one annotator's work at a time"
            raws.append(RawLabel(line, data, {}, problem=problem))
            continue
        labels: dict[str, list[str]] = {}
        for item in annotations[0].get("result", []):
            value = item.get("value", {})
            labels[item.get("from_name", "")] = value.get("choices", value.get("text", []))
        who = annotations[0].get("completed_by", "")
        raws.append(RawLabel(line, data, labels, annotator=str(who.get("email", who) if isinstance(who, dict) else who)))
    return raws


def read_doccano(path: Path) -> list[RawLabel]:
    """doccano text classification JSON Lines: ``label`` holds ``axis:value`` labels; metadata beside it."""
    raws = []
    axis_of = {prefix: axis for axis, prefix in DOCCANO_PREFIX.items()}
    for line, content in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            raws.append(RawLabel(line, {}, {}, problem=f"not JSON: {exc.msg}"))
            continue
        data = {**record.get("meta", {}), **{k: v for k, v in record.items() if k not in ("label", "meta")}}
        labels: dict[str, list[str]] = {}
        for label in record.get("label", []):
            prefix, _, value = str(label).partition(":")
            labels.setdefault(axis_of.get(prefix, f"unknown label {label!r}"), []).append(value)
        comments = record.get("Comments") or record.get("comments") or []
        labels["rationale"] = [c.get("text", "") if isinstance(c, dict) else str(c) for c in comments]
        raws.append(RawLabel(line, data, labels, annotator=str(record.get("user", ""))))
    return raws


def unquote_cell(value: str) -> str:
    """Undo the apostrophe ``spreadsheet_safe`` put before formula-like cells."""
    return value[1:] if value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r") else value


def read_sheet(path: Path) -> list[RawLabel]:
    """The spreadsheet written by ``export --format csv``, filled in by an annotator."""
    raws = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        start = reader.line_num + 1
        for record in reader:
            record = {k: unquote_cell(v or "") for k, v in record.items() if k is not None}
            labels = {"types": [t for t in record.get("types", "").replace(",", ";").split(";") if t.strip()],
                      **{axis: [record[axis]] if record.get(axis) else [] for axis in LABEL_COLUMNS[1:]}}
            data = {k: v for k, v in record.items() if k not in LABEL_COLUMNS}
            raws.append(RawLabel(start, data, labels, annotator=record.get("annotator", "")))
            start = reader.line_num + 1
    return raws


READERS = {"label-studio": read_label_studio, "doccano": read_doccano, "csv": read_sheet}


def detect_format(path: Path) -> str:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return "csv"
    head = path.read_text(encoding="utf-8")[:1000].lstrip()
    return "label-studio" if head.startswith("[") else "doccano"


def check_row(raw: RawLabel, expected_sha1: dict[str, str] | None) -> tuple[dict | None, str]:
    """(label row, '') for a good row, (None, reason) for a bad one."""
    if raw.problem:
        return None, raw.problem
    data, labels = raw.data, raw.labels
    unknown = [axis for axis in labels if axis.startswith("unknown label")]
    if unknown:
        return None, unknown[0]
    unit_id = str(data.get("unit_id") or "")
    if not unit_id:
        return None, "no unit_id"
    if not data.get("codebook_version"):
        return None, "no codebook_version"
    if not data.get("text_sha1"):
        return None, "no text_sha1"
    if data.get("text") and text_sha1(str(data["text"])) != data["text_sha1"]:
        return None, "text does not match its text_sha1 (the text was changed after export)"
    if expected_sha1 is not None and expected_sha1.get(unit_id) != data["text_sha1"]:
        return None, "unit not in the batch" if unit_id not in expected_sha1 else "text_sha1 differs from the batch's"
    chosen_types = labels.get("types", [])
    if not chosen_types:
        return None, "no network type chosen (choose none when no type applies)"
    for axis in ("primary", "orientation"):
        if len(labels.get(axis, [])) != 1:
            return None, f"{axis}: choose exactly one value, got {labels.get(axis, [])}"
    types = parse_types(";".join(chosen_types))
    problems = label_problems(types, labels["primary"][0], labels["orientation"][0])
    confidence = (labels.get("confidence") or [""])[0]
    if confidence and confidence not in CONFIDENCES:
        problems.append(f"unknown confidence {confidence!r}")
    if problems:
        return None, "; ".join(problems)
    return {"unit_id": unit_id, "doc_id": str(data.get("doc_id") or unit_id), "start": data.get("start", ""),
            "end": data.get("end", ""), "text_sha1": data["text_sha1"], "types": ";".join(types) or "none",
            "primary": labels["primary"][0], "orientation": labels["orientation"][0], "confidence": confidence,
            "rationale": " ".join(labels.get("rationale", [])).strip(), "sampling": data.get("sampling", ""),
            "codebook_version": str(data["codebook_version"]), "batch": "", "annotator": raw.annotator}, ""


def read_labels(path: Path, fmt: str | None = None, batch: Path | None = None) -> tuple[pd.DataFrame, list]:
    """Good label rows of a tool's file, and (file, line, reason) for each bad one."""
    path = Path(path)
    expected = dict(zip(*read_batch(batch)[["unit_id", "text_sha1"]].T.values)) if batch else None
    rows, errors, first_line = [], [], {}
    for raw in READERS[fmt or detect_format(path)](path):
        row, reason = check_row(raw, expected)
        if row and row["unit_id"] in first_line:
            row, reason = None, f"duplicate of line {first_line[row['unit_id']]}"
        if row is None:
            errors.append((str(path), raw.line, reason))
            continue
        first_line[row["unit_id"]] = raw.line
        rows.append({**row, "batch": Path(batch).stem if batch else path.stem})
    return pd.DataFrame(rows, columns=OUTPUT_COLUMNS), errors


def merge_into(new: pd.DataFrame, out: Path, replace: bool, source: Path | None = None) -> tuple[pd.DataFrame, list]:
    """The out file's rows plus the new ones; labels already in ``out`` or a sibling label file stay unless ``replace``."""
    out = Path(out)
    not_labels = {out.resolve(), Path(source).resolve() if source else None}
    existing = pd.read_csv(out, dtype=str, keep_default_na=False) if out.exists() else pd.DataFrame(columns=OUTPUT_COLUMNS)
    elsewhere = {}
    for sibling in sorted(out.parent.glob("*.csv")):
        if sibling.resolve() not in not_labels:
            ids = pd.read_csv(sibling, dtype=str, keep_default_na=False, usecols=lambda c: c == "unit_id")
            elsewhere.update({u: sibling.name for u in ids.get("unit_id", [])})
    skipped = [(u, f"already labeled in {elsewhere[u]}") for u in new.unit_id if u in elsewhere]
    new = new[~new.unit_id.isin(elsewhere)]
    clash = new.unit_id.isin(existing.unit_id)
    if not replace:
        skipped += [(u, f"already in {out.name} (use --replace to overwrite)") for u in new.unit_id[clash]]
        new = new[~clash]
    kept = existing[~existing.unit_id.isin(new.unit_id)]
    return pd.concat([kept, new.astype(str)], ignore_index=True), skipped


def import_labels(path: Path, out: Path, fmt: str | None = None, batch: Path | None = None,
                  replace: bool = False) -> ImportResult:
    rows, errors = read_labels(path, fmt, batch)
    merged, skipped = merge_into(rows, out, replace, source=path)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(out).with_name(f".{Path(out).name}.tmp")
    merged.to_csv(tmp, index=False)
    tmp.replace(out)
    return ImportResult(rows[~rows.unit_id.isin([u for u, _ in skipped])], errors, skipped)
