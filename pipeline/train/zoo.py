"""One model of the zoo, evaluated and trained exactly as `dvc repro` does the default one.

`make compare` runs this for every name in `compare.models` (the matrix stage of
`compare/dvc.yaml`). The model lands in `<paths.models>/zoo/<name>/` with its card
and out-of-fold predictions, its grouped metrics in `<paths.metrics>/zoo/<name>.json`
and their headline (`pipeline.headline`) in `zoo/headline/<name>.json` and `<name>.dev.json`;
the default pipeline's own outputs (`paths.oof`, `paths.dev_predictions`,
`paths.calibration_oof`, `paths.eval_metrics`, `paths.dev_errors`, the headline
metrics, the plots and `models/<train.model>/`) are left alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.config import Params
from pipeline.errors import ConfigError
from pipeline.evaluate.stage import run_evaluate
from pipeline.io import atomic_output
from pipeline.models.registry import MODELS
from pipeline.train.stage import run_train


def zoo_folder(params: Params) -> Path:
    """Where the zoo's models are saved, one folder per model name."""
    return params.paths.models / "zoo"


def zoo_metrics(params: Params, name: str) -> Path:
    """The grouped-CV metrics of one zoo model, beside the default pipeline's."""
    return params.paths.eval_metrics.parent / "zoo" / f"{name}.json"


def build_zoo_model(params: Params, name: str) -> Path:
    """Evaluate (leave one source out) and train model `name`; return its folder."""
    metrics = zoo_metrics(params, name)
    if name not in MODELS:
        raise ConfigError(f"compare.models: unknown model {name!r}; one of {', '.join(MODELS)}")
    with tempfile.TemporaryDirectory(prefix=f"stance-zoo-{name}.") as work:
        scratch = Path(work)
        paths = params.paths.model_copy(
            update={
                "oof": scratch / "oof.parquet",
                "dev_predictions": scratch / "dev.parquet",
                "calibration_oof": scratch / "press_oof.parquet",
                "dev_errors": scratch / "dev_errors.json",
                "eval_metrics": scratch / "eval.json",
                "headline_metrics": scratch / "headline",
                "plots": scratch / "plots",
                "models": zoo_folder(params),
            }
        )
        train = params.train.model_copy(update={"model": name})
        variant = params.model_copy(update={"paths": paths, "train": train})
        run_evaluate(variant)
        folder = run_train(variant)
        with atomic_output(metrics) as stream:
            stream.write(paths.eval_metrics.read_bytes())
        for headline, suffix in (("eval.json", ".json"), ("dev.json", ".dev.json")):
            with atomic_output(metrics.parent / "headline" / f"{name}{suffix}") as stream:
                stream.write((paths.headline_metrics / headline).read_bytes())
    return folder
