"""``classifier annotate ...``: thin shells over the annotation library."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="The annotation loop: suggest, export, import, check, agreement.")
console = Console(stderr=True)


@app.command()
def suggest(
    inputs: List[str] = typer.Argument(..., help="NAME=PATH or PATH: anything ingest reads (e.g. cn=DATA/cn oecd=DATA/oecd)"),
    n: int = typer.Option(100, "--n", min=1, help="Units to choose"),
    out: Path = typer.Option(..., "--out", "-o", help="Batch file to write (JSON Lines, with texts: keep it outside the repository)"),
    strategy: str = typer.Option("uncertainty+disagreement+rare", "--strategy",
                                 help="TERM[*WEIGHT]+... of uncertainty, disagreement, rare, sme; or random / random-other"),
    seed: int = typer.Option(0, "--seed"),
    exclude: List[Path] = typer.Option([], "--exclude", help="Earlier batch files whose units are not chosen again"),
    per_doc: int = typer.Option(3, "--per-doc", min=1, help="At most this many units of one document"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Append the model's class mix of the batch here"),
) -> None:
    """Choose units to label next; already labeled units are never chosen."""
    from ..tagger import PolicyClassifier
    from . import suggest as lib
    from .units import labeled_keys, read_units, unlabeled

    errors: list = []
    pool = unlabeled(read_units(inputs, errors), labeled_keys(batches=exclude))
    for source, reason in errors[:10]:
        console.print(f"  [yellow]{source}[/]: {reason}")
    clf = PolicyClassifier.load(model)
    try:
        batch = lib.suggest(pool, n, strategy, seed, clf, per_doc=per_doc)
    except ValueError as exc:
        raise typer.BadParameter(str(exc))
    lib.write_batch(batch, out)
    mix = lib.class_mix(batch, clf)
    line = json.dumps({"file": str(out), "strategy": strategy, "seed": seed, **mix}, ensure_ascii=False)
    print(line)
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    console.print(f"{len(batch)} units from {batch['doc_id'].nunique()} documents -> {out}")
