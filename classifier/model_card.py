"""The model card: what a model was trained on and how well it agrees with the codebook.

Written as JSON (every number) and Markdown (for people) beside the model file.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .codebook import LABELS
from .labels import REPO_ROOT

TARGETS = {"types_macro_f1": 0.80, "primary_macro_f1": 0.80, "orientation_macro_f1": 0.85}
MIN_CLASS_F1 = 0.65  # every single class
LEAD_FIRM_SHARE_TOLERANCE = 0.03  # lead-firm share among network units, out-of-fold vs labeled truth
MARGIN_OVER_DICTIONARY = 0.0  # never below the cue-word dictionary
AXES = {"types_macro_f1": "network types (4 binary labels)", "primary_macro_f1": "primary type (5 classes)",
        "orientation_macro_f1": "orientation (3 classes)"}

KNOWN_LIMITS = [
    "Trained on STIP Compass records (English) and Chinese laws, work reports and local notices: other genres "
    "(press releases, budgets) and other languages are out of distribution and flagged `ood` when tagged.",
    "OECD labels are per document (a whole STIP record); Chinese labels are per measure. The model sees both "
    "unit sizes, and document labels of Chinese texts come from aggregating measure predictions.",
    "Labels were made by reading against codebook v1.2 by several annotators; agreement is reported in "
    "corpus/README.md and bounds what any model can reach.",
    "Samples are enriched for rare classes; shares of predicted labels in a corpus need the error-rate "
    "correction of `classifier report`, not raw counts.",
    "Training also reads units written for training (corpus/written, the `written` row of the training data): "
    "they are in every training fold but never calibrated, tuned or scored on, so every figure here is agreement "
    "on real policy text; being clearer than real text, they help the rare classes only so far.",
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def target_status(metrics: dict) -> list[dict]:
    """Each target per language slice, with the dictionary and spaCy baselines beside it."""
    rows = []
    model = metrics["model"]
    for slice_name in [s for s in model if s.startswith("lang=")]:
        for key, target in TARGETS.items():
            value = model[slice_name][key]
            dictionary = metrics.get("dictionary", {}).get(slice_name, {}).get(key)
            spacy = metrics.get("spacy_textcat_bow", {}).get(slice_name, {}).get(key)
            rows.append({
                "slice": slice_name, "axis": key, "model": value, "target": target,
                "meets_target": value >= target,
                "dictionary": dictionary,
                "not_below_dictionary": None if dictionary is None else value - dictionary >= MARGIN_OVER_DICTIONARY,
                "spacy_textcat_bow": spacy,
                "not_below_spacy": None if spacy is None else value >= spacy,
            })
    return rows


def weak_classes(metrics: dict) -> list[dict]:
    """Every class of every axis, per language, whose out-of-fold F1 is below ``MIN_CLASS_F1``."""
    weak = []
    for slice_name, m in metrics["model"].items():
        if not slice_name.startswith("lang="):
            continue
        for label, v in m["types"].items():
            if v["f1"] < MIN_CLASS_F1:
                weak.append({"slice": slice_name, "axis": "type", "class": label, "f1": v["f1"], "support": v["support"]})
        for axis in ("primary", "orientation"):
            for label, v in m.get(f"{axis}_per_class", {}).items():
                if v["f1"] < MIN_CLASS_F1:
                    weak.append({"slice": slice_name, "axis": axis, "class": label, "f1": v["f1"], "support": v["support"]})
    return weak


def lead_firm_share_check(metrics: dict) -> list[dict]:
    rows = []
    for slice_name, m in metrics["model"].items():
        share = m.get("lead_firm_share_of_network")
        if slice_name.startswith("lang=") and share:
            rows.append({"slice": slice_name, **share,
                         "within_tolerance": abs(share["predicted"] - share["truth"]) <= LEAD_FIRM_SHARE_TOLERANCE})
    return rows


def why_targets_missed(card: dict) -> str:
    """Prose generated from this card's own numbers (never fixed figures that drift)."""
    weak = weak_classes(card["metrics"])
    parts = []
    if weak:
        listed = "; ".join(f"{w['slice'][5:]} {w['axis']} `{w['class']}` {w['f1']:.2f} (n={w['support']})" for w in weak)
        parts.append(f"Classes below F1 {MIN_CLASS_F1}: {listed}. They pull the macro averages down; most are the rare "
                     "classes, with few labeled positives.")
    counts = card["label_counts"]
    rare = ", ".join(f"{corpus}: lead_firm {c['orientation']['lead_firm']}, partnership {c['types']['partnership']}, "
                     f"cluster {c['types']['cluster']}" for corpus, c in counts.items() if corpus != "all")
    parts.append(f"Labeled positives of the rare classes ({rare}).")
    if card.get("ablation"):
        parts.append("What was tried, and what each change earned or cost in the same folds: the ablation table below.")
    return " ".join(parts)


def write_model_card(directory: Path, info: dict, metrics: dict | None) -> None:
    directory = Path(directory)
    card = {
        **info,
        "codebook_sha256": _sha256(REPO_ROOT / "corpus" / "codebook.md"),
        "label_files_sha256": {p.name: _sha256(p) for p in sorted((REPO_ROOT / "corpus" / "labels").glob("*.csv"))},
        "metrics": metrics,
        "targets": target_status(metrics) if metrics else None,
        "weak_classes": weak_classes(metrics) if metrics else None,
        "lead_firm_share": lead_firm_share_check(metrics) if metrics else None,
        "known_limits": KNOWN_LIMITS,
    }
    (directory / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n")
    (directory / "model_card.md").write_text(render_markdown(card))


def refresh_benchmark(directory: Path, key: str, figures: dict) -> None:
    """A benchmark's new figures (``ablation``, ``encoder_gate``) put into an existing card, as the next
    ``python train.py`` would put them from ``docs/*.json``; the card's other figures stay as they are."""
    directory = Path(directory)
    card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
    card[key] = figures
    (directory / "model_card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False, default=str) + "\n")
    (directory / "model_card.md").write_text(render_markdown(card))


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def render_markdown(card: dict) -> str:
    lines = [
        "# Model card: SME network policy classifier", "",
        f"- Codebook version: {card['codebook_version']} (`corpus/codebook.md`, sha256 `{card['codebook_sha256'][:16]}…`)",
        f"- Training data sha256: `{card['training_data_sha256']}`",
        f"- Decision thresholds per network type: {card['thresholds']}",
        # Cards written before primary weights existed have none (the primary was the most probable type).
        f"- Primary-type weights: {card.get('primary_weights', 'none (most probable assigned type)')}",
        f"- Orientation weights: {card.get('orientation_weights')}",
        # Cards written before the lexicon weight was chosen per head read the block at weight 1.
        f"- Lexicon block weight per head (chosen on inner folds by macro average precision): "
        f"{card.get('lexicon_weights', 'none (the featurizer weight)')}; scores per weight: "
        f"{ {head: {w: round(v, 3) for w, v in scores.items()} for head, scores in card.get('lexicon_scores', {}).items()} }",
        f"- Fit time on the full labeled corpus: {card['fit_seconds']} s; the training run (cross-validation, "
        f"with the final fit beside its folds): {card.get('cv_seconds')} s", "",
        "## Training data", "",
        "| corpus | units | documents | production | knowledge | partnership | cluster | none | lead_firm | network | neutral |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for corpus, c in card["label_counts"].items():
        lines.append(f"| {corpus} | {c['units']} | {c['documents']} | " + " | ".join(str(c["types"][l]) for l in LABELS)
                     + f" | {c['none']} | " + " | ".join(str(v) for v in c["orientation"].values()) + " |")
    metrics = card.get("metrics")
    if metrics:
        lines += ["", "## Cross-validated agreement with the codebook (grouped by document)", "",
                  "Macro-F1 per axis; every row is out-of-fold (no document of a test fold seen in training).", "",
                  "| slice | system | types macro-F1 | primary macro-F1 | orientation macro-F1 | types Brier | types ECE |",
                  "|---|---|---|---|---|---|---|"]
        for slice_name in metrics["model"]:
            for system, by_slice in metrics.items():
                m = by_slice[slice_name]
                lines.append(f"| {slice_name} (n={m['n']}) | {system} | {_fmt(m['types_macro_f1'])} | {_fmt(m['primary_macro_f1'])} "
                             f"| {_fmt(m['orientation_macro_f1'])} | {_fmt(m.get('types_brier'))} | {_fmt(m.get('types_ece'))} |")
        lines += ["", "### Per network type (model)", "", "| slice | type | precision | recall | F1 | support |", "|---|---|---|---|---|---|"]
        for slice_name, m in metrics["model"].items():
            for label, v in m["types"].items():
                lines.append(f"| {slice_name} | {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        lines += ["", "### Confusion matrices (model, all units; rows = codebook, columns = predicted)", ""]
        for key in ("primary_confusion", "orientation_confusion"):
            conf = metrics["model"]["all"][key]
            lines += [f"**{key.split('_')[0]}**", "", "| | " + " | ".join(conf["labels"]) + " |",
                      "|---" * (len(conf["labels"]) + 1) + "|"]
            lines += [f"| {label} | " + " | ".join(map(str, row)) + " |" for label, row in zip(conf["labels"], conf["matrix"])]
            lines.append("")
        lines += ["## Targets", "", "| slice | axis | model | target | met | dictionary | not below dictionary | spaCy BOW | not below spaCy |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for t in card["targets"]:
            lines.append(f"| {t['slice']} | {AXES[t['axis']]} | {_fmt(t['model'])} | {t['target']} | {'yes' if t['meets_target'] else '**no**'} "
                         f"| {_fmt(t['dictionary'])} | {_fmt(t['not_below_dictionary'])} | {_fmt(t['spacy_textcat_bow'])} | {_fmt(t['not_below_spacy'])} |")
        lines += ["", f"Lead-firm share among network units, out-of-fold (model's predicted network units) vs labeled truth "
                  f"(tolerance {LEAD_FIRM_SHARE_TOLERANCE:.0%}):", ""]
        lines += [f"- {r['slice']}: predicted {r['predicted']:.1%} vs truth {r['truth']:.1%} "
                  f"({'within' if r['within_tolerance'] else '**outside**'})" for r in card["lead_firm_share"]]
    if metrics and (not all(t["meets_target"] for t in card["targets"]) or card["weak_classes"]):
        lines += ["", "### Why targets are not met", "", why_targets_missed(card)]
    lines += ablation_lines(card.get("ablation")) + gate_lines(card.get("encoder_gate"))
    lines += ["", "## Known limits", ""] + [f"- {limit}" for limit in card["known_limits"]] + [""]
    return "\n".join(lines)


def ablation_lines(ablation: dict | None) -> list[str]:
    if not ablation:
        return []
    measured = f" on {ablation['labeled_units']:,} labeled units" if "labeled_units" in ablation else ""
    lines = ["", f"## Ablation (same grouped folds{measured}; macro-F1 types / primary / orientation)", "",
             "`python benchmarks/ablation.py` (`docs/ablation.json`).", "",
             "| variant | what changes | en | zh |", "|---|---|---|---|"]
    for name, row in ablation.items():
        if isinstance(row, dict):
            cells = ["/".join(f"{row[s][a]:.3f}" for a in AXES) if s in row else "–" for s in ("lang=en", "lang=zh")]
            lines.append(f"| {name} | {row['description']} | {cells[0]} | {cells[1]} |")
    return lines


def gate_lines(gate: dict | None) -> list[str]:
    """What each encoder band costs: macro-F1 in the folds and the share of the corpora it embeds."""
    if not gate:
        return []
    lines = ["", f"## Encoder gate (one grouped CV on {gate['labeled_units']:,} labeled units; "
             "macro-F1 types / primary / orientation)", "",
             "`python benchmarks/bench_gate.py` (`docs/gate.json`). Band: log-odds distance to a threshold within which "
             "the n-gram model hands a text to the sentence encoder; 0 = n-grams only, inf = encoder on every text. "
             "Corpus columns: share of the real corpora's units the band embeds and the encoder's core-seconds for them.", "",
             "| band | en | zh | en embedded | zh embedded | cn corpus | oecd corpus |", "|---|---|---|---|---|---|---|"]
    corpus = gate["corpus"]
    for band, row in gate["bands"].items():
        cells = ["/".join(f"{row[s][a]:.3f}" for a in AXES) for s in ("lang=en", "lang=zh")]
        load = [f"{corpus[n]['embedded_share'][band]:.0%}, {corpus[n]['encoder_core_seconds'][band]:,} s" for n in ("cn", "oecd")]
        lines.append(f"| {band} | {cells[0]} | {cells[1]} | {row['lang=en']['embedded_share']:.0%} | "
                     f"{row['lang=zh']['embedded_share']:.0%} | {load[0]} | {load[1]} |")
    return lines
