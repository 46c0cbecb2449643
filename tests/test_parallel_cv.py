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
