"""The encoder gate: the sentence encoder reads only the texts the n-gram model is unsure about."""
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer

from classifier.classify import NetworkTypeClassifier, OrientationClassifier, PolicyModel
from classifier.codebook import LABELS, ORIENTATIONS
from classifier.featurize import PolicyFeaturizer

from labeled_examples import as_frame

EMBEDDED: list[str] = []  # every text the stand-in encoder was asked to embed (clones share it)


class CountingEmbedder(TransformerMixin, BaseEstimator):
    """A cheap stand-in for the sentence encoder that records what it reads."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        EMBEDDED.extend(X)
        return HashingVectorizer(n_features=64, alternate_sign=False).transform(X).toarray()


@pytest.fixture(scope="module")
def examples():
    return as_frame()


def gated_model(examples, band):
    model = PolicyModel(featurizer=PolicyFeaturizer(min_df=1), types=NetworkTypeClassifier(cv=2),
                        orientation=OrientationClassifier(cv=2), embedder=CountingEmbedder(), embed_band=band,
                        tune_folds=2)
    return model.fit(examples.text.tolist(), examples)


def test_only_unsure_texts_are_embedded_and_marked(examples):
    model = gated_model(examples, band=1.0)
    texts = examples.text.tolist()
    gate = model.analyse(texts, embed=False).labels
    expected = model.unsure(gate, texts)
    assert 0 < expected.sum() < len(texts)  # the test needs both kinds
    EMBEDDED.clear()
    labels = model.analyse(texts).labels
    assert labels["embedded"].tolist() == expected.tolist()
    assert sorted(EMBEDDED) == sorted(t for t, e in zip(texts, expected) if e)
    gate_only, full = model.readings(texts)
    sure = ~expected
    assert labels.loc[sure, "types"].tolist() == gate_only.loc[sure, "types"].tolist()
    assert labels.loc[expected, "types"].tolist() == full.loc[expected, "types"].tolist()


def test_embed_false_and_band_zero_never_call_the_encoder(examples):
    texts = examples.text.tolist()
    model = gated_model(examples, band=1.0)
    EMBEDDED.clear()
    assert not model.analyse(texts, embed=False).labels["embedded"].any() and not EMBEDDED
    assert not gated_model(examples, band=0.0).analyse(texts).labels["embedded"].any()


def test_the_band_is_in_log_odds_so_a_low_threshold_does_not_catch_every_unit(examples):
    model = gated_model(examples, band=1.0)
    model.gate_thresholds_ = {"*": dict.fromkeys(LABELS, 0.10)}
    model.gate_orientation_weights_ = dict.fromkeys(ORIENTATIONS, 1.0)
    def unit(p):
        row = {f"p_{label}": p for label in LABELS} | {"p_lead_firm": 0.2, "p_network": 0.7, "p_neutral": 0.1}
        return row | {"types": []}
    labels = pd.DataFrame([unit(0.01), unit(0.08), unit(0.30)])
    # |logit(0.01) - logit(0.10)| = 2.40, |logit(0.08) - logit(0.10)| = 0.25, |logit(0.30) - logit(0.10)| = 1.35
    assert model.unsure(labels, ["x", "x", "x"]).tolist() == [False, True, False]
    assert model.unsure(labels, ["x", "x", "x"], band=1.5).tolist() == [False, True, True]


def test_the_gate_reads_with_its_own_decision_rules(examples):
    import copy

    texts = examples.text.tolist()
    model = copy.deepcopy(gated_model(examples, band=1.0))
    model.gate_thresholds_ = {"*": dict.fromkeys(LABELS, 0.0)}  # the gate assigns every type to every text
    model.thresholds_ = {"*": dict.fromkeys(LABELS, 1.1)}  # the full model assigns none
    model.gate_primary_weights_ = {"*": {**dict.fromkeys(LABELS, 1.0), "cluster": 1e6}}
    model.gate_orientation_weights_ = {"lead_firm": 1e6, "network": 1.0, "neutral": 1.0}
    gate = model.analyse(texts, embed=False).labels
    assert all(types == list(LABELS) for types in gate.types)
    assert (gate.primary == "cluster").all() and (gate.orientation == "lead_firm").all()


def test_the_gate_reads_the_lexicon_block_at_the_weights_chosen_for_the_full_model(examples):
    import copy

    from classifier.classify import scale_columns

    model = PolicyModel(featurizer=PolicyFeaturizer(min_df=1), types=NetworkTypeClassifier(cv=2),
                        orientation=OrientationClassifier(cv=2), embedder=CountingEmbedder(), embed_band=1.0,
                        tune_folds=2, lexicon_weight_grid=[1.0, 0.1]).fit(examples.text.tolist(), examples)
    assert set(model.lexicon_scores_) == {"types", "orientation"}  # chosen once, on the full model's features
    assert model.gate_lexicon_weights_ == model.lexicon_weights_ and model.gate_lexicon_scores_ == {}
    texts = examples.text.tolist()
    changed = copy.deepcopy(model)
    changed.gate_lexicon_weights_ = {"types": 0.0, "orientation": 1.0}
    features = model.featurizer_.transform(texts)
    expected = model.gate_types_.predict_proba(scale_columns(features, model.featurizer_.lexicon_columns(), 0.0))
    gate = changed.analyse(texts, embed=False).labels
    np.testing.assert_allclose(gate[[f"p_{label}" for label in LABELS]].to_numpy(float), expected)
