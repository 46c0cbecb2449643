"""Cross-validation folds run in parallel processes with the final fit beside them; the results do not change."""
import pandas as pd
from sklearn.base import BaseEstimator

from classifier.evaluate import cross_validate
from labeled_examples import as_frame


class MajorityModel(BaseEstimator):
    """Predicts its training part's most common primary type and orientation: a different answer per fold."""

    def fit(self, X, y):
        self.primary_ = y["primary"].value_counts().sort_index().idxmax()
        self.orientation_ = y["orientation"].value_counts().sort_index().idxmax()
        self.units_ = sorted(y["unit_id"])
        return self

    def predict(self, X):
        types = [] if self.primary_ == "none" else [self.primary_]
        return pd.DataFrame({"types": [types for _ in X], "primary": self.primary_, "orientation": self.orientation_})


def test_parallel_folds_give_the_same_out_of_fold_predictions_and_metrics():
    units = as_frame()
    serial = cross_validate(MajorityModel(), units, n_splits=3, seed=0, baselines={})
    parallel = cross_validate(MajorityModel(), units, n_splits=3, seed=0, baselines={}, n_jobs=2)
    pd.testing.assert_frame_equal(serial["oof"], parallel["oof"])
    assert serial["metrics"] == parallel["metrics"]
    assert "fitted" not in parallel


def test_the_final_fit_runs_in_the_same_pool_on_every_unit():
    units = as_frame()
    messages = []
    result = cross_validate(MajorityModel(), units, n_splits=3, seed=0, baselines={}, n_jobs=2, refit=True,
                            progress=messages.append)
    assert result["fitted"].units_ == sorted(units["unit_id"]) and result["fit_seconds"] >= 0
    assert sorted(m.split(" (")[0] for m in messages) == ["final fit", "fold 1/3", "fold 2/3", "fold 3/3"]


def test_labeling_more_of_one_corpus_leaves_the_folds_of_the_others():
    from classifier.evaluate import grouped_folds

    units = as_frame()
    more = units[units["corpus"] == units["corpus"].iloc[0]].assign(
        unit_id=lambda f: "more:" + f["unit_id"], group=lambda f: "more:" + f["group"].astype(str))
    other = units["corpus"] != units["corpus"].iloc[0]
    assert other.any()

    def test_fold_of(frame):
        folds = grouped_folds(frame.reset_index(drop=True), 3, 0)
        return {frame["unit_id"].iloc[i]: k for k, (_, test) in enumerate(folds) for i in test}

    before, after = test_fold_of(units), test_fold_of(pd.concat([more, units], ignore_index=True))
    assert {u: before[u] for u in units["unit_id"][other]} == {u: after[u] for u in units["unit_id"][other]}
    assert sorted(before) == sorted(units["unit_id"])  # every unit in exactly one test fold


def test_a_corpus_with_fewer_documents_than_folds_still_gets_folds():
    from classifier.evaluate import grouped_folds

    units = pd.concat([as_frame(), as_frame().head(2).assign(corpus="mine", group=["a", "b"],
                                                             unit_id=["m1", "m2"])], ignore_index=True)
    folds = grouped_folds(units, 3, 0)
    assert sorted(i for _, test in folds for i in test) == list(range(len(units)))
