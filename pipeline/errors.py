"""Errors a user can cause, each with a documented exit code.

The CLI catches `StanceError`, prints its one-line message and exits with
`exit_code`. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class StanceError(Exception):
    """Base of every error caused by input, configuration or environment."""

    exit_code = 1


class ConfigError(StanceError):
    """`params.yaml` (or a value given on the command line) is wrong."""

    exit_code = 2


class InputDataError(StanceError):
    """A corpus file, manifest or annotation cannot be used as it is."""

    exit_code = 3


class DocumentError(InputDataError):
    """One document cannot be segmented (empty, binary, no article text).

    Stages skip such a document with a warning when the rest of the corpus is
    still meaningful; they raise it only when nothing usable is left.
    """


class EngineError(ConfigError):
    """The scoring engine asked for cannot run: Ray not installed, a cluster out of reach."""


class OutputError(StanceError):
    """An output cannot be written (folder missing rights, a file where a folder should be)."""

    exit_code = 4


EXIT_CODES = {
    0: "success",
    1: "some input files failed (commands that score files; segment only warns)",
    2: "configuration error (params.yaml or command-line option)",
    3: "input data error (corpus, manifest or annotations)",
    4: "an output cannot be written",
}


def first_problem(error: ValidationError, *, top: str = "(top level)") -> str:
    """pydantic's first complaint as one `dotted.key: message` (an extra key: "unknown key")."""
    problem = error.errors()[0]
    key = ".".join(str(part) for part in problem["loc"]) or top
    message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
    return f"{key}: {message}"


def error_line(error: BaseException, *, limit: int | None = None) -> str:
    """A library's error message squashed onto one line (the CLI prints one line), cut to
    `limit` characters if given, and the error's type when the message is empty."""
    text = " ".join(str(error).split())
    if limit is None:
        return text
    return text[:limit] or type(error).__name__
