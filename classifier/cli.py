"""The ``classifier`` command: thin shells over the library, with progress and readable errors."""
from __future__ import annotations

import contextlib
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import corpus as corpus_table
from .annotate.cli import app as annotate_app
from .ingest import count_inputs, parse_spec
from .terminal import console, error, say, warn

class Command(typer.core.TyperCommand):
    """A command whose --help, like every flag, shows no value type (typer 0.29 shows ``<bool>``)."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = FLAG
        return option


FLAG = ""  # metavar of boolean flags: they take no value, so the help shows none
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, rich_markup_mode=None,
                  help="Classify SME network policies (zh/en) against the codebook.")
app.add_typer(annotate_app, name="annotate")


class Unit(str, Enum):
    labeled = "labeled"  # each corpus at the unit its language's labels are at (Chinese measures, English records)
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


class DocumentBar:
    """One progress bar over documents: while the inputs are counted, then over what is left to tag."""

    def __init__(self, bar: Progress, name: str):
        self.bar, self.name = bar, name
        self.task = bar.add_task(f"{name}: counting documents", total=None, current="")
        self.started = False

    def start(self, documents: int, kept: int) -> None:
        self.started = True
        kept_note = f" ({kept:,} of {documents:,} kept from the interrupted run)" if kept else ""
        self.bar.update(self.task, total=documents - kept, description=f"{self.name}: documents{kept_note}")

    def advance(self, result: dict) -> None:
        self.bar.update(self.task, advance=result["documents"], current=f"chunk {result['index']}")

    def hide(self) -> None:
        self.bar.update(self.task, visible=False)


@contextlib.contextmanager
def tagging_bar(name: str):
    """The document bar of a tagging run, gone when the run had nothing to do; a run that cannot start
    (changed inputs, locked or invalid output, tampered model) is an error with exit code 2."""
    from .batch import RunError
    from .persist import ModelIntegrityError

    with progress_bar() as bar:
        documents = DocumentBar(bar, name)
        try:
            yield documents
        except (ModelIntegrityError, RunError) as exc:
            documents.hide()
            error(exc)
            raise typer.Exit(code=2)
        if not documents.started:
            documents.hide()


def command_line(*extra: str) -> str:
    """The command as the user typed it, plus ``extra`` options it did not have (to resume it)."""
    prog = "python -m classifier" if sys.argv[0].endswith("__main__.py") else Path(sys.argv[0]).name
    args = sys.argv[1:] + [option for option in extra if option not in sys.argv[1:]]
    return f"{prog} {shlex.join(args)}"


@contextlib.contextmanager
def stops_cleanly(kept: str, again: str):
    """Ctrl-C and SIGTERM stop the command: bars close (they sit inside), one line on stderr says what is kept
    and how to continue, and the exit code says which signal (130, 143)."""
    from .batch import Interrupted, stop_signals_raise

    with stop_signals_raise():
        try:
            yield
        except Interrupted as exc:
            print(f"interrupted by {exc}: {kept}; {again}", file=sys.stderr, flush=True)
            raise typer.Exit(code=exc.exit_code)


@app.command(cls=Command)
def ingest(
    paths: List[str] = typer.Argument(..., help="PATH or NAME=PATH: files, folders, archives, STIP exports, tables"),
    out: Path = typer.Option(..., "--out", "-o", help="Corpus table to write (.parquet, .jsonl or .csv)"),
    keep_going: bool = typer.Option(False, "--keep-going", metavar=FLAG, help="Exit 0 even if some inputs failed"),
) -> None:
    """Read policy documents and split them into measures (one row per measure)."""
    summary = corpus_table.IngestSummary()
    with stops_cleanly(f"nothing was written to {out}", f"run again: {command_line()}"):
        total = sum(count_inputs(parse_spec(p)[1]) for p in paths)
        with progress_bar() as bar:
            task = bar.add_task("ingest: inputs", total=total, current="")
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
    say(f"inputs: {sum(summary.inputs.values()):,} = read {summary.inputs['ok']:,} "
                  f"+ skipped {summary.inputs['skipped']:,} + failed {summary.inputs['failed']:,}")
    for source, reason in summary.errors[:20]:
        warn(source, reason)
    if len(summary.errors) > 20:
        say(f"  ... and {len(summary.errors) - 20} more (see the 'error' column)")


@app.command(cls=Command)
def tag(
    inputs: List[str] = typer.Argument(
        ..., help="Files, folders, archives, STIP exports, tables, JSONL {id,text}, or - for one document on stdin "
                  "(its measures are separated by blank lines; lines without a blank line between them are one measure)"),
    out: str = typer.Option(..., "--out", "-o", help="Output: .parquet, .csv or .jsonl (one row per document); "
                                                     "- writes JSON Lines to standard output"),
    measures: bool = typer.Option(False, "--measures", metavar=FLAG, help="Also write one row per measure (OUT.measures.EXT)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes tagging chunks in parallel "
                                                            "(each loads the model: about 0.5 GB)"),
    chunk_size: int = typer.Option(200, "--chunk-size", min=1, help="Documents per chunk: the unit of work, "
                                                                    "of memory and of resume"),
    resume: bool = typer.Option(False, "--resume", metavar=FLAG, help="Continue a stopped or killed run on the same "
                                "inputs: finished chunks are kept"),
    keep_parts: bool = typer.Option(False, "--keep-parts", metavar=FLAG, help="Keep the OUT.parts/ folder of finished "
                                    "chunks after success (removed by default)"),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local (worker processes) or dask (a cluster)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (with --engine dask; "
                                            "without it the run starts a local cluster of --jobs workers)"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
) -> None:
    """Tag documents with network types, primary type, orientation, scores and evidence.

    Results go to the output (standard output with --out -); progress and the summary go to standard error.
    Ctrl-C or SIGTERM stops the run within seconds (exit code 130/143); --resume continues it.
    """
    from .batch import run_tagging

    kept, again = ((f"nothing was written", f"run again: {command_line()}") if out == "-" else
                   (f"finished chunks are kept in {out}.parts", f"resume with: {command_line('--resume')}"))
    with stops_cleanly(kept, again), tagging_bar("tag") as documents:
        summary = run_tagging(list(inputs), out, chunk_size=chunk_size, jobs=jobs, resume=resume,
                              with_measures=measures, model_path=str(model) if model else None, engine=engine.value,
                              scheduler=scheduler, keep_parts=keep_parts, on_start=documents.start,
                              on_chunk=documents.advance)
    if summary.reused:
        say(f"{out} is up to date for these inputs and settings: reused, nothing tagged")
    say(f"inputs: {summary.documents:,} = tagged {summary.tagged:,} + error rows {summary.errors:,}"
                  f" ({summary.measures:,} measures; chunks run {summary.chunks_done}, resumed {summary.chunks_skipped})"
                  f" -> {'standard output' if out == '-' else out}")


REPORT_HELP = """Category shares per corpus with intervals, error correction, comparison, charts and report.html.

The answer comes first: the primary network-type mix of SME-targeted network units per corpus beside the
OECD 2023 mapping, and the lead-firm versus network share; all-policy figures stand beside them.

Without --corpus the corpora are the data directory's oecd/ and cn/ (environment variable CLASSIFIER_DATA,
default ../shared/data); without a data directory, the illustrative sample corpus in corpus/sample/.
The first run on the real corpora takes about 6 minutes with --jobs 2, most of it tagging; the tagged tables
are kept in OUT/tagged/ and reused, so later runs take about a minute.

The answer and the table of figures go to standard output; progress and warnings to standard error.
"""


@app.command(cls=Command, help=REPORT_HELP)
def report(
    corpus: List[str] = typer.Option([], "--corpus", "-c", metavar="NAME=PATH",
                                     help="A corpus: anything ingest/tag reads, or a tagged .parquet table; repeatable"),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder"),
    unit: Unit = typer.Option(Unit.labeled, "--unit", help="Unit of analysis: 'labeled' (default) analyses each corpus "
                              "at the unit its language's labels are at, where error correction applies (Chinese: "
                              "measures; English: programme records); or documents / measures for every corpus"),
    sme_only: bool = typer.Option(False, "--sme-only", metavar=FLAG,
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
        with stops_cleanly(f"finished chunks are kept in {out / 'tagged'}", f"resume with: {command_line()}"):
            run = rep.run_report(list(corpus), out, unit=unit.value, filters=filters, all_policies=not sme_only,
                                 replicates=replicates, seed=seed, jobs=jobs, model=model, say=say,
                                 track=tagging_bar)
    except (rep.ReportError, FileNotFoundError) as exc:
        error(exc)
        raise typer.Exit(code=2)
    results = Console()
    terminal_table(run.report, results if results.is_terminal else Console(width=200), console)
    say(f"report -> {out}/ ({', '.join(p.name for p in run.paths)})")




TRAIN_HELP = """Train and evaluate the classifier from a config file; write the model and its card (as python train.py).

Without --out the model OVERWRITES models/default (the config's output.model_dir: the model every command uses by
default); pass --out DIR to keep it. A full run cross-validates the model and its baselines, then fits on all labels;
--skip-eval only fits. Progress goes to standard error.
"""


@app.command(cls=Command, help=TRAIN_HELP)
def train(
    config: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="Training run (default configs/train.toml)"),
    labels: List[Path] = typer.Option([], "--labels", metavar="FILE", help="Extra labeled file: CSV/JSONL with text, or a file written "
                                      "by `classifier annotate import`; repeatable"),
    no_repository_labels: bool = typer.Option(False, "--no-repository-labels", metavar=FLAG,
                                              help="Train on --labels only"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="DIR", help="Model directory (default: the config's "
                                       "output.model_dir, models/default, which is overwritten)"),
    skip_eval: bool = typer.Option(False, "--skip-eval", metavar=FLAG, help="Fit only, without cross-validation"),
) -> None:
    from .training import DEFAULT_CONFIG, TrainingError, model_dir_of, read_config, run_training

    try:
        settings = read_config(config or DEFAULT_CONFIG)
    except (OSError, ValueError) as exc:  # a missing file or invalid TOML (tomllib's error is a ValueError)
        error(f"config {config or DEFAULT_CONFIG}: {exc}")
        raise typer.Exit(code=2)
    target = out or model_dir_of(settings)
    try:
        run_training(settings, target, labels, use_repository=not no_repository_labels, evaluate=not skip_eval,
                     say=lambda message: print(message, file=sys.stderr, flush=True))
    except TrainingError as exc:  # escaped: the message names config tables such as [types]
        error(exc)
        raise typer.Exit(code=2)
