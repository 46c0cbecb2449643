"""Report outputs: terminal table, shares.csv/json, PNG charts and one self-contained report.html."""
from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from .codebook import LABELS, ORIENTATIONS
from .report import OECD_2023_REFERENCE, OECD_2023_SOURCE

COLOURS = {"production": "#1b9e77", "knowledge": "#d95f02", "partnership": "#7570b3", "cluster": "#e7298a",
           "lead_firm": "#b2182b", "network": "#2166ac", "neutral": "#999999"}


def _pct(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def _ci(ci: dict, key: str) -> str:
    low, high = ci.get(key, (float("nan"), float("nan")))
    return "" if math.isnan(low) else f"[{100 * low:.1f}, {100 * high:.1f}]"


def estimates(report: dict):
    """(corpus, raw figures, estimate name, its figures, its intervals) for every estimate a corpus has."""
    for corpus, figs in report["corpora"].items():
        for estimate in ("raw", "corrected"):
            if estimate in figs:
                yield corpus, figs["raw"], estimate, figs[estimate], figs.get(f"{estimate}_ci", {})


def shares_rows(report: dict) -> list[dict]:
    """Every number in one long table: corpus, estimate, measure, category, value, CI, count."""
    rows = []
    for corpus, raw, estimate, values, ci in estimates(report):
        for measure in ("primary_share_of_network", "primary_share_of_all", "type_rate", "orientation_share_of_network"):
            for category, value in values.get(measure, {}).items():
                key = f"{measure}.{category}"
                count_key = {"primary_share_of_network": "primary_counts", "primary_share_of_all": "primary_counts",
                             "type_rate": "type_counts", "orientation_share_of_network": "orientation_counts"}[measure]
                denominator = raw["network_units"] if measure.endswith("network") else raw["units"]
                rows.append({"corpus": corpus, "unit": report["unit"], "estimate": estimate, "measure": measure,
                             "category": category, "value": value, "ci_low": ci.get(key, (None, None))[0],
                             "ci_high": ci.get(key, (None, None))[1], "count": raw[count_key].get(category),
                             "denominator": denominator})
    return rows


def write_tables(report: dict, out: Path) -> None:
    pd.DataFrame(shares_rows(report)).to_csv(out / "shares.csv", index=False)
    (out / "shares.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def terminal_table(report: dict, console) -> None:
    from rich.table import Table

    headline = ", ".join(f"{name} {kind}" for name, kind in report["headline"].items())
    table = Table(title=f"Primary network type among network {report['unit']} (headline estimate: {headline}; 95% bootstrap CI)")
    table.add_column("corpus")
    table.add_column("network units", justify="right")
    for label in LABELS:
        table.add_column(label, justify="right")
    table.add_column("lead_firm / network / neutral", justify="right")
    for corpus, figs in report["corpora"].items():
        raw, best = figs["raw"], figs.get(figs["headline"], figs["raw"])
        ci = figs.get(f"{figs['headline']}_ci", {})
        cells = [f"{_pct(best['primary_share_of_network'][l])} {_ci(ci, 'primary_share_of_network.' + l)}\n(n={raw['primary_counts'][l]})"
                 for l in LABELS]
        orient = " / ".join(f"{_pct(raw['orientation_share_of_network'][o])}" for o in ORIENTATIONS)
        table.add_row(corpus, f"{raw['network_units']:,} of {raw['units']:,}", *cells, orient)
    table.add_row("OECD 2023 ref.", "601 policies", *[_pct(OECD_2023_REFERENCE[l]) for l in LABELS], "")
    console.print(table)
    for corpus, figs in report["corpora"].items():
        for warning in figs.get("correction_warnings", []):
            console.print(f"[yellow]{corpus}: {warning}[/]")
    for comparison in report["comparisons"]:
        a, b = comparison["corpora"]
        console.print(f"{a} vs {b}: chi-square {comparison['chi2']:.1f}, p = {comparison['p_value']:.2g} "
                      f"(primary types among network {report['unit']})")


# ---------------------------------------------------------------- charts


def write_charts(report: dict, out: Path, countries: pd.DataFrame | None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    corpora = list(report["corpora"])
    # 1. primary-type shares among network units, per corpus, with intervals, beside the OECD reference
    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / (len(corpora) + 1)
    for k, corpus in enumerate(corpora):
        figs = report["corpora"][corpus]
        est, ci = figs.get(figs["headline"], figs["raw"]), figs.get(f"{figs['headline']}_ci", {})
        values = [est["primary_share_of_network"][l] for l in LABELS]
        lows = [values[i] - ci.get(f"primary_share_of_network.{l}", (values[i], values[i]))[0] for i, l in enumerate(LABELS)]
        highs = [ci.get(f"primary_share_of_network.{l}", (values[i], values[i]))[1] - values[i] for i, l in enumerate(LABELS)]
        ax.bar([i + k * width for i in range(len(LABELS))], values, width, yerr=[lows, highs], capsize=3, label=corpus)
    ax.bar([i + len(corpora) * width for i in range(len(LABELS))], [OECD_2023_REFERENCE[l] for l in LABELS], width,
           color="#cccccc", hatch="//", label="OECD 2023 reference")
    ax.set_xticks([i + width * len(corpora) / 2 for i in range(len(LABELS))], LABELS)
    ax.set_ylabel(f"share of network {report['unit']}")
    ax.set_title("Primary network type (95% bootstrap intervals)")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out / "shares_by_corpus.png", plt))
    # 2. orientation among network units
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.6 * len(corpora)))
    for k, corpus in enumerate(corpora):
        left = 0.0
        shares = report["corpora"][corpus]["raw"]["orientation_share_of_network"]
        for o in ORIENTATIONS:
            value = 0.0 if math.isnan(shares[o]) else shares[o]
            ax.barh(k, value, left=left, color=COLOURS[o], label=o if k == 0 else None)
            if value > 0.06:
                ax.text(left + value / 2, k, f"{100 * value:.0f}%", ha="center", va="center", color="white", fontsize=8)
            left += value
    ax.set_yticks(range(len(corpora)), corpora)
    ax.set_xlim(0, 1)
    ax.set_title(f"Who drives the network? Orientation of network {report['unit']}")
    ax.legend(fontsize=8, ncol=3, loc="lower right")
    paths.append(_save(fig, out / "orientation_by_corpus.png", plt))
    # 3. shares by country (OECD corpus)
    if countries is not None and len(countries):
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(countries) + 1.2))
        left = pd.Series(0.0, index=countries.index)
        for label in LABELS:
            ax.barh(countries.index, countries[label], left=left, color=COLOURS[label], label=label)
            left += countries[label]
        ax.set_xlabel("share of network units (raw)")
        ax.set_title(f"Primary network type, top {len(countries)} countries")
        ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.2 / len(countries)))
        ax.invert_yaxis()
        paths.append(_save(fig, out / "shares_by_country.png", plt))
    return paths


def _save(fig, path: Path, plt) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")  # keeps titles and outside legends in the picture
    plt.close(fig)
    return path


def country_shares(units: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    networked = units[units["types"].map(bool) & units["country"].fillna("").ne("")]
    counts = networked.groupby(["country", "primary"]).size().unstack(fill_value=0).reindex(columns=list(LABELS), fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:top]]
    return counts.div(counts.sum(axis=1), axis=0)


# ---------------------------------------------------------------- HTML


def write_html(report: dict, out: Path, images: list[Path], examples: dict, card: dict) -> Path:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>SME network policies report</title>"
             "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}"
             "mark{background:#ffe08a}.ex{border-left:3px solid #ccc;padding-left:8px;margin:6px 0;font-size:13px}"
             ".warn{background:#fff3cd;padding:8px}</style></head><body>",
             "<h1>SME network policies: category shares by corpus</h1>"]
    if report.get("illustrative"):
        parts.append("<p class='warn'><b>Illustrative:</b> this report runs on the small sample corpus shipped with the "
                     "project (texts written for it), not on real policy corpora. Set CLASSIFIER_DATA to report on real data.</p>")
    parts.append(f"<p>Unit of analysis: <b>{report['unit']}</b>. Filters: {html.escape(report['filters'])}. "
                 f"Headline estimate per corpus: <b>{html.escape(str(report['headline']))}</b> (corrected = ACC with "
                 f"cross-validated error rates).</p>")
    parts.append(_html_table(report))
    warnings = [f"{corpus}: {w}" for corpus, figs in report["corpora"].items() for w in figs.get("correction_warnings", [])]
    if warnings:
        parts.append("<p class='warn'>" + "<br>".join(html.escape(w) for w in warnings) + "</p>")
    parts += [f"<h2>Charts</h2>"] + [f"<p><img alt='{p.stem}' src='data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}' "
                                     f"style='max-width:100%'></p>" for p in images]
    parts.append("<h2>Comparison</h2><ul>")
    for c in report["comparisons"]:
        a, b = c["corpora"]
        diffs = "; ".join(f"{l}: {100 * d['difference']:+.1f} pts [{100 * d['ci'][0]:+.1f}, {100 * d['ci'][1]:+.1f}]"
                          for l, d in c["difference_primary_share_of_network"].items())
        parts.append(f"<li>{html.escape(a)} − {html.escape(b)} (primary type among network units, raw): {diffs}. "
                     f"Chi-square {c['chi2']:.1f}, p = {c['p_value']:.2g}.</li>")
    parts.append(f"</ul><p>Reference: {html.escape(OECD_2023_SOURCE)}: "
                 + ", ".join(f"{l} {_pct(v)}" for l, v in OECD_2023_REFERENCE.items()) + ".</p>")
    parts.append("<h2>Method</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in report["method"]))
    parts.append("<h2>Model</h2>" + _card_summary(card))
    parts.append("<h2>Examples per category</h2>")
    for label, items in examples.items():
        parts.append(f"<h3>{html.escape(label)}</h3>")
        for item in items:
            parts.append(f"<div class='ex'>{_highlight(item['text'], item['phrases'])}<br><small>{html.escape(item['source'])} "
                         f"(p={item['probability']:.2f})</small></div>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _html_table(report: dict) -> str:
    rows = ["<table><tr><th>corpus</th><th>estimate</th><th>network units / all</th>"
            + "".join(f"<th>{l}</th>" for l in LABELS) + "".join(f"<th>{o}</th>" for o in ORIENTATIONS) + "</tr>"]
    for corpus, raw, estimate, est, ci in estimates(report):
        cells = "".join(f"<td>{_pct(est['primary_share_of_network'][l])} {_ci(ci, 'primary_share_of_network.' + l)}"
                        f"<br><small>n={raw['primary_counts'][l]}</small></td>" for l in LABELS)
        orient = "".join(f"<td>{_pct(raw['orientation_share_of_network'][o])}<br><small>n={raw['orientation_counts'][o]}</small></td>"
                         for o in ORIENTATIONS) if estimate == "raw" else "<td colspan=3>(raw only)</td>"
        rows.append(f"<tr><td>{html.escape(corpus)}</td><td>{estimate}</td><td>{raw['network_units']:,} / {raw['units']:,}</td>{cells}{orient}</tr>")
    rows.append("<tr><td>OECD 2023 reference</td><td>published</td><td>601 policies</td>"
                + "".join(f"<td>{_pct(OECD_2023_REFERENCE[l])}</td>" for l in LABELS) + "<td colspan=3></td></tr></table>")
    return "\n".join(rows)


def _card_summary(card: dict) -> str:
    if not card:
        return "<p>No model card found.</p>"
    lines = [f"<p>Codebook {html.escape(str(card.get('codebook_version')))}; training data sha256 "
             f"<code>{html.escape(str(card.get('training_data_sha256', ''))[:16])}…</code>.</p><table><tr><th>slice</th>"
             "<th>types macro-F1</th><th>primary macro-F1</th><th>orientation macro-F1</th></tr>"]
    for name, m in (card.get("metrics") or {}).get("model", {}).items():
        if name.startswith("lang="):
            lines.append(f"<tr><td>{name} (n={m['n']})</td><td>{m['types_macro_f1']:.3f}</td><td>{m['primary_macro_f1']:.3f}</td>"
                         f"<td>{m['orientation_macro_f1']:.3f}</td></tr>")
    return "".join(lines) + "</table>"


def _highlight(text: str, phrases: list[dict]) -> str:
    """Escape the text and mark the evidence phrases (offsets relative to the text)."""
    out, pos = [], 0
    for p in sorted(phrases, key=lambda p: p["start"]):
        if p["start"] < pos or p["end"] > len(text):
            continue
        out += [html.escape(text[pos : p["start"]]), f"<mark>{html.escape(text[p['start'] : p['end']])}</mark>"]
        pos = p["end"]
    out.append(html.escape(text[pos:]))
    return "".join(out)
