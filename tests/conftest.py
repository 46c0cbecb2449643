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
