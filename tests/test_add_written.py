"""Written units are kept only where an independent blind reading gives the same labels."""
import json
import subprocess
import sys

import pandas as pd

from conftest import ROOT

TOOL = ROOT / "corpus" / "tools" / "add_written.py"
POOL = [
    {"id": "w1", "lang": "en", "text": "Large buyers must pay SME suppliers within 30 days.", "types": "production",
     "primary": "production", "orientation": "lead_firm", "rationale": "r", "rule": "3", "writer": "A"},
    {"id": "w2", "lang": "en", "text": "A tax credit for small firms.", "types": "none", "primary": "none",
     "orientation": "neutral", "rationale": "r", "rule": "6", "writer": "A"},
    {"id": "w3", "lang": "en", "text": "Cluster bodies link member SMEs.", "types": "cluster;partnership",
     "primary": "cluster", "orientation": "network", "rationale": "r", "rule": "4", "writer": "B"},
]


def run(tmp_path, blind_rows):
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in POOL))
    blind = tmp_path / "blind.csv"
    pd.DataFrame(blind_rows, columns=["unit_id", "types", "primary", "orientation"]).to_csv(blind, index=False)
    return subprocess.run([sys.executable, str(TOOL), str(pool), str(blind), "--round", "9", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)


def test_only_units_both_readers_label_alike_are_kept(tmp_path):
    done = run(tmp_path, [["w1", "production", "production", "lead_firm"], ["w2", "none", "none", "neutral"],
                          ["w3", "partnership;cluster", "partnership", "network"]])  # w3: another primary type
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line) for line in open(tmp_path / "out" / "r9_units.jsonl")]
    assert [k["id"] for k in kept] == ["w1", "w2"] and kept[0]["round"] == 9
    readings = pd.read_csv(tmp_path / "out" / "r9_readings.csv")
    assert readings.set_index("id")["kept"].to_dict() == {"w1": True, "w2": True, "w3": False}


def test_a_unit_without_a_blind_reading_stops_the_tool(tmp_path):
    done = run(tmp_path, [["w1", "production", "production", "lead_firm"]])
    assert done.returncode != 0 and "no blind reading" in done.stderr
