import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from classifier.classify import (NetworkTypeClassifier, OrientationClassifier, PolicyModel, decide, label_matrix,
                                 macro_average_precision, scale_columns,
                                 tune_orientation_weights, tune_primary_weights, _macro_f1)
from classifier.codebook import LABELS
from classifier.featurize import Lexicon, PolicyFeaturizer, default_lexicon, tokenize
from classifier.persist import ModelIntegrityError, load_model, save_model

from labeled_examples import as_frame


@pytest.fixture(scope="module")
def examples():
    return as_frame()


@pytest.fixture(scope="module")
def fitted(examples):
    featurizer = PolicyFeaturizer(min_df=1)
    return PolicyModel(featurizer=featurizer, types=NetworkTypeClassifier(cv=2), orientation=OrientationClassifier(cv=2),
                       tune_folds=2).fit(examples.text.tolist(), examples)


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


def test_the_lexicon_block_by_language_adds_a_copy_that_only_its_language_fills():
    texts = ["支持中小企业融入大企业供应链。", "SMEs join the supply chains of large firms."]
    shared = PolicyFeaturizer(min_df=1).fit_transform(texts)
    by_language = PolicyFeaturizer(min_df=1, lexicon_by_language=True).fit_transform(texts)
    k = len(default_lexicon().concepts) + len(set(default_lexicon().label_of.values()))
    assert by_language.shape[1] == shared.shape[1] + 2 * k
    lexicon = by_language[:, -3 * k:].toarray()
    block, zh_copy, en_copy = lexicon[:, :k], lexicon[:, k:2 * k], lexicon[:, 2 * k:]
    assert block[0].any() and block[1].any()  # both texts carry cues
    assert (zh_copy[0] == block[0]).all() and not zh_copy[1].any()
    assert (en_copy[1] == block[1]).all() and not en_copy[0].any()


@pytest.mark.parametrize("by_language", [False, True])
def test_the_featurizer_says_where_its_lexicon_block_is(by_language):
    texts = ["支持中小企业融入大企业供应链。", "SMEs join the supply chains of large firms and universities."]
    featurizer = PolicyFeaturizer(min_df=1, lexicon_by_language=by_language, lexicon_weight=2.0)
    features = featurizer.fit_transform(texts)
    columns = featurizer.lexicon_columns()
    assert columns.stop == features.shape[1]
    cues = featurizer.lexicon_.counts_of([featurizer.lexicon_.find(t) for t in texts]).toarray()
    np.testing.assert_allclose(features[:, columns].toarray()[:, : cues.shape[1]], 2.0 * cues)
    without = PolicyFeaturizer(min_df=1, lexicon_by_language=by_language, lexicon_weight=0.0).fit_transform(texts)
    assert without[:, columns].count_nonzero() == 0 and (without[:, : columns.start] != features[:, : columns.start]).nnz == 0


def test_heads_are_classifiers_that_compose_in_a_pipeline_and_cross_validation(examples):
    assert is_classifier(NetworkTypeClassifier()) and is_classifier(OrientationClassifier())
    pipeline = Pipeline([("features", PolicyFeaturizer(min_df=1)), ("orientation", OrientationClassifier(cv=2))])
    assert is_classifier(pipeline)
    pipeline.fit(examples.text, examples.orientation)
    proba = pipeline.predict_proba(examples.text)
    assert proba.shape == (len(examples), 3) and np.allclose(proba.sum(axis=1), 1)
    assert list(pipeline.classes_) == ["lead_firm", "network", "neutral"]
    assert len(cross_val_score(pipeline, examples.text, examples.orientation, cv=2)) == 2


def test_classes_are_learned_from_y_and_unfitted_heads_say_so(examples):
    X = PolicyFeaturizer(min_df=1).fit_transform(examples.text)
    two = OrientationClassifier(cv=2).fit(X, np.where(examples.orientation == "lead_firm", "lead_firm", "other"))
    assert list(two.classes_) == ["lead_firm", "other"] and two.predict_proba(X).shape == (len(examples), 2)
    for head in (NetworkTypeClassifier(), OrientationClassifier()):
        with pytest.raises(NotFittedError):
            head.predict(X)
    assert two.n_features_in_ == X.shape[1]


def test_type_head_gives_one_calibrated_probability_per_type(examples):
    X = PolicyFeaturizer(min_df=1).fit_transform(examples.text)
    Y = label_matrix(examples.types)
    head = NetworkTypeClassifier(cv=2).fit(X, Y, groups=examples.group)
    proba = head.predict_proba(X)
    assert proba.shape == (len(examples), 4) and ((proba >= 0) & (proba <= 1)).all()
    # it learned the training labels: positives score above negatives for every type
    for j in range(4):
        assert proba[Y[:, j] == 1, j].mean() > proba[Y[:, j] == 0, j].mean() + 0.2
    assert head.predict(X).shape == (len(examples), 4)


def test_model_learns_the_training_examples(fitted, examples):
    predicted = fitted.predict(examples.text.tolist())
    assert (predicted.primary == examples.primary).mean() > 0.8
    assert {"types", "primary", "orientation", "p_production", "p_lead_firm"} <= set(predicted.columns)
    assert set(fitted.thresholds_) >= {"*", "zh", "en"}


def test_orientation_head_learns_from_network_units_only(fitted, examples):
    networked = examples.types.map(bool)
    assert fitted.orientation_.n_features_in_ > 0
    # trained on network units only: the classes it knows are the drivers seen there
    assert set(fitted.orientation_.classes_) == set(examples.orientation[networked])
    none_units = int((~networked).sum())
    assert none_units > 0  # the examples do hold none units the head never saw


def test_decision_rules_follow_the_codebook():
    types = np.array([[0.9, 0.6, 0.1, 0.1], [0.1, 0.2, 0.1, 0.1], [0.2, 0.1, 0.7, 0.1]])
    orientation = np.array([[0.7, 0.2, 0.1], [0.8, 0.1, 0.1], [0.3, 0.25, 0.45]])
    decided = decide(types, orientation, np.full(4, 0.5))
    assert decided.types[0] == ["production", "knowledge"] and decided.primary[0] == "production"
    assert decided.orientation[0] == "lead_firm"
    # no type: primary none and orientation neutral even when the orientation head leans lead_firm
    assert decided.types[1] == [] and decided.primary[1] == "none" and decided.orientation[1] == "neutral"
    assert decided.orientation[2] == "neutral"
    # the tuned weights move the decision among network units, never the probabilities
    weighted = decide(types, orientation, np.full(4, 0.5), {"lead_firm": 2.0, "network": 1.0, "neutral": 0.5})
    assert weighted.orientation[2] == "lead_firm" and weighted.p_neutral[2] == 0.45


def test_orientation_weights_are_chosen_to_recover_a_rare_driver():
    # lead_firm units whose calibrated p(lead_firm) sits below p(neutral): plain argmax misses all of them
    truth = np.array(["lead_firm"] * 10 + ["neutral"] * 10 + ["network"] * 30)
    proba = np.vstack([np.tile([0.35, 0.2, 0.45], (10, 1)), np.tile([0.05, 0.2, 0.75], (10, 1)),
                       np.tile([0.1, 0.8, 0.1], (30, 1))])
    weights = tune_orientation_weights(truth, proba)
    decided = decide(np.full((50, 4), 0.9), proba, np.full(4, 0.5), weights)
    assert (decided.orientation[:10] == "lead_firm").all() and (decided.orientation[10:20] == "neutral").all()


def test_primary_weights_are_chosen_to_recover_a_rarer_main_type():
    # partnership records that also carry knowledge at a higher calibrated probability: the most
    # probable assigned type calls every one of them knowledge
    truth = np.array(["partnership"] * 25 + ["knowledge"] * 25 + ["none"] * 10, dtype=object)
    proba = np.vstack([np.tile([0.1, 0.8, 0.6, 0.1], (25, 1)), np.tile([0.1, 0.8, 0.3, 0.1], (25, 1)),
                       np.tile([0.1, 0.1, 0.1, 0.1], (10, 1))])
    thresholds = np.full((60, 4), 0.5)
    domains = np.array(["en"] * 60)
    plain = decide(proba, np.tile([0.1, 0.8, 0.1], (60, 1)), thresholds)
    assert (plain.primary[:25] == "knowledge").all()
    weights = tune_primary_weights(truth, proba, thresholds, domains)
    assert weights["en"]["partnership"] > weights["en"]["knowledge"] == 1.0
    decided = decide(proba, np.tile([0.1, 0.8, 0.1], (60, 1)), thresholds, None,
                     np.tile([weights["en"][l] for l in LABELS], (60, 1)))
    assert (decided.primary.to_numpy() == truth).all()
    # the weights choose among assigned types only: what is assigned, and the probabilities, stay
    assert decided.types.tolist() == plain.types.tolist() and (decided.p_knowledge == plain.p_knowledge).all()


def test_the_fast_primary_macro_f1_is_scikit_learns():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for _ in range(50):
        truth, predicted = rng.integers(0, 5, 30), rng.integers(0, 5, 30)
        truth[truth == 2] = 3  # a class only predicted, and (below) one neither holds
        predicted[predicted == 4], truth[truth == 4] = 0, 0
        assert _macro_f1(truth, predicted) == pytest.approx(
            f1_score(truth, predicted, labels=range(5), average="macro", zero_division=0))


def test_primary_weights_stay_equal_where_nothing_is_gained_and_fall_back_where_few_units_choose():
    # the same two-type reading is knowledge in 50 English units and partnership in 10 Chinese ones
    truth = np.array(["knowledge"] * 50 + ["partnership"] * 10, dtype=object)
    proba = np.tile([0.1, 0.8, 0.6, 0.1], (60, 1))
    domains = np.array(["en"] * 50 + ["zh"] * 10)  # zh: 10 units with two types, under MIN_TUNING_POSITIVES
    weights = tune_primary_weights(truth, proba, np.full((60, 4), 0.5), domains)
    assert weights["en"] == weights["*"] == dict.fromkeys(LABELS, 1.0)  # equal weights already decide best
    # tuned on its own ten units, Chinese would favour partnership; too few: it keeps the overall weights
    assert weights["zh"] == weights["*"]
    assert tune_primary_weights(truth[50:], proba[50:], np.full((10, 4), 0.5), ["*"] * 10)["*"]["partnership"] > 1


def test_the_model_decides_the_primary_by_its_tuned_weights(fitted, examples):
    import copy

    every_type = copy.deepcopy(fitted)  # every type assigned to every unit: the weights alone pick the primary
    every_type.thresholds_ = {d: dict.fromkeys(LABELS, 0.0) for d in ("*", "zh", "en")}
    plain = every_type.predict(examples.text.tolist())
    assert plain.primary.nunique() > 1  # the most probable type differs between units
    every_type.primary_weights_ = {d: {**dict.fromkeys(LABELS, 1.0), "cluster": 1e6} for d in ("*", "zh", "en")}
    favouring = every_type.predict(examples.text.tolist())
    assert (favouring.primary == "cluster").all()
    assert favouring.types.tolist() == plain.types.tolist()


def test_a_model_fitted_before_primary_weights_existed_chooses_the_most_probable_type(fitted, examples):
    import copy

    older = copy.deepcopy(fitted)
    older.thresholds_ = {d: dict.fromkeys(LABELS, 0.0) for d in ("*", "zh", "en")}  # every type assigned
    del older.primary_weights_
    predicted = older.predict(examples.text.tolist())
    p_types = predicted[[f"p_{l}" for l in LABELS]].to_numpy()
    expected = [max(t, key=lambda l: row[LABELS.index(l)]) if t else "none" for row, t in zip(p_types, predicted.types)]
    assert predicted.primary.tolist() == expected


def test_scaling_columns_changes_those_columns_only_and_weight_one_keeps_the_matrix():
    import scipy.sparse as sp

    features = sp.csr_matrix(np.arange(1.0, 13.0).reshape(3, 4))
    assert scale_columns(features, slice(2, 4), 1.0) is features
    assert scale_columns(features, None, 0.1) is features
    scaled = scale_columns(features, slice(2, 4), 0.1)
    assert sp.isspmatrix_csr(scaled)
    np.testing.assert_allclose(scaled.toarray(), features.toarray() * [1, 1, 0.1, 0.1])


def test_macro_average_precision_weighs_languages_alike_and_skips_columns_without_both_classes():
    truth = np.array([[1, 0], [0, 0], [1, 0], [0, 1], [1, 1], [0, 0]])
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.5], [0.1, 0.9], [0.6, 0.2], [0.7, 0.1]])
    domains = ["zh", "zh", "zh", "en", "en", "en"]
    # zh: column 0 ranked perfectly (AP 1), column 1 has no positive there (skipped); en: column 0 AP 0.5
    # (its one positive ranked second of three, behind a negative), column 1 AP 1 -> (1 + 0.75) / 2
    assert macro_average_precision(truth, scores, domains) == pytest.approx((1.0 + 0.75) / 2)


def test_an_uncalibrated_head_is_a_plain_logistic_regression(examples):
    from sklearn.linear_model import LogisticRegression

    features = PolicyFeaturizer(min_df=1).fit_transform(examples.text.tolist())
    head = OrientationClassifier(calibration=None).fit(features, examples.orientation)
    assert isinstance(head.estimator_, LogisticRegression)
    assert isinstance(OrientationClassifier(cv=2).fit(features, examples.orientation).estimator_,
                      CalibratedClassifierCV)


def test_the_lexicon_weight_of_each_head_is_the_best_ranking_one_on_inner_folds(examples):
    featurizer = PolicyFeaturizer(min_df=1)
    model = PolicyModel(featurizer=featurizer, types=NetworkTypeClassifier(cv=2), orientation=OrientationClassifier(cv=2),
                        tune_folds=2, lexicon_weight_grid=[1.0, 0.3, 0.1, 0.0]).fit(examples.text.tolist(), examples)
    assert set(model.lexicon_weights_) == {"types", "orientation"}
    for head, weight in model.lexicon_weights_.items():
        scores = model.lexicon_scores_[head]
        assert set(scores) == {"1.0", "0.3", "0.1", "0.0"}
        assert scores[str(weight)] == max(scores.values())
        assert weight == next(w for w in (1.0, 0.3, 0.1, 0.0) if scores[str(w)] == max(scores.values()))
    assert len(set(model.lexicon_scores_["types"].values())) > 1  # the weight changes how the head ranks


def test_lexicon_weight_ties_keep_the_first_weight_of_the_grid(examples):
    # a featurizer whose lexicon block is empty: every weight ranks alike, so the grid's first is kept
    model = PolicyModel(featurizer=PolicyFeaturizer(min_df=1, lexicon_weight=0.0), types=NetworkTypeClassifier(cv=2),
                        orientation=OrientationClassifier(cv=2), tune_folds=2,
                        lexicon_weight_grid=[0.3, 0.1]).fit(examples.text.tolist(), examples)
    assert model.lexicon_scores_["types"]["0.3"] == model.lexicon_scores_["types"]["0.1"]
    assert model.lexicon_weights_ == {"types": 0.3, "orientation": 0.3}


def test_each_head_reads_the_lexicon_block_at_its_own_weight(fitted, examples):
    import copy

    texts = examples.text.tolist()
    features = fitted.featurizer_.transform(texts)
    columns = fitted.featurizer_.lexicon_columns()
    assert fitted.lexicon_weights_ == {"types": 1.0, "orientation": 1.0}  # no grid: the featurizer's weight
    weighted = copy.deepcopy(fitted)
    weighted.lexicon_weights_ = {"types": 0.0, "orientation": 5.0}
    predicted = weighted.predict(texts)
    expected_types = fitted.types_.predict_proba(scale_columns(features, columns, 0.0))
    np.testing.assert_allclose(predicted[[f"p_{l}" for l in LABELS]].to_numpy(float), expected_types)
    expected_orientation = fitted.orientation_.predict_proba(scale_columns(features, columns, 5.0))
    np.testing.assert_allclose(predicted[["p_lead_firm", "p_network", "p_neutral"]].to_numpy(float), expected_orientation)
    assert not np.allclose(expected_types, fitted.types_.predict_proba(features))
    older = copy.deepcopy(fitted)  # a model saved before the weight was chosen per head reads the block as is
    del older.lexicon_weights_
    pd.testing.assert_frame_equal(older.predict(texts), fitted.predict(texts))


def test_saved_model_reloads_with_identical_predictions_and_refuses_tampering(fitted, tmp_path, examples):
    save_model(fitted, tmp_path, extra={"codebook_version": "1.2"})
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["file"] == "model.skops" and len(manifest["sha256"]) == 64
    loaded = load_model(tmp_path)
    pd.testing.assert_frame_equal(loaded.predict(examples.text.tolist()), fitted.predict(examples.text.tolist()))
    with open(tmp_path / "model.skops", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        load_model(tmp_path)


def test_the_same_model_saved_twice_gives_the_same_bytes_and_still_loads(fitted, tmp_path, examples):
    import copy

    # a copy holds the same model in other objects: skops would name its arrays and shared references by other ids
    save_model(fitted, tmp_path / "a")
    save_model(copy.deepcopy(fitted), tmp_path / "b")
    assert (tmp_path / "a" / "model.skops").read_bytes() == (tmp_path / "b" / "model.skops").read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / "model.skops") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    loaded = load_model(tmp_path / "b")
    pd.testing.assert_frame_equal(loaded.predict(examples.text.tolist()), fitted.predict(examples.text.tolist()))


def test_a_reproducible_file_keeps_shared_references_sparse_matrices_and_bytes(tmp_path):
    import copy

    import scipy.sparse
    import skops.io as sio

    from classifier.persist import write_reproducibly

    array = np.arange(4.0)
    model = {"shared": [array, array], "sparse": scipy.sparse.eye(3, format="csr"), "raw": b"bytes",
             "text": '"__id__": 7', "file": "12.npy"}  # strings shaped like what gets renumbered stay as they are
    paths = [tmp_path / "a.skops", tmp_path / "b.skops"]
    for path in paths:  # a copy: other object ids, and skops names bytes entries at random
        sio.dump(copy.deepcopy(model), path)
        write_reproducibly(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    loaded = sio.load(paths[0], trusted=sio.get_untrusted_types(file=paths[0]))
    assert loaded["shared"][0] is loaded["shared"][1]  # skops restores sharing only for a true (non-zero) id
    assert (loaded["sparse"] != model["sparse"]).nnz == 0
    assert (loaded["raw"], loaded["text"], loaded["file"]) == (b"bytes", '"__id__": 7', "12.npy")


def _rewrite_manifest(directory, **changes):
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest.update(changes)
    (directory / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if v is not None}))


def test_a_file_naming_untrusted_types_is_refused_even_with_a_matching_manifest(fitted, tmp_path):
    save_model(fitted, tmp_path)
    path = tmp_path / "model.skops"
    # Swap the archive's schema for one that names os.system, then re-hash: the hash matches, the types do not.
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    schema["__module__"], schema["__class__"] = "os", "system"
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    from classifier.persist import file_sha256

    _rewrite_manifest(tmp_path, sha256=file_sha256(path))
    with pytest.raises(ModelIntegrityError, match="allow-list"):
        load_model(tmp_path)


@pytest.mark.parametrize("change, message", [
    ({"file": "../outside.skops"}, "outside the model folder"),
    ({"file": "model.joblib"}, "not a skops file"),
    ({"sha256": None}, "missing field"),
])
def test_a_bad_manifest_gets_a_clear_error(fitted, tmp_path, change, message):
    save_model(fitted, tmp_path)
    _rewrite_manifest(tmp_path, **change)
    with pytest.raises(ModelIntegrityError, match=message):
        load_model(tmp_path)


def test_a_manifest_that_is_not_json_or_missing_gets_a_clear_error(fitted, tmp_path):
    save_model(fitted, tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="not valid JSON"):
        load_model(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(ModelIntegrityError, match="no manifest"):
        load_model(tmp_path)
