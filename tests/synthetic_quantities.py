"""Synthetic labeled units and corpora whose true shares are known (for quantification tests)."""
import numpy as np
import pandas as pd

from classifier.codebook import LABELS, ORIENTATIONS
from classifier.quantify import LabeledPosteriors

PRIMARY = (*LABELS, "none")


def units(rng, n, primary_prevalence, driver_prevalence, noise=1.0):
    """Units with true labels drawn at the given prevalences and a classifier's noisy probabilities.

    The classifier is biased: it under-reads partnership and lead_firm, as the real one does.
    """
    primary = rng.choice(PRIMARY, n, p=primary_prevalence)
    drivers = rng.choice(ORIENTATIONS, n, p=driver_prevalence)
    orientation = np.where(primary == "none", "neutral", drivers)
    types = np.full((n, 4), -2.0) + rng.normal(0, noise, (n, 4))
    for j, label in enumerate(LABELS):
        types[primary == label, j] += 3.0 - (1.2 if label == "partnership" else 0)
    driver_logits = rng.normal(0, noise, (n, 3))
    for j, o in enumerate(ORIENTATIONS):  # a unit with no network has no driver to read
        driver_logits[(drivers == o) & (primary != "none"), j] += 2.0 - (1.0 if o == "lead_firm" else 0)
    p_types = 1 / (1 + np.exp(-types))
    p_drivers = np.exp(driver_logits) / np.exp(driver_logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame({f"p_{l}": p_types[:, j] for j, l in enumerate(LABELS)})
    for j, o in enumerate(ORIENTATIONS):
        frame[f"p_{o}"] = p_drivers[:, j]
    predicted_types = [[l for j, l in enumerate(LABELS) if p_types[i, j] >= 0.5] for i in range(n)]
    frame["types"] = [";".join(t) or "none" for t in predicted_types]
    frame["primary"] = [LABELS[int(np.argmax(np.where(p_types[i] >= 0.5, p_types[i], -1)))] if t else "none"
                        for i, t in enumerate(predicted_types)]
    frame["orientation"] = [ORIENTATIONS[int(np.argmax(p_drivers[i]))] if t else "neutral"
                            for i, t in enumerate(predicted_types)]
    truth = pd.DataFrame({"types": [p if p != "none" else "none" for p in primary], "primary": primary,
                          "orientation": orientation})
    return frame, truth


def labeled(rng, n=3000, primary_prevalence=(0.1, 0.2, 0.1, 0.1, 0.5), driver_prevalence=(0.2, 0.6, 0.2), noise=1.0):
    predicted, truth = units(rng, n, primary_prevalence, driver_prevalence, noise)
    return LabeledPosteriors("en", "documents", predicted, truth, np.arange(n) // 3)


def true_shares(truth: pd.DataFrame) -> dict:
    network = truth[truth.primary != "none"]
    return {"primary": np.array([(network.primary == l).mean() for l in LABELS]),
            "orientation": np.array([(network.orientation == o).mean() for o in ORIENTATIONS])}
