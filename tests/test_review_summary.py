"""corpus/tools/review_summary.py: the table a check review's README states comes from its files."""
import subprocess
import sys

import pandas as pd

from conftest import ROOT


def test_the_summary_counts_reader_agreement_kept_labels_and_changes(tmp_path):
    ids = ["stip:1:2021", "cn/a.md#1", "cn/a.md#2"]
    pd.DataFrame({"unit_id": ids, "set": ["suspect", "suspect", "control"],
                  "old_types": ["knowledge", "production;cluster", "none"], "old_primary": ["knowledge", "cluster", "none"],
                  "old_orientation": ["network", "network", "neutral"]}).to_csv(tmp_path / "units.csv", index=False)
    reading = {"unit_id": ids[::-1], "types": ["none", "cluster;production", "none"],
               "primary": ["none", "cluster", "none"], "orientation": ["neutral", "network", "neutral"]}
    pd.DataFrame(reading).to_csv(tmp_path / "reader_a.csv", index=False)  # rows in another order, types reordered
    pd.DataFrame(reading | {"types": ["none", "production;cluster", "none"]}).to_csv(tmp_path / "reader_b.csv", index=False)
    pd.DataFrame({"unit_id": ids, "decision": ["change", "keep", "keep"], "types": ["none", "production;cluster", "none"],
                  "primary": ["none", "cluster", "none"], "orientation": ["neutral", "network", "neutral"],
                  "rule": "x"}).to_csv(tmp_path / "review.csv", index=False)
    table = _tool().summary(tmp_path)
    # en suspect: both readers say none against knowledge, and the adjudication changed it
    assert table.loc[("suspect", "en")].tolist() == [1, 1, 0, 1]
    # zh suspect: both readers keep the old label, one writing its types in another order
    assert table.loc[("suspect", "zh")].tolist() == [1, 1, 1, 0]
    assert table.loc[("control", "zh")].tolist() == [1, 1, 1, 0]


def test_the_command_prints_the_table():
    out = subprocess.run([sys.executable, str(ROOT / "corpus" / "tools" / "review_summary.py"),
                          str(ROOT / "corpus" / "review" / "r26")], capture_output=True, text=True, check=True).stdout
    assert "readers_agree" in out and "suspect" in out


def _tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("review_summary", ROOT / "corpus" / "tools" / "review_summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
