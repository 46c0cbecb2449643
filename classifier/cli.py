"""The ``classifier`` command: thin shells over the library, with progress and readable errors."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import corpus as corpus_table
from .ingest import count_inputs, parse_spec

# Plain (click) help: no "<bool>" beside flags, paragraphs re-wrapped to the terminal.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, rich_markup_mode=None,
                  help="Classify SME network policies (zh/en) against the codebook.")
console = Console(stderr=True)


class Unit(str, Enum):
    documents = "documents"
    measures = "measures"


class Engine(str, Enum):
    local = "local"
    dask = "dask"


class Lang(str, Enum):
    zh = "zh"
    en = "en"


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


@app.command()
def tag(
    inputs: List[str] = typer.Argument(..., help="Files, folders, archives, STIP exports, tables, JSONL {id,text}, or - for stdin"),
    out: Path = typer.Option(..., "--out", "-o", help="Output: .parquet, .csv or .jsonl (one row per document)"),
    measures: bool = typer.Option(False, "--measures", help="Also write one row per measure (OUT.measures.EXT)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes"),
    chunk_size: int = typer.Option(200, "--chunk-size", min=1, help="Documents per chunk (bounds memory)"),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run: finished chunks are kept"),
    engine: Engine = typer.Option(Engine.local, "--engine", help="Run chunks in local processes or on a Dask cluster"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (with --engine dask)"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
) -> None:
    """Tag documents with network types, primary type, orientation, scores and evidence."""
    from .batch import count_documents, run_tagging
    from .classify import ModelIntegrityError

    with progress_bar() as bar:
        task = bar.add_task("tag", total=None, current="counting documents")
        bar.update(task, total=count_documents(list(inputs)))

        def advance(result: dict) -> None:
            bar.update(task, advance=result["documents"], current=f"chunk {result['index']}")

        try:
            summary = run_tagging(list(inputs), out, chunk_size=chunk_size, jobs=jobs, resume=resume,
                                  with_measures=measures, model_path=str(model) if model else None,
                                  engine=engine.value, scheduler=scheduler, on_chunk=advance)
        except (ModelIntegrityError, ValueError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(code=2)
    console.print(f"inputs: {summary.documents:,} = tagged {summary.tagged:,} + error rows {summary.errors:,}"
                  f" ({summary.measures:,} measures; chunks run {summary.chunks_done}, resumed {summary.chunks_skipped}) -> {out}")


REPORT_HELP = """Category shares per corpus with intervals, error correction, comparison, charts and report.html.

The answer comes first: the primary network-type mix of SME-targeted network units per corpus beside the
OECD 2023 mapping, and the lead-firm versus network share; all-policy figures stand beside them.

Without --corpus the corpora are the data directory's oecd/ and cn/ (environment variable CLASSIFIER_DATA,
default ../shared/data); without a data directory, the illustrative sample corpus in corpus/sample/.
The first run on the real corpora takes about 6 minutes with --jobs 2, most of it tagging; the tagged tables
are kept in OUT/tagged/ and reused, so later runs take about a minute.

The answer and the table of figures go to standard output; progress and warnings to standard error.
"""


@app.command(help=REPORT_HELP)
def report(
    corpus: List[str] = typer.Option([], "--corpus", "-c", metavar="NAME=PATH",
                                     help="A corpus: anything ingest/tag reads, or a tagged .parquet table; repeatable"),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder"),
    unit: Unit = typer.Option(Unit.documents, "--unit", help="Unit of analysis"),
    sme_only: bool = typer.Option(False, "--sme-only", show_default=False,
                                  help="Only the SME-targeted view (the headline); skip the all-policy view beside it"),
    country: List[str] = typer.Option([], "--country", help="Keep these countries (name or code); repeatable"),
    year_from: Optional[int] = typer.Option(None, "--year-from", help="Keep documents from this year on"),
    year_to: Optional[int] = typer.Option(None, "--year-to", help="Keep documents up to this year"),
    wave: List[int] = typer.Option([], "--wave", help="STIP survey wave(s), e.g. 2021; repeatable"),
    lang: List[Lang] = typer.Option([], "--lang", help="Keep these document languages; repeatable"),
    replicates: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap replicates for the intervals"),
    seed: int = typer.Option(0, "--seed", help="Random seed of the bootstrap (same seed, same intervals)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes for tagging untagged corpora"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
) -> None:
    from . import report as rep
    from .report_render import terminal_table

    filters = rep.Filters(sme_only, tuple(country), year_from, year_to, tuple(wave), tuple(l.value for l in lang))
    try:
        with progress_bar() as bar:
            run = rep.run_report(list(corpus), out, unit=unit.value, filters=filters, all_policies=not sme_only,
                                 replicates=replicates, seed=seed, jobs=jobs, model=model, say=console.print,
                                 track=_tracker(bar))
    except (rep.ReportError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=2)
    results = Console()
    terminal_table(run.report, results if results.is_terminal else Console(width=200), console)
    console.print(f"report -> {out}/ ({', '.join(p.name for p in run.paths)})")


def _tracker(bar: Progress):
    """``track(description, total)`` for the library: a task on the bar and its per-chunk callback."""

    def track(description: str, total: int | None):
        task = bar.add_task(description, total=total, current="")
        return lambda result: bar.update(task, advance=result["documents"], current=f"chunk {result['index']}")

    return track
