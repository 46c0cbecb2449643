"""The labeled truth of the SME-targeted view beside the report's estimate of it.

    python benchmarks/labeled_shares.py [--model models/default] [--report report/shares.json]

The truth is the class mix the quantification benchmark samples at (``LabeledPosteriors.corpus_mix``
with ``sme_only``): the labels drawn at random in SME-targeted documents, weighted by the sampling
design (``classifier.sampling``), read from the model's out-of-fold files. In the shared STIP data
every SME-targeted initiative is labeled (its latest wave), so for the OECD corpus that mix is the
labeled census of the view the report's SME-targeted figures estimate (the report covers every wave
of those initiatives and reads the labeled records with their out-of-fold predictions). For the
Chinese measures only a random sample is labeled, and it holds few network units. Prints both
beside the report's headline figures (primary type among network units and the lead-firm share).

Then, per language, the network probability mass the model's out-of-fold predictions give (1 - p(none),
summed over the types as the primary target reads them): on `none` units drawn at random, on `none` units
chosen otherwise (the annotation loop, cue words), and on network units. What the random `none` units leak
is what a corpus's `none` text adds to the shares among network units.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.codebook import LABELS  # noqa: E402
from classifier.quantify import flat_shares, labeled_posteriors, labels_of, posteriors, shares  # noqa: E402

CORPUS_OF_LANG = {"en": "oecd", "zh": "cn"}
PRIMARY_KEYS = [f"primary_share_of_network.{label}" for label in LABELS]
LEAD_FIRM_KEY = "orientation_share_of_network.lead_firm"


def labeled_truth(labeled) -> tuple[dict, int]:
    """The SME-targeted view's shares from the random labels weighted by design, and its random network units."""
    truth = {**flat_shares(shares("primary", labeled.corpus_mix("primary", sme_only=True))),
             **flat_shares(shares("orientation", labeled.corpus_mix("orientation", sme_only=True)))}
    rows = labeled.random_rows(sme_only=True)
    network = int(np.count_nonzero(labels_of(labeled.truth.iloc[rows], "primary") < len(LABELS)))
    return truth, network


def report_shares(view: dict, corpus: str) -> dict:
    """The headline value (corrected where it leads, else raw) of each share the table shows."""
    figures = view["corpora"][corpus]["figures"]
    values = {}
    for key in [*PRIMARY_KEYS, LEAD_FIRM_KEY]:
        family, category = key.split(".", 1)
        figure = figures[family][category]
        values[key] = (figure["corrected"] if figure["headline"] == "corrected" else figure["raw"])["value"]
    return values


def row(corpus: str, source: str, values: dict, network_units: int) -> str:
    return (f"| {corpus} | {source} | " + " | ".join(f"{values[k]:.1%}" for k in [*PRIMARY_KEYS, LEAD_FIRM_KEY])
            + f" | {network_units} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--report", type=Path, default=Path("report/shares.json"))
    args = parser.parse_args()
    labeled = labeled_posteriors(args.model)
    view = json.loads(args.report.read_text())["views"]["sme"] if args.report.exists() else None
    print("| corpus | source | " + " | ".join(LABELS) + " | lead_firm | network units |")
    print("|---|---|" + "---|" * (len(LABELS) + 2))
    for lang, corpus in CORPUS_OF_LANG.items():
        if lang not in labeled:
            continue
        truth, network = labeled_truth(labeled[lang])
        source = "all labeled SME initiatives" if lang == "en" else "random labels, weighted by design"
        print(row(corpus, source, truth, network))
        if view is not None and corpus in view["corpora"]:
            print(row(corpus, f"report ({args.report})", report_shares(view, corpus),
                      view["corpora"][corpus]["network_units"]))
    print_network_mass(labeled)


def network_mass(labeled) -> dict[str, tuple[float, int]]:
    """Mean network probability (and count) on random `none` units, other `none` units and network units."""
    P, y = posteriors(labeled.predicted, "primary"), labels_of(labeled.truth, "primary")
    mass, none, random = 1 - P[:, len(LABELS)], y == len(LABELS), labeled.design_weights() > 0
    groups = {"none, drawn at random": none & random, "none, chosen otherwise": none & ~random, "network": ~none}
    return {name: (float(mass[rows].mean()) if rows.any() else float("nan"), int(rows.sum()))
            for name, rows in groups.items()}


def print_network_mass(labeled: dict) -> None:
    print("\n| lang | " + " | ".join(network_mass(next(iter(labeled.values())))) + " |")
    print("|---|---|---|---|")
    for lang, units in sorted(labeled.items()):
        print(f"| {lang} | " + " | ".join(f"{m:.3f} (n={n})" for m, n in network_mass(units).values()) + " |")


if __name__ == "__main__":
    main()
