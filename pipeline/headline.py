"""The headline numbers `dvc metrics show` prints, one small JSON file per result.

Each stage keeps writing its full metrics file (labeler details, per-source
temperatures, dropped-line counts...) as a plain output; beside it, under
`paths.headline_metrics`, it writes the few numbers a reader compares between
runs, taken from the same dict. The files share key names (`macro_f1`,
`accuracy`, `n`...), so `dvc metrics show` is one short table with a row per
file and `dvc metrics diff` shows what moved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.io import atomic_output

# The numbers of a grouped or a development-set evaluation, in this order.
_SCORES = ("n", "macro_f1", "f_avg", "accuracy", "ece", "brier")
_BEHAVIOUR = ("label_pass_rate", "pair_pass_rate", "invariance_rate")


def _scores(metrics: Mapping[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    """n, macro-F1, F_avg, accuracy, ECE, Brier and each class's F1 (`f1.<label>`)."""
    record = {key: metrics[key] for key in _SCORES if key in metrics}
    per_class = metrics.get("per_class", {})
    f1 = {label: per_class[label]["f1"] for label in labels if label in per_class}
    return {**record, "f1": f1} if f1 else record


def evaluation_headlines(metrics: Mapping[str, Any], labels: Sequence[str]) -> dict[str, dict]:
    """Headlines of `metrics/eval.json`, file name -> record: the grouped evaluation, and
    the development set (empty when the evaluation has none, so no stale file stays)."""
    dev = metrics.get("dev")
    return {
        "eval.json": _scores(metrics, labels),
        "dev.json": _scores(dev, labels) if isinstance(dev, Mapping) else {},
    }


def labeling_headline(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Headline of `metrics/labeling.json`: the weak labels' vote on the gold paragraphs
    (coverage, and accuracy and macro-F1 where it voted)."""
    on_gold = metrics.get("aggregate_without_gold", {}).get("on_gold", {})
    return {
        key: on_gold[key] for key in ("n", "macro_f1", "accuracy", "coverage") if key in on_gold
    }


def behaviour_headline(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Headline of `metrics/behaviour.json`: the overall pass rates."""
    overall = metrics.get("overall", {})
    return {key: overall[key] for key in _BEHAVIOUR if key in overall}


def write_headlines(folder: Path, headlines: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each headline record as `folder/<name>`, atomically, keys in their order."""
    for name, record in headlines.items():
        with atomic_output(folder / name, "w") as stream:
            stream.write(json.dumps(record, indent=2) + "\n")
