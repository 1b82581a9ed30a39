"""What a scoring engine is given and what it gives back: the one signature of both engines.

`stance score` resolves the model folder and params once (`pipeline.score.stage`), then
hands a `ScoreRequest` to the engine the user picked: `local_engine.score_locally` or
`ray_engine.score_on_ray`. Each returns a `ScoreRun`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.config import EncoderBackend, Params
from pipeline.score import DEFAULT_BATCH_SIZE
from pipeline.score.formats import OutputFormat, Totals


@dataclass(frozen=True)
class ScoreRequest:
    """One `stance score` run: the inputs, the model found and the options of the command.

    `backend` and `cache` override `encoder.backend` and `encoder.cache` of params;
    `workers` and `address` are the Ray engine's (the local engine refuses them).
    """

    paths: Sequence[Path | str]
    folder: Path
    params: Params | None
    output_format: OutputFormat | None = None
    output: Path | None = None
    source: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    strict: bool = False
    backend: EncoderBackend | None = None
    cache: bool | None = None
    workers: int | None = None
    address: str | None = None
    stdin: BinaryIO | None = None  # None: the process's standard input


@dataclass(frozen=True)
class ScoreRun:
    """What one `stance score` wrote, and the inputs that failed (exit code 1 if any)."""

    totals: Totals
    failed: tuple[str, ...]
    output_format: OutputFormat
