"""The development set: the deployed model's scores on outlets it has never seen.

The model is fitted on every training row (as `train` fits it), calibrated with the
temperature `train` would use, and scored on the development paragraphs, which no
model ever trains on. Besides the paragraph metrics, each development article's
stance index (mean P(favor) - P(against), as in the report) is compared with its gold
index (mean of +1 favor, -1 against, 0 none over its paragraphs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipeline.config import Params
from pipeline.evaluate.scores import stance_scores
from pipeline.models.base import StanceClassifier
from pipeline.models.calibration import apply_temperature
from pipeline.report.index import paragraph_stance
from pipeline.train.data import dev_rows, fit_rows, predict_rows, training_rows

log = logging.getLogger(__name__)


@dataclass
class DevPredictions:
    """Calibrated predictions of every development paragraph."""

    frame: pd.DataFrame  # paragraph_id, doc_id, source, gold
    probabilities: np.ndarray  # calibrated, columns in label order


def predict_dev(
    labels: pd.DataFrame,
    params: Params,
    build: Callable[[], StanceClassifier],
    temperature: float,
) -> DevPredictions | None:
    """Fit on all training rows and predict the development set (None when there is none)."""
    dev = dev_rows(labels)
    if dev.empty:
        return None
    train = training_rows(labels, params.train)
    log.info("evaluate: development set, %d train, %d test", len(train), len(dev))
    model = fit_rows(build(), train)
    raw = predict_rows(model, dev)
    frame = dev[["paragraph_id", "doc_id", "source", "label"]].rename(columns={"label": "gold"})
    return DevPredictions(frame.reset_index(drop=True), apply_temperature(raw, temperature))


def article_agreement(
    frame: pd.DataFrame, probabilities: np.ndarray, labels: Sequence[str], favor: str, against: str
) -> dict:
    """Per-article stance index against the gold index: how often the sign is right on
    articles whose gold leans (gold index not 0), and the mean absolute error."""
    predicted = paragraph_stance(probabilities, labels.index(favor), labels.index(against))
    gold = np.where(frame["gold"] == favor, 1.0, np.where(frame["gold"] == against, -1.0, 0.0))
    by_article = pd.DataFrame({"doc_id": frame["doc_id"], "predicted": predicted, "gold": gold})
    means = by_article.groupby("doc_id", sort=True).mean()
    leaning = means[means["gold"] != 0]
    right = int((np.sign(leaning["predicted"]) == np.sign(leaning["gold"])).sum())
    return {
        "n": len(means),
        "leaning": len(leaning),
        "sign_right": right,
        "sign_agreement": round(right / len(leaning), 4) if len(leaning) else None,
        "index_mae": round(float((means["predicted"] - means["gold"]).abs().mean()), 4),
    }


def dev_metrics(predictions: DevPredictions, params: Params) -> dict:
    """The `dev` section of `metrics/eval.json`."""
    labels = list(params.labels)
    targets = np.asarray([labels.index(gold) for gold in predictions.frame["gold"]])
    scores = stance_scores(
        predictions.probabilities,
        targets,
        labels,
        bins=params.evaluate.calibration_bins,
        stance_labels=[params.favor_label, params.against_label],
    )
    articles = article_agreement(
        predictions.frame,
        predictions.probabilities,
        labels,
        params.favor_label,
        params.against_label,
    )
    low, high = macro_f1_interval(
        predictions, targets, len(labels), samples=1000, seed=params.report.seed
    )
    return {
        "evaluation": "fitted on every training row, tested on the development set",
        "outlets": int(predictions.frame["source"].nunique()),
        **scores,
        "macro_f1_interval": {"low": low, "high": high, "confidence": 0.95},
        "articles": articles,
    }


def macro_f1_interval(
    predictions: DevPredictions, targets: np.ndarray, n_labels: int, *, samples: int, seed: int
) -> tuple[float, float]:
    """95% bootstrap interval of macro-F1, resampling articles (paragraphs of one article
    are not independent), with a fixed seed."""
    predicted = predictions.probabilities.argmax(axis=1)
    groups = list(predictions.frame.groupby("doc_id", sort=True).indices.values())
    rng = np.random.default_rng(seed)
    indices = list(range(n_labels))
    values = []
    for _ in range(samples):
        rows = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        values.append(
            f1_score(
                targets[rows], predicted[rows], labels=indices, average="macro", zero_division=0
            )
        )
    low, high = np.quantile(values, [0.025, 0.975])
    return round(float(low), 4), round(float(high), 4)
