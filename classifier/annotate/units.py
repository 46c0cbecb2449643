"""Candidate units for labeling, read from anything ``ingest`` reads.

Two kinds of unit, as the label files store them:

* a Chinese (or any non-STIP) **measure**: ``unit_id`` = ``{doc_id}#{order}``, its span and text hash;
* a STIP **record**: the whole initiative record of one wave, ``unit_id`` = ``stip:<initiative>:<wave>``;
  only the latest wave of each initiative is a candidate (earlier waves repeat it).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..corpus import is_about_smes, is_sme_targeted
from ..documents import OK
from ..ingest import iter_documents, parse_spec
from ..labels import LABEL_DIR, text_sha1
from ..sampling import candidate_measures, in_cn_pool

UNIT_COLUMNS = ["unit_id", "kind", "doc_id", "start", "end", "text_sha1", "title", "section", "country",
                "initiative_id", "wave", "sme_targeted", "about_smes", "sme_pool", "text"]


def read_units(specs: Iterable[str], errors: list | None = None) -> pd.DataFrame:
    """All candidate units of the inputs; unreadable inputs are reported to stderr (and ``errors``)."""
    rows = []
    for spec in specs:
        corpus, path = parse_spec(spec)
        for doc in iter_documents(path, corpus):
            if doc.status != OK:
                if errors is not None:
                    errors.append((doc.source, doc.error))
                continue
            rows.extend([record_unit(doc)] if doc.kind == "stip" else measure_units(doc))
    units = pd.DataFrame(rows, columns=UNIT_COLUMNS)
    return latest_waves(units)


def record_unit(doc) -> dict:
    meta = doc.meta
    return {"unit_id": doc.doc_id, "kind": "stip", "doc_id": doc.doc_id, "start": 0, "end": len(doc.text),
            "text_sha1": text_sha1(doc.text), "title": meta.get("title") or "", "section": "",
            "country": meta.get("country") or "", "initiative_id": str(meta.get("initiative_id") or ""),
            "wave": meta.get("wave"), "sme_targeted": bool(meta.get("sme_targeted")),
            "about_smes": is_about_smes(doc.text, meta.get("title") or ""),
            "sme_pool": bool(meta.get("sme_targeted")), "text": doc.text}


def measure_units(doc) -> list[dict]:
    title = str(doc.meta.get("title") or "")
    relevant = in_cn_pool(title, doc.source)
    sme = is_sme_targeted(doc)  # the report's SME-targeted view, which --strategy random-sme draws from
    return [{"unit_id": row["measure_id"], "kind": "measure", "doc_id": row["doc_id"], "start": row["start"],
             "end": row["end"], "text_sha1": text_sha1(row["text"]), "title": title, "section": row["section"] or "",
             "country": "", "initiative_id": "", "wave": None, "sme_targeted": sme,
             "about_smes": is_about_smes(doc.text, title), "sme_pool": relevant,
             "text": row["text"]}
            for row in candidate_measures(doc)]


def latest_waves(units: pd.DataFrame) -> pd.DataFrame:
    """One STIP record per initiative (its latest wave); an initiative is SME-targeted if any wave is."""
    records = units[units.kind == "stip"]
    if records.empty:
        return units.reset_index(drop=True)
    sme_any = records.groupby("initiative_id").sme_targeted.transform("any")
    records = records.assign(sme_targeted=sme_any, sme_pool=sme_any)
    latest = records.sort_values("wave", kind="stable").groupby("initiative_id").tail(1)
    return pd.concat([units[units.kind != "stip"], latest]).reset_index(drop=True)


# ---------------------------------------------------------------- already labeled


def labeled_keys(label_dir: Path = LABEL_DIR, batches: Iterable[Path] = ()) -> dict[str, set[str]]:
    """What may not be suggested again: unit ids, STIP initiatives (any wave) and measure text hashes."""
    unit_ids, initiatives, hashes = set(), set(), set()
    for path in sorted(Path(label_dir).glob("*.csv")) + sorted(Path(label_dir).glob("second/*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "unit_id" in frame:
            unit_ids |= set(frame.unit_id)
        if "text_sha1" in frame:
            hashes |= set(frame.text_sha1) - {""}
    for path in batches:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                unit_ids.add(str(row["unit_id"]))
                if row.get("text_sha1") and not str(row["unit_id"]).startswith("stip:"):
                    hashes.add(row["text_sha1"])
    initiatives = {u.split(":")[1] for u in unit_ids if u.startswith("stip:")}
    return {"unit_ids": unit_ids, "initiatives": initiatives, "text_sha1": hashes}


def unlabeled(units: pd.DataFrame, keys: dict[str, set[str]]) -> pd.DataFrame:
    """Units never labeled: not by id, not any wave of a labeled initiative, not a measure with a labeled text."""
    seen = (units.unit_id.isin(keys["unit_ids"])
            | ((units.kind == "stip") & units.initiative_id.isin(keys["initiatives"]))
            | ((units.kind == "measure") & units.text_sha1.isin(keys["text_sha1"])))
    print(f"{int(seen.sum()):,} of {len(units):,} candidate units are already labeled or in a batch; "
          f"{int((~seen).sum()):,} remain", file=sys.stderr)
    return units[~seen].reset_index(drop=True)
