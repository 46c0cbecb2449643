"""Bilingual classifier of SME network policies (codebook in ``classifier/data/codebook.md``).

Stages, one module each: ingest -> segment -> featurize -> classify -> aggregate -> report.
"""
__version__ = "0.1.0"
