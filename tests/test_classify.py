import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from classifier.classify import (ModelIntegrityError, NetworkTypeClassifier, OrientationClassifier, PolicyModel,
                                 decide, label_matrix, load_model, save_model)
from classifier.featurize import LABELS, Lexicon, PolicyFeaturizer, default_lexicon, tokenize

from labeled_examples import as_frame


@pytest.fixture(scope="module")
def examples():
    return as_frame()


@pytest.fixture(scope="module")
def fitted(examples):
    featurizer = PolicyFeaturizer(min_df=1)
    return PolicyModel(featurizer=featurizer, types=NetworkTypeClassifier(cv=2), orientation=OrientationClassifier(cv=2)).fit(
        examples.text.tolist(), examples)


def test_spacy_tokenizers_segment_chinese_with_jieba_and_english():
    zh, en = tokenize(["带动产业链上下游中小企业协同发展。", "Vouchers let SMEs buy R&D services."])
    assert "产业链" in zh and "中小企业" in zh and "。" not in zh
    assert en == ["vouchers", "let", "smes", "buy", "r&d", "services"]


def test_lexicon_maps_both_languages_to_shared_concepts_with_offsets():
    lexicon = default_lexicon()
    zh = lexicon.find("推动供应链协同")
    en = lexicon.find("Supply chain finance for SME suppliers")
    assert {c.concept for c in zh} == {"supply_chain"} and {"supply_chain", "supplier"} <= {c.concept for c in en}
    cue = zh[0]
    assert "推动供应链协同"[cue.start : cue.end] == "供应链"
    assert [c.phrase for c in lexicon.find("FDI linkages, not fdic")] == ["FDI"]  # acronyms are case-sensitive words


def test_lexicon_is_data_loaded_from_a_file(tmp_path):
    path = tmp_path / "lex.csv"
    path.write_text("concept,label,lang,phrase\nwidget,production,en,widget\n", encoding="utf-8")
    assert [c.concept for c in Lexicon.load(path).find("A widget maker")] == ["widget"]


def test_featurizer_is_a_transformer_with_shared_lexicon_block(examples):
    featurizer = PolicyFeaturizer(min_df=1)
    X = featurizer.fit_transform(examples.text)
    assert X.shape[0] == len(examples) and X.shape == featurizer.transform(examples.text).shape
    assert clone(featurizer).get_params() == featurizer.get_params()


def test_heads_compose_in_a_pipeline(examples):
    pipeline = Pipeline([("features", PolicyFeaturizer(min_df=1)), ("orientation", OrientationClassifier(cv=2))])
    pipeline.fit(examples.text, examples.orientation)
    proba = pipeline.predict_proba(examples.text)
    assert proba.shape == (len(examples), 3) and np.allclose(proba.sum(axis=1), 1)
    assert set(pipeline.predict(examples.text)) <= {"lead_firm", "network", "neutral"}


def test_type_head_gives_one_probability_per_type(examples):
    X = PolicyFeaturizer(min_df=1).fit_transform(examples.text)
    head = NetworkTypeClassifier(cv=2, thresholds="tuned").fit(X, label_matrix(examples.types), groups=examples.group)
    proba = head.predict_proba(X)
    assert proba.shape == (len(examples), 4) and ((proba >= 0) & (proba <= 1)).all()
    assert set(head.thresholds_["*"]) == set(LABELS)
    assert head.predict(X).shape == (len(examples), 4)


def test_model_learns_the_training_examples(fitted, examples):
    predicted = fitted.predict(examples.text.tolist())
    agreement = (predicted.primary == examples.primary).mean()
    assert agreement > 0.8
    assert {"types", "primary", "orientation", "p_production", "p_lead_firm"} <= set(predicted.columns)


def test_decision_rules_follow_the_codebook():
    types = np.array([[0.9, 0.6, 0.1, 0.1], [0.1, 0.2, 0.1, 0.1]])
    orientation = np.array([[0.7, 0.2, 0.1], [0.8, 0.1, 0.1]])
    decided = decide(types, orientation, np.full(4, 0.5))
    assert decided.types[0] == ["production", "knowledge"] and decided.primary[0] == "production"
    assert decided.orientation[0] == "lead_firm"
    # no type: primary none and orientation neutral even when the orientation head leans lead_firm
    assert decided.types[1] == [] and decided.primary[1] == "none" and decided.orientation[1] == "neutral"


def test_saved_model_loads_only_when_its_hash_matches(fitted, tmp_path, examples):
    save_model(fitted, tmp_path, extra={"codebook_version": "1.2"})
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["sha256"]) == 64 and manifest["codebook_version"] == "1.2"
    loaded = load_model(tmp_path)
    pd.testing.assert_frame_equal(loaded.predict(examples.text[:5].tolist()), fitted.predict(examples.text[:5].tolist()))
    with open(tmp_path / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        load_model(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(ModelIntegrityError, match="no manifest"):
        load_model(tmp_path)
