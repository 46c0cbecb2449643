"""compare_models scores two models on the labeled units both were cross-validated on, and the new units apart."""
import subprocess
import sys

import pandas as pd

from conftest import ROOT


def write_model(directory, ids, predicted_primary):
    directory.mkdir()
    truth = pd.DataFrame({"unit_id": ids, "corpus": "oecd", "lang": "en", "group": ids, "primary": "knowledge",
                          "orientation": "network", "types": "knowledge"})
    predicted = pd.DataFrame({"unit_id": ids, "types": [p if p != "none" else "none" for p in predicted_primary],
                              "primary": predicted_primary,
                              "orientation": ["network" if p != "none" else "neutral" for p in predicted_primary],
                              "corpus": "oecd", "lang": "en"})
    truth.to_csv(directory / "oof_truth.csv", index=False)
    predicted.to_csv(directory / "oof_predictions.csv", index=False)


def test_shared_units_are_scored_for_both_models_and_new_units_apart(tmp_path):
    write_model(tmp_path / "old", ["a", "b", "c", "d"], ["none", "none", "knowledge", "knowledge"])
    write_model(tmp_path / "new", ["a", "b", "c", "d", "e"], ["knowledge"] * 4 + ["none"])
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_models.py"), str(tmp_path / "old"),
                           str(tmp_path / "new")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in done.stdout.splitlines()[2:] if "|" in line}
    assert rows["old model, shared units"][1].strip() == "4" and rows["new model, shared units"][1].strip() == "4"
    assert float(rows["new model, shared units"][2]) > float(rows["old model, shared units"][2])  # types macro-F1
    assert rows["new model, new units only"][1].strip() == "1"
    # a, b went none -> knowledge: types, primary and orientation moved on those two
    assert "of 4 shared units, predicted otherwise: types 2, primary 2, orientation 2" in done.stdout


def test_models_without_shared_units_are_refused(tmp_path):
    write_model(tmp_path / "old", ["a"], ["none"])
    write_model(tmp_path / "new", ["b"], ["none"])
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_models.py"), str(tmp_path / "old"),
                           str(tmp_path / "new")], capture_output=True, text=True)
    assert done.returncode != 0 and "share no labeled unit" in done.stderr
