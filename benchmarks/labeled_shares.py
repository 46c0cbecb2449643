"""The labeled truth of the SME-targeted view beside the report's estimate of it.

    python benchmarks/labeled_shares.py [--model models/default] [--report report/shares.json] [--cells]

The truth is the class mix the quantification benchmark samples at (``LabeledPosteriors.corpus_mix``
with ``sme_only``): the labels that stand for the SME-targeted view, weighted by the sampling design
(``classifier.sampling``: a unit of a cell's standing random draw for its part of the rest of the cell, every
unit labeled before that draw for itself, those after it for nothing), read
from the model's out-of-fold files. In the shared STIP data every SME-targeted initiative is labeled (its
latest wave), so for the OECD corpus that mix is the labeled census of the view the report's SME-targeted
figures estimate (the report covers every wave of those initiatives and reads the labeled records with their
out-of-fold predictions). Of the Chinese measures, the units the annotation loop and the cue words chose are
labeled, and a random sample of the rest, which holds few network units. Prints both beside the report's
headline figures (primary type among network units and the lead-firm share), and the mix of each cell's
standing random draw alone (the rest of the view, which nobody labeled before it).

Then, per language, the network probability mass the model's out-of-fold predictions give (1 - p(none),
summed over the types as the primary target reads them): on `none` units drawn at random, on `none` units
chosen otherwise (the annotation loop, cue words), and on network units. What the random `none` units leak
is what a corpus's `none` text adds to the shares among network units.

``--cells`` also joins the label files to the data directory (``CLASSIFIER_DATA``) and prints the sampling
design's cells (``classifier.sampling``): units in the corpus, labels chosen there, labels drawn at random
there, how many of those carry a network type, how many labels stand for the rest of the cell (its standing
random draw, the one of least design variance), how many for themselves (labeled before that draw) and for
nothing (labeled after it), and which draw stands, with the design weight of each of its labels.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.codebook import LABELS  # noqa: E402
from classifier.codebook import NONE  # noqa: E402
from classifier.quantify import flat_shares, labeled_posteriors, labels_of, posteriors, shares  # noqa: E402
from classifier.sampling import drawn_at_random  # noqa: E402

CORPUS_OF_LANG = {"en": "oecd", "zh": "cn"}
PRIMARY_KEYS = [f"primary_share_of_network.{label}" for label in LABELS]
LEAD_FIRM_KEY = "orientation_share_of_network.lead_firm"
NETWORK_KEY = "network_share.network"
SHOWN = [*PRIMARY_KEYS, LEAD_FIRM_KEY, NETWORK_KEY]
MASS_GROUPS = ("none, drawn at random", "none, chosen otherwise", "network")


def labeled_truth(labeled, rest_only: bool = False) -> tuple[dict, int]:
    """The SME-targeted view's shares from the labels standing for it, weighted by design (``rest_only``: those of
    each cell's standing draw alone, the mix of the rest of the view that nobody labeled before it), and the network
    units among those labels."""
    if rest_only:
        labeled = labeled.subset(np.flatnonzero(labeled.stands_for_rest()))
    primary_mix = labeled.corpus_mix("primary", sme_only=True)
    values = {**flat_shares(shares("primary", primary_mix)),
              **flat_shares(shares("orientation", labeled.corpus_mix("orientation", sme_only=True))),
              NETWORK_KEY: 1 - primary_mix[len(LABELS)]}  # the last primary class is none
    rows = labeled.standing_rows(sme_only=True)
    network = int(np.count_nonzero(labels_of(labeled.truth.iloc[rows], "primary") < len(LABELS)))
    return values, network


def report_shares(view: dict, corpus: str) -> dict:
    """The headline value (corrected where it leads, else raw) of each share the table shows."""
    figures = view["corpora"][corpus]["figures"]
    values = {}
    for key in SHOWN:
        family, category = key.split(".", 1)
        figure = figures[family][category]
        values[key] = (figure["corrected"] if figure["headline"] == "corrected" else figure["raw"])["value"]
    return values


def row(corpus: str, source: str, values: dict, network_units: int) -> str:
    return (f"| {corpus} | {source} | " + " | ".join(f"{values[k]:.1%}" for k in SHOWN)
            + f" | {network_units} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--report", type=Path, default=Path("report/shares.json"))
    parser.add_argument("--cells", action="store_true", help="also the sampling design's cells (reads the data)")
    args = parser.parse_args()
    labeled = labeled_posteriors(args.model)
    view = json.loads(args.report.read_text())["views"]["sme"] if args.report.exists() else None
    print("| corpus | source | " + " | ".join(LABELS) + " | lead_firm | network share | network units |")
    print("|---|---|" + "---|" * (len(SHOWN) + 1))
    for lang, corpus in CORPUS_OF_LANG.items():
        if lang not in labeled:
            continue
        truth, network = labeled_truth(labeled[lang])
        source = "all labeled SME initiatives" if lang == "en" else "labels standing for the view, by design"
        print(row(corpus, source, truth, network))
        if lang != "en":
            print(row(corpus, "standing draw alone (the unlabeled rest)", *labeled_truth(labeled[lang], True)))
        if view is not None and corpus in view["corpora"]:
            print(row(corpus, f"report ({args.report})", report_shares(view, corpus),
                      view["corpora"][corpus]["network_units"]))
    print("\n| lang | " + " | ".join(MASS_GROUPS) + " |\n|---|" + "---|" * len(MASS_GROUPS))
    for lang, units in sorted(labeled.items()):
        print(f"| {lang} | " + " | ".join(f"{m:.3f} (n={n})" for m, n in network_mass(units)) + " |")
    if args.cells:
        print_cells()


def network_mass(labeled) -> list[tuple[float, int]]:
    """Mean network probability (and count) in each of ``MASS_GROUPS``."""
    P, y = posteriors(labeled.predicted, "primary"), labels_of(labeled.truth, "primary")
    mass, none, random = 1 - P[:, len(LABELS)], y == len(LABELS), drawn_at_random(labeled.truth["sampling"])
    return [(float(mass[rows].mean()) if rows.any() else float("nan"), int(rows.sum()))
            for rows in (none & random, none & ~random, ~none)]


def print_cells() -> None:
    from classifier.labels import load_repository_labels
    from classifier.sampling import STANDS_FOR_ITSELF, STANDS_FOR_REST, design_roles, design_weights

    labels = load_repository_labels()
    random, roles = drawn_at_random(labels["sampling"]), design_roles(labels)
    rest = labels[roles == STANDS_FOR_REST].assign(weight=design_weights(labels)[roles == STANDS_FOR_REST])
    table = labels.groupby("cell").agg(corpus_units=("cell_size", "first")).join(
        labels[~random].groupby("cell").agg(chosen_labels=("unit_id", "size"))).join(
        labels[random].groupby("cell").agg(random_labels=("unit_id", "size"),
                                           random_network=("primary", lambda p: int((p != NONE).sum())))).join(
        rest.groupby("cell").agg(standing_for_the_rest=("unit_id", "size"))).join(
        labels[roles == STANDS_FOR_ITSELF].groupby("cell").agg(standing_for_themselves=("unit_id", "size"))).join(
        labels[roles == ""].groupby("cell").agg(standing_for_nothing=("unit_id", "size"))).fillna(0).astype(int)
    draws = rest.groupby("cell").agg(stratum=("sampling", "first"), round=("round", "first"), weight=("weight", "first"))
    print("\n| cell | corpus units | chosen labels | random labels | random network units | labels standing for the "
          "rest (the cell's standing draw) | labels standing for themselves (before it) | labels standing for "
          "nothing (after it) | standing draw (weight of each of its labels) |\n|---|---|---|---|---|---|---|---|---|")
    for cell, counts in table.iterrows():
        draw = (f"{draws.at[cell, 'stratum']} (round {draws.at[cell, 'round']}; {draws.at[cell, 'weight']:.1f})"
                if cell in draws.index else "")
        print(f"| {cell} | " + " | ".join(f"{n:,}" for n in counts) + f" | {draw} |")


if __name__ == "__main__":
    main()
