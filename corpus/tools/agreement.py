"""Inter-annotator agreement: first labels (corpus/labels/*.csv) vs independent second labels.

    python corpus/tools/agreement.py [--disagreements OUT.csv]

Second annotations live in corpus/labels/second/*.csv (unit_id + the label columns), made
without seeing the first labels. Prints Cohen's kappa per axis (each network type as a
binary decision, the primary type, the orientation) and raw agreement, per corpus.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from classifier.codebook import LABELS  # noqa: E402
from classifier.codebook import parse_types  # noqa: E402


def load_pairs(label_dir: Path) -> pd.DataFrame:
    first = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(label_dir.glob("*.csv"))])
    # Agreement is measured before adjudication: the first annotator's own labels where a unit was adjudicated.
    adjudication_file = label_dir / "second" / "adjudication.csv"
    if adjudication_file.exists():
        original = pd.read_csv(adjudication_file, dtype=str, keep_default_na=False).set_index("unit_id")
        hit = first.unit_id.isin(original.index)
        for col in ("types", "primary", "orientation"):
            first.loc[hit, col] = first.loc[hit, "unit_id"].map(original[f"first_{col}"])
    second = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False).assign(second_file=p.name)
                        for p in sorted((label_dir / "second").glob("*.csv")) if p.name != "adjudication.csv"])
    pairs = first.merge(second, on="unit_id", suffixes=("_1", "_2"))
    pairs["corpus"] = pairs.unit_id.map(lambda u: "oecd" if u.startswith("stip:") else "cn")
    for side in ("_1", "_2"):
        pairs["types" + side] = pairs["types" + side].map(parse_types)
    return pairs


def kappas(pairs: pd.DataFrame) -> dict:
    result = {"units": len(pairs)}
    for label in LABELS:
        a = pairs.types_1.map(lambda t: label in t)
        b = pairs.types_2.map(lambda t: label in t)
        result[f"kappa_{label}"] = cohen_kappa_score(a, b)
    any_1, any_2 = pairs.types_1.map(bool), pairs.types_2.map(bool)
    result["kappa_any_network_type"] = cohen_kappa_score(any_1, any_2)
    result["kappa_primary"] = cohen_kappa_score(pairs.primary_1, pairs.primary_2)
    result["kappa_orientation"] = cohen_kappa_score(pairs.orientation_1, pairs.orientation_2)
    result["agreement_primary"] = float((pairs.primary_1 == pairs.primary_2).mean())
    result["agreement_orientation"] = float((pairs.orientation_1 == pairs.orientation_2).mean())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=ROOT / "corpus" / "labels")
    parser.add_argument("--disagreements", type=Path, help="write the units whose primary or orientation differ")
    args = parser.parse_args()
    pairs = load_pairs(args.labels)
    table = pd.DataFrame({name: kappas(part) for name, part in [("all", pairs), *pairs.groupby("corpus")]})
    print(table.round(3).to_string())
    if args.disagreements:
        differ = pairs[(pairs.primary_1 != pairs.primary_2) | (pairs.orientation_1 != pairs.orientation_2)
                       | (pairs.types_1.map(sorted) != pairs.types_2.map(sorted))]
        differ.to_csv(args.disagreements, index=False)
        print(f"{len(differ)} disagreements -> {args.disagreements}")


if __name__ == "__main__":
    main()
