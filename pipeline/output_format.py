"""Which format a command writes, shared by the commands with several (score, compare).

Standard library only: the CLI imports it to build its options, and must start quickly.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

F = TypeVar("F", bound=StrEnum)


def pick_format(
    requested: F | None,
    output: Path | None,
    *,
    by_suffix: Mapping[str, F],
    terminal: F,
    piped: F,
    stdout_is_terminal: bool,
) -> F:
    """The format asked for; else the one the --output file's suffix names (`piped` for
    other suffixes); else `terminal` on a terminal and `piped` otherwise."""
    if requested is not None:
        return requested
    if output is not None:
        return by_suffix.get(output.suffix.lower(), piped)
    return terminal if stdout_is_terminal else piped
