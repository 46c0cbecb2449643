import pandas as pd
import pytest

from classifier.codebook import parse_types
from classifier.labels import LabelError, load_repository_labels, load_user_labels, validate

from conftest import ROOT, requires_data


def frame(**overrides):
    row = {"unit_id": "u1", "types": ["production"], "primary": "production", "orientation": "lead_firm"}
    row.update(overrides)
    return pd.DataFrame([row])


def test_parse_types():
    assert parse_types("none") == [] and parse_types("production;knowledge") == ["production", "knowledge"]
    assert parse_types('["cluster", "knowledge"]') == ["cluster", "knowledge"] and parse_types("[]") == []
    assert parse_types(("partnership",)) == ["partnership"] and parse_types("") == [] and parse_types(None) == []


@pytest.mark.parametrize("overrides,message", [
    ({"types": [], "primary": "none", "orientation": "lead_firm"}, "requires orientation neutral"),
    ({"primary": "cluster"}, "does not fit types"),
    ({"types": ["supply"], "primary": "supply"}, "unknown network type"),
    ({"orientation": "leader"}, "unknown orientation"),
])
def test_labels_that_break_the_codebook_are_refused(overrides, message):
    with pytest.raises(LabelError, match=message):
        validate(frame(**overrides), "test")


def test_user_labels_from_csv(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"text": ["供应链金融", "Loans"], "types": ["production", "none"], "primary": ["production", "none"],
                  "orientation": ["network", "neutral"]}).to_csv(path, index=False)
    units = load_user_labels(path)
    assert units.types.tolist() == [["production"], []] and units.lang.tolist() == ["zh", "en"]
    assert units.unit_id.is_unique


@requires_data
def test_repository_labels_join_to_real_texts():
    units = load_repository_labels()
    assert len(units) >= 1800 and set(units.corpus) == {"oecd", "cn"}
    assert (units[units.corpus == "oecd"].text.str.len() > 0).all()
    assert units[units.corpus == "cn"].group.nunique() >= 60


@requires_data
def test_missing_or_changed_ids_fail_clearly(tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    cn = pd.read_csv(ROOT / "corpus" / "labels" / "cn_measures.csv", dtype=str, keep_default_na=False).head(3)
    cn.loc[0, "text_sha1"] = "000000000000"
    cn.to_csv(labels / "cn_measures.csv", index=False)
    with pytest.raises(LabelError, match="no longer match"):
        load_repository_labels(label_dir=labels)
    cn.loc[0, "doc_id"] = "cn/laws/no-such-law.md"
    cn.to_csv(labels / "cn_measures.csv", index=False)
    with pytest.raises(LabelError, match="not found"):
        load_repository_labels(label_dir=labels)
