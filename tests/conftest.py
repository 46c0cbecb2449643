import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def data_dir() -> Path:
    return Path(os.environ.get("CLASSIFIER_DATA", ROOT.parent / "shared" / "data"))


requires_data = pytest.mark.skipif(not (data_dir() / "oecd").is_dir(), reason="real corpora not available (set CLASSIFIER_DATA)")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A small model trained on the test's own labeled examples (seconds, no corpus needed)."""
    from classifier.classify import NetworkTypeClassifier, OrientationClassifier, PolicyModel
    from classifier.featurize import PolicyFeaturizer
    from classifier.persist import save_model
    from labeled_examples import as_frame

    examples = as_frame()
    model = PolicyModel(PolicyFeaturizer(min_df=1), NetworkTypeClassifier(cv=2), OrientationClassifier(cv=2), tune_folds=2)
    model.fit(examples.text.tolist(), examples)
    directory = tmp_path_factory.mktemp("model")
    save_model(model, directory)
    return directory
