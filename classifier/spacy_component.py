"""A spaCy pipeline component that sets the codebook labels on ``Doc`` objects.

    import spacy, classifier.spacy_component  # registers the factory
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("sme_policy_classifier")                      # or config={"model_path": "models/mine"}
    doc = nlp("大型企业向中小企业采购货物，付款期限最长不超过60日。")
    doc._.sme_primary, doc._.sme_types, doc._.sme_orientation, doc._.sme_scores, doc._.sme_evidence
    nlp.to_disk("my_pipeline")                                 # the model's files are saved inside it
    spacy.load("my_pipeline")                                  # and loaded back, verified, without running code

Each Doc is tagged as one document (measures split and aggregated as by ``classifier tag``),
from the Doc's own text; the component makes no Doc of its own. ``nlp.pipe`` tags in batches.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from .persist import MANIFEST, read_manifest
from .tagger import PolicyClassifier, model_dir

MODEL_CARD = "model_card.json"
ATTRIBUTES = {"sme_types": [], "sme_primary": "none", "sme_orientation": "neutral", "sme_scores": {},
              "sme_evidence": [], "sme_ood": False}
for _name, _default in ATTRIBUTES.items():
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


class PolicyComponent:
    """Tags Docs with a :class:`PolicyClassifier`; loaded on first use, so that ``spacy.load`` of a saved
    pipeline reads the model saved inside it (``from_disk``) and never the ``model_path`` it was made from."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64):
        self.model_path = model_path
        self.batch_size = batch_size
        self._classifier: PolicyClassifier | None = None

    @property
    def classifier(self) -> PolicyClassifier:
        if self._classifier is None:
            self._classifier = PolicyClassifier.load(self.model_path)
        return self._classifier

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int | None = None):
        size = batch_size or self.batch_size
        batch = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= size:
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

    # ------------------------------------------------------------ serialization (nlp.to_disk / spacy.load)

    def to_disk(self, path, exclude=()) -> None:
        """Copy the model directory's files (model, manifest, model card) into the component's folder."""
        source = self.classifier.path or model_dir(self.model_path)
        target = Path(path)
        target.mkdir(parents=True, exist_ok=True)
        for name in model_files(source):
            shutil.copyfile(source / name, target / name)

    def from_disk(self, path, exclude=()) -> "PolicyComponent":
        """Load the saved model (hash-checked, type allow-listed: :func:`classifier.persist.load_model`)."""
        self._classifier = PolicyClassifier.load(Path(path))
        return self


def model_files(directory: Path) -> list[str]:
    """The files that make a model directory loadable: the model the manifest names, the manifest, the card."""
    names = [read_manifest(directory)["file"], MANIFEST]
    return names + [MODEL_CARD] * (directory / MODEL_CARD).is_file()


@Language.factory("sme_policy_classifier", default_config={"model_path": None, "batch_size": 64})
def make_component(nlp: Language, name: str, model_path: str | None, batch_size: int) -> PolicyComponent:
    return PolicyComponent(model_path, batch_size)
