"""Command-line option types and choices shared by `stance` and `stance annotate`.

The choices come from the typed config (`pipeline.config`), so a value the CLI
offers is always one params.yaml accepts.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import typer

from pipeline.config import EncoderBackend, QueueStrategy, ScoreEngine


def choice_enum(name: str, choices: Any, doc: str) -> type[StrEnum]:
    """A StrEnum over a config `Literal`'s values (members named with `_` for `-`)."""
    members = {value.replace("-", "_"): value for value in get_args(choices)}
    enum = StrEnum(name, members)  # type: ignore[misc]
    enum.__doc__ = doc
    return enum


Backend = choice_enum("Backend", EncoderBackend, "Inference paths of the sentence encoder.")
Engine = choice_enum("Engine", ScoreEngine, "Where `stance score` runs.")
Strategy = choice_enum("Strategy", QueueStrategy, "How `stance annotate queue` ranks.")
ExportFormat = choice_enum(
    "ExportFormat", Literal["label-studio"], "Formats of `stance annotate export`."
)

ParamsOption = Annotated[
    Path,
    typer.Option("--params", "-p", help="The params file that configures the pipeline."),
]

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (whole or not at all) instead of standard output.",
        show_default=False,
    ),
]
