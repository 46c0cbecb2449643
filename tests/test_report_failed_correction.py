"""A quantifier that returns no number never takes the headline from the raw figure."""
from types import SimpleNamespace

import numpy as np
import pandas as pd

from classifier import quantify, report
from classifier.codebook import ORIENTATIONS
from classifier.report import Estimate, Figure, _with_correction


def test_a_nan_correction_leaves_the_raw_figure_as_headline_and_warns(monkeypatch):
    nan_shares = {"orientation_share_of_network": dict.fromkeys(ORIENTATIONS, np.nan),
                  "orientation_gap": {"lead_firm - network": np.nan}}
    monkeypatch.setattr(quantify, "estimate_shares", lambda *a, **k: nan_shares)
    monkeypatch.setattr(quantify, "bootstrap_shares", lambda *a, **k: [])
    figures = {"orientation_share_of_network": {o: Figure("orientation_share_of_network", o, 1, 10, Estimate(0.1))
                                                for o in ORIENTATIONS},
               "orientation_gap": {"lead_firm - network": Figure("orientation_gap", "lead_firm - network", None, 10,
                                                                 Estimate(-0.8))}}
    correction = SimpleNamespace(selection={"orientation": "EMQ-BCTS"}, lang="en", labeled=None, fitted=None)
    units = pd.DataFrame({"group": ["a"], **{f"p_{c}": [0.5] for c in ("production", "knowledge", "partnership",
                                                                        "cluster", *ORIENTATIONS)}})
    warnings = _with_correction(figures, units, correction, replicates=0, seed=0)
    assert any("EMQ-BCTS gave no estimate" in w for w in warnings)
    for family in figures.values():
        for figure in family.values():
            assert figure.headline == "raw" and figure.corrected is None and figure.best.value == figure.raw.value
