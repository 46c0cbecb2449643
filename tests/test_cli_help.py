"""Help texts as a researcher meets them: every option explained, no type noise beside flags."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def help_text(*command: str) -> str:
    result = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", ["ingest", "tag", "report"])
def test_no_bool_metavar_beside_flags(command):
    assert "<bool>" not in help_text("-m", "classifier", command)


def test_tag_engine_choices_come_from_an_enum():
    assert "<local|dask>" in help_text("-m", "classifier", "tag")


def test_train_help_warns_that_the_default_output_overwrites_the_default_model_and_says_how_long():
    text = " ".join(help_text("train.py").split())
    assert "OVERWRITES models/default" in text and "about 10 minutes" in text
    assert "--config CONFIG training run" in text
