"""`classifier train`: the same training run as `python train.py`, as a sub-command."""
import json
import os
import subprocess
import sys

from conftest import ROOT
from labeled_examples import as_frame
from test_train import CONFIG


def classifier(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "classifier", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def write_labels(path):
    frame = as_frame()
    frame["types"] = frame["types"].map(lambda t: ";".join(t) or "none")
    frame[["text", "types", "primary", "orientation"]].to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def test_train_command_writes_a_model_that_tags(tmp_path):
    config = tmp_path / "train.toml"
    config.write_text(CONFIG)
    labels, out = write_labels(tmp_path / "labels.jsonl"), tmp_path / "model"
    result = classifier("train", "--config", str(config), "--no-repository-labels", "--labels", str(labels),
                        "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "labeled units" in result.stderr and "cross-validation" in result.stderr
    card = json.loads((out / "model_card.json").read_text())
    assert card["label_counts"]["all"]["units"] == len(as_frame()) and card["trained_on"] == "user labels"
    from classifier.tagger import PolicyClassifier

    assert PolicyClassifier.load(out).tag(["Vouchers for SMEs to buy services from universities."]).primary[0] == "knowledge"


def test_train_command_errors_are_clear_with_exit_code_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(CONFIG.replace("[types]\n", "[types]\nthreshold = 0.5\n"))
    result = classifier("train", "--config", str(config), "--no-repository-labels", "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "[types]" in result.stderr and "threshold" in result.stderr
    assert "Traceback" not in result.stderr
    result = classifier("train", "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2 and "missing.toml" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_train_help_says_the_default_output_overwrites_the_default_model():
    result = classifier("train", "--help")
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and "OVERWRITES models/default" in text
    for option in ("--config", "--labels", "--no-repository-labels", "--out", "--skip-eval"):
        assert option in text
    assert "<bool>" not in text and "list[" not in text
