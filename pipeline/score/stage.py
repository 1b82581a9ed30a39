"""The I/O shell of `stance score`: new article files or tables in, scores on stdout or in a file.

The model is the one `dvc repro` trained (`paths.models`/`train.model` in
params) unless a folder is given. params.yaml is optional here: without it the
segment and bootstrap settings take their defaults and a model folder must be
named. Outputs written with `output` appear whole or not at all. The work goes to
one of two sibling engines with the same signature (`pipeline.score.request`):
`local_engine` (this process) or, with `engine="ray"`, `ray_engine` (a Ray cluster,
parquet out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.artifacts import MODEL_FILE
from pipeline.artifacts import model_folder as default_model_folder
from pipeline.config import (
    DEFAULT_PARAMS,
    EncoderBackend,
    Params,
    ScoreEngine,
    optional_params,
    params_read,
)
from pipeline.errors import InputDataError
from pipeline.io import display_path, refuse_overwriting_inputs
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.formats import OutputFormat
from pipeline.score.inputs import STDIN
from pipeline.score.local_engine import score_locally
from pipeline.score.request import ScoreRequest, ScoreRun


def model_folder(requested: Path | None, params: Params | None) -> Path:
    """The model to score with; a missing one is one line that says how to get it."""
    if requested is not None:
        if not (requested / MODEL_FILE).is_file():
            what = f"not a model folder (no {MODEL_FILE})" if requested.exists() else "not found"
            raise InputDataError(
                f"{display_path(requested)}: {what}; pass a folder written by `stance train`"
            )
        return requested
    if params is None:
        raise InputDataError(
            f"no model: there is no {DEFAULT_PARAMS} here to name the default one; "
            "pass --model DIR (a folder written by `stance train`), or --params FILE"
        )
    folder = default_model_folder(params)
    if not (folder / MODEL_FILE).is_file():
        raise InputDataError(
            f"{display_path(folder)}: no trained model; run `make run` (or `dvc repro`) "
            "to train it, or pass --model DIR"
        )
    return folder


def inputs_read(paths: Sequence[Path | str], model: Path, params_file: Path | None) -> list[Path]:
    """What a run reads, which its output must not overwrite: the PATHs (standard input
    aside), the model folder and the params file."""
    return [*(Path(path) for path in paths if str(path) != STDIN), model, *params_read(params_file)]


def run_score(
    paths: Sequence[Path | str],
    *,
    model: Path | None = None,
    params_file: Path | None = None,
    output_format: OutputFormat | None = None,
    output: Path | None = None,
    source: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    strict: bool = False,
    backend: EncoderBackend | None = None,
    cache: bool | None = None,
    engine: ScoreEngine = "local",
    workers: int | None = None,
    address: str | None = None,
) -> ScoreRun:
    """The command: find and load the model once, then score every input.

    `backend` and `cache` override `encoder.backend` and `encoder.cache` of params.
    `engine="ray"` scores on a Ray cluster (`address`, else a local one) with `workers`
    model actors, into a parquet folder.
    """
    params = optional_params(params_file)
    folder = model_folder(model, params)
    refuse_overwriting_inputs(output, inputs_read(paths, folder, params_file))
    request = ScoreRequest(
        paths,
        folder,
        params,
        output_format=output_format,
        output=output,
        source=source,
        batch_size=batch_size,
        strict=strict,
        backend=backend,
        cache=cache,
        workers=workers,
        address=address,
    )
    return engine_function(engine)(request)


def engine_function(engine: ScoreEngine) -> Callable[[ScoreRequest], ScoreRun]:
    """The engine's scoring function; the Ray engine's module loads only when it is picked."""
    if engine == "ray":
        from pipeline.score.ray_engine import score_on_ray

        return score_on_ray
    return score_locally
