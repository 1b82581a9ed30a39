"""Development-set scores of models too slow for a full `make compare` run here.

`make compare` evaluates every model leave-one-source-out (five fits) and on the
development set (one more). For the fine-tuned models that is half an hour to hours
on two cores, so this script measures only the development number: one fit on every
training row, with and without the examples written from the press (`train.use_press`),
uncalibrated (temperature 1).

`--set KEY=VALUE` changes params.yaml for the run (one change at a time, e.g.
`--set train.models.cross_encoder.label_smoothing=0.1`; VALUE is read as YAML) and
`--name` names the run. Each run's development probabilities are kept in
<results-dir>/dev_fit/<name>.json, so `--ensemble A B` can score the mean of two runs'
probabilities without fitting again: what `ensemble` with those members predicts, since
its members are fitted on the same rows, each with the same seed. Writes
<results-dir>/dev_fit.json and prints it; runs of other names are kept from the file
already there, so one slow model can be measured on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from harness import REPO, RESULTS_DIR, machine_facts, write_result

from pipeline.config import Params, parse_params, read_yaml
from pipeline.errors import ConfigError
from pipeline.evaluate.dev import DevPredictions, dev_metrics, predict_dev
from pipeline.evaluate.stage import read_labels
from pipeline.models.base import StanceClassifier
from pipeline.models.factory import build_model
from pipeline.models.persist import save_model
from pipeline.train.data import dev_rows

KEYS = ("n", "outlets", "macro_f1", "macro_f1_interval", "f_avg", "accuracy", "ece", "brier")
PROBABILITIES = "dev_fit"  # folder of each run's development probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=[])
    parser.add_argument(
        "--press",
        choices=["both", "with", "without"],
        default="both",
        help="fit with the press examples, without them, or both (default)",
    )
    parser.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="replace a params.yaml value for this run (dotted key; VALUE as YAML)",
    )
    parser.add_argument("--name", help="the run's name (default: the model's)")
    parser.add_argument(
        "--ensemble",
        nargs="+",
        metavar="RUN",
        help="score the mean probabilities of these runs (with the press) instead of fitting",
    )
    parser.add_argument(
        "--save-model",
        type=Path,
        metavar="FOLDER",
        help="also save the fitted model there (temperature 1), e.g. for score_throughput.py",
    )
    parser.add_argument("--results-dir", type=type(RESULTS_DIR), default=RESULTS_DIR)
    arguments = parser.parse_args()
    if arguments.save_model and (len(arguments.models) != 1 or arguments.press == "both"):
        parser.error("--save-model saves one fit: one model, --press with or without")
    if bool(arguments.models) == bool(arguments.ensemble):
        parser.error("give --models to fit, or --ensemble to combine earlier runs")
    if arguments.name and len(arguments.models) > 1:
        parser.error("--name names one model's run")
    raw = read_yaml(REPO / "params.yaml", what="params file")
    changes = dict(parse_change(change) for change in arguments.changes)
    for key, value in changes.items():
        set_key(raw, key, value)
    try:
        base = parse_params(raw, source="params.yaml").resolved(REPO)
    except ConfigError as error:  # a --set value the settings refuse: one line
        raise SystemExit(f"--set: {error}") from None
    labels = read_labels(base.paths.labels)
    if arguments.ensemble:
        runs = [ensemble_run(arguments.results_dir, arguments.ensemble, labels, base)]
    else:
        runs = [
            fit_run(
                name, use_press, arguments.name or name, changes, labels, base, arguments.save_model
            )
            for name in arguments.models
            for use_press in {"both": (False, True), "with": (True,), "without": (False,)}[
                arguments.press
            ]
        ]
    for run in runs:
        if run.get("use_press", True):
            save_probabilities(arguments.results_dir, run.pop("_predictions"))
        run.pop("_predictions", None)
    kept = kept_runs(arguments.results_dir, [(run["name"], run["use_press"]) for run in runs])
    write_result(
        arguments.results_dir, "dev_fit", {"machine": machine_facts(), "runs": kept + runs}
    )


def parse_change(change: str) -> tuple[str, Any]:
    """`train.models.x.key=VALUE` as (dotted key, VALUE read as YAML)."""
    key, separator, value = change.partition("=")
    if not separator or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", key):
        raise SystemExit(f"--set {change!r}: expected KEY=VALUE with a dotted KEY")
    return key, yaml.safe_load(value)


def set_key(raw: dict, key: str, value: Any) -> None:
    """Replace one value of the params mapping by its dotted key (it must exist)."""
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            raise SystemExit(f"--set {key}: params.yaml has no {part!r} there")
    if not isinstance(node, dict) or last not in node:
        raise SystemExit(f"--set {key}: params.yaml has no such key")
    node[last] = value


def fit_run(
    model: str,
    use_press: bool,
    name: str,
    changes: dict,
    labels: Any,
    base: Params,
    save_to: Path | None = None,
) -> dict:
    """One fit on every training row, scored on the development set (and saved to
    `save_to` when given)."""
    train = base.train.model_copy(update={"model": model, "use_press": use_press})
    params = base.model_copy(update={"train": train})
    built: list[StanceClassifier] = []

    def build() -> StanceClassifier:
        built.append(build_model(params))
        return built[-1]

    started = time.perf_counter()
    predictions = predict_dev(labels, params, build, 1.0)
    seconds = round(time.perf_counter() - started, 1)
    if predictions is None:
        raise SystemExit(f"{base.paths.labels}: no development rows (run `dvc repro -s label`)")
    if save_to is not None:
        save_fit(built[0], save_to, name, params)
    settings = getattr(params.train.models, model).model_dump(mode="json")
    run = {"name": name, "model": model, "use_press": use_press, "set": changes}
    run |= {"settings": settings, "seconds": seconds}
    return run | dev_scores(predictions, params, KEYS) | {"_predictions": (name, predictions)}


def save_fit(classifier: StanceClassifier, folder: Path, name: str, params: Params) -> None:
    """The fitted model as a model folder `stance score` loads (uncalibrated)."""
    card = {
        "model": classifier.name,
        "model_id": f"dev-fit:{name}",
        "proposition": params.proposition.model_dump(include={"id", "text"}),
        "labels": list(params.labels),
        "settings": classifier.saved_settings(),
        "note": "benchmarks/dev_fit.py: one fit on every training row, temperature 1",
    }
    readme = f"# {name}\n\nOne fit by benchmarks/dev_fit.py, uncalibrated; for benchmarks.\n"
    save_model(classifier, folder, temperature=1.0, card=card, readme=readme)


def ensemble_run(results_dir: Path, names: list[str], labels: Any, params: Params) -> dict:
    """The equal-weight mean of earlier runs' development probabilities, scored."""
    if len(names) < 2 or len(set(names)) != len(names):
        raise SystemExit("--ensemble: name two or more different runs")
    earlier = {
        run.get("name", run["model"]): run
        for run in read_runs(results_dir)
        if run.get("use_press", True)
    }
    missing = [name for name in names if name not in earlier]
    if missing:
        raise SystemExit(f"--ensemble: no run named {missing[0]!r} in dev_fit.json")
    frames = [load_probabilities(results_dir, name) for name in names]
    ids = frames[0][0]
    if any(other != ids for other, _ in frames[1:]):
        raise SystemExit("--ensemble: the runs scored different development paragraphs")
    dev = dev_rows(labels).set_index("paragraph_id").loc[ids].reset_index()
    frame = dev[["paragraph_id", "doc_id", "source", "label"]].rename(columns={"label": "gold"})
    mean = np.mean([probabilities for _, probabilities in frames], axis=0)
    predictions = DevPredictions(frame, mean)
    name = " + ".join(names)
    seconds = round(sum(earlier[member]["seconds"] for member in names), 1)
    run = {"name": name, "model": "ensemble", "use_press": True, "members": names}
    run |= {"seconds": seconds}
    return run | dev_scores(predictions, params, KEYS) | {"_predictions": (name, predictions)}


def probabilities_path(results_dir: Path, name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return results_dir / PROBABILITIES / f"{slug}.json"


def save_probabilities(results_dir: Path, named: tuple[str, DevPredictions]) -> None:
    """A run's development probabilities (rounded to 6 places), by paragraph id."""
    name, predictions = named
    path = probabilities_path(results_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {
        "paragraph_id": list(predictions.frame["paragraph_id"]),
        "probabilities": np.round(predictions.probabilities, 6).tolist(),
    }
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(rows) + "\n", encoding="utf-8")
    staging.replace(path)


def load_probabilities(results_dir: Path, name: str) -> tuple[list[str], np.ndarray]:
    path = probabilities_path(results_dir, name)
    if not path.is_file():
        raise SystemExit(f"--ensemble: {path} is missing; fit {name!r} again")
    rows = json.loads(path.read_text(encoding="utf-8"))
    return rows["paragraph_id"], np.asarray(rows["probabilities"], dtype=float)


def dev_scores(predictions: DevPredictions, params: Params, keys: tuple[str, ...]) -> dict:
    """The `keys` of the development metrics, per-class F1 and the article agreement."""
    scores = dev_metrics(predictions, params)
    per_class = {label: scores["per_class"][label]["f1"] for label in params.labels}
    return {key: scores[key] for key in keys} | {"f1": per_class, "articles": scores["articles"]}


def read_runs(results_dir: Path) -> list[dict]:
    path = results_dir / "dev_fit.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("runs", [])


def kept_runs(results_dir: Path, measured: list[tuple[str, bool]]) -> list[dict]:
    """The runs of an earlier dev_fit.json in `results_dir` that this one does not
    replace: `measured` holds (name, use_press) pairs, so a fit with the press keeps the
    same model's fit without it (a run without a name, from before runs had one, is
    named by its model)."""
    return [
        run
        for run in read_runs(results_dir)
        if (run.get("name", run["model"]), run.get("use_press", True)) not in measured
    ]


if __name__ == "__main__":
    main()
