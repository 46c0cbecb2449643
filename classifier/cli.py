"""The ``classifier`` command: thin shells over the library, with progress and readable errors."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import corpus as corpus_table
from .ingest import count_inputs, parse_spec

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="Classify SME network policies (zh/en) against the codebook.")
console = Console(stderr=True)


@app.callback()
def main() -> None:
    """Classify SME network policies (zh/en) against the codebook."""


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    TextColumn("{task.fields[current]}", style="dim"), console=console, transient=False)


@app.command()
def ingest(
    paths: List[str] = typer.Argument(..., help="PATH or NAME=PATH: files, folders, archives, STIP exports, tables"),
    out: Path = typer.Option(..., "--out", "-o", help="Corpus table to write (.parquet, .jsonl or .csv)"),
    keep_going: bool = typer.Option(False, "--keep-going", help="Exit 0 even if some inputs failed"),
) -> None:
    """Read policy documents and split them into measures (one row per measure)."""
    summary = corpus_table.IngestSummary()
    total = sum(count_inputs(parse_spec(p)[1]) for p in paths)
    with progress_bar() as bar:
        task = bar.add_task("ingest", total=total, current="")
        frame = corpus_table.build_corpus(
            paths, summary=summary, on_input=lambda name: bar.update(task, advance=1, current=name[-60:]))
    corpus_table.write_table(frame, out)
    print_ingest_summary(summary, out)
    if summary.failed and not keep_going:
        raise typer.Exit(code=1)


def print_ingest_summary(summary: corpus_table.IngestSummary, out: Path) -> None:
    table = Table(title=f"Ingested -> {out}")
    for col in ("corpus", "lang", "documents", "measures"):
        table.add_column(col, justify="right" if col in ("documents", "measures") else "left")
    for key in sorted(summary.documents):
        table.add_row(key[0], key[1], f"{summary.documents[key]:,}", f"{summary.measures[key]:,}")
    console.print(table)
    console.print(f"inputs: {sum(summary.inputs.values()):,} = read {summary.inputs['ok']:,} "
                  f"+ skipped {summary.inputs['skipped']:,} + failed {summary.inputs['failed']:,}")
    for source, reason in summary.errors[:20]:
        console.print(f"  [yellow]{source}[/]: {reason}")
    if len(summary.errors) > 20:
        console.print(f"  ... and {len(summary.errors) - 20} more (see the 'error' column)")
