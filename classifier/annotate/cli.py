"""``classifier annotate ...``: thin shells over the annotation library."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ..terminal import error, say, warn

app = typer.Typer(no_args_is_help=True, help="The annotation loop: suggest, export, import, check, agreement.")


@app.command()
def suggest(
    inputs: List[str] = typer.Argument(..., help="NAME=PATH or PATH: anything ingest reads (e.g. cn=DATA/cn oecd=DATA/oecd)"),
    n: int = typer.Option(100, "--n", min=1, help="Units to choose"),
    out: Path = typer.Option(..., "--out", "-o", help="Batch file to write (JSON Lines, with texts: keep it outside the repository)"),
    strategy: str = typer.Option("uncertainty+disagreement+rare", "--strategy",
                                 help="TERM[*WEIGHT]+... of uncertainty, disagreement, rare, sme; or random / random-other / "
                                      "random-sme (the SME-targeted view)"),
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
        warn(source, reason)
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
    say(f"{len(batch)} units from {batch['doc_id'].nunique()} documents -> {out}")


@app.command("export")
def export(
    batch: Path = typer.Argument(..., help="Batch file written by suggest"),
    fmt: str = typer.Option("label-studio", "--format", help="label-studio, doccano or csv"),
    out: Path = typer.Option(..., "--out", "-o", help="File to write (Label Studio also gets OUT.xml, its labeling config)"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model for Label Studio pre-annotations"),
) -> None:
    """Write a batch for a labeling tool; every row keeps its unit id, text hash and codebook version."""
    from ..tagger import PolicyClassifier
    from .formats import export_batch

    clf = PolicyClassifier.load(model) if fmt == "label-studio" else None
    try:
        written = export_batch(batch, fmt, out, clf)
    except ValueError as exc:
        raise typer.BadParameter(str(exc))
    say(f"{batch} -> {', '.join(map(str, written))}")


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="Label Studio JSON export, doccano JSONL, or the filled-in CSV sheet"),
    out: Path = typer.Option(..., "--out", "-o", help="Label file to write or extend, e.g. corpus/labels/cn_r4.csv"),
    fmt: Optional[str] = typer.Option(None, "--format", help="label-studio, doccano or csv (default: from the file)"),
    batch: Optional[Path] = typer.Option(None, "--batch", help="The batch the labels belong to: units and text hashes must match it"),
    replace: bool = typer.Option(False, "--replace", help="Overwrite labels already in OUT"),
) -> None:
    """Read labels back; bad rows are reported (file, line, reason) and the good rows kept."""
    from .formats import import_labels

    result = import_labels(path, out, fmt, batch, replace)
    for source, line, reason in result.errors:
        print(f"{source}:{line}: {reason}")
    for unit_id, reason in result.skipped:
        print(f"{unit_id}: not written: {reason}")
    say(f"{len(result.rows)} labels -> {out}; {len(result.errors)} bad rows; {len(result.skipped)} not overwritten")
    if result.errors:
        raise typer.Exit(code=1)


@app.command()
def check(
    labels: List[Path] = typer.Option([], "--labels", help="Label files to check (default: the labels the model was trained on)"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory with oof_predictions.csv and oof_truth.csv"),
    top: int = typer.Option(50, "--top", help="Print this many suspects"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write all suspects (CSV)"),
) -> None:
    """Likely label errors (confident learning on out-of-fold predictions), most suspect first, with text and cues."""
    import pandas as pd

    from ..labels import LabelError, load_repository_labels
    from .check import check_labels

    given = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in labels]) if labels else None
    try:
        units = load_repository_labels()
    except LabelError as exc:
        units = None
        warn("no texts for the evidence", exc)
    issues = check_labels(model, units, given)
    if out:
        issues.to_csv(out, index=False)
    say(f"{len(issues)} suspect labels ({issues.unit_id.nunique()} units)")
    print(issues.head(top).to_csv(index=False), end="")


@app.command()
def agreement(
    files: List[Path] = typer.Argument(None, help="Two label files (A.csv B.csv); default: the repository's first vs second labels"),
    disagreements: Optional[Path] = typer.Option(None, "--disagreements", help="Write the units the annotators differ on"),
) -> None:
    """Cohen's kappa per axis and per network type, per corpus, and the disagreement table."""
    from . import agreement as lib

    if files and len(files) != 2:
        raise typer.BadParameter("give two label files, or none for the repository's")
    pairs = lib.pair_up(lib.read_labels(files[0]), lib.read_labels(files[1])) if files else lib.repository_pairs()
    if pairs.empty:
        error("the two files share no unit id")
        raise typer.Exit(code=2)
    print(lib.kappa_table(pairs).round(3).to_string())
    print("\nprimary type (rows: first annotator, columns: second)")
    print(lib.disagreement_counts(pairs).to_string())
    table = lib.disagreements(pairs)
    if disagreements:
        table.to_csv(disagreements, index=False)
    say(f"{len(table)} of {len(pairs)} units differ" + (f" -> {disagreements}" if disagreements else ""))
