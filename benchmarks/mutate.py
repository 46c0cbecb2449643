"""Hand-written mutants, applied one at a time to a copy of the source; prints killed/survived.

    python benchmarks/mutate.py                 # every mutant below (about 3 minutes on 2 cores)
    python benchmarks/mutate.py chi2 gzip       # only mutants whose name contains one of these words
    python benchmarks/mutate.py --list          # names only

Each mutant is one exact replacement in one file (it must occur exactly once) and the tests
that should catch it. The working tree is never touched: the source is copied to a temporary
folder (models/ linked, not copied), each mutant is written there, its tests run with
``pytest -x``, and the file is restored. A mutant is *killed* when its tests fail, *survived*
when they pass. Exit code 1 when any survived. docs/mutation.md records the figures.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


REPORT_TESTS = ("tests/test_mutants.py", "tests/test_report.py")
QUANTIFY_TESTS = ("tests/test_quantify_types.py", "tests/test_quantify.py")
MUTANTS = (
    Mutant("report: difference draws b - a", "classifier/report.py",
           "draws = bootstrap_ratios(counts_a, replicates, seed) - bootstrap_ratios(counts_b, replicates, seed + 1)",
           "draws = bootstrap_ratios(counts_b, replicates, seed + 1) - bootstrap_ratios(counts_a, replicates, seed)",
           REPORT_TESTS),
    Mutant("report: difference point b - a", "classifier/report.py",
           "point = _ratios(counts_a.sum().to_frame().T).iloc[0] - _ratios(counts_b.sum().to_frame().T).iloc[0]",
           "point = _ratios(counts_b.sum().to_frame().T).iloc[0] - _ratios(counts_a.sum().to_frame().T).iloc[0]",
           REPORT_TESTS),
    Mutant("report: chi2 forced to 0", "classifier/report.py",
           "return float(chi2), int(dof), float(p_value)", "return 0.0, int(dof), float(p_value)", REPORT_TESTS),
    Mutant("report: wave filter inverted", "classifier/report.py",
           'keep &= pd.to_numeric(documents.get("wave"), errors="coerce").isin(self.waves)',
           'keep &= ~pd.to_numeric(documents.get("wave"), errors="coerce").isin(self.waves)', REPORT_TESTS),
    Mutant("report: language filter inverted", "classifier/report.py",
           'keep &= documents["lang"].isin(self.langs)', 'keep &= ~documents["lang"].isin(self.langs)', REPORT_TESTS),
    Mutant("classify: per-language thresholds off", "classifier/classify.py",
           'thresholds.get(d, thresholds["*"])[label] for label in LABELS]', 'thresholds["*"][label] for label in LABELS]',
           ("tests/test_mutants.py", "tests/test_classify.py")),
    Mutant("segment: long article not split", "classifier/segment.py",
           "if group[-1].end - group[0].start > MAX_MEASURE_CHARS and len(group) > 1:", "if False:",
           ("tests/test_mutants.py", "tests/test_segment.py")),
    Mutant("segment: hard limit not applied", "classifier/segment.py",
           "if all(m.end - m.start <= limit for m in measures):", "if True:",
           ("tests/test_mutants.py", "tests/test_segment.py")),
    Mutant("ingest: gzip without a size bound", "classifier/ingest/archives.py",
           'return read_capped(stream, budget, budget.limits.max_file_bytes, len(data), "gzip stream")',
           "return stream.read()", ("tests/test_mutants.py", "tests/test_ingest.py")),
    Mutant("ingest: traversal member read", "classifier/ingest/archives.py",
           "if problem or HIDDEN_OR_META.search(name):", "if HIDDEN_OR_META.search(name):", ("tests/test_ingest.py",)),
    Mutant("quantify: type posteriors swapped", "classifier/quantify.py",
           "return np.column_stack([1 - types[:, j], types[:, j]])", "return np.column_stack([types[:, j], 1 - types[:, j]])",
           QUANTIFY_TESTS),
    Mutant("quantify: type labels swapped", "classifier/quantify.py",
           "return types.map(lambda t: int(label in t)).to_numpy()",
           "return types.map(lambda t: int(label not in t)).to_numpy()", QUANTIFY_TESTS),
    Mutant("quantify: type rate read from absent", "classifier/quantify.py",
           'p["present"]}}', 'p["absent"]}}', QUANTIFY_TESTS),
    Mutant("quantify: chosen units stand for the corpus too", "classifier/quantify.py",
           "                weights[classes == c] = 0.0\n", "", ("tests/test_representative.py",)),
    Mutant("quantify: held-out samples ignore the draw weights", "classifier/quantify.py",
           "rng,\n                                                       weights[test_rows])]",
           "rng)]", ("tests/test_representative.py",)),
    Mutant("quantify: quantifiers fit on every labeled unit", "classifier/quantify.py",
           "        rows = self.fit_rows(target, rows)\n", "", ("tests/test_representative.py",)),
    Mutant("quantify: KDEy-ML ignores repeated rows", "classifier/quantify.py",
           "class_densities(distinct, P, per_class_weights), counts)", "class_densities(distinct, P, per_class_weights))",
           ("tests/test_quantify.py",)),
    Mutant("evaluate: one fold draw over all corpora", "classifier/evaluate.py",
           "rows = np.flatnonzero(corpora == corpus)", "rows = np.arange(len(corpora))",
           ("tests/test_parallel_cv.py",)),
    Mutant("batch: a stop silences every thread's exception", "classifier/batch.py",
           "if not (feeder and isinstance(args.exc_value, OSError) and args.exc_value.errno == errno.EBADF):",
           "if False:", ("tests/test_batch_stop.py",)),
    Mutant("sampling: Chinese cells ignore the pool", "classifier/sampling.py",
           'pool = "pool" if in_cn_pool(str(doc.meta.get("title") or ""), doc.source) else "out"', 'pool = "pool"',
           ("tests/test_sampling.py",)),
    Mutant("sampling: chosen units stand for nothing", "classifier/sampling.py",
           "weights = (roles != \"\").astype(float)", "weights = (roles == STANDS_FOR_REST).astype(float)",
           ("tests/test_sampling.py",)),
    Mutant("sampling: chosen units of an undrawn cell stand for themselves", "classifier/sampling.py",
           'in_drawn_cell = has_cell & units["cell"].isin(units["cell"][drawn]).to_numpy()', "in_drawn_cell = has_cell",
           ("tests/test_sampling.py",)),
    Mutant("sampling: random units stand for their whole cell", "classifier/sampling.py",
           "(units[\"cell_size\"].to_numpy(float)[rest] - known[rest])", "(units[\"cell_size\"].to_numpy(float)[rest])",
           ("tests/test_sampling.py",)),
    Mutant("prediction-powered: no rectifier", "classifier/prediction_powered.py",
           "return mean_posterior + np.average(residuals, axis=0, weights=weights)",
           "return mean_posterior", ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: design weights ignored", "classifier/prediction_powered.py",
           "np.average(residuals, axis=0, weights=weights)", "np.average(residuals, axis=0)",
           ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: negative shares kept", "classifier/prediction_powered.py",
           "p = np.clip(p, 0.0, None)", "p = np.clip(p, -1.0, None)", ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: labels not resampled", "classifier/prediction_powered.py",
           "picked = np.concatenate([known, *[rng.choice(cell, len(cell)) for cell in cells]])",
           "picked = np.concatenate([known, *cells])", ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: chosen labels resampled", "classifier/prediction_powered.py",
           "picked = np.concatenate([known, *[rng.choice(cell, len(cell)) for cell in cells]])",
           "picked = np.concatenate([rng.choice(known, len(known)), *[rng.choice(cell, len(cell)) for cell in cells]])",
           ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: no finite-population correction", "classifier/prediction_powered.py",
           "draws.append(_as_mix(point + np.sqrt(1 - fraction) * (replicate - point)))",
           "draws.append(_as_mix(replicate))", ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: finite-population correction not square-rooted", "classifier/prediction_powered.py",
           "np.sqrt(1 - fraction) * (replicate - point)", "(1 - fraction) * (replicate - point)",
           ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: sampled fraction of the whole view", "classifier/prediction_powered.py",
           "max(len(posteriors) - len(known), 1))", "max(len(posteriors), 1))", ("tests/test_prediction_powered.py",)),
    Mutant("prediction-powered: no half count of missed classes", "classifier/prediction_powered.py",
           "0.5 * pool_w.mean() / len(e)", "0.0 * pool_w.mean() / len(e)", ("tests/test_prediction_powered.py",)),
    Mutant("sampling: every random draw stands for the rest", "classifier/sampling.py",
           "standing, before = _standing_draw(units, drawn)", "standing, before = random, ~random",
           ("tests/test_sampling.py",)),
    Mutant("sampling: a stratum's rounds are one draw", "classifier/sampling.py",
           "members = in_cell & drawn & (rounds == draw_round) & (draws == stratum)",
           "members = in_cell & drawn & (draws == stratum)", ("tests/test_sampling.py",)),
    Mutant("sampling: the latest draw stands whatever its variance", "classifier/sampling.py",
           "if best is None or variance <= best[0]:", "if True:", ("tests/test_sampling.py",)),
    Mutant("sampling: units labeled after the standing draw stand for themselves", "classifier/sampling.py",
           'np.where(in_drawn_cell & before, STANDS_FOR_ITSELF, "")', 'np.where(in_drawn_cell, STANDS_FOR_ITSELF, "")',
           ("tests/test_sampling.py",)),
    Mutant("sampling: a round's choices always come before its random draw", "classifier/sampling.py",
           "chosen_first = str(int(draw_round)) not in RANDOM_DRAWN_FIRST", "chosen_first = True",
           ("tests/test_sampling.py",)),
    Mutant("persist: skops' object ids kept", "classifier/persist.py",
           "return key + numbers.setdefault(name, str(len(numbers) + 1))", "return key + name",
           ("tests/test_classify.py",)),
    Mutant("persist: renumbered from 0 (skops does not restore sharing for a false id)", "classifier/persist.py",
           "str(len(numbers) + 1)", "str(len(numbers))", ("tests/test_classify.py",)),
    Mutant("persist: array files not renamed with their references", "classifier/persist.py",
           "elif dot and stem in numbers:", "elif False:", ("tests/test_classify.py",)),
    Mutant("persist: entry times kept", "classifier/persist.py",
           "zipfile.ZipInfo(name, date_time=FIXED_TIME)", "zipfile.ZipInfo(name, date_time=info.date_time)",
           ("tests/test_classify.py",)),
    Mutant("classify: primary weights never tuned", "classifier/classify.py",
           "return dict(zip(LABELS, grid[int(np.argmax(scores))].tolist()))", "return dict(zip(LABELS, grid[0].tolist()))",
           ("tests/test_classify.py",)),
    Mutant("classify: ties not resolved toward equal primary weights", "classifier/classify.py",
           'grid = grid[np.argsort(np.abs(np.log(grid)).sum(axis=1), kind="stable")]', "pass", ("tests/test_classify.py",)),
    Mutant("classify: primary weights tuned on too few units", "classifier/classify.py",
           "(assigned[mask].sum(axis=1) > 1).sum() >= MIN_TUNING_POSITIVES", "(assigned[mask].sum(axis=1) > 1).sum() >= 0",
           ("tests/test_classify.py",)),
    Mutant("classify: fast macro-F1 scores an absent class 1", "classifier/classify.py",
           "out=np.zeros(k), where=total > 0", "out=np.ones(k), where=total > 0", ("tests/test_classify.py",)),
    Mutant("classify: primary weights not used in prediction", "classifier/classify.py",
           "                      per_language(primary_weights, domains))", "                      None)",
           ("tests/test_classify.py",)),
    Mutant("classify: the gate reads with the full model's decision rules", "classifier/classify.py",
           'prefix = "gate_" if gate else ""', 'prefix = ""', ("tests/test_gate.py",)),
    Mutant("classify: the worst-ranking lexicon weight chosen", "classifier/classify.py",
           "chosen = {head: float(max(grid,", "chosen = {head: float(min(grid,", ("tests/test_classify.py",)),
    Mutant("classify: lexicon weight ties keep the last", "classifier/classify.py",
           "chosen = {head: float(max(grid,", "chosen = {head: float(max(grid[::-1],", ("tests/test_classify.py",)),
    Mutant("classify: heads read the lexicon block unweighted", "classifier/classify.py",
           'features, getattr(self, f"{prefix}lexicon_weights_", dict.fromkeys(HEADS, 1.0)))',
           "features, dict.fromkeys(HEADS, 1.0))", ("tests/test_classify.py",)),
    Mutant("classify: the orientation head reads the types head's lexicon weight", "classifier/classify.py",
           "return tuple(scaled[lexicon_weights[head]] for head in HEADS)",
           'return tuple(scaled[lexicon_weights["types"]] for head in HEADS)',
           ("tests/test_classify.py",)),
    Mutant("classify: the gate chooses its own lexicon weights", "classifier/classify.py",
           "self._learn(ngrams, targets, self.lexicon_weights_)", "self._learn(ngrams, targets)", ("tests/test_gate.py",)),
    Mutant("classify: calibration=None still calibrates", "classifier/classify.py",
           "splits = None if calibration is None else grouped_splits(", "splits = None if False else grouped_splits(",
           ("tests/test_classify.py",)),
    Mutant("classify: scaling reaches every column", "classifier/classify.py",
           "    scale[columns] = factor\n", "    scale[:] = factor\n", ("tests/test_classify.py",)),
    Mutant("classify: average precision over all languages at once", "classifier/classify.py",
           "    for domain in sorted(set(domains.tolist())):\n        mask = domains == domain\n        columns =",
           "    for domain in [None]:\n        mask = np.ones(len(domains), bool)\n        columns =", ("tests/test_classify.py",)),
    Mutant("featurize: lexicon columns start one early", "classifier/featurize.py",
           "start = len(self.words_.vocabulary_) + len(self.chars_.vocabulary_)",
           "start = len(self.words_.vocabulary_) + len(self.chars_.vocabulary_) - 1", ("tests/test_classify.py",)),
    Mutant("annotate check: orientation read unconditionally", "classifier/annotate/check.py",
           "network = np.flatnonzero(types.map(bool).to_numpy())", "network = np.arange(len(joined))",
           ("tests/test_annotate.py",)),
    Mutant("featurize: every language copy of the lexicon filled", "classifier/featurize.py",
           "sp.diags((langs == lang).astype(float)) @ counts", "counts", ("tests/test_classify.py",)),
    Mutant("report_render: svg ids from a random salt", "classifier/report_render.py",
           '"svg.hashsalt": "sme-policy-report"})', "})", ("tests/test_report.py",)),
    Mutant("report_render: svg dated", "classifier/report_render.py",
           'metadata={"Date": None} if kind == "svg" else None)', "metadata=None)", ("tests/test_report.py",)),
    Mutant("report: labeled measures matched by number", "classifier/report.py",
           'if unit == "measures" and "text" in units and "text_sha1" in truth and "doc_id" in units:',
           "if False:", ("tests/test_prediction_powered.py",)),
    Mutant("report: PPI under a wave filter", "classifier/report.py",
           "return self.sme_only and not self.waves", "return self.sme_only", ("tests/test_prediction_powered.py",)),
    Mutant("report: PPI interval not widened to the simulated errors", "classifier/report.py",
           "return point, _intervals(point, pd.DataFrame(draws), errors)",
           "return point, _intervals(point, pd.DataFrame(draws), pd.DataFrame())", ("tests/test_prediction_powered.py",)),
    Mutant("report: PPI in every view", "classifier/report.py",
           "standing = labels_standing_for(units, correction) if view.labeled_by_design else None",
           "standing = labels_standing_for(units, correction)", ("tests/test_prediction_powered.py",)),
    Mutant("report: chosen labels count toward PPI's minimum", "classifier/report.py",
           "if np.count_nonzero(rest & standing) < MIN_LABELS:", "if np.count_nonzero(standing) < MIN_LABELS:",
           ("tests/test_prediction_powered.py",)),
    Mutant("report: PPI whatever the benchmark chose", "classifier/report.py",
           "if standing is not None and correction.with_view_labels.get(target) == PPI:",
           "if standing is not None:", ("tests/test_prediction_powered.py",)),
)


def copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "models", "__pycache__", "*.pyc", "mutants", ".pytest_cache")
    shutil.copytree(ROOT, target, ignore=ignore, dirs_exist_ok=True)
    if (ROOT / "models").exists():
        (target / "models").symlink_to(ROOT / "models", target_is_directory=True)


def run_tests(tree: Path, tests) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                          cwd=tree, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def first_failure(output: str) -> str:
    return next((line.split(" - ")[0].removeprefix("FAILED ") for line in output.splitlines()
                 if line.startswith(("FAILED", "ERROR"))), "")


def run_mutant(tree: Path, mutant: Mutant) -> tuple[str, float]:
    path = tree / mutant.path
    original = path.read_text(encoding="utf-8")
    count = original.count(mutant.old)
    if count != 1:
        return f"not applied ({count} matches: the source changed; update the mutant)", 0.0
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    started = time.perf_counter()
    try:
        result = run_tests(tree, mutant.tests)
        verdict = "survived" if result.returncode == 0 else f"killed by {first_failure(result.stdout)}"
    except subprocess.TimeoutExpired:
        verdict = "killed (timeout)"
    finally:
        path.write_text(original, encoding="utf-8")
    return verdict, time.perf_counter() - started


def main(argv: list[str]) -> int:
    if "--list" in argv:
        print("\n".join(m.name for m in MUTANTS))
        return 0
    chosen = [m for m in MUTANTS if not argv or any(word in m.name for word in argv)]
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="mutate-") as folder:
        tree = Path(folder) / "tree"
        copy_tree(tree)
        clean = run_tests(tree, sorted({test for m in chosen for test in m.tests}))
        if clean.returncode != 0:  # a failing suite would make every mutant look killed
            print(f"the unmutated tests fail ({first_failure(clean.stdout)}): fix them first", file=sys.stderr)
            return 2
        for mutant in chosen:
            verdict, seconds = run_mutant(tree, mutant)
            key = verdict.split(" ")[0]
            counts[key] = counts.get(key, 0) + 1
            print(f"{seconds:5.0f}s  {mutant.name}: {verdict}", flush=True)
    print(f"mutants: {len(chosen)}, " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if counts.get("survived") or counts.get("not") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
