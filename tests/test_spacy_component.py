"""The spaCy component: labels on Docs, and a pipeline saved with nlp.to_disk that spacy.load reads back."""
import shutil

import pytest

spacy = pytest.importorskip("spacy")

import classifier.spacy_component  # noqa: E402,F401  (registers the factory)

TEXTS = ["Vouchers let SMEs buy R&D services from universities.",
         "Large buyers must pay SME suppliers within 30 days.",
         "大型企业向中小企业采购货物，付款期限最长不超过60日。"]


def labels(docs):
    return [(d._.sme_types, d._.sme_primary, d._.sme_orientation, d._.sme_scores) for d in docs]


def test_saved_pipeline_loads_with_the_model_inside_it(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    nlp = spacy.blank("en")
    nlp.add_pipe("sme_policy_classifier", config={"model_path": str(model)})
    before = labels(nlp.pipe(TEXTS, batch_size=2))
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(model)  # the saved pipeline must not need the folder it was made from
    saved = tmp_path / "pipeline" / "sme_policy_classifier"
    assert {p.name for p in saved.iterdir()} >= {"model.skops", "manifest.json"}
    loaded = spacy.load(tmp_path / "pipeline")
    assert labels(loaded.pipe(TEXTS, batch_size=2)) == before
    assert labels([loaded(TEXTS[0])]) == before[:1]


def test_a_tampered_saved_model_is_refused(tiny_model, tmp_path):
    from classifier.persist import ModelIntegrityError

    nlp = spacy.blank("en")
    nlp.add_pipe("sme_policy_classifier", config={"model_path": str(tiny_model)})
    nlp.to_disk(tmp_path / "pipeline")
    with open(tmp_path / "pipeline" / "sme_policy_classifier" / "model.skops", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(ModelIntegrityError):
        spacy.load(tmp_path / "pipeline")


def test_pipe_tags_in_batches(tiny_model, monkeypatch):
    from classifier.tagger import PolicyClassifier

    nlp = spacy.blank("en")
    nlp.add_pipe("sme_policy_classifier", config={"model_path": str(tiny_model)})
    calls = []
    tag = PolicyClassifier.tag
    monkeypatch.setattr(PolicyClassifier, "tag", lambda self, texts, **kw: calls.append(list(texts)) or tag(self, texts, **kw))
    docs = list(nlp.pipe(TEXTS, batch_size=2))  # spaCy passes its batch size on to the component
    assert calls == [TEXTS[:2], TEXTS[2:]]
    assert all(d._.sme_scores for d in docs)
