"""The ``classifier`` command: thin shells over the library, with progress and readable errors."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import corpus as corpus_table
from .annotate.cli import app as annotate_app
from .ingest import count_inputs, parse_spec

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="Classify SME network policies (zh/en) against the codebook.")
console = Console(stderr=True)
app.add_typer(annotate_app, name="annotate")


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
    engine: str = typer.Option("local", "--engine", help="local or dask"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (with --engine dask)"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
) -> None:
    """Tag documents with network types, primary type, orientation, scores and evidence."""
    from .batch import count_documents, run_tagging
    from .classify import ModelIntegrityError

    if engine not in ("local", "dask"):
        raise typer.BadParameter("--engine must be local or dask")
    with progress_bar() as bar:
        task = bar.add_task("tag", total=None, current="counting documents")
        bar.update(task, total=count_documents(list(inputs)))

        def advance(result: dict) -> None:
            bar.update(task, advance=result["documents"], current=f"chunk {result['index']}")

        try:
            summary = run_tagging(list(inputs), out, chunk_size=chunk_size, jobs=jobs, resume=resume,
                                  with_measures=measures, model_path=str(model) if model else None,
                                  engine=engine, scheduler=scheduler, on_chunk=advance)
        except (ModelIntegrityError, ValueError) as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(code=2)
    console.print(f"inputs: {summary.documents:,} = tagged {summary.tagged:,} + error rows {summary.errors:,}"
                  f" ({summary.measures:,} measures; chunks run {summary.chunks_done}, resumed {summary.chunks_skipped}) -> {out}")


@app.command()
def report(
    corpus: List[str] = typer.Option([], "--corpus", "-c", help="NAME=PATH: anything ingest/tag reads, or a tagged table"),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder"),
    unit: str = typer.Option("documents", "--unit", help="documents or measures"),
    sme_only: bool = typer.Option(False, "--sme-only", help="Only SME-targeted documents"),
    country: List[str] = typer.Option([], "--country", help="Keep these countries (name or code); repeatable"),
    year_from: Optional[int] = typer.Option(None, "--year-from"),
    year_to: Optional[int] = typer.Option(None, "--year-to"),
    wave: List[int] = typer.Option([], "--wave", help="STIP survey wave(s)"),
    lang: List[str] = typer.Option([], "--lang", help="Keep these document languages"),
    replicates: int = typer.Option(1000, "--bootstrap", help="Bootstrap replicates"),
    seed: int = typer.Option(0, "--seed"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1),
    model: Optional[Path] = typer.Option(None, "--model", help="Model directory (default models/default)"),
) -> None:
    """Category shares per corpus with intervals, error correction, comparison, charts and report.html."""
    from . import report as rep
    from .report_render import country_shares, terminal_table, write_charts, write_html, write_tables
    from .tagger import PolicyClassifier, model_dir

    if unit not in ("documents", "measures"):
        raise typer.BadParameter("--unit must be documents or measures")
    specs, illustrative = default_report_corpora(corpus)
    out.mkdir(parents=True, exist_ok=True)
    tagged = {}
    for name, path in specs.items():
        tagged[name] = load_or_tag(name, path, out, jobs, model)
    filters = rep.Filters(sme_only, tuple(country), year_from, year_to, tuple(wave), tuple(lang))
    rates = rep.error_rates_from_model(model_dir(model), unit)
    result, units = rep.build_report(tagged, unit, filters, rates, replicates, seed, illustrative)
    write_tables(result, out)
    oecd_units = next((u for n, u in units.items() if "country" in u and u["country"].fillna("").ne("").any()), None)
    images = write_charts(result, out, country_shares(oecd_units) if oecd_units is not None else None)
    card = PolicyClassifier.load(model).card
    write_html(result, out, images, rep.evidence_examples(units), card)
    terminal_table(result, console)
    console.print(f"report -> {out}/ (shares.csv, shares.json, {', '.join(p.name for p in images)}, report.html)")


def default_report_corpora(specs: List[str]) -> tuple[dict, bool]:
    """Named corpora from --corpus; else the real corpora of the data directory; else the shipped sample."""
    from .labels import REPO_ROOT, data_dir

    if specs:
        return {parse_spec(s)[0]: parse_spec(s)[1] for s in specs}, False
    data = data_dir()
    if (data / "cn").is_dir() and (data / "oecd").is_dir():
        console.print(f"no --corpus given: reporting on the real corpora in {data}")
        return {"cn": data / "cn", "oecd": data / "oecd"}, False
    sample = REPO_ROOT / "corpus" / "sample"
    console.print(f"[yellow]no data directory ({data}) and no --corpus: reporting on the illustrative sample corpus {sample}[/]")
    return {"cn": sample / "cn", "oecd": sample / "oecd"}, True


def load_or_tag(name: str, path: Path, out: Path, jobs: int, model: Optional[Path]):
    """A tagged table (with its .measures sibling) is read as it is; anything else is tagged first (resumable)."""
    import pandas as pd

    from .batch import count_documents, measures_path, run_tagging

    path = Path(path)
    if path.is_file() and path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        if "primary" in frame.columns:
            sibling = measures_path(path)
            return frame, pd.read_parquet(sibling) if sibling.exists() else None
    target = out / "tagged" / f"{name}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    with progress_bar() as bar:
        task = bar.add_task(f"tag {name}", total=count_documents([f"{name}={path}"]), current="")
        run_tagging([f"{name}={path}"], target, jobs=jobs, resume=True, with_measures=True,
                    model_path=str(model) if model else None,
                    on_chunk=lambda r: bar.update(task, advance=r["documents"], current=f"chunk {r['index']}"))
    return pd.read_parquet(target), pd.read_parquet(measures_path(target))
