"""Development-set scores of models too slow for a full `make compare` run here.

`make compare` evaluates every model leave-one-source-out (five fits) and on the
development set (one more). For the fine-tuned models that is half an hour to hours
on two cores, so this script measures only the development number: one fit on every
training row, with and without the examples written from the press (`train.use_press`),
uncalibrated (temperature 1). Writes <results-dir>/dev_fit.json and prints it; runs of
models not named this time are kept from the file already there, so one slow model can be
measured on its own.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness import REPO, RESULTS_DIR, machine_facts, write_result

from pipeline.config import Params, load_params
from pipeline.evaluate.dev import DevPredictions, dev_metrics, predict_dev
from pipeline.evaluate.stage import read_labels
from pipeline.models.factory import build_model

KEYS = ("n", "outlets", "macro_f1", "macro_f1_interval", "f_avg", "accuracy", "ece", "brier")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["setfit"])
    parser.add_argument(
        "--press",
        choices=["both", "with", "without"],
        default="both",
        help="fit with the press examples, without them, or both (default)",
    )
    parser.add_argument("--results-dir", type=type(RESULTS_DIR), default=RESULTS_DIR)
    arguments = parser.parse_args()
    base = load_params(REPO / "params.yaml")
    labels = read_labels(base.paths.labels)
    runs = []
    for name in arguments.models:
        for use_press in {"both": (False, True), "with": (True,), "without": (False,)}[
            arguments.press
        ]:
            train = base.train.model_copy(update={"model": name, "use_press": use_press})
            params = base.model_copy(update={"train": train})
            started = time.perf_counter()
            predictions = predict_dev(labels, params, lambda p=params: build_model(p), 1.0)
            seconds = round(time.perf_counter() - started, 1)
            runs.append(
                {"model": name, "use_press": use_press, "seconds": seconds}
                | dev_scores(predictions, params, KEYS)
            )
    kept = kept_runs(arguments.results_dir, arguments.models)
    write_result(
        arguments.results_dir, "dev_fit", {"machine": machine_facts(), "runs": kept + runs}
    )


def dev_scores(predictions: DevPredictions, params: Params, keys: tuple[str, ...]) -> dict:
    """The `keys` of the development metrics, per-class F1 and the article agreement."""
    scores = dev_metrics(predictions, params)
    per_class = {label: scores["per_class"][label]["f1"] for label in params.labels}
    return {key: scores[key] for key in keys} | {"f1": per_class, "articles": scores["articles"]}


def kept_runs(results_dir: Path, measured: list[str]) -> list[dict]:
    """The runs of an earlier dev_fit.json in `results_dir` of models not `measured` now."""
    path = results_dir / "dev_fit.json"
    if not path.is_file():
        return []
    earlier = json.loads(path.read_text(encoding="utf-8")).get("runs", [])
    return [run for run in earlier if run["model"] not in measured]


if __name__ == "__main__":
    main()
