"""The labeled truth of the SME-targeted view beside the report's estimate of it.

    CLASSIFIER_DATA=../shared/data python benchmarks/labeled_shares.py [--report report/shares.json]

In the shared STIP data every SME-targeted initiative is labeled (its latest wave), so the
labeled shares among its network records are the truth the report's SME-targeted OECD figures
estimate (the report covers every wave of those initiatives and reads the labeled records with
their out-of-fold predictions). For the Chinese measures only a random sample is labeled: their
shares come from the labels drawn at random in SME-targeted documents, weighted by design
(``classifier.sampling``), and rest on few network units. Prints both beside the report's
headline figures (primary type among network units and the lead-firm share).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from classifier.codebook import LABELS  # noqa: E402
from classifier.labels import load_repository_labels  # noqa: E402
from classifier.sampling import design_weights  # noqa: E402

CORPUS_OF_LANG = {"en": "oecd", "zh": "cn"}


def labeled_shares(units, weights) -> dict:
    network = units["primary"].ne("none").to_numpy()
    w = weights[network]
    shares = {label: float(w[(units["primary"].to_numpy()[network] == label)].sum() / w.sum()) for label in LABELS}
    shares["lead_firm"] = float(w[units["orientation"].to_numpy()[network] == "lead_firm"].sum() / w.sum())
    return shares | {"network_units": int((w > 0).sum())}


def report_shares(view: dict, corpus: str) -> dict:
    figures = view["corpora"][corpus]["figures"]
    best = lambda f: (f.get("corrected") if f["headline"] == "corrected" else f["raw"])["value"]  # noqa: E731
    shares = {label: best(figures["primary_share_of_network"][label]) for label in LABELS}
    return shares | {"lead_firm": best(figures["orientation_share_of_network"]["lead_firm"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, default=Path("report/shares.json"))
    args = parser.parse_args()
    units = load_repository_labels()
    units = units[units["sme_targeted"].astype(bool)].reset_index(drop=True)
    weights = design_weights(units)
    view = json.loads(args.report.read_text())["views"]["sme"] if args.report.exists() else None
    print("| corpus | source | " + " | ".join(LABELS) + " | lead_firm | network units |")
    print("|---|---|" + "---|" * (len(LABELS) + 2))
    for lang, corpus in CORPUS_OF_LANG.items():
        part = units["lang"].eq(lang).to_numpy()
        census = lang == "en"  # every SME-targeted STIP initiative is labeled
        truth = labeled_shares(units[part], np.ones(part.sum()) if census else weights[part])
        source = "all labeled SME initiatives" if census else "random labels, weighted by design"
        print(f"| {corpus} | {source} | " + " | ".join(f"{truth[k]:.1%}" for k in (*LABELS, "lead_firm"))
              + f" | {truth['network_units']} |")
        if view is not None and corpus in view["corpora"]:
            estimate = report_shares(view, corpus)
            print(f"| {corpus} | report ({args.report}) | " + " | ".join(f"{estimate[k]:.1%}" for k in (*LABELS, "lead_firm"))
                  + f" | {view['corpora'][corpus]['network_units']} |")


if __name__ == "__main__":
    main()
