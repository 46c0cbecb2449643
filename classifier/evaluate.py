"""Honest evaluation: cross-validation grouped by document, per language and corpus, with baselines.

Every unit of a document (all waves of a STIP initiative; all measures of a Chinese
text) falls in the same fold, so no test document is seen in training. In the same
folds, three baselines are scored: the majority class, the codebook's cue-word
dictionary alone, and spaCy's own ``textcat_multilabel`` (bag-of-words) trained on
the same data.
"""
from __future__ import annotations

import random
import time
from typing import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from .classify import fit_only_mask, label_matrix
from .codebook import LABELS, NONE, ORIENTATIONS, PRIMARY_CLASSES
from .featurize import blank_pipeline, default_lexicon, text_lang


# ---------------------------------------------------------------- metrics


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """ECE over all binary decisions pooled (each network type of each unit)."""
    y_true, proba = np.ravel(y_true), np.ravel(proba)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(proba[mask].mean() - y_true[mask].mean())
    return float(error)


def score(truth: pd.DataFrame, predicted: pd.DataFrame) -> dict:
    """All metrics for one slice; ``predicted`` may lack probabilities (baselines)."""
    y_true, y_pred = label_matrix(truth["types"]), label_matrix(predicted["types"])
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0,
                                                                     labels=range(len(LABELS)))
    result = {
        "n": int(len(truth)),
        "types": {label: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3),
                          "support": int(s)} for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)},
        "types_macro_f1": round(float(np.mean(f1)), 3),
        "primary_macro_f1": round(float(f1_score(truth["primary"], predicted["primary"], labels=list(PRIMARY_CLASSES),
                                                 average="macro", zero_division=0)), 3),
        "orientation_macro_f1": round(float(f1_score(truth["orientation"], predicted["orientation"],
                                                     labels=list(ORIENTATIONS), average="macro", zero_division=0)), 3),
        "primary_confusion": {"labels": list(PRIMARY_CLASSES),
                              "matrix": confusion_matrix(truth["primary"], predicted["primary"], labels=list(PRIMARY_CLASSES)).tolist()},
        "orientation_confusion": {"labels": list(ORIENTATIONS),
                                  "matrix": confusion_matrix(truth["orientation"], predicted["orientation"], labels=list(ORIENTATIONS)).tolist()},
    }
    for axis, classes in (("primary", PRIMARY_CLASSES), ("orientation", ORIENTATIONS)):
        p, r, f, n = precision_recall_fscore_support(truth[axis], predicted[axis], labels=list(classes), average=None,
                                                     zero_division=0)
        result[f"{axis}_per_class"] = {c: {"precision": round(float(a), 3), "recall": round(float(b), 3),
                                           "f1": round(float(c_), 3), "support": int(d)}
                                       for c, a, b, c_, d in zip(classes, p, r, f, n)}
    result["lead_firm_share_of_network"] = lead_firm_share(truth, predicted)
    if f"p_{LABELS[0]}" in predicted:
        proba = predicted[[f"p_{l}" for l in LABELS]].to_numpy()
        o_proba = predicted[[f"p_{o}" for o in ORIENTATIONS]].to_numpy()
        o_true = np.array([[int(o == c) for c in ORIENTATIONS] for o in truth["orientation"]])
        result["types_brier"] = round(float(np.mean((proba - y_true) ** 2)), 4)
        result["types_ece"] = round(expected_calibration_error(y_true, proba), 4)
        result["orientation_brier"] = round(float(np.mean(np.sum((o_proba - o_true) ** 2, axis=1))), 4)
    return result


def lead_firm_share(truth: pd.DataFrame, predicted: pd.DataFrame) -> dict | None:
    """Share of lead_firm among network units: of the predicted network units vs of the true ones."""
    true_net = truth["types"].map(bool).to_numpy()
    pred_net = predicted["types"].map(bool).to_numpy()
    if not true_net.any() or not pred_net.any():
        return None
    return {"predicted": round(float((predicted["orientation"].to_numpy()[pred_net] == "lead_firm").mean()), 4),
            "truth": round(float((truth["orientation"].to_numpy()[true_net] == "lead_firm").mean()), 4)}


def score_slices(units: pd.DataFrame, predicted: pd.DataFrame) -> dict:
    """Metrics per language, per corpus and overall."""
    slices = {"all": np.ones(len(units), bool)}
    for lang in sorted(units["lang"].unique()):
        slices[f"lang={lang}"] = (units["lang"] == lang).to_numpy()
    for corpus in sorted(units["corpus"].unique()):
        slices[f"corpus={corpus}"] = (units["corpus"] == corpus).to_numpy()
    return {name: score(units[mask].reset_index(drop=True), predicted[mask].reset_index(drop=True))
            for name, mask in slices.items() if mask.any()}


# ---------------------------------------------------------------- baselines


def majority_baseline(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    primary = train["primary"].mode()[0]
    orientation = train["orientation"].mode()[0]
    types = [label for label, rate in zip(LABELS, label_matrix(train["types"]).mean(axis=0)) if rate > 0.5]
    return pd.DataFrame({"types": [types] * len(test), "primary": primary, "orientation": orientation})


def dictionary_predict(texts) -> pd.DataFrame:
    """The codebook's cue words alone: a type fires on any of its cues; the driver on its cues."""
    lexicon = default_lexicon()
    rows = []
    for text in texts:
        cues = lexicon.find(text)
        counts = {label: sum(c.label == label for c in cues) for label in (*LABELS, "lead_firm", "network")}
        types = [label for label in LABELS if counts[label]]
        primary = max(types, key=lambda l: counts[l]) if types else NONE
        if not types:
            orientation = "neutral"
        elif counts["lead_firm"]:
            orientation = "lead_firm"
        else:
            orientation = "network" if counts["network"] or types else "neutral"
        rows.append({"types": types, "primary": primary, "orientation": orientation})
    return pd.DataFrame(rows)


def dictionary_baseline(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    return dictionary_predict(test["text"].tolist())


def spacy_textcat_baseline(train: pd.DataFrame, test: pd.DataFrame, epochs: int = 12, seed: int = 0) -> pd.DataFrame:
    """spaCy's ``textcat_multilabel`` (TextCatBOW) for the types and ``textcat`` (BOW) for the orientation.

    One pipeline per language (its tokenizer differs), trained on that language's units.
    """
    out = pd.DataFrame({"types": [[] for _ in range(len(test))], "primary": NONE, "orientation": "neutral"})
    test_langs = test["text"].map(text_lang).to_numpy()
    train_langs = train["text"].map(text_lang).to_numpy()
    for lang in sorted(set(test_langs)):
        fit_rows = train[train_langs == lang] if (train_langs == lang).sum() >= 20 else train
        nlp_types, nlp_orient = _train_textcat(fit_rows, lang, epochs, seed)
        index = np.flatnonzero(test_langs == lang)
        texts = test["text"].iloc[index].tolist()
        for i, doc_t, doc_o in zip(index, nlp_types.pipe(texts), nlp_orient.pipe(texts)):
            probs = np.array([doc_t.cats.get(label, 0.0) for label in LABELS])
            types = [label for label, p in zip(LABELS, probs) if p >= 0.5]
            out.at[i, "types"] = types
            out.at[i, "primary"] = LABELS[int(np.argmax(probs))] if types else NONE
            out.at[i, "orientation"] = max(doc_o.cats, key=doc_o.cats.get) if types else "neutral"
    return out


def _train_textcat(train: pd.DataFrame, lang: str, epochs: int, seed: int):
    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(seed)
    config = {"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 1,
                        "no_output_layer": False}}
    pipelines = []
    for component, labels_of in (("textcat_multilabel", lambda r: {l: float(l in r.types) for l in LABELS}),
                                 ("textcat", lambda r: {o: float(o == r.orientation) for o in ORIENTATIONS})):
        nlp = blank_pipeline(lang)  # a new pipeline per component: the shared tokenizer one stays bare
        cfg = {"model": {**config["model"], "exclusive_classes": component == "textcat"}}
        textcat = nlp.add_pipe(component, config=cfg)
        for label in (LABELS if component == "textcat_multilabel" else ORIENTATIONS):
            textcat.add_label(label)
        examples = [Example.from_dict(nlp.make_doc(r.text), {"cats": labels_of(r)}) for r in train.itertuples()]
        optimizer = nlp.initialize(lambda: examples)
        rng = random.Random(seed)
        for _ in range(epochs):
            rng.shuffle(examples)
            for batch in spacy.util.minibatch(examples, size=32):
                nlp.update(batch, sgd=optimizer)
        pipelines.append(nlp)
    return pipelines


BASELINES: dict[str, Callable] = {
    "majority": majority_baseline,
    "dictionary": dictionary_baseline,
    "spacy_textcat_bow": spacy_textcat_baseline,
}


# ---------------------------------------------------------------- cross-validation


def grouped_folds(units: pd.DataFrame, n_splits: int, seed: int):
    """Folds grouped by document and stratified on the primary type (so rare types reach every fold), drawn
    per corpus and joined: a corpus's folds depend on its own units only, so labeling more of one corpus
    leaves the others' folds, and figures on them comparable across models, as they were (one draw over all
    corpora moved almost every STIP record to another fold when 600 Chinese measures were added)."""
    fold_of = np.zeros(len(units), int)
    corpora = units["corpus"].to_numpy()
    for corpus in sorted(set(corpora)):
        rows = np.flatnonzero(corpora == corpus)
        part = units.iloc[rows]
        if part["group"].nunique() < n_splits:  # too few documents to stratify: one document per fold in turn
            fold_of[rows] = pd.factorize(part["group"])[0] % n_splits
            continue
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        for k, (_, test) in enumerate(splitter.split(part, part["primary"], groups=part["group"])):
            fold_of[rows[test]] = k
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_splits)]


def real_and_written(units: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real labeled units (indexed from 0), which are folded, predicted and scored, and the units written for
    training (``fit_only``), which are in every training fold and never predicted or scored."""
    units = units.reset_index(drop=True)
    fit_only = fit_only_mask(units["fit_only"] if "fit_only" in units else None, len(units))
    return units[~fit_only].reset_index(drop=True), units[fit_only]


def training_part(units: pd.DataFrame, written: pd.DataFrame, train_idx) -> pd.DataFrame:
    """A fold's training units: its real ones and every unit written for training."""
    return pd.concat([units.iloc[train_idx], written], ignore_index=True)


def cross_validate(model, units: pd.DataFrame, n_splits: int = 5, seed: int = 0, baselines=BASELINES,
                   progress: Callable[[str], None] | None = None, n_jobs: int = 1, refit: bool = False) -> dict:
    """Out-of-fold predictions of the model and each baseline, scored per slice.

    Units marked ``fit_only`` (written for training) are in every training fold and are never
    predicted or scored: the figures are agreement with the codebook on real text only.

    ``n_jobs`` folds run at once (joblib processes; the results do not depend on it). With ``refit`` the
    model is also fitted on all ``units`` as one more task of the same pool (five folds on two cores
    would leave one idle for the last fold) and returned as ``fitted``, with its own ``fit_seconds``.
    """
    everything = units
    units, written = real_and_written(units)
    predictions = {"model": [None] * len(units), **{name: [None] * len(units) for name in baselines}}
    folds = grouped_folds(units, n_splits, seed)
    tasks = [delayed(_fold)(model, units, written, train_idx, test_idx, baselines) for train_idx, test_idx in folds]
    if refit:
        tasks.append(delayed(_refit)(model, everything))
    result, done = {}, 0
    for outcome in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
        if "fitted" in outcome:
            result.update(outcome)
            if progress:
                progress(f"final fit ({outcome['fit_seconds']:.0f}s)")
            continue
        for name, frame in outcome["predictions"].items():
            for i, row in zip(outcome["test_idx"], frame.to_dict("records")):
                predictions[name][i] = row
        done += 1
        if progress:
            progress(f"fold {done}/{n_splits}")
    frames = {name: pd.DataFrame(rows) for name, rows in predictions.items()}
    return {**result, "metrics": {name: score_slices(units, frame) for name, frame in frames.items()},
            "oof": frames["model"].assign(unit_id=units["unit_id"], corpus=units["corpus"], lang=units["lang"])}


def _fold(model, units: pd.DataFrame, written: pd.DataFrame, train_idx, test_idx, baselines) -> dict:
    """One fold: the model and every baseline fitted on its training part (with the written units), predicting
    its test part."""
    train = training_part(units, written, train_idx)
    test = units.iloc[test_idx].reset_index(drop=True)
    fitted = clone(model).fit(train["text"].tolist(), train)
    predictions = {"model": fitted.predict(test["text"].tolist())}
    for name, baseline in baselines.items():
        predictions[name] = baseline(train, test)
    return {"test_idx": test_idx, "predictions": predictions}


def _refit(model, units: pd.DataFrame) -> dict:
    started = time.perf_counter()
    fitted = clone(model).fit(units["text"].tolist(), units)
    return {"fitted": fitted, "fit_seconds": time.perf_counter() - started}
