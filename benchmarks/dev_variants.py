"""One change at a time: development-set scores of variants of the cheap models.

Each variant is a model from `train.model`'s choices with some of its `train.models`
settings replaced; it is fitted once on every training row (as `train` fits the
default) and scored on the development set, uncalibrated (temperature 1), beside the
unchanged model. `ensemble:a+b` averages the probabilities of two variants already
listed. Writes <results-dir>/dev_variants.json and prints a table. The development set
chooses; the hidden test set is never seen here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from dev_fit import dev_scores
from harness import REPO, RESULTS_DIR, machine_facts, write_result

from pipeline.config import load_params
from pipeline.evaluate.dev import DevPredictions, predict_dev
from pipeline.evaluate.stage import read_labels
from pipeline.models.factory import build_model

# name -> (model, settings replaced); one change from the params.yaml settings each.
VARIANTS: dict[str, tuple[str, dict]] = {
    "hybrid": ("hybrid_logreg", {}),
    "hybrid C=1": ("hybrid_logreg", {"C": 1.0}),
    "hybrid C=0.1": ("hybrid_logreg", {"C": 0.1}),
    "hybrid no gate": ("hybrid_logreg", {"gate_strength": 0.0}),
    "hybrid lexical x2": ("hybrid_logreg", {"lexical_weight": 2.0}),
    "hybrid no lexical": ("hybrid_logreg", {"lexical_weight": 0.0}),
    "hybrid features x1": ("hybrid_logreg", {"feature_scale": 1.0}),
    "tfidf": ("tfidf_logreg", {}),
    "tfidf C=1": ("tfidf_logreg", {"C": 1.0}),
    "tfidf ngram 3": ("tfidf_logreg", {"ngram_max": 3}),
    "embed": ("embed_logreg", {}),
}
ENSEMBLES = [("hybrid", "tfidf"), ("embed", "tfidf")]
KEYS = ("macro_f1", "macro_f1_interval", "f_avg", "accuracy", "ece")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--results-dir", type=type(RESULTS_DIR), default=RESULTS_DIR)
    arguments = parser.parse_args()
    base = load_params(REPO / "params.yaml")
    labels = read_labels(base.paths.labels)
    predictions: dict[str, DevPredictions] = {}
    runs = []
    for name in arguments.variants:
        model, changes = VARIANTS[name]
        settings = getattr(base.train.models, model).model_copy(update=changes)
        models = base.train.models.model_copy(update={model: settings})
        train = base.train.model_copy(update={"model": model, "models": models})
        params = base.model_copy(update={"train": train})
        started = time.perf_counter()
        predictions[name] = predict_dev(labels, params, lambda p=params: build_model(p), 1.0)
        seconds = round(time.perf_counter() - started, 1)
        runs.append(_row(name, model, changes, seconds, predictions[name], params))
    for first, second in ENSEMBLES:
        if first in predictions and second in predictions:
            mean = (predictions[first].probabilities + predictions[second].probabilities) / 2
            averaged = DevPredictions(predictions[first].frame, mean)
            name = f"ensemble:{first}+{second}"
            runs.append(_row(name, "ensemble", {}, None, averaged, base))
    for run in runs:
        interval = run["macro_f1_interval"]
        print(
            f"{run['variant']:28} {run['macro_f1']:.3f} [{interval['low']:.3f}, "
            f"{interval['high']:.3f}]  F_avg {run['f_avg']:.3f}  "
            f"signs {run['articles']['sign_right']}/{run['articles']['leaning']}"
        )
    write_result(arguments.results_dir, "dev_variants", {"machine": machine_facts(), "runs": runs})


def _row(name, model, changes, seconds, predictions: DevPredictions, params) -> dict:
    return (
        {"variant": name, "model": model, "changes": changes, "seconds": seconds}
        | dev_scores(predictions, params, KEYS)
        | {"predicted": dict(zip(params.labels, _counts(predictions, params), strict=True))}
    )


def _counts(predictions: DevPredictions, params) -> list[int]:
    """How many development paragraphs each label is predicted for."""
    top = predictions.probabilities.argmax(axis=1)
    return np.bincount(top, minlength=len(params.labels)).tolist()


if __name__ == "__main__":
    main()
