"""Report outputs: the answer and a table in the terminal, shares.csv/json, charts (PNG + SVG), report.html.

Everything here reads the typed :class:`~classifier.report.Report`; numbers are rounded
for people (HTML, terminal) and kept at full precision in shares.json.
"""
from __future__ import annotations

import contextlib

import base64
import html
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

from .codebook import LABELS, ORIENTATIONS
from .report import (GAP, GAP_FAMILY, LEVEL, OECD_2023_POLICIES, OECD_2023_REFERENCE, OECD_2023_SOURCE,
                     CorpusEstimates, Estimate, Figure, Report, View, raw_estimates)
from .report_evidence import Example, strip_markup

# One colour per category in every chart; corpora are told apart by hatching.
COLOURS = {"production": "#1b9e77", "knowledge": "#d95f02", "partnership": "#7570b3", "cluster": "#e7298a",
           "lead_firm": "#b2182b", "network": "#2166ac", "neutral": "#8c8c8c"}
HATCHES = ["", "//", "..", "xx", "\\\\", "++"]
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK JP",
             "Noto Serif CJK SC", "AR PL UMing CN"]
CJK_PACKAGES = "fonts-noto-cjk or fonts-wqy-zenhei"
FONT_STACK = ("'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'PingFang SC', "
              "'Hiragino Sans GB', 'Microsoft YaHei', sans-serif")
ZH_FONT_STACK = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Hiragino Sans GB', "
                 "'Microsoft YaHei', sans-serif")


# ---------------------------------------------------------------- numbers for people


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.{digits}f}%"


def interval(ci: tuple[float, float] | None, points: bool = False) -> str:
    if ci is None:
        return ""
    sign = "+" if points else ""
    return f"[{100 * ci[0]:{sign}.1f}, {100 * ci[1]:{sign}.1f}]"


def estimate_text(estimate: Estimate) -> str:
    return f"{pct(estimate.value)} {interval(estimate.ci)}".strip()


def points_text(estimate: Estimate) -> str:
    """A difference of shares in percentage points."""
    if math.isnan(estimate.value):
        return "–"
    return f"{100 * estimate.value:+.1f} pts {interval(estimate.ci, points=True)}".strip()


def estimator_note(corpus: CorpusEstimates, families=None) -> str:
    """How the figures of ``families`` (default: all) were estimated, as a sentence names it."""
    names = sorted(corpus.estimators_of(families or corpus.figures))
    return "raw classify-and-count" if names == ["raw"] else ", ".join(n if n == "raw" else f"{n}-corrected" for n in names)


# ---------------------------------------------------------------- the answer first


def answer_sentences(report: Report) -> list[str]:
    """The two sentences a researcher came for, from the headline view's headline estimates."""
    view = report.headline
    unit = report.unit
    mixes = []
    for name, corpus in view.corpora.items():
        shares = ", ".join(f"{l} {estimate_text(corpus.figure('primary_share_of_network', l).best)}" for l in LABELS)
        mixes.append(f"{name} {shares} (n = {corpus.network_units:,} network {unit}; "
                     f"{estimator_note(corpus, ['primary_share_of_network'])})")
    reference = "/".join(f"{round(100 * OECD_2023_REFERENCE[l])}" for l in LABELS)
    first = (f"Primary network type of {view.title} among network {unit}: " + "; ".join(mixes)
             + f" — beside the OECD 2023 mapping of {OECD_2023_POLICIES} SME network policies, "
               f"{'/'.join(LABELS)} = {reference}%.")
    gaps = []
    for name, corpus in view.corpora.items():
        lead, net = (corpus.figure("orientation_share_of_network", o).best for o in ("lead_firm", "network"))
        gap = corpus.figure(GAP_FAMILY, GAP).best
        gaps.append(f"{name} lead-firm {estimate_text(lead)} versus network {estimate_text(net)}, "
                    f"difference {points_text(gap)} ({estimator_note(corpus, ['orientation_share_of_network', GAP_FAMILY])})")
    second = f"Orientation of {view.title} among network {unit}: " + "; ".join(gaps) + f" ({LEVEL:.0%} intervals)."
    return [first, second]


# ---------------------------------------------------------------- tables


def shares_rows(report: Report) -> list[dict]:
    """Every number in one long table: per view and corpus each estimate, then differences, then the reference."""
    rows = []
    for view in report.views.values():
        for corpus in view.corpora.values():
            for family in corpus.figures.values():
                for figure in family.values():
                    rows += _figure_rows(report, view, corpus.corpus, figure)
        for comparison in view.comparisons:
            a, b = comparison.corpora
            for family, categories in comparison.differences.items():
                for category, estimate in categories.items():
                    rows.append(_row(report, view, f"{a} - {b}", family, category, "difference", True, estimate))
    for label, value in OECD_2023_REFERENCE.items():
        rows.append({**_row(report, None, "OECD 2023 reference", "primary_share_of_network", label, "published", True,
                            Estimate(value)), "denominator": OECD_2023_POLICIES})
    return rows


def _figure_rows(report: Report, view: View, corpus: str, figure: Figure) -> list[dict]:
    rows = [{**_row(report, view, corpus, figure.family, figure.category, "raw", figure.headline == "raw", figure.raw),
             "count": figure.count, "denominator": figure.denominator}]
    if figure.corrected is not None:
        rows.append({**_row(report, view, corpus, figure.family, figure.category, figure.estimator,
                            figure.headline == "corrected", figure.corrected), "denominator": figure.denominator})
    return rows


def _row(report: Report, view: View | None, corpus: str, family: str, category: str, estimate: str, headline: bool,
         value: Estimate) -> dict:
    return {"view": view.name if view else "", "corpus": corpus, "unit": report.unit, "family": family,
            "category": category, "estimate": estimate, "headline": headline, "value": value.value,
            "ci_low": value.ci[0] if value.ci else None, "ci_high": value.ci[1] if value.ci else None,
            "count": None, "denominator": None}


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write a whole file or nothing: a killed run never leaves half a report."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; outputs are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_tables(report: Report, out: Path) -> list[Path]:
    frame = pd.DataFrame(shares_rows(report))
    frame["count"] = frame["count"].astype("Int64")
    frame["denominator"] = frame["denominator"].astype("Int64")
    # Six decimals: solver noise (1e-16) reads as 0; shares.json keeps full precision.
    csv = write_atomic(out / "shares.csv", frame.to_csv(index=False, float_format="%.6f"))
    payload = json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return [csv, write_atomic(out / "shares.json", payload)]


def terminal_table(report: Report, results, diagnostics) -> None:
    """The answer and the figures to ``results`` (standard output); warnings to ``diagnostics``."""
    from rich.table import Table

    for sentence in answer_sentences(report):
        results.print(sentence, soft_wrap=True)
        results.print()
    for view in report.views.values():
        table = Table(title=f"{view.title}: network {report.unit}, {LEVEL:.0%} bootstrap intervals")
        for column in ("corpus", "network / all", *LABELS, *ORIENTATIONS):
            table.add_column(column, justify="left" if column == "corpus" else "right")
        for name, corpus in view.corpora.items():
            cells = [_cell(corpus.figure(family, c)) for family, cats in
                     (("primary_share_of_network", LABELS), ("orientation_share_of_network", ORIENTATIONS)) for c in cats]
            table.add_row(name, f"{corpus.network_units:,} / {corpus.units:,}", *cells)
        table.add_row("OECD 2023", f"{OECD_2023_POLICIES} policies", *[pct(OECD_2023_REFERENCE[l], 0) for l in LABELS],
                      *[""] * len(ORIENTATIONS))
        results.print(table)
        for comparison in view.comparisons:
            a, b = comparison.corpora
            results.print(f"{view.title}, {a} vs {b}: chi-square {_number(comparison.chi2, '.1f')}, "
                          f"p = {_number(comparison.p_value, '.2g')} (primary types among network {report.unit})")
    for view in report.views.values():
        for name, corpus in view.corpora.items():
            for warning in corpus.warnings:
                diagnostics.print(f"[yellow]warning[/] ({view.title}, {name}): {warning}", highlight=False)


def _cell(figure: Figure) -> str:
    marker = f" {figure.estimator}" if figure.headline == "corrected" else ""
    return f"{estimate_text(figure.best)}{marker}\nn={figure.count:,}"


def _number(value: float, spec: str) -> str:
    return "–" if value != value else format(value, spec)


# ---------------------------------------------------------------- charts


def chart_font(say: Callable[[str], None]) -> str | None:
    """A CJK-capable font for matplotlib, or None with a warning (Chinese labels would draw as boxes)."""
    from matplotlib import font_manager

    found = _installed_cjk_font(font_manager.fontManager)
    if found is None:  # matplotlib caches its font list: a font installed after its first run is missing from it
        for path in font_manager.findSystemFonts():
            with contextlib.suppress(Exception):  # an unreadable font file is simply not a candidate
                font_manager.fontManager.addfont(path)
        found = _installed_cjk_font(font_manager.fontManager)
    if found is None:
        say(f"warning: no CJK font found for the charts, Chinese labels will show as boxes "
            f"(install the Debian package {CJK_PACKAGES})")
    return found


def _installed_cjk_font(manager) -> str | None:
    installed = {font.name for font in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _pyplot(say):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = chart_font(say)
    plt.rcParams.update({"font.family": "sans-serif", "font.sans-serif": [*([font] if font else []), "DejaVu Sans"],
                         "font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11, "xtick.labelsize": 11,
                         "ytick.labelsize": 11, "legend.fontsize": 11, "svg.fonttype": "none",
                         # element ids from a fixed salt (and no date, in _save): the same figures, the same file
                         "svg.hashsalt": "sme-policy-report"})
    return plt


def _percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _error(figure: Estimate) -> tuple[float, float]:
    value = 0.0 if math.isnan(figure.value) else figure.value
    return (value - figure.ci[0], figure.ci[1] - value) if figure.ci else (0.0, 0.0)


def _grouped_panel(ax, view: View, family: str, categories, reference: dict | None) -> None:
    """Bars per category (its colour) and corpus (its hatching) with intervals and n; reference as black ticks."""
    corpora = list(view.corpora.values())
    width = 0.8 / max(len(corpora), 1)
    for k, corpus in enumerate(corpora):
        figures = [corpus.figure(family, c) for c in categories]
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(categories))]
        values = [0.0 if math.isnan(f.best.value) else f.best.value for f in figures]
        errors = list(zip(*[_error(f.best) for f in figures]))
        ax.bar(xs, values, width, yerr=errors, capsize=3, color=[COLOURS[c] for c in categories],
               hatch=HATCHES[k % len(HATCHES)], edgecolor="white", linewidth=0.5, error_kw={"elinewidth": 1})
        for x, f in zip(xs, figures):
            top = f.best.ci[1] if f.best.ci else (0.0 if math.isnan(f.best.value) else f.best.value)
            ax.text(x, top + 0.01, f"n={f.count:,}", ha="center", va="bottom", fontsize=9)
    if reference:
        ax.scatter(range(len(categories)), [reference[c] for c in categories], marker="_", s=900, color="black",
                   linewidths=2.5, zorder=5)
    ax.set_xticks(range(len(categories)), [c.replace("_", "-") for c in categories])
    ax.set_title(f"{view.title} (n = " + ", ".join(f"{c.corpus} {c.network_units:,}" for c in corpora) + ")")
    _percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.12)
    ax.spines[["top", "right"]].set_visible(False)


def _legend(fig, report: Report, reference: bool) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    corpora = list(report.headline.corpora)
    handles = [Patch(facecolor="#bbbbbb", edgecolor="white", hatch=HATCHES[k % len(HATCHES)], label=name)
               for k, name in enumerate(corpora)]
    if reference:
        handles.append(Line2D([], [], color="black", marker="_", markersize=18, linewidth=0, markeredgewidth=2.5,
                              label=f"OECD 2023 mapping ({OECD_2023_POLICIES} policies)"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, bbox_to_anchor=(0.5, -0.02))


def _by_corpus_chart(report: Report, family: str, categories, title: str, reference: dict | None, plt):
    views = list(report.views.values())
    fig, axes = plt.subplots(1, len(views), figsize=(6.2 * len(views), 5.2), sharey=True, squeeze=False)
    for ax, view in zip(axes[0], views):
        _grouped_panel(ax, view, family, categories, reference)
    axes[0][0].set_ylabel(f"share of network {report.unit}")
    _suptitle(fig, report, f"{title} ({LEVEL:.0%} bootstrap intervals; bars: headline estimate)")
    _legend(fig, report, reference is not None)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _suptitle(fig, report: Report, title: str) -> None:
    if report.illustrative:
        title = "ILLUSTRATIVE (sample corpus, not real data): " + title
    fig.suptitle(title, fontsize=13, color="#b2182b" if report.illustrative else "black")


def country_figures(units: pd.DataFrame, replicates: int, seed: int, top: int = 20) -> dict[str, dict]:
    """Primary-type shares among network units per country (the ``top`` countries by network units), with intervals."""
    with_country = units[units["country"].fillna("").ne("")]
    sizes = with_country[with_country["types"].map(bool)].groupby("country").size().sort_values(ascending=False)
    return {country: raw_estimates(with_country[with_country["country"] == country], replicates, seed)[0]
            for country in sizes.index[:top]}


def _country_chart(report: Report, countries: dict[str, dict], plt):
    names = list(countries)
    fig, axes = plt.subplots(1, len(LABELS), figsize=(13, 0.34 * len(names) + 2.2), sharey=True, squeeze=False)
    labels = [f"{name} (n={countries[name]['primary_share_of_network'][LABELS[0]].denominator:,})" for name in names]
    for ax, label in zip(axes[0], LABELS):
        figures = [countries[name]["primary_share_of_network"][label] for name in names]
        values = [0.0 if math.isnan(f.raw.value) else f.raw.value for f in figures]
        ax.barh(range(len(names)), values, xerr=list(zip(*[_error(f.raw) for f in figures])), color=COLOURS[label],
                capsize=2, error_kw={"elinewidth": 1})
        ax.set_title(label)
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_yticks(range(len(names)), labels)
    axes[0][0].invert_yaxis()
    _suptitle(fig, report, f"Primary network type by country, {report.headline.title}: share of network "
                           f"{report.unit}, raw, {LEVEL:.0%} intervals; the {len(names)} countries with most network "
                           f"{report.unit}, most first")
    fig.tight_layout()
    return fig


def write_charts(report: Report, out: Path, country_units: pd.DataFrame | None,
                 say: Callable[[str], None] = lambda m: None) -> list[Path]:
    """PNG charts (returned) with an SVG beside each."""
    plt = _pyplot(say)
    figures = {
        "shares_by_corpus": _by_corpus_chart(report, "primary_share_of_network", LABELS, "Primary network type",
                                             OECD_2023_REFERENCE, plt),
        "orientation_by_corpus": _by_corpus_chart(report, "orientation_share_of_network", ORIENTATIONS,
                                                  "Who drives the network? Orientation", None, plt),
    }
    if country_units is not None and len(country_units):
        countries = country_figures(country_units, report.replicates, report.seed)
        if countries:
            figures["shares_by_country"] = _country_chart(report, countries, plt)
    paths = []
    for name, fig in figures.items():
        paths.append(_save(fig, out / f"{name}.png", "png"))
        _save(fig, out / f"{name}.svg", "svg")
        plt.close(fig)
    return paths


def _save(fig, path: Path, kind: str) -> Path:
    buffer = io.BytesIO()
    # bbox_inches="tight" keeps titles and outside legends in the picture
    fig.savefig(buffer, format=kind, dpi=150, bbox_inches="tight", metadata={"Date": None} if kind == "svg" else None)
    return write_atomic(path, buffer.getvalue())


# ---------------------------------------------------------------- HTML


def e(value) -> str:
    """Text for the page: markup from any source is removed, then what is left is escaped."""
    return html.escape(strip_markup(str(value)).strip())


STYLE = (f"body{{font-family:{FONT_STACK};max-width:1100px;margin:2em auto;line-height:1.45;padding:0 1em}}"
         f":lang(zh){{font-family:{ZH_FONT_STACK}}}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;"
         "vertical-align:top}th{background:#f4f4f4}td.n{text-align:right;white-space:nowrap}"
         "mark{background:#ffe08a}.ex{border-left:3px solid #ccc;padding-left:8px;margin:8px 0;font-size:14px}"
         ".warn{background:#fff3cd;padding:8px}.answer{font-size:17px;background:#eef5fb;padding:10px 14px;"
         "border-left:4px solid #2166ac}small{color:#555}")


def write_html(report: Report, out: Path, images: list[Path], examples: dict[str, list[Example]], card: dict) -> Path:
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>SME network policies report</title>"
             f"<style>{STYLE}</style></head><body>", "<h1>SME network policies: category shares by corpus</h1>"]
    if report.illustrative:
        parts.append("<p class='warn'><b>Illustrative:</b> this report runs on the small sample corpus shipped with "
                     "the project (texts written for it), not on real policy corpora. Set CLASSIFIER_DATA to a data "
                     "directory (with oecd/ and cn/) or pass --corpus to report on real data.</p>")
    parts += [f"<p class='answer'>{e(s)}</p>" for s in answer_sentences(report)]
    parts.append(_scope(report))
    for view in report.views.values():
        parts.append(f"<h2>Details: {e(view.title)}</h2><p>Filters: {e(view.filters)}.</p>")
        parts.append(_view_table(report, view))
        parts.append(_comparisons(report, view))
    warnings = [f"{view.title}, {name}: {w}" for view in report.views.values()
                for name, corpus in view.corpora.items() for w in corpus.warnings]
    if warnings:
        parts.append("<p class='warn'>" + "<br>".join(e(w) for w in warnings) + "</p>")
    parts.append("<h2>Charts</h2>")
    for path in images:
        data = base64.b64encode(path.read_bytes()).decode()
        width = _display_width(path)
        parts.append(f"<p><img alt='{e(path.stem)}' src='data:image/png;base64,{data}' "
                     f"style='max-width:100%;width:{width}px'><br>"
                     f"<small>Vector version: {e(path.with_suffix('.svg').name)}</small></p>")
    parts.append(f"<p>Reference: {e(OECD_2023_SOURCE)}: "
                 + ", ".join(f"{l} {pct(v, 0)}" for l, v in OECD_2023_REFERENCE.items()) + ".</p>")
    parts.append("<h2>Method</h2>" + "".join(f"<p>{e(p)}</p>" for p in report.method))
    parts.append("<h2>Model</h2>" + _card_summary(card))
    parts.append(_examples(examples))
    parts.append("</body></html>")
    return write_atomic(out / "report.html", "\n".join(parts))


def _display_width(png: Path) -> int:
    """CSS pixels for a chart saved at 150 dpi: the size it was drawn for, not 1.5 times larger."""
    from PIL import Image

    with Image.open(png) as image:
        return round(image.width * 96 / 150)


def _scope(report: Report) -> str:
    estimators = "; ".join(f"{name}: {estimator_note(corpus)}" for name, corpus in report.headline.corpora.items())
    views = " and ".join(v.title for v in report.views.values())
    return (f"<p>Unit of analysis: <b>{e(report.unit)}</b>. Views: {e(views)} (the first is the headline). "
            f"Headline estimate per corpus: {e(estimators)}. Intervals: {LEVEL:.0%} percentile bootstrap over "
            f"{report.replicates:,} replicates resampling documents for raw figures; corrected and prediction-powered "
            "figures say in Method what theirs resample.</p>")


def _view_table(report: Report, view: View) -> str:
    families = [("primary_share_of_network", LABELS), ("orientation_share_of_network", ORIENTATIONS)]
    head = "".join(f"<th>{e(c)}</th>" for _, cats in families for c in cats)
    rows = [f"<table><tr><th>corpus</th><th>estimate</th><th>network {e(report.unit)} / all</th>{head}"
            "<th>network share</th></tr>"]
    for name, corpus in view.corpora.items():
        figures = [corpus.figure(f, c) for f, cats in families for c in cats] + [corpus.figure("network_share", "network")]
        raw_cells = "".join(f"<td class='n'>{_cell_html(f.raw)}<br><small>n={f.count:,}</small></td>" for f in figures)
        rows.append(f"<tr><td>{e(name)}</td><td>raw{_lead(figures, 'raw')}</td>"
                    f"<td class='n'>{corpus.network_units:,} / {corpus.units:,}</td>{raw_cells}</tr>")
        if any(f.corrected is not None for f in figures):
            estimator = next(f.estimator for f in figures if f.corrected is not None)
            cells = "".join(f"<td class='n'>{_corrected_cell(f)}</td>" for f in figures)
            rows.append(f"<tr><td>{e(name)}</td><td>{e(estimator)}-corrected{_lead(figures, 'corrected')}</td>"
                        f"<td></td>{cells}</tr>")
    rows.append(f"<tr><td>OECD 2023 mapping</td><td>published</td><td class='n'>{OECD_2023_POLICIES} policies</td>"
                + "".join(f"<td class='n'>{pct(OECD_2023_REFERENCE[l], 0)}</td>" for l in LABELS)
                + f"<td colspan={len(ORIENTATIONS) + 1}></td></tr></table>")
    return "\n".join(rows)


def _lead(figures: list[Figure], kind: str) -> str:
    return " <b>(headline)</b>" if any(f.headline == kind and (kind == "raw" or f.corrected) for f in figures) else ""


def _corrected_cell(figure: Figure) -> str:
    if figure.corrected is None:
        return "<small>not corrected</small>"
    value = figure.corrected
    if value.value == 0 and value.ci == (0.0, 0.0):
        return "0% <small>(at the boundary: the predicted rate is below the false-positive rate)</small>"
    return _cell_html(value)


def _cell_html(estimate: Estimate) -> str:
    """The share, and its interval on a line of its own so that wide tables still fit the page."""
    return f"{pct(estimate.value)}<br><small>{interval(estimate.ci)}</small>"


def _comparisons(report: Report, view: View) -> str:
    items = []
    for comparison in view.comparisons:
        a, b = comparison.corpora
        primary = "; ".join(f"{l} {points_text(d)}" for l, d in comparison.differences["primary_share_of_network"].items())
        gap = points_text(comparison.differences[GAP_FAMILY][GAP])
        items.append(f"<li>{e(a)} − {e(b)}, primary type among network {e(report.unit)} (raw): {e(primary)}. "
                     f"Lead-firm minus network gap, {e(a)} − {e(b)}: {e(gap)}. Chi-square "
                     f"{_number(comparison.chi2, '.1f')}, p = {_number(comparison.p_value, '.2g')}.</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _card_summary(card: dict) -> str:
    if not card:
        return "<p>No model card found.</p>"
    lines = [f"<p>Codebook {e(card.get('codebook_version'))}; training data sha256 "
             f"<code>{e(str(card.get('training_data_sha256', ''))[:16])}…</code>.</p><table><tr><th>slice</th>"
             "<th>types macro-F1</th><th>primary macro-F1</th><th>orientation macro-F1</th></tr>"]
    for name, m in (card.get("metrics") or {}).get("model", {}).items():
        if name.startswith("lang="):
            lines.append(f"<tr><td>{e(name)} (n={m['n']:,})</td><td>{m['types_macro_f1']:.3f}</td>"
                         f"<td>{m['primary_macro_f1']:.3f}</td><td>{m['orientation_macro_f1']:.3f}</td></tr>")
    return "".join(lines) + "</table>"


def highlight(text: str, spans) -> str:
    """Escape the (already clean) text and mark the cue phrases."""
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        out += [html.escape(text[position:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


def _examples(examples: dict[str, list[Example]]) -> str:
    parts = ["<h2>Examples per category</h2><p>Passages whose measure itself carries the label, ranked by the "
             "measure's probability, each shown once; highlighted: the cue phrases that triggered the label.</p>"]
    for label, items in examples.items():
        parts.append(f"<h3>{e(label)}</h3>")
        if not items:
            parts.append("<p><small>No passage carries this label with a cue phrase.</small></p>")
        for item in items:
            parts.append(f"<div class='ex' lang='{'zh-CN' if item.lang == 'zh' else 'en'}'>{highlight(item.text, item.phrases)}"
                         f"<br><small lang='{'zh-CN' if item.lang == 'zh' else 'en'}'>{e(item.corpus)}: {e(item.source)} "
                         f"(measure p = {item.probability:.2f})</small></div>")
    return "\n".join(parts)


def write_outputs(report: Report, out: Path, country_units: pd.DataFrame | None, examples: dict, card: dict,
                  say: Callable[[str], None] = lambda m: None) -> list[Path]:
    """shares.csv, shares.json, charts and report.html; returns every path written."""
    tables = write_tables(report, out)
    images = write_charts(report, out, country_units, say)
    page = write_html(report, out, images, examples, card)
    return [*tables, *images, *(p.with_suffix(".svg") for p in images), page]

