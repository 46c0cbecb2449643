"""Units written for training are fitted on and never calibrated on, tuned on, predicted or scored."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from classifier.classify import PolicyModel, Targets, grouped_splits
from classifier.evaluate import cross_validate
from classifier.labels import LabelError, load_written_units
from classifier.training import write_out_of_fold
from labeled_examples import as_frame


def written_frame(n: int = 6) -> pd.DataFrame:
    rows = [{"unit_id": f"written:{i}", "text": f"written text {i}", "types": [], "primary": "none",
             "orientation": "neutral", "group": f"written:{i}", "corpus": "written", "lang": "en",
             "sampling": "written", "fit_only": True} for i in range(n)]
    return pd.DataFrame(rows)


def test_grouped_splits_put_fit_only_rows_in_every_training_part_and_no_calibration_part():
    y = np.array([0, 1] * 10 + [1] * 5)
    fit_only = np.array([False] * 20 + [True] * 5)
    splits = grouped_splits(y, np.arange(25), 3, 0, fit_only)
    assert len(splits) == 3
    for train, test in splits:
        assert set(range(20, 25)) <= set(train)
        assert not set(test) & set(range(20, 25))
    assert sorted(np.concatenate([test for _, test in splits])) == list(range(20))


def test_grouped_splits_without_fit_only_rows_are_the_plain_stratified_group_splits():
    from sklearn.model_selection import StratifiedGroupKFold

    y, groups = np.array([0, 1] * 10), np.arange(20) // 2  # documents of two rows, one of each class
    plain = list(StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0).split(np.zeros(20), y, groups))
    for fit_only in (None, np.zeros(20, bool)):
        splits = grouped_splits(y, groups, 3, 0, fit_only)
        assert len(splits) == 3
        assert all((a == c).all() and (b == d).all() for (a, b), (c, d) in zip(plain, splits))


class RecordingModel(BaseEstimator):
    """Remembers what each fold trained on; predicts `none` for everything."""

    seen: list = []

    def fit(self, X, y):
        RecordingModel.seen.append(set(y["unit_id"]))
        return self

    def predict(self, X):
        return pd.DataFrame({"types": [[] for _ in X], "primary": "none", "orientation": "neutral"})


def test_cross_validation_trains_every_fold_on_written_units_and_never_scores_them():
    real = as_frame().assign(fit_only=False)
    units = pd.concat([written_frame(), real], ignore_index=True)
    RecordingModel.seen = []
    result = cross_validate(RecordingModel(), units, n_splits=3, seed=0, baselines={})
    written = {f"written:{i}" for i in range(6)}
    assert len(RecordingModel.seen) == 3 and all(written <= seen for seen in RecordingModel.seen)
    assert sorted(result["oof"]["unit_id"]) == sorted(real["unit_id"])
    assert result["metrics"]["model"]["all"]["n"] == len(real)


def test_inner_folds_tune_on_real_units_only():
    real = as_frame()
    texts = real["text"].tolist() + written_frame()["text"].tolist()
    y = pd.concat([real.assign(fit_only=False), written_frame()], ignore_index=True)
    targets = Targets.of(y, texts)
    features = np.eye(len(texts))
    _, _, scored = PolicyModel(tune_folds=3)._inner_oof((features, features), targets)
    assert list(scored) == list(range(len(real)))


def test_out_of_fold_truth_follows_the_scored_units(tmp_path):
    units = pd.concat([written_frame(2), as_frame().assign(fit_only=False)], ignore_index=True)
    oof = as_frame()[["unit_id"]].iloc[::-1].assign(types=[[]] * len(as_frame()), primary="none",
                                                     orientation="neutral")
    write_out_of_fold(oof, units, tmp_path)
    truth = pd.read_csv(tmp_path / "oof_truth.csv")
    assert truth["unit_id"].tolist() == oof["unit_id"].tolist()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_written_units_load_as_fit_only_at_each_languages_unit(tmp_path):
    path = tmp_path / "units.jsonl"
    write_jsonl(path, [
        {"id": "w:zh:1", "lang": "zh", "text": "大型企业向中小企业采购，付款期限不超过60日。", "types": "production",
         "primary": "production", "orientation": "lead_firm", "codebook_version": "1.2"},
        {"id": "w:en:1", "lang": "en", "text": "A tax credit for small firms.", "types": "none",
         "primary": "none", "orientation": "neutral", "codebook_version": "1.2"},
    ])
    frame = load_written_units(path)
    assert frame["unit_id"].tolist() == ["w:zh:1", "w:en:1"]
    assert frame["fit_only"].all() and (frame["corpus"] == "written").all()
    assert frame["unit"].tolist() == ["measures", "documents"]
    assert frame["types"].tolist() == [["production"], []]


@pytest.mark.parametrize("row, message", [
    ({"id": "w:1", "lang": "en", "text": "x", "types": "none", "primary": "none"}, "missing fields"),
    ({"id": "w:1", "lang": "en", "text": "x", "types": "none", "primary": "none", "orientation": "lead_firm",
      "codebook_version": "1.2"}, "invalid labels"),
])
def test_written_units_that_do_not_fit_the_codebook_are_refused(tmp_path, row, message):
    path = tmp_path / "units.jsonl"
    write_jsonl(path, [row])
    with pytest.raises(LabelError, match=message):
        load_written_units(path)


def test_a_training_run_marks_the_configs_written_units_fit_only(tmp_path):
    from classifier.training import load_units

    written, user = tmp_path / "written.jsonl", tmp_path / "user.csv"
    write_jsonl(written, [{"id": "w:en:1", "lang": "en", "text": "A tax credit for small firms.", "types": "none",
                           "primary": "none", "orientation": "neutral", "codebook_version": "1.2"}])
    as_frame()[["text", "primary", "orientation"]].assign(
        types=as_frame()["types"].map(lambda t: ";".join(t) or "none")).to_csv(user, index=False)
    units = load_units({"data": {"repository_labels": False, "extra_labels": [str(user)],
                                 "written_units": [str(written)]}})
    assert units.set_index("unit_id")["fit_only"].to_dict() == {
        **{unit: False for unit in units["unit_id"] if unit != "w:en:1"}, "w:en:1": True}
