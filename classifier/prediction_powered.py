"""Stage 6a, quantify (continued): shares of a view whose labeled units stand for it by design.

A quantifier (``classifier.quantify``) transfers error rates learned on labeled units to a corpus, and is only
as right as that transfer: on the Chinese measures, where the SME-targeted view is about 9% network units, the
``none`` measures' small leaks of network probability weigh as much as the network units' own. Where the analysed
units include labeled units that stand for the view by design (``classifier.sampling.design_roles``: a unit of
a cell's standing random draw stands for an equal part of the rest of its cell, every unit of the cell labeled
before that draw for itself), a different estimator needs no error rate learned on other texts: the model's mean
posterior over every analysed unit, corrected by the design-weighted mean of (truth - posterior) over those
labeled units,

    prevalence = mean over the view of p(x)  +  sum_l w_l (y_l - p(x_l)) / sum_l w_l

the difference estimator of survey sampling, which machine learning calls prediction-powered inference
(Angelopoulos et al., Science 2023). Its expectation over the random draw is the view's true mix whatever the
classifier's errors; the classifier only narrows the interval, by as much as its posteriors track the truth.
The labeled units' posteriors must be readings of unseen text, as the rest of the view's are: the report reads
them out-of-fold (``report.read_labeled_out_of_fold``), the cross-fitting of Zrnic and Candes (2024). What it
does assume: each standing draw took the rest of its cell at random (the annotation loop never offers a
labeled unit again), and the fold models that read the labeled units err as the final model that reads the rest.

Intervals are about the analysed view itself, not about policies like it: percentile bootstrap intervals that
resample the standing draws' labels within their design cells, with a finite-population correction (``bootstrap``),
widened to reach the estimate's errors on views simulated from the same labels (``simulated_errors``).
``benchmarks/bench_quantify.py`` measures the error and coverage at the SME-targeted view's mix and size, and
records per language and target whether this estimator beat the quantifier it selected; the report uses it where
that holds and the view holds at least ``MIN_LABELS`` labeled units standing for its rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quantify import flat_shares, shares

PPI = "PPI"
# Labeled units standing for the rest (a cell's standing random draw) that a view needs before its shares are estimated
# from its labels: they stand for every unit nobody labeled, and fewer are too coarse a sample (a hundred Chinese
# measures drawn at random hold about four network units).
MIN_LABELS = 100
PPI_STREAM = 4  # the bootstrap's random stream, apart from quantify's corpus, labeled and held-out streams
PPI_ERROR_STREAM = 5  # the simulated views' stream
SIMULATED_VIEWS = 100  # views behind the errors that widen an interval


@dataclass(frozen=True)
class LabeledSample:
    """The analysed units that are labeled and stand for the view: their rows among the analysed units, true classes
    of a target, design weights (how many of the view's units each stands for) and whether each stands for the rest
    of its cell (a cell's standing random draw; else a known unit of the view, standing for itself)."""

    rows: np.ndarray
    classes: np.ndarray
    weights: np.ndarray
    for_rest: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    def cells(self) -> list[np.ndarray]:
        """Positions (in this sample) of the units standing for the rest, per design cell: a cell's units were drawn
        alike, so they share a weight."""
        rest = np.flatnonzero(self.for_rest)
        return [rest[self.weights[rest] == w] for w in np.unique(self.weights[rest])]


def prevalence(posteriors: np.ndarray, sample: LabeledSample) -> np.ndarray:
    """The view's class mix: its mean posterior plus the design-weighted mean residual of its labeled units."""
    return _as_mix(_rectified(posteriors.mean(axis=0), _residuals(posteriors, sample), sample.weights))


def _residuals(posteriors: np.ndarray, sample: LabeledSample) -> np.ndarray:
    return np.eye(posteriors.shape[1])[sample.classes] - posteriors[sample.rows]


def _rectified(mean_posterior: np.ndarray, residuals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return mean_posterior + np.average(residuals, axis=0, weights=weights)


def _as_mix(p: np.ndarray) -> np.ndarray:
    """A corrected prevalence kept a mix: a share cannot be negative (a class the labels lack can be corrected below
    zero when its posterior mass is small)."""
    p = np.clip(p, 0.0, None)
    return p / p.sum() if p.sum() > 0 else np.full(len(p), np.nan)


def bootstrap(posteriors: np.ndarray, sample: LabeledSample, replicates: int, seed: int) -> list[np.ndarray]:
    """Replicate mixes of the analysed view itself. Its posteriors and its known labels are the view's own and stay;
    what is uncertain is which of its other units the random labels happen to be. So the random labels are resampled
    within their design cells, and each replicate's deviation shrunk by the finite-population correction
    sqrt(1 - f), f = random labels / the view's units not known (a view labeled whole has nothing left to guess)."""
    rng = np.random.default_rng([seed, PPI_STREAM])
    mean_posterior, residuals = posteriors.mean(axis=0), _residuals(posteriors, sample)
    point = _rectified(mean_posterior, residuals, sample.weights)
    known, cells = np.flatnonzero(~sample.for_rest), sample.cells()
    fraction = min(1.0, np.count_nonzero(sample.for_rest) / max(len(posteriors) - len(known), 1))
    draws = []
    for _ in range(replicates):
        picked = np.concatenate([known, *[rng.choice(cell, len(cell)) for cell in cells]])
        replicate = _rectified(mean_posterior, residuals[picked], sample.weights[picked])
        draws.append(_as_mix(point + np.sqrt(1 - fraction) * (replicate - point)))
    return draws


def simulated_errors(target: str, posteriors: np.ndarray, sample: LabeledSample, count: int,
                     seed: int) -> list[dict[str, float]]:
    """The estimate's errors (flat shares, estimate - truth) on views simulated from this one's own labels: its
    known labels, and a rest as large as its own drawn from its random labels by design weight, of which as many
    units as it has random labels are labeled, at random.

    The bootstrap sees only the random labels at hand: where a class has one or two of them (the Chinese lead-firm
    measures among the random labels), it cannot see that another draw could hold none or five. These errors carry
    that; the report widens an interval to reach them (``quantify.corrected_interval``), as it does a quantifier's
    held-out errors. Drawn from the random labels alone they still cannot see a class the random labels missed
    (the benchmark's coverage of the Chinese lead-firm share: 0.80 at commit 533a891), hence the half count of each
    class in the pool (``python benchmarks/bench_quantify.py`` prints the coverage now).
    """
    rng = np.random.default_rng([seed, PPI_ERROR_STREAM])
    drawn, known = np.flatnonzero(sample.for_rest), np.flatnonzero(~sample.for_rest)
    rest = len(posteriors) - len(known)
    if not len(drawn) or rest <= 0:
        return []
    pool_p, pool_y, pool_w = posteriors[sample.rows[drawn]], sample.classes[drawn], sample.weights[drawn]
    own_p, own_y = posteriors[sample.rows[known]], sample.classes[known]
    # the random labels can miss a class whose few units the rest holds (none of its random labels drawn): each class
    # the known labels hold enters the pool with half a random label's weight, spread over its known units (real
    # units of that class in this view), as a half count of a class the random labels may have missed
    extra = [np.flatnonzero(own_y == c) for c in np.unique(own_y)]
    pool_p = np.vstack([pool_p, *[own_p[e] for e in extra]])
    pool_y = np.r_[pool_y, *[own_y[e] for e in extra]]
    pool_w = np.r_[pool_w, *[np.full(len(e), 0.5 * pool_w.mean() / len(e)) for e in extra]]
    errors = []
    for _ in range(count):
        view_p, view_y, simulated = simulated_view((own_p, own_y), (pool_p, pool_y, pool_w), rest, len(drawn), rng)
        guess = flat_shares(shares(target, prevalence(view_p, simulated)))
        truth = flat_shares(shares(target, np.bincount(view_y, minlength=posteriors.shape[1]) / len(view_y)))
        errors.append({key: guess[key] - truth[key] for key in guess})
    return errors


def simulated_view(known: tuple, pool: tuple, rest: int, labeled: int, rng) -> tuple:
    """A view as the design makes one: its ``known`` units (posteriors, classes), and ``rest`` units drawn from the
    ``pool`` (posteriors, classes, weights) by weight, of which ``labeled`` are drawn at random to be labeled.
    Returns the view's posteriors, its classes and its ``LabeledSample`` (known units for themselves, the labeled
    part of the rest for the rest)."""
    (known_p, known_y), (pool_p, pool_y, pool_w) = known, pool
    picked = rng.choice(len(pool_y), rest, p=pool_w / pool_w.sum())
    asked = min(labeled, rest)
    rows = np.r_[np.arange(len(known_y)), len(known_y) + rng.choice(rest, asked, replace=False)]
    view_p, view_y = np.vstack([known_p, pool_p[picked]]), np.r_[known_y, pool_y[picked]]
    sample = LabeledSample(rows, view_y[rows], np.r_[np.ones(len(known_y)), np.full(asked, rest / asked)],
                           np.r_[np.zeros(len(known_y), bool), np.ones(asked, bool)])
    return view_p, view_y, sample


def estimate(target: str, posteriors: np.ndarray, sample: LabeledSample, replicates: int,
             seed: int) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Flat shares of a target (``quantify.flat_shares``) and their bootstrap replicates."""
    point = flat_shares(shares(target, prevalence(posteriors, sample)))
    draws = [flat_shares(shares(target, p)) for p in bootstrap(posteriors, sample, replicates, seed)]
    return point, draws
