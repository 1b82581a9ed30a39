"""`stance annotate curve`: grouped-CV macro-F1 against the number of gold labels.

Answers "does labelling more still pay?" by re-running the `evaluate` stage's
leave-one-source-out evaluation with only a random share of the gold paragraphs
allowed to train. Written examples and weak labels train exactly as in the
stage, and every fold always tests on all gold of its held-out source, so the
points differ only in how much gold the model learnt from.

Subsets are stratified by source: each source keeps its share of the gold set
(largest-remainder rounding, so a small source may get none at a small size).
Without it a small draw could, by chance, take most of its gold from one outlet,
and the curve would mix "more labels" with "labels from other outlets". The
draw of size k in repeat r is seeded from (annotate.seed, k, r), so adding a size
or a repeat leaves the other points unchanged. The full gold set is drawn once:
every draw of it is the same set, and the models are seeded.

Reads `paths.labels`; writes `learning_curve.{json,csv,png}` under `paths.reports`.
None of it is a `dvc repro` stage (`make learning-curve` runs it after one).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.console import progress
from pipeline.csvfile import write_csv
from pipeline.errors import ConfigError, InputDataError
from pipeline.evaluate.loso import calibrate_out_of_fold, leave_one_source_out, model_id
from pipeline.evaluate.scores import stance_scores
from pipeline.evaluate.stage import evaluation_metrics, read_labels
from pipeline.io import atomic_output, display_path
from pipeline.models.base import StanceClassifier
from pipeline.models.factory import build_model
from pipeline.report.plot import save_png
from pipeline.train.data import gold_rows

log = logging.getLogger(__name__)

_CSV_COLUMNS = ["size", "repeat", "macro_f1", "f_avg", "accuracy", "n"]


@dataclass(frozen=True)
class CurvePoint:
    """One grouped evaluation: `size` gold paragraphs drawn in `repeat`, scored on all gold."""

    size: int
    repeat: int
    macro_f1: float
    f_avg: float
    accuracy: float
    n: int  # gold paragraphs predicted: always the whole gold set
    gold_per_source: dict[str, int]  # how the drawn paragraphs split over the sources


def curve_sizes(requested: Sequence[int], available: int) -> tuple[list[int], list[int]]:
    """The sizes to evaluate (ascending, the full set last) and the requested ones dropped
    because there are not that many gold paragraphs."""
    negative = [size for size in requested if size < 0]
    if negative:
        raise ConfigError(f"annotate.curve_sizes: {negative[0]} is not a number of labels")
    kept = sorted({size for size in requested if size < available} | {available})
    dropped = sorted({size for size in requested if size > available})
    return kept, dropped


def source_quotas(counts: dict[str, int], size: int) -> dict[str, int]:
    """Split `size` over the sources in proportion to their gold counts.

    Largest-remainder rounding: everyone gets the floor of their exact share, the
    paragraphs left over go to the largest remainders (ties: the larger source,
    then the name), so quotas sum to `size` and never exceed a source's count.
    """
    total = sum(counts.values())
    exact = {source: size * count / total for source, count in counts.items()}
    quotas = {source: int(share) for source, share in exact.items()}
    left = size - sum(quotas.values())
    order = sorted(counts, key=lambda s: (-(exact[s] - quotas[s]), -counts[s], s))
    for source in order[:left]:
        quotas[source] += 1
    return quotas


def draw_gold_subset(gold: pd.DataFrame, size: int, seed: int, repeat: int) -> list[str]:
    """`size` gold paragraph ids, stratified by source, the same for the same arguments."""
    rng = np.random.default_rng([seed, size, repeat])
    ids = gold.sort_values("paragraph_id").groupby("source")["paragraph_id"].agg(list)
    quotas = source_quotas({source: len(ids[source]) for source in ids.index}, size)
    drawn: list[str] = []
    for source in sorted(quotas):
        if quotas[source]:
            drawn.extend(rng.choice(ids[source], size=quotas[source], replace=False).tolist())
    return sorted(drawn)


@contextlib.contextmanager
def _quiet_folds() -> Iterator[None]:
    """Hide the evaluation's line per fold: the curve logs one line per point instead."""
    fold_log = logging.getLogger("pipeline.evaluate.loso")
    level = fold_log.level
    fold_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        fold_log.setLevel(level)


def evaluate_subset(
    labels: pd.DataFrame,
    params: Params,
    build: Callable[[], StanceClassifier],
    train_gold_ids: Sequence[str],
) -> dict:
    """The `evaluate` stage's metrics when only `train_gold_ids` of the gold may train."""
    with _quiet_folds():
        oof = leave_one_source_out(labels, params, build, train_gold_ids=train_gold_ids)
    label_list = list(params.labels)
    targets = np.asarray([label_list.index(gold) for gold in oof.frame["gold"]])
    calibrated, calibration = calibrate_out_of_fold(
        oof.raw, targets, oof.frame["source"].to_numpy(), params.evaluate.calibration
    )
    return evaluation_metrics(oof, calibrated, calibration, params)


def plan_points(sizes: Sequence[int], repeats: int, full: int) -> list[tuple[int, int]]:
    """(size, repeat) of every evaluation; the full set only once (all its draws agree)."""
    return [(size, r) for size in sizes for r in range(1 if size == full else repeats)]


def learning_curve(
    labels: pd.DataFrame,
    params: Params,
    build: Callable[[], StanceClassifier],
    points: Sequence[tuple[int, int]],
) -> list[CurvePoint]:
    """Evaluate every (size, repeat) in `points`, one grouped evaluation each."""
    gold = gold_rows(labels)
    by_source = gold.set_index("paragraph_id")["source"]
    results = []
    for size, repeat in progress(points, "Learning curve", total=len(points), min_items=2):
        subset = draw_gold_subset(gold, size, params.annotate.seed, repeat)
        metrics = evaluate_subset(labels, params, build, subset)
        shares = by_source.loc[subset].value_counts()
        point = CurvePoint(
            size=size,
            repeat=repeat,
            macro_f1=metrics["macro_f1"],
            f_avg=metrics["f_avg"],
            accuracy=metrics["accuracy"],
            n=metrics["n"],
            gold_per_source={s: int(shares.get(s, 0)) for s in sorted(by_source.unique())},
        )
        log.info(
            "curve: %d gold labels, draw %d: macro-F1 %.3f, F_avg %.3f, accuracy %.3f",
            size,
            repeat + 1,
            point.macro_f1,
            point.f_avg,
            point.accuracy,
        )
        results.append(point)
    return results


def summarise(points: Sequence[CurvePoint]) -> list[dict]:
    """Mean, min, max and (population) standard deviation of macro-F1 at each size."""
    rows = []
    for size in sorted({point.size for point in points}):
        scores = np.asarray([p.macro_f1 for p in points if p.size == size])
        rows.append(
            {
                "size": size,
                "repeats": len(scores),
                "mean": round(float(scores.mean()), 4),
                "min": round(float(scores.min()), 4),
                "max": round(float(scores.max()), 4),
                "std": round(float(scores.std()), 4),
            }
        )
    return rows


def always_neutral_baseline(gold: pd.DataFrame, params: Params) -> float:
    """Macro-F1 of predicting the no-stance label for every gold paragraph."""
    labels = list(params.labels)
    targets = np.asarray([labels.index(label) for label in gold["label"]])
    constant = np.zeros((len(targets), len(labels)))
    constant[:, labels.index(params.neutral_label)] = 1.0
    scores = stance_scores(
        constant,
        targets,
        labels,
        bins=params.evaluate.calibration_bins,
        stance_labels=[params.favor_label, params.against_label],
    )
    return scores["macro_f1"]


def last_step(summary: Sequence[dict]) -> str:
    """One sentence on what the last step of the curve gained, for the final log line."""
    if len(summary) < 2:
        return f"only one point ({summary[0]['size']} gold labels); no step to compare"
    before, after = summary[-2], summary[-1]

    def draws(row: dict) -> str:
        return "1 draw" if row["repeats"] == 1 else f"mean of {row['repeats']} draws"

    return (
        f"from {before['size']} to {after['size']} gold labels macro-F1 moved "
        f"{after['mean'] - before['mean']:+.3f} ({before['mean']:.3f}, {draws(before)} -> "
        f"{after['mean']:.3f}, {draws(after)})"
    )


def save_curve_chart(
    summary: Sequence[dict], baseline: tuple[str, float], path: Path, title: str
) -> None:
    """Mean macro-F1 with its min-max band per size, and the (label, macro-F1) of always
    predicting the no-stance label: the floor any useful model must clear."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["size"] for row in summary]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    axes.fill_between(
        sizes,
        [row["min"] for row in summary],
        [row["max"] for row in summary],
        color="#1f4e79",
        alpha=0.18,
        linewidth=0,
        label="min–max over draws",
    )
    axes.plot(sizes, [row["mean"] for row in summary], "o-", color="#1f4e79", label="mean macro-F1")
    neutral, floor = baseline
    axes.axhline(floor, color="#999999", linestyle="--", linewidth=1, label=f"always “{neutral}”")
    axes.set_xlabel("gold labels drawn (a fold trains on those outside its held-out source)")
    axes.set_ylabel("macro-F1")
    axes.set_ylim(0, 1.02)
    axes.set_xlim(min(sizes) - 2, max(sizes) + 2)
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    save_png(figure, path)


def _write_points_csv(points: Sequence[CurvePoint], path: Path) -> None:
    buffer = io.StringIO()
    rows = ({column: getattr(point, column) for column in _CSV_COLUMNS} for point in points)
    write_csv(buffer, rows, _CSV_COLUMNS)
    with atomic_output(path, "w") as stream:
        stream.write(buffer.getvalue())


def run_curve(params: Params, build: Callable[[], StanceClassifier] | None = None) -> dict:
    """Compute and write the learning curve; `stance annotate curve` calls this.

    `build` makes the classifier of every fold (default: `train.model` from params).
    """
    labels = read_labels(params.paths.labels)
    gold = gold_rows(labels)
    if gold.empty:
        raise InputDataError(
            f"{display_path(params.paths.labels)}: no gold paragraphs; label some with "
            "`stance annotate` and run `dvc repro`"
        )
    settings = params.annotate
    if settings.seed < 0:  # numpy's seed sequences take non-negative integers only
        raise ConfigError(f"annotate.seed: {settings.seed} must be 0 or more for the curve")
    sizes, dropped = curve_sizes(settings.curve_sizes, len(gold))
    notes = []
    if dropped:
        notes.append(
            f"sizes above the {len(gold)} gold paragraphs were dropped: "
            + ", ".join(str(size) for size in dropped)
        )
        log.info("curve: %s", notes[-1])
    points = learning_curve(
        labels,
        params,
        build or (lambda: build_model(params)),
        plan_points(sizes, settings.curve_repeats, len(gold)),
    )
    summary = summarise(points)
    baseline = always_neutral_baseline(gold, params)
    result = {
        "model": params.train.model,
        "model_id": model_id(params),
        "evaluation": (
            "leave-one-source-out over all gold paragraphs; only the drawn gold paragraphs "
            "(and, as in `stance evaluate`, synthetic and weak rows) train"
        ),
        "settings": {
            "sizes": sizes,
            "requested_sizes": list(settings.curve_sizes),
            "repeats": settings.curve_repeats,
            "seed": settings.seed,
            "stratified_by": "source",
            "gold_paragraphs": len(gold),
            "gold_per_source": gold["source"].value_counts().sort_index().to_dict(),
        },
        "notes": [*notes, "the full gold set is drawn once: every draw of it is the same"],
        "baseline_always_none_macro_f1": baseline,
        "summary": summary,
        "points": [asdict(point) for point in points],
    }
    reports = params.paths.reports
    with atomic_output(reports / "learning_curve.json", "w") as stream:
        json.dump(result, stream, indent=2)
        stream.write("\n")
    _write_points_csv(points, reports / "learning_curve.csv")
    save_curve_chart(
        summary,
        (params.neutral_label, baseline),
        reports / "learning_curve.png",
        f"Learning curve of {params.train.model} ({len(gold)} gold paragraphs, "
        f"{gold['source'].nunique()} sources)",
    )
    log.info("curve: %s", last_step(summary))
    log.info("curve: wrote %s (.csv, .png)", display_path(reports / "learning_curve.json"))
    return result
