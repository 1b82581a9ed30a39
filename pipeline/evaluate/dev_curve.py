"""`stance dev-curve`: development-set macro-F1 against the number of press examples.

Answers "do more examples written from real coverage still pay?": the default model
is fitted with only a seeded random subset of the `press` rows (every other training
row as in the `train` stage) and scored on the development set, which never trains
(probabilities uncalibrated: macro-F1 does not depend on a temperature).
Size 0 is the model without any press example; the largest size is all of them. The
draw of size k in repeat r is seeded from (report.seed, k, r), so adding a size leaves
the other points unchanged.

Reads `paths.labels`; writes `dev_learning_curve.{json,csv,png}` under `paths.reports`.
Not a `dvc repro` stage (`make dev-curve` runs it after one).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.csvfile import write_csv
from pipeline.evaluate.dev import DevPredictions, dev_metrics
from pipeline.evaluate.stage import read_labels
from pipeline.io import atomic_output, display_path
from pipeline.models.factory import build_model
from pipeline.report.plot import save_png
from pipeline.train.data import dev_rows, fit_rows, predict_rows, training_rows

log = logging.getLogger(__name__)

_COLUMNS = ["press_examples", "repeat", "train_rows", "macro_f1", "f_avg", "accuracy", "ece"]


@dataclass(frozen=True)
class DevCurvePoint:
    press_examples: int
    repeat: int
    train_rows: int
    macro_f1: float
    f_avg: float
    accuracy: float
    ece: float


def _subset(train: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    press = train[train["provenance"] == "press"]
    keep = np.random.default_rng(seed).permutation(len(press))[:size]
    return pd.concat([train[train["provenance"] != "press"], press.iloc[np.sort(keep)]])


def dev_curve(labels: pd.DataFrame, params: Params, sizes: list[int], repeats: int) -> list:
    """One point per (size, repeat); sizes above the number of press rows are capped."""
    train, dev = training_rows(labels, params.train), dev_rows(labels)
    available = int((train["provenance"] == "press").sum())
    frame = dev[["paragraph_id", "doc_id", "source", "label"]].rename(columns={"label": "gold"})
    points = []
    for size in sorted({min(size, available) for size in sizes}):
        for repeat in range(1 if size in (0, available) else repeats):
            rows = _subset(train, size, seed=hash_seed(params.report.seed, size, repeat))
            log.info("dev-curve: %d press examples, repeat %d (%d rows)", size, repeat, len(rows))
            model = fit_rows(build_model(params), rows)
            probabilities = predict_rows(model, dev)
            scores = dev_metrics(
                DevPredictions(frame.reset_index(drop=True), probabilities), params
            )
            points.append(
                DevCurvePoint(
                    size,
                    repeat,
                    len(rows),
                    *(scores[key] for key in ("macro_f1", "f_avg", "accuracy", "ece")),
                )
            )
    return points


def hash_seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def run_dev_curve(params: Params) -> list[DevCurvePoint]:
    """Compute and write the curve; `stance dev-curve` calls this."""
    labels = read_labels(params.paths.labels)
    settings = params.evaluate
    points = dev_curve(labels, params, list(settings.dev_curve_sizes), settings.dev_curve_repeats)
    reports = params.paths.reports
    record = {"model": params.train.model, "points": [asdict(point) for point in points]}
    with atomic_output(reports / "dev_learning_curve.json", "w") as stream:
        stream.write(json.dumps(record, indent=2) + "\n")
    buffer = io.StringIO()
    write_csv(buffer, [asdict(point) for point in points], _COLUMNS)
    with atomic_output(reports / "dev_learning_curve.csv", "w") as stream:
        stream.write(buffer.getvalue())
    _plot(points, params, reports / "dev_learning_curve.png")
    for point in points:
        log.info(
            "dev-curve: %d press examples -> development macro-F1 %.3f",
            point.press_examples,
            point.macro_f1,
        )
    log.info("dev-curve: -> %s", display_path(reports / "dev_learning_curve.csv"))
    return points


def _plot(points: list[DevCurvePoint], params: Params, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.6), dpi=100)
    axes = figure.subplots()
    sizes = sorted({point.press_examples for point in points})
    means = [np.mean([p.macro_f1 for p in points if p.press_examples == s]) for s in sizes]
    axes.scatter(
        [p.press_examples for p in points], [p.macro_f1 for p in points], s=12, color="#999999"
    )
    axes.plot(sizes, means, marker="o", color="#1f5fa8", label="mean of repeats")
    axes.set_xlabel("examples written from the press in training")
    axes.set_ylabel("development macro-F1")
    axes.set_ylim(0, 1)
    axes.set_title(f"{params.train.model}: development set (unseen outlets)", fontsize=10)
    axes.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    save_png(figure, path)
