"""Bilingual classifier of SME network policies.

The codebook is ``corpus/codebook.md``; its vocabulary (labels, orientations, version) is
``classifier/codebook.py``. Stages, one module each: ingest -> segment -> featurize -> classify
-> aggregate -> report.
"""
__version__ = "0.1.0"  # the one place: pyproject.toml reads it ([tool.setuptools.dynamic])
