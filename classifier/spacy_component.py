"""A spaCy pipeline component that sets the codebook labels on ``Doc`` objects.

    import spacy, classifier.spacy_component  # registers the factory
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("sme_policy_classifier")                      # or config={"model_path": "models/mine"}
    doc = nlp("大型企业向中小企业采购货物，付款期限最长不超过60日。")
    doc._.sme_primary, doc._.sme_types, doc._.sme_orientation, doc._.sme_scores, doc._.sme_evidence

Each Doc is tagged as one document (measures split and aggregated as by ``classifier tag``);
``nlp.pipe`` tags in batches.
"""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from .tagger import PolicyClassifier

ATTRIBUTES = {"sme_types": [], "sme_primary": "none", "sme_orientation": "neutral", "sme_scores": {},
              "sme_evidence": [], "sme_ood": False}
for _name, _default in ATTRIBUTES.items():
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


class PolicyComponent:
    def __init__(self, classifier: PolicyClassifier, batch_size: int = 64):
        self.classifier = classifier
        self.batch_size = batch_size

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int | None = None):
        batch = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= (batch_size or self.batch_size):
                yield from self._tag(batch)
                batch = []
        if batch:
            yield from self._tag(batch)

    def _tag(self, docs: list[Doc]):
        rows = self.classifier.tag([doc.text for doc in docs]).to_dict("records")
        for doc, row in zip(docs, rows):
            doc._.sme_types, doc._.sme_primary, doc._.sme_orientation = row["types"], row["primary"], row["orientation"]
            doc._.sme_scores, doc._.sme_evidence, doc._.sme_ood = row["scores"], row["evidence"], bool(row["ood"])
            yield doc


@Language.factory("sme_policy_classifier", default_config={"model_path": None, "batch_size": 64})
def make_component(nlp: Language, name: str, model_path: str | None, batch_size: int) -> PolicyComponent:
    return PolicyComponent(PolicyClassifier.load(model_path), batch_size)
