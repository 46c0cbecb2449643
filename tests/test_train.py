import json
import subprocess
import sys

from conftest import ROOT
from labeled_examples import as_frame

CONFIG = """
[data]
repository_labels = false
extra_labels = []
[features]
word_ngram_range = [1, 2]
char_ngram_range = [2, 3]
min_df = 1
max_word_features = 5000
max_char_features = 5000
lexicon_weight = 1.0
[types]
C = 4.0
calibration = "sigmoid"
cv = 2
[orientation]
C = 4.0
calibration = "sigmoid"
cv = 2
[model]
tune_folds = 2
[evaluation]
n_splits = 2
seed = 0
baselines = ["majority", "dictionary", "spacy_textcat_bow"]
[output]
model_dir = "unused"
"""


def run_train(tmp_path, name):
    labels = tmp_path / "labels.jsonl"
    frame = as_frame()
    frame["types"] = frame["types"].map(lambda t: ";".join(t) or "none")
    frame[["text", "types", "primary", "orientation"]].to_json(labels, orient="records", lines=True, force_ascii=False)
    config = tmp_path / "train.toml"
    config.write_text(CONFIG)
    out = tmp_path / name
    result = subprocess.run([sys.executable, "train.py", "--config", str(config), "--labels", str(labels),
                             "--no-repository-labels", "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def test_train_on_user_labels_writes_model_card_and_verified_manifest(tmp_path):
    out = run_train(tmp_path, "a")
    card = json.loads((out / "model_card.json").read_text())
    assert card["codebook_version"] == "1.2" and len(card["training_data_sha256"]) == 64
    assert set(card["metrics"]) == {"model", "majority", "dictionary", "spacy_textcat_bow"}
    assert {"lang=zh", "lang=en"} <= set(card["metrics"]["model"])
    assert card["label_counts"]["all"]["units"] == len(as_frame())
    assert "## Targets" in (out / "model_card.md").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["file"] == "model.skops" and len(manifest["sha256"]) == 64
    assert (out / "oof_predictions.csv").exists() and (out / "oof_truth.csv").exists()
    from classifier.tagger import PolicyClassifier

    assert PolicyClassifier.load(out).tag(["Vouchers for SMEs to buy services from universities."]).primary[0] == "knowledge"


def test_same_config_and_data_give_the_same_metrics(tmp_path):
    first = json.loads((run_train(tmp_path, "a") / "model_card.json").read_text())
    second = json.loads((run_train(tmp_path, "b") / "model_card.json").read_text())
    assert first["training_data_sha256"] == second["training_data_sha256"]
    assert first["metrics"] == second["metrics"] and first["thresholds"] == second["thresholds"]


def test_a_config_key_no_estimator_takes_is_a_clear_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(CONFIG.replace("[types]\n", "[types]\nthreshold = 0.5\n"))
    result = subprocess.run([sys.executable, "train.py", "--config", str(config), "--no-repository-labels"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "[types]" in result.stderr and "threshold" in result.stderr
    assert "Traceback" not in result.stderr
