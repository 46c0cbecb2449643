"""Train and evaluate the classifier from a config file; write the model and its card.

    python train.py                                  # configs/train.toml -> models/default (overwrites it)
    python train.py --labels my_labels.csv --no-repository-labels --out models/mine
    python train.py --skip-eval                      # fit only (no cross-validation)

Without --out the model OVERWRITES models/default (the model every command uses by default);
pass --out DIR to keep it. A full run (5-fold grouped cross-validation of the model and three
baselines, then the final fit) reads the texts from the data directory (CLASSIFIER_DATA, default
../shared/data) and takes about 10 minutes on 2 cores once the sentence embeddings of the labeled
units are cached (CLASSIFIER_CACHE); a run that must embed new texts takes longer (round 9's 950 new
units added about 2 minutes).
The model card records how long each part took. --skip-eval only fits (about 3 minutes).

The same config, labels, data and package versions give the same model and metrics.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from classifier.training import DEFAULT_CONFIG, TrainingError, model_dir_of, read_config, run_training

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="training run (default configs/train.toml)")
    parser.add_argument("--labels", type=Path, nargs="*", default=[],
                        help="extra labeled files: CSV/JSONL with text, or files written by `classifier annotate import`")
    parser.add_argument("--no-repository-labels", action="store_true", help="train on --labels only")
    parser.add_argument("--out", type=Path, help="model directory (default: the config's output.model_dir, "
                                                 "models/default, which is overwritten)")
    parser.add_argument("--skip-eval", action="store_true", help="fit only, without cross-validation")
    args = parser.parse_args()
    config = read_config(args.config)
    out = args.out or model_dir_of(config)
    try:
        run_training(config, out, args.labels, use_repository=not args.no_repository_labels, evaluate=not args.skip_eval,
                     say=lambda message: print(message, file=sys.stderr, flush=True))
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
